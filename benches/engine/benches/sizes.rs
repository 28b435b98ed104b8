//! Evaluation cost by message size, bulk scanning speed, policy compile time, and
//! allocations per evaluation (divan's allocation profiler counts them per iteration).
//!
//! Run: `cargo bench -p linewall-benches --bench sizes`. Every pack is loaded.
//!
//! - `clean`: business prose with nothing to find (the prefilter's best case), at 50 B,
//!   300 B, 4 KiB, 64 KiB and 1 MiB; throughput in bytes/s.
//! - `dense`: dev-corpus messages with findings, concatenated to the same sizes. The
//!   finding counts are checked first, so a change that finds less fails.
//! - `compile`: loading a policy with 10 / 100 / 1,000 rules over built-in, pattern and
//!   term detectors.

use divan::counter::BytesCount;
use divan::{AllocProfiler, Bencher, black_box};
use linewall_benches::{BREADTH_PACKS, PROSE, corpus, packs, packs_except, sized};
use linewall_engine::Message;
use linewall_engine::policy::{PolicySet, PolicySource};

#[global_allocator]
static ALLOC: AllocProfiler = AllocProfiler::system();

const SIZES: [usize; 5] = [50, 300, 4 << 10, 64 << 10, 1 << 20];

fn dense_source() -> String {
    let set = packs();
    corpus()
        .into_iter()
        .filter(|m| !set.evaluate(m).findings.is_empty())
        .map(|m| m.text)
        .collect::<Vec<_>>()
        .join(" \n ")
}

/// Least findings expected in each dense text (measured when this bench was written);
/// fewer means a detector stopped finding things.
const MIN_DENSE_FINDINGS: [usize; 5] = [1, 3, 35, 560, 8_900];

fn main() {
    let set = packs();
    for size in SIZES {
        let n = set.evaluate(&Message::text(sized(PROSE, size))).findings.len();
        assert_eq!(n, 0, "clean text of {size} bytes has {n} findings");
    }
    let dense = dense_source();
    for (size, min) in SIZES.iter().zip(MIN_DENSE_FINDINGS) {
        let n = set.evaluate(&Message::text(sized(&dense, *size))).findings.len();
        eprintln!("dense text of {size} bytes: {n} findings");
        assert!(n >= min, "dense text of {size} bytes has {n} findings, expected at least {min}");
    }
    divan::main();
}

fn bench_text(bencher: Bencher, text: String) {
    let set = packs();
    let msg = Message::text(text);
    bencher.counter(BytesCount::new(msg.text.len())).bench_local(|| black_box(set.evaluate(black_box(&msg))));
}

#[divan::bench(args = SIZES, sample_count = 30)]
fn clean(bencher: Bencher, size: usize) {
    bench_text(bencher, sized(PROSE, size));
}

/// Same-run baseline: clean text through the shipped packs without the breadth packs.
#[divan::bench(args = SIZES, sample_count = 30)]
fn clean_without_breadth_packs(bencher: Bencher, size: usize) {
    let set = packs_except(BREADTH_PACKS);
    let msg = Message::text(sized(PROSE, size));
    bencher.counter(BytesCount::new(msg.text.len())).bench_local(|| black_box(set.evaluate(black_box(&msg))));
}

#[divan::bench(args = SIZES, sample_count = 30)]
fn dense(bencher: Bencher, size: usize) {
    bench_text(bencher, sized(&dense_source(), size));
}

/// A policy with `n` rules cycling over built-in detectors, pattern detectors and term
/// dictionaries, with scopes and conditions.
fn policy_with_rules(n: usize) -> String {
    let builtins = ["credit_card", "iban", "us_ssn", "email", "phone", "aws_access_key", "uk_nino", "jwt"];
    let mut y = String::from(
        "apiVersion: linewall/v1\nkind: Policy\nmetadata: {name: many-rules}\nspec:\n  detectors:\n",
    );
    let locals = n / 4 + 1;
    for i in 0..locals {
        if i % 2 == 0 {
            y.push_str(&format!(
                "    - id: code-{i}\n      pattern: '\\bZX{i:04}-[0-9]{{6}}\\b'\n      keywords: [ref{i}, code{i}]\n"
            ));
        } else {
            y.push_str(&format!("    - id: code-{i}\n      terms: [project{i}, \"codename {i}\"]\n"));
        }
    }
    y.push_str("  rules:\n");
    for i in 0..n {
        let det = if i % 2 == 0 {
            builtins[i % builtins.len()].to_string()
        } else {
            format!("code-{}", i % locals)
        };
        let action = ["block", "redact", "allow"][i % 3];
        y.push_str(&format!(
            "    - id: rule-{i}\n      when:\n        directions: [{}]\n        detectors: {{any: [{{id: {det}, min_count: {}}}]}}\n      action: {action}\n",
            if i % 2 == 0 { "outbound" } else { "inbound" },
            1 + i % 2
        ));
        if action == "redact" {
            y.push_str("      redact: {style: label}\n");
        }
    }
    y
}

#[divan::bench(args = [10, 100, 1_000], sample_count = 20)]
fn compile(bencher: Bencher, rules: usize) {
    let yaml = policy_with_rules(rules);
    let load = || {
        PolicySet::load_sources(
            vec![PolicySource { name: "many.yaml".into(), text: yaml.clone(), base_dir: None }],
            &Default::default(),
        )
    };
    assert!(load().is_ok(), "{}", load().err().map(|d| d.to_string()).unwrap_or_default());
    bencher.bench_local(|| black_box(load()));
}
