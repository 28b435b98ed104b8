//! Shared inputs of the Linewall benchmarks: the dev corpus and the built-in packs.

use linewall_engine::Message;
use linewall_engine::policy::{BUILTIN_PACKS, LoadOptions, PolicySet, PolicySource};

/// The dev corpus messages (text only), as the benchmarks feed them.
pub fn corpus() -> Vec<Message> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../engine/core/testdata/dev-corpus.jsonl");
    let text = std::fs::read_to_string(path).unwrap_or_default();
    text.lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .enumerate()
        .map(|(i, v)| Message {
            id: v["id"].as_str().unwrap_or("").to_owned(),
            text: v["text"].as_str().unwrap_or("").to_owned(),
            direction: if i % 2 == 0 {
                linewall_engine::message::Direction::Inbound
            } else {
                linewall_engine::message::Direction::Outbound
            },
            ..Message::default()
        })
        .collect()
}

/// The corpus messages, each in one of 1,000 conversations with one of 4 senders (the
/// conversation benchmarks' input).
pub fn in_conversations() -> Vec<Message> {
    corpus()
        .into_iter()
        .enumerate()
        .map(|(i, mut m)| {
            m.conversation_id = format!("conv-{}", i % 1000);
            m.sender = Some(linewall_engine::message::Party {
                id: format!("sender-{}", i % 4),
                ..Default::default()
            });
            m
        })
        .collect()
}

/// Every shipped pack, compiled.
pub fn packs() -> PolicySet {
    match PolicySet::builtin(&LoadOptions::default()) {
        Ok(set) => set,
        Err(d) => panic!("built-in packs failed to load:\n{d}"),
    }
}

/// Packs added by the detector-breadth work (issue 14); benchmarks run the shipped set
/// with and without them in the same run, so the cost of the new detectors is a ratio.
/// (The breadth rules added to `pci` and `secrets` stay in both.)
pub const BREADTH_PACKS: &[&str] = &[
    "policies/pii-eu.yaml",
    "policies/pii-apac.yaml",
    "policies/pii-americas.yaml",
    "policies/pii-mea.yaml",
    "policies/securities.yaml",
    "policies/fraud.yaml",
];

/// Every shipped pack except those named in `skip`, compiled.
pub fn packs_except(skip: &[&str]) -> PolicySet {
    let sources = BUILTIN_PACKS
        .iter()
        .filter(|(name, _)| !skip.contains(name))
        .map(|(name, text)| PolicySource {
            name: (*name).to_owned(),
            text: (*text).to_owned(),
            base_dir: None,
        })
        .collect();
    match PolicySet::load_sources(sources, &LoadOptions::default()) {
        Ok(set) => set,
        Err(d) => panic!("built-in packs failed to load:\n{d}"),
    }
}

/// Total findings over `msgs`, so a benchmark that got faster by finding less is caught.
pub fn findings(set: &PolicySet, msgs: &[Message]) -> usize {
    msgs.iter().map(|m| set.evaluate(m).findings.len()).sum()
}

/// Prose a wealth manager might send, free of anything the packs detect (the `clean`
/// workloads).
pub const PROSE: &str = "Thanks for your message. I have looked at the portfolio review you asked about and the \
    allocation looks fine for now. We can talk through the rebalancing options at our next meeting; \
    let me know which afternoon suits you best and I will send an invite. The market update from the \
    research team is attached as usual, and the quarterly letter goes out next week. ";

/// `source` repeated and cut to `size` bytes on a char boundary.
pub fn sized(source: &str, size: usize) -> String {
    let mut s = String::with_capacity(size + source.len());
    while s.len() < size {
        s.push_str(source);
    }
    let mut end = size;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s.truncate(end);
    s
}
