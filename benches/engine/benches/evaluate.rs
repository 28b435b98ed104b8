//! In-process evaluation over the dev corpus with every shipped pack loaded.
//!
//! Run: `cargo bench -p linewall-benches --bench evaluate`. Divan reports time per
//! message (throughput in items/s). The corpus finding count is checked first so a change
//! that speeds up evaluation by finding less fails instead of looking good.

use divan::{Bencher, black_box};
use linewall_benches::{BREADTH_PACKS, corpus, findings, packs, packs_except};

/// Findings of the shipped packs over the dev corpus when this benchmark was written;
/// fewer means a detector stopped finding things.
const MIN_FINDINGS: usize = 1_243;

fn main() {
    let set = packs();
    let msgs = corpus();
    let n = findings(&set, &msgs);
    assert!(
        n >= MIN_FINDINGS,
        "the packs found {n} findings in the dev corpus, expected at least {MIN_FINDINGS}"
    );
    divan::main();
}

#[divan::bench(sample_count = 50, sample_size = 2000)]
fn corpus_message(bencher: Bencher) {
    cycle_corpus(bencher, packs());
}

/// Same-run baseline for the detector-breadth packs: the shipped packs without them.
#[divan::bench(sample_count = 50, sample_size = 2000)]
fn corpus_message_without_breadth_packs(bencher: Bencher) {
    cycle_corpus(bencher, packs_except(BREADTH_PACKS));
}

/// Baseline for ratios: the same corpus through a set with no policy, which still
/// parses nothing but pays for the verdict (record copy, decision id, allocation).
#[divan::bench(sample_count = 50, sample_size = 2000)]
fn corpus_message_no_policies(bencher: Bencher) {
    let set = linewall_engine::policy::PolicySet::load_sources(Vec::new(), &Default::default())
        .unwrap_or_else(|d| panic!("empty set: {d}"));
    cycle_corpus(bencher, set);
}

#[divan::bench(sample_count = 50, sample_size = 2000)]
fn clean_text_300_bytes(bencher: Bencher) {
    let set = packs();
    let msg = linewall_engine::Message::text(
        "Thanks for your message. I have looked at the portfolio review you asked about and \
         the allocation looks fine for now. We can talk through the rebalancing options at our \
         next meeting; let me know which afternoon suits you best and I will send an invite.",
    );
    bencher.bench_local(|| black_box(set.evaluate(black_box(&msg))));
}

/// Evaluates the corpus messages one after the other, one per iteration.
fn cycle_corpus(bencher: Bencher, set: linewall_engine::policy::PolicySet) {
    let msgs = corpus();
    let mut i = 0;
    bencher.counter(divan::counter::ItemsCount::new(1usize)).bench_local(|| {
        let m = &msgs[i % msgs.len()];
        i += 1;
        black_box(set.evaluate(black_box(m)))
    });
}
