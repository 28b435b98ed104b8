//! The scanned string fields of a message (docs/02-message.md) and their stable paths.

use std::fmt;

use crate::message::Message;

/// Where a scanned string lives in a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FieldPath {
    /// `text`
    Text,
    /// `caption`
    Caption,
    /// `attachments[i].filename`
    AttachmentFilename(usize),
    /// `attachments[i].text`
    AttachmentText(usize),
    /// `template.parameters[i]`
    TemplateParameter(usize),
    /// `location.name`
    LocationName,
    /// `location.address`
    LocationAddress,
    /// `contacts[i].name`
    ContactName(usize),
    /// `contacts[i].phones[j]`
    ContactPhone(usize, usize),
    /// `contacts[i].emails[j]`
    ContactEmail(usize, usize),
    /// `contacts[i].organization`
    ContactOrganization(usize),
    /// `interactive.title`
    InteractiveTitle,
    /// `interactive.description`
    InteractiveDescription,
    /// `interactive.response_json`
    InteractiveResponse,
    /// `order.text`
    OrderText,
}

impl fmt::Display for FieldPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Text => f.write_str("text"),
            Self::Caption => f.write_str("caption"),
            Self::AttachmentFilename(i) => write!(f, "attachments[{i}].filename"),
            Self::AttachmentText(i) => write!(f, "attachments[{i}].text"),
            Self::TemplateParameter(i) => write!(f, "template.parameters[{i}]"),
            Self::LocationName => f.write_str("location.name"),
            Self::LocationAddress => f.write_str("location.address"),
            Self::ContactName(i) => write!(f, "contacts[{i}].name"),
            Self::ContactPhone(i, j) => write!(f, "contacts[{i}].phones[{j}]"),
            Self::ContactEmail(i, j) => write!(f, "contacts[{i}].emails[{j}]"),
            Self::ContactOrganization(i) => write!(f, "contacts[{i}].organization"),
            Self::InteractiveTitle => f.write_str("interactive.title"),
            Self::InteractiveDescription => f.write_str("interactive.description"),
            Self::InteractiveResponse => f.write_str("interactive.response_json"),
            Self::OrderText => f.write_str("order.text"),
        }
    }
}

/// Calls `f` for every non-empty scanned field of `msg`, in a stable order.
pub fn for_each<'m>(msg: &'m Message, mut f: impl FnMut(FieldPath, &'m str)) {
    let mut emit = |p: FieldPath, s: &'m str| {
        if !s.is_empty() {
            f(p, s);
        }
    };
    emit(FieldPath::Text, &msg.text);
    emit(FieldPath::Caption, &msg.caption);
    for (i, a) in msg.attachments.iter().enumerate() {
        emit(FieldPath::AttachmentFilename(i), &a.filename);
        emit(FieldPath::AttachmentText(i), &a.text);
    }
    if let Some(t) = &msg.template {
        for (i, p) in t.parameters.iter().enumerate() {
            emit(FieldPath::TemplateParameter(i), p);
        }
    }
    if let Some(l) = &msg.location {
        emit(FieldPath::LocationName, &l.name);
        emit(FieldPath::LocationAddress, &l.address);
    }
    for (i, c) in msg.contacts.iter().enumerate() {
        emit(FieldPath::ContactName(i), &c.name);
        for (j, p) in c.phones.iter().enumerate() {
            emit(FieldPath::ContactPhone(i, j), p);
        }
        for (j, e) in c.emails.iter().enumerate() {
            emit(FieldPath::ContactEmail(i, j), e);
        }
        emit(FieldPath::ContactOrganization(i), &c.organization);
    }
    if let Some(x) = &msg.interactive {
        emit(FieldPath::InteractiveTitle, &x.title);
        emit(FieldPath::InteractiveDescription, &x.description);
        emit(FieldPath::InteractiveResponse, &x.response_json);
    }
    if let Some(o) = &msg.order {
        emit(FieldPath::OrderText, &o.text);
    }
}

/// The field at `path` (as in a finding's `field`), if the message has it.
pub fn get<'m>(msg: &'m Message, path: &str) -> Option<&'m str> {
    let mut found = None;
    for_each(msg, |p, s| {
        if found.is_none() && p.to_string() == path {
            found = Some(s);
        }
    });
    found
}

/// The string at `path`, if the message has it.
pub fn get_ref(msg: &Message, path: FieldPath) -> Option<&str> {
    Some(match path {
        FieldPath::Text => &msg.text,
        FieldPath::Caption => &msg.caption,
        FieldPath::AttachmentFilename(i) => &msg.attachments.get(i)?.filename,
        FieldPath::AttachmentText(i) => &msg.attachments.get(i)?.text,
        FieldPath::TemplateParameter(i) => msg.template.as_ref()?.parameters.get(i)?,
        FieldPath::LocationName => &msg.location.as_ref()?.name,
        FieldPath::LocationAddress => &msg.location.as_ref()?.address,
        FieldPath::ContactName(i) => &msg.contacts.get(i)?.name,
        FieldPath::ContactPhone(i, j) => msg.contacts.get(i)?.phones.get(j)?,
        FieldPath::ContactEmail(i, j) => msg.contacts.get(i)?.emails.get(j)?,
        FieldPath::ContactOrganization(i) => &msg.contacts.get(i)?.organization,
        FieldPath::InteractiveTitle => &msg.interactive.as_ref()?.title,
        FieldPath::InteractiveDescription => &msg.interactive.as_ref()?.description,
        FieldPath::InteractiveResponse => &msg.interactive.as_ref()?.response_json,
        FieldPath::OrderText => &msg.order.as_ref()?.text,
    })
}

/// A mutable reference to the string at `path`.
pub fn get_mut(msg: &mut Message, path: FieldPath) -> Option<&mut String> {
    Some(match path {
        FieldPath::Text => &mut msg.text,
        FieldPath::Caption => &mut msg.caption,
        FieldPath::AttachmentFilename(i) => &mut msg.attachments.get_mut(i)?.filename,
        FieldPath::AttachmentText(i) => &mut msg.attachments.get_mut(i)?.text,
        FieldPath::TemplateParameter(i) => msg.template.as_mut()?.parameters.get_mut(i)?,
        FieldPath::LocationName => &mut msg.location.as_mut()?.name,
        FieldPath::LocationAddress => &mut msg.location.as_mut()?.address,
        FieldPath::ContactName(i) => &mut msg.contacts.get_mut(i)?.name,
        FieldPath::ContactPhone(i, j) => msg.contacts.get_mut(i)?.phones.get_mut(j)?,
        FieldPath::ContactEmail(i, j) => msg.contacts.get_mut(i)?.emails.get_mut(j)?,
        FieldPath::ContactOrganization(i) => &mut msg.contacts.get_mut(i)?.organization,
        FieldPath::InteractiveTitle => &mut msg.interactive.as_mut()?.title,
        FieldPath::InteractiveDescription => &mut msg.interactive.as_mut()?.description,
        FieldPath::InteractiveResponse => &mut msg.interactive.as_mut()?.response_json,
        FieldPath::OrderText => &mut msg.order.as_mut()?.text,
    })
}

/// Most characters a field may hold on `channel` after redaction (docs/09-messaging-facts.md), if limited.
pub fn max_chars(path: FieldPath, channel: crate::message::Channel) -> Option<usize> {
    use crate::message::Channel;
    match (channel, path) {
        (Channel::Whatsapp, FieldPath::Text) => Some(4096),
        (Channel::Whatsapp, FieldPath::Caption) => Some(1024),
        (Channel::Sms, FieldPath::Text) => Some(1600),
        _ => None,
    }
}
