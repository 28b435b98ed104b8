//! `linewall lint`: load and validate, report every error with its position.

use std::path::Path;

/// Runs the command; returns the exit code.
pub fn run(dir: Option<&Path>) -> u8 {
    let Some(set) = crate::load::policies_or_report(dir) else {
        return 2;
    };
    let policies = set.policies();
    let rules: usize = policies.iter().map(|p| p.rules).sum();
    let tests: usize = policies.iter().map(|p| p.tests).sum();
    println!(
        "ok: {} policies, {} rules, {} tests; policy_version {}",
        policies.len(),
        rules,
        tests,
        set.version()
    );
    0
}
