//! Built-in detectors: payment card data beyond the number (magnetic-stripe tracks,
//! expiry and security code) and cheque MICR lines (docs/notes/detector-breadth.md §1f).
//! The card PIN detector (`card_pin`, §1k) lives with the messaging detectors.

use regex::Regex;

use super::token::{TokenMatcher, near};
use crate::detect::validators::{aba, luhn};
use crate::detect::{BuiltinDetector, Candidate, Confidence, Detector, Gate};

/// Words around card data (Purview's card security and expiration term lists, abridged).
const CARD_WORDS: &[&str] = &[
    "card",
    "cvv",
    "cvc",
    "cv2",
    "csc",
    "security code",
    "exp ",
    "exp:",
    "exp.",
    "exp/",
    "expiry",
    "expires",
    "valid thru",
    "valid until",
    "good thru",
    "vencimiento",
    "validade",
    "gültig bis",
    "gultig bis",
    "scadenza",
    "date de validité",
    "expiration",
    "tarjeta",
    "cartão",
    "cartao",
    "carte",
    "karte",
    "carta",
    "visa",
    "mastercard",
    "amex",
];

/// The card-data detectors.
pub const DETECTORS: &[BuiltinDetector] = &[
    BuiltinDetector {
        id: "card_track_data",
        description: "Magnetic-stripe track 1 or track 2 data (ISO/IEC 7813) with a Luhn-valid card number",
        region: "global",
        validator: "luhn",
        joinable: false,
        gate: Gate::AnyByte(b"^="),
        keywords: &["track", "swipe", "magstripe", "dump", "track1", "track2"],
        keyword_window: 40,
        requires_keywords: false,
        confidence_with_keywords: Confidence::High,
        examples: &[
            "%B4111111111111111^DOE/JOHN^2512101000000000000?",
            "track2 ;4111111111111111=25121011234567890?",
            "dump: 5500005555555559=27061010000012300000",
        ],
        negative_examples: &[
            "%B4111111111111112^DOE/JOHN^2512101000000000000?",
            ";4111111111111111=25131011234567890?",
            "x=4111111111111111",
        ],
        build: || {
            Box::new(TokenMatcher::new(
                r"(%?B[0-9]{12,19}\^[A-Za-z0-9 /.'-]{2,26}\^[0-9]{7}[0-9A-Za-z ]{0,79}\??|;?[0-9]{12,19}=[0-9]{7}[0-9]{0,32}\??)",
                check_track,
            ))
        },
    },
    BuiltinDetector {
        id: "card_expiry_cvv",
        description: "Card expiry date or security code (CVV/CVC) next to a card number or card words",
        region: "global",
        validator: "",
        joinable: false,
        gate: Gate::MinDigits(3),
        keywords: &[
            "cvv",
            "cvc",
            "cvv2",
            "cvc2",
            "security code",
            "card verification",
            "código de segurança",
            "código de seguridad",
            "numéro de sécurité",
            "cryptogramme",
            "prüfziffer",
            "prüfnummer",
            "codice di sicurezza",
            "exp",
            "expiry",
            "expires",
            "valid thru",
            "vencimiento",
            "validade",
            "gültig bis",
            "data di scadenza",
            "date de validité",
            "date d'expiration",
        ],
        keyword_window: 40,
        requires_keywords: false,
        confidence_with_keywords: Confidence::High,
        examples: &[
            "card 4111 1111 1111 1111 exp 12/27 cvv 123",
            "4111111111111111 12/27 123",
            "CVV: 737",
            "validade 08/2029, código de segurança 4821",
        ],
        negative_examples: &[
            "meeting on 12/27 at noon",
            "invoice 123 due 12/05/2027",
            "cvv is required at checkout",
            "order 4111 1111 1111 1112 12/27 123",
        ],
        build: || Box::new(ExpiryCvv::new()),
    },
    BuiltinDetector {
        id: "micr_line",
        description: "Cheque MICR line: ABA routing number between transit symbols, then the account number",
        region: "us",
        validator: "aba",
        joinable: false,
        gate: Gate::MinDigits(13),
        keywords: &["micr", "cheque", "check", "routing", "account", "void"],
        keyword_window: 60,
        requires_keywords: false,
        confidence_with_keywords: Confidence::High,
        examples: &[
            "⑆021000021⑆ 123456789⑈ 0101",
            "bottom of the check: T021000021T 4567890123O 1234",
            "MICR: :121000358: 0123456789⑈0456",
        ],
        negative_examples: &[
            "⑆021000022⑆ 123456789⑈ 0101",
            "T021000021 4567890123",
            "ref 021000021 123456789",
        ],
        build: || {
            Box::new(TokenMatcher::new(
                r"(?:[⑆:]|(?-u:\b)[TA])\s?[0-9]{9}\s?(?:[⑆:]|[TA](?-u:\b))\s{0,3}[0-9][0-9 -]{2,18}[0-9]\s?(?:[⑈⑉]|[OUC](?-u:\b))",
                check_micr,
            ))
        },
    },
];

fn check_track(text: &str, s: usize, e: usize) -> Option<Confidence> {
    let v = &text[s..e];
    let body = v.trim_start_matches(['%', ';', 'B']);
    let (pan, rest) = if v.contains('^') {
        let mut it = body.splitn(3, '^');
        let pan = it.next()?;
        let _name = it.next()?;
        (pan, it.next()?)
    } else {
        body.split_once('=')?
    };
    let month = rest.get(2..4)?.parse::<u32>().ok()?;
    if !(1..=12).contains(&month) || !luhn(pan) || !(12..=19).contains(&pan.len()) {
        return None;
    }
    // A bare `PAN=YYMM...` needs a sentinel, discretionary data or a word to be a track.
    let framed = v.starts_with(';') || v.starts_with('%') || v.ends_with('?');
    if !framed && rest.len() < 12 && !near(text, s, e, 40, &["track", "dump", "swipe", "magstripe"]) {
        return None;
    }
    Some(Confidence::High)
}

fn check_micr(text: &str, s: usize, e: usize) -> Option<Confidence> {
    // The routing number is the first nine digits, between the transit symbols.
    let v = &text[s..e];
    let from = v.find(|c: char| c.is_ascii_digit())?;
    aba(v.get(from..from + 9)?).then_some(Confidence::Medium)
}

/// Expiry dates and security codes; each needs a card number or card words nearby.
struct ExpiryCvv {
    expiry: Regex,
    cvv: Regex,
    pan: Regex,
}

impl ExpiryCvv {
    fn new() -> Self {
        Self {
            expiry: Regex::new(r"(?-u:\b)(0?[1-9]|1[0-2]) ?[/-] ?(20[0-9]{2}|[0-9]{2})(?-u:\b)").expect("static regex"),
            cvv: Regex::new(
                r"(?i)(?-u:\b)(?:cvv2?|cvc2?|cv2|csc|cid|security code|card verification(?: value| code)?|c[óo]digo de seguran[çc]a|c[óo]digo de seguridad|num[ée]ro de s[ée]curit[ée]|cryptogramme(?: visuel)?|pr[üu]fziffer|pr[üu]fnummer|kartenpr[üu]fnummer|codice di sicurezza)\s*(?:no\.?|number|code)?\s*(?:is|es|é|est|ist|è|:|=|-|#)?\s*(?:is\s*)?([0-9]{3,4})(?-u:\b)",
            )
            .expect("static regex"),
            pan: Regex::new(r"(?-u:\b)[0-9](?:[ -]?[0-9]){12,18}(?-u:\b)").expect("static regex"),
        }
    }

    /// A Luhn-valid card number ends at most 40 bytes before `at`, or starts at most 40 after.
    fn pan_near(&self, text: &str, at: usize) -> bool {
        let lo = super::digits::floor_boundary(text, at.saturating_sub(60));
        let hi = super::digits::ceil_boundary(text, (at + 60).min(text.len()));
        // The run may run on into the expiry (`4111… 12/27`): try the prefixes that end
        // at a separator too.
        self.pan.find_iter(&text[lo..hi]).any(|m| {
            let run = m.as_str();
            luhn(run)
                || run.char_indices().filter(|&(_, c)| c == ' ' || c == '-').any(|(i, _)| {
                    let n = run[..i].bytes().filter(u8::is_ascii_digit).count();
                    (13..=19).contains(&n) && luhn(&run[..i])
                })
        })
    }
}

impl Detector for ExpiryCvv {
    fn find(&self, text: &str, out: &mut Vec<Candidate>) {
        let b = text.as_bytes();
        for c in self.cvv.captures_iter(text) {
            if let Some(v) = c.get(1) {
                out.push(Candidate { start: v.start(), end: v.end(), confidence: Confidence::High });
            }
        }
        for c in self.expiry.captures_iter(text) {
            let (Some(m), Some(y)) = (c.get(0), c.get(2)) else { continue };
            // Part of a full date (12/05/2027) or a longer number: not an expiry.
            let glued_before = m.start() > 0 && matches!(b[m.start() - 1], b'/' | b'-' | b'.' | b'0'..=b'9');
            let glued_after = b.get(m.end()).is_some_and(|&x| matches!(x, b'/' | b'-' | b'.' | b':'))
                && b.get(m.end() + 1).is_some_and(u8::is_ascii_digit);
            if glued_before || glued_after {
                continue;
            }
            let year: u32 = y.as_str().parse().unwrap_or(0);
            let year = if year < 100 { 2000 + year } else { year };
            if !(2015..=2045).contains(&year) {
                continue;
            }
            let with_pan = self.pan_near(text, m.start());
            if !with_pan && !near(text, m.start(), m.end(), 40, CARD_WORDS) {
                continue;
            }
            let confidence = if with_pan { Confidence::High } else { Confidence::Medium };
            out.push(Candidate { start: m.start(), end: m.end(), confidence });
            // `PAN MM/YY 123`: a bare three- or four-digit code right after the expiry.
            let rest = &text[m.end()..];
            let trimmed = rest.trim_start_matches([' ', ',', ';']);
            let gap = rest.len() - trimmed.len();
            let n = trimmed.bytes().take_while(u8::is_ascii_digit).count();
            let after = trimmed.as_bytes().get(n);
            if with_pan
                && gap > 0
                && (3..=4).contains(&n)
                && !after.is_some_and(|x| x.is_ascii_alphanumeric() || *x == b'/')
            {
                let s = m.end() + gap;
                if !out.iter().any(|c| c.start == s) {
                    out.push(Candidate { start: s, end: s + n, confidence: Confidence::High });
                }
            }
        }
    }
}
