//! The Linewall gRPC service (`linewall serve`).
//!
//! Serves `linewall.v1.Linewall` (Evaluate, EvaluateStream), `linewall.v1.PolicyAdmin`
//! (behind a bearer token), `grpc.health.v1.Health` and server reflection. Evaluation
//! runs on blocking threads, never on the reactor. SIGHUP and `PolicyAdmin/Reload`
//! reload policies; SIGTERM / Ctrl-C drain in-flight requests and stop.

pub mod audit;
pub mod conversation_store;
pub mod convert;
pub mod decision_log;
pub mod keys;
pub mod listen;
pub mod metrics;
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

use service::{Admin, Evaluator, admin_auth};
use state::{Policies, Source};

/// HTTP/2 streams (calls) one connection may have open at once.
const MAX_CONCURRENT_STREAMS: u32 = 128;
/// Largest request header block a client may send.
const MAX_HEADER_LIST_BYTES: u32 = 16 << 10;
/// Keepalive: a ping after this long without frames, and the connection is closed when
/// the answer does not come within [`KEEPALIVE_TIMEOUT`] (dead or stalled peers).
const KEEPALIVE_INTERVAL: std::time::Duration = std::time::Duration::from_secs(30);
/// See [`KEEPALIVE_INTERVAL`].
const KEEPALIVE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// Flags of `linewall serve`.
#[derive(Debug, Clone, clap::Args)]
pub struct ServeArgs {
    /// Policy file or directory (default: the built-in packs).
    #[arg(long, env = "LINEWALL_POLICIES")]
    pub policies: Option<PathBuf>,
    /// Address to listen on.
    #[arg(long, env = "LINEWALL_LISTEN")]
    pub listen: Option<SocketAddr>,
    /// Largest message accepted, in encoded bytes.
    #[arg(long, env = "LINEWALL_MAX_MESSAGE_BYTES")]
    pub max_message_bytes: Option<usize>,
    /// TOML file with any of these settings (keys as the flags, with `_`); flags and
    /// environment variables override it.
    #[arg(long, env = "LINEWALL_CONFIG")]
    pub config: Option<PathBuf>,
    /// Bearer token for PolicyAdmin; without one the admin API refuses every call. Prefer
    /// the environment or --admin-token-file: a flag is visible to every local user.
    #[arg(long, env = "LINEWALL_ADMIN_TOKEN", hide_env_values = true)]
    pub admin_token: Option<String>,
    /// File holding the PolicyAdmin bearer token (one line; surrounding whitespace dropped).
    #[arg(long, env = "LINEWALL_ADMIN_TOKEN_FILE", conflicts_with = "admin_token")]
    pub admin_token_file: Option<PathBuf>,
    /// Most gRPC connections open at once (also kept under the open-file limit); more are
    /// closed on accept.
    #[arg(long, env = "LINEWALL_MAX_CONNECTIONS")]
    pub max_connections: Option<usize>,
    /// Seconds a new connection has to send its first bytes (gRPC) or its request head
    /// (metrics endpoint); slower ones are closed.
    #[arg(long, env = "LINEWALL_HANDSHAKE_TIMEOUT")]
    pub handshake_timeout: Option<u64>,
    /// TLS certificate chain (PEM); with --tls-key, serves TLS only.
    #[arg(long, env = "LINEWALL_TLS_CERT")]
    pub tls_cert: Option<PathBuf>,
    /// TLS private key (PEM).
    #[arg(long, env = "LINEWALL_TLS_KEY")]
    pub tls_key: Option<PathBuf>,
    /// CA (PEM) whose client certificates are accepted (mutual TLS); a verified client
    /// certificate also authorizes PolicyAdmin calls.
    #[arg(long, env = "LINEWALL_CLIENT_CA")]
    pub client_ca: Option<PathBuf>,
    /// Answer every message with `allow` without evaluating (transport baseline for load tests).
    #[arg(long)]
    pub noop: bool,
    /// Address of the Prometheus endpoint (`/metrics`, `/healthz`); off when not given.
    #[arg(long, env = "LINEWALL_METRICS_LISTEN")]
    pub metrics_listen: Option<SocketAddr>,
    /// Do not watch the policy directory for changes (SIGHUP and Reload still work).
    #[arg(long)]
    pub no_watch: bool,
    /// Decision log: a file to append to, or `-` for standard output.
    #[arg(long, env = "LINEWALL_DECISION_LOG")]
    pub decision_log: Option<String>,
    /// What a decision that cannot be written does: `required` fails its request with
    /// UNAVAILABLE (default), `best-effort` answers it and counts the decision as dropped.
    #[arg(long, env = "LINEWALL_DECISION_LOG_MODE", value_enum)]
    pub decision_log_mode: Option<decision_log::Mode>,
    /// Longest a request waits for its decision to be written (required mode), in ms.
    #[arg(long, env = "LINEWALL_DECISION_LOG_WAIT_MS")]
    pub decision_log_wait_ms: Option<u64>,
    /// Decisions waiting for the log writer, at most (default 65,536); beyond that,
    /// required requests fail and best-effort decisions are dropped.
    #[arg(long, env = "LINEWALL_DECISION_LOG_QUEUE")]
    pub decision_log_queue: Option<usize>,
    /// Checkpoint file of the decision log (default: the log's path + `.anchor`); keep it
    /// on another volume or ship it off the host.
    #[arg(long, env = "LINEWALL_DECISION_LOG_ANCHOR")]
    pub decision_log_anchor: Option<PathBuf>,
    /// Key of the decision log's hash chain (64 hex digits or at least 16 bytes); also
    /// `LINEWALL_AUDIT_KEY`. Required with --decision-log; keep it away from the log.
    #[arg(long, env = "LINEWALL_AUDIT_KEY_FILE")]
    pub audit_key_file: Option<PathBuf>,
    /// Key of `hash` redaction and of the decision log's value hashes (64 hex digits or
    /// at least 16 bytes); also `LINEWALL_HASH_KEY`. Without one a random key is used
    /// and hashes change at every restart.
    #[arg(long, env = "LINEWALL_HASH_KEY_FILE")]
    pub hash_key_file: Option<PathBuf>,
    /// Fewest policies a set may have to be served or reloaded (default 1).
    #[arg(long, env = "LINEWALL_MIN_POLICIES")]
    pub min_policies: Option<usize>,
    /// Serve (and accept reloads to) a set with no policy at all: every message allowed.
    #[arg(long)]
    pub allow_empty: bool,
    /// `sha256sum` list of the policy files (paths relative to the policy directory):
    /// only a set whose files match it exactly is loaded. Write the manifest last.
    #[arg(long, env = "LINEWALL_MANIFEST")]
    pub manifest: Option<PathBuf>,
    /// Follow symbolic links to policy files (refused by default).
    #[arg(long)]
    pub follow_symlinks: bool,
    /// Log format.
    #[arg(long, env = "LINEWALL_LOG_FORMAT", value_parser = ["text", "json"], default_value = "text")]
    pub log_format: String,
    /// Where conversation windows live for joining split values: `memory` (this
    /// process, the default) or `redis://HOST:PORT` (shared by replicas; needs a hash key).
    #[arg(long, env = "LINEWALL_CONVERSATION_STORE")]
    pub conversation_store: Option<String>,
    /// Conversation scopes the in-process store remembers (least recently used go first).
    #[arg(long, env = "LINEWALL_CONVERSATION_CAPACITY")]
    pub conversation_capacity: Option<usize>,
    /// Judge every message alone: no joining of values split across messages.
    #[arg(long)]
    pub no_join: bool,
}

/// Settings read from `--config FILE`.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    policies: Option<PathBuf>,
    listen: Option<SocketAddr>,
    max_message_bytes: Option<usize>,
    admin_token: Option<String>,
    admin_token_file: Option<PathBuf>,
    max_connections: Option<usize>,
    handshake_timeout: Option<u64>,
    metrics_listen: Option<SocketAddr>,
    decision_log: Option<String>,
    decision_log_mode: Option<decision_log::Mode>,
    decision_log_wait_ms: Option<u64>,
    decision_log_anchor: Option<PathBuf>,
    decision_log_queue: Option<usize>,
    audit_key_file: Option<PathBuf>,
    hash_key_file: Option<PathBuf>,
    min_policies: Option<usize>,
    allow_empty: Option<bool>,
    manifest: Option<PathBuf>,
    follow_symlinks: Option<bool>,
    tls_cert: Option<PathBuf>,
    tls_key: Option<PathBuf>,
    client_ca: Option<PathBuf>,
    log_format: Option<String>,
    conversation_store: Option<String>,
    conversation_capacity: Option<usize>,
}

/// Fills what flags and environment left unset from the config file, then defaults.
fn merge_config(mut args: ServeArgs) -> anyhow::Result<ServeArgs> {
    if let Some(path) = &args.config {
        let bytes = linewall_engine::policy::files::read_capped(path, 1 << 20, true)
            .with_context(|| format!("reading {}", path.display()))?;
        let text = String::from_utf8(bytes).map_err(|_| anyhow::anyhow!("{}: not UTF-8", path.display()))?;
        // The parser's own message quotes the file; a file that is not a config (a key,
        // /etc/shadow) must not end up in the error, so only its line is named.
        let file: FileConfig = toml::from_str(&text).map_err(|e| {
            let line = e.span().map_or(0, |r| {
                text.as_bytes()[..r.start.min(text.len())].iter().filter(|&&b| b == b'\n').count() + 1
            });
            let what =
                if e.message().starts_with("unknown field") { "unknown setting" } else { "invalid setting" };
            anyhow::anyhow!("{}: line {line}: {what} (not a valid linewall config)", path.display())
        })?;
        args.policies = args.policies.or(file.policies);
        args.listen = args.listen.or(file.listen);
        args.max_message_bytes = args.max_message_bytes.or(file.max_message_bytes);
        if args.admin_token.is_none() && args.admin_token_file.is_none() {
            args.admin_token = file.admin_token;
            args.admin_token_file = file.admin_token_file;
        }
        args.max_connections = args.max_connections.or(file.max_connections);
        args.handshake_timeout = args.handshake_timeout.or(file.handshake_timeout);
        args.metrics_listen = args.metrics_listen.or(file.metrics_listen);
        args.decision_log = args.decision_log.or(file.decision_log);
        args.decision_log_mode = args.decision_log_mode.or(file.decision_log_mode);
        args.decision_log_wait_ms = args.decision_log_wait_ms.or(file.decision_log_wait_ms);
        args.decision_log_anchor = args.decision_log_anchor.or(file.decision_log_anchor);
        args.decision_log_queue = args.decision_log_queue.or(file.decision_log_queue);
        args.audit_key_file = args.audit_key_file.or(file.audit_key_file);
        args.hash_key_file = args.hash_key_file.or(file.hash_key_file);
        args.min_policies = args.min_policies.or(file.min_policies);
        args.allow_empty |= file.allow_empty.unwrap_or(false);
        args.manifest = args.manifest.or(file.manifest);
        args.follow_symlinks |= file.follow_symlinks.unwrap_or(false);
        args.tls_cert = args.tls_cert.or(file.tls_cert);
        args.tls_key = args.tls_key.or(file.tls_key);
        args.client_ca = args.client_ca.or(file.client_ca);
        args.conversation_store = args.conversation_store.or(file.conversation_store);
        args.conversation_capacity = args.conversation_capacity.or(file.conversation_capacity);
        if let Some(f) = file.log_format.filter(|_| args.log_format == "text") {
            anyhow::ensure!(f == "text" || f == "json", "log_format must be `text` or `json`");
            args.log_format = f;
        }
    }
    args.listen = args.listen.or(Some(SocketAddr::from(([127, 0, 0, 1], 50051))));
    args.max_message_bytes = args.max_message_bytes.or(Some(1 << 20));
    if let Some(path) = &args.admin_token_file {
        let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        let token = text.trim();
        anyhow::ensure!(!token.is_empty(), "{} holds no admin token", path.display());
        args.admin_token = Some(token.to_owned());
    }
    anyhow::ensure!(args.max_connections != Some(0), "--max-connections must be at least 1");
    anyhow::ensure!(args.handshake_timeout != Some(0), "--handshake-timeout must be at least 1 second");
    anyhow::ensure!(
        args.tls_cert.is_some() == args.tls_key.is_some(),
        "--tls-cert and --tls-key go together"
    );
    anyhow::ensure!(
        args.client_ca.is_none() || args.tls_cert.is_some(),
        "--client-ca needs --tls-cert and --tls-key"
    );
    anyhow::ensure!(
        !(args.allow_empty && args.min_policies.is_some_and(|n| n > 0)),
        "--allow-empty and --min-policies contradict each other"
    );
    anyhow::ensure!(
        args.manifest.is_none() || args.policies.is_some(),
        "--manifest needs --policies (the built-in packs have no manifest)"
    );
    Ok(args)
}

fn init_logs(format: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    // Colours only on a terminal: escape codes in a log file or a collector are noise.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let builder =
        tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).with_ansi(ansi);
    let _ = if format == "json" { builder.json().try_init() } else { builder.try_init() };
}

/// Runs the server until SIGTERM or Ctrl-C.
pub fn run(args: ServeArgs, options: LoadOptions) -> anyhow::Result<()> {
    let runtime =
        tokio::runtime::Builder::new_multi_thread().enable_all().build().context("starting the runtime")?;
    runtime.block_on(serve(args, options))
}

/// Serves until SIGTERM or Ctrl-C.
pub async fn serve(args: ServeArgs, mut options: LoadOptions) -> anyhow::Result<()> {
    let args = merge_config(args)?;
    let listen = args.listen.unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 50051)));
    init_logs(&args.log_format);
    options.follow_symlinks |= args.follow_symlinks;
    let configured = match &args.hash_key_file {
        Some(p) => Some(keys::read_key_file(p).map_err(anyhow::Error::msg)?),
        None => options.hash_key.take(),
    };
    let (hash_key, ephemeral) =
        keys::resolve_hash_key(configured, getrandom::fill).map_err(anyhow::Error::msg)?;
    if ephemeral {
        tracing::warn!(
            "no hash key configured (--hash-key-file or LINEWALL_HASH_KEY): using a random key, so hashed values \
             change at every restart and cannot be linked across restarts"
        );
    }
    options.hash_key = Some(hash_key);
    let source = match &args.policies {
        Some(p) => Source::Path(p.clone()),
        None => Source::Builtin,
    };
    let guards = state::Guards {
        min_policies: args.min_policies.unwrap_or(usize::from(!args.allow_empty)),
        manifest: args.manifest.clone(),
        ..state::Guards::default()
    };
    let metrics = Arc::new(metrics::Metrics::default());
    let policies = Arc::new(
        Policies::new(source, options, guards, Arc::clone(&metrics))
            .map_err(|e| anyhow::anyhow!("policies failed to load:\n{e}"))?,
    );
    let grpc_listener =
        tokio::net::TcpListener::bind(listen).await.with_context(|| format!("binding {listen}"))?;
    let grpc_addr = grpc_listener.local_addr().context("reading the bound address")?;
    let fds = listen::fd_budget();
    let handshake_timeout = std::time::Duration::from_secs(args.handshake_timeout.unwrap_or(10));
    let metrics_limits = listen::Limits {
        max_connections: metrics::HTTP_MAX_CONNECTIONS
            .min(usize::try_from(fds / 8).unwrap_or(usize::MAX))
            .max(1),
        handshake_timeout,
    };
    let grpc_limits = listen::Limits {
        max_connections: args
            .max_connections
            .unwrap_or(4096)
            .min(usize::try_from(fds).unwrap_or(usize::MAX).saturating_sub(metrics_limits.max_connections))
            .max(1),
        handshake_timeout,
    };

    let decisions = match args.decision_log.as_deref() {
        None => None,
        Some(target) => {
            let audit_key = keys::audit_key(args.audit_key_file.as_deref())
                .map_err(anyhow::Error::msg)?
                .ok_or_else(|| {
                    anyhow::anyhow!(
                        "--decision-log needs an audit key: --audit-key-file FILE or LINEWALL_AUDIT_KEY \
                         (kept apart from the log; `linewall audit verify` needs it too)"
                    )
                })?;
            let (target, anchor) = if target == "-" {
                (decision_log::Target::Stdout, args.decision_log_anchor.clone())
            } else {
                let anchor = args
                    .decision_log_anchor
                    .clone()
                    .unwrap_or_else(|| PathBuf::from(format!("{target}.anchor")));
                (decision_log::Target::File(PathBuf::from(target)), Some(anchor))
            };
            let log = decision_log::DecisionLog::start(decision_log::Config {
                target,
                mode: args.decision_log_mode.unwrap_or(decision_log::Mode::Required),
                wait: std::time::Duration::from_millis(args.decision_log_wait_ms.unwrap_or(2_000)),
                audit_key,
                value_key: log_key(policies.options()),
                anchor,
                queue: args.decision_log_queue.unwrap_or(decision_log::DEFAULT_QUEUE),
                stats: metrics.decision_log(),
            })
            .map_err(|e| anyhow::anyhow!("opening the decision log: {e}"))?;
            Some(log)
        }
    };
    // Windows in Redis must stay readable across restarts and replicas: a random
    // per-process key would not do.
    let configured_key = policies.options().hash_key.as_deref().filter(|_| !ephemeral);
    let conversations = conversations(&args, configured_key)?;
    let evaluator = Evaluator {
        policies: Arc::clone(&policies),
        max_message_bytes: args.max_message_bytes.unwrap_or(1 << 20),
        noop: args.noop,
        decisions: decisions.clone(),
        metrics: Arc::clone(&metrics),
        conversations,
    };
    let mut metrics_addr = None;
    if let Some(addr) = args.metrics_listen {
        let listener =
            tokio::net::TcpListener::bind(addr).await.with_context(|| format!("binding {addr}"))?;
        metrics_addr = Some(listener.local_addr().context("reading the bound address")?);
        tokio::spawn(metrics::serve_http(
            listener,
            Arc::clone(&metrics),
            Arc::clone(&policies),
            metrics_limits,
        ));
    }
    if let (Some(path), false) = (policies.path().map(PathBuf::from), args.no_watch) {
        tokio::spawn(watch::watch(path, Arc::clone(&policies), |_| {}));
    }
    let admin = Admin { policies: Arc::clone(&policies) };
    let token: Option<Arc<str>> = args.admin_token.as_deref().filter(|t| !t.is_empty()).map(Arc::from);

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
    let max_message_bytes = args.max_message_bytes.unwrap_or(1 << 20);
    let linewall =
        pb::linewall_server::LinewallServer::new(evaluator).max_decoding_message_size(max_message_bytes);
    let mtls = args.client_ca.is_some();
    let admin = pb::policy_admin_server::PolicyAdminServer::with_interceptor(admin, admin_auth(token, mtls));

    // SIGHUP reloads; a failed reload keeps the old set and is logged.
    #[cfg(unix)]
    {
        let policies = Arc::clone(&policies);
        let log = decisions.clone();
        let mut hup = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())
            .context("installing the SIGHUP handler")?;
        tokio::spawn(async move {
            while hup.recv().await.is_some() {
                if let Some(log) = &log {
                    log.reopen();
                }
                let _ = policies.reload().await;
            }
        });
    }

    let mut builder = tonic::transport::Server::builder()
        .max_concurrent_streams(MAX_CONCURRENT_STREAMS)
        .http2_max_header_list_size(MAX_HEADER_LIST_BYTES)
        .http2_keepalive_interval(Some(KEEPALIVE_INTERVAL))
        .http2_keepalive_timeout(Some(KEEPALIVE_TIMEOUT))
        .http2_max_pending_accept_reset_streams(Some(64));
    if let (Some(cert), Some(key)) = (&args.tls_cert, &args.tls_key) {
        let read = |p: &PathBuf| std::fs::read(p).with_context(|| format!("reading {}", p.display()));
        let mut tls = tonic::transport::ServerTlsConfig::new()
            .identity(tonic::transport::Identity::from_pem(read(cert)?, read(key)?))
            .timeout(handshake_timeout);
        if let Some(ca) = &args.client_ca {
            tls = tls.client_ca_root(tonic::transport::Certificate::from_pem(read(ca)?));
        }
        builder = builder.tls_config(tls).context("configuring TLS")?;
    }
    tracing::info!(
        policy_version = %policies.current().version(),
        listen = %grpc_addr,
        metrics_listen = %metrics_addr.map_or_else(|| String::from("off"), |a| a.to_string()),
        max_connections = grpc_limits.max_connections,
        noop = args.noop,
        "linewall serving"
    );
    let incoming = listen::incoming(grpc_listener, grpc_limits, Arc::clone(&metrics));
    builder
        .layer(tower::util::MapResponseLayer::new(too_large_is_resource_exhausted(
            max_message_bytes,
            Arc::clone(&metrics),
        )))
        .add_service(health_service)
        .add_service(reflection_v1)
        .add_service(reflection_v1alpha)
        .add_service(linewall)
        .add_service(admin)
        .serve_with_incoming_shutdown(incoming, shutdown_signal())
        .await
        .context("serving gRPC")?;
    if let Some(log) = &decisions {
        log.flush(std::time::Duration::from_secs(5)).await;
    }
    tracing::info!("linewall stopped");
    Ok(())
}

/// The joining of split values the flags ask for (docs/10-conversations.md).
fn conversations(
    args: &ServeArgs,
    hash_key: Option<&[u8]>,
) -> anyhow::Result<Option<Arc<linewall_engine::conversation::Conversations>>> {
    use linewall_engine::conversation::{Config, Conversations, DEFAULT_CAPACITY};
    if args.no_join {
        return Ok(None);
    }
    let config = Config::default();
    let capacity = args.conversation_capacity.unwrap_or(DEFAULT_CAPACITY);
    let conv = match args.conversation_store.as_deref() {
        None | Some("memory") => Conversations::in_memory(config, capacity),
        Some(url) if url.starts_with("redis://") || url.starts_with("rediss://") => {
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
        Some(_) => anyhow::bail!("--conversation-store must be `memory` or `redis://HOST:PORT`"),
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

async fn shutdown_signal() {
    #[cfg(unix)]
    {
        let term = async {
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(mut s) => {
                    s.recv().await;
                }
                Err(_) => std::future::pending::<()>().await,
            }
        };
        tokio::select! {
            _ = term => {},
            _ = tokio::signal::ctrl_c() => {},
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
    tracing::info!("shutting down: finishing in-flight requests");
}
