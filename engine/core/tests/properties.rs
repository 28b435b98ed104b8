//! Properties of evaluation over generated messages (proptest; runs in CI on stable):
//! offsets on char boundaries, redaction removes every redacted span, a redacted field
//! never exceeds its channel's limit, and `evaluate` never panics.

use std::sync::LazyLock;

use linewall_engine::Message;
use linewall_engine::message::{Channel, Direction};
use linewall_engine::policy::{LoadOptions, PolicySet, PolicySource};
use linewall_engine::verdict::Action;
use proptest::prelude::*;

/// Every pack, as served by default.
static PACKS: LazyLock<PolicySet> =
    LazyLock::new(|| PolicySet::builtin(&LoadOptions::default()).expect("the built-in packs load"));

/// One policy that redacts (never blocks) cards, emails, phones and IBANs.
static REDACTING: LazyLock<PolicySet> = LazyLock::new(|| {
    let text = "apiVersion: linewall/v1\nkind: Policy\nmetadata: {name: redact-all}\nspec:\n  rules:\n    - id: redact\n      when: {detectors: {any: [{id: credit_card}, {id: email}, {id: iban}, {id: us_ssn}]}}\n      action: redact\n";
    PolicySet::load_sources(
        vec![PolicySource { name: String::from("redact.yaml"), text: String::from(text), base_dir: None }],
        &LoadOptions::default(),
    )
    .expect("the redacting policy loads")
});

/// Pieces that make detectors fire, nearly fire, or stress offsets.
const PIECES: &[&str] = &[
    "4111 1111 1111 1111",
    "4111111111111111",
    "５５５５ ５５５５ ５５５５ ４４４４",
    "GB82 WEST 1234 5698 7654 32",
    "jane.doe@example.com",
    "078-05-1120",
    "+1 415 555 2671",
    "-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----",
    "AKIAIOSFODNN7EXAMPLE",
    "card",
    "iban",
    " ",
    "\n",
    "-",
    "\u{200b}",
    "é",
    "𝟒",
    "٤",
    "Ѕ",
    "🙂",
    "x",
    "1",
];

fn text() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop_oneof![prop::sample::select(PIECES).prop_map(String::from), any::<String>()],
        0..24,
    )
    .prop_map(|parts| parts.concat())
}

fn channel() -> impl Strategy<Value = Channel> {
    prop::sample::select(vec![Channel::Whatsapp, Channel::Sms, Channel::VoiceTranscript, Channel::Other])
}

fn message(text: String, channel: Channel, inbound: bool) -> Message {
    Message {
        id: String::from("p"),
        text,
        channel,
        direction: if inbound { Direction::Inbound } else { Direction::Outbound },
        ..Default::default()
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn findings_lie_on_char_boundaries_of_their_field(t in text(), ch in channel(), inbound: bool) {
        let msg = message(t, ch, inbound);
        // `evaluate` never panics (proptest reports a panic as a failure).
        let v = PACKS.evaluate(&msg);
        for f in v.findings.iter().filter(|f| f.field == "text") {
            prop_assert!(f.byte_start < f.byte_end && f.byte_end <= msg.text.len());
            prop_assert!(msg.text.is_char_boundary(f.byte_start) && msg.text.is_char_boundary(f.byte_end));
            prop_assert_eq!(msg.text[..f.byte_start].chars().count(), f.start);
            prop_assert_eq!(msg.text[..f.byte_end].chars().count(), f.end);
        }
    }

    #[test]
    fn redaction_removes_every_redacted_value_and_respects_the_channel_limit(
        t in text(),
        ch in channel(),
        repeat in 1usize..120,
    ) {
        // Repeating the text pushes some messages past the SMS and WhatsApp limits.
        let msg = message(t.repeat(repeat), ch, false);
        let v = REDACTING.evaluate(&msg);
        if v.action == Action::Redact {
            let delivered = v.delivered.as_ref().map(|d| d.text.clone()).unwrap_or_default();
            for f in v.findings.iter().filter(|f| f.field == "text" && !f.rules.is_empty()) {
                let value = &msg.text[f.byte_start..f.byte_end];
                // Only a value that occurs once: the same characters elsewhere need not
                // be a finding (other boundaries), and a short value can be anywhere.
                if value.chars().filter(|c| c.is_alphanumeric()).count() >= 4 && msg.text.matches(value).count() == 1 {
                    prop_assert!(!delivered.contains(value), "a redacted value survived");
                }
            }
            let limit = match ch {
                Channel::Whatsapp => Some(4096),
                Channel::Sms => Some(1600),
                _ => None,
            };
            if let Some(limit) = limit {
                prop_assert!(delivered.chars().count() <= limit);
            }
        }
    }
}
