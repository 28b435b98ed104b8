//! A loaded plugin as an engine detector: a pool of instances, the breaker and counters.

use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;

use crossbeam_queue::ArrayQueue;
use linewall_engine::plugin::{PluginDetector, PluginError, PluginErrorKind, PluginFinding, PluginInput};
use wasmtime::Engine;

use crate::bindings::PluginPre;
use crate::breaker::{Breaker, Trip};
use crate::instance::{CallResult, Instance, State};
use crate::limits::Limits;
use crate::stats::Counters;

/// What every instance of one plugin detector shares.
pub struct Compiled {
    pub engine: Engine,
    pub pre: PluginPre<State>,
    pub limits: Limits,
    pub config: String,
    /// Epoch ticks per call (from `timeout_ms`).
    pub ticks: u64,
}

/// Counters and breaker of one detector id + module, kept across policy reloads.
pub struct Health {
    pub counters: Counters,
    pub breaker: Breaker,
}

/// A plugin detector callable from any thread.
pub struct WasmDetector {
    pub id: String,
    pub compiled: Arc<Compiled>,
    pub pool: ArrayQueue<Instance>,
    pub health: Arc<Health>,
}

impl WasmDetector {
    fn instance(&self) -> Result<Instance, PluginError> {
        if let Some(i) = self.pool.pop() {
            return Ok(i);
        }
        let c = &self.compiled;
        self.health.counters.instances.fetch_add(1, Relaxed);
        Instance::new(&c.engine, &c.pre, &c.limits, &c.config, c.ticks.max(INIT_TICKS)).map(|(i, _)| i)
    }

    fn give_back(&self, inst: Instance) {
        if inst.calls < self.compiled.limits.calls_per_instance {
            // A full pool means more instances exist than concurrent callers need: drop it.
            let _ = self.pool.push(inst);
        }
    }

    fn failed(&self, error: PluginError) -> PluginError {
        let h = &self.health;
        h.counters.failed(error.kind);
        tracing::debug!(detector = %self.id, kind = error.kind.as_str(), "plugin call failed");
        if let Trip::Opened(ms) = h.breaker.failure() {
            h.counters.trips.fetch_add(1, Relaxed);
            tracing::warn!(
                detector = %self.id,
                kind = error.kind.as_str(),
                backoff_ms = ms,
                "plugin keeps failing: circuit breaker opened; its rules apply on_error meanwhile"
            );
        }
        error
    }
}

/// Fuel and time `init` gets at least, whatever the per-call timeout.
pub const INIT_TICKS: u64 = 1_000;

impl WasmDetector {
    /// One call through the breaker, on a pooled instance, with the counters kept.
    fn call<T>(&self, f: impl FnOnce(&mut Instance) -> CallResult<T>) -> Result<T, PluginError> {
        let h = &self.health;
        h.counters.calls.fetch_add(1, Relaxed);
        if h.breaker.is_open() {
            h.counters.failed(PluginErrorKind::CircuitOpen);
            return Err(PluginError {
                kind: PluginErrorKind::CircuitOpen,
                message: "skipped: the plugin failed repeatedly and its circuit breaker is open".into(),
            });
        }
        let mut inst = self.instance().map_err(|e| self.failed(e))?;
        match f(&mut inst) {
            Ok((out, fuel)) => {
                h.counters.fuel.fetch_add(fuel, Relaxed);
                h.breaker.success();
                self.give_back(inst);
                Ok(out)
            }
            Err((failure, fuel)) => {
                h.counters.fuel.fetch_add(fuel, Relaxed);
                // A trapped instance is poisoned (wasmtime refuses to enter it again):
                // drop it; the next call instantiates a fresh one and replays `init`.
                if failure.reusable {
                    self.give_back(inst);
                }
                Err(self.failed(failure.error))
            }
        }
    }
}

impl PluginDetector for WasmDetector {
    fn detect(&self, input: &PluginInput<'_>) -> Result<Vec<PluginFinding>, PluginError> {
        let (limits, ticks) = (&self.compiled.limits, self.compiled.ticks);
        self.call(|inst| inst.detect(input, limits, ticks))
    }

    fn detect_batch(&self, inputs: &[PluginInput<'_>]) -> Vec<Result<Vec<PluginFinding>, PluginError>> {
        let (limits, ticks) = (&self.compiled.limits, self.compiled.ticks);
        match self.call(|inst| inst.detect_batch(inputs, limits, ticks)) {
            Ok(results) => results,
            // The whole call failed: every field gets its error.
            Err(e) => inputs.iter().map(|_| Err(e.clone())).collect(),
        }
    }
}
