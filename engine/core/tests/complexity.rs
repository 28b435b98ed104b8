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

fn load_one(name: &str, text: String) -> Result<PolicySet, String> {
    PolicySet::load_sources(
        vec![PolicySource { name: String::from(name), text, base_dir: None }],
        &LoadOptions::default(),
    )
    .map_err(|d| d.to_string())
}

const HEADER: &str = "apiVersion: linewall/v1\nkind: Policy\nmetadata: {name: p}\nspec:\n";

#[test]
fn alias_expansion_is_bounded_and_reported_while_modest_reuse_loads() {
    // Eight nested anchors of ten aliases each in a plugin's free-form `config`: 10^8
    // events if expanded (a 546-byte fuzz input spent 200 ms before the parser's own,
    // larger cap stopped it).
    let mut bomb = String::from(HEADER);
    bomb.push_str("  detectors:\n    - id: d\n      plugin:\n        module: x.wasm\n        config:\n          a0: &a0 [k, k, k, k, k, k, k, k, k, k]\n");
    for i in 1..8 {
        let refs = vec![format!("*a{}", i - 1); 10].join(", ");
        bomb.push_str(&format!("          a{i}: &a{i} [{refs}]\n"));
    }
    let err = load_one("bomb.yaml", bomb).expect_err("refused");
    assert!(err.contains("bomb.yaml:"), "{err}");
    let lower = err.to_lowercase();
    assert!(["alias", "anchor", "budget"].iter().any(|w| lower.contains(w)), "{err}");

    // One keyword list reused by a few detectors is what anchors are for.
    let mut reuse = String::from(HEADER);
    reuse.push_str("  detectors:\n    - id: d0\n      pattern: 'x[0-9]{4}'\n      keywords: &words [account, acct, iban]\n");
    for i in 1..20 {
        reuse.push_str(&format!("    - id: d{i}\n      pattern: 'y{i}[0-9]{{4}}'\n      keywords: *words\n"));
    }
    reuse
        .push_str("  rules:\n    - id: r\n      when: {detectors: {any: [{id: d0}]}}\n      action: block\n");
    let set = load_one("reuse.yaml", reuse).expect("loads");
    assert_eq!(set.evaluate(&Message::text("account x1234")).action.as_str(), "block");
}

#[test]
fn policy_patterns_share_a_compile_budget_and_the_error_names_the_pattern() {
    // 200 patterns of repeated Unicode word classes took seconds to compile.
    let mut text = String::from(HEADER);
    text.push_str("  detectors:\n");
    for i in 0..200 {
        text.push_str(&format!("    - id: d{i}\n      pattern: '(?:\\w+\\s*){{1,20}}qq{i}'\n"));
    }
    text.push_str("  rules:\n    - id: r\n      when: {detectors: {any: [{id: d0}]}}\n      action: block\n");
    let err = load_one("heavy.yaml", text).expect_err("over the budget");
    assert!(err.contains("the set's patterns together may use 512 KiB"), "{err}");
    assert!(err.contains("heavy.yaml:"), "{err}");
    assert!(err.contains("ASCII classes"), "{err}");
    // The first patterns fit; the error names the one that does not (and those after it).
    assert!(!err.contains("detector `d0`"), "{err}");

    // Fifty of them with ASCII classes are fine.
    let mut ok = String::from(HEADER);
    ok.push_str("  detectors:\n");
    for i in 0..50 {
        ok.push_str(&format!("    - id: d{i}\n      pattern: '(?:[a-zA-Z0-9_]+\\s*){{1,20}}qq{i}'\n"));
    }
    ok.push_str("  rules:\n    - id: r\n      when: {detectors: {any: [{id: d7}]}}\n      action: block\n");
    let set = load_one("ascii.yaml", ok).expect("ASCII classes fit");
    assert_eq!(set.evaluate(&Message::text("hello world qq7")).action.as_str(), "block");
}

#[test]
fn thousands_of_context_words_load_and_still_boost() {
    // 4,500 distinct keywords (60 KB): their DFA took over a second to build.
    let words: Vec<String> = (0..4_500).map(|i| format!("kw{i:010}")).collect();
    let text = format!(
        "{HEADER}  detectors:\n    - id: d\n      pattern: 'x[0-9]{{4}}'\n      requires_keywords: true\n      keywords: [{}]\n  rules:\n    - id: r\n      when: {{detectors: {{any: [{{id: d}}]}}}}\n      action: block\n",
        words.join(", ")
    );
    let set = load_one("words.yaml", text).expect("loads");
    assert_eq!(set.evaluate(&Message::text("kw0000004321 x1234")).action.as_str(), "block");
    assert_eq!(set.evaluate(&Message::text("kw00000043 x1234")).action.as_str(), "allow");
}
