//! Finds nothing; the benchmark baseline for a plugin call.

use linewall_plugin_sdk::{Detector, Finding, Message};

#[derive(Default)]
struct Noop;

impl Detector for Noop {
    fn detect(&self, _msg: &Message) -> Vec<Finding> {
        Vec::new()
    }
}

linewall_plugin_sdk::export_detector!(Noop);
