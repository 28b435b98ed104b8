//! `linewall playground` over plain HTTP (no browser): loopback only, JSON only, bounded,
//! no input value echoed in an error, and the engine's verdict and tests in the answers.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

use serde_json::{Value, json};

/// The playground process, killed on drop.
struct Playground {
    child: Child,
    addr: String,
}

impl Drop for Playground {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn fixture() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/playground")
}

fn start() -> Playground {
    let mut child = Command::new(env!("CARGO_BIN_EXE_linewall"))
        .args(["playground", "--listen", "127.0.0.1:0"])
        .arg(fixture())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start linewall playground");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout")).read_line(&mut line).expect("read the address");
    let addr = line
        .trim()
        .strip_prefix("playground: http://")
        .and_then(|a| a.strip_suffix('/'))
        .expect("playground prints its URL")
        .to_owned();
    Playground { child, addr }
}

/// One HTTP/1.1 request; returns the status code and the body.
fn request(
    addr: &str,
    method: &str,
    path: &str,
    host: &str,
    content_type: &str,
    body: &[u8],
) -> (u16, String) {
    let mut s = TcpStream::connect(addr).expect("connect");
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    s.write_all(head.as_bytes()).expect("write head");
    // A refused oversized body may close the connection before it is all written.
    let _ = s.write_all(body);
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    let out = String::from_utf8_lossy(&out).into_owned();
    let status = out.split(' ').nth(1).and_then(|c| c.parse().ok()).expect("status line");
    let body = out.split_once("\r\n\r\n").map(|(_, b)| b.to_owned()).unwrap_or_default();
    (status, body)
}

fn post(p: &Playground, path: &str, body: &Value) -> (u16, Value) {
    let (status, text) =
        request(&p.addr, "POST", path, &p.addr, "application/json", body.to_string().as_bytes());
    (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
}

fn policy() -> String {
    std::fs::read_to_string(fixture().join("bank.yaml")).expect("fixture")
}

#[test]
fn a_non_loopback_listen_address_is_refused() {
    let out = Command::new(env!("CARGO_BIN_EXE_linewall"))
        .args(["playground", "--listen", "0.0.0.0:0"])
        .arg(fixture())
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("loopback"));
}

#[test]
fn playground_serves_a_self_contained_page_and_judges_with_the_engine() {
    let p = start();
    let (status, page) = request(&p.addr, "GET", "/", &p.addr, "text/plain", b"");
    assert_eq!(status, 200);
    assert!(page.contains("<title>Linewall playground</title>"));
    for external in ["src=\"http", "href=\"http", "src='http", "@import", "url(http"] {
        assert!(!page.contains(external), "the page loads {external}…");
    }

    // Loopback hosts only (no DNS rebinding), JSON bodies only (no cross-site form posts).
    let (status, _) = request(&p.addr, "GET", "/api/init", "evil.example:80", "text/plain", b"");
    assert_eq!(status, 403);
    let (status, _) = request(&p.addr, "GET", "/api/init", "localhost", "text/plain", b"");
    assert_eq!(status, 200);
    let (status, _) = request(&p.addr, "POST", "/api/evaluate", &p.addr, "text/plain", b"{}");
    assert_eq!(status, 415);

    let (status, init) = post(&p, "/api/init", &json!({}));
    assert_eq!(status, 405, "{init}");
    let files = json!([{"name": "bank.yaml", "text": policy()}]);

    // The verdict, the highlighted span and the policy's tests.
    let msg = json!({"id": "m1", "text": "pay 4111 1111 1111 1111 now"});
    let (status, r) = post(&p, "/api/evaluate", &json!({"files": files, "message": msg}));
    assert_eq!(status, 200, "{r}");
    assert_eq!(r["verdict"]["action"], "redact");
    assert_eq!(r["verdict"]["delivered"]["text"], "pay ***************1111 now");
    assert_eq!(r["segments"][1], json!({"text": "4111 1111 1111 1111", "detector": "credit_card"}));
    assert_eq!(
        r["tests"],
        json!([{
            "policy": "bank", "name": "a card is masked", "file": "bank.yaml", "line": 11, "column": 13,
            "passed": true, "failure": null
        }])
    );

    // An edit that breaks the test: the test fails, named with its position.
    let broken =
        policy().replace("action: redact\n      redact: {style: mask, keep_last: 4}", "action: block");
    let (_, r) =
        post(&p, "/api/evaluate", &json!({"files": [{"name": "bank.yaml", "text": broken}], "message": msg}));
    assert_eq!(r["verdict"]["action"], "block");
    assert_eq!(r["tests"][0]["passed"], false);
    assert!(r["tests"][0]["failure"].as_str().expect("failure").contains("bank.yaml:10"), "{r}");

    // A set that does not compile: its diagnostics, with positions.
    let bad = policy().replace("id: credit_card", "id: credit_crad");
    let (_, r) =
        post(&p, "/api/evaluate", &json!({"files": [{"name": "bank.yaml", "text": bad}], "message": msg}));
    assert_eq!(r["ok"], false);
    assert_eq!(r["diagnostics"][0]["line"], 7, "{r}");

    // A bad message or file list is refused without echoing what was sent.
    let secret = "4111 1111 1111 1111";
    let (status, r) =
        post(&p, "/api/evaluate", &json!({"files": files, "message": {"text": "x", "direction": secret}}));
    assert_eq!(status, 400);
    assert!(!r.to_string().contains(secret), "{r}");
    let (status, r) = post(&p, "/api/evaluate", &json!({"files": secret, "message": msg}));
    assert_eq!(status, 400);
    assert!(!r.to_string().contains(secret), "{r}");
    let (status, _) = post(
        &p,
        "/api/evaluate",
        &json!({"files": [{"name": "../etc/x.yaml", "text": policy()}], "message": msg}),
    );
    assert_eq!(status, 400);
    let many: Vec<Value> = (0..65).map(|i| json!({"name": format!("p{i}.yaml"), "text": policy()})).collect();
    let (status, r) = post(&p, "/api/evaluate", &json!({"files": many, "message": msg}));
    assert_eq!(status, 400);
    assert!(r["error"].as_str().expect("error").contains("between 1 and 64"), "{r}");

    // Replay against the set loaded at start.
    let jsonl =
        format!("{{\"id\":\"a\",\"text\":\"card {secret}\"}}\n{{\"id\":\"b\",\"text\":\"hi\"}}\nnot json\n");
    let (_, r) =
        post(&p, "/api/replay", &json!({"files": [{"name": "bank.yaml", "text": broken}], "jsonl": jsonl}));
    assert_eq!(r["report"]["messages"], 2, "{r}");
    assert_eq!(r["report"]["bad_lines"], json!([3]));
    assert_eq!(r["report"]["transitions"], json!({"redact→block": 1}));
    assert!(r["html"].as_str().expect("html").contains("redact→block"));
    assert!(!r.to_string().contains(secret), "no text without show_text");
}
