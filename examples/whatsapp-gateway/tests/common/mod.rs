//! Starts the real pieces on 127.0.0.1 ports the OS picks (each reports the one it bound):
//! the `linewall` binary (built from this workspace), the simulator and the gateway.
#![allow(dead_code, clippy::unwrap_used)]

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// Kills the child when dropped.
pub struct Proc(pub Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The `linewall` binary of this workspace, built once per test run.
pub fn linewall_bin() -> PathBuf {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let status = Command::new(cargo)
            .args(["build", "-q", "-p", "linewall", "--bin", "linewall"])
            .current_dir(workspace_root())
            .status()
            .expect("run cargo build -p linewall");
        assert!(status.success(), "building linewall failed");
        // target/debug/deps/<this test> -> target/debug/linewall
        let exe = std::env::current_exe().unwrap();
        let dir = exe.parent().unwrap().parent().unwrap();
        let bin = dir.join("linewall");
        assert!(bin.exists(), "{} missing", bin.display());
        bin
    })
    .clone()
}

/// A fresh file for a server's standard error.
fn log_file(what: &str) -> PathBuf {
    std::env::temp_dir().join(format!("wa-gw-test-{what}-{}.log", uuid::Uuid::new_v4()))
}

/// Waits for `linewall serve`'s start-up line in `log` and returns the port it bound
/// (`--listen 127.0.0.1:0` lets the OS pick one, so no port is guessed).
fn bound_port(log: &std::path::Path, mut exited: impl FnMut() -> bool) -> u16 {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let text = std::fs::read_to_string(log).unwrap_or_default();
        if let Some(line) = text.lines().find(|l| l.contains("linewall serving")) {
            let addr = line.split(" listen=").nth(1).and_then(|r| r.split_whitespace().next());
            return addr
                .and_then(|a| a.parse::<SocketAddr>().ok())
                .unwrap_or_else(|| panic!("no listen address: {line}"))
                .port();
        }
        assert!(!exited(), "linewall exited: {text}");
        assert!(Instant::now() < deadline, "linewall did not start: {text}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Starts `linewall serve` on `port` (a restart keeps the port the gateway knows), or on a
/// port the OS picks; returns it once it serves, and its port.
pub fn start_linewall(port: Option<u16>, noop: bool) -> (Proc, u16) {
    let log = log_file("linewall");
    let mut cmd = Command::new(linewall_bin());
    cmd.args(["serve", "--listen", &format!("127.0.0.1:{}", port.unwrap_or(0))]);
    if noop {
        cmd.arg("--noop");
    }
    let child = cmd
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).expect("log file"))
        .spawn()
        .expect("start linewall");
    let mut proc = Proc(child);
    let bound = bound_port(&log, || matches!(proc.0.try_wait(), Ok(Some(_))));
    let _ = std::fs::remove_file(&log);
    (proc, bound)
}

/// One `linewall serve` shared by the stacks of this test binary (starting one per test on
/// two cores costs more than the tests). A shell watchdog stops it when this process exits.
pub fn shared_linewall() -> u16 {
    static PORT: OnceLock<u16> = OnceLock::new();
    *PORT.get_or_init(|| {
        let log = log_file("shared-linewall");
        let script = format!(
            "\"$0\" serve --listen 127.0.0.1:0 >/dev/null 2>\"$1\" & lw=$!; \
             while kill -0 {pid} 2>/dev/null && kill -0 $lw 2>/dev/null; do sleep 0.5; done; kill $lw",
            pid = std::process::id()
        );
        // Never waited for: the watchdog outlives this process by design, to stop linewall.
        #[allow(clippy::zombie_processes)]
        Command::new("sh")
            .args(["-c", &script])
            .arg(linewall_bin())
            .arg(&log)
            .stdin(Stdio::null())
            .spawn()
            .expect("start linewall watchdog");
        bound_port(&log, || false)
    })
}

/// Spawns one of this crate's binaries and reads its `listening on URL` line.
fn spawn_listening(bin: &str, envs: &[(&str, String)]) -> (Proc, String) {
    let mut cmd = Command::new(bin);
    for (k, v) in envs {
        cmd.env(k, v);
    }
    let mut child = cmd
        .env("RUST_LOG", std::env::var("TEST_LOG").unwrap_or_else(|_| "error".into()))
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap_or_else(|e| panic!("start {bin}: {e}"));
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let url =
        line.trim().strip_prefix("listening on ").unwrap_or_else(|| panic!("{bin} said {line:?}")).to_owned();
    (Proc(child), url)
}

/// Shared secrets of a test stack.
pub const APP_SECRET: &str = "test-app-secret";
pub const TOKEN: &str = "test-bearer-token";
pub const VERIFY: &str = "test-verify-token";
pub const TWILIO_SID: &str = "ACtest00000000000000000000000000";
pub const TWILIO_TOKEN: &str = "test-twilio-token";

/// Linewall + simulator + gateway.
pub struct Stack {
    pub linewall: Option<Proc>,
    pub linewall_port: u16,
    pub sim: Proc,
    pub sim_url: String,
    pub gw: Proc,
    pub url: String,
    pub http: reqwest::Client,
    pub db: PathBuf,
}

/// Options of a stack.
pub struct Opts {
    pub sms_fallback: &'static str,
    pub noop: bool,
    pub crm: bool,
    /// A Linewall of its own (to stop it, or `--noop`), not the shared one.
    pub own_linewall: bool,
}

impl Default for Opts {
    fn default() -> Self {
        Opts { sms_fallback: "auto", noop: false, crm: true, own_linewall: false }
    }
}

fn common_env() -> Vec<(&'static str, String)> {
    vec![
        ("WHATSAPP_APP_SECRET", APP_SECRET.into()),
        ("WHATSAPP_TOKEN", TOKEN.into()),
        ("WHATSAPP_PHONE_NUMBER_ID", "106540352242922".into()),
        ("TWILIO_ACCOUNT_SID", TWILIO_SID.into()),
        ("TWILIO_AUTH_TOKEN", TWILIO_TOKEN.into()),
        ("TWILIO_FROM", "+15005550006".into()),
    ]
}

impl Stack {
    pub async fn start(opts: Opts) -> Stack {
        let (linewall, port) = if opts.own_linewall || opts.noop {
            let (proc, port) = start_linewall(None, opts.noop);
            (Some(proc), port)
        } else {
            (None, shared_linewall())
        };
        let mut env = common_env();
        env.push(("SIM_LISTEN", "127.0.0.1:0".into()));
        let (sim, sim_url) = spawn_listening(env!("CARGO_BIN_EXE_whatsapp-sim"), &env);
        let db = std::env::temp_dir().join(format!("wa-gw-test-{}.db", uuid::Uuid::new_v4()));
        let mut env = common_env();
        env.extend([
            ("GATEWAY_LISTEN", "127.0.0.1:0".to_owned()),
            ("LINEWALL_ADDR", format!("http://127.0.0.1:{port}")),
            ("WHATSAPP_API_BASE", sim_url.clone()),
            ("WHATSAPP_VERIFY_TOKEN", VERIFY.into()),
            ("TWILIO_API_BASE", sim_url.clone()),
            ("GATEWAY_DB", db.display().to_string()),
            ("SMS_FALLBACK", opts.sms_fallback.into()),
            ("WORKER_INTERVAL_MS", "100".into()),
            ("SEND_RETRY_BASE_MS", "20".into()),
            ("LINEWALL_TIMEOUT_MS", "1000".into()),
        ]);
        if opts.crm {
            env.push(("CRM_WEBHOOK_URL", format!("{sim_url}/crm")));
        }
        let (gw, url) = spawn_listening(env!("CARGO_BIN_EXE_whatsapp-gateway"), &env);
        let s =
            Stack { linewall, linewall_port: port, sim, sim_url, gw, url, http: reqwest::Client::new(), db };
        s.sim_config(json!({"gateway_url": s.url})).await;
        s
    }

    pub async fn sim_config(&self, v: Value) {
        let r = self.http.post(format!("{}/_sim/config", self.sim_url)).json(&v).send().await.unwrap();
        assert!(r.status().is_success());
    }

    /// A contact's WhatsApp message through the simulator (signed webhook).
    pub async fn inbound(&self, v: Value) -> Value {
        let r = self.http.post(format!("{}/_sim/inbound", self.sim_url)).json(&v).send().await.unwrap();
        assert!(r.status().is_success(), "simulator: {}", r.status());
        r.json().await.unwrap()
    }

    /// A contact's SMS through the simulator (signed Twilio form post).
    pub async fn sms_inbound(&self, from: &str, body: &str, signature: &str) -> Value {
        let r = self
            .http
            .post(format!("{}/_sim/sms", self.sim_url))
            .json(&json!({"from": from, "body": body, "signature": signature}))
            .send()
            .await
            .unwrap();
        r.json().await.unwrap()
    }

    /// `POST /v1/messages`: HTTP status and answer.
    pub async fn send(&self, v: Value) -> (u16, Value) {
        let r = self.http.post(format!("{}/v1/messages", self.url)).json(&v).send().await.unwrap();
        (r.status().as_u16(), r.json().await.unwrap())
    }

    pub async fn get_json(&self, path: &str) -> Value {
        let r = self.http.get(format!("{}{path}", self.url)).send().await.unwrap();
        assert!(r.status().is_success(), "GET {path}: {}", r.status());
        r.json().await.unwrap()
    }

    pub async fn contact(&self, phone: &str) -> Value {
        self.get_json(&format!("/v1/contacts/{phone}")).await
    }

    pub async fn conversation(&self, phone: &str) -> Vec<Value> {
        self.get_json(&format!("/v1/conversations/{phone}/messages")).await.as_array().unwrap().clone()
    }

    pub async fn archive(&self) -> Vec<Value> {
        let text =
            self.http.get(format!("{}/v1/archive", self.url)).send().await.unwrap().text().await.unwrap();
        text.lines().map(|l| serde_json::from_str(l).unwrap()).collect()
    }

    /// What reached the simulated providers.
    pub async fn sent(&self) -> Vec<Value> {
        let r = self.http.get(format!("{}/_sim/sent", self.sim_url)).send().await.unwrap();
        r.json::<Value>().await.unwrap().as_array().unwrap().clone()
    }

    pub async fn crm(&self) -> Vec<Value> {
        let r = self.http.get(format!("{}/_sim/crm", self.sim_url)).send().await.unwrap();
        r.json::<Value>().await.unwrap().as_array().unwrap().clone()
    }

    /// Opt-in by the accept button, then a message that opens the window `age_secs` ago.
    pub async fn opted_in_contact(&self, phone: &str, age_secs: i64) {
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        self.inbound(json!({"from": phone, "name": "Client", "type": "button", "payload": "OPT_IN_ACCEPT",
            "text": "Yes", "timestamp": now - age_secs - 60}))
            .await;
        self.inbound(json!({"from": phone, "name": "Client", "text": "hello", "timestamp": now - age_secs}))
            .await;
    }

    pub fn stop_linewall(&mut self) {
        self.linewall = None;
    }

    pub fn restart_linewall(&mut self) {
        self.linewall = Some(start_linewall(Some(self.linewall_port), false).0);
    }
}

impl Drop for Stack {
    fn drop(&mut self) {
        for ext in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{ext}", self.db.display()));
        }
    }
}

/// Polls `f` until it returns `Some`, for at most 20 s.
pub async fn eventually<T, F, Fut>(what: &str, mut f: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(v) = f().await {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for: {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
