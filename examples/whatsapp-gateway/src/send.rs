//! Sending: Graph API `/{version}/{phone-number-id}/messages` with a bearer token, and
//! Twilio `Messages.json`; provider errors mapped to what the gateway does next.

use serde_json::{Value, json};

use crate::config::Config;
use crate::content::Content;

/// Why a send did not go through.
#[derive(Debug, Clone, PartialEq)]
pub enum SendError {
    /// 131026: the number cannot receive WhatsApp messages (SMS fallback candidate).
    Undeliverable,
    /// 131047: more than 24 h since the contact's last message; a template is needed.
    WindowClosed,
    /// 130429 / 131056: throughput or pair rate limit; retry with back-off.
    RateLimited(i64),
    /// Any other provider error (code, title).
    Provider(i64, String),
    /// The provider could not be reached or answered garbage.
    Transport(String),
}

impl SendError {
    /// Maps a Graph API error code.
    pub fn from_code(code: i64, title: &str) -> Self {
        match code {
            131026 => SendError::Undeliverable,
            131047 => SendError::WindowClosed,
            130429 | 131056 => SendError::RateLimited(code),
            _ => SendError::Provider(code, title.to_owned()),
        }
    }

    /// Short description for logs and the agent (no message content).
    pub fn describe(&self) -> String {
        match self {
            SendError::Undeliverable => "131026: recipient cannot receive WhatsApp messages".into(),
            SendError::WindowClosed => "131047: 24-hour window closed, template needed".into(),
            SendError::RateLimited(c) => format!("{c}: rate limited"),
            SendError::Provider(c, t) => format!("{c}: {t}"),
            SendError::Transport(e) => format!("transport: {e}"),
        }
    }
}

/// Graph API request body for a message.
pub fn whatsapp_body(cfg: &Config, to: &str, content: &Content, reply_to: Option<&str>) -> Value {
    let mut body = json!({
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": to,
    });
    if let Some(t) = &content.template {
        let mut components = Vec::new();
        if !t.parameters.is_empty() {
            let params: Vec<Value> =
                t.parameters.iter().map(|p| json!({"type": "text", "text": p})).collect();
            components.push(json!({"type": "body", "parameters": params}));
        }
        if t.name == cfg.opt_in_template {
            components.push(json!({
                "type": "button", "sub_type": "quick_reply", "index": "0",
                "parameters": [{"type": "payload", "payload": cfg.opt_in_accept_payload}]
            }));
        }
        let language = if t.language.is_empty() { "en" } else { t.language.as_str() };
        let mut tpl = json!({"name": t.name, "language": {"code": language}});
        if !components.is_empty() {
            tpl["components"] = Value::Array(components);
        }
        body["type"] = "template".into();
        body["template"] = tpl;
    } else {
        body["type"] = "text".into();
        body["text"] = json!({"body": content.text.clone().unwrap_or_default()});
    }
    if let Some(id) = reply_to.filter(|_| content.template.is_none()) {
        body["context"] = json!({"message_id": id});
    }
    body
}

/// Sends one WhatsApp message; the wamid on success.
pub async fn whatsapp(
    http: &reqwest::Client,
    cfg: &Config,
    to: &str,
    content: &Content,
    reply_to: Option<&str>,
) -> Result<String, SendError> {
    let url = format!(
        "{}/{}/{}/messages",
        cfg.wa_base.trim_end_matches('/'),
        cfg.wa_version,
        cfg.wa_phone_number_id
    );
    let resp = http
        .post(url)
        .bearer_auth(&cfg.wa_token)
        .json(&whatsapp_body(cfg, to, content, reply_to))
        .send()
        .await
        .map_err(|e| SendError::Transport(e.without_url().to_string()))?;
    let status = resp.status();
    let v: Value = resp.json().await.map_err(|e| SendError::Transport(e.without_url().to_string()))?;
    if let Some(err) = v.get("error") {
        let code = err.get("code").and_then(Value::as_i64).unwrap_or(0);
        let title = err.get("message").and_then(Value::as_str).unwrap_or("").to_owned();
        return Err(SendError::from_code(code, &title));
    }
    match v.pointer("/messages/0/id").and_then(Value::as_str) {
        Some(id) if status.is_success() => Ok(id.to_owned()),
        _ => Err(SendError::Transport(format!("unexpected answer (HTTP {status})"))),
    }
}

/// Sends one SMS through Twilio; the message SID on success.
pub async fn sms(http: &reqwest::Client, cfg: &Config, to: &str, body: &str) -> Result<String, SendError> {
    let url = format!(
        "{}/2010-04-01/Accounts/{}/Messages.json",
        cfg.twilio_base.trim_end_matches('/'),
        cfg.twilio_sid
    );
    let resp = http
        .post(url)
        .basic_auth(&cfg.twilio_sid, Some(&cfg.twilio_token))
        .form(&[("To", to), ("From", cfg.twilio_from.as_str()), ("Body", body)])
        .send()
        .await
        .map_err(|e| SendError::Transport(e.without_url().to_string()))?;
    let status = resp.status();
    let v: Value = resp.json().await.map_err(|e| SendError::Transport(e.without_url().to_string()))?;
    if status.is_success()
        && let Some(sid) = v.get("sid").and_then(Value::as_str)
    {
        return Ok(sid.to_owned());
    }
    let code = v.get("code").and_then(Value::as_i64).unwrap_or(status.as_u16() as i64);
    let msg = v.get("message").and_then(Value::as_str).unwrap_or("twilio error").to_owned();
    if status.as_u16() == 429 {
        return Err(SendError::RateLimited(code));
    }
    Err(SendError::Provider(code, msg))
}
