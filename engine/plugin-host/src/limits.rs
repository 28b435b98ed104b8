//! Per-call and per-instance limits applied to every plugin.

/// Resource limits for plugin calls. The defaults suit detectors that scan a message in
/// one pass; every value is an upper bound a misbehaving plugin runs into, not a cost
/// well-behaved plugins pay.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Fuel (≈ WASM instructions) every call gets regardless of input size.
    pub fuel_base: u64,
    /// Extra fuel per byte of the field's text.
    pub fuel_per_byte: u64,
    /// Fuel for `init`.
    pub fuel_init: u64,
    /// Linear memory cap per instance, in bytes.
    pub memory_bytes: usize,
    /// WASM stack cap, in bytes.
    pub stack_bytes: usize,
    /// Largest module file accepted, in bytes.
    pub module_bytes: usize,
    /// Most findings one call may return.
    pub max_findings: usize,
    /// Calls after which an instance is replaced by a fresh one.
    pub calls_per_instance: u32,
    /// Consecutive failed calls that open the circuit breaker.
    pub breaker_failures: u32,
    /// First time the breaker stays open, in milliseconds (doubles on each re-trip).
    pub breaker_backoff_ms: u64,
    /// Longest time the breaker stays open, in milliseconds.
    pub breaker_max_backoff_ms: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            fuel_base: 2_000_000,
            fuel_per_byte: 2_000,
            fuel_init: 50_000_000,
            memory_bytes: 32 << 20,
            stack_bytes: 256 << 10,
            module_bytes: 32 << 20,
            max_findings: 1_024,
            calls_per_instance: 10_000,
            breaker_failures: 5,
            breaker_backoff_ms: 1_000,
            breaker_max_backoff_ms: 60_000,
        }
    }
}

impl Limits {
    /// The fuel budget of one call on `len` bytes of text.
    pub fn fuel_for(&self, len: usize) -> u64 {
        self.fuel_base.saturating_add(self.fuel_per_byte.saturating_mul(len as u64))
    }
}
