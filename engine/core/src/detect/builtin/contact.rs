//! Built-in detectors: contact details.

use std::net::{Ipv4Addr, Ipv6Addr};
use std::sync::LazyLock;

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};

use phonenumber::country::Id;
use regex::Regex;

use super::digits;
use crate::detect::{BuiltinDetector, Candidate, Confidence, Detector, Field, Gate, run_lengths};

/// Regex cache entries for the numbering plans: more than the database holds.
const PHONE_REGEX_CACHE: usize = 20_000;

/// Words that make a bare national-format number a phone number.
const PHONE_WORDS: &[&str] = &[
    "call",
    "phone",
    "tel",
    "mobile",
    "cell",
    "whatsapp",
    "number",
    "contact",
    "reach",
    "ring",
    "text me",
    "sms",
    "fax",
    "teléfono",
    "telefono",
    "telefone",
    "numéro",
    "numero",
    "nummer",
    "handy",
    "celular",
    "móvil",
    "ligue",
    "llama",
    "appelle",
];

/// The contact detectors.
pub const DETECTORS: &[BuiltinDetector] = &[
    BuiltinDetector {
        id: "email",
        region: "global",
        validator: "",
        joinable: false,
        description: "Email address",
        gate: Gate::AnyByte(b"@"),
        keywords: &["email", "e-mail", "mail", "correo", "courriel"],
        keyword_window: 40,
        requires_keywords: false,
        confidence_with_keywords: Confidence::High,
        examples: &[
            "Contact khanrhys@example.net today",
            "write to OWILMS@EXAMPLE.NET",
            "kristina66+2024@example.co.uk",
        ],
        negative_examples: &["meet @ 5pm", "user@localhost", "price: 5 @ $3.00"],
        build: || Box::new(Email::new()),
    },
    BuiltinDetector {
        id: "phone",
        region: "global",
        validator: "numbering_plan",
        joinable: false,
        description: "Phone number, validated against real numbering plans",
        gate: Gate::RunLengths(run_lengths(&[7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17])),
        keywords: &["call", "phone", "tel", "mobile", "cell", "whatsapp", "number", "contact", "sms"],
        keyword_window: 40,
        requires_keywords: false,
        confidence_with_keywords: Confidence::High,
        examples: &[
            "new number +54 9 11 4981-2971",
            "call me on +44 20 7946 0958",
            "Teléfono: 0057 313 1677232",
        ],
        negative_examples: &[
            "order 4111 1111 1111 1111",
            "tracking 9400 5597 9711 4710",
            "total 12,345,678.90",
        ],
        build: || {
            // phonenumber compiles its numbering-plan regexes lazily into a shared LRU of
            // 100 entries; numbers from many countries thrash it and recompile regexes on
            // the hot path (2 ms per phone-heavy message measured). A cache larger than the
            // whole plan database keeps every regex once compiled.
            if let Ok(mut cache) = phonenumber::metadata::DATABASE.cache().lock() {
                *cache = regex_cache::RegexCache::new(PHONE_REGEX_CACHE);
            }
            let _ = valid_international("14155552671");
            Box::new(Phone)
        },
    },
    BuiltinDetector {
        id: "ip_address",
        region: "global",
        validator: "",
        joinable: false,
        description: "IPv4 or IPv6 address",
        gate: Gate::AnyByte(b".:"),
        keywords: &["ip address", "ip addr", "server", "host"],
        keyword_window: 30,
        requires_keywords: false,
        confidence_with_keywords: Confidence::High,
        examples: &["server at 10.24.3.201 is down", "ping 2001:db8:85a3::8a2e:370:7334", "IP 192.168.1.1"],
        negative_examples: &["release v6.4.62", "version 1.2.3", "ip 300.1.2.3"],
        build: || Box::new(IpAddress::new()),
    },
];

struct Email {
    re: Regex,
}

impl Email {
    fn new() -> Self {
        Self {
            re: Regex::new(r"[A-Za-z0-9](?:[A-Za-z0-9._%+-]{0,63})@[A-Za-z0-9](?:[A-Za-z0-9-]{0,62})(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}))*\.[A-Za-z]{2,24}(?-u:\b)")
                .expect("static regex"),
        }
    }
}

impl Detector for Email {
    fn find(&self, text: &str, out: &mut Vec<Candidate>) {
        for m in self.re.find_iter(text) {
            out.push(Candidate { start: m.start(), end: m.end(), confidence: Confidence::Medium });
        }
    }
}

/// Regions tried for numbers written without a country code.
const NATIONAL_REGIONS: &[Id] =
    &[Id::US, Id::GB, Id::IN, Id::AU, Id::DE, Id::FR, Id::BR, Id::MX, Id::ES, Id::IT];

fn valid_international(digits: &str) -> bool {
    if !(8..=15).contains(&digits.len()) {
        return false;
    }
    phonenumber::parse(None, format!("+{digits}")).is_ok_and(|n| phonenumber::is_valid(&n))
}

fn valid_national(digits: &str) -> bool {
    (7..=12).contains(&digits.len())
        && NATIONAL_REGIONS
            .iter()
            .any(|&r| phonenumber::parse(Some(r), digits).is_ok_and(|n| phonenumber::is_valid(&n)))
}

/// Labels of identifiers that are not phone numbers.
const OTHER_LABELS: &[&str] = &[
    "routing",
    "aba",
    "rtn",
    "ssn",
    "social security",
    "passport",
    "account",
    "acct",
    "iban",
    "card",
    "order",
    "invoice",
    "tracking",
    "ref",
    "itin",
    "sin",
    "nhs",
    "tfn",
    "aadhaar",
    "pan",
];

/// True when the word right before `at` is a code in capitals or mixed letters and
/// digits (an IBAN group, `SSN`), which makes the following digits part of that code.
fn previous_token_is_code(text: &str, at: usize) -> bool {
    let before = text[..at].trim_end_matches([' ', '-', '.', ':', '#']);
    let token: &str = before.rsplit(|c: char| !c.is_ascii_alphanumeric()).next().unwrap_or("");
    token.len() >= 2
        && token.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
        && !matches!(token, "TEL" | "PHONE" | "MOB" | "CALL" | "WA" | "SMS" | "FAX" | "NEW" | "CELL")
}

/// Phone words that name any number, not a phone number in particular.
const GENERIC_NUMBER_WORDS: &[&str] = &["number", "numéro", "numero", "nummer", "contact", "reach"];

/// [`PHONE_WORDS`] that name a phone in particular (all but [`GENERIC_NUMBER_WORDS`]).
static SPECIFIC_PHONE_WORDS: LazyLock<Vec<&'static str>> =
    LazyLock::new(|| PHONE_WORDS.iter().copied().filter(|w| !GENERIC_NUMBER_WORDS.contains(w)).collect());

/// The context words of every other built-in detector (`passport`, `ach`, `numéro de
/// passeport`, `steuer-id`, …), minus the phone's own: one of them before a bare number
/// claims it for that detector.
static FOREIGN_WORDS: LazyLock<Option<AhoCorasick>> = LazyLock::new(|| {
    let words: Vec<&str> = super::all()
        .filter(|d| d.id != "phone")
        .flat_map(|d| d.keywords.iter().copied())
        .filter(|w| w.len() >= 3 && !PHONE_WORDS.contains(w))
        .collect();
    AhoCorasickBuilder::new()
        .ascii_case_insensitive(true)
        .match_kind(MatchKind::LeftmostLongest)
        .build(words)
        .ok()
});

/// Whether another detector's context word stands in `text[from..to]` as a whole word.
fn foreign_word(text: &str, from: usize, to: usize) -> bool {
    let Some(ac) = FOREIGN_WORDS.as_ref() else { return false };
    let bytes = text.as_bytes();
    ac.find_iter(&bytes[from..to])
        .any(|m| crate::detect::context::is_word_boundary(bytes, from + m.start(), from + m.end()))
}

struct Phone;

impl Detector for Phone {
    fn find_in_field(&self, field: &Field<'_>, out: &mut Vec<Candidate>) {
        let text = field.text();
        let runs = field.runs();
        for run in runs {
            if run.len < 7 || run.len > 17 || run.attached {
                continue;
            }
            let d = run.all();
            let (s, e) = run.span(0, run.len);
            let from = digits::floor_boundary(text, s.saturating_sub(40));
            let near = digits::floor_boundary(text, s.saturating_sub(24));
            let after = digits::ceil_boundary(text, e + 40);
            // A number right after another identifier's label is that identifier.
            let other = field.has_word(near, s, OTHER_LABELS) || previous_token_is_code(text, s);
            let labelled =
                !other && (field.has_word(from, s, PHONE_WORDS) || field.has_word(e, after, PHONE_WORDS));
            let g = run.groups(0, run.len);
            let date_like = run.len == 8 && matches!(g.as_slice(), [4, 2, 2] | [2, 2, 4] | [1 | 2, 1 | 2, 4]);
            if date_like {
                continue;
            }
            let ok = if run.plus {
                valid_international(d)
            } else if let Some(rest) = d.strip_prefix("00") {
                valid_international(rest)
            } else if labelled {
                // Long unbroken digit strings are references more often than phones.
                if g.len() == 1 && run.len > 11 { false } else { valid_national(d) || valid_international(d) }
            } else if other {
                false
            } else {
                // An unlabelled national number needs a phone's shape: parentheses, or a
                // few groups with separators.
                let groups = run.groups(0, run.len).len();
                let paren = text[..s].ends_with('(');
                (paren || (2..=4).contains(&groups)) && (10..=11).contains(&run.len) && valid_national(d)
            };
            if ok {
                let start =
                    if run.plus { text[..s].rfind('+').filter(|&p| s - p <= 2).unwrap_or(s) } else { s };
                let start = if text[..start].ends_with('(') { start - 1 } else { start };
                // Another detector's word before the number (`numéro de passeport`, `the
                // account number for the ACH is`) with no word that names a phone in
                // particular: the number is that detector's, and a bare national phone
                // candidate is dropped (not lowered: the phone's own keyword `number` would
                // raise a low candidate again).
                let international = run.plus || d.starts_with("00");
                if !international
                    && foreign_word(text, from, s)
                    && !field.has_word(from, s, &SPECIFIC_PHONE_WORDS)
                    && !field.has_word(e, after, &SPECIFIC_PHONE_WORDS)
                {
                    continue;
                }
                out.push(Candidate { start, end: e, confidence: Confidence::Medium });
            }
        }
    }
}

struct IpAddress {
    v4: Regex,
    v6: Regex,
}

impl IpAddress {
    fn new() -> Self {
        Self {
            v4: Regex::new(r"(?-u:\b)\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}(?-u:\b)").expect("static regex"),
            v6: Regex::new(r"(?i)(?-u:\b)[0-9a-f]{0,4}(?::[0-9a-f]{0,4}){2,7}(?-u:\b)")
                .expect("static regex"),
        }
    }
}

impl Detector for IpAddress {
    fn find(&self, text: &str, out: &mut Vec<Candidate>) {
        let b = text.as_bytes();
        for m in self.v4.find_iter(text) {
            let before = m.start().checked_sub(1).map(|i| b[i]);
            let after = b.get(m.end()).copied();
            // Part of a longer dotted sequence, or a version string like v1.2.3.4.
            if matches!(before, Some(b'.' | b'v' | b'V'))
                || (after == Some(b'.') && b.get(m.end() + 1).is_some_and(u8::is_ascii_digit))
            {
                continue;
            }
            if m.as_str().parse::<Ipv4Addr>().is_ok() {
                out.push(Candidate { start: m.start(), end: m.end(), confidence: Confidence::Medium });
            }
        }
        for m in self.v6.find_iter(text) {
            let v = m.as_str();
            if v.matches(':').count() >= 2
                && v.len() >= 6
                && v.parse::<Ipv6Addr>().is_ok()
                && v.chars().any(|c| c.is_ascii_alphanumeric())
            {
                // Times like 10:30:00 parse as nothing; bare `::1`-style loopbacks are kept.
                out.push(Candidate { start: m.start(), end: m.end(), confidence: Confidence::Medium });
            }
        }
    }
}
