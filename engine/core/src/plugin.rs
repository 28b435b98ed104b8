//! The interface between the engine and a detector plugin host.
//!
//! The engine does not depend on a WASM runtime: a host (such as `linewall-plugin-host`)
//! implements [`PluginLoader`] and is passed in [`crate::LoadOptions`]. A policy that
//! declares a `plugin:` detector without a loader is a load error.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use crate::detect::{Candidate, Confidence, DetectError, Detector, Field};
use crate::message::{Channel, Direction};

/// What a policy says about one plugin detector.
#[derive(Debug, Clone)]
pub struct PluginSpec<'a> {
    /// The policy-local detector id the plugin's findings are reported under.
    pub detector_id: &'a str,
    /// The module file, resolved relative to the policy file.
    pub module: &'a Path,
    /// Expected hex SHA-256 of the module, if pinned.
    pub sha256: Option<&'a str>,
    /// The policy's `config` block, as JSON.
    pub config: &'a serde_json::Value,
    /// Wall-clock budget per call.
    pub timeout_ms: u64,
}

/// The part of a message a plugin sees for one field.
#[derive(Debug, Clone, Copy)]
pub struct PluginInput<'a> {
    /// Normalized text of the field (see [`crate::normalize`]).
    pub text: &'a str,
    /// Field path, e.g. `text`.
    pub field: &'a str,
    /// Channel of the message.
    pub channel: Channel,
    /// Direction of the message.
    pub direction: Direction,
    /// Caller attributes of the message.
    pub attributes: &'a BTreeMap<String, String>,
}

/// One span a plugin reported, already checked by the host.
#[derive(Debug, Clone, PartialEq)]
pub struct PluginFinding {
    /// Start byte in [`PluginInput::text`], on a char boundary.
    pub start: usize,
    /// End byte (exclusive), on a char boundary.
    pub end: usize,
    /// Confidence.
    pub confidence: Confidence,
}

/// What kind of failure a plugin call had; its name is the `kind` label of metrics and
/// the prefix of the verdict's error text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PluginErrorKind {
    /// The guest trapped (or the host failed running it).
    Trap,
    /// The call used up its fuel (instruction budget).
    OutOfFuel,
    /// The call exceeded its wall-clock budget.
    Timeout,
    /// The guest hit its memory cap.
    Memory,
    /// The guest returned findings that fail the host's checks.
    InvalidOutput,
    /// The guest reported an error of its own.
    PluginError,
    /// The call was skipped: the circuit breaker is open.
    CircuitOpen,
}

impl PluginErrorKind {
    /// Every kind, in a stable order (metrics list them all).
    pub const ALL: [Self; 7] = [
        Self::Trap,
        Self::OutOfFuel,
        Self::Timeout,
        Self::Memory,
        Self::InvalidOutput,
        Self::PluginError,
        Self::CircuitOpen,
    ];

    /// The kind's name, e.g. `out_of_fuel`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Trap => "trap",
            Self::OutOfFuel => "out_of_fuel",
            Self::Timeout => "timeout",
            Self::Memory => "memory",
            Self::InvalidOutput => "invalid_output",
            Self::PluginError => "plugin_error",
            Self::CircuitOpen => "circuit_open",
        }
    }
}

impl std::fmt::Display for PluginErrorKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a plugin call failed. The message never holds message content.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{kind}: {message}")]
pub struct PluginError {
    /// Category, for metrics and the verdict.
    pub kind: PluginErrorKind,
    /// Detail for operators.
    pub message: String,
}

/// A loaded plugin detector, callable from any thread.
pub trait PluginDetector: Send + Sync {
    /// Runs the plugin over one field.
    fn detect(&self, input: &PluginInput<'_>) -> Result<Vec<PluginFinding>, PluginError>;

    /// Runs the plugin over several fields, one result per field, in order. The default
    /// calls [`detect`](Self::detect) for each; a host may do it in one call.
    fn detect_batch(&self, inputs: &[PluginInput<'_>]) -> Vec<Result<Vec<PluginFinding>, PluginError>> {
        inputs.iter().map(|i| self.detect(i)).collect()
    }
}

/// A loaded plugin as the engine runs it, through the [`Detector`] interface: the field's
/// text and its message's metadata in, spans out. A failed call is a [`DetectError`]
/// wrapping the [`PluginError`], which the engine records under the detector's `on_error`.
pub(crate) struct PluginMatcher(pub Arc<dyn PluginDetector>);

impl Detector for PluginMatcher {
    fn try_find_in_field(&self, field: &Field<'_>, out: &mut Vec<Candidate>) -> Result<(), DetectError> {
        let t = field.text();
        let input = PluginInput {
            text: t,
            field: field.path(),
            channel: field.channel(),
            direction: field.direction(),
            attributes: field.attributes(),
        };
        let found = self.0.detect(&input).map_err(DetectError::new)?;
        // The host checks spans too; the engine does not rely on it.
        out.extend(found.into_iter().filter_map(|f| {
            (f.start < f.end && f.end <= t.len() && t.is_char_boundary(f.start) && t.is_char_boundary(f.end))
                .then_some(Candidate { start: f.start, end: f.end, confidence: f.confidence })
        }));
        Ok(())
    }
}

/// Why a plugin host could not load a plugin. The engine does not know the host's
/// failure kinds: it keeps the host's own error (for [`std::error::Error::source`] and
/// downcasting) and shows its message to the policy author at the detector's position.
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
pub struct PluginLoadError(Box<dyn std::error::Error + Send + Sync + 'static>);

impl PluginLoadError {
    /// Wraps a host's error.
    pub fn new(e: impl std::error::Error + Send + Sync + 'static) -> Self {
        Self(Box::new(e))
    }

    /// The host's error, to downcast to its own type.
    pub fn host_error(&self) -> &(dyn std::error::Error + Send + Sync + 'static) {
        self.0.as_ref()
    }
}

/// Loads plugin detectors when a policy set is compiled.
pub trait PluginLoader: Send + Sync {
    /// Loads (compiles, pins, initializes) one plugin; the error is shown to the
    /// policy author as a load error.
    fn load(&self, spec: &PluginSpec<'_>) -> Result<Arc<dyn PluginDetector>, PluginLoadError>;

    /// Counters of the plugins loaded so far, for metrics.
    fn stats(&self) -> Vec<PluginStats> {
        Vec::new()
    }
}

/// Counters of one plugin detector (one detector id and module), for metrics and alerts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PluginStats {
    /// Policy-local detector id.
    pub detector: String,
    /// First 12 hex digits of the module's sha256.
    pub module_sha256: String,
    /// Calls made (including those refused by an open breaker).
    pub calls: u64,
    /// Failed calls by kind (see [`PluginError::kind`]).
    pub failures: Vec<(PluginErrorKind, u64)>,
    /// Instances created (first use, after traps, after the per-instance call quota).
    pub instances_created: u64,
    /// Fuel (≈ WASM instructions) consumed.
    pub fuel_consumed: u64,
    /// Times the circuit breaker opened.
    pub breaker_trips: u64,
    /// Whether the breaker is open now.
    pub breaker_open: bool,
}
