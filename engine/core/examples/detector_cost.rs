//! Where the scan time goes: each built-in detector's matcher timed alone over the dev
//! corpus (gate applied as the engine applies it) and over clean prose, plus whole
//! evaluations with and without the breadth packs. A profiling aid, not a benchmark:
//! `cargo run --release -p linewall-engine --example detector_cost`.

use std::time::Instant;

use linewall_engine::Message;
use linewall_engine::detect::builtin::built;
use linewall_engine::detect::{Candidate, Field, Gate};
use linewall_engine::normalize::Normalized;
use linewall_engine::policy::{BUILTIN_PACKS, LoadOptions, PolicySet, PolicySource};

fn corpus() -> Vec<String> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/testdata/dev-corpus.jsonl");
    let text = std::fs::read_to_string(path).unwrap_or_default();
    text.lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter_map(|v| v["text"].as_str().map(str::to_owned))
        .collect()
}

fn open(gate: Gate, field: &Field<'_>, keywords: &[&str]) -> bool {
    let text = field.text();
    let lower = text.to_ascii_lowercase();
    match gate {
        Gate::Always => true,
        Gate::MinDigits(n) => text.bytes().filter(u8::is_ascii_digit).count() >= n,
        Gate::RunLengths(m) => field.run_lengths() & m != 0,
        Gate::AnyByte(set) => text.bytes().any(|b| set.contains(&b)),
        Gate::AnyLiteral(lits) => lits.iter().any(|l| lower.contains(&l.to_ascii_lowercase())),
        Gate::Keywords => keywords.iter().any(|k| lower.contains(k)),
    }
}

fn main() {
    let texts = corpus();
    let clean = "Thanks for your message. I have looked at the portfolio review you asked about and \
         the allocation looks fine for now. We can talk through the rebalancing options at our \
         next meeting; let me know which afternoon suits you best and I will send an invite. "
        .repeat(200);
    let rounds = 9;
    let looping = std::env::args().nth(1).as_deref() == Some("loop");
    let mut rows = Vec::new();
    let mut out: Vec<Candidate> = Vec::new();
    let norm: Vec<Normalized<'_>> = texts.iter().map(|t| Normalized::new(t)).collect();
    // Fields are tokenized once up front: the engine shares that work between detectors.
    let fields: Vec<Field<'_>> = norm.iter().map(|n| Field::new(n.text(), 2026)).collect();
    for f in &fields {
        f.runs();
        f.words();
    }
    let clean_field = Field::new(&clean, 2026);
    clean_field.runs();
    clean_field.words();
    for b in built().iter().filter(|_| !looping) {
        let opened: Vec<&Field<'_>> =
            fields.iter().filter(|f| open(b.spec.gate, f, b.spec.keywords)).collect();
        // One untimed pass: first-use costs (lazily compiled regexes) are not scan costs.
        for f in &opened {
            out.clear();
            b.matcher.find_in_field(f, &mut out);
        }
        // The fastest of several passes: the machine is shared, and a slow pass is one
        // where another process held the core.
        let mut best = f64::INFINITY;
        for _ in 0..rounds {
            let t0 = Instant::now();
            for f in &opened {
                out.clear();
                b.matcher.find_in_field(f, &mut out);
            }
            best = best.min(t0.elapsed().as_nanos() as f64);
        }
        let corpus_ns = best / texts.len() as f64;
        let t1 = Instant::now();
        let clean_open = open(b.spec.gate, &clean_field, b.spec.keywords);
        if clean_open {
            for _ in 0..rounds {
                out.clear();
                b.matcher.find_in_field(&clean_field, &mut out);
            }
        }
        let clean_mbs = if clean_open {
            (clean.len() * rounds) as f64 / t1.elapsed().as_secs_f64() / 1e6
        } else {
            f64::INFINITY
        };
        if clean_open {
            out.clear();
            b.matcher.find_in_field(&clean_field, &mut out);
            println!("clean text opens {} ({} candidates, {clean_mbs:.0} MB/s)", b.spec.id, out.len());
        }
        rows.push((b.spec.id, corpus_ns, opened.len(), clean_mbs));
    }
    rows.sort_by(|a, b| b.1.total_cmp(&a.1));
    let total: f64 = rows.iter().map(|r| r.1).sum();
    println!("per-detector cost, ns per corpus message (gate applied), sum {total:.0} ns");
    for (id, ns, n, mbs) in rows.iter().take(40) {
        println!("{id:32} {ns:8.0} ns/msg  opened {n:5}  clean {mbs:10.0} MB/s");
    }
    let t = Instant::now();
    for _ in 0..rounds {
        for n in &norm {
            let f = Field::new(n.text(), 2026);
            std::hint::black_box((f.runs().len(), f.words().len()));
        }
    }
    let ns = t.elapsed().as_nanos() as f64 / (rounds * texts.len()) as f64;
    println!("digit runs + words: {ns:.0} ns/msg");
    let msgs: Vec<Message> = texts.iter().map(|t| Message::text(t.as_str())).collect();
    let all = PolicySet::builtin(&LoadOptions::default()).unwrap_or_else(|d| panic!("{d}"));
    let breadth = ["pii-eu", "pii-apac", "pii-americas", "pii-mea", "securities", "fraud"];
    let sources = BUILTIN_PACKS
        .iter()
        .filter(|(name, _)| !breadth.iter().any(|b| name.ends_with(&format!("/{b}.yaml"))))
        .map(|(name, text)| PolicySource {
            name: (*name).to_owned(),
            text: (*text).to_owned(),
            base_dir: None,
        })
        .collect();
    let without = PolicySet::load_sources(sources, &LoadOptions::default()).unwrap_or_else(|d| panic!("{d}"));
    let cm = Message::text(clean.as_str());
    // `-- loop corpus|clean all|without N`: N passes and nothing else, for `perf record`
    // or `perf stat -e task-clock` (CPU time, which a shared machine does not inflate).
    let args: Vec<String> = std::env::args().collect();
    if looping {
        let set = if args.get(3).map(String::as_str) == Some("without") { &without } else { &all };
        let n: usize = args.get(4).and_then(|n| n.parse().ok()).unwrap_or(20);
        for _ in 0..n {
            if args.get(2).map(String::as_str) == Some("clean") {
                std::hint::black_box(set.evaluate(&cm));
            } else {
                for m in &msgs {
                    std::hint::black_box(set.evaluate(m));
                }
            }
        }
        return;
    }
    for round in 0..3 {
        for (name, set) in [("all packs", &all), ("without breadth packs", &without)] {
            for m in &msgs {
                std::hint::black_box(set.evaluate(m));
            }
            let t = Instant::now();
            for _ in 0..rounds {
                for m in &msgs {
                    std::hint::black_box(set.evaluate(m));
                }
            }
            let per = t.elapsed().as_secs_f64() / (rounds * msgs.len()) as f64;
            let t = Instant::now();
            for _ in 0..20 {
                std::hint::black_box(set.evaluate(&cm));
            }
            let mbs = (clean.len() * 20) as f64 / t.elapsed().as_secs_f64() / 1e6;
            println!(
                "round {round} {name:22}: corpus {:7.0} msg/s, clean {} B {mbs:5.0} MB/s",
                1.0 / per,
                clean.len()
            );
        }
    }
}
