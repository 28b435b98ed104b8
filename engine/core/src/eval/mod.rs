//! Evaluation of one message against a compiled policy set, in stages that each read
//! the previous one's output: [`decide`] picks the rules that can fire (scopes and
//! metadata, before any scan), `scan` runs only the detectors those rules reference
//! (each field normalized once and searched once by the shared literal automaton),
//! [`decide`] then fires rules from the findings, [`redact`] rewrites only the fields
//! that need it, and [`render`] shapes the verdict's findings.
//!
//! Evaluation is pure: the decision id and the clock come from the caller
//! ([`EvalContext`]); [`PolicySet::evaluate`] is the convenience that supplies both.

mod decide;
pub mod fields;
pub mod redact;
mod render;
mod scan;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::SystemTime;

use decide::RuleRef;
use fields::FieldPath;
use redact::RedactSpan;

use crate::detect::Confidence;
use crate::message::{Channel, Message};
use crate::normalize::Normalized;
use crate::policy::PolicySet;
use crate::policy::model::RecordMode;
use crate::verdict::{Action, EvalError, Verdict};

/// A finding before it is rendered, in original byte offsets: the same record as an
/// [`ExtraFinding`], so extra findings join the scan's without a copy.
pub(crate) type RawFinding = ExtraFinding;

/// A finding established outside the message's own fields' scan (for example a value
/// split across the messages of a conversation, completed by this one), which rules
/// then see exactly like a finding of the scan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExtraFinding {
    /// Index of the detector in the set ([`PolicySet::detector_index`]).
    pub detector: usize,
    /// The field of this message holding the finding's own part.
    pub field: FieldPath,
    /// Start byte of that part in the field.
    pub start: usize,
    /// End byte (exclusive).
    pub end: usize,
    /// Confidence of the finding.
    pub confidence: Confidence,
    /// A value split across messages (rules' `split:` conditions and alerts see it).
    pub split: bool,
}

/// What an evaluation takes from its caller besides the message: evaluation reads no
/// clock and generates no id itself.
#[derive(Debug, Clone)]
pub struct EvalContext<'a> {
    /// The verdict's decision id.
    pub decision_id: String,
    /// The time of the decision (the date-of-birth detector's "today").
    pub now: SystemTime,
    /// Findings from outside the message's scan (see [`ExtraFinding`]).
    pub extra_findings: &'a [ExtraFinding],
    /// Raised by the caller when it no longer waits for the verdict (it went away, or its
    /// deadline passed): the evaluation then stops at the next field, detector or plugin
    /// call instead of running to completion (see [`PolicySet::try_evaluate_with`]).
    pub cancel: Option<&'a AtomicBool>,
}

impl EvalContext<'static> {
    /// A fresh time-ordered (UUIDv7) decision id and the system clock.
    pub fn now() -> Self {
        let now = SystemTime::now();
        Self { decision_id: decision_id(now), now, extra_findings: &[], cancel: None }
    }
}

/// An evaluation stopped before its verdict because its caller raised
/// [`EvalContext::cancel`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("evaluation abandoned: its caller no longer waits for the verdict")]
pub struct Abandoned;

/// Whether the caller of an evaluation has raised its cancel flag.
pub(crate) fn cancelled(cancel: Option<&AtomicBool>) -> bool {
    cancel.is_some_and(|c| c.load(Ordering::Relaxed))
}

/// A UUIDv7 decision id for `now`: time-ordered and unique per process without a lock
/// or a syscall per call (a random process seed plus a counter fill the random bits).
/// `Uuid::now_v7()` takes a process-wide mutex and reads the OS RNG on every call, which
/// measured +0.5 µs per message (bench `corpus_message_no_policies`, same run).
fn decision_id(now: SystemTime) -> String {
    use std::sync::OnceLock;
    use std::sync::atomic::{AtomicU64, Ordering};
    static SEED: OnceLock<u64> = OnceLock::new();
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let seed = *SEED.get_or_init(|| {
        let mut b = [0u8; 8];
        let _ = getrandom::fill(&mut b);
        u64::from_le_bytes(b)
    });
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let ms = now
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
    let mut rand = [0u8; 10];
    rand[..8].copy_from_slice(&(seed ^ n.rotate_left(17)).to_le_bytes());
    rand[8..].copy_from_slice(&(n as u16).to_le_bytes());
    uuid::Builder::from_unix_timestamp_millis(ms, &rand).into_uuid().to_string()
}

thread_local! {
    /// The per-message "which detectors must run" flags, reused across messages.
    static NEEDED: std::cell::Cell<Vec<bool>> = const { std::cell::Cell::new(Vec::new()) };
}

/// The calendar year of `t` (UTC), good to within a day, which is all a year needs.
pub(crate) fn year_of(t: SystemTime) -> i32 {
    let secs = t.duration_since(SystemTime::UNIX_EPOCH).map_or(0, |d| d.as_secs());
    1970 + i32::try_from(secs / 31_556_952).unwrap_or(0)
}

impl PolicySet {
    /// The keyed hash this set uses for `hash` redaction, for callers (e.g. decision
    /// logs) that need to link values without storing them.
    pub fn keyed_hash(&self, value: &str) -> String {
        redact::keyed_hash(&self.hash_key, value)
    }

    /// Judges one message with a fresh decision id at the current time. Never fails:
    /// detector failures become `errors` entries and their fail mode applies.
    pub fn evaluate(&self, msg: &Message) -> Verdict {
        self.evaluate_with(msg, EvalContext::now())
    }

    /// Judges one message with the decision id, clock and extra findings of `cx`.
    /// Never fails: detector failures become `errors` entries and their fail mode applies.
    /// An evaluation abandoned through `cx.cancel` fails closed (a `block` verdict naming
    /// the abandonment); [`PolicySet::try_evaluate_with`] tells it apart instead.
    pub fn evaluate_with(&self, msg: &Message, cx: EvalContext<'_>) -> Verdict {
        let decision_id = cx.decision_id.clone();
        self.try_evaluate_with(msg, cx).unwrap_or_else(|a| self.abandoned_verdict(msg, decision_id, a))
    }

    /// Judges one message like [`PolicySet::evaluate_with`], but stops with [`Abandoned`]
    /// as soon as it sees `cx.cancel` raised (checked before each field, detector and
    /// plugin call), so work for a caller that left does not run to completion.
    pub fn try_evaluate_with(&self, msg: &Message, cx: EvalContext<'_>) -> Result<Verdict, Abandoned> {
        self.try_evaluate_normalized(msg, cx, None)
    }

    /// [`PolicySet::try_evaluate_with`], given the normalized text of one field of `msg`
    /// (`Normalized::new` of that field's text) so the scan does not normalize it again.
    pub(crate) fn try_evaluate_normalized(
        &self,
        msg: &Message,
        cx: EvalContext<'_>,
        normalized: Option<(FieldPath, &Normalized<'_>)>,
    ) -> Result<Verdict, Abandoned> {
        if cancelled(cx.cancel) {
            return Err(Abandoned);
        }
        if decide::is_opt_out(msg) {
            return Ok(Verdict {
                id: msg.id.clone(),
                action: Action::Allow,
                delivered: None,
                record: msg.clone(),
                findings: Vec::new(),
                matched: Vec::new(),
                notice: None,
                alerts: Vec::new(),
                policy_version: self.version.clone(),
                decision_id: cx.decision_id,
                errors: Vec::new(),
            });
        }
        let kinds = decide::kinds_of(msg);
        let mut needed = NEEDED.with(|n| n.take());
        needed.clear();
        needed.resize(self.detectors.len(), false);
        let candidates = self.candidate_rules(msg, &kinds, &mut needed);
        let (mut raw, mut errors) = self.scan_message(msg, &needed, year_of(cx.now), cx.cancel, normalized);
        NEEDED.with(|n| n.replace(needed));
        // The scan stops early once the flag is up; what it found is then incomplete and
        // must not become a verdict.
        if cancelled(cx.cancel) {
            return Err(Abandoned);
        }
        if !cx.extra_findings.is_empty() {
            merge_extra(&mut raw, cx.extra_findings, self.detectors.len());
        }

        let decision = self.decide(msg, &kinds, &candidates, &raw, &errors);
        let mut action = decision.action;
        let notice = self.notice(&decision.fired, action);
        let (delivered, record) = self.redact_message(msg, &decision.fired, &raw, &mut action, &mut errors);
        let findings = self.render(msg, &raw, &decision.fired);
        Ok(Verdict {
            id: msg.id.clone(),
            action,
            delivered,
            record,
            findings,
            matched: decision.matched,
            notice,
            alerts: decision.alerts,
            policy_version: self.version.clone(),
            decision_id: cx.decision_id,
            errors,
        })
    }

    /// The fail-closed verdict of an evaluation abandoned through its cancel flag: the
    /// message is blocked, and nothing about its content is reported.
    pub(crate) fn abandoned_verdict(&self, msg: &Message, decision_id: String, why: Abandoned) -> Verdict {
        Verdict {
            id: msg.id.clone(),
            action: Action::Block,
            delivered: None,
            record: msg.clone(),
            findings: Vec::new(),
            matched: Vec::new(),
            notice: None,
            alerts: Vec::new(),
            policy_version: self.version.clone(),
            decision_id,
            errors: vec![EvalError {
                detector: String::from("evaluation"),
                error: why.to_string(),
                on_error: Action::Block,
            }],
        }
    }

    /// Scans every field with the detectors flagged in `needed`; stops early (with
    /// partial results the caller discards) once `cancel` is raised.
    fn scan_message(
        &self,
        msg: &Message,
        needed: &[bool],
        year: i32,
        cancel: Option<&AtomicBool>,
        normalized: Option<(FieldPath, &Normalized<'_>)>,
    ) -> (Vec<RawFinding>, Vec<EvalError>) {
        let mut raw: Vec<RawFinding> = Vec::new();
        let mut errors: Vec<EvalError> = Vec::new();
        if !needed.iter().any(|&n| n) {
            return (raw, errors);
        }
        // Scan buffers live per thread so a message does not pay for their allocation.
        // They hold offsets and flags only, never text.
        thread_local! {
            static SCRATCH: std::cell::RefCell<scan::Scratch> = std::cell::RefCell::default();
        }
        SCRATCH.with(|cell| {
            // A plugin calling back into evaluation on this thread would find the buffers
            // borrowed; it then gets fresh ones.
            let mut fresh = scan::Scratch::default();
            let mut borrowed = cell.try_borrow_mut();
            let scratch = match borrowed.as_deref_mut() {
                Ok(s) => s,
                Err(_) => &mut fresh,
            };
            let run = scan::MessageScan { needed, msg, year, cancel, normalized };
            fields::for_each(msg, |path, text| {
                if cancelled(cancel) {
                    return;
                }
                self.scan_field(&run, path, text, scratch, &mut raw, &mut errors);
            });
        });
        (raw, errors)
    }

    /// The delivered copy (only when the action is `redact`) and the record copy.
    /// Delivered spans come from enforced `redact` rules, record spans from enforced
    /// rules with `record: redacted`. A redaction that would break the channel's length
    /// limit blocks the message instead.
    fn redact_message(
        &self,
        msg: &Message,
        fired: &[RuleRef],
        raw: &[RawFinding],
        action: &mut Action,
        errors: &mut Vec<EvalError>,
    ) -> (Option<Message>, Message) {
        let mut delivered_spans: BTreeMap<FieldPath, Vec<RedactSpan<'_>>> = BTreeMap::new();
        let mut record_spans: BTreeMap<FieldPath, Vec<RedactSpan<'_>>> = BTreeMap::new();
        for &(pi, ri) in fired.iter().filter(|x| self.enforced(x)) {
            let r = &self.policies[pi].rules[ri];
            for f in raw.iter().filter(|f| decide::satisfies(&r.when, f)) {
                let span = RedactSpan {
                    start: f.start,
                    end: f.end,
                    spec: &r.redact,
                    detector: &self.detectors[f.detector].id,
                };
                if r.action == Action::Redact && *action == Action::Redact {
                    delivered_spans.entry(f.field).or_default().push(span.clone());
                }
                if r.record == RecordMode::Redacted {
                    record_spans.entry(f.field).or_default().push(span);
                }
            }
        }
        let sms = msg.channel == Channel::Sms;
        // Only a redacted message differs from what the caller sent.
        let mut delivered = (*action == Action::Redact).then(|| msg.clone());
        if let Some(d) = delivered.as_mut() {
            for (path, spans) in &mut delivered_spans {
                if let Some(field) = fields::get_mut(d, *path) {
                    let redacted = redact::apply(field, spans, &self.hash_key, sms);
                    if let Some(max) = fields::max_chars(*path, msg.channel)
                        && redacted.chars().count() > max
                    {
                        errors.push(EvalError {
                            detector: String::from("redaction"),
                            error: format!(
                                "redacted `{path}` would exceed the {max}-character {} limit",
                                msg.channel.as_str()
                            ),
                            on_error: Action::Block,
                        });
                        *action = Action::Block;
                    }
                    *field = redacted;
                }
            }
        }
        if *action != Action::Redact {
            delivered = None;
        }
        let mut record = msg.clone();
        for (path, spans) in &mut record_spans {
            if let Some(field) = fields::get_mut(&mut record, *path) {
                *field = redact::apply(field, spans, &self.hash_key, sms);
            }
        }
        (delivered, record)
    }
}

/// Adds the extra findings that name a detector of the set and are not already found,
/// keeping each field's findings in text order.
fn merge_extra(raw: &mut Vec<RawFinding>, extra: &[ExtraFinding], detectors: usize) {
    for x in extra.iter().filter(|x| x.detector < detectors && x.start < x.end) {
        let dup = raw
            .iter()
            .any(|f| f.detector == x.detector && f.field == x.field && f.start == x.start && f.end == x.end);
        if !dup {
            raw.push(*x);
        }
    }
    raw.sort_by_key(|f| (f.field, f.start, f.end, f.detector));
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, SystemTime};

    use super::{EvalContext, ExtraFinding, FieldPath};
    use crate::detect::Confidence;
    use crate::message::Message;
    use crate::testing::catalogue::builtin_catalogue;
    use crate::verdict::Action;

    fn at(year: u64) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs((year - 1970) * 31_556_952 + 86_400 * 40)
    }

    #[test]
    fn the_decision_id_and_the_clock_come_from_the_caller() {
        let set = builtin_catalogue().expect("catalogue");
        let msg = Message::text("DOB: 04/12/1985");
        let cx = |year| EvalContext {
            decision_id: format!("d-{year}"),
            now: at(year),
            extra_findings: &[],
            cancel: None,
        };
        let then = set.evaluate_with(&msg, cx(1988));
        assert_eq!(then.decision_id, "d-1988");
        assert!(
            then.findings.is_empty(),
            "a three-year-old's birth date is not taken as one: {:?}",
            then.findings
        );
        let now = set.evaluate_with(&msg, cx(2026));
        assert_eq!(now.decision_id, "d-2026");
        assert_eq!(now.findings.len(), 1);
        assert_eq!(now.findings[0].detector, "date_of_birth");
    }

    #[test]
    fn extra_findings_are_decided_and_rendered_like_scanned_ones() {
        let set = builtin_catalogue().expect("catalogue");
        let msg = Message::text("and the rest: 0366");
        let card = set.detector_index("credit_card").expect("credit_card");
        assert!(set.is_joinable(card));
        let extra = [ExtraFinding {
            detector: card,
            field: FieldPath::Text,
            start: 14,
            end: 18,
            confidence: Confidence::Medium,
            split: true,
        }];
        let alone = set.evaluate(&msg);
        assert_eq!(alone.action, Action::Allow);
        let v = set.evaluate_with(
            &msg,
            EvalContext {
                decision_id: String::from("d"),
                now: SystemTime::now(),
                extra_findings: &extra,
                cancel: None,
            },
        );
        assert_eq!(v.action, Action::Block);
        assert_eq!(v.findings.len(), 1);
        let f = &v.findings[0];
        assert_eq!((f.detector.as_str(), f.field.as_str(), f.start, f.end), ("credit_card", "text", 14, 18));
        assert_eq!(f.rules, ["builtin-detectors/credit_card"]);
    }
}
