//! A JSON message line (as `linewall scan` reads) → evaluate with every built-in pack.
#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use linewall_engine::policy::{LoadOptions, PolicySet};

static SET: LazyLock<PolicySet> =
    LazyLock::new(|| PolicySet::builtin(&LoadOptions::default()).expect("the built-in packs load"));

fuzz_target!(
    init: {
        // Build the set before the first input, so its cost is not charged to an input.
        LazyLock::force(&SET);
    },
    |data: &[u8]| {
    let Ok(msg) = serde_json::from_slice::<linewall_engine::Message>(data) else { return };
    let v = SET.evaluate(&msg);
    linewall_fuzz_check::findings_are_well_formed(&msg, &v);
});

mod linewall_fuzz_check {
    include!("check.rs");
}
