//! The policy set being served, and hot reload: a new set is compiled and its tests run
//! off the request path, then swapped in atomically; a bad set never replaces a good one.

use std::path::PathBuf;
use std::sync::Arc;

use arc_swap::ArcSwap;
use linewall_engine::policy::{LoadOptions, PolicySet};

/// Where policies come from.
#[derive(Debug, Clone)]
pub enum Source {
    /// The packs embedded in the binary.
    Builtin,
    /// A policy file or directory.
    Path(PathBuf),
}

/// The serving policy set and how to reload it.
pub struct Policies {
    current: ArcSwap<PolicySet>,
    source: Source,
    options: LoadOptions,
    /// Serializes reloads so two reloads never race to swap.
    reload_lock: tokio::sync::Mutex<()>,
    /// Where reloads are counted.
    metrics: Arc<crate::metrics::Metrics>,
}

/// Loads and tests a set; the error is what an operator needs to fix it.
pub fn load_checked(source: &Source, options: &LoadOptions) -> Result<PolicySet, String> {
    let set = match source {
        Source::Builtin => PolicySet::builtin(options),
        Source::Path(p) => PolicySet::load_path(p, options),
    }
    .map_err(|d| d.to_string())?;
    let report = set.run_tests();
    if report.failed() > 0 {
        let failures: Vec<String> = report
            .cases
            .iter()
            .filter_map(|c| {
                c.failure.as_ref().map(|f| format!("test `{}` / `{}` failed: {f}", c.policy, c.name))
            })
            .collect();
        return Err(failures.join("\n"));
    }
    Ok(set)
}

impl Policies {
    /// Loads the first set; failing here means the server does not start.
    pub fn new(
        source: Source,
        options: LoadOptions,
        metrics: Arc<crate::metrics::Metrics>,
    ) -> Result<Self, String> {
        let set = load_checked(&source, &options)?;
        Ok(Self {
            current: ArcSwap::from_pointee(set),
            source,
            options,
            reload_lock: tokio::sync::Mutex::new(()),
            metrics,
        })
    }

    /// The directory or file policies are loaded from, if not the built-in packs.
    pub fn path(&self) -> Option<&std::path::Path> {
        match &self.source {
            Source::Builtin => None,
            Source::Path(p) => Some(p),
        }
    }

    /// The set serving now; a request keeps the set it started with.
    pub fn current(&self) -> Arc<PolicySet> {
        self.current.load_full()
    }

    /// Options used to load sets (plugins, hash key).
    pub fn options(&self) -> &LoadOptions {
        &self.options
    }

    /// Compiles and tests a new set off the async reactor and swaps it in. On error the
    /// old set keeps serving and the reason is returned.
    pub async fn reload(&self) -> Result<String, String> {
        let _guard = self.reload_lock.lock().await;
        let source = self.source.clone();
        let options = self.options.clone();
        let result = tokio::task::spawn_blocking(move || load_checked(&source, &options))
            .await
            .map_err(|e| format!("reload task failed: {e}"))?;
        match result {
            Ok(set) => {
                let version = set.version().to_owned();
                self.current.store(Arc::new(set));
                self.metrics.reload(true);
                tracing::info!(policy_version = %version, "policy reload accepted");
                Ok(version)
            }
            Err(e) => {
                self.metrics.reload(false);
                tracing::warn!(error = %e, serving = %self.current().version(), "policy reload rejected");
                Err(e)
            }
        }
    }
}
