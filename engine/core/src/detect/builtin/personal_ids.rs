//! Built-in detectors: vehicle and driving identifiers (docs/notes/detector-breadth.md §1j).

use regex::Regex;

use super::ids::{RegexId, labelled_near};
use crate::detect::idcheck;
use crate::detect::{BuiltinDetector, Candidate, Confidence, Detector, Field, Gate};

const VIN_WORDS: &[&str] = &[
    "vin",
    "vin number",
    "vehicle identification",
    "chassis number",
    "chassis no",
    "número de chasis",
    "numero de chasis",
    "número de chassi",
    "fahrgestellnummer",
    "fahrzeug-identifizierungsnummer",
    "numéro de série",
    "numero di telaio",
];
const US_DL_WORDS: &[&str] = &[
    "driver's license",
    "drivers license",
    "driver license",
    "driver's licence",
    "driving license",
    "drivers lic",
    "driver lic",
    "dl#",
    "dl #",
    "dl number",
    "dl no",
    "cdl",
    "dln",
    "license number",
    "licence number",
];
const UK_DL_WORDS: &[&str] =
    &["driving licence", "driving license", "dvla", "dl number", "licence number", "driver number"];

/// The vehicle and driving-licence detectors.
pub const DETECTORS: &[BuiltinDetector] = &[
    BuiltinDetector {
        id: "vin",
        description: "Vehicle identification number: 17 characters, no I/O/Q, check digit (European ones without it need context)",
        region: "global",
        validator: "vin_mod11",
        joinable: false,
        gate: Gate::MinDigits(4),
        keywords: VIN_WORDS,
        keyword_window: 60,
        requires_keywords: false,
        confidence_with_keywords: Confidence::High,
        examples: &[
            "VIN 1HGCM82690A004352",
            "the car's vin is 5YJ3E1EA2KF317000",
            "Fahrgestellnummer WVWZZZ1JZ3W386752",
        ],
        negative_examples: &["part 1HGCM82630A004352", "VIN 1HGCM82690A00435", "VIN 1HGCM82690A0O4352"],
        build: || Box::new(Vin::new()),
    },
    BuiltinDetector {
        id: "us_drivers_license",
        description: "US driver's license number in a state format (needs context)",
        region: "us",
        validator: "",
        joinable: false,
        gate: Gate::Keywords,
        keywords: US_DL_WORDS,
        keyword_window: 40,
        requires_keywords: true,
        confidence_with_keywords: Confidence::Medium,
        examples: &[
            "CA driver's license D1234567",
            "NY DL# 123 456 789",
            "Florida drivers license W123-456-78-901-0",
        ],
        negative_examples: &["driver's license expired", "order D1234567", "DL# 12345"],
        build: || {
            Box::new(RegexId::new(
                r"(?-u:\b)(?:[A-Z]\d{3}-\d{3}-\d{2}-\d{3}-\d|[A-Z]\d{3}-\d{4}-\d{4}|[A-Z]{1,2}\d{5,14}|\d{3} \d{3} \d{3}|\d{7,12}|[A-Z]\d{2}-\d{2}-\d{4}|\d{2}[A-Z]{3}\d{5}|[A-Z]{3}\*\*[A-Z]{2}\d{3}[A-Z]\d)(?-u:\b)",
                |_| true,
            ))
        },
    },
    BuiltinDetector {
        id: "uk_driving_licence",
        description: "UK driving licence number: 16 characters encoding surname, birth date and initials",
        region: "gb",
        validator: "structure",
        joinable: false,
        gate: Gate::MinDigits(6),
        keywords: UK_DL_WORDS,
        keyword_window: 60,
        requires_keywords: false,
        confidence_with_keywords: Confidence::High,
        examples: &[
            "driving licence MORGA657054SM9IJ",
            "DVLA licence number: SMITH710238JJ9AB",
            "JONES802167AB1CD",
        ],
        negative_examples: &["licence 99999657054SM9IJ", "MORGA657054SM9I", "MORGA6A7054SM9IJ"],
        build: || {
            Box::new(
                RegexId::new(r"(?-u:\b)[A-Z9]{5}\d[0156]\d[0-3]\d\d[A-Z9]{2}\d[A-Z0-9]{2}(?-u:\b)", uk_dl_ok)
                    .in_words(|w| w.len() == 16 && w.lower == 0 && w.digits >= 6),
            )
        },
    },
];

/// The DVLA check characters are not public; the structure is checked instead: month
/// (+50 for women) and day valid, surname not all padding.
fn uk_dl_ok(v: &str) -> bool {
    let b = v.as_bytes();
    if &b[..5] == b"99999" || !b[0].is_ascii_uppercase() {
        return false;
    }
    let month = u32::from(b[6] - b'0') * 10 + u32::from(b[7] - b'0');
    let month = if month > 50 { month - 50 } else { month };
    let day = u32::from(b[8] - b'0') * 10 + u32::from(b[9] - b'0');
    (1..=12).contains(&month) && (1..=31).contains(&day)
}

/// VINs: a valid check digit gives medium confidence; a European VIN without one is low,
/// and only with a VIN word nearby.
struct Vin {
    re: Regex,
}

impl Vin {
    fn new() -> Self {
        Self { re: Regex::new(r"(?-u:\b)[A-HJ-NPR-Z0-9]{17}(?-u:\b)").expect("static regex") }
    }
}

impl Detector for Vin {
    fn find_in_field(&self, field: &Field<'_>, out: &mut Vec<Candidate>) {
        // The serial at the end is a run of at least four digits glued to a letter.
        if !field.runs().iter().any(|r| r.attached && r.len >= 4) {
            return;
        }
        let text = field.text();
        for m in self.re.find_iter(text) {
            let v = m.as_str();
            let digits = v.bytes().filter(u8::is_ascii_digit).count();
            // Letters and digits both, and the last four characters digits (the serial).
            if digits < 4 || digits == 17 || !v.as_bytes()[13..].iter().all(u8::is_ascii_digit) {
                continue;
            }
            // North American and East Asian makers fill in the check digit; European
            // VINs often do not, so for them a VIN word stands in for it.
            let checked_region = matches!(v.as_bytes()[0], b'1'..=b'5' | b'J' | b'K');
            let confidence = if idcheck::vin(v) {
                Confidence::Medium
            } else if !checked_region && labelled_near(field, m.start(), m.end(), VIN_WORDS) {
                Confidence::Low
            } else {
                continue;
            };
            out.push(Candidate { start: m.start(), end: m.end(), confidence });
        }
    }
}
