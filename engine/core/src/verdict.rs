//! The verdict Linewall returns for a message (docs/03-verdict.md).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::detect::Confidence;
use crate::message::Message;

/// What the messaging path must do with a message. Ordered by severity.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Deliver unchanged.
    #[default]
    Allow,
    /// Deliver with the matched spans redacted.
    Redact,
    /// Do not deliver.
    Block,
}

impl Action {
    /// The action's name as written in policies.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Allow => "allow",
            Self::Redact => "redact",
            Self::Block => "block",
        }
    }
}

/// Whether a rule changes the verdict or only reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// The rule's action applies.
    #[default]
    Enforce,
    /// The rule is reported in `matched` and `alerts` but changes nothing.
    Monitor,
}

/// Severity of an alert for the compliance team.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Worth a look.
    Low,
    /// Review soon.
    Medium,
    /// Review now.
    High,
}

/// One match of one detector in one field.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    /// Detector id.
    pub detector: String,
    /// Path of the field, e.g. `text` or `attachments[0].filename`.
    pub field: String,
    /// Start, in Unicode code points of the field's original text.
    pub start: usize,
    /// End (exclusive), in code points.
    pub end: usize,
    /// Start, in UTF-8 bytes.
    pub byte_start: usize,
    /// End (exclusive), in UTF-8 bytes.
    pub byte_end: usize,
    /// How sure the detector is.
    pub confidence: Confidence,
    /// Rules (`policy/rule`) this finding satisfied.
    pub rules: Vec<String>,
    /// Masked form of the value; never the clear value.
    pub preview: String,
    /// For a value split across messages (docs/10-conversations.md): the earlier
    /// fragments it joined; empty for a value found in this message alone.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub parts: Vec<FindingPart>,
}

/// Where one earlier fragment of a split value lives, so archived copies can be redacted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FindingPart {
    /// Id of the earlier message.
    pub message_id: String,
    /// Field path in that message, e.g. `text`.
    pub field: String,
    /// Start, in code points of that field's original text.
    pub start: usize,
    /// End (exclusive), in code points.
    pub end: usize,
}

/// A rule that fired.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Matched {
    /// Policy name.
    pub policy: String,
    /// Rule id.
    pub rule: String,
    /// The rule's action.
    pub action: Action,
    /// Enforce or monitor.
    pub mode: Mode,
}

/// An alert raised for the compliance team.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Alert {
    /// Policy name.
    pub policy: String,
    /// Rule id.
    pub rule: String,
    /// How urgent.
    pub severity: Severity,
    /// True when a finding behind the alert is a value split across messages.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub split: bool,
}

/// A detector or redaction that failed, and what was done about it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EvalError {
    /// Detector id, or `redaction` for a redaction that could not be applied.
    pub detector: String,
    /// What went wrong (never contains a clear value).
    pub error: String,
    /// The fail mode applied: `block` or `allow`.
    pub on_error: Action,
}

/// The answer for one message (docs/03-verdict.md).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Verdict {
    /// The message id.
    pub id: String,
    /// What the messaging path does before delivery.
    pub action: Action,
    /// For `redact`: the message with every redacted field replaced (same shape as the
    /// input). Absent for `allow` (deliver what was sent) and `block` (deliver nothing).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delivered: Option<Message>,
    /// The copy the archive stores (always filled).
    pub record: Message,
    /// Every match of every detector an in-scope rule references.
    pub findings: Vec<Finding>,
    /// Rules that fired.
    pub matched: Vec<Matched>,
    /// Text shown to the sender when blocked or redacted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notice: Option<String>,
    /// Alerts for the compliance team.
    pub alerts: Vec<Alert>,
    /// Stable hash of the policy set that judged the message.
    pub policy_version: String,
    /// Id of this decision in the decision log.
    pub decision_id: String,
    /// Detectors that failed and the fail mode applied.
    pub errors: Vec<EvalError>,
}
