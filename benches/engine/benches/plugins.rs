//! Cost of a WASM plugin call, with every limit on (fuel, epoch deadline, memory cap,
//! output checks), against a regex detector doing the same job in the engine.
//!
//! Run: `bash plugins/build.sh && cargo bench -p linewall-benches --bench plugins`.
//!
//! - `call_*`: one `detect` through the host's pooled instance on a 300-byte message
//!   (the no-op plugin is the host's fixed overhead; account-number does real work).
//! - `recycle_*`: the same call when every call gets a fresh instance (instantiate +
//!   `init` + call + drop): what a trap or the per-instance call quota costs.
//! - `evaluate_*`: the whole verdict for that message through a policy whose detector is
//!   the account-number plugin, and through one whose detector is the equivalent regex.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use divan::{Bencher, black_box};
use linewall_engine::Message;
use linewall_engine::message::{Channel, Direction};
use linewall_engine::plugin::{PluginDetector, PluginInput, PluginLoader, PluginSpec};
use linewall_engine::policy::{LoadOptions, PolicySet, PolicySource};
use linewall_plugin_host::{Limits, WasmHost};

/// A 300-byte chat message with one account number.
const MESSAGE: &str = "Hi Sarah, following up on our call this morning. I've set up the transfer for the \
    quarterly rebalancing as discussed; funds go from your investment account AC-12345674 to the \
    joint savings account on Monday. Let me know if the amounts look right and I'll confirm with \
    the desk. Have a lovely weekend!";

fn module(name: &str) -> PathBuf {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../plugins/dist").join(format!("{name}.wasm"));
    assert!(p.exists(), "{} is missing: run `bash plugins/build.sh` first", p.display());
    p
}

fn detector(name: &str, limits: Limits) -> Arc<dyn PluginDetector> {
    let host = WasmHost::new(limits).expect("host");
    let path = module(name);
    let config = serde_json::json!({"prefix": "AC-"});
    let spec = PluginSpec { detector_id: name, module: &path, sha256: None, config: &config, timeout_ms: 5 };
    host.load(&spec).expect("load")
}

fn call(bencher: Bencher, d: Arc<dyn PluginDetector>, expect: usize) {
    let attributes = BTreeMap::new();
    let input = PluginInput {
        text: MESSAGE,
        field: "text",
        channel: Channel::Whatsapp,
        direction: Direction::Outbound,
        attributes: &attributes,
    };
    // A bench that got faster by finding less must fail.
    assert_eq!(d.detect(&input).expect("detect").len(), expect);
    bencher.bench(|| black_box(d.detect(black_box(&input)).expect("detect")));
}

fn main() {
    assert_eq!(MESSAGE.len(), 300, "{}", MESSAGE.len());
    divan::main();
}

#[divan::bench(sample_count = 100, sample_size = 2000)]
fn call_noop(bencher: Bencher) {
    call(bencher, detector("noop", Limits::default()), 0);
}

#[divan::bench(sample_count = 100, sample_size = 2000)]
fn call_account_number(bencher: Bencher) {
    call(bencher, detector("account-number", Limits::default()), 1);
}

#[divan::bench(sample_count = 100, sample_size = 2000)]
fn call_isin_c(bencher: Bencher) {
    call(bencher, detector("isin-c", Limits::default()), 0);
}

#[divan::bench(sample_count = 50, sample_size = 200)]
fn recycle_noop(bencher: Bencher) {
    call(bencher, detector("noop", Limits { calls_per_instance: 1, ..Limits::default() }), 0);
}

#[divan::bench(sample_count = 50, sample_size = 200)]
fn recycle_account_number(bencher: Bencher) {
    call(bencher, detector("account-number", Limits { calls_per_instance: 1, ..Limits::default() }), 1);
}

fn set(detector: &str) -> PolicySet {
    let yaml = format!(
        "apiVersion: linewall/v1\nkind: Policy\nmetadata: {{name: b}}\nspec:\n  detectors:\n    - id: acct\n{detector}  rules:\n    - id: r\n      when: {{detectors: {{any: [{{id: acct}}]}}}}\n      action: redact\n      redact: {{style: label}}\n"
    );
    let host = WasmHost::new(Limits::default()).expect("host");
    PolicySet::load_sources(
        vec![PolicySource { name: "b.yaml".into(), text: yaml, base_dir: None }],
        &LoadOptions { plugin_loader: Some(Arc::new(host)), ..Default::default() },
    )
    .unwrap_or_else(|d| panic!("{d}"))
}

fn evaluate(bencher: Bencher, set: PolicySet) {
    let msg = Message::text(MESSAGE);
    assert_eq!(set.evaluate(&msg).findings.len(), 1);
    bencher.bench(|| black_box(set.evaluate(black_box(&msg))));
}

#[divan::bench(sample_count = 100, sample_size = 1000)]
fn evaluate_plugin_detector(bencher: Bencher) {
    let plugin = format!(
        "      plugin: {{module: '{}', config: {{prefix: 'AC-'}}}}\n",
        module("account-number").display()
    );
    evaluate(bencher, set(&plugin));
}

#[divan::bench(sample_count = 100, sample_size = 1000)]
fn evaluate_regex_detector(bencher: Bencher) {
    evaluate(bencher, set("      pattern: '\\bAC-\\d{8}\\b'\n"));
}
