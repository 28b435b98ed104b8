#!/usr/bin/env python3
"""Generates engine/core/testdata/breadth/h14b.jsonl: labeled chat messages for the
financial (securities, card data, bank accounts, crypto), secret and network detectors.

Check digits come from independent reference implementations where one exists:
python-stdnum (ISIN, CUSIP, SEDOL, LEI, FIGI, Luhn for IMEI/ICCID/cards, ABA), Trezor's
`mnemonic` (BIP-39), `base58` (Base58Check) and `bech32` (BIP-173). Token formats without a
reference library are generated from the format facts in docs/notes/detector-breadth.md.

Each detector gets positives (the value in varied chat templates, labeled) and near
misses (wrong check digit, wrong length, look-alikes), labeled as hard negatives.

Run: pip install python-stdnum mnemonic base58 bech32 && python3 scripts/corpus/gen_breadth_h14b.py
"""

import base64
import hashlib
import json
import os
import random
import string
import zlib

import base58
import bech32
from mnemonic import Mnemonic
from stdnum import cusip, figi, isin, lei, luhn
from stdnum.gb import sedol
from stdnum.iso7064 import mod_97_10
from stdnum.us import rtn

R = random.Random(14)
OUT = os.path.join(os.path.dirname(__file__), "..", "..", "engine", "core", "testdata", "breadth", "h14b.jsonl")

# Detectors whose candidates pass a checksum or an unmistakable token format (floor 0.97);
# the others need context words (floor 0.90).
CONTEXT = {"ca_bank_account", "au_bank_account", "in_ifsc", "in_upi_vpa", "crypto_sol", "imsi", "mac_address",
           "card_expiry_cvv", "datadog_api_key", "discord_bot_token", "cusip", "sedol"}
REF = {
    "isin": "stdnum.isin", "cusip": "stdnum.cusip", "sedol": "stdnum.gb.sedol", "lei": "stdnum.lei", "figi": "stdnum.figi",
    "card_track_data": "stdnum.luhn", "card_expiry_cvv": "stdnum.luhn", "micr_line": "stdnum.us.rtn", "mx_clabe": "format",
    "crypto_ltc": "base58/bech32", "crypto_xrp": "base58", "crypto_trx": "base58", "crypto_sol": "base58",
    "crypto_private_key_wif": "base58", "crypto_seed_phrase": "mnemonic", "imei": "stdnum.luhn", "iccid": "stdnum.luhn",
    "imsi": "stdnum.imsi",
}
ALNUM = string.ascii_letters + string.digits
HEX = "0123456789abcdef"
B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


def rs(chars, n):
    return "".join(R.choice(chars) for _ in range(n))


def mixed(n, chars=ALNUM):
    """Random token with lower, upper and digit characters (as real keys have)."""
    while True:
        s = rs(chars, n)
        if any(c.islower() for c in s) + any(c.isupper() for c in s) + any(c.isdigit() for c in s) >= min(3, len(set(map(kind, chars)))):
            return s


def kind(c):
    return "l" if c.islower() else "u" if c.isupper() else "d" if c.isdigit() else "o"


def flip_last(v, alphabet=string.digits):
    last = v[-1]
    return v[:-1] + R.choice([c for c in alphabet if c != last])


# ---------- securities ----------

COUNTRIES = ["US", "GB", "DE", "FR", "JP", "CH", "NL", "IE", "LU", "XS", "CA", "AU", "BR", "HK"]
SEDOL_CHARS = "0123456789BCDFGHJKLMNPQRSTVWXYZ"
FIGI_CHARS = "BCDFGHJKLMNPQRSTVWXYZ0123456789"


def gen_isin():
    body = R.choice(COUNTRIES) + rs(string.digits, 2) + rs(string.digits + string.ascii_uppercase, 4) + rs(string.digits, 3)
    return body + isin.calc_check_digit(body)


def gen_cusip():
    body = rs(string.digits, 3) + rs(string.digits + string.ascii_uppercase, 3) + rs(string.digits, 1) + rs(string.digits + "ABCDEFGH", 1)
    return body + cusip.calc_check_digit(body)


def gen_sedol():
    body = R.choice("BCDFGH") + rs(string.digits, 1) + rs(SEDOL_CHARS, 4)
    return body + sedol.calc_check_digit(body)


def gen_lei():
    body = rs(string.digits, 4) + "00" + rs(string.digits + string.ascii_uppercase, 12)
    return body + mod_97_10.calc_check_digits(body)


def gen_figi():
    body = "BBG" + rs(FIGI_CHARS, 8)
    return body + figi.calc_check_digit(body)


# ---------- cards, cheques, banks ----------

def card(prefix="4", n=16):
    body = prefix + rs(string.digits, n - len(prefix) - 1)
    return body + luhn.calc_check_digit(body)


def aba():
    while True:
        body = R.choice(["0", "1", "2", "3"]) + rs(string.digits, 7)
        for d in string.digits:
            if rtn.is_valid(body + d):
                return body + d


def clabe_check(body):
    s = sum((int(c) * w) % 10 for c, w in zip(body, [3, 7, 1] * 6))
    return str((10 - s % 10) % 10)


def gen_clabe():
    body = R.choice(["002", "012", "014", "021", "030", "036", "044", "072", "127", "137"]) + rs(string.digits, 14)
    return body + clabe_check(body)


IFSC_BANKS = ["SBIN", "HDFC", "ICIC", "UTIB", "PUNB", "BARB", "KKBK", "YESB", "CNRB", "UBIN"]
UPI_HANDLES = ["okaxis", "oksbi", "okhdfcbank", "ybl", "paytm", "ibl", "axl", "upi", "okicici", "apl"]

# ---------- crypto ----------

MN = Mnemonic("english")


def b58check(payload):
    return base58.b58encode_check(payload).decode()


def gen_ltc():
    if R.random() < 0.3:
        return bech32.encode("ltc", 0, R.randbytes(20))
    return b58check(bytes([R.choice([0x30, 0x32])]) + R.randbytes(20))


def gen_xrp():
    return base58.b58encode_check(b"\x00" + R.randbytes(20), alphabet=base58.RIPPLE_ALPHABET).decode()


def gen_sol():
    while True:
        v = base58.b58encode(R.randbytes(32)).decode()
        if any(c.isdigit() for c in v) and any(c.isupper() for c in v) and any(c.islower() for c in v):
            return v


def gen_trx():
    return b58check(b"\x41" + R.randbytes(20))


def gen_wif():
    if R.random() < 0.5:
        return b58check(b"\x80" + R.randbytes(32))
    return b58check(b"\x80" + R.randbytes(32) + b"\x01")


def gen_seed():
    return MN.generate(strength=R.choice([128, 128, 160, 192, 256]))


def bad_seed():
    while True:
        words = MN.generate(strength=128).split()
        words[-1] = R.choice(MN.wordlist)
        if not MN.check(" ".join(words)):
            return " ".join(words)


def b58_flip(v):
    i = R.randrange(len(v) // 2, len(v))
    return v[:i] + R.choice([c for c in B58 if c != v[i]]) + v[i + 1:]


# ---------- tokens ----------

def b62_crc(payload):
    n = zlib.crc32(payload.encode())
    alphabet = string.digits + string.ascii_uppercase + string.ascii_lowercase
    out = ""
    for _ in range(6):
        out = alphabet[n % 62] + out
        n //= 62
    return out


def gen_npm():
    p = mixed(30)
    return "npm_" + p + b62_crc(p)


def uuid_hex():
    h = rs(HEX, 32)
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def discord_token():
    uid = str(R.randrange(10**17, 10**19))
    first = base64.urlsafe_b64encode(uid.encode()).decode().rstrip("=")
    return f"{first}.{mixed(6)}.{mixed(27, ALNUM + '_-')}"


def gen_bcrypt():
    return "$2b$12$" + rs(ALNUM + "./", 53)


def gen_sha512crypt():
    return "$6$" + rs(ALNUM, 8) + "$" + rs(ALNUM + "./", 86)


def basic_auth():
    user = R.choice(["admin", "svc-bot", "jsmith", "api"])
    return base64.b64encode(f"{user}:{mixed(12)}".encode()).decode()


def ts_word():
    return R.choice(["", "", "fyi ", "ok ", "pls ", "urgent: "])


# Each entry: (detector, positive generator -> (template, value), near-miss generator -> (template, value) or None)
def P(templates, gen):
    return lambda: (R.choice(templates), gen())


SPECS = {
    "isin": (P(["Buy 5,000 {v} at market", "ISIN {v} settles T+2", "{v} - the new tranche priced today", "can you check the position in {v}?", "sell order: {v}, 200k nominal"], gen_isin),
             lambda: R.choice([("ISIN {v} settles T+2", flip_last(gen_isin())), ("ref {v}", "ZZ" + gen_isin()[2:]), ("order {v}", gen_isin()[:11])])),
    "cusip": (P(["CUSIP {v} matures next year", "the bond {v} is callable", "sell {v} notes at 99.5", "cusip: {v}"], gen_cusip),
              lambda: R.choice([("CUSIP {v} matures next year", flip_last(gen_cusip())), ("ticket {v}", rs(string.digits, 9)), ("cusip {v}", gen_cusip()[:8])])),
    "sedol": (P(["SEDOL {v} for the UK fund", "buy {v} on the LSE", "sedol: {v}", "{v} is the new fund line on the LSE"], gen_sedol),
              lambda: R.choice([("SEDOL {v} for the UK fund", flip_last(gen_sedol())), ("code {v}", rs(string.digits, 7)), ("sedol {v}", "A" + gen_sedol()[1:])])),
    "lei": (P(["LEI {v}", "counterparty LEI is {v}", "{v} (GLEIF) confirmed", "please onboard {v} before Friday"], gen_lei),
            lambda: R.choice([("LEI {v}", flip_last(gen_lei())), ("LEI {v}", gen_lei()[:19]), ("ref {v}", rs(string.ascii_uppercase, 20))])),
    "figi": (P(["FIGI {v}", "{v} on Bloomberg", "figi: {v} for the ADR", "map {v} to the ticker"], gen_figi),
             lambda: R.choice([("FIGI {v}", flip_last(gen_figi())), ("FIGI {v}", "BS" + gen_figi()[2:]), ("code {v}", gen_figi()[:11])])),
    "card_track_data": (P(["%B{v}", "dump: {v}", "track2 {v}"], lambda: None), None),
    "card_expiry_cvv": (None, None),
    "micr_line": (None, None),
    "ca_bank_account": (P(["direct deposit: transit {t}, institution {i}, account {a}", "my account is {t}-{i} {a}", "numéro de compte {t}-{i}-{a}"], lambda: None), None),
    "au_bank_account": (None, None),
    "mx_clabe": (P(["CLABE {v}", "transfiere a {v} por SPEI", "mi cuenta CLABE es {v}", "{v}"], gen_clabe),
                 lambda: R.choice([("CLABE {v}", flip_last(gen_clabe())), ("CLABE {v}", gen_clabe()[:17]), ("folio {v}", rs(string.digits, 18))])),
    "in_ifsc": (P(["IFSC {v}", "send by NEFT to {v}", "ifsc code: {v}", "branch {v}, account 123456789012"], lambda: R.choice(IFSC_BANKS) + "0" + rs(string.digits, 6)),
                lambda: R.choice([("code {v}", R.choice(IFSC_BANKS) + "1" + rs(string.digits, 6)), ("ref {v}", "QWER0" + rs(string.digits, 6)), ("IFSC {v}", R.choice(IFSC_BANKS) + "0" + rs(string.ascii_uppercase, 6))])),
    "in_upi_vpa": (P(["pay to {v}", "my UPI id is {v}", "send it to {v} on GPay", "{v}"], lambda: R.choice(["rahul.sharma", "priya", "9876543210", "shop42", "a.k.verma"]) + "@" + R.choice(UPI_HANDLES)),
                   lambda: R.choice([("mail {v}", "rahul@example.com"), ("ping {v}", "user@unknownhandle"), ("contact {v}", "priya@okaxis.co.in")])),
    "crypto_ltc": (P(["LTC to {v}", "litecoin address {v}", "{v}"], gen_ltc), lambda: ("LTC to {v}", b58_flip(b58check(b"\x30" + R.randbytes(20))))),
    "crypto_xrp": (P(["send XRP to {v}", "{v} tag 12345", "ripple wallet {v}"], gen_xrp), lambda: ("send XRP to {v}", b58_flip(gen_xrp()))),
    "crypto_sol": (P(["my solana wallet: {v}", "send SOL to {v}", "Phantom address {v}"], gen_sol), lambda: R.choice([("{v}", gen_sol()), ("solana tx {v}", base58.b58encode(R.randbytes(64)).decode())])),
    "crypto_trx": (P(["USDT TRC20: {v}", "send to {v}", "tron {v}"], gen_trx), lambda: ("USDT TRC20: {v}", b58_flip(gen_trx()))),
    "crypto_seed_phrase": (P(["my seed phrase: {v}", "recovery words: {v}", "{v}", "wallet backup - {v}"], gen_seed), lambda: ("my seed phrase: {v}", bad_seed())),
    "crypto_private_key_wif": (P(["private key {v}", "WIF: {v}", "{v}"], gen_wif), lambda: ("private key {v}", b58_flip(gen_wif()))),
    "mac_address": (P(["MAC {v}", "device {v} joined", "hardware address: {v}"], lambda: ":".join(f"{(R.randrange(256) & 0xFC) if i == 0 else R.randrange(256):02x}" for i in range(6)) if R.random() < 0.7 else "-".join(f"{(R.randrange(256) & 0xFC) if i == 0 else R.randrange(256):02X}" for i in range(6))),
                    lambda: R.choice([("broadcast {v}", "ff:ff:ff:ff:ff:ff"), ("multicast {v}", "01:00:5e:00:00:fb"), ("at {v} today", "10:30:00")])),
    "imei": (P(["IMEI {v}", "my phone's imei: {v}", "handset {v} was stolen"], lambda: card(R.choice(["35", "86", "01", "49"]), 15)),
             lambda: R.choice([("IMEI {v}", flip_last(card("35", 15))), ("IMEI {v}", card("35", 15)[:13]), ("order {v}", card("37", 15))])),
    "imsi": (P(["IMSI {v}", "sim imsi: {v}", "subscriber {v}"], lambda: R.choice(["310", "234", "262", "208", "460", "404"]) + rs(string.digits, 12)),
             lambda: R.choice([("ref {v}", "310" + rs(string.digits, 12)), ("IMSI {v}", "100" + rs(string.digits, 12)), ("IMSI {v}", "310" + rs(string.digits, 7))])),
    "iccid": (P(["ICCID {v}", "sim card {v}", "esim {v}"], lambda: card("89" + R.choice(["44", "01", "49", "33"]), R.choice([19, 20]))),
              lambda: R.choice([("ICCID {v}", flip_last(card("8944", 19))), ("ICCID {v}", card("8944", 19)[:17]), ("ref {v}", card("79", 19))])),
}

TOKENS = {
    "openai_api_key": lambda: "sk-proj-" + mixed(74, ALNUM + "_-") + "T3BlbkFJ" + mixed(74, ALNUM + "_-") if R.random() < 0.5 else "sk-" + mixed(48),
    "anthropic_api_key": lambda: "sk-ant-api03-" + mixed(93, ALNUM + "_-") + "AA",
    "azure_entra_client_secret": lambda: mixed(3) + str(R.randrange(10)) + "Q~" + mixed(34, ALNUM + "_~.-"),
    "azure_devops_pat": lambda: mixed(76) + "AZDO" + mixed(4),
    "google_oauth_secret_token": lambda: "GOCSPX-" + mixed(28) if R.random() < 0.5 else "ya29." + mixed(120, ALNUM + "_-"),
    "twilio_credentials": lambda: "SK" + rs(HEX, 32),
    "sendgrid_api_key": lambda: "SG." + mixed(22, ALNUM + "_-") + "." + mixed(43, ALNUM + "_-"),
    "shopify_token": lambda: R.choice(["shpat_", "shpca_", "shppa_", "shpss_"]) + rs(HEX, 32),
    "npm_token": gen_npm,
    "pypi_token": lambda: "pypi-AgEIcHlwaS5vcmc" + mixed(70, ALNUM + "_-"),
    "dockerhub_pat": lambda: "dckr_pat_" + mixed(27, ALNUM + "_-"),
    "gitlab_token": lambda: R.choice(["glpat-" + mixed(20), "glptt-" + rs(HEX, 40), "gldt-" + mixed(20)]),
    "bitbucket_app_password": lambda: "ATBB" + mixed(32),
    "atlassian_api_token": lambda: "ATATT3xFfGF0" + mixed(170, ALNUM + "_-") + "=" + rs("0123456789ABCDEF", 8),
    "vault_token": lambda: "hvs." + mixed(90, ALNUM + "_-"),
    "heroku_api_key": lambda: "HRKU-AA" + mixed(58, ALNUM + "_-"),
    "mailgun_key": lambda: "key-" + rs(HEX, 32),
    "square_token": lambda: R.choice(["sq0atp-" + mixed(22), "EAAA" + mixed(60), "sq0csp-" + mixed(43)]),
    "paypal_braintree_token": lambda: f"access_token$production${rs(string.ascii_lowercase + string.digits, 16)}${rs(HEX, 32)}",
    "telegram_bot_token": lambda: str(R.randrange(10**8, 10**10)) + ":AA" + mixed(33, ALNUM + "_-"),
    "meta_access_token": lambda: "EAAG" + mixed(150),
    "chat_webhook_url": lambda: f"https://hooks.slack.com/services/T{rs(string.ascii_uppercase + string.digits, 8)}/B{rs(string.ascii_uppercase + string.digits, 10)}/{mixed(24)}",
    "llm_api_keys": lambda: R.choice(["hf_" + mixed(34, string.ascii_letters), "gsk_" + mixed(52), "pplx-" + mixed(48)]),
    "databricks_token": lambda: "dapi" + rs(HEX, 32),
    "digitalocean_token": lambda: R.choice(["dop", "doo", "dor"]) + "_v1_" + rs(HEX, 64),
    "password_hash": lambda: R.choice([gen_bcrypt(), gen_sha512crypt()]),
}
TOKEN_TEMPLATES = ["here is the key: {v}", "{v}", "export TOKEN={v}", "use {v} for the deploy, rotate after", "token = \"{v}\""]

# Secrets whose value is built into the message (pairs, headers, URIs, JSON).
SECRET_MSGS = {
    "azure_storage_credential": lambda: ("DefaultEndpointsProtocol=https;AccountName=acme{n};AccountKey={k};EndpointSuffix=core.windows.net", dict(n=R.randrange(100), k=base64.b64encode(R.randbytes(64)).decode())),
    "gcp_service_account_key": lambda: ('{{"type": "service_account", "project_id": "acme-{n}", "private_key_id": "{k}", "private_key": "-----BEGIN PRIVATE KEY-----\\nMIIE\\n-----END PRIVATE KEY-----\\n", "client_email": "ci@acme-{n}.iam.gserviceaccount.com"}}', dict(n=R.randrange(100), k=rs(HEX, 40))),
    "datadog_api_key": lambda: ("DD_API_KEY={k}", dict(k=rs(HEX, 32))),
    "discord_bot_token": lambda: ("discord bot token: {k}", dict(k=discord_token())),
    "db_connection_uri": lambda: (R.choice(["DATABASE_URL=postgres://app:{k}@db.internal:5432/prod", "mongodb+srv://admin:{k}@cluster0.ab1cd.mongodb.net/test", "Server=sql1;Database=crm;User Id=sa;Password={k};"]), dict(k=mixed(14))),
    "http_auth_header": lambda: (R.choice(["curl -H \"Authorization: Basic {b}\" https://api.example.com", "Authorization: Bearer {k}"]), dict(b=basic_auth(), k=mixed(32))),
}

TOKEN_NEAR_MISS = {
    "openai_api_key": lambda: "sk-" + mixed(30),
    "anthropic_api_key": lambda: "sk-ant-api03-" + mixed(60),
    "sendgrid_api_key": lambda: "SG." + mixed(22) + "." + mixed(20),
    "shopify_token": lambda: "shpat_" + rs(HEX, 20),
    "npm_token": lambda: "npm_" + mixed(20),
    "dockerhub_pat": lambda: "dckr_pat_" + mixed(12),
    "gitlab_token": lambda: "glpat-" + mixed(12),
    "bitbucket_app_password": lambda: "ATBB" + mixed(20),
    "databricks_token": lambda: "dapi" + rs(HEX, 20),
    "digitalocean_token": lambda: "dop_v1_" + rs(HEX, 40),
    "telegram_bot_token": lambda: str(R.randrange(10**8, 10**10)) + ":AB" + mixed(33),
    "mailgun_key": lambda: "key-" + rs(HEX, 20),
    "password_hash": lambda: "$2b$12$" + rs(ALNUM, 20),
    "twilio_credentials": lambda: "SK" + rs(HEX, 20),
}


def entity(text, start, value, detector):
    return {"detector": detector, "start": start, "end": start + len(value), "value": value}


def place(template, value):
    i = template.index("{v}")
    return template.replace("{v}", value), i


def main():
    rows = []

    def add(det, text, ents, negs=(), case=None):
        cls = "context" if det in CONTEXT else "checksum"
        ref = REF.get(det, "format")
        for e in ents:
            rows.append({"detector": e["detector"], "text": text, "expect": "match", "start": e["start"], "end": e["end"],
                         "class": cls, "case": case or "valid", "ref": ref})
        for _ in negs:
            rows.append({"detector": det, "text": text, "expect": "none", "class": cls, "case": case or "near_miss", "ref": ref})

    def pos(det, template, value, prefix=None):
        p = prefix if prefix is not None else ts_word()
        text, i = place(p + template, value)
        add(det, text, [entity(text, i, value, det)])

    def neg(det, template, value):
        text, i = place(ts_word() + template, value)
        add(det, text, [], [{"type": det + "_near_miss", "start": i, "end": i + len(value), "value": value}])

    for det, (pgen, ngen) in SPECS.items():
        if pgen is None or det in ("card_track_data", "ca_bank_account"):
            continue
        for _ in range(40):
            t, v = pgen()
            pos(det, t, v)
        if ngen:
            for _ in range(20):
                t, v = ngen()
                neg(det, t, v)

    # Card track data, expiry/CVV, MICR, CA/AU accounts: composite values.
    for _ in range(40):
        pan = card(R.choice(["4", "51", "37"]), 16)
        yymm = f"{R.randrange(25, 31)}{R.randrange(1, 13):02d}"
        v = R.choice([f"%B{pan}^DOE/JOHN^{yymm}101{rs(string.digits, 12)}?", f";{pan}={yymm}101{rs(string.digits, 12)}?"])
        pos("card_track_data", R.choice(["{v}", "track data {v}", "swipe: {v}"]), v)
    for _ in range(20):
        pan = card("4", 16)
        neg("card_track_data", "{v}", f";{pan[:-1]}{(int(pan[-1]) + 1) % 10}=2713101123456?")

    for _ in range(40):
        pan = card("4", 16)
        spaced = " ".join(pan[i:i + 4] for i in range(0, 16, 4))
        mm, yy = f"{R.randrange(1, 13):02d}", f"{R.randrange(26, 32)}"
        cvv = rs(string.digits, 3)
        text, value = R.choice([
            (f"card {spaced} exp {mm}/{yy}", f"{mm}/{yy}"),
            (f"{pan} {mm}/{yy}", f"{mm}/{yy}"),
            (f"CVV: {cvv}", cvv),
            (f"validade {mm}/20{yy}", f"{mm}/20{yy}"),
            (f"código de segurança {cvv}", cvv),
            (f"the cvc is {cvv}", cvv),
        ])
        i = text.rindex(value)
        add("card_expiry_cvv", text, [entity(text, i, value, "card_expiry_cvv")])
    for _ in range(20):
        mm, yy = f"{R.randrange(1, 13):02d}", f"{R.randrange(26, 32)}"
        neg("card_expiry_cvv", R.choice(["meeting on {v} at noon", "invoice due {v}", "see you {v}"]), f"{mm}/{yy}")

    for _ in range(40):
        r = aba()
        acct = rs(string.digits, R.randrange(8, 12))
        v = R.choice([f"⑆{r}⑆ {acct}⑈ {rs(string.digits, 4)}", f"T{r}T {acct}O"])
        pos("micr_line", R.choice(["{v}", "bottom of the check: {v}", "MICR {v}"]), v)
    for _ in range(20):
        r = aba()
        bad = r[:-1] + str((int(r[-1]) + 1) % 10)
        neg("micr_line", "MICR {v}", f"⑆{bad}⑆ {rs(string.digits, 10)}⑈")

    for _ in range(40):
        t, i_, a = rs(string.digits, 5), R.choice(["001", "002", "003", "004", "006", "010", "815"]), rs(string.digits, R.randrange(7, 13))
        form = R.randrange(3)
        if form == 0:
            text = f"direct deposit: transit {t}, institution {i_}, account {a}"
            v = f"transit {t}, institution {i_}, account {a}"
        elif form == 1:
            v = f"{t}-{i_} {a}"
            text = f"my account is {v}"
        else:
            v = f"{t}-{i_}-{a}"
            text = f"numéro de compte {v}"
        add("ca_bank_account", text, [entity(text, text.index(v), v, "ca_bank_account")])
    for _ in range(20):
        neg("ca_bank_account", "ref {v}", f"{rs(string.digits, 5)}-{rs(string.digits, 3)} {rs(string.digits, 9)}")

    for _ in range(40):
        bsb = f"{R.choice('0123456789')}{rs(string.digits, 2)}-{rs(string.digits, 3)}"
        a = rs(string.digits, R.randrange(6, 11))
        form = R.randrange(3)
        if form == 0:
            v = f"{bsb} account {a}"
            text = f"BSB {v}"
        elif form == 1:
            v = f"{bsb} / {a}"
            text = f"bank details: {v}"
        else:
            v = f"{bsb.replace('-', '')}, acc no {a}"
            text = f"BSB: {v}"
        add("au_bank_account", text, [entity(text, text.index(v), v, "au_bank_account")])
    for _ in range(20):
        neg("au_bank_account", "order {v}", f"{rs(string.digits, 3)}-{rs(string.digits, 3)} {rs(string.digits, 8)}")

    for det, gen in TOKENS.items():
        for _ in range(40):
            pos(det, R.choice(TOKEN_TEMPLATES), gen())
        if det in TOKEN_NEAR_MISS:
            for _ in range(20):
                neg(det, R.choice(TOKEN_TEMPLATES), TOKEN_NEAR_MISS[det]())

    for det, gen in SECRET_MSGS.items():
        for _ in range(40):
            template, parts = gen()
            text = template.format(**parts)
            key = parts.get("k") if "{k}" in template else parts.get("b")
            add(det, text, [entity(text, text.index(key), key, det)])
    for _ in range(20):
        neg("datadog_api_key", "{v}", rs(HEX, 32))
        neg("db_connection_uri", "{v}", "postgres://localhost:5432/prod")
        neg("http_auth_header", "{v}", "Authorization: Bearer <token>")

    # Clean business chat: nothing to find.
    clean = [
        "Thanks, the portfolio review is attached; let's talk on Thursday.",
        "The bond desk closes at 4pm, please send orders before then.",
        "Your card will arrive in 5-7 business days.",
        "Reset your PIN in the app under Settings > Security.",
        "We moved the meeting to 12/05 at 10:30 in room 4.",
        "Please sign the transfer form and send it back by Friday.",
    ]
    for i in range(120):
        det = sorted(REF)[i % len(REF)]
        add(det, R.choice(clean), [], negs=[None], case="lookalike")

    with open(OUT, "w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    print(f"wrote {len(rows)} messages to {os.path.normpath(OUT)}")


if __name__ == "__main__":
    main()
