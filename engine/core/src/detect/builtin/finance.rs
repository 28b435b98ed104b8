//! Built-in detectors: payment cards and bank identifiers.

use regex::Regex;

use super::digits::{self, Run};
use crate::detect::validators::{aba, iban_length, iban_mod97, luhn};
use crate::detect::{
    BuiltinDetector, Candidate, Confidence, Detector, Field, Gate, run_lengths, runs_of_at_least,
};

/// The finance detectors.
pub const DETECTORS: &[BuiltinDetector] = &[
    BuiltinDetector {
        id: "credit_card",
        region: "global",
        validator: "luhn",
        joinable: true,
        description: "Payment card number (PAN): 13-19 digits, issuer range and Luhn check",
        gate: Gate::RunLengths(runs_of_at_least(12)),
        keywords: &[
            "card",
            "credit",
            "debit",
            "visa",
            "mastercard",
            "amex",
            "cc",
            "pan",
            "tarjeta",
            "carte",
            "karte",
            "kreditkarte",
            "cartão",
            "cartao",
            "carta",
        ],
        keyword_window: 40,
        requires_keywords: false,
        confidence_with_keywords: Confidence::High,
        examples: &[
            "card 4111 1111 1111 1111 exp 12/27",
            "my amex is 3782-822463-10005",
            "4１１１\u{200b}1111\u{200b}1111\u{200b}1111",
            "pay with 5 5 0 0 0 0 5 5 5 5 5 5 5 5 5 9 please",
        ],
        negative_examples: &[
            "order 4111 1111 1111 1112 ships today",
            "tracking 9400 5597 9711 4710 4974 65",
            "invoice TXN4111111111111111",
        ],
        build: || Box::new(CreditCard),
    },
    BuiltinDetector {
        id: "iban",
        region: "global",
        validator: "mod97",
        joinable: true,
        description: "International bank account number: country length and mod-97 check",
        gate: Gate::MinDigits(4),
        keywords: &[
            "iban", "account", "konto", "compte", "cuenta", "conto", "rekening", "transfer", "virement",
        ],
        keyword_window: 40,
        requires_keywords: false,
        confidence_with_keywords: Confidence::High,
        examples: &[
            "IBAN DE89 3704 0044 0532 0130 00 please",
            "send it to GB82WEST12345698765432",
            "CH93 - 0076 - 2011 - 6238 - 5295 - 7",
        ],
        negative_examples: &[
            "IBAN DE88 3704 0044 0532 0130 00",
            "ref DE89370400440532013",
            "version GB82 is out",
        ],
        build: || Box::new(Iban),
    },
    BuiltinDetector {
        id: "swift_bic",
        region: "global",
        validator: "",
        joinable: false,
        description: "SWIFT / BIC bank identifier code (needs context)",
        gate: Gate::Keywords,
        keywords: &[
            "swift",
            "bic",
            "bank code",
            "swift code",
            "bic code",
            "sort/bic",
            "code swift",
            "código swift",
        ],
        keyword_window: 30,
        requires_keywords: true,
        confidence_with_keywords: Confidence::High,
        examples: &["SWIFT code DEUTDEFF for the wire", "BIC: BNPAFRPPXXX", "swift CHASUS33"],
        negative_examples: &["PLEASE CALL ME", "swift reply please, THANKS", "BIC: ABCDXX12"],
        build: || Box::new(SwiftBic::new()),
    },
    BuiltinDetector {
        id: "us_aba_routing",
        region: "us",
        validator: "aba",
        joinable: true,
        description: "US ABA routing transit number: checksum and Federal Reserve prefix (needs context)",
        gate: Gate::RunLengths(run_lengths(&[9])),
        keywords: &[
            "aba",
            "routing",
            "rtn",
            "routing number",
            "transit",
            "ach",
            "fedwire",
            "wire",
            "bank routing",
        ],
        keyword_window: 40,
        requires_keywords: true,
        confidence_with_keywords: Confidence::High,
        examples: &[
            "ABA 011000015 for the wire",
            "routing no 0210-0002-1",
            "The routing number is 0 2 1 0 0 0 0 2 1",
        ],
        negative_examples: &["ABA 011000016 for the wire", "order 011000015", "routing account 12345"],
        build: || Box::new(AbaRouting),
    },
    BuiltinDetector {
        id: "us_bank_account",
        region: "us",
        validator: "",
        joinable: false,
        description: "US bank account number: 8-17 digits next to account words",
        gate: Gate::RunLengths(run_lengths(&[8, 9, 10, 11, 12, 13, 14, 15, 16, 17])),
        keywords: &[
            "account",
            "acct",
            "a/c",
            "checking",
            "savings",
            "account number",
            "acct no",
            "acc no",
            "bank account",
            "cuenta",
            "compte",
            "konto",
        ],
        keyword_window: 30,
        requires_keywords: true,
        confidence_with_keywords: Confidence::High,
        examples: &[
            "My checking account number is 41815908301661",
            "wire to account 60805096335001, ABA 046700014",
            "acct 1848096593 please",
        ],
        negative_examples: &[
            "order 41815908301661 shipped",
            "account 4111 1111 1111 1111",
            "account call +1 415 555 2671",
        ],
        build: || Box::new(BankAccount),
    },
    BuiltinDetector {
        id: "uk_sort_code",
        region: "uk",
        validator: "",
        joinable: false,
        description: "UK bank sort code NN-NN-NN (needs context)",
        gate: Gate::Keywords,
        keywords: &["sort code", "sortcode", "sort-code", "sort"],
        keyword_window: 30,
        requires_keywords: true,
        confidence_with_keywords: Confidence::High,
        examples: &["sort code 20-00-00 account 55779911", "Sort code: 40 47 84", "sortcode 309634"],
        negative_examples: &["on 20-00-00 we met", "sort code 2000", "sort by 12-12-2024"],
        build: || Box::new(SortCode),
    },
];

fn card_prefix_ok(d: &str) -> bool {
    let n = d.len();
    let p = |k: usize| d.get(..k).and_then(|s| s.parse::<u32>().ok()).unwrap_or(0);
    // Twelve digits: only Maestro issues such short numbers.
    if n == 12 {
        return matches!(p(2), 50 | 56..=58) || matches!(p(4), 6304 | 6759 | 6761..=6763);
    }
    match d.as_bytes().first() {
        Some(b'4') => matches!(n, 13 | 16 | 19),
        Some(b'5') => {
            (51..=55).contains(&p(2)) && n == 16 || matches!(p(2), 50 | 56..=58) && (12..=19).contains(&n)
        }
        Some(b'2') => ((2221..=2720).contains(&p(4)) || (2200..=2204).contains(&p(4))) && n == 16,
        Some(b'3') => {
            (matches!(p(2), 34 | 37) && n == 15)
                || ((3528..=3589).contains(&p(4)) && (16..=19).contains(&n))
                || ((300..=305).contains(&p(3)) || matches!(p(2), 36 | 38 | 39)) && (14..=19).contains(&n)
        }
        Some(b'6') => {
            (16..=19).contains(&n) || (12..=19).contains(&n) && matches!(p(4), 6304 | 6759 | 6761..=6763)
        }
        Some(b'8') => matches!(p(2), 81 | 82) && (16..=19).contains(&n),
        _ => false,
    }
}

fn is_card(d: &str) -> bool {
    let b = d.as_bytes();
    (12..=19).contains(&b.len()) && !b.iter().all(|&x| x == b[0]) && card_prefix_ok(d) && luhn(d)
}

/// Payment cards over digit runs, also inside longer runs at group boundaries.
struct CreditCard;

/// Splits digits `[a, n)` of a run into consecutive cards that each start and end on a
/// group boundary; `None` when some digits would be left over.
fn tile_cards(run: &Run, a: usize, n: usize, tiles: &mut Vec<(usize, usize)>) -> bool {
    if a == n {
        return true;
    }
    for b in (a + 12..=(a + 19).min(n)).rev() {
        if run.boundary(b) && card_layout(run, a, b) && is_card(run.digit_str(a, b)) {
            tiles.push((a, b));
            if tile_cards(run, b, n, tiles) {
                return true;
            }
            tiles.pop();
        }
    }
    false
}

impl CreditCard {
    /// Whether the run is one uniformly separated group (`5861-3064-9567-5030`, or two
    /// cards `4111 1111 1111 1111 5500 ...`): same group size, same separator throughout.
    fn uniform(text: &str, run: &Run, n: usize) -> bool {
        let g = run.groups(0, n);
        if g.len() < 2 || g.iter().any(|&x| x != g[0]) {
            return false;
        }
        let b = text.as_bytes();
        let seps: Vec<&[u8]> = (1..n)
            .filter(|&i| run.boundary(i))
            .map(|i| &b[run.pos[i - 1] as usize + 1..run.pos[i] as usize])
            .collect();
        seps.windows(2).all(|w| w[0] == w[1])
    }

    fn find_in(text: &str, run: &Run, out: &mut Vec<Candidate>) {
        if run.attached {
            return;
        }
        let n = run.len.min(digits::MAX_DIGITS);
        let mut push = |a: usize, b: usize| {
            let (s, e) = run.span(a, b);
            out.push(Candidate { start: s, end: e, confidence: Confidence::Medium });
        };
        if (12..=19).contains(&run.len) && card_layout(run, 0, n) && is_card(run.all()) {
            push(0, n);
            return;
        }
        // A uniformly separated group is cards end to end, or a card followed by one more
        // group in the same layout (`4111 1111 1111 1111 1227`), or nothing: never a short
        // card inside a longer group (`5861-3064-9567-5030` holds no 12-digit card).
        if Self::uniform(text, run, n) {
            let mut tiles = Vec::new();
            if tile_cards(run, 0, n, &mut tiles) {
                for (a, b) in tiles {
                    push(a, b);
                }
            } else if let Some(b) = (15..=19.min(n - 1))
                .rev()
                .find(|&b| run.boundary(b) && card_layout(run, 0, b) && is_card(run.digit_str(0, b)))
            {
                push(0, b);
            }
            return;
        }
        // Cards among other digits (a stray digit before, an expiry and CVV after,
        // another card): windows that start and end on group boundaries and are laid out
        // like a card themselves; an unbroken one must stand apart from the other digits
        // by a space (`4111111111111111 12/27`, not `123-4111111111111111-12`).
        let apart = |a: usize, b: usize| {
            (a + 1..b).any(|i| run.boundary(i))
                || [a, b].iter().filter(|&&i| i > 0 && i < n).all(|&i| {
                    text.as_bytes()[run.pos[i - 1] as usize + 1..run.pos[i] as usize].contains(&b' ')
                })
        };
        let mut a = 0;
        while a + 12 <= n {
            let found = if run.boundary(a) {
                (a + 12..=(a + 19).min(n)).rev().find(|&b| {
                    run.boundary(b) && card_layout(run, a, b) && apart(a, b) && is_card(run.digit_str(a, b))
                })
            } else {
                None
            };
            match found {
                Some(b) => {
                    push(a, b);
                    a = b;
                }
                None => a += 1,
            }
        }
    }
}

/// Whether digits `[a, b)` of a run are written like a card: unbroken, in groups that
/// start with four digits (4-4-4-4, 4-6-5), or one digit at a time. Order numbers such
/// as 123-4567890-1234567 are not.
fn card_layout(run: &Run, a: usize, b: usize) -> bool {
    let g = run.groups(a, b);
    g.len() == 1 || g[0] == 4 || g.iter().all(|&x| x == 1)
}

impl Detector for CreditCard {
    fn find_in_field(&self, field: &Field<'_>, out: &mut Vec<Candidate>) {
        let text = field.text();
        let runs = field.runs();
        for run in runs {
            if run.len >= 12
                && !digits::follows_code(text, run.start, &["PAN", "CC", "CARD", "VISA", "AMEX", "MC", "JCB"])
            {
                Self::find_in(text, run, out);
            }
        }
    }
}

/// IBANs written compact, grouped, spaced out or with odd separators.
struct Iban;

impl Detector for Iban {
    fn find(&self, text: &str, out: &mut Vec<Candidate>) {
        let b = text.as_bytes();
        let mut i = 0;
        while i + 1 < b.len() {
            let starts_word = i == 0 || !b[i - 1].is_ascii_alphanumeric();
            if !(starts_word && b[i].is_ascii_alphabetic()) {
                i += 1;
                continue;
            }
            if let Some(end) = iban_at(b, i)
                && iban_mod97(&text[i..end])
            {
                out.push(Candidate { start: i, end, confidence: Confidence::Medium });
                i = end;
                continue;
            }
            i += 1;
        }
    }
}

/// Collects the alphanumerics of an IBAN starting at `i`, skipping separator groups of
/// at most three characters, and stops at the country's length. Returns the end byte.
fn iban_at(b: &[u8], i: usize) -> Option<usize> {
    let mut chars = [0u8; 34];
    let mut n = 0;
    let mut j = i;
    let mut expected = 34;
    let mut end = i;
    while j < b.len() && n < expected {
        let c = b[j];
        if c.is_ascii_alphanumeric() {
            chars[n] = c.to_ascii_uppercase();
            n += 1;
            j += 1;
            end = j;
            if n == 2 {
                if !(chars[0].is_ascii_alphabetic() && chars[1].is_ascii_alphabetic()) {
                    return None;
                }
                expected = iban_length(std::str::from_utf8(&chars[..2]).ok()?)?;
            }
            if (n == 3 || n == 4) && !chars[n - 1].is_ascii_digit() {
                return None;
            }
            continue;
        }
        let mut k = j;
        while k < b.len() && k - j < 3 && matches!(b[k], b' ' | b'-' | b'.' | b'_' | b'/') {
            k += 1;
        }
        if k == j || k >= b.len() || !b[k].is_ascii_alphanumeric() {
            break;
        }
        j = k;
    }
    // The IBAN must end where its token ends.
    if n != expected || b.get(end).is_some_and(|c| c.is_ascii_alphanumeric()) {
        return None;
    }
    Some(end)
}

/// ISO 3166 country codes, for BIC positions 5-6.
const COUNTRIES: &str = "AD AE AF AG AI AL AM AO AR AS AT AU AW AZ BA BB BD BE BF BG BH BI BJ BM BN BO BR BS BT BW BY BZ CA CD CF CG CH CI CK CL CM CN CO CR CU CV CW CY CZ DE DJ DK DM DO DZ EC EE EG ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GT GU GW GY HK HN HR HT HU ID IE IL IM IN IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE NG NI NL NO NP NR NZ OM PA PE PF PG PH PK PL PM PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TG TH TJ TL TM TN TO TR TT TV TW TZ UA UG US UY UZ VA VC VE VG VI VN VU WS XK YE ZA ZM ZW";

struct SwiftBic {
    re: Regex,
}

impl SwiftBic {
    fn new() -> Self {
        Self {
            re: Regex::new(r"(?-u:\b)[A-Z]{4}[A-Z]{2}[A-Z0-9]{2}(?:[A-Z0-9]{3})?(?-u:\b)")
                .expect("static regex"),
        }
    }
}

impl Detector for SwiftBic {
    fn find(&self, text: &str, out: &mut Vec<Candidate>) {
        for m in self.re.find_iter(text) {
            let v = m.as_str();
            let country = &v[4..6];
            if COUNTRIES.split(' ').any(|c| c == country) {
                out.push(Candidate { start: m.start(), end: m.end(), confidence: Confidence::Medium });
            }
        }
    }
}

/// Routing words whose presence right before a number makes it a routing number.
const ROUTING_WORDS: &[&str] = &["aba", "routing", "rtn", "transit", "fedwire", "ach"];
/// Account words whose presence right before a number makes it an account number.
const ACCOUNT_WORDS: &[&str] =
    &["account", "acct", "a/c", "checking", "savings", "konto", "cuenta", "compte"];

fn aba_prefix_ok(d: &str) -> bool {
    matches!(d.get(..2).and_then(|p| p.parse::<u32>().ok()), Some(0..=12 | 21..=32 | 61..=72 | 80))
}

struct AbaRouting;

impl Detector for AbaRouting {
    fn find_in_field(&self, field: &Field<'_>, out: &mut Vec<Candidate>) {
        let text = field.text();
        let runs = field.runs();
        for run in runs {
            if run.len != 9 || run.attached {
                continue;
            }
            let d = run.all();
            if !aba(d) || !aba_prefix_ok(d) {
                continue;
            }
            // The nearest label decides: "account 0110..." is an account number.
            let before = digits::floor_boundary(text, run.start.saturating_sub(14));
            if field.has_word(before, run.start, ACCOUNT_WORDS)
                && !field.has_word(before, run.start, ROUTING_WORDS)
            {
                continue;
            }
            let (s, e) = run.span(0, 9);
            out.push(Candidate { start: s, end: e, confidence: Confidence::Medium });
        }
    }
}

struct BankAccount;

impl Detector for BankAccount {
    fn find_in_field(&self, field: &Field<'_>, out: &mut Vec<Candidate>) {
        let text = field.text();
        let runs = field.runs();
        for run in runs {
            if !(8..=17).contains(&run.len)
                || run.attached
                || run.plus
                || digits::follows_code(text, run.start, &["ACCT", "AC", "NO", "NR"])
            {
                continue;
            }
            let d = run.all();
            if is_card(d) || run.groups(0, run.len).len() > 3 {
                continue;
            }
            // A number labelled as something else right before it belongs to that label.
            let before = digits::floor_boundary(text, run.start.saturating_sub(16));
            if field.has_word(
                before,
                run.start,
                &[
                    "aba", "routing", "rtn", "ssn", "card", "phone", "tel", "call", "mobile", "iban",
                    "order", "invoice",
                ],
            ) && !field.has_word(before, run.start, ACCOUNT_WORDS)
            {
                continue;
            }
            let (s, e) = run.span(0, run.len);
            out.push(Candidate { start: s, end: e, confidence: Confidence::Medium });
        }
    }
}

struct SortCode;

impl Detector for SortCode {
    fn find_in_field(&self, field: &Field<'_>, out: &mut Vec<Candidate>) {
        let runs = field.runs();
        for run in runs {
            if run.len != 6 || run.attached {
                continue;
            }
            let g = run.groups(0, 6);
            if g == [2, 2, 2] || g == [6] {
                let (s, e) = run.span(0, 6);
                out.push(Candidate { start: s, end: e, confidence: Confidence::Medium });
            }
        }
    }
}
