//! The engine side of plugin detectors, with an in-process stand-in for a WASM host: how
//! findings flow into rules, and how a failing plugin fails closed (or open, if asked).

use std::sync::Arc;

use linewall_engine::Message;
use linewall_engine::detect::Confidence;
use linewall_engine::plugin::{
    PluginDetector, PluginError, PluginErrorKind, PluginFinding, PluginInput, PluginLoadError, PluginLoader,
    PluginSpec,
};
use linewall_engine::policy::{LoadOptions, PolicySet, PolicySource};
use linewall_engine::verdict::Action;

/// Finds the word `secret`, or fails when the text says `crash`.
struct Fake;

impl PluginDetector for Fake {
    fn detect(&self, input: &PluginInput<'_>) -> Result<Vec<PluginFinding>, PluginError> {
        if input.text.contains("crash") {
            return Err(PluginError {
                kind: PluginErrorKind::Trap,
                message: String::from("unreachable executed"),
            });
        }
        Ok(input
            .text
            .match_indices("secret")
            .map(|(i, m)| PluginFinding { start: i, end: i + m.len(), confidence: Confidence::High })
            .collect())
    }
}

struct Loader;

impl PluginLoader for Loader {
    fn load(&self, spec: &PluginSpec<'_>) -> Result<Arc<dyn PluginDetector>, PluginLoadError> {
        if spec.module.ends_with("missing.wasm") {
            return Err(PluginLoadError::new(std::io::Error::new(
                std::io::ErrorKind::NotFound,
                "no such module",
            )));
        }
        Ok(Arc::new(Fake))
    }
}

fn policy(on_error: &str, module: &str) -> String {
    format!(
        "apiVersion: linewall/v1\nkind: Policy\nmetadata: {{name: p}}\nspec:\n  detectors:\n    - id: fake\n      plugin: {{module: {module}, on_error: {on_error}}}\n      examples: ['a secret here']\n  rules:\n    - id: redact-fake\n      when: {{detectors: {{any: [{{id: fake}}]}}}}\n      action: redact\n      redact: {{style: label}}\n"
    )
}

fn load(yaml: &str) -> Result<PolicySet, String> {
    PolicySet::load_sources(
        vec![PolicySource { name: "p.yaml".into(), text: yaml.into(), base_dir: None }],
        &LoadOptions { plugin_loader: Some(Arc::new(Loader)), ..LoadOptions::default() },
    )
    .map_err(|d| d.to_string())
}

#[test]
fn plugin_findings_drive_rules_like_any_detector() {
    let set = load(&policy("block", "fake.wasm")).expect("loads");
    let v = set.evaluate(&Message::text("my secret is safe"));
    assert_eq!(v.action, Action::Redact);
    assert_eq!(v.delivered.expect("delivered").text, "my [FAKE] is safe");
    assert_eq!(v.findings[0].detector, "fake");
}

#[test]
fn a_failing_plugin_fails_closed_by_default_and_open_when_asked() {
    let closed = load(&policy("block", "fake.wasm")).expect("loads");
    let v = closed.evaluate(&Message::text("crash now"));
    assert_eq!(v.action, Action::Block, "on_error: block");
    assert_eq!(v.errors.len(), 1);
    assert_eq!(v.errors[0].detector, "fake");
    assert!(v.errors[0].error.contains("trap"));
    let open = load(&policy("allow", "fake.wasm")).expect("loads");
    let v = open.evaluate(&Message::text("crash now"));
    assert_eq!(v.action, Action::Allow, "on_error: allow");
    assert_eq!(v.errors[0].on_error, Action::Allow);
}

#[test]
fn plugin_load_errors_and_missing_hosts_are_load_errors() {
    let err = load(&policy("block", "missing.wasm")).expect_err("missing module");
    insta::assert_snapshot!("missing_plugin_module", err);
    let no_host = PolicySet::load_sources(
        vec![PolicySource { name: "p.yaml".into(), text: policy("block", "fake.wasm"), base_dir: None }],
        &LoadOptions::default(),
    )
    .expect_err("no host");
    assert!(no_host.to_string().contains("this build has no plugin host"), "{no_host}");
}

/// Finds nothing; records what each call was given.
#[derive(Default)]
struct Recorder(std::sync::Mutex<Vec<String>>);

impl PluginDetector for Recorder {
    fn detect(&self, input: &PluginInput<'_>) -> Result<Vec<PluginFinding>, PluginError> {
        let seen = format!(
            "{} {:?} {:?} {:?} {:?}",
            input.field, input.channel, input.direction, input.attributes, input.text
        );
        self.0.lock().expect("lock").push(seen);
        Ok(Vec::new())
    }
}

struct RecordingLoader(Arc<Recorder>);

impl PluginLoader for RecordingLoader {
    fn load(&self, _spec: &PluginSpec<'_>) -> Result<Arc<dyn PluginDetector>, PluginLoadError> {
        Ok(self.0.clone())
    }
}

#[test]
fn a_plugin_sees_each_fields_path_and_normalized_text_and_its_messages_metadata() {
    let recorder = Arc::new(Recorder::default());
    let yaml = "apiVersion: linewall/v1\nkind: Policy\nmetadata: {name: p}\nspec:\n  detectors:\n    - id: rec\n      plugin: {module: rec.wasm}\n  rules:\n    - id: r\n      when: {detectors: {any: [{id: rec}]}}\n      action: block\n";
    let set = PolicySet::load_sources(
        vec![PolicySource { name: "p.yaml".into(), text: yaml.into(), base_dir: None }],
        &LoadOptions {
            plugin_loader: Some(Arc::new(RecordingLoader(recorder.clone()))),
            ..LoadOptions::default()
        },
    )
    .expect("loads");
    let mut msg = Message::text("card ４１１１");
    msg.caption = String::from("see below");
    msg.channel = linewall_engine::message::Channel::Sms;
    msg.direction = linewall_engine::message::Direction::Inbound;
    msg.attributes.insert("team".into(), "ops".into());
    let v = set.evaluate(&msg);
    assert!(v.errors.is_empty() && v.findings.is_empty(), "{v:?}");
    assert_eq!(
        *recorder.0.lock().expect("lock"),
        [
            r#"text Sms Inbound {"team": "ops"} "card 4111""#,
            r#"caption Sms Inbound {"team": "ops"} "see below""#,
        ]
    );
}
