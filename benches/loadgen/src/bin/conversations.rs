//! What joining split values (docs/10-conversations.md) adds per message over gRPC.
//!
//! Starts a `redis-server` on a free 127.0.0.1 port and two `linewall serve` on port 0
//! (each names the port it bound in its start-up line), one with
//! `--conversation-store redis://…`, one with the in-process store, then sends the dev
//! corpus as unary calls from one client, one call at a time, alternating a message
//! without `conversation_id` (the baseline, same server, same run) and the same message
//! in a conversation (1,000 conversations, 4 senders). Prints p50 / p99 of each and
//! what the conversation adds.
//!
//! Run: `cargo build --release -p linewall && cargo run --release -p linewall-loadgen
//! --bin conversations -- --messages 20000` (needs `redis-server`, see
//! scripts/ensure-redis.sh).

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use clap::Parser;
use linewall_proto::v1 as pb;
use pb::linewall_client::LinewallClient;
use tonic::transport::Channel;

/// Flags.
#[derive(Parser, Debug)]
struct Args {
    /// The linewall binary.
    #[arg(long, default_value = "target/release/linewall")]
    bin: PathBuf,
    /// Messages of each kind (alone, in a conversation) per server.
    #[arg(long, default_value_t = 20_000)]
    messages: usize,
    /// JSON Lines corpus of messages with a `text` field.
    #[arg(long, default_value = "engine/core/testdata/dev-corpus.jsonl")]
    corpus: PathBuf,
}

/// A child process killed on drop.
struct Proc(Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

fn start_redis() -> anyhow::Result<(Proc, String)> {
    let port = free_port()?;
    let child = Command::new("redis-server")
        .args(["--port", &port.to_string(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .context("starting redis-server (scripts/ensure-redis.sh installs it)")?;
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        anyhow::ensure!(Instant::now() < deadline, "redis-server did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    Ok((Proc(child), format!("redis://127.0.0.1:{port}")))
}

/// Starts `linewall serve` on `127.0.0.1:0` and connects to the address it names in its
/// start-up line: the server binds a free port itself, so no other process can take the
/// port between choosing and binding it. Its standard error is read to the end by a
/// thread, after the start-up line only to be discarded (a full pipe would stall it).
async fn start_linewall(bin: &PathBuf, store: &str) -> anyhow::Result<(Proc, Channel)> {
    let mut child = Command::new(bin)
        .args(["serve", "--listen", "127.0.0.1:0", "--conversation-store", store])
        .env("LINEWALL_HASH_KEY", "bench-key")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| format!("starting {}", bin.display()))?;
    let stderr = child.stderr.take().context("linewall serve standard error")?;
    let proc = Proc(child);
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut tx = Some(tx);
        for line in std::io::BufRead::lines(std::io::BufReader::new(stderr)).map_while(Result::ok) {
            if line.contains("linewall serving")
                && let Some(tx) = tx.take()
            {
                let _ = tx.send(logged_field(&line, "listen"));
            }
        }
    });
    let deadline = Instant::now() + Duration::from_secs(30);
    let addr = loop {
        match rx.try_recv() {
            Ok(addr) => break addr.context("no listen address in the start-up line")?,
            Err(std::sync::mpsc::TryRecvError::Disconnected) => {
                anyhow::bail!("linewall serve exited before serving")
            }
            Err(std::sync::mpsc::TryRecvError::Empty) => {}
        }
        anyhow::ensure!(Instant::now() < deadline, "linewall did not start");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    loop {
        if let Ok(ch) = Channel::from_shared(format!("http://{addr}"))?.connect().await {
            return Ok((proc, ch));
        }
        anyhow::ensure!(Instant::now() < deadline, "linewall did not accept connections");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A field of a log line, text (` name=value`) or JSON (`"name":"value"`).
fn logged_field(line: &str, name: &str) -> Option<String> {
    let text = line.split(&format!(" {name}=")).nth(1).and_then(|r| r.split_whitespace().next());
    let json = || line.split(&format!("\"{name}\":\"")).nth(1).and_then(|r| r.split('"').next());
    text.or_else(json).map(str::to_owned)
}

fn corpus(path: &PathBuf) -> anyhow::Result<Vec<String>> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    Ok(text
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .map(|v| v["text"].as_str().unwrap_or("").to_owned())
        .collect())
}

fn request(i: usize, text: &str, conversation: bool) -> pb::EvaluateRequest {
    pb::EvaluateRequest {
        message: Some(pb::Message {
            id: format!("m{i}"),
            conversation_id: if conversation { format!("conv-{}", i % 1000) } else { String::new() },
            sender: Some(pb::Party { id: format!("sender-{}", i % 4), ..Default::default() }),
            direction: if i.is_multiple_of(2) { pb::Direction::Inbound } else { pb::Direction::Outbound }
                as i32,
            text: text.to_owned(),
            ..Default::default()
        }),
    }
}

fn pct(v: &mut [Duration], p: f64) -> Duration {
    v.sort_unstable();
    v.get(((v.len().max(1) - 1) as f64 * p).round() as usize).copied().unwrap_or_default()
}

/// (alone, in a conversation) latencies, interleaved one by one.
async fn measure(ch: Channel, texts: &[String], n: usize) -> anyhow::Result<(Vec<Duration>, Vec<Duration>)> {
    let mut client = LinewallClient::new(ch);
    // Warm-up: connections, the store's pool, first-use costs.
    for i in 0..500 {
        client.evaluate(request(i, &texts[i % texts.len()], true)).await?;
    }
    let (mut alone, mut conv) = (Vec::with_capacity(n), Vec::with_capacity(n));
    for i in 0..n {
        let text = &texts[i % texts.len()];
        let t = Instant::now();
        client.evaluate(request(i, text, false)).await?;
        alone.push(t.elapsed());
        let t = Instant::now();
        client.evaluate(request(i, text, true)).await?;
        conv.push(t.elapsed());
    }
    Ok((alone, conv))
}

fn report(name: &str, mut alone: Vec<Duration>, mut conv: Vec<Duration>) {
    let us = |d: Duration| d.as_secs_f64() * 1e6;
    let (a50, a99) = (pct(&mut alone, 0.5), pct(&mut alone, 0.99));
    let (c50, c99) = (pct(&mut conv, 0.5), pct(&mut conv, 0.99));
    println!(
        "{name:<8} alone p50 {:>7.1} µs p99 {:>7.1} µs | conversation p50 {:>7.1} µs p99 {:>7.1} µs | added p50 {:>+7.1} µs p99 {:>+7.1} µs",
        us(a50),
        us(a99),
        us(c50),
        us(c99),
        us(c50) - us(a50),
        us(c99) - us(a99),
    );
}

#[tokio::main(flavor = "multi_thread", worker_threads = 1)]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let texts = corpus(&args.corpus)?;
    anyhow::ensure!(!texts.is_empty(), "empty corpus");
    let (_redis, url) = start_redis()?;
    println!("{} messages of each kind, one client, one call at a time", args.messages);
    for (name, store) in [("redis", url.as_str()), ("memory", "memory")] {
        let (_server, ch) = start_linewall(&args.bin, store).await?;
        let (alone, conv) = measure(ch, &texts, args.messages).await?;
        report(name, alone, conv);
    }
    Ok(())
}
