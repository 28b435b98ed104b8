//! Output formats of `lint` and `test`: text for people, JSON for scripts, JUnit XML for CI
//! dashboards and SARIF 2.1.0 for code-scanning UIs.

use linewall_engine::policy::{Diagnostic, Severity};
use linewall_engine::testing::TestReport;
use quick_xml::escape::escape;
use serde_json::{Value, json};

/// How `lint` and `test` print their results.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Format {
    /// Diagnostics with their source snippet; one line per test.
    #[default]
    Text,
    /// One JSON document.
    Json,
    /// JUnit XML.
    Junit,
    /// SARIF 2.1.0.
    Sarif,
}

/// What a `lint` or `test` run produced.
pub struct Outcome<'a> {
    /// `lint` or `test`.
    pub command: &'a str,
    /// Load errors (the set did not load when any).
    pub diagnostics: &'a [Diagnostic],
    /// Test results, when the set loaded and `test` ran.
    pub tests: Option<&'a TestReport>,
    /// Version of the loaded set.
    pub policy_version: Option<&'a str>,
}

/// The output for a machine-readable `format` (not `Text`).
pub fn render(format: Format, o: &Outcome<'_>) -> String {
    match format {
        Format::Text => String::new(),
        Format::Json => serde_json::to_string_pretty(&to_json(o)).unwrap_or_default(),
        Format::Junit => junit(o),
        Format::Sarif => serde_json::to_string_pretty(&sarif(o)).unwrap_or_default(),
    }
}

fn to_json(o: &Outcome<'_>) -> Value {
    let errors = o.diagnostics.iter().filter(|d| d.severity == Severity::Error).count();
    let mut v = json!({
        "command": o.command,
        "ok": errors == 0 && o.tests.is_none_or(|t| t.failed() == 0),
        "policy_version": o.policy_version,
        "diagnostics": o.diagnostics,
    });
    if let Some(t) = o.tests {
        v["tests"] = json!({"passed": t.passed(), "failed": t.failed(), "cases": t.cases});
    }
    v
}

/// `file:line:column` of a diagnostic (just the file when it has no position).
fn place(d: &Diagnostic) -> String {
    match &d.span {
        Some(s) => format!("{}:{}:{}", d.file, s.start.line, s.start.column),
        None => d.file.clone(),
    }
}

fn junit(o: &Outcome<'_>) -> String {
    let mut cases = String::new();
    let mut failures = 0;
    let mut count = 0;
    for d in o.diagnostics {
        count += 1;
        failures += 1;
        let name = format!("{} {}", place(d), d.code.as_str());
        cases.push_str(&format!(
            "    <testcase classname=\"{}\" name=\"{}\">\n      <failure type=\"{}\" message=\"{}\">{}</failure>\n    </testcase>\n",
            escape(format!("{}.{}", o.command, d.file)),
            escape(name),
            d.code.as_str(),
            escape(d.message.as_str()),
            escape(d.render()),
        ));
    }
    if let Some(t) = o.tests {
        for c in &t.cases {
            count += 1;
            let head = format!(
                "    <testcase classname=\"{}\" name=\"{}\"",
                escape(format!("{}.{}", o.command, c.policy)),
                escape(c.name.as_str())
            );
            match &c.failure {
                None => cases.push_str(&format!("{head}/>\n")),
                Some(f) => {
                    failures += 1;
                    cases.push_str(&format!(
                        "{head}>\n      <failure type=\"test\" message=\"{}\">{}</failure>\n    </testcase>\n",
                        escape(first_line(f)),
                        escape(f.as_str())
                    ));
                }
            }
        }
    }
    if count == 0 {
        // A clean lint is one passing case, so dashboards show the run.
        count = 1;
        cases.push_str(&format!(
            "    <testcase classname=\"{}\" name=\"policies load\"/>\n",
            escape(o.command)
        ));
    }
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"linewall {cmd}\" tests=\"{count}\" failures=\"{failures}\">\n  <testsuite name=\"linewall {cmd}\" tests=\"{count}\" failures=\"{failures}\" errors=\"0\">\n{cases}  </testsuite>\n</testsuites>",
        cmd = escape(o.command),
    )
}

fn first_line(s: &str) -> &str {
    s.lines().next().unwrap_or("")
}

fn sarif(o: &Outcome<'_>) -> Value {
    let mut rules: Vec<&str> = o.diagnostics.iter().map(|d| d.code.as_str()).collect();
    let mut results: Vec<Value> = o.diagnostics.iter().map(sarif_result).collect();
    if let Some(t) = o.tests {
        for c in t.cases.iter().filter(|c| !c.passed) {
            rules.push("test-failed");
            let mut r = json!({
                "ruleId": "test-failed",
                "level": "error",
                "message": {"text": format!("test `{}` / `{}` failed: {}", c.policy, c.name, c.failure.as_deref().unwrap_or(""))},
            });
            if let Some(file) = &c.file {
                r["locations"] = json!([{"physicalLocation": {
                    "artifactLocation": {"uri": file},
                    "region": {"startLine": c.line.max(1), "startColumn": c.column.max(1)},
                }}]);
            }
            results.push(r);
        }
    }
    rules.sort_unstable();
    rules.dedup();
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "linewall",
                "version": env!("CARGO_PKG_VERSION"),
                "rules": rules.iter().map(|r| json!({"id": r, "name": r})).collect::<Vec<_>>(),
            }},
            "results": results,
        }],
    })
}

fn sarif_result(d: &Diagnostic) -> Value {
    let text = match &d.help {
        Some(h) => format!("{} (help: {h})", d.message),
        None => d.message.clone(),
    };
    let level = match d.severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
    };
    let mut location = json!({"physicalLocation": {"artifactLocation": {"uri": d.file}}});
    if let Some(s) = &d.span {
        location["physicalLocation"]["region"] = json!({
            "startLine": s.start.line,
            "startColumn": s.start.column,
            "endLine": s.end.line,
            "endColumn": s.end.column,
            "byteOffset": s.bytes.start,
            "byteLength": s.bytes.len(),
        });
    }
    json!({"ruleId": d.code.as_str(), "level": level, "message": {"text": text}, "locations": [location]})
}
