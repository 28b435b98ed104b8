//! `linewall lint`: load and validate, report every error with its position.

use std::path::Path;

use crate::report::{self, Format, Outcome};

/// Runs the command; returns the exit code (2 when the set does not load).
pub fn run(dir: Option<&Path>, format: Format) -> u8 {
    let set = match crate::load::policies_checked(dir) {
        Ok(loaded) => loaded.into_set(),
        Err(diagnostics) => {
            let o = Outcome { command: "lint", diagnostics: &diagnostics, tests: None, policy_version: None };
            match format {
                Format::Text => crate::load::print_diagnostics(&diagnostics),
                f => println!("{}", report::render(f, &o)),
            }
            return 2;
        }
    };
    let policies = set.policies();
    if format != Format::Text {
        let o =
            Outcome { command: "lint", diagnostics: &[], tests: None, policy_version: Some(set.version()) };
        println!("{}", report::render(format, &o));
        return 0;
    }
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
