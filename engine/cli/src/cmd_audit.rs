//! `linewall audit verify`: check decision log files against the audit key and anchor.

use std::path::PathBuf;

use linewall_server::{audit, decision_log, keys};

/// Arguments of `linewall audit verify`.
#[derive(clap::Args)]
pub struct VerifyArgs {
    /// Decision log files, oldest first (rotated files, then the current one).
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// File holding the audit key the server was given (or LINEWALL_AUDIT_KEY).
    #[arg(long, env = "LINEWALL_AUDIT_KEY_FILE")]
    key_file: Option<PathBuf>,
    /// The anchor file (default: the last file's path + `.anchor`).
    #[arg(long)]
    anchor: Option<PathBuf>,
    /// Verify without an anchor: a log cut short at its end then goes unnoticed.
    #[arg(long, conflicts_with = "anchor")]
    no_anchor: bool,
}

/// Runs the command; returns the exit code (0 intact, 1 problems found, 2 cannot check).
pub fn verify(args: &VerifyArgs) -> u8 {
    let key = match keys::audit_key(args.key_file.as_deref()) {
        Ok(Some(k)) => k,
        Ok(None) => {
            eprintln!("error: the audit key is needed: --key-file FILE or LINEWALL_AUDIT_KEY");
            return 2;
        }
        Err(e) => {
            eprintln!("error: {e}");
            return 2;
        }
    };
    let anchor = if args.no_anchor {
        None
    } else {
        let path = args.anchor.clone().unwrap_or_else(|| {
            let last = args.files.last().map(|f| f.display().to_string()).unwrap_or_default();
            PathBuf::from(format!("{last}.anchor"))
        });
        match decision_log::read_anchor(&path, &key) {
            Ok(Some(c)) => Some(c),
            Ok(None) => {
                eprintln!(
                    "error: no anchor at {}: give --anchor FILE, or --no-anchor to check without one",
                    path.display()
                );
                return 2;
            }
            Err(e) => {
                println!("{e}");
                println!("FAILED: the anchor cannot be trusted");
                return 1;
            }
        }
    };
    let report = match audit::verify(&args.files, &key, anchor.as_ref()) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot read the log: {e}");
            return 2;
        }
    };
    for n in &report.notes {
        println!("note: {n}");
    }
    if report.problems.is_empty() {
        let range = report.seq_range.map_or_else(String::new, |(a, b)| format!(" (decisions {a}..{b})"));
        let anchored =
            anchor.map_or_else(String::new, |c| format!(", matches the anchor at decision {}", c.seq));
        println!("ok: {} lines{range}, keyed hash chain intact{anchored}", report.lines);
        0
    } else {
        for p in &report.problems {
            println!("{p}");
        }
        println!("FAILED: {} problem(s) in {} lines", report.problems.len(), report.lines);
        1
    }
}
