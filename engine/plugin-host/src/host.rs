//! The plugin host: one wasmtime engine, module compilation and checks, the loader.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use crossbeam_queue::ArrayQueue;
use linewall_engine::plugin::{PluginDetector, PluginLoadError, PluginLoader, PluginSpec};
use linewall_engine::policy::files::FileError;
use sha2::{Digest, Sha256};
use wasmtime::component::types::ComponentItem;
use wasmtime::component::{Component, Linker};
use wasmtime::{Config, Engine};

use crate::bindings::PluginPre;
use crate::breaker::Breaker;
use crate::detector::{Compiled, Health, INIT_TICKS, WasmDetector};
use crate::error::LoadError;
use crate::instance::{Instance, State};
use crate::limits::Limits;
use crate::stats::{Counters, PluginStats};

/// How often the epoch advances; `timeout_ms` is counted in these ticks.
const TICK: Duration = Duration::from_millis(1);

/// The WASM plugin host; pass it to the engine as its plugin loader.
#[derive(Clone)]
pub struct WasmHost {
    inner: Arc<Inner>,
}

/// Health is kept per detector id and module hash, across policy reloads.
type HealthKey = (String, [u8; 32]);

struct Inner {
    engine: Engine,
    linker: Linker<State>,
    limits: Limits,
    compiled: Mutex<HashMap<[u8; 32], Component>>,
    health: Mutex<HashMap<HealthKey, Arc<Health>>>,
    stop: Arc<AtomicBool>,
    /// Whether the timer thread started (the error text otherwise: shared by every load).
    ticker: OnceLock<Result<(), String>>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.stop.store(true, Relaxed);
    }
}

impl std::fmt::Debug for WasmHost {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WasmHost").field("limits", &self.inner.limits).finish_non_exhaustive()
    }
}

impl WasmHost {
    /// A host with the given limits.
    pub fn new(limits: Limits) -> Result<Self, LoadError> {
        let mut config = Config::new();
        config
            .wasm_component_model(true)
            .consume_fuel(true)
            .epoch_interruption(true)
            .max_wasm_stack(limits.stack_bytes);
        let engine = Engine::new(&config).map_err(|e| LoadError::Engine(e.to_string()))?;
        // No import is defined: a plugin that imports anything fails the allowlist check
        // at load time, before the linker sees it.
        let linker = Linker::new(&engine);
        Ok(WasmHost {
            inner: Arc::new(Inner {
                engine,
                linker,
                limits,
                compiled: Mutex::new(HashMap::new()),
                health: Mutex::new(HashMap::new()),
                stop: Arc::new(AtomicBool::new(false)),
                ticker: OnceLock::new(),
            }),
        })
    }

    /// Starts the epoch ticker the first time a plugin is loaded, so commands that load
    /// no plugin run no timer thread.
    fn start_ticker(&self) -> Result<(), LoadError> {
        let started = self.inner.ticker.get_or_init(|| {
            let (engine, stop) = (self.inner.engine.clone(), self.inner.stop.clone());
            std::thread::Builder::new()
                .name("linewall-plugin-epoch".into())
                .spawn(move || {
                    while !stop.load(Relaxed) {
                        std::thread::sleep(TICK);
                        engine.increment_epoch();
                    }
                })
                .map(|_| ())
                .map_err(|e| e.to_string())
        });
        started.clone().map_err(LoadError::Timer)
    }

    /// The limits every plugin runs under.
    pub fn limits(&self) -> &Limits {
        &self.inner.limits
    }

    /// Counters of every plugin detector loaded so far, sorted by detector id.
    pub fn plugin_stats(&self) -> Vec<PluginStats> {
        let health = self.inner.health.lock().unwrap_or_else(|p| p.into_inner());
        let mut out: Vec<PluginStats> = health
            .iter()
            .map(|((id, sha), h)| h.counters.snapshot(id, hex::encode(&sha[..6]), h.breaker.is_open()))
            .collect();
        out.sort_by(|a, b| (&a.detector, &a.module_sha256).cmp(&(&b.detector, &b.module_sha256)));
        out
    }

    fn component(&self, bytes: &[u8], sha: [u8; 32]) -> Result<Component, LoadError> {
        if let Some(c) = self.inner.compiled.lock().unwrap_or_else(|p| p.into_inner()).get(&sha) {
            return Ok(c.clone());
        }
        if bytes.starts_with(b"\0asm\x01\0\0\0") {
            return Err(LoadError::CoreModule);
        }
        let component = Component::new(&self.inner.engine, bytes)
            .map_err(|e| LoadError::NotAComponent(e.root_cause().to_string()))?;
        check_imports(&self.inner.engine, &component)?;
        let mut cache = self.inner.compiled.lock().unwrap_or_else(|p| p.into_inner());
        // Bounded: every module version loaded in a long-lived process would otherwise
        // stay compiled forever.
        if cache.len() >= 64 {
            cache.clear();
        }
        cache.insert(sha, component.clone());
        Ok(component)
    }
}

/// Plugins may import nothing but types (wit-bindgen emits a type-only import for a
/// `use`d interface); any function, resource or module import is refused.
fn check_imports(engine: &Engine, component: &Component) -> Result<(), LoadError> {
    let ty = component.component_type();
    let mut refused = Vec::new();
    for (name, item) in ty.imports(engine) {
        let ok = match &item.ty {
            ComponentItem::Type(_) => true,
            ComponentItem::ComponentInstance(inst) => {
                inst.exports(engine).all(|(_, e)| matches!(e.ty, ComponentItem::Type(_)))
            }
            _ => false,
        };
        if !ok {
            refused.push(name.to_string());
        }
    }
    if refused.is_empty() { Ok(()) } else { Err(LoadError::Imports(refused)) }
}

impl PluginLoader for WasmHost {
    fn stats(&self) -> Vec<PluginStats> {
        self.plugin_stats()
    }

    fn load(&self, spec: &PluginSpec<'_>) -> Result<Arc<dyn PluginDetector>, PluginLoadError> {
        // The policy compiler shows the message at the detector's position; callers that
        // need the kind downcast `PluginLoadError::host_error` to a `LoadError`.
        self.load_plugin(spec).map_err(PluginLoadError::new)
    }
}

impl WasmHost {
    /// Loads, checks and initialises one plugin detector.
    pub fn load_plugin(&self, spec: &PluginSpec<'_>) -> Result<Arc<dyn PluginDetector>, LoadError> {
        self.start_ticker()?;
        let limits = &self.inner.limits;
        let path = spec.module;
        // A regular file only (not /dev/zero, not a FIFO), read to at most the cap + 1 byte.
        let bytes =
            linewall_engine::policy::files::read_capped(path, limits.module_bytes, true).map_err(|e| {
                let path = path.to_path_buf();
                match e {
                    FileError::TooLarge(cap) => LoadError::TooLarge { path, cap },
                    FileError::Io(source) => LoadError::Read { path, source },
                    e => LoadError::NotAFile { path, reason: e.to_string() },
                }
            })?;
        let sha: [u8; 32] = Sha256::digest(&bytes).into();
        if let Some(pin) = spec.sha256 {
            let actual = hex::encode(sha);
            if !pin.trim().eq_ignore_ascii_case(&actual) {
                return Err(LoadError::ShaMismatch {
                    path: path.to_path_buf(),
                    pinned: pin.trim().to_owned(),
                    actual,
                });
            }
        }
        let component = self.component(&bytes, sha)?;
        let pre = self
            .inner
            .linker
            .instantiate_pre(&component)
            .map_err(|e| LoadError::Instantiate(e.to_string()))?;
        let pre = PluginPre::new(pre).map_err(|e| LoadError::MissingExport(e.root_cause().to_string()))?;
        let config = serde_json::to_string(spec.config)?;
        let compiled = Arc::new(Compiled {
            engine: self.inner.engine.clone(),
            pre,
            limits: limits.clone(),
            config,
            ticks: spec.timeout_ms.max(1) + 1,
        });
        // Validate the config now, so a bad one is a load error with a position rather
        // than a failure on the first message; the instance then serves the first call.
        let (first, info) =
            Instance::new(&compiled.engine, &compiled.pre, limits, &compiled.config, INIT_TICKS)
                .map_err(|e| LoadError::Init(e.message))?;
        tracing::info!(
            detector = spec.detector_id,
            plugin = %info.name,
            version = %info.version,
            sha256 = %hex::encode(sha),
            "plugin loaded"
        );
        let health = self
            .inner
            .health
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry((spec.detector_id.to_string(), sha))
            .or_insert_with(|| {
                Arc::new(Health {
                    counters: Counters::default(),
                    breaker: Breaker::new(
                        limits.breaker_failures,
                        limits.breaker_backoff_ms,
                        limits.breaker_max_backoff_ms,
                    ),
                })
            })
            .clone();
        health.counters.instances.fetch_add(1, Relaxed);
        let workers = std::thread::available_parallelism().map_or(2, |n| n.get());
        let pool = ArrayQueue::new((workers * 2).max(4));
        let _ = pool.push(first);
        Ok(Arc::new(WasmDetector { id: spec.detector_id.to_string(), compiled, pool, health }))
    }
}
