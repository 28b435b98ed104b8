//! Counters kept per plugin detector, for metrics and alerts.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use linewall_engine::plugin::PluginErrorKind;
pub use linewall_engine::plugin::PluginStats;

/// Live counters of one plugin detector (shared across reloads of the same detector id).
#[derive(Debug, Default)]
pub struct Counters {
    pub(crate) calls: AtomicU64,
    pub(crate) failures: [AtomicU64; PluginErrorKind::ALL.len()],
    pub(crate) instances: AtomicU64,
    pub(crate) fuel: AtomicU64,
    pub(crate) trips: AtomicU64,
}

impl Counters {
    pub(crate) fn failed(&self, kind: PluginErrorKind) {
        if let Some(i) = PluginErrorKind::ALL.iter().position(|k| *k == kind) {
            self.failures[i].fetch_add(1, Relaxed);
        }
    }

    /// The counters as stats, with what the caller knows: identity and breaker state.
    pub(crate) fn snapshot(&self, detector: &str, module_sha256: String, breaker_open: bool) -> PluginStats {
        PluginStats {
            detector: detector.to_string(),
            module_sha256,
            calls: self.calls.load(Relaxed),
            failures: PluginErrorKind::ALL
                .iter()
                .zip(&self.failures)
                .map(|(k, n)| (*k, n.load(Relaxed)))
                .collect(),
            instances_created: self.instances.load(Relaxed),
            fuel_consumed: self.fuel.load(Relaxed),
            breaker_trips: self.trips.load(Relaxed),
            breaker_open,
        }
    }
}
