//! The policies' own tests (`tests:`), each run against its policy alone, and the
//! built-in detectors' examples, both through [`PolicySet::evaluate`]. A consumer of
//! every stage: it loads ([`crate::load`]: `policy`, then examples) and evaluates (`eval`).

pub mod catalogue;

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::eval::EvalContext;
use crate::load::LoadedSet;
use crate::policy::PolicySet;
use crate::policy::model::Expect;
use crate::verdict::Verdict;

/// One test case and its outcome.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct TestCase {
    /// Policy name (`builtin` for built-in detector examples).
    pub policy: String,
    /// Test name.
    pub name: String,
    /// Whether it passed.
    pub passed: bool,
    /// What differed, when it failed.
    pub failure: Option<String>,
    /// The policy file the test is written in (`None` for built-in examples).
    pub file: Option<String>,
    /// 1-based line of the test's `name` (0 when unknown).
    pub line: u32,
    /// 1-based column of the test's `name` (0 when unknown).
    pub column: u32,
}

/// Outcome of every test of a policy set.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct TestReport {
    /// Cases in file order.
    pub cases: Vec<TestCase>,
}

impl TestReport {
    /// Number of failed cases.
    pub fn failed(&self) -> usize {
        self.cases.iter().filter(|c| !c.passed).count()
    }

    /// Number of passed cases.
    pub fn passed(&self) -> usize {
        self.cases.iter().filter(|c| c.passed).count()
    }
}

fn set_of(v: &[String]) -> BTreeSet<&str> {
    v.iter().map(String::as_str).collect()
}

/// Compares a verdict with an expectation; returns every difference.
pub fn compare(expect: &Expect, sent: &crate::Message, v: &Verdict) -> Vec<String> {
    let mut diffs = Vec::new();
    if let Some(a) = expect.action
        && a != v.action
    {
        diffs.push(format!("action: expected `{}`, got `{}`", a.as_str(), v.action.as_str()));
    }
    if let Some(rules) = &expect.rules {
        let got: BTreeSet<&str> = v.matched.iter().map(|m| m.rule.as_str()).collect();
        if set_of(rules) != got {
            diffs.push(format!("rules: expected {:?}, got {:?}", set_of(rules), got));
        }
    }
    if let Some(dets) = &expect.detectors {
        let got: BTreeSet<&str> = v.findings.iter().map(|f| f.detector.as_str()).collect();
        if set_of(dets) != got {
            diffs.push(format!("detectors: expected {:?}, got {:?}", set_of(dets), got));
        }
    }
    if let Some(alerts) = &expect.alerts {
        let got: BTreeSet<&str> = v.alerts.iter().map(|a| a.rule.as_str()).collect();
        if set_of(alerts) != got {
            diffs.push(format!("alerts: expected {:?}, got {:?}", set_of(alerts), got));
        }
    }
    if let Some(text) = &expect.delivered_text {
        // An allowed message is delivered as sent.
        let got = match (&v.delivered, v.action) {
            (Some(d), _) => Some(d.text.as_str()),
            (None, crate::verdict::Action::Allow) => Some(sent.text.as_str()),
            (None, _) => None,
        };
        if got != Some(text.as_str()) {
            diffs.push(format!("delivered_text: expected {text:?}, got {got:?}"));
        }
    }
    if let Some(text) = &expect.record_text
        && *text != v.record.text
    {
        diffs.push(format!("record_text: expected {text:?}, got {:?}", v.record.text));
    }
    if let Some(n) = &expect.notice
        && Some(n) != v.notice.as_ref()
    {
        diffs.push(format!("notice: expected {n:?}, got {:?}", v.notice));
    }
    if let Some(split) = expect.split {
        let got = v.findings.iter().any(|f| !f.parts.is_empty());
        if got != split {
            diffs.push(format!("split: expected {split}, got {got}"));
        }
    }
    diffs
}

/// Judges `earlier` then `message` as one conversation (each given the test
/// conversation id unless it names one) and returns the last verdict.
fn in_conversation(set: &PolicySet, earlier: &[crate::Message], message: &crate::Message) -> Verdict {
    use crate::conversation::{Config, Conversations};
    let conv = Conversations::in_memory(Config::default(), 16);
    let at = std::time::SystemTime::now();
    let with_id = |m: &crate::Message| {
        let mut m = m.clone();
        if m.conversation_id.is_empty() {
            m.conversation_id = String::from("policy-test");
        }
        m
    };
    for m in earlier {
        conv.evaluate_at(set, &with_id(m), at);
    }
    conv.evaluate_at(set, &with_id(message), at)
}

/// A test run stopped because its caller raised the cancel flag (see
/// [`LoadedSet::run_tests_until`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("policy tests abandoned after {run} of {total}")]
pub struct TestsAbandoned {
    /// Policy tests run to completion before the flag was seen.
    pub run: usize,
    /// Policy tests in the set.
    pub total: usize,
}

impl LoadedSet {
    /// Runs every policy's `tests` (each against that policy alone, plus the built-in
    /// detectors) and every built-in detector's examples.
    pub fn run_tests(&self) -> TestReport {
        let never = AtomicBool::new(false);
        // The flag is never raised, so the run is never abandoned.
        self.run_tests_until(&never).unwrap_or_default()
    }

    /// Runs the tests like [`LoadedSet::run_tests`], but stops as soon as it sees `cancel`
    /// raised (checked before each policy's compilation and each test, and inside a
    /// test's evaluation), so a caller that gave up on a slow run (a reload past its
    /// time limit) does not leave it burning a core.
    pub fn run_tests_until(&self, cancel: &AtomicBool) -> Result<TestReport, TestsAbandoned> {
        let total = self.docs().iter().map(|(d, _)| d.value.spec.tests.len()).sum();
        let mut run = 0;
        let abandoned = |run| TestsAbandoned { run, total };
        let mut report = TestReport::default();
        for (doc, source) in self.docs() {
            let d = &doc.value;
            if d.spec.tests.is_empty() {
                continue;
            }
            if cancel.load(Ordering::Relaxed) {
                return Err(abandoned(run));
            }
            let policy = d.metadata.name.value.clone();
            let mut errors = Vec::new();
            let alone =
                crate::load::compile_checked(&[(doc.clone(), source.clone())], self.options(), &mut errors);
            let Some(alone) = alone else {
                report.cases.push(TestCase {
                    policy,
                    name: String::from("<compile>"),
                    passed: false,
                    failure: Some(crate::policy::Diagnostics { errors }.to_string()),
                    file: Some(source.name.clone()),
                    line: doc.value.metadata.name.line,
                    column: doc.value.metadata.name.column,
                });
                continue;
            };
            for t in &d.spec.tests {
                if cancel.load(Ordering::Relaxed) {
                    return Err(abandoned(run));
                }
                let verdict = if t.earlier.is_empty() {
                    let cx = EvalContext { cancel: Some(cancel), ..EvalContext::now() };
                    alone.try_evaluate_with(&t.message, cx).map_err(|_| abandoned(run))?
                } else {
                    in_conversation(&alone, &t.earlier, &t.message)
                };
                run += 1;
                let diffs = compare(&t.expect, &t.message, &verdict);
                report.cases.push(TestCase {
                    policy: policy.clone(),
                    name: t.name.value.clone(),
                    passed: diffs.is_empty(),
                    failure: (!diffs.is_empty()).then(|| {
                        format!("{}:{}:{}: {}", source.name, t.name.line, t.name.column, diffs.join("; "))
                    }),
                    file: Some(source.name.clone()),
                    line: t.name.line,
                    column: t.name.column,
                });
            }
        }
        if cancel.load(Ordering::Relaxed) {
            return Err(abandoned(run));
        }
        report.cases.extend(builtin_example_cases());
        Ok(report)
    }
}

/// The built-in detectors' example cases (one per detector, or one `<compile>` failure).
///
/// They depend on the binary alone (and on the OS services detectors use), so once every
/// case has passed the result is kept for the process and not run again. Running them at
/// every reload was the memory growth of a long-running server: each run on a thread the
/// built-in regexes had not seen filled a fresh set of their lazy-DFA caches (kept by the
/// regexes' per-thread pools for as long as the process lives), about 15 MB a reload.
/// A failed run is not kept: the next load runs them again.
fn builtin_example_cases() -> Vec<TestCase> {
    static PASSED: std::sync::OnceLock<Vec<TestCase>> = std::sync::OnceLock::new();
    if let Some(cases) = PASSED.get() {
        return cases.clone();
    }
    let cases = run_builtin_examples();
    if cases.iter().all(|c| c.passed) {
        let _ = PASSED.set(cases.clone());
    }
    cases
}

/// Runs every built-in detector's examples and negative examples through the catalogue.
fn run_builtin_examples() -> Vec<TestCase> {
    if let Err(e) = catalogue::builtin_catalogue() {
        return vec![TestCase {
            policy: String::from("builtin"),
            name: String::from("<compile>"),
            passed: false,
            failure: Some(e.to_owned()),
            file: None,
            line: 0,
            column: 0,
        }];
    }
    let mut cases = Vec::new();
    for spec in crate::detect::builtin::all() {
        let mut failures = Vec::new();
        for ex in spec.examples {
            if catalogue::builtin_findings(spec.id, ex).unwrap_or_default().is_empty() {
                failures.push(format!("example {ex:?} produces no finding"));
            }
        }
        for ex in spec.negative_examples {
            if !catalogue::builtin_findings(spec.id, ex).unwrap_or_default().is_empty() {
                failures.push(format!("negative example {ex:?} produces a finding"));
            }
        }
        cases.push(TestCase {
            policy: String::from("builtin"),
            name: format!("{} examples", spec.id),
            passed: failures.is_empty(),
            failure: (!failures.is_empty()).then(|| failures.join("; ")),
            file: None,
            line: 0,
            column: 0,
        });
    }
    cases
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicBool;

    use super::TestsAbandoned;
    use crate::load::LoadedSet;
    use crate::policy::{LoadOptions, PolicySource};

    fn with_tests(n: usize) -> LoadedSet {
        let mut text = String::from(
            "apiVersion: linewall/v1\nkind: Policy\nmetadata: {name: words}\nspec:\n  detectors:\n    - {id: w, terms: [bananas]}\n  rules:\n    - id: block-word\n      when: {detectors: {any: [{id: w}]}}\n      action: block\n  tests:\n",
        );
        for i in 0..n {
            text.push_str(&format!(
                "    - name: t{i}\n      message: {{text: \"bananas {i}\"}}\n      expect: {{action: block}}\n"
            ));
        }
        let source = PolicySource { name: String::from("p.yaml"), text, base_dir: None };
        let options = LoadOptions { hash_key: Some(vec![7; 32]), ..LoadOptions::default() };
        LoadedSet::load_sources(vec![source], &options).expect("loads")
    }

    #[test]
    fn a_raised_cancel_flag_stops_the_test_run() {
        let set = with_tests(5);
        let report = set.run_tests_until(&AtomicBool::new(false)).expect("not cancelled");
        assert_eq!(report.cases.iter().filter(|c| c.policy == "words").count(), 5);
        assert_eq!(report.failed(), 0);
        assert_eq!(
            set.run_tests_until(&AtomicBool::new(true)).map(|r| r.cases.len()),
            Err(TestsAbandoned { run: 0, total: 5 })
        );
    }
}
