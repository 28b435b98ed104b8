//! WASM plugins end to end: built from source by `plugins/build.sh`, run through
//! policies by the CLI (`test`, `scan`, `lint`, `plugin new/build`) and over gRPC under
//! concurrent load with a hostile plugin in the same policy set.

mod common;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use common::{http_get, start, start_with_metrics, temp_dir};
use linewall_proto::v1 as pb;
use pb::linewall_client::LinewallClient;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A built plugin from `plugins/dist`, building them all first if needed.
fn plugin(name: &str) -> PathBuf {
    static BUILD: Mutex<()> = Mutex::new(());
    let path = root().join("plugins/dist").join(format!("{name}.wasm"));
    let _guard = BUILD.lock().unwrap_or_else(|p| p.into_inner());
    if !path.exists() {
        let status = Command::new("bash")
            .arg(root().join("plugins/build.sh"))
            .env("LINEWALL", env!("CARGO_BIN_EXE_linewall"))
            .status()
            .expect("run plugins/build.sh");
        assert!(status.success(), "plugins/build.sh failed");
    }
    path
}

fn linewall(args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_linewall"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run linewall");
    child.stdin.take().expect("stdin").write_all(stdin.as_bytes()).expect("write stdin");
    child.wait_with_output().expect("wait")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn the_example_plugins_pass_their_policies_tests() {
    plugin("account-number");
    let examples = root().join("plugins/examples");
    let out = linewall(&["test", examples.to_str().expect("utf-8"), "--quiet"], "");
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", text(&out.stderr));
    // 11 policy tests of the three example policies plus one line per built-in detector.
    let expected = 11 + linewall_engine::detect::builtin::all().count();
    assert!(stdout.trim_end().ends_with(&format!("{expected} passed, 0 failed")), "{stdout}");
}

#[test]
fn scan_runs_plugins_on_every_line() {
    plugin("account-number");
    let policy = root().join("plugins/examples/account-number/policy.yaml");
    let input = concat!(
        r#"{"id": "a", "direction": "outbound", "text": "use AC-12345674"}"#,
        "\n",
        r#"{"id": "b", "direction": "inbound", "caption": "mine: AC-98765433"}"#,
        "\n",
        "not json\n",
        r#"{"id": "c", "text": "AC-98765434 is wrong"}"#,
        "\n"
    );
    let out = linewall(&["scan", "--policies", policy.to_str().expect("utf-8")], input);
    let lines: Vec<serde_json::Value> =
        text(&out.stdout).lines().map(|l| serde_json::from_str(l).expect("json line")).collect();
    assert_eq!(lines.len(), 4, "{}", text(&out.stderr));
    assert_eq!(lines[0]["action"], "block");
    assert_eq!(lines[0]["findings"][0]["detector"], "acme-account");
    assert_eq!(lines[1]["action"], "redact");
    assert_eq!(lines[1]["delivered"]["caption"], "mine: [ACME-ACCOUNT]");
    assert_eq!(lines[2]["line"], 3);
    assert!(lines[2]["error"].is_string());
    assert_eq!(lines[3]["action"], "allow");
    // Nothing the plugin saw is echoed in previews.
    assert!(!text(&out.stdout).contains("12345674\",\"preview"));
}

#[test]
fn lint_points_at_a_plugin_with_a_bad_config() {
    let dir = temp_dir("plugin-lint");
    let policy = format!(
        "apiVersion: linewall/v1\nkind: Policy\nmetadata: {{name: bad}}\nspec:\n  detectors:\n    - id: acct\n      plugin:\n        module: '{}'\n        config: {{digits: 1}}\n  rules:\n    - id: r\n      when: {{detectors: {{any: [{{id: acct}}]}}}}\n      action: block\n",
        plugin("account-number").display()
    );
    std::fs::write(dir.join("bad.yaml"), policy).expect("write");
    let out = linewall(&["lint", dir.to_str().expect("utf-8")], "");
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("error[invalid]: cannot load plugin for detector `acct`: init failed"),
        "{stderr}"
    );
    assert!(stderr.contains("bad.yaml:8:17\n"), "{stderr}");
    assert!(stderr.contains("`digits` must be between 2 and 30, not 1"), "{stderr}");
    assert!(!stderr.contains("unknown detector"), "{stderr}");
}

/// True when this process may hide the checkout in a private mount namespace
/// (`unshare -m`, root or CAP_SYS_ADMIN, as on CI).
fn can_hide_checkout() -> bool {
    Command::new("unshare").args(["-m", "true"]).stderr(Stdio::null()).status().is_ok_and(|s| s.success())
}

/// Someone with only the `linewall` binary writes a plugin: the binary is copied out of
/// the repository and run with the checkout hidden (a tmpfs over it in a private mount
/// namespace); `plugin new` writes the embedded SDK beside the scaffold, whose unit tests
/// pass, which builds to a component offline (dependencies from the cargo cache that
/// `plugins/build.sh` filled), and whose policy tests pass through it.
#[test]
fn plugin_new_builds_with_only_the_binary_and_the_checkout_hidden() {
    plugin("noop");
    let checkout = root().canonicalize().expect("checkout");
    let work = temp_dir("plugin-new");
    assert!(!work.starts_with(&checkout), "the work directory must be outside the checkout");
    let bin = work.join("linewall");
    std::fs::copy(env!("CARGO_BIN_EXE_linewall"), &bin).expect("copy the binary");
    // The build cache of plugins/build.sh (same dependencies, already compiled) is lent to
    // the scaffold's build at $WORK/target, a bind mount made before the checkout is hidden:
    // a cache of compiled dependencies, not sources.
    let script = r#"set -eu
mkdir -p "$WORK/target"
if [ "$HIDE" = 1 ]; then
    mount --bind "$CHECKOUT/plugins/target" "$WORK/target"
    mount -t tmpfs linewall-hidden "$CHECKOUT"
    if [ -e "$CHECKOUT/plugins" ]; then echo "checkout still visible" >&2; exit 1; fi
    export CARGO_TARGET_DIR="$WORK/target"
else
    export CARGO_TARGET_DIR="$CHECKOUT/plugins/target"
fi
cd "$WORK"
./linewall plugin new desk-codes
cd desk-codes
test -f linewall-plugin-sdk/wit/detector.wit
cargo test -q --locked
../linewall plugin build . --locked
../linewall test policy.yaml --quiet
"#;
    let hide = can_hide_checkout();
    if !hide {
        eprintln!("note: cannot unshare a mount namespace here; the checkout stays visible");
    }
    let mut cmd = if hide { Command::new("unshare") } else { Command::new("bash") };
    if hide {
        cmd.args(["-m", "bash"]);
    }
    let out = cmd
        .args(["-c", script])
        .env("HIDE", if hide { "1" } else { "0" })
        .env("CHECKOUT", &checkout)
        .env("WORK", &work)
        .env("CARGO_NET_OFFLINE", "true")
        .current_dir(&work)
        .output()
        .expect("run the scaffold script");
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert!(out.status.success(), "{stdout}{stderr}");
    assert!(stdout.contains("created ") && stdout.contains("desk-codes.wasm"), "{stdout}");
    assert!(stdout.contains(" passed, 0 failed"), "{stdout}");
    let manifest = std::fs::read_to_string(work.join("desk-codes/Cargo.toml")).expect("manifest");
    assert!(manifest.contains(r#"path = "linewall-plugin-sdk""#), "{manifest}");
    assert!(!manifest.contains(checkout.to_str().expect("utf-8")), "{manifest}");
    let _ = std::fs::remove_dir_all(&work);
}

/// A policy dir with a hostile plugin (policy `sandbox`) and the account-number plugin
/// (policy `accounts`), so the hostile one's failures and breaker cannot touch the other.
/// Their wall-clock budgets are 1 s: the test binary is unoptimized and shares the machine
/// with other tests; the attacks are stopped by fuel, caps and traps.
fn mixed_policies(name: &str) -> PathBuf {
    let dir = temp_dir(name);
    let hostile = format!(
        "apiVersion: linewall/v1\nkind: Policy\nmetadata: {{name: sandbox}}\nspec:\n  detectors:\n    - id: hostile\n      plugin: {{module: '{}', timeout_ms: 1000}}\n  rules:\n    - id: block-flag\n      when: {{detectors: {{any: [{{id: hostile}}]}}}}\n      action: block\n",
        plugin("hostile").display()
    );
    let accounts = format!(
        "apiVersion: linewall/v1\nkind: Policy\nmetadata: {{name: accounts}}\nspec:\n  detectors:\n    - id: acct\n      plugin: {{module: '{}', timeout_ms: 1000}}\n  rules:\n    - id: redact-acct\n      when: {{detectors: {{any: [{{id: acct}}]}}}}\n      action: redact\n      redact: {{style: label}}\n",
        plugin("account-number").display()
    );
    std::fs::write(dir.join("sandbox.yaml"), hostile).expect("write");
    std::fs::write(dir.join("accounts.yaml"), accounts).expect("write");
    dir
}

fn request(id: String, text: &str) -> pb::EvaluateRequest {
    pb::EvaluateRequest { message: Some(pb::Message { id, text: text.into(), ..Default::default() }) }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
// The guard only orders whole tests (each on its own thread); nothing else awaits it.
#[allow(clippy::await_holding_lock)]
async fn over_grpc_a_hostile_plugin_under_load_fails_closed_and_others_keep_answering() {
    let dir = mixed_policies("plugin-grpc");
    let (_server, ch, metrics) = start_with_metrics(&["--policies", dir.to_str().expect("utf-8")]).await;
    let attacks = ["!loop", "!oom", "!recurse", "!panic", "!huge", "!oob"];
    let skipped = Arc::new(AtomicU64::new(0));
    let mut tasks = Vec::new();
    for t in 0..8usize {
        let mut client = LinewallClient::new(ch.clone());
        let skipped = Arc::clone(&skipped);
        tasks.push(tokio::spawn(async move {
            for i in 0..60usize {
                let hostile = (i + t) % 3 == 0;
                let text = if hostile {
                    format!("{} and pay AC-12345674", attacks[(i + t) % attacks.len()])
                } else {
                    "pay AC-12345674 today".to_string()
                };
                let v = client
                    .evaluate(request(format!("{t}-{i}"), &text))
                    .await
                    .expect("the service keeps answering")
                    .into_inner()
                    .verdict
                    .expect("verdict");
                assert_eq!(v.id, format!("{t}-{i}"));
                if hostile {
                    assert_eq!(v.action, pb::Action::Block as i32, "{v:?}");
                    assert_eq!(v.errors.len(), 1, "{v:?}");
                    assert_eq!(v.errors[0].detector, "hostile");
                    assert_eq!(v.errors[0].on_error, pb::Action::Block as i32);
                } else {
                    // The other plugin is untouched: its finding and rule are there.
                    assert_eq!(v.findings.len(), 1, "{v:?}");
                    assert_eq!(v.findings[0].rules, ["accounts/redact-acct"]);
                    if v.errors.is_empty() {
                        assert_eq!(v.action, pb::Action::Redact as i32);
                        assert_eq!(v.delivered.expect("delivered").text, "pay [ACCT] today");
                    } else {
                        // Runs of failures may open the hostile plugin's breaker; while
                        // open, its rules fail closed even on benign messages.
                        assert!(v.errors[0].error.starts_with("circuit_open"), "{v:?}");
                        assert_eq!(v.action, pb::Action::Block as i32);
                        skipped.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
        }));
    }
    for t in tasks {
        t.await.expect("task");
    }
    let body = http_get(&metrics, "/metrics");
    let failures: u64 = body
        .lines()
        .filter(|l| l.starts_with("linewall_plugin_failures_total{detector=\"hostile\""))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<u64>().ok())
        .sum();
    let expected = 160 + skipped.load(Ordering::Relaxed);
    assert_eq!(failures, expected, "8 tasks x 20 hostile messages, plus benign ones skipped:\n{body}");
    assert!(body.contains("linewall_plugin_calls_total{detector=\"acct\""), "{body}");
    let acct_failures: u64 = body
        .lines()
        .filter(|l| l.starts_with("linewall_plugin_failures_total{detector=\"acct\""))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<u64>().ok())
        .sum();
    assert_eq!(acct_failures, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
// The guard only orders whole tests (each on its own thread); nothing else awaits it.
#[allow(clippy::await_holding_lock)]
async fn a_reload_with_a_swapped_pinned_module_is_refused_and_the_old_plugin_keeps_serving() {
    use pb::policy_admin_client::PolicyAdminClient;
    use sha2::{Digest, Sha256};

    let dir = temp_dir("plugin-reload");
    let module = dir.join("acct.wasm");
    std::fs::copy(plugin("account-number"), &module).expect("copy module");
    let pin = hex::encode(Sha256::digest(std::fs::read(&module).expect("read")));
    let policy = format!(
        "apiVersion: linewall/v1\nkind: Policy\nmetadata: {{name: accounts}}\nspec:\n  detectors:\n    - id: acct\n      plugin: {{module: acct.wasm, sha256: '{pin}'}}\n  rules:\n    - id: block-acct\n      when: {{detectors: {{any: [{{id: acct}}]}}}}\n      action: block\n"
    );
    std::fs::write(dir.join("p.yaml"), policy).expect("write policy");
    let (_server, ch) = start(&["--policies", dir.to_str().expect("utf-8"), "--no-watch"]).await;
    let mut client = LinewallClient::new(ch.clone());
    let ask = |c: &mut LinewallClient<tonic::transport::Channel>| {
        let mut c = c.clone();
        async move {
            let v = c.evaluate(request("1".into(), "pay AC-12345674")).await.expect("evaluate");
            v.into_inner().verdict.expect("verdict").action
        }
    };
    assert_eq!(ask(&mut client).await, pb::Action::Block as i32);

    // Someone replaces the module on disk: the pin refuses it, the loaded one serves on.
    std::fs::copy(plugin("noop"), &module).expect("swap module");
    let mut admin = PolicyAdminClient::new(ch.clone());
    let mut req = tonic::Request::new(pb::ReloadRequest {});
    req.metadata_mut().insert("authorization", "Bearer s3cret-token".parse().expect("header"));
    let r = admin.reload(req).await.expect("reload").into_inner();
    assert!(!r.ok);
    assert!(r.error.contains("sha256 mismatch"), "{}", r.error);
    assert_eq!(ask(&mut client).await, pb::Action::Block as i32);
}
