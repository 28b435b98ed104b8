//! What a server needs to run, resolved: no flags, no files to merge. The `linewall`
//! binary builds it from its flags, environment and `--config` file; tests build it
//! directly.

use std::path::PathBuf;
use std::time::Duration;

use linewall_engine::policy::LoadOptions;

use crate::decision_log;
use crate::state::{Guards, Source};

/// Everything [`crate::Server::new`] takes.
#[derive(Clone)]
pub struct ServerConfig {
    /// Where policies come from.
    pub policies: Source,
    /// How policy sets are loaded (plugin loader, hash key, symbolic links). Without a
    /// hash key the server uses a random one for this process (and warns).
    pub load: LoadOptions,
    /// What a set must satisfy to be served (fewest policies, manifest, reload time limit).
    pub guards: Guards,
    /// Largest message accepted, in encoded bytes.
    pub max_message_bytes: usize,
    /// Bearer token of PolicyAdmin; `None` (and no verified client certificate) refuses
    /// every admin call.
    pub admin_token: Option<String>,
    /// Most gRPC connections open at once (also kept under the open-file limit).
    pub max_connections: usize,
    /// Time a new connection has to send its first bytes (gRPC, TLS) or its request head
    /// (metrics endpoint).
    pub handshake_timeout: Duration,
    /// TLS (and mutual TLS); plaintext when `None`.
    pub tls: Option<Tls>,
    /// Answer every message with `allow` without evaluating (transport baseline).
    pub noop: bool,
    /// Reload when a file of the policy directory changes.
    pub watch: bool,
    /// Reload on SIGHUP (and reopen the decision log): a process-wide handler, so only
    /// the binary turns it on.
    pub reload_on_sighup: bool,
    /// Where decisions are recorded, if anywhere.
    pub decision_log: Option<DecisionLogConfig>,
    /// Joining of values split across messages (docs/10-conversations.md).
    pub conversations: Joining,
    /// How far back joining looks (window, message count).
    pub conversation_config: linewall_engine::conversation::Config,
}

impl ServerConfig {
    /// Defaults of `linewall serve` for `policies` loaded with `load`; no admin token, no
    /// decision log, no watcher, no signal handler.
    pub fn new(policies: Source, load: LoadOptions) -> Self {
        ServerConfig {
            policies,
            load,
            guards: Guards::default(),
            max_message_bytes: DEFAULT_MAX_MESSAGE_BYTES,
            admin_token: None,
            max_connections: DEFAULT_MAX_CONNECTIONS,
            handshake_timeout: DEFAULT_HANDSHAKE_TIMEOUT,
            tls: None,
            noop: false,
            watch: false,
            reload_on_sighup: false,
            decision_log: None,
            conversations: Joining::Memory { capacity: linewall_engine::conversation::DEFAULT_CAPACITY },
            conversation_config: linewall_engine::conversation::Config::default(),
        }
    }
}

/// Default of [`ServerConfig::max_message_bytes`].
pub const DEFAULT_MAX_MESSAGE_BYTES: usize = 1 << 20;
/// Default of [`ServerConfig::max_connections`].
pub const DEFAULT_MAX_CONNECTIONS: usize = 4096;
/// Default of [`ServerConfig::handshake_timeout`].
pub const DEFAULT_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// TLS material, PEM-encoded.
#[derive(Clone)]
pub struct Tls {
    /// Certificate chain.
    pub cert_pem: Vec<u8>,
    /// Private key.
    pub key_pem: Vec<u8>,
    /// CA whose client certificates are accepted (mutual TLS); a verified client
    /// certificate also authorizes PolicyAdmin calls.
    pub client_ca_pem: Option<Vec<u8>>,
}

/// The decision log, as `linewall serve` configures it.
#[derive(Clone)]
pub struct DecisionLogConfig {
    /// Where lines go.
    pub target: decision_log::Target,
    /// Checkpoint file (none: no anchor).
    pub anchor: Option<PathBuf>,
    /// What a decision that cannot be written does.
    pub mode: decision_log::Mode,
    /// Longest a request waits for its decision to be written (required mode).
    pub wait: Duration,
    /// Decisions waiting for the writer, at most.
    pub queue: usize,
    /// Key of the hash chain and the anchor's MAC.
    pub audit_key: Vec<u8>,
}

/// Where conversation windows live.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Joining {
    /// Judge every message alone.
    Off,
    /// In this process, remembering at most `capacity` conversation scopes.
    Memory {
        /// Scopes remembered (least recently used go first).
        capacity: usize,
    },
    /// In Redis at `url`, shared by replicas; needs a configured hash key.
    Redis {
        /// `redis://HOST:PORT` or `rediss://...`.
        url: String,
    },
}
