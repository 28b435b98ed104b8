//! The policy set being served, and hot reload: a new set is compiled and its tests run
//! off the request path, then swapped in atomically; a bad set never replaces a good one.
//!
//! Fail closed: a set with fewer than `min_policies` policies (one, unless
//! `--allow-empty`) is refused at start-up and on reload; a set that does not match the
//! `--manifest` is refused; a reload that takes longer than its time limit is abandoned.
//! A reload that is accepted but loses files, policies, rules or tests of the serving set
//! is logged (error for vanished files, warn for the rest) and counted.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use arc_swap::ArcSwap;
use linewall_engine::LoadedSet;
use linewall_engine::policy::{Diagnostic, Diagnostics, LoadOptions, PolicySet, PolicySummary};

/// Where policies come from.
#[derive(Debug, Clone)]
pub enum Source {
    /// The packs embedded in the binary.
    Builtin,
    /// A policy file or directory.
    Path(PathBuf),
}

/// What a policy set must satisfy to be served.
#[derive(Debug, Clone)]
pub struct Guards {
    /// Fewest policies a set may have (0 with `--allow-empty`).
    pub min_policies: usize,
    /// `sha256sum`-style list the policy files must match exactly.
    pub manifest: Option<PathBuf>,
    /// Longest a reload may take before it is abandoned (the old set keeps serving).
    pub reload_timeout: Duration,
}

impl Default for Guards {
    fn default() -> Self {
        Guards { min_policies: 1, manifest: None, reload_timeout: Duration::from_secs(30) }
    }
}

/// The serving policy set and how to reload it.
pub struct Policies {
    current: ArcSwap<PolicySet>,
    source: Source,
    options: LoadOptions,
    guards: Guards,
    /// Serializes reloads so two reloads never race to swap.
    reload_lock: tokio::sync::Mutex<()>,
    /// Where reloads are counted.
    metrics: Arc<crate::metrics::Metrics>,
    /// The thread that loads and tests every set (see [`spawn_load_thread`]).
    loads: Mutex<std::sync::mpsc::Sender<Job>>,
}

/// A load's work, run on the load thread.
type Job = Box<dyn FnOnce() + Send>;

/// Starts the one thread on which every set of a server is loaded and tested, one at a
/// time; it ends when the sender is dropped.
///
/// One long-lived thread rather than the blocking pool: the built-in detectors' regexes
/// are shared by every set and keep a lazy-DFA cache for each thread that ran them, for
/// the life of the process; loads on ever new threads each warmed, and kept, another set
/// of caches (engine/server/tests/reload_memory.rs).
fn spawn_load_thread() -> std::io::Result<std::sync::mpsc::Sender<Job>> {
    let (tx, rx) = std::sync::mpsc::channel::<Job>();
    std::thread::Builder::new().name(String::from("linewall-load")).spawn(move || {
        for job in rx {
            // A panic fails that load only (its result channel closes); the thread
            // goes on serving the next one.
            let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(job));
        }
    })?;
    Ok(tx)
}

/// Why the first set was not loaded, so the server does not start ([`Policies::new`]).
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The thread that loads policy sets could not be started.
    #[error("starting the policy load thread: {0}")]
    LoadThread(#[source] std::io::Error),
    /// The load thread ended before it took the load.
    #[error("the policy load thread is gone")]
    LoadThreadGone,
    /// The load panicked.
    #[error("loading the policies failed (the load panicked)")]
    Panicked,
    /// The set does not load, fails its tests or its guards; shown with source snippets.
    #[error("{}", .0.render())]
    Refused(LoadError),
}

/// Why a policy set was not loaded: what an operator needs to fix it (paths and
/// positions, never the bytes of a file that is not a policy).
#[derive(Debug, Clone, Default)]
pub struct LoadError {
    /// One line per problem: diagnostics (`file:line:column: error[code]: message`),
    /// failed tests, guards.
    pub message: String,
    /// The files' mistakes, structured (empty when the set was refused for another reason).
    pub diagnostics: Vec<Diagnostic>,
}

impl LoadError {
    /// Every diagnostic with its source snippet (for a terminal), else the message.
    pub fn render(&self) -> String {
        if self.diagnostics.is_empty() {
            return self.message.clone();
        }
        Diagnostics { errors: self.diagnostics.clone() }.to_string()
    }
}

impl std::fmt::Display for LoadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for LoadError {}

impl From<Diagnostics> for LoadError {
    fn from(d: Diagnostics) -> Self {
        Self { message: d.render_short(), diagnostics: d.errors }
    }
}

impl From<String> for LoadError {
    fn from(message: String) -> Self {
        Self { message, diagnostics: Vec::new() }
    }
}

impl From<crate::policy_files::ManifestError> for LoadError {
    fn from(e: crate::policy_files::ManifestError) -> Self {
        Self::from(e.to_string())
    }
}

/// Loads and tests a set and checks it against `guards`.
pub fn load_checked(source: &Source, options: &LoadOptions, guards: &Guards) -> Result<PolicySet, LoadError> {
    load_checked_until(source, options, guards, &AtomicBool::new(false))
}

/// Loads and tests a set like [`load_checked`], but gives up as soon as it sees `cancel`
/// raised (between stages, and between and within the policies' tests): the caller
/// stopped waiting (a reload past its time limit), so the work must not go on.
pub fn load_checked_until(
    source: &Source,
    options: &LoadOptions,
    guards: &Guards,
    cancel: &AtomicBool,
) -> Result<PolicySet, LoadError> {
    let stop = |stage: &str| -> Result<(), LoadError> {
        if cancel.load(Ordering::Relaxed) {
            return Err(LoadError::from(format!("policy load abandoned {stage}")));
        }
        Ok(())
    };
    let loaded = match source {
        Source::Builtin => LoadedSet::builtin(options)?,
        Source::Path(p) => {
            let sources = linewall_engine::policy::read_sources(p, options)?;
            if let Some(m) = &guards.manifest {
                crate::policy_files::check(m, p, &sources)?;
            }
            stop("before compiling")?;
            LoadedSet::load_sources(sources, options)?
        }
    };
    let count = loaded.set().policies().len();
    if count < guards.min_policies {
        return Err(LoadError::from(format!(
            "the policy set has {count} policies; at least {} required (--min-policies; --allow-empty to serve none)",
            guards.min_policies
        )));
    }
    stop("before its tests")?;
    let report = loaded.run_tests_until(cancel).map_err(|a| LoadError::from(a.to_string()))?;
    if report.failed() > 0 {
        let failures: Vec<String> = report
            .cases
            .iter()
            .filter_map(|c| {
                c.failure.as_ref().map(|f| format!("test `{}` / `{}` failed: {f}", c.policy, c.name))
            })
            .collect();
        return Err(LoadError::from(failures.join("\n")));
    }
    // Only the compiled set is served; the documents are dropped here.
    Ok(loaded.into_set())
}

/// What a new set loses compared with the serving one.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Losses {
    /// Source files of the serving set that no policy of the new set comes from.
    pub vanished_files: Vec<String>,
    /// Policies, rules or tests dropped, as readable lines.
    pub shrunk: Vec<String>,
}

/// Compares the serving set's policies with a new set's.
pub fn losses(old: &[PolicySummary], new: &[PolicySummary]) -> Losses {
    let mut out = Losses::default();
    let mut old_files: Vec<&str> = old.iter().map(|p| p.source.as_str()).collect();
    old_files.sort_unstable();
    old_files.dedup();
    for f in old_files {
        if !new.iter().any(|p| p.source == f) {
            out.vanished_files.push(f.to_owned());
        }
    }
    for o in old {
        match new.iter().find(|n| n.name == o.name) {
            None => out.shrunk.push(format!("policy `{}` dropped", o.name)),
            Some(n) => {
                if n.rules < o.rules {
                    out.shrunk.push(format!("policy `{}`: {} rules, was {}", o.name, n.rules, o.rules));
                }
                if n.tests < o.tests {
                    out.shrunk.push(format!("policy `{}`: {} tests, was {}", o.name, n.tests, o.tests));
                }
            }
        }
    }
    out
}

impl Policies {
    /// Loads the first set; failing here means the server does not start.
    pub fn new(
        source: Source,
        options: LoadOptions,
        guards: Guards,
        metrics: Arc<crate::metrics::Metrics>,
    ) -> Result<Self, StartError> {
        let loads = spawn_load_thread().map_err(StartError::LoadThread)?;
        let (tx, rx) = std::sync::mpsc::channel();
        let job: Job = {
            let (source, options, guards) = (source.clone(), options.clone(), guards.clone());
            Box::new(move || {
                let _ = tx.send(load_checked(&source, &options, &guards));
            })
        };
        loads.send(job).map_err(|_| StartError::LoadThreadGone)?;
        let set = rx.recv().map_err(|_| StartError::Panicked)?.map_err(StartError::Refused)?;
        Ok(Self {
            current: ArcSwap::from_pointee(set),
            source,
            options,
            guards,
            reload_lock: tokio::sync::Mutex::new(()),
            metrics,
            loads: Mutex::new(loads),
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

    /// Compiles and tests a new set off the async reactor (on the load thread) and swaps
    /// it in. On error the old set keeps serving and the reason is returned; past the
    /// reload time limit the load is told to stop, and the old set keeps serving too.
    pub async fn reload(&self) -> Result<String, LoadError> {
        let _guard = self.reload_lock.lock().await;
        let (source, options, guards) = (self.source.clone(), self.options.clone(), self.guards.clone());
        let result = self
            .on_load_thread("reload", move |cancel| load_checked_until(&source, &options, &guards, cancel))
            .await;
        match result {
            Ok(set) => {
                let version = set.version().to_owned();
                let lost = losses(&self.current().policies(), &set.policies());
                for f in &lost.vanished_files {
                    tracing::error!(file = %f, "policy file vanished: its policies are no longer served");
                }
                if !lost.vanished_files.is_empty() {
                    self.metrics.policy_files_vanished(lost.vanished_files.len());
                }
                if !lost.shrunk.is_empty() {
                    tracing::warn!(losses = %lost.shrunk.join("; "), "policy reload drops policies, rules or tests of the serving set");
                    self.metrics.policy_reload_shrank();
                }
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

impl Policies {
    /// Compiles and tests `sources` without serving them (PolicyAdmin/Validate): on the
    /// load thread and under the reload time limit, like a reload, so validations cannot
    /// pile up on the blocking pool; the work stops if the caller goes away. Returns the
    /// version the set would have, or why it would be refused.
    pub async fn validate(
        &self,
        sources: Vec<linewall_engine::policy::PolicySource>,
    ) -> Result<String, LoadError> {
        let options = self.options.clone();
        self.on_load_thread("validation", move |cancel| {
            let loaded = LoadedSet::load_sources(sources, &options)?;
            let report = loaded.run_tests_until(cancel).map_err(|a| LoadError::from(a.to_string()))?;
            let failures: Vec<String> = report
                .cases
                .iter()
                .filter_map(|c| {
                    c.failure.as_ref().map(|f| format!("test `{}` / `{}` failed: {f}", c.policy, c.name))
                })
                .collect();
            if failures.is_empty() {
                Ok(loaded.set().version().to_owned())
            } else {
                Err(LoadError::from(failures.join("\n")))
            }
        })
        .await
    }

    /// Runs `work` on the load thread and waits for it, at most the reload time limit.
    /// `work` sees a flag raised when nobody waits any more (the limit passed, or this
    /// future was dropped because the caller left) and should stop when it sees it.
    async fn on_load_thread<T: Send + 'static>(
        &self,
        what: &'static str,
        work: impl FnOnce(&AtomicBool) -> Result<T, LoadError> + Send + 'static,
    ) -> Result<T, LoadError> {
        /// Raises the flag when dropped: on every way out of the wait, including a drop.
        struct RaiseOnDrop(Arc<AtomicBool>);
        impl Drop for RaiseOnDrop {
            fn drop(&mut self) {
                self.0.store(true, Ordering::Relaxed);
            }
        }
        let limit = self.guards.reload_timeout;
        let cancel = Arc::new(AtomicBool::new(false));
        let (tx, rx) = tokio::sync::oneshot::channel();
        let job: Job = {
            let cancel = Arc::clone(&cancel);
            Box::new(move || {
                let result = work(&cancel);
                if cancel.load(Ordering::Relaxed) {
                    // Nobody waits for this result any more: say when the work ended.
                    match &result {
                        Err(e) => tracing::info!(reason = %e, "abandoned policy {what} stopped"),
                        Ok(_) => tracing::info!("abandoned policy {what} finished; its result is discarded"),
                    }
                }
                let _ = tx.send(result);
            })
        };
        let raise = RaiseOnDrop(Arc::clone(&cancel));
        let sent = self.loads.lock().unwrap_or_else(std::sync::PoisonError::into_inner).send(job).is_ok();
        let result = if !sent {
            Err(LoadError::from(format!("{what} failed: the policy load thread is gone")))
        } else {
            match tokio::time::timeout(limit, rx).await {
                Ok(Ok(result)) => result,
                Ok(Err(_)) => Err(LoadError::from(format!("{what} failed: the load panicked"))),
                Err(_) => Err(LoadError::from(format!(
                    "{what} abandoned: not done within the reload time limit of {} ms (--reload-timeout-ms)",
                    limit.as_millis()
                ))),
            }
        };
        // Done waiting: a finished job ignores the flag; an unfinished one stops.
        drop(raise);
        result
    }
}
