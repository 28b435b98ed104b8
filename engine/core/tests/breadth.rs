//! Per-detector precision and recall over the generated breadth corpus
//! (`testdata/breadth/*.jsonl`, format in its README), evaluated through the engine: one
//! policy with a monitor rule per detector id, every message judged by `PolicySet::evaluate`.
//! Run with `--nocapture` to see the table.

use std::collections::BTreeMap;

use linewall_engine::Message;
use linewall_engine::message::Direction;
use linewall_engine::policy::{LoadOptions, PolicySet, PolicySource};

/// Floors for detectors whose candidates pass a checksum, and for context-gated ones.
const CHECKSUM_FLOOR: f64 = 0.97;
const CONTEXT_FLOOR: f64 = 0.90;

struct Line {
    detector: String,
    text: String,
    span: Option<(usize, usize)>,
    class: String,
}

#[derive(Default, Clone, Copy)]
struct Score {
    tp: usize,
    fp: usize,
    fn_: usize,
}

impl Score {
    fn precision(&self) -> f64 {
        if self.tp + self.fp == 0 { 1.0 } else { self.tp as f64 / (self.tp + self.fp) as f64 }
    }
    fn recall(&self) -> f64 {
        if self.tp + self.fn_ == 0 { 1.0 } else { self.tp as f64 / (self.tp + self.fn_) as f64 }
    }
}

fn corpus() -> Vec<Line> {
    let dir = format!("{}/testdata/breadth", env!("CARGO_MANIFEST_DIR"));
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("testdata/breadth is in the repository")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "jsonl"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no corpus file in {dir}");
    let mut out = Vec::new();
    for f in files {
        let text = std::fs::read_to_string(&f).expect("readable corpus");
        for (n, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
            let v: serde_json::Value =
                serde_json::from_str(line).unwrap_or_else(|e| panic!("{}:{}: {e}", f.display(), n + 1));
            let s = |k: &str| {
                v[k].as_str().unwrap_or_else(|| panic!("{}:{}: no {k}", f.display(), n + 1)).to_owned()
            };
            let span = (s("expect") == "match").then(|| {
                (v["start"].as_u64().unwrap_or(0) as usize, v["end"].as_u64().unwrap_or(0) as usize)
            });
            out.push(Line { detector: s("detector"), text: s("text"), span, class: s("class") });
        }
    }
    out
}

/// A policy that reports every finding of each id (monitor mode, lowest confidence).
fn policy(ids: &[&str]) -> PolicySet {
    let mut yaml =
        String::from("apiVersion: linewall/v1\nkind: Policy\nmetadata: {name: breadth}\nspec:\n  rules:\n");
    for id in ids {
        yaml.push_str(&format!(
            "    - id: r-{}\n      mode: monitor\n      when: {{detectors: {{any: [{{id: {id}, min_confidence: low}}]}}}}\n      action: redact\n",
            id.replace('_', "-")
        ));
    }
    let src = PolicySource { name: "breadth.yaml".into(), text: yaml, base_dir: None };
    PolicySet::load_sources(vec![src], &LoadOptions::default()).unwrap_or_else(|d| panic!("policy: {d}"))
}

#[test]
fn breadth_corpus_meets_per_detector_floors() {
    let lines = corpus();
    let mut ids: Vec<&str> = lines.iter().map(|l| l.detector.as_str()).collect();
    ids.sort_unstable();
    ids.dedup();
    for id in &ids {
        assert!(
            linewall_engine::detect::builtin::get(id).is_some(),
            "corpus names `{id}`, which is not a built-in detector"
        );
    }
    let set = policy(&ids);
    let mut scores: BTreeMap<&str, Score> = BTreeMap::new();
    let mut class: BTreeMap<&str, &str> = BTreeMap::new();
    let mut misses: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for l in &lines {
        class.insert(&l.detector, &l.class);
        let msg = Message { text: l.text.clone(), direction: Direction::Inbound, ..Message::default() };
        let verdict = set.evaluate(&msg);
        let found: Vec<(usize, usize)> = verdict
            .findings
            .iter()
            .filter(|f| f.field == "text" && f.detector == l.detector)
            .map(|f| (f.start, f.end))
            .collect();
        let sc = scores.entry(&l.detector).or_default();
        match l.span {
            Some((s, e)) => {
                let hit = found.iter().any(|&(a, b)| a < e && s < b);
                if hit {
                    sc.tp += 1;
                } else {
                    sc.fn_ += 1;
                    misses.entry(&l.detector).or_default().push(format!("missed: {:?}", l.text));
                }
                let stray = found.iter().filter(|&&(a, b)| !(a < e && s < b)).count();
                sc.fp += stray;
            }
            None => {
                sc.fp += found.len();
                if !found.is_empty() {
                    misses.entry(&l.detector).or_default().push(format!("false positive: {:?}", l.text));
                }
            }
        }
    }
    let mut table = format!(
        "\n{:<24} {:>8} {:>5} {:>5} {:>5} {:>9} {:>7}\n",
        "detector", "class", "TP", "FP", "FN", "precision", "recall"
    );
    let mut failures = Vec::new();
    for (id, s) in &scores {
        let c = class.get(id).copied().unwrap_or("context");
        table.push_str(&format!(
            "{id:<24} {c:>8} {:>5} {:>5} {:>5} {:>9.3} {:>7.3}\n",
            s.tp,
            s.fp,
            s.fn_,
            s.precision(),
            s.recall()
        ));
        let floor = if c == "checksum" { CHECKSUM_FLOOR } else { CONTEXT_FLOOR };
        if s.precision() < floor || s.recall() < floor {
            let examples: Vec<String> = misses.get(id).into_iter().flatten().take(5).cloned().collect();
            failures.push(format!(
                "{id}: precision {:.3} recall {:.3} (floor {floor})\n    {}",
                s.precision(),
                s.recall(),
                examples.join("\n    ")
            ));
        }
    }
    println!("{table}");
    // BREADTH_VERBOSE=1 lists every miss and false positive (synthetic values only).
    if std::env::var_os("BREADTH_VERBOSE").is_some() {
        for (id, m) in &misses {
            println!("{id}:\n    {}", m.join("\n    "));
        }
    }
    assert!(failures.is_empty(), "{table}\n{}", failures.join("\n"));
}
