//! Shared by the end-to-end tests: the real `linewall serve` binary on a free port.

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

/// Starts `linewall serve` with `extra` flags and connects to it.
pub async fn start(extra: &[&str]) -> (Server, Channel) {
    let port = free_port();
    let addr = format!("127.0.0.1:{port}");
    let child = Command::new(env!("CARGO_BIN_EXE_linewall"))
        .args(["serve", "--listen", &addr, "--admin-token", "s3cret-token"])
        .args(extra)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start linewall serve");
    let server = Server { child, addr: format!("http://{addr}") };
    let ch = connect(&server.addr).await;
    (server, ch)
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
