//! Host-side bindings generated from the plugin WIT world.

wasmtime::component::bindgen!({
    path: "../../plugins/sdk/wit",
    world: "plugin",
});
