#!/usr/bin/env python3
"""Generates testdata/breadth/h14a.jsonl: labelled messages for the national, tax, health,
personal and messaging detectors of docs/notes/detector-breadth.md (§1a-1e, 1g, 1j, 1k).

Valid numbers come from python-stdnum (an independent reference implementation) where it
has the format: a random body is completed with the check characters that stdnum accepts.
Formats stdnum lacks are built from the algorithm in the note, written here independently
of the Rust code. Near misses: a wrong check character (confirmed invalid by the same
reference), a wrong length, a look-alike of another country, and, for detectors that
need context, a valid number with no context word.

    pip install python-stdnum==2.2 && python3 engine/core/testdata/gen_breadth_corpus.py

The output is committed, so the Rust test (tests/breadth.rs) needs no Python. The format
is described in testdata/breadth/README.md.
"""

import json
import os
import random
import string

from stdnum import luhn
from stdnum.au import abn
from stdnum.be import nn as be_nn
from stdnum.br import cpf
from stdnum.ch import ssn as ch_ssn
from stdnum.cl import rut
from stdnum.cn import ric
from stdnum.de import idnr as de_idnr
from stdnum.es import dni, nie
from stdnum.eu import vat
from stdnum.fr import nir
from stdnum.gb import utr
from stdnum.id import nik
from stdnum.ie import pps
from stdnum.il import idnr as il_idnr
from stdnum.in_ import gstin
from stdnum.it import codicefiscale
from stdnum.jp import in_ as jp_in
from stdnum.kr import rrn
from stdnum.mx import curp
from stdnum.my import nric
from stdnum.nl import bsn
from stdnum.no import fodselsnummer
from stdnum.pl import pesel
from stdnum.se import personnummer
from stdnum.th import pin as th_pin
from stdnum.tr import tckimlik
from stdnum.us import ein
from stdnum.za import idnr as za_idnr

R = random.Random(14)
N_POS = 40
N_NEG = 40
D = string.digits
UP = string.ascii_uppercase


def digits(n):
    return "".join(R.choice(D) for _ in range(n))


def complete(valid, body, alphabet=D, width=1):
    """Completes `body` with the check characters that `valid` accepts (None if none does)."""
    import itertools

    opts = ["".join(p) for p in itertools.product(alphabet, repeat=width)]
    R.shuffle(opts)
    for c in opts:
        if valid(body + c):
            return body + c
    return None


def gen(make, valid, tries=2000):
    for _ in range(tries):
        v = make()
        if v and valid(v):
            return v
    raise RuntimeError("no valid value generated")


def wrong_check(v, valid, positions=(-1,), alphabet=D):
    """`v` with one check character changed so that `valid` rejects it."""
    for _ in range(100):
        p = R.choice(positions)
        p = p % len(v)
        c = R.choice(alphabet)
        w = v[:p] + c + v[p + 1:]
        if w != v and not valid(w):
            return w
    return None


def date6(century=1900):
    y = R.randint(40, 99) if century == 1900 else R.randint(0, 20)
    m = R.randint(1, 12)
    d = R.randint(1, 28)
    return y, m, d


def group(v, sizes, sep=" "):
    out, i = [], 0
    for s in sizes:
        out.append(v[i:i + s])
        i += s
    return sep.join(out)


# --------------------------------------------------------------- generators (valid values)

def g_fr_nir():
    def make():
        body = R.choice("12") + "%02d%02d" % (R.randint(40, 99), R.randint(1, 12))
        dep = R.choice(["%02d" % R.randint(1, 95), "2A", "2B"])
        body += dep + digits(6)
        return body + nir.calc_check_digits(body)
    v = gen(make, nir.is_valid)
    return R.choice([v, group(v, [1, 2, 2, 2, 3, 3, 2])])


def g_de_ausweis():
    alpha = "CFGHJKLMNPRTVWXYZ"
    def chk(s):
        w = [7, 3, 1]
        return str(sum((int(c) if c.isdigit() else ord(c) - 55) * w[i % 3] for i, c in enumerate(s)) % 10)
    if R.random() < 0.2:
        b = "T" + digits(7)
    else:
        b = R.choice(alpha) + "".join(R.choice(alpha + D) for _ in range(7))
    return b + chk(b)


def de_ausweis_valid(v):
    w = [7, 3, 1]
    return len(v) == 9 and v[8].isdigit() and str(sum((int(c) if c.isdigit() else ord(c) - 55) * w[i % 3] for i, c in enumerate(v[:8])) % 10) == v[8]


def g_es():
    if R.random() < 0.6:
        return complete(dni.is_valid, digits(8), UP)
    return complete(nie.is_valid, R.choice("XYZ") + digits(7), UP)


def g_cf():
    def make():
        b = "".join(R.choice(UP) for _ in range(6)) + "%02d" % R.randint(40, 99) + R.choice("ABCDEHLMPRST")
        b += "%02d" % (R.randint(1, 28) + R.choice([0, 40])) + R.choice(UP) + digits(3)
        return b + codicefiscale.calc_check_digit(b)
    return gen(make, codicefiscale.is_valid)


def g_bsn():
    v = gen(lambda: complete(bsn.is_valid, R.choice("123456789") + digits(7)), bsn.is_valid)
    return R.choice([v, group(v, [3, 3, 3]), group(v, [4, 2, 3], ".")])


def g_be_nn():
    def make():
        y, m, d = date6()
        b = "%02d%02d%02d%03d" % (y, m, d, R.randint(1, 997))
        return complete(be_nn.is_valid, b, D, 2)
    v = gen(make, be_nn.is_valid)
    return R.choice([v, "%s.%s.%s-%s.%s" % (v[:2], v[2:4], v[4:6], v[6:9], v[9:])])


def g_pesel():
    def make():
        y, m, d = date6(R.choice([1900, 2000]))
        mm = m if y >= 40 else m + 20
        return complete(pesel.is_valid, "%02d%02d%02d%s" % (y, mm, d, digits(4)))
    return gen(make, pesel.is_valid)


def g_se():
    def make():
        y, m, d = date6()
        if R.random() < 0.2:
            d += 60
        b = "%02d%02d%02d%s" % (y, m, d, digits(3))
        v = complete(personnummer.is_valid, b)
        return v
    v = gen(make, personnummer.is_valid)
    return R.choice([v[:6] + "-" + v[6:], "19" + v[:6] + "-" + v[6:], v])


def g_no():
    def make():
        y, m, d = date6()
        if R.random() < 0.2:
            d += 40
        return complete(fodselsnummer.is_valid, "%02d%02d%02d%s" % (d, m, y, digits(3)), D, 2)
    v = gen(make, fodselsnummer.is_valid)
    return R.choice([v, v[:6] + " " + v[6:]])


def g_ie():
    if R.random() < 0.5:
        return complete(pps.is_valid, digits(7), "ABCDEFGHIJKLMNOPQRSTUVW")
    b = digits(7)
    for c in "ABCDEFGHIJKLMNOPQRSTUVW":
        for s in "ABH":
            if pps.is_valid(b + c + s):
                return b + c + s
    return complete(pps.is_valid, digits(7), "ABCDEFGHIJKLMNOPQRSTUVW")


def g_ahv():
    v = gen(lambda: complete(ch_ssn.is_valid, "756" + digits(9)), ch_ssn.is_valid)
    return R.choice([v, group(v, [3, 4, 4, 2], ".")])


def g_cn():
    areas = ["110105", "310104", "440305", "360426", "510107", "330106", "320102", "420111"]
    def make():
        b = R.choice(areas) + "%04d%02d%02d" % (R.randint(1950, 2005), R.randint(1, 12), R.randint(1, 28)) + digits(3)
        return complete(ric.is_valid, b, D + "X")
    return gen(make, ric.is_valid)


def hk_check(b):
    L, d = b[:-6], b[-6:]
    vals = ([36] if len(L) == 1 else []) + [ord(c) - 55 for c in L]
    t = vals[0] * 9 + vals[1] * 8 + sum(int(x) * (7 - i) for i, x in enumerate(d))
    r = t % 11
    return "0" if r == 0 else "A" if r == 1 else str(11 - r)


def hk_valid(v):
    v = v.replace("(", "").replace(")", "").replace(" ", "")
    return len(v) in (8, 9) and v[-7:-1].isdigit() and v[:-7].isalpha() and hk_check(v[:-1]) == v[-1]


def g_hk():
    b = "".join(R.choice(UP) for _ in range(R.choice([1, 1, 2]))) + digits(6)
    return b + "(" + hk_check(b) + ")"


TW_CODES = dict(zip(UP, [10, 11, 12, 13, 14, 15, 16, 17, 34, 18, 19, 20, 21, 22, 35, 23, 24, 25, 26, 27, 28, 29, 32, 30, 31, 33]))


def tw_valid(s):
    if len(s) != 10 or s[0] not in TW_CODES or not s[1:].isdigit() or s[1] not in "12":
        return False
    n = TW_CODES[s[0]]
    d = [n // 10, n % 10] + [int(x) for x in s[1:]]
    return sum(a * w for a, w in zip(d, [1, 9, 8, 7, 6, 5, 4, 3, 2, 1, 1])) % 10 == 0


def g_tw():
    return complete(tw_valid, R.choice(UP) + R.choice("12") + digits(7))


def g_jp():
    v = gen(lambda: complete(jp_in.is_valid, digits(11)), jp_in.is_valid)
    return R.choice([v, group(v, [4, 4, 4]), group(v, [4, 4, 4], "-")])


def g_kr():
    def make():
        y, m, d = date6()
        b = "%02d%02d%02d%s%s" % (y, m, d, R.choice("12"), digits(5))
        return complete(rrn.is_valid, b)
    v = gen(make, rrn.is_valid)
    return v[:6] + "-" + v[6:]


def g_my():
    def make():
        y, m, d = date6()
        return "%02d%02d%02d%02d%s" % (y, m, d, R.choice(list(range(1, 17)) + [21, 30, 45, 59]), digits(4))
    v = gen(make, nric.is_valid)
    return v[:6] + "-" + v[6:8] + "-" + v[8:]


def g_nik():
    regs = ["3171", "3273", "3578", "1101", "5171", "7371", "6471", "3201"]
    def make():
        y, m, d = date6()
        return R.choice(regs) + "%02d" % R.randint(1, 40) + "%02d%02d%02d" % (d + R.choice([0, 40]), m, y) + "%04d" % R.randint(1, 9999)
    return gen(make, nik.is_valid)


def g_th():
    v = gen(lambda: complete(th_pin.is_valid, R.choice("12345678") + digits(11)), th_pin.is_valid)
    return R.choice([v, "%s-%s-%s-%s-%s" % (v[0], v[1:5], v[5:10], v[10:12], v[12])])


def g_cpf():
    v = gen(lambda: complete(cpf.is_valid, digits(9), D, 2), cpf.is_valid)
    return "%s.%s.%s-%s" % (v[:3], v[3:6], v[6:9], v[9:])


def g_curp():
    states = ["AS", "BC", "DF", "JC", "NL", "VZ", "YN", "MC", "PL", "QT"]
    def make():
        b = R.choice(UP.replace("Ñ", "")) + R.choice("AEIOU") + "".join(R.choice(UP) for _ in range(2))
        b += "%02d%02d%02d" % (R.randint(40, 99), R.randint(1, 12), R.randint(1, 28)) + R.choice("HM") + R.choice(states)
        b += "".join(R.choice("BCDFGHJKLMNPRSTVZ") for _ in range(3)) + "0"
        return complete(curp.is_valid, b)
    return gen(make, curp.is_valid)


def g_rut():
    v = complete(rut.is_valid, str(R.randint(5_000_000, 29_999_999)), D + "K")
    body, c = v[:-1], v[-1]
    dotted = "{:,}".format(int(body)).replace(",", ".")
    return R.choice([dotted + "-" + c, dotted + "-" + c])


def g_il():
    return gen(lambda: complete(il_idnr.is_valid, R.choice("0123") + digits(7)), il_idnr.is_valid)


def g_za():
    def make():
        y, m, d = date6()
        b = "%02d%02d%02d%04d%s8" % (y, m, d, R.randint(0, 9999), R.choice("01"))
        return complete(za_idnr.is_valid, b)
    v = gen(make, za_idnr.is_valid)
    return R.choice([v, v[:6] + " " + v[6:10] + " " + v[10:]])


def g_tckn():
    return gen(lambda: complete(tckimlik.is_valid, R.choice("123456789") + digits(8), D, 2), tckimlik.is_valid)


def g_sa():
    return R.choice("12") + digits(9)


def g_ae():
    v = complete(luhn.is_valid, "784" + str(R.randint(1960, 2005)) + digits(7))
    return R.choice([v, "%s-%s-%s-%s" % (v[:3], v[3:7], v[7:14], v[14])])


def g_steuer():
    def make():
        d = list(R.sample(D, 9))
        d.append(R.choice(d))
        R.shuffle(d)
        if d[0] == "0":
            return None
        return complete(de_idnr.is_valid, "".join(d))
    v = gen(make, de_idnr.is_valid)
    return R.choice([v, group(v, [2, 3, 3, 3])])


def g_utr():
    def make():
        b = digits(9)
        return utr.calc_check_digit(b) + b
    v = gen(make, utr.is_valid)
    return R.choice([v, v[:5] + " " + v[5:]])


def g_vat():
    bodies = {
        "DE": lambda: R.choice("123456789") + digits(7),
        "FR": None,
        "NL": None,
        "AT": lambda: "U" + digits(7),
        "BE": lambda: "0" + digits(8),
        "IT": lambda: digits(7) + "%03d" % R.randint(1, 100),
        "PL": lambda: digits(9),
        "SE": None,
        "DK": lambda: R.choice("123456789") + digits(6),
        "FI": lambda: digits(7),
        "PT": lambda: R.choice("125") + digits(7),
        "LU": None,
    }
    cc = R.choice(list(bodies))
    if cc == "FR":
        siren = complete(luhn.is_valid, digits(8))
        return "FR%02d%s" % ((int(siren + "12") % 97), siren)
    if cc == "NL":
        b = complete(bsn.is_valid, digits(8)) or "111222333"
        return "NL%sB%02d" % (b, R.randint(1, 20))
    if cc == "SE":
        return "SE" + complete(luhn.is_valid, "5" + digits(8)) + "01"
    if cc == "LU":
        b = digits(6)
        return "LU%s%02d" % (b, int(b) % 89)
    if cc == "BE":
        b = "0" + digits(7)
        return "BE%s%02d" % (b, 97 - int(b) % 97)
    v = gen(lambda: complete(vat.is_valid, cc + bodies[cc](), D, 2 if cc == "BE" else 1), vat.is_valid)
    return v


def g_abn():
    v = gen(lambda: complete(abn.is_valid, R.choice("123456789") + digits(8), D, 2), abn.is_valid)
    return group(v, [2, 3, 3, 3])


def g_gstin():
    def make():
        pan = "".join(R.choice(UP) for _ in range(3)) + R.choice("PCHFAT") + R.choice(UP) + digits(4) + R.choice(UP)
        b = "%02d" % R.randint(1, 37) + pan + R.choice("123456789") + "Z"
        return complete(gstin.is_valid, b, D + UP)
    return gen(make, gstin.is_valid)


def g_ein():
    v = gen(lambda: R.choice(["01", "10", "20", "27", "30", "45", "52", "61", "77", "84", "91", "98"]) + digits(7), ein.is_valid)
    return v[:2] + "-" + v[2:]


def npi_valid(v):
    return len(v) == 10 and v[0] in "12" and luhn.is_valid("80840" + v)


def g_npi():
    return complete(npi_valid, R.choice("12") + digits(8))


def dea_valid(v):
    if len(v) != 9 or v[0] not in "ABCDEFGHJKLMPRSTUX" or not (v[1].isupper() or v[1] == "9") or not v[2:].isdigit():
        return False
    d = [int(x) for x in v[2:]]
    return (d[0] + d[2] + d[4] + 2 * (d[1] + d[3] + d[5])) % 10 == d[6]


def g_dea():
    return complete(dea_valid, R.choice("ABFGMPR") + R.choice(UP + "9") + digits(6))


MBI_L = "ACDEFGHJKMNPQRTUVWXY"


def g_mbi():
    an = MBI_L + D
    v = R.choice("123456789") + R.choice(MBI_L) + R.choice(an) + R.choice(D) + R.choice(MBI_L) + R.choice(an) + R.choice(D) + R.choice(MBI_L) + R.choice(MBI_L) + digits(2)
    return R.choice([v, "%s-%s-%s" % (v[:4], v[4:7], v[7:])])


def medicare_valid(v):
    return len(v) in (10, 11) and v[0] in "23456" and sum(int(a) * w for a, w in zip(v[:8], [1, 3, 7, 9, 1, 3, 7, 9])) % 10 == int(v[8])


def g_medicare():
    b = R.choice("23456") + digits(7)
    v = b + str(sum(int(a) * w for a, w in zip(b, [1, 3, 7, 9, 1, 3, 7, 9])) % 10) + R.choice("123456789")
    return R.choice([v, "%s %s %s" % (v[:4], v[4:9], v[9])])


VIN_TR = dict(zip("ABCDEFGHJKLMNPRSTUVWXYZ", [1, 2, 3, 4, 5, 6, 7, 8, 1, 2, 3, 4, 5, 7, 9, 2, 3, 4, 5, 6, 7, 8, 9]))
VIN_W = [8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2]


def vin_valid(v):
    if len(v) != 17 or any(c in "IOQ" for c in v):
        return False
    t = sum((int(c) if c.isdigit() else VIN_TR[c]) * VIN_W[i] for i, c in enumerate(v) if i != 8)
    c = t % 11
    return v[8] == ("X" if c == 10 else str(c))


def g_vin():
    al = "ABCDEFGHJKLMNPRSTUVWXYZ"
    b = R.choice(["1HG", "1FT", "2T1", "3VW", "5YJ", "JH4", "KMH", "1G1"]) + "".join(R.choice(al + D) for _ in range(5)) + "0" + R.choice("ABCDEFGHJKLMNPRSTVWXY123456789") + R.choice(al) + digits(6)
    return fix_vin(b)


def fix_vin(b):
    for c in D + "X":
        v = b[:8] + c + b[9:]
        if vin_valid(v):
            return v
    return None


def g_us_dl():
    return R.choice([R.choice(UP) + digits(7), "%s %s %s" % (digits(3), digits(3), digits(3)), R.choice(UP) + "%s-%s-%s-%s-%s" % (digits(3), digits(3), digits(2), digits(3), digits(1)), R.choice(UP) + digits(12)])


def g_uk_dl():
    sur = "".join(R.choice(UP) for _ in range(R.randint(3, 5))).ljust(5, "9")
    y = R.randint(40, 99)
    m = R.randint(1, 12) + R.choice([0, 50])
    return "%s%s%02d%02d%s%s9%s" % (sur, str(y)[0], m, R.randint(1, 28), str(y)[1], "".join(R.choice(UP) for _ in range(2)), "".join(R.choice(UP) for _ in range(2)))


def g_otp():
    n = R.choice([4, 6, 6, 6, 8])
    v = digits(n)
    while n == 4 and 1950 <= int(v) <= 2099:
        v = digits(n)
    return R.choice([v, v, v[:3] + "-" + v[3:] if n == 6 else v])


def g_pin():
    return digits(4)


def g_mt103():
    bic = R.choice(["DEUTDEFF", "BARCGB22", "BNPAFRPP", "CHASUS33", "HSBCHKHH"])
    amt = "%d,%02d" % (R.randint(100, 900000), R.randint(0, 99))
    lines = [":20:REF%s" % digits(6), ":23B:CRED", ":32A:2503%02d%s%s" % (R.randint(1, 28), R.choice(["EUR", "USD", "GBP"]), amt),
             ":50K:/DE89370400440532013000\nACME GMBH", ":59:/GB29NWBK60161331926819\nJANE ROE", ":70:INV %s" % digits(5), ":71A:" + R.choice(["SHA", "OUR", "BEN"])]
    k = R.randint(3, len(lines))
    block = "\n".join(lines[:k])
    if R.random() < 0.3:
        block = "{1:F01%sAXXX0000000000}{2:I103%sXXXXN}{4:\n" % (bic, bic) + block
    return block


# --------------------------------------------------------------- detectors

# id: (class, generator, validity check for near misses or None, check positions,
#      alphabet of the check characters, context templates, bare templates)
ALL = {}


def compact(v):
    return "".join(c for c in v if c.isalnum())


def spec(id, cls, g, valid, ctx, bare=(), pos=(-1,), alpha=D, lookalikes=(), needs_ctx=None, lengths=True):
    checked = None if valid is None else (lambda v: valid(compact(v)))
    needs_ctx = (cls == "context") if needs_ctx is None else needs_ctx
    ALL[id] = dict(cls=cls, g=g, valid=checked, needs_ctx=needs_ctx, lengths=lengths, ctx=ctx, bare=bare, pos=pos, alpha=alpha, look=lookalikes)


spec("fr_nir", "checksum", g_fr_nir, lambda v: nir.is_valid(v),
     ["numéro de sécurité sociale : {v}", "Mon NIR est le {v}, merci", "carte vitale n° {v}", "code sécu {v} pour le dossier"],
     ["voici {v} pour le remboursement"], lookalikes=["numéro de sécurité sociale : {tckn}"])
spec("de_personalausweis", "context", g_de_ausweis, de_ausweis_valid,
     ["Personalausweis {v}", "meine Ausweisnummer ist {v}", "Dokumentennummer: {v} (Personalausweis)", "ID card number {v}"],
     [], pos=(-1,), lookalikes=["Personalausweis {tw}"])
spec("es_dni_nie", "checksum", g_es, lambda v: dni.is_valid(v) or nie.is_valid(v),
     ["DNI {v}", "mi NIE es {v}", "documento nacional de identidad: {v}", "número de identificación {v}"],
     ["adjunto {v} firmado"], alpha=UP)
spec("it_codice_fiscale", "checksum", g_cf, codicefiscale.is_valid,
     ["codice fiscale {v}", "il mio CF è {v}", "C.F.: {v}", "tessera sanitaria {v}"],
     ["ecco {v} per la pratica"], alpha=UP)
spec("nl_bsn", "context", g_bsn, lambda v: bsn.is_valid(v),
     ["BSN {v}", "mijn burgerservicenummer is {v}", "sofinummer: {v}", "persoonsnummer {v} graag"],
     [], lookalikes=["BSN {sa9}"])
spec("be_national_number", "checksum", g_be_nn, lambda v: be_nn.is_valid(v),
     ["rijksregisternummer {v}", "numéro de registre national: {v}", "NISS {v}", "INSZ-nummer {v}"],
     ["hier is {v} voor het dossier"], pos=(-1, -2))
spec("pl_pesel", "context", g_pesel, pesel.is_valid,
     ["PESEL {v}", "mój numer PESEL to {v}", "nr-pesel: {v}", "numer identyfikacyjny {v}"], [],
     lookalikes=["PESEL {tckn}"])
spec("se_personnummer", "context", g_se, lambda v: personnummer.is_valid(v),
     ["personnummer {v}", "mitt personnummer är {v}", "samordningsnummer: {v}"], [])
spec("no_fodselsnummer", "checksum", g_no, lambda v: fodselsnummer.is_valid(v),
     ["fødselsnummer {v}", "mitt fødselsnummer er {v}", "D-nummer {v}"], ["her er {v} til skjemaet"], pos=(-1, -2))
spec("ie_ppsn", "checksum", g_ie, pps.is_valid,
     ["PPS number {v}", "my PPSN is {v}", "uimhir PSP {v}", "personal public service number: {v}"],
     ["form attached, {v} on it"], pos=(7,), alpha="ABCDEFGHIJKLMNOPQRSTUVW")
spec("ch_ahv", "checksum", g_ahv, lambda v: ch_ssn.is_valid(v),
     ["AHV-Nummer {v}", "numéro AVS {v}", "Sozialversicherungsnummer: {v}"], ["bitte {v} eintragen"])
spec("cn_resident_id", "checksum", g_cn, ric.is_valid,
     ["身份证号码：{v}", "我的居民身份证是{v}", "resident identity card {v}", "身份证 {v} 请核对"],
     ["please use {v} for the form"], alpha=D + "X")
spec("hk_hkid", "checksum", g_hk, hk_valid,
     ["HKID {v}", "身份證號碼 {v}", "my hong kong identity card is {v}"], ["use {v} please"], pos=(-2,), alpha=D + "A")
spec("tw_national_id", "checksum", g_tw, tw_valid,
     ["身分證字號 {v}", "national ID {v}", "我的身分證統一編號是{v}"], ["資料 {v} 已更新"])
spec("jp_my_number", "context", g_jp, lambda v: jp_in.is_valid(v),
     ["マイナンバー {v}", "個人番号：{v}", "my number is {v}", "個人番号カード {v} です"], [])
spec("kr_rrn", "checksum", g_kr, lambda v: rrn.is_valid(v) or not v,
     ["주민등록번호 {v}", "RRN {v}", "주민번호는 {v} 입니다"], ["확인 {v} 부탁드립니다"], pos=(2, 3, -1))
spec("my_mykad", "checksum", g_my, nric.is_valid,
     ["MyKad {v}", "No. K/P: {v}", "nombor kad pengenalan {v}", "IC number {v}"], ["sila guna {v}"], pos=(2, 3))
spec("id_nik", "context", g_nik, nik.is_valid,
     ["NIK {v}", "nomor induk kependudukan: {v}", "KTP saya {v}", "no. NIK {v} mohon dicek"], [], pos=(6, 8))
spec("th_national_id", "checksum", g_th, lambda v: th_pin.is_valid(v),
     ["เลขประจำตัวประชาชน {v}", "Thai national ID {v}", "เลขบัตรประชาชน {v} ค่ะ"], [])
spec("br_cpf", "checksum", g_cpf, cpf.is_valid,
     ["CPF {v}", "meu cpf é {v}", "segue o CPF {v} para cadastro", "Cadastro de Pessoas Físicas: {v}"],
     ["segue {v} para o cadastro"], pos=(-1, -2))
spec("mx_curp", "checksum", g_curp, curp.is_valid,
     ["CURP {v}", "mi curp es {v}", "clave única de registro de población: {v}"], ["te paso {v} para el trámite"])
spec("cl_rut", "checksum", g_rut, rut.is_valid,
     ["RUT {v}", "mi RUN es {v}", "cédula de identidad {v}", "Rol Único Tributario: {v}"], ["adjunto {v} para la factura"],
     alpha=D + "K")
spec("il_teudat_zehut", "context", g_il, il_idnr.is_valid,
     ["מספר זהות {v}", "Israeli ID {v}", "teudat zehut: {v}", "id number {v}"], [])
spec("za_id", "checksum", g_za, lambda v: za_idnr.is_valid(v),
     ["SA ID {v}", "my ID number is {v}", "smart id {v}", "south african id: {v}"], ["please use {v}"])
spec("tr_tckn", "checksum", g_tckn, tckimlik.is_valid,
     ["TC kimlik no {v}", "kimlik numarası: {v}", "TCKN {v}", "T.C. kimlik {v}"], ["bilgi {v} ektedir"], pos=(-1, -2))
spec("sa_national_id", "context", g_sa, None,
     ["رقم الهوية {v}", "Saudi ID {v}", "iqama number {v}", "national ID {v}"], [])
spec("ae_emirates_id", "checksum", g_ae, lambda v: luhn.is_valid(v.replace("-", "")),
     ["Emirates ID {v}", "رقم الهوية {v}", "EID {v}", "emirates identity card {v}"], ["please update {v}"])
spec("de_steuer_id", "context", g_steuer, lambda v: de_idnr.is_valid(v),
     ["Steuer-ID {v}", "meine Steueridentifikationsnummer: {v}", "IdNr {v}", "steuerliche Identifikationsnummer (Steuer-IdNr) {v}"], [])
spec("uk_utr", "context", g_utr, lambda v: utr.is_valid(v), ["UTR {v}", "your unique taxpayer reference is {v}",
     "HMRC self assessment UTR: {v}"], [], pos=(0,))
spec("eu_vat", "checksum", g_vat, vat.is_valid,
     ["USt-IdNr. {v}", "n° TVA {v}", "BTW {v} op de factuur", "partita IVA {v}", "VAT number {v}"],
     ["invoice to {v} attached"])
spec("au_abn", "checksum", g_abn, lambda v: abn.is_valid(v), ["ABN {v}", "australian business number: {v}",
     "invoice from {v} Pty Ltd"], ["supplier {v}"], pos=(2, 3))
spec("in_gstin", "checksum", g_gstin, gstin.is_valid, ["GSTIN {v}", "our GST number is {v}", "GST registration {v}"],
     ["bill to {v}"], alpha=D + UP)
spec("us_ein", "context", g_ein, None, ["EIN {v}", "our federal tax id is {v}", "FEIN: {v}", "employer identification number {v}"], [])
spec("us_npi", "context", g_npi, npi_valid, ["NPI {v}", "provider NPI number: {v}", "national provider identifier {v}"], [])
spec("us_dea", "context", g_dea, dea_valid, ["DEA {v}", "prescriber DEA# {v}", "DEA number {v}"], [])
spec("us_mbi", "context", g_mbi, None, ["Medicare MBI {v}", "my medicare number is {v}", "MBI: {v}", "medicare beneficiary identifier {v}"],
     ["member {v}"], needs_ctx=False)
spec("au_medicare", "context", g_medicare, medicare_valid, ["Medicare card {v}", "medicare number {v}", "Medicare no. {v}"], [], pos=(8,))
spec("vin", "checksum", g_vin, vin_valid, ["VIN {v}", "the car's vin is {v}", "chassis number {v}"], ["part {v} shipped"], pos=(8,))
spec("us_drivers_license", "context", g_us_dl, None, ["CA driver's license {v}", "NY DL# {v}", "drivers license number {v}"], [], lengths=False)
spec("uk_driving_licence", "context", g_uk_dl, None, ["driving licence {v}", "DVLA licence number: {v}", "my driving licence number is {v}"], ["licence {v} on file"], needs_ctx=False)
spec("otp_code", "context", g_otp, None,
     ["{v} is your verification code. For your security, do not share this code.", "Your OTP is {v}, valid for 5 minutes",
      "código de verificación: {v}", "Ihr Bestätigungscode lautet {v}", "验证码：{v}", "kode OTP anda {v}", "Use {v} as your one-time password"], [], lengths=False)
spec("card_pin", "context", g_pin, None, ["my card PIN is {v}", "ATM pin: {v}", "a senha do cartão é {v}", "PIN {v} for the debit card"], [], lengths=False)
spec("swift_mt103", "context", g_mt103, None, ["SWIFT copy:\n{v}", "here is the MT103\n{v}", "{v}"], [], needs_ctx=False,
     lengths=False)

# Near misses without a reference check, and messages that are not codes.
EXTRA_NEG = {
    "otp_code": ["your verification code expires on 12/05/2025", "the OTP was sent to +44 7700 900123",
                 "one-time password reset costs $1200", "verification code will be sent at 10:30",
                 "your code was sent in 2024", "OTP service costs 4.99 per month"],
    "card_pin": ["pin code 560001 Bangalore", "PIN reset on 12/05/2025", "pin the message at 10:30", "card pin changed in 2023?"],
    "swift_mt103": ["meeting at 10:20: see you", "ratio :20: and :59: only", "the MT103 will follow tomorrow",
                    "wire details: account 12345678, ref 778"],
    "us_drivers_license": ["driver's license expired", "DL# 12345", "drivers license renewal on 12/05/2025"],
    "uk_driving_licence": ["licence 99999657054SM9IJ", "driving licence MORGA6A7054SM9IJ", "driving licence MORGA613054SM9IJ"],
    "us_mbi": ["MBI 1SG4-TE5-MK73", "medicare 0EG4-TE5-MK73", "MBI 1EG4-TE5-MK7"],
    "sa_national_id": ["رقم الهوية 3012345678", "Saudi ID 101234567", "order 1012345678 shipped"],
    "us_ein": ["EIN 07-2103594", "EIN 04-210359", "order 04-2103594"],
}


def lookalike_values():
    return {"tckn": g_tckn(), "tw": g_tw(), "sa9": "%09d" % R.randint(10 ** 8, 10 ** 9 - 1)}


def mutate_length(v):
    """One digit dropped or added in the longest digit group."""
    idx = [i for i, c in enumerate(v) if c.isdigit()]
    if not idx:
        return None
    i = R.choice(idx)
    if R.random() < 0.5:
        return v[:i] + v[i + 1:]
    return v[:i] + R.choice(D) + v[i:]


def main():
    out = []
    for id, s in ALL.items():
        for k in range(N_POS):
            v = s["g"]()
            t = R.choice(s["ctx"] if not (k % 4 == 3 and s["bare"]) else s["bare"])
            text = t.replace("{v}", v)
            start = text.index(v)
            out.append(dict(detector=id, text=text, expect="match", start=start, end=start + len(v), **{"class": s["cls"]},
                            case="valid" if t in s["ctx"] else "valid_no_context", ref=REF.get(id, "algorithm in the note")))
        negs = []
        for k in range(N_NEG):
            kind = k % 4
            v = s["g"]()
            t = R.choice(s["ctx"])
            if kind == 0 and s["valid"] is not None:
                w = wrong_check(v, s["valid"], s["pos"], s["alpha"])
                if w:
                    negs.append((t.replace("{v}", w), "wrong_check"))
                    continue
            if kind == 1 and s["lengths"]:
                w = mutate_length(v)
                if w and (s["valid"] is None or not s["valid"](w)):
                    negs.append((t.replace("{v}", w), "wrong_length"))
                    continue
            if kind == 2 and s["needs_ctx"]:
                negs.append(("ref " + v + " in the ticket", "no_context"))
                continue
            if kind == 3 and s["look"]:
                lk = lookalike_values()
                lt = R.choice(s["look"])
                val = None
                for key, val in lk.items():
                    if "{%s}" % key in lt:
                        break
                if s["valid"] is None or not s["valid"](val):
                    for key, v2 in lk.items():
                        lt = lt.replace("{%s}" % key, v2)
                    negs.append((lt, "lookalike"))
                    continue
            if s["valid"] is not None:
                w = wrong_check(v, s["valid"], s["pos"], s["alpha"])
                if w:
                    negs.append((t.replace("{v}", w), "wrong_check"))
        for e in EXTRA_NEG.get(id, []):
            negs.append((e, "near_miss"))
        for text, case in negs:
            out.append(dict(detector=id, text=text, expect="none", **{"class": s["cls"]}, case=case,
                            ref=REF.get(id, "algorithm in the note")))
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "breadth", "h14a.jsonl")
    with open(path, "w", encoding="utf-8") as f:
        for o in out:
            f.write(json.dumps(o, ensure_ascii=False) + "\n")
    print("wrote", len(out), "lines to", path)


REF = {
    "fr_nir": "stdnum.fr.nir", "es_dni_nie": "stdnum.es.dni/nie", "it_codice_fiscale": "stdnum.it.codicefiscale",
    "nl_bsn": "stdnum.nl.bsn", "be_national_number": "stdnum.be.nn", "pl_pesel": "stdnum.pl.pesel",
    "se_personnummer": "stdnum.se.personnummer", "no_fodselsnummer": "stdnum.no.fodselsnummer", "ie_ppsn": "stdnum.ie.pps",
    "ch_ahv": "stdnum.ch.ssn", "cn_resident_id": "stdnum.cn.ric", "jp_my_number": "stdnum.jp.in_", "kr_rrn": "stdnum.kr.rrn",
    "my_mykad": "stdnum.my.nric", "id_nik": "stdnum.id.nik", "th_national_id": "stdnum.th.pin", "br_cpf": "stdnum.br.cpf",
    "mx_curp": "stdnum.mx.curp", "cl_rut": "stdnum.cl.rut", "il_teudat_zehut": "stdnum.il.idnr", "za_id": "stdnum.za.idnr",
    "tr_tckn": "stdnum.tr.tckimlik", "de_steuer_id": "stdnum.de.idnr", "uk_utr": "stdnum.gb.utr", "eu_vat": "stdnum.eu.vat",
    "au_abn": "stdnum.au.abn", "in_gstin": "stdnum.in_.gstin", "us_ein": "stdnum.us.ein", "ae_emirates_id": "stdnum.luhn",
}

if __name__ == "__main__":
    main()
