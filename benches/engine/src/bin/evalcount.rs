//! Evaluates a fixed workload a fixed number of times, for instruction counts under
//! `valgrind --tool=callgrind` (which, unlike wall-clock time, does not depend on how
//! loaded the machine is). Count the `run` function alone:
//! `valgrind --tool=callgrind --toggle-collect='*evalcount*run*' evalcount corpus 2`;
//! its instructions divided by the work done are the cost per message or per byte.
//!
//! Usage: `evalcount WORKLOAD PASSES [--without-breadth]`, WORKLOAD one of `corpus` (the
//! dev corpus, every message once per pass), `none` (the corpus through an empty set),
//! `clean-300` and `clean-1m` (the `sizes` bench's clean prose at 300 B and 1 MiB).
//! Prints the findings found (so a change that finds less shows) on stdout.

use std::hint::black_box;

use linewall_benches::{BREADTH_PACKS, PROSE, corpus, packs, packs_except, sized};
use linewall_engine::Message;
use linewall_engine::policy::PolicySet;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (Some(workload), Some(passes)) = (args.get(1), args.get(2).and_then(|p| p.parse::<usize>().ok()))
    else {
        eprintln!("usage: evalcount corpus|none|clean-300|clean-1m PASSES [--without-breadth]");
        std::process::exit(2);
    };
    let without = args.iter().any(|a| a == "--without-breadth");
    let set = if workload == "none" {
        PolicySet::load_sources(Vec::new(), &Default::default()).unwrap_or_else(|d| panic!("empty set: {d}"))
    } else if without {
        packs_except(BREADTH_PACKS)
    } else {
        packs()
    };
    let msgs: Vec<Message> = match workload.as_str() {
        "corpus" | "none" => corpus(),
        "clean-300" => vec![Message::text(sized(PROSE, 300))],
        "clean-1m" => vec![Message::text(sized(PROSE, 1 << 20))],
        other => {
            eprintln!("unknown workload `{other}`");
            std::process::exit(2);
        }
    };
    let findings = run(&set, &msgs, passes);
    println!("{} messages x {passes} passes, {findings} findings", msgs.len());
}

/// The measured part: callgrind can count it alone with `--toggle-collect='*evalcount*run*'`.
#[inline(never)]
fn run(set: &PolicySet, msgs: &[Message], passes: usize) -> usize {
    let mut findings = 0usize;
    for _ in 0..passes {
        for m in msgs {
            findings += black_box(set.evaluate(black_box(m))).findings.len();
        }
    }
    findings
}
