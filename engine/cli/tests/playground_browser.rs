//! `linewall playground` in a real headless browser (Debian chromium driven by
//! playwright-core). Needs chromium and `tests/browser/node_modules`: run through
//! `tests/browser/test-playground.sh`, which installs them, so it is ignored by a plain
//! `cargo test`. Screenshots: target/playground-browser/.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

/// The playground process, killed on drop.
struct Playground(Child);

impl Drop for Playground {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
#[ignore = "needs chromium and npm packages: run engine/cli/tests/browser/test-playground.sh"]
fn playground_edits_turn_a_test_red_then_green_and_highlight_a_redacted_card() {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let mut child = Command::new(env!("CARGO_BIN_EXE_linewall"))
        .args(["playground", "--listen", "127.0.0.1:0"])
        .arg(manifest.join("tests/fixtures/playground"))
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start linewall playground");
    let stdout = child.stdout.take().expect("stdout");
    let server = Playground(child);
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line).expect("read the address");
    let url = line.trim().strip_prefix("playground: ").expect("playground prints its URL").to_owned();
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");

    let out = std::env::var("BROWSER_OUT")
        .map(PathBuf::from)
        .unwrap_or_else(|_| manifest.join("../../target/playground-browser"));
    std::fs::create_dir_all(&out).expect("screenshot dir");
    let shots = [
        "playground-test-red.png",
        "playground-test-green.png",
        "playground-verdict.png",
        "playground-replay.png",
    ];
    for s in shots {
        let _ = std::fs::remove_file(out.join(s));
    }
    let result = Command::new("node")
        .arg(manifest.join("tests/browser/playground.mjs"))
        .arg(&url)
        .arg(&out)
        .output()
        .expect("run node");
    drop(server);
    assert!(
        result.status.success(),
        "browser run failed:\n{}\n{}",
        String::from_utf8_lossy(&result.stdout),
        String::from_utf8_lossy(&result.stderr)
    );
    for s in shots {
        let png = std::fs::read(out.join(s)).expect("screenshot written");
        assert!(png.starts_with(b"\x89PNG"), "{s} is a PNG");
    }
    println!("screenshots in {}", out.display());
}
