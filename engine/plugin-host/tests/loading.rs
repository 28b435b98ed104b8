//! What the loader accepts and refuses: pins, imports, exports, sizes.

mod common;

use common::{host, load_with, plugin, policy};
use linewall_engine::Message;
use linewall_engine::verdict::Action;
use sha2::{Digest, Sha256};

fn sha256_hex(path: &std::path::Path) -> String {
    hex::encode(Sha256::digest(std::fs::read(path).expect("read")))
}

fn write_wat(name: &str, wat: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("linewall-loading-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("tmp");
    let path = dir.join(name);
    std::fs::write(&path, wat::parse_str(wat).expect("wat")).expect("write");
    path
}

#[test]
fn the_sha256_pin_is_enforced() {
    let module = plugin("noop");
    let good = sha256_hex(&module);
    assert_eq!(good.len(), 64);
    load_with(&policy(&module, &format!("        sha256: \"{}\"\n", good.to_uppercase())), &host())
        .expect("a matching pin (any case) loads");
    let bad = "0".repeat(64);
    let err =
        load_with(&policy(&module, &format!("        sha256: \"{bad}\"\n")), &host()).expect_err("mismatch");
    assert!(err.contains("sha256 mismatch") && err.contains(&good), "{err}");
    assert!(err.contains("sandbox.yaml:8:17"), "{err}");
}

#[test]
fn a_plugin_that_imports_anything_is_refused() {
    let path = write_wat(
        "imports.wasm",
        r#"(component
             (import "wasi:clocks/wall-clock@0.2.0" (instance (export "now" (func (result u64)))))
             (import "wasi:filesystem/preopens@0.2.0" (instance (export "get" (func (result u32))))))"#,
    );
    let err = load_with(&policy(&path, ""), &host()).expect_err("imports refused");
    assert!(err.contains("`wasi:clocks/wall-clock@0.2.0`, `wasi:filesystem/preopens@0.2.0`"), "{err}");
    assert!(err.contains("may import nothing"), "{err}");
}

#[test]
fn a_component_without_the_detector_export_is_refused() {
    let path = write_wat("empty.wasm", "(component)");
    let err = load_with(&policy(&path, ""), &host()).expect_err("no export");
    assert!(err.contains("does not export `linewall:detector/detector@0.1.0`"), "{err}");
}

#[test]
fn a_core_module_or_garbage_is_refused_with_a_hint() {
    let core = write_wat("core.wasm", "(module)");
    let err = load_with(&policy(&core, ""), &host()).expect_err("core module");
    assert!(err.contains("core WebAssembly module") && err.contains("linewall plugin build"), "{err}");
    let junk = std::env::temp_dir().join(format!("linewall-junk-{}.wasm", std::process::id()));
    std::fs::write(&junk, b"MZ not wasm").expect("write");
    let err = load_with(&policy(&junk, ""), &host()).expect_err("junk");
    assert!(err.contains("not a valid WebAssembly component"), "{err}");
    let err =
        load_with(&policy(std::path::Path::new("/nonexistent/p.wasm"), ""), &host()).expect_err("missing");
    assert!(err.contains("cannot read /nonexistent/p.wasm"), "{err}");
}

#[test]
fn the_c_plugin_and_the_rust_plugins_run_through_policies() {
    let yaml = format!(
        "apiVersion: linewall/v1\nkind: Policy\nmetadata: {{name: mixed}}\nspec:\n  detectors:\n    - id: isin_c\n      plugin: {{module: '{}', timeout_ms: 1000}}\n    - id: acct\n      plugin: {{module: '{}', config: {{prefix: 'AC-'}}, timeout_ms: 1000}}\n  rules:\n    - id: redact\n      when: {{detectors: {{any: [{{id: isin_c}}, {{id: acct}}]}}}}\n      action: redact\n      redact: {{style: label}}\n",
        plugin("isin-c").display(),
        plugin("account-number").display()
    );
    let set = load_with(&yaml, &host()).expect("loads");
    let v = set.evaluate(&Message::text("Buy US0378331005 from AC-12345674 ünd ISIN GB0002634946"));
    assert_eq!(v.action, Action::Redact);
    assert_eq!(v.delivered.expect("delivered").text, "Buy [ISIN_C] from [ACCT] ünd ISIN [ISIN_C]");
}

#[test]
fn detect_batch_gives_the_same_findings_as_one_call_per_field_in_rust_and_c() {
    use std::collections::BTreeMap;
    use std::sync::Arc;

    use linewall_engine::message::{Channel, Direction};
    use linewall_engine::plugin::{PluginInput, PluginLoader, PluginSpec};

    let attributes = BTreeMap::new();
    let texts = ["ISIN US0378331005 and AC-12345674", "nothing", "GB0002634946 / ac-9876 5433 / AC-12345675"];
    let inputs: Vec<PluginInput<'_>> = texts
        .iter()
        .map(|t| PluginInput {
            text: t,
            field: "text",
            channel: Channel::Whatsapp,
            direction: Direction::Outbound,
            attributes: &attributes,
        })
        .collect();
    let host = host();
    for (name, expected) in [("account-number", [1, 0, 1]), ("isin-c", [1, 0, 1])] {
        let path = plugin(name);
        let config = serde_json::Value::Null;
        let spec =
            PluginSpec { detector_id: name, module: &path, sha256: None, config: &config, timeout_ms: 1000 };
        let d: Arc<dyn linewall_engine::plugin::PluginDetector> = host.load(&spec).expect("load");
        let batch = d.detect_batch(&inputs);
        let one_by_one: Vec<_> = inputs.iter().map(|i| d.detect(i)).collect();
        assert_eq!(batch, one_by_one, "{name}");
        let counts: Vec<usize> = batch.iter().map(|r| r.as_ref().map_or(99, Vec::len)).collect();
        assert_eq!(counts, expected, "{name}");
    }
}

#[test]
fn through_the_engine_interface_a_load_error_keeps_the_hosts_kind() {
    use linewall_engine::plugin::{PluginLoader, PluginSpec};
    use linewall_plugin_host::LoadError;

    let module = plugin("noop");
    let config = serde_json::Value::Null;
    let pinned = "0".repeat(64);
    let spec = PluginSpec {
        detector_id: "noop",
        module: &module,
        sha256: Some(&pinned),
        config: &config,
        timeout_ms: 1000,
    };
    let Err(err) = PluginLoader::load(&host(), &spec) else { panic!("a wrong pin must not load") };
    let kind = err.host_error().downcast_ref::<LoadError>();
    assert!(matches!(kind, Some(LoadError::ShaMismatch { pinned: p, .. }) if *p == pinned), "{err:?}");
    assert!(err.to_string().starts_with("sha256 mismatch: the policy pins 000"), "{err}");
}
