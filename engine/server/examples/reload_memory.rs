//! Measures memory across policy reloads, as `linewall serve` does them (compile and test
//! on a blocking thread, swap, evaluate on blocking threads in between):
//!
//! ```text
//! cargo run -p linewall-server --example reload_memory -- POLICY_DIR [RELOADS] [MESSAGES]
//! ```
//!
//! Prints, after each reload: resident memory, the allocator's bytes in use and the bytes
//! it holds (glibc `mallinfo2`), so live growth (something keeps old sets) can be told
//! apart from allocator retention (freed memory not given back).

use std::sync::Arc;

use linewall_engine::policy::LoadOptions;
use linewall_server::metrics::Metrics;
use linewall_server::state::{Guards, Policies, Source};

fn rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kb = status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|n| n.parse::<f64>().ok())
        .unwrap_or(0.0);
    kb / 1024.0
}

/// (bytes in use, bytes held from the OS) by malloc, in MiB.
#[allow(unsafe_code)]
fn heap_mib() -> (f64, f64) {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        // SAFETY: mallinfo2 only reads the allocator's statistics.
        let m = unsafe { libc::mallinfo2() };
        let mib = |b: usize| b as f64 / (1024.0 * 1024.0);
        (mib(m.uordblks + m.hblkhd), mib(m.arena + m.hblkhd))
    }
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    {
        (0.0, 0.0)
    }
}

fn main() {
    let mut args = std::env::args().skip(1);
    let dir = args.next().expect("usage: reload_memory POLICY_DIR [RELOADS] [MESSAGES]");
    let reloads: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(20);
    let messages: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(200);
    let runtime =
        tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    let options = LoadOptions { hash_key: Some(vec![7; 32]), ..LoadOptions::default() };
    let policies = Arc::new(
        Policies::new(Source::Path(dir.into()), options, Guards::default(), Arc::new(Metrics::default()))
            .expect("policies load"),
    );
    let texts = [
        "card 4111 1111 1111 1111 exp 12/29",
        "my ssn is 123-45-6789, call me at (415) 555-0100",
        "AKIAIOSFODNN7EXAMPLE and a note about nothing in particular",
        "hello, nothing to see here",
    ];
    let weak = Arc::downgrade(&policies.current());
    println!("reload rss_mib heap_in_use_mib heap_held_mib first_set_alive");
    let (u, h) = heap_mib();
    println!("0 {:.1} {:.1} {:.1} {}", rss_mib(), u, h, weak.upgrade().is_some());
    for i in 1..=reloads {
        runtime.block_on(async {
            policies.reload().await.expect("reload");
            let mut tasks = Vec::new();
            for j in 0..messages {
                let p = Arc::clone(&policies);
                let text = texts[j % texts.len()];
                tasks.push(tokio::task::spawn_blocking(move || {
                    let msg = linewall_engine::Message { text: text.to_owned(), ..Default::default() };
                    p.current().evaluate(&msg).action
                }));
            }
            for t in tasks {
                let _ = t.await;
            }
        });
        let (u, h) = heap_mib();
        println!("{i} {:.1} {:.1} {:.1} {}", rss_mib(), u, h, weak.upgrade().is_some());
    }
}
