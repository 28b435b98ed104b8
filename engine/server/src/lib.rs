//! The Linewall gRPC service (`linewall serve`).
//!
//! Serves `linewall.v1.Linewall` (Evaluate, EvaluateStream), `linewall.v1.PolicyAdmin`
//! (behind a bearer token), `grpc.health.v1.Health` and server reflection. Evaluation
//! runs on blocking threads, never on the reactor. `PolicyAdmin/Reload` (and SIGHUP,
//! when asked) reload policies; when the shutdown future completes, in-flight requests
//! are finished and serving stops.
//!
//! The library takes a resolved [`ServerConfig`]; flags, the TOML file and the global
//! log set-up belong to the `linewall` binary. Tests run a [`Server`] in process on a
//! listener bound to port 0.

pub mod audit;
pub mod config;
pub mod conversation_store;
pub mod convert;
pub mod decision_log;
pub mod error;
pub mod keys;
pub mod listen;
pub mod metrics;
pub mod metrics_http;
pub mod policy_files;
pub mod service;
pub mod state;
pub mod watch;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context as _;
use linewall_engine::policy::LoadOptions;
use linewall_proto::v1 as pb;
use tonic::transport::server::Connected;

pub use config::{DecisionLogConfig, Joining, ServerConfig, Tls};
use service::{Admin, Evaluator, admin_auth};
use state::Policies;
pub use state::{Guards, Source};

/// HTTP/2 streams (calls) one connection may have open at once.
const MAX_CONCURRENT_STREAMS: u32 = 128;
/// Largest request header block a client may send.
const MAX_HEADER_LIST_BYTES: u32 = 16 << 10;
/// Keepalive: a ping after this long without frames, and the connection is closed when
/// the answer does not come within [`KEEPALIVE_TIMEOUT`] (dead or stalled peers).
const KEEPALIVE_INTERVAL: std::time::Duration = std::time::Duration::from_secs(30);
/// See [`KEEPALIVE_INTERVAL`].
const KEEPALIVE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// A server whose policies are loaded and whose decision log is open, ready to serve.
pub struct Server {
    config: ServerConfig,
    metrics: Arc<metrics::Metrics>,
    policies: Arc<Policies>,
    decisions: Option<decision_log::DecisionLog>,
    conversations: Option<Arc<linewall_engine::conversation::Conversations>>,
    metrics_addr: Option<SocketAddr>,
    /// Background tasks (metrics endpoint), stopped when serving ends.
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Server {
    /// Loads the policies (running their tests), opens the decision log and the
    /// conversation store; failing here means the server does not start.
    pub fn new(mut config: ServerConfig) -> anyhow::Result<Self> {
        let (hash_key, ephemeral) = keys::resolve_hash_key(config.load.hash_key.take(), getrandom::fill)
            .map_err(anyhow::Error::msg)?;
        if ephemeral {
            tracing::warn!(
                "no hash key configured (--hash-key-file or LINEWALL_HASH_KEY): using a random key, so hashed \
                 values change at every restart and cannot be linked across restarts"
            );
        }
        config.load.hash_key = Some(hash_key);
        let metrics = Arc::new(metrics::Metrics::default());
        let policies = Arc::new(
            Policies::new(
                config.policies.clone(),
                config.load.clone(),
                config.guards.clone(),
                Arc::clone(&metrics),
            )
            .map_err(|e| anyhow::anyhow!("policies failed to load:\n{e}"))?,
        );
        let decisions = match &config.decision_log {
            None => None,
            Some(log) => Some(
                decision_log::DecisionLog::start(decision_log::Config {
                    target: log.target.clone(),
                    mode: log.mode,
                    wait: log.wait,
                    audit_key: log.audit_key.clone(),
                    value_key: log_key(policies.options()),
                    anchor: log.anchor.clone(),
                    queue: log.queue,
                    stats: metrics.decision_log(),
                })
                .map_err(|e| anyhow::anyhow!("opening the decision log: {e}"))?,
            ),
        };
        // Windows in Redis must stay readable across restarts and replicas: a random
        // per-process key would not do.
        let configured_key = policies.options().hash_key.as_deref().filter(|_| !ephemeral);
        let conversations = conversations(&config.conversations, config.conversation_config, configured_key)?;
        Ok(Server {
            config,
            metrics,
            policies,
            decisions,
            conversations,
            metrics_addr: None,
            tasks: Vec::new(),
        })
    }

    /// Serves `/metrics` and `/healthz` on `listener` until serving ends.
    pub fn serve_metrics(&mut self, listener: tokio::net::TcpListener) -> anyhow::Result<()> {
        self.metrics_addr = Some(listener.local_addr().context("reading the bound address")?);
        let limits = listen::Limits {
            max_connections: metrics_connections(listen::fd_budget()),
            handshake_timeout: self.config.handshake_timeout,
        };
        self.tasks.push(tokio::spawn(metrics_http::serve_http(
            listener,
            Arc::clone(&self.metrics),
            Arc::clone(&self.policies),
            limits,
        )));
        Ok(())
    }

    /// Serves gRPC on `listener` (with the connection cap and handshake deadline of
    /// [`listen::incoming`]) until `shutdown` completes, then finishes in-flight calls.
    pub async fn serve(
        self,
        listener: tokio::net::TcpListener,
        shutdown: impl Future<Output = ()>,
    ) -> anyhow::Result<()> {
        let addr = listener.local_addr().context("reading the bound address")?;
        let fds = listen::fd_budget();
        let limits = listen::Limits {
            max_connections: self
                .config
                .max_connections
                .min(usize::try_from(fds).unwrap_or(usize::MAX).saturating_sub(metrics_connections(fds)))
                .max(1),
            handshake_timeout: self.config.handshake_timeout,
        };
        let incoming = listen::incoming(listener, limits, Arc::clone(&self.metrics));
        self.run(incoming, Some(addr), Some(limits.max_connections), shutdown).await
    }

    /// Serves gRPC on the connections `incoming` yields until `shutdown` completes, then
    /// finishes in-flight calls. Connection limits are the caller's.
    pub async fn serve_with_incoming<I, IO, IE>(
        self,
        incoming: I,
        shutdown: impl Future<Output = ()>,
    ) -> anyhow::Result<()>
    where
        I: tokio_stream::Stream<Item = Result<IO, IE>>,
        IO: tokio::io::AsyncRead + tokio::io::AsyncWrite + Connected + Unpin + Send + 'static,
        IE: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        self.run(incoming, None, None, shutdown).await
    }

    async fn run<I, IO, IE>(
        mut self,
        incoming: I,
        listen: Option<SocketAddr>,
        max_connections: Option<usize>,
        shutdown: impl Future<Output = ()>,
    ) -> anyhow::Result<()>
    where
        I: tokio_stream::Stream<Item = Result<IO, IE>>,
        IO: tokio::io::AsyncRead + tokio::io::AsyncWrite + Connected + Unpin + Send + 'static,
        IE: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        let config = &self.config;
        let evaluator = Evaluator {
            policies: Arc::clone(&self.policies),
            max_message_bytes: config.max_message_bytes,
            noop: config.noop,
            decisions: self.decisions.clone(),
            metrics: Arc::clone(&self.metrics),
            conversations: self.conversations.clone(),
        };
        if let (Some(path), true) = (self.policies.path().map(PathBuf::from), config.watch) {
            self.tasks.push(tokio::spawn(watch::watch(path, Arc::clone(&self.policies), |_| {})));
        }
        if config.reload_on_sighup {
            self.tasks.push(reload_on_sighup(Arc::clone(&self.policies), self.decisions.clone())?);
        }
        let admin = Admin { policies: Arc::clone(&self.policies) };
        let token: Option<Arc<str>> = config.admin_token.as_deref().filter(|t| !t.is_empty()).map(Arc::from);

        let (health_reporter, health_service) = tonic_health::server::health_reporter();
        health_reporter.set_serving::<pb::linewall_server::LinewallServer<Evaluator>>().await;
        health_reporter.set_serving::<pb::policy_admin_server::PolicyAdminServer<Admin>>().await;
        // Both reflection versions: grpcurl uses v1, older tools (grpcio-reflection, Postman,
        // Evans) only v1alpha.
        let reflection = || {
            tonic_reflection::server::Builder::configure()
                .register_encoded_file_descriptor_set(linewall_proto::FILE_DESCRIPTOR_SET)
                .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        };
        let reflection_v1 = reflection().build_v1().context("building the reflection service")?;
        let reflection_v1alpha = reflection().build_v1alpha().context("building the reflection service")?;

        // The transport refuses a frame over the limit from its 5-byte header, before reading
        // the message (see `too_large_is_resource_exhausted` for the status).
        let max_message_bytes = config.max_message_bytes;
        let linewall =
            pb::linewall_server::LinewallServer::new(evaluator).max_decoding_message_size(max_message_bytes);
        let mtls = config.tls.as_ref().is_some_and(|t| t.client_ca_pem.is_some());
        let admin =
            pb::policy_admin_server::PolicyAdminServer::with_interceptor(admin, admin_auth(token, mtls));

        let mut builder = tonic::transport::Server::builder()
            .max_concurrent_streams(MAX_CONCURRENT_STREAMS)
            .http2_max_header_list_size(MAX_HEADER_LIST_BYTES)
            .http2_keepalive_interval(Some(KEEPALIVE_INTERVAL))
            .http2_keepalive_timeout(Some(KEEPALIVE_TIMEOUT))
            .http2_max_pending_accept_reset_streams(Some(64));
        if let Some(tls) = &config.tls {
            let mut tls_config = tonic::transport::ServerTlsConfig::new()
                .identity(tonic::transport::Identity::from_pem(&tls.cert_pem, &tls.key_pem))
                .timeout(config.handshake_timeout);
            if let Some(ca) = &tls.client_ca_pem {
                tls_config = tls_config.client_ca_root(tonic::transport::Certificate::from_pem(ca));
            }
            builder = builder.tls_config(tls_config).context("configuring TLS")?;
        }
        let shown = |a: Option<SocketAddr>| a.map_or_else(|| String::from("off"), |a| a.to_string());
        tracing::info!(
            policy_version = %self.policies.current().version(),
            listen = %shown(listen),
            metrics_listen = %shown(self.metrics_addr),
            max_connections = max_connections.unwrap_or(0),
            noop = config.noop,
            "linewall serving"
        );
        let served = builder
            .layer(tower::util::MapResponseLayer::new(too_large_is_resource_exhausted(
                max_message_bytes,
                Arc::clone(&self.metrics),
            )))
            .add_service(health_service)
            .add_service(reflection_v1)
            .add_service(reflection_v1alpha)
            .add_service(linewall)
            .add_service(admin)
            .serve_with_incoming_shutdown(incoming, shutdown)
            .await
            .context("serving gRPC");
        for task in &self.tasks {
            task.abort();
        }
        if let Some(log) = &self.decisions {
            log.flush(std::time::Duration::from_secs(5)).await;
        }
        tracing::info!("linewall stopped");
        served
    }
}

/// Loads `config` and serves gRPC on `listener` until `shutdown` completes (see
/// [`Server::serve`]).
pub async fn serve(
    config: ServerConfig,
    listener: tokio::net::TcpListener,
    shutdown: impl Future<Output = ()>,
) -> anyhow::Result<()> {
    Server::new(config)?.serve(listener, shutdown).await
}

/// Loads `config` and serves gRPC on the connections `incoming` yields until `shutdown`
/// completes (see [`Server::serve_with_incoming`]).
pub async fn serve_with_incoming<I, IO, IE>(
    config: ServerConfig,
    incoming: I,
    shutdown: impl Future<Output = ()>,
) -> anyhow::Result<()>
where
    I: tokio_stream::Stream<Item = Result<IO, IE>>,
    IO: tokio::io::AsyncRead + tokio::io::AsyncWrite + Connected + Unpin + Send + 'static,
    IE: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    Server::new(config)?.serve_with_incoming(incoming, shutdown).await
}

/// Connections the metrics endpoint may hold, out of `fds` usable descriptors.
fn metrics_connections(fds: u64) -> usize {
    metrics_http::HTTP_MAX_CONNECTIONS.min(usize::try_from(fds / 8).unwrap_or(usize::MAX)).max(1)
}

/// SIGHUP reloads (a failed reload keeps the old set and is logged) and reopens the
/// decision log (log rotation).
fn reload_on_sighup(
    policies: Arc<Policies>,
    log: Option<decision_log::DecisionLog>,
) -> anyhow::Result<tokio::task::JoinHandle<()>> {
    #[cfg(unix)]
    {
        let mut hup = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())
            .context("installing the SIGHUP handler")?;
        Ok(tokio::spawn(async move {
            while hup.recv().await.is_some() {
                if let Some(log) = &log {
                    log.reopen();
                }
                let _ = policies.reload().await;
            }
        }))
    }
    #[cfg(not(unix))]
    {
        drop((policies, log));
        Ok(tokio::spawn(async {}))
    }
}

/// The joining of split values `joining` asks for (docs/10-conversations.md).
fn conversations(
    joining: &Joining,
    config: linewall_engine::conversation::Config,
    hash_key: Option<&[u8]>,
) -> anyhow::Result<Option<Arc<linewall_engine::conversation::Conversations>>> {
    use linewall_engine::conversation::Conversations;
    let conv = match joining {
        Joining::Off => return Ok(None),
        Joining::Memory { capacity } => Conversations::in_memory(config, *capacity),
        Joining::Redis { url } => {
            let key = hash_key.filter(|k| !k.is_empty()).ok_or_else(|| {
                anyhow::anyhow!(
                    "--conversation-store redis needs a configured hash key (--hash-key-file or LINEWALL_HASH_KEY): \
                     windows are encrypted with it"
                )
            })?;
            let store = conversation_store::RedisStore::connect(url, key)
                .map_err(|e| anyhow::anyhow!("connecting the conversation store: {e}"))?;
            tracing::info!("conversation windows in redis");
            Conversations::new(Arc::new(store), config)
        }
    };
    Ok(Some(Arc::new(conv)))
}

/// tonic refuses a frame over the limit from its header with OUT_OF_RANGE; the API
/// promises RESOURCE_EXHAUSTED (docs/08-grpc.md). Rewrites that answer (unary calls; a
/// stream's is rewritten where the handler sees it) and counts it.
fn too_large_is_resource_exhausted(
    limit: usize,
    metrics: Arc<metrics::Metrics>,
) -> impl Fn(http::Response<tonic::body::Body>) -> http::Response<tonic::body::Body> + Clone {
    move |mut resp| {
        let h = resp.headers();
        let out_of_range = h.get("grpc-status").is_some_and(|v| v.as_bytes() == b"11");
        let too_long = h.get("grpc-message").is_some_and(|v| {
            v.to_str().is_ok_and(|m| m.contains("decoded%20message%20length%20too%20large"))
        });
        if out_of_range && too_long {
            metrics.rejected("too_large");
            let h = resp.headers_mut();
            h.insert("grpc-status", http::HeaderValue::from_static("8"));
            if let Ok(v) = http::HeaderValue::from_str(&format!(
                "message%20exceeds%20the%20limit%20of%20{limit}%20bytes"
            )) {
                h.insert("grpc-message", v);
            }
        }
        resp
    }
}

/// Key of the value hashes in the decision log, derived from the hash key (configured,
/// or random for this process: then hashes link values within one run only).
fn log_key(options: &LoadOptions) -> [u8; 32] {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    h.update(b"linewall-decision-log\0");
    h.update(options.hash_key.as_deref().unwrap_or_default());
    h.finalize().into()
}
