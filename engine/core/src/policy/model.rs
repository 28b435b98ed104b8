//! What a policy file says: the YAML model of docs/04-policy-language.md, before validation.
//!
//! These types mirror the file format one to one (`deny_unknown_fields` everywhere), carry
//! source positions where validation needs them, and generate `policies/schema.json`.
//! [`super::compile`] turns them into the runtime form.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::located::Located;
use crate::detect::Confidence;
use crate::message::{Channel, Direction, Message, Role};
use crate::verdict::{Action, Mode, Severity};

/// One YAML document of a policy file.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schemars(title = "Linewall policy")]
pub struct PolicyDoc {
    /// Format version; must be `linewall/v1`.
    pub api_version: Located<String>,
    /// Document kind; must be `Policy`.
    pub kind: Located<String>,
    /// Name and description.
    pub metadata: Metadata,
    /// The policy itself.
    pub spec: Spec,
}

/// Identity of a policy.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Metadata {
    /// Unique name, `[a-z0-9-]+`.
    pub name: Located<String>,
    /// What the policy is for.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    /// Free-form labels for owners and tooling.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
}

/// The body of a policy.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Spec {
    /// `enforce` (default) or `monitor` for every rule that does not say otherwise.
    #[serde(default)]
    pub mode: Mode,
    /// Which messages the policy applies to; keys ANDed, list values ORed.
    #[serde(default)]
    pub scope: Scope,
    /// Policy-local detectors; built-ins are always available by id.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub detectors: Vec<DetectorDef>,
    /// Rules, evaluated independently; the most severe action wins.
    #[serde(default)]
    pub rules: Vec<Rule>,
    /// Test cases run by `linewall test` against this policy alone.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tests: Vec<TestDef>,
}

/// Kinds of content a message can carry (`kinds:` key).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// A text body.
    Text,
    /// A template send.
    Template,
    /// Attachments (media, documents).
    Media,
    /// A location.
    Location,
    /// Contact cards.
    Contacts,
    /// An interactive reply.
    Interactive,
    /// A reaction.
    Reaction,
    /// An order.
    Order,
}

/// Message metadata conditions shared by `scope`, `when` and `unless`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Scope {
    /// Tenants (organizations) the policy applies to; empty means every tenant.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tenants: Vec<String>,
    /// Channels.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub channels: Vec<Channel>,
    /// Directions.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub directions: Vec<Direction>,
    /// Roles of the sender.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sender_roles: Vec<Role>,
    /// Groups of the sender (any).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sender_groups: Vec<String>,
    /// Roles of the recipient.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub recipient_roles: Vec<Role>,
    /// Groups of the recipient (any).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub recipient_groups: Vec<String>,
    /// What the message carries (any).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub kinds: Vec<Kind>,
    /// Exact matches on message attributes (all).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub attributes: BTreeMap<String, String>,
}

// The metadata keys repeat `Scope`'s on purpose: `#[serde(flatten)]` cannot be combined
// with `deny_unknown_fields`, and rejecting unknown keys with their position matters more to
// policy authors than nine shared lines. `Condition::meta` converts.
/// A rule's `when` or `unless`: metadata plus detector and attachment conditions, ANDed.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Condition {
    /// Tenants.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tenants: Vec<String>,
    /// Channels.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub channels: Vec<Channel>,
    /// Directions.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub directions: Vec<Direction>,
    /// Roles of the sender.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sender_roles: Vec<Role>,
    /// Groups of the sender (any).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sender_groups: Vec<String>,
    /// Roles of the recipient.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub recipient_roles: Vec<Role>,
    /// Groups of the recipient (any).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub recipient_groups: Vec<String>,
    /// What the message carries (any).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub kinds: Vec<Kind>,
    /// Exact matches on message attributes (all).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub attributes: BTreeMap<String, String>,
    /// Detector conditions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detectors: Option<DetectorCondition>,
    /// Attachment conditions; true if any attachment matches all given keys.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attachments: Option<AttachmentCondition>,
}

impl Condition {
    /// The metadata part, as a scope.
    pub fn meta(&self) -> Scope {
        Scope {
            tenants: self.tenants.clone(),
            channels: self.channels.clone(),
            directions: self.directions.clone(),
            sender_roles: self.sender_roles.clone(),
            sender_groups: self.sender_groups.clone(),
            recipient_roles: self.recipient_roles.clone(),
            recipient_groups: self.recipient_groups.clone(),
            kinds: self.kinds.clone(),
            attributes: self.attributes.clone(),
        }
    }
}

/// `any:` and / or `all:` of detector requirements.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DetectorCondition {
    /// At least one must hold.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub any: Vec<DetectorRequirement>,
    /// Every one must hold.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub all: Vec<DetectorRequirement>,
}

/// A detector that must have matched.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DetectorRequirement {
    /// Detector id: built-in or local to this policy.
    pub id: Located<String>,
    /// Lowest confidence that counts (default `low`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_confidence: Option<Confidence>,
    /// Matches needed across the message (default 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_count: Option<u32>,
    /// Whether values split across messages count (docs/10-conversations.md; default `any`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub split: Option<SplitMode>,
}

/// Which findings a detector requirement counts, by whether they joined messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum SplitMode {
    /// Values found whole in the message and values split across messages.
    #[default]
    Any,
    /// Only values split across messages.
    Only,
    /// Only values found whole in the message.
    Never,
}

impl SplitMode {
    /// Whether a finding (split or not) counts under this mode.
    pub fn accepts(self, split: bool) -> bool {
        match self {
            Self::Any => true,
            Self::Only => split,
            Self::Never => !split,
        }
    }
}

/// Attachment requirements; all given keys must hold for one attachment.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AttachmentCondition {
    /// File extensions without the dot, case-insensitive.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub extensions: Vec<String>,
    /// MIME types; `image/*` matches every image type.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mime_types: Vec<String>,
    /// Matches attachments larger than this many bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_size_bytes: Option<u64>,
}

/// A policy-local detector: a regex, a dictionary of terms, or a WASM plugin.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DetectorDef {
    /// Id used by rules of this policy and reported in findings.
    pub id: Located<String>,
    /// What it finds.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    /// Rust regex syntax (linear time: no look-around, no backreferences).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pattern: Option<Located<String>>,
    /// Dictionary; whole words or phrases, case-insensitive unless `case_sensitive`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub terms: Option<Located<Vec<String>>>,
    /// A file of terms, one a line (`#` starts a comment line), relative to the policy
    /// file; may be combined with `terms`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub terms_file: Option<Located<String>>,
    /// Whether terms match only in the case they are written (default `false`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub case_sensitive: Option<bool>,
    /// Whether terms match only as whole words (default `true`); `false` also finds them
    /// inside longer words.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub whole_word: Option<bool>,
    /// A WASM detector plugin.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plugin: Option<PluginDef>,
    /// Context words that raise confidence when near a match.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub keywords: Vec<String>,
    /// How many characters around a match the keywords may be (default 40).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keyword_window: Option<usize>,
    /// Drop matches with no keyword nearby.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub requires_keywords: bool,
    /// A built-in validator every match must pass (e.g. `luhn`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub validator: Option<Located<String>>,
    /// Base confidence (default `medium`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confidence: Option<Confidence>,
    /// Confidence with a keyword nearby (default `high`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confidence_with_keywords: Option<Confidence>,
    /// Values never reported (exact, case-insensitive).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exclude: Vec<String>,
    /// Texts that must produce a finding; checked at load.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub examples: Vec<Located<String>>,
    /// Texts that must not; checked at load.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub negative_examples: Vec<Located<String>>,
}

/// A WASM detector plugin.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PluginDef {
    /// Path of the `.wasm` component, relative to the policy file.
    pub module: Located<String>,
    /// Expected hex SHA-256 of the module; a mismatch is a load error.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<Located<String>>,
    /// Passed to the plugin's `init`.
    #[serde(default, skip_serializing_if = "serde_json::Value::is_null")]
    pub config: serde_json::Value,
    /// Wall-clock budget per call (default 5).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_ms: Option<u64>,
    /// What a failed call means: `block` (default, fail closed) or `allow`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_error: Option<Action>,
}

/// Where the archive copy of a rule's spans comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RecordMode {
    /// The archive keeps what the sender wrote.
    #[default]
    Original,
    /// The archive keeps the spans redacted.
    Redacted,
}

/// How a span is redacted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RedactStyle {
    /// Every character becomes `char`, except `keep_first` / `keep_last`.
    #[default]
    Mask,
    /// `[DETECTOR_ID]`.
    Label,
    /// Deleted.
    Remove,
    /// `[#` + 12 hex of a keyed hash + `]`.
    Hash,
}

/// Redaction settings of a rule.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RedactSpec {
    /// Style (default `mask`).
    #[serde(default)]
    pub style: RedactStyle,
    /// Mask character (default `*`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub char: Option<char>,
    /// Characters left clear at the start (mask only).
    #[serde(default)]
    pub keep_first: usize,
    /// Characters left clear at the end (mask only).
    #[serde(default)]
    pub keep_last: usize,
}

/// One rule.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    /// Id, unique in the policy.
    pub id: Located<String>,
    /// What it is for.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    /// Conditions, all ANDed; empty fires on every in-scope message.
    #[serde(default)]
    pub when: Condition,
    /// If it matches, the rule does not fire.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unless: Option<Condition>,
    /// What to do.
    pub action: Action,
    /// Overrides the policy's mode.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<Mode>,
    /// Policy tip shown to the sender.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notice: Option<String>,
    /// Alert severity for the compliance team.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alert: Option<Severity>,
    /// Whether the archive copy keeps this rule's spans redacted.
    #[serde(default)]
    pub record: RecordMode,
    /// Redaction style for `redact` (and for `record: redacted`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redact: Option<RedactSpec>,
}

/// A test case of a policy.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TestDef {
    /// What it checks.
    pub name: Located<String>,
    /// Messages of the same conversation judged just before `message`, in order (for
    /// values split across messages, docs/10-conversations.md).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub earlier: Vec<Message>,
    /// The message (docs/02-message.md fields, defaults as there).
    pub message: Message,
    /// What the verdict must say.
    pub expect: Expect,
}

/// Expected verdict parts; each given key is compared exactly.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Expect {
    /// The action.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action: Option<Action>,
    /// Set of rule ids that fired (any mode).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rules: Option<Vec<String>>,
    /// Set of detector ids in findings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detectors: Option<Vec<String>>,
    /// `text` of the delivered message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delivered_text: Option<String>,
    /// `text` of the archive copy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub record_text: Option<String>,
    /// The notice.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notice: Option<String>,
    /// Set of rule ids that raised alerts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alerts: Option<Vec<String>>,
    /// Whether some finding is a value split across messages (`earlier` + `message`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub split: Option<bool>,
}
