//! The one place where protobuf types and engine types meet.

use linewall_engine::detect::Confidence;
use linewall_engine::message as m;
use linewall_engine::verdict::{self as v, Action, Mode, Severity};
use linewall_proto::v1 as pb;

use crate::error::CallError;

fn channel(c: i32) -> Result<m::Channel, CallError> {
    Ok(match pb::Channel::try_from(c) {
        Ok(pb::Channel::Unspecified | pb::Channel::Whatsapp) => m::Channel::Whatsapp,
        Ok(pb::Channel::Sms) => m::Channel::Sms,
        Ok(pb::Channel::VoiceTranscript) => m::Channel::VoiceTranscript,
        Ok(pb::Channel::Other) => m::Channel::Other,
        Err(_) => return Err(CallError::invalid("message.channel", format!("unknown value {c}"))),
    })
}

fn direction(d: i32) -> Result<m::Direction, CallError> {
    Ok(match pb::Direction::try_from(d) {
        Ok(pb::Direction::Unspecified | pb::Direction::Outbound) => m::Direction::Outbound,
        Ok(pb::Direction::Inbound) => m::Direction::Inbound,
        Err(_) => return Err(CallError::invalid("message.direction", format!("unknown value {d}"))),
    })
}

fn party(p: Option<pb::Party>, field: &str) -> Result<Option<m::Party>, CallError> {
    let Some(p) = p else { return Ok(None) };
    let role = match pb::Role::try_from(p.role) {
        Ok(pb::Role::Unspecified) => None,
        Ok(pb::Role::Internal) => Some(m::Role::Internal),
        Ok(pb::Role::External) => Some(m::Role::External),
        Err(_) => {
            return Err(CallError::invalid(
                format!("message.{field}.role"),
                format!("unknown value {}", p.role),
            ));
        }
    };
    Ok(Some(m::Party { id: p.id, phone: p.phone, role, groups: p.groups, country: p.country }))
}

/// Converts a request message; malformed input names the offending field.
pub fn message_in(msg: Option<pb::Message>) -> Result<m::Message, CallError> {
    let msg = msg.ok_or_else(|| CallError::invalid("message", "required"))?;
    let has_content = !msg.text.is_empty()
        || !msg.caption.is_empty()
        || !msg.attachments.is_empty()
        || msg.template.is_some()
        || msg.location.is_some()
        || !msg.contacts.is_empty()
        || msg.interactive.is_some()
        || msg.order.is_some()
        || msg.reaction.is_some();
    if !has_content {
        return Err(CallError::invalid("message.text", "a message needs text or one content part"));
    }
    Ok(m::Message {
        id: msg.id,
        tenant: msg.tenant,
        conversation_id: msg.conversation_id,
        channel: channel(msg.channel)?,
        direction: direction(msg.direction)?,
        sender: party(msg.sender, "sender")?,
        recipient: party(msg.recipient, "recipient")?,
        text: msg.text,
        caption: msg.caption,
        attachments: msg
            .attachments
            .into_iter()
            .map(|a| m::Attachment {
                filename: a.filename,
                mime_type: a.mime_type,
                size_bytes: a.size_bytes,
                sha256: a.sha256,
                text: a.text,
            })
            .collect(),
        template: msg.template.map(|t| m::Template {
            name: t.name,
            language: t.language,
            parameters: t.parameters,
        }),
        location: msg.location.map(|l| m::Location {
            name: l.name,
            address: l.address,
            latitude: l.latitude,
            longitude: l.longitude,
        }),
        contacts: msg
            .contacts
            .into_iter()
            .map(|c| m::Contact {
                name: c.name,
                phones: c.phones,
                emails: c.emails,
                organization: c.organization,
            })
            .collect(),
        interactive: msg.interactive.map(|i| m::Interactive {
            id: i.id,
            title: i.title,
            description: i.description,
            response_json: i.response_json,
        }),
        order: msg.order.map(|o| m::Order { text: o.text }),
        reaction: msg.reaction.map(|r| m::Reaction { emoji: r.emoji }),
        attributes: msg.attributes.into_iter().collect(),
        sent_at: (!msg.sent_at.is_empty()).then_some(msg.sent_at),
    })
}

fn message_out(msg: m::Message) -> pb::Message {
    let party = |p: m::Party| pb::Party {
        id: p.id,
        phone: p.phone,
        role: match p.role {
            None => pb::Role::Unspecified,
            Some(m::Role::Internal) => pb::Role::Internal,
            Some(m::Role::External) => pb::Role::External,
        } as i32,
        groups: p.groups,
        country: p.country,
    };
    pb::Message {
        id: msg.id,
        tenant: msg.tenant,
        conversation_id: msg.conversation_id,
        channel: match msg.channel {
            m::Channel::Whatsapp => pb::Channel::Whatsapp,
            m::Channel::Sms => pb::Channel::Sms,
            m::Channel::VoiceTranscript => pb::Channel::VoiceTranscript,
            m::Channel::Other => pb::Channel::Other,
        } as i32,
        direction: match msg.direction {
            m::Direction::Inbound => pb::Direction::Inbound,
            m::Direction::Outbound => pb::Direction::Outbound,
        } as i32,
        sender: msg.sender.map(party),
        recipient: msg.recipient.map(party),
        text: msg.text,
        caption: msg.caption,
        attachments: msg
            .attachments
            .into_iter()
            .map(|a| pb::Attachment {
                filename: a.filename,
                mime_type: a.mime_type,
                size_bytes: a.size_bytes,
                sha256: a.sha256,
                text: a.text,
            })
            .collect(),
        template: msg.template.map(|t| pb::Template {
            name: t.name,
            language: t.language,
            parameters: t.parameters,
        }),
        location: msg.location.map(|l| pb::Location {
            name: l.name,
            address: l.address,
            latitude: l.latitude,
            longitude: l.longitude,
        }),
        contacts: msg
            .contacts
            .into_iter()
            .map(|c| pb::Contact {
                name: c.name,
                phones: c.phones,
                emails: c.emails,
                organization: c.organization,
            })
            .collect(),
        interactive: msg.interactive.map(|i| pb::Interactive {
            id: i.id,
            title: i.title,
            description: i.description,
            response_json: i.response_json,
        }),
        order: msg.order.map(|o| pb::Order { text: o.text }),
        reaction: msg.reaction.map(|r| pb::Reaction { emoji: r.emoji }),
        attributes: msg.attributes.into_iter().collect(),
        sent_at: msg.sent_at.unwrap_or_default(),
    }
}

/// The proto value of an action.
pub fn action(a: Action) -> i32 {
    let p = match a {
        Action::Allow => pb::Action::Allow,
        Action::Redact => pb::Action::Redact,
        Action::Block => pb::Action::Block,
    };
    p as i32
}

/// The proto value of a mode.
pub fn mode(md: Mode) -> i32 {
    let p = match md {
        Mode::Enforce => pb::Mode::Enforce,
        Mode::Monitor => pb::Mode::Monitor,
    };
    p as i32
}

fn severity(s: Severity) -> String {
    match s {
        Severity::Low => "low",
        Severity::Medium => "medium",
        Severity::High => "high",
    }
    .to_owned()
}

fn u32_of(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// Converts an engine verdict.
pub fn verdict_out(v: v::Verdict) -> pb::Verdict {
    pb::Verdict {
        id: v.id,
        action: action(v.action),
        delivered: v.delivered.map(message_out),
        record: Some(message_out(v.record)),
        findings: v
            .findings
            .into_iter()
            .map(|f| pb::Finding {
                detector: f.detector,
                field: f.field,
                start: u32_of(f.start),
                end: u32_of(f.end),
                byte_start: u32_of(f.byte_start),
                byte_end: u32_of(f.byte_end),
                confidence: Confidence::as_str(f.confidence).to_owned(),
                rules: f.rules,
                preview: f.preview,
                parts: f
                    .parts
                    .into_iter()
                    .map(|p| pb::FindingPart {
                        message_id: p.message_id,
                        field: p.field,
                        start: u32_of(p.start),
                        end: u32_of(p.end),
                    })
                    .collect(),
            })
            .collect(),
        matched: v
            .matched
            .into_iter()
            .map(|x| pb::Matched {
                policy: x.policy,
                rule: x.rule,
                action: action(x.action),
                mode: mode(x.mode),
            })
            .collect(),
        notice: v.notice.unwrap_or_default(),
        alerts: v
            .alerts
            .into_iter()
            .map(|a| pb::Alert {
                policy: a.policy,
                rule: a.rule,
                severity: severity(a.severity),
                split: a.split,
            })
            .collect(),
        policy_version: v.policy_version,
        decision_id: v.decision_id,
        errors: v
            .errors
            .into_iter()
            .map(|e| pb::EvalError { detector: e.detector, error: e.error, on_error: action(e.on_error) })
            .collect(),
    }
}

/// A policy diagnostic as the admin API returns it.
pub fn diagnostic_to_pb(d: &linewall_engine::policy::Diagnostic) -> pb::Diagnostic {
    use linewall_engine::policy::Severity as S;
    let pos = |p: linewall_engine::policy::Position| pb::SourcePosition { line: p.line, column: p.column };
    pb::Diagnostic {
        code: d.code.as_str().to_owned(),
        severity: match d.severity {
            S::Error => pb::DiagnosticSeverity::Error,
            S::Warning => pb::DiagnosticSeverity::Warning,
        } as i32,
        file: d.file.clone(),
        start: d.span.as_ref().map(|s| pos(s.start)),
        end: d.span.as_ref().map(|s| pos(s.end)),
        byte_start: d.span.as_ref().map_or(0, |s| s.bytes.start as u64),
        byte_end: d.span.as_ref().map_or(0, |s| s.bytes.end as u64),
        message: d.message.clone(),
        help: d.help.clone().unwrap_or_default(),
    }
}
