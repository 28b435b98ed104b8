//! Built-in detectors: personal data.

use regex::Regex;

use crate::detect::{BuiltinDetector, Candidate, Confidence, Detector, Gate};

/// The personal-data detectors.
pub const DETECTORS: &[BuiltinDetector] = &[BuiltinDetector {
    id: "date_of_birth",
    description: "Date of birth: a date next to birth words (needs context)",
    gate: Gate::Keywords,
    keywords: &[
        "dob",
        "d.o.b",
        "d.o.b.",
        "born",
        "birth",
        "birthday",
        "date of birth",
        "birthdate",
        "fecha de nacimiento",
        "nacido",
        "nacida",
        "né le",
        "née le",
        "date de naissance",
        "geboren",
        "geburtsdatum",
        "data de nascimento",
        "nascido",
        "nascita",
    ],
    keyword_window: 30,
    requires_keywords: true,
    confidence_with_keywords: Confidence::High,
    examples: &["DOB: 04/12/1985", "I was born on September 23, 1984", "Geburtsdatum 1984-09-23"],
    negative_examples: &["meeting on 04/12/2025", "born in Paris", "DOB: pending"],
    build: || Box::new(DateOfBirth::new()),
}];

struct DateOfBirth {
    re: Regex,
}

impl DateOfBirth {
    fn new() -> Self {
        let month = r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?|enero|febrero|marzo|abril|mayo|junio|julio|agosto|septiembre|octubre|noviembre|diciembre|janvier|février|mars|avril|mai|juin|juillet|août|septembre|octobre|novembre|décembre|januar|februar|märz|juni|juli|oktober|dezember)";
        let pattern = format!(
            r"(?i)\b(?:\d{{1,2}}[./-]\d{{1,2}}[./-](?:19|20)?\d{{2}}|(?:19|20)\d{{2}}[./-]\d{{1,2}}[./-]\d{{1,2}}|{month}\.?\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+(?:19|20)\d{{2}}|\d{{1,2}}(?:st|nd|rd|th)?\s+(?:de\s+)?{month}\.?,?\s+(?:de\s+)?(?:19|20)\d{{2}})\b"
        );
        Self { re: Regex::new(&pattern).expect("static regex") }
    }
}

impl Detector for DateOfBirth {
    fn find(&self, text: &str, out: &mut Vec<Candidate>) {
        for m in self.re.find_iter(text) {
            out.push(Candidate { start: m.start(), end: m.end(), confidence: Confidence::Medium });
        }
    }
}
