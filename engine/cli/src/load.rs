//! Loading the policy set a command works on.

use std::path::Path;
use std::sync::Arc;

use linewall_engine::plugin::PluginLoader;
use linewall_engine::policy::{Diagnostics, LoadOptions, PolicySet};
use linewall_plugin_host::{Limits, WasmHost};

/// Options shared by every command: the WASM plugin host and the hash key from the
/// environment.
pub fn options() -> LoadOptions {
    let plugin_loader = match WasmHost::new(Limits::default()) {
        Ok(h) => Some(Arc::new(h) as Arc<dyn PluginLoader>),
        Err(e) => {
            // Policies without plugins still load; ones with plugins get a load error.
            eprintln!("warning: {e}; plugin detectors are unavailable");
            None
        }
    };
    LoadOptions {
        plugin_loader,
        hash_key: std::env::var("LINEWALL_HASH_KEY").ok().filter(|k| !k.is_empty()).map(String::into_bytes),
    }
}

/// Loads `dir`, or the built-in packs when `None`.
pub fn policies(dir: Option<&Path>) -> Result<PolicySet, Diagnostics> {
    let opts = options();
    match dir {
        Some(d) => PolicySet::load_path(d, &opts),
        None => PolicySet::builtin(&opts),
    }
}

/// Loads policies or prints the diagnostics; `None` means exit code 2.
pub fn policies_or_report(dir: Option<&Path>) -> Option<PolicySet> {
    match policies(dir) {
        Ok(set) => Some(set),
        Err(d) => {
            eprintln!("{d}");
            eprintln!("error: {} error(s); no policy was loaded", d.len());
            None
        }
    }
}
