//! `linewall test`: run every policy's tests and every detector's examples.

use std::path::Path;

/// Runs the command; returns the exit code.
pub fn run(dir: Option<&Path>, quiet: bool) -> u8 {
    let Some(set) = crate::load::policies_or_report(dir) else {
        return 2;
    };
    let report = set.run_tests();
    for case in &report.cases {
        match &case.failure {
            None if !quiet => println!("ok    {} / {}", case.policy, case.name),
            None => {}
            Some(why) => println!("FAIL  {} / {}\n      {why}", case.policy, case.name),
        }
    }
    println!("{} passed, {} failed", report.passed(), report.failed());
    u8::from(report.failed() > 0)
}
