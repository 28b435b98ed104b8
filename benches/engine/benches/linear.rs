//! Linear time, for every built-in detector: each runs (as the engine runs it, through
//! normalization, gate, validators and context words) over inputs of 64, 128 and 256 KiB,
//! and the table shows how time grows when the input doubles (≈ 2.0 is linear, ≈ 4.0
//! quadratic). A benchmark to read, not a pass/fail check.
//!
//! Run: `cargo bench -p linewall-benches --bench linear` (add detector ids to run only
//! those; `LINEAR_KIB=256,512,1024` for other sizes).
//!
//! Three inputs per detector:
//! - `spaced`: its examples separated by prose, repeated;
//! - `dense`: the first line of its first example repeated line after line with nothing
//!   between (1 MB of `-----BEGIN PRIVATE KEY-----` lines took 32 s before the fix);
//! - `near`: adversarial near misses, repeated: each example with its last digit or
//!   letter changed (checksums fail) and cut short by one character, its negative
//!   examples, and its context words and gate literals followed by almost-values, so
//!   gates open and validators run without a finding.

use std::time::{Duration, Instant};

use divan::black_box;
use linewall_engine::Message;
use linewall_engine::detect::{BuiltinDetector, Gate, builtin};
use linewall_engine::policy::PolicySet;
use linewall_engine::testing::catalogue::builtin_alone;

/// Input sizes in KiB, each double the one before.
const SIZES_KIB: [usize; 3] = [64, 128, 256];
/// Runs per size; the fastest counts (the machine is shared, noise only adds time).
const RUNS: usize = 15;

/// `unit` repeated to `size` bytes, cut on a char boundary.
fn sized(unit: &str, size: usize) -> String {
    let mut s = unit.repeat(size / unit.len().max(1) + 1);
    let mut end = size.min(s.len());
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s.truncate(end);
    s
}

/// `ex` with its last ASCII digit or letter changed (a different digit or letter).
fn bumped(ex: &str) -> String {
    let mut b = ex.as_bytes().to_vec();
    if let Some(c) = b.iter_mut().rev().find(|c| c.is_ascii_alphanumeric()) {
        *c = match *c {
            b'9' => b'0',
            b'z' => b'a',
            b'Z' => b'A',
            x => x + 1,
        };
    }
    String::from_utf8(b).unwrap_or_else(|_| ex.to_owned())
}

/// Near misses of detector `d` (see the module comment), one after another.
fn near_misses(d: &BuiltinDetector) -> String {
    let mut out = String::new();
    for ex in d.examples {
        let cut = ex.char_indices().last().map_or("", |(i, _)| &ex[..i]);
        out.push_str(&format!("{} ; {cut} ; ", bumped(ex)));
    }
    for ex in d.negative_examples {
        out.push_str(&format!("{ex} ; "));
    }
    let digits = "4111 1111 1111 1112 9780 12-34-56";
    for k in d.keywords.iter().take(16) {
        out.push_str(&format!("{k}: {digits} "));
    }
    if let Gate::AnyLiteral(lits) = d.gate {
        for l in lits.iter().take(16) {
            out.push_str(&format!("{l}{} ", bumped(l)));
        }
    }
    out.push('\n');
    out
}

fn fastest(set: &PolicySet, text: &str) -> Duration {
    let msg = Message::text(text);
    (0..RUNS)
        .map(|_| {
            let t = Instant::now();
            black_box(set.evaluate(black_box(&msg)));
            t.elapsed()
        })
        .min()
        .unwrap_or_default()
}

fn main() {
    let only: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with('-')).collect();
    let sizes: Vec<usize> = std::env::var("LINEAR_KIB")
        .ok()
        .map(|v| v.split(',').filter_map(|n| n.trim().parse().ok()).collect())
        .filter(|v: &Vec<usize>| v.len() == 3)
        .unwrap_or_else(|| SIZES_KIB.to_vec());
    println!(
        "| detector | input | {} KiB | {} KiB | {} KiB | x({}/{}) | x({}/{}) |",
        sizes[0], sizes[1], sizes[2], sizes[1], sizes[0], sizes[2], sizes[1]
    );
    println!("|---|---|---:|---:|---:|---:|---:|");
    let mut worst = (0.0f64, String::new());
    let (mut detectors, mut ratios) = (0usize, Vec::new());
    for d in builtin::all() {
        if !only.is_empty() && !only.iter().any(|o| o == d.id) {
            continue;
        }
        let Some(set) = builtin_alone(d.id) else { continue };
        detectors += 1;
        let first = d.examples.first().copied().unwrap_or("x");
        let spaced = format!("{} and then we talk about the weather. ", d.examples.join(" , then "));
        let dense = format!("{}\n", first.lines().next().unwrap_or(first));
        for (kind, unit) in [("spaced", spaced), ("dense", dense), ("near", near_misses(d))] {
            let times: Vec<Duration> = sizes.iter().map(|&n| fastest(&set, &sized(&unit, n << 10))).collect();
            let ratio = |a: Duration, b: Duration| b.as_secs_f64() / a.as_secs_f64().max(1e-9);
            let (r1, r2) = (ratio(times[0], times[1]), ratio(times[1], times[2]));
            ratios.extend([r1, r2]);
            if r2 > worst.0 {
                worst = (r2, format!("{} {kind}", d.id));
            }
            let ms = |t: Duration| format!("{:.2} ms", t.as_secs_f64() * 1e3);
            println!(
                "| {} | {kind} | {} | {} | {} | {r1:.2} | {r2:.2} |",
                d.id,
                ms(times[0]),
                ms(times[1]),
                ms(times[2])
            );
        }
    }
    println!("\nlargest second ratio: {:.2} ({})", worst.0, worst.1);
    let within = |max: f64| ratios.iter().filter(|&&r| r <= max).count();
    println!(
        "{detectors} detectors, {} ratios: {} <= 2.3, {} <= 3.0, {} above 3.0",
        ratios.len(),
        within(2.3),
        within(3.0),
        ratios.len() - within(3.0)
    );
}
