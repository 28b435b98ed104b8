//! The message Linewall judges (docs/02-message.md), as read from JSON or protobuf.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Messaging channel a message travels on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    /// WhatsApp (the default).
    #[default]
    #[serde(alias = "CHANNEL_WHATSAPP")]
    Whatsapp,
    /// SMS / MMS.
    #[serde(alias = "CHANNEL_SMS")]
    Sms,
    /// A transcript of a recorded call.
    #[serde(alias = "CHANNEL_VOICE_TRANSCRIPT")]
    VoiceTranscript,
    /// Any other channel.
    #[serde(alias = "CHANNEL_OTHER")]
    Other,
}

impl Channel {
    /// Every channel, in declaration order.
    pub const ALL: [Channel; 4] = [Self::Whatsapp, Self::Sms, Self::VoiceTranscript, Self::Other];

    /// The channel's name as written in policies.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Whatsapp => "whatsapp",
            Self::Sms => "sms",
            Self::VoiceTranscript => "voice_transcript",
            Self::Other => "other",
        }
    }
}

/// Which way a message travels relative to the firm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// From a contact to the firm.
    #[serde(alias = "DIRECTION_INBOUND")]
    Inbound,
    /// From the firm to a contact (the default).
    #[default]
    #[serde(alias = "DIRECTION_OUTBOUND")]
    Outbound,
}

impl Direction {
    /// Both directions.
    pub const ALL: [Direction; 2] = [Self::Inbound, Self::Outbound];

    /// The direction's name as written in policies.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Inbound => "inbound",
            Self::Outbound => "outbound",
        }
    }
}

/// Whether a party belongs to the firm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Staff of the firm.
    #[serde(alias = "ROLE_INTERNAL")]
    Internal,
    /// A client or any other outside party.
    #[serde(alias = "ROLE_EXTERNAL")]
    External,
}

impl Role {
    /// The role's name as written in policies.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Internal => "internal",
            Self::External => "external",
        }
    }
}

/// A sender or recipient.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct Party {
    /// Stable party id (a WhatsApp business-scoped user id may be the only one).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub id: String,
    /// Phone number, if known.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub phone: String,
    /// Internal (firm) or external (contact).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role: Option<Role>,
    /// Groups the party belongs to (desks, teams).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub groups: Vec<String>,
    /// ISO 3166 country code.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub country: String,
}

/// A file attached to a message.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct Attachment {
    /// File name as sent.
    pub filename: String,
    /// MIME type, e.g. `application/pdf`.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub mime_type: String,
    /// Size in bytes.
    #[serde(skip_serializing_if = "is_zero")]
    pub size_bytes: u64,
    /// Hex SHA-256 of the content.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub sha256: String,
    /// Text the caller extracted from the file, if any.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub text: String,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// A WhatsApp template send.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct Template {
    /// Approved template name.
    pub name: String,
    /// Template language code.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub language: String,
    /// Values substituted into the template; the only redactable part.
    pub parameters: Vec<String>,
}

/// A shared location.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct Location {
    /// Place name.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub name: String,
    /// Street address.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub address: String,
    /// Latitude in degrees.
    pub latitude: f64,
    /// Longitude in degrees.
    pub longitude: f64,
}

/// A shared contact card.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct Contact {
    /// Display name.
    pub name: String,
    /// Phone numbers.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub phones: Vec<String>,
    /// Email addresses.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub emails: Vec<String>,
    /// Organization.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub organization: String,
}

/// A button / list reply, quick-reply or Flow form answer.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct Interactive {
    /// Reply id chosen by the business.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub id: String,
    /// Title shown to the user.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub title: String,
    /// Description shown to the user.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub description: String,
    /// Flow form answers as JSON; every string value in it is scanned.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub response_json: String,
}

/// An order note.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct Order {
    /// Free text of the order.
    pub text: String,
}

/// A reaction to an earlier message.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct Reaction {
    /// The emoji.
    pub emoji: String,
}

/// One message to judge (docs/02-message.md). Only `text` or one content part is required.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct Message {
    /// Message id (e.g. the WhatsApp `wamid`), echoed in the verdict.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub id: String,
    /// Organization whose policies apply; empty for the default tenant.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub tenant: String,
    /// Thread id.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub conversation_id: String,
    /// Channel; WhatsApp by default.
    pub channel: Channel,
    /// Direction; outbound by default.
    pub direction: Direction,
    /// Who sent it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sender: Option<Party>,
    /// Who receives it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recipient: Option<Party>,
    /// Text body.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub text: String,
    /// Media caption.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub caption: String,
    /// Attached files.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<Attachment>,
    /// Template send.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub template: Option<Template>,
    /// Shared location.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<Location>,
    /// Shared contact cards.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub contacts: Vec<Contact>,
    /// Interactive reply.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub interactive: Option<Interactive>,
    /// Order note.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub order: Option<Order>,
    /// Reaction.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reaction: Option<Reaction>,
    /// Caller context, e.g. `opted_in: "false"`.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub attributes: BTreeMap<String, String>,
    /// When it was sent (RFC 3339).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sent_at: Option<String>,
}

impl Message {
    /// A plain outbound WhatsApp text message.
    pub fn text(text: impl Into<String>) -> Self {
        Self { text: text.into(), ..Self::default() }
    }
}
