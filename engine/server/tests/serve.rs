//! The server in process: a [`Server`] on a listener bound to port 0 (no port to guess,
//! no race with other tests), a real gRPC client over TCP.

use std::io::{Read as _, Write as _};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use linewall_engine::policy::LoadOptions;
use linewall_proto::v1 as pb;
use linewall_server::{Server, ServerConfig, Source};
use pb::linewall_client::LinewallClient;
use pb::policy_admin_client::PolicyAdminClient;
use tonic::Code;
use tonic::transport::Channel;

/// A server running on this test's runtime; stopped (gracefully) by [`Running::stop`].
struct Running {
    addr: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<anyhow::Result<()>>,
}

impl Running {
    /// Asks the server to stop and waits until it has.
    async fn stop(mut self) -> anyhow::Result<()> {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        (&mut self.task).await.expect("server task")
    }
}

fn options() -> LoadOptions {
    LoadOptions { hash_key: Some(vec![7; 32]), ..LoadOptions::default() }
}

/// Starts `server` on 127.0.0.1:0 and connects a client.
async fn start(server: Server) -> (Running, Channel) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(server.serve(listener, async {
        let _ = rx.await;
    }));
    let ch = Channel::from_shared(format!("http://{addr}")).expect("uri").connect().await.expect("connect");
    (Running { addr, stop: Some(tx), task }, ch)
}

fn msg(text: &str) -> pb::EvaluateRequest {
    pb::EvaluateRequest {
        message: Some(pb::Message {
            id: "m1".into(),
            text: text.into(),
            direction: pb::Direction::Outbound as i32,
            ..Default::default()
        }),
    }
}

fn action(resp: tonic::Response<pb::EvaluateResponse>) -> i32 {
    resp.into_inner().verdict.expect("verdict").action
}

fn temp_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("linewall-server-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("temp dir");
    d
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn evaluates_over_tcp_and_maps_bad_input_to_its_status() {
    let mut config = ServerConfig::new(Source::Builtin, options());
    config.max_message_bytes = 4096;
    let (server, ch) = start(Server::new(config).expect("server")).await;
    let mut client = LinewallClient::new(ch.clone());
    let v = client.evaluate(msg("card 4111 1111 1111 1111")).await.expect("evaluate").into_inner();
    let v = v.verdict.expect("verdict");
    assert_eq!((v.action, v.findings[0].detector.as_str()), (pb::Action::Block as i32, "credit_card"));
    assert_eq!(v.record.expect("record").text, "card ***************1111");

    let err = client.evaluate(pb::EvaluateRequest { message: None }).await.expect_err("no message");
    assert_eq!((err.code(), err.message()), (Code::InvalidArgument, "message: required"));
    let bad_channel = pb::EvaluateRequest {
        message: Some(pb::Message { text: "hi".into(), channel: 99, ..Default::default() }),
    };
    let err = client.evaluate(bad_channel.clone()).await.expect_err("bad enum");
    assert_eq!((err.code(), err.message()), (Code::InvalidArgument, "message.channel: unknown value 99"));
    let err = client.evaluate(msg(&"x".repeat(5000))).await.expect_err("too large");
    assert_eq!(err.code(), Code::ResourceExhausted, "{err:?}");

    // On a stream the same failures are per-message errors naming the field, and the
    // stream goes on.
    let reqs = vec![msg("hello"), bad_channel, msg("card 4111 1111 1111 1111")];
    let mut out = client.evaluate_stream(tokio_stream::iter(reqs)).await.expect("stream").into_inner();
    let mut got = Vec::new();
    while let Some(r) = out.message().await.expect("stream item") {
        got.push(r);
    }
    assert_eq!(got.len(), 3);
    let e = got[1].error.as_ref().expect("error for the bad message");
    assert_eq!(
        (e.code, e.field.as_str(), e.message.as_str()),
        (Code::InvalidArgument as i32, "message.channel", "message.channel: unknown value 99")
    );
    assert_eq!(got[2].verdict.as_ref().expect("verdict").action, pb::Action::Block as i32);
    server.stop().await.expect("clean stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_calls_need_the_token_and_a_stopped_server_refuses_connections() {
    let mut config = ServerConfig::new(Source::Builtin, options());
    config.admin_token = Some("s3cret-token".into());
    let (server, ch) = start(Server::new(config).expect("server")).await;
    let mut admin = PolicyAdminClient::new(ch);
    let with = |token: &str| {
        let mut r = tonic::Request::new(pb::ListPoliciesRequest {});
        r.metadata_mut().insert("authorization", format!("Bearer {token}").parse().expect("header"));
        r
    };
    let err = admin.list_policies(pb::ListPoliciesRequest {}).await.expect_err("no token");
    assert_eq!(err.code(), Code::Unauthenticated);
    // Same length as the real token, one byte off; and a prefix of it.
    for wrong in ["s3cret-tokem", "s3cret"] {
        let err = admin.list_policies(with(wrong)).await.expect_err("wrong token");
        assert_eq!((err.code(), err.message()), (Code::PermissionDenied, "invalid admin token"));
    }
    let list = admin.list_policies(with("s3cret-token")).await.expect("list").into_inner();
    assert!(!list.policies.is_empty());
    let addr = server.addr;
    server.stop().await.expect("clean stop");
    assert!(std::net::TcpStream::connect(addr).is_err(), "the listener is closed once serving ends");

    // Without a token (and no mutual TLS) every admin call is refused.
    let (server, ch) =
        start(Server::new(ServerConfig::new(Source::Builtin, options())).expect("server")).await;
    let err = PolicyAdminClient::new(ch).list_policies(with("anything")).await.expect_err("disabled");
    assert_eq!(err.code(), Code::PermissionDenied);
    assert!(err.message().starts_with("admin API disabled"), "{}", err.message());
    server.stop().await.expect("clean stop");
}

/// GET over plain HTTP/1.1; returns the whole response.
fn http_get(addr: SocketAddr, path: &str) -> String {
    let mut s = std::net::TcpStream::connect(addr).expect("connect metrics");
    s.write_all(format!("GET {path} HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes()).expect("write");
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_metrics_endpoint_counts_what_was_served() {
    let mut server = Server::new(ServerConfig::new(Source::Builtin, options())).expect("server");
    let metrics = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let metrics_addr = metrics.local_addr().expect("addr");
    server.serve_metrics(metrics).expect("metrics");
    let (server, ch) = start(server).await;
    let mut client = LinewallClient::new(ch);
    for text in ["card 4111 1111 1111 1111", "hello"] {
        client.evaluate(msg(text)).await.expect("evaluate");
    }
    let body = tokio::task::spawn_blocking(move || http_get(metrics_addr, "/metrics")).await.expect("get");
    assert!(body.starts_with("HTTP/1.1 200"), "{body}");
    assert!(body.contains("linewall_requests_total{rpc=\"evaluate\"} 2"), "{body}");
    assert!(body.contains("linewall_verdicts_total{action=\"block\"} 1"), "{body}");
    let health = tokio::task::spawn_blocking(move || http_get(metrics_addr, "/healthz")).await.expect("get");
    assert!(health.ends_with("ok\n"), "{health}");
    server.stop().await.expect("clean stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_with_incoming_takes_any_stream_of_connections() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let incoming = tokio_stream::wrappers::TcpListenerStream::new(listener);
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let config = ServerConfig::new(Source::Builtin, options());
    let task = tokio::spawn(linewall_server::serve_with_incoming(config, incoming, async {
        let _ = rx.await;
    }));
    let ch = Channel::from_shared(format!("http://{addr}")).expect("uri").connect().await.expect("connect");
    let a = action(LinewallClient::new(ch).evaluate(msg("hello")).await.expect("evaluate"));
    assert_eq!(a, pb::Action::Allow as i32);
    let _ = tx.send(());
    task.await.expect("task").expect("clean stop");
}

#[test]
fn a_set_that_fails_its_tests_does_not_start() {
    let dir = temp_dir("failing-tests");
    std::fs::write(
        dir.join("p.yaml"),
        "apiVersion: linewall/v1\nkind: Policy\nmetadata: {name: words}\nspec:\n  detectors:\n    - {id: w, terms: [bananas]}\n  rules:\n    - id: r\n      when: {detectors: {any: [{id: w}]}}\n      action: block\n  tests:\n    - name: wrong expectation\n      message: {text: \"I like bananas\"}\n      expect: {action: allow}\n",
    )
    .expect("write");
    let Err(e) = Server::new(ServerConfig::new(Source::Path(dir), options())) else {
        panic!("a set whose tests fail must not be served");
    };
    let e = format!("{e:#}");
    assert!(e.starts_with("policies failed to load:") && e.contains("wrong expectation"), "{e}");
}

/// The test plugin `plugins/tests/hostile`, built by plugins/build.sh (`make test` runs it
/// first; built here when missing).
fn hostile_plugin() -> PathBuf {
    static BUILD: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let path = root().join("plugins/dist/hostile.wasm");
    let _guard = BUILD.lock().unwrap_or_else(|p| p.into_inner());
    if !path.exists() {
        let status = std::process::Command::new("bash")
            .arg(root().join("plugins/build.sh"))
            .status()
            .expect("run plugins/build.sh");
        assert!(status.success(), "plugins/build.sh failed");
    }
    path
}

/// A caller's deadline is answered with DEADLINE_EXCEEDED whatever the machine's speed:
/// the plugin loops until its wall-clock budget (`timeout_ms`, far beyond the deadline)
/// stops it, and fuel is set so high that it cannot stop it first.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deadline_shorter_than_a_slow_plugin_gets_deadline_exceeded() {
    use linewall_plugin_host::{Limits, WasmHost};
    let dir = temp_dir("slow-plugin");
    std::fs::write(
        dir.join("slow.yaml"),
        format!(
            "apiVersion: linewall/v1\nkind: Policy\nmetadata: {{name: slow}}\nspec:\n  detectors:\n    - id: hostile\n      plugin: {{module: '{}', timeout_ms: 3000}}\n  rules:\n    - id: block-flag\n      when: {{detectors: {{any: [{{id: hostile}}]}}}}\n      action: block\n",
            hostile_plugin().display()
        ),
    )
    .expect("write policy");
    let host = WasmHost::new(Limits { fuel_base: u64::MAX / 4, ..Limits::default() }).expect("host");
    let load = LoadOptions { plugin_loader: Some(Arc::new(host)), ..options() };
    let (server, ch) = start(Server::new(ServerConfig::new(Source::Path(dir), load)).expect("server")).await;
    let mut client = LinewallClient::new(ch);

    let mut req = tonic::Request::new(msg("!loop"));
    req.set_timeout(Duration::from_millis(500));
    let err = client.evaluate(req).await.expect_err("deadline");
    // The server's answer (before the caller's own timeout), not the plugin's verdict.
    assert_eq!(
        (err.code(), err.message()),
        (Code::DeadlineExceeded, "the caller's deadline passed before the verdict was ready")
    );
    // The server keeps answering while the stuck call runs out its budget.
    assert_eq!(action(client.evaluate(msg("hello")).await.expect("evaluate")), pb::Action::Allow as i32);
    assert_eq!(action(client.evaluate(msg("a flag")).await.expect("evaluate")), pb::Action::Block as i32);
    server.stop().await.expect("clean stop");
}
