//! What a message says, independent of the wire: the gateway's own record of a message's
//! content, converted to and from Linewall's `Message`.

use linewall_proto::v1 as pb;
use serde::{Deserialize, Serialize};

/// A template send.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct TemplateSend {
    /// Approved template name.
    pub name: String,
    /// Language code.
    #[serde(default)]
    pub language: String,
    /// Body parameters.
    #[serde(default)]
    pub parameters: Vec<String>,
}

/// A button or list reply.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct InteractiveContent {
    /// Id chosen by the business (or the quick-reply payload).
    #[serde(default)]
    pub id: String,
    /// Title the user saw.
    #[serde(default)]
    pub title: String,
    /// Description (list rows).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
}

/// An attachment's metadata (bytes are not fetched).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct AttachmentContent {
    /// `image`, `document`, `video`, `audio`, `sticker`.
    pub kind: String,
    /// Provider media id.
    #[serde(default)]
    pub media_id: String,
    /// File name.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub filename: String,
    /// MIME type.
    #[serde(default)]
    pub mime_type: String,
}

/// The content of one message.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Content {
    /// Text body.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// Media caption.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub caption: Option<String>,
    /// Template send.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template: Option<TemplateSend>,
    /// Button / list reply.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interactive: Option<InteractiveContent>,
    /// Media metadata.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attachment: Option<AttachmentContent>,
}

impl Content {
    /// Plain text content.
    pub fn text(s: impl Into<String>) -> Self {
        Content { text: Some(s.into()), ..Content::default() }
    }

    /// `text`, `template`, `interactive` or `media`.
    pub fn kind(&self) -> &'static str {
        if self.template.is_some() {
            "template"
        } else if self.interactive.is_some() {
            "interactive"
        } else if self.attachment.is_some() {
            "media"
        } else {
            "text"
        }
    }

    /// One line for an agent or a transcript.
    pub fn display(&self) -> String {
        if let Some(t) = &self.template {
            return format!("[template {}] {}", t.name, t.parameters.join(" | ")).trim_end().to_owned();
        }
        if let Some(i) = &self.interactive {
            return format!("[button] {}", i.title);
        }
        if let Some(a) = &self.attachment {
            let cap = self.caption.clone().unwrap_or_default();
            return format!("[{}] {}", a.kind, cap).trim_end().to_owned();
        }
        self.text.clone().unwrap_or_default()
    }

    /// Fills Linewall's message fields from this content.
    pub fn to_proto(&self, m: &mut pb::Message) {
        m.text = self.text.clone().unwrap_or_default();
        m.caption = self.caption.clone().unwrap_or_default();
        m.template = self.template.as_ref().map(|t| pb::Template {
            name: t.name.clone(),
            language: t.language.clone(),
            parameters: t.parameters.clone(),
        });
        m.interactive = self.interactive.as_ref().map(|i| pb::Interactive {
            id: i.id.clone(),
            title: i.title.clone(),
            description: i.description.clone(),
            response_json: String::new(),
        });
        m.attachments = self
            .attachment
            .iter()
            .map(|a| pb::Attachment {
                filename: a.filename.clone(),
                mime_type: a.mime_type.clone(),
                ..pb::Attachment::default()
            })
            .collect();
    }

    /// This content with the scanned fields replaced by those of a Linewall message
    /// (`delivered` or `record`); media ids and template names stay as sent.
    pub fn with_fields_of(&self, m: &pb::Message) -> Content {
        let mut out = self.clone();
        if out.text.is_some() {
            out.text = Some(m.text.clone());
        }
        if out.caption.is_some() {
            out.caption = Some(m.caption.clone());
        }
        if let (Some(t), Some(pt)) = (&mut out.template, &m.template) {
            t.parameters = pt.parameters.clone();
        }
        if let (Some(i), Some(pi)) = (&mut out.interactive, &m.interactive) {
            i.title = pi.title.clone();
            i.description = pi.description.clone();
        }
        if let (Some(a), Some(pa)) = (&mut out.attachment, m.attachments.first()) {
            a.filename = pa.filename.clone();
        }
        out
    }
}
