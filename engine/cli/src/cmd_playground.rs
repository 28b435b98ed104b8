//! `linewall playground`: a local web page to edit policies and see their effect.
//!
//! One self-contained page (embedded, no external resource) talks to three JSON
//! endpoints that evaluate with the engine: the edited files are compiled on every
//! request, then judge the form's message and run the policies' tests, or replay pasted
//! JSON Lines against the set loaded at start. Loopback only: the listen address must be
//! a loopback one and requests must name a loopback host (no DNS rebinding); POST bodies
//! must be JSON (no cross-site form posts). Nothing a user types is logged.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use linewall_engine::LoadedSet;
use linewall_engine::policy::{BUILTIN_PACKS, LoadOptions, PolicySet, PolicySource};
use linewall_engine::verdict::Verdict;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::cmd_scan::parse_message;

/// The page, its script and style included.
const PAGE: &str = include_str!("playground/index.html");
/// Largest request body (policy files, a message, or pasted JSON Lines).
const MAX_BODY_BYTES: usize = 8 << 20;
/// Most policy files one request may carry.
const MAX_FILES: usize = 64;
/// Requests compiled at once; more wait (each compiles a whole set).
const MAX_CONCURRENT: usize = 2;

/// Arguments of `linewall playground`.
#[derive(clap::Args)]
pub struct Args {
    /// Loopback address to serve on (port 0 picks a free one).
    #[arg(long, default_value = "127.0.0.1:7878")]
    listen: SocketAddr,
    /// Policy file or directory to start from (default: the built-in packs).
    dir: Option<PathBuf>,
}

/// What every request shares.
struct Playground {
    /// The files the page starts with.
    files: Vec<FileIn>,
    /// Where relative paths in edited files resolve.
    base_dir: Option<PathBuf>,
    /// The set loaded at start: the replay baseline (or why it does not compile).
    baseline: Result<PolicySet, String>,
    options: LoadOptions,
    permits: tokio::sync::Semaphore,
}

/// One policy file as the page edits it.
#[derive(Clone, Serialize, Deserialize)]
struct FileIn {
    name: String,
    text: String,
}

#[derive(Deserialize)]
struct EvaluateIn {
    files: Vec<FileIn>,
    message: serde_json::Value,
}

#[derive(Deserialize)]
struct ReplayIn {
    files: Vec<FileIn>,
    jsonl: String,
    #[serde(default)]
    show_text: bool,
}

/// Runs the command; returns the exit code.
pub fn run(args: &Args) -> u8 {
    if !args.listen.ip().is_loopback() {
        eprintln!("error: --listen {}: the playground serves loopback addresses only", args.listen);
        return 2;
    }
    let options = crate::load::options();
    let (files, base_dir) = match initial_files(args.dir.as_deref(), &options) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("{e}");
            return 2;
        }
    };
    let baseline =
        PolicySet::load_sources(sources(&files, base_dir.as_deref()), &options).map_err(|d| d.to_string());
    if let Err(e) = &baseline {
        // Still serve: the playground is where a broken set gets fixed.
        eprintln!("warning: the starting policies do not compile; replay is unavailable until restart\n{e}");
    }
    let state = Arc::new(Playground {
        files,
        base_dir,
        baseline,
        options,
        permits: tokio::sync::Semaphore::new(MAX_CONCURRENT),
    });
    let runtime = match tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: starting the runtime: {e}");
            return 2;
        }
    };
    match runtime.block_on(serve(args.listen, state)) {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("error: {e}");
            2
        }
    }
}

async fn serve(listen: SocketAddr, state: Arc<Playground>) -> std::io::Result<()> {
    let app = Router::new()
        .route("/", get(|| async { ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], PAGE) }))
        .route("/api/init", get(init))
        .route("/api/evaluate", post(evaluate))
        .route("/api/replay", post(replay))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(middleware::from_fn(guard))
        .with_state(state);
    let listener = tokio::net::TcpListener::bind(listen).await?;
    let addr = listener.local_addr()?;
    println!("playground: http://{addr}/");
    axum::serve(listener, app).await
}

/// The starting files (relative names) and the directory they resolve against.
fn initial_files(
    dir: Option<&Path>,
    options: &LoadOptions,
) -> Result<(Vec<FileIn>, Option<PathBuf>), String> {
    let Some(dir) = dir else {
        let files = BUILTIN_PACKS
            .iter()
            .map(|(name, text)| FileIn { name: (*name).to_owned(), text: (*text).to_owned() })
            .collect();
        return Ok((files, None));
    };
    let found = linewall_engine::policy::read_sources(dir, options).map_err(|d| d.to_string())?;
    let root = if dir.is_dir() {
        dir.to_path_buf()
    } else {
        dir.parent().map(Path::to_path_buf).unwrap_or_default()
    };
    let files = found
        .into_iter()
        .map(|s| {
            let name =
                Path::new(&s.name).strip_prefix(&root).map_or(s.name.clone(), |p| p.display().to_string());
            FileIn { name, text: s.text }
        })
        .collect();
    Ok((files, Some(root)))
}

fn sources(files: &[FileIn], base_dir: Option<&Path>) -> Vec<PolicySource> {
    files
        .iter()
        .map(|f| PolicySource {
            name: f.name.clone(),
            text: f.text.clone(),
            base_dir: base_dir
                .map(|b| b.join(&f.name).parent().map_or_else(|| b.to_path_buf(), Path::to_path_buf)),
        })
        .collect()
}

/// Refuses requests that do not name a loopback host, and POSTs that are not JSON.
async fn guard(req: Request, next: Next) -> Response {
    let host = req.headers().get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("");
    if !loopback_host(host) {
        return (StatusCode::FORBIDDEN, "the playground answers loopback hosts only").into_response();
    }
    if req.method() == Method::POST && !is_json(req.headers()) {
        return (StatusCode::UNSUPPORTED_MEDIA_TYPE, "POST bodies must be application/json").into_response();
    }
    next.run(req).await
}

fn is_json(headers: &HeaderMap) -> bool {
    headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|v| {
        v.split(';').next().is_some_and(|t| t.trim().eq_ignore_ascii_case("application/json"))
    })
}

/// `localhost`, `127.x.y.z` or `[::1]`, with or without a port.
fn loopback_host(host: &str) -> bool {
    let name = if let Some(rest) = host.strip_prefix('[') {
        rest.split(']').next().unwrap_or("")
    } else {
        host.rsplit_once(':').map_or(host, |(h, _)| h)
    };
    name.eq_ignore_ascii_case("localhost")
        || name.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

fn json_response(status: StatusCode, body: &serde_json::Value) -> Response {
    (status, [(header::CONTENT_TYPE, "application/json")], body.to_string()).into_response()
}

/// A request error; the text names what is wrong, never a value of the input.
fn bad_request(what: impl Into<String>) -> Response {
    json_response(StatusCode::BAD_REQUEST, &json!({"ok": false, "error": what.into()}))
}

async fn init(State(p): State<Arc<Playground>>) -> Response {
    json_response(
        StatusCode::OK,
        &json!({
            "files": p.files,
            "schema": linewall_engine::policy::json_schema(),
            "baseline_version": p.baseline.as_ref().map(|s| s.version().to_owned()).ok(),
        }),
    )
}

/// The request body, or what is wrong with it (never a value from it).
fn parse_body<T: for<'de> Deserialize<'de>>(
    body: &[u8],
    files: impl Fn(&T) -> &[FileIn],
) -> Result<T, String> {
    // serde's message may quote a value: report only where and what kind.
    let req: T = serde_json::from_slice(body).map_err(|e| {
        format!("request body is not the expected JSON ({:?} at column {})", e.classify(), e.column())
    })?;
    check_files(files(&req))?;
    Ok(req)
}

fn check_files(files: &[FileIn]) -> Result<(), String> {
    if files.is_empty() || files.len() > MAX_FILES {
        return Err(format!("files: between 1 and {MAX_FILES} policy files"));
    }
    if files.iter().any(|f| f.name.is_empty() || f.name.contains("..") || Path::new(&f.name).is_absolute()) {
        return Err(String::from("files: each needs a relative name without `..`"));
    }
    Ok(())
}

/// Runs `work` off the I/O threads, at most [`MAX_CONCURRENT`] at once.
async fn blocking(p: &Playground, work: impl FnOnce() -> Response + Send + 'static) -> Response {
    let Ok(_permit) = p.permits.acquire().await else {
        return json_response(
            StatusCode::SERVICE_UNAVAILABLE,
            &json!({"ok": false, "error": "shutting down"}),
        );
    };
    tokio::task::spawn_blocking(work).await.unwrap_or_else(|_| {
        json_response(StatusCode::INTERNAL_SERVER_ERROR, &json!({"ok": false, "error": "evaluation failed"}))
    })
}

async fn evaluate(State(p): State<Arc<Playground>>, body: Bytes) -> Response {
    let req = match parse_body(&body, |r: &EvaluateIn| &r.files) {
        Ok(r) => r,
        Err(e) => return bad_request(e),
    };
    let msg = match parse_message(&req.message.to_string()) {
        Ok(m) => m,
        Err(e) => return bad_request(e),
    };
    let srcs = sources(&req.files, p.base_dir.as_deref());
    let options = p.options.clone();
    blocking(&p, move || {
        let loaded = match LoadedSet::load_sources(srcs, &options) {
            Ok(s) => s,
            Err(d) => {
                return json_response(
                    StatusCode::OK,
                    &json!({"ok": false, "diagnostics": d.errors.iter().map(|e| json!({
                        "file": e.file, "line": e.line(), "column": e.column(), "code": e.code,
                        "message": e.message, "help": e.help, "span": e.span,
                    })).collect::<Vec<_>>()}),
                );
            }
        };
        let set = loaded.set();
        let verdict = set.evaluate(&msg);
        let tests = loaded.run_tests();
        // The built-in detectors' examples are `linewall test`'s business; show only their failures.
        let cases: Vec<_> = tests.cases.iter().filter(|c| c.policy != "builtin" || !c.passed).collect();
        json_response(
            StatusCode::OK,
            &json!({
                "ok": true,
                "policy_version": set.version(),
                "segments": segments(&msg.text, &verdict),
                "verdict": verdict,
                "tests": cases,
            }),
        )
    })
    .await
}

/// The text cut into plain and found parts, for highlighting.
fn segments(text: &str, v: &Verdict) -> Vec<serde_json::Value> {
    let mut spans: Vec<(usize, usize, &str)> = v
        .findings
        .iter()
        .filter(|f| f.field == "text")
        .map(|f| (f.byte_start, f.byte_end, f.detector.as_str()))
        .collect();
    spans.sort_unstable();
    let mut out = Vec::new();
    let mut pos = 0;
    for (s, e, detector) in spans {
        if s < pos || e > text.len() || !text.is_char_boundary(s) || !text.is_char_boundary(e) {
            continue;
        }
        if s > pos {
            out.push(json!({"text": &text[pos..s]}));
        }
        out.push(json!({"text": &text[s..e], "detector": detector}));
        pos = e;
    }
    if pos < text.len() {
        out.push(json!({"text": &text[pos..]}));
    }
    out
}

async fn replay(State(p): State<Arc<Playground>>, body: Bytes) -> Response {
    let req = match parse_body(&body, |r: &ReplayIn| &r.files) {
        Ok(r) => r,
        Err(e) => return bad_request(e),
    };
    let srcs = sources(&req.files, p.base_dir.as_deref());
    let state = Arc::clone(&p);
    blocking(&p, move || {
        let base = match &state.baseline {
            Ok(b) => b,
            Err(_) => {
                return bad_request("the starting policies do not compile: no baseline to replay against");
            }
        };
        let cand = match PolicySet::load_sources(srcs, &state.options) {
            Ok(s) => s,
            Err(d) => return json_response(StatusCode::OK, &json!({"ok": false, "error": d.to_string()})),
        };
        match crate::cmd_replay::replay(base, &cand, req.jsonl.as_bytes(), req.show_text) {
            Ok(report) => json_response(
                StatusCode::OK,
                &json!({"ok": true, "html": crate::cmd_replay::html(&report), "report": report}),
            ),
            Err(_) => bad_request("jsonl: unreadable"),
        }
    })
    .await
}
