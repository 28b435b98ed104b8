//! The soak, run by hand (ignored by `cargo test`):
//!
//! ```text
//! cargo test --release -p linewall --test soak -- --ignored --nocapture
//! ```
//!
//! 30 s of a steady unary load alone (baseline), then for `LINEWALL_SOAK_SECS` (default
//! 600) the same load while `LINEWALL_SOAK_SLOW` (default 1,000) slow clients hold half
//! the gRPC port and half the metrics port (a byte every 2 s, reconnecting when dropped)
//! and the policies are reloaded every 30 s, valid and broken in turn. Prints requests
//! answered and failed, p50/p99 latency of the unary probe before and during, RSS at the
//! start and the end, reloads and connections refused. Fails on any failed legitimate
//! request.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

mod common;

use common::{http_get, start_with_metrics, temp_dir};
use linewall_proto::v1 as pb;
use pb::linewall_client::LinewallClient;
use pb::policy_admin_client::PolicyAdminClient;
use tokio::io::AsyncWriteExt;

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn rss(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|n| n.parse::<u64>().ok())
        .unwrap_or(0)
        * 1024
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn corpus() -> Vec<String> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../core/testdata/dev-corpus.jsonl");
    std::fs::read_to_string(path)
        .expect("corpus")
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter_map(|v| v["text"].as_str().map(str::to_owned))
        .collect()
}

/// Sends `rate` unary calls a second for `secs` on `ch`, plus a call on a fresh
/// connection every 5 s; returns (latencies of successful calls, failures).
async fn steady_load(
    ch: tonic::transport::Channel,
    addr: String,
    rate: u64,
    secs: u64,
    texts: Arc<Vec<String>>,
) -> (Vec<Duration>, u64) {
    let failed = Arc::new(AtomicU64::new(0));
    let lat = Arc::new(std::sync::Mutex::new(Vec::new()));
    let mut tick = tokio::time::interval(Duration::from_micros(1_000_000 / rate.max(1)));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let end = Instant::now() + Duration::from_secs(secs);
    let mut tasks = tokio::task::JoinSet::new();
    let mut i = 0usize;
    let mut last_fresh = Instant::now();
    while Instant::now() < end {
        tick.tick().await;
        i += 1;
        let text = texts[i % texts.len()].clone();
        let fresh = last_fresh.elapsed() >= Duration::from_secs(5);
        if fresh {
            last_fresh = Instant::now();
        }
        let (ch, addr, failed, lat) = (ch.clone(), addr.clone(), Arc::clone(&failed), Arc::clone(&lat));
        tasks.spawn(async move {
            let started = Instant::now();
            let ch = if fresh {
                // A new client connecting during the attack must get in too.
                match tonic::transport::Channel::from_shared(addr).expect("uri").connect().await {
                    Ok(c) => c,
                    Err(e) => {
                        eprintln!("fresh connection failed: {e}");
                        failed.fetch_add(1, Ordering::Relaxed);
                        return;
                    }
                }
            } else {
                ch
            };
            let req = pb::EvaluateRequest {
                message: Some(pb::Message { id: format!("s{i}"), text, ..Default::default() }),
            };
            let mut req = tonic::Request::new(req);
            req.set_timeout(Duration::from_secs(5));
            match LinewallClient::new(ch).evaluate(req).await {
                Ok(r) if r.get_ref().verdict.is_some() => {
                    if let Ok(mut l) = lat.lock() {
                        l.push(started.elapsed());
                    }
                }
                Ok(_) | Err(_) => {
                    failed.fetch_add(1, Ordering::Relaxed);
                }
            }
        });
        while tasks.try_join_next().is_some() {}
    }
    while tasks.join_next().await.is_some() {}
    let mut l = lat.lock().map(|l| l.clone()).unwrap_or_default();
    l.sort();
    (l, failed.load(Ordering::Relaxed))
}

/// A slow client: connects, then sends one byte every 2 s (an HTTP/2 preface or an HTTP
/// request head that never ends), reconnecting whenever the server drops it.
async fn slow_client(addr: String, head: &'static [u8], stop: Arc<AtomicBool>, drops: Arc<AtomicU64>) {
    while !stop.load(Ordering::Relaxed) {
        let Ok(mut s) = tokio::net::TcpStream::connect(&addr).await else {
            tokio::time::sleep(Duration::from_millis(500)).await;
            continue;
        };
        let mut i = 0;
        while !stop.load(Ordering::Relaxed) {
            let b = head[i % head.len()];
            if s.write_all(&[b]).await.is_err() {
                drops.fetch_add(1, Ordering::Relaxed);
                break;
            }
            i += 1;
            tokio::time::sleep(Duration::from_secs(2)).await;
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a 10-minute soak, run by hand with --release"]
async fn soak_slow_clients_reloads_and_steady_load() {
    let secs = env_or("LINEWALL_SOAK_SECS", 600);
    let rate = env_or("LINEWALL_SOAK_RATE", 200);
    let slow = env_or("LINEWALL_SOAK_SLOW", 1000);
    let dir = temp_dir("soak");
    let policies = dir.join("policies");
    std::fs::create_dir_all(&policies).expect("dir");
    let packs = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../policies");
    for p in ["pci.yaml", "secrets.yaml", "pii-us.yaml"] {
        std::fs::copy(packs.join(p), policies.join(p)).expect("copy pack");
    }
    let (server, ch, metrics_addr) =
        start_with_metrics(&["--policies", policies.to_str().expect("utf-8"), "--no-watch"]).await;
    let pid = server.child.id();
    let grpc_addr = server.addr.trim_start_matches("http://").to_owned();
    let texts = Arc::new(corpus());

    // Baseline.
    let (before, failed_before) =
        steady_load(ch.clone(), server.addr.clone(), rate, 30, Arc::clone(&texts)).await;
    let rss_start = rss(pid);

    // The attack.
    let stop = Arc::new(AtomicBool::new(false));
    let drops = Arc::new(AtomicU64::new(0));
    let mut attackers = tokio::task::JoinSet::new();
    for i in 0..slow {
        let (addr, head): (String, &'static [u8]) = if i % 2 == 0 {
            (grpc_addr.clone(), b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")
        } else {
            (metrics_addr.clone(), b"GET /metrics HTTP/1.1\r\nHost: x\r\nX-Slow: yes\r\n")
        };
        attackers.spawn(slow_client(addr, head, Arc::clone(&stop), Arc::clone(&drops)));
    }
    // Reloads every 30 s: broken, then valid, in turn.
    let reloads = {
        let ch = ch.clone();
        let policies = policies.clone();
        let stop = Arc::clone(&stop);
        tokio::spawn(async move {
            let (mut ok, mut rejected, mut wrong) = (0u64, 0u64, 0u64);
            let mut broken = true;
            while !stop.load(Ordering::Relaxed) {
                tokio::time::sleep(Duration::from_secs(30)).await;
                if stop.load(Ordering::Relaxed) {
                    break;
                }
                let bad = policies.join("zz-broken.yaml");
                if broken {
                    let _ = std::fs::write(
                        &bad,
                        "apiVersion: linewall/v1\nkind: Policy\nmetadata: {name: broken}\nspec:\n  rules:\n    - id: r\n      action: block\n      when: {detectors: {any: [{id: nope}]}}\n",
                    );
                } else {
                    let _ = std::fs::remove_file(&bad);
                }
                let mut req = tonic::Request::new(pb::ReloadRequest {});
                req.metadata_mut().insert("authorization", "Bearer s3cret-token".parse().expect("header"));
                match PolicyAdminClient::new(ch.clone()).reload(req).await {
                    Ok(r) if r.get_ref().ok => {
                        ok += 1;
                        if broken {
                            wrong += 1;
                        }
                    }
                    Ok(_) => {
                        rejected += 1;
                        if !broken {
                            wrong += 1;
                        }
                    }
                    Err(_) => wrong += 1,
                }
                broken = !broken;
            }
            (ok, rejected, wrong)
        })
    };
    // RSS every 30 s of the attack: flat, not just equal at both ends.
    let samples = {
        let stop = Arc::clone(&stop);
        tokio::spawn(async move {
            let mut out = Vec::new();
            while !stop.load(Ordering::Relaxed) {
                out.push(rss(pid) >> 20);
                tokio::time::sleep(Duration::from_secs(30)).await;
            }
            out
        })
    };
    tokio::time::sleep(Duration::from_secs(5)).await;
    let (during, failed_during) =
        steady_load(ch.clone(), server.addr.clone(), rate, secs, Arc::clone(&texts)).await;
    let rss_end = rss(pid);
    stop.store(true, Ordering::Relaxed);
    let (reload_ok, reload_rejected, reload_wrong) = reloads.await.expect("reloader");
    attackers.abort_all();
    let rss_samples = samples.await.unwrap_or_default();
    // The attackers' sockets close; the server lets go of their buffers.
    tokio::time::sleep(Duration::from_secs(5)).await;
    let rss_after = rss(pid);
    let metrics = http_get(&metrics_addr, "/metrics");
    let refused: Vec<&str> =
        metrics.lines().filter(|l| l.starts_with("linewall_refused_connections_total")).collect();

    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    println!("soak: {secs} s at {rate} req/s, {slow} slow clients (half per port), reload every 30 s");
    println!(
        "baseline: {} ok, {failed_before} failed, p50 {:.2} ms, p99 {:.2} ms",
        before.len(),
        ms(percentile(&before, 0.5)),
        ms(percentile(&before, 0.99))
    );
    println!(
        "attack:   {} ok, {failed_during} failed, p50 {:.2} ms, p99 {:.2} ms",
        during.len(),
        ms(percentile(&during, 0.5)),
        ms(percentile(&during, 0.99))
    );
    println!(
        "RSS start {} MB, end {} MB (attackers connected), 5 s after they left {} MB; every 30 s: {rss_samples:?} MB",
        rss_start >> 20,
        rss_end >> 20,
        rss_after >> 20
    );
    println!("reloads: {reload_ok} accepted, {reload_rejected} rejected, {reload_wrong} unexpected");
    println!("slow clients dropped by the server: {}", drops.load(Ordering::Relaxed));
    for l in refused {
        println!("{l}");
    }
    assert_eq!(failed_before + failed_during, 0, "legitimate requests failed");
    assert_eq!(reload_wrong, 0, "a reload had the wrong outcome");
}
