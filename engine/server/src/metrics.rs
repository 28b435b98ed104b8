//! Prometheus metrics, served as text on `--metrics-listen` (`/metrics`, `/healthz`).

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::RwLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use linewall_engine::plugin::PluginStats;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Upper bounds of the latency histogram, in seconds.
const BUCKETS: [f64; 12] =
    [0.000_01, 0.000_025, 0.000_05, 0.000_1, 0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.05, 0.1];

/// Every counter the server exports.
#[derive(Default)]
pub struct Metrics {
    requests_unary: AtomicU64,
    requests_stream: AtomicU64,
    allow: AtomicU64,
    redact: AtomicU64,
    block: AtomicU64,
    rejected_input: AtomicU64,
    buckets: [AtomicU64; BUCKETS.len()],
    latency_count: AtomicU64,
    latency_sum_ns: AtomicU64,
    reloads_ok: AtomicU64,
    reloads_rejected: AtomicU64,
    detector_hits: RwLock<HashMap<String, AtomicU64>>,
    detector_errors: RwLock<HashMap<String, AtomicU64>>,
    /// Findings of values split across messages, by detector.
    split_hits: RwLock<HashMap<String, AtomicU64>>,
}

fn bump(map: &RwLock<HashMap<String, AtomicU64>>, key: &str) {
    if let Ok(m) = map.read()
        && let Some(c) = m.get(key)
    {
        c.fetch_add(1, Ordering::Relaxed);
        return;
    }
    if let Ok(mut m) = map.write() {
        m.entry(key.to_owned()).or_default().fetch_add(1, Ordering::Relaxed);
    }
}

impl Metrics {
    /// Counts a request (`stream` for messages of EvaluateStream).
    pub fn request(&self, stream: bool) {
        if stream { &self.requests_stream } else { &self.requests_unary }.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts a request refused for bad input.
    pub fn rejected(&self) {
        self.rejected_input.fetch_add(1, Ordering::Relaxed);
    }

    /// Records one verdict and how long it took.
    pub fn verdict(&self, v: &linewall_engine::Verdict, took: Duration) {
        use linewall_engine::verdict::Action;
        match v.action {
            Action::Allow => &self.allow,
            Action::Redact => &self.redact,
            Action::Block => &self.block,
        }
        .fetch_add(1, Ordering::Relaxed);
        let secs = took.as_secs_f64();
        for (i, b) in BUCKETS.iter().enumerate() {
            if secs <= *b {
                self.buckets[i].fetch_add(1, Ordering::Relaxed);
            }
        }
        self.latency_count.fetch_add(1, Ordering::Relaxed);
        self.latency_sum_ns.fetch_add(u64::try_from(took.as_nanos()).unwrap_or(u64::MAX), Ordering::Relaxed);
        for f in &v.findings {
            bump(&self.detector_hits, &f.detector);
            if !f.parts.is_empty() {
                bump(&self.split_hits, &f.detector);
            }
        }
        for e in &v.errors {
            bump(&self.detector_errors, &e.detector);
        }
    }

    /// Counts a reload.
    pub fn reload(&self, ok: bool) {
        if ok { &self.reloads_ok } else { &self.reloads_rejected }.fetch_add(1, Ordering::Relaxed);
    }

    /// The Prometheus text exposition.
    pub fn render(&self, policy_version: &str, plugins: &[PluginStats]) -> String {
        let g = |a: &AtomicU64| a.load(Ordering::Relaxed);
        let mut s = String::new();
        let _ = writeln!(
            s,
            "# HELP linewall_requests_total Messages received, by API.\n# TYPE linewall_requests_total counter"
        );
        let _ = writeln!(s, "linewall_requests_total{{rpc=\"evaluate\"}} {}", g(&self.requests_unary));
        let _ =
            writeln!(s, "linewall_requests_total{{rpc=\"evaluate_stream\"}} {}", g(&self.requests_stream));
        let _ = writeln!(
            s,
            "# HELP linewall_rejected_total Messages refused for bad input.\n# TYPE linewall_rejected_total counter"
        );
        let _ = writeln!(s, "linewall_rejected_total {}", g(&self.rejected_input));
        let _ = writeln!(
            s,
            "# HELP linewall_verdicts_total Verdicts, by action.\n# TYPE linewall_verdicts_total counter"
        );
        for (a, c) in [("allow", &self.allow), ("redact", &self.redact), ("block", &self.block)] {
            let _ = writeln!(s, "linewall_verdicts_total{{action=\"{a}\"}} {}", g(c));
        }
        let _ = writeln!(
            s,
            "# HELP linewall_evaluation_seconds Time to evaluate one message.\n# TYPE linewall_evaluation_seconds histogram"
        );
        for (i, b) in BUCKETS.iter().enumerate() {
            let _ = writeln!(s, "linewall_evaluation_seconds_bucket{{le=\"{b}\"}} {}", g(&self.buckets[i]));
        }
        let count = g(&self.latency_count);
        let _ = writeln!(s, "linewall_evaluation_seconds_bucket{{le=\"+Inf\"}} {count}");
        let _ = writeln!(s, "linewall_evaluation_seconds_sum {}", g(&self.latency_sum_ns) as f64 / 1e9);
        let _ = writeln!(s, "linewall_evaluation_seconds_count {count}");
        let _ = writeln!(
            s,
            "# HELP linewall_detector_hits_total Findings, by detector.\n# TYPE linewall_detector_hits_total counter"
        );
        if let Ok(m) = self.detector_hits.read() {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            for k in keys {
                let _ = writeln!(s, "linewall_detector_hits_total{{detector=\"{k}\"}} {}", g(&m[k]));
            }
        }
        let _ = writeln!(
            s,
            "# HELP linewall_split_findings_total Findings of values split across messages, by detector.\n# TYPE linewall_split_findings_total counter"
        );
        if let Ok(m) = self.split_hits.read() {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            for k in keys {
                let _ = writeln!(s, "linewall_split_findings_total{{detector=\"{k}\"}} {}", g(&m[k]));
            }
        }
        let _ = writeln!(
            s,
            "# HELP linewall_detector_errors_total Detector failures (plugin traps, timeouts), by detector.\n# TYPE linewall_detector_errors_total counter"
        );
        if let Ok(m) = self.detector_errors.read() {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            for k in keys {
                let _ = writeln!(s, "linewall_detector_errors_total{{detector=\"{k}\"}} {}", g(&m[k]));
            }
        }
        let _ = writeln!(
            s,
            "# HELP linewall_reloads_total Policy reloads, by result.\n# TYPE linewall_reloads_total counter"
        );
        let _ = writeln!(s, "linewall_reloads_total{{result=\"ok\"}} {}", g(&self.reloads_ok));
        let _ = writeln!(s, "linewall_reloads_total{{result=\"rejected\"}} {}", g(&self.reloads_rejected));
        let _ = writeln!(
            s,
            "# HELP linewall_policy_info The policy set serving.\n# TYPE linewall_policy_info gauge"
        );
        let _ = writeln!(s, "linewall_policy_info{{policy_version=\"{policy_version}\"}} 1");
        render_plugins(&mut s, plugins);
        s
    }
}

/// A metric name, its type, its help text and how to read it from the stats.
type Series = (&'static str, &'static str, &'static str, fn(&PluginStats) -> u64);

/// The WASM plugins' counters: calls, failures by kind, breaker state, instances, fuel.
fn render_plugins(s: &mut String, plugins: &[PluginStats]) {
    if plugins.is_empty() {
        return;
    }
    let series: [Series; 5] = [
        ("linewall_plugin_calls_total", "counter", "Plugin calls.", |p| p.calls),
        (
            "linewall_plugin_instances_created_total",
            "counter",
            "Plugin instances created (first use, after a trap, after the call quota).",
            |p| p.instances_created,
        ),
        (
            "linewall_plugin_fuel_consumed_total",
            "counter",
            "Fuel (about one per WASM instruction) consumed by plugin calls.",
            |p| p.fuel_consumed,
        ),
        ("linewall_plugin_breaker_trips_total", "counter", "Times a plugin's circuit breaker opened.", |p| {
            p.breaker_trips
        }),
        (
            "linewall_plugin_breaker_open",
            "gauge",
            "1 while a plugin's circuit breaker is open (its rules apply on_error): alert on it.",
            |p| u64::from(p.breaker_open),
        ),
    ];
    for (name, kind, help, value) in series {
        let _ = writeln!(s, "# HELP {name} {help}\n# TYPE {name} {kind}");
        for p in plugins {
            let _ = writeln!(
                s,
                "{name}{{detector=\"{}\",module=\"{}\"}} {}",
                p.detector,
                p.module_sha256,
                value(p)
            );
        }
    }
    let name = "linewall_plugin_failures_total";
    let _ = writeln!(
        s,
        "# HELP {name} Failed plugin calls, by kind (trap, out_of_fuel, timeout, memory, invalid_output, plugin_error, circuit_open).\n# TYPE {name} counter"
    );
    for p in plugins {
        for (kind, n) in &p.failures {
            let _ = writeln!(
                s,
                "{name}{{detector=\"{}\",module=\"{}\",kind=\"{kind}\"}} {n}",
                p.detector, p.module_sha256
            );
        }
    }
}

/// Serves `/metrics` and `/healthz` over plain HTTP/1.1 until the task is dropped.
pub async fn serve_http(
    listener: tokio::net::TcpListener,
    metrics: std::sync::Arc<Metrics>,
    policies: std::sync::Arc<crate::state::Policies>,
) {
    loop {
        let Ok((mut sock, _)) = listener.accept().await else { continue };
        let metrics = std::sync::Arc::clone(&metrics);
        let policies = std::sync::Arc::clone(&policies);
        tokio::spawn(async move {
            // Read the request head (it may arrive in pieces), at most 4 KiB.
            let mut buf = Vec::with_capacity(1024);
            let mut chunk = [0u8; 1024];
            while !buf.windows(4).any(|w| w == b"\r\n\r\n") && buf.len() < 4096 {
                match tokio::time::timeout(Duration::from_secs(5), sock.read(&mut chunk)).await {
                    Ok(Ok(n)) if n > 0 => buf.extend_from_slice(&chunk[..n]),
                    _ => return,
                }
            }
            let head = String::from_utf8_lossy(&buf);
            let path = head.split_whitespace().nth(1).unwrap_or("/");
            let (status, body) = match path {
                "/metrics" => {
                    let plugins =
                        policies.options().plugin_loader.as_ref().map(|l| l.stats()).unwrap_or_default();
                    ("200 OK", metrics.render(policies.current().version(), &plugins))
                }
                "/healthz" => ("200 OK", String::from("ok\n")),
                _ => ("404 Not Found", String::from("not found\n")),
            };
            let resp = format!(
                "HTTP/1.1 {status}\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = sock.write_all(resp.as_bytes()).await;
        });
    }
}
