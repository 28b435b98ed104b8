//! `linewall scan`: JSON Lines messages in, JSON Lines verdicts out, in order.
//!
//! Messages with a `conversation_id` are judged in their conversation, in file order:
//! values split across consecutive messages join (docs/10-conversations.md) unless
//! `--no-join` is given.
//!
//! A bad line never stops the run: it gets `{"line": N, "error": "..."}` on its output
//! line, and the exit code becomes 1. Errors name the problem, never the line's content.

use std::io::{BufRead, BufReader, BufWriter, IsTerminal, Read, Write};
use std::path::PathBuf;

use std::sync::Arc;

use linewall_engine::Message;
use linewall_engine::conversation::{Config, Conversations, DEFAULT_CAPACITY};
use linewall_engine::policy::PolicySet;

/// Longest input line accepted (the gRPC service's default message limit).
pub(crate) const MAX_LINE_BYTES: usize = 1 << 20;

/// Arguments of `linewall scan`.
#[derive(clap::Args)]
pub struct Args {
    /// Policy file or directory (default: the built-in packs).
    #[arg(long)]
    policies: Option<PathBuf>,
    /// Leave out `decision_id` (the only per-run field) so two scans diff cleanly.
    #[arg(long)]
    stable: bool,
    /// Input file of JSON Lines messages, or `-` for standard input.
    #[arg(default_value = "-")]
    input: String,
    /// Judge every message alone: no joining of values split across messages.
    #[arg(long)]
    no_join: bool,
    /// Where conversation windows live: `memory` (default) or `redis://HOST:PORT`
    /// (shared with servers using the same store and LINEWALL_HASH_KEY).
    #[arg(long, conflicts_with = "no_join")]
    conversation_store: Option<String>,
    /// Longest time, in seconds, between the first and the last message of a split
    /// value (default 120; 1 to 86400).
    #[arg(long, value_name = "SECS", conflicts_with = "no_join")]
    conversation_window: Option<u64>,
    /// Most text-bearing messages one split value may span (default 4; 2 to 8).
    #[arg(long, value_name = "N", conflicts_with = "no_join")]
    conversation_messages: Option<usize>,
}

/// The joining the flags ask for; the error is for the operator.
fn conversations(args: &Args) -> Result<Option<Conversations>, String> {
    if args.no_join {
        return Ok(None);
    }
    let config =
        Config::with(args.conversation_window, args.conversation_messages).map_err(|e| e.to_string())?;
    match args.conversation_store.as_deref() {
        None | Some("memory") => Ok(Some(Conversations::in_memory(config, DEFAULT_CAPACITY))),
        Some(url) if url.starts_with("redis://") || url.starts_with("rediss://") => {
            let opts = crate::load::options();
            let key = opts
                .hash_key
                .ok_or("--conversation-store redis needs LINEWALL_HASH_KEY (or LINEWALL_HASH_KEY_FILE): windows are encrypted with it")?;
            let store = linewall_server::conversation_store::RedisStore::connect(url, &key)
                .map_err(|e| format!("connecting the conversation store: {e}"))?;
            Ok(Some(Conversations::new(Arc::new(store), config)))
        }
        Some(_) => Err(String::from("--conversation-store must be `memory` or `redis://HOST:PORT`")),
    }
}

/// Runs the command; returns the exit code.
pub fn run(args: &Args) -> u8 {
    let Some(set) = crate::load::policies_or_report(args.policies.as_deref()) else {
        return 2;
    };
    let conv = match conversations(args) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return 2;
        }
    };
    let (reader, total): (Box<dyn Read>, Option<u64>) = if args.input == "-" {
        (Box::new(std::io::stdin().lock()), None)
    } else {
        match std::fs::File::open(&args.input) {
            Ok(f) => {
                let len = f.metadata().ok().map(|m| m.len());
                (Box::new(f), len)
            }
            Err(e) => {
                eprintln!("error: cannot open `{}`: {e}", args.input);
                return 2;
            }
        }
    };
    let progress = std::io::stderr().is_terminal().then(|| {
        let bar = match total {
            Some(n) => indicatif::ProgressBar::new(n),
            None => indicatif::ProgressBar::new_spinner(),
        };
        let style = indicatif::ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] {bar:40} {bytes}/{total_bytes} {msg}",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar());
        bar.set_style(style);
        bar
    });
    let stdout = std::io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    let code = scan(&set, conv.as_ref(), BufReader::new(reader), &mut out, progress.as_ref(), args.stable);
    if let Some(p) = progress {
        p.finish_and_clear();
    }
    if out.flush().is_err() {
        return 2;
    }
    code
}

/// One message from its JSON line; the error names the problem, never a value.
pub(crate) fn parse_message(line: &str) -> Result<Message, String> {
    let mut de = serde_json::Deserializer::from_str(line);
    let msg: Message = serde_path_to_error::deserialize(&mut de)
        .map_err(|e| format!("invalid message: {}", describe(&e)))?;
    de.end().map_err(|e| format!("invalid message: trailing characters (column {})", e.column()))?;
    Ok(msg)
}

/// What is wrong with a message, naming the field and column but never quoting any of
/// its values: serde's own messages quote them (``unknown variant `4111 1111 ...` ``).
fn describe(e: &serde_path_to_error::Error<serde_json::Error>) -> String {
    use serde_json::error::Category;
    let inner = e.inner();
    let col = inner.column();
    let what = match inner.classify() {
        Category::Syntax => return format!("not valid JSON (column {col})"),
        Category::Eof => return String::from("incomplete JSON"),
        Category::Io => return String::from("unreadable input"),
        Category::Data => {
            let m = inner.to_string();
            if let Some(rest) = m.strip_prefix("missing field `") {
                // The name comes from the message schema, not from the input.
                let name = rest.split('`').next().unwrap_or_default();
                return format!("missing field `{}`", safe_segment(name));
            }
            if m.starts_with("unknown field") {
                "unknown field"
            } else if m.starts_with("unknown variant") {
                "unknown value"
            } else if m.starts_with("invalid type") {
                "wrong type"
            } else if m.starts_with("invalid length") {
                "wrong length"
            } else {
                "invalid value"
            }
        }
    };
    let path = field_path(e.path());
    if path.is_empty() {
        format!("{what} (column {col})")
    } else {
        format!("{what} at `{path}` (column {col})")
    }
}

/// A path segment if it looks like a field name; map keys are input, so anything else
/// is shown as `?`.
fn safe_segment(s: &str) -> &str {
    let ok = !s.is_empty()
        && s.len() <= 40
        && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
        && !s.bytes().all(|b| b.is_ascii_digit());
    if ok { s } else { "?" }
}

fn field_path(p: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    let mut out = String::new();
    for seg in p.iter() {
        match seg {
            Segment::Seq { index } => out.push_str(&format!("[{index}]")),
            Segment::Map { key } | Segment::Enum { variant: key } => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(safe_segment(key));
            }
            Segment::Unknown => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push('?');
            }
        }
    }
    out
}

fn scan(
    set: &PolicySet,
    conv: Option<&Conversations>,
    mut input: impl BufRead,
    out: &mut impl Write,
    progress: Option<&indicatif::ProgressBar>,
    stable: bool,
) -> u8 {
    let mut code = 0;
    let mut buf = Vec::new();
    let mut line_no = 0u64;
    let (mut ok, mut bad) = (0u64, 0u64);
    loop {
        buf.clear();
        // Read at most one byte past the limit so an oversized line is detected without
        // buffering it whole.
        let n = match (&mut input).take(MAX_LINE_BYTES as u64 + 1).read_until(b'\n', &mut buf) {
            Ok(n) => n,
            Err(e) => {
                eprintln!("error: reading input: {e}");
                return 2;
            }
        };
        if n == 0 {
            break;
        }
        line_no += 1;
        if let Some(p) = progress {
            p.inc(n as u64);
        }
        let oversized = buf.len() > MAX_LINE_BYTES && !buf.ends_with(b"\n");
        if oversized {
            // Skip the rest of the line.
            loop {
                let mut rest = Vec::new();
                match (&mut input).take(1 << 16).read_until(b'\n', &mut rest) {
                    Ok(0) => break,
                    Ok(m) => {
                        if let Some(p) = progress {
                            p.inc(m as u64);
                        }
                        if rest.ends_with(b"\n") {
                            break;
                        }
                    }
                    Err(_) => break,
                }
            }
        }
        let line = String::from_utf8_lossy(&buf);
        let trimmed = line.trim();
        if trimmed.is_empty() && !oversized {
            // Blank lines carry no message and get no output line.
            continue;
        }
        let result: Result<String, String> = if oversized {
            Err(format!("line is longer than {MAX_LINE_BYTES} bytes"))
        } else if std::str::from_utf8(&buf).is_err() {
            Err(String::from("line is not valid UTF-8"))
        } else {
            parse_message(trimmed).and_then(|msg| verdict_json(set, conv, &msg, stable))
        };
        let written = match result {
            Ok(json) => {
                ok += 1;
                writeln!(out, "{json}")
            }
            Err(error) => {
                bad += 1;
                code = 1;
                let obj = serde_json::json!({"line": line_no, "error": error});
                writeln!(out, "{obj}")
            }
        };
        if written.is_err() {
            // The reader went away (e.g. `| head`): stop quietly.
            return code;
        }
    }
    if let Some(p) = progress {
        p.set_message(format!("{ok} ok, {bad} errors"));
    }
    code
}

/// The verdict as one JSON line; `stable` drops the per-run `decision_id`.
fn verdict_json(
    set: &PolicySet,
    conv: Option<&Conversations>,
    msg: &Message,
    stable: bool,
) -> Result<String, String> {
    let verdict = match conv {
        Some(c) => c.evaluate(set, msg),
        None => set.evaluate(msg),
    };
    if !stable {
        return serde_json::to_string(&verdict).map_err(|e| e.to_string());
    }
    let mut value = serde_json::to_value(&verdict).map_err(|e| e.to_string())?;
    if let Some(obj) = value.as_object_mut() {
        obj.remove("decision_id");
    }
    serde_json::to_string(&value).map_err(|e| e.to_string())
}
