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
use std::sync::atomic::AtomicBool;
use std::time::{Duration, SystemTime};

pub use join::SplitFinding;
pub use memory::MemoryStore;
pub use store::{ConversationStore, Fragment, JoinField, StoreError, Window};

use crate::eval::Abandoned;
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
/// Longest window accepted (`--conversation-window`), in seconds: a day.
pub const MAX_WINDOW_SECS: u64 = 86_400;
/// Most messages one value may span (`--conversation-messages`): each more adds join
/// attempts to every completing message.
pub const MAX_MESSAGES: usize = 8;

/// A conversation setting out of its range ([`Config::with`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// `--conversation-window` is outside 1 to [`MAX_WINDOW_SECS`] seconds.
    #[error("the conversation window must be 1 to {MAX_WINDOW_SECS} seconds")]
    Window,
    /// `--conversation-messages` is outside 2 to [`MAX_MESSAGES`].
    #[error("the conversation message count must be 2 to {MAX_MESSAGES}")]
    Messages,
}

impl Config {
    /// The defaults with the window and message count an operator chose (`None` keeps
    /// the default); the error names the limit.
    pub fn with(window_secs: Option<u64>, max_messages: Option<usize>) -> Result<Self, ConfigError> {
        let mut config = Self::default();
        if let Some(secs) = window_secs {
            if !(1..=MAX_WINDOW_SECS).contains(&secs) {
                return Err(ConfigError::Window);
            }
            config.window = Duration::from_secs(secs);
        }
        if let Some(n) = max_messages {
            if !(2..=MAX_MESSAGES).contains(&n) {
                return Err(ConfigError::Messages);
            }
            config.max_messages = n;
        }
        Ok(config)
    }
}

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
    field: JoinField,
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
    let mut key = String::new();
    push_scope_key(&mut key, msg);
    key
}

/// Appends the [`scope_key`] of `msg` to `key`.
fn push_scope_key(key: &mut String, msg: &Message) {
    let sender =
        msg.sender.as_ref().map_or("", |p| if p.id.is_empty() { p.phone.as_str() } else { p.id.as_str() });
    let (t, c, d) = (msg.tenant.as_str(), msg.conversation_id.as_str(), msg.direction.as_str());
    // Built by hand: `format!` costs a measurable share of a message's added cost.
    key.reserve(t.len() + c.len() + d.len() + sender.len() + 32);
    for part in [t, c, d, sender] {
        push_decimal(key, part.len());
        key.push(':');
        key.push_str(part);
    }
}

/// Appends `n` in decimal (lengths: one or two digits, pushed without a buffer).
fn push_decimal(out: &mut String, n: usize) {
    if n >= 10 {
        push_decimal(out, n / 10);
    }
    out.push(char::from(b'0' + (n % 10) as u8));
}

thread_local! {
    /// The scope key buffer of this thread's judged message: once warm, building a key
    /// allocates nothing (a fresh `String` per message cost a measurable share).
    static KEY: std::cell::Cell<String> = const { std::cell::Cell::new(String::new()) };
}

impl Drop for Turn<'_> {
    fn drop(&mut self) {
        let mut key = std::mem::take(&mut self.key);
        key.clear();
        // Fails only while the thread is being torn down: the buffer is then just freed.
        let _ = KEY.try_with(|k| k.set(key));
    }
}

impl<'m> Turn<'m> {
    /// The judged side of `msg`, or `None` when it does not take part in joining (no
    /// conversation, or no text).
    /// `arrival` `None` is now, read only when needed (a clock read is not free).
    fn of(msg: &'m Message, arrival: Option<SystemTime>) -> Option<Self> {
        if msg.conversation_id.is_empty() {
            return None;
        }
        let (field, text) = if !msg.text.is_empty() {
            (JoinField::Text, msg.text.as_str())
        } else if !msg.caption.is_empty() {
            (JoinField::Caption, msg.caption.as_str())
        } else {
            return None;
        };
        let norm = Normalized::new(text);
        let mut boundary = fragment::boundary(norm.text());
        boundary.leading = boundary.leading.map(|r| join::skip_keywords(norm.text(), r));
        boundary.trailing = boundary.trailing.map(|r| join::skip_keywords(norm.text(), r));
        // The time only matters to a message with a fragment (parsing it is not free).
        let now_ms = if boundary.leading.is_some() || boundary.trailing.is_some() {
            msg.sent_at
                .as_deref()
                .and_then(parse_ms)
                .unwrap_or_else(|| unix_ms(arrival.unwrap_or_else(SystemTime::now)))
        } else {
            0
        };
        let mut key = KEY.try_with(std::cell::Cell::take).unwrap_or_default();
        key.clear();
        push_scope_key(&mut key, msg);
        Some(Self { key, now_ms, field, text, norm, boundary })
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
            field: self.field,
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
        self.try_evaluate_at(set, msg, None, None)
            .unwrap_or_else(|a| set.abandoned_verdict(msg, crate::eval::EvalContext::now().decision_id, a))
    }

    /// Judges `msg` in its conversation, arrived at `arrival` (used when it has no
    /// `sent_at`). A message without a conversation is judged alone.
    pub fn evaluate_at(&self, set: &PolicySet, msg: &Message, arrival: SystemTime) -> Verdict {
        self.try_evaluate_at(set, msg, Some(arrival), None)
            .unwrap_or_else(|a| set.abandoned_verdict(msg, crate::eval::EvalContext::now().decision_id, a))
    }

    /// Judges `msg` in its conversation, arrived now, unless `cancel` is raised first: then
    /// it stops with [`Abandoned`] and the conversation's window is left as it was.
    pub fn try_evaluate(
        &self,
        set: &PolicySet,
        msg: &Message,
        cancel: &AtomicBool,
    ) -> Result<Verdict, Abandoned> {
        self.try_evaluate_at(set, msg, None, Some(cancel))
    }

    fn try_evaluate_at(
        &self,
        set: &PolicySet,
        msg: &Message,
        arrival: Option<SystemTime>,
        cancel: Option<&AtomicBool>,
    ) -> Result<Verdict, Abandoned> {
        let Some(turn) = Turn::of(msg, arrival) else {
            return set.try_evaluate_with(
                msg,
                crate::eval::EvalContext { cancel, ..crate::eval::EvalContext::now() },
            );
        };
        let b = turn.boundary;
        if b.leading.is_none() && b.trailing.is_none() {
            // No fragment (most messages): judged alone; only an open chain of the scope
            // is broken, so a later fragment does not join across this message.
            let cx = crate::eval::EvalContext { cancel, ..crate::eval::EvalContext::now() };
            let mut verdict = set.try_evaluate_normalized(msg, cx, Some((turn.field.path(), &turn.norm)))?;
            if let Err(e) = self.store.save(&turn.key, None, self.config.window) {
                self.fail_closed(&mut verdict, e);
            }
            return Ok(verdict);
        }
        let mut failure = None;
        let window = self.config.window;
        // Only a message that starts with a fragment can complete a value or continue a
        // chain; any other text-bearing message just starts a new chain (or none).
        // A cancellable call must leave the window as it was: read now, write at the end.
        let read_then_write = b.only || cancel.is_some();
        let (chain, saved) = match (read_then_write, b.leading) {
            // Nothing but a fragment: the chain grows, so it is read, then written below.
            (true, Some(_)) => match self.store.load(&turn.key) {
                Ok(w) => (self.live(w, msg, turn.now_ms), false),
                Err(e) => {
                    failure = Some(e);
                    (Vec::new(), false)
                }
            },
            // Starts with a fragment: the next window is its trailing fragment (or none)
            // whatever the chain was, so the old window is read as it is replaced.
            (false, Some(_)) => {
                let next = b.trailing.map(|t| Window { fragments: vec![turn.fragment(t, &msg.id)] });
                match self.store.swap(&turn.key, next, window) {
                    Ok(w) => (self.live(w, msg, turn.now_ms), true),
                    Err(e) => {
                        failure = Some(e);
                        (Vec::new(), true)
                    }
                }
            }
            (_, None) => (Vec::new(), false),
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
        let cx =
            crate::eval::EvalContext { extra_findings: &extra, cancel, ..crate::eval::EvalContext::now() };
        let mut verdict = set.try_evaluate_normalized(msg, cx, Some((turn.field.path(), &turn.norm)))?;
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
        if !saved {
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
            if let Err(e) = self.store.save(&turn.key, next, window) {
                failure.get_or_insert(e);
            }
        }
        if let Some(e) = failure {
            self.fail_closed(&mut verdict, e);
        }
        Ok(verdict)
    }

    /// Records a store failure on `verdict` and applies `on_error` (block by default).
    fn fail_closed(&self, verdict: &mut Verdict, e: StoreError) {
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
