//! Inputs that cost quadratic time before: a long repetitive dictionary term, and the
//! private-key pattern over many BEGIN lines. Their linear cost is measured by the
//! `linear` benchmark (benches/engine); here the behaviour a user sees.

use linewall_engine::Message;
use linewall_engine::policy::{LoadOptions, PolicySet, PolicySource};

fn terms_policy(term: &str) -> PolicySource {
    PolicySource {
        name: String::from("terms.yaml"),
        text: format!(
            "apiVersion: linewall/v1\nkind: Policy\nmetadata: {{name: words}}\nspec:\n  detectors:\n    - {{id: word, terms: [bananas, \"{term}\"]}}\n  rules:\n    - id: block-word\n      when: {{detectors: {{any: [{{id: word}}]}}}}\n      action: block\n"
        ),
        base_dir: None,
    }
}

#[test]
fn an_overlong_dictionary_term_is_refused_with_its_position() {
    // 10,000 characters of one repeated letter: the DFA build took 9 s before.
    let Err(err) = PolicySet::load_sources(vec![terms_policy(&"a".repeat(10_000))], &LoadOptions::default())
    else {
        panic!("a 10,000-byte term is refused");
    };
    let text = err.to_string();
    assert!(text.contains("term 2 is 10000 bytes long; the limit is 256"), "{text}");
    assert!(text.contains("terms.yaml:6:"), "{text}");
}

#[test]
fn a_term_at_the_limit_still_matches() {
    let term = "z".repeat(256);
    let set = PolicySet::load_sources(vec![terms_policy(&term)], &LoadOptions::default()).expect("loads");
    let v = set.evaluate(&Message { text: format!("say {term} now"), ..Default::default() });
    assert_eq!(v.action.as_str(), "block");
}

#[test]
fn a_large_dictionary_builds_and_matches() {
    // 5,000 terms of 20 bytes (100 KB): over the DFA budget, served by the NFA.
    let terms: Vec<String> = (0..5_000).map(|i| format!("codename{i:012}")).collect();
    let text = format!(
        "apiVersion: linewall/v1\nkind: Policy\nmetadata: {{name: words}}\nspec:\n  detectors:\n    - {{id: word, terms: [{}]}}\n  rules:\n    - id: block-word\n      when: {{detectors: {{any: [{{id: word}}]}}}}\n      action: block\n",
        terms.join(", ")
    );
    let set = PolicySet::load_sources(
        vec![PolicySource { name: String::from("big.yaml"), text, base_dir: None }],
        &LoadOptions::default(),
    )
    .expect("loads");
    let v = set
        .evaluate(&Message { text: String::from("about CODENAME000000004321 today"), ..Default::default() });
    assert_eq!(v.action.as_str(), "block");
    let v =
        set.evaluate(&Message { text: String::from("about codename0000000 today"), ..Default::default() });
    assert_eq!(v.action.as_str(), "allow");
}
