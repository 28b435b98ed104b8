//! Compile time of a term list kept as admins keep it (`terms_file:`), by list size.
//!
//! Run: `cargo bench -p linewall-benches --bench terms`. Each size loads a policy directory
//! whose one `terms` detector reads `lists/terms.txt` (one term a line, comments, a mix of
//! tickers, code names and multi-word names), so the figure includes reading, hashing into
//! the policy version and building the automaton. The 1,000-term list is the baseline to
//! read the 100,000-term figure against (issue: 100,000 terms compile in under a second).
//!
//! The engine keeps the last few literal automata and reuses one when a reload brings the
//! same literals back, so every iteration here edits the list first (one term changes):
//! each load builds its automaton, as the first load of a changed list does.

use divan::{Bencher, black_box};
use linewall_engine::policy::PolicySet;
use std::fmt::Write as _;
use std::path::PathBuf;

fn main() {
    divan::main();
}

/// A policy directory with `n` terms; removed when dropped.
struct Dir(PathBuf);

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Deterministic terms: tickers, code names and two-word names, no two alike.
fn terms(n: usize) -> String {
    let mut s = String::from("# watch list, generated for the benchmark\n");
    let syll = ["ka", "lo", "mi", "ne", "ru", "sa", "to", "vi", "ze", "qu"];
    for i in 0..n {
        let mut w = String::new();
        let mut k = i;
        loop {
            w.push_str(syll[k % syll.len()]);
            k /= syll.len();
            if k == 0 {
                break;
            }
        }
        match i % 3 {
            0 => writeln!(s, "{}", w.to_uppercase()),
            1 => writeln!(s, "project {w}"),
            _ => writeln!(s, "{w}bird holdings"),
        }
        .expect("writing to a String cannot fail");
    }
    s
}

fn dir(n: usize) -> Dir {
    let d = std::env::temp_dir().join(format!("linewall-terms-bench-{n}-{}", std::process::id()));
    std::fs::create_dir_all(d.join("lists")).expect("temp dir");
    let d = Dir(d);
    write_terms(&d, n, 0);
    std::fs::write(
        d.0.join("watch.yaml"),
        "apiVersion: linewall/v1\nkind: Policy\nmetadata: {name: watch}\nspec:\n  detectors:\n    \
         - id: watch-list\n      terms_file: lists/terms.txt\n  rules:\n    - id: watched\n      \
         when: {detectors: {any: [{id: watch-list}]}}\n      action: block\n",
    )
    .expect("policy file");
    d
}

/// Writes the `n`-term list whose last term carries `edition`, so each edition is a new list.
fn write_terms(d: &Dir, n: usize, edition: u64) {
    let list = format!("{}edition{edition} holdings\n", terms(n));
    std::fs::write(d.0.join("lists/terms.txt"), list).expect("term list");
}

// One load per sample: divan makes a sample's inputs before timing it, and a sample of
// several loads would rebuild the automaton only for the first.
#[divan::bench(args = [1_000, 10_000, 100_000], sample_count = 10, sample_size = 1)]
fn terms_file(bencher: Bencher, n: usize) {
    let d = dir(n);
    let load = || PolicySet::load_path(&d.0, &Default::default());
    if let Err(e) = load() {
        panic!("{e}");
    }
    let mut edition = 0;
    bencher
        .with_inputs(|| {
            edition += 1;
            write_terms(&d, n, edition);
        })
        .bench_local_values(|()| black_box(load()));
}

/// The shipped packs plus a policy with a short watch list that changes at every load: the
/// packs' gate literals and the terms share one automaton, so an admin's edit of a small
/// list rebuilds the large one (the reload an admin waits for).
#[divan::bench(sample_count = 10, sample_size = 1)]
fn packs_plus_edited_list(bencher: Bencher) {
    let d = dir(10);
    let packs = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../policies");
    for entry in std::fs::read_dir(&packs).expect("policies/") {
        let path = entry.expect("policies/ entry").path();
        if path.extension().is_some_and(|e| e == "yaml") {
            std::fs::copy(&path, d.0.join(path.file_name().expect("file name"))).expect("copy a pack");
        }
    }
    let load = || PolicySet::load_path(&d.0, &Default::default());
    if let Err(e) = load() {
        panic!("{e}");
    }
    let mut edition = 0;
    bencher
        .with_inputs(|| {
            edition += 1;
            write_terms(&d, 10, edition);
        })
        .bench_local_values(|()| black_box(load()));
}
