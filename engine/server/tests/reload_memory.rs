//! Hot reloads do not make the server grow: a 600 s soak showed about +14 MB of resident
//! memory per accepted reload, never given back. The cause was the reload's test run: it
//! ran every built-in detector's examples again, and on a thread the built-in regexes
//! had not served before that filled a fresh set of lazy-DFA caches, kept by the regexes'
//! per-thread pools for the life of the process. Now the examples run once per process
//! and every load runs on the server's one load thread. Here every reload is asked for
//! from a fresh thread (as a reload from a new blocking thread would be) and the heap's
//! live bytes are counted.
//!
//! One test in this file: the counter is process-wide.

use std::alloc::{GlobalAlloc, Layout, System};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicIsize, Ordering::Relaxed};

use linewall_engine::policy::LoadOptions;
use linewall_server::metrics::Metrics;
use linewall_server::state::{Guards, Policies, Source};

struct Counting;

/// Bytes allocated and not yet freed.
static LIVE: AtomicIsize = AtomicIsize::new(0);

fn signed(n: usize) -> isize {
    isize::try_from(n).unwrap_or(isize::MAX)
}

// SAFETY: forwards every call to the system allocator unchanged; only counts bytes.
#[allow(unsafe_code)]
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: same contract as the caller's.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            LIVE.fetch_add(signed(layout.size()), Relaxed);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) };
        LIVE.fetch_sub(signed(layout.size()), Relaxed);
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: same contract as the caller's.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            LIVE.fetch_add(signed(new_size) - signed(layout.size()), Relaxed);
        }
        p
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Reloads `policies` from a new OS thread with a runtime of its own, so the reload's
/// blocking task runs on a thread nothing ran on before.
fn reload_on_a_fresh_thread(policies: &Arc<Policies>) {
    let p = Arc::clone(policies);
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
        rt.block_on(p.reload()).map(drop).map_err(|e| e.to_string())
    })
    .join()
    .expect("reload thread")
    .expect("reload accepted");
}

#[test]
fn reloads_free_the_old_sets_and_do_not_grow_the_heap() {
    let dir = std::env::temp_dir().join(format!("linewall-reload-memory-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    let packs = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../policies");
    for p in ["pci.yaml", "secrets.yaml", "pii-us.yaml"] {
        std::fs::copy(packs.join(p), dir.join(p)).expect("copy pack");
    }
    let options = LoadOptions { hash_key: Some(vec![7; 32]), ..LoadOptions::default() };
    let policies = Arc::new(
        Policies::new(Source::Path(dir.clone()), options, Guards::default(), Arc::new(Metrics::default()))
            .expect("the packs load"),
    );
    let first = Arc::downgrade(&policies.current());
    // Warm-up: whatever a first reload builds once per process.
    reload_on_a_fresh_thread(&policies);
    reload_on_a_fresh_thread(&policies);
    let before = LIVE.load(Relaxed);
    // More reloads than the regex pools have per-thread stacks (8): before the fix each
    // of the first eight filled a new ~15 MB set of caches.
    let reloads = 12;
    for _ in 0..reloads {
        reload_on_a_fresh_thread(&policies);
    }
    let grown = LIVE.load(Relaxed) - before;
    eprintln!("heap grew by {} KiB over {reloads} reloads", grown >> 10);
    let _ = std::fs::remove_dir_all(&dir);
    assert!(first.upgrade().is_none(), "the first policy set is still alive after {reloads} reloads");
    // The compiled set is replaced, not added to (measured: a few KiB over 12 reloads;
    // 90 MB before the fix).
    assert!(grown < 4 << 20, "the heap grew by {} MB over {reloads} reloads", grown >> 20);
}
