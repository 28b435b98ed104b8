//! Never fail open, never lose a decision (issue 9), end to end: the real `linewall`
//! binary over gRPC and the CLI. Figures of the full-disk and stalled-sink runs are
//! printed (`--nocapture`) for the closing note.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

mod common;

use common::{Server, bound_addresses, connect, http_get, temp_dir};
use linewall_proto::v1 as pb;
use pb::linewall_client::LinewallClient;
use pb::policy_admin_client::PolicyAdminClient;
use tonic::Code;
use tonic::transport::Channel;

const TOKEN: &str = "s3cret-token";
const CARD: &str = "my card is 4111 1111 1111 1111 thanks";
const AUDIT_KEY: &str = "an-audit-key-for-the-tests-only";

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_linewall"))
}

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn msg(text: &str, direction: pb::Direction) -> pb::EvaluateRequest {
    pb::EvaluateRequest {
        message: Some(pb::Message {
            id: "m1".into(),
            text: text.into(),
            direction: direction as i32,
            ..Default::default()
        }),
    }
}

fn admin_req<T>(m: T) -> tonic::Request<T> {
    let mut req = tonic::Request::new(m);
    req.metadata_mut().insert("authorization", format!("Bearer {TOKEN}").parse().expect("header"));
    req
}

/// A started server, its channel and the file its stderr goes to.
struct Started {
    server: Server,
    ch: Channel,
    log: PathBuf,
    metrics: String,
}

impl Started {
    fn stderr(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
    fn metric(&self, name: &str) -> f64 {
        let body = http_get(&self.metrics, "/metrics");
        body.lines()
            .find_map(|l| l.strip_prefix(name).and_then(|r| r.strip_prefix(' ')).and_then(|v| v.parse().ok()))
            .unwrap_or_else(|| panic!("{name} missing from /metrics:\n{body}"))
    }
}

/// Starts `linewall serve` on port 0 (gRPC and metrics) with its stderr in `dir/name.stderr`.
fn spawn(dir: &Path, name: &str, extra: &[&str], stdout: Stdio) -> (Child, PathBuf) {
    let log = dir.join(format!("{name}.stderr"));
    let child = bin()
        .args(["serve", "--listen", "127.0.0.1:0", "--metrics-listen", "127.0.0.1:0"])
        .args(["--admin-token", TOKEN, "--no-watch"])
        .args(extra)
        .env("RUST_LOG", "info")
        .env_remove("LINEWALL_HASH_KEY")
        .stdout(stdout)
        .stderr(std::fs::File::create(&log).expect("stderr file"))
        .spawn()
        .expect("start linewall serve");
    (child, log)
}

/// A server from [`spawn`], once it has logged the addresses it bound.
async fn started(mut child: Child, log: PathBuf) -> Started {
    let (addr, metrics) = bound_addresses(&mut child, &log).await;
    let server = Server { child, addr };
    let ch = connect(&server.addr).await;
    Started { server, ch, log, metrics: metrics.expect("metrics address in the log") }
}

async fn serve(dir: &Path, name: &str, extra: &[&str]) -> Started {
    let (child, log) = spawn(dir, name, extra, Stdio::null());
    started(child, log).await
}

/// Runs `linewall serve` expecting it to refuse to start; returns its stderr.
fn serve_fails(dir: &Path, extra: &[&str]) -> String {
    let (mut child, log) = spawn(dir, "refused", extra, Stdio::null());
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(status) = child.try_wait().expect("wait") {
            assert!(!status.success(), "serve must refuse to start with {extra:?}");
            return std::fs::read_to_string(log).unwrap_or_default();
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("serve {extra:?} neither refused nor exited");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn copy_pack(dir: &Path, names: &[&str]) {
    for n in names {
        std::fs::copy(repo().join("policies").join(n), dir.join(n)).expect("copy pack");
    }
}

async fn action(ch: &Channel, text: &str, direction: pb::Direction) -> pb::Verdict {
    let mut c = LinewallClient::new(ch.clone());
    c.evaluate(msg(text, direction)).await.expect("evaluate").into_inner().verdict.expect("verdict")
}

async fn reload(ch: &Channel) -> pb::ReloadResponse {
    let mut admin = PolicyAdminClient::new(ch.clone());
    tokio::time::timeout(Duration::from_secs(60), admin.reload(admin_req(pb::ReloadRequest {})))
        .await
        .expect("a reload must not hang")
        .expect("reload rpc")
        .into_inner()
}

/// Removes a test's directory when the test ends (declared first, so dropped last).
struct Cleanup(PathBuf);

impl Drop for Cleanup {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn allow() -> i32 {
    pb::Action::Allow as i32
}

// ---- item 1: empty sets and vanished files -------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_empty_policy_set_is_refused_everywhere() {
    let dir = temp_dir("h9-empty");
    let _cleanup = Cleanup(dir.clone());
    let empty = dir.join("empty");
    std::fs::create_dir_all(&empty).expect("dir");
    let e = empty.to_str().expect("utf-8");

    for args in [vec!["lint", e], vec!["test", e], vec!["check", "--policies", e, CARD]] {
        let out = bin().args(&args).output().expect("run");
        assert_eq!(out.status.code(), Some(2), "{args:?} on an empty directory must fail");
        assert!(String::from_utf8_lossy(&out.stderr).contains("no policy found"), "{args:?}");
    }
    let err = serve_fails(&dir, &["--policies", e]);
    assert!(err.contains("0 policies; at least 1 required"), "{err}");
    // Opting in serves the empty set.
    let s = serve(&dir, "allow-empty", &["--policies", e, "--allow-empty"]).await;
    assert_eq!(action(&s.ch, CARD, pb::Direction::Outbound).await.action, allow());
    drop(s);

    // A served set emptied on disk: the reload is rejected, the old set keeps blocking.
    let pol = dir.join("pol");
    std::fs::create_dir_all(&pol).expect("dir");
    copy_pack(&pol, &["pci.yaml", "secrets.yaml"]);
    let s =
        serve(&dir, "emptied", &["--policies", pol.to_str().expect("utf-8"), "--min-policies", "2"]).await;
    std::fs::remove_file(pol.join("secrets.yaml")).expect("rm");
    let r = reload(&s.ch).await;
    assert!(!r.ok, "one policy left is fewer than --min-policies 2");
    assert!(r.error.contains("1 policies; at least 2 required"), "{}", r.error);
    std::fs::remove_file(pol.join("pci.yaml")).expect("rm");
    let r = reload(&s.ch).await;
    assert!(!r.ok && r.error.contains("0 policies"), "{}", r.error);
    let aws = "the deploy key is AKIA5XTPLPFT7V4SEH2K, rotate it after release";
    assert_ne!(action(&s.ch, aws, pb::Direction::Outbound).await.action, allow());
    assert_ne!(action(&s.ch, CARD, pb::Direction::Outbound).await.action, allow());
    assert_eq!(s.metric("linewall_reloads_total{result=\"rejected\"}"), 2.0);
    drop(s);

    // A vanished file in an accepted reload is logged at error level and counted.
    copy_pack(&pol, &["pci.yaml", "secrets.yaml"]);
    let s = serve(&dir, "vanish", &["--policies", pol.to_str().expect("utf-8")]).await;
    std::fs::remove_file(pol.join("secrets.yaml")).expect("rm");
    let r = reload(&s.ch).await;
    assert!(r.ok, "{}", r.error);
    assert_eq!(s.metric("linewall_policy_files_vanished_total"), 1.0);
    let log = s.stderr();
    assert!(
        log.lines()
            .any(|l| l.contains("ERROR") && l.contains("policy file vanished") && l.contains("secrets.yaml")),
        "{log}"
    );
}

// ---- item 2: a truncated file, and the manifest ---------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_truncated_pack_is_counted_and_a_manifest_refuses_it() {
    let dir = temp_dir("h9-truncated");
    let _cleanup = Cleanup(dir.clone());
    let pol = dir.join("pol");
    std::fs::create_dir_all(&pol).expect("dir");
    copy_pack(&pol, &["pci.yaml", "secrets.yaml"]);
    let full = std::fs::read_to_string(pol.join("pci.yaml")).expect("read");
    let cut: String = full.lines().take(21).map(|l| format!("{l}\n")).collect();
    let p = pol.to_str().expect("utf-8");

    // Without a manifest the cut file still loads (it is valid YAML), but the loss of
    // rules and tests is logged at warn and counted.
    let s = serve(&dir, "cut", &["--policies", p]).await;
    assert_eq!(s.metric("linewall_policy_reload_shrinks_total"), 0.0);
    std::fs::write(pol.join("pci.yaml"), &cut).expect("cut");
    let r = reload(&s.ch).await;
    assert!(r.ok, "{}", r.error);
    assert_eq!(s.metric("linewall_policy_reload_shrinks_total"), 1.0);
    let log = s.stderr();
    assert!(log.lines().any(|l| l.contains("WARN") && l.contains("drops policies, rules or tests")), "{log}");
    drop(s);

    // With a manifest, a set that does not match it never loads.
    std::fs::write(pol.join("pci.yaml"), &full).expect("restore");
    let sums = bin_sha256(&pol, &["pci.yaml", "secrets.yaml"]);
    let manifest = dir.join("MANIFEST.sha256");
    std::fs::write(&manifest, &sums).expect("manifest");
    let m = manifest.to_str().expect("utf-8");
    let s = serve(&dir, "manifest", &["--policies", p, "--manifest", m]).await;
    let inbound = action(&s.ch, CARD, pb::Direction::Inbound).await;
    assert_eq!(inbound.action, pb::Action::Redact as i32);
    std::fs::write(pol.join("pci.yaml"), &cut).expect("cut");
    let r = reload(&s.ch).await;
    assert!(!r.ok, "a half-written pack must not load under --manifest");
    assert!(r.error.contains("pci.yaml: does not match its manifest sha256"), "{}", r.error);
    let v = action(&s.ch, CARD, pb::Direction::Inbound).await;
    assert_eq!(v.action, pb::Action::Redact as i32, "the full pci pack keeps masking inbound cards");
    let delivered = v.delivered.map(|d| d.text).unwrap_or_default();
    assert!(!delivered.contains("4111 1111 1111 1111"), "{delivered}");
    // An extra file is refused too; the finished deployment (files, then manifest) loads.
    std::fs::write(pol.join("pci.yaml"), &full).expect("restore");
    copy_pack(&pol, &["conduct.yaml"]);
    let r = reload(&s.ch).await;
    assert!(!r.ok && r.error.contains("conduct.yaml: not listed in the manifest"), "{}", r.error);
    std::fs::write(&manifest, bin_sha256(&pol, &["pci.yaml", "secrets.yaml", "conduct.yaml"])).expect("m");
    let r = reload(&s.ch).await;
    assert!(r.ok, "{}", r.error);
    // Without the manifest flag the server refuses nothing of this (the bad reload above
    // is what fails on a build without --manifest).
    let err =
        serve_fails(&dir, &["--policies", p, "--manifest", dir.join("missing").to_str().expect("utf-8")]);
    assert!(err.contains("manifest"), "{err}");
}

/// `sha256sum`-format lines for `names` in `dir`.
fn bin_sha256(dir: &Path, names: &[&str]) -> String {
    use sha2::{Digest, Sha256};
    names
        .iter()
        .map(|n| {
            let bytes = std::fs::read(dir.join(n)).expect("read");
            format!("{}  {n}\n", hex::encode(Sha256::digest(&bytes)))
        })
        .collect()
}

// ---- item 3: links, FIFOs, devices, and errors that never echo a file ----------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn links_fifos_and_devices_are_refused_without_echoing_content() {
    let dir = temp_dir("h9-files");
    let _cleanup = Cleanup(dir.clone());
    let pol = dir.join("pol");
    std::fs::create_dir_all(&pol).expect("dir");
    copy_pack(&pol, &["pci.yaml"]);
    let secret = dir.join("server.toml");
    std::fs::write(&secret, "admin_token = \"tok-SECRET-4242\"\n").expect("secret");
    let p = pol.to_str().expect("utf-8");
    let s = serve(&dir, "files", &["--policies", p]).await;

    // A link to a config file: refused as a link; the token never appears.
    std::os::unix::fs::symlink(&secret, pol.join("leak.yaml")).expect("symlink");
    let r = reload(&s.ch).await;
    assert!(!r.ok && r.error.contains("leak.yaml") && r.error.contains("symbolic link"), "{}", r.error);
    assert!(!r.error.contains("tok-SECRET"), "the reload error echoes the linked file: {}", r.error);
    std::fs::remove_file(pol.join("leak.yaml")).expect("rm");

    // The same bytes as a regular file: not a policy, and not quoted.
    std::fs::copy(&secret, pol.join("copy.yaml")).expect("copy");
    let r = reload(&s.ch).await;
    assert!(!r.ok && r.error.contains("not a Linewall policy file"), "{}", r.error);
    assert!(!r.error.contains("tok-SECRET"), "{}", r.error);
    std::fs::remove_file(pol.join("copy.yaml")).expect("rm");

    // A FIFO: refused at once (the open does not block), and SIGTERM still stops the server.
    let fifo = pol.join("x.yaml");
    let made = Command::new("mkfifo").arg(&fifo).status().expect("mkfifo");
    assert!(made.success());
    let r = reload(&s.ch).await;
    assert!(
        !r.ok && r.error.contains("x.yaml") && r.error.contains("not a regular file (a FIFO)"),
        "{}",
        r.error
    );
    assert_ne!(action(&s.ch, CARD, pb::Direction::Outbound).await.action, allow());
    std::fs::remove_file(&fifo).expect("rm");
    let log = s.stderr();
    assert!(!log.contains("tok-SECRET"), "the server log quotes the linked file");
    let Started { mut server, .. } = s;
    let pid = server.child.id().to_string();
    assert!(Command::new("kill").args(["-TERM", &pid]).status().expect("kill").success());
    let deadline = Instant::now() + Duration::from_secs(15);
    while server.child.try_wait().expect("wait").is_none() {
        assert!(Instant::now() < deadline, "SIGTERM must still stop the server");
        std::thread::sleep(Duration::from_millis(50));
    }

    // With --follow-symlinks: a link to /dev/zero is read no further than its type check,
    // and a link to a config file is still not quoted.
    std::os::unix::fs::symlink("/dev/zero", pol.join("zero.yaml")).expect("symlink");
    let err = serve_fails(&dir, &["--policies", p, "--follow-symlinks"]);
    assert!(err.contains("zero.yaml") && err.contains("not a regular file (a device)"), "{err}");
    std::fs::remove_file(pol.join("zero.yaml")).expect("rm");
    std::os::unix::fs::symlink(&secret, pol.join("leak.yaml")).expect("symlink");
    let err = serve_fails(&dir, &["--policies", p, "--follow-symlinks"]);
    assert!(err.contains("not a Linewall policy file") && !err.contains("tok-SECRET"), "{err}");
    std::fs::remove_file(pol.join("leak.yaml")).expect("rm");

    // A `--config` that is not a config is not quoted either.
    let shadow = dir.join("shadow");
    std::fs::write(&shadow, "root:tok-SECRET-hash:19000:0:99999:7:::\n").expect("write");
    let err = serve_fails(&dir, &["--config", shadow.to_str().expect("utf-8")]);
    assert!(err.contains("line 1: invalid setting") && !err.contains("tok-SECRET"), "{err}");

    // A plugin whose module is /dev/zero: a load error, not an unbounded read.
    let plug = dir.join("plug");
    std::fs::create_dir_all(&plug).expect("dir");
    std::fs::write(
        plug.join("p.yaml"),
        "apiVersion: linewall/v1\nkind: Policy\nmetadata: {name: z}\nspec:\n  detectors:\n    - id: z\n      plugin: {module: /dev/zero, timeout_ms: 5}\n  rules:\n    - id: r\n      when: {detectors: {any: [{id: z}]}}\n      action: block\n",
    )
    .expect("write");
    let out = bin().arg("lint").arg(&plug).output().expect("lint");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("/dev/zero is not a regular file (a device)"), "{err}");
}

// ---- item 4: the decision log under a full disk and a stalled sink ---------------------

fn key_file(dir: &Path) -> PathBuf {
    let k = dir.join("audit.key");
    std::fs::write(&k, AUDIT_KEY).expect("key");
    k
}

fn verify(files: &[&Path], key: &Path, anchor: Option<&Path>) -> Output {
    let mut c = bin();
    c.args(["audit", "verify"]).args(files).arg("--key-file").arg(key);
    match anchor {
        Some(a) => c.arg("--anchor").arg(a),
        None => c.arg("--no-anchor"),
    };
    c.output().expect("audit verify")
}

/// Sends `n` card messages, `concurrency` at a time; returns (answered decision ids,
/// UNAVAILABLE count). Any other outcome, or a request taking longer than 20 s, fails.
async fn hammer(ch: &Channel, n: usize, concurrency: usize) -> (Vec<String>, usize) {
    let mut tasks = tokio::task::JoinSet::new();
    for t in 0..concurrency {
        let ch = ch.clone();
        tasks.spawn(async move {
            let mut c = LinewallClient::new(ch);
            let (mut ok, mut unavailable) = (Vec::new(), 0);
            for i in (t..n).step_by(concurrency) {
                let text = format!("message {i}: card 4111 1111 1111 1111 and key AKIA5XTPLPFT7V4SEH2K");
                let r = tokio::time::timeout(
                    Duration::from_secs(20),
                    c.evaluate(msg(&text, pb::Direction::Inbound)),
                )
                .await
                .expect("a request must never hang");
                match r {
                    Ok(resp) => ok.push(resp.into_inner().verdict.expect("verdict").decision_id),
                    // The server's own refusal; a transport failure (also UNAVAILABLE on the
                    // client side) would be a different bug and fails the test below.
                    Err(s) if s.code() == Code::Unavailable && s.message().contains("decision log") => {
                        unavailable += 1;
                    }
                    Err(s) => panic!("unexpected status {s:?}"),
                }
            }
            (ok, unavailable)
        });
    }
    let (mut ok, mut unavailable) = (Vec::new(), 0);
    while let Some(r) = tasks.join_next().await {
        let (o, u) = r.expect("task");
        ok.extend(o);
        unavailable += u;
    }
    (ok, unavailable)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_fails_requests_instead_of_losing_decisions() {
    let dir = temp_dir("h9-fulldisk");
    let _cleanup = Cleanup(dir.clone());
    let disk = dir.join("disk");
    std::fs::create_dir_all(&disk).expect("dir");
    let mounted = Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=64k", "tmpfs"])
        .arg(&disk)
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !mounted {
        eprintln!("SKIPPED: cannot mount a 64 KiB tmpfs here (needs root); the full-disk case is not tested");
        return;
    }
    struct Unmount(PathBuf);
    impl Drop for Unmount {
        fn drop(&mut self) {
            let _ = Command::new("umount").arg(&self.0).status();
        }
    }
    let _unmount = Unmount(disk.clone());
    let key = key_file(&dir);
    let log = disk.join("decisions.jsonl");
    let anchor = dir.join("decisions.anchor");
    let s = serve(
        &dir,
        "fulldisk",
        &[
            "--decision-log",
            log.to_str().expect("utf-8"),
            "--decision-log-anchor",
            anchor.to_str().expect("utf-8"),
            "--audit-key-file",
            key.to_str().expect("utf-8"),
            "--hash-key-file",
            key.to_str().expect("utf-8"),
        ],
    )
    .await;
    let n = 1_000;
    let (ok, unavailable) = hammer(&s.ch, n, 8).await;
    // /healthz still answers on a full disk.
    assert!(http_get(&s.metrics, "/healthz").contains("200 OK"));
    let errors = s.metric("linewall_decision_log_write_errors_total");
    let unavailable_metric = s.metric("linewall_decision_log_unavailable_total");
    let content = std::fs::read_to_string(&log).expect("log");
    let lines = content.lines().count();
    eprintln!(
        "FIGURES full disk (64 KiB tmpfs, required mode): {n} requests, {} answered, {unavailable} UNAVAILABLE, \
         {lines} decisions written, {errors} write errors",
        ok.len()
    );
    assert_eq!(ok.len() + unavailable, n);
    assert!(unavailable > 0, "the disk never filled: the test proves nothing");
    assert!(!ok.is_empty());
    assert!(errors >= 1.0);
    assert_eq!(unavailable_metric as usize, unavailable);
    assert!(content.ends_with('\n'), "a cut last line was left behind");
    for id in &ok {
        assert!(content.contains(id.as_str()), "answered decision {id} is missing from the log");
    }
    assert_eq!(lines, ok.len(), "every line is an answered decision and every answered decision a line");
    let v = verify(&[&log], &key, Some(&anchor));
    let out = String::from_utf8_lossy(&v.stdout);
    eprintln!("FIGURES full disk audit verify: {}", out.trim());
    assert_eq!(v.status.code(), Some(0), "{out}");
    drop(s);

    // Restart with a partial last line (as a crash would leave; written off the full disk
    // so the test controls it): it is cut off at start and the chain continues.
    let log = dir.join("restart.jsonl");
    std::fs::write(&log, content.clone() + "{\"decision_id\":\"cut").expect("write");
    let s = serve(
        &dir,
        "restart",
        &[
            "--decision-log",
            log.to_str().expect("utf-8"),
            "--decision-log-anchor",
            anchor.to_str().expect("utf-8"),
            "--audit-key-file",
            key.to_str().expect("utf-8"),
        ],
    )
    .await;
    action(&s.ch, CARD, pb::Direction::Outbound).await;
    drop(s);
    let after = std::fs::read_to_string(&log).expect("log");
    assert!(after.ends_with('\n') && !after.contains("\"cut"), "the partial line was not repaired");
    assert_eq!(after.lines().count(), content.lines().count() + 1);
    let v = verify(&[&log], &key, Some(&anchor));
    assert_eq!(v.status.code(), Some(0), "{}", String::from_utf8_lossy(&v.stdout));

    // Non-regular paths are refused at start (no 5 GB read of /dev/full).
    let err =
        serve_fails(&dir, &["--decision-log", "/dev/full", "--audit-key-file", key.to_str().expect("utf-8")]);
    assert!(err.contains("not a regular file"), "{err}");
    let err = serve_fails(&dir, &["--decision-log", dir.join("d.jsonl").to_str().expect("utf-8")]);
    assert!(err.contains("needs an audit key"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_sink_never_hangs_requests() {
    let dir = temp_dir("h9-stalled");
    let _cleanup = Cleanup(dir.clone());
    let key = key_file(&dir);
    let anchor = dir.join("stdout.anchor");
    let k = key.to_str().expect("utf-8");
    let a = anchor.to_str().expect("utf-8");
    for mode in ["required", "best-effort"] {
        let _ = std::fs::remove_file(&anchor);
        let (mut child, log) = spawn(
            &dir,
            mode,
            &[
                "--decision-log",
                "-",
                "--decision-log-mode",
                mode,
                "--decision-log-wait-ms",
                "300",
                "--decision-log-queue",
                "1000",
                "--decision-log-anchor",
                a,
                "--audit-key-file",
                k,
            ],
            Stdio::piped(),
        );
        // Nobody reads the pipe until the requests are done.
        let stdout = child.stdout.take().expect("stdout pipe");
        let s = started(child, log).await;
        let n = 2_000;
        let (ok, unavailable) = hammer(&s.ch, n, 16).await;
        assert!(http_get(&s.metrics, "/healthz").contains("200 OK"), "/healthz hangs on a stalled sink");
        let dropped = s.metric("linewall_decision_log_dropped_total");
        let depth = s.metric("linewall_decision_log_queue_depth");
        let unavailable_metric = s.metric("linewall_decision_log_unavailable_total");
        // Now drain the pipe: what was written before the stall, then the rest.
        let reader = std::thread::spawn(move || {
            let mut out = String::new();
            let _ = std::io::Read::read_to_string(&mut { stdout }, &mut out);
            out
        });
        let captured = dir.join(format!("{mode}.jsonl"));
        tokio::time::sleep(Duration::from_secs(2)).await;
        drop(s);
        let content = reader.join().expect("reader");
        std::fs::write(&captured, &content).expect("write");
        let lines = content.lines().count();
        eprintln!(
            "FIGURES stalled sink ({mode}): {n} requests, {} answered, {unavailable} UNAVAILABLE, {dropped} dropped, \
             queue depth {depth} at the stall, {lines} decisions written once drained",
            ok.len()
        );
        assert_eq!(ok.len() + unavailable, n);
        for id in ok.iter().filter(|_| mode == "required") {
            assert!(content.contains(id.as_str()), "answered decision {id} missing from the log");
        }
        if mode == "required" {
            assert!(unavailable > 0, "the pipe never filled: the test proves nothing");
            assert_eq!(unavailable_metric as usize, unavailable);
        } else {
            assert_eq!(unavailable, 0, "best-effort answers every request");
            assert!(dropped > 0.0, "best-effort drops are counted");
        }
        let v = verify(&[&captured], &key, Some(&anchor));
        let out = String::from_utf8_lossy(&v.stdout);
        eprintln!("FIGURES stalled sink ({mode}) audit verify: {}", out.trim());
        assert_eq!(v.status.code(), Some(0), "{out}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sighup_reopens_the_log_and_the_chain_continues_into_the_new_file() {
    let dir = temp_dir("h9-rotate");
    let _cleanup = Cleanup(dir.clone());
    let key = key_file(&dir);
    let log = dir.join("decisions.jsonl");
    let rotated = dir.join("decisions.jsonl.1");
    let s = serve(
        &dir,
        "rotate",
        &["--decision-log", log.to_str().expect("utf-8"), "--audit-key-file", key.to_str().expect("utf-8")],
    )
    .await;
    for _ in 0..10 {
        action(&s.ch, CARD, pb::Direction::Outbound).await;
    }
    std::fs::rename(&log, &rotated).expect("rotate");
    let pid = s.server.child.id().to_string();
    assert!(Command::new("kill").args(["-HUP", &pid]).status().expect("kill").success());
    tokio::time::sleep(Duration::from_millis(500)).await;
    for _ in 0..10 {
        action(&s.ch, CARD, pb::Direction::Outbound).await;
    }
    drop(s);
    let count = |p: &Path| std::fs::read_to_string(p).expect("read").lines().count();
    assert_eq!(
        (count(&rotated), count(&log)),
        (10, 10),
        "the old file keeps its lines, new ones go to the new file"
    );
    let anchor = dir.join("decisions.jsonl.anchor");
    let both = verify(&[&rotated, &log], &key, Some(&anchor));
    let text = String::from_utf8_lossy(&both.stdout);
    assert_eq!(both.status.code(), Some(0), "{text}");
    assert!(text.contains("decisions 1..20"), "{text}");
    let new_only = verify(&[&log], &key, Some(&anchor));
    let text = String::from_utf8_lossy(&new_only.stdout);
    assert_eq!(new_only.status.code(), Some(0), "{text}");
    assert!(text.contains("starts at decision 11"), "{text}");
}

// ---- item 5: tampering --------------------------------------------------------------

/// Recomputes the whole chain of `lines` as the old (unkeyed) format did: SHA-256 of
/// `prev_hash`, a newline and the line without `hash`.
fn rechain_plain(lines: &mut [String]) {
    use sha2::{Digest, Sha256};
    let mut prev = "0".repeat(64);
    for l in lines.iter_mut() {
        let mut v: serde_json::Map<String, serde_json::Value> = serde_json::from_str(l).expect("json");
        v.remove("hash");
        v.insert("prev_hash".into(), prev.clone().into());
        let sorted: std::collections::BTreeMap<_, _> = v.iter().collect();
        let content = serde_json::to_string(&sorted).expect("json");
        let mut h = Sha256::new();
        h.update(prev.as_bytes());
        h.update(b"\n");
        h.update(content.as_bytes());
        let hash = hex::encode(h.finalize());
        v.insert("hash".into(), hash.clone().into());
        *l = serde_json::to_string(&v).expect("json");
        prev = hash;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audit_verify_reports_every_tampering() {
    let dir = temp_dir("h9-tamper");
    let _cleanup = Cleanup(dir.clone());
    let key = key_file(&dir);
    let log = dir.join("decisions.jsonl");
    let s = serve(
        &dir,
        "tamper",
        &["--decision-log", log.to_str().expect("utf-8"), "--audit-key-file", key.to_str().expect("utf-8")],
    )
    .await;
    for i in 0..40 {
        let text = if i % 2 == 0 { CARD.to_owned() } else { format!("hello {i}") };
        action(&s.ch, &text, pb::Direction::Outbound).await;
    }
    drop(s);
    let anchor = PathBuf::from(format!("{}.anchor", log.display()));
    let content = std::fs::read_to_string(&log).expect("log");
    let lines: Vec<String> = content.lines().map(str::to_owned).collect();
    assert_eq!(lines.len(), 40);
    let intact = verify(&[&log], &key, Some(&anchor));
    let report = |o: &Output| String::from_utf8_lossy(&o.stdout).into_owned();
    assert_eq!(intact.status.code(), Some(0), "{}", report(&intact));
    // The default anchor is found next to the log.
    let default =
        bin().args(["audit", "verify"]).arg(&log).arg("--key-file").arg(&key).output().expect("run");
    assert_eq!(default.status.code(), Some(0), "{}", report(&default));
    eprintln!("TAMPER intact: {}", report(&intact).trim());

    let case = |name: &str, lines: &[String], want: &str| {
        let p = dir.join(format!("{name}.jsonl"));
        std::fs::write(&p, lines.join("\n") + "\n").expect("write");
        let out = verify(&[&p], &key, Some(&anchor));
        let text = report(&out);
        eprintln!("TAMPER {name}:\n{}", text.trim());
        assert_eq!(out.status.code(), Some(1), "{name} must fail verification:\n{text}");
        assert!(text.contains(want), "{name}: expected `{want}` in:\n{text}");
    };

    // The last 5 lines deleted.
    case("truncated", &lines[..35], "5 decision(s) missing at the end (truncated)");
    // One line edited block -> allow, and the whole chain recomputed with plain SHA-256.
    let blocked = lines.iter().position(|l| l.contains("\"action\":\"block\"")).expect("a block");
    let mut edited = lines.clone();
    edited[blocked] = edited[blocked].replacen("\"action\":\"block\"", "\"action\":\"allow\"", 1);
    rechain_plain(&mut edited);
    case("rechained", &edited, &format!("line {}: content does not match its hash", blocked + 1));
    // The same edit without re-chaining.
    let mut edited = lines.clone();
    edited[blocked] = edited[blocked].replacen("\"action\":\"block\"", "\"action\":\"allow\"", 1);
    case("edited", &edited, &format!("line {}: content does not match its hash", blocked + 1));
    // A duplicate key: readers that keep the last value see `allow`.
    let mut dup = lines.clone();
    dup[blocked] = format!("{},\"action\":\"allow\"}}", &lines[blocked][..lines[blocked].len() - 1]);
    case("duplicate-key", &dup, "duplicate JSON key `action`");
    // A line deleted from the middle.
    let mut gap = lines.clone();
    gap.remove(20);
    case("deleted", &gap, "line 21: seq 22 follows 20");
    // A forged anchor (matching the cut log) does not verify without the key.
    let cut = dir.join("cut.jsonl");
    std::fs::write(&cut, lines[..35].join("\n") + "\n").expect("write");
    let forged = dir.join("forged.anchor");
    let a = std::fs::read_to_string(&anchor).expect("anchor").replacen("\"seq\":40", "\"seq\":35", 1);
    std::fs::write(&forged, a).expect("write");
    let out = verify(&[&cut], &key, Some(&forged));
    eprintln!("TAMPER forged anchor:\n{}", report(&out).trim());
    assert_eq!(out.status.code(), Some(1));
    assert!(report(&out).contains("MAC does not verify"), "{}", report(&out));
    // The wrong key fails every line.
    let other = dir.join("other.key");
    std::fs::write(&other, "another-key-of-enough-bytes").expect("key");
    let out = verify(&[&log], &other, None);
    assert_eq!(out.status.code(), Some(1));
}

// ---- item 6: keys and errors without values -----------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hash_keys_are_explicit_and_scan_errors_never_echo_values() {
    let dir = temp_dir("h9-keys");
    let _cleanup = Cleanup(dir.clone());
    // An ephemeral key is warned about; a key file silences the warning.
    let s = serve(&dir, "ephemeral", &[]).await;
    assert!(s.stderr().contains("no hash key configured"), "{}", s.stderr());
    drop(s);
    let key = key_file(&dir);
    let s = serve(&dir, "keyed", &["--hash-key-file", key.to_str().expect("utf-8")]).await;
    assert!(!s.stderr().contains("no hash key configured"), "{}", s.stderr());
    drop(s);

    // The same key file gives the same hashes across runs.
    let secret_msg = "the deploy key is AKIA5XTPLPFT7V4SEH2K, rotate it after release";
    let run = |env: Option<&Path>| {
        let mut c = bin();
        c.args(["check", "--json", secret_msg]).env_remove("LINEWALL_HASH_KEY");
        if let Some(k) = env {
            c.env("LINEWALL_HASH_KEY_FILE", k);
        }
        let out = c.output().expect("check");
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json verdict");
        v["record"]["text"].as_str().unwrap_or_default().to_owned()
    };
    let a = run(Some(&key));
    assert!(a.contains("[#"), "{a}");
    assert_eq!(a, run(Some(&key)), "a key file gives stable hashes");
    assert_ne!(run(None), run(None), "without a key hashes change at every run");

    // scan errors name the field, never the value.
    let input = [
        r#"{"channel": "4111 1111 1111 1111"}"#,
        r#"{"text": 4111111111111111}"#,
        r#"{"attributes": {"4111 1111 1111 1111": 7}}"#,
        r#"{"sender": {"id": ["378282246310005"]}}"#,
    ]
    .join("\n");
    let f = dir.join("in.jsonl");
    std::fs::write(&f, input).expect("write");
    let out = bin().arg("scan").arg(&f).output().expect("scan");
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(text.lines().count(), 4, "{text}");
    assert!(!text.contains("4111") && !text.contains("378282246310005"), "a value is echoed: {text}");
    assert!(text.contains("unknown value at `channel`"), "{text}");
    assert!(text.contains("wrong type at `text`"), "{text}");
}

/// A C shim preloaded into the server: `getrandom(2)` fails (EIO) for callers that need
/// secure bytes; std's hash-map seeds (`GRND_INSECURE`) still get them.
const FAILING_RNG: &str = r#"
#define _GNU_SOURCE
#include <errno.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <unistd.h>
ssize_t getrandom(void *buf, size_t len, unsigned int flags) {
    if (flags & 0x0004) return syscall(SYS_getrandom, buf, len, flags);
    errno = EIO;
    return -1;
}
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_os_rng_is_a_start_up_error_not_a_zero_key() {
    let dir = temp_dir("h9-rng");
    let _cleanup = Cleanup(dir.clone());
    std::fs::write(dir.join("shim.c"), FAILING_RNG).expect("write");
    let shim = dir.join("shim.so");
    let built = Command::new("cc")
        .args(["-shared", "-fPIC", "-o"])
        .arg(&shim)
        .arg(dir.join("shim.c"))
        .status()
        .is_ok_and(|s| s.success());
    if !built {
        eprintln!("SKIPPED: no C compiler to build the failing-RNG shim; the RNG case is not tested");
        return;
    }
    let out = bin()
        .args(["serve", "--listen", "127.0.0.1:0"])
        .env("LD_PRELOAD", &shim)
        .env_remove("LINEWALL_HASH_KEY")
        .output()
        .expect("serve");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "serve must refuse to start without randomness: {err}");
    assert!(err.contains("random number generator failed"), "{err}");
    // With a configured key nothing else needs the RNG: the server starts and blocks the
    // card (the built-in catalogue compiled for the detectors' examples uses its own key).
    let key = key_file(&dir);
    let log = dir.join("with-key.stderr");
    let mut child = bin()
        .args(["serve", "--listen", "127.0.0.1:0", "--hash-key-file"])
        .arg(&key)
        .env("LD_PRELOAD", &shim)
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).expect("stderr file"))
        .spawn()
        .expect("serve");
    // Panics with the server's log if it exits (refusing to start) instead of serving.
    let (addr, _) = bound_addresses(&mut child, &log).await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        if let Some(status) = child.try_wait().expect("wait") {
            panic!("serve with a hash key exited ({status}) under a failing RNG");
        }
        if let Ok(ch) = tonic::transport::Channel::from_shared(addr.clone()).expect("uri").connect().await {
            let server = Server { child, addr };
            assert_ne!(action(&ch, CARD, pb::Direction::Outbound).await.action, allow());
            drop(server);
            return;
        }
        assert!(std::time::Instant::now() < deadline, "serve neither served nor exited");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}
