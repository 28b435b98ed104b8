//! The built-in detectors of docs/05-detectors.md, grouped by family. Ids are part of the contract.

pub mod banking;
pub mod card_data;
pub mod contact;
pub mod crypto;
pub mod crypto_ext;
pub mod digits;
pub mod finance;
pub mod national;
pub mod network;
pub mod personal;
pub mod secrets;
pub mod secrets_cloud;
pub mod secrets_saas;
pub mod securities;
pub mod token;

use std::sync::LazyLock;

use super::context::{ContextRule, KeywordMatcher};
use super::{BuiltinDetector, Candidate, Confidence, Detector, Gate};
use crate::normalize::Normalized;

/// Every built-in detector, in a stable order.
pub fn all() -> impl Iterator<Item = &'static BuiltinDetector> {
    finance::DETECTORS
        .iter()
        .chain(national::DETECTORS)
        .chain(contact::DETECTORS)
        .chain(secrets::DETECTORS)
        .chain(crypto::DETECTORS)
        .chain(personal::DETECTORS)
        .chain(securities::DETECTORS)
        .chain(card_data::DETECTORS)
        .chain(banking::DETECTORS)
        .chain(crypto_ext::DETECTORS)
        .chain(secrets_cloud::DETECTORS)
        .chain(secrets_saas::DETECTORS)
        .chain(network::DETECTORS)
}

/// The built-in detector with this id.
pub fn get(id: &str) -> Option<&'static BuiltinDetector> {
    all().find(|d| d.id == id)
}

/// A built-in detector with its matcher built, ready to run.
pub struct Built {
    /// Its description.
    pub spec: &'static BuiltinDetector,
    /// Its matcher.
    pub matcher: Box<dyn Detector>,
}

static BUILT: LazyLock<Vec<Built>> =
    LazyLock::new(|| all().map(|spec| Built { spec, matcher: (spec.build)() }).collect());

/// Every built-in detector with its matcher, built once per process.
pub fn built() -> &'static [Built] {
    &BUILT
}

/// A match reported by [`detect`], in byte offsets of the original text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TextMatch {
    /// Start byte in the original text.
    pub start: usize,
    /// End byte (exclusive) in the original text.
    pub end: usize,
    /// Confidence after context words.
    pub confidence: Confidence,
}

impl BuiltinDetector {
    /// The context-word rule of this detector.
    pub fn context_rule(&self) -> ContextRule {
        ContextRule {
            window: self.keyword_window,
            requires: self.requires_keywords,
            boosted: self.confidence_with_keywords,
        }
    }
}

/// Runs one built-in detector over `text` exactly as the engine does (normalization,
/// gate, context words, offsets mapped back). Convenient for tests and tools; the engine
/// shares the keyword scan across detectors instead of building a matcher per call.
pub fn detect(id: &str, text: &str) -> Option<Vec<TextMatch>> {
    let built = built().iter().find(|b| b.spec.id == id)?;
    let spec = built.spec;
    let norm = Normalized::new(text);
    let t = norm.text();
    let keywords = KeywordMatcher::new(spec.keywords);
    let mut hits = Vec::new();
    keywords.for_each(t, |_, s, e| hits.push((s, e)));
    hits.sort_unstable();
    let open = match spec.gate {
        Gate::Always => true,
        Gate::MinDigits(n) => t.bytes().filter(u8::is_ascii_digit).count() >= n,
        Gate::AnyByte(bs) => t.bytes().any(|b| bs.contains(&b)),
        Gate::AnyLiteral(lits) => {
            let lower = t.to_ascii_lowercase();
            lits.iter().any(|l| lower.contains(&l.to_ascii_lowercase()))
        }
        Gate::Keywords => !hits.is_empty(),
    };
    let mut out: Vec<Candidate> = Vec::new();
    if open {
        built.matcher.find(t, &mut out);
    }
    let rule = spec.context_rule();
    let mut found = Vec::with_capacity(out.len());
    for mut c in out {
        if rule.apply(&mut c, &hits) {
            let (start, end) = norm.original_span(c.start, c.end);
            found.push(TextMatch { start, end, confidence: c.confidence });
        }
    }
    Some(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_and_match_the_contract() {
        let mut ids: Vec<&str> = all().map(|d| d.id).collect();
        let n = ids.len();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), n, "duplicate built-in detector id");
        for id in [
            "credit_card",
            "iban",
            "swift_bic",
            "us_aba_routing",
            "us_bank_account",
            "uk_sort_code",
            "us_ssn",
            "us_itin",
            "passport",
            "uk_nino",
            "uk_nhs",
            "ca_sin",
            "in_aadhaar",
            "in_pan",
            "sg_nric",
            "au_tfn",
            "email",
            "phone",
            "ip_address",
            "aws_access_key",
            "aws_secret_key",
            "github_token",
            "slack_token",
            "stripe_key",
            "google_api_key",
            "private_key",
            "jwt",
            "password_assignment",
            "crypto_btc",
            "crypto_eth",
            "date_of_birth",
        ] {
            assert!(get(id).is_some(), "built-in detector `{id}` is missing");
        }
    }

    #[test]
    fn every_builtin_passes_its_own_examples() {
        let mut failures = Vec::new();
        for spec in all() {
            assert!(!spec.examples.is_empty(), "`{}` has no examples", spec.id);
            assert!(!spec.negative_examples.is_empty(), "`{}` has no negative examples", spec.id);
            for ex in spec.examples {
                if detect(spec.id, ex).unwrap_or_default().is_empty() {
                    failures.push(format!("{}: example not found: {ex:?}", spec.id));
                }
            }
            for ex in spec.negative_examples {
                if !detect(spec.id, ex).unwrap_or_default().is_empty() {
                    failures.push(format!("{}: negative example matched: {ex:?}", spec.id));
                }
            }
        }
        assert!(failures.is_empty(), "{}", failures.join("\n"));
    }
}
