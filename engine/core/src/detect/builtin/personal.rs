//! Built-in detectors: personal data.

use regex::Regex;

use crate::detect::{BuiltinDetector, Candidate, Confidence, Detector, Field, Gate};

/// The personal-data detectors.
pub const DETECTORS: &[BuiltinDetector] = &[BuiltinDetector {
    id: "date_of_birth",
    region: "global",
    validator: "",
    joinable: false,
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

/// Youngest age for which a date next to birth words is taken as a birth date.
const MIN_AGE_YEARS: i32 = 5;

/// The year of a matched date: a four-digit year, or a trailing two-digit one read as
/// the most recent past century's (relative to `this_year`).
fn year_of(s: &str, this_year: i32) -> Option<i32> {
    let digits: Vec<&str> = s.split(|c: char| !c.is_ascii_digit()).filter(|p| !p.is_empty()).collect();
    if let Some(y) = digits.iter().find(|p| p.len() == 4) {
        return y.parse().ok();
    }
    let last: i32 = digits.last()?.parse().ok()?;
    Some(if 2000 + last <= this_year { 2000 + last } else { 1900 + last })
}

struct DateOfBirth {
    re: Regex,
}

impl DateOfBirth {
    fn new() -> Self {
        let month = r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?|enero|febrero|marzo|abril|mayo|junio|julio|agosto|septiembre|octubre|noviembre|diciembre|janvier|février|mars|avril|mai|juin|juillet|août|septembre|octobre|novembre|décembre|januar|februar|märz|juni|juli|oktober|dezember)";
        let pattern = format!(
            r"(?i)(?-u:\b)(?:\d{{1,2}}[./-]\d{{1,2}}[./-](?:19|20)?\d{{2}}|(?:19|20)\d{{2}}[./-]\d{{1,2}}[./-]\d{{1,2}}|{month}\.?\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+(?:19|20)\d{{2}}|\d{{1,2}}(?:st|nd|rd|th)?\s+(?:de\s+)?{month}\.?,?\s+(?:de\s+)?(?:19|20)\d{{2}})(?-u:\b)"
        );
        Self { re: Regex::new(&pattern).expect("static regex") }
    }
}

impl Detector for DateOfBirth {
    fn find_in_field(&self, field: &Field<'_>, out: &mut Vec<Candidate>) {
        let this_year = field.year();
        for m in self.re.find_iter(field.text()) {
            // A birth date lies in the past, and the people a firm talks to are at least a
            // few years old: dates after that are appointments, deadlines or expiries.
            if year_of(m.as_str(), this_year).is_some_and(|y| y > this_year - MIN_AGE_YEARS || y < 1900) {
                continue;
            }
            out.push(Candidate { start: m.start(), end: m.end(), confidence: Confidence::Medium });
        }
    }
}
