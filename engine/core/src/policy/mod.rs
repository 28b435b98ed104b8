//! Policy files: parsing with source positions ([`model`]), validation and compilation
//! ([`compile`]) into an immutable [`PolicySet`], and the policies' own tests ([`testing`]).

pub(crate) mod compile;
mod diag;
pub mod located;
pub mod model;
pub mod testing;

use std::path::{Path, PathBuf};
use std::sync::Arc;

pub use compile::PolicySet;
pub use diag::{Diagnostic, Diagnostics};
pub use testing::{TestCase, TestReport};

use located::Located;
use model::PolicyDoc;

use crate::plugin::PluginLoader;
use crate::verdict::Mode;

/// Largest policy file accepted.
pub const MAX_POLICY_FILE_BYTES: usize = 4 << 20;

/// The text of one policy file.
#[derive(Debug, Clone)]
pub struct PolicySource {
    /// Display name (usually the path), used in diagnostics.
    pub name: String,
    /// YAML text; may hold several documents.
    pub text: String,
    /// Directory that relative paths in the file (plugin modules) are resolved against.
    pub base_dir: Option<PathBuf>,
}

/// Settings for loading a policy set.
#[derive(Clone, Default)]
pub struct LoadOptions {
    /// Host for `plugin:` detectors; without one, plugin detectors are load errors.
    pub plugin_loader: Option<Arc<dyn PluginLoader>>,
    /// Secret key of the `hash` redaction style (salted per policy set). Without one, a
    /// random per-process key is used, so hashes are not stable across restarts.
    pub hash_key: Option<Vec<u8>>,
}

impl std::fmt::Debug for LoadOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoadOptions")
            .field("plugin_loader", &self.plugin_loader.is_some())
            .field("hash_key", &self.hash_key.as_ref().map(|_| "<set>"))
            .finish()
    }
}

/// What `ListPolicies` and `linewall lint` show about one loaded policy.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PolicySummary {
    /// Policy name.
    pub name: String,
    /// Description.
    pub description: String,
    /// Default mode of its rules.
    pub mode: Mode,
    /// Number of rules.
    pub rules: usize,
    /// Number of test cases.
    pub tests: usize,
    /// The file it came from.
    pub source: String,
    /// Tenants it is scoped to (empty: every tenant).
    pub tenants: Vec<String>,
}

/// The policy packs shipped with Linewall, embedded at build time.
pub const BUILTIN_PACKS: &[(&str, &str)] = &[
    ("policies/pci.yaml", include_str!("../../../../policies/pci.yaml")),
    ("policies/pii-us.yaml", include_str!("../../../../policies/pii-us.yaml")),
    ("policies/pii-intl.yaml", include_str!("../../../../policies/pii-intl.yaml")),
    ("policies/pii-eu.yaml", include_str!("../../../../policies/pii-eu.yaml")),
    ("policies/pii-apac.yaml", include_str!("../../../../policies/pii-apac.yaml")),
    ("policies/pii-americas.yaml", include_str!("../../../../policies/pii-americas.yaml")),
    ("policies/pii-mea.yaml", include_str!("../../../../policies/pii-mea.yaml")),
    ("policies/secrets.yaml", include_str!("../../../../policies/secrets.yaml")),
    ("policies/conduct.yaml", include_str!("../../../../policies/conduct.yaml")),
    ("policies/whatsapp.yaml", include_str!("../../../../policies/whatsapp.yaml")),
];

fn parse(source: &PolicySource, errors: &mut Vec<Diagnostic>) -> Vec<Located<PolicyDoc>> {
    let mut rep = diag::Reporter { file: &source.name, text: &source.text, out: errors };
    if source.text.len() > MAX_POLICY_FILE_BYTES {
        rep.error(1, 1, format!("policy file is larger than {MAX_POLICY_FILE_BYTES} bytes"));
        return Vec::new();
    }
    match serde_saphyr::from_multiple::<Located<PolicyDoc>>(&source.text) {
        Ok(docs) => docs,
        Err(e) => {
            let (line, column) = e.location().map_or((1, 1), |l| (l.line() as u32, l.column() as u32));
            rep.error(line, column, yaml_message(&e));
            Vec::new()
        }
    }
}

/// The parser's message without its own position prefix and snippet.
fn yaml_message(e: &serde_saphyr::Error) -> String {
    let s = e.to_string();
    let first = s.lines().next().unwrap_or("invalid YAML").trim();
    // serde-saphyr prefixes "line N column M: " or appends " at line N column M".
    let first = match first.find(" at line ") {
        Some(i) => &first[..i],
        None => first,
    };
    let first = first.trim_start_matches("error: ");
    let mut msg = first.to_owned();
    if let Some(rest) = msg.strip_prefix("line ")
        && let Some(i) = rest.find(": ")
    {
        msg = rest[i + 2..].to_owned();
    }
    msg
}

/// Collects `*.yaml` / `*.yml` files under `path` (or `path` itself), sorted.
fn collect_files(path: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    if path.is_file() {
        out.push(path.to_path_buf());
        return Ok(());
    }
    let mut entries: Vec<PathBuf> =
        std::fs::read_dir(path)?.filter_map(|e| e.ok().map(|e| e.path())).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            collect_files(&p, out)?;
        } else if matches!(p.extension().and_then(|e| e.to_str()), Some("yaml" | "yml")) {
            out.push(p);
        }
    }
    Ok(())
}

fn io_error(name: &str, e: &std::io::Error) -> Diagnostics {
    Diagnostics {
        errors: vec![Diagnostic {
            file: name.to_owned(),
            line: 0,
            column: 0,
            message: format!("cannot read: {e}"),
            source_line: None,
        }],
    }
}

impl PolicySet {
    /// Loads every policy file under `path` (a file, or a directory searched recursively
    /// for `*.yaml` and `*.yml`).
    pub fn load_path(path: &Path, options: &LoadOptions) -> Result<PolicySet, Diagnostics> {
        let mut files = Vec::new();
        collect_files(path, &mut files).map_err(|e| io_error(&path.display().to_string(), &e))?;
        let mut sources = Vec::new();
        for f in files {
            let name = f.display().to_string();
            let meta = std::fs::metadata(&f).map_err(|e| io_error(&name, &e))?;
            if meta.len() > MAX_POLICY_FILE_BYTES as u64 {
                return Err(Diagnostics {
                    errors: vec![Diagnostic {
                        file: name,
                        line: 1,
                        column: 1,
                        message: format!("policy file is larger than {MAX_POLICY_FILE_BYTES} bytes"),
                        source_line: None,
                    }],
                });
            }
            let text = std::fs::read_to_string(&f).map_err(|e| io_error(&name, &e))?;
            sources.push(PolicySource { name, text, base_dir: f.parent().map(Path::to_path_buf) });
        }
        Self::load_sources(sources, options)
    }

    /// Loads the policy packs shipped with Linewall.
    pub fn builtin(options: &LoadOptions) -> Result<PolicySet, Diagnostics> {
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

    /// Parses, validates and compiles policy sources; every error of the set is reported.
    pub fn load_sources(sources: Vec<PolicySource>, options: &LoadOptions) -> Result<PolicySet, Diagnostics> {
        let mut errors = Vec::new();
        let mut docs = Vec::new();
        for source in sources {
            for doc in parse(&source, &mut errors) {
                docs.push((doc, source.clone()));
            }
        }
        match compile::compile(docs, options, &mut errors) {
            Some(set) if errors.is_empty() => Ok(set),
            _ => {
                if errors.is_empty() {
                    errors.push(Diagnostic {
                        file: String::from("<policy set>"),
                        line: 0,
                        column: 0,
                        message: String::from("policy set failed to compile"),
                        source_line: None,
                    });
                }
                errors.sort_by(|a, b| (&a.file, a.line, a.column).cmp(&(&b.file, b.line, b.column)));
                Err(Diagnostics { errors })
            }
        }
    }

    /// Stable hash of the loaded policies' canonical content.
    pub fn version(&self) -> &str {
        &self.version
    }

    /// Whether any detector is a WASM plugin (whose calls may take up to their
    /// `timeout_ms`, so servers keep such evaluations off their I/O threads).
    pub fn has_plugins(&self) -> bool {
        self.detectors.iter().any(|d| matches!(d.matcher, compile::Matcher::Plugin { .. }))
    }

    /// A summary of each loaded policy.
    pub fn policies(&self) -> Vec<PolicySummary> {
        self.policies
            .iter()
            .map(|p| PolicySummary {
                name: p.name.clone(),
                description: p.description.clone(),
                mode: p.mode,
                rules: p.rules.len(),
                tests: p.tests,
                source: p.source.clone(),
                tenants: p.scope.tenants.clone(),
            })
            .collect()
    }

    /// Ids of every detector the set knows (built-ins, then policy-local ones).
    pub fn detector_ids(&self) -> impl Iterator<Item = &str> {
        self.detectors.iter().map(|d| d.id.as_str())
    }

    /// The keyed hash this set uses for `hash` redaction, for callers (e.g. decision
    /// logs) that need to link values without storing them.
    pub fn keyed_hash(&self, value: &str) -> String {
        crate::eval::redact::keyed_hash(&self.hash_key, value)
    }
}

/// The JSON Schema of a policy document, for editors (`policies/schema.json`).
pub fn json_schema() -> serde_json::Value {
    let schema = schemars::schema_for!(PolicyDoc);
    serde_json::to_value(schema).unwrap_or_default()
}
