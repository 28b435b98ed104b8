//! One sandboxed plugin instance: a `Store` with its limits and the instantiated
//! component, used by one caller at a time.

use linewall_engine::detect::Confidence;
use linewall_engine::message::Direction;
use linewall_engine::plugin::{PluginError, PluginErrorKind, PluginFinding, PluginInput};
use wasmtime::{Engine, ResourceLimiter, Store, Trap};

use crate::bindings::linewall::detector::types;
use crate::bindings::{Plugin, PluginPre};
use crate::limits::Limits;

/// Store data: the memory limiter, which also remembers whether the cap was hit so a
/// trap that follows can be reported as `memory`.
pub struct State {
    limiter: Limiter,
}

struct Limiter {
    memory_cap: usize,
    memory_hit: bool,
}

impl ResourceLimiter for Limiter {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _max: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let ok = desired <= self.memory_cap;
        self.memory_hit |= !ok;
        Ok(ok)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _max: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(desired <= 100_000)
    }

    fn instances(&self) -> usize {
        32
    }

    fn tables(&self) -> usize {
        32
    }

    fn memories(&self) -> usize {
        4
    }
}

/// What one guest call returns: its output and the fuel it used, or the failure and the
/// fuel used until then.
pub type CallResult<T> = Result<(T, u64), (Failure, u64)>;

/// A failed call, and whether the instance can be used again.
pub struct Failure {
    pub error: PluginError,
    pub reusable: bool,
}

/// A live instance.
pub struct Instance {
    store: Store<State>,
    plugin: Plugin,
    /// Calls made on this instance.
    pub calls: u32,
}

/// What `init` reported.
pub struct Info {
    pub name: String,
    pub version: String,
}

impl Instance {
    /// Instantiates the plugin in a fresh store and runs `init(config)`.
    pub fn new(
        engine: &Engine,
        pre: &PluginPre<State>,
        limits: &Limits,
        config: &str,
        init_ticks: u64,
    ) -> Result<(Self, Info), PluginError> {
        let mut store = Store::new(
            engine,
            State { limiter: Limiter { memory_cap: limits.memory_bytes, memory_hit: false } },
        );
        store.limiter(|s| &mut s.limiter);
        store.epoch_deadline_trap();
        store.set_epoch_deadline(init_ticks);
        store.set_fuel(limits.fuel_init).map_err(|e| internal(&e))?;
        let plugin = match pre.instantiate(&mut store) {
            Ok(p) => p,
            Err(e) => return Err(classify(&e, store.data().limiter.memory_hit)),
        };
        let info = match plugin.linewall_detector_detector().call_init(&mut store, config) {
            Ok(Ok(info)) => Info { name: info.name, version: info.version },
            Ok(Err(e)) => return Err(plugin_error("init", e)),
            Err(e) => return Err(classify(&e, store.data().limiter.memory_hit)),
        };
        Ok((Instance { store, plugin, calls: 0 }, info))
    }

    /// Runs `detect` on one field within the limits; returns the findings and the fuel used.
    pub fn detect(
        &mut self,
        input: &PluginInput<'_>,
        limits: &Limits,
        ticks: u64,
    ) -> CallResult<Vec<PluginFinding>> {
        let budget = limits.fuel_for(input.text.len());
        self.arm(budget, ticks)?;
        let msg = to_wit(input);
        let result = self.plugin.linewall_detector_detector().call_detect(&mut self.store, &msg);
        let used = budget.saturating_sub(self.store.get_fuel().unwrap_or(0));
        match result {
            Ok(Ok(found)) => match check(&found, input.text, limits.max_findings) {
                Ok(f) => Ok((f, used)),
                Err(error) => Err((Failure { error, reusable: true }, used)),
            },
            Ok(Err(e)) => Err((Failure { error: plugin_error("detect", e), reusable: true }, used)),
            Err(e) => {
                let error = classify(&e, self.store.data().limiter.memory_hit);
                Err((Failure { error, reusable: false }, used))
            }
        }
    }

    /// Counts the call and arms its limits: `budget` fuel (a store starts every call from
    /// what is set here) and a deadline `ticks` epochs from now.
    fn arm(&mut self, budget: u64, ticks: u64) -> Result<(), (Failure, u64)> {
        self.calls += 1;
        self.store.set_fuel(budget).map_err(|e| (Failure { error: internal(&e), reusable: false }, 0))?;
        self.store.set_epoch_deadline(ticks);
        Ok(())
    }

    /// Runs `detect-batch` on several fields in one call, with the fuel of all of them.
    pub fn detect_batch(
        &mut self,
        inputs: &[PluginInput<'_>],
        limits: &Limits,
        ticks: u64,
    ) -> CallResult<Vec<Result<Vec<PluginFinding>, PluginError>>> {
        let budget = inputs.iter().fold(0u64, |b, i| b.saturating_add(limits.fuel_for(i.text.len())));
        self.arm(budget, ticks)?;
        let msgs: Vec<types::Message> = inputs.iter().map(to_wit).collect();
        let result = self.plugin.linewall_detector_detector().call_detect_batch(&mut self.store, &msgs);
        let used = budget.saturating_sub(self.store.get_fuel().unwrap_or(0));
        match result {
            Ok(results) if results.len() == inputs.len() => {
                let checked = results
                    .into_iter()
                    .zip(inputs)
                    .map(|(r, input)| match r {
                        Ok(found) => check(&found, input.text, limits.max_findings),
                        Err(e) => Err(plugin_error("detect-batch", e)),
                    })
                    .collect();
                Ok((checked, used))
            }
            Ok(results) => {
                let error = PluginError {
                    kind: PluginErrorKind::InvalidOutput,
                    message: format!(
                        "detect-batch returned {} results for {} inputs",
                        results.len(),
                        inputs.len()
                    ),
                };
                Err((Failure { error, reusable: true }, used))
            }
            Err(e) => {
                let error = classify(&e, self.store.data().limiter.memory_hit);
                Err((Failure { error, reusable: false }, used))
            }
        }
    }
}

/// The WIT form of one field.
fn to_wit(input: &PluginInput<'_>) -> types::Message {
    types::Message {
        text: input.text.to_owned(),
        field: input.field.to_owned(),
        channel: input.channel.as_str().to_owned(),
        direction: match input.direction {
            Direction::Inbound => types::Direction::Inbound,
            Direction::Outbound => types::Direction::Outbound,
        },
        attributes: input.attributes.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
    }
}

/// Checks a plugin's findings before they are trusted: count, bounds, char boundaries.
fn check(found: &[types::Finding], text: &str, max: usize) -> Result<Vec<PluginFinding>, PluginError> {
    if found.len() > max {
        return Err(PluginError {
            kind: PluginErrorKind::InvalidOutput,
            message: format!("returned {} findings; the limit is {max}", found.len()),
        });
    }
    found
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let (start, end) = (f.start as usize, f.end as usize);
            if start < end && end <= text.len() && text.is_char_boundary(start) && text.is_char_boundary(end)
            {
                Ok(PluginFinding {
                    start,
                    end,
                    confidence: match f.confidence {
                        types::Confidence::Low => Confidence::Low,
                        types::Confidence::Medium => Confidence::Medium,
                        types::Confidence::High => Confidence::High,
                    },
                })
            } else {
                Err(PluginError {
                    kind: PluginErrorKind::InvalidOutput,
                    message: format!(
                        "finding {i} spans bytes {start}..{end}, which is empty, past the end of the \
                         {}-byte field or not on character boundaries",
                        text.len()
                    ),
                })
            }
        })
        .collect()
}

/// Names a trap without quoting anything the guest produced.
fn classify(e: &wasmtime::Error, memory_hit: bool) -> PluginError {
    let (kind, message) = match e.downcast_ref::<Trap>() {
        Some(Trap::OutOfFuel) => {
            (PluginErrorKind::OutOfFuel, "ran out of fuel (instruction budget)".to_string())
        }
        Some(Trap::Interrupt) => {
            (PluginErrorKind::Timeout, "exceeded its time budget (timeout_ms)".to_string())
        }
        Some(_) if memory_hit => {
            (PluginErrorKind::Memory, "trapped after hitting its memory cap".to_string())
        }
        Some(t) => (PluginErrorKind::Trap, format!("trapped: {t}")),
        None if memory_hit => (PluginErrorKind::Memory, "failed after hitting its memory cap".to_string()),
        None => (PluginErrorKind::Trap, format!("failed: {}", e.root_cause())),
    };
    PluginError { kind, message }
}

fn plugin_error(call: &str, e: types::PluginError) -> PluginError {
    let (what, text) = match e {
        types::PluginError::InvalidConfig(t) => ("invalid config", t),
        types::PluginError::Internal(t) => ("an error", t),
    };
    // `init` sees only the policy's config, so its text is safe to show the policy author
    // (cut short). `detect` saw a message: its text could quote it, so it is dropped.
    let message = if call == "init" {
        format!("init reported {what}: {}", text.chars().take(200).collect::<String>())
    } else {
        format!("{call} reported {what} (text withheld: it may quote the message)")
    };
    PluginError { kind: PluginErrorKind::PluginError, message }
}

fn internal(e: &wasmtime::Error) -> PluginError {
    PluginError { kind: PluginErrorKind::Trap, message: format!("host error: {e}") }
}
