//! `linewall lint` and `linewall test` reporting: every mistake of every document in one
//! run, with positions and suggestions, in text, JSON, JUnit and SARIF.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

mod common;

use linewall_proto::v1 as pb;
use pb::policy_admin_client::PolicyAdminClient;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/lint")
}

/// Runs `linewall ARGS` in the fixtures directory (so paths in the output are relative).
fn linewall(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_linewall")).current_dir(fixtures()).args(args).output().expect("run")
}

const FILE: &str = "eleven-mistakes.yaml";

/// The 11 mistakes of the fixture: code and `line:column`.
const EXPECTED: [(&str, &str); 11] = [
    ("unknown-key", "9:5"),
    ("invalid-value", "10:18"),
    ("unknown-detector", "15:22"),
    ("invalid-value", "16:15"),
    ("invalid-value", "24:21"),
    ("invalid-value", "25:13"),
    ("wrong-type", "30:41"),
    ("invalid-value", "33:16"),
    ("invalid", "38:9"),
    ("invalid-value", "43:18"),
    ("unknown-key", "47:9"),
];

#[test]
fn lint_reports_all_eleven_mistakes_of_three_documents_in_one_run() {
    let out = linewall(&["lint", FILE]);
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    let stderr = String::from_utf8(out.stderr).expect("utf-8");
    insta::assert_snapshot!("lint_eleven_mistakes_text", stderr);
}

#[test]
fn lint_json_carries_every_diagnostic_with_its_span() {
    let out = linewall(&["lint", "--format", "json", FILE]);
    assert_eq!(out.status.code(), Some(2));
    let v: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(v["ok"], false);
    let diags = v["diagnostics"].as_array().expect("diagnostics");
    let got: Vec<(String, String)> = diags
        .iter()
        .map(|d| {
            let s = &d["span"]["start"];
            (d["code"].as_str().unwrap_or("").to_owned(), format!("{}:{}", s["line"], s["column"]))
        })
        .collect();
    let want: Vec<(String, String)> =
        EXPECTED.iter().map(|(c, p)| ((*c).to_owned(), (*p).to_owned())).collect();
    assert_eq!(got, want);
    let text = std::fs::read_to_string(fixtures().join(FILE)).expect("fixture");
    for d in diags {
        assert_eq!(d["file"], FILE);
        assert_eq!(d["severity"], "error");
        let (a, b) = (d["span"]["bytes"]["start"].as_u64(), d["span"]["bytes"]["end"].as_u64());
        let (a, b) = (a.expect("start") as usize, b.expect("end") as usize);
        assert!(a < b && b <= text.len(), "{d}");
    }
    // Suggestions are in the policy's spellings.
    let helps: Vec<&str> = diags.iter().filter_map(|d| d["help"].as_str()).collect();
    for want in [
        "`channels`",
        "`outbound`",
        "`credit_card`",
        "`block`",
        "`voice_transcript`",
        "`text`",
        "`label`",
        "`luhn`",
        "`sender_roles`",
    ] {
        assert!(helps.iter().any(|h| h.starts_with(&format!("did you mean {want}?"))), "{want} in {helps:?}");
    }
    assert!(!helps.iter().any(|h| h.contains("CHANNEL_") || h.contains("voice-transcript")), "{helps:?}");
}

#[test]
fn lint_junit_has_one_failure_per_mistake() {
    let out = linewall(&["lint", "--format", "junit", FILE]);
    assert_eq!(out.status.code(), Some(2));
    let xml = String::from_utf8(out.stdout).expect("utf-8");
    let mut reader = quick_xml::Reader::from_str(&xml);
    let (mut cases, mut failures) = (0, Vec::new());
    loop {
        match reader.read_event().expect("well-formed XML") {
            quick_xml::events::Event::Start(e) | quick_xml::events::Event::Empty(e) => {
                match e.name().as_ref() {
                    b"testcase" => cases += 1,
                    b"failure" => {
                        let ty = e.try_get_attribute("type").expect("attr").expect("type");
                        failures.push(String::from_utf8_lossy(&ty.value).into_owned());
                    }
                    _ => {}
                }
            }
            quick_xml::events::Event::Eof => break,
            _ => {}
        }
    }
    assert_eq!(cases, 11);
    let want: Vec<&str> = EXPECTED.iter().map(|(c, _)| *c).collect();
    assert_eq!(failures, want);
}

#[test]
fn lint_sarif_is_2_1_0_with_eleven_located_results() {
    let out = linewall(&["lint", "--format", "sarif", FILE]);
    assert_eq!(out.status.code(), Some(2));
    let v: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(v["version"], "2.1.0");
    let run = &v["runs"][0];
    assert_eq!(run["tool"]["driver"]["name"], "linewall");
    let results = run["results"].as_array().expect("results");
    let got: Vec<(String, String)> = results
        .iter()
        .map(|r| {
            let region = &r["locations"][0]["physicalLocation"]["region"];
            assert_eq!(r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"], FILE);
            assert_eq!(r["level"], "error");
            (
                r["ruleId"].as_str().unwrap_or("").to_owned(),
                format!("{}:{}", region["startLine"], region["startColumn"]),
            )
        })
        .collect();
    let want: Vec<(String, String)> =
        EXPECTED.iter().map(|(c, p)| ((*c).to_owned(), (*p).to_owned())).collect();
    assert_eq!(got, want);
    let rules: Vec<&str> = run["tool"]["driver"]["rules"]
        .as_array()
        .expect("rules")
        .iter()
        .filter_map(|r| r["id"].as_str())
        .collect();
    for (code, _) in EXPECTED {
        assert!(rules.contains(&code), "rule {code} declared");
    }
}

#[test]
fn test_formats_report_cases_and_failures() {
    let dir = std::env::temp_dir().join(format!("linewall-lint-test-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("dir");
    std::fs::write(
        dir.join("p.yaml"),
        "apiVersion: linewall/v1\nkind: Policy\nmetadata:\n  name: p\nspec:\n  rules:\n    - id: cards\n      when:\n        detectors: {any: [{id: credit_card}]}\n      action: block\n  tests:\n    - name: card blocked\n      message: {text: 'card 4111 1111 1111 1111'}\n      expect: {action: block}\n    - name: wrong on purpose\n      message: {text: 'hello'}\n      expect: {action: block}\n",
    )
    .expect("write");
    let run = |format: &str| {
        Command::new(env!("CARGO_BIN_EXE_linewall"))
            .args(["test", "--format", format])
            .arg(&dir)
            .output()
            .expect("run")
    };
    let json = run("json");
    assert_eq!(json.status.code(), Some(1));
    let v: Value = serde_json::from_slice(&json.stdout).expect("JSON");
    assert_eq!(v["tests"]["failed"], 1);
    let failed: Vec<&Value> =
        v["tests"]["cases"].as_array().expect("cases").iter().filter(|c| c["passed"] == false).collect();
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0]["name"], "wrong on purpose");
    assert_eq!(failed[0]["line"], 15);

    let sarif = run("sarif");
    let v: Value = serde_json::from_slice(&sarif.stdout).expect("JSON");
    let results = v["runs"][0]["results"].as_array().expect("results");
    assert_eq!(results.len(), 1);
    assert_eq!(results[0]["ruleId"], "test-failed");
    assert_eq!(results[0]["locations"][0]["physicalLocation"]["region"]["startLine"], 15);

    let junit = String::from_utf8(run("junit").stdout).expect("utf-8");
    let mut reader = quick_xml::Reader::from_str(&junit);
    let (mut cases, mut failures) = (0, 0);
    loop {
        match reader.read_event().expect("well-formed XML") {
            quick_xml::events::Event::Start(e) | quick_xml::events::Event::Empty(e) => {
                match e.name().as_ref() {
                    b"testcase" => cases += 1,
                    b"failure" => failures += 1,
                    _ => {}
                }
            }
            quick_xml::events::Event::Eof => break,
            _ => {}
        }
    }
    assert_eq!(failures, 1);
    // The two policy tests and every built-in detector's examples.
    assert!(cases > 2, "{cases}");
    let _ = std::fs::remove_dir_all(&dir);
}

fn admin_req<T>(m: T) -> tonic::Request<T> {
    let mut req = tonic::Request::new(m);
    req.metadata_mut().insert("authorization", "Bearer s3cret-token".parse().expect("header"));
    req
}

/// `(code, line:column)` of gRPC diagnostics.
fn positions(diags: &[pb::Diagnostic]) -> Vec<(String, String)> {
    diags
        .iter()
        .map(|d| {
            let s = d.start.unwrap_or_default();
            (d.code.clone(), format!("{}:{}", s.line, s.column))
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn validate_and_reload_return_every_diagnostic_structured() {
    let dir = common::temp_dir("sdiag-diagnostics");
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    std::fs::copy(repo.join("policies/pci.yaml"), dir.join("pci.yaml")).expect("copy");
    let (_server, ch) = common::start(&["--policies", dir.to_str().expect("utf-8"), "--no-watch"]).await;
    let mut admin = PolicyAdminClient::new(ch);
    let text = std::fs::read_to_string(fixtures().join(FILE)).expect("fixture");
    let want: Vec<(String, String)> =
        EXPECTED.iter().map(|(c, p)| ((*c).to_owned(), (*p).to_owned())).collect();

    let files = [(FILE.to_owned(), text.clone())].into_iter().collect();
    let r = admin.validate(admin_req(pb::ValidateRequest { files })).await.expect("validate").into_inner();
    assert!(!r.ok);
    assert_eq!(positions(&r.diagnostics), want);
    for d in &r.diagnostics {
        assert_eq!(d.file, FILE);
        assert_eq!(d.severity, pb::DiagnosticSeverity::Error as i32);
    }
    let voice = &r.diagnostics[4];
    assert_eq!(&text[voice.byte_start as usize..voice.byte_end as usize], "voice-transcript");
    assert!(voice.help.starts_with("did you mean `voice_transcript`?"), "{}", voice.help);
    assert_eq!(voice.end.map(|p| (p.line, p.column)), Some((24, 37)));
    assert_eq!(r.error.lines().count(), 11, "{}", r.error);

    let serving =
        admin.list_policies(admin_req(pb::ListPoliciesRequest {})).await.expect("list").into_inner();
    std::fs::write(dir.join(FILE), &text).expect("write");
    let r = admin.reload(admin_req(pb::ReloadRequest {})).await.expect("reload").into_inner();
    assert!(!r.ok);
    assert_eq!(r.policy_version, serving.policy_version, "the old set keeps serving");
    assert_eq!(positions(&r.diagnostics), want);
    assert!(r.diagnostics.iter().all(|d| d.file.ends_with(FILE)));
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_changed_terms_file_outside_the_policy_directory_reloads_the_set() {
    let dir = common::temp_dir("sdiag-terms-watch");
    let (pol, lists) = (dir.join("pol"), dir.join("lists"));
    std::fs::create_dir_all(&pol).expect("dir");
    std::fs::create_dir_all(&lists).expect("dir");
    std::fs::write(lists.join("tickers.txt"), "# watched\nAAPL\n").expect("write");
    std::fs::write(
        pol.join("tickers.yaml"),
        "apiVersion: linewall/v1\nkind: Policy\nmetadata: {name: tickers}\nspec:\n  detectors:\n    - {id: tickers, terms_file: ../lists/tickers.txt}\n  rules:\n    - {id: r, when: {detectors: {any: [{id: tickers}]}}, action: block}\n",
    )
    .expect("write");
    let (_server, ch) = common::start(&["--policies", pol.to_str().expect("utf-8")]).await;
    let mut client = pb::linewall_client::LinewallClient::new(ch);
    let mut judge = async |text: &str| {
        let message = pb::Message { id: "m".into(), text: text.into(), ..Default::default() };
        let r = client.evaluate(pb::EvaluateRequest { message: Some(message) }).await.expect("evaluate");
        r.into_inner().verdict.expect("verdict").action
    };
    assert_eq!(judge("buy AAPL").await, pb::Action::Block as i32);
    assert_eq!(judge("buy TSLA").await, pb::Action::Allow as i32);
    std::fs::write(lists.join("tickers.txt"), "# watched\nAAPL\nTSLA\n").expect("write");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while judge("buy TSLA").await != pb::Action::Block as i32 {
        assert!(std::time::Instant::now() < deadline, "the terms file change was not picked up");
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    let _ = std::fs::remove_dir_all(&dir);
}
