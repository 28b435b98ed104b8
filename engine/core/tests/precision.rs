//! Precision fixes of issue 14 item 2, end to end through `PolicySet::evaluate`.

use linewall_engine::Message;
use linewall_engine::message::Direction;
use linewall_engine::policy::{LoadOptions, PolicySet, PolicySource};

/// A policy that reports phone numbers of at least medium confidence.
fn phones() -> PolicySet {
    let yaml = "apiVersion: linewall/v1\nkind: Policy\nmetadata: {name: p}\nspec:\n  rules:\n    - id: phone\n      when: {detectors: {any: [{id: phone, min_confidence: medium}]}}\n      action: redact\n";
    let src = PolicySource { name: "p.yaml".into(), text: yaml.into(), base_dir: None };
    PolicySet::load_sources(vec![src], &LoadOptions::default()).unwrap_or_else(|d| panic!("{d}"))
}

fn phone_fires(set: &PolicySet, text: &str) -> bool {
    let msg = Message { text: text.into(), direction: Direction::Inbound, ..Message::default() };
    !set.evaluate(&msg).matched.is_empty()
}

#[test]
fn another_detectors_words_demote_a_bare_phone_candidate() {
    let set = phones();
    for text in [
        "numéro de passeport 187235300",
        "the account number for the ACH is 49330660836",
        "mijn BSN nummer is 111222333",
    ] {
        assert!(!phone_fires(&set, text), "phone at medium in {text:?}");
    }
    for text in [
        "call me on 020 7946 0958",
        "my mobile number is (415) 555-2671",
        "passport office: +44 20 7946 0958",
    ] {
        assert!(phone_fires(&set, text), "phone missed in {text:?}");
    }
}

/// A policy that reports card numbers.
fn cards() -> PolicySet {
    let yaml = "apiVersion: linewall/v1\nkind: Policy\nmetadata: {name: c}\nspec:\n  rules:\n    - id: card\n      when: {detectors: {any: [{id: credit_card}]}}\n      action: redact\n      redact: {style: label}\n";
    let src = PolicySource { name: "c.yaml".into(), text: yaml.into(), base_dir: None };
    PolicySet::load_sources(vec![src], &LoadOptions::default()).unwrap_or_else(|d| panic!("{d}"))
}

fn delivered(set: &PolicySet, text: &str) -> String {
    let msg = Message { text: text.into(), direction: Direction::Inbound, ..Message::default() };
    let v = set.evaluate(&msg);
    // No delivered copy means the message goes out unchanged (the policy never blocks).
    v.delivered.map_or_else(|| text.to_owned(), |m| m.text)
}

#[test]
fn a_card_is_never_a_sub_span_of_a_uniform_group() {
    let set = cards();
    // Luhn-invalid as a whole: no 12-digit card inside it.
    assert_eq!(
        delivered(&set, "the card 5861-3064-9567-5030 is declined"),
        "the card 5861-3064-9567-5030 is declined"
    );
    // Two cards separated by one space are both found.
    assert_eq!(
        delivered(&set, "cards 4111 1111 1111 1111 5500 0000 0000 0004 ok"),
        "cards [CREDIT_CARD] [CREDIT_CARD] ok"
    );
    // A card followed by an expiry is still found.
    assert_eq!(delivered(&set, "card 4111 1111 1111 1111 12 27"), "card [CREDIT_CARD] 12 27");
}

/// The shipped packs (what `linewall serve` loads with no `--policies`).
fn shipped() -> PolicySet {
    PolicySet::builtin(&LoadOptions::default()).unwrap_or_else(|d| panic!("{d}"))
}

#[test]
fn card_evasions_that_passed_as_allow_are_blocked_by_the_shipped_packs() {
    let set = shipped();
    for text in [
        "call 2 4111 1111 1111 1111",
        "4111111111111111 12/27 123",
        "cards 4111 1111 1111 1111 5500 0000 0000 0004 ok",
        "4111\u{0}1111\u{0}1111\u{0}1111",
        "4111\u{1}1111\u{7f}1111\u{1b}1111",
        "card 4111 1111 1111 1111 1227",
    ] {
        let msg = Message { text: text.into(), direction: Direction::Outbound, ..Message::default() };
        let v = set.evaluate(&msg);
        assert_eq!(v.action.as_str(), "block", "{text:?} was not blocked");
        assert!(v.findings.iter().any(|f| f.detector == "credit_card"), "no card found in {text:?}");
    }
}

#[test]
fn control_characters_between_digit_groups_do_not_hide_an_ssn() {
    let set = shipped();
    let msg = Message {
        text: "SSN 536\u{0}22\u{0}8174".into(),
        direction: Direction::Outbound,
        ..Message::default()
    };
    let v = set.evaluate(&msg);
    assert_ne!(v.action.as_str(), "allow");
    let f = v.findings.iter().find(|f| f.detector == "us_ssn").expect("SSN found");
    // The finding covers the original characters, NULs included.
    assert_eq!((f.start, f.end), (4, 15));
}

#[test]
fn a_stray_digit_or_an_expiry_leaves_the_card_span_exact() {
    let set = cards();
    assert_eq!(delivered(&set, "call 2 4111 1111 1111 1111"), "call 2 [CREDIT_CARD]");
    assert_eq!(delivered(&set, "4111111111111111 12/27 123"), "[CREDIT_CARD] 12/27 123");
    assert_eq!(delivered(&set, "card 4111 1111 1111 1111 1227"), "card [CREDIT_CARD] 1227");
    // Order numbers are not laid out like a card, wherever the window starts.
    assert_eq!(delivered(&set, "order 123-4111111111111111-12"), "order 123-4111111111111111-12");
}

/// A message found by the `message_json` fuzz target: an Italian IBAN-like run with a
/// 9-digit body after `IT` made the EU VAT check slice past its end and panic `evaluate`.
/// It must get a verdict.
#[test]
fn an_italian_nine_digit_run_after_it_does_not_panic_evaluate() {
    let set = shipped();
    let msg =
        Message::text("For KYC I sesport C7W0HG3YL and my IBAN IT 1788 2737 42037 420 tn roblessusan@tbound");
    let verdict = set.evaluate(&msg);
    assert!(!verdict.findings.iter().any(|f| f.detector == "eu_vat"), "{:?}", verdict.findings);
}
