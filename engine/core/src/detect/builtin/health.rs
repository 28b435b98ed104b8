//! Built-in detectors: health and insurance identifiers (docs/notes/detector-breadth.md §1g).

use super::ids::{DigitId, RegexId};
use crate::detect::idcheck;
use crate::detect::{BuiltinDetector, Confidence, Gate};

const NPI_WORDS: &[&str] = &[
    "npi",
    "npi number",
    "national provider",
    "provider id",
    "provider identifier",
    "provider number",
    "taxonomy",
    "prescriber",
];
const DEA_WORDS: &[&str] = &[
    "dea",
    "dea#",
    "dea number",
    "dea no",
    "dea registration",
    "drug enforcement administration",
    "drug enforcement agency",
    "prescriber",
];
const MBI_WORDS: &[&str] = &["medicare", "mbi", "beneficiary", "cms", "medicaid", "hicn", "medicare number"];
const AU_MEDICARE_WORDS: &[&str] =
    &["medicare", "medicare card", "medicare number", "medicare no", "irn", "individual reference number"];

/// The health and insurance identifier detectors.
pub const DETECTORS: &[BuiltinDetector] = &[
    BuiltinDetector {
        id: "us_npi",
        description: "US national provider identifier: 10 digits, Luhn with the 80840 prefix (needs context)",
        region: "us",
        validator: "luhn_80840",
        joinable: true,
        gate: Gate::Keywords,
        keywords: NPI_WORDS,
        keyword_window: 60,
        requires_keywords: true,
        confidence_with_keywords: Confidence::High,
        examples: &[
            "NPI 1234567893",
            "provider NPI number: 1928374655",
            "national provider identifier 2453198766",
        ],
        negative_examples: &["NPI 1234567894", "order 1234567893", "NPI 3234567893"],
        build: || {
            Box::new(DigitId {
                lens: &[10],
                shapes: &[&[3, 3, 4]],
                check: idcheck::us_npi,
                bare_words: &[],
                any_shape: false,
            })
        },
    },
    BuiltinDetector {
        id: "us_dea",
        description: "US DEA registration number: two letters, seven digits, check digit (needs context)",
        region: "us",
        validator: "dea_mod10",
        joinable: false,
        gate: Gate::Keywords,
        keywords: DEA_WORDS,
        keyword_window: 60,
        requires_keywords: true,
        confidence_with_keywords: Confidence::High,
        examples: &["DEA AB1234563", "prescriber DEA# FN9876547", "DEA number M92468139"],
        negative_examples: &["DEA AB1234564", "order AB1234563", "DEA ZZ1234563"],
        build: || {
            Box::new(
                RegexId::new(r"(?-u:\b)[A-Z][A-Z9]\d{7}(?-u:\b)", idcheck::us_dea)
                    .in_words(|w| w.len() == 9 && w.lower == 0 && w.digits >= 7),
            )
        },
    },
    BuiltinDetector {
        id: "us_mbi",
        description: "US Medicare beneficiary identifier: 11 characters in fixed position classes",
        region: "us",
        validator: "",
        joinable: false,
        gate: Gate::MinDigits(5),
        keywords: MBI_WORDS,
        keyword_window: 60,
        requires_keywords: false,
        confidence_with_keywords: Confidence::High,
        examples: &["Medicare MBI 1EG4-TE5-MK73", "my medicare number is 1EG4TE5MK73", "MBI: 9AA0-AA0-AA00"],
        negative_examples: &["MBI 1SG4-TE5-MK73", "0EG4-TE5-MK73", "MBI 1EG4-TE5-MK7"],
        build: || {
            Box::new(RegexId::new(
                r"(?-u:\b)[1-9][AC-HJKMNP-RT-Y][AC-HJKMNP-RT-Y0-9]\d-?[AC-HJKMNP-RT-Y][AC-HJKMNP-RT-Y0-9]\d-?[AC-HJKMNP-RT-Y]{2}\d{2}(?-u:\b)",
                |_| true,
            )
            // Written whole (11 characters) or in three dashed parts, the first of four.
            .needing_word(|w| {
                w.lower == 0
                    && (w.len() == 11 && w.digits >= 5 && w.upper >= 4
                        || w.len() == 4 && w.digits >= 2 && w.upper >= 1)
            }))
        },
    },
    BuiltinDetector {
        id: "au_medicare",
        description: "Australia Medicare card number: 10 digits (+ IRN), weighted check (needs context)",
        region: "au",
        validator: "mod10_medicare",
        joinable: true,
        gate: Gate::Keywords,
        keywords: AU_MEDICARE_WORDS,
        keyword_window: 60,
        requires_keywords: true,
        confidence_with_keywords: Confidence::High,
        examples: &[
            "Medicare card 2950 81795 1",
            "medicare number 2950817951",
            "Medicare no. 4123 65878 1 2",
        ],
        negative_examples: &["Medicare card 2950 81785 1", "order 2950817951", "medicare 7950 81795 1"],
        build: || {
            Box::new(DigitId {
                lens: &[10, 11],
                shapes: &[&[4, 5, 1], &[4, 5, 1, 1], &[4, 5, 2], &[10, 1]],
                check: idcheck::au_medicare,
                bare_words: &[],
                any_shape: false,
            })
        },
    },
];
