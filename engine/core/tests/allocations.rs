//! Evaluation allocates a small, bounded number of times: the compiled set and the
//! per-thread scratch buffers do the work, and a verdict costs a few allocations plus a
//! few per finding. A change that brings back per-call compilation or per-byte
//! allocation fails here.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};

use linewall_engine::Message;
use linewall_engine::message::Direction;
use linewall_engine::policy::PolicySet;

struct Counting;

static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

// SAFETY: forwards every call to the system allocator unchanged; only counts.
#[allow(unsafe_code)]
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Relaxed);
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Relaxed);
        // SAFETY: same contract as the caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Allocations (and reallocations) of one evaluation, after a warm-up evaluation.
fn allocations(set: &PolicySet, msg: &Message) -> usize {
    let _ = set.evaluate(msg);
    let before = ALLOCATIONS.load(Relaxed);
    let verdict = set.evaluate(msg);
    let n = ALLOCATIONS.load(Relaxed) - before;
    drop(verdict);
    n
}

/// Business prose with nothing to find (cut to 300 bytes below).
const PROSE: &str = "Thanks for your message. I have looked at the portfolio review you asked about and \
    the allocation looks fine for now. We can talk through the rebalancing options at our next meeting; \
    let me know which afternoon suits you best and I will send an invite. The market update is attached \
    as usual, and the letter goes.";

#[test]
fn a_300_byte_message_allocates_a_bounded_small_number_of_times() {
    let set = PolicySet::builtin(&Default::default()).expect("packs");
    let clean_300 = &PROSE[..300];
    let clean = Message::text(clean_300);
    assert!(set.evaluate(&clean).findings.is_empty());
    let n = allocations(&set, &clean);
    println!("clean 300 B: {n} allocations");
    assert!(n <= 8, "a clean 300-byte message took {n} allocations");

    // Same length, one card number: blocked outbound, so findings, matched rules, a
    // notice, an alert and a redacted archive copy are built.
    let with_card = format!("{}card 4111 1111 1111 1111", &PROSE[..276]);
    let mut msg = Message::text(&with_card);
    msg.direction = Direction::Outbound;
    let v = set.evaluate(&msg);
    assert_eq!(v.findings.len(), 1, "{:?}", v.findings);
    let n = allocations(&set, &msg);
    println!("300 B with a card: {n} allocations");
    assert!(n <= 40, "a 300-byte message with one finding took {n} allocations");
}
