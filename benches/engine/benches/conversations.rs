//! What joining split values (docs/10-conversations.md) adds per message, in process.
//!
//! Run: `cargo bench -p linewall-benches --bench conversations`. The same dev-corpus
//! messages go through the shipped packs in the same run: `alone` (no
//! `conversation_id`), `not_joined` (the messages of `in_conversation_memory`, with their
//! conversation ids and senders, judged by `PolicySet::evaluate`: the baseline) and
//! `in_conversation_memory` (ids spread over 1,000 conversations and 4 senders, judged
//! through the in-memory store). A message with no boundary fragment pays the fragment
//! scan and breaking its scope's open chain (one LRU shard lookup); one with a fragment
//! also pays remembering it; one starting with a value-like run after one ending with one
//! also pays a join. The added median is `in_conversation_memory` minus `not_joined`.

use divan::{Bencher, black_box};
use linewall_benches::{corpus, in_conversations, packs};
use linewall_engine::Message;
use linewall_engine::conversation::{Config, Conversations, DEFAULT_CAPACITY};

fn main() {
    divan::main();
}

#[divan::bench(sample_count = 50, sample_size = 2000)]
fn alone(bencher: Bencher) {
    let set = packs();
    let msgs = corpus();
    let mut i = 0;
    bencher.counter(divan::counter::ItemsCount::new(1usize)).bench_local(|| {
        let m = &msgs[i % msgs.len()];
        i += 1;
        black_box(set.evaluate(black_box(m)))
    });
}

#[divan::bench(sample_count = 50, sample_size = 2000)]
fn not_joined(bencher: Bencher) {
    let set = packs();
    let msgs = in_conversations();
    let mut i = 0;
    bencher.counter(divan::counter::ItemsCount::new(1usize)).bench_local(|| {
        let m = &msgs[i % msgs.len()];
        i += 1;
        black_box(set.evaluate(black_box(m)))
    });
}

#[divan::bench(sample_count = 50, sample_size = 2000)]
fn in_conversation_memory(bencher: Bencher) {
    let set = packs();
    let msgs = in_conversations();
    let conv = Conversations::in_memory(Config::default(), DEFAULT_CAPACITY);
    let mut i = 0;
    bencher.counter(divan::counter::ItemsCount::new(1usize)).bench_local(|| {
        let m = &msgs[i % msgs.len()];
        i += 1;
        black_box(conv.evaluate(&set, black_box(m)))
    });
}

/// The worst case per message: every message is a fragment that completes a join
/// (`4111 1111` then `1111 1111`, alternating, in one conversation).
#[divan::bench(sample_count = 50, sample_size = 2000)]
fn split_card_every_message(bencher: Bencher) {
    let set = packs();
    let conv = Conversations::in_memory(Config::default(), DEFAULT_CAPACITY);
    let pieces: Vec<Message> = ["card 4111 1111", "1111 1111"]
        .iter()
        .enumerate()
        .map(|(i, t)| Message {
            id: format!("p{i}"),
            conversation_id: "c".into(),
            text: (*t).to_owned(),
            ..Message::default()
        })
        .collect();
    let mut i = 0;
    bencher.counter(divan::counter::ItemsCount::new(1usize)).bench_local(|| {
        let m = &pieces[i % 2];
        i += 1;
        black_box(conv.evaluate(&set, black_box(m)))
    });
}
