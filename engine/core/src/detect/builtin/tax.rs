//! Built-in detectors: tax and business identifiers (docs/notes/detector-breadth.md §1e).

use super::digits::Run;
use super::ids::{DigitId, RegexId};
use crate::detect::idcheck;
use crate::detect::{BuiltinDetector, Candidate, Confidence, Detector, Field, Gate, runs_of_at_least};

const DE_TAX_WORDS: &[&str] = &[
    "steueridentifikationsnummer",
    "steuer-id",
    "steuerid",
    "steuer id",
    "idnr",
    "steuer-idnr",
    "steuernummer",
    "bzst",
    "tax id",
    "tin",
];
const UTR_WORDS: &[&str] = &[
    "utr",
    "unique taxpayer reference",
    "tax reference",
    "tax file",
    "tax id",
    "tax identification number",
    "tin",
    "hmrc",
    "self assessment",
];
const VAT_WORDS: &[&str] = &[
    "vat",
    "vat number",
    "vat no",
    "ust-idnr",
    "ust-id",
    "umsatzsteuer",
    "tva",
    "n° tva",
    "iva",
    "btw",
    "btw-nummer",
    "partita iva",
    "nif-iva",
    "αφμ",
    "mwst",
    "moms",
    "alv",
    "nip",
];
const ABN_WORDS: &[&str] = &["abn", "australian business number", "business number"];
const GSTIN_WORDS: &[&str] = &["gstin", "gst", "gst number", "gst registration", "gst no", "gstn"];
const EIN_WORDS: &[&str] = &[
    "ein",
    "fein",
    "employer identification number",
    "employer id",
    "federal tax id",
    "federal tax identification",
    "tax id",
    "irs",
];

/// The tax and business identifier detectors.
pub const DETECTORS: &[BuiltinDetector] = &[
    BuiltinDetector {
        id: "de_steuer_id",
        description: "Germany tax identification number (Steuer-IdNr): 11 digits, ISO 7064 MOD 11,10 (needs context)",
        region: "de",
        validator: "iso7064_mod11_10",
        joinable: true,
        gate: Gate::Keywords,
        keywords: DE_TAX_WORDS,
        keyword_window: 60,
        requires_keywords: true,
        confidence_with_keywords: Confidence::High,
        examples: &[
            "Steuer-ID 36 574 261 809",
            "meine Steueridentifikationsnummer: 36574261809",
            "IdNr 365 742 618 09",
        ],
        negative_examples: &["Steuer-ID 36 574 261 808", "order 36574261809", "Steuer-ID 11111111111"],
        build: || {
            Box::new(DigitId {
                lens: &[11],
                shapes: &[&[2, 3, 3, 3], &[3, 3, 3, 2]],
                check: idcheck::de_steuer_id,
                bare_words: &[],
                any_shape: false,
            })
        },
    },
    BuiltinDetector {
        id: "uk_utr",
        description: "UK unique taxpayer reference: 10 digits, leading check digit (needs context)",
        region: "gb",
        validator: "mod11_utr",
        joinable: true,
        gate: Gate::Keywords,
        keywords: UTR_WORDS,
        keyword_window: 60,
        requires_keywords: true,
        confidence_with_keywords: Confidence::High,
        examples: &[
            "UTR 1955839661",
            "your unique taxpayer reference is 19558 39661",
            "HMRC self assessment UTR: 19558 39661",
        ],
        negative_examples: &["UTR 1955839662", "order 1955839661", "UTR 195583966"],
        build: || {
            Box::new(DigitId {
                lens: &[10],
                shapes: &[&[5, 5]],
                check: idcheck::uk_utr,
                bare_words: &[],
                any_shape: false,
            })
        },
    },
    BuiltinDetector {
        id: "eu_vat",
        description: "EU VAT identification number: country prefix and the national check digits",
        region: "eu",
        validator: "eu_vat",
        joinable: false,
        gate: Gate::MinDigits(7),
        keywords: VAT_WORDS,
        keyword_window: 60,
        requires_keywords: false,
        confidence_with_keywords: Confidence::High,
        examples: &["USt-IdNr. DE136695976", "n° TVA FR40303265045", "BTW NL004495445B01 factuur"],
        negative_examples: &["USt-IdNr. DE136695977", "FR41303265045", "ref NL004495445B02X"],
        build: || Box::new(EuVat::new()),
    },
    BuiltinDetector {
        id: "au_abn",
        description: "Australian business number: 11 digits, mod-89 check (bare form needs context)",
        region: "au",
        validator: "mod89",
        joinable: true,
        gate: Gate::RunLengths(runs_of_at_least(11)),
        keywords: ABN_WORDS,
        keyword_window: 60,
        requires_keywords: false,
        confidence_with_keywords: Confidence::High,
        examples: &["ABN 51 824 753 556", "invoice from 51 824 753 556 Pty Ltd", "abn: 51824753556"],
        negative_examples: &["ABN 51 824 753 557", "order 51824753556", "51 824 753 55"],
        build: || {
            Box::new(DigitId {
                lens: &[11],
                shapes: &[&[2, 3, 3, 3]],
                check: idcheck::au_abn,
                bare_words: ABN_WORDS,
                any_shape: false,
            })
        },
    },
    BuiltinDetector {
        id: "in_gstin",
        description: "India GSTIN: state code, PAN, entity, Z and a mod-36 check character",
        region: "in",
        validator: "luhn_mod36",
        joinable: false,
        gate: Gate::MinDigits(6),
        keywords: GSTIN_WORDS,
        keyword_window: 60,
        requires_keywords: false,
        confidence_with_keywords: Confidence::High,
        examples: &["GSTIN 27AAPFU0939F1ZV", "our GST number is 29AAGCB7383J1Z4", "bill to 27AAPFU0939F1ZV"],
        negative_examples: &["GSTIN 27AAPFU0939F1ZW", "GSTIN 47AAPFU0939F1ZV", "27AAPFU0939F1XV"],
        build: || {
            Box::new(
                RegexId::new(r"(?-u:\b)\d{2}[A-Z]{5}\d{4}[A-Z][1-9A-Z]Z[0-9A-Z](?-u:\b)", idcheck::in_gstin)
                    .in_words(|w| w.len() == 15 && w.lower == 0 && w.digits >= 6),
            )
        },
    },
    BuiltinDetector {
        id: "us_ein",
        description: "US employer identification number: NN-NNNNNNN with an IRS campus prefix (needs context)",
        region: "us",
        validator: "",
        joinable: false,
        gate: Gate::Keywords,
        keywords: EIN_WORDS,
        keyword_window: 40,
        requires_keywords: true,
        confidence_with_keywords: Confidence::Medium,
        examples: &["EIN 04-2103594", "our federal tax id is 04-2103594", "FEIN: 042103594"],
        negative_examples: &["EIN 07-2103594", "order 04-2103594", "EIN 04-210359"],
        build: || {
            Box::new(DigitId {
                lens: &[9],
                shapes: &[&[2, 7]],
                check: idcheck::us_ein,
                bare_words: &[],
                any_shape: false,
            })
        },
    },
];

/// EU VAT numbers: a member-state prefix and a body. Countries whose check is verified
/// give medium confidence; the others need a VAT word nearby and stay low.
struct EuVat {
    re: regex::Regex,
}

impl EuVat {
    fn new() -> Self {
        Self {
            re: regex::Regex::new(
                r"(?-u:\b)(?:AT|BE|BG|CY|CZ|DE|DK|EE|EL|GR|ES|FI|FR|HR|HU|IE|IT|LT|LU|LV|MT|NL|PL|PT|RO|SE|SI|SK|XI) ?(?:U ?)?[0-9A-Z](?:[0-9]|[ .][0-9]){6,11}(?:B\d{2}|[A-Z])?(?-u:\b)",
            )
            .expect("static regex"),
        }
    }
}

impl Detector for EuVat {
    fn find_in_field(&self, field: &Field<'_>, out: &mut Vec<Candidate>) {
        // Every VAT number is a run of 7 to 14 digits (or more, joined to the next
        // number) with its two-letter country code at most seven bytes before it.
        let text = field.text();
        let b = text.as_bytes();
        let prefixed = |r: &Run| {
            r.len >= 7
                && b[r.start.saturating_sub(7)..r.start]
                    .windows(2)
                    .any(|w| w.iter().all(u8::is_ascii_uppercase))
        };
        if !field.runs().iter().any(prefixed) {
            return;
        }
        for m in self.re.find_iter(text) {
            let v = m.as_str();
            if !idcheck::eu_vat(v) {
                continue;
            }
            let confidence = if idcheck::eu_vat_checked(v) {
                Confidence::Medium
            } else if super::ids::labelled_near(field, m.start(), m.end(), VAT_WORDS) {
                Confidence::Low
            } else {
                continue;
            };
            out.push(Candidate { start: m.start(), end: m.end(), confidence });
        }
    }
}
