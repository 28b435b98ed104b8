//! Evaluation semantics of docs/03-verdict.md, docs/04-policy-language.md and docs/09-messaging-facts.md, on small policies with local detectors so
//! that they do not depend on the built-in detectors' tuning.

use linewall_engine::message::{Attachment, Channel, Direction, Party, Role, Template};
use linewall_engine::policy::{LoadOptions, PolicySet, PolicySource};
use linewall_engine::verdict::{Action, Mode};
use linewall_engine::{Message, Verdict};

fn load(yaml: &str) -> PolicySet {
    let src = PolicySource { name: "test.yaml".into(), text: yaml.into(), base_dir: None };
    match PolicySet::load_sources(vec![src], &LoadOptions::default()) {
        Ok(s) => s,
        Err(d) => panic!("policy failed to load:\n{d}"),
    }
}

fn load_err(yaml: &str) -> String {
    let src = PolicySource { name: "test.yaml".into(), text: yaml.into(), base_dir: None };
    match PolicySet::load_sources(vec![src], &LoadOptions::default()) {
        Ok(_) => panic!("policy unexpectedly loaded"),
        Err(d) => d.to_string(),
    }
}

const ACCOUNTS: &str = r#"
apiVersion: linewall/v1
kind: Policy
metadata: {name: accounts}
spec:
  detectors:
    - id: acct
      pattern: '\bAC-\d{8}\b'
      keywords: [account]
      confidence: low
      confidence_with_keywords: high
  rules:
    - id: block-many
      when:
        directions: [outbound]
        detectors: {any: [{id: acct, min_count: 2}]}
      action: block
      notice: "Too many accounts."
    - id: redact-confident
      when:
        detectors: {any: [{id: acct, min_confidence: high}]}
      unless:
        recipient_groups: [operations]
      action: redact
      redact: {style: mask, keep_first: 3}
      record: redacted
    - id: watch
      mode: monitor
      when:
        detectors: {any: [{id: acct}]}
      action: block
      alert: medium
"#;

fn text(t: &str, direction: Direction) -> Message {
    Message { text: t.into(), direction, ..Message::default() }
}

fn rules(v: &Verdict) -> Vec<&str> {
    let mut r: Vec<&str> = v.matched.iter().map(|m| m.rule.as_str()).collect();
    r.sort_unstable();
    r
}

#[test]
fn context_words_raise_confidence_and_gate_rules() {
    let set = load(ACCOUNTS);
    let plain = set.evaluate(&text("ref AC-12345678", Direction::Inbound));
    assert_eq!(plain.action, Action::Allow);
    assert_eq!(rules(&plain), ["watch"], "monitor rule fires but changes nothing");
    let with_kw = set.evaluate(&text("account AC-12345678", Direction::Inbound));
    assert_eq!(with_kw.action, Action::Redact);
    assert_eq!(with_kw.delivered.as_ref().map(|d| d.text.as_str()), Some("account AC-********"));
    assert_eq!(with_kw.record.text, "account AC-********");
    assert_eq!(with_kw.findings[0].rules, ["accounts/redact-confident", "accounts/watch"]);
}

#[test]
fn monitor_rules_alert_without_changing_the_verdict() {
    let set = load(ACCOUNTS);
    let v = set.evaluate(&text("AC-12345678", Direction::Inbound));
    assert_eq!(v.action, Action::Allow);
    assert_eq!(v.matched[0].mode, Mode::Monitor);
    assert_eq!(v.alerts.len(), 1);
    assert!(v.delivered.is_none(), "an allowed message is delivered as sent");
    assert_eq!(v.record.text, "AC-12345678");
}

#[test]
fn min_count_and_block_precedence() {
    let set = load(ACCOUNTS);
    let v = set.evaluate(&text("account AC-12345678 and AC-87654321", Direction::Outbound));
    assert_eq!(v.action, Action::Block, "block wins over redact");
    assert!(v.delivered.is_none(), "nothing is delivered when blocked");
    assert_eq!(v.notice.as_deref(), Some("Too many accounts."));
    assert_eq!(
        v.record.text, "account AC-******** and AC-********",
        "record keeps redacted spans of redact rules"
    );
    let one = set.evaluate(&text("account AC-12345678", Direction::Outbound));
    assert_eq!(one.action, Action::Redact);
}

#[test]
fn unless_stops_a_rule() {
    let set = load(ACCOUNTS);
    let mut msg = text("account AC-12345678", Direction::Inbound);
    msg.recipient = Some(Party { groups: vec!["operations".into()], ..Party::default() });
    let v = set.evaluate(&msg);
    assert_eq!(v.action, Action::Allow);
    assert_eq!(rules(&v), ["watch"]);
}

#[test]
fn findings_carry_code_point_and_byte_offsets_and_a_masked_preview() {
    let set = load(ACCOUNTS);
    let v = set.evaluate(&text("é account АС-12345678", Direction::Inbound));
    let f = &v.findings[0];
    assert_eq!((f.start, f.end), (10, 21));
    assert_eq!((f.byte_start, f.byte_end), (11, 24), "Cyrillic look-alikes are two bytes each");
    assert!(!f.preview.contains("12345678"));
}

#[test]
fn every_scanned_field_is_found_with_its_path_and_redacted_in_place() {
    let set = load(ACCOUNTS);
    let msg = Message {
        direction: Direction::Inbound,
        caption: "account AC-12345678".into(),
        attachments: vec![Attachment { filename: "account AC-11112222.pdf".into(), ..Attachment::default() }],
        template: Some(Template {
            name: "t".into(),
            parameters: vec!["x".into(), "account AC-33334444".into()],
            ..Template::default()
        }),
        ..Message::default()
    };
    let v = set.evaluate(&msg);
    let fields: Vec<&str> = v.findings.iter().map(|f| f.field.as_str()).collect();
    assert_eq!(fields, ["caption", "attachments[0].filename", "template.parameters[1]"]);
    let d = v.delivered.expect("redact delivers");
    assert_eq!(d.caption, "account AC-********");
    assert_eq!(d.template.expect("template").parameters[1], "account AC-********");
}

const SCOPED: &str = r#"
apiVersion: linewall/v1
kind: Policy
metadata: {name: acme-only}
spec:
  scope: {tenants: [acme], channels: [sms]}
  rules:
    - id: block-all
      action: block
---
apiVersion: linewall/v1
kind: Policy
metadata: {name: exe}
spec:
  rules:
    - id: block-exe
      when:
        attachments: {extensions: [exe, bat]}
      action: block
    - id: big-media
      when:
        attachments: {mime_types: ["video/*"], max_size_bytes: 1000}
      action: block
    - id: opted-out
      when:
        attributes: {opted_in: "false"}
        sender_roles: [internal]
      action: block
"#;

#[test]
fn tenants_are_isolated_and_scopes_are_anded() {
    let set = load(SCOPED);
    let mut msg =
        Message { tenant: "acme".into(), channel: Channel::Sms, text: "hi".into(), ..Message::default() };
    assert_eq!(set.evaluate(&msg).action, Action::Block);
    msg.tenant = "globex".into();
    assert_eq!(set.evaluate(&msg).action, Action::Allow, "tenant B is never judged by tenant A's policy");
    msg.tenant = "acme".into();
    msg.channel = Channel::Whatsapp;
    assert_eq!(set.evaluate(&msg).action, Action::Allow);
}

#[test]
fn metadata_rules_fire_without_detectors() {
    let set = load(SCOPED);
    let mut msg = Message::text("hello");
    msg.attributes.insert("opted_in".into(), "false".into());
    assert_eq!(set.evaluate(&msg).action, Action::Allow, "sender role unknown");
    msg.sender = Some(Party { role: Some(Role::Internal), ..Party::default() });
    assert_eq!(rules(&set.evaluate(&msg)), ["opted-out"]);
    let att = |name: &str, mime: &str, size| Message {
        attachments: vec![Attachment {
            filename: name.into(),
            mime_type: mime.into(),
            size_bytes: size,
            ..Attachment::default()
        }],
        ..Message::default()
    };
    assert_eq!(rules(&set.evaluate(&att("setup.EXE", "", 1))), ["block-exe"]);
    assert_eq!(rules(&set.evaluate(&att("clip.mp4", "video/mp4", 5000))), ["big-media"]);
    assert!(rules(&set.evaluate(&att("clip.mp4", "video/mp4", 10))).is_empty());
}

const STYLES: &str = r#"
apiVersion: linewall/v1
kind: Policy
metadata: {name: styles}
spec:
  detectors:
    - {id: word, pattern: '\bsecret\w*'}
  rules:
    - id: hash-it
      when: {detectors: {any: [{id: word}]}}
      action: redact
      redact: {style: hash}
"#;

#[test]
fn hash_redaction_is_keyed_per_configuration() {
    let src = |key: &[u8]| {
        PolicySet::load_sources(
            vec![PolicySource { name: "s.yaml".into(), text: STYLES.into(), base_dir: None }],
            &LoadOptions { hash_key: Some(key.to_vec()), ..LoadOptions::default() },
        )
        .expect("loads")
    };
    let a = src(b"key-a").evaluate(&Message::text("the secretword here"));
    let a2 = src(b"key-a").evaluate(&Message::text("the secretword here"));
    let b = src(b"key-b").evaluate(&Message::text("the secretword here"));
    let da = a.delivered.expect("delivered").text;
    assert!(da.starts_with("the [#") && da.ends_with("] here"), "{da}");
    assert_eq!(Some(da.clone()), a2.delivered.map(|d| d.text), "stable for one key");
    assert_ne!(Some(da), b.delivered.map(|d| d.text), "depends on the key");
}

#[test]
fn redaction_that_would_exceed_the_channel_limit_escalates_to_block() {
    let yaml = r#"
apiVersion: linewall/v1
kind: Policy
metadata: {name: label}
spec:
  detectors:
    - {id: x, pattern: 'x'}
  rules:
    - id: label-x
      when: {detectors: {any: [{id: x}]}}
      action: redact
      redact: {style: label}
"#;
    let set = load(yaml);
    let msg = Message { channel: Channel::Sms, text: "x ".repeat(700), ..Message::default() };
    let v = set.evaluate(&msg);
    assert_eq!(v.action, Action::Block);
    assert!(v.errors.iter().any(|e| e.error.contains("1600-character sms limit")), "{:?}", v.errors);
}

#[test]
fn sms_opt_out_keywords_are_never_blocked() {
    let set = load(SCOPED);
    let msg = Message {
        tenant: "acme".into(),
        channel: Channel::Sms,
        direction: Direction::Inbound,
        text: " Stop ".into(),
        ..Message::default()
    };
    let v = set.evaluate(&msg);
    assert_eq!(v.action, Action::Allow);
    assert_eq!(v.record.text, " Stop ");
}

#[test]
fn policy_version_is_stable_and_content_based() {
    let a = load(ACCOUNTS);
    let b = load(&format!("# a comment\n{ACCOUNTS}"));
    assert_eq!(a.version(), b.version(), "comments and layout do not change the version");
    let c = load(&ACCOUNTS.replace("min_count: 2", "min_count: 3"));
    assert_ne!(a.version(), c.version());
}

#[test]
fn load_errors_are_all_collected() {
    let err = load_err(
        r#"
apiVersion: linewall/v2
kind: Policy
metadata: {name: Bad_Name}
spec:
  detectors:
    - {id: d1, pattern: '(', examples: []}
    - {id: credit_card, pattern: 'x'}
    - {id: d2, pattern: 'abc', examples: ['xyz']}
  rules:
    - {id: r, action: redact, redact: {style: label, keep_last: 2}, when: {detectors: {any: [{id: nope}]}}}
"#,
    );
    insta::assert_snapshot!("load_errors_are_all_collected", err);
}

#[test]
fn failing_examples_are_load_errors() {
    let err = load_err(
        r#"
apiVersion: linewall/v1
kind: Policy
metadata: {name: ex}
spec:
  detectors:
    - id: d
      pattern: 'abc'
      examples: ['xyz']
      negative_examples: ['abc']
"#,
    );
    insta::assert_snapshot!("failing_examples_are_load_errors", err);
}

#[test]
fn yaml_bombs_and_syntax_errors_are_reported_not_fatal() {
    let bomb = "a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\ne: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]\nf: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]\ng: [*f, *f, *f, *f, *f, *f, *f, *f, *f]\n";
    insta::assert_snapshot!("yaml_bomb_is_not_a_policy", load_err(bomb));
    // The same bomb in a policy file: aliases are not expanded by the checks, and the
    // typed parser's budget refuses it.
    let policy_bomb = format!(
        "apiVersion: linewall/v1\nkind: Policy\nmetadata: {{name: b}}\nspec:\n  detectors:\n    - id: p\n      plugin:\n        module: p.wasm\n        config:\n          {}",
        bomb.trim_end().replace('\n', "\n          ")
    );
    insta::assert_snapshot!("yaml_bomb_in_a_policy", load_err(&policy_bomb));
    insta::assert_snapshot!("yaml_syntax_error", load_err("apiVersion: linewall/v1\nkind: [unclosed\n"));
}

#[test]
fn boolean_like_attributes_match_by_meaning_and_free_text_beats_a_template() {
    let set = load(include_str!("../../../policies/whatsapp.yaml"));
    let outbound = |text: &str, opted_in: &str, template: bool| {
        let mut msg = Message {
            channel: Channel::Whatsapp,
            direction: Direction::Outbound,
            text: text.into(),
            ..Message::default()
        };
        msg.attributes.insert("opted_in".into(), opted_in.into());
        if template {
            msg.template = Some(Template { name: "appointment_reminder".into(), ..Template::default() });
        }
        msg
    };
    for opted_out in ["false", "False", "FALSE", "no", "No"] {
        let v = set.evaluate(&outbound("hi there", opted_out, false));
        assert_eq!(rules(&v), ["block-not-opted-in"], "opted_in: {opted_out:?}");
        assert_eq!(v.action, Action::Block);
    }
    for other in ["true", "TRUE", "yes", "0", "f", "falsey", ""] {
        assert_eq!(
            set.evaluate(&outbound("hi there", other, false)).action,
            Action::Allow,
            "opted_in: {other:?}"
        );
    }
    // A template alone passes; free text riding along with a template is judged as free text.
    assert_eq!(set.evaluate(&outbound("", "False", true)).action, Action::Allow);
    let v = set.evaluate(&outbound("call me on my cell instead", "False", true));
    assert_eq!((v.action, rules(&v)), (Action::Block, vec!["block-not-opted-in"]));
}
