//! Built-in detectors: national identifiers of the Middle East and Africa (docs/notes/detector-breadth.md §1d).

use super::ids::DigitId;
use crate::detect::idcheck;
use crate::detect::{BuiltinDetector, Confidence, Gate, runs_of_at_least};

const IL_WORDS: &[&str] = &[
    "מספר זהות",
    "תעודת זהות",
    "ת.ז",
    "ת\"ז",
    "رقم الهوية",
    "teudat zehut",
    "israeli id",
    "id number",
    "identity number",
    "personal id",
];
const ZA_WORDS: &[&str] = &[
    "id number",
    "identity number",
    "rsa id",
    "sa id",
    "smart id",
    "south african id",
    "id no",
    "identity document",
];
const TR_WORDS: &[&str] = &[
    "tc kimlik",
    "t.c. kimlik",
    "kimlik no",
    "kimlik numarası",
    "kimlik numarasi",
    "tckn",
    "tc no",
    "nüfus cüzdanı",
    "türk kimlik",
    "turkish id",
];
const SA_WORDS: &[&str] = &[
    "رقم بطاقة الهوية الوطنية",
    "رقم الهوية",
    "الهوية الوطنية",
    "رقم الإقامة",
    "iqama",
    "saudi id",
    "national id",
    "identification card",
    "id number",
];
const AE_WORDS: &[&str] = &[
    "emirates id",
    "emirates identity card",
    "eid",
    "رقم الهوية",
    "الهوية الإماراتية",
    "id number",
    "uae id",
];

/// The national-identifier detectors of the Middle East and Africa.
pub const DETECTORS: &[BuiltinDetector] = &[
    BuiltinDetector {
        id: "il_teudat_zehut",
        description: "Israel identity number (Teudat Zehut): up to 9 digits, Luhn (needs context)",
        region: "il",
        validator: "luhn",
        joinable: true,
        gate: Gate::Keywords,
        keywords: IL_WORDS,
        keyword_window: 60,
        requires_keywords: true,
        confidence_with_keywords: Confidence::High,
        examples: &["מספר זהות 039337423", "Israeli ID 039337423", "teudat zehut: 03933742-3"],
        negative_examples: &["מספר זהות 039337424", "order 039337423", "id number 0393374"],
        build: || {
            Box::new(DigitId {
                lens: &[8, 9],
                shapes: &[&[8, 1]],
                check: idcheck::il_teudat_zehut,
                bare_words: &[],
                any_shape: false,
            })
        },
    },
    BuiltinDetector {
        id: "za_id",
        description: "South Africa identity number: 13 digits, birth date, citizenship digit, Luhn",
        region: "za",
        validator: "luhn",
        joinable: true,
        gate: Gate::RunLengths(runs_of_at_least(13)),
        keywords: ZA_WORDS,
        keyword_window: 60,
        requires_keywords: false,
        confidence_with_keywords: Confidence::High,
        examples: &["SA ID 7503305044089", "my ID number is 800101 5009 087", "smart id 8001015009087"],
        negative_examples: &["SA ID 7503305044088", "7513305044081", "order 750330504408"],
        build: || {
            Box::new(DigitId {
                lens: &[13],
                shapes: &[&[6, 4, 3], &[6, 4, 1, 1, 1], &[6, 7]],
                check: idcheck::za_id,
                bare_words: &[],
                any_shape: false,
            })
        },
    },
    BuiltinDetector {
        id: "tr_tckn",
        description: "Turkey national id (T.C. Kimlik No): 11 digits, two check digits",
        region: "tr",
        validator: "tckn",
        joinable: true,
        gate: Gate::RunLengths(runs_of_at_least(11)),
        keywords: TR_WORDS,
        keyword_window: 60,
        requires_keywords: false,
        confidence_with_keywords: Confidence::High,
        examples: &["TC kimlik no 17291716060", "kimlik numarası: 172 917 160 60", "TCKN 17291716060"],
        negative_examples: &["TC kimlik no 17291716061", "07291716060", "TCKN 1729171606"],
        build: || {
            Box::new(DigitId {
                lens: &[11],
                shapes: &[&[3, 3, 3, 2]],
                check: idcheck::tr_tckn,
                bare_words: &[],
                any_shape: false,
            })
        },
    },
    BuiltinDetector {
        id: "sa_national_id",
        description: "Saudi Arabia national id / iqama: 10 digits starting 1 or 2 (needs context)",
        region: "sa",
        validator: "",
        joinable: false,
        gate: Gate::Keywords,
        keywords: SA_WORDS,
        keyword_window: 40,
        requires_keywords: true,
        confidence_with_keywords: Confidence::Medium,
        examples: &["رقم الهوية 1012345678", "Saudi ID 1098765432", "iqama number 2345678901"],
        negative_examples: &["رقم الهوية 3012345678", "order 1012345678", "Saudi ID 101234567"],
        build: || {
            Box::new(DigitId {
                lens: &[10],
                shapes: &[],
                check: idcheck::sa_national_id,
                bare_words: &[],
                any_shape: false,
            })
        },
    },
    BuiltinDetector {
        id: "ae_emirates_id",
        description: "UAE Emirates ID: 15 digits (784-YYYY-NNNNNNN-C), Luhn",
        region: "ae",
        validator: "luhn",
        joinable: true,
        gate: Gate::RunLengths(runs_of_at_least(15)),
        keywords: AE_WORDS,
        keyword_window: 60,
        requires_keywords: false,
        confidence_with_keywords: Confidence::High,
        examples: &["Emirates ID 784-1987-1234567-1", "رقم الهوية 784199045671239", "EID 784 2000 1111111 7"],
        negative_examples: &["Emirates ID 784-1987-1234567-2", "785-1987-1234567-1", "order 78419871234567"],
        build: || {
            Box::new(DigitId {
                lens: &[15],
                shapes: &[&[3, 4, 7, 1]],
                check: idcheck::ae_emirates_id,
                bare_words: &[],
                any_shape: false,
            })
        },
    },
];
