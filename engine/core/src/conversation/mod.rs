//! Conversations: values split across consecutive messages (docs/10-conversations.md).
//!
//! A card number sent as `4111 1111`, then `1111 1111`, then the rest, is in no single
//! message. For messages with a `conversation_id`, [`Conversations`] remembers the
//! boundary fragments ([`fragment`]) of the last few text-bearing messages of the same
//! (tenant, conversation, direction, sender), and the joinable (checksum-validated)
//! detectors run over them joined with the head of the next message. A value found that
//! way is a finding of the completing message, naming the earlier fragments in `parts`.
//! Only fragments are remembered, in a [`ConversationStore`]: in process
//! ([`MemoryStore`]) or shared by replicas.

mod fragment;
mod join;
mod memory;
mod store;
#[cfg(test)]
mod tests;

use std::sync::Arc;
use std::time::{Duration, SystemTime};

pub use join::SplitFinding;
pub use memory::MemoryStore;
pub use store::{ConversationStore, Fragment, StoreError, Window};

use crate::eval::fields::FieldPath;
use crate::message::Message;
use crate::normalize::Normalized;
use crate::policy::PolicySet;
use crate::verdict::{Action, EvalError, Verdict};

/// How far back joining looks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Config {
    /// Longest time between the first and the last message of a split value.
    pub window: Duration,
    /// Most text-bearing messages one value may span (the judged one included).
    pub max_messages: usize,
    /// What the verdict becomes when the store fails (`block`: fail closed).
    pub on_error: Action,
}

impl Default for Config {
    fn default() -> Self {
        Self { window: Duration::from_secs(120), max_messages: 4, on_error: Action::Block }
    }
}

/// Default number of conversation scopes the in-process store remembers.
pub const DEFAULT_CAPACITY: usize = 100_000;

/// Judges messages in their conversation: joins split values, remembers fragments.
pub struct Conversations {
    store: Arc<dyn ConversationStore>,
    config: Config,
}

impl std::fmt::Debug for Conversations {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Conversations")
            .field("config", &self.config)
            .field("remote", &self.store.is_remote())
            .finish_non_exhaustive()
    }
}

/// The judged message's side of a join.
pub(crate) struct Turn<'m> {
    key: String,
    now_ms: i64,
    field: FieldPath,
    text: &'m str,
    norm: Normalized<'m>,
    boundary: fragment::Boundary,
}

/// Unix milliseconds of an RFC 3339 timestamp.
fn parse_ms(s: &str) -> Option<i64> {
    let t = time::OffsetDateTime::parse(s.trim(), &time::format_description::well_known::Rfc3339).ok()?;
    i64::try_from(t.unix_timestamp_nanos() / 1_000_000).ok()
}

fn unix_ms(t: SystemTime) -> i64 {
    t.duration_since(SystemTime::UNIX_EPOCH).map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// The scope a message's fragments join in: (tenant, conversation, direction, sender),
/// length-prefixed so no two scopes share a key.
pub fn scope_key(msg: &Message) -> String {
    let sender =
        msg.sender.as_ref().map_or("", |p| if p.id.is_empty() { p.phone.as_str() } else { p.id.as_str() });
    let (t, c) = (msg.tenant.as_str(), msg.conversation_id.as_str());
    format!("{}:{t}{}:{c}{}{}:{sender}", t.len(), c.len(), msg.direction.as_str(), sender.len())
}

impl<'m> Turn<'m> {
    /// The judged side of `msg`, or `None` when it does not take part in joining (no
    /// conversation, or no text).
    fn of(msg: &'m Message, arrival: SystemTime) -> Option<Self> {
        if msg.conversation_id.is_empty() {
            return None;
        }
        let (field, text) = if !msg.text.is_empty() {
            (FieldPath::Text, msg.text.as_str())
        } else if !msg.caption.is_empty() {
            (FieldPath::Caption, msg.caption.as_str())
        } else {
            return None;
        };
        let norm = Normalized::new(text);
        let mut boundary = fragment::boundary(norm.text());
        boundary.leading = boundary.leading.map(|r| join::skip_keywords(norm.text(), r));
        boundary.trailing = boundary.trailing.map(|r| join::skip_keywords(norm.text(), r));
        let now_ms = msg.sent_at.as_deref().and_then(parse_ms).unwrap_or_else(|| unix_ms(arrival));
        Some(Self { key: scope_key(msg), now_ms, field, text, norm, boundary })
    }

    /// The fragment of run `r` of this message, as remembered.
    fn fragment(&self, r: fragment::Run, message_id: &str) -> Fragment {
        let t = self.norm.text();
        let (os, _) = self.norm.original_span(r.start, r.end);
        let start = self.text.get(..os).map_or(0, |s| s.chars().count());
        let offsets = if self.norm.is_identity() && self.text.is_ascii() {
            Vec::new()
        } else {
            // One walk over the original from the fragment's start.
            let mut out = Vec::with_capacity(r.end - r.start);
            let (mut byte, mut chars) = (os, start);
            let mut chars_at = |b: usize| {
                if b >= byte {
                    chars += self.text.get(byte..b).map_or(0, |s| s.chars().count());
                    byte = b;
                }
                chars
            };
            for i in r.start..r.end {
                let (s, e) = self.norm.original_span(i, i + 1);
                let cs = chars_at(s);
                let ce = chars_at(e);
                out.push((cs as u32, ce as u32));
            }
            out
        };
        let context = join::context_before(t, r.start);
        Fragment {
            message_id: message_id.to_owned(),
            field: self.field.to_string(),
            text: t[r.start..r.end].to_owned(),
            start: start as u32,
            offsets,
            context,
            at_ms: self.now_ms,
        }
    }
}

impl Conversations {
    /// Joining with windows kept in this process, at most `capacity` conversation scopes.
    pub fn in_memory(config: Config, capacity: usize) -> Self {
        Self::new(Arc::new(MemoryStore::new(capacity)), config)
    }

    /// Joining with windows kept in `store`.
    pub fn new(store: Arc<dyn ConversationStore>, config: Config) -> Self {
        Self { store, config }
    }

    /// The joining settings.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// True when judging `msg` calls a store outside the process (keep it off reactor threads).
    pub fn is_remote_for(&self, msg: &Message) -> bool {
        !msg.conversation_id.is_empty() && self.store.is_remote()
    }

    /// Judges `msg` in its conversation, arrived now.
    pub fn evaluate(&self, set: &PolicySet, msg: &Message) -> Verdict {
        self.evaluate_at(set, msg, SystemTime::now())
    }

    /// Judges `msg` in its conversation, arrived at `arrival` (used when it has no
    /// `sent_at`). A message without a conversation is judged alone.
    pub fn evaluate_at(&self, set: &PolicySet, msg: &Message, arrival: SystemTime) -> Verdict {
        let Some(turn) = Turn::of(msg, arrival) else { return set.evaluate(msg) };
        let mut failure = None;
        let b = turn.boundary;
        // Only a message that starts with a fragment can complete a value, or continue a
        // chain; any other text-bearing message just starts a new chain (or none).
        let chain = match b.leading {
            Some(_) => match self.store.load(&turn.key) {
                Ok(w) => self.live(w, msg, turn.now_ms),
                Err(e) => {
                    failure = Some(e);
                    Vec::new()
                }
            },
            None => Vec::new(),
        };
        let splits = match b.leading {
            Some(lead) if !chain.is_empty() => join::find(set, &turn, lead, &chain),
            _ => Vec::new(),
        };
        let extra: Vec<crate::eval::ExtraFinding> = splits
            .iter()
            .map(|s| crate::eval::ExtraFinding {
                detector: s.detector,
                field: s.field,
                start: s.start,
                end: s.end,
                confidence: s.confidence,
                split: true,
            })
            .collect();
        let cx = crate::eval::EvalContext { extra_findings: &extra, ..crate::eval::EvalContext::now() };
        let mut verdict = set.evaluate_with(msg, cx);
        // Name the earlier fragments of each split value on its rendered finding.
        for s in &splits {
            let id = &set.detectors[s.detector].id;
            let field = s.field.to_string();
            if let Some(f) = verdict.findings.iter_mut().find(|f| {
                f.parts.is_empty()
                    && f.detector == *id
                    && f.field == field
                    && f.byte_start == s.start
                    && f.byte_end == s.end
            }) {
                f.parts.clone_from(&s.parts);
            }
        }
        let next = match (b.only, b.leading, b.trailing) {
            (true, Some(lead), _) => {
                let mut chain = chain;
                chain.push(turn.fragment(lead, &msg.id));
                let keep = self.config.max_messages.saturating_sub(1).max(1);
                if chain.len() > keep {
                    chain.drain(..chain.len() - keep);
                }
                Some(Window { fragments: chain })
            }
            (_, _, Some(trail)) => Some(Window { fragments: vec![turn.fragment(trail, &msg.id)] }),
            _ => None,
        };
        if let Err(e) = self.store.save(&turn.key, next.as_ref(), self.config.window) {
            failure.get_or_insert(e);
        }
        if let Some(e) = failure {
            let on_error = self.config.on_error;
            verdict.errors.push(EvalError {
                detector: String::from("conversation"),
                error: e.to_string(),
                on_error,
            });
            if on_error > verdict.action {
                verdict.action = on_error;
                verdict.delivered = None;
            }
        }
        verdict
    }

    /// The fragments of `w` that may still join with a message sent at `now_ms`: inside
    /// the window, at most `max_messages - 1`, and not from `msg` itself (a retry).
    fn live(&self, w: Window, msg: &Message, now_ms: i64) -> Vec<Fragment> {
        let window_ms = i64::try_from(self.config.window.as_millis()).unwrap_or(i64::MAX);
        let mut chain = w.fragments;
        if !msg.id.is_empty() {
            chain.retain(|f| f.message_id != msg.id);
        }
        if let Some(p) = chain.iter().rposition(|f| now_ms.saturating_sub(f.at_ms).abs() > window_ms) {
            chain.drain(..=p);
        }
        let keep = self.config.max_messages.saturating_sub(1);
        if chain.len() > keep {
            chain.drain(..chain.len() - keep);
        }
        chain
    }
}
