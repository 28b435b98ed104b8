#!/usr/bin/env python3
"""Generates the conversation corpus of docs/10-conversations.md (deterministic).

positives.jsonl: conversations whose last message completes a value split over 2-4
messages of one sender; the last message carries attributes.expect = "<detector>".
negatives.jsonl: pieces that must never join (other party, gap longer than the window,
digits inside sentences, other conversation, other tenant, other direction) and
ordinary chatter; no message may get a finding.

Run: python3 engine/core/testdata/conversations/generate.py
"""

import json
import os
import random
from datetime import datetime, timedelta, timezone

R = random.Random(12)
HERE = os.path.dirname(os.path.abspath(__file__))
BASE = datetime(2026, 11, 30, 9, 0, 0, tzinfo=timezone.utc)


def luhn_complete(body):
    digits = [int(c) for c in body]
    total = 0
    for i, d in enumerate(reversed(digits)):
        if i % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return body + str((10 - total % 10) % 10)


def card():
    kind = R.choice(["visa", "mc", "amex", "disc"])
    if kind == "visa":
        n = luhn_complete("4" + "".join(R.choice("0123456789") for _ in range(14)))
        groups = [4, 4, 4, 4]
    elif kind == "mc":
        n = luhn_complete(str(R.randint(51, 55)) + "".join(R.choice("0123456789") for _ in range(13)))
        groups = [4, 4, 4, 4]
    elif kind == "amex":
        n = luhn_complete(R.choice(["34", "37"]) + "".join(R.choice("0123456789") for _ in range(12)))
        groups = [4, 6, 5]
    else:
        n = luhn_complete("6011" + "".join(R.choice("0123456789") for _ in range(11)))
        groups = [4, 4, 4, 4]
    return n, groups


def iban():
    country = R.choice(["DE", "GB", "NL", "ES", "FR"])
    if country == "DE":
        bban = "".join(R.choice("0123456789") for _ in range(18))
    elif country == "GB":
        bban = "".join(R.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ") for _ in range(4)) + "".join(
            R.choice("0123456789") for _ in range(14)
        )
    elif country == "NL":
        bban = "".join(R.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ") for _ in range(4)) + "".join(
            R.choice("0123456789") for _ in range(10)
        )
    elif country == "ES":
        bban = "".join(R.choice("0123456789") for _ in range(20))
    else:
        bban = "".join(R.choice("0123456789") for _ in range(23))
    rearranged = bban + country + "00"
    num = int("".join(str(int(c, 36)) for c in rearranged))
    check = 98 - num % 97
    value = f"{country}{check:02d}{bban}"
    return value, [4] * (len(value) // 4) + ([len(value) % 4] if len(value) % 4 else [])


def ssn():
    while True:
        area = R.randint(1, 899)
        if area != 666:
            break
    return f"{area:03d}{R.randint(1, 99):02d}{R.randint(1, 9999):04d}", [3, 2, 4]


def aba():
    prefix = R.choice(list(range(1, 13)) + list(range(21, 33)) + list(range(61, 73)) + [80])
    while True:
        body = f"{prefix:02d}" + "".join(R.choice("0123456789") for _ in range(6))
        w = [3, 7, 1, 3, 7, 1, 3, 7]
        s = sum(int(d) * x for d, x in zip(body, w))
        return body + str((10 - s % 10) % 10), [4, 4, 1]


def nino():
    first = "ABCEGHJKLMNOPRSTWXYZ"
    second = "ABCEGHJKLMNPRSTWXYZ"
    while True:
        p = R.choice(first) + R.choice(second)
        if p not in ("BG", "GB", "KN", "NK", "NT", "TN", "ZZ"):
            break
    return p + "".join(R.choice("0123456789") for _ in range(6)) + R.choice("ABCD"), [2, 2, 2, 2, 1]


VD = [[0, 1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 2, 3, 4, 0, 6, 7, 8, 9, 5], [2, 3, 4, 0, 1, 7, 8, 9, 5, 6],
      [3, 4, 0, 1, 2, 8, 9, 5, 6, 7], [4, 0, 1, 2, 3, 9, 5, 6, 7, 8], [5, 9, 8, 7, 6, 0, 4, 3, 2, 1],
      [6, 5, 9, 8, 7, 1, 0, 4, 3, 2], [7, 6, 5, 9, 8, 2, 1, 0, 4, 3], [8, 7, 6, 5, 9, 3, 2, 1, 0, 4],
      [9, 8, 7, 6, 5, 4, 3, 2, 1, 0]]
VP = [[0, 1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 5, 7, 6, 2, 8, 3, 0, 9, 4], [5, 8, 0, 3, 7, 9, 6, 1, 4, 2],
      [8, 9, 1, 6, 0, 4, 3, 5, 2, 7], [9, 4, 5, 3, 1, 2, 6, 8, 7, 0], [4, 2, 8, 6, 5, 7, 3, 9, 0, 1],
      [2, 7, 9, 3, 8, 0, 6, 4, 1, 5], [7, 0, 4, 6, 9, 1, 3, 2, 5, 8]]
VINV = [0, 4, 3, 2, 1, 5, 6, 7, 8, 9]


def verhoeff_complete(body):
    c = 0
    for i, d in enumerate(reversed(body)):
        c = VD[c][VP[(i + 1) % 8][int(d)]]
    return body + str(VINV[c])


def aadhaar():
    body = str(R.randint(2, 9)) + "".join(R.choice("0123456789") for _ in range(10))
    return verhoeff_complete(body), [4, 4, 4]


def nhs():
    while True:
        body = "".join(R.choice("0123456789") for _ in range(9))
        s = sum(int(d) * (10 - i) for i, d in enumerate(body))
        c = 11 - s % 11
        if c == 10:
            continue
        return body + str(0 if c == 11 else c), [3, 3, 4]


def sin():
    body = R.choice("1234567") + "".join(R.choice("0123456789") for _ in range(7))
    return luhn_complete(body), [3, 3, 3]


def tfn():
    w = [1, 4, 3, 7, 5, 8, 6, 9, 10]
    while True:
        d = [R.randint(0, 9) for _ in range(9)]
        if sum(a * b for a, b in zip(d, w)) % 11 == 0:
            return "".join(map(str, d)), [3, 3, 3]


KINDS = {
    "credit_card": (card, ["my card is", "card number", "here's the card:", "visa", "the cc is", "use my card"]),
    "iban": (iban, ["IBAN", "my iban is", "transfer to", "account IBAN:", "send it to iban"]),
    "us_ssn": (ssn, ["my SSN is", "ssn:", "social security number", "SSN"]),
    "us_aba_routing": (aba, ["routing number", "ABA", "the routing no is", "wire routing"]),
    "uk_nino": (nino, ["my NI number is", "nino", "national insurance number:", "NI no."]),
    "in_aadhaar": (aadhaar, ["aadhaar", "my aadhar no is", "aadhaar number:"]),
    "uk_nhs": (nhs, ["NHS number", "my nhs no is", "nhs number:"]),
    "ca_sin": (sin, ["SIN", "my sin is", "social insurance number"]),
    "au_tfn": (tfn, ["TFN", "my tax file number is", "tfn:"]),
}


def fmt(value, groups, sep):
    out, i = [], 0
    for g in groups:
        if i >= len(value):
            break
        out.append(value[i:i + g])
        i += g
    if i < len(value):
        out.append(value[i:])
    return sep.join(out)


def split_points(text, parts, middle=False):
    """Cut positions inside `text` so each piece keeps at least one digit; `middle`
    cuts in the middle third, so neither piece is close to a whole value."""
    lo, hi = (len(text) // 3, 2 * len(text) // 3) if middle else (1, len(text))
    for _ in range(200):
        cuts = sorted(R.sample(range(lo, hi), parts - 1))
        pieces = [text[a:b] for a, b in zip([0] + cuts, cuts + [len(text)])]
        if all(any(c.isdigit() for c in p) for p in pieces):
            return [p.strip(" -.") or p for p in pieces]
    return None


TAILS = ["", "", " thanks", ". that's it", " 👍", "!", " - cheers"]
MIDDLE_SUFFIX = ["", "", ",", " -", "..."]


class Writer:
    def __init__(self, path):
        self.f = open(path, "w", encoding="utf-8")
        self.n = 0

    def msg(self, conv, sender, text, at=None, direction="outbound", tenant="", expect=None, mid=None):
        self.n += 1
        m = {"id": mid or f"m{self.n}", "conversation_id": conv, "direction": direction,
             "sender": {"id": sender}, "text": text}
        if tenant:
            m["tenant"] = tenant
        if at is not None:
            m["sent_at"] = at.strftime("%Y-%m-%dT%H:%M:%SZ")
        if expect:
            m["attributes"] = {"expect": expect}
        self.f.write(json.dumps(m, ensure_ascii=False) + "\n")


def positives(w, n):
    kinds = list(KINDS)
    for i in range(n):
        kind = kinds[i % len(kinds)]
        gen, intros = KINDS[kind]
        value, groups = gen()
        sep = R.choice([" ", " ", "-", "", " "]) if kind != "iban" else R.choice([" ", ""])
        if kind == "uk_nino":
            sep = R.choice([" ", ""])
        text = fmt(value, groups, sep)
        parts = R.choice([2, 2, 3, 3, 4])
        pieces = split_points(text, parts)
        if pieces is None:
            continue
        conv = f"pos-{i}"
        sender = R.choice(["agent-1", "agent-2", "client-9", "+447700900123"])
        direction = "outbound" if sender.startswith("agent") else "inbound"
        at = BASE + timedelta(minutes=3 * i) if i % 4 else None
        step = timedelta(seconds=R.randint(2, 25))
        for k, piece in enumerate(pieces):
            last = k == len(pieces) - 1
            if k == 0:
                body = f"{R.choice(intros)} {piece}"
            elif last:
                body = piece + R.choice(TAILS)
            else:
                body = piece + R.choice(MIDDLE_SUFFIX)
            when = at + step * k if at else None
            w.msg(conv, sender, body, when, direction, expect=kind if last else None)


def negatives(w, n):
    kinds = ["credit_card", "iban", "us_ssn", "uk_nino", "credit_card", "credit_card"]
    for i in range(n):
        kind = kinds[i % len(kinds)]
        gen, intros = KINDS[kind]
        value, groups = gen()
        text = fmt(value, groups, " ")
        pieces = split_points(text, 2, middle=True)
        conv = f"neg-{i}"
        at = BASE + timedelta(hours=5, minutes=3 * i)
        case = i % 7
        first = f"{R.choice(intros)} {pieces[0]}"
        if case == 0:
            # The other party sends the next piece.
            w.msg(conv, "agent-1", first, at, "outbound")
            w.msg(conv, "client-9", pieces[1], at + timedelta(seconds=5), "inbound")
        elif case == 1:
            # A gap longer than the window.
            w.msg(conv, "agent-1", first, at)
            w.msg(conv, "agent-1", pieces[1], at + timedelta(seconds=R.randint(125, 900)))
        elif case == 2:
            # Digits inside sentences.
            w.msg(conv, "agent-1", f"I counted {pieces[0]} boxes in the van")
            w.msg(conv, "agent-1", f"and then {pieces[1]} more arrived later")
        elif case == 3:
            # Different conversations.
            w.msg(conv, "agent-1", first, at)
            w.msg(conv + "-other", "agent-1", pieces[1], at + timedelta(seconds=4))
        elif case == 4:
            # A different tenant.
            w.msg(conv, "agent-1", first, at, tenant="acme")
            w.msg(conv, "agent-1", pieces[1], at + timedelta(seconds=4), tenant="globex")
        elif case == 5:
            # Another member of a group chat, same direction.
            w.msg(conv, "agent-1", first, at)
            w.msg(conv, "agent-2", pieces[1], at + timedelta(seconds=3))
        else:
            # A sentence in between breaks the chain.
            w.msg(conv, "agent-1", first, at)
            w.msg(conv, "agent-1", "sorry, one sec, phone is ringing", at + timedelta(seconds=3))
            w.msg(conv, "agent-1", pieces[1], at + timedelta(seconds=9))
    chatter = [
        "see you at 5", "room 12 is free", "ok", "thanks!", "order 1234", "5678 shipped today",
        "meeting moved to 10:30", "call you in 2 min", "2 or 3 people", "we have 4 left",
        "price is 120 EUR", "version 2.3 is out", "ticket 77", "31 items in stock",
    ]
    for i in range(n):
        conv = f"chat-{i % 10}"
        w.msg(conv, "agent-1", R.choice(chatter), BASE + timedelta(hours=8, seconds=7 * i))


def main():
    pos = Writer(os.path.join(HERE, "positives.jsonl"))
    positives(pos, 180)
    neg = Writer(os.path.join(HERE, "negatives.jsonl"))
    negatives(neg, 140)


if __name__ == "__main__":
    main()
