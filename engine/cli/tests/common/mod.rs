//! Shared by the end-to-end tests: the real `linewall serve` binary. Servers bind port 0
//! (gRPC and metrics) and [`bound_addresses`] reads the bound addresses from the server's
//! start-up log line, so no port is guessed (picking a free port and then starting a
//! server on it races with every other test). [`free_port`] is left for third-party
//! servers that cannot report the port they bound (redis), whose callers retry.

#![allow(dead_code)]

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tonic::transport::Channel;

/// A running `linewall serve`, killed on drop.
pub struct Server {
    pub child: Child,
    pub addr: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A port no other test of this run will pick: tests run in parallel, and a port the OS
/// hands out twice (bind to :0, release, bind again) would make two servers collide.
/// Still a guess (another process may take it before the server binds it): only for
/// servers that cannot bind port 0 and say which port they got, and then with a retry.
pub fn free_port() -> u16 {
    use std::sync::atomic::{AtomicU16, Ordering};
    static NEXT: AtomicU16 = AtomicU16::new(0);
    let base = 20_000 + (std::process::id() % 20_000) as u16;
    loop {
        let port = base + NEXT.fetch_add(1, Ordering::Relaxed) % 5_000;
        if TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
}

/// Starts `linewall serve` on port 0 with `extra` flags and connects to it.
pub async fn start(extra: &[&str]) -> (Server, Channel) {
    let (server, _) = start_logged(extra).await;
    let ch = connect(&server.addr).await;
    (server, ch)
}

/// [`start`] with the metrics endpoint on port 0; also returns its address.
pub async fn start_with_metrics(extra: &[&str]) -> (Server, Channel, String) {
    let mut args = vec!["--metrics-listen", "127.0.0.1:0"];
    args.extend_from_slice(extra);
    let (server, metrics) = start_logged(&args).await;
    let ch = connect(&server.addr).await;
    (server, ch, metrics.expect("metrics address in the log"))
}

async fn start_logged(extra: &[&str]) -> (Server, Option<String>) {
    use std::sync::atomic::{AtomicU32, Ordering};
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let log = std::env::temp_dir().join(format!(
        "linewall-serve-{}-{}.log",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ));
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_linewall"));
    cmd.args(["serve", "--listen", "127.0.0.1:0", "--admin-token", "s3cret-token"]).args(extra);
    spawn(&mut cmd, &log).await
}

/// Spawns `cmd` (a `linewall serve` with `--listen 127.0.0.1:0`) with its standard error
/// in `log`, and waits for the start-up line; returns the server and the metrics address
/// if it serves one.
pub async fn spawn(cmd: &mut Command, log: &std::path::Path) -> (Server, Option<String>) {
    let child = cmd
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(log).expect("log file"))
        .spawn()
        .expect("start linewall serve");
    let mut server = Server { child, addr: String::new() };
    let (grpc, metrics) = bound_addresses(&mut server.child, log).await;
    server.addr = grpc;
    (server, metrics)
}

/// Waits for the start-up line of a `linewall serve` whose standard error goes to `log`;
/// returns the gRPC address it bound (`http://IP:PORT`) and its metrics address, if it
/// serves one. Panics (with the log) if the server exits first or takes over 60 s.
pub async fn bound_addresses(child: &mut Child, log: &std::path::Path) -> (String, Option<String>) {
    let deadline = Instant::now() + Duration::from_secs(60);
    let line = loop {
        let text = std::fs::read_to_string(log).unwrap_or_default();
        if let Some(line) = text.lines().find(|l| l.contains("linewall serving")) {
            break line.to_owned();
        }
        if let Ok(Some(status)) = child.try_wait() {
            panic!("linewall serve exited ({status}): {text}");
        }
        assert!(Instant::now() < deadline, "no start-up line: {text}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let grpc = logged_field(&line, "listen").unwrap_or_else(|| panic!("no listen address: {line}"));
    let metrics = logged_field(&line, "metrics_listen").filter(|m| m != "off");
    (format!("http://{grpc}"), metrics)
}

/// A field of a log line, text (` name=value`) or JSON (`"name":"value"`).
fn logged_field(line: &str, name: &str) -> Option<String> {
    let text = line.split(&format!(" {name}=")).nth(1).and_then(|r| r.split_whitespace().next());
    let json = || line.split(&format!("\"{name}\":\"")).nth(1).and_then(|r| r.split('"').next());
    text.or_else(json).map(str::to_owned)
}

/// Connects to a server that is starting, retrying for up to 30 s.
pub async fn connect(addr: &str) -> Channel {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(ch) = Channel::from_shared(addr.to_string()).expect("uri").connect().await {
            return ch;
        }
        assert!(Instant::now() < deadline, "server did not start listening on {addr}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// GET over plain HTTP/1.1; returns the whole response.
pub fn http_get(addr: &str, path: &str) -> String {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(addr).expect("connect metrics");
    s.write_all(format!("GET {path} HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes()).expect("write");
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    out
}

/// A fresh temporary directory for one test.
pub fn temp_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("linewall-grpc-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("temp dir");
    d
}
