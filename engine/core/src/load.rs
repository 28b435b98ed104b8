//! Loading a policy set, the stages in order: read the files and parse them, validate and
//! compile the documents ([`crate::policy`]), then run every policy-local detector over its
//! `examples` and `negative_examples` ([`crate::eval`]). Kept out of [`crate::policy`] so
//! that compiling never depends on evaluating (arrows one way: `load` → `eval` → `policy`).
//!
//! The result, a [`LoadedSet`], keeps the parsed documents and the load options, which
//! tooling needs (a policy's own tests compile it alone, with the same plugin host) and
//! evaluation does not: a server keeps only the compiled [`PolicySet`] of
//! [`LoadedSet::into_set`], which holds no YAML document, source text or option.

use std::path::Path;

use crate::policy::{
    BUILTIN_PACKS, Code, Diagnostic, Diagnostics, Doc, LoadOptions, PolicySet, PolicySource, Reporter,
    compile, parse_sources, read_sources,
};

/// A compiled policy set together with the documents and options it was loaded from.
pub struct LoadedSet {
    set: PolicySet,
    docs: Vec<Doc>,
    options: LoadOptions,
}

impl std::fmt::Debug for LoadedSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoadedSet")
            .field("set", &self.set)
            .field("documents", &self.docs.len())
            .field("options", &self.options)
            .finish()
    }
}

impl LoadedSet {
    /// Loads every policy file under `path` (a file, or a directory searched recursively
    /// for `*.yaml` and `*.yml`; see [`crate::policy::files`] for what is refused).
    pub fn load_path(path: &Path, options: &LoadOptions) -> Result<Self, Diagnostics> {
        Self::load_sources(read_sources(path, options)?, options)
    }

    /// Loads the policy packs shipped with Linewall.
    pub fn builtin(options: &LoadOptions) -> Result<Self, Diagnostics> {
        let sources = BUILTIN_PACKS
            .iter()
            .map(|(name, text)| PolicySource {
                name: (*name).to_owned(),
                text: (*text).to_owned(),
                base_dir: None,
            })
            .collect();
        Self::load_sources(sources, options)
    }

    /// Parses, validates and compiles policy sources and checks their detectors'
    /// examples; every error of the set is reported, sorted by file and position.
    pub fn load_sources(sources: Vec<PolicySource>, options: &LoadOptions) -> Result<Self, Diagnostics> {
        let mut errors = Vec::new();
        let docs = parse_sources(sources, &mut errors);
        match compile_checked(&docs, options, &mut errors) {
            Some(set) if errors.is_empty() => Ok(Self { set, docs, options: options.clone() }),
            _ => {
                if errors.is_empty() {
                    errors.push(Diagnostic::unplaced(
                        Code::PolicySet,
                        "<policy set>",
                        "policy set failed to compile",
                    ));
                }
                errors.sort_by(|a, b| (&a.file, a.line(), a.column()).cmp(&(&b.file, b.line(), b.column())));
                Err(Diagnostics { errors })
            }
        }
    }

    /// The compiled set.
    pub fn set(&self) -> &PolicySet {
        &self.set
    }

    /// The compiled set alone, without the documents (what a server keeps serving).
    pub fn into_set(self) -> PolicySet {
        self.set
    }

    /// The options the set was loaded with.
    pub fn options(&self) -> &LoadOptions {
        &self.options
    }

    /// The parsed documents, each with its source, in load order.
    pub(crate) fn docs(&self) -> &[Doc] {
        &self.docs
    }
}

impl PolicySet {
    /// Loads every policy file under `path` and keeps only the compiled set (see
    /// [`LoadedSet::load_path`]).
    pub fn load_path(path: &Path, options: &LoadOptions) -> Result<PolicySet, Diagnostics> {
        LoadedSet::load_path(path, options).map(LoadedSet::into_set)
    }

    /// Loads the policy packs shipped with Linewall and keeps only the compiled set.
    pub fn builtin(options: &LoadOptions) -> Result<PolicySet, Diagnostics> {
        LoadedSet::builtin(options).map(LoadedSet::into_set)
    }

    /// Loads policy sources and keeps only the compiled set (see
    /// [`LoadedSet::load_sources`]).
    pub fn load_sources(sources: Vec<PolicySource>, options: &LoadOptions) -> Result<PolicySet, Diagnostics> {
        LoadedSet::load_sources(sources, options).map(LoadedSet::into_set)
    }
}

/// Compiles `docs` and, if that succeeds, checks their detectors' examples. Errors go to
/// `errors`; returns a set only if there were none.
pub(crate) fn compile_checked(
    docs: &[Doc],
    options: &LoadOptions,
    errors: &mut Vec<Diagnostic>,
) -> Option<PolicySet> {
    let start = errors.len();
    let set = compile::compile(docs, options, errors)?;
    check_examples(&set, docs, errors);
    (errors.len() == start).then_some(set)
}

/// Runs every local detector alone over its `examples` and `negative_examples`.
fn check_examples(set: &PolicySet, docs: &[Doc], errors: &mut Vec<Diagnostic>) {
    let mut index = crate::detect::builtin::built().len();
    for (doc, source) in docs {
        let mut rep = Reporter { file: &source.name, text: &source.text, out: errors };
        for def in &doc.value.spec.detectors {
            // Local detectors follow the built-ins, policy by policy, in file order (a
            // set is only checked when every definition compiled).
            let idx = index;
            index += 1;
            if set.detector_ids().nth(idx) != Some(def.id.value.as_str()) {
                continue;
            }
            let examples = def.examples.iter().map(|ex| (ex, true));
            for (ex, positive) in examples.chain(def.negative_examples.iter().map(|ex| (ex, false))) {
                if set.detect_with(idx, &ex.value).is_empty() != positive {
                    continue;
                }
                let message = if positive {
                    format!("example of detector `{}` produces no finding", def.id.value)
                } else {
                    format!("negative example of detector `{}` produces a finding", def.id.value)
                };
                rep.report(Code::Example, ex.line, ex.column, message, None);
            }
        }
    }
}
