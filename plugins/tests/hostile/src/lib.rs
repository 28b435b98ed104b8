//! Misbehaves when the text contains a command word, so one module covers the whole
//! hostile suite and can be mixed with benign traffic:
//!
//! | text contains | does |
//! |---|---|
//! | `!loop` | loops forever |
//! | `!spin` | loops for a long time without touching memory (for wall-clock limits) |
//! | `!oom` | grows memory 1 MiB at a time, forever |
//! | `!recurse` | recurses without end |
//! | `!huge` | returns 5,000 findings (the host allows 1,024) |
//! | `!oob` | returns a span past the end of the text |
//! | `!split` | returns a span that cuts a UTF-8 character |
//! | `!panic` | panics |
//!
//! Otherwise it finds the word `flag` (medium) and, for `!count`, a span `[0, n)` where n
//! is how many calls this instance has served, to observe instance recycling.
//! Config `{"fail_init": true}` makes `init` fail.

use std::cell::Cell;

use linewall_plugin_sdk::{Confidence, Config, Detector, Finding, Message};

#[derive(Default)]
struct Hostile {
    calls: Cell<usize>,
}

#[inline(never)]
fn recurse(n: u64) -> u64 {
    // Never true in practice: the stack runs out long before.
    if std::hint::black_box(n) == u64::MAX {
        return 0;
    }
    std::hint::black_box(recurse(n + 1)) + 1
}

impl Detector for Hostile {
    fn init(config: &Config) -> Result<Self, String> {
        if config.0.get("fail_init").and_then(|v| v.as_bool()) == Some(true) {
            return Err("fail_init is set".into());
        }
        Ok(Hostile::default())
    }

    fn detect(&self, msg: &Message) -> Vec<Finding> {
        let t = &msg.text;
        self.calls.set(self.calls.get() + 1);
        if t.contains("!loop") {
            let mut x = 0u64;
            loop {
                x = std::hint::black_box(x.wrapping_add(1));
            }
        }
        if t.contains("!spin") {
            let mut x = 0u64;
            for i in 0..u64::MAX {
                x = std::hint::black_box(x ^ i);
            }
            return vec![Finding::new(0..(x as usize & 1) + 1, Confidence::Low)];
        }
        if t.contains("!oom") {
            let mut hoard: Vec<Vec<u8>> = Vec::new();
            loop {
                hoard.push(std::hint::black_box(Vec::with_capacity(1 << 20)));
            }
        }
        if t.contains("!recurse") {
            return vec![Finding::new(0..recurse(0) as usize, Confidence::Low)];
        }
        if t.contains("!huge") {
            return (0..5_000).map(|_| Finding::new(0..1, Confidence::Low)).collect();
        }
        if t.contains("!oob") {
            return vec![Finding::new(0..t.len() + 10, Confidence::High)];
        }
        if t.contains("!split") {
            let i = t.char_indices().find(|(_, c)| c.len_utf8() > 1).map_or(0, |(i, _)| i);
            return vec![Finding::new(i..i + 1, Confidence::High)];
        }
        if t.contains("!panic") {
            panic!("hostile plugin panics on purpose");
        }
        if t.contains("!count") {
            return vec![Finding::new(0..self.calls.get().min(t.len()), Confidence::Low)];
        }
        t.match_indices("flag").map(|(i, w)| Finding::new(i..i + w.len(), Confidence::Medium)).collect()
    }
}

linewall_plugin_sdk::export_detector!(Hostile);
