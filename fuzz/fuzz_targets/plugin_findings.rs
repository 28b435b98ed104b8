//! Plugin findings → the engine: a plugin reports arbitrary spans over arbitrary text.
//! The host's checks (count, bounds, char boundaries) are applied as the host applies
//! them; whatever passes must map back onto the original text and redact cleanly.
#![no_main]

use std::sync::{Arc, LazyLock, Mutex};

use libfuzzer_sys::fuzz_target;
use linewall_engine::detect::Confidence;
use linewall_engine::plugin::{
    PluginDetector, PluginError, PluginErrorKind, PluginFinding, PluginInput, PluginLoadError, PluginLoader,
    PluginSpec,
};
use linewall_engine::policy::{LoadOptions, PolicySet, PolicySource};

/// The spans the current input asks the plugin to report.
static SPANS: Mutex<Vec<(u32, u32)>> = Mutex::new(Vec::new());

struct Fake;

impl PluginDetector for Fake {
    fn detect(&self, input: &PluginInput<'_>) -> Result<Vec<PluginFinding>, PluginError> {
        let spans = SPANS.lock().map(|s| s.clone()).unwrap_or_default();
        let text = input.text;
        if spans.len() > 64 {
            return Err(PluginError { kind: PluginErrorKind::InvalidOutput, message: String::from("too many findings") });
        }
        spans
            .into_iter()
            .map(|(s, e)| {
                let (start, end) = (s as usize, e as usize);
                if start < end && end <= text.len() && text.is_char_boundary(start) && text.is_char_boundary(end) {
                    Ok(PluginFinding { start, end, confidence: Confidence::High })
                } else {
                    Err(PluginError { kind: PluginErrorKind::InvalidOutput, message: String::from("bad span") })
                }
            })
            .collect()
    }
}

struct Loader;

impl PluginLoader for Loader {
    fn load(&self, _spec: &PluginSpec<'_>) -> Result<Arc<dyn PluginDetector>, PluginLoadError> {
        Ok(Arc::new(Fake))
    }
}

static SET: LazyLock<PolicySet> = LazyLock::new(|| {
    let dir = std::env::temp_dir().join("linewall-fuzz-plugin");
    let _ = std::fs::create_dir_all(&dir);
    let _ = std::fs::write(dir.join("fake.wasm"), b"\0asm");
    let text = String::from(
        "apiVersion: linewall/v1\nkind: Policy\nmetadata: {name: fuzz}\nspec:\n  detectors:\n    - {id: fake, plugin: {module: fake.wasm}}\n  rules:\n    - id: redact-fake\n      when: {detectors: {any: [{id: fake}]}}\n      action: redact\n",
    );
    let options = LoadOptions { plugin_loader: Some(Arc::new(Loader)), ..LoadOptions::default() };
    PolicySet::load_sources(vec![PolicySource { name: String::from("fuzz.yaml"), text, base_dir: Some(dir) }], &options)
        .expect("the fuzz policy loads")
});

fuzz_target!(
    init: {
        // Build the set before the first input, so its cost is not charged to an input.
        LazyLock::force(&SET);
    },
    |data: &[u8]| {
    // Layout: u8 n, n pairs of u16 (start, end), then the text.
    let Some((&n, rest)) = data.split_first() else { return };
    let n = usize::from(n % 16);
    if rest.len() < n * 4 {
        return;
    }
    let (spans, text) = rest.split_at(n * 4);
    let Ok(text) = std::str::from_utf8(text) else { return };
    let spans: Vec<(u32, u32)> = spans
        .chunks_exact(4)
        .map(|c| (u32::from(u16::from_le_bytes([c[0], c[1]])), u32::from(u16::from_le_bytes([c[2], c[3]]))))
        .collect();
    if let Ok(mut s) = SPANS.lock() {
        *s = spans;
    }
    let msg = linewall_engine::Message { text: text.to_owned(), ..Default::default() };
    let v = SET.evaluate(&msg);
    linewall_fuzz_check::findings_are_well_formed(&msg, &v);
});

mod linewall_fuzz_check {
    include!("check.rs");
}
