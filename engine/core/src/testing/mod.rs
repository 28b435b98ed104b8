//! The policies' own tests (`tests:`), each run against its policy alone, and the
//! built-in detectors' examples, both through [`PolicySet::evaluate`]. A consumer of
//! both stages: it compiles (`policy`) and evaluates (`eval`).

pub mod catalogue;

use std::collections::BTreeSet;

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
    diffs
}

impl PolicySet {
    /// Runs every policy's `tests` (each against that policy alone, plus the built-in
    /// detectors) and every built-in detector's examples.
    pub fn run_tests(&self) -> TestReport {
        let mut report = TestReport::default();
        for (doc, source) in &self.docs {
            let d = &doc.value;
            if d.spec.tests.is_empty() {
                continue;
            }
            let policy = d.metadata.name.value.clone();
            let mut errors = Vec::new();
            let alone = crate::policy::compile::compile(
                vec![(doc.clone(), source.clone())],
                &self.options,
                &mut errors,
            );
            let Some(alone) = alone else {
                report.cases.push(TestCase {
                    policy,
                    name: String::from("<compile>"),
                    passed: false,
                    failure: Some(crate::policy::Diagnostics { errors }.to_string()),
                });
                continue;
            };
            for t in &d.spec.tests {
                let verdict = alone.evaluate(&t.message);
                let diffs = compare(&t.expect, &t.message, &verdict);
                report.cases.push(TestCase {
                    policy: policy.clone(),
                    name: t.name.value.clone(),
                    passed: diffs.is_empty(),
                    failure: (!diffs.is_empty()).then(|| {
                        format!("{}:{}:{}: {}", source.name, t.name.line, t.name.column, diffs.join("; "))
                    }),
                });
            }
        }
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
            report.cases.push(TestCase {
                policy: String::from("builtin"),
                name: format!("{} examples", spec.id),
                passed: failures.is_empty(),
                failure: (!failures.is_empty()).then(|| failures.join("; ")),
            });
        }
        report
    }
}
