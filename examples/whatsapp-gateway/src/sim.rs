//! A simulator of the Graph API (sends, signed webhooks, statuses, errors, rate limits) and
//! of Twilio's Messages API, plus a CRM sink: the test double of every outside party.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine as _;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::rules::{self, WINDOW_SECS};
use crate::wire;

/// Fixed settings of the simulator.
#[derive(Debug, Clone)]
pub struct SimConfig {
    /// App secret used to sign webhooks.
    pub app_secret: String,
    /// Bearer token the Graph API accepts.
    pub token: String,
    /// Phone number id in webhook metadata.
    pub phone_number_id: String,
    /// Business display number.
    pub display_number: String,
    /// Twilio account SID.
    pub twilio_sid: String,
    /// Twilio auth token.
    pub twilio_token: String,
    /// Twilio number of the business.
    pub twilio_number: String,
}

impl SimConfig {
    /// Reads the same variables the gateway reads, so both agree.
    pub fn from_env() -> Self {
        let env =
            |k: &str, d: &str| std::env::var(k).ok().filter(|v| !v.is_empty()).unwrap_or_else(|| d.into());
        SimConfig {
            app_secret: env("WHATSAPP_APP_SECRET", "sim-app-secret"),
            token: env("WHATSAPP_TOKEN", "sim-token"),
            phone_number_id: env("WHATSAPP_PHONE_NUMBER_ID", "106540352242922"),
            display_number: env("SIM_DISPLAY_NUMBER", "15550783881"),
            twilio_sid: env("TWILIO_ACCOUNT_SID", "ACsimulator0000000000000000000000"),
            twilio_token: env("TWILIO_AUTH_TOKEN", "sim-twilio-token"),
            twilio_number: env("TWILIO_FROM", "+15005550006"),
        }
    }
}

#[derive(Default)]
struct Inner {
    gateway_url: Option<String>,
    sent: Vec<Value>,
    no_whatsapp: HashSet<String>,
    sms_unsubscribed: HashSet<String>,
    rate_limits: VecDeque<i64>,
    async_errors: bool,
    auto_status: bool,
    last_inbound: HashMap<String, i64>,
    last_template: HashMap<String, String>,
    crm: Vec<Value>,
    crm_down: bool,
    seq: u64,
}

/// Simulator state.
#[derive(Clone)]
pub struct Sim {
    cfg: Arc<SimConfig>,
    inner: Arc<Mutex<Inner>>,
    http: reqwest::Client,
}

fn digits(s: &str) -> String {
    s.chars().filter(char::is_ascii_digit).collect()
}

impl Sim {
    /// A simulator with nothing recorded; statuses are emitted automatically.
    pub fn new(cfg: SimConfig) -> Self {
        let inner = Inner { auto_status: true, ..Inner::default() };
        Sim { cfg: Arc::new(cfg), inner: Arc::new(Mutex::new(inner)), http: reqwest::Client::new() }
    }

    /// Where webhooks go (the gateway's base URL).
    pub fn set_gateway_url(&self, url: String) {
        self.s().gateway_url = Some(url);
    }

    fn s(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn next_id(&self, prefix: &str) -> String {
        let mut s = self.s();
        s.seq += 1;
        let r = uuid::Uuid::new_v4().simple().to_string();
        match prefix {
            "SM" => format!("SM{}", &r[..32]),
            _ => format!("wamid.SIM{:06}{}", s.seq, &r[..16]),
        }
    }

    /// Posts a signed webhook body to the gateway; returns its HTTP status.
    async fn post_whatsapp(&self, body: &Value, signature: &str) -> Result<u16, String> {
        let url = self.s().gateway_url.clone().ok_or("gateway_url not configured")?;
        let raw = serde_json::to_vec(body).map_err(|e| e.to_string())?;
        let mut req = self
            .http
            .post(format!("{}/webhooks/whatsapp", url.trim_end_matches('/')))
            .header("content-type", "application/json");
        match signature {
            "none" => {}
            "bad" => req = req.header("x-hub-signature-256", wire::hub_signature("not-the-app-secret", &raw)),
            _ => req = req.header("x-hub-signature-256", wire::hub_signature(&self.cfg.app_secret, &raw)),
        }
        let resp = req.body(raw).send().await.map_err(|e| e.without_url().to_string())?;
        Ok(resp.status().as_u16())
    }

    fn envelope(&self, value: Value) -> Value {
        json!({
            "object": "whatsapp_business_account",
            "entry": [{"id": "102290129340398", "changes": [{"value": value, "field": "messages"}]}]
        })
    }

    fn status_body(&self, id: &str, status: &str, to: &str, error: Option<(i64, &str)>) -> Value {
        let mut st = json!({
            "id": id, "status": status, "timestamp": rules::now_secs().to_string(), "recipient_id": to,
        });
        if status == "sent" {
            st["pricing"] =
                json!({"billable": true, "pricing_model": "PMP", "type": "regular", "category": "service"});
        }
        if let Some((code, title)) = error {
            st["errors"] = json!([{
                "code": code, "title": title, "message": title,
                "error_data": {"details": title},
                "href": "/documentation/business-messaging/whatsapp/support/error-codes"
            }]);
        }
        self.envelope(json!({
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": self.cfg.display_number, "phone_number_id": self.cfg.phone_number_id},
            "statuses": [st]
        }))
    }

    /// Emits status webhooks for a send in the background, in order.
    fn emit_statuses(
        &self,
        id: String,
        to: String,
        statuses: Vec<(&'static str, Option<(i64, &'static str)>)>,
    ) {
        let sim = self.clone();
        tokio::spawn(async move {
            for (status, err) in statuses {
                tokio::time::sleep(Duration::from_millis(30)).await;
                let body = sim.status_body(&id, status, &to, err);
                if let Err(e) = sim.post_whatsapp(&body, "valid").await {
                    tracing::warn!(error = %e, "status webhook not delivered");
                }
            }
        });
    }
}

fn graph_error(status: StatusCode, code: i64, title: &str, details: &str) -> Response {
    (
        status,
        Json(json!({"error": {
            "message": format!("(#{code}) {title}"), "type": "OAuthException", "code": code,
            "error_data": {"messaging_product": "whatsapp", "details": details},
            "fbtrace_id": "AsimulatorTrace"
        }})),
    )
        .into_response()
}

const UNDELIVERABLE: &str = "Message undeliverable";
const REENGAGEMENT: &str = "Re-engagement message";

/// `POST /{version}/{phone-number-id}/messages`.
async fn graph_send(
    State(sim): State<Sim>,
    Path((version, pnid)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let auth = headers.get("authorization").and_then(|v| v.to_str().ok()).unwrap_or("");
    if auth != format!("Bearer {}", sim.cfg.token) {
        return graph_error(
            StatusCode::UNAUTHORIZED,
            190,
            "Invalid OAuth access token",
            "Invalid OAuth access token.",
        );
    }
    if !version.starts_with('v') || pnid != sim.cfg.phone_number_id {
        return graph_error(
            StatusCode::BAD_REQUEST,
            100,
            "Invalid parameter",
            "Unknown phone number id or version.",
        );
    }
    let Ok(req) = serde_json::from_slice::<Value>(&body) else {
        return graph_error(StatusCode::BAD_REQUEST, 100, "Invalid parameter", "Body is not JSON.");
    };
    let to = req.get("to").and_then(Value::as_str).unwrap_or("").to_owned();
    let kind = req.get("type").and_then(Value::as_str).unwrap_or("").to_owned();
    if req.get("messaging_product").and_then(Value::as_str) != Some("whatsapp") || to.is_empty() {
        return graph_error(
            StatusCode::BAD_REQUEST,
            131008,
            "Required parameter is missing",
            "messaging_product and to are required.",
        );
    }
    if kind == "text"
        && req.pointer("/text/body").and_then(Value::as_str).map_or(0, |b| b.chars().count()) > 4096
    {
        return graph_error(
            StatusCode::BAD_REQUEST,
            100,
            "Invalid parameter",
            "text.body is longer than 4096 characters.",
        );
    }
    let d = digits(&to);
    let (limited, no_wa, window_open, async_errors, auto) = {
        let mut s = sim.s();
        let limited = s.rate_limits.pop_front();
        let open = s.last_inbound.get(&d).is_some_and(|ts| rules::now_secs() < ts + WINDOW_SECS);
        (limited, s.no_whatsapp.contains(&d), open, s.async_errors, s.auto_status)
    };
    if let Some(code) = limited {
        let title = if code == 131056 {
            "(Business Account, Consumer Account) pair rate limit hit"
        } else {
            "Rate limit hit"
        };
        return graph_error(
            StatusCode::TOO_MANY_REQUESTS,
            code,
            title,
            "Cloud API message throughput has been reached.",
        );
    }
    let failure = if no_wa {
        Some((
            131026,
            UNDELIVERABLE,
            "Unable to deliver message. Reasons can include: The recipient phone number is not a WhatsApp phone number.",
        ))
    } else if kind != "template" && !window_open {
        Some((
            131047,
            REENGAGEMENT,
            "More than 24 hours have passed since the recipient last replied to the sender number.",
        ))
    } else {
        None
    };
    if let Some((code, title, details)) = failure
        && !async_errors
    {
        return graph_error(StatusCode::BAD_REQUEST, code, title, details);
    }
    let id = sim.next_id("wamid");
    {
        let mut s = sim.s();
        if kind == "template" {
            s.last_template.insert(d.clone(), id.clone());
        }
        s.sent.push(json!({"channel": "whatsapp", "id": id, "to": to, "type": kind, "body": req, "at": rules::now_secs()}));
    }
    match failure {
        Some((code, title, _)) => {
            sim.emit_statuses(id.clone(), d.clone(), vec![("failed", Some((code, title)))])
        }
        None if auto => sim.emit_statuses(id.clone(), d.clone(), vec![("sent", None), ("delivered", None)]),
        None => {}
    }
    Json(json!({
        "messaging_product": "whatsapp",
        "contacts": [{"input": to, "wa_id": d}],
        "messages": [{"id": id}]
    }))
    .into_response()
}

/// `POST /2010-04-01/Accounts/{sid}/Messages.json`.
async fn twilio_send(
    State(sim): State<Sim>,
    Path(sid): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let expected = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD
            .encode(format!("{}:{}", sim.cfg.twilio_sid, sim.cfg.twilio_token))
    );
    let auth = headers.get("authorization").and_then(|v| v.to_str().ok()).unwrap_or("");
    if auth != expected || sid != sim.cfg.twilio_sid {
        return (
            StatusCode::UNAUTHORIZED,
            Json(json!({"code": 20003, "message": "Authenticate", "status": 401})),
        )
            .into_response();
    }
    let Ok(params) = serde_urlencoded::from_bytes::<HashMap<String, String>>(&body) else {
        return (StatusCode::BAD_REQUEST, Json(json!({"code": 21601, "message": "bad form", "status": 400})))
            .into_response();
    };
    let to = params.get("To").cloned().unwrap_or_default();
    let text = params.get("Body").cloned().unwrap_or_default();
    if to.is_empty() || text.is_empty() || text.chars().count() > 1600 {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({"code": 21602, "message": "Message body is required and at most 1600 characters", "status": 400})),
        )
            .into_response();
    }
    if sim.s().sms_unsubscribed.contains(&digits(&to)) {
        return (
            StatusCode::BAD_REQUEST,
            Json(
                json!({"code": 21610, "message": "Attempt to send to unsubscribed recipient", "status": 400}),
            ),
        )
            .into_response();
    }
    let msid = sim.next_id("SM");
    sim.s().sent.push(json!({"channel": "sms", "id": msid, "to": to, "body": text, "from": params.get("From"), "at": rules::now_secs()}));
    (
        StatusCode::CREATED,
        Json(json!({
            "sid": msid, "account_sid": sim.cfg.twilio_sid, "to": to, "from": params.get("From"),
            "body": text, "status": "queued", "direction": "outbound-api", "num_segments": "1",
            "uri": format!("/2010-04-01/Accounts/{}/Messages/{msid}.json", sim.cfg.twilio_sid)
        })),
    )
        .into_response()
}

/// Settings changed at run time by tests and the demo.
#[derive(Deserialize, Default)]
struct Control {
    gateway_url: Option<String>,
    #[serde(default)]
    no_whatsapp: Vec<String>,
    #[serde(default)]
    rate_limits: Vec<i64>,
    async_errors: Option<bool>,
    auto_status: Option<bool>,
    crm_down: Option<bool>,
}

async fn control(State(sim): State<Sim>, Json(c): Json<Control>) -> Json<Value> {
    let mut s = sim.s();
    if let Some(u) = c.gateway_url {
        s.gateway_url = Some(u);
    }
    for n in c.no_whatsapp {
        s.no_whatsapp.insert(digits(&n));
    }
    s.rate_limits.extend(c.rate_limits);
    if let Some(v) = c.async_errors {
        s.async_errors = v;
    }
    if let Some(v) = c.auto_status {
        s.auto_status = v;
    }
    if let Some(v) = c.crm_down {
        s.crm_down = v;
    }
    Json(json!({"ok": true}))
}

/// A contact's message for `/_sim/inbound`.
#[derive(Deserialize, Default)]
struct Inbound {
    from: String,
    #[serde(default)]
    name: String,
    #[serde(default = "default_type", rename = "type")]
    kind: String,
    #[serde(default)]
    text: String,
    #[serde(default)]
    payload: String,
    #[serde(default)]
    caption: String,
    #[serde(default)]
    filename: String,
    /// Unix seconds; now by default. Older values simulate an old conversation.
    timestamp: Option<i64>,
    /// Reuse a wamid (a redelivery).
    id: Option<String>,
    context_id: Option<String>,
    /// `valid` (default), `bad` or `none`.
    #[serde(default)]
    signature: String,
    /// How many times to deliver the same webhook.
    repeat: Option<u32>,
}

fn default_type() -> String {
    "text".into()
}

async fn inbound(State(sim): State<Sim>, Json(m): Json<Inbound>) -> Response {
    let d = digits(&m.from);
    let ts = m.timestamp.unwrap_or_else(rules::now_secs);
    let id = m.id.clone().unwrap_or_else(|| sim.next_id("wamid"));
    let mut msg = json!({"from": d, "id": id, "timestamp": ts.to_string(), "type": m.kind});
    let ctx = m.context_id.clone().or_else(|| sim.s().last_template.get(&d).cloned());
    match m.kind.as_str() {
        "button" => {
            msg["button"] = json!({"payload": m.payload, "text": m.text});
            if let Some(c) = ctx {
                msg["context"] = json!({"from": sim.cfg.display_number, "id": c});
            }
        }
        "interactive" => {
            msg["interactive"] =
                json!({"type": "button_reply", "button_reply": {"id": m.payload, "title": m.text}});
            if let Some(c) = ctx {
                msg["context"] = json!({"from": sim.cfg.display_number, "id": c});
            }
        }
        "image" => {
            msg["image"] = json!({"caption": m.caption, "mime_type": "image/jpeg",
                "sha256": "SfInY0gGKTsJlUWbwxC1k+FAD0FZHvzwfpvO0zX0GUI=", "id": "1003383421387256"});
        }
        "document" => {
            msg["document"] = json!({"caption": m.caption, "filename": m.filename, "mime_type": "application/pdf",
                "sha256": "grwfwe/ZPx0wAbdfbdeFUNItPZ0RylL8gGUvdt3YFqc18SY=", "id": "1234567890987654321"});
        }
        _ => msg["text"] = json!({"body": m.text}),
    }
    let body = sim.envelope(json!({
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": sim.cfg.display_number, "phone_number_id": sim.cfg.phone_number_id},
        "contacts": [{"profile": {"name": m.name}, "wa_id": d}],
        "messages": [msg]
    }));
    {
        let mut s = sim.s();
        let last = s.last_inbound.entry(d).or_insert(ts);
        *last = (*last).max(ts);
    }
    let mut statuses = Vec::new();
    for _ in 0..m.repeat.unwrap_or(1).clamp(1, 10) {
        match sim.post_whatsapp(&body, &m.signature).await {
            Ok(s) => statuses.push(s),
            Err(e) => return (StatusCode::BAD_GATEWAY, Json(json!({"error": e}))).into_response(),
        }
    }
    Json(json!({"id": id, "statuses": statuses})).into_response()
}

/// A contact's SMS for `/_sim/sms`.
#[derive(Deserialize)]
struct SmsIn {
    from: String,
    body: String,
    #[serde(default)]
    signature: String,
}

async fn sms_inbound(State(sim): State<Sim>, Json(m): Json<SmsIn>) -> Response {
    let Some(url) = sim.s().gateway_url.clone() else {
        return (StatusCode::BAD_GATEWAY, Json(json!({"error": "gateway_url not configured"})))
            .into_response();
    };
    let url = format!("{}/webhooks/sms", url.trim_end_matches('/'));
    let sid = sim.next_id("SM");
    let params: Vec<(String, String)> = [
        ("MessageSid", sid.as_str()),
        ("SmsSid", sid.as_str()),
        ("AccountSid", sim.cfg.twilio_sid.as_str()),
        ("From", m.from.as_str()),
        ("To", sim.cfg.twilio_number.as_str()),
        ("Body", m.body.as_str()),
        ("NumMedia", "0"),
        ("NumSegments", "1"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    if let Some(k) = rules::keyword(&m.body) {
        let mut s = sim.s();
        match k {
            rules::Keyword::Stop => {
                s.sms_unsubscribed.insert(digits(&m.from));
            }
            rules::Keyword::Start => {
                s.sms_unsubscribed.remove(&digits(&m.from));
            }
            rules::Keyword::Help => {}
        }
    }
    let key = if m.signature == "bad" { "not-the-token" } else { sim.cfg.twilio_token.as_str() };
    let mut req = sim.http.post(&url).form(&params);
    if m.signature != "none" {
        req = req.header("x-twilio-signature", wire::twilio_signature(key, &url, &params));
    }
    match req.send().await {
        Ok(r) => Json(json!({"sid": sid, "status": r.status().as_u16()})).into_response(),
        Err(e) => {
            (StatusCode::BAD_GATEWAY, Json(json!({"error": e.without_url().to_string()}))).into_response()
        }
    }
}

/// A status webhook for `/_sim/status`.
#[derive(Deserialize)]
struct StatusIn {
    id: String,
    status: String,
    #[serde(default)]
    to: String,
    code: Option<i64>,
    #[serde(default)]
    repeat: Option<u32>,
}

async fn status(State(sim): State<Sim>, Json(s): Json<StatusIn>) -> Response {
    let err = s.code.map(|c| (c, if c == 131026 { UNDELIVERABLE } else { "Simulated failure" }));
    let body = sim.status_body(&s.id, &s.status, &digits(&s.to), err);
    let mut statuses = Vec::new();
    for _ in 0..s.repeat.unwrap_or(1).clamp(1, 10) {
        match sim.post_whatsapp(&body, "valid").await {
            Ok(code) => statuses.push(code),
            Err(e) => return (StatusCode::BAD_GATEWAY, Json(json!({"error": e}))).into_response(),
        }
    }
    Json(json!({"statuses": statuses})).into_response()
}

async fn sent(State(sim): State<Sim>) -> Json<Value> {
    Json(Value::Array(sim.s().sent.clone()))
}

async fn crm_post(State(sim): State<Sim>, body: Bytes) -> Response {
    let mut s = sim.s();
    if s.crm_down {
        return (StatusCode::SERVICE_UNAVAILABLE, "CRM down").into_response();
    }
    match serde_json::from_slice::<Value>(&body) {
        Ok(v) => {
            s.crm.push(v);
            StatusCode::NO_CONTENT.into_response()
        }
        Err(_) => StatusCode::BAD_REQUEST.into_response(),
    }
}

async fn crm_list(State(sim): State<Sim>) -> Json<Value> {
    Json(Value::Array(sim.s().crm.clone()))
}

/// The simulator's router.
pub fn router(sim: Sim) -> Router {
    Router::new()
        .route("/{version}/{pnid}/messages", post(graph_send))
        .route("/2010-04-01/Accounts/{sid}/Messages.json", post(twilio_send))
        .route("/_sim/config", post(control))
        .route("/_sim/inbound", post(inbound))
        .route("/_sim/sms", post(sms_inbound))
        .route("/_sim/status", post(status))
        .route("/_sim/sent", get(sent))
        .route("/crm", post(crm_post))
        .route("/_sim/crm", get(crm_list))
        .with_state(sim)
}
