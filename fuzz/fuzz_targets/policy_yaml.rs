//! Policy YAML → load and compile: never a panic, whatever the bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use linewall_engine::policy::{LoadOptions, PolicySet, PolicySource};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let source = PolicySource { name: String::from("fuzz.yaml"), text: text.to_owned(), base_dir: None };
    if let Ok(set) = PolicySet::load_sources(vec![source], &LoadOptions::default()) {
        // A set that loads must also evaluate.
        let _ = set.evaluate(&linewall_engine::Message { text: String::from("card 4111 1111 1111 1111"), ..Default::default() });
    }
});
