//! Prometheus metrics (`prometheus-client`): every series the server exports. Served by
//! [`crate::metrics_http`].

use std::sync::Mutex;
use std::sync::atomic::AtomicI64;
use std::time::Duration;

use linewall_engine::plugin::PluginStats;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

/// Upper bounds of the latency histogram, in seconds.
const BUCKETS: [f64; 12] =
    [0.000_01, 0.000_025, 0.000_05, 0.000_1, 0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.05, 0.1];

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RpcLabel {
    rpc: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ReasonLabel {
    reason: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StageLabel {
    stage: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ActionLabel {
    action: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct DetectorLabel {
    detector: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RuleLabels {
    policy: String,
    rule: String,
    action: &'static str,
    mode: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ResultLabel {
    result: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct VersionLabel {
    policy_version: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ListenerLabel {
    listener: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RefusedLabels {
    listener: &'static str,
    reason: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PluginLabels {
    detector: String,
    module: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PluginFailureLabels {
    detector: String,
    module: String,
    kind: String,
}

/// The WASM plugins' series, refilled from their stats at each scrape.
#[derive(Default)]
struct PluginSeries {
    calls: Family<PluginLabels, Gauge<i64, AtomicI64>>,
    instances: Family<PluginLabels, Gauge<i64, AtomicI64>>,
    fuel: Family<PluginLabels, Gauge<i64, AtomicI64>>,
    trips: Family<PluginLabels, Gauge<i64, AtomicI64>>,
    open: Family<PluginLabels, Gauge<i64, AtomicI64>>,
    failures: Family<PluginFailureLabels, Gauge<i64, AtomicI64>>,
}

/// Every series the server exports.
pub struct Metrics {
    registry: Registry,
    requests: Family<RpcLabel, Counter>,
    rejected: Family<ReasonLabel, Counter>,
    verdicts: Family<ActionLabel, Counter>,
    latency: Histogram,
    running: Gauge<i64, AtomicI64>,
    abandoned: Family<StageLabel, Counter>,
    detector_hits: Family<DetectorLabel, Counter>,
    /// Findings of values split across messages (docs/10-conversations.md), by detector.
    split_findings: Family<DetectorLabel, Counter>,
    detector_errors: Family<DetectorLabel, Counter>,
    rule_matches: Family<RuleLabels, Counter>,
    reloads: Family<ResultLabel, Counter>,
    last_reload_ok: Gauge<i64, AtomicI64>,
    policy_info: Family<VersionLabel, Gauge<i64, AtomicI64>>,
    open_connections: Family<ListenerLabel, Gauge<i64, AtomicI64>>,
    refused_connections: Family<RefusedLabels, Counter>,
    accept_errors: Family<ListenerLabel, Counter>,
    plugins: PluginSeries,
    policy_files_vanished: Counter,
    policy_reload_shrinks: Counter,
    decision_log: crate::decision_log::LogStats,
    /// Scrapes refill the per-scrape families; one at a time.
    scrape: Mutex<()>,
}

/// An evaluation counted in `linewall_evaluations_running` while this lives.
pub struct Running(Gauge<i64, AtomicI64>);

impl Drop for Running {
    fn drop(&mut self) {
        self.0.dec();
    }
}

fn u64_to_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::default();
        let requests = Family::<RpcLabel, Counter>::default();
        registry.register("linewall_requests", "Messages received, by API", requests.clone());
        let rejected = Family::<ReasonLabel, Counter>::default();
        registry.register(
            "linewall_rejected",
            "Messages refused for bad input, by reason (too_large, invalid, malformed)",
            rejected.clone(),
        );
        let verdicts = Family::<ActionLabel, Counter>::default();
        registry.register("linewall_verdicts", "Verdicts, by action", verdicts.clone());
        let latency = Histogram::new(BUCKETS);
        registry.register("linewall_evaluation_seconds", "Time to evaluate one message", latency.clone());
        let running = Gauge::<i64, AtomicI64>::default();
        registry.register("linewall_evaluations_running", "Evaluations in progress now", running.clone());
        let abandoned = Family::<StageLabel, Counter>::default();
        registry.register(
            "linewall_evaluations_abandoned",
            "Evaluations stopped because the caller left or its deadline passed, by stage (queued: before it started; running: interrupted)",
            abandoned.clone(),
        );
        let detector_hits = Family::<DetectorLabel, Counter>::default();
        registry.register("linewall_detector_hits", "Findings, by detector", detector_hits.clone());
        let split_findings = Family::<DetectorLabel, Counter>::default();
        registry.register(
            "linewall_split_findings",
            "Findings of values split across messages, by detector",
            split_findings.clone(),
        );
        let detector_errors = Family::<DetectorLabel, Counter>::default();
        registry.register(
            "linewall_detector_errors",
            "Detector failures (plugin traps, timeouts), by detector",
            detector_errors.clone(),
        );
        let rule_matches = Family::<RuleLabels, Counter>::default();
        registry.register(
            "linewall_rule_matches",
            "Rules that fired, by policy and rule; mode=\"monitor\" counts what the rule would have done",
            rule_matches.clone(),
        );
        let reloads = Family::<ResultLabel, Counter>::default();
        registry.register("linewall_reloads", "Policy reloads, by result", reloads.clone());
        let last_reload_ok = Gauge::<i64, AtomicI64>::default();
        last_reload_ok.set(1);
        registry.register(
            "linewall_last_reload_success",
            "1 if the last policy reload (or the start-up load) succeeded, 0 if it was rejected",
            last_reload_ok.clone(),
        );
        let policy_info = Family::<VersionLabel, Gauge<i64, AtomicI64>>::default();
        registry.register("linewall_policy_info", "The policy set serving", policy_info.clone());
        let open_connections = Family::<ListenerLabel, Gauge<i64, AtomicI64>>::default();
        registry.register(
            "linewall_open_connections",
            "Connections open now, by listener (grpc, metrics)",
            open_connections.clone(),
        );
        let refused_connections = Family::<RefusedLabels, Counter>::default();
        registry.register(
            "linewall_refused_connections",
            "Connections closed unserved, by listener and reason (limit, handshake_timeout)",
            refused_connections.clone(),
        );
        let accept_errors = Family::<ListenerLabel, Counter>::default();
        registry.register(
            "linewall_accept_errors",
            "Failed accepts (e.g. out of file descriptors), by listener",
            accept_errors.clone(),
        );
        let plugins = PluginSeries::default();
        registry.register("linewall_plugin_calls_total", "Plugin calls (total)", plugins.calls.clone());
        registry.register(
            "linewall_plugin_instances_created_total",
            "Plugin instances created (first use, after a trap, after the call quota; total)",
            plugins.instances.clone(),
        );
        registry.register(
            "linewall_plugin_fuel_consumed_total",
            "Fuel (about one per WASM instruction) consumed by plugin calls (total)",
            plugins.fuel.clone(),
        );
        registry.register(
            "linewall_plugin_breaker_trips_total",
            "Times a plugin's circuit breaker opened (total)",
            plugins.trips.clone(),
        );
        registry.register(
            "linewall_plugin_breaker_open",
            "1 while a plugin's circuit breaker is open (its rules apply on_error): alert on it",
            plugins.open.clone(),
        );
        registry.register(
            "linewall_plugin_failures_total",
            "Failed plugin calls, by kind (trap, out_of_fuel, timeout, memory, invalid_output, plugin_error, circuit_open; total)",
            plugins.failures.clone(),
        );
        let policy_files_vanished = Counter::default();
        registry.register(
            "linewall_policy_files_vanished",
            "Policy files gone in an accepted reload (their policies stopped serving)",
            policy_files_vanished.clone(),
        );
        let policy_reload_shrinks = Counter::default();
        registry.register(
            "linewall_policy_reload_shrinks",
            "Accepted reloads that dropped policies, rules or tests of the serving set",
            policy_reload_shrinks.clone(),
        );
        let decision_log = crate::decision_log::LogStats::default();
        decision_log.register(&mut registry);
        Self {
            registry,
            policy_files_vanished,
            policy_reload_shrinks,
            decision_log,
            requests,
            rejected,
            verdicts,
            latency,
            running,
            abandoned,
            detector_hits,
            split_findings,
            detector_errors,
            rule_matches,
            reloads,
            last_reload_ok,
            policy_info,
            open_connections,
            refused_connections,
            accept_errors,
            plugins,
            scrape: Mutex::new(()),
        }
    }
}

impl Metrics {
    /// Counts a request (`stream` for messages of EvaluateStream).
    pub fn request(&self, stream: bool) {
        let rpc = if stream { "evaluate_stream" } else { "evaluate" };
        self.requests.get_or_create(&RpcLabel { rpc }).inc();
    }

    /// Counts a request refused for bad input: `too_large`, `invalid` or `malformed`.
    pub fn rejected(&self, reason: &'static str) {
        self.rejected.get_or_create(&ReasonLabel { reason }).inc();
    }

    /// Records one verdict and how long it took.
    pub fn verdict(&self, v: &linewall_engine::Verdict, took: Duration) {
        self.verdicts.get_or_create(&ActionLabel { action: v.action.as_str() }).inc();
        self.latency.observe(took.as_secs_f64());
        for f in &v.findings {
            self.detector_hits.get_or_create(&DetectorLabel { detector: f.detector.clone() }).inc();
            if !f.parts.is_empty() {
                self.split_findings.get_or_create(&DetectorLabel { detector: f.detector.clone() }).inc();
            }
        }
        for e in &v.errors {
            self.detector_errors.get_or_create(&DetectorLabel { detector: e.detector.clone() }).inc();
        }
        for m in &v.matched {
            let mode = match m.mode {
                linewall_engine::verdict::Mode::Enforce => "enforce",
                linewall_engine::verdict::Mode::Monitor => "monitor",
            };
            self.rule_matches
                .get_or_create(&RuleLabels {
                    policy: m.policy.clone(),
                    rule: m.rule.clone(),
                    action: m.action.as_str(),
                    mode,
                })
                .inc();
        }
    }

    /// Counts an evaluation in progress until the returned guard is dropped.
    pub fn evaluation_started(&self) -> Running {
        self.running.inc();
        Running(self.running.clone())
    }

    /// Counts an evaluation abandoned for a caller that left: `queued` (never started)
    /// or `running` (interrupted).
    pub fn abandoned(&self, stage: &'static str) {
        self.abandoned.get_or_create(&StageLabel { stage }).inc();
    }

    /// Counts a reload and remembers its result for `/healthz`.
    pub fn reload(&self, ok: bool) {
        self.reloads.get_or_create(&ResultLabel { result: if ok { "ok" } else { "rejected" } }).inc();
        self.last_reload_ok.set(i64::from(ok));
    }

    /// Counts policy files that vanished in an accepted reload.
    pub fn policy_files_vanished(&self, n: usize) {
        self.policy_files_vanished.inc_by(n as u64);
    }

    /// Counts an accepted reload that dropped policies, rules or tests.
    pub fn policy_reload_shrank(&self) {
        self.policy_reload_shrinks.inc();
    }

    /// The decision log's counters (exported whether or not a log is configured).
    pub fn decision_log(&self) -> crate::decision_log::LogStats {
        self.decision_log.clone()
    }

    /// Whether the last reload succeeded (true before any).
    pub fn last_reload_ok(&self) -> bool {
        self.last_reload_ok.get() == 1
    }

    /// A connection opened (`+1`) or closed (`-1`) on `listener`.
    pub fn connection(&self, listener: &'static str, delta: i64) {
        self.open_connections.get_or_create(&ListenerLabel { listener }).inc_by(delta);
    }

    /// A connection closed unserved on `listener` (`limit`, `handshake_timeout`).
    pub fn refused(&self, listener: &'static str, reason: &'static str) {
        self.refused_connections.get_or_create(&RefusedLabels { listener, reason }).inc();
    }

    /// A failed accept on `listener`.
    pub fn accept_error(&self, listener: &'static str) {
        self.accept_errors.get_or_create(&ListenerLabel { listener }).inc();
    }

    /// The OpenMetrics text exposition.
    pub fn render(&self, policy_version: &str, plugins: &[PluginStats]) -> String {
        let _one_at_a_time = self.scrape.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        // Undecodable requests are counted by the codec, before any handler runs.
        let malformed = linewall_proto::codec::MALFORMED.load(std::sync::atomic::Ordering::Relaxed);
        let counted = self.rejected.get_or_create(&ReasonLabel { reason: "malformed" });
        counted.inc_by(malformed.saturating_sub(counted.get()));
        drop(counted);
        self.policy_info.clear();
        self.policy_info.get_or_create(&VersionLabel { policy_version: policy_version.to_owned() }).set(1);
        let p = &self.plugins;
        for fam in [&p.calls, &p.instances, &p.fuel, &p.trips, &p.open] {
            fam.clear();
        }
        p.failures.clear();
        for s in plugins {
            let l = PluginLabels { detector: s.detector.clone(), module: s.module_sha256.clone() };
            p.calls.get_or_create(&l).set(u64_to_i64(s.calls));
            p.instances.get_or_create(&l).set(u64_to_i64(s.instances_created));
            p.fuel.get_or_create(&l).set(u64_to_i64(s.fuel_consumed));
            p.trips.get_or_create(&l).set(u64_to_i64(s.breaker_trips));
            p.open.get_or_create(&l).set(i64::from(s.breaker_open));
            for (kind, n) in &s.failures {
                let l = PluginFailureLabels {
                    detector: l.detector.clone(),
                    module: l.module.clone(),
                    kind: kind.to_string(),
                };
                p.failures.get_or_create(&l).set(u64_to_i64(*n));
            }
        }
        let mut s = String::new();
        // Writing to a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut s, &self.registry);
        s
    }
}
