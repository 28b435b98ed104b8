//! Wire formats: WhatsApp Cloud API webhooks and sends, Twilio form posts, and both
//! signature schemes (docs/notes/whatsapp-cloud-api.md §1.2, §7).

use base64::Engine as _;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha1::Sha1;
use sha2::Sha256;

/// `X-Hub-Signature-256` value (`sha256=<lowercase hex>`) of a raw webhook body.
pub fn hub_signature(app_secret: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(app_secret.as_bytes()).expect("HMAC takes any key length");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// Whether `header` is the valid `X-Hub-Signature-256` of the raw `body` (constant time).
pub fn verify_hub_signature(app_secret: &str, body: &[u8], header: Option<&str>) -> bool {
    let Some(hex_sig) = header.and_then(|h| h.trim().strip_prefix("sha256=")) else {
        return false;
    };
    let Ok(sig) = hex::decode(hex_sig) else {
        return false;
    };
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(app_secret.as_bytes()) else {
        return false;
    };
    mac.update(body);
    mac.verify_slice(&sig).is_ok()
}

/// The string Twilio signs: the full URL, then every POST parameter as name + value,
/// sorted by name.
fn twilio_payload(url: &str, params: &[(String, String)]) -> String {
    let mut sorted: Vec<&(String, String)> = params.iter().collect();
    sorted.sort();
    let mut s = url.to_owned();
    for (k, v) in sorted {
        s.push_str(k);
        s.push_str(v);
    }
    s
}

/// `X-Twilio-Signature` value: base64 HMAC-SHA1 of the URL and sorted parameters.
pub fn twilio_signature(auth_token: &str, url: &str, params: &[(String, String)]) -> String {
    let mut mac = Hmac::<Sha1>::new_from_slice(auth_token.as_bytes()).expect("HMAC takes any key length");
    mac.update(twilio_payload(url, params).as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// Whether `header` is the valid `X-Twilio-Signature` for this request (constant time).
pub fn verify_twilio_signature(
    auth_token: &str,
    url: &str,
    params: &[(String, String)],
    header: Option<&str>,
) -> bool {
    let Some(sig) = header.and_then(|h| base64::engine::general_purpose::STANDARD.decode(h.trim()).ok())
    else {
        return false;
    };
    let Ok(mut mac) = Hmac::<Sha1>::new_from_slice(auth_token.as_bytes()) else {
        return false;
    };
    mac.update(twilio_payload(url, params).as_bytes());
    mac.verify_slice(&sig).is_ok()
}

/// A `whatsapp_business_account` webhook notification.
#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct Envelope {
    /// Always `whatsapp_business_account`.
    pub object: String,
    /// One entry per business account.
    pub entry: Vec<Entry>,
}

/// One business account's changes.
#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct Entry {
    /// WABA id.
    pub id: String,
    /// The changes.
    pub changes: Vec<Change>,
}

/// One change; `field` is `messages` for messages and statuses.
#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct Change {
    /// Subscribed field.
    pub field: String,
    /// Its value.
    pub value: ChangeValue,
}

/// The value of a `messages` change.
#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct ChangeValue {
    /// `whatsapp`.
    pub messaging_product: String,
    /// Contact profiles of the senders.
    pub contacts: Vec<WaContact>,
    /// Inbound user messages.
    pub messages: Vec<InMessage>,
    /// Delivery receipts of outbound messages.
    pub statuses: Vec<StatusUpdate>,
    /// System-level errors.
    pub errors: Vec<ApiError>,
}

/// A sender's profile.
#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct WaContact {
    /// WhatsApp id (digits, no `+`).
    pub wa_id: String,
    /// Profile.
    pub profile: Profile,
}

/// A profile name.
#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct Profile {
    /// Display name.
    pub name: String,
}

/// An inbound user message.
#[derive(Debug, Default, Deserialize, Serialize, Clone)]
#[serde(default)]
pub struct InMessage {
    /// Sender (`16505551234` or `+16505551234`).
    pub from: String,
    /// `wamid.…`
    pub id: String,
    /// Unix seconds, as a string.
    pub timestamp: String,
    /// `text`, `interactive`, `button`, `image`, `document`, …
    #[serde(rename = "type")]
    pub kind: String,
    /// Text body.
    pub text: Option<TextBody>,
    /// Interactive (button / list) reply.
    pub interactive: Option<InteractiveReply>,
    /// Template quick-reply button.
    pub button: Option<ButtonReply>,
    /// Image.
    pub image: Option<Media>,
    /// Document.
    pub document: Option<Media>,
    /// Video.
    pub video: Option<Media>,
    /// Audio.
    pub audio: Option<Media>,
    /// Sticker.
    pub sticker: Option<Media>,
    /// The message this one replies to.
    pub context: Option<Context>,
}

/// `{ "body": … }`
#[derive(Debug, Default, Deserialize, Serialize, Clone)]
#[serde(default)]
pub struct TextBody {
    /// The text.
    pub body: String,
}

/// An interactive reply.
#[derive(Debug, Default, Deserialize, Serialize, Clone)]
#[serde(default)]
pub struct InteractiveReply {
    /// `button_reply` or `list_reply`.
    #[serde(rename = "type")]
    pub kind: String,
    /// A reply button.
    pub button_reply: Option<Choice>,
    /// A list row.
    pub list_reply: Option<Choice>,
}

/// A chosen button or list row.
#[derive(Debug, Default, Deserialize, Serialize, Clone)]
#[serde(default)]
pub struct Choice {
    /// Id chosen by the business.
    pub id: String,
    /// Title.
    pub title: String,
    /// Description (list rows).
    pub description: String,
}

/// A template quick-reply button press.
#[derive(Debug, Default, Deserialize, Serialize, Clone)]
#[serde(default)]
pub struct ButtonReply {
    /// Payload set when the template was sent.
    pub payload: String,
    /// Button label.
    pub text: String,
}

/// Media metadata.
#[derive(Debug, Default, Deserialize, Serialize, Clone)]
#[serde(default)]
pub struct Media {
    /// Media id.
    pub id: String,
    /// Caption.
    pub caption: String,
    /// File name (documents).
    pub filename: String,
    /// MIME type.
    pub mime_type: String,
    /// Base64 SHA-256.
    pub sha256: String,
}

/// Reply context.
#[derive(Debug, Default, Deserialize, Serialize, Clone)]
#[serde(default)]
pub struct Context {
    /// Business number.
    pub from: String,
    /// wamid replied to.
    pub id: String,
}

/// A delivery receipt.
#[derive(Debug, Default, Deserialize, Serialize, Clone)]
#[serde(default)]
pub struct StatusUpdate {
    /// wamid of our message.
    pub id: String,
    /// `sent`, `delivered`, `read`, `failed`, `played`.
    pub status: String,
    /// Unix seconds.
    pub timestamp: String,
    /// Recipient.
    pub recipient_id: String,
    /// Why it failed.
    pub errors: Vec<ApiError>,
}

/// A Graph API error object.
#[derive(Debug, Default, Deserialize, Serialize, Clone)]
#[serde(default)]
pub struct ApiError {
    /// Error code, e.g. 131026.
    pub code: i64,
    /// Title.
    pub title: String,
    /// Message.
    pub message: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hub_signature_matches_the_published_vector() {
        assert_eq!(
            hub_signature("secret", b"test"),
            "sha256=0329a06b62cd16b33eb6792be8c60b158d89a2ee3a876fce9a881ebb488c0914"
        );
        let sig = hub_signature("secret", b"test");
        assert!(verify_hub_signature("secret", b"test", Some(&sig)));
        assert!(!verify_hub_signature("secret", b"test2", Some(&sig)));
        assert!(!verify_hub_signature("other", b"test", Some(&sig)));
        assert!(!verify_hub_signature("secret", b"test", None));
        assert!(!verify_hub_signature("secret", b"test", Some("0329a06b")));
    }

    #[test]
    fn twilio_signature_matches_twilio_python_vector() {
        let params: Vec<(String, String)> = [
            ("CallSid", "CA1234567890ABCDE"),
            ("Digits", "1234"),
            ("From", "+14158675309"),
            ("To", "+18005551212"),
            ("Caller", "+14158675309"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let url = "https://mycompany.com/myapp.php?foo=1&bar=2";
        assert_eq!(twilio_signature("12345", url, &params), "RSOYDt4T1cUTdK1PDd93/VVr8B8=");
        assert!(verify_twilio_signature("12345", url, &params, Some("RSOYDt4T1cUTdK1PDd93/VVr8B8=")));
        assert!(!verify_twilio_signature("12345", url, &params[1..], Some("RSOYDt4T1cUTdK1PDd93/VVr8B8=")));
        assert!(!verify_twilio_signature("12345", url, &params, None));
    }
}
