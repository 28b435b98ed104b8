//! The gateway's HTTP surface: provider webhooks, the agent API (docs/11-gateway.md) and
//! the inbox page.

use std::collections::HashMap;

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::content::{Content, TemplateSend};
use crate::flow::{self, Shared};
use crate::rules;
use crate::wire::{self, Envelope};

/// Largest webhook body accepted (Meta sends up to 3 MB).
const MAX_WEBHOOK_BYTES: usize = 3 * 1024 * 1024;
/// WhatsApp text body limit.
const MAX_WHATSAPP_CHARS: usize = 4096;
/// SMS body limit.
const MAX_SMS_CHARS: usize = 1600;

/// The router of the gateway.
pub fn router(app: Shared) -> Router {
    Router::new()
        .route("/", get(inbox))
        .route("/healthz", get(|| async { "ok" }))
        .route("/webhooks/whatsapp", get(verify).post(whatsapp_webhook))
        .route("/webhooks/sms", post(sms_webhook))
        .route("/v1/messages", post(send_message))
        .route("/v1/contacts/{phone}/opt-in", post(opt_in))
        .route("/v1/contacts/{phone}", get(contact))
        .route("/v1/conversations", get(threads))
        .route("/v1/conversations/{phone}/messages", get(conversation))
        .route("/v1/archive", get(archive))
        .route("/v1/templates", get(templates))
        .layer(DefaultBodyLimit::max(MAX_WEBHOOK_BYTES))
        .with_state(app)
}

fn error(status: StatusCode, msg: &str) -> Response {
    (status, Json(json!({"error": msg}))).into_response()
}

fn internal(e: anyhow::Error) -> Response {
    tracing::error!(error = %e, "request failed");
    error(StatusCode::INTERNAL_SERVER_ERROR, "internal error")
}

async fn inbox() -> Html<&'static str> {
    Html(include_str!("../static/inbox.html"))
}

/// `GET /webhooks/whatsapp`: the verification handshake.
async fn verify(State(app): State<Shared>, Query(q): Query<HashMap<String, String>>) -> Response {
    let mode = q.get("hub.mode").map(String::as_str);
    let token = q.get("hub.verify_token").map(String::as_str);
    match (mode, token, q.get("hub.challenge")) {
        (Some("subscribe"), Some(t), Some(challenge))
            if !app.cfg.wa_verify_token.is_empty() && t == app.cfg.wa_verify_token =>
        {
            (StatusCode::OK, challenge.clone()).into_response()
        }
        _ => (StatusCode::FORBIDDEN, "Forbidden").into_response(),
    }
}

/// `POST /webhooks/whatsapp`: signed notifications; anything unsigned is refused unread.
async fn whatsapp_webhook(State(app): State<Shared>, headers: HeaderMap, body: Bytes) -> Response {
    let sig = headers.get("x-hub-signature-256").and_then(|v| v.to_str().ok());
    if app.cfg.wa_app_secret.is_empty() || !wire::verify_hub_signature(&app.cfg.wa_app_secret, &body, sig) {
        tracing::warn!("webhook with a missing or bad X-Hub-Signature-256 refused");
        return (StatusCode::FORBIDDEN, "Forbidden").into_response();
    }
    let Ok(env) = serde_json::from_slice::<Envelope>(&body) else {
        return error(StatusCode::BAD_REQUEST, "body is not a WhatsApp webhook notification");
    };
    for entry in &env.entry {
        for change in entry.changes.iter().filter(|c| c.field == "messages") {
            let v = &change.value;
            for msg in &v.messages {
                let name = v
                    .contacts
                    .iter()
                    .find(|c| rules::normalize_phone(&c.wa_id) == rules::normalize_phone(&msg.from))
                    .map(|c| c.profile.name.as_str())
                    .unwrap_or("");
                if let Err(e) = flow::inbound_whatsapp(&app, msg, name).await {
                    // Not 200: Meta redelivers, and the wamid keeps the retry idempotent.
                    return internal(e);
                }
            }
            for st in &v.statuses {
                if let Err(e) = flow::status_update(&app, st).await {
                    return internal(e);
                }
            }
            for err in &v.errors {
                tracing::warn!(code = err.code, title = %err.title, "system-level WhatsApp error");
            }
        }
    }
    (StatusCode::OK, "EVENT_RECEIVED").into_response()
}

/// `POST /webhooks/sms`: Twilio form posts, signed with `X-Twilio-Signature`.
async fn sms_webhook(State(app): State<Shared>, headers: HeaderMap, body: Bytes) -> Response {
    let Ok(params) = serde_urlencoded::from_bytes::<Vec<(String, String)>>(&body) else {
        return error(StatusCode::BAD_REQUEST, "body is not a form");
    };
    let url = format!("{}/webhooks/sms", app.public_url.trim_end_matches('/'));
    let sig = headers.get("x-twilio-signature").and_then(|v| v.to_str().ok());
    if app.cfg.twilio_token.is_empty()
        || !wire::verify_twilio_signature(&app.cfg.twilio_token, &url, &params, sig)
    {
        tracing::warn!("SMS webhook with a missing or bad X-Twilio-Signature refused");
        return (StatusCode::FORBIDDEN, "Forbidden").into_response();
    }
    if let Err(e) = flow::inbound_sms(&app, &params).await {
        return internal(e);
    }
    ([(header::CONTENT_TYPE, "text/xml")], "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response></Response>")
        .into_response()
}

/// Body of `POST /v1/messages`.
#[derive(Deserialize)]
struct SendRequest {
    #[serde(default)]
    agent: String,
    to: String,
    #[serde(default)]
    text: Option<String>,
    #[serde(default)]
    template: Option<TemplateSend>,
    #[serde(default)]
    channel: Option<String>,
    #[serde(default)]
    reply_to: Option<String>,
}

fn outbound_response(m: &crate::db::MessageRow) -> Response {
    let code = match m.status.as_str() {
        "blocked" => StatusCode::UNPROCESSABLE_ENTITY,
        "held" | "new" => StatusCode::ACCEPTED,
        _ => StatusCode::OK,
    };
    (code, Json(flow::answer(m))).into_response()
}

/// `POST /v1/messages`: an agent sends a message.
async fn send_message(State(app): State<Shared>, body: Bytes) -> Response {
    let req: SendRequest = match serde_json::from_slice(&body) {
        Ok(r) => r,
        Err(_) => return error(StatusCode::BAD_REQUEST, "expected {agent, to, text? | template?, channel?}"),
    };
    let Some(phone) = rules::normalize_phone(&req.to) else {
        return error(StatusCode::BAD_REQUEST, "`to` is not a phone number");
    };
    let channel = match req.channel.as_deref() {
        None | Some("auto") | Some("") => None,
        Some(c @ ("whatsapp" | "sms")) => Some(c),
        Some(_) => return error(StatusCode::BAD_REQUEST, "`channel` must be whatsapp, sms or auto"),
    };
    let content = match (req.text, req.template) {
        (Some(t), None) if !t.trim().is_empty() => {
            let limit = if channel == Some("sms") { MAX_SMS_CHARS } else { MAX_WHATSAPP_CHARS };
            if t.chars().count() > limit {
                return error(StatusCode::BAD_REQUEST, &format!("text is longer than {limit} characters"));
            }
            Content::text(t)
        }
        (None, Some(t)) if !t.name.is_empty() => {
            if channel == Some("sms") {
                return error(StatusCode::BAD_REQUEST, "templates are WhatsApp only");
            }
            if t.parameters.iter().any(|p| p.chars().count() > 1024) {
                return error(StatusCode::BAD_REQUEST, "a template parameter is longer than 1024 characters");
            }
            Content { template: Some(t), ..Content::default() }
        }
        _ => return error(StatusCode::BAD_REQUEST, "give exactly one of `text` or `template`"),
    };
    let agent = if req.agent.is_empty() { "agent".to_owned() } else { req.agent };
    match flow::submit_outbound(&app, &agent, &phone, content, channel, req.reply_to).await {
        Ok(m) => outbound_response(&m),
        Err(e) => internal(e),
    }
}

/// `POST /v1/contacts/{phone}/opt-in`: sends the opt-in template.
async fn opt_in(State(app): State<Shared>, Path(phone): Path<String>) -> Response {
    let Some(phone) = rules::normalize_phone(&phone) else {
        return error(StatusCode::BAD_REQUEST, "not a phone number");
    };
    let content = flow::opt_in_content(&app.cfg);
    match flow::submit_outbound(&app, "system", &phone, content, Some("whatsapp"), None).await {
        Ok(m) => outbound_response(&m),
        Err(e) => internal(e),
    }
}

/// `GET /v1/contacts/{phone}`.
async fn contact(State(app): State<Shared>, Path(phone): Path<String>) -> Response {
    let Some(phone) = rules::normalize_phone(&phone) else {
        return error(StatusCode::BAD_REQUEST, "not a phone number");
    };
    let (c, consent) = match (app.db.contact(&phone), app.db.consent_history(&phone)) {
        (Ok(c), Ok(h)) => (c, h),
        (Err(e), _) | (_, Err(e)) => return internal(e.into()),
    };
    let (open, closes) = rules::window(c.last_inbound_ts, rules::now_secs());
    let whatsapp: Value = match c.whatsapp.as_str() {
        "yes" => true.into(),
        "no" => false.into(),
        _ => "unknown".into(),
    };
    Json(json!({
        "phone": c.phone,
        "name": c.name,
        "whatsapp": whatsapp,
        "opted_in": c.opted_in,
        "opted_in_at": c.opted_in_at,
        "opt_in_evidence": c.opt_in_evidence.and_then(|e| serde_json::from_str::<Value>(&e).ok()),
        "sms_opted_out": c.sms_opted_out,
        "window_open": open,
        "window_closes_at": closes.map(rules::rfc3339),
        "last_inbound_at": c.last_inbound_ts.map(rules::rfc3339),
        "consent_history": consent,
    }))
    .into_response()
}

/// `GET /v1/conversations`: the shared inbox's threads.
async fn threads(State(app): State<Shared>) -> Response {
    match app.db.threads() {
        Ok(t) => Json(t).into_response(),
        Err(e) => internal(e.into()),
    }
}

/// `GET /v1/conversations/{phone}/messages`.
async fn conversation(State(app): State<Shared>, Path(phone): Path<String>) -> Response {
    let Some(phone) = rules::normalize_phone(&phone) else {
        return error(StatusCode::BAD_REQUEST, "not a phone number");
    };
    match app.db.conversation(&phone) {
        Ok(rows) => Json(rows.iter().map(flow::shown).collect::<Vec<_>>()).into_response(),
        Err(e) => internal(e.into()),
    }
}

/// `GET /v1/archive?since=RFC3339`: the archive as JSON Lines.
async fn archive(State(app): State<Shared>, Query(q): Query<HashMap<String, String>>) -> Response {
    let since = match q.get("since") {
        None => 0,
        Some(s) => match rules::parse_rfc3339(s) {
            Some(t) => t,
            None => return error(StatusCode::BAD_REQUEST, "`since` must be an RFC 3339 time"),
        },
    };
    match app.db.archive_since(since) {
        Ok(rows) => {
            let mut out = String::new();
            for r in rows {
                out.push_str(&r.to_string());
                out.push('\n');
            }
            ([(header::CONTENT_TYPE, "application/x-ndjson")], out).into_response()
        }
        Err(e) => internal(e.into()),
    }
}

/// `GET /v1/templates`: approved templates for the composer's picker.
async fn templates(State(app): State<Shared>) -> Response {
    Json(&app.cfg.templates).into_response()
}
