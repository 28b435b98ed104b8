//! `linewall audit verify`: checks decision log files (in order) against the audit key
//! and the anchor. Reported: edited lines and lines re-chained without the key (their
//! HMAC fails), deleted, inserted or reordered lines (`seq` and `prev_hash` break), a
//! log cut short (the anchor records more decisions than the log holds), a replaced log
//! (the anchor's hash differs), duplicate JSON keys and partial lines.

use std::io::{BufRead as _, BufReader, Read as _};
use std::path::{Path, PathBuf};

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::Value;

use crate::decision_log::{Checkpoint, GENESIS, canonical, chain_hash};

/// Longest line verified.
const MAX_LINE_BYTES: u64 = 16 << 20;

/// Outcome of verifying decision log files.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditReport {
    /// Lines checked.
    pub lines: usize,
    /// First and last `seq` seen.
    pub seq_range: Option<(u64, u64)>,
    /// Problems, as `FILE: line N: what`; any problem fails verification.
    pub problems: Vec<String>,
    /// Facts worth knowing that are not failures.
    pub notes: Vec<String>,
}

/// A JSON value that refuses duplicate object keys (which `serde_json` would silently
/// resolve to the last one, letting two readers see two different lines).
struct Strict(Value);

impl<'de> Deserialize<'de> for Strict {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(StrictVisitor).map(Strict)
    }
}

struct StrictVisitor;

impl<'de> Visitor<'de> for StrictVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut out = Vec::new();
        while let Some(Strict(v)) = seq.next_element()? {
            out.push(v);
        }
        Ok(Value::Array(out))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out = serde_json::Map::new();
        while let Some(k) = map.next_key::<String>()? {
            if out.contains_key(&k) {
                return Err(de::Error::custom(format!("duplicate JSON key `{k}`")));
            }
            let Strict(v) = map.next_value()?;
            out.insert(k, v);
        }
        Ok(Value::Object(out))
    }
}

/// Parses one line, refusing duplicate keys.
fn parse_strict(line: &[u8]) -> Result<Value, String> {
    let mut de = serde_json::Deserializer::from_slice(line);
    let Strict(v) = Strict::deserialize(&mut de).map_err(|e| {
        let m = e.to_string();
        // Keep the reason, not the line's content.
        match m.find("duplicate JSON key") {
            Some(i) => m[i..].split(" at line").next().unwrap_or("duplicate JSON key").to_owned(),
            None => String::from("not a JSON decision"),
        }
    })?;
    de.end().map_err(|_| String::from("trailing characters after the JSON decision"))?;
    Ok(v)
}

/// Verifies `files` (oldest first, one continuous chain) with `key`, and against the
/// anchor's checkpoint when one is given.
pub fn verify(files: &[PathBuf], key: &[u8], anchor: Option<&Checkpoint>) -> std::io::Result<AuditReport> {
    let mut report = AuditReport::default();
    let mut prev: Option<(u64, String)> = None;
    let mut at_anchor: Option<String> = None;
    for path in files {
        verify_file(path, key, anchor, &mut prev, &mut at_anchor, &mut report)?;
    }
    let last = prev.as_ref().map_or(0, |(s, _)| *s);
    match anchor {
        None => report.notes.push(String::from(
            "no anchor: a log cut short at its end cannot be detected (give --anchor)",
        )),
        Some(c) if c.seq > last => report.problems.push(format!(
            "the log ends at decision {last} but the anchor records {} decisions: {} decision(s) missing at the end (truncated)",
            c.seq,
            c.seq - last
        )),
        Some(c) => match at_anchor {
            Some(h) if h == c.last_hash => {
                if last > c.seq {
                    report.notes.push(format!(
                        "{} decision(s) after the anchor's last checkpoint (written just before a stop?)",
                        last - c.seq
                    ));
                }
            }
            Some(_) => report.problems.push(format!(
                "decision {} has another hash than the anchor records: the log was replaced or re-chained",
                c.seq
            )),
            None if c.seq == 0 => {}
            None => report.problems.push(format!(
                "the anchor's decision {} is not in the files given (give the earlier files too)",
                c.seq
            )),
        },
    }
    if let Some((first, _)) = report.seq_range
        && first > 1
        && report.problems.is_empty()
    {
        report.notes.push(format!(
            "starts at decision {first}: the decisions before it are in earlier files (not given)"
        ));
    }
    Ok(report)
}

fn verify_file(
    path: &Path,
    key: &[u8],
    anchor: Option<&Checkpoint>,
    prev: &mut Option<(u64, String)>,
    at_anchor: &mut Option<String>,
    report: &mut AuditReport,
) -> std::io::Result<()> {
    let f = std::fs::File::open(path)?;
    if !f.metadata()?.file_type().is_file() {
        return Err(std::io::Error::other("not a regular file"));
    }
    let name = path.display();
    let mut reader = BufReader::new(f);
    let mut buf = Vec::new();
    let mut n = 0usize;
    loop {
        buf.clear();
        let read = (&mut reader).take(MAX_LINE_BYTES + 1).read_until(b'\n', &mut buf)?;
        if read == 0 {
            break;
        }
        n += 1;
        report.lines += 1;
        let mut problem = |what: String| report.problems.push(format!("{name}: line {n}: {what}"));
        if buf.last() != Some(&b'\n') {
            problem(String::from("partial line (no newline at the end)"));
            if buf.len() as u64 > MAX_LINE_BYTES {
                break;
            }
            continue;
        }
        let v = match parse_strict(&buf[..buf.len() - 1]) {
            Ok(v) => v,
            Err(e) => {
                problem(e);
                continue;
            }
        };
        let Some(obj) = v.as_object() else {
            problem(String::from("not a JSON decision"));
            continue;
        };
        let (Some(seq), Some(prev_hash), Some(hash)) = (
            obj.get("seq").and_then(Value::as_u64),
            obj.get("prev_hash").and_then(Value::as_str),
            obj.get("hash").and_then(Value::as_str),
        ) else {
            problem(String::from("missing seq, prev_hash or hash (not a keyed-chain decision line)"));
            continue;
        };
        match prev.as_ref() {
            None => {
                if seq == 1 && prev_hash != GENESIS {
                    problem(String::from("the first decision does not start the chain"));
                }
            }
            Some((ps, ph)) => {
                if seq != ps + 1 {
                    problem(format!("seq {seq} follows {ps}: decisions were deleted, inserted or reordered"));
                }
                if prev_hash != ph {
                    problem(String::from(
                        "chain broken (a line before it was deleted, inserted or reordered)",
                    ));
                }
            }
        }
        if chain_hash(key, prev_hash, &canonical(obj)) != hash {
            problem(String::from(
                "content does not match its hash (line edited, or re-chained without the audit key)",
            ));
        }
        if anchor.is_some_and(|c| c.seq == seq) {
            *at_anchor = Some(hash.to_owned());
        }
        report.seq_range = Some(report.seq_range.map_or((seq, seq), |(a, _)| (a, seq)));
        *prev = Some((seq, hash.to_owned()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duplicate_keys_are_refused_at_any_depth() {
        assert!(parse_strict(br#"{"a":1,"b":[{"c":1}]}"#).is_ok());
        assert_eq!(parse_strict(br#"{"a":1,"a":2}"#).expect_err("dup"), "duplicate JSON key `a`");
        assert!(parse_strict(br#"{"a":[{"c":1,"c":2}]}"#).is_err());
    }
}
