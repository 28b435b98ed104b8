//! The decision log: one JSON line per decision, append-only and hash-chained.
//!
//! Each line carries `prev_hash` (the `hash` of the line before; 64 zeros for the first)
//! and its own `hash`, the SHA-256 of `prev_hash` and the line's content without `hash`.
//! Editing a line breaks its hash; deleting or reordering lines breaks the chain.
//! `linewall audit verify FILE` checks both. Matched values appear only as keyed hashes.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::sync::mpsc;

use linewall_engine::{Message, Verdict};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Where decision lines go.
#[derive(Debug, Clone)]
pub enum Target {
    /// Standard output.
    Stdout,
    /// A file, appended to.
    File(PathBuf),
}

/// Sends decisions to the writer thread; cheap to clone.
#[derive(Clone)]
pub struct DecisionLog {
    tx: mpsc::SyncSender<Value>,
    key: [u8; 32],
}

fn chain_hash(prev: &str, content: &str) -> String {
    let mut h = Sha256::new();
    h.update(prev.as_bytes());
    h.update(b"\n");
    h.update(content.as_bytes());
    hex::encode(h.finalize())
}

/// The last `hash` of an existing log, so a restarted server continues the chain.
fn last_hash(path: &Path) -> String {
    let Ok(f) = std::fs::File::open(path) else { return GENESIS.to_owned() };
    let mut last = GENESIS.to_owned();
    for line in BufReader::new(f).lines().map_while(Result::ok) {
        if let Ok(v) = serde_json::from_str::<Value>(&line)
            && let Some(h) = v["hash"].as_str()
        {
            last = h.to_owned();
        }
    }
    last
}

impl DecisionLog {
    /// Starts the writer thread. `key` keys the hashes of matched values.
    pub fn start(target: Target, key: [u8; 32]) -> std::io::Result<Self> {
        let (tx, rx) = mpsc::sync_channel::<Value>(65_536);
        let (mut out, mut prev): (Box<dyn Write + Send>, String) = match &target {
            Target::Stdout => (Box::new(std::io::stdout()), GENESIS.to_owned()),
            Target::File(p) => {
                let prev = last_hash(p);
                let f = std::fs::OpenOptions::new().create(true).append(true).open(p)?;
                (Box::new(std::io::BufWriter::new(f)), prev)
            }
        };
        std::thread::Builder::new().name("decision-log".into()).spawn(move || {
            while let Ok(first) = rx.recv() {
                // Write what is queued, then flush once.
                for mut entry in std::iter::once(first).chain(rx.try_iter()) {
                    entry["prev_hash"] = Value::String(prev.clone());
                    let content = entry.to_string();
                    let hash = chain_hash(&prev, &content);
                    entry["hash"] = Value::String(hash.clone());
                    if writeln!(out, "{entry}").is_err() {
                        tracing::error!("decision log write failed");
                    }
                    prev = hash;
                }
                let _ = out.flush();
            }
        })?;
        Ok(Self { tx, key })
    }

    /// Records one decision. Never blocks the request path for long: if the writer falls
    /// 65,536 lines behind, the call waits for it rather than dropping an audit record.
    pub fn record(&self, msg: &Message, v: &Verdict) {
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
                    "value_hash": linewall_engine::eval::redact::keyed_hash(&self.key, value),
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
        let time = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
        let entry = json!({
            "decision_id": v.decision_id,
            "time_ms": time,
            "tenant": msg.tenant,
            "message_id": msg.id,
            "action": v.action.as_str(),
            "rules": v.matched.iter().map(|m| format!("{}/{}", m.policy, m.rule)).collect::<Vec<_>>(),
            "findings": findings,
            "errors": v.errors.iter().map(|e| json!({"detector": e.detector, "on_error": e.on_error.as_str()})).collect::<Vec<_>>(),
            "policy_version": v.policy_version,
        });
        let _ = self.tx.send(entry);
    }
}

/// Outcome of verifying a decision log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditReport {
    /// Lines checked.
    pub lines: usize,
    /// Problems, as `line N: what`.
    pub problems: Vec<String>,
}

/// Verifies every line's hash and the chain between lines.
pub fn audit_verify(path: &Path) -> std::io::Result<AuditReport> {
    let f = std::fs::File::open(path)?;
    let mut prev = GENESIS.to_owned();
    let mut report = AuditReport { lines: 0, problems: Vec::new() };
    for (i, line) in BufReader::new(f).lines().enumerate() {
        let line = line?;
        let n = i + 1;
        report.lines = n;
        let Ok(mut v) = serde_json::from_str::<Value>(&line) else {
            report.problems.push(format!("line {n}: not a JSON decision"));
            continue;
        };
        let (Some(hash), Some(prev_hash)) =
            (v["hash"].as_str().map(str::to_owned), v["prev_hash"].as_str().map(str::to_owned))
        else {
            report.problems.push(format!("line {n}: missing hash or prev_hash"));
            continue;
        };
        if prev_hash != prev {
            report.problems.push(format!(
                "line {n}: chain broken (a line before it was deleted, inserted or reordered)"
            ));
        }
        if let Some(obj) = v.as_object_mut() {
            obj.remove("hash");
        }
        if chain_hash(&prev_hash, &v.to_string()) != hash {
            report.problems.push(format!("line {n}: content does not match its hash (line edited)"));
        }
        prev = hash;
    }
    Ok(report)
}
