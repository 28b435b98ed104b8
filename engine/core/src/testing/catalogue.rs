//! The built-in detectors run through the engine's own path: a compiled set with one
//! rule per built-in detector, so that a detector's `examples`, the corpus test and
//! `linewall test` see exactly what [`PolicySet::evaluate`] reports for a message.

use std::fmt::Write as _;
use std::sync::LazyLock;

use crate::detect::builtin;
use crate::message::Message;
use crate::policy::{LoadOptions, PolicySet, PolicySource};
use crate::verdict::Finding;

/// Name of the catalogue policy.
const NAME: &str = "builtin-detectors";

/// A set with one blocking rule per detector id in `ids` (each a built-in).
fn rules_for<'a>(ids: impl Iterator<Item = &'a str>) -> Result<PolicySet, String> {
    let mut text =
        format!("apiVersion: linewall/v1\nkind: Policy\nmetadata:\n  name: {NAME}\nspec:\n  rules:\n");
    for id in ids {
        // Ids are `[a-z0-9_]+` (checked by the built-ins' tests), so they need no quoting.
        let _ = write!(
            text,
            "    - id: {id}\n      action: block\n      when: {{detectors: {{any: [{{id: {id}}}]}}}}\n"
        );
    }
    let source = PolicySource { name: format!("<{NAME}>"), text, base_dir: None };
    // A fixed, public hash key: the catalogue only blocks (it never hash-redacts) and only
    // ever sees the built-ins' own public examples and test texts, so the key protects
    // nothing; without it, compiling would need the OS RNG and a failing RNG would make
    // every built-in example look like a detector failure.
    let options =
        LoadOptions { hash_key: Some(b"linewall-builtin-catalogue".to_vec()), ..LoadOptions::default() };
    PolicySet::load_sources(vec![source], &options).map_err(|d| d.to_string())
}

static CATALOGUE: LazyLock<Result<PolicySet, String>> =
    LazyLock::new(|| rules_for(builtin::all().map(|d| d.id)));

/// A set in which built-in detector `id` alone runs (one blocking rule), for measuring
/// one detector as the engine runs it; `None` if there is no such built-in.
pub fn builtin_alone(id: &str) -> Option<PolicySet> {
    builtin::get(id)?;
    rules_for(std::iter::once(id)).ok()
}

/// The compiled set with one blocking rule per built-in detector; `Err` holds the
/// diagnostics if it does not compile (a built-in's own examples fail).
pub fn builtin_catalogue() -> Result<&'static PolicySet, &'static str> {
    CATALOGUE.as_ref().map_err(String::as_str)
}

/// The findings of built-in detector `id` in `text` (a WhatsApp text message), as
/// [`PolicySet::evaluate`] reports them; `None` if there is no such built-in.
pub fn builtin_findings(id: &str, text: &str) -> Option<Vec<Finding>> {
    builtin::get(id)?;
    let set = builtin_catalogue().ok()?;
    let verdict = set.evaluate(&Message::text(text));
    Some(verdict.findings.into_iter().filter(|f| f.detector == id).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_builtin_passes_its_own_examples_through_evaluate() {
        assert!(builtin_catalogue().is_ok(), "{:?}", builtin_catalogue().err());
        let mut failures = Vec::new();
        for spec in builtin::all() {
            assert!(!spec.examples.is_empty(), "`{}` has no examples", spec.id);
            assert!(!spec.negative_examples.is_empty(), "`{}` has no negative examples", spec.id);
            for ex in spec.examples {
                if builtin_findings(spec.id, ex).unwrap_or_default().is_empty() {
                    failures.push(format!("{}: example not found: {ex:?}", spec.id));
                }
            }
            for ex in spec.negative_examples {
                if !builtin_findings(spec.id, ex).unwrap_or_default().is_empty() {
                    failures.push(format!("{}: negative example matched: {ex:?}", spec.id));
                }
            }
        }
        assert!(failures.is_empty(), "{}", failures.join("\n"));
    }

    #[test]
    fn findings_are_those_of_the_one_detector_asked_for() {
        let found =
            builtin_findings("email", "mail jane@example.com, card 4111 1111 1111 1111").unwrap_or_default();
        assert_eq!(found.len(), 1);
        assert_eq!((found[0].detector.as_str(), found[0].start, found[0].end), ("email", 5, 21));
        assert!(builtin_findings("no_such_detector", "x").is_none());
    }
}
