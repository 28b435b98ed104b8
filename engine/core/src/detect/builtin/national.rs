//! Built-in detectors: national identifiers.

use regex::Regex;

use super::digits;
use crate::detect::validators::{au_tfn, luhn, nhs_mod11, sg_nric, verhoeff};
use crate::detect::{BuiltinDetector, Candidate, Confidence, Detector, Field, Gate, run_lengths};

/// Words that label a bare nine-digit number as a social security number.
const SSN_WORDS: &[&str] = &[
    "ssn",
    "social security",
    "social sec",
    "ss#",
    "ss #",
    "soc sec",
    "social",
    "tax form",
    "tax id",
    "taxpayer",
];
/// Labels of other numbers; when one sits right before a bare number, the number is not an SSN.
const OTHER_LABELS: &[&str] =
    &["acct", "account", "routing", "aba", "rtn", "card", "order", "invoice", "phone", "passport"];

/// Whether a bare number at `[start, end)` is labelled by one of `words`: just before it
/// (with no other label in between) or just after it.
fn labelled(field: &Field<'_>, start: usize, end: usize, words: &[&str]) -> bool {
    let text = field.text();
    let near = digits::floor_boundary(text, start.saturating_sub(16));
    let far = digits::floor_boundary(text, start.saturating_sub(40));
    let after = digits::ceil_boundary(text, end + 30);
    if field.has_word(near, start, OTHER_LABELS) && !field.has_word(near, start, words) {
        return false;
    }
    field.has_word(far, start, words) && !field.has_word(near, start, OTHER_LABELS)
        || field.has_word(near, start, words)
        || field.has_word(end, after, words)
}

/// The national-identifier detectors.
pub const DETECTORS: &[BuiltinDetector] = &[
    BuiltinDetector {
        id: "us_ssn",
        region: "us",
        validator: "ssn_ranges",
        joinable: true,
        description: "US social security number: area, group and serial rules",
        gate: Gate::RunLengths(run_lengths(&[9])),
        keywords: &["ssn", "social security", "social", "ss#", "tax id", "taxpayer", "seguro social"],
        keyword_window: 40,
        requires_keywords: false,
        confidence_with_keywords: Confidence::High,
        examples: &["Your SSN on file is 536-22-8174", "social security number 𝟖9𝟒-7𝟗-1𝟔𝟐6", "SSN 536228174"],
        negative_examples: &["ticket 666-12-3456 closed", "call 536228174 now", "ref 000-12-3456"],
        build: || Box::new(Ssn),
    },
    BuiltinDetector {
        id: "us_itin",
        region: "us",
        validator: "itin_ranges",
        joinable: false,
        description: "US individual taxpayer identification number (9XX-7X-XXXX ranges)",
        gate: Gate::RunLengths(run_lengths(&[9])),
        keywords: &["itin", "taxpayer", "tax id", "w-7"],
        keyword_window: 40,
        requires_keywords: false,
        confidence_with_keywords: Confidence::High,
        examples: &["ITIN 912-70-1234 for the W-7", "my itin is 900 88 1234", "ITIN 912701234"],
        negative_examples: &["ITIN 912-40-1234", "order 912701234", "ref 912-70-12345"],
        build: || Box::new(Itin),
    },
    BuiltinDetector {
        id: "passport",
        region: "global",
        validator: "",
        joinable: false,
        description: "Passport number (US, UK, DE, FR, IN, CA formats; needs context)",
        gate: Gate::Keywords,
        keywords: &[
            "passport",
            "passport no",
            "passport number",
            "passport #",
            "passeport",
            "reisepass",
            "pasaporte",
            "passaporto",
            "passaporte",
            "paspoort",
            "pass nr",
            "passnummer",
        ],
        keyword_window: 40,
        requires_keywords: true,
        confidence_with_keywords: Confidence::High,
        examples: &[
            "my passport number is 488839667",
            "Reisepass C2R3850ML bitte",
            "Passport no. C7773921 (Jason)",
        ],
        negative_examples: &["passport photo attached", "my passport expires 2031", "order 488839667"],
        build: || Box::new(Passport::new()),
    },
    BuiltinDetector {
        id: "uk_nino",
        region: "uk",
        validator: "nino_prefix",
        joinable: true,
        description: "UK National Insurance number",
        gate: Gate::MinDigits(6),
        keywords: &["national insurance", "nino", "ni number", "ni no", "insurance number"],
        keyword_window: 40,
        requires_keywords: false,
        confidence_with_keywords: Confidence::High,
        examples: &["Your NI number is AB 12 34 56 C", "nino: JG103759A", "NI no. ZR 12 34 56 D"],
        negative_examples: &["code BG123456A", "ref AB123456", "QQ 12 34 56 C"],
        build: || Box::new(Nino::new()),
    },
    BuiltinDetector {
        id: "uk_nhs",
        region: "uk",
        validator: "mod11",
        joinable: true,
        description: "UK NHS number: ten digits, mod-11 check (needs context)",
        gate: Gate::RunLengths(run_lengths(&[10])),
        keywords: &["nhs", "nhs number", "nhs no", "health service", "chi number"],
        keyword_window: 40,
        requires_keywords: true,
        confidence_with_keywords: Confidence::High,
        examples: &["NHS number 943 476 5919", "nhs no: 9434765919", "my NHS number is 943-476-5919"],
        negative_examples: &["NHS number 943 476 5918", "call 943 476 5919", "nhs 12345"],
        build: || Box::new(DigitsCheck { lens: &[10], check: nhs_mod11, groups: &[&[10], &[3, 3, 4]] }),
    },
    BuiltinDetector {
        id: "ca_sin",
        region: "ca",
        validator: "luhn",
        joinable: true,
        description: "Canadian social insurance number: Luhn check (needs context)",
        gate: Gate::RunLengths(run_lengths(&[9])),
        keywords: &["sin", "social insurance", "assurance sociale", "sin number", "sin no"],
        keyword_window: 40,
        requires_keywords: true,
        confidence_with_keywords: Confidence::High,
        examples: &[
            "SIN 046 454 286 on the form",
            "social insurance number 046-454-286",
            "my sin is 046454286",
        ],
        negative_examples: &["SIN 046 454 287", "order 046454286", "sin 846 454 286"],
        build: || Box::new(DigitsCheck { lens: &[9], check: sin_ok, groups: &[&[9], &[3, 3, 3]] }),
    },
    BuiltinDetector {
        id: "in_aadhaar",
        region: "in",
        validator: "verhoeff",
        joinable: true,
        description: "Indian Aadhaar number: twelve digits, Verhoeff check (needs context)",
        gate: Gate::RunLengths(run_lengths(&[12])),
        keywords: &["aadhaar", "aadhar", "adhaar", "uidai", "आधार"],
        keyword_window: 40,
        requires_keywords: true,
        confidence_with_keywords: Confidence::High,
        examples: &["aadhaar 2345 6789 0124", "my aadhar no is 234567890124", "UIDAI number 2345-6789-0124"],
        negative_examples: &["aadhaar 2345 6789 0125", "order 234567890124", "aadhaar 1345 6789 0124"],
        build: || Box::new(DigitsCheck { lens: &[12], check: aadhaar_ok, groups: &[&[12], &[4, 4, 4]] }),
    },
    BuiltinDetector {
        id: "in_pan",
        region: "in",
        validator: "",
        joinable: false,
        description: "Indian permanent account number (AAAPA9999A)",
        gate: Gate::MinDigits(4),
        keywords: &["pan card", "pan no", "pan number", "permanent account", "income tax"],
        keyword_window: 40,
        requires_keywords: false,
        confidence_with_keywords: Confidence::High,
        examples: &["PAN card ABCPE1234F", "my pan is AFZPK7190K", "PAN: BNZAA2318J"],
        negative_examples: &["code ABCXE1234F", "ABCPE12345", "abcpe1234f is lowercase noise"],
        build: || {
            Box::new(RegexCheck::new(r"(?-u:\b)[A-Z]{3}[PCHFATBLJG][A-Z]\d{4}[A-Z](?-u:\b)", |_| true, 10, 4))
        },
    },
    BuiltinDetector {
        id: "sg_nric",
        region: "sg",
        validator: "nric_checksum",
        joinable: false,
        description: "Singapore NRIC / FIN with check letter",
        gate: Gate::MinDigits(7),
        keywords: &["nric", "fin no", "ic number", "ic no", "identity card"],
        keyword_window: 40,
        requires_keywords: false,
        confidence_with_keywords: Confidence::High,
        examples: &["NRIC S1234567D", "my FIN is F1234567N", "ic no: T0123456G"],
        negative_examples: &["NRIC S1234567A", "ref X1234567D", "S12345678D"],
        build: || Box::new(RegexCheck::new(r"(?-u:\b)[STFGM]\d{7}[A-Z](?-u:\b)", sg_nric, 9, 7)),
    },
    BuiltinDetector {
        id: "au_tfn",
        region: "au",
        validator: "tfn_weighted",
        joinable: true,
        description: "Australian tax file number: weighted check (needs context)",
        gate: Gate::RunLengths(run_lengths(&[8, 9])),
        keywords: &["tfn", "tax file", "tax file number"],
        keyword_window: 40,
        requires_keywords: true,
        confidence_with_keywords: Confidence::High,
        examples: &["tax file number 123 456 782", "TFN: 123456782", "my tfn is 123-456-782"],
        negative_examples: &["tax file number 123 456 783", "order 123456782", "tfn pending"],
        build: || {
            Box::new(DigitsCheck {
                lens: &[8, 9],
                check: au_tfn,
                groups: &[&[8], &[9], &[3, 3, 3], &[3, 3, 2]],
            })
        },
    },
];

fn ssn_parts_ok(d: &str) -> bool {
    let area: u32 = d[..3].parse().unwrap_or(0);
    let group: u32 = d[3..5].parse().unwrap_or(0);
    let serial: u32 = d[5..9].parse().unwrap_or(0);
    (1..=899).contains(&area)
        && area != 666
        && group != 0
        && serial != 0
        // Numbers published in advertising and documentation, never issued to a person.
        && !matches!(d, "078051120" | "219099999" | "123456789")
}

struct Ssn;

impl Detector for Ssn {
    fn find_in_field(&self, field: &Field<'_>, out: &mut Vec<Candidate>) {
        let runs = field.runs();
        for run in runs {
            if run.len != 9 || run.attached || run.plus {
                continue;
            }
            let d = run.all();
            if !ssn_parts_ok(d) {
                continue;
            }
            // 3-2-4 grouping is the SSN's own shape; any other shape needs an SSN word.
            let standard = run.groups(0, 9) == [3, 2, 4];
            if !standard && !labelled(field, run.start, run.end, SSN_WORDS) {
                continue;
            }
            let (s, e) = run.span(0, 9);
            out.push(Candidate { start: s, end: e, confidence: Confidence::Medium });
        }
    }
}

struct Itin;

impl Detector for Itin {
    fn find_in_field(&self, field: &Field<'_>, out: &mut Vec<Candidate>) {
        let runs = field.runs();
        for run in runs {
            if run.len != 9 || run.attached || run.plus {
                continue;
            }
            let d = run.all();
            let mid: u32 = d[3..5].parse().unwrap_or(0);
            if !d.starts_with('9') || !matches!(mid, 50..=65 | 70..=88 | 90..=92 | 94..=99) {
                continue;
            }
            let standard = run.groups(0, 9) == [3, 2, 4];
            if !standard && !labelled(field, run.start, run.end, &["itin", "taxpayer", "tax id"]) {
                continue;
            }
            let (s, e) = run.span(0, 9);
            out.push(Candidate { start: s, end: e, confidence: Confidence::Medium });
        }
    }
}

fn sin_ok(d: &str) -> bool {
    // 8 is never issued; 0 is reserved but appears on the government's sample cards.
    !d.starts_with('8') && d != "000000000" && luhn(d)
}

fn aadhaar_ok(d: &str) -> bool {
    !d.starts_with('0') && !d.starts_with('1') && verhoeff(d)
}

/// A fixed-length number in one of a few groupings, with a checksum.
struct DigitsCheck {
    lens: &'static [usize],
    check: fn(&str) -> bool,
    groups: &'static [&'static [usize]],
}

impl Detector for DigitsCheck {
    fn find_in_field(&self, field: &Field<'_>, out: &mut Vec<Candidate>) {
        let runs = field.runs();
        for run in runs {
            if !self.lens.contains(&run.len) || run.attached || run.plus {
                continue;
            }
            let g = run.groups(0, run.len);
            let spaced_out = g.iter().all(|&x| x == 1);
            if !(spaced_out || self.groups.contains(&g.as_slice())) {
                continue;
            }
            if (self.check)(run.all()) {
                let (s, e) = run.span(0, run.len);
                out.push(Candidate { start: s, end: e, confidence: Confidence::Medium });
            }
        }
    }
}

/// A regex whose matches must also pass a check.
/// A whole-word regex (`(?-u:\b)` on both ends, letters and digits only) and a check,
/// run over the field's words of its length and digit count only.
struct RegexCheck {
    re: Regex,
    check: fn(&str) -> bool,
    len: usize,
    digits: u16,
}

impl RegexCheck {
    fn new(pattern: &str, check: fn(&str) -> bool, len: usize, digits: u16) -> Self {
        Self { re: Regex::new(pattern).expect("static regex"), check, len, digits }
    }
}

impl Detector for RegexCheck {
    fn find_in_field(&self, field: &Field<'_>, out: &mut Vec<Candidate>) {
        let text = field.text();
        for w in field.words() {
            if w.len() != self.len || w.digits != self.digits || w.lower != 0 {
                continue;
            }
            let (from, to) = (w.start as usize, w.end as usize);
            for m in self.re.find_iter(&text[from..to]) {
                if (self.check)(m.as_str()) {
                    let (start, end) = (from + m.start(), from + m.end());
                    out.push(Candidate { start, end, confidence: Confidence::Medium });
                }
            }
        }
    }
}

struct Nino {
    re: Regex,
}

impl Nino {
    fn new() -> Self {
        Self {
            re: Regex::new(
                r"(?-u:\b)([A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z]) ?(\d{2}) ?(\d{2}) ?(\d{2}) ?([A-D])(?-u:\b)",
            )
            .expect("static regex"),
        }
    }
}

impl Detector for Nino {
    fn find(&self, text: &str, out: &mut Vec<Candidate>) {
        for c in self.re.captures_iter(text) {
            let (Some(m), Some(prefix)) = (c.get(0), c.get(1)) else { continue };
            if matches!(prefix.as_str(), "BG" | "GB" | "NK" | "KN" | "TN" | "NT" | "ZZ") {
                continue;
            }
            out.push(Candidate { start: m.start(), end: m.end(), confidence: Confidence::Medium });
        }
    }
}

struct Passport {
    re: Regex,
}

impl Passport {
    fn new() -> Self {
        // US (9 digits or letter + 8 digits), UK (9 digits), DE (9 of CFGHJKLMNPRTVWXYZ0-9),
        // FR (2 digits, 2 letters, 5 digits), IN (letter + 7 digits), CA (2 letters + 6 digits).
        Self {
            re: Regex::new(
                r"(?-u:\b)(?:\d{9}|[A-Z]\d{8}|[CFGHJKLMNPRTVWXYZ0-9]{9}|\d{2}[A-Z]{2}\d{5}|[A-Z]\d{7}|[A-Z]{2}\d{6})(?-u:\b)",
            )
            .expect("static regex"),
        }
    }
}

impl Detector for Passport {
    fn find(&self, text: &str, out: &mut Vec<Candidate>) {
        for m in self.re.find_iter(text) {
            let v = m.as_str().as_bytes();
            let digits = v.iter().filter(|b| b.is_ascii_digit()).count();
            // Words in capitals are not passport numbers.
            if digits == 0 {
                continue;
            }
            out.push(Candidate { start: m.start(), end: m.end(), confidence: Confidence::Medium });
        }
    }
}
