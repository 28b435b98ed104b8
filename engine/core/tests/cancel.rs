//! Abandoning an evaluation whose caller left: once the caller's cancel flag is up, no
//! further field, detector or plugin call runs, and no verdict is made from the partial
//! scan.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use linewall_engine::Message;
use linewall_engine::detect::Confidence;
use linewall_engine::eval::{Abandoned, EvalContext};
use linewall_engine::message::Attachment;
use linewall_engine::plugin::{
    PluginDetector, PluginError, PluginFinding, PluginInput, PluginLoadError, PluginLoader, PluginSpec,
};
use linewall_engine::policy::{LoadOptions, PolicySet, PolicySource};
use linewall_engine::verdict::Action;

/// Stands for the caller that goes away: raises the flag from inside the first call
/// whose field says `leave`, and counts every call it gets.
struct Leaving {
    flag: Arc<AtomicBool>,
    calls: Arc<AtomicUsize>,
}

impl PluginDetector for Leaving {
    fn detect(&self, input: &PluginInput<'_>) -> Result<Vec<PluginFinding>, PluginError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        if input.text.contains("leave") {
            self.flag.store(true, Ordering::SeqCst);
        }
        Ok(input
            .text
            .match_indices("secret")
            .map(|(i, m)| PluginFinding { start: i, end: i + m.len(), confidence: Confidence::High })
            .collect())
    }
}

struct Loader(Arc<AtomicBool>, Arc<AtomicUsize>);

impl PluginLoader for Loader {
    fn load(&self, _spec: &PluginSpec<'_>) -> Result<Arc<dyn PluginDetector>, PluginLoadError> {
        Ok(Arc::new(Leaving { flag: Arc::clone(&self.0), calls: Arc::clone(&self.1) }))
    }
}

const POLICY: &str = "apiVersion: linewall/v1\nkind: Policy\nmetadata: {name: p}\nspec:\n  detectors:\n    - id: leaving\n      plugin: {module: leaving.wasm}\n  rules:\n    - id: block-it\n      when: {detectors: {any: [{id: leaving}, {id: credit_card}]}}\n      action: block\n";

fn setup() -> (PolicySet, Arc<AtomicBool>, Arc<AtomicUsize>) {
    let flag = Arc::new(AtomicBool::new(false));
    let calls = Arc::new(AtomicUsize::new(0));
    let loader = Loader(Arc::clone(&flag), Arc::clone(&calls));
    let set = PolicySet::load_sources(
        vec![PolicySource { name: "p.yaml".into(), text: POLICY.into(), base_dir: None }],
        &LoadOptions { plugin_loader: Some(Arc::new(loader)), ..LoadOptions::default() },
    )
    .expect("loads");
    (set, flag, calls)
}

/// Text, caption and three attachments (a file name and a text each): eight fields, five
/// of them with a card number.
fn five_fields(first: &str) -> Message {
    let card = "card 4111 1111 1111 1111";
    let mut m = Message::text(format!("{first} {card}"));
    m.caption = card.into();
    m.attachments = (0..3)
        .map(|i| Attachment { filename: format!("a{i}.txt"), text: card.into(), ..Default::default() })
        .collect();
    m
}

#[test]
fn a_caller_leaving_mid_evaluation_stops_it_at_the_next_check() {
    let (set, flag, calls) = setup();
    let msg = five_fields("please leave now");
    let cx = EvalContext { cancel: Some(&flag), ..EvalContext::now() };
    assert_eq!(set.try_evaluate_with(&msg, cx).map(|v| v.action), Err(Abandoned));
    // The caller left during the first field's plugin call: no other field was scanned
    // (the attachments' file names and texts count as fields too).
    assert_eq!(calls.load(Ordering::SeqCst), 1, "plugin calls after the caller left");
}

#[test]
fn a_flag_raised_before_the_start_runs_nothing_and_a_lowered_one_changes_nothing() {
    let (set, flag, calls) = setup();
    let msg = five_fields("hello");
    flag.store(true, Ordering::SeqCst);
    let cx = EvalContext { cancel: Some(&flag), ..EvalContext::now() };
    assert_eq!(set.try_evaluate_with(&msg, cx).err(), Some(Abandoned));
    assert_eq!(calls.load(Ordering::SeqCst), 0);
    flag.store(false, Ordering::SeqCst);
    let cx = EvalContext { cancel: Some(&flag), ..EvalContext::now() };
    let v = set.try_evaluate_with(&msg, cx).expect("runs to the end");
    assert_eq!(v.action, Action::Block);
    assert_eq!(calls.load(Ordering::SeqCst), 8, "every field scanned (file names too)");
    assert_eq!(v.findings.len(), 5, "{:?}", v.findings);
}

#[test]
fn evaluate_with_fails_closed_when_abandoned() {
    let (set, flag, _calls) = setup();
    let mut msg = Message::text("please leave");
    msg.id = "m1".into();
    let v = set.evaluate_with(&msg, EvalContext { cancel: Some(&flag), ..EvalContext::now() });
    assert_eq!(v.action, Action::Block);
    assert!(v.findings.is_empty());
    assert_eq!(v.errors.len(), 1);
    assert_eq!(v.errors[0].detector, "evaluation");
    assert!(v.errors[0].error.contains("abandoned"), "{}", v.errors[0].error);
    assert_eq!(v.id, "m1");
}
