//! Linewall in the path: one unary `Evaluate` call per message, over gRPC.

use std::collections::HashMap;

use linewall_proto::v1 as pb;
use linewall_proto::v1::linewall_client::LinewallClient;
use tonic::transport::{Channel, Endpoint};

use crate::config::Config;
use crate::content::Content;

/// What Linewall decided for one message.
#[derive(Debug, Clone)]
pub struct Judgement {
    /// `allow`, `redact` or `block`.
    pub action: &'static str,
    /// What may be delivered / shown (the original for `allow`).
    pub delivered: Content,
    /// What the archive stores.
    pub record: serde_json::Value,
    /// `policy/rule` of every enforced rule that fired.
    pub rules: Vec<String>,
    /// Text for the sender, if any.
    pub notice: Option<String>,
    /// Decision log id.
    pub decision_id: String,
}

/// Facts about a message Linewall needs besides its content.
pub struct Subject<'a> {
    /// Gateway message id.
    pub id: &'a str,
    /// Contact phone (the conversation).
    pub phone: &'a str,
    /// `whatsapp` or `sms`.
    pub channel: &'a str,
    /// `inbound` or `outbound`.
    pub direction: &'a str,
    /// Agent id for outbound messages.
    pub agent: &'a str,
    /// Business-rule attributes (`opted_in`, `session_window`, …).
    pub attributes: HashMap<String, String>,
    /// RFC 3339 time.
    pub sent_at: String,
}

/// A Linewall gRPC client (cheap to clone; reconnects by itself).
#[derive(Clone)]
pub struct Judge {
    client: LinewallClient<Channel>,
    tenant: String,
}

impl Judge {
    /// A lazily connecting client; a Linewall that is down fails each call, never startup.
    pub fn new(cfg: &Config) -> anyhow::Result<Self> {
        let endpoint = Endpoint::from_shared(cfg.linewall_addr.clone())?
            .connect_timeout(cfg.linewall_timeout)
            .timeout(cfg.linewall_timeout);
        Ok(Judge { client: LinewallClient::new(endpoint.connect_lazy()), tenant: cfg.tenant.clone() })
    }

    /// Judges one message; an error means no verdict (the caller fails closed).
    pub async fn judge(&self, s: &Subject<'_>, content: &Content) -> Result<Judgement, String> {
        let party = |phone: &str, role: pb::Role, id: &str| pb::Party {
            id: id.to_owned(),
            phone: phone.to_owned(),
            role: role as i32,
            ..pb::Party::default()
        };
        let (sender, recipient) = if s.direction == "inbound" {
            (party(s.phone, pb::Role::External, ""), party("", pb::Role::Internal, ""))
        } else {
            (party("", pb::Role::Internal, s.agent), party(s.phone, pb::Role::External, ""))
        };
        let mut msg = pb::Message {
            id: s.id.to_owned(),
            tenant: self.tenant.clone(),
            conversation_id: s.phone.to_owned(),
            channel: if s.channel == "sms" { pb::Channel::Sms } else { pb::Channel::Whatsapp } as i32,
            direction: if s.direction == "inbound" { pb::Direction::Inbound } else { pb::Direction::Outbound }
                as i32,
            sender: Some(sender),
            recipient: Some(recipient),
            attributes: s.attributes.clone(),
            sent_at: s.sent_at.clone(),
            ..pb::Message::default()
        };
        content.to_proto(&mut msg);
        let mut client = self.client.clone();
        let answer = client
            .evaluate(pb::EvaluateRequest { message: Some(msg) })
            .await
            .map_err(|e| format!("linewall: {}", e.code()))?;
        let verdict = answer.into_inner().verdict.ok_or("linewall: answer without a verdict")?;
        let action = match pb::Action::try_from(verdict.action) {
            Ok(pb::Action::Allow) => "allow",
            Ok(pb::Action::Redact) => "redact",
            Ok(pb::Action::Block) => "block",
            _ => return Err("linewall: verdict without an action".into()),
        };
        let record_msg = verdict.record.ok_or("linewall: verdict without a record")?;
        let delivered = match (&verdict.delivered, action) {
            (Some(d), "redact") => content.with_fields_of(d),
            (None, "redact") => return Err("linewall: redact verdict without delivered".into()),
            _ => content.clone(),
        };
        let rules = verdict
            .matched
            .iter()
            .filter(|m| m.mode != pb::Mode::Monitor as i32)
            .map(|m| format!("{}/{}", m.policy, m.rule))
            .collect();
        Ok(Judgement {
            action,
            delivered,
            record: record_json(&record_msg, content),
            rules,
            notice: Some(verdict.notice).filter(|n| !n.is_empty()),
            decision_id: verdict.decision_id,
        })
    }
}

/// The archive's JSON form of Linewall's `record`.
fn record_json(m: &pb::Message, original: &Content) -> serde_json::Value {
    let content = original.with_fields_of(m);
    let mut v = serde_json::to_value(&content).unwrap_or_default();
    if let Some(obj) = v.as_object_mut() {
        let channel = if m.channel == pb::Channel::Sms as i32 { "sms" } else { "whatsapp" };
        let direction = if m.direction == pb::Direction::Inbound as i32 { "inbound" } else { "outbound" };
        obj.insert("channel".into(), channel.into());
        obj.insert("direction".into(), direction.into());
        let attrs: std::collections::BTreeMap<_, _> = m.attributes.iter().collect();
        obj.insert("attributes".into(), serde_json::to_value(attrs).unwrap_or_default());
    }
    v
}
