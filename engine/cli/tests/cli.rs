//! End-to-end tests of the `linewall` binary: what a compliance admin sees.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_linewall"))
}

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn run_with_stdin(mut cmd: Command, input: &str) -> Output {
    let mut child =
        cmd.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("spawn");
    child.stdin.take().expect("stdin").write_all(input.as_bytes()).expect("write stdin");
    child.wait_with_output().expect("wait")
}

fn temp_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("linewall-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("temp dir");
    d
}

#[test]
fn shipped_packs_pass_their_tests() {
    let out = bin().arg("test").arg(repo().join("policies")).output().expect("run");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "linewall test policies/ failed:\n{stdout}");
    assert!(stdout.contains(" passed, 0 failed"), "{stdout}");
}

#[test]
fn builtin_packs_are_the_shipped_packs() {
    let shipped = bin().arg("lint").arg(repo().join("policies")).output().expect("run");
    let builtin = bin().arg("lint").output().expect("run");
    assert!(shipped.status.success() && builtin.status.success());
    let version =
        |o: &Output| String::from_utf8_lossy(&o.stdout).split_whitespace().last().map(str::to_owned);
    assert_eq!(version(&shipped), version(&builtin), "embedded packs differ from policies/");
}

#[test]
fn lint_reports_every_error_with_position_and_exits_2() {
    let dir = temp_dir("lint");
    std::fs::write(
        dir.join("bad.yaml"),
        "apiVersion: linewall/v1\nkind: Policy\nmetadata:\n  name: bad\nspec:\n  detectors:\n    - id: acct\n      pattern: '(?<=AC)\\d+'\n  rules:\n    - id: r1\n      when:\n        detectors: {any: [{id: cc}]}\n      action: block\n",
    )
    .expect("write");
    let out = bin().arg("lint").arg(&dir).output().expect("run");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    let err = err.replace(&dir.display().to_string(), "[DIR]");
    insta::assert_snapshot!("lint_pattern_and_unknown_detector", err);
}

#[test]
fn lint_rejects_unknown_keys_with_position() {
    let dir = temp_dir("unknown-key");
    std::fs::write(
        dir.join("p.yaml"),
        "apiVersion: linewall/v1\nkind: Policy\nmetadata:\n  name: p\nspec:\n  rules:\n    - id: r\n      action: block\n      severity: high\n",
    )
    .expect("write");
    let out = bin().arg("lint").arg(&dir).output().expect("run");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("p.yaml:9:"), "{err}");
    assert!(err.contains("severity"), "{err}");
}

#[test]
fn scan_answers_every_line_in_order_and_flags_bad_ones() {
    let mut cmd = bin();
    cmd.arg("scan");
    let input = concat!(
        "{\"id\":\"a\",\"direction\":\"outbound\",\"text\":\"card 4111 1111 1111 1111\"}\n",
        "{not json\n",
        "{\"id\":\"c\",\"text\":\"see you tomorrow\"}\n",
        "{\"id\":\"d\",\"colour\":\"red\"}\n",
    );
    let out = run_with_stdin(cmd, input);
    assert_eq!(out.status.code(), Some(1), "a bad line makes the exit code 1");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<serde_json::Value> =
        stdout.lines().map(|l| serde_json::from_str(l).expect("every output line is JSON")).collect();
    assert_eq!(lines.len(), 4);
    assert_eq!(lines[0]["id"], "a");
    assert_eq!(lines[0]["action"], "block");
    assert_eq!(lines[1]["line"], 2);
    assert!(lines[1]["error"].as_str().is_some_and(|e| e.contains("invalid message")));
    assert_eq!(lines[2]["id"], "c");
    assert_eq!(lines[2]["action"], "allow");
    assert_eq!(lines[3]["line"], 4);
    assert!(lines[3]["error"].as_str().is_some_and(|e| e.contains("colour")));
}

#[test]
fn check_json_has_the_verdict_shape() {
    let out = bin()
        .args(["check", "--json", "--direction", "inbound", "here: 4111-1111-1111-1111 thx"])
        .output()
        .expect("run");
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v["action"], "redact");
    assert_eq!(v["delivered"]["text"], "here: ***************1111 thx");
    let f = &v["findings"][0];
    assert_eq!(f["detector"], "credit_card");
    assert_eq!(f["field"], "text");
    assert_eq!((f["start"].as_u64(), f["end"].as_u64()), (Some(6), Some(25)));
    assert!(!f["preview"].as_str().unwrap_or("").contains("4111-1111"), "preview is masked");
    for key in ["id", "record", "matched", "alerts", "policy_version", "decision_id", "errors"] {
        assert!(v.get(key).is_some(), "verdict has `{key}`");
    }
}

#[test]
fn committed_schema_matches_the_policy_types() {
    let out = bin().arg("schema").output().expect("run");
    assert!(out.status.success());
    let generated: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let committed: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(repo().join("policies/schema.json")).expect("read"))
            .expect("committed schema is JSON");
    assert_eq!(
        generated, committed,
        "policies/schema.json drifted: run `linewall schema > policies/schema.json`"
    );
}

#[test]
fn shipped_policies_reference_the_schema() {
    for entry in std::fs::read_dir(repo().join("policies")).expect("read dir") {
        let path = entry.expect("entry").path();
        if path.extension().and_then(|e| e.to_str()) == Some("yaml") {
            let text = std::fs::read_to_string(&path).expect("read");
            assert!(
                text.starts_with("# yaml-language-server: $schema=./schema.json"),
                "{} lacks the schema line",
                path.display()
            );
        }
    }
}

#[test]
fn detector_catalogue_in_the_docs_is_current() {
    let out = bin().args(["detectors", "--markdown"]).output().expect("run");
    assert!(out.status.success());
    let committed = std::fs::read_to_string(repo().join("docs/detectors-catalogue.md")).expect("read");
    assert!(
        String::from_utf8_lossy(&out.stdout) == committed,
        "docs/detectors-catalogue.md is stale: run `linewall detectors --markdown > docs/detectors-catalogue.md`"
    );
}

#[test]
fn detectors_json_describes_every_builtin_id() {
    let out = bin().args(["detectors", "--json"]).output().expect("run");
    assert!(out.status.success());
    let items: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).expect("json array");
    let ids: Vec<&str> = items.iter().filter_map(|d| d["id"].as_str()).collect();
    for id in ["credit_card", "isin", "crypto_seed_phrase", "openai_api_key", "mac_address", "mx_clabe"] {
        assert!(ids.contains(&id), "`{id}` missing from `linewall detectors --json`");
    }
    for d in &items {
        for key in ["region", "validator", "joinable", "confidence_levels", "keywords", "requires_keywords"] {
            assert!(d.get(key).is_some(), "{} lacks `{key}`", d["id"]);
        }
        assert!(
            !d["confidence_levels"].as_array().is_some_and(Vec::is_empty),
            "{}: no confidence on its examples",
            d["id"]
        );
    }
    let isin = items.iter().find(|d| d["id"] == "isin").expect("isin");
    assert_eq!(isin["validator"], "isin_luhn");
    assert!(isin["keywords"].as_array().is_some_and(|k| k.iter().any(|w| w == "isin")));
}

#[test]
fn schema_offers_builtin_ids_and_still_allows_local_ones() {
    let out = bin().arg("schema").output().expect("run");
    let schema: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let id = &schema["$defs"]["DetectorRequirement"]["properties"]["id"]["anyOf"];
    let listed = id[0]["enum"].as_array().expect("an enum of built-in ids");
    assert!(listed.iter().any(|v| v == "lei") && listed.iter().any(|v| v == "credit_card"));
    assert_eq!(id[1]["pattern"], "^[a-z0-9_-]+$", "policy-local ids stay allowed");
}

#[test]
fn check_flags_describe_parties_template_and_attachments() {
    let dir = temp_dir("check-flags");
    std::fs::write(
        dir.join("desk.yaml"),
        r#"
apiVersion: linewall/v1
kind: Policy
metadata: {name: desk}
spec:
  detectors:
    - {id: card, pattern: '\b4111 1111 1111 1111\b'}
  rules:
    - id: staff-to-vip
      when: {sender_roles: [internal], recipient_groups: [vip]}
      action: block
    - id: cards
      when: {detectors: {any: [{id: card}]}}
      action: redact
      redact: {style: label}
    - id: template-only
      mode: monitor
      when: {kinds: [template]}
      action: block
"#,
    )
    .expect("write policy");
    let check = |extra: &[&str]| -> serde_json::Value {
        let out = bin().args(["check", "--json", "--policies"]).arg(&dir).args(extra).output().expect("run");
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        serde_json::from_slice(&out.stdout).expect("json")
    };
    let rules = |v: &serde_json::Value| -> Vec<String> {
        v["matched"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|m| m["rule"].as_str().map(String::from))
            .collect()
    };
    let v =
        check(&["--sender-role", "internal", "--recipient-group", "vip", "--recipient-country", "GB", "hi"]);
    assert_eq!(v["action"], "block");
    assert_eq!(rules(&v), ["staff-to-vip"]);
    assert_eq!(v["record"]["recipient"]["country"], "GB");
    assert_eq!(v["record"]["recipient"]["groups"][0], "vip");
    let v = check(&["--sender-role", "external", "--recipient-group", "vip", "hi"]);
    assert_eq!(v["action"], "allow", "an external sender does not match `sender_roles: [internal]`");
    let v = check(&["--template", "payment_due", "--template-param", "4111 1111 1111 1111"]);
    assert_eq!(v["action"], "redact");
    assert_eq!(v["findings"][0]["field"], "template.parameters[0]");
    assert_eq!(v["delivered"]["template"]["parameters"][0], "[CARD]");
    assert!(rules(&v).contains(&"template-only".to_owned()), "a template alone is of kind template");
    let v = check(&[
        "--template",
        "payment_due",
        "--attachment",
        "scan.txt=card 4111 1111 1111 1111",
        "see attached",
    ]);
    assert_eq!(v["findings"][0]["field"], "attachments[0].text");
    assert!(!rules(&v).contains(&"template-only".to_owned()), "free text with a template is judged as text");
    let bad = bin().args(["check", "--attachment", "no-equals-sign"]).output().expect("run");
    assert_eq!(bad.status.code(), Some(2));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn scan_stable_output_is_identical_across_runs() {
    let input = "{\"id\":\"a\",\"direction\":\"outbound\",\"text\":\"card 4111 1111 1111 1111\"}\n\
                 {\"id\":\"b\",\"text\":\"see you tomorrow\"}\n";
    let run = |stable: bool| {
        let mut cmd = bin();
        cmd.arg("scan");
        if stable {
            cmd.arg("--stable");
        }
        let out = run_with_stdin(cmd, input);
        assert!(out.status.success());
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let (a, b) = (run(true), run(true));
    assert_eq!(a, b, "two stable scans are byte-identical");
    assert!(!a.contains("decision_id"));
    assert!(a.contains("\"action\":\"block\""));
    let (x, y) = (run(false), run(false));
    assert!(x.contains("decision_id"));
    assert_ne!(x, y, "without --stable every decision has its own id");
}
