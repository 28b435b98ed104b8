//! The agent inbox in a real headless browser (Debian chromium driven by playwright-core).
//! Needs chromium and `browser/node_modules`: run through `test-browser.sh`, which installs
//! them, so it is ignored by a plain `cargo test`.
#![allow(clippy::unwrap_used)]

mod common;

use std::path::PathBuf;
use std::process::Command;

use common::{Opts, Stack};

#[tokio::test]
#[ignore = "needs chromium and npm packages: run examples/whatsapp-gateway/test-browser.sh"]
async fn inbox_shows_the_notice_of_a_blocked_message_and_offers_templates_when_the_window_is_closed() {
    let s = Stack::start(Opts::default()).await;
    s.opted_in_contact("+16505551234", 60).await;
    s.opted_in_contact("+447700900123", 25 * 3600).await;
    let out = std::env::var("BROWSER_OUT").map(PathBuf::from).unwrap_or_else(|_| {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/whatsapp-gateway-browser")
    });
    std::fs::create_dir_all(&out).unwrap();
    let _ = std::fs::remove_file(out.join("inbox-blocked.png"));
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("browser/inbox.mjs");
    let url = s.url.clone();
    let outdir = out.clone();
    let result = tokio::task::spawn_blocking(move || {
        Command::new("node")
            .arg(script)
            .args([url.as_str(), "+16505551234", "+447700900123"])
            .arg(&outdir)
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    assert!(
        result.status.success(),
        "browser run failed:\n{}\n{}",
        String::from_utf8_lossy(&result.stdout),
        String::from_utf8_lossy(&result.stderr)
    );
    let png = std::fs::read(out.join("inbox-blocked.png")).unwrap();
    assert!(png.starts_with(b"\x89PNG"), "screenshot is a PNG");
    // What the browser did, seen from the providers: the card never left, the template did.
    let sent = s.sent().await;
    assert!(!sent.iter().any(|m| m.to_string().contains("4111")));
    assert!(sent.iter().any(|m| m["body"]["template"]["name"] == "appointment_reminder"));
    let archive = s.archive().await;
    assert!(
        archive.iter().any(|r| r["action"] == "block"
            && r["record"]["text"] == "Your card ***************1111 is active again")
    );
    println!("screenshots in {}", out.display());
}
