//! Replay: what would change if a candidate policy set replaced the baseline.
//!
//! Every message is judged by both sets; the [`Report`] counts action transitions
//! (overall, per rule, per policy), monitor rules that would become enforced, findings
//! that appear or vanish per detector, and lists each changed message by id. Clear values
//! never appear unless the caller asks for each changed message's text. Shared by
//! `linewall replay`, `linewall playground` and the gRPC `PolicyAdmin/Replay`.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::Message;
use crate::policy::PolicySet;
use crate::verdict::{Mode, Verdict};

/// Transition counts keyed `old→new` (e.g. `allow→block`).
pub type Transitions = BTreeMap<String, u64>;

/// The replay report (`linewall replay --format json`, docs/07-cli.md).
#[derive(Debug, Default, Serialize)]
pub struct Report {
    /// Version of the baseline set.
    pub baseline_version: String,
    /// Version of the candidate set.
    pub candidate_version: String,
    /// Messages judged.
    pub messages: u64,
    /// Input lines (1-based) that could not be read or judged.
    pub bad_lines: Vec<u64>,
    /// Messages whose action or fired rules (with their modes) differ.
    pub changed_messages: u64,
    /// Action transitions over all messages.
    pub transitions: Transitions,
    /// Transitions of action-changed messages per rule that fired in either version.
    pub per_rule: BTreeMap<String, Transitions>,
    /// Transitions of action-changed messages per policy that fired in either version.
    pub per_policy: BTreeMap<String, Transitions>,
    /// Messages on which a rule in monitor mode would fire enforced.
    pub monitor_to_enforce: BTreeMap<String, u64>,
    /// Findings present in only one version, per detector.
    pub findings: BTreeMap<String, FindingDelta>,
    /// Each changed message.
    pub changed: Vec<Changed>,
}

/// Findings of one detector present in only one of the two verdicts.
#[derive(Debug, Default, Serialize)]
pub struct FindingDelta {
    /// Found by the candidate only.
    pub new: u64,
    /// Found by the baseline only.
    pub vanished: u64,
}

/// One message whose action or fired rules differ.
#[derive(Debug, Serialize)]
pub struct Changed {
    /// Input line (1-based).
    pub line: u64,
    /// Message id.
    pub id: String,
    /// Baseline action.
    pub old_action: &'static str,
    /// Candidate action.
    pub new_action: &'static str,
    /// Rules (`policy/rule`) the baseline fired.
    pub old_rules: Vec<String>,
    /// Rules the candidate fired.
    pub new_rules: Vec<String>,
    /// The message text, only when asked for (clear values!).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
}

/// `policy/rule` of every rule that fired, with its mode.
fn fired(v: &Verdict) -> BTreeMap<String, Mode> {
    v.matched.iter().map(|m| (format!("{}/{}", m.policy, m.rule), m.mode)).collect()
}

fn finding_keys(v: &Verdict) -> BTreeSet<(&str, &str, usize, usize)> {
    v.findings.iter().map(|f| (f.detector.as_str(), f.field.as_str(), f.start, f.end)).collect()
}

impl Report {
    /// An empty report comparing `base` with `cand`.
    pub fn new(base: &PolicySet, cand: &PolicySet) -> Self {
        Report {
            baseline_version: base.version().to_owned(),
            candidate_version: cand.version().to_owned(),
            ..Report::default()
        }
    }

    /// Counts one message judged by both sets; `text` is kept only with `show_text`.
    pub fn add(&mut self, line: u64, msg: &Message, old: &Verdict, new: &Verdict, show_text: bool) {
        self.messages += 1;
        let (old_rules, new_rules) = (fired(old), fired(new));
        for (rule, mode) in &old_rules {
            if *mode == Mode::Monitor && new_rules.get(rule) == Some(&Mode::Enforce) {
                *self.monitor_to_enforce.entry(rule.clone()).or_default() += 1;
            }
        }
        let (old_f, new_f) = (finding_keys(old), finding_keys(new));
        for f in new_f.difference(&old_f) {
            self.findings.entry(f.0.to_owned()).or_default().new += 1;
        }
        for f in old_f.difference(&new_f) {
            self.findings.entry(f.0.to_owned()).or_default().vanished += 1;
        }
        if old.action == new.action && old_rules == new_rules {
            return;
        }
        self.changed_messages += 1;
        if old.action != new.action {
            let t = format!("{}→{}", old.action.as_str(), new.action.as_str());
            *self.transitions.entry(t.clone()).or_default() += 1;
            let rules: BTreeSet<&String> = old_rules.keys().chain(new_rules.keys()).collect();
            let mut policies = BTreeSet::new();
            for r in rules {
                *self.per_rule.entry(r.clone()).or_default().entry(t.clone()).or_default() += 1;
                policies.insert(r.split_once('/').map_or(r.as_str(), |(p, _)| p));
            }
            for p in policies {
                *self.per_policy.entry(p.to_owned()).or_default().entry(t.clone()).or_default() += 1;
            }
        }
        self.changed.push(Changed {
            line,
            id: msg.id.clone(),
            old_action: old.action.as_str(),
            new_action: new.action.as_str(),
            old_rules: old_rules.into_keys().collect(),
            new_rules: new_rules.into_keys().collect(),
            text: show_text.then(|| msg.text.clone()),
        });
    }

    /// Judges a batch of numbered messages with both sets, split across `threads`
    /// threads, and counts them; an entry without a message (unreadable input) and one
    /// whose worker panicked are listed in `bad_lines`, never shifted.
    pub fn add_batch(
        &mut self,
        base: &PolicySet,
        cand: &PolicySet,
        batch: &[(u64, Option<Message>)],
        threads: usize,
        show_text: bool,
    ) {
        let chunk = batch.len().div_ceil(threads.max(1)).max(1);
        let judged: Vec<Option<(Verdict, Verdict)>> = std::thread::scope(|s| {
            let handles: Vec<_> = batch
                .chunks(chunk)
                .map(|part| {
                    let h = s.spawn(move || {
                        part.iter()
                            .map(|(_, m)| m.as_ref().map(|m| (base.evaluate(m), cand.evaluate(m))))
                            .collect::<Vec<_>>()
                    });
                    (part.len(), h)
                })
                .collect();
            handles
                .into_iter()
                .flat_map(|(len, h)| {
                    h.join().unwrap_or_else(|_| std::iter::repeat_with(|| None).take(len).collect())
                })
                .collect()
        });
        for ((line, msg), verdicts) in batch.iter().zip(judged) {
            match (msg, verdicts) {
                (Some(m), Some((old, new))) => self.add(*line, m, &old, &new, show_text),
                _ => self.bad_lines.push(*line),
            }
        }
    }
}
