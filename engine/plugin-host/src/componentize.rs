//! Turning a core WebAssembly module into a plugin component.
//!
//! Plugins are built for `wasm32-unknown-unknown`, whose output imports nothing (a
//! `wasm32-wasip2` std build imports 13 WASI interfaces, which the sandbox refuses). The
//! core module is wrapped into a component here, as `wasm-tools component new` would. A
//! module built with wit-bindgen already carries its WIT world; one built another way
//! (e.g. C by hand against the canonical ABI) gets the shipped `plugin` world embedded.

use wit_component::{ComponentEncoder, StringEncoding};
use wit_parser::Resolve;

/// Why a core module could not be made into a plugin component.
#[derive(Debug, thiserror::Error)]
pub enum ComponentizeError {
    /// The input does not start with the core WebAssembly header.
    #[error("not a core WebAssembly module")]
    NotCoreModule,
    /// The shipped plugin world could not be embedded into the module.
    #[error("cannot embed the plugin world: {0}")]
    EmbedWorld(String),
    /// wit-component refused the module (invalid, or not implementing the world).
    #[error("cannot make a component: {0}")]
    Encode(String),
}

/// An embedding failure, with its whole cause chain (`{:#}` of wit-parser's errors).
fn embed<E: std::fmt::Display>(e: E) -> ComponentizeError {
    ComponentizeError::EmbedWorld(format!("{e:#}"))
}

/// Wraps a core module into a component implementing the plugin world.
pub fn componentize(core: &[u8]) -> Result<Vec<u8>, ComponentizeError> {
    if !core.starts_with(b"\0asm\x01\0\0\0") {
        return Err(ComponentizeError::NotCoreModule);
    }
    let mut module = core.to_vec();
    if !has_world(core) {
        let mut resolve = Resolve::default();
        let pkg = resolve.push_str("detector.wit", crate::WIT).map_err(embed)?;
        let world = resolve.select_world(&[pkg], Some("plugin")).map_err(embed)?;
        wit_component::embed_component_metadata(&mut module, &resolve, world, StringEncoding::UTF8)
            .map_err(embed)?;
    }
    ComponentEncoder::default()
        .validate(true)
        .module(&module)
        .and_then(|mut e| e.encode())
        .map_err(|e| ComponentizeError::Encode(format!("{e:#}")))
}

/// Whether the module carries a `component-type` custom section (wit-bindgen's output).
fn has_world(core: &[u8]) -> bool {
    wasmparser::Parser::new(0).parse_all(core).any(
        |p| matches!(p, Ok(wasmparser::Payload::CustomSection(c)) if c.name().starts_with("component-type")),
    )
}
