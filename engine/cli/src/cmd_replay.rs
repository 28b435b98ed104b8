//! `linewall replay`: what would change if a candidate policy set replaced the baseline.
//!
//! Every message of a JSON Lines file is judged by both sets; the report counts action
//! transitions (overall, per rule, per policy), monitor rules that would become enforced,
//! findings that appear or vanish per detector, and lists each changed message by id.
//! Clear values never appear unless `--show-text` asks for the message text.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;

use linewall_engine::policy::PolicySet;
use linewall_engine::replay::{Report, Transitions};

use crate::cmd_scan::{MAX_LINE_BYTES, parse_message};

/// Messages judged per batch (each batch is split across the cores).
const BATCH: usize = 4096;

/// Arguments of `linewall replay`.
#[derive(clap::Args)]
pub struct Args {
    /// The policy set deployed today (file or directory).
    #[arg(long)]
    baseline: PathBuf,
    /// The policy set to compare (file or directory).
    #[arg(long)]
    candidate: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value = "table")]
    format: Format,
    /// Include each changed message's text in the report (clear values!).
    #[arg(long)]
    show_text: bool,
    /// JSON Lines messages (docs/02-message.md), or `-` for standard input.
    input: String,
}

/// How the report is printed.
#[derive(Clone, Copy, clap::ValueEnum)]
enum Format {
    Table,
    Json,
    Html,
}

/// Runs the command; returns the exit code (1 when a line could not be read).
pub fn run(args: &Args) -> u8 {
    let Some(base) = crate::load::policies_or_report(Some(&args.baseline)) else {
        return 2;
    };
    let Some(cand) = crate::load::policies_or_report(Some(&args.candidate)) else {
        return 2;
    };
    let reader: Box<dyn BufRead> = if args.input == "-" {
        Box::new(BufReader::new(std::io::stdin().lock()))
    } else {
        match std::fs::File::open(&args.input) {
            Ok(f) => Box::new(BufReader::new(f)),
            Err(e) => {
                eprintln!("error: cannot open `{}`: {e}", args.input);
                return 2;
            }
        }
    };
    let report = match replay(&base, &cand, reader, args.show_text) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: reading `{}`: {e}", args.input);
            return 2;
        }
    };
    let out = match args.format {
        Format::Json => {
            serde_json::to_string_pretty(&report).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
        }
        Format::Table => table(&report),
        Format::Html => html(&report),
    };
    println!("{out}");
    u8::from(!report.bad_lines.is_empty())
}

/// Judges every line of `input` with both sets (batches split across the cores).
pub(crate) fn replay(
    base: &PolicySet,
    cand: &PolicySet,
    mut input: impl BufRead,
    show_text: bool,
) -> std::io::Result<Report> {
    let mut report = Report::new(base, cand);
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mut line_no = 0u64;
    let mut buf = Vec::new();
    loop {
        let mut batch = Vec::with_capacity(BATCH);
        while batch.len() < BATCH {
            buf.clear();
            if std::io::Read::take(&mut input, MAX_LINE_BYTES as u64 + 1).read_until(b'\n', &mut buf)? == 0 {
                break;
            }
            line_no += 1;
            if buf.len() > MAX_LINE_BYTES && buf.last() != Some(&b'\n') {
                batch.push((line_no, None));
                skip_line(&mut input)?;
                continue;
            }
            match std::str::from_utf8(&buf) {
                Err(_) => batch.push((line_no, None)),
                Ok(line) if line.trim().is_empty() => {}
                Ok(line) => batch.push((line_no, parse_message(line.trim()).ok())),
            }
        }
        if batch.is_empty() {
            break;
        }
        report.add_batch(base, cand, &batch, threads, show_text);
    }
    Ok(report)
}

/// Discards the rest of an oversized line without holding it in memory.
fn skip_line(input: &mut impl BufRead) -> std::io::Result<()> {
    loop {
        let chunk = input.fill_buf()?;
        if chunk.is_empty() {
            return Ok(());
        }
        match chunk.iter().position(|b| *b == b'\n') {
            Some(i) => {
                input.consume(i + 1);
                return Ok(());
            }
            None => {
                let n = chunk.len();
                input.consume(n);
            }
        }
    }
}

fn fmt_transitions(t: &Transitions) -> String {
    t.iter().map(|(k, n)| format!("{k} {n}")).collect::<Vec<_>>().join(", ")
}

fn table(r: &Report) -> String {
    use std::fmt::Write;
    let mut s = String::new();
    let _ = writeln!(s, "baseline  {}\ncandidate {}", r.baseline_version, r.candidate_version);
    let _ = writeln!(
        s,
        "messages {}  changed {}  unreadable lines {}",
        r.messages,
        r.changed_messages,
        r.bad_lines.len()
    );
    let _ = writeln!(s, "\nACTION TRANSITIONS\n  {}", fmt_transitions(&r.transitions));
    let _ = writeln!(s, "\n{:<48} TRANSITIONS", "RULE");
    for (k, t) in &r.per_rule {
        let _ = writeln!(s, "{k:<48} {}", fmt_transitions(t));
    }
    let _ = writeln!(s, "\n{:<48} TRANSITIONS", "POLICY");
    for (k, t) in &r.per_policy {
        let _ = writeln!(s, "{k:<48} {}", fmt_transitions(t));
    }
    let _ = writeln!(s, "\n{:<48} MESSAGES", "MONITOR → ENFORCE");
    for (k, n) in &r.monitor_to_enforce {
        let _ = writeln!(s, "{k:<48} {n}");
    }
    let _ = writeln!(s, "\n{:<32} {:>8} {:>8}", "DETECTOR", "NEW", "VANISHED");
    for (k, d) in &r.findings {
        let _ = writeln!(s, "{k:<32} {:>8} {:>8}", d.new, d.vanished);
    }
    let _ = writeln!(s, "\nCHANGED MESSAGES");
    for c in &r.changed {
        let _ = writeln!(
            s,
            "  line {} id {}: {} → {}  [{}] → [{}]",
            c.line,
            c.id,
            c.old_action,
            c.new_action,
            c.old_rules.join(", "),
            c.new_rules.join(", ")
        );
        if let Some(t) = &c.text {
            let _ = writeln!(s, "      text: {t}");
        }
    }
    s
}

fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '&' => o.push_str("&amp;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            c => o.push(c),
        }
    }
    o
}

/// A self-contained page: inline CSS, no script, no external resource.
pub(crate) fn html(r: &Report) -> String {
    use std::fmt::Write;
    let mut s = String::from(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Linewall replay</title>\
         <style>body{font-family:system-ui,sans-serif;margin:2em}table{border-collapse:collapse;margin:1em 0}\
         td,th{border:1px solid #ccc;padding:.3em .6em;text-align:left}th{background:#f3f3f3}\
         .block{color:#b00}.redact{color:#a60}.allow{color:#070}</style></head><body><h1>Linewall replay</h1>",
    );
    let _ = write!(
        s,
        "<p>baseline <code>{}</code> · candidate <code>{}</code></p><p>{} messages, {} changed, {} unreadable lines</p>",
        esc(&r.baseline_version),
        esc(&r.candidate_version),
        r.messages,
        r.changed_messages,
        r.bad_lines.len()
    );
    let section = |s: &mut String, title: &str, rows: Vec<(String, String)>| {
        let _ = write!(s, "<h2>{}</h2><table><tr><th>{}</th><th>count</th></tr>", esc(title), esc(title));
        for (k, v) in rows {
            let _ = write!(s, "<tr><td>{}</td><td>{}</td></tr>", esc(&k), esc(&v));
        }
        s.push_str("</table>");
    };
    section(
        &mut s,
        "Action transitions",
        r.transitions.iter().map(|(k, n)| (k.clone(), n.to_string())).collect(),
    );
    section(&mut s, "Per rule", r.per_rule.iter().map(|(k, t)| (k.clone(), fmt_transitions(t))).collect());
    section(
        &mut s,
        "Per policy",
        r.per_policy.iter().map(|(k, t)| (k.clone(), fmt_transitions(t))).collect(),
    );
    section(
        &mut s,
        "Monitor to enforce",
        r.monitor_to_enforce.iter().map(|(k, n)| (k.clone(), n.to_string())).collect(),
    );
    section(
        &mut s,
        "Findings per detector",
        r.findings.iter().map(|(k, d)| (k.clone(), format!("+{} −{}", d.new, d.vanished))).collect(),
    );
    s.push_str("<h2>Changed messages</h2><table><tr><th>line</th><th>id</th><th>old</th><th>new</th><th>old rules</th><th>new rules</th><th>text</th></tr>");
    for c in &r.changed {
        let _ = write!(
            s,
            "<tr><td>{}</td><td>{}</td><td class=\"{}\">{}</td><td class=\"{}\">{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            c.line,
            esc(&c.id),
            c.old_action,
            c.old_action,
            c.new_action,
            c.new_action,
            esc(&c.old_rules.join(", ")),
            esc(&c.new_rules.join(", ")),
            esc(c.text.as_deref().unwrap_or(""))
        );
    }
    s.push_str("</table></body></html>");
    s
}
