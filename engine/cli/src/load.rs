//! Loading the policy set a command works on.

use std::path::Path;
use std::sync::Arc;

use linewall_engine::LoadedSet;
use linewall_engine::plugin::PluginLoader;
use linewall_engine::policy::{Code, Diagnostic, Diagnostics, LoadOptions, PolicySet};
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
    LoadOptions { plugin_loader, hash_key: hash_key(), follow_symlinks: false }
}

/// `LINEWALL_HASH_KEY` (the key itself), else `LINEWALL_HASH_KEY_FILE` (a file holding
/// it). An unreadable key file is reported and leaves the key unset.
fn hash_key() -> Option<Vec<u8>> {
    if let Some(k) = std::env::var("LINEWALL_HASH_KEY").ok().filter(|k| !k.is_empty()) {
        return Some(k.into_bytes());
    }
    let file = std::env::var_os("LINEWALL_HASH_KEY_FILE").filter(|f| !f.is_empty())?;
    match linewall_server::keys::read_key_file(Path::new(&file)) {
        Ok(k) => Some(k),
        Err(e) => {
            eprintln!("warning: {e}; hashes use a random per-run key");
            None
        }
    }
}

/// Loads `dir`, or the built-in packs when `None`.
pub fn policies(dir: Option<&Path>) -> Result<LoadedSet, Diagnostics> {
    let opts = options();
    match dir {
        Some(d) => LoadedSet::load_path(d, &opts),
        None => LoadedSet::builtin(&opts),
    }
}

/// Loads policies; an empty set is an error too (it would allow everything).
pub fn policies_checked(dir: Option<&Path>) -> Result<LoadedSet, Vec<Diagnostic>> {
    match policies(dir) {
        Ok(loaded) if loaded.set().policies().is_empty() => {
            // An empty set allows everything: never mistake it for a passing one.
            let d = dir.map_or_else(|| String::from("the built-in packs"), |d| d.display().to_string());
            Err(vec![Diagnostic::unplaced(
                Code::PolicySet,
                d.clone(),
                format!("no policy found in {d}; an empty set would allow every message"),
            )])
        }
        Ok(set) => Ok(set),
        Err(d) => Err(d.errors),
    }
}

/// Prints diagnostics with their source snippets, then the count, to stderr.
pub fn print_diagnostics(diagnostics: &[Diagnostic]) {
    for d in diagnostics {
        eprintln!(
            "{}
",
            d.render().trim_end()
        );
    }
    eprintln!("error: {} error(s); no policy was loaded", diagnostics.len());
}

/// Loads policies or prints the diagnostics; `None` means exit code 2.
pub fn policies_or_report(dir: Option<&Path>) -> Option<PolicySet> {
    match policies_checked(dir) {
        Ok(loaded) => Some(loaded.into_set()),
        Err(d) => {
            print_diagnostics(&d);
            None
        }
    }
}
