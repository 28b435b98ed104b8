//! Policy files: parsing with source positions ([`model`]), validation and compilation
//! (`compile`) into an immutable [`PolicySet`] that holds no document, source text or
//! load option. [`crate::load`] runs these stages in order (and checks the detectors'
//! examples); [`crate::testing`] runs the policies' own tests.

pub(crate) mod compile;
mod diag;
pub mod files;
pub mod located;
pub mod model;
mod shape;
pub mod terms;
mod tree;

use std::path::{Path, PathBuf};
use std::sync::Arc;

pub use compile::PolicySet;
pub(crate) use diag::Reporter;
pub use diag::{Code, Diagnostic, Diagnostics, Excerpt, Position, Severity, Span};

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
    /// Follow symbolic links to policy files (refused by default).
    pub follow_symlinks: bool,
}

impl std::fmt::Debug for LoadOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoadOptions")
            .field("plugin_loader", &self.plugin_loader.is_some())
            .field("hash_key", &self.hash_key.as_ref().map(|_| "<set>"))
            .field("follow_symlinks", &self.follow_symlinks)
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
    ("policies/securities.yaml", include_str!("../../../../policies/securities.yaml")),
    ("policies/fraud.yaml", include_str!("../../../../policies/fraud.yaml")),
];

fn parse(source: &PolicySource, errors: &mut Vec<Diagnostic>) -> Vec<Located<PolicyDoc>> {
    let mut rep = diag::Reporter { file: &source.name, text: &source.text, out: errors };
    if source.text.len() > MAX_POLICY_FILE_BYTES {
        rep.report(
            Code::File,
            1,
            1,
            format!("policy file is larger than {MAX_POLICY_FILE_BYTES} bytes"),
            None,
        );
        return Vec::new();
    }
    if !looks_like_policy(&source.text) {
        // Whatever this file is (a config, a key, a binary), none of its bytes may end up
        // in an error message, a log line or an RPC reply.
        errors.push(Diagnostic::unplaced(
            Code::NotAPolicy,
            source.name.clone(),
            "not a Linewall policy file (no `apiVersion: linewall/...` line); its content is not shown",
        ));
        return Vec::new();
    }
    // Every document is checked on its YAML tree first, so that one run reports every
    // mistake; typed parsing then runs on each document with its mistakes taken out.
    let (trees, syntax) = tree::parse(&source.text);
    let before = rep.out.len();
    let mut checked = Vec::with_capacity(trees.len());
    for doc in &trees {
        if is_empty_document(&doc.root) {
            continue;
        }
        let start = rep.out.len();
        let edits = shape::check_document(&doc.root, &source.text, &mut rep);
        checked.push((doc.root.bytes.clone(), edits, rep.out.len() > start));
    }
    if let Some(e) = &syntax {
        rep.at_bytes(Code::YamlSyntax, e.at..e.at, e.message.clone(), None);
    }
    if syntax.is_none() && rep.out.len() == before {
        return match serde_saphyr::from_multiple_with_options::<Located<PolicyDoc>>(
            &source.text,
            yaml_options(),
        ) {
            Ok(docs) => docs,
            Err(e) => {
                report_yaml_error(&mut rep, &e);
                Vec::new()
            }
        };
    }
    let mut docs = Vec::new();
    for (range, edits, had_errors) in checked {
        let text = repaired_document(&source.text, range, &edits);
        match serde_saphyr::from_str_with_options::<Located<PolicyDoc>>(&text, yaml_options()) {
            Ok(doc) => docs.push(doc),
            // What remains is most likely a consequence of a mistake already reported
            // (a required key that was removed, ...); the document is not compiled.
            Err(_) if had_errors => {}
            Err(e) => report_yaml_error(&mut rep, &e),
        }
    }
    docs
}

fn report_yaml_error(rep: &mut diag::Reporter<'_>, e: &serde_saphyr::Error) {
    let (line, column) = e.location().map_or((1, 1), |l| (l.line() as u32, l.column() as u32));
    let message = yaml_message(e);
    let code = if message.starts_with("unknown field") {
        Code::UnknownKey
    } else if message.starts_with("missing field") {
        Code::MissingKey
    } else if message.starts_with("unknown variant") {
        Code::InvalidValue
    } else if message.starts_with("invalid type") {
        Code::WrongType
    } else {
        Code::YamlSyntax
    };
    rep.report(code, line, column, message, None);
}

/// A document with nothing in it (a stray `---`).
fn is_empty_document(root: &tree::Node) -> bool {
    matches!(&root.value, tree::Value::Scalar { text, plain: true } if text.is_empty())
}

/// The text of one document, at the same lines and columns as in the file (earlier lines
/// are empty), with `edits` applied.
fn repaired_document(text: &str, range: std::ops::Range<usize>, edits: &[shape::Edit]) -> String {
    let start = text[..range.start.min(text.len())].rfind('\n').map_or(0, |i| i + 1);
    let end = range.end.clamp(start, text.len());
    let mut out = "\n".repeat(text[..start].matches('\n').count());
    let mut edits: Vec<&shape::Edit> = edits.iter().collect();
    edits.sort_by_key(|e| (e.range.start, std::cmp::Reverse(e.range.end), e.insert.is_empty()));
    let mut pos = start;
    for e in edits {
        // Edits inside one already applied (a removed entry's own mistakes) are moot.
        if e.range.start < pos
            || e.range.end > end
            || !text.is_char_boundary(e.range.start)
            || !text.is_char_boundary(e.range.end)
        {
            continue;
        }
        out.push_str(&text[pos..e.range.start]);
        // One space per character keeps every later column where it was.
        let blank: String =
            text[e.range.clone()].chars().map(|c| if matches!(c, '\n' | '\r') { c } else { ' ' }).collect();
        out.push_str(&e.insert);
        if e.insert.len() <= blank.len() {
            out.push_str(&blank[e.insert.len()..]);
        } else {
            out.extend(blank.chars().filter(|c| *c == '\n'));
        }
        pos = e.range.end;
    }
    out.push_str(&text[pos..end]);
    out
}

/// Most YAML events that aliases (`*name`) may replay in one file. Each replay is parsed
/// again (and its strings copied), so a few hundred nested aliases in a small file could
/// otherwise expand to a million events and hundreds of milliseconds per load; real
/// policies reuse a keyword list a few times, far below this.
const MAX_ALIAS_REPLAYED_EVENTS: usize = 20_000;

/// Parser options: the crate's default budget, with alias expansion bounded as above.
fn yaml_options() -> serde_saphyr::Options {
    let mut o = serde_saphyr::Options::default();
    o.alias_limits.max_total_replayed_events = MAX_ALIAS_REPLAYED_EVENTS;
    if let Some(b) = o.budget.as_mut() {
        b.max_recorded_anchor_events = MAX_ALIAS_REPLAYED_EVENTS;
    }
    o
}

/// Whether `text` declares itself a Linewall policy: an `apiVersion` key (block or flow
/// style, quoted or not) naming `linewall/`. Errors in other files are reported without
/// any of their content.
fn looks_like_policy(text: &str) -> bool {
    text.match_indices("apiVersion").any(|(i, k)| {
        let rest = text[i + k.len()..].trim_start_matches(['"', '\'', ' ', '\t']);
        rest.strip_prefix(':')
            .is_some_and(|v| v.trim_start_matches([' ', '\t', '"', '\'']).starts_with("linewall/"))
    })
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

/// Reads the policy files under `path` (see [`files`]): regular files only, links only
/// with `follow_symlinks`, each at most [`MAX_POLICY_FILE_BYTES`], UTF-8.
pub fn read_sources(path: &Path, options: &LoadOptions) -> Result<Vec<PolicySource>, Diagnostics> {
    let list = files::list_policy_files(path, options.follow_symlinks)
        .map_err(|(p, e)| file_error(&p.display().to_string(), &e))?;
    let mut sources = Vec::with_capacity(list.len());
    for f in list {
        let name = f.display().to_string();
        // A file named directly (not found in a directory) may be a link: the operator chose it.
        let follow = options.follow_symlinks || f == path;
        let bytes =
            files::read_capped(&f, MAX_POLICY_FILE_BYTES, follow).map_err(|e| file_error(&name, &e))?;
        let text = String::from_utf8(bytes).map_err(|_| {
            Diagnostics::one(Diagnostic::unplaced(
                Code::File,
                name.clone(),
                "is not UTF-8 text; its content is not shown",
            ))
        })?;
        sources.push(PolicySource { name, text, base_dir: f.parent().map(Path::to_path_buf) });
    }
    Ok(sources)
}

fn file_error(name: &str, e: &files::FileError) -> Diagnostics {
    Diagnostics::one(Diagnostic::unplaced(Code::File, name, e.to_string()))
}

/// A parsed document and the source it came from.
pub(crate) type Doc = (Located<PolicyDoc>, PolicySource);

/// Parses every source; documents that parse (each with its source) in load order.
/// Errors go to `errors`.
pub(crate) fn parse_sources(sources: Vec<PolicySource>, errors: &mut Vec<Diagnostic>) -> Vec<Doc> {
    let mut docs = Vec::new();
    for source in sources {
        for doc in parse(&source, errors) {
            docs.push((doc, source.clone()));
        }
    }
    docs
}

impl PolicySet {
    /// Stable hash of the loaded policies' canonical content.
    pub fn version(&self) -> &str {
        &self.version
    }

    /// The terms files (`terms_file:`) the set was built from: a server watching the
    /// policy directory watches these too.
    pub fn term_files(&self) -> &[PathBuf] {
        &self.term_files
    }

    /// Whether any detector is a WASM plugin (whose calls may take up to their
    /// `timeout_ms`, so servers keep such evaluations off their I/O threads).
    pub fn has_plugins(&self) -> bool {
        self.detectors.iter().any(|d| matches!(d.matcher, compile::Matcher::Plugin(_)))
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

    /// Index of the detector `id` (a built-in, or the first policy-local one of that id),
    /// as [`crate::eval::ExtraFinding`] names it.
    pub fn detector_index(&self, id: &str) -> Option<usize> {
        self.detectors.iter().position(|d| d.id == id)
    }

    /// Whether the detector at `index` may join a value split across messages
    /// (docs/10-conversations.md): built-ins that declare it; never a policy-local one.
    pub fn is_joinable(&self, index: usize) -> bool {
        self.detectors
            .get(index)
            .is_some_and(|d| matches!(&d.matcher, compile::Matcher::Builtin(b) if b.spec.joinable))
    }
}

/// The JSON Schema of a policy document, for editors (`policies/schema.json`).
pub fn json_schema() -> serde_json::Value {
    let schema = schemars::schema_for!(PolicyDoc);
    let mut v = serde_json::to_value(schema).unwrap_or_default();
    // Editors complete the built-in detector ids; a policy-local id is any other valid id.
    let builtin: Vec<serde_json::Value> =
        crate::detect::builtin::all().map(|d| serde_json::Value::from(d.id)).collect();
    if let Some(id) = v.pointer_mut("/$defs/DetectorRequirement/properties/id") {
        *id = serde_json::json!({
            "description": "Detector id: built-in (listed) or local to this policy.",
            "anyOf": [
                {"enum": builtin},
                {"type": "string", "pattern": "^[a-z0-9_-]+$"}
            ]
        });
    }
    v
}

#[cfg(test)]
mod tests {
    use super::looks_like_policy;

    #[test]
    fn policy_files_are_recognised_in_any_yaml_style() {
        assert!(looks_like_policy("# c\napiVersion: linewall/v1\nkind: Policy\n"));
        assert!(looks_like_policy("---\n\"apiVersion\": 'linewall/v1'\r\n"));
        assert!(looks_like_policy("{apiVersion: linewall/v1, kind: Policy}"));
        assert!(!looks_like_policy("admin_token = \"secret\"\n"));
        assert!(!looks_like_policy("apiVersion: apps/v1\nkind: Deployment\n"));
    }
}
