//! The gRPC service end to end: the real `linewall serve` binary on port 0, over TCP. (The
//! server library's own tests run it in process: engine/server/tests.)

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

mod common;

use common::{connect, http_get, spawn, start, start_with_metrics, temp_dir};
use linewall_proto::v1 as pb;
use pb::linewall_client::LinewallClient;
use pb::policy_admin_client::PolicyAdminClient;
use tonic::Code;
use tonic::transport::Channel;

fn msg(text: &str, direction: pb::Direction) -> pb::EvaluateRequest {
    pb::EvaluateRequest {
        message: Some(pb::Message {
            id: "m1".into(),
            text: text.into(),
            direction: direction as i32,
            ..Default::default()
        }),
    }
}

fn corpus() -> Vec<String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../core/testdata/dev-corpus.jsonl");
    std::fs::read_to_string(path)
        .expect("corpus")
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .map(|v| v["text"].as_str().unwrap_or("").to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn evaluate_health_and_bad_input() {
    let (_server, ch) = start(&[]).await;
    let mut client = LinewallClient::new(ch.clone());
    let v = client
        .evaluate(msg("card 4111 1111 1111 1111", pb::Direction::Outbound))
        .await
        .expect("evaluate")
        .into_inner()
        .verdict
        .expect("verdict");
    assert_eq!(v.action, pb::Action::Block as i32);
    assert_eq!(v.id, "m1");
    assert_eq!(v.findings[0].detector, "credit_card");
    assert_eq!(v.record.expect("record").text, "card ***************1111");
    assert!(!v.decision_id.is_empty() && !v.policy_version.is_empty());

    let mut health = tonic_health::pb::health_client::HealthClient::new(ch.clone());
    let status = health
        .check(tonic_health::pb::HealthCheckRequest { service: String::new() })
        .await
        .expect("health")
        .into_inner()
        .status;
    assert_eq!(status, tonic_health::pb::health_check_response::ServingStatus::Serving as i32);

    let big = "x".repeat((1 << 20) + 10);
    let err = client.evaluate(msg(&big, pb::Direction::Outbound)).await.expect_err("oversized");
    assert_eq!(err.code(), Code::ResourceExhausted, "{err:?}");

    let err = client.evaluate(pb::EvaluateRequest { message: None }).await.expect_err("no message");
    assert_eq!(err.code(), Code::InvalidArgument);
    assert!(err.message().contains("message"), "{}", err.message());
    let bad_channel = pb::EvaluateRequest {
        message: Some(pb::Message { text: "hi".into(), channel: 99, ..Default::default() }),
    };
    let err = client.evaluate(bad_channel).await.expect_err("bad enum");
    assert_eq!(err.code(), Code::InvalidArgument);
    assert!(err.message().contains("message.channel"), "{}", err.message());

    // The server still answers after bad input.
    let ok = client.evaluate(msg("see you tomorrow", pb::Direction::Outbound)).await.expect("evaluate");
    assert_eq!(ok.into_inner().verdict.expect("verdict").action, pb::Action::Allow as i32);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stream_of_10000_matches_in_process_verdicts_in_order() {
    let (_server, ch) = start(&[]).await;
    let texts = corpus();
    let set = linewall_engine::policy::PolicySet::builtin(&Default::default()).expect("packs");
    let n = 10_000;
    let requests: Vec<pb::EvaluateRequest> = (0..n)
        .map(|i| pb::EvaluateRequest {
            message: Some(pb::Message {
                id: format!("m{i}"),
                text: texts[i % texts.len()].clone(),
                direction: if i % 2 == 0 { pb::Direction::Inbound } else { pb::Direction::Outbound } as i32,
                ..Default::default()
            }),
        })
        .collect();
    let expected: Vec<(String, String, Vec<String>)> = requests
        .iter()
        .map(|r| {
            let m = r.message.as_ref().expect("message");
            let local = linewall_engine::Message {
                id: m.id.clone(),
                text: m.text.clone(),
                direction: if m.direction == pb::Direction::Inbound as i32 {
                    linewall_engine::message::Direction::Inbound
                } else {
                    linewall_engine::message::Direction::Outbound
                },
                ..Default::default()
            };
            let v = set.evaluate(&local);
            (v.id, v.action.as_str().to_owned(), v.findings.into_iter().map(|f| f.detector).collect())
        })
        .collect();
    let mut client = LinewallClient::new(ch);
    let mut stream = client.evaluate_stream(tokio_stream::iter(requests)).await.expect("stream").into_inner();
    let mut i = 0;
    while let Some(resp) = stream.message().await.expect("response") {
        let v = resp.verdict.expect("verdict");
        let action = match pb::Action::try_from(v.action) {
            Ok(pb::Action::Allow) => "allow",
            Ok(pb::Action::Redact) => "redact",
            Ok(pb::Action::Block) => "block",
            _ => "?",
        };
        let (id, want_action, want_dets) = &expected[i];
        assert_eq!(&v.id, id, "responses come in request order");
        assert_eq!(action, want_action, "message {id}");
        let dets: Vec<String> = v.findings.into_iter().map(|f| f.detector).collect();
        assert_eq!(&dets, want_dets, "message {id}");
        i += 1;
    }
    assert_eq!(i, n);
}

fn with_token<T>(msg: T, token: &str) -> tonic::Request<T> {
    let mut req = tonic::Request::new(msg);
    req.metadata_mut().insert("authorization", format!("Bearer {token}").parse().expect("header"));
    req
}

fn write_policy(dir: &Path, notice: &str) {
    std::fs::write(
        dir.join("p.yaml"),
        format!(
            "apiVersion: linewall/v1\nkind: Policy\nmetadata: {{name: words}}\nspec:\n  detectors:\n    - {{id: secret-word, terms: [bananas]}}\n  rules:\n    - id: block-word\n      when: {{detectors: {{any: [{{id: secret-word}}]}}}}\n      action: block\n      notice: \"{notice}\"\n  tests:\n    - name: word is blocked\n      message: {{text: \"I like bananas\"}}\n      expect: {{action: block}}\n"
        ),
    )
    .expect("write policy");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_needs_a_token_and_reload_rejects_bad_sets() {
    let dir = temp_dir("reload");
    write_policy(&dir, "first");
    let (_server, ch) = start(&["--policies", dir.to_str().expect("utf-8 path"), "--no-watch"]).await;
    let mut admin = PolicyAdminClient::new(ch.clone());
    let err = admin.list_policies(pb::ListPoliciesRequest {}).await.expect_err("no token");
    assert_eq!(err.code(), Code::Unauthenticated);
    let err =
        admin.list_policies(with_token(pb::ListPoliciesRequest {}, "wrong")).await.expect_err("bad token");
    assert_eq!(err.code(), Code::PermissionDenied);
    let list =
        admin.list_policies(with_token(pb::ListPoliciesRequest {}, "s3cret-token")).await.expect("list");
    let list = list.into_inner();
    assert_eq!(list.policies[0].name, "words");
    let v1 = list.policy_version;

    let mut client = LinewallClient::new(ch.clone());
    let notice = |v: pb::EvaluateResponse| v.verdict.expect("verdict").notice;

    // A good set: the new version answers.
    write_policy(&dir, "second");
    let r =
        admin.reload(with_token(pb::ReloadRequest {}, "s3cret-token")).await.expect("reload").into_inner();
    assert!(r.ok, "{}", r.error);
    assert_ne!(r.policy_version, v1);
    let v = client.evaluate(msg("bananas!", pb::Direction::Outbound)).await.expect("evaluate").into_inner();
    assert_eq!(notice(v), "second");

    // A set that does not compile: rejected with the reason, the old set keeps answering.
    std::fs::write(dir.join("p.yaml"), "apiVersion: linewall/v1\nkind: Policy\nmetadata: {name: words}\nspec:\n  rules:\n    - id: r\n      action: block\n      when: {detectors: {any: [{id: nope}]}}\n").expect("write");
    let r =
        admin.reload(with_token(pb::ReloadRequest {}, "s3cret-token")).await.expect("reload").into_inner();
    assert!(!r.ok);
    assert!(r.error.contains("unknown detector `nope`"), "{}", r.error);
    let v = client.evaluate(msg("bananas!", pb::Direction::Outbound)).await.expect("evaluate").into_inner();
    assert_eq!(notice(v), "second");

    // A set whose own tests fail is rejected too.
    write_policy(&dir, "third");
    let text = std::fs::read_to_string(dir.join("p.yaml"))
        .expect("read")
        .replace("expect: {action: block}", "expect: {action: allow}");
    std::fs::write(dir.join("p.yaml"), text).expect("write");
    let r =
        admin.reload(with_token(pb::ReloadRequest {}, "s3cret-token")).await.expect("reload").into_inner();
    assert!(!r.ok);
    assert!(r.error.contains("word is blocked"), "{}", r.error);
    let v = client.evaluate(msg("bananas!", pb::Direction::Outbound)).await.expect("evaluate").into_inner();
    assert_eq!(notice(v), "second");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reflection_lists_the_services() {
    use tonic_reflection::pb::v1::ServerReflectionRequest;
    use tonic_reflection::pb::v1::server_reflection_client::ServerReflectionClient;
    use tonic_reflection::pb::v1::server_reflection_request::MessageRequest;
    use tonic_reflection::pb::v1::server_reflection_response::MessageResponse;
    let (_server, ch) = start(&[]).await;
    let mut client = ServerReflectionClient::new(ch);
    let req = ServerReflectionRequest {
        host: String::new(),
        message_request: Some(MessageRequest::ListServices(String::new())),
    };
    let mut stream =
        client.server_reflection_info(tokio_stream::iter(vec![req])).await.expect("reflection").into_inner();
    let resp = stream.message().await.expect("response").expect("one response");
    let Some(MessageResponse::ListServicesResponse(list)) = resp.message_response else {
        panic!("unexpected reflection answer");
    };
    let names: Vec<String> = list.service.into_iter().map(|s| s.name).collect();
    for want in ["linewall.v1.Linewall", "linewall.v1.PolicyAdmin", "grpc.health.v1.Health"] {
        assert!(names.iter().any(|n| n == want), "{want} missing from {names:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn decision_log_is_chained_verifiable_and_free_of_clear_values() {
    let dir = temp_dir("decisions");
    let log = dir.join("decisions.jsonl");
    let stderr_path = dir.join("server.log");
    let (server, _) = spawn(
        Command::new(env!("CARGO_BIN_EXE_linewall"))
            .args([
                "serve",
                "--listen",
                "127.0.0.1:0",
                "--decision-log",
                log.to_str().expect("utf-8"),
                "--log-format",
                "json",
            ])
            .env("LINEWALL_HASH_KEY", "test-key")
            .env("LINEWALL_AUDIT_KEY", "test-audit-key-of-16-bytes")
            .env("RUST_LOG", "debug"),
        &stderr_path,
    )
    .await;
    let ch = connect(&server.addr).await;

    // Every corpus message with a labeled entity, so the log has real findings.
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../core/testdata/dev-corpus.jsonl");
    let rows: Vec<serde_json::Value> = std::fs::read_to_string(path)
        .expect("corpus")
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .filter(|v: &serde_json::Value| v["entities"].as_array().is_some_and(|e| !e.is_empty()))
        .take(300)
        .collect();
    let mut client = LinewallClient::new(ch);
    let mut findings = 0;
    for (i, row) in rows.iter().enumerate() {
        let text = row["text"].as_str().unwrap_or("");
        let dir = if i % 2 == 0 { pb::Direction::Inbound } else { pb::Direction::Outbound };
        let v =
            client.evaluate(msg(text, dir)).await.expect("evaluate").into_inner().verdict.expect("verdict");
        findings += v.findings.len();
    }
    assert!(findings > 100, "the log must hold real findings, got {findings}");
    let deadline = Instant::now() + Duration::from_secs(10);
    let content = loop {
        let c = std::fs::read_to_string(&log).unwrap_or_default();
        if c.lines().count() >= rows.len() || Instant::now() > deadline {
            break c;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    drop(server);
    assert_eq!(content.lines().count(), rows.len());
    let server_log = std::fs::read_to_string(&stderr_path).unwrap_or_default();
    for row in &rows {
        for e in row["entities"].as_array().into_iter().flatten() {
            let value = e["value"].as_str().unwrap_or("");
            assert!(!content.contains(value), "clear value in the decision log");
            assert!(!server_log.contains(value), "clear value in the server log");
        }
    }

    let anchor = dir.join("decisions.jsonl.anchor");
    let verify = |p: &Path| {
        Command::new(env!("CARGO_BIN_EXE_linewall"))
            .args(["audit", "verify"])
            .arg(p)
            .arg("--anchor")
            .arg(&anchor)
            .env("LINEWALL_AUDIT_KEY", "test-audit-key-of-16-bytes")
            .output()
            .expect("run")
    };
    let ok = verify(&log);
    assert_eq!(ok.status.code(), Some(0), "{}", String::from_utf8_lossy(&ok.stdout));

    let lines: Vec<&str> = content.lines().collect();
    let edited = dir.join("edited.jsonl");
    let mut copy: Vec<String> = lines.iter().map(|l| (*l).to_owned()).collect();
    copy[10] = copy[10].replacen("\"action\":\"block\"", "\"action\":\"allow\"", 1).replacen(
        "\"action\":\"redact\"",
        "\"action\":\"allow\"",
        1,
    );
    if copy[10] == lines[10] {
        copy[10] = copy[10].replacen("\"tenant\":\"\"", "\"tenant\":\"x\"", 1);
    }
    std::fs::write(&edited, copy.join("\n") + "\n").expect("write");
    let out = verify(&edited);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains("line 11: content does not match its hash"));

    let deleted = dir.join("deleted.jsonl");
    let mut copy: Vec<&str> = lines.clone();
    copy.remove(20);
    std::fs::write(&deleted, copy.join("\n") + "\n").expect("write");
    let out = verify(&deleted);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains("line 21: chain broken"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_count_verdicts_and_file_changes_reload_the_set() {
    let dir = temp_dir("watch");
    write_policy(&dir, "first");
    let (_server, ch, metrics_addr) = start_with_metrics(&["--policies", dir.to_str().expect("utf-8")]).await;
    let mut client = LinewallClient::new(ch);
    for text in ["bananas", "card 4111 1111 1111 1111", "hello"] {
        client.evaluate(msg(text, pb::Direction::Outbound)).await.expect("evaluate");
    }
    let body = http_get(&metrics_addr, "/metrics");
    assert!(body.starts_with("HTTP/1.1 200"), "{body}");
    assert!(body.contains("linewall_requests_total{rpc=\"evaluate\"} 3"), "{body}");
    assert!(body.contains("linewall_verdicts_total{action=\"block\"} 1"), "{body}");
    assert!(body.contains("linewall_verdicts_total{action=\"allow\"} 2"), "{body}");
    assert!(body.contains("linewall_detector_hits_total{detector=\"secret-word\"} 1"), "{body}");
    assert!(body.contains("linewall_evaluation_seconds_count 3"), "{body}");
    assert!(http_get(&metrics_addr, "/healthz").ends_with("ok\n"));

    // Editing the file is enough: the watcher reloads, the new notice answers.
    write_policy(&dir, "edited");
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let v =
            client.evaluate(msg("bananas", pb::Direction::Outbound)).await.expect("evaluate").into_inner();
        if v.verdict.expect("verdict").notice == "edited" {
            break;
        }
        assert!(Instant::now() < deadline, "the file change was not picked up");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let body = http_get(&metrics_addr, "/metrics");
    assert!(body.contains("linewall_reloads_total{result=\"ok\"} 1"), "{body}");
}

/// A CA, a server certificate for 127.0.0.1 and a client certificate, all as PEM files.
fn certificates(dir: &Path) -> (PathBuf, PathBuf, PathBuf, String, String) {
    use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair};
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("ca params");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().expect("key")).expect("ca");
    let server_key = KeyPair::generate().expect("key");
    let server = CertificateParams::new(vec!["127.0.0.1".to_owned(), "localhost".to_owned()])
        .expect("params")
        .signed_by(&server_key, &ca)
        .expect("server cert");
    let client_key = KeyPair::generate().expect("key");
    let client = CertificateParams::new(vec!["ops-client".to_owned()])
        .expect("params")
        .signed_by(&client_key, &ca)
        .expect("client cert");
    let w = |name: &str, body: String| {
        let p = dir.join(name);
        std::fs::write(&p, body).expect("write pem");
        p
    };
    let ca_path = w("ca.pem", ca.pem());
    let cert = w("server.pem", server.pem());
    let key = w("server.key", server_key.serialize_pem());
    (ca_path, cert, key, client.pem(), client_key.serialize_pem())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mutual_tls_serves_and_a_client_certificate_authorizes_admin() {
    use tonic::transport::{Certificate, ClientTlsConfig, Identity};
    let dir = temp_dir("tls");
    let (ca, cert, key, client_cert, client_key) = certificates(&dir);
    let (server, _) = spawn(
        Command::new(env!("CARGO_BIN_EXE_linewall"))
            .args(["serve", "--listen", "127.0.0.1:0"])
            .arg("--tls-cert")
            .arg(&cert)
            .arg("--tls-key")
            .arg(&key)
            .arg("--client-ca")
            .arg(&ca),
        &dir.join("server.log"),
    )
    .await;
    let addr = server.addr.trim_start_matches("http://").to_owned();
    let port = addr.rsplit(':').next().expect("port").to_owned();
    let ca_pem = std::fs::read_to_string(&ca).expect("ca");
    let endpoint = |identity: Option<Identity>| {
        let mut tls =
            ClientTlsConfig::new().ca_certificate(Certificate::from_pem(&ca_pem)).domain_name("localhost");
        if let Some(id) = identity {
            tls = tls.identity(id);
        }
        Channel::from_shared(format!("https://localhost:{port}")).expect("uri").tls_config(tls).expect("tls")
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    let ch = loop {
        if let Ok(ch) = endpoint(Some(Identity::from_pem(&client_cert, &client_key))).connect().await {
            break ch;
        }
        assert!(Instant::now() < deadline, "TLS server did not start");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let v = LinewallClient::new(ch.clone())
        .evaluate(msg("card 4111 1111 1111 1111", pb::Direction::Outbound))
        .await
        .expect("evaluate over mTLS");
    assert_eq!(v.into_inner().verdict.expect("verdict").action, pb::Action::Block as i32);
    // No bearer token: the verified client certificate is what authorizes the admin call.
    let list =
        PolicyAdminClient::new(ch).list_policies(pb::ListPoliciesRequest {}).await.expect("admin via cert");
    assert!(!list.into_inner().policies.is_empty());
    // Without a client certificate the handshake is refused.
    let refused = match endpoint(None).connect().await {
        Err(_) => true,
        Ok(ch) => LinewallClient::new(ch).evaluate(msg("hi", pb::Direction::Outbound)).await.is_err(),
    };
    assert!(refused, "a client without a certificate must be refused");
    // Plain text is refused too.
    let plain = Channel::from_shared(format!("http://{addr}")).expect("uri").connect().await;
    let refused = match plain {
        Err(_) => true,
        Ok(ch) => LinewallClient::new(ch).evaluate(msg("hi", pb::Direction::Outbound)).await.is_err(),
    };
    assert!(refused);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_and_node_clients_get_the_verdict() {
    let (server, _ch) = start(&[]).await;
    let addr = server.addr.trim_start_matches("http://").to_owned();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/run-clients.sh");
    let out = tokio::task::spawn_blocking(move || Command::new("bash").arg(script).arg(addr).output())
        .await
        .expect("join")
        .expect("run the example clients");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "clients failed:\n{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    for who in ["== python", "== node"] {
        let section = stdout.split(who).nth(1).expect("section").split("==").next().unwrap_or("");
        assert!(section.contains("action=block"), "{who}: {section}");
        assert!(section.contains("finding detector=credit_card field=text span=5..24"), "{who}: {section}");
        assert!(!section.contains("4111 1111 1111 1111"), "{who}: clear value printed");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tenants_are_judged_only_by_their_own_policies() {
    let dir = temp_dir("tenants");
    for (tenant, word) in [("acme", "bananas"), ("globex", "cherries")] {
        std::fs::write(
            dir.join(format!("{tenant}.yaml")),
            format!("apiVersion: linewall/v1\nkind: Policy\nmetadata: {{name: {tenant}-words}}\nspec:\n  scope: {{tenants: [{tenant}]}}\n  detectors:\n    - {{id: word, terms: [{word}]}}\n  rules:\n    - id: block-word\n      when: {{detectors: {{any: [{{id: word}}]}}}}\n      action: block\n"),
        )
        .expect("write");
    }
    let (_server, ch) = start(&["--policies", dir.to_str().expect("utf-8"), "--no-watch"]).await;
    let mut client = LinewallClient::new(ch);
    let judge = |tenant: &str, text: &str| pb::EvaluateRequest {
        message: Some(pb::Message { tenant: tenant.into(), text: text.into(), ..Default::default() }),
    };
    let mut action = async |tenant: &str, text: &str| {
        client
            .evaluate(judge(tenant, text))
            .await
            .expect("evaluate")
            .into_inner()
            .verdict
            .expect("verdict")
            .action
    };
    assert_eq!(action("acme", "bananas").await, pb::Action::Block as i32);
    assert_eq!(
        action("globex", "bananas").await,
        pb::Action::Allow as i32,
        "acme's policy never judges globex"
    );
    assert_eq!(action("globex", "cherries").await, pb::Action::Block as i32);
    assert_eq!(action("", "cherries").await, pb::Action::Allow as i32);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_finishes_in_flight_work_then_exits() {
    let (mut server, ch) = start(&[]).await;
    let mut client = LinewallClient::new(ch);
    let requests: Vec<pb::EvaluateRequest> = (0..2_000)
        .map(|i| msg(&format!("message {i} card 4111 1111 1111 1111"), pb::Direction::Inbound))
        .collect();
    let mut stream = client.evaluate_stream(tokio_stream::iter(requests)).await.expect("stream").into_inner();
    let first = stream.message().await.expect("first").expect("a response");
    assert!(first.verdict.is_some());
    let pid = server.child.id().to_string();
    let killed = Command::new("kill").args(["-TERM", &pid]).status().expect("kill");
    assert!(killed.success());
    let mut answered = 1;
    while let Ok(Some(_)) = stream.message().await {
        answered += 1;
    }
    assert_eq!(answered, 2_000, "every in-flight message is answered before the server stops");
    let deadline = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(s) = server.child.try_wait().expect("wait") {
            break s;
        }
        assert!(Instant::now() < deadline, "server did not stop after SIGTERM");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(status.success(), "clean exit after SIGTERM: {status:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_toml_config_file_sets_what_flags_do_not() {
    let dir = temp_dir("config");
    let config = dir.join("linewall.toml");
    std::fs::write(
        &config,
        "listen = \"127.0.0.1:0\"\nadmin_token = \"from-file\"\nmax_message_bytes = 1000\n",
    )
    .expect("write config");
    let (server, _) = spawn(
        Command::new(env!("CARGO_BIN_EXE_linewall"))
            .args(["serve", "--max-message-bytes", "5000", "--config"])
            .arg(&config),
        &dir.join("server.log"),
    )
    .await;
    let ch = connect(&server.addr).await;
    let mut client = LinewallClient::new(ch.clone());
    // The flag (5000) wins over the file (1000).
    client
        .evaluate(msg(&"x".repeat(3000), pb::Direction::Outbound))
        .await
        .expect("3000 bytes fit under the flag");
    let err = client.evaluate(msg(&"x".repeat(6000), pb::Direction::Outbound)).await.expect_err("too big");
    assert_eq!(err.code(), Code::ResourceExhausted);
    let list =
        PolicyAdminClient::new(ch).list_policies(with_token(pb::ListPoliciesRequest {}, "from-file")).await;
    assert!(list.is_ok(), "the token from the file authorizes admin calls");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replay_over_grpc_reports_what_the_cli_reports() {
    let dir = temp_dir("replay");
    write_policy(&dir, "first");
    let (_server, ch) = start(&["--policies", dir.to_str().expect("utf-8 path"), "--no-watch"]).await;
    let mut admin = PolicyAdminClient::new(ch.clone());
    // The candidate also blocks apples and makes bananas a redaction.
    let candidate = std::fs::read_to_string(dir.join("p.yaml"))
        .expect("read")
        .replace("terms: [bananas]", "terms: [bananas, apples]");
    let cand_dir = temp_dir("replay-candidate");
    std::fs::write(cand_dir.join("p.yaml"), &candidate).expect("write candidate");
    let texts = ["I like bananas", "apples please", "hello", "apples and bananas", ""];
    let messages: Vec<pb::Message> = texts
        .iter()
        .enumerate()
        .map(|(i, t)| pb::Message { id: format!("m{i}"), text: (*t).into(), ..Default::default() })
        .collect();
    let request = || pb::ReplayRequest {
        files: [("p.yaml".to_owned(), candidate.clone())].into(),
        messages: messages.clone(),
        show_text: false,
    };

    let err = admin.replay(request()).await.expect_err("no token");
    assert_eq!(err.code(), Code::Unauthenticated);
    let bad = pb::ReplayRequest {
        files: [("p.yaml".to_owned(), candidate.replace("id: secret-word}]", "id: nope}]"))].into(),
        ..request()
    };
    let err = admin.replay(with_token(bad, "s3cret-token")).await.expect_err("bad candidate");
    assert_eq!(err.code(), Code::InvalidArgument);
    assert!(err.message().contains("unknown detector `nope`"), "{}", err.message());

    let r = admin.replay(with_token(request(), "s3cret-token")).await.expect("replay").into_inner();
    let report: serde_json::Value = serde_json::from_str(&r.report_json).expect("report is JSON");
    assert_eq!(report["messages"], 4);
    assert_eq!(report["bad_lines"], serde_json::json!([5]), "the empty message cannot be judged");
    assert_eq!(report["transitions"], serde_json::json!({"allow→block": 1}));
    assert_eq!(report["changed"][0]["id"], "m1");
    assert!(!r.report_json.contains("apples please"), "no text without show_text");
    let served = admin
        .list_policies(with_token(pb::ListPoliciesRequest {}, "s3cret-token"))
        .await
        .expect("list")
        .into_inner()
        .policy_version;
    assert_eq!(report["baseline_version"], served.as_str());

    // The CLI on the same sets and messages writes the same report.
    let jsonl: String = texts
        .iter()
        .enumerate()
        .map(|(i, t)| format!("{}\n", serde_json::json!({"id": format!("m{i}"), "text": t})))
        .collect();
    std::fs::write(cand_dir.join("messages.jsonl"), jsonl).expect("write messages");
    let out = Command::new(env!("CARGO_BIN_EXE_linewall"))
        .args(["replay", "--format", "json", "--baseline"])
        .arg(dir.join("p.yaml"))
        .arg("--candidate")
        .arg(cand_dir.join("p.yaml"))
        .arg(cand_dir.join("messages.jsonl"))
        .output()
        .expect("run replay");
    let cli: serde_json::Value = serde_json::from_slice(&out.stdout).expect("CLI report");
    let strip = |mut v: serde_json::Value| {
        for k in ["baseline_version", "candidate_version", "bad_lines", "messages"] {
            v[k] = serde_json::Value::Null;
        }
        v
    };
    assert_eq!(strip(report.clone()), strip(cli.clone()));

    let shown = pb::ReplayRequest { show_text: true, ..request() };
    let r = admin.replay(with_token(shown, "s3cret-token")).await.expect("replay").into_inner();
    assert!(r.report_json.contains("apples please"));
}
