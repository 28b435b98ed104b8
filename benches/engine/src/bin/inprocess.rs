//! Runs a JSON Lines corpus through the engine in process and prints, per message, the
//! findings as `{"id", "findings": [{"detector", "start", "end"}]}`, then one summary line
//! `{"summary": {"messages", "seconds", "p50_us", "p99_us"}}` on stderr.
//!
//! Usage: `inprocess POLICY_PATH CORPUS.jsonl` (used by benches/compare). The corpus is
//! evaluated once untimed (warm-up), then timed in passes until at least a second has
//! passed, so a small corpus still gives a stable rate.

use std::io::Write;
use std::time::Instant;

use linewall_engine::Message;
use linewall_engine::policy::{LoadOptions, PolicySet};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (Some(policy), Some(corpus)) = (args.get(1), args.get(2)) else {
        eprintln!("usage: inprocess POLICY_PATH CORPUS.jsonl");
        std::process::exit(2);
    };
    let set = match PolicySet::load_path(std::path::Path::new(policy), &LoadOptions::default()) {
        Ok(s) => s,
        Err(d) => {
            eprintln!("{d}");
            std::process::exit(2);
        }
    };
    let text = std::fs::read_to_string(corpus).unwrap_or_default();
    let msgs: Vec<(String, Message)> = text
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .map(|v| (v["id"].as_str().unwrap_or("").to_owned(), Message::text(v["text"].as_str().unwrap_or(""))))
        .collect();
    // One untimed pass first: the steady state of a long-running service is what the
    // comparison measures (lazily built numbering-plan regexes are compiled by then).
    for (_, m) in &msgs {
        std::hint::black_box(set.evaluate(m));
    }
    let mut lat = Vec::with_capacity(msgs.len());
    let mut out = Vec::with_capacity(msgs.len());
    let mut evaluated = 0usize;
    let start = Instant::now();
    loop {
        for (_, m) in &msgs {
            let t = Instant::now();
            let v = set.evaluate(m);
            lat.push(t.elapsed().as_nanos() as f64 / 1000.0);
            if out.len() < msgs.len() {
                out.push(v);
            }
        }
        evaluated += msgs.len();
        if msgs.is_empty() || start.elapsed().as_secs_f64() >= 1.0 {
            break;
        }
    }
    let secs = start.elapsed().as_secs_f64();
    let stdout = std::io::stdout();
    let mut w = std::io::BufWriter::new(stdout.lock());
    for ((id, _), v) in msgs.iter().zip(&out) {
        let findings: Vec<serde_json::Value> = v
            .findings
            .iter()
            .map(|f| serde_json::json!({"detector": f.detector, "start": f.start, "end": f.end}))
            .collect();
        let _ = writeln!(w, "{}", serde_json::json!({"id": id, "findings": findings}));
    }
    lat.sort_by(f64::total_cmp);
    let pct = |p: f64| lat.get(((lat.len().max(1) - 1) as f64 * p).round() as usize).copied().unwrap_or(0.0);
    eprintln!(
        "{}",
        serde_json::json!({"summary": {"messages": evaluated, "seconds": secs, "p50_us": pct(0.5), "p99_us": pct(0.99)}})
    );
}
