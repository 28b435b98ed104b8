//! `linewall replay` end to end: two policy versions over the dev corpus; every count of
//! the report equals the one computed here from two `linewall scan --stable` runs.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_linewall"))
}

const BASELINE: &str = r#"
apiVersion: linewall/v1
kind: Policy
metadata: {name: bank}
spec:
  rules:
    - id: cards
      when: {detectors: {any: [{id: credit_card}]}}
      action: block
    - id: ibans
      mode: monitor
      when: {detectors: {any: [{id: iban}]}}
      action: block
    - id: ssn
      when: {directions: [outbound], detectors: {any: [{id: us_ssn}]}}
      action: redact
      redact: {style: label}
"#;

const CANDIDATE: &str = r#"
apiVersion: linewall/v1
kind: Policy
metadata: {name: bank}
spec:
  rules:
    - id: cards
      when: {detectors: {any: [{id: credit_card}]}}
      action: redact
      redact: {style: mask, keep_last: 4}
    - id: ibans
      when: {detectors: {any: [{id: iban}]}}
      action: block
    - id: ssn
      when: {detectors: {any: [{id: us_ssn}]}}
      action: redact
      redact: {style: label}
---
apiVersion: linewall/v1
kind: Policy
metadata: {name: contact}
spec:
  rules:
    - id: emails
      when: {directions: [outbound], detectors: {any: [{id: email}]}}
      action: block
"#;

fn setup() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("linewall-replay-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    for (sub, yaml) in [("base", BASELINE), ("cand", CANDIDATE)] {
        std::fs::create_dir_all(dir.join(sub)).expect("dir");
        std::fs::write(dir.join(sub).join("policy.yaml"), yaml).expect("write policy");
    }
    let corpus = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../core/testdata/dev-corpus.jsonl"),
    )
    .expect("dev corpus");
    let mut messages = String::new();
    for (i, line) in corpus.lines().enumerate() {
        let v: Value = serde_json::from_str(line).expect("corpus line");
        let direction = if i % 3 == 0 { "inbound" } else { "outbound" };
        let m = serde_json::json!({"id": v["id"], "text": v["text"], "direction": direction});
        messages.push_str(&m.to_string());
        messages.push('\n');
    }
    std::fs::write(dir.join("messages.jsonl"), messages).expect("write messages");
    dir
}

fn scan(dir: &Path, policies: &str) -> Vec<Value> {
    let out = bin()
        .args(["scan", "--stable", "--policies"])
        .arg(dir.join(policies))
        .arg(dir.join("messages.jsonl"))
        .output()
        .expect("scan");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).lines().map(|l| serde_json::from_str(l).expect("verdict")).collect()
}

fn rules(v: &Value) -> BTreeMap<String, String> {
    v["matched"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|m| {
            (
                format!("{}/{}", m["policy"].as_str().unwrap_or(""), m["rule"].as_str().unwrap_or("")),
                m["mode"].to_string(),
            )
        })
        .collect()
}

fn findings(v: &Value) -> BTreeSet<(String, String, u64, u64)> {
    v["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|f| {
            (
                f["detector"].as_str().unwrap_or("").to_owned(),
                f["field"].as_str().unwrap_or("").to_owned(),
                f["start"].as_u64().unwrap_or(0),
                f["end"].as_u64().unwrap_or(0),
            )
        })
        .collect()
}

fn replay(dir: &Path, format: &str, show_text: bool) -> String {
    let mut cmd = bin();
    cmd.args(["replay", "--format", format, "--baseline"])
        .arg(dir.join("base"))
        .arg("--candidate")
        .arg(dir.join("cand"))
        .arg(dir.join("messages.jsonl"));
    if show_text {
        cmd.arg("--show-text");
    }
    let out = cmd.output().expect("replay");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn replay_counts_equal_two_scans_compared() {
    let dir = setup();
    let (old, new) = (scan(&dir, "base"), scan(&dir, "cand"));
    assert_eq!(old.len(), 2000);
    let mut transitions: BTreeMap<String, u64> = BTreeMap::new();
    let mut per_rule: BTreeMap<String, BTreeMap<String, u64>> = BTreeMap::new();
    let mut per_policy: BTreeMap<String, BTreeMap<String, u64>> = BTreeMap::new();
    let mut m2e: BTreeMap<String, u64> = BTreeMap::new();
    let mut det: BTreeMap<String, (u64, u64)> = BTreeMap::new();
    let mut changed = Vec::new();
    for (o, n) in old.iter().zip(&new) {
        let (ro, rn) = (rules(o), rules(n));
        for (r, mode) in &ro {
            if mode == "\"monitor\"" && rn.get(r).map(String::as_str) == Some("\"enforce\"") {
                *m2e.entry(r.clone()).or_default() += 1;
            }
        }
        let (fo, fnew) = (findings(o), findings(n));
        for f in fnew.difference(&fo) {
            det.entry(f.0.clone()).or_default().0 += 1;
        }
        for f in fo.difference(&fnew) {
            det.entry(f.0.clone()).or_default().1 += 1;
        }
        if o["action"] != n["action"] || ro != rn {
            changed.push(o["id"].as_str().unwrap_or("").to_owned());
        }
        if o["action"] != n["action"] {
            let t = format!("{}→{}", o["action"].as_str().unwrap_or(""), n["action"].as_str().unwrap_or(""));
            *transitions.entry(t.clone()).or_default() += 1;
            let all: BTreeSet<&String> = ro.keys().chain(rn.keys()).collect();
            let pols: BTreeSet<&str> = all.iter().map(|r| r.split('/').next().unwrap_or("")).collect();
            for r in all {
                *per_rule.entry(r.clone()).or_default().entry(t.clone()).or_default() += 1;
            }
            for p in pols {
                *per_policy.entry(p.to_owned()).or_default().entry(t.clone()).or_default() += 1;
            }
        }
    }
    // The policies were chosen so that every section of the report has something in it.
    assert!(transitions.contains_key("block→redact") && transitions.contains_key("allow→block"));
    assert!(m2e.get("bank/ibans").copied().unwrap_or(0) > 0);
    assert!(det.get("email").is_some_and(|d| d.0 > 0));

    let report: Value = serde_json::from_str(&replay(&dir, "json", false)).expect("json report");
    assert_eq!(report["messages"], 2000);
    assert_eq!(report["changed_messages"], changed.len());
    assert_eq!(report["transitions"], serde_json::to_value(&transitions).expect("v"));
    assert_eq!(report["per_rule"], serde_json::to_value(&per_rule).expect("v"));
    assert_eq!(report["per_policy"], serde_json::to_value(&per_policy).expect("v"));
    assert_eq!(report["monitor_to_enforce"], serde_json::to_value(&m2e).expect("v"));
    let det_json: BTreeMap<String, Value> =
        det.iter().map(|(k, (a, b))| (k.clone(), serde_json::json!({"new": a, "vanished": b}))).collect();
    assert_eq!(report["findings"], serde_json::to_value(&det_json).expect("v"));
    let ids: Vec<&str> =
        report["changed"].as_array().expect("changed").iter().filter_map(|c| c["id"].as_str()).collect();
    assert_eq!(ids, changed);
    // No clear values unless asked.
    let first = &report["changed"][0];
    assert!(first.get("text").is_none());
    let corpus_text = old.iter().find(|v| v["id"] == first["id"]).map(|v| v["record"]["text"].clone());
    let with_text: Value = serde_json::from_str(&replay(&dir, "json", true)).expect("json");
    assert_eq!(Some(with_text["changed"][0]["text"].clone()), corpus_text);
    assert!(
        !replay(&dir, "table", false).contains(corpus_text.as_ref().and_then(Value::as_str).unwrap_or("-"))
    );

    let table = replay(&dir, "table", false);
    assert!(table.contains("bank/ibans") && table.contains("MONITOR → ENFORCE"));
    let html = replay(&dir, "html", false);
    assert!(html.starts_with("<!doctype html>") && html.contains("bank/cards"));
    assert!(!html.contains("<script") && !html.contains("http"), "self-contained: no script, no link");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn unreadable_lines_are_listed_and_the_rest_is_judged() {
    let dir = std::env::temp_dir().join(format!("linewall-replay-bad-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("p")).expect("dir");
    std::fs::write(dir.join("p").join("policy.yaml"), BASELINE).expect("write");
    let mut input = b"{\"id\":\"a\",\"text\":\"card 4111 1111 1111 1111\"}\n{not json\n\xff\xfe\n".to_vec();
    input.extend(std::iter::repeat_n(b'x', (1 << 20) + 10));
    input.extend(b"\n\n{\"id\":\"b\",\"text\":\"hello\"}\n");
    std::fs::write(dir.join("m.jsonl"), input).expect("write");
    let out = bin()
        .args(["replay", "--format", "json", "--baseline"])
        .arg(dir.join("p"))
        .arg("--candidate")
        .arg(dir.join("p"))
        .arg(dir.join("m.jsonl"))
        .output()
        .expect("replay");
    assert_eq!(out.status.code(), Some(1));
    let r: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(r["bad_lines"], serde_json::json!([2, 3, 4]));
    assert_eq!((r["messages"].as_u64(), r["changed_messages"].as_u64()), (Some(2), Some(0)));
    let _ = std::fs::remove_dir_all(&dir);
}
