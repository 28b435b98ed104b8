//! What is remembered between the messages of a conversation, and where.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::eval::fields::FieldPath;

/// The field of a message that takes part in joining: its text, or its caption when it
/// has no text (serialized as the field path, `text` or `caption`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum JoinField {
    /// `text`
    Text,
    /// `caption`
    Caption,
}

impl JoinField {
    /// The field path (as in findings).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Text => "text",
            Self::Caption => "caption",
        }
    }

    /// The field as a scanned field path.
    pub(crate) fn path(self) -> FieldPath {
        match self {
            Self::Text => FieldPath::Text,
            Self::Caption => FieldPath::Caption,
        }
    }
}

/// One boundary fragment of an earlier message: only what a join needs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fragment {
    /// Id of the message it ends (or is).
    #[serde(rename = "m")]
    pub message_id: String,
    /// Field of that message (`text` or `caption`).
    #[serde(rename = "f")]
    pub field: JoinField,
    /// The fragment, normalized (docs/06-evasion.md) as detectors see it.
    #[serde(rename = "t")]
    pub text: String,
    /// Start, in code points of the field's original text.
    #[serde(rename = "s")]
    pub start: u32,
    /// For each byte of `text`, the original code points it came from; empty when the
    /// original is `text` itself (ASCII).
    #[serde(rename = "o", default, skip_serializing_if = "Vec::is_empty")]
    pub offsets: Vec<(u32, u32)>,
    /// Context words of joinable detectors just before the fragment (e.g. `card`).
    #[serde(rename = "k", default, skip_serializing_if = "Vec::is_empty")]
    pub context: Vec<String>,
    /// When the message was sent (`sent_at`, else arrival), in Unix milliseconds.
    #[serde(rename = "a")]
    pub at_ms: i64,
}

impl Fragment {
    /// Original code-point span of the fragment bytes `[a, b)`.
    pub(crate) fn original_chars(&self, a: usize, b: usize) -> (usize, usize) {
        if self.offsets.is_empty() {
            let s = self.start as usize;
            return (s + a, s + b);
        }
        match (self.offsets.get(a), b.checked_sub(1).and_then(|e| self.offsets.get(e))) {
            (Some(s), Some(e)) if a < b => (s.0 as usize, e.1 as usize),
            _ => (self.start as usize, self.start as usize),
        }
    }
}

/// The open chain of one conversation scope, oldest first: the trailing fragment of the
/// last text-bearing message, preceded by the messages before it that were nothing but
/// a fragment.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Window {
    /// Fragments, oldest first.
    pub fragments: Vec<Fragment>,
}

/// A conversation store failed (unreachable, corrupt or undecryptable entry).
#[derive(Debug, thiserror::Error)]
#[error("conversation store: {0}")]
pub struct StoreError(pub String);

/// Where conversation windows live between messages: in process or shared by replicas.
/// Keys are opaque scope keys; implementations must not log window contents.
pub trait ConversationStore: Send + Sync {
    /// The window of a scope (empty if none or expired).
    fn load(&self, key: &str) -> Result<Window, StoreError>;
    /// Replaces the window of a scope, expiring after `ttl`; `None` (or an empty window)
    /// forgets it.
    fn save(&self, key: &str, window: Option<Window>, ttl: Duration) -> Result<(), StoreError>;
    /// Replaces the window of a scope like [`save`](Self::save) and returns the one it
    /// replaced (empty if none or expired). Stores override it to do both in one step.
    fn swap(&self, key: &str, window: Option<Window>, ttl: Duration) -> Result<Window, StoreError> {
        let old = self.load(key)?;
        self.save(key, window, ttl)?;
        Ok(old)
    }
    /// True when calls leave the process (network I/O): callers keep them off reactor threads.
    fn is_remote(&self) -> bool {
        false
    }
}
