//! Detectors: the interface every detector implements (built-in, policy-local, plugin),
//! and the registry of built-in detectors.
//!
//! A detector sees the *normalized* text of one field (see [`crate::normalize`]) and
//! reports candidate spans in byte offsets of that text. Context words, confidence
//! boosting, exclusions and mapping back to original offsets are the engine's job, so
//! that every detector gets them the same way.

pub mod builtin;
pub mod context;
pub mod field;
pub mod idcheck;
pub(crate) mod literals;
pub mod runs;
pub mod validators;

pub use field::{Field, LiteralHit, Origin};

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// How sure a detector is about a match. Ordered: `Low < Medium < High`.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Confidence {
    /// Format matches, nothing else supports it.
    #[default]
    Low,
    /// Format and checksum (or strong format) match.
    Medium,
    /// Checksum and context, or an unmistakable format.
    High,
}

impl Confidence {
    /// The level's name as written in policies.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Low => "low",
            Self::Medium => "medium",
            Self::High => "high",
        }
    }
}

/// A span a detector reports, in byte offsets of the normalized text it was given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Candidate {
    /// Start byte (inclusive), on a char boundary.
    pub start: usize,
    /// End byte (exclusive), on a char boundary.
    pub end: usize,
    /// The detector's own confidence before context words are considered.
    pub confidence: Confidence,
}

/// A cheap test that tells whether a detector can possibly match a text, so that the
/// engine skips it otherwise. It must never be false when the detector would match.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gate {
    /// Always run.
    Always,
    /// Run only if the text holds at least this many ASCII digits.
    MinDigits(usize),
    /// Run only if the text holds a digit run (see [`runs`]) whose length is
    /// in this set: bit `i` stands for `i` digits, bit 63 for 63 or more. Build it with
    /// [`run_lengths`] or [`runs_of_at_least`]. The runs are tokenized once per field and
    /// shared, so this gate costs one AND for every detector that uses it.
    RunLengths(u64),
    /// Run only if the text holds one of these bytes.
    AnyByte(&'static [u8]),
    /// Run only if the text holds one of these literals (ASCII case-insensitive).
    AnyLiteral(&'static [&'static str]),
    /// Run only if one of the detector's context keywords occurs in the text.
    Keywords,
}

/// The [`Gate::RunLengths`] set of these exact lengths.
pub const fn run_lengths(lens: &[usize]) -> u64 {
    let mut mask = 0u64;
    let mut i = 0;
    while i < lens.len() {
        mask |= 1 << if lens[i] > 63 { 63 } else { lens[i] };
        i += 1;
    }
    mask
}

/// The [`Gate::RunLengths`] set of every length from `n` up.
pub const fn runs_of_at_least(n: usize) -> u64 {
    if n > 63 { 1 << 63 } else { !0u64 << n }
}

/// The matching logic of a detector: built-in, policy-local (pattern, terms) and plugin
/// detectors all run through it, over the same per-field [`Field`] context.
///
/// Implement [`Detector::find`] when the normalized text is all a detector needs,
/// [`Detector::find_in_field`] when it also uses the shared digit runs, label words or
/// literal hits, or [`Detector::try_find_in_field`] when it can fail (a plugin). The
/// engine calls `try_find_in_field`.
pub trait Detector: Send + Sync {
    /// Appends the candidate matches found in `field` to `out`, or says why the field
    /// could not be judged; the engine then records the error in the verdict under the
    /// detector's fail mode (and keeps nothing it appended).
    fn try_find_in_field(&self, field: &Field<'_>, out: &mut Vec<Candidate>) -> Result<(), DetectError> {
        self.find_in_field(field, out);
        Ok(())
    }

    /// Appends the candidate matches found in `field` to `out`.
    fn find_in_field(&self, field: &Field<'_>, out: &mut Vec<Candidate>) {
        self.find(field.text(), out);
    }

    /// Appends the candidate matches found in `text` (normalized) to `out`.
    fn find(&self, text: &str, out: &mut Vec<Candidate>) {
        let _ = (text, out);
    }
}

/// Why a detector could not judge a field (a plugin call that trapped or ran out of fuel).
/// It keeps the detector's own error (for [`std::error::Error::source`] and downcasting);
/// its text never holds message content.
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
pub struct DetectError(Box<dyn std::error::Error + Send + Sync + 'static>);

impl DetectError {
    /// Wraps a detector's error.
    pub fn new(e: impl std::error::Error + Send + Sync + 'static) -> Self {
        Self(Box::new(e))
    }

    /// The detector's own error, to downcast to its type.
    pub fn cause(&self) -> &(dyn std::error::Error + Send + Sync + 'static) {
        self.0.as_ref()
    }
}

/// Everything the engine needs to know about one built-in detector.
pub struct BuiltinDetector {
    /// Contract id (docs/05-detectors.md), e.g. `credit_card`.
    pub id: &'static str,
    /// One line for `linewall` output and docs.
    pub description: &'static str,
    /// Where the identifier is issued: `global` or an ISO 3166 alpha-2 code in lower case.
    pub region: &'static str,
    /// Name of the check that validates a candidate beyond its format (empty: none).
    pub validator: &'static str,
    /// Whether a value split across consecutive messages is joined and detected
    /// (docs/10-conversations.md); only checksum-validated detectors may say yes.
    pub joinable: bool,
    /// Cheap pre-check.
    pub gate: Gate,
    /// Context words (lower-case) that raise confidence when near a match.
    pub keywords: &'static [&'static str],
    /// How many characters before or after a match a keyword may be.
    pub keyword_window: usize,
    /// If true, a match with no keyword in the window is dropped.
    pub requires_keywords: bool,
    /// Confidence when a keyword is in the window (never lowers the detector's own).
    pub confidence_with_keywords: Confidence,
    /// Texts that must produce at least one finding (run by the test suite and `linewall test`).
    pub examples: &'static [&'static str],
    /// Texts that must produce no finding.
    pub negative_examples: &'static [&'static str],
    /// Builds the matcher (compiles its regexes); called once per process.
    pub build: fn() -> Box<dyn Detector>,
}
