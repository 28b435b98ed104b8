//! Gateway configuration from the environment (docs/11-gateway.md).

use std::time::Duration;

/// What happens when WhatsApp says a contact cannot receive messages (131026).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmsFallback {
    /// Re-judge as SMS and send through Twilio at once.
    Auto,
    /// Tell the agent; they may resend with `channel: sms`.
    Offer,
    /// Never fall back.
    Off,
}

/// An approved template the agent may pick.
#[derive(Debug, Clone, serde::Serialize)]
pub struct TemplateInfo {
    /// Template name.
    pub name: String,
    /// Language code.
    pub language: String,
    /// Number of body parameters.
    pub parameters: usize,
}

/// Every setting of the gateway.
#[derive(Debug, Clone)]
pub struct Config {
    /// Address to listen on.
    pub listen: String,
    /// Public base URL Twilio calls (for signature checks); default `http://{listen}`.
    pub public_url: Option<String>,
    /// Linewall gRPC endpoint.
    pub linewall_addr: String,
    /// Graph API base URL.
    pub wa_base: String,
    /// Graph API version, e.g. `v25.0`.
    pub wa_version: String,
    /// Business phone number id.
    pub wa_phone_number_id: String,
    /// Bearer token.
    pub wa_token: String,
    /// App secret for `X-Hub-Signature-256`.
    pub wa_app_secret: String,
    /// Verify token of the webhook handshake.
    pub wa_verify_token: String,
    /// Opt-in template name.
    pub opt_in_template: String,
    /// Opt-in template language.
    pub opt_in_language: String,
    /// Quick-reply payload of the opt-in template's accept button.
    pub opt_in_accept_payload: String,
    /// Whether any inbound message after the opt-in template counts as consent.
    pub opt_in_on_reply: bool,
    /// Approved templates offered in the composer.
    pub templates: Vec<TemplateInfo>,
    /// Twilio API base URL.
    pub twilio_base: String,
    /// Twilio account SID.
    pub twilio_sid: String,
    /// Twilio auth token.
    pub twilio_token: String,
    /// Twilio sender number.
    pub twilio_from: String,
    /// SQLite path.
    pub db_path: String,
    /// CRM webhook, if any.
    pub crm_url: Option<String>,
    /// SMS fallback mode.
    pub sms_fallback: SmsFallback,
    /// Linewall call deadline.
    pub linewall_timeout: Duration,
    /// First back-off after a rate-limit answer (then ×4).
    pub retry_base: Duration,
    /// Rate-limit retries before a send is queued.
    pub send_retries: u32,
    /// How often the background worker runs.
    pub worker_interval: Duration,
    /// Tenant passed to Linewall.
    pub tenant: String,
}

fn env(name: &str, default: &str) -> String {
    std::env::var(name).ok().filter(|v| !v.is_empty()).unwrap_or_else(|| default.to_owned())
}

fn env_ms(name: &str, default: u64) -> Duration {
    Duration::from_millis(std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default))
}

/// Parses `name:language:parameters,…`.
fn parse_templates(spec: &str) -> Vec<TemplateInfo> {
    spec.split(',')
        .filter_map(|t| {
            let mut it = t.trim().split(':');
            let name = it.next()?.trim();
            if name.is_empty() {
                return None;
            }
            Some(TemplateInfo {
                name: name.to_owned(),
                language: it.next().unwrap_or("en").trim().to_owned(),
                parameters: it.next().and_then(|n| n.trim().parse().ok()).unwrap_or(0),
            })
        })
        .collect()
}

impl Config {
    /// Reads the configuration from the environment.
    pub fn from_env() -> anyhow::Result<Self> {
        let sms_fallback = match env("SMS_FALLBACK", "offer").as_str() {
            "auto" => SmsFallback::Auto,
            "offer" => SmsFallback::Offer,
            "off" => SmsFallback::Off,
            other => anyhow::bail!("SMS_FALLBACK must be auto, offer or off, not {other:?}"),
        };
        let opt_in_template = env("WHATSAPP_OPT_IN_TEMPLATE", "opt_in");
        Ok(Config {
            listen: env("GATEWAY_LISTEN", "127.0.0.1:8080"),
            public_url: std::env::var("GATEWAY_PUBLIC_URL").ok().filter(|v| !v.is_empty()),
            linewall_addr: env("LINEWALL_ADDR", "http://127.0.0.1:50051"),
            wa_base: env("WHATSAPP_API_BASE", "https://graph.facebook.com"),
            wa_version: env("WHATSAPP_API_VERSION", "v25.0"),
            wa_phone_number_id: env("WHATSAPP_PHONE_NUMBER_ID", ""),
            wa_token: env("WHATSAPP_TOKEN", ""),
            wa_app_secret: env("WHATSAPP_APP_SECRET", ""),
            wa_verify_token: env("WHATSAPP_VERIFY_TOKEN", ""),
            opt_in_language: env("WHATSAPP_OPT_IN_LANGUAGE", "en"),
            opt_in_accept_payload: env("WHATSAPP_OPT_IN_ACCEPT_PAYLOAD", "OPT_IN_ACCEPT"),
            opt_in_on_reply: env("OPT_IN_ON_REPLY", "false") == "true",
            templates: parse_templates(&env(
                "WHATSAPP_TEMPLATES",
                &format!("{opt_in_template}:en:0,appointment_reminder:en:1,account_update:en:0"),
            )),
            opt_in_template,
            twilio_base: env("TWILIO_API_BASE", "https://api.twilio.com"),
            twilio_sid: env("TWILIO_ACCOUNT_SID", ""),
            twilio_token: env("TWILIO_AUTH_TOKEN", ""),
            twilio_from: env("TWILIO_FROM", ""),
            db_path: env("GATEWAY_DB", "whatsapp-gateway.db"),
            crm_url: std::env::var("CRM_WEBHOOK_URL").ok().filter(|v| !v.is_empty()),
            sms_fallback,
            linewall_timeout: env_ms("LINEWALL_TIMEOUT_MS", 2000),
            retry_base: env_ms("SEND_RETRY_BASE_MS", 1000),
            send_retries: std::env::var("SEND_RETRIES").ok().and_then(|v| v.parse().ok()).unwrap_or(3),
            worker_interval: env_ms("WORKER_INTERVAL_MS", 1000),
            tenant: env("LINEWALL_TENANT", ""),
        })
    }
}
