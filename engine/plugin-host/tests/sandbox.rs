//! The hostile-plugin suite: every way a plugin can misbehave is stopped, reported in the
//! verdict's `errors`, answered with the rule's `on_error`, and leaves the host serving.

mod common;

use std::time::Instant;

use common::{host, load_with, plugin, policy};
use linewall_engine::Message;
use linewall_engine::policy::PolicySet;
use linewall_engine::verdict::{Action, Verdict};
use linewall_plugin_host::{Limits, WasmHost};

fn hostile(extra: &str) -> (PolicySet, WasmHost) {
    let h = host();
    let set = load_with(&policy(&plugin("hostile"), extra), &h).expect("loads");
    (set, h)
}

/// Evaluates `text`; returns the verdict and the error kind reported for detector `p`.
fn run(set: &PolicySet, text: &str) -> (Verdict, Option<String>) {
    let v = set.evaluate(&Message::text(text));
    let kind = v
        .errors
        .iter()
        .find(|e| e.detector == "p")
        .map(|e| e.error.split(':').next().unwrap_or("").to_string());
    (v, kind)
}

fn assert_benign_still_works(set: &PolicySet) {
    let (v, kind) = run(set, "raise the flag");
    assert_eq!(kind, None, "{:?}", v.errors);
    assert_eq!(v.action, Action::Block);
    assert_eq!(v.findings.len(), 1);
    let (v, _) = run(set, "nothing to see");
    assert_eq!(v.action, Action::Allow);
}

#[test]
fn each_attack_is_stopped_reported_and_fails_closed() {
    let (set, _h) = hostile("");
    for (trigger, kind) in [
        ("!loop", "out_of_fuel"),
        ("!oom", "memory"),
        ("!recurse", "trap"),
        ("!panic", "trap"),
        ("!huge", "invalid_output"),
        ("!oob", "invalid_output"),
        ("!split é", "invalid_output"),
    ] {
        let started = Instant::now();
        let (v, got) = run(&set, &format!("please {trigger} now"));
        // A liveness bound, not a benchmark: an unstopped plugin would hang here.
        let took = started.elapsed();
        assert!(took.as_secs() < 10, "{trigger} was not stopped");
        println!("{trigger}: stopped after {took:?} ({got:?})");
        assert_eq!(got.as_deref(), Some(kind), "{trigger}: {:?}", v.errors);
        assert_eq!(v.action, Action::Block, "{trigger}: on_error defaults to block");
        assert_eq!(v.errors[0].on_error, Action::Block);
        assert!(!v.errors[0].error.contains(trigger), "the error quotes the message: {}", v.errors[0].error);
        assert_benign_still_works(&set);
    }
}

#[test]
fn on_error_allow_fails_open_but_still_reports() {
    let (set, _h) = hostile("        on_error: allow\n");
    let (v, kind) = run(&set, "!panic");
    assert_eq!(kind.as_deref(), Some("trap"));
    assert_eq!(v.action, Action::Allow);
    assert_eq!(v.errors[0].on_error, Action::Allow);
}

#[test]
fn the_wall_clock_budget_stops_a_plugin_that_fuel_would_not() {
    // Fuel high enough that only the epoch deadline (timeout_ms) can stop `!spin`.
    let h = WasmHost::new(Limits { fuel_base: u64::MAX / 4, ..Limits::default() }).expect("host");
    let set = load_with(&policy(&plugin("hostile"), "        timeout_ms: 20\n"), &h).expect("loads");
    let started = Instant::now();
    let (v, kind) = run(&set, "!spin");
    let took = started.elapsed();
    assert!(took.as_secs() < 10);
    println!("!spin with timeout_ms 20: stopped after {took:?}");
    assert_eq!(kind.as_deref(), Some("timeout"), "{:?}", v.errors);
    assert_eq!(v.action, Action::Block);
    assert_benign_still_works(&set);
}

#[test]
fn a_trapped_instance_is_replaced_by_a_fresh_one() {
    let (set, h) = hostile("");
    // `!count` reports how many calls this instance has served as the span's length.
    let count = |set: &PolicySet| {
        let v = set.evaluate(&Message::text("!count 0123456789"));
        v.findings[0].end
    };
    let first = count(&set);
    assert_eq!(count(&set), first + 1, "instances are reused between calls");
    run(&set, "!panic");
    assert_eq!(count(&set), 1, "after a trap the next call runs on a fresh instance");
    let stats = &h.plugin_stats()[0];
    assert_eq!(stats.detector, "p");
    assert!(stats.instances_created >= 2);
}

#[test]
fn instances_are_recycled_after_their_call_quota() {
    let h = WasmHost::new(Limits { calls_per_instance: 3, ..Limits::default() }).expect("host");
    let set = load_with(&policy(&plugin("hostile"), ""), &h).expect("loads");
    let counts: Vec<usize> =
        (0..7).map(|_| set.evaluate(&Message::text("!count 0123456789")).findings[0].end).collect();
    // The load-time instance ran `init` only, so the first one serves calls 1..=3.
    assert_eq!(counts, [1, 2, 3, 1, 2, 3, 1]);
}

#[test]
fn a_plugin_that_keeps_failing_trips_the_breaker() {
    let h = WasmHost::new(Limits { breaker_failures: 3, breaker_backoff_ms: 60_000, ..Limits::default() })
        .expect("host");
    let set = load_with(&policy(&plugin("hostile"), ""), &h).expect("loads");
    for _ in 0..3 {
        assert_eq!(run(&set, "!loop").1.as_deref(), Some("out_of_fuel"));
    }
    // Open: even a benign message is not run, and fails closed.
    let (v, kind) = run(&set, "raise the flag");
    assert_eq!(kind.as_deref(), Some("circuit_open"));
    assert_eq!(v.action, Action::Block);
    let s = &h.plugin_stats()[0];
    assert_eq!(s.breaker_trips, 1);
    assert!(s.breaker_open);
    assert_eq!(s.failures.iter().find(|(k, _)| k.as_str() == "out_of_fuel").map(|x| x.1), Some(3));
}

#[test]
fn fuel_is_deterministic() {
    let (set, h) = hostile("");
    let fuel = || h.plugin_stats()[0].fuel_consumed;
    let text = "raise the flag twice: flag";
    let before = fuel();
    run(&set, text);
    let once = fuel() - before;
    run(&set, text);
    assert_eq!(fuel() - before - once, once, "the same message costs the same fuel");
    assert!(once > 0);
}

#[test]
fn concurrent_callers_are_isolated_from_a_hostile_neighbour() {
    let h = WasmHost::new(Limits { breaker_failures: u32::MAX, ..Limits::default() }).expect("host");
    let set = load_with(&policy(&plugin("hostile"), ""), &h).expect("loads");
    std::thread::scope(|s| {
        for t in 0..4 {
            let set = &set;
            s.spawn(move || {
                for i in 0..200 {
                    if (i + t) % 4 == 0 {
                        let (v, kind) = run(set, ["!loop", "!panic", "!oom", "!oob"][t]);
                        assert!(kind.is_some());
                        assert_eq!(v.action, Action::Block);
                    } else {
                        let (v, kind) = run(set, "flag and flag");
                        assert_eq!(kind, None);
                        assert_eq!(v.findings.len(), 2);
                    }
                }
            });
        }
    });
}

#[test]
fn a_failing_init_is_a_load_error_with_the_plugins_reason() {
    let err = load_with(&policy(&plugin("hostile"), "        config: {fail_init: true}\n"), &host())
        .expect_err("init fails");
    assert!(err.contains("sandbox.yaml:8:17"), "{err}");
    assert!(err.contains("init failed") && err.contains("fail_init is set"), "{err}");
}
