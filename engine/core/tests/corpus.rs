//! Precision and recall of the built-in detectors over the labeled dev corpus and the
//! evasion set (`testdata/`, see its README). Run with `--nocapture` to see the table.
//!
//! Scoring: a finding is a hit when its detector matches the label (label families:
//! `crypto` = crypto_btc | crypto_eth, `api_token` = github_token | stripe_key |
//! slack_token | google_api_key) and its span overlaps the labeled span.

use std::collections::BTreeMap;

use linewall_engine::Message;
use linewall_engine::testing::catalogue::builtin_catalogue;

/// Labels whose detectors validate a checksum or an unmistakable format.
const STRICT: &[&str] = &[
    "credit_card",
    "iban",
    "us_aba_routing",
    "us_ssn",
    "crypto",
    "api_token",
    "aws_access_key",
    "aws_secret_key",
    "email",
    "phone",
];
/// Labels whose detectors rely on context words.
const CONTEXT: &[&str] = &["us_bank_account", "passport"];

fn family(detector: &str) -> &str {
    match detector {
        "crypto_btc" | "crypto_eth" => "crypto",
        "github_token" | "stripe_key" | "slack_token" | "google_api_key" => "api_token",
        d => d,
    }
}

#[derive(Default, Debug, Clone, Copy)]
struct Score {
    tp: usize,
    fp: usize,
    fn_: usize,
    hard_negative_fp: usize,
}

impl Score {
    fn precision(&self) -> f64 {
        if self.tp + self.fp == 0 { 1.0 } else { self.tp as f64 / (self.tp + self.fp) as f64 }
    }
    fn recall(&self) -> f64 {
        if self.tp + self.fn_ == 0 { 1.0 } else { self.tp as f64 / (self.tp + self.fn_) as f64 }
    }
    fn f1(&self) -> f64 {
        let (p, r) = (self.precision(), self.recall());
        if p + r == 0.0 { 0.0 } else { 2.0 * p * r / (p + r) }
    }
}

struct Span {
    label: String,
    start: usize,
    end: usize,
}

fn overlaps(a: (usize, usize), b: (usize, usize)) -> bool {
    a.0 < b.1 && b.0 < a.1
}

/// Scores one file; returns per-label scores.
fn score(file: &str) -> BTreeMap<String, Score> {
    let path = format!("{}/testdata/{file}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).expect("testdata is in the repository");
    let mut scores: BTreeMap<String, Score> = BTreeMap::new();
    let catalogue = builtin_catalogue().expect("the built-in catalogue compiles");
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let v: serde_json::Value = serde_json::from_str(line).expect("valid JSONL");
        let msg = v["text"].as_str().expect("text");
        let span = |e: &serde_json::Value, key: &str| e[key].as_u64().unwrap_or(0) as usize;
        let labels: Vec<Span> = v["entities"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|e| Span {
                label: e["detector"].as_str().unwrap_or("").to_owned(),
                start: span(e, "start"),
                end: span(e, "end"),
            })
            .collect();
        let negatives: Vec<(usize, usize)> = v["negatives"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|n| (span(n, "start"), span(n, "end")))
            .collect();
        // Through the engine, every built-in at once; findings are in code points.
        let found: Vec<(String, usize, usize)> = catalogue
            .evaluate(&Message::text(msg))
            .findings
            .iter()
            .map(|f| (family(&f.detector).to_owned(), f.start, f.end))
            .collect();
        for l in &labels {
            let hit = found.iter().any(|(d, s, e)| *d == l.label && overlaps((*s, *e), (l.start, l.end)));
            let sc = scores.entry(l.label.clone()).or_default();
            if hit { sc.tp += 1 } else { sc.fn_ += 1 }
        }
        for (d, s, e) in &found {
            let ok = labels.iter().any(|l| l.label == *d && overlaps((*s, *e), (l.start, l.end)));
            if !ok {
                let sc = scores.entry(d.clone()).or_default();
                sc.fp += 1;
                if negatives.iter().any(|&n| overlaps((*s, *e), n)) {
                    sc.hard_negative_fp += 1;
                }
            }
        }
    }
    scores
}

fn table(title: &str, scores: &BTreeMap<String, Score>) -> String {
    let mut s = format!(
        "\n{title}\n{:<20} {:>5} {:>5} {:>5} {:>7} {:>9} {:>7} {:>8}\n",
        "label", "TP", "FP", "FN", "hardFP", "precision", "recall", "F1"
    );
    for (k, v) in scores {
        s.push_str(&format!(
            "{:<20} {:>5} {:>5} {:>5} {:>7} {:>9.3} {:>7.3} {:>8.3}\n",
            k,
            v.tp,
            v.fp,
            v.fn_,
            v.hard_negative_fp,
            v.precision(),
            v.recall(),
            v.f1()
        ));
    }
    s
}

#[test]
fn builtin_detectors_meet_precision_and_recall_on_the_dev_corpus() {
    let dev = score("dev-corpus.jsonl");
    println!("{}", table("dev-corpus.jsonl", &dev));
    let mut failures = Vec::new();
    for (labels, floor) in [(STRICT, 0.97), (CONTEXT, 0.90)] {
        for &label in labels {
            let s = dev.get(label).copied().unwrap_or_default();
            if s.tp + s.fn_ == 0 {
                failures.push(format!("{label}: no labels scored"));
                continue;
            }
            if s.precision() < floor || s.recall() < floor {
                failures.push(format!(
                    "{label}: precision {:.3} recall {:.3} (floor {floor})",
                    s.precision(),
                    s.recall()
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn builtin_detectors_survive_evasion() {
    let ev = score("dev-evasion.jsonl");
    println!("{}", table("dev-evasion.jsonl", &ev));
    let (tp, fn_) = ev.values().fold((0, 0), |(t, f), s| (t + s.tp, f + s.fn_));
    let recall = tp as f64 / (tp + fn_).max(1) as f64;
    println!("evasion recall over all labels: {recall:.3} ({tp}/{})", tp + fn_);
    assert!(recall >= 0.95, "evasion recall {recall:.3} < 0.95");
}
