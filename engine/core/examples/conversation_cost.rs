//! A fixed amount of work for instruction counting (`valgrind --tool=callgrind`): what
//! joining split values (docs/10-conversations.md) adds per message, in process, without
//! depending on the load of the machine.
//!
//! Build: `cargo build --profile bench -p linewall-engine --example conversation_cost`.
//! Run each mode under callgrind, counting only the measured loop:
//!
//! ```text
//! valgrind --tool=callgrind --callgrind-out-file=/tmp/cg.%p \
//!   --toggle-collect='conversation_cost::measured' \
//!   target/release/examples/conversation_cost not_joined 2000
//! ```
//!
//! Modes: `alone` (no `conversation_id`), `not_joined` (the same messages with their
//! conversation ids and senders, judged by `PolicySet::evaluate`: the baseline),
//! `memory` (judged through the in-process store), `split` (every message completes a
//! split card). Instructions of `memory` minus `not_joined`, divided by the message
//! count, is the added cost per message. The corpus is run once untimed first, so the
//! store holds its steady state (every scope seen) and lazy tables are built.

use std::hint::black_box;

use linewall_engine::Message;
use linewall_engine::conversation::{Config, Conversations, DEFAULT_CAPACITY};
use linewall_engine::message::{Direction, Party};
use linewall_engine::policy::{LoadOptions, PolicySet};

/// The dev corpus as the benchmarks feed it (benches/engine/src/lib.rs): text, id, and
/// alternating directions.
fn corpus() -> Vec<Message> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/testdata/dev-corpus.jsonl");
    let text = std::fs::read_to_string(path).unwrap_or_default();
    text.lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .enumerate()
        .map(|(i, v)| Message {
            id: v["id"].as_str().unwrap_or("").to_owned(),
            text: v["text"].as_str().unwrap_or("").to_owned(),
            direction: if i % 2 == 0 { Direction::Inbound } else { Direction::Outbound },
            ..Message::default()
        })
        .collect()
}

/// The corpus in 1,000 conversations with 4 senders, as the divan bench feeds it.
fn in_conversations() -> Vec<Message> {
    corpus()
        .into_iter()
        .enumerate()
        .map(|(i, mut m)| {
            m.conversation_id = format!("conv-{}", i % 1000);
            m.sender = Some(Party { id: format!("sender-{}", i % 4), ..Party::default() });
            m
        })
        .collect()
}

fn packs() -> PolicySet {
    match PolicySet::builtin(&LoadOptions::default()) {
        Ok(set) => set,
        Err(d) => panic!("built-in packs failed to load:\n{d}"),
    }
}

#[inline(never)]
fn measured(set: &PolicySet, conv: Option<&Conversations>, msgs: &[Message], n: usize) -> usize {
    let mut found = 0;
    for i in 0..n {
        let m = &msgs[i % msgs.len()];
        let v = match conv {
            Some(c) => c.evaluate(set, black_box(m)),
            None => set.evaluate(black_box(m)),
        };
        found += black_box(v).findings.len();
    }
    found
}

fn main() {
    let mut args = std::env::args().skip(1);
    let mode = args.next().unwrap_or_else(|| String::from("memory"));
    let n: usize = args.next().and_then(|s| s.parse().ok()).unwrap_or(2000);
    let set = packs();
    let conv = Conversations::in_memory(Config::default(), DEFAULT_CAPACITY);
    let msgs = match mode.as_str() {
        "alone" => corpus(),
        "not_joined" | "memory" => in_conversations(),
        "split" => ["card 4111 1111", "1111 1111"]
            .iter()
            .enumerate()
            .map(|(i, t)| Message {
                id: format!("p{i}"),
                conversation_id: "c".into(),
                text: (*t).to_owned(),
                ..Message::default()
            })
            .collect(),
        other => {
            eprintln!("unknown mode {other}: alone | not_joined | memory | split");
            std::process::exit(2);
        }
    };
    let conv = matches!(mode.as_str(), "memory" | "split").then_some(&conv);
    // Warm-up outside `measured`: callgrind counts only the measured call.
    let mut warm = 0;
    for m in &msgs {
        let v = match conv {
            Some(c) => c.evaluate(&set, m),
            None => set.evaluate(m),
        };
        warm += v.findings.len();
    }
    let findings = measured(&set, conv, &msgs, n);
    println!("{mode}: {n} messages, {findings} findings (warm-up {warm})");
}
