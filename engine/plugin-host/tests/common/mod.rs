//! Shared by the plugin host's tests: the built example plugins and policy loading.

#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use linewall_engine::plugin::PluginLoader;
use linewall_engine::policy::{LoadOptions, PolicySet, PolicySource};
use linewall_plugin_host::{Limits, WasmHost};

/// The path of a built plugin in `plugins/dist`, building them first if needed (`make
/// test` builds them before `cargo test`; this covers a bare `cargo test`).
pub fn plugin(name: &str) -> PathBuf {
    static BUILD: Mutex<()> = Mutex::new(());
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let path = root.join("plugins/dist").join(format!("{name}.wasm"));
    let _guard = BUILD.lock().unwrap_or_else(|p| p.into_inner());
    if !path.exists() {
        let status = std::process::Command::new("bash")
            .arg(root.join("plugins/build.sh"))
            .status()
            .expect("run plugins/build.sh");
        assert!(status.success(), "plugins/build.sh failed");
    }
    assert!(path.exists(), "{} was not built", path.display());
    path
}

/// A policy with one plugin detector `p` (blocking on any finding) over `module`. The
/// wall-clock budget is a generous 1 s unless `extra` sets one: these tests run unoptimized
/// and in parallel, and what they check is stopped by fuel, caps and traps, not by time.
pub fn policy(module: &std::path::Path, extra: &str) -> String {
    let extra = if extra.contains("timeout_ms") {
        extra.to_string()
    } else {
        format!("        timeout_ms: 1000\n{extra}")
    };
    format!(
        "apiVersion: linewall/v1\nkind: Policy\nmetadata: {{name: sandbox}}\nspec:\n  detectors:\n    - id: p\n      plugin:\n        module: '{}'\n{extra}  rules:\n    - id: block-p\n      when: {{detectors: {{any: [{{id: p}}]}}}}\n      action: block\n",
        module.display()
    )
}

/// Loads one policy text with a host of the given limits.
pub fn load_with(yaml: &str, host: &WasmHost) -> Result<PolicySet, String> {
    PolicySet::load_sources(
        vec![PolicySource { name: "sandbox.yaml".into(), text: yaml.into(), base_dir: None }],
        &LoadOptions {
            plugin_loader: Some(Arc::new(host.clone()) as Arc<dyn PluginLoader>),
            ..Default::default()
        },
    )
    .map_err(|d| d.to_string())
}

/// A host with default limits.
pub fn host() -> WasmHost {
    WasmHost::new(Limits::default()).expect("host")
}
