//! Built-in detectors: national identifiers of the Americas (docs/notes/detector-breadth.md §1c).

use super::ids::{DigitId, RegexId};
use crate::detect::idcheck;
use crate::detect::{BuiltinDetector, Confidence, Gate, runs_of_at_least};

const BR_WORDS: &[&str] = &[
    "cpf",
    "cadastro de pessoas físicas",
    "cadastro de pessoas fisicas",
    "receita",
    "inscrição",
    "imposto",
    "identificação",
    "n° do cpf",
];
const MX_WORDS: &[&str] =
    &["curp", "clave única de registro de población", "clave unica", "clave única", "personal id"];
const CL_WORDS: &[&str] = &[
    "rut",
    "run",
    "rol único tributario",
    "rol unico tributario",
    "cédula de identidad",
    "cedula de identidad",
];

/// The national-identifier detectors of the Americas.
pub const DETECTORS: &[BuiltinDetector] = &[
    BuiltinDetector {
        id: "br_cpf",
        description: "Brazil CPF: 11 digits (###.###.###-##), two mod-11 check digits (bare form needs context)",
        region: "br",
        validator: "mod11_cpf",
        joinable: true,
        gate: Gate::RunLengths(runs_of_at_least(11)),
        keywords: BR_WORDS,
        keyword_window: 60,
        requires_keywords: false,
        confidence_with_keywords: Confidence::High,
        examples: &["CPF 390.533.447-05", "meu cpf é 39053344705", "segue 390.533.447-05 para cadastro"],
        negative_examples: &["CPF 390.533.447-06", "111.111.111-11", "order 39053344705"],
        build: || {
            Box::new(DigitId {
                lens: &[11],
                shapes: &[&[3, 3, 3, 2], &[9, 2]],
                check: idcheck::br_cpf,
                bare_words: BR_WORDS,
                any_shape: false,
            })
        },
    },
    BuiltinDetector {
        id: "mx_curp",
        description: "Mexico CURP: 18 characters, birth date, state code and check digit",
        region: "mx",
        validator: "curp_mod10",
        joinable: false,
        gate: Gate::MinDigits(7),
        keywords: MX_WORDS,
        keyword_window: 60,
        requires_keywords: false,
        confidence_with_keywords: Confidence::High,
        examples: &[
            "CURP BOXW310820HNERXN09",
            "mi curp es HEGG560427MVZRRL04",
            "clave única: HEGG560427MVZRRL04",
        ],
        negative_examples: &["CURP BOXW310820HNERXN08", "HEGG561327MVZRRL04", "CURP HEGG560427MXXRRL04"],
        build: || {
            Box::new(
                RegexId::new(
                    r"(?-u:\b)[A-Z][AEIOUX][A-Z]{2}\d{6}[HM][A-Z]{2}[B-DF-HJ-NP-TV-Z]{3}[0-9A-Z]\d(?-u:\b)",
                    idcheck::mx_curp,
                )
                .in_words(|w| w.len() == 18 && w.lower == 0 && w.digits >= 7),
            )
        },
    },
    BuiltinDetector {
        id: "cl_rut",
        description: "Chile RUT/RUN: 7-8 digits and a check digit or K (bare form needs context)",
        region: "cl",
        validator: "mod11_rut",
        joinable: false,
        gate: Gate::MinDigits(7),
        keywords: CL_WORDS,
        keyword_window: 60,
        requires_keywords: false,
        confidence_with_keywords: Confidence::High,
        examples: &["RUT 12.345.678-5", "mi RUN es 76086428-5", "cédula de identidad 9.876.543-3"],
        negative_examples: &["RUT 12.345.678-4", "order 76086428-5", "12.345.678-K"],
        build: || {
            Box::new(
                RegexId::labelled(
                    r"(?i)(?-u:\b)\d{1,2}(?:\.\d{3}\.\d{3}|\d{6})[-‐]?[0-9K](?-u:\b)",
                    idcheck::cl_rut,
                    |v| v.contains('.'),
                    CL_WORDS,
                )
                .needing(|r| (7..=9).contains(&r.len)),
            )
        },
    },
];
