//! Protobuf bytes → decode → convert (as the gRPC service does) → evaluate.
#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use linewall_engine::policy::{LoadOptions, PolicySet};
use prost::Message as _;

static SET: LazyLock<PolicySet> =
    LazyLock::new(|| PolicySet::builtin(&LoadOptions::default()).expect("the built-in packs load"));

fuzz_target!(
    init: {
        // Build the set before the first input, so its cost is not charged to an input.
        LazyLock::force(&SET);
    },
    |data: &[u8]| {
    let Ok(req) = linewall_proto::v1::EvaluateRequest::decode(data) else { return };
    let Ok(msg) = linewall_server::convert::message_in(req.message) else { return };
    let v = SET.evaluate(&msg);
    linewall_fuzz_check::findings_are_well_formed(&msg, &v);
    let _ = linewall_server::convert::verdict_out(v);
});

mod linewall_fuzz_check {
    include!("check.rs");
}
