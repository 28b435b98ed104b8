//! `linewall test`: run every policy's tests and every detector's examples.

use std::path::Path;

use crate::report::{self, Format, Outcome};

/// Runs the command; returns the exit code (1 when a test fails, 2 when the set does
/// not load).
pub fn run(dir: Option<&Path>, quiet: bool, format: Format) -> u8 {
    let loaded = match crate::load::policies_checked(dir) {
        Ok(loaded) => loaded,
        Err(diagnostics) => {
            let o = Outcome { command: "test", diagnostics: &diagnostics, tests: None, policy_version: None };
            match format {
                Format::Text => crate::load::print_diagnostics(&diagnostics),
                f => println!("{}", report::render(f, &o)),
            }
            return 2;
        }
    };
    let report = loaded.run_tests();
    if format != Format::Text {
        let o = Outcome {
            command: "test",
            diagnostics: &[],
            tests: Some(&report),
            policy_version: Some(loaded.set().version()),
        };
        println!("{}", report::render(format, &o));
        return u8::from(report.failed() > 0);
    }
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
