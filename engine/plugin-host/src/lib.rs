//! Linewall's WASM detector plugin host.
//!
//! A plugin is a WebAssembly component implementing the WIT world
//! `linewall:detector/plugin@0.1.0` (`plugins/sdk/wit/detector.wit`). [`WasmHost`] implements
//! the engine's [`PluginLoader`](linewall_engine::plugin::PluginLoader): it compiles each
//! module once, checks its sha256 pin and its imports (plugins may import nothing),
//! pre-instantiates it, and runs `init(config)` once to validate the config before the
//! policy set is accepted.
//!
//! Calls run on pooled instances (one per concurrent caller), each in its own `Store`
//! with a memory cap, a fuel budget proportional to the input (deterministic) and an
//! epoch deadline from the policy's `timeout_ms` (wall-clock backstop). An instance is
//! thrown away after any trap, after [`Limits::calls_per_instance`] calls, and with the
//! policy set on reload. A plugin that keeps failing trips a circuit breaker.

mod bindings;
mod breaker;
pub mod componentize;
mod detector;
pub mod error;
mod host;
mod instance;
mod limits;
mod stats;

pub use error::LoadError;
pub use host::WasmHost;
pub use limits::Limits;
pub use stats::PluginStats;

/// The WIT contract every plugin implements, as shipped with this host.
pub const WIT: &str = include_str!("../../../plugins/sdk/wit/detector.wit");

/// The exported interface a plugin must provide, with its version.
pub const INTERFACE: &str = "linewall:detector/detector@0.1.0";
