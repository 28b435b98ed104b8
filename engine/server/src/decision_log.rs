//! The decision log: one JSON line per decision, append-only, in a keyed hash chain.
//!
//! Each line carries `seq` (1, 2, ... continued across rotations), `prev_hash` (the
//! `hash` of the line before; 64 zeros for the first) and `hash` = HMAC-SHA256 under the
//! audit key (`--audit-key-file`, kept apart from the log) of `prev_hash`, a newline and
//! the line's canonical JSON without `hash`. Without the key nobody can re-chain an
//! edited log. After every written batch the writer overwrites a checkpoint (`seq`, last
//! hash, keyed MAC) in the anchor file, so a log cut short is detected. See [`crate::audit`].
//!
//! Requests never block on the log without bound: decisions go through a bounded queue
//! to one writer thread. In `required` mode a request waits (at most `wait`) until its
//! line is written (`write(2)` returned: in the kernel, not necessarily on the platter;
//! no fsync per batch), else it fails with UNAVAILABLE and its line is not written; in
//! `best-effort` mode a decision that cannot be queued or written is dropped and counted.
//! A failed write is cut back off the file, so the chain never advances past it.

use std::collections::BTreeMap;
use std::io::{Read as _, Seek as _, SeekFrom, Write as _};
use std::os::unix::fs::{FileExt as _, OpenOptionsExt as _};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::mpsc;
use std::time::Duration;

use hmac::{Hmac, Mac};
use linewall_engine::{Message, Verdict};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::gauge::Gauge;
use serde_json::{Value, json};

/// `prev_hash` of the first line of a chain.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Decisions waiting for the writer, at most, by default.
pub const DEFAULT_QUEUE: usize = 65_536;

/// Longest line searched for when reading the tail of an existing log.
const MAX_LINE_BYTES: u64 = 16 << 20;

/// Size of the anchor's one checkpoint line (overwritten in place, padded).
const ANCHOR_BYTES: usize = 512;

/// Where decision lines go.
#[derive(Debug, Clone)]
pub enum Target {
    /// Standard output.
    Stdout,
    /// A regular file, appended to.
    File(PathBuf),
}

/// What happens to a request whose decision cannot be written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// The request fails with UNAVAILABLE: nothing is answered that is not on record.
    Required,
    /// The request is answered; the decision is dropped and counted.
    BestEffort,
}

/// How to run the decision log.
#[derive(Debug, Clone)]
pub struct Config {
    /// Where lines go.
    pub target: Target,
    /// Required or best-effort.
    pub mode: Mode,
    /// Longest a request waits for its line in `required` mode.
    pub wait: Duration,
    /// Key of the hash chain and the anchor's MAC.
    pub audit_key: Vec<u8>,
    /// Key of the matched values' hashes.
    pub value_key: [u8; 32],
    /// Checkpoint file (none: no anchor).
    pub anchor: Option<PathBuf>,
    /// Decisions waiting for the writer, at most.
    pub queue: usize,
    /// Where the log is counted.
    pub stats: LogStats,
}

/// The log's counters, exported on `/metrics`; clones share the same series.
#[derive(Debug, Default, Clone)]
pub struct LogStats {
    written: Counter,
    write_errors: Counter,
    dropped: Counter,
    unavailable: Counter,
    queued: Gauge<i64, AtomicI64>,
    /// When the write in progress started (ms since the Unix epoch; 0: none).
    write_started_ms: Arc<AtomicU64>,
}

impl LogStats {
    /// Decision lines written.
    pub fn written(&self) -> u64 {
        self.written.get()
    }

    /// Registers the series.
    pub fn register(&self, registry: &mut prometheus_client::registry::Registry) {
        registry.register("linewall_decision_log_written", "Decision lines written", self.written.clone());
        registry.register(
            "linewall_decision_log_write_errors",
            "Failed writes to the decision log or its anchor (disk full, closed pipe, ...)",
            self.write_errors.clone(),
        );
        registry.register(
            "linewall_decision_log_dropped",
            "Decisions not recorded in best-effort mode (queue full or write failed)",
            self.dropped.clone(),
        );
        registry.register(
            "linewall_decision_log_unavailable",
            "Requests failed with UNAVAILABLE in required mode because their decision could not be recorded",
            self.unavailable.clone(),
        );
        registry.register(
            "linewall_decision_log_queue_depth",
            "Decisions waiting for the writer",
            self.queued.clone(),
        );
    }
}

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// A decision on its way to the writer.
struct Job {
    entry: Value,
    /// Told whether the line was written (required mode).
    ack: Option<tokio::sync::oneshot::Sender<bool>>,
}

/// Sends decisions to the writer thread; cheap to clone.
#[derive(Clone)]
pub struct DecisionLog {
    tx: mpsc::SyncSender<Job>,
    value_key: [u8; 32],
    mode: Mode,
    wait: Duration,
    stats: Arc<LogStats>,
    reopen: Arc<AtomicBool>,
}

/// A decision handed to the writer; [`DecisionLog::confirm`] waits for it.
#[must_use = "a required decision must be confirmed before answering"]
pub struct Pending(Option<tokio::sync::oneshot::Receiver<bool>>);

/// The decision could not be recorded (required mode): do not answer the request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the decision could not be recorded in the decision log ({0}); not answered")]
pub struct Unrecorded(pub(crate) &'static str);

/// Why the decision log could not be opened ([`DecisionLog::start`]) or its anchor read
/// ([`read_anchor`]): what an operator needs to fix it (paths, never decisions).
#[derive(Debug, thiserror::Error)]
pub enum LogError {
    /// The anchor file exists but could not be read (or is not a regular file, or too large).
    #[error("anchor {}: {source}", path.display())]
    AnchorUnreadable {
        /// The anchor file.
        path: PathBuf,
        /// Why it could not be read.
        source: linewall_engine::policy::files::FileError,
    },
    /// The anchor holds no checkpoint (not JSON, or fields missing).
    #[error("anchor {}: damaged", path.display())]
    AnchorDamaged {
        /// The anchor file.
        path: PathBuf,
    },
    /// The anchor's MAC does not verify with the audit key.
    #[error("anchor {}: its MAC does not verify with this audit key (forged, or another key)", path.display())]
    AnchorForged {
        /// The anchor file.
        path: PathBuf,
    },
    /// The anchor file could not be opened for writing.
    #[error("anchor {}: {source}", path.display())]
    AnchorOpen {
        /// The anchor file.
        path: PathBuf,
        /// Why it could not be opened.
        source: std::io::Error,
    },
    /// Opening, reading or cutting the log file failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The log file.
        path: PathBuf,
        /// The failure.
        source: std::io::Error,
    },
    /// The last line of an existing log does not verify with the audit key.
    #[error(
        "{}: the last decision does not verify with this audit key (another key, or a log written \
         before keyed chains): rotate the log or give the right --audit-key-file",
        path.display()
    )]
    Unverified {
        /// The log file.
        path: PathBuf,
    },
    /// The log ends before the decision its anchor records.
    #[error(
        "{}: the log ends at decision {seq} but its anchor records decision {anchored} with another hash: \
         the log was cut short or replaced; run `linewall audit verify` and rotate it",
        path.display()
    )]
    CutShort {
        /// The log file.
        path: PathBuf,
        /// The last decision in the log.
        seq: u64,
        /// The decision the anchor records.
        anchored: u64,
    },
    /// The writer thread could not be started.
    #[error("starting the decision log writer: {0}")]
    Writer(#[source] std::io::Error),
}

type HmacSha256 = Hmac<sha2::Sha256>;

/// The chain hash of a line: HMAC(key, prev_hash "\n" content).
pub fn chain_hash(key: &[u8], prev: &str, content: &str) -> String {
    // HMAC takes keys of any length.
    let mut mac = HmacSha256::new_from_slice(key).unwrap_or_else(|_| unreachable_mac());
    mac.update(prev.as_bytes());
    mac.update(b"\n");
    mac.update(content.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// The MAC of an anchor checkpoint.
pub fn anchor_mac(key: &[u8], seq: u64, last_hash: &str) -> String {
    let mut mac = HmacSha256::new_from_slice(key).unwrap_or_else(|_| unreachable_mac());
    mac.update(b"linewall-decision-anchor\0");
    mac.update(&seq.to_be_bytes());
    mac.update(last_hash.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

fn unreachable_mac() -> HmacSha256 {
    // `new_from_slice` accepts every key length for HMAC; this is a fixed non-secret
    // fallback that can never be reached.
    <HmacSha256 as hmac::digest::KeyInit>::new(&Default::default())
}

/// The canonical text a line's hash covers: its object without `hash`, keys sorted.
pub fn canonical(obj: &serde_json::Map<String, Value>) -> String {
    let sorted: BTreeMap<&String, &Value> = obj.iter().filter(|(k, _)| k.as_str() != "hash").collect();
    serde_json::to_string(&sorted).unwrap_or_default()
}

/// A checkpoint read from an anchor file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    /// Decisions in the chain up to the checkpoint.
    pub seq: u64,
    /// `hash` of decision `seq`.
    pub last_hash: String,
}

/// Reads and authenticates the anchor's checkpoint; `Ok(None)` when the file is absent
/// or empty.
pub fn read_anchor(path: &Path, key: &[u8]) -> Result<Option<Checkpoint>, LogError> {
    let bytes = match linewall_engine::policy::files::read_capped(path, 4096, true) {
        Ok(b) => b,
        Err(linewall_engine::policy::files::FileError::Io(e)) if e.kind() == std::io::ErrorKind::NotFound => {
            return Ok(None);
        }
        Err(source) => return Err(LogError::AnchorUnreadable { path: path.to_owned(), source }),
    };
    let text = String::from_utf8_lossy(&bytes);
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    let damaged = || LogError::AnchorDamaged { path: path.to_owned() };
    let v: Value = serde_json::from_str(text).map_err(|_| damaged())?;
    let (Some(seq), Some(last)) = (v["seq"].as_u64(), v["last_hash"].as_str()) else {
        return Err(damaged());
    };
    if v["mac"].as_str() != Some(anchor_mac(key, seq, last).as_str()) {
        return Err(LogError::AnchorForged { path: path.to_owned() });
    }
    Ok(Some(Checkpoint { seq, last_hash: last.to_owned() }))
}

/// Opens a regular file for appending (created if missing); FIFOs, devices and other
/// non-regular paths are refused without blocking.
fn open_regular(path: &Path, append: bool) -> std::io::Result<std::fs::File> {
    // Checked before opening too: opening a FIFO for writing without a reader fails with
    // a confusing "no such device or address".
    if let Ok(m) = std::fs::metadata(path)
        && !m.file_type().is_file()
    {
        return Err(std::io::Error::other("not a regular file"));
    }
    let mut o = std::fs::OpenOptions::new();
    o.read(true).create(true).custom_flags(libc::O_NONBLOCK);
    if append {
        o.append(true);
    } else {
        o.write(true);
    }
    let f = o.open(path)?;
    if !f.metadata()?.file_type().is_file() {
        return Err(std::io::Error::other("not a regular file"));
    }
    Ok(f)
}

/// Position just past the last `\n` before `end` (0 if none), reading backwards in
/// blocks and at most [`MAX_LINE_BYTES`].
fn line_start_before(f: &std::fs::File, end: u64) -> std::io::Result<u64> {
    let mut pos = end;
    let mut buf = vec![0u8; 64 << 10];
    while pos > 0 {
        if end - pos > MAX_LINE_BYTES {
            return Err(std::io::Error::other("the last line of the decision log is too long"));
        }
        let n = buf.len().min(usize::try_from(pos).unwrap_or(usize::MAX));
        let start = pos - n as u64;
        f.read_exact_at(&mut buf[..n], start)?;
        if let Some(i) = buf[..n].iter().rposition(|&b| b == b'\n') {
            return Ok(start + i as u64 + 1);
        }
        pos = start;
    }
    Ok(0)
}

/// Where the chain of an existing log stands: a partial last line (a write cut by a
/// crash or a full disk) is cut off, then the last line is read from the tail and
/// authenticated.
fn recover(f: &mut std::fs::File, path: &Path, key: &[u8]) -> Result<(u64, String), LogError> {
    let io = |source: std::io::Error| LogError::Io { path: path.to_owned(), source };
    let len = f.metadata().map_err(io)?.len();
    if len == 0 {
        return Ok((0, GENESIS.to_owned()));
    }
    let mut last = [0u8; 1];
    f.read_exact_at(&mut last, len - 1).map_err(io)?;
    let mut end = len;
    if last[0] != b'\n' {
        end = line_start_before(f, len).map_err(io)?;
        f.set_len(end).map_err(io)?;
        tracing::warn!(
            log = %path.display(),
            removed_bytes = len - end,
            "decision log ended in a partial line (a write cut short): removed it"
        );
        if end == 0 {
            return Ok((0, GENESIS.to_owned()));
        }
    }
    let start = line_start_before(f, end - 1).map_err(io)?;
    let mut line = vec![0u8; usize::try_from(end - start).map_err(|e| io(std::io::Error::other(e)))?];
    f.seek(SeekFrom::Start(start)).map_err(io)?;
    f.read_exact(&mut line).map_err(io)?;
    let bad = || LogError::Unverified { path: path.to_owned() };
    let v: Value = serde_json::from_slice(&line).map_err(|_| bad())?;
    let obj = v.as_object().ok_or_else(bad)?;
    let (Some(seq), Some(prev), Some(hash)) =
        (obj.get("seq").and_then(Value::as_u64), obj["prev_hash"].as_str(), obj["hash"].as_str())
    else {
        return Err(bad());
    };
    if chain_hash(key, prev, &canonical(obj)) != hash {
        return Err(bad());
    }
    Ok((seq, hash.to_owned()))
}

/// Where the writer writes.
enum Sink {
    Stdout(std::io::Stdout),
    File { file: std::fs::File, path: PathBuf, good_len: u64 },
}

/// The writer thread's state.
struct Writer {
    sink: Sink,
    key: Vec<u8>,
    seq: u64,
    prev: String,
    anchor: Option<std::fs::File>,
    mode: Mode,
    stats: Arc<LogStats>,
    reopen: Arc<AtomicBool>,
    failing: bool,
}

impl Writer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<()> {
        match &mut self.sink {
            Sink::Stdout(out) => {
                let mut lock = out.lock();
                lock.write_all(buf)?;
                lock.flush()
            }
            Sink::File { file, good_len, .. } => match file.write_all(buf) {
                Ok(()) => {
                    *good_len += buf.len() as u64;
                    Ok(())
                }
                Err(e) => {
                    // Cut a partial write back off so the file ends on the last good line.
                    if let Err(t) = file.set_len(*good_len) {
                        tracing::error!(error = %t, "decision log: cannot cut a failed write back off");
                    }
                    Err(e)
                }
            },
        }
    }

    fn checkpoint(&mut self) {
        let Some(anchor) = &self.anchor else { return };
        let mut line = json!({
            "seq": self.seq,
            "last_hash": self.prev,
            "mac": anchor_mac(&self.key, self.seq, &self.prev),
        })
        .to_string();
        // Fixed size: each checkpoint overwrites the last one whole.
        line.extend(std::iter::repeat_n(' ', (ANCHOR_BYTES - 1).saturating_sub(line.len())));
        line.push('\n');
        if let Err(e) = anchor.write_all_at(line.as_bytes(), 0) {
            self.stats.write_errors.inc();
            tracing::error!(error = %e, "decision log: anchor write failed");
        }
    }

    fn do_reopen(&mut self) {
        if let Sink::File { file, path, good_len } = &mut self.sink {
            match open_regular(path, true).and_then(|f| f.metadata().map(|m| (f, m.len()))) {
                Ok((f, len)) => {
                    *file = f;
                    *good_len = len;
                    tracing::info!(log = %path.display(), seq = self.seq, "decision log reopened; the chain continues");
                }
                Err(e) => tracing::error!(error = %e, "decision log: reopen failed; writing to the old file"),
            }
        }
    }

    fn run(mut self, rx: &mpsc::Receiver<Job>) {
        let mut buf = Vec::with_capacity(64 << 10);
        while let Ok(first) = rx.recv() {
            if self.reopen.swap(false, Ordering::Relaxed) {
                self.do_reopen();
            }
            let batch: Vec<Job> = std::iter::once(first).chain(rx.try_iter().take(4095)).collect();
            self.stats.queued.dec_by(i64::try_from(batch.len()).unwrap_or(i64::MAX));
            buf.clear();
            let (mut seq, mut prev) = (self.seq, self.prev.clone());
            let mut acks = Vec::with_capacity(batch.len());
            let mut flushes = Vec::new();
            for Job { mut entry, ack } in batch {
                if entry.is_null() {
                    // A flush marker: answered once everything queued before it is done.
                    flushes.extend(ack);
                    continue;
                }
                // A required request that already gave up was answered UNAVAILABLE: its
                // decision was never delivered, so it is not recorded either.
                if ack.as_ref().is_some_and(tokio::sync::oneshot::Sender::is_closed) {
                    continue;
                }
                let Some(obj) = entry.as_object_mut() else { continue };
                seq += 1;
                obj.insert("seq".into(), Value::from(seq));
                obj.insert("prev_hash".into(), Value::String(prev));
                let hash =
                    chain_hash(&self.key, obj["prev_hash"].as_str().unwrap_or(GENESIS), &canonical(obj));
                obj.insert("hash".into(), Value::String(hash.clone()));
                let _ = serde_json::to_writer(&mut buf, &entry);
                buf.push(b'\n');
                prev = hash;
                acks.push(ack);
            }
            if acks.is_empty() {
                for f in flushes {
                    let _ = f.send(true);
                }
                continue;
            }
            let n = acks.len() as u64;
            self.stats.write_started_ms.store(now_ms().max(1), Ordering::Relaxed);
            let written = self.write(&buf);
            self.stats.write_started_ms.store(0, Ordering::Relaxed);
            match written {
                Ok(()) => {
                    self.seq = seq;
                    self.prev = prev;
                    self.stats.written.inc_by(n);
                    if self.failing {
                        self.failing = false;
                        tracing::info!("decision log writes succeed again");
                    }
                    self.checkpoint();
                    for a in acks.into_iter().flatten() {
                        let _ = a.send(true);
                    }
                }
                Err(e) => {
                    self.stats.write_errors.inc();
                    if self.mode == Mode::BestEffort {
                        self.stats.dropped.inc_by(n);
                    }
                    if !self.failing {
                        self.failing = true;
                        tracing::error!(error = %e, decisions = n, "decision log write failed; the chain stays at the last written line");
                    }
                    for a in acks.into_iter().flatten() {
                        let _ = a.send(false);
                    }
                }
            }
            for f in flushes {
                let _ = f.send(true);
            }
        }
    }
}

impl DecisionLog {
    /// Opens the log (recovering an existing file's chain), the anchor, and starts the
    /// writer thread. Fails on non-regular paths, a last line the key does not verify,
    /// or a log shorter than its anchor records.
    pub fn start(config: Config) -> Result<Self, LogError> {
        let stats = Arc::new(config.stats.clone());
        let key = config.audit_key.clone();
        let anchored = match &config.anchor {
            Some(p) => read_anchor(p, &key)?,
            None => None,
        };
        let (sink, (seq, prev)) = match &config.target {
            Target::Stdout => (
                Sink::Stdout(std::io::stdout()),
                anchored.map_or((0, GENESIS.to_owned()), |c| (c.seq, c.last_hash)),
            ),
            Target::File(p) => {
                let io = |source: std::io::Error| LogError::Io { path: p.clone(), source };
                let mut file = open_regular(p, true).map_err(io)?;
                let (mut seq, mut prev) = recover(&mut file, p, &key)?;
                match anchored {
                    Some(c) if seq == 0 => {
                        // An empty log after a rotation: continue the chain from the anchor.
                        (seq, prev) = (c.seq, c.last_hash);
                    }
                    Some(c) if c.seq > seq || (c.seq == seq && c.last_hash != prev) => {
                        return Err(LogError::CutShort { path: p.clone(), seq, anchored: c.seq });
                    }
                    _ => {}
                }
                let good_len = file.metadata().map_err(io)?.len();
                (Sink::File { file, path: p.clone(), good_len }, (seq, prev))
            }
        };
        let anchor = match &config.anchor {
            Some(p) => Some(
                open_regular(p, false).map_err(|source| LogError::AnchorOpen { path: p.clone(), source })?,
            ),
            None => None,
        };
        let reopen = Arc::new(AtomicBool::new(false));
        let writer = Writer {
            sink,
            key,
            seq,
            prev,
            anchor,
            mode: config.mode,
            stats: Arc::clone(&stats),
            reopen: Arc::clone(&reopen),
            failing: false,
        };
        let (tx, rx) = mpsc::sync_channel::<Job>(config.queue.max(1));
        std::thread::Builder::new()
            .name("decision-log".into())
            .spawn(move || writer.run(&rx))
            .map_err(LogError::Writer)?;
        Ok(Self { tx, value_key: config.value_key, mode: config.mode, wait: config.wait, stats, reopen })
    }

    /// Asks the writer to reopen the file before its next write (log rotation, SIGHUP).
    pub fn reopen(&self) {
        self.reopen.store(true, Ordering::Relaxed);
    }

    /// Whether the writer has been stuck in one write longer than a request may wait
    /// (a stalled pipe, a hung mount): required requests then fail at once instead of
    /// queueing behind it.
    fn stalled(&self) -> bool {
        let started = self.stats.write_started_ms.load(Ordering::Relaxed);
        started != 0
            && now_ms().saturating_sub(started) > u64::try_from(self.wait.as_millis()).unwrap_or(u64::MAX)
    }

    /// Hands one decision to the writer without blocking. In required mode a full queue
    /// or a stalled writer is an error; in best-effort mode a full queue drops the
    /// decision (counted).
    pub fn record(&self, msg: &Message, v: &Verdict) -> Result<Pending, Unrecorded> {
        if self.mode == Mode::Required && self.stalled() {
            self.stats.unavailable.inc();
            return Err(Unrecorded("the writer is stalled"));
        }
        let entry = self.entry(msg, v);
        let (ack, rx) = match self.mode {
            Mode::Required => {
                let (tx, rx) = tokio::sync::oneshot::channel();
                (Some(tx), Some(rx))
            }
            Mode::BestEffort => (None, None),
        };
        self.stats.queued.inc();
        match self.tx.try_send(Job { entry, ack }) {
            Ok(()) => Ok(Pending(rx)),
            Err(_) => {
                self.stats.queued.dec();
                match self.mode {
                    Mode::Required => {
                        self.stats.unavailable.inc();
                        Err(Unrecorded("the writer is behind or stopped"))
                    }
                    Mode::BestEffort => {
                        self.stats.dropped.inc();
                        Ok(Pending(None))
                    }
                }
            }
        }
    }

    /// Waits (at most `limit`) until every decision queued before the call is written or
    /// has failed; used at shutdown so best-effort decisions still queued are not lost.
    pub async fn flush(&self, limit: Duration) {
        let (tx, rx) = tokio::sync::oneshot::channel();
        if self.tx.try_send(Job { entry: Value::Null, ack: Some(tx) }).is_ok() {
            self.stats.queued.inc();
            if tokio::time::timeout(limit, rx).await.is_err() {
                tracing::error!("decision log: queued decisions not written at shutdown (writer stuck)");
            }
        }
    }

    /// Waits (at most the configured time) until a required decision is written.
    pub async fn confirm(&self, pending: Pending) -> Result<(), Unrecorded> {
        let Some(rx) = pending.0 else { return Ok(()) };
        let outcome = match tokio::time::timeout(self.wait, rx).await {
            Ok(Ok(true)) => return Ok(()),
            Ok(Ok(false)) => Unrecorded("the write failed"),
            Ok(Err(_)) => Unrecorded("the writer stopped"),
            Err(_) => Unrecorded("the write did not finish in time"),
        };
        self.stats.unavailable.inc();
        Err(outcome)
    }

    fn entry(&self, msg: &Message, v: &Verdict) -> Value {
        let findings: Vec<Value> = v
            .findings
            .iter()
            .map(|f| {
                let value = linewall_engine::eval::fields::get(msg, &f.field)
                    .and_then(|t| t.get(f.byte_start..f.byte_end))
                    .unwrap_or("");
                let mut entry = json!({
                    "detector": f.detector,
                    "field": f.field,
                    "start": f.start,
                    "end": f.end,
                    "value_hash": linewall_engine::eval::redact::keyed_hash(&self.value_key, value),
                });
                // A split value: where its earlier fragments are, never what they hold.
                if !f.parts.is_empty() {
                    entry["parts"] = json!(f
                        .parts
                        .iter()
                        .map(|p| json!({"message_id": p.message_id, "field": p.field, "start": p.start, "end": p.end}))
                        .collect::<Vec<_>>());
                }
                entry
            })
            .collect();
        let time = now_ms();
        json!({
            "decision_id": v.decision_id,
            "time_ms": time,
            "tenant": msg.tenant,
            "message_id": msg.id,
            "action": v.action.as_str(),
            "rules": v.matched.iter().map(|m| format!("{}/{}", m.policy, m.rule)).collect::<Vec<_>>(),
            "findings": findings,
            "errors": v.errors.iter().map(|e| json!({"detector": e.detector, "on_error": e.on_error.as_str()})).collect::<Vec<_>>(),
            "policy_version": v.policy_version,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &[u8] = b"0123456789abcdef0123456789abcdef";

    /// A fresh directory of this test process.
    fn dir(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("linewall-dlog-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).expect("create the test directory");
        d
    }

    fn config(log: &Path, anchor: &Path) -> Config {
        Config {
            target: Target::File(log.to_owned()),
            mode: Mode::Required,
            wait: Duration::from_secs(5),
            audit_key: KEY.to_vec(),
            value_key: [7; 32],
            anchor: Some(anchor.to_owned()),
            queue: 4,
            stats: LogStats::default(),
        }
    }

    fn write_anchor(path: &Path, key: &[u8], seq: u64, last: &str) {
        let line = json!({"seq": seq, "last_hash": last, "mac": anchor_mac(key, seq, last)});
        std::fs::write(path, line.to_string()).expect("write the anchor");
    }

    #[test]
    fn an_anchor_that_cannot_be_trusted_says_why_and_where() {
        let d = dir("anchor");
        let p = d.join("anchor.json");
        assert!(matches!(read_anchor(&p, KEY), Ok(None)), "an absent anchor is no checkpoint");
        let last = "ab".repeat(32);
        write_anchor(&p, KEY, 3, &last);
        assert_eq!(read_anchor(&p, KEY).expect("verifies"), Some(Checkpoint { seq: 3, last_hash: last }));
        let forged = read_anchor(&p, b"another key of the same length!!").expect_err("wrong key");
        assert!(matches!(&forged, LogError::AnchorForged { path } if path == &p), "{forged:?}");
        assert_eq!(
            forged.to_string(),
            format!(
                "anchor {}: its MAC does not verify with this audit key (forged, or another key)",
                p.display()
            )
        );
        std::fs::write(&p, r#"{"seq": 3}"#).expect("write");
        assert!(matches!(read_anchor(&p, KEY), Err(LogError::AnchorDamaged { .. })));
        let unreadable = read_anchor(&d, KEY).expect_err("a directory is not an anchor");
        assert!(matches!(unreadable, LogError::AnchorUnreadable { .. }), "{unreadable:?}");
        let _ = std::fs::remove_dir_all(&d);
    }

    #[test]
    fn a_log_behind_its_anchor_or_under_another_key_does_not_open() {
        let d = dir("start");
        let (log, anchor) = (d.join("decisions.jsonl"), d.join("anchor.json"));
        let mut first = serde_json::Map::new();
        first.insert("seq".into(), json!(1));
        first.insert("prev_hash".into(), json!(GENESIS));
        let hash = chain_hash(KEY, GENESIS, &canonical(&first));
        first.insert("hash".into(), json!(hash));
        std::fs::write(&log, format!("{}\n", Value::Object(first))).expect("write the log");
        write_anchor(&anchor, KEY, 5, &"cd".repeat(32));
        let cut = DecisionLog::start(config(&log, &anchor)).err().expect("the anchor is ahead of the log");
        assert!(matches!(&cut, LogError::CutShort { seq: 1, anchored: 5, .. }), "{cut:?}");
        write_anchor(&anchor, KEY, 1, &hash);
        assert!(DecisionLog::start(config(&log, &anchor)).is_ok(), "log and anchor agree");
        let other = Config {
            audit_key: b"another key of the same length!!".to_vec(),
            anchor: None,
            ..config(&log, &anchor)
        };
        let unverified = DecisionLog::start(other).err().expect("another key");
        assert!(matches!(&unverified, LogError::Unverified { path } if path == &log), "{unverified:?}");
        let _ = std::fs::remove_dir_all(&d);
    }
}
