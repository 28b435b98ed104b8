//! Circuit breaker: a plugin that keeps failing is skipped for a while.
//!
//! After `failures` consecutive failed calls the breaker opens: calls fail at once with
//! `circuit_open` (the rule's `on_error` applies) instead of paying for another trap or
//! timeout. When the backoff has passed, calls are let through again; the next failure
//! re-opens it with twice the backoff, a success closes it and resets the backoff.

use std::sync::atomic::{AtomicU32, AtomicU64, Ordering::Relaxed};
use std::time::Instant;

/// Breaker state of one plugin detector.
#[derive(Debug)]
pub struct Breaker {
    epoch: Instant,
    threshold: u32,
    min_backoff_ms: u64,
    max_backoff_ms: u64,
    consecutive: AtomicU32,
    open_until_ms: AtomicU64,
    backoff_ms: AtomicU64,
}

/// What a failure did to the breaker.
#[derive(Debug, PartialEq, Eq)]
pub enum Trip {
    /// Still closed (or already open).
    No,
    /// Just opened, for this many milliseconds.
    Opened(u64),
}

impl Breaker {
    /// A closed breaker.
    pub fn new(threshold: u32, min_backoff_ms: u64, max_backoff_ms: u64) -> Self {
        Breaker {
            epoch: Instant::now(),
            threshold: threshold.max(1),
            min_backoff_ms,
            max_backoff_ms: max_backoff_ms.max(min_backoff_ms),
            consecutive: AtomicU32::new(0),
            open_until_ms: AtomicU64::new(0),
            backoff_ms: AtomicU64::new(min_backoff_ms),
        }
    }

    fn now_ms(&self) -> u64 {
        self.epoch.elapsed().as_millis() as u64
    }

    /// Whether calls are refused now.
    pub fn is_open(&self) -> bool {
        let until = self.open_until_ms.load(Relaxed);
        until != 0 && self.now_ms() < until
    }

    /// Records a successful call.
    pub fn success(&self) {
        if self.consecutive.load(Relaxed) != 0 {
            self.consecutive.store(0, Relaxed);
        }
        if self.open_until_ms.load(Relaxed) != 0 {
            self.open_until_ms.store(0, Relaxed);
            self.backoff_ms.store(self.min_backoff_ms, Relaxed);
        }
    }

    /// Records a failed call.
    pub fn failure(&self) -> Trip {
        let n = self.consecutive.fetch_add(1, Relaxed) + 1;
        let reopening = self.open_until_ms.load(Relaxed) != 0;
        if n < self.threshold && !reopening {
            return Trip::No;
        }
        if self.is_open() {
            return Trip::No;
        }
        let backoff = if reopening {
            let b = (self.backoff_ms.load(Relaxed) * 2).min(self.max_backoff_ms);
            self.backoff_ms.store(b, Relaxed);
            b
        } else {
            self.backoff_ms.load(Relaxed)
        };
        self.open_until_ms.store(self.now_ms() + backoff.max(1), Relaxed);
        self.consecutive.store(0, Relaxed);
        Trip::Opened(backoff)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opens_after_threshold_and_closes_on_success() {
        let b = Breaker::new(3, 60_000, 120_000);
        assert_eq!(b.failure(), Trip::No);
        assert_eq!(b.failure(), Trip::No);
        assert!(!b.is_open());
        assert_eq!(b.failure(), Trip::Opened(60_000));
        assert!(b.is_open());
        b.success();
        assert!(!b.is_open());
    }

    #[test]
    fn a_failure_after_the_backoff_reopens_with_double_backoff() {
        let b = Breaker::new(1, 1, 100);
        assert_eq!(b.failure(), Trip::Opened(1));
        std::thread::sleep(std::time::Duration::from_millis(5));
        assert!(!b.is_open());
        assert_eq!(b.failure(), Trip::Opened(2));
    }
}
