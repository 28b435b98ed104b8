//! Values split across messages (docs/10-conversations.md) end to end: `linewall scan`
//! over the conversation corpus, gRPC unary and stream, the decision log and metrics,
//! in process and with a real `redis-server` (installed by scripts/ensure-redis.sh,
//! which `make test` runs).

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

mod common;

use common::{Server, connect, free_port, http_get, spawn, temp_dir};
use linewall_proto::v1 as pb;
use pb::linewall_client::LinewallClient;
use serde_json::Value;

const HASH_KEY: &str = "conversation-test-key";

/// A `redis-server` on a free 127.0.0.1 port, killed on drop.
struct Redis {
    child: Child,
    port: u16,
    _dir: PathBuf,
}

impl Drop for Redis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Redis {
    /// Starts `redis-server` on a free port. Redis cannot bind port 0 and report the port
    /// it got, so a port is picked first; if another process takes it before Redis binds
    /// it, Redis exits and another port is tried.
    fn start(name: &str) -> Self {
        let dir = temp_dir(&format!("redis-{name}"));
        for _ in 0..10 {
            let port = free_port();
            let child = Command::new("redis-server")
                .args([
                    "--port",
                    &port.to_string(),
                    "--bind",
                    "127.0.0.1",
                    "--save",
                    "",
                    "--appendonly",
                    "no",
                ])
                .current_dir(&dir)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("redis-server not found: run scripts/ensure-redis.sh (`make test` does)");
            let mut redis = Self { child, port, _dir: dir.clone() };
            let deadline = Instant::now() + Duration::from_secs(20);
            loop {
                // Exited: the port was taken.
                if let Ok(Some(_)) = redis.child.try_wait() {
                    break;
                }
                // Only our own server counts, not one that took the port first.
                let pid = format!("process_id:{}\r\n", redis.child.id());
                if redis.command(&["INFO", "server"]).contains(&pid) {
                    return redis;
                }
                assert!(Instant::now() < deadline, "redis-server did not answer on port {port}");
                std::thread::sleep(Duration::from_millis(50));
            }
        }
        panic!("redis-server could not bind any of 10 free ports");
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// One command over RESP; the raw reply (empty if unreachable).
    fn command(&self, args: &[&str]) -> String {
        let Ok(mut s) = TcpStream::connect(("127.0.0.1", self.port)) else { return String::new() };
        let _ = s.set_read_timeout(Some(Duration::from_millis(500)));
        let mut req = format!("*{}\r\n", args.len());
        for a in args {
            req.push_str(&format!("${}\r\n{a}\r\n", a.len()));
        }
        if s.write_all(req.as_bytes()).is_err() {
            return String::new();
        }
        let mut buf = vec![0u8; 1 << 16];
        let n = s.read(&mut buf).unwrap_or(0);
        String::from_utf8_lossy(&buf[..n]).trim_end().to_owned()
    }

    /// Every stored value as raw bytes of the reply (for leak checks), and the keys'
    /// remaining time to live in ms. Keys are checked here to be the prefix and a keyed
    /// hash only (their random hex, like the TTLs, could contain any digit group).
    fn dump(&self) -> (String, Vec<i64>) {
        let keys = self.command(&["KEYS", "*"]);
        let (mut values, mut ttls) = (String::new(), Vec::new());
        for k in keys.lines().filter(|l| !l.starts_with(['*', '$'])) {
            let hash = k.strip_prefix("linewall:conv:").unwrap_or_else(|| panic!("unexpected key {k}"));
            assert!(hash.len() == 32 && hash.bytes().all(|b| b.is_ascii_hexdigit()), "key {k}");
            values.push_str(&self.command(&["GET", k]));
            values.push('\n');
            let ttl = self.command(&["PTTL", k]);
            ttls.push(ttl.trim_start_matches(':').parse().unwrap_or_else(|_| panic!("PTTL reply {ttl}")));
        }
        (values, ttls)
    }
}

fn corpus(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../core/testdata/conversations").join(name)
}

/// `linewall scan` over a file; the verdicts, one per line.
fn scan(file: &Path, extra: &[&str]) -> Vec<Value> {
    let out = Command::new(env!("CARGO_BIN_EXE_linewall"))
        .arg("scan")
        .args(extra)
        .arg(file)
        .env("LINEWALL_HASH_KEY", HASH_KEY)
        .output()
        .expect("run linewall scan");
    assert!(out.status.success(), "scan failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout)
        .expect("utf-8")
        .lines()
        .map(|l| serde_json::from_str(l).expect("verdict json"))
        .collect()
}

fn lines(file: &Path) -> Vec<Value> {
    std::fs::read_to_string(file)
        .expect("corpus")
        .lines()
        .map(|l| serde_json::from_str(l).expect("message json"))
        .collect()
}

/// (split values found, split values expected, findings on negatives).
fn score(positives: &[Value], pos_verdicts: &[Value], negatives: &[Value]) -> (usize, usize, usize) {
    let mut found = 0;
    let mut expected = 0;
    for (m, v) in lines(&corpus("positives.jsonl")).iter().zip(pos_verdicts) {
        let Some(detector) = m["attributes"]["expect"].as_str() else { continue };
        expected += 1;
        let hit = v["findings"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|f| f["detector"] == detector && f["parts"].as_array().is_some_and(|p| !p.is_empty()));
        found += usize::from(hit);
    }
    assert_eq!(positives.len(), pos_verdicts.len());
    let negative_findings = negatives.iter().map(|v| v["findings"].as_array().map_or(0, Vec::len)).sum();
    (found, expected, negative_findings)
}

/// Verdicts without what differs between two runs (decision ids).
fn comparable(v: &[Value]) -> Vec<Value> {
    v.iter()
        .map(|x| {
            let mut x = x.clone();
            x["decision_id"] = Value::Null;
            x
        })
        .collect()
}

#[test]
fn scan_joins_the_corpus_in_file_order_and_no_join_turns_it_off() {
    let positives = scan(&corpus("positives.jsonl"), &[]);
    let negatives = scan(&corpus("negatives.jsonl"), &[]);
    let (found, expected, negative_findings) =
        score(&lines(&corpus("positives.jsonl")), &positives, &negatives);
    let recall = found as f64 / expected as f64;
    eprintln!(
        "conversation corpus: recall {found}/{expected} = {recall:.3}; findings on negatives {negative_findings}"
    );
    assert!(expected >= 150, "corpus too small: {expected}");
    assert!(recall >= 0.95, "recall {recall:.3} ({found}/{expected})");
    assert_eq!(negative_findings, 0, "findings on the negatives");

    let alone = scan(&corpus("positives.jsonl"), &["--no-join"]);
    let (found, _, _) = score(&lines(&corpus("positives.jsonl")), &alone, &[]);
    assert_eq!(found, 0, "--no-join judges every message alone");
}

#[test]
fn scan_behaves_the_same_with_redis_as_in_memory() {
    let redis = Redis::start("scan");
    let url = redis.url();
    for file in ["positives.jsonl", "negatives.jsonl"] {
        let memory = scan(&corpus(file), &[]);
        let shared = scan(&corpus(file), &["--conversation-store", &url]);
        let (memory, shared) = (comparable(&memory), comparable(&shared));
        assert_eq!(memory.len(), shared.len(), "{file}");
        for (m, r) in memory.iter().zip(&shared) {
            assert_eq!(m, r, "{file}: memory and redis disagree");
        }
    }
    // Redis holds fragments only encrypted, under hashed keys, expiring with the window.
    let (dump, ttls) = redis.dump();
    assert!(!ttls.is_empty(), "nothing stored?");
    for clear in ["pos-", "neg-", "agent-1", "card ", "1111"] {
        assert!(!dump.contains(clear), "redis holds `{clear}` in clear");
    }
    assert!(ttls.iter().all(|&t| t <= 120_000), "ttl beyond the window: {ttls:?}");
}

fn message(id: &str, conv: &str, text: &str) -> pb::EvaluateRequest {
    pb::EvaluateRequest {
        message: Some(pb::Message {
            id: id.into(),
            conversation_id: conv.into(),
            sender: Some(pb::Party { id: "agent-7".into(), ..Default::default() }),
            direction: pb::Direction::Outbound as i32,
            text: text.into(),
            ..Default::default()
        }),
    }
}

/// Starts `linewall serve` on port 0 with `extra` flags (and a decision log at `log`);
/// returns it once it has logged its addresses, and its metrics address if it serves one.
async fn serve(extra: &[&str], log: Option<&Path>) -> (Server, Option<String>) {
    use std::sync::atomic::{AtomicU32, Ordering};
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let stderr = std::env::temp_dir().join(format!(
        "linewall-conv-serve-{}-{}.log",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ));
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_linewall"));
    cmd.args(["serve", "--listen", "127.0.0.1:0"])
        .args(extra)
        .env("LINEWALL_HASH_KEY", HASH_KEY)
        .env("LINEWALL_AUDIT_KEY", "conversation-test-audit-key");
    if let Some(log) = log {
        cmd.args(["--decision-log", log.to_str().expect("utf-8")]);
    }
    spawn(&mut cmd, &stderr).await
}

async fn verdict(
    client: &mut LinewallClient<tonic::transport::Channel>,
    req: pb::EvaluateRequest,
) -> pb::Verdict {
    client.evaluate(req).await.expect("evaluate").into_inner().verdict.expect("verdict")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grpc_unary_and_stream_join_and_report_in_log_and_metrics() {
    let dir = temp_dir("conv-grpc");
    let log = dir.join("decisions.jsonl");
    let (server, metrics) = serve(&["--metrics-listen", "127.0.0.1:0"], Some(&log)).await;
    let metrics = metrics.expect("metrics address in the log");
    let ch = connect(&server.addr).await;
    let mut client = LinewallClient::new(ch);

    let first = verdict(&mut client, message("u1", "conv-u", "my card is 4111 1111")).await;
    assert_eq!(first.action, pb::Action::Allow as i32);
    let v = verdict(&mut client, message("u2", "conv-u", "1111 1111")).await;
    assert_eq!(v.action, pb::Action::Block as i32, "pci blocks an outbound split card");
    let f = &v.findings[0];
    assert_eq!((f.detector.as_str(), f.start, f.end), ("credit_card", 0, 9));
    assert_eq!(
        f.parts,
        vec![pb::FindingPart { message_id: "u1".into(), field: "text".into(), start: 11, end: 20 }]
    );
    assert!(v.alerts.iter().any(|a| a.rule == "block-outbound-cards" && a.split));

    // The same conversation over a stream: a 4-part IBAN, in order.
    let pieces = ["IBAN GB82 WE", "ST 1234", "5698 76", "54 32"];
    let reqs: Vec<pb::EvaluateRequest> =
        pieces.iter().enumerate().map(|(i, t)| message(&format!("s{i}"), "conv-s", t)).collect();
    let mut out = client.evaluate_stream(tokio_stream::iter(reqs)).await.expect("stream").into_inner();
    let mut verdicts = Vec::new();
    while let Some(r) = out.message().await.expect("stream item") {
        verdicts.push(r.verdict.expect("verdict"));
    }
    assert_eq!(verdicts.len(), 4);
    assert!(verdicts[..3].iter().all(|v| v.findings.iter().all(|f| f.parts.is_empty())));
    let iban = verdicts[3].findings.iter().find(|f| f.detector == "iban").expect("split iban");
    let ids: Vec<&str> = iban.parts.iter().map(|p| p.message_id.as_str()).collect();
    assert_eq!(ids, ["s0", "s1", "s2"]);

    let body = http_get(&metrics, "/metrics");
    assert!(body.contains("linewall_split_findings_total{detector=\"credit_card\"} 1"), "{body}");
    assert!(body.contains("linewall_split_findings_total{detector=\"iban\"} 1"), "{body}");

    // The log is written off the request path: wait for the last decision to land.
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut text = String::new();
    while !text.contains("\"s3\"") {
        assert!(Instant::now() < deadline, "decision log incomplete: {text}");
        std::thread::sleep(Duration::from_millis(50));
        text = std::fs::read_to_string(&log).unwrap_or_default();
    }
    drop(client);
    drop(server);
    let entries: Vec<Value> = text.lines().map(|l| serde_json::from_str(l).expect("json")).collect();
    let u2 = entries.iter().find(|e| e["message_id"] == "u2").expect("u2 logged");
    let parts = &u2["findings"][0]["parts"];
    assert_eq!(parts[0]["message_id"], "u1", "{u2}");
    assert_eq!((parts[0]["start"].as_u64(), parts[0]["end"].as_u64()), (Some(11), Some(20)));
    for clear in ["4111", "1111 1111", "GB82", "WEST"] {
        assert!(!text.contains(clear), "decision log holds `{clear}`");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_redis_joining_survives_a_restart_and_replicas_share_windows() {
    let redis = Redis::start("grpc");
    let url = redis.url();
    let (a, _) = serve(&["--conversation-store", &url], None).await;
    let (b, _) = serve(&["--conversation-store", &url], None).await;
    let mut ca = LinewallClient::new(connect(&a.addr).await);
    let mut cb = LinewallClient::new(connect(&b.addr).await);

    // Replica A sees the first piece, replica B the rest.
    let v = verdict(&mut ca, message("r1", "conv-r", "card 4111 1111")).await;
    assert_eq!(v.action, pb::Action::Allow as i32);
    let v = verdict(&mut cb, message("r2", "conv-r", "1111 1111")).await;
    assert_eq!(v.action, pb::Action::Block as i32, "{v:?}");
    assert_eq!(v.findings[0].parts[0].message_id, "r1");

    // A restart between two pieces keeps the window.
    let v = verdict(&mut ca, message("r3", "conv-x", "my SSN is 536-22")).await;
    assert!(v.findings.is_empty());
    drop(ca);
    drop(a);
    let (a, _) = serve(&["--conversation-store", &url], None).await;
    let mut ca = LinewallClient::new(connect(&a.addr).await);
    let v = verdict(&mut ca, message("r4", "conv-x", "8174")).await;
    let f = v.findings.iter().find(|f| f.detector == "us_ssn").expect("split ssn after restart");
    assert_eq!(f.parts[0].message_id, "r3");

    // Negatives hold with Redis too: a piece from another conversation does not join.
    verdict(&mut ca, message("r5", "conv-y", "card 4111 1111")).await;
    let v = verdict(&mut cb, message("r6", "conv-z", "1111 1111")).await;
    assert!(v.findings.is_empty(), "{v:?}");

    let (dump, _) = redis.dump();
    for clear in ["conv-", "agent-7", "4111", "536-22", "8174"] {
        assert!(!dump.contains(clear), "redis holds `{clear}` in clear");
    }

    // Redis gone: the message is judged fail-closed, with the reason and no clear value.
    drop(redis);
    let v = verdict(&mut cb, message("r7", "conv-q", "1111 1111")).await;
    assert_eq!(v.action, pb::Action::Block as i32);
    assert!(v.errors.iter().any(|e| e.detector == "conversation"), "{v:?}");
    // A message without a conversation does not need the store.
    let lone = message("r8", "", "hello there");
    assert_eq!(verdict(&mut cb, lone).await.action, pb::Action::Allow as i32);
}

#[test]
fn redis_store_needs_a_hash_key() {
    let out = Command::new(env!("CARGO_BIN_EXE_linewall"))
        .args(["scan", "--conversation-store", "redis://127.0.0.1:1"])
        .arg(corpus("negatives.jsonl"))
        .env_remove("LINEWALL_HASH_KEY")
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("LINEWALL_HASH_KEY"));
}

/// Messages of one sender (`sent_at` in seconds after 09:00), one JSON line each.
fn timed(conv: &str, pieces: &[(&str, u32, &str)]) -> String {
    pieces
        .iter()
        .map(|(id, secs, text)| {
            let at = format!("2026-11-30T09:{:02}:{:02}Z", secs / 60, secs % 60);
            format!(
                "{{\"id\":\"{id}\",\"conversation_id\":\"{conv}\",\"direction\":\"outbound\",\"sender\":{{\"id\":\"a\"}},\"sent_at\":\"{at}\",\"text\":\"{text}\"}}\n"
            )
        })
        .collect()
}

/// Ids of the messages whose verdict has a split credit card.
fn split_cards(verdicts: &[Value]) -> Vec<String> {
    verdicts
        .iter()
        .filter(|v| {
            v["findings"].as_array().into_iter().flatten().any(|f| {
                f["detector"] == "credit_card" && f["parts"].as_array().is_some_and(|p| !p.is_empty())
            })
        })
        .map(|v| v["id"].as_str().unwrap_or_default().to_owned())
        .collect()
}

#[test]
fn scan_window_flags_bound_what_joins() {
    let dir = temp_dir("conv-window");
    let file = dir.join("window.jsonl");
    // A card in 3 parts 20 s apart, and one in 2 parts 90 s apart.
    let text = timed("three", &[("t1", 0, "my card is 4111 1111"), ("t2", 20, "1111"), ("t3", 40, "1111")])
        + &timed("slow", &[("s1", 0, "card 4111 1111"), ("s2", 90, "1111 1111")]);
    std::fs::write(&file, text).expect("write");
    assert_eq!(split_cards(&scan(&file, &[])), ["t3", "s2"], "defaults: 4 messages, 120 s");
    assert_eq!(split_cards(&scan(&file, &["--conversation-messages", "2"])), ["s2"]);
    assert_eq!(split_cards(&scan(&file, &["--conversation-messages", "3"])), ["t3", "s2"]);
    assert_eq!(split_cards(&scan(&file, &["--conversation-window", "60"])), ["t3"]);
    assert_eq!(split_cards(&scan(&file, &["--conversation-window", "30"])), Vec::<String>::new());
    for bad in
        [["--conversation-messages", "1"], ["--conversation-messages", "9"], ["--conversation-window", "0"]]
    {
        let out = Command::new(env!("CARGO_BIN_EXE_linewall"))
            .arg("scan")
            .args(bad)
            .arg(&file)
            .output()
            .expect("run");
        assert_eq!(out.status.code(), Some(2), "{bad:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("must be"), "{bad:?}: {stderr}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_window_flags_bound_what_joins() {
    let (server, _) = serve(&["--conversation-messages", "2", "--conversation-window", "300"], None).await;
    let mut client = LinewallClient::new(connect(&server.addr).await);
    // 3 parts: beyond 2 messages, not joined.
    for (id, text) in [("w1", "my card is 4111 1111"), ("w2", "1111")] {
        assert_eq!(verdict(&mut client, message(id, "conv-w", text)).await.action, pb::Action::Allow as i32);
    }
    let third = verdict(&mut client, message("w3", "conv-w", "1111")).await;
    assert!(third.findings.iter().all(|f| f.parts.is_empty()), "{:?}", third.findings);
    // 2 parts: joined.
    verdict(&mut client, message("x1", "conv-x", "my card is 4111 1111")).await;
    let second = verdict(&mut client, message("x2", "conv-x", "1111 1111")).await;
    assert_eq!(second.action, pb::Action::Block as i32);
    assert!(second.findings.iter().any(|f| f.detector == "credit_card" && !f.parts.is_empty()));
    drop(client);
    drop(server);

    let out = Command::new(env!("CARGO_BIN_EXE_linewall"))
        .args(["serve", "--listen", "127.0.0.1:0", "--conversation-window", "100000"])
        .output()
        .expect("run");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("window must be 1 to 86400"));
}
