//! Load generator for `linewall serve`.
//!
//! Starts the server twice on free ports — once normally, once with `--noop` (same
//! transport, no evaluation) — and drives each with the same load: unary calls from N
//! concurrent clients, then one bidirectional stream per client. Prints throughput and
//! p50 / p99 / p99.9 latency for both, and the ratio real / no-op.
//!
//! Run: `cargo run --release -p linewall-loadgen -- --seconds 10 --clients 16`
//! (builds nothing itself: it runs `target/release/linewall` unless `--bin` says otherwise).

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use clap::Parser;
use linewall_proto::v1 as pb;
use pb::linewall_client::LinewallClient;
use tonic::transport::Channel;

/// Load generator flags.
#[derive(Parser, Debug)]
struct Args {
    /// The linewall binary.
    #[arg(long, default_value = "target/release/linewall")]
    bin: PathBuf,
    /// Seconds per phase.
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// Concurrent clients.
    #[arg(long, default_value_t = 16)]
    clients: usize,
    /// Messages per second to offer in the paced phase (0: skip it).
    #[arg(long, default_value_t = 20_000)]
    rate: u64,
    /// JSON Lines corpus of messages with a `text` field.
    #[arg(long, default_value = "engine/core/testdata/dev-corpus.jsonl")]
    corpus: PathBuf,
}

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

async fn start(bin: &PathBuf, noop: bool) -> anyhow::Result<(Server, Channel)> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    let addr = format!("127.0.0.1:{port}");
    let mut cmd = Command::new(bin);
    cmd.args(["serve", "--listen", &addr]).stdout(Stdio::null()).stderr(Stdio::null());
    if noop {
        cmd.arg("--noop");
    }
    let server = Server(cmd.spawn().with_context(|| format!("starting {}", bin.display()))?);
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(ch) = Channel::from_shared(format!("http://{addr}"))?.connect().await {
            return Ok((server, ch));
        }
        anyhow::ensure!(Instant::now() < deadline, "server did not start");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn requests(corpus: &PathBuf) -> anyhow::Result<Vec<pb::EvaluateRequest>> {
    let text = std::fs::read_to_string(corpus).with_context(|| format!("reading {}", corpus.display()))?;
    Ok(text
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .enumerate()
        .map(|(i, v)| pb::EvaluateRequest {
            message: Some(pb::Message {
                id: format!("m{i}"),
                text: v["text"].as_str().unwrap_or("").to_owned(),
                direction: if i % 2 == 0 { pb::Direction::Inbound } else { pb::Direction::Outbound } as i32,
                ..Default::default()
            }),
        })
        .collect())
}

struct Outcome {
    messages: usize,
    secs: f64,
    latencies: Vec<Duration>,
}

impl Outcome {
    fn rate(&self) -> f64 {
        self.messages as f64 / self.secs
    }
    fn pct(&mut self, p: f64) -> Duration {
        if self.latencies.is_empty() {
            return Duration::ZERO;
        }
        self.latencies.sort_unstable();
        let i = ((self.latencies.len() as f64 - 1.0) * p).round() as usize;
        self.latencies[i]
    }
}

/// Unary calls from `clients` tasks, as fast as they go, or paced to `rate` msgs/s.
async fn unary(ch: Channel, reqs: Arc<Vec<pb::EvaluateRequest>>, args: &Args, rate: Option<u64>) -> Outcome {
    let end = Instant::now() + Duration::from_secs(args.seconds);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..args.clients {
        let mut client = LinewallClient::new(ch.clone());
        let reqs = Arc::clone(&reqs);
        let interval = rate.map(|r| Duration::from_secs_f64(args.clients as f64 / r as f64));
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            let mut i = c;
            let mut next = Instant::now();
            while Instant::now() < end {
                if let Some(iv) = interval {
                    tokio::time::sleep_until(next.into()).await;
                    next += iv;
                }
                let t = Instant::now();
                if client.evaluate(reqs[i % reqs.len()].clone()).await.is_ok() {
                    lat.push(t.elapsed());
                }
                i += 7;
            }
            lat
        }));
    }
    let mut latencies = Vec::new();
    for t in tasks {
        latencies.extend(t.await.unwrap_or_default());
    }
    Outcome { messages: latencies.len(), secs: started.elapsed().as_secs_f64(), latencies }
}

/// One bidirectional stream per client, sending in batches and timing each response.
async fn streaming(ch: Channel, reqs: Arc<Vec<pb::EvaluateRequest>>, args: &Args) -> Outcome {
    let end = Instant::now() + Duration::from_secs(args.seconds);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..args.clients {
        let mut client = LinewallClient::new(ch.clone());
        let reqs = Arc::clone(&reqs);
        tasks.push(tokio::spawn(async move {
            let (tx, rx) = tokio::sync::mpsc::channel::<pb::EvaluateRequest>(1024);
            let (ttx, mut trx) = tokio::sync::mpsc::unbounded_channel::<Instant>();
            let sender = tokio::spawn(async move {
                let mut i = c;
                while Instant::now() < end {
                    let _ = ttx.send(Instant::now());
                    if tx.send(reqs[i % reqs.len()].clone()).await.is_err() {
                        break;
                    }
                    i += 7;
                }
            });
            let mut lat = Vec::new();
            if let Ok(resp) = client.evaluate_stream(tokio_stream::wrappers::ReceiverStream::new(rx)).await {
                let mut stream = resp.into_inner();
                while let Ok(Some(_)) = stream.message().await {
                    if let Some(t) = trx.recv().await {
                        lat.push(t.elapsed());
                    }
                }
            }
            let _ = sender.await;
            lat
        }));
    }
    let mut latencies = Vec::new();
    for t in tasks {
        latencies.extend(t.await.unwrap_or_default());
    }
    Outcome { messages: latencies.len(), secs: started.elapsed().as_secs_f64(), latencies }
}

fn row(name: &str, o: &mut Outcome) -> String {
    format!(
        "{name:<28} {:>12.0} {:>10.1} {:>10.1} {:>10.1}",
        o.rate(),
        o.pct(0.50).as_secs_f64() * 1e6,
        o.pct(0.99).as_secs_f64() * 1e6,
        o.pct(0.999).as_secs_f64() * 1e6
    )
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let reqs = Arc::new(requests(&args.corpus)?);
    println!(
        "linewall load: {} s per phase, {} clients, {} corpus messages",
        args.seconds,
        args.clients,
        reqs.len()
    );
    println!("{:<28} {:>12} {:>10} {:>10} {:>10}", "phase", "msgs/s", "p50 µs", "p99 µs", "p99.9 µs");
    let mut rates = Vec::new();
    for noop in [true, false] {
        let label = if noop { "noop" } else { "linewall" };
        let (_server, ch) = start(&args.bin, noop).await?;
        let mut u = unary(ch.clone(), Arc::clone(&reqs), &args, None).await;
        println!("{}", row(&format!("{label} unary"), &mut u));
        let mut s = streaming(ch.clone(), Arc::clone(&reqs), &args).await;
        println!("{}", row(&format!("{label} streaming"), &mut s));
        if args.rate > 0 {
            let mut p = unary(ch.clone(), Arc::clone(&reqs), &args, Some(args.rate)).await;
            println!("{}", row(&format!("{label} unary @{}/s", args.rate), &mut p));
        }
        rates.push((u.rate(), s.rate()));
    }
    let (noop, real) = (rates[0], rates[1]);
    println!("ratio linewall / noop: unary {:.2}, streaming {:.2}", real.0 / noop.0, real.1 / noop.1);
    Ok(())
}
