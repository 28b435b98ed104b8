//! The message path: outbound (judge → send → archive), inbound (store → judge → show →
//! archive), delivery statuses, SMS fallback, and the fail-closed held / unjudged states.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};

use crate::config::{Config, SmsFallback};
use crate::content::{AttachmentContent, Content, InteractiveContent, TemplateSend};
use crate::db::{Contact, Db, MessageRow};
use crate::judge::{Judge, Subject};
use crate::rules::{self, Keyword};
use crate::send::{self, SendError};
use crate::wire::{InMessage, StatusUpdate};

/// Everything a request handler or worker needs.
pub struct App {
    /// Configuration.
    pub cfg: Config,
    /// The store.
    pub db: Db,
    /// Linewall client.
    pub judge: Judge,
    /// HTTP client for Graph API, Twilio and the CRM.
    pub http: reqwest::Client,
    /// Base URL Twilio calls, for its signature.
    pub public_url: String,
}

/// Shared application state.
pub type Shared = Arc<App>;

/// Notice shown while Linewall cannot be reached.
pub const HELD_NOTICE: &str =
    "Linewall is unreachable: the message is held and will be judged and sent when it is back.";

/// Current time in milliseconds (for retry schedules).
pub fn now_ms() -> i64 {
    (time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64
}

/// The business-rule attributes Linewall's `whatsapp` pack decides on.
pub fn attributes(contact: &Contact, now: i64) -> HashMap<String, String> {
    let (open, closes) = rules::window(contact.last_inbound_ts, now);
    let mut a = HashMap::new();
    a.insert("opted_in".into(), contact.opted_in.to_string());
    a.insert("session_window".into(), if open { "open" } else { "closed" }.into());
    a.insert("sms_opted_out".into(), contact.sms_opted_out.to_string());
    a.insert("whatsapp".into(), contact.whatsapp.clone());
    if let Some(c) = closes {
        a.insert("window_closes_at".into(), rules::rfc3339(c));
    }
    a
}

/// The agent API's answer for an outbound message.
pub fn answer(m: &MessageRow) -> Value {
    let status = match m.status.as_str() {
        "delivered" | "read" => "sent",
        "new" => "held",
        s => s,
    };
    let mut v = json!({
        "id": m.id,
        "status": status,
        "channel": m.channel,
        "action": m.action,
        "decision_id": m.decision_id.clone().unwrap_or_default(),
    });
    if let (Some(shown), Some("allow" | "redact"), false) =
        (&m.shown, m.action.as_deref(), m.status == "failed")
    {
        v["delivered_text"] = shown.display().into();
    }
    if let Some(n) = &m.notice {
        v["notice"] = n.clone().into();
    }
    if let Some(h) = &m.hint {
        v["hint"] = h.clone().into();
    }
    if let Some(f) = &m.fallback_of {
        v["fallback_of"] = f.clone().into();
    }
    if !m.rules.is_empty() {
        v["rules"] = json!(m.rules);
    }
    v
}

/// A message as the conversation API shows it to agents.
pub fn shown(m: &MessageRow) -> Value {
    let text = match (m.direction.as_str(), m.action.as_deref(), &m.shown) {
        ("inbound", Some("block"), _) => "(withheld by policy)".to_owned(),
        (_, Some("block"), _) => "(not sent)".to_owned(),
        (_, _, Some(s)) => s.display(),
        _ => String::from("(awaiting Linewall)"),
    };
    json!({
        "id": m.id,
        "direction": m.direction,
        "channel": m.channel,
        "text": text,
        "status": m.status,
        "action": m.action,
        "notice": m.notice,
        "hint": m.hint,
        "rules": m.rules,
        "sent_at": m.sent_at.clone().unwrap_or_else(|| rules::rfc3339(m.created_at)),
    })
}

fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// Accepts an agent's outbound message and runs it through the path.
pub async fn submit_outbound(
    app: &Shared,
    agent: &str,
    phone: &str,
    content: Content,
    channel: Option<&str>,
    reply_to: Option<String>,
) -> anyhow::Result<MessageRow> {
    let contact = app.db.contact(phone)?;
    let channel = match channel {
        Some("sms") => "sms",
        Some("whatsapp") => "whatsapp",
        _ if contact.whatsapp == "no" && app.cfg.sms_fallback != SmsFallback::Off => "sms",
        _ => "whatsapp",
    };
    let row = MessageRow {
        id: new_id(),
        phone: phone.to_owned(),
        direction: "outbound".into(),
        channel: channel.into(),
        content,
        status: "new".into(),
        agent: agent.to_owned(),
        created_at: rules::now_secs(),
        reply_to,
        next_attempt_at: i64::MAX,
        ..MessageRow::default()
    };
    app.db.insert_message(&row)?;
    process_outbound(app, row).await
}

/// Judges an outbound message and, unless blocked, sends it; fails closed when Linewall
/// cannot be reached (the message is held for the worker).
pub fn process_outbound<'a>(
    app: &'a Shared,
    mut m: MessageRow,
) -> std::pin::Pin<Box<dyn std::future::Future<Output = anyhow::Result<MessageRow>> + Send + 'a>> {
    Box::pin(async move {
        let now = rules::now_secs();
        let contact = app.db.contact(&m.phone)?;
        let subject = Subject {
            id: &m.id,
            phone: &m.phone,
            channel: &m.channel,
            direction: "outbound",
            agent: &m.agent,
            attributes: attributes(&contact, now),
            sent_at: rules::rfc3339(now),
        };
        m.attempts += 1;
        let j = match app.judge.judge(&subject, &m.content).await {
            Ok(j) => j,
            Err(e) => {
                tracing::warn!(id = %m.id, error = %e, "outbound held: no verdict");
                m.status = "held".into();
                m.hint = Some("linewall_unreachable".into());
                m.notice = Some(HELD_NOTICE.into());
                m.last_error = Some(e);
                m.next_attempt_at = now_ms() + app.cfg.worker_interval.as_millis() as i64;
                app.db.update_message(&m)?;
                return Ok(m);
            }
        };
        m.judged = true;
        m.action = Some(j.action.into());
        m.rules = j.rules.clone();
        m.decision_id = Some(j.decision_id.clone());
        m.notice = j.notice.clone();
        m.hint = None;
        // A blocked message is never shown as text (the record is what the archive keeps).
        m.shown = (j.action != "block").then(|| j.delivered.clone());
        if j.action == "block" {
            m.status = "blocked".into();
            app.db.update_message(&m)?;
            app.db.archive(&m, &j.record, app.cfg.crm_url.is_some(), now)?;
            return Ok(m);
        }
        let result = if m.channel == "sms" {
            let body = j.delivered.text.clone().unwrap_or_else(|| j.delivered.display());
            send_with_retries(app, || send::sms(&app.http, &app.cfg, &m.phone, &body)).await
        } else {
            let reply_to = m.reply_to.clone();
            send_with_retries(app, || {
                send::whatsapp(&app.http, &app.cfg, &m.phone, &j.delivered, reply_to.as_deref())
            })
            .await
        };
        match result {
            Ok(pid) => {
                m.status = "sent".into();
                m.sent_at = Some(rules::rfc3339(rules::now_secs()));
                m.last_error = None;
                if m.content.template.as_ref().is_some_and(|t| t.name == app.cfg.opt_in_template) {
                    app.db.set_opt_in_wamid(&m.phone, &pid)?;
                    app.db.consent_event(
                        &m.phone,
                        "opt_in_requested",
                        "whatsapp",
                        &rules::rfc3339(now),
                        &json!({"template": app.cfg.opt_in_template, "wamid": pid, "agent": m.agent}),
                    )?;
                }
                m.provider_id = Some(pid);
            }
            Err(e @ (SendError::RateLimited(_) | SendError::Transport(_))) => {
                // Queued: the worker re-judges (the window may have changed) and resends.
                m.status = "held".into();
                m.hint = Some("retrying".into());
                m.notice = Some("The provider is busy: the message is queued and will be retried.".into());
                m.last_error = Some(e.describe());
                let backoff = app.cfg.retry_base.as_millis() as i64 * 4i64.pow(app.cfg.send_retries.min(6));
                m.next_attempt_at = now_ms() + backoff;
                app.db.update_message(&m)?;
                return Ok(m);
            }
            Err(e) => {
                m.status = "failed".into();
                m.last_error = Some(e.describe());
                match e {
                    SendError::Undeliverable => {
                        app.db.set_whatsapp(&m.phone, "no")?;
                        return undeliverable(app, m, &j.record, now).await;
                    }
                    SendError::WindowClosed => {
                        m.hint = Some("template_required".into());
                        m.notice = Some(
                            "WhatsApp says the 24-hour window is closed: pick an approved template.".into(),
                        );
                    }
                    _ => m.notice = Some(format!("The provider refused the message ({}).", e.describe())),
                }
            }
        }
        app.db.update_message(&m)?;
        app.db.archive(&m, &j.record, app.cfg.crm_url.is_some(), now)?;
        Ok(m)
    })
}

/// Runs a send, retrying rate-limit answers after `base·4^n`.
async fn send_with_retries<F, Fut>(app: &Shared, mut f: F) -> Result<String, SendError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<String, SendError>>,
{
    let mut attempt = 0u32;
    loop {
        match f().await {
            Err(SendError::RateLimited(code)) if attempt < app.cfg.send_retries => {
                let wait = app.cfg.retry_base * 4u32.pow(attempt);
                tracing::info!(code, wait_ms = wait.as_millis() as u64, "rate limited; backing off");
                tokio::time::sleep(wait).await;
                attempt += 1;
            }
            other => return other,
        }
    }
}

/// 131026: records the failure and falls back to SMS per `SMS_FALLBACK`.
async fn undeliverable(
    app: &Shared,
    mut m: MessageRow,
    record: &Value,
    now: i64,
) -> anyhow::Result<MessageRow> {
    match app.cfg.sms_fallback {
        SmsFallback::Auto if m.content.template.is_none() => {
            m.hint = Some("sms_fallback_sent".into());
            m.notice = Some("This number has no WhatsApp: sent by SMS instead.".into());
            app.db.update_message(&m)?;
            app.db.archive(&m, record, app.cfg.crm_url.is_some(), now)?;
            fallback_sms(app, &m).await
        }
        SmsFallback::Off => {
            m.notice = Some("This number has no WhatsApp.".into());
            app.db.update_message(&m)?;
            app.db.archive(&m, record, app.cfg.crm_url.is_some(), now)?;
            Ok(m)
        }
        _ => {
            m.hint = Some("sms_fallback_offered".into());
            m.notice = Some("This number has no WhatsApp. Send it by SMS instead?".into());
            app.db.update_message(&m)?;
            app.db.archive(&m, record, app.cfg.crm_url.is_some(), now)?;
            Ok(m)
        }
    }
}

/// Sends the composed text of a failed WhatsApp message as a new SMS, judged again as
/// channel `sms`.
async fn fallback_sms(app: &Shared, original: &MessageRow) -> anyhow::Result<MessageRow> {
    let row = MessageRow {
        id: new_id(),
        phone: original.phone.clone(),
        direction: "outbound".into(),
        channel: "sms".into(),
        content: Content { text: original.content.text.clone(), ..Content::default() },
        status: "new".into(),
        agent: original.agent.clone(),
        created_at: rules::now_secs(),
        fallback_of: Some(original.id.clone()),
        next_attempt_at: i64::MAX,
        ..MessageRow::default()
    };
    app.db.insert_message(&row)?;
    process_outbound(app, row).await
}

/// The content of an inbound WhatsApp message.
fn inbound_content(msg: &InMessage) -> Content {
    let mut c = Content::default();
    match msg.kind.as_str() {
        "text" => c.text = msg.text.as_ref().map(|t| t.body.clone()),
        "button" => {
            if let Some(b) = &msg.button {
                c.interactive = Some(InteractiveContent {
                    id: b.payload.clone(),
                    title: b.text.clone(),
                    description: String::new(),
                });
            }
        }
        "interactive" => {
            if let Some(ch) =
                msg.interactive.as_ref().and_then(|i| i.button_reply.as_ref().or(i.list_reply.as_ref()))
            {
                c.interactive = Some(InteractiveContent {
                    id: ch.id.clone(),
                    title: ch.title.clone(),
                    description: ch.description.clone(),
                });
            }
        }
        kind @ ("image" | "document" | "video" | "audio" | "sticker") => {
            let media = match kind {
                "image" => &msg.image,
                "document" => &msg.document,
                "video" => &msg.video,
                "audio" => &msg.audio,
                _ => &msg.sticker,
            };
            if let Some(md) = media {
                if !md.caption.is_empty() {
                    c.caption = Some(md.caption.clone());
                }
                c.attachment = Some(AttachmentContent {
                    kind: kind.to_owned(),
                    media_id: md.id.clone(),
                    filename: md.filename.clone(),
                    mime_type: md.mime_type.clone(),
                });
            }
        }
        other => c.text = Some(format!("[unsupported {other} message]")),
    }
    c
}

/// Stores, records the business facts of, and judges one inbound WhatsApp message.
/// A redelivery of a stored wamid changes nothing.
pub async fn inbound_whatsapp(app: &Shared, msg: &InMessage, name: &str) -> anyhow::Result<()> {
    let Some(phone) = rules::normalize_phone(&msg.from) else {
        tracing::warn!("inbound message with an unusable sender id; ignored");
        return Ok(());
    };
    let now = rules::now_secs();
    let ts = msg.timestamp.trim().parse::<i64>().unwrap_or(now);
    let content = inbound_content(msg);
    let row = MessageRow {
        id: new_id(),
        provider_id: Some(msg.id.clone()),
        phone: phone.clone(),
        direction: "inbound".into(),
        channel: "whatsapp".into(),
        content: content.clone(),
        status: "unjudged".into(),
        created_at: now,
        sent_at: Some(rules::rfc3339(ts)),
        provider_ts: Some(ts),
        reply_to: msg.context.as_ref().map(|c| c.id.clone()),
        next_attempt_at: i64::MAX,
        ..MessageRow::default()
    };
    if !app.db.insert_message(&row)? {
        tracing::info!(wamid = %msg.id, "duplicate webhook delivery ignored");
        return Ok(());
    }
    let before = app.db.contact(&phone)?;
    app.db.saw_inbound_whatsapp(&phone, name, ts)?;
    let at = rules::rfc3339(ts);
    let accept = &app.cfg.opt_in_accept_payload;
    let keyword = content.text.as_deref().and_then(rules::keyword);
    if content.interactive.as_ref().is_some_and(|i| &i.id == accept) {
        let evidence = json!({
            "wamid": msg.id, "type": msg.kind, "payload": accept,
            "button_text": content.interactive.as_ref().map(|i| i.title.clone()),
            "in_reply_to": msg.context.as_ref().map(|c| c.id.clone()),
            "opt_in_template": app.cfg.opt_in_template,
            "opt_in_template_wamid": before.opt_in_wamid,
        });
        app.db.set_opt_in(&phone, true, &at, &evidence)?;
    } else if let Some(k) = keyword {
        let evidence = json!({"wamid": msg.id, "keyword": k.as_str()});
        match k {
            Keyword::Stop => app.db.set_opt_in(&phone, false, &at, &evidence)?,
            Keyword::Start => app.db.set_opt_in(&phone, true, &at, &evidence)?,
            Keyword::Help => app.db.consent_event(&phone, "help", "whatsapp", &at, &evidence)?,
        }
    } else if app.cfg.opt_in_on_reply && !before.opted_in && before.opt_in_wamid.is_some() {
        let evidence = json!({"wamid": msg.id, "reply_after_template": before.opt_in_wamid});
        app.db.set_opt_in(&phone, true, &at, &evidence)?;
    }
    judge_inbound(app, row).await.map(|_| ())
}

/// Stores, records keywords of, and judges one inbound SMS (Twilio form fields).
pub async fn inbound_sms(app: &Shared, params: &[(String, String)]) -> anyhow::Result<()> {
    let get = |k: &str| params.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone()).unwrap_or_default();
    let sid = get("MessageSid");
    let Some(phone) = rules::normalize_phone(&get("From")) else {
        return Ok(());
    };
    let body = get("Body");
    let now = rules::now_secs();
    let row = MessageRow {
        id: new_id(),
        provider_id: Some(sid.clone()).filter(|s| !s.is_empty()),
        phone: phone.clone(),
        direction: "inbound".into(),
        channel: "sms".into(),
        content: Content::text(body.clone()),
        status: "unjudged".into(),
        created_at: now,
        sent_at: Some(rules::rfc3339(now)),
        next_attempt_at: i64::MAX,
        ..MessageRow::default()
    };
    if !app.db.insert_message(&row)? {
        return Ok(());
    }
    if let Some(k) = rules::keyword(&body) {
        let at = rules::rfc3339(now);
        let evidence = json!({"message_sid": sid, "keyword": k.as_str()});
        match k {
            Keyword::Stop => app.db.set_sms_opt_out(&phone, true, "sms_opt_out", &at, &evidence)?,
            Keyword::Start => app.db.set_sms_opt_out(&phone, false, "sms_opt_in", &at, &evidence)?,
            Keyword::Help => app.db.consent_event(&phone, "help", "sms", &at, &evidence)?,
        }
    }
    judge_inbound(app, row).await.map(|_| ())
}

/// Judges an inbound message before any agent sees it; without a verdict it stays stored,
/// unjudged and hidden, for the worker to retry.
pub async fn judge_inbound(app: &Shared, mut m: MessageRow) -> anyhow::Result<MessageRow> {
    let now = rules::now_secs();
    let contact = app.db.contact(&m.phone)?;
    let mut attrs = attributes(&contact, now);
    if let Some(k) = m.content.text.as_deref().and_then(rules::keyword) {
        attrs.insert("keyword".into(), k.as_str().into());
    }
    let subject = Subject {
        id: &m.id,
        phone: &m.phone,
        channel: &m.channel,
        direction: "inbound",
        agent: "",
        attributes: attrs,
        sent_at: m.sent_at.clone().unwrap_or_default(),
    };
    m.attempts += 1;
    match app.judge.judge(&subject, &m.content).await {
        Err(e) => {
            tracing::warn!(id = %m.id, error = %e, "inbound stored unjudged");
            m.last_error = Some(e);
            m.next_attempt_at = now_ms() + app.cfg.worker_interval.as_millis() as i64;
            app.db.update_message(&m)?;
        }
        Ok(j) => {
            m.judged = true;
            m.status = "received".into();
            m.action = Some(j.action.into());
            m.rules = j.rules;
            m.decision_id = Some(j.decision_id);
            m.notice = j.notice;
            m.last_error = None;
            m.shown = (j.action != "block").then_some(j.delivered);
            app.db.update_message(&m)?;
            app.db.archive(&m, &j.record, app.cfg.crm_url.is_some(), now)?;
        }
    }
    Ok(m)
}

fn status_rank(s: &str) -> i32 {
    match s {
        "sent" => 1,
        "delivered" => 2,
        "read" | "played" => 3,
        "failed" => 4,
        _ => 0,
    }
}

/// Applies a delivery status (idempotent on message id + status).
pub async fn status_update(app: &Shared, st: &StatusUpdate) -> anyhow::Result<()> {
    if app.db.status_seen(&st.id, &st.status, &st.timestamp)? {
        return Ok(());
    }
    let Some(mut m) = app.db.message_by_provider(&st.id)? else {
        tracing::info!(status = %st.status, "status for an unknown message");
        return Ok(());
    };
    // Statuses may arrive out of order; `read` may come without `delivered`.
    let terminal = m.status == "failed" || m.status == "read";
    if terminal || status_rank(&st.status) <= status_rank(&m.status) {
        return Ok(());
    }
    m.status = st.status.clone();
    app.db.archive_status(&m.id, &m.status)?;
    if st.status == "failed" {
        let err = st.errors.first().map(|e| SendError::from_code(e.code, &e.title));
        m.last_error = err.as_ref().map(SendError::describe);
        match err {
            Some(SendError::Undeliverable) => {
                app.db.set_whatsapp(&m.phone, "no")?;
                if app.cfg.sms_fallback == SmsFallback::Auto && m.content.template.is_none() {
                    m.hint = Some("sms_fallback_sent".into());
                    m.notice = Some("This number has no WhatsApp: sent by SMS instead.".into());
                    app.db.update_message(&m)?;
                    fallback_sms(app, &m).await?;
                    return Ok(());
                } else if app.cfg.sms_fallback == SmsFallback::Offer {
                    m.hint = Some("sms_fallback_offered".into());
                    m.notice = Some("This number has no WhatsApp. Send it by SMS instead?".into());
                }
            }
            Some(SendError::WindowClosed) => {
                m.hint = Some("template_required".into());
                m.notice =
                    Some("WhatsApp says the 24-hour window is closed: pick an approved template.".into());
            }
            _ => {}
        }
    }
    app.db.update_message(&m)?;
    Ok(())
}

/// Opt-in template content.
pub fn opt_in_content(cfg: &Config) -> Content {
    Content {
        template: Some(TemplateSend {
            name: cfg.opt_in_template.clone(),
            language: cfg.opt_in_language.clone(),
            parameters: Vec::new(),
        }),
        ..Content::default()
    }
}

/// One pass of the background work: held outbound, unjudged inbound, CRM outbox.
pub async fn work_once(app: &Shared) -> anyhow::Result<()> {
    let now = now_ms();
    for id in app.db.due_held(now)? {
        if let Some(m) = app.db.message(&id)? {
            process_outbound(app, m).await?;
        }
    }
    for id in app.db.unjudged_inbound(now)? {
        if let Some(m) = app.db.message(&id)? {
            judge_inbound(app, m).await?;
        }
    }
    if let Some(url) = &app.cfg.crm_url {
        for (seq, payload, attempts) in app.db.crm_due(now)? {
            let res = app
                .http
                .post(url)
                .header("content-type", "application/json")
                .body(payload)
                .timeout(Duration::from_secs(5))
                .send()
                .await;
            match res {
                Ok(r) if r.status().is_success() => app.db.crm_delivered(seq, rules::now_secs())?,
                other => {
                    let why = match other {
                        Ok(r) => format!("HTTP {}", r.status()),
                        Err(e) => e.without_url().to_string(),
                    };
                    let backoff = (app.cfg.worker_interval.as_millis() as i64)
                        .saturating_mul(1 << attempts.clamp(0, 16))
                        .min(300_000);
                    app.db.crm_failed(seq, now + backoff, &why)?;
                }
            }
        }
    }
    Ok(())
}

/// Runs [`work_once`] forever at the configured interval.
pub async fn worker(app: Shared) {
    let mut tick = tokio::time::interval(app.cfg.worker_interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        if let Err(e) = work_once(&app).await {
            tracing::error!(error = %e, "background pass failed");
        }
    }
}
