//! How long a policy with a 100,000-term `terms_file` takes to load (read, parse, compile
//! into the shared automaton), against the same policy with 10 terms in the same run, and
//! what the big list costs per evaluation. A timed release run, not a test:
//! `cargo run --release -p linewall-engine --example terms_compile [TERMS] [ROUNDS]`.

use std::path::Path;
use std::time::{Duration, Instant};

use linewall_engine::Message;
use linewall_engine::policy::{LoadOptions, PolicySet};

const POLICY: &str = "apiVersion: linewall/v1\nkind: Policy\nmetadata: {name: watchlist}\nspec:\n  detectors:\n    - {id: watchlist, terms_file: terms.txt}\n  rules:\n    - {id: r, when: {detectors: {any: [{id: watchlist}]}}, action: block}\n";

/// `n` distinct terms: ticker-like codes, words and two-word phrases, as a watch list has.
fn terms(n: usize) -> String {
    let mut out = String::from("# generated watch list\n");
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    for i in 0..n {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let letters: String =
            (0..4 + (x % 5) as usize).map(|k| char::from(b'a' + ((x >> (k * 5)) % 26) as u8)).collect();
        match i % 3 {
            0 => out.push_str(&format!("{}{i}\n", letters.to_ascii_uppercase())),
            1 => out.push_str(&format!("{letters}{i}\n")),
            _ => out.push_str(&format!("{letters} project{i}\n")),
        }
    }
    out
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn time_load(dir: &Path, rounds: usize) -> (Duration, PolicySet) {
    let opts = LoadOptions { hash_key: Some(b"bench".to_vec()), ..LoadOptions::default() };
    let mut times = Vec::new();
    let mut last = None;
    for _ in 0..rounds {
        let t = Instant::now();
        let set = PolicySet::load_path(dir, &opts).unwrap_or_else(|e| panic!("{e}"));
        times.push(t.elapsed());
        last = Some(set);
    }
    (median(times), last.unwrap_or_else(|| unreachable!("rounds > 0")))
}

fn time_eval(set: &PolicySet, msg: &Message, n: usize) -> Duration {
    let t = Instant::now();
    for _ in 0..n {
        std::hint::black_box(set.evaluate(std::hint::black_box(msg)));
    }
    t.elapsed() / u32::try_from(n).unwrap_or(u32::MAX)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let big: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(100_000);
    let rounds: usize = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(5).max(1);
    let root = std::env::temp_dir().join(format!("linewall-terms-bench-{}", std::process::id()));
    let (small_dir, big_dir) = (root.join("small"), root.join("big"));
    for (d, n) in [(&small_dir, 10), (&big_dir, big)] {
        std::fs::create_dir_all(d).expect("dir");
        std::fs::write(d.join("policy.yaml"), POLICY).expect("policy");
        std::fs::write(d.join("terms.txt"), terms(n)).expect("terms");
    }
    let size = std::fs::metadata(big_dir.join("terms.txt")).map(|m| m.len()).unwrap_or(0);
    // Interleave so that machine load hits both alike.
    let mut small_t = Vec::new();
    let mut big_t = Vec::new();
    let mut sets = None;
    for _ in 0..rounds {
        let (s, small) = time_load(&small_dir, 1);
        let (b, bigset) = time_load(&big_dir, 1);
        small_t.push(s);
        big_t.push(b);
        sets = Some((small, bigset));
    }
    let (small_set, big_set) = sets.unwrap_or_else(|| unreachable!("rounds > 0"));
    let (s, b) = (median(small_t), median(big_t));
    println!("load+compile, median of {rounds} interleaved rounds:");
    println!("  10 terms:      {:>10.1} ms", s.as_secs_f64() * 1e3);
    println!(
        "  {big} terms: {:>10.1} ms  ({} KiB file)  ratio {:.1}x",
        b.as_secs_f64() * 1e3,
        size / 1024,
        b.as_secs_f64() / s.as_secs_f64()
    );
    let msg = Message::text(
        "Hi team, following up on the quarterly numbers: please send the revised deck to the client before Friday and keep the distribution list short. Thanks, and see you at the offsite next week.",
    );
    let list = terms(big);
    let named: Vec<&str> = list.lines().skip(1).step_by(big / 3 + 1).collect();
    let hit = Message::text(format!("note: {} for the report", named.join(", ")));
    let n = 20_000;
    let (es, eb) = (time_eval(&small_set, &msg, n), time_eval(&big_set, &msg, n));
    println!(
        "evaluate a 190-byte clean message: 10 terms {:.2} µs, {big} terms {:.2} µs (ratio {:.2})",
        es.as_secs_f64() * 1e6,
        eb.as_secs_f64() * 1e6,
        eb.as_secs_f64() / es.as_secs_f64()
    );
    let v = big_set.evaluate(&hit);
    println!("sanity: {} findings on a message naming {} list terms", v.findings.len(), named.len());
    let _ = std::fs::remove_dir_all(&root);
}
