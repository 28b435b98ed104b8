//! A fixed amount of work for instruction counting (`valgrind --tool=callgrind`): what
//! joining split values (docs/10-conversations.md) adds per message, in process, without
//! depending on the load of the machine.
//!
//! Build: `cargo build --profile bench -p linewall-benches --example conversation_cost`.
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

use linewall_benches::{corpus, in_conversations, packs};
use linewall_engine::Message;
use linewall_engine::conversation::{Config, Conversations, DEFAULT_CAPACITY};
use linewall_engine::policy::PolicySet;

#[inline(never)]
fn measured(set: &PolicySet, conv: Option<&Conversations>, msgs: &[Message], n: usize) -> usize {
    let mut blocked = 0;
    for i in 0..n {
        let m = &msgs[i % msgs.len()];
        let v = match conv {
            Some(c) => c.evaluate(set, black_box(m)),
            None => set.evaluate(black_box(m)),
        };
        blocked += usize::from(black_box(v).findings.len());
    }
    blocked
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
    let warm = measured(&set, conv, &msgs, msgs.len());
    let findings = measured(&set, conv, &msgs, n);
    println!("{mode}: {n} messages, {findings} findings (warm-up {warm})");
}
