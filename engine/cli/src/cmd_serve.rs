//! `linewall serve`: flags, environment and the `--config` TOML file merged into a
//! [`ServerConfig`], the process-wide log set-up and signals; the server itself is the
//! `linewall-server` library.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context as _;
use linewall_engine::policy::LoadOptions;
use linewall_server::{DecisionLogConfig, Guards, Joining, ServerConfig, Source, Tls, decision_log, keys};

/// What a decision that cannot be written does (`--decision-log-mode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LogMode {
    /// The request fails with UNAVAILABLE: nothing is answered that is not on record.
    Required,
    /// The request is answered; the decision is dropped and counted.
    BestEffort,
}

impl From<LogMode> for decision_log::Mode {
    fn from(m: LogMode) -> Self {
        match m {
            LogMode::Required => decision_log::Mode::Required,
            LogMode::BestEffort => decision_log::Mode::BestEffort,
        }
    }
}

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
    pub decision_log_mode: Option<LogMode>,
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
    /// Longest a policy reload may take, in milliseconds (default 30,000): past it the
    /// reload is rejected, its work is stopped and the serving set is kept.
    #[arg(long, env = "LINEWALL_RELOAD_TIMEOUT_MS", value_name = "MS")]
    pub reload_timeout_ms: Option<u64>,
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
    /// Longest time, in seconds, between the first and the last message of a split
    /// value (default 120; 1 to 86400).
    #[arg(long, env = "LINEWALL_CONVERSATION_WINDOW", value_name = "SECS")]
    pub conversation_window: Option<u64>,
    /// Most text-bearing messages one split value may span (default 4; 2 to 8).
    #[arg(long, env = "LINEWALL_CONVERSATION_MESSAGES", value_name = "N")]
    pub conversation_messages: Option<usize>,
    /// Judge every message alone: no joining of values split across messages.
    #[arg(long)]
    pub no_join: bool,
}

/// Longest `--reload-timeout-ms` accepted: an hour.
const MAX_RELOAD_TIMEOUT_MS: u64 = 3_600_000;

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
    decision_log_mode: Option<LogMode>,
    decision_log_wait_ms: Option<u64>,
    decision_log_anchor: Option<PathBuf>,
    decision_log_queue: Option<usize>,
    audit_key_file: Option<PathBuf>,
    hash_key_file: Option<PathBuf>,
    min_policies: Option<usize>,
    allow_empty: Option<bool>,
    manifest: Option<PathBuf>,
    reload_timeout_ms: Option<u64>,
    follow_symlinks: Option<bool>,
    tls_cert: Option<PathBuf>,
    tls_key: Option<PathBuf>,
    client_ca: Option<PathBuf>,
    log_format: Option<String>,
    conversation_store: Option<String>,
    conversation_capacity: Option<usize>,
    conversation_window: Option<u64>,
    conversation_messages: Option<usize>,
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
        args.reload_timeout_ms = args.reload_timeout_ms.or(file.reload_timeout_ms);
        args.follow_symlinks |= file.follow_symlinks.unwrap_or(false);
        args.tls_cert = args.tls_cert.or(file.tls_cert);
        args.tls_key = args.tls_key.or(file.tls_key);
        args.client_ca = args.client_ca.or(file.client_ca);
        args.conversation_store = args.conversation_store.or(file.conversation_store);
        args.conversation_capacity = args.conversation_capacity.or(file.conversation_capacity);
        args.conversation_window = args.conversation_window.or(file.conversation_window);
        args.conversation_messages = args.conversation_messages.or(file.conversation_messages);
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
        args.reload_timeout_ms.is_none_or(|ms| (1..=MAX_RELOAD_TIMEOUT_MS).contains(&ms)),
        "--reload-timeout-ms must be 1 to {MAX_RELOAD_TIMEOUT_MS} (one hour)"
    );
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

/// Threads that evaluate large messages (tokio's blocking pool; its default is 512).
/// Each thread that runs the built-in detectors keeps its own regex search caches for as
/// long as the process lives, so the pool's peak size sets the server's memory; more
/// threads than this cannot add throughput on the machines Linewall runs on, and a burst
/// beyond it waits in the queue, where callers that leave or time out are skipped.
const MAX_BLOCKING_THREADS: usize = 64;

/// Runs the server until SIGTERM or Ctrl-C.
pub fn run(args: ServeArgs, options: LoadOptions) -> anyhow::Result<()> {
    let args = merge_config(args)?;
    init_logs(&args.log_format);
    let listen = args.listen.unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 50051)));
    let metrics_listen = args.metrics_listen;
    let config = server_config(args, options)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .max_blocking_threads(MAX_BLOCKING_THREADS)
        .enable_all()
        .build()
        .context("starting the runtime")?;
    runtime.block_on(async move {
        // Policies load (and their tests run) before the port is bound: a set that fails
        // never listens.
        let mut server = linewall_server::Server::new(config)?;
        if let Some(addr) = metrics_listen {
            let listener =
                tokio::net::TcpListener::bind(addr).await.with_context(|| format!("binding {addr}"))?;
            server.serve_metrics(listener)?;
        }
        let listener =
            tokio::net::TcpListener::bind(listen).await.with_context(|| format!("binding {listen}"))?;
        server.serve(listener, shutdown_signal()).await
    })
}

/// Turns the merged flags into the library's configuration, reading the files they name.
fn server_config(args: ServeArgs, mut load: LoadOptions) -> anyhow::Result<ServerConfig> {
    load.follow_symlinks |= args.follow_symlinks;
    if let Some(p) = &args.hash_key_file {
        load.hash_key = Some(keys::read_key_file(p).map_err(anyhow::Error::msg)?);
    }
    let source = match &args.policies {
        Some(p) => Source::Path(p.clone()),
        None => Source::Builtin,
    };
    let mut config = ServerConfig::new(source, load);
    config.guards = Guards {
        min_policies: args.min_policies.unwrap_or(usize::from(!args.allow_empty)),
        manifest: args.manifest.clone(),
        reload_timeout: args
            .reload_timeout_ms
            .map_or(Guards::default().reload_timeout, Duration::from_millis),
    };
    config.max_message_bytes = args.max_message_bytes.unwrap_or(config.max_message_bytes);
    config.admin_token = args.admin_token.clone();
    config.max_connections = args.max_connections.unwrap_or(config.max_connections);
    config.handshake_timeout = args.handshake_timeout.map_or(config.handshake_timeout, Duration::from_secs);
    config.noop = args.noop;
    config.watch = !args.no_watch;
    config.reload_on_sighup = true;
    if let (Some(cert), Some(key)) = (&args.tls_cert, &args.tls_key) {
        let read = |p: &PathBuf| std::fs::read(p).with_context(|| format!("reading {}", p.display()));
        config.tls = Some(Tls {
            cert_pem: read(cert)?,
            key_pem: read(key)?,
            client_ca_pem: args.client_ca.as_ref().map(read).transpose()?,
        });
    }
    config.decision_log = decision_log_config(&args)?;
    config.conversation_config =
        linewall_engine::conversation::Config::with(args.conversation_window, args.conversation_messages)?;
    config.conversations = if args.no_join {
        Joining::Off
    } else {
        match args.conversation_store.as_deref() {
            None | Some("memory") => Joining::Memory {
                capacity: args
                    .conversation_capacity
                    .unwrap_or(linewall_engine::conversation::DEFAULT_CAPACITY),
            },
            Some(url) if url.starts_with("redis://") || url.starts_with("rediss://") => {
                Joining::Redis { url: url.to_owned() }
            }
            Some(_) => anyhow::bail!("--conversation-store must be `memory` or `redis://HOST:PORT`"),
        }
    };
    Ok(config)
}

/// The decision log `--decision-log` asks for, with its audit key.
fn decision_log_config(args: &ServeArgs) -> anyhow::Result<Option<DecisionLogConfig>> {
    let Some(target) = args.decision_log.as_deref() else { return Ok(None) };
    let audit_key =
        keys::audit_key(args.audit_key_file.as_deref()).map_err(anyhow::Error::msg)?.ok_or_else(|| {
            anyhow::anyhow!(
                "--decision-log needs an audit key: --audit-key-file FILE or LINEWALL_AUDIT_KEY \
             (kept apart from the log; `linewall audit verify` needs it too)"
            )
        })?;
    let (target, anchor) = if target == "-" {
        (decision_log::Target::Stdout, args.decision_log_anchor.clone())
    } else {
        let anchor =
            args.decision_log_anchor.clone().unwrap_or_else(|| PathBuf::from(format!("{target}.anchor")));
        (decision_log::Target::File(PathBuf::from(target)), Some(anchor))
    };
    Ok(Some(DecisionLogConfig {
        target,
        anchor,
        mode: args.decision_log_mode.unwrap_or(LogMode::Required).into(),
        wait: Duration::from_millis(args.decision_log_wait_ms.unwrap_or(2_000)),
        queue: args.decision_log_queue.unwrap_or(decision_log::DEFAULT_QUEUE),
        audit_key,
    }))
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
