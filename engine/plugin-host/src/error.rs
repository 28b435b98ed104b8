//! Why a plugin host could not start or a plugin module could not be loaded. The
//! engine reports these at the policy's `file:line:column`; none holds module bytes.

use std::path::PathBuf;

/// A plugin that cannot be loaded (or a host that cannot start).
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// wasmtime refused the engine configuration.
    #[error("cannot start the WASM engine: {0}")]
    Engine(String),
    /// The epoch timer thread (the wall-clock budget) could not be started.
    #[error("cannot start the plugin timer thread: {0}")]
    Timer(String),
    /// The module file is over the size cap.
    #[error("{} is larger than {cap} bytes; plugins are limited to {cap} bytes", path.display())]
    TooLarge {
        /// The module file.
        path: PathBuf,
        /// The cap, in bytes.
        cap: usize,
    },
    /// The module file could not be read.
    #[error("cannot read {}: {source}", path.display())]
    Read {
        /// The module file.
        path: PathBuf,
        /// What the OS said.
        source: std::io::Error,
    },
    /// The path is not a regular file, or a link that is not followed.
    #[error("plugin module {} {reason}", path.display())]
    NotAFile {
        /// The module file.
        path: PathBuf,
        /// Why it is refused.
        reason: String,
    },
    /// The module's sha256 differs from the policy's pin.
    #[error("sha256 mismatch: the policy pins {pinned}, but {} has {actual}", path.display())]
    ShaMismatch {
        /// The module file.
        path: PathBuf,
        /// The pin in the policy.
        pinned: String,
        /// The module's hash.
        actual: String,
    },
    /// A core module where a component is expected.
    #[error(
        "this is a core WebAssembly module, not a component; build plugins with `linewall plugin build`, \
         which wraps the module into a component"
    )]
    CoreModule,
    /// Not a component wasmtime accepts.
    #[error("not a valid WebAssembly component: {0}")]
    NotAComponent(String),
    /// The component imports functions, resources or modules (only types are allowed).
    #[error(
        "the plugin imports {}; plugins run without files, network, clock or environment and may import \
         nothing (build for wasm32-unknown-unknown with `linewall plugin build`)",
        import_list(.0)
    )]
    Imports(Vec<String>),
    /// The component could not be pre-instantiated.
    #[error("{0}")]
    Instantiate(String),
    /// The component lacks the detector interface.
    #[error("the component does not export `{interface}` ({0})", interface = crate::INTERFACE)]
    MissingExport(String),
    /// The policy's `config` could not be encoded for the plugin.
    #[error("{0}")]
    Config(#[from] serde_json::Error),
    /// The plugin's `init` failed (trap, limits, or its own error for the config).
    #[error("init failed: {0}")]
    Init(String),
}

/// The first five refused imports, quoted, and how many more.
fn import_list(names: &[String]) -> String {
    let mut out = names.iter().take(5).map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", ");
    if names.len() > 5 {
        out.push_str(&format!(" and {} more", names.len() - 5));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refused_imports_are_listed_up_to_five() {
        let names: Vec<String> = (1..=7).map(|i| format!("wasi:io/i{i}")).collect();
        let e = LoadError::Imports(names);
        assert_eq!(
            e.to_string(),
            "the plugin imports `wasi:io/i1`, `wasi:io/i2`, `wasi:io/i3`, `wasi:io/i4`, `wasi:io/i5` and 2 more; \
             plugins run without files, network, clock or environment and may import nothing (build for \
             wasm32-unknown-unknown with `linewall plugin build`)"
        );
    }
}
