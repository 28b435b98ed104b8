//! The `linewall` command: judge messages, run and lint policies, serve gRPC.

mod cmd_audit;
mod cmd_check;
mod cmd_detectors;
mod cmd_lint;
mod cmd_playground;
mod cmd_plugin;
mod cmd_replay;
mod cmd_scan;
mod cmd_serve;
mod cmd_test;
mod load;
mod plugin_sdk;
mod report;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Linewall: data-loss-prevention policy engine for business messaging.
#[derive(Parser)]
#[command(name = "linewall", version, about, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Judge one text and print the verdict.
    Check(Box<cmd_check::Args>),
    /// Judge JSON Lines messages (one per line) and print JSON Lines verdicts in order.
    Scan(cmd_scan::Args),
    /// Judge JSON Lines messages with two policy sets and report what would change.
    Replay(Box<cmd_replay::Args>),
    /// Run every policy's tests and every detector's examples.
    Test {
        /// Policy file or directory (default: the built-in packs).
        dir: Option<PathBuf>,
        /// Print only failures and the summary.
        #[arg(long, short)]
        quiet: bool,
        /// Output format.
        #[arg(long, value_enum, default_value = "text")]
        format: report::Format,
    },
    /// Load and validate policies; print every error with its position.
    Lint {
        /// Policy file or directory (default: the built-in packs).
        dir: Option<PathBuf>,
        /// Output format.
        #[arg(long, value_enum, default_value = "text")]
        format: report::Format,
    },
    /// Print the JSON Schema of the policy format.
    Schema,
    /// List the built-in detectors: id, region, validator, confidence, context words, joinability.
    Detectors {
        /// Print JSON (same as `--format json`).
        #[arg(long)]
        json: bool,
        /// Print the Markdown catalogue (same as `--format markdown`).
        #[arg(long, conflicts_with = "json")]
        markdown: bool,
        /// Output format.
        #[arg(long, value_enum, default_value = "text")]
        format: cmd_detectors::Format,
    },
    /// Serve a local web page to edit policies, judge a message, run the tests and replay.
    Playground(cmd_playground::Args),
    /// Serve the gRPC API (built-in packs unless --policies is given).
    Serve(Box<cmd_serve::ServeArgs>),
    /// Audit tools.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Detector plugins: scaffold, build, package.
    #[command(subcommand)]
    Plugin(cmd_plugin::PluginCommand),
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Verify decision logs' keyed hash chain and anchor; report every edited, deleted,
    /// reordered or re-chained line and a log cut short.
    Verify(cmd_audit::VerifyArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let code = match cli.command {
        Command::Check(args) => cmd_check::run(&args),
        Command::Replay(args) => cmd_replay::run(&args),
        Command::Scan(args) => cmd_scan::run(&args),
        Command::Test { dir, quiet, format } => cmd_test::run(dir.as_deref(), quiet, format),
        Command::Lint { dir, format } => cmd_lint::run(dir.as_deref(), format),
        Command::Detectors { json, markdown, format } => cmd_detectors::run(if json {
            cmd_detectors::Format::Json
        } else if markdown {
            cmd_detectors::Format::Markdown
        } else {
            format
        }),
        Command::Serve(args) => match cmd_serve::run(*args, load::options()) {
            Ok(()) => 0,
            Err(e) => {
                eprintln!("error: {e:#}");
                2
            }
        },
        Command::Playground(args) => cmd_playground::run(&args),
        Command::Plugin(cmd) => cmd_plugin::run(cmd),
        Command::Audit(AuditCommand::Verify(args)) => cmd_audit::verify(&args),
        Command::Schema => {
            let schema = linewall_engine::policy::json_schema();
            match serde_json::to_string_pretty(&schema) {
                Ok(s) => {
                    println!("{s}");
                    0
                }
                Err(e) => {
                    eprintln!("error: {e}");
                    2
                }
            }
        }
    };
    ExitCode::from(code)
}
