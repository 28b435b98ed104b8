//! Evaluation of one message against a compiled policy set.
//!
//! Order of work, cheapest first: policy scopes and each rule's metadata conditions pick
//! the rules that can fire; only the detectors those rules reference run; each field is
//! normalized once and scanned once by the shared literal automaton (context words, gate
//! literals, dictionary terms) before the selected detectors run; rules are then decided
//! from the findings, and redaction rewrites only the fields that need it.

pub mod fields;
pub mod redact;
mod scan;

use std::collections::BTreeMap;

use fields::FieldPath;
use redact::RedactSpan;

use crate::conversation::SplitFinding;
use crate::detect::Confidence;
use crate::message::{Channel, Direction, Message};
use crate::policy::PolicySet;
use crate::policy::compile::{AttachmentCond, Cond, MetaCond, Requirement};
use crate::policy::model::{Kind, RecordMode};
use crate::verdict::{Action, Alert, EvalError, Finding, Matched, Mode, Verdict};

/// SMS keywords a contact uses to opt out or in; such messages are never blocked or redacted.
const OPT_OUT_KEYWORDS: &[&str] = &[
    "STOP",
    "STOPALL",
    "STOP ALL",
    "UNSUBSCRIBE",
    "CANCEL",
    "END",
    "QUIT",
    "OPTOUT",
    "OPT OUT",
    "OPT-OUT",
    "REVOKE",
    "START",
    "UNSTOP",
    "YES",
    "HELP",
    "INFO",
];

/// A finding before it is rendered, in original byte offsets.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RawFinding {
    pub detector: usize,
    pub field: FieldPath,
    pub start: usize,
    pub end: usize,
    pub confidence: Confidence,
    /// Index of the split value (joined across messages) this finding renders, if any.
    pub split: Option<u16>,
}

thread_local! {
    /// The per-message "which detectors must run" flags, reused across messages.
    static NEEDED: std::cell::Cell<Vec<bool>> = const { std::cell::Cell::new(Vec::new()) };
}

fn kinds_of(msg: &Message) -> [bool; 8] {
    [
        !msg.text.is_empty(),
        msg.template.is_some(),
        !msg.attachments.is_empty(),
        msg.location.is_some(),
        !msg.contacts.is_empty(),
        msg.interactive.is_some(),
        msg.reaction.is_some(),
        msg.order.is_some(),
    ]
}

fn kind_index(k: Kind) -> usize {
    match k {
        Kind::Text => 0,
        Kind::Template => 1,
        Kind::Media => 2,
        Kind::Location => 3,
        Kind::Contacts => 4,
        Kind::Interactive => 5,
        Kind::Reaction => 6,
        Kind::Order => 7,
    }
}

fn meta_matches(m: &MetaCond, msg: &Message, kinds: &[bool; 8]) -> bool {
    let sender = msg.sender.as_ref();
    let recipient = msg.recipient.as_ref();
    (m.tenants.is_empty() || m.tenants.contains(&msg.tenant))
        && (m.channels.is_empty() || m.channels.contains(&msg.channel))
        && (m.directions.is_empty() || m.directions.contains(&msg.direction))
        && (m.sender_roles.is_empty()
            || sender.and_then(|p| p.role).is_some_and(|r| m.sender_roles.contains(&r)))
        && (m.sender_groups.is_empty()
            || sender.is_some_and(|p| p.groups.iter().any(|g| m.sender_groups.contains(g))))
        && (m.recipient_roles.is_empty()
            || recipient.and_then(|p| p.role).is_some_and(|r| m.recipient_roles.contains(&r)))
        && (m.recipient_groups.is_empty()
            || recipient.is_some_and(|p| p.groups.iter().any(|g| m.recipient_groups.contains(g))))
        && (m.kinds.is_empty() || m.kinds.iter().any(|k| kinds[kind_index(*k)]))
        && m.attributes.iter().all(|(k, v)| msg.attributes.get(k) == Some(v))
}

fn attachments_match(a: &AttachmentCond, msg: &Message) -> bool {
    msg.attachments.iter().any(|att| {
        let ext_ok = a.extensions.is_empty()
            || att
                .filename
                .rsplit_once('.')
                .is_some_and(|(_, ext)| a.extensions.iter().any(|e| e.eq_ignore_ascii_case(ext)));
        let mime = att.mime_type.to_ascii_lowercase();
        let mime_ok = a.mime_types.is_empty()
            || a.mime_types.iter().any(|m| match m.strip_suffix("/*") {
                Some(prefix) => mime.split('/').next() == Some(prefix),
                None => *m == mime,
            });
        let size_ok = a.max_size_bytes.is_none_or(|max| att.size_bytes > max);
        ext_ok && mime_ok && size_ok
    })
}

fn requirement_holds(q: &Requirement, findings: &[RawFinding]) -> bool {
    let n = findings
        .iter()
        .filter(|f| {
            f.detector == q.detector && f.confidence >= q.min_confidence && q.split.accepts(f.split.is_some())
        })
        .count();
    n >= q.min_count as usize
}

fn cond_holds(c: &Cond, msg: &Message, kinds: &[bool; 8], findings: &[RawFinding]) -> bool {
    meta_matches(&c.meta, msg, kinds)
        && c.attachments.as_ref().is_none_or(|a| attachments_match(a, msg))
        && (c.any.is_empty() || c.any.iter().any(|q| requirement_holds(q, findings)))
        && c.all.iter().all(|q| requirement_holds(q, findings))
}

/// True when a finding satisfies one of the requirements of a rule's `when`.
fn satisfies(c: &Cond, f: &RawFinding) -> bool {
    c.any.iter().chain(&c.all).any(|q| {
        q.detector == f.detector && f.confidence >= q.min_confidence && q.split.accepts(f.split.is_some())
    })
}

fn is_opt_out(msg: &Message) -> bool {
    if msg.channel != Channel::Sms || msg.direction != Direction::Inbound {
        return false;
    }
    let t = msg.text.trim().trim_end_matches(['.', '!']);
    OPT_OUT_KEYWORDS.iter().any(|k| t.eq_ignore_ascii_case(k))
}

/// A UUIDv7 decision id: time-ordered, unique per process without a syscall per call
/// (a random process seed plus a counter fill the random bits).
fn decision_id() -> String {
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
    let ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
    let mut rand = [0u8; 10];
    rand[..8].copy_from_slice(&(seed ^ n.rotate_left(17)).to_le_bytes());
    rand[8..].copy_from_slice(&(n as u16).to_le_bytes());
    uuid::Builder::from_unix_timestamp_millis(ms, &rand).into_uuid().to_string()
}

/// Converts increasing byte offsets of one field to code-point offsets in one walk.
#[derive(Default)]
struct CharCursor {
    field: Option<FieldPath>,
    byte: usize,
    chars: usize,
}

impl CharCursor {
    fn chars_to(&mut self, text: &str, byte: usize) -> usize {
        if byte < self.byte {
            // Not in order (never the case for one field's findings): count from the start.
            self.byte = 0;
            self.chars = 0;
        }
        self.chars += text.get(self.byte..byte).map_or(0, |s| s.chars().count());
        self.byte = byte;
        self.chars
    }
}

impl PolicySet {
    /// Judges one message. Never fails: detector failures become `errors` entries and
    /// their fail mode applies.
    pub fn evaluate(&self, msg: &Message) -> Verdict {
        self.evaluate_with_splits(msg, &[])
    }

    /// Judges one message together with the values found split across it and earlier
    /// messages of its conversation ([`crate::conversation`]); they count as findings of
    /// the message like any other.
    pub(crate) fn evaluate_with_splits(&self, msg: &Message, splits: &[SplitFinding]) -> Verdict {
        let decision_id = decision_id();
        if is_opt_out(msg) {
            return Verdict {
                id: msg.id.clone(),
                action: Action::Allow,
                delivered: None,
                record: msg.clone(),
                findings: Vec::new(),
                matched: Vec::new(),
                notice: None,
                alerts: Vec::new(),
                policy_version: self.version.clone(),
                decision_id,
                errors: Vec::new(),
            };
        }
        let kinds = kinds_of(msg);

        // Rules whose policy scope and metadata conditions hold.
        let mut candidates: Vec<(usize, usize)> = Vec::with_capacity(16);
        let mut needed = NEEDED.with(|n| n.take());
        needed.clear();
        needed.resize(self.detectors.len(), false);
        for (pi, p) in self.policies.iter().enumerate() {
            if !meta_matches(&p.scope, msg, &kinds) {
                continue;
            }
            for (ri, r) in p.rules.iter().enumerate() {
                if meta_matches(&r.when.meta, msg, &kinds) {
                    candidates.push((pi, ri));
                    for &d in &r.detectors {
                        needed[d] = true;
                    }
                }
            }
        }

        let mut raw: Vec<RawFinding> = Vec::new();
        let mut errors: Vec<EvalError> = Vec::new();
        if needed.iter().any(|&n| n) {
            // Scan buffers live per thread so a message does not pay for their allocation.
            thread_local! {
                static SCRATCH: std::cell::RefCell<scan::Scratch> = std::cell::RefCell::default();
            }
            SCRATCH.with(|cell| {
                // A plugin calling back into evaluation on this thread would find the
                // buffers borrowed; it then gets fresh ones.
                let mut fresh = scan::Scratch::default();
                let mut borrowed = cell.try_borrow_mut();
                let scratch = match borrowed.as_deref_mut() {
                    Ok(s) => s,
                    Err(_) => &mut fresh,
                };
                fields::for_each(msg, |path, text| {
                    self.scan_field(&needed, path, text, msg, scratch, &mut raw, &mut errors);
                });
            });
        }

        for (i, s) in splits.iter().enumerate() {
            if needed.get(s.detector).copied().unwrap_or(false) {
                raw.push(RawFinding {
                    detector: s.detector,
                    field: s.field,
                    start: s.start,
                    end: s.end,
                    confidence: s.confidence,
                    split: u16::try_from(i).ok(),
                });
            }
        }

        NEEDED.with(|n| n.replace(needed));

        // Decide rules.
        let mut matched = Vec::new();
        let mut alerts = Vec::new();
        let mut fired: Vec<(usize, usize)> = Vec::new();
        let mut action = Action::Allow;
        for &(pi, ri) in &candidates {
            let p = &self.policies[pi];
            let r = &p.rules[ri];
            if !cond_holds(&r.when, msg, &kinds, &raw) {
                continue;
            }
            if let Some(u) = &r.unless
                && cond_holds(u, msg, &kinds, &raw)
            {
                continue;
            }
            fired.push((pi, ri));
            matched.push(Matched {
                policy: p.name.clone(),
                rule: r.id.clone(),
                action: r.action,
                mode: r.mode,
            });
            if let Some(severity) = r.alert {
                let split = raw.iter().any(|f| f.split.is_some() && satisfies(&r.when, f));
                alerts.push(Alert { policy: p.name.clone(), rule: r.id.clone(), severity, split });
            }
            if r.mode == Mode::Enforce {
                action = action.max(r.action);
            }
        }
        // A failed detector referenced by a candidate rule applies its fail mode.
        for e in &errors {
            action = action.max(e.on_error);
        }

        let enforce = |&(pi, ri): &(usize, usize)| self.policies[pi].rules[ri].mode == Mode::Enforce;
        let mut notice = None;
        if action != Action::Allow {
            let mut notices: Vec<&str> = Vec::new();
            for &(pi, ri) in fired.iter().filter(|x| enforce(x)) {
                let r = &self.policies[pi].rules[ri];
                if r.action == action
                    && let Some(n) = r.notice.as_deref()
                    && !notices.contains(&n)
                {
                    notices.push(n);
                }
            }
            if !notices.is_empty() {
                notice = Some(notices.join(" "));
            }
        }

        // Redaction: delivered spans come from enforce `redact` rules, record spans from
        // enforce rules with `record: redacted`.
        let mut delivered_spans: BTreeMap<FieldPath, Vec<RedactSpan<'_>>> = BTreeMap::new();
        let mut record_spans: BTreeMap<FieldPath, Vec<RedactSpan<'_>>> = BTreeMap::new();
        for &(pi, ri) in fired.iter().filter(|x| enforce(x)) {
            let r = &self.policies[pi].rules[ri];
            for f in raw.iter().filter(|f| satisfies(&r.when, f)) {
                let span = RedactSpan {
                    start: f.start,
                    end: f.end,
                    spec: &r.redact,
                    detector: &self.detectors[f.detector].id,
                };
                if r.action == Action::Redact && action == Action::Redact {
                    delivered_spans.entry(f.field).or_default().push(span.clone());
                }
                if r.record == RecordMode::Redacted {
                    record_spans.entry(f.field).or_default().push(span);
                }
            }
        }
        let sms = msg.channel == Channel::Sms;
        // Only a redacted message differs from what the caller sent.
        let mut delivered = (action == Action::Redact).then(|| msg.clone());
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
                        action = Action::Block;
                    }
                    *field = redacted;
                }
            }
        }
        if action != Action::Redact {
            delivered = None;
        }
        let mut record = msg.clone();
        for (path, spans) in &mut record_spans {
            if let Some(field) = fields::get_mut(&mut record, *path) {
                *field = redact::apply(field, spans, &self.hash_key, sms);
            }
        }

        // Render findings. Code-point offsets come from one walk per field: the findings of
        // a field are in text order.
        let mut findings = Vec::with_capacity(raw.len());
        let mut cursor = CharCursor::default();
        for f in &raw {
            let text = fields::get_ref(msg, f.field).unwrap_or("");
            if cursor.field != Some(f.field) {
                cursor = CharCursor { field: Some(f.field), ..CharCursor::default() };
            }
            let start_chars = cursor.chars_to(text, f.start);
            let rules = fired
                .iter()
                .filter(|&&(pi, ri)| satisfies(&self.policies[pi].rules[ri].when, f))
                .map(|&(pi, ri)| self.policies[pi].rules[ri].qualified.clone())
                .collect();
            findings.push(Finding {
                detector: self.detectors[f.detector].id.clone(),
                field: f.field.to_string(),
                start: start_chars,
                end: start_chars + text.get(f.start..f.end).map_or(0, |v| v.chars().count()),
                byte_start: f.start,
                byte_end: f.end,
                confidence: f.confidence,
                rules,
                preview: redact::preview(text.get(f.start..f.end).unwrap_or("")),
                parts: f
                    .split
                    .and_then(|i| splits.get(usize::from(i)))
                    .map(|s| s.parts.clone())
                    .unwrap_or_default(),
            });
        }

        Verdict {
            id: msg.id.clone(),
            action,
            delivered,
            record,
            findings,
            matched,
            notice,
            alerts,
            policy_version: self.version.clone(),
            decision_id,
            errors,
        }
    }
}
