//! Built-in detectors: national identifiers of European countries (docs/notes/detector-breadth.md §1a).

use super::ids::{DigitId, RegexId};
use crate::detect::idcheck;
use crate::detect::{BuiltinDetector, Confidence, Gate, runs_of_at_least};

const FR_NIR_WORDS: &[&str] = &[
    "numéro de sécurité sociale",
    "sécurité sociale",
    "securite sociale",
    "code sécu",
    "sécu",
    "insee",
    "numéro d'identité",
    "carte vitale",
    "nir",
    "social security",
];
const DE_ID_WORDS: &[&str] = &[
    "personalausweis",
    "personalausweisnummer",
    "ausweisnummer",
    "ausweis",
    "npa",
    "dokumentennummer",
    "identity card",
    "id card",
];
const ES_WORDS: &[&str] = &[
    "dni",
    "documento nacional de identidad",
    "nie",
    "nif",
    "número de identificación",
    "numero de identificacion",
    "carné de identidad",
    "identificación",
    "identidad",
];
const IT_WORDS: &[&str] = &["codice fiscale", "cf", "c.f.", "tessera sanitaria", "fiscal code"];
const NL_WORDS: &[&str] = &[
    "bsn",
    "burgerservicenummer",
    "sofinummer",
    "sofi-nummer",
    "persoonsnummer",
    "persoonlijk nummer",
    "citizen service number",
];
const BE_WORDS: &[&str] = &[
    "rijksregisternummer",
    "rijksregister",
    "numéro de registre national",
    "registre national",
    "insz",
    "niss",
    "nationalregisternummer",
    "national number",
    "national register",
];
const PL_WORDS: &[&str] =
    &["pesel", "numer pesel", "numer identyfikacyjny", "dowód osobisty", "nr-pesel", "tożsamości narodowej"];
const SE_WORDS: &[&str] =
    &["personnummer", "samordningsnummer", "svenskt personnummer", "personal identity number"];
const NO_WORDS: &[&str] =
    &["fødselsnummer", "fodselsnummer", "personnummer", "d-nummer", "national identity number", "fnr"];
const IE_WORDS: &[&str] =
    &["pps number", "ppsn", "pps no", "pps", "personal public service number", "uimhir psp", "pps nr"];
const CH_WORDS: &[&str] = &[
    "ahv",
    "avs",
    "avs number",
    "ahv-nummer",
    "sozialversicherungsnummer",
    "versicherungsnummer",
    "numéro de sécurité sociale",
    "numéro avs",
    "social security",
];

/// France NIR written with its groups (`1 85 05 78 006 084 36`) or unbroken; `2A`/`2B` Corsica.
const FR_NIR_RE: &str =
    r"(?-u:\b)[1-478] ?\d{2} ?(?:0[1-9]|1[0-2]|[2-9]\d) ?(?:\d{2}|2[AB]) ?\d{3} ?\d{3} ?\d{2}(?-u:\b)";

/// The national-identifier detectors of European countries.
pub const DETECTORS: &[BuiltinDetector] = &[
    BuiltinDetector {
        id: "fr_nir",
        description: "France social security number (NIR / INSEE): 15 digits, mod-97 key",
        region: "fr",
        validator: "fr_nir_mod97",
        joinable: true,
        gate: Gate::RunLengths(runs_of_at_least(5)),
        keywords: FR_NIR_WORDS,
        keyword_window: 60,
        requires_keywords: false,
        confidence_with_keywords: Confidence::High,
        examples: &[
            "numéro de sécurité sociale : 1 85 05 78 006 084 91",
            "Mon NIR est 269029934173285",
            "carte vitale 2 69 02 2A 934 173 49",
        ],
        negative_examples: &[
            "numéro de sécurité sociale : 1 85 05 78 006 084 36",
            "NIR 26902993417328",
            "ref 585057800608491",
        ],
        build: || {
            // Fifteen digits in one run, or a Corsican department (`2A`, `2B`) gluing a
            // letter to a shorter one.
            Box::new(
                RegexId::new(FR_NIR_RE, idcheck::fr_nir).needing(|r| r.len >= 15 || r.len >= 5 && r.attached),
            )
        },
    },
    BuiltinDetector {
        id: "de_personalausweis",
        description: "Germany identity card number: 9 characters, ICAO 9303 check digit (needs context)",
        region: "de",
        validator: "icao9303",
        joinable: false,
        gate: Gate::Keywords,
        keywords: DE_ID_WORDS,
        keyword_window: 60,
        requires_keywords: true,
        confidence_with_keywords: Confidence::High,
        examples: &[
            "Personalausweis L01X00T44",
            "meine Ausweisnummer ist LZ6311T48",
            "identity card T22000124 (old card)",
        ],
        negative_examples: &["Personalausweis L01X00T45", "order L01X00T44", "Ausweisnummer LZ6311T4"],
        build: || {
            Box::new(RegexId::new(
                r"(?-u:\b)(?:[CFGHJKLMNPRTVWXYZ][CFGHJKLMNPRTVWXYZ0-9]{7}\d|T\d{8})(?-u:\b)",
                idcheck::de_personalausweis,
            ))
        },
    },
    BuiltinDetector {
        id: "es_dni_nie",
        description: "Spain DNI / NIE: 8 digits (or X/Y/Z + 7) and a mod-23 check letter",
        region: "es",
        validator: "mod23_letter",
        joinable: false,
        gate: Gate::MinDigits(7),
        keywords: ES_WORDS,
        keyword_window: 60,
        requires_keywords: false,
        confidence_with_keywords: Confidence::High,
        examples: &["DNI 12345678Z", "mi NIE es X1234567L", "documento nacional de identidad: 12345678-Z"],
        negative_examples: &["DNI 12345678A", "NIE X1234567A", "ref 1234567Z"],
        build: || {
            Box::new(
                RegexId::new(r"(?-u:\b)(?:\d{8}|[XYZ]-?\d{7})[ -]?[A-Z](?-u:\b)", idcheck::es_dni_nie)
                    .needing(|r| matches!(r.len, 7 | 8)),
            )
        },
    },
    BuiltinDetector {
        id: "it_codice_fiscale",
        description: "Italy codice fiscale: 16 characters, birth date and check letter",
        region: "it",
        validator: "codice_fiscale",
        joinable: false,
        gate: Gate::MinDigits(4),
        keywords: IT_WORDS,
        keyword_window: 60,
        requires_keywords: false,
        confidence_with_keywords: Confidence::High,
        examples: &[
            "codice fiscale RCCMNL83S18D969H",
            "il mio CF è MRTMTT91D08F205J",
            "C.F.: mrtmtt91d08f205j",
        ],
        negative_examples: &["codice fiscale RCCMNL83S18D969A", "MRTMTT91D48F205Z", "code RCCMNL83S18D96H"],
        build: || {
            Box::new(RegexId::new(
                r"(?i)(?-u:\b)[A-Z]{6}[0-9LMNPQRSTUV]{2}[ABCDEHLMPRST][0-9LMNPQRSTUV]{2}[A-Z][0-9LMNPQRSTUV]{3}[A-Z](?-u:\b)",
                idcheck::it_codice_fiscale,
            ).in_words(|w| w.len() == 16 && w.digits >= 1))
        },
    },
    BuiltinDetector {
        id: "nl_bsn",
        description: "Netherlands citizen service number (BSN): 9 digits, elfproef (needs context)",
        region: "nl",
        validator: "elfproef",
        joinable: true,
        gate: Gate::Keywords,
        keywords: NL_WORDS,
        keyword_window: 60,
        requires_keywords: true,
        confidence_with_keywords: Confidence::High,
        examples: &["BSN 123456782", "mijn burgerservicenummer is 111 222 333", "sofinummer: 1234.56.782"],
        negative_examples: &["BSN 123456783", "order 123456782", "BSN 12345678"],
        build: || {
            Box::new(DigitId {
                lens: &[9],
                shapes: &[&[3, 3, 3], &[4, 2, 3], &[2, 3, 2, 2]],
                check: idcheck::nl_bsn,
                bare_words: &[],
                any_shape: false,
            })
        },
    },
    BuiltinDetector {
        id: "be_national_number",
        description: "Belgium national register number (and BIS): 11 digits, date and mod-97 check",
        region: "be",
        validator: "mod97_be",
        joinable: true,
        gate: Gate::RunLengths(runs_of_at_least(11)),
        keywords: BE_WORDS,
        keyword_window: 60,
        requires_keywords: false,
        confidence_with_keywords: Confidence::High,
        examples: &[
            "rijksregisternummer 85.07.30-033.28",
            "numéro de registre national: 85073003328",
            "NISS 85 07 30 033 28",
        ],
        negative_examples: &["rijksregisternummer 85.07.30-033.29", "85.13.30-033.28", "ref 8507300332"],
        build: || {
            Box::new(DigitId {
                lens: &[11],
                shapes: &[&[2, 2, 2, 3, 2], &[6, 3, 2], &[6, 5]],
                check: idcheck::be_national_number,
                bare_words: &[],
                any_shape: false,
            })
        },
    },
    BuiltinDetector {
        id: "pl_pesel",
        description: "Poland PESEL: 11 digits, birth date and weighted check (needs context)",
        region: "pl",
        validator: "pesel",
        joinable: true,
        gate: Gate::Keywords,
        keywords: PL_WORDS,
        keyword_window: 60,
        requires_keywords: true,
        confidence_with_keywords: Confidence::High,
        examples: &["PESEL 44051401359", "mój numer PESEL to 02070803628", "nr-pesel: 440514 01359"],
        negative_examples: &["PESEL 44051401358", "order 44051401359", "PESEL 44053401350"],
        build: || {
            Box::new(DigitId {
                lens: &[11],
                shapes: &[&[6, 5]],
                check: idcheck::pl_pesel,
                bare_words: &[],
                any_shape: false,
            })
        },
    },
    BuiltinDetector {
        id: "se_personnummer",
        description: "Sweden personnummer / samordningsnummer: date and Luhn (needs context)",
        region: "se",
        validator: "luhn",
        joinable: true,
        gate: Gate::Keywords,
        keywords: SE_WORDS,
        keyword_window: 60,
        requires_keywords: true,
        confidence_with_keywords: Confidence::High,
        examples: &[
            "personnummer 811228-9874",
            "mitt personnummer är 19670919-9530",
            "samordningsnummer 670979-9537",
        ],
        negative_examples: &["personnummer 811228-9875", "order 811228-9874", "personnummer 811328-9874"],
        build: || {
            Box::new(DigitId {
                lens: &[10, 12],
                shapes: &[&[6, 4], &[8, 4]],
                check: idcheck::se_personnummer,
                bare_words: &[],
                any_shape: false,
            })
        },
    },
    BuiltinDetector {
        id: "no_fodselsnummer",
        description: "Norway fødselsnummer / D-number: 11 digits, date and two mod-11 check digits",
        region: "no",
        validator: "mod11_two_digits",
        joinable: true,
        gate: Gate::RunLengths(runs_of_at_least(11)),
        keywords: NO_WORDS,
        keyword_window: 60,
        requires_keywords: false,
        confidence_with_keywords: Confidence::High,
        examples: &["fødselsnummer 15108695088", "mitt fnr er 151086 95088", "D-nummer 55108695071"],
        negative_examples: &["fødselsnummer 15108695089", "15138695088", "ref 1510869508"],
        build: || {
            Box::new(DigitId {
                lens: &[11],
                shapes: &[&[6, 5]],
                check: idcheck::no_fodselsnummer,
                bare_words: &[],
                any_shape: false,
            })
        },
    },
    BuiltinDetector {
        id: "ie_ppsn",
        description: "Ireland PPS number: 7 digits and a mod-23 check letter (and A/B/H)",
        region: "ie",
        validator: "mod23_letter",
        joinable: false,
        gate: Gate::MinDigits(7),
        keywords: IE_WORDS,
        keyword_window: 60,
        requires_keywords: false,
        confidence_with_keywords: Confidence::High,
        examples: &["PPS number 1234567T", "my PPSN is 1234567FA", "uimhir PSP 6433435F"],
        negative_examples: &["PPS number 1234567A", "PPSN 1234567FB", "ref 123456T"],
        build: || {
            Box::new(
                RegexId::new(r"(?-u:\b)\d{7} ?[A-W][ABHWTX]?(?-u:\b)", idcheck::ie_ppsn)
                    .needing(|r| r.len == 7),
            )
        },
    },
    BuiltinDetector {
        id: "ch_ahv",
        description: "Switzerland AHV/AVS social security number: 756 prefix, EAN-13 check",
        region: "ch",
        validator: "ean13",
        joinable: true,
        gate: Gate::RunLengths(runs_of_at_least(13)),
        keywords: CH_WORDS,
        keyword_window: 60,
        requires_keywords: false,
        confidence_with_keywords: Confidence::High,
        examples: &["AHV-Nummer 756.9217.0769.85", "numéro AVS 7569217076985", "AHV 756 9217 0769 85"],
        negative_examples: &["AHV-Nummer 756.9217.0769.86", "757.9217.0769.85", "ref 756.9217.0769.8"],
        build: || {
            Box::new(DigitId {
                lens: &[13],
                shapes: &[&[3, 4, 4, 2]],
                check: idcheck::ch_ahv,
                bare_words: &[],
                any_shape: false,
            })
        },
    },
];
