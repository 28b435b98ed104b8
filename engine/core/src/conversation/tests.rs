//! Joining split values end to end through the built-in packs.

use std::time::{Duration, SystemTime};

use super::*;
use crate::message::{Direction, Party};
use crate::policy::{LoadOptions, PolicySource};
use crate::verdict::Action;

fn packs() -> PolicySet {
    PolicySet::builtin(&LoadOptions::default()).expect("built-in packs load")
}

/// A message of conversation `conv` from `sender`, sent `secs` after a fixed instant.
fn msg(id: &str, conv: &str, sender: &str, text: &str, secs: u64) -> Message {
    let at = time::OffsetDateTime::from_unix_timestamp(1_795_000_000 + secs as i64).expect("time");
    Message {
        id: id.to_owned(),
        conversation_id: conv.to_owned(),
        sender: Some(Party { id: sender.to_owned(), ..Party::default() }),
        text: text.to_owned(),
        sent_at: Some(at.format(&time::format_description::well_known::Rfc3339).expect("format")),
        ..Message::default()
    }
}

fn judge_all(conv: &Conversations, set: &PolicySet, msgs: &[Message]) -> Vec<Verdict> {
    msgs.iter().map(|m| conv.evaluate_at(set, m, SystemTime::now())).collect()
}

fn split_findings(v: &Verdict) -> Vec<&crate::verdict::Finding> {
    v.findings.iter().filter(|f| !f.parts.is_empty()).collect()
}

fn fresh() -> Conversations {
    Conversations::in_memory(Config::default(), 1024)
}

#[test]
fn a_card_in_two_messages_is_a_finding_of_the_second() {
    let set = packs();
    let v = judge_all(
        &fresh(),
        &set,
        &[msg("m1", "c", "agent", "my card is 4111 1111", 0), msg("m2", "c", "agent", "1111 1111 thanks", 5)],
    );
    assert_eq!(v[0].action, Action::Allow, "a half card alone is nothing");
    assert_eq!(v[1].action, Action::Block, "pci blocks an outbound split card like a whole one");
    let f = split_findings(&v[1]);
    assert_eq!(f.len(), 1, "{:?}", v[1].findings);
    assert_eq!(f[0].detector, "credit_card");
    assert_eq!((f[0].field.as_str(), f[0].start, f[0].end), ("text", 0, 9));
    assert_eq!(
        f[0].parts,
        vec![crate::verdict::FindingPart {
            message_id: "m1".into(),
            field: "text".into(),
            start: 11,
            end: 20
        }]
    );
    assert!(!f[0].preview.contains("1111 1111"), "preview is masked: {}", f[0].preview);
    assert!(v[1].alerts.iter().any(|a| a.rule == "block-outbound-cards" && a.split));
    // The archived copy of the completing message has its fragment masked.
    assert_eq!(v[1].record.text, "*****1111 thanks");
}

#[test]
fn three_and_four_part_splits_with_separators_inside_parts() {
    let set = packs();
    let cases: &[(&[&str], &str)] = &[
        (&["card: 4111-11", "11-1111-", "1111-1111"], "credit_card"),
        (&["visa 4111", "1111 1111", "11", "11 1111 ok"], "credit_card"),
        (&["IBAN GB82 WE", "ST 1234", "5698 76", "54 32"], "iban"),
        (&["my SSN is 536-22", "8174"], "us_ssn"),
        (&["NI number AB 12", "34 56 C"], "uk_nino"),
        (&["routing number 0210", "000 21"], "us_aba_routing"),
        (&["aadhaar 2345 67", "89 0124"], "in_aadhaar"),
    ];
    for (i, (pieces, detector)) in cases.iter().enumerate() {
        let conv = format!("c{i}");
        let msgs: Vec<Message> = pieces
            .iter()
            .enumerate()
            .map(|(k, t)| msg(&format!("m{k}"), &conv, "agent", t, 3 * k as u64))
            .collect();
        let v = judge_all(&fresh(), &set, &msgs);
        let last = v.last().expect("verdicts");
        let f = split_findings(last);
        assert!(
            f.iter().any(|f| f.detector == *detector && f.parts.len() == pieces.len() - 1),
            "{pieces:?}: expected a split {detector} naming {} earlier parts, got {:?}",
            pieces.len() - 1,
            last.findings
        );
        for earlier in &v[..v.len() - 1] {
            assert!(split_findings(earlier).is_empty(), "{pieces:?}: no split before the last piece");
        }
    }
}

#[test]
fn pieces_that_must_not_join() {
    let set = packs();
    let cases: Vec<(&str, Vec<Message>)> = vec![
        ("the other party sends the next piece", {
            let mut reply = msg("m2", "c", "client", "1111 1111", 4);
            reply.direction = Direction::Inbound;
            vec![msg("m1", "c", "agent", "card 4111 1111", 0), reply]
        }),
        ("another sender in the same direction", {
            vec![msg("m1", "c", "agent", "card 4111 1111", 0), msg("m2", "c", "agent-2", "1111 1111", 4)]
        }),
        ("a gap longer than the window", {
            vec![msg("m1", "c", "agent", "card 4111 1111", 0), msg("m2", "c", "agent", "1111 1111", 121)]
        }),
        ("digits inside sentences", {
            vec![
                msg("m1", "c", "agent", "we shipped 4111 1111 units", 0),
                msg("m2", "c", "agent", "and 1111 1111 more today", 4),
            ]
        }),
        ("a sentence in between", {
            vec![
                msg("m1", "c", "agent", "card 4111 1111", 0),
                msg("m2", "c", "agent", "wait a second", 2),
                msg("m3", "c", "agent", "1111 1111", 4),
            ]
        }),
        ("different conversations", {
            vec![msg("m1", "c", "agent", "card 4111 1111", 0), msg("m2", "d", "agent", "1111 1111", 4)]
        }),
        ("a different tenant", {
            let mut other = msg("m2", "c", "agent", "1111 1111", 4);
            other.tenant = "globex".into();
            vec![msg("m1", "c", "agent", "card 4111 1111", 0), other]
        }),
        ("no conversation id", {
            vec![msg("m1", "", "agent", "card 4111 1111", 0), msg("m2", "", "agent", "1111 1111", 4)]
        }),
        ("more than four messages", {
            vec![
                msg("m1", "c", "agent", "card 4111", 0),
                msg("m2", "c", "agent", "11", 1),
                msg("m3", "c", "agent", "11 1111", 2),
                msg("m4", "c", "agent", "11", 3),
                msg("m5", "c", "agent", "11 1111", 4),
            ]
        }),
    ];
    for (name, msgs) in cases {
        let v = judge_all(&fresh(), &set, &msgs);
        for (m, verdict) in msgs.iter().zip(&v) {
            assert!(verdict.findings.is_empty(), "{name}: {} got {:?}", m.id, verdict.findings);
            assert_eq!(verdict.action, Action::Allow, "{name}");
        }
    }
}

#[test]
fn a_retried_message_does_not_join_with_itself() {
    let set = packs();
    let conv = fresh();
    let m = msg("m1", "c", "agent", "4111 1111 1111 1111", 0);
    let first = conv.evaluate_at(&set, &m, SystemTime::now());
    let again = conv.evaluate_at(&set, &m, SystemTime::now());
    assert_eq!(first.findings.len(), 1);
    assert_eq!(again.findings, first.findings);
}

#[test]
fn rules_can_require_or_exclude_split_findings() {
    let yaml = r#"
apiVersion: linewall/v1
kind: Policy
metadata: {name: split-only}
spec:
  rules:
    - id: only-split
      when: {detectors: {any: [{id: credit_card, split: only}]}}
      action: block
    - id: never-split
      when: {detectors: {any: [{id: credit_card, split: never}]}}
      action: redact
"#;
    let set = PolicySet::load_sources(
        vec![PolicySource { name: "split.yaml".into(), text: yaml.into(), base_dir: None }],
        &LoadOptions::default(),
    )
    .expect("policy loads");
    let conv = fresh();
    let whole =
        conv.evaluate_at(&set, &msg("m0", "w", "a", "4111 1111 1111 1111 here", 0), SystemTime::now());
    let rules: Vec<&str> = whole.matched.iter().map(|m| m.rule.as_str()).collect();
    assert_eq!(rules, ["never-split"]);
    let v =
        judge_all(&conv, &set, &[msg("m1", "c", "a", "4111 1111", 0), msg("m2", "c", "a", "1111 1111", 1)]);
    let rules: Vec<&str> = v[1].matched.iter().map(|m| m.rule.as_str()).collect();
    assert_eq!(rules, ["only-split"]);
    assert_eq!(v[1].action, Action::Block);
}

#[test]
fn the_memory_store_is_bounded_and_expires() {
    let store = MemoryStore::new(32);
    let w = Window {
        fragments: vec![Fragment {
            message_id: "m".into(),
            field: super::JoinField::Text,
            text: "4111".into(),
            start: 0,
            offsets: Vec::new(),
            context: Vec::new(),
            at_ms: 0,
        }],
    };
    for i in 0..1000 {
        store.save(&format!("scope-{i}"), Some(w.clone()), Duration::from_secs(60)).expect("save");
    }
    assert!(store.len() <= 32 + 16, "{} scopes kept", store.len());
    assert_eq!(store.load("scope-999").expect("load"), w);
    assert_eq!(store.load("scope-0").expect("load"), Window::default(), "least recently used went first");
    store.save("short", Some(w.clone()), Duration::from_millis(1)).expect("save");
    std::thread::sleep(Duration::from_millis(5));
    assert_eq!(store.load("short").expect("load"), Window::default(), "expired with the window");
    store.save("scope-999", None, Duration::from_secs(60)).expect("forget");
    assert_eq!(store.load("scope-999").expect("load"), Window::default());
}

#[test]
fn non_ascii_fragments_map_back_to_original_code_points() {
    let set = packs();
    let v = judge_all(
        &fresh(),
        &set,
        &[
            msg("m1", "c", "agent", "é card ４１１１ 1\u{200b}111", 0),
            msg("m2", "c", "agent", "1111 1111", 2),
        ],
    );
    let f = split_findings(&v[1]);
    assert_eq!(f.len(), 1, "{:?}", v[1].findings);
    let p = &f[0].parts[0];
    let original: String =
        "é card ４１１１ 1\u{200b}111".chars().skip(p.start).take(p.end - p.start).collect();
    assert_eq!(original, "４１１１ 1\u{200b}111");
}

#[test]
fn out_of_range_settings_are_refused_with_their_limits() {
    let c = Config::with(Some(30), Some(3)).expect("in range");
    assert_eq!((c.window, c.max_messages), (Duration::from_secs(30), 3));
    assert_eq!(Config::with(None, None).expect("defaults"), Config::default());
    assert_eq!(Config::with(Some(0), None), Err(ConfigError::Window));
    assert_eq!(Config::with(Some(MAX_WINDOW_SECS + 1), None), Err(ConfigError::Window));
    assert_eq!(Config::with(None, Some(1)), Err(ConfigError::Messages));
    assert_eq!(
        Config::with(None, Some(MAX_MESSAGES + 1)).map_err(|e| e.to_string()),
        Err(String::from("the conversation message count must be 2 to 8"))
    );
}
