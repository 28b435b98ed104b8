//! Compilation: validated policy documents become an immutable [`PolicySet`], which keeps
//! no document, source text or load option (tooling keeps those: [`crate::load::LoadedSet`]).
//!
//! Everything expensive happens here, once: regexes are compiled with size limits, every
//! literal the hot path looks for (context keywords, detector gate literals, dictionary
//! terms) goes into one Aho-Corasick automaton, plugins are loaded, and each rule's
//! detector references are resolved to indexes. Evaluation then only reads.

use std::collections::{BTreeMap, HashMap, HashSet};

use regex::{Regex, RegexBuilder};

use super::diag::Reporter;
use super::located::Located;
use super::model::{self, Kind, PolicyDoc, RecordMode, RedactSpec, RedactStyle};
use super::{Doc, LoadOptions, PolicySource};
use crate::detect::builtin::{self, Built};
use crate::detect::context::ContextRule;
use crate::detect::context::is_word_boundary;
use crate::detect::literals::LiteralSearcher;
use crate::detect::{Candidate, Confidence, Detector, Field, Gate, validators};
use crate::message::{Channel, Direction, Role as PartyRole};
use crate::plugin::{PluginMatcher, PluginSpec};
use crate::verdict::{Action, Mode, Severity};

/// Largest compiled size of one policy regex.
const REGEX_SIZE_LIMIT: usize = 1 << 20;
/// Largest compiled size (Thompson NFA bytes) of all the policy regexes of a set together.
/// Compiling takes time about proportional to that size, and a set is compiled at every
/// reload: 200 patterns such as `(?:\w+\s*){1,20}` (Unicode classes, repeated) took
/// seconds. The shipped packs use a few KiB.
const REGEX_SET_BUDGET: usize = 512 << 10;
/// Longest dictionary term, in bytes. Building the automaton's DFA costs time quadratic
/// in a long repetitive term (10,000 characters took 9 s); a term is a word or a phrase.
const MAX_TERM_BYTES: usize = 256;
/// Above this many pattern bytes the literal automaton is left to choose a (contiguous)
/// NFA instead of a full DFA, whose build time and memory grow much faster (60 KiB of
/// keywords took over a second). The shipped packs and the built-ins stay well below.
const MAX_DFA_PATTERN_BYTES: usize = 24 << 10;
/// Automata kept for reuse (see [`build_automaton`]).
const RECENT_AUTOMATA: usize = 4;
/// Default context-word window, in bytes either side of a match.
const DEFAULT_KEYWORD_WINDOW: usize = 40;
/// Default plugin wall-clock budget.
const DEFAULT_PLUGIN_TIMEOUT_MS: u64 = 5;

/// What kind of detector an entry is, and its matching logic.
pub(crate) enum Matcher {
    /// A built-in detector.
    Builtin(&'static Built),
    /// A policy regex, with an optional validator.
    Pattern(PatternDetector),
    /// Dictionary terms; matches come from the shared automaton.
    Terms(TermsDetector),
    /// A WASM plugin.
    Plugin(PluginMatcher),
}

impl Matcher {
    /// The detector, as the engine runs every kind: through [`Detector`].
    pub(crate) fn detector(&self) -> &dyn Detector {
        match self {
            Matcher::Builtin(b) => b.matcher.as_ref(),
            Matcher::Pattern(p) => p,
            Matcher::Terms(t) => t,
            Matcher::Plugin(p) => p,
        }
    }
}

/// A `terms` / `terms_file` detector: its terms are patterns of the set's shared
/// automaton, whose (ASCII case-insensitive) hits it filters.
pub(crate) struct TermsDetector {
    /// Bit `p` set when pattern `p` of the shared automaton is one of the terms (filled
    /// once the automaton's pattern ids are known, see [`Compiler::finish`]).
    patterns: Vec<u64>,
    /// With `case_sensitive: true`: the terms as written; a hit must be one of them.
    exact: Option<HashSet<Box<[u8]>>>,
    /// Whether a hit must be a whole word.
    whole_word: bool,
    /// Confidence of a match before context words.
    base: Confidence,
}

impl TermsDetector {
    /// Records that pattern `p` of the shared automaton is one of the terms.
    fn add_pattern(&mut self, p: usize) {
        if self.patterns.len() <= p / 64 {
            self.patterns.resize(p / 64 + 1, 0);
        }
        self.patterns[p / 64] |= 1 << (p % 64);
    }

    fn is_term(&self, p: u32) -> bool {
        let p = p as usize;
        self.patterns.get(p / 64).is_some_and(|w| w >> (p % 64) & 1 != 0)
    }
}

impl Detector for TermsDetector {
    /// Dictionary matches: whole words (unless `whole_word: false`), leftmost-longest, no
    /// overlaps.
    fn find_in_field(&self, field: &Field<'_>, out: &mut Vec<Candidate>) {
        let bytes = field.text().as_bytes();
        let mut mine: Vec<(usize, usize)> = field
            .literal_hits()
            .iter()
            .filter(|h| {
                let (s, e) = (h.start as usize, h.end as usize);
                self.is_term(h.pattern)
                    && (!self.whole_word || is_word_boundary(bytes, s, e))
                    && self.exact.as_ref().is_none_or(|x| bytes.get(s..e).is_some_and(|b| x.contains(b)))
            })
            .map(|h| (h.start as usize, h.end as usize))
            .collect();
        mine.sort_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)));
        let mut last_end = 0;
        for (s, e) in mine {
            if s >= last_end {
                out.push(Candidate { start: s, end: e, confidence: self.base });
                last_end = e;
            }
        }
    }
}

/// A policy-local `pattern` detector: a size-limited regex and an optional validator.
pub(crate) struct PatternDetector {
    regex: Regex,
    validator: Option<fn(&str) -> bool>,
    /// Confidence of a match before context words.
    base: Confidence,
}

impl Detector for PatternDetector {
    fn find(&self, text: &str, out: &mut Vec<Candidate>) {
        for m in self.regex.find_iter(text) {
            if m.start() < m.end() && self.validator.is_none_or(|v| v(m.as_str())) {
                out.push(Candidate { start: m.start(), end: m.end(), confidence: self.base });
            }
        }
    }
}

/// One detector of the set, built-in or policy-local.
pub(crate) struct DetectorEntry {
    /// Id reported in findings.
    pub id: String,
    pub matcher: Matcher,
    pub gate: CompiledGate,
    pub context: ContextRule,
    /// What the verdict does when the detector fails (a plugin's `on_error`; the others
    /// cannot fail).
    pub on_error: Action,
    /// Whether the detector has context keywords.
    pub has_keywords: bool,
    /// Lower-cased values never reported.
    pub exclude: Vec<String>,
}

/// A detector gate with literals resolved to the shared automaton.
pub(crate) enum CompiledGate {
    Always,
    MinDigits(usize),
    /// Open when the field has a digit run of one of these lengths ([`Gate::RunLengths`]).
    RunLengths(u64),
    AnyByte(&'static [u8]),
    /// Open when one of this detector's gate literals (role `Gate`) was seen.
    Literal,
    /// Open when one of this detector's keywords was seen.
    Keywords,
}

/// What a pattern of the shared automaton means for one detector.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LitRole {
    Keyword,
    Gate,
    Term,
}

/// Message metadata conditions, resolved.
#[derive(Debug, Clone, Default)]
pub(crate) struct MetaCond {
    pub tenants: Vec<String>,
    pub channels: Vec<Channel>,
    pub directions: Vec<Direction>,
    pub sender_roles: Vec<PartyRole>,
    pub sender_groups: Vec<String>,
    pub recipient_roles: Vec<PartyRole>,
    pub recipient_groups: Vec<String>,
    pub kinds: Vec<Kind>,
    pub attributes: Vec<(String, String)>,
    /// No condition but (possibly) `directions` is set (false when unknown: the full
    /// check then runs). Most scopes and rules are so, and every message checks them.
    pub directions_only: bool,
}

/// A detector requirement, resolved.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Requirement {
    pub detector: usize,
    pub min_confidence: Confidence,
    pub min_count: u32,
    /// Whether split values (joined across messages) count.
    pub split: model::SplitMode,
}

/// An attachment condition, normalized.
#[derive(Debug, Clone, Default)]
pub(crate) struct AttachmentCond {
    pub extensions: Vec<String>,
    pub mime_types: Vec<String>,
    pub max_size_bytes: Option<u64>,
}

/// A set of detector indexes, exact below [`DetectorSet::EXACT`] (policy sets rarely have
/// more detectors) and one shared flag for the rest: a cheap "could any of these have
/// found something" test.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct DetectorSet {
    bits: [u64; DetectorSet::EXACT / 64],
    beyond: bool,
}

impl DetectorSet {
    /// Detectors tracked one by one.
    const EXACT: usize = 256;

    /// Adds detector `d`.
    pub fn insert(&mut self, d: usize) {
        if d < Self::EXACT {
            self.bits[d / 64] |= 1 << (d % 64);
        } else {
            self.beyond = true;
        }
    }

    /// False when the two sets certainly have no detector in common.
    pub fn may_intersect(&self, other: &Self) -> bool {
        self.bits.iter().zip(&other.bits).any(|(a, b)| a & b != 0) || self.beyond && other.beyond
    }
}

/// A `when` / `unless`, resolved.
#[derive(Debug, Clone, Default)]
pub(crate) struct Cond {
    pub meta: MetaCond,
    pub any: Vec<Requirement>,
    pub all: Vec<Requirement>,
    pub attachments: Option<AttachmentCond>,
    /// The detectors of `any` and `all`.
    pub detector_set: DetectorSet,
    /// Whether the condition fails when none of `detector_set` found anything.
    pub needs_finding: bool,
}

/// A rule, resolved.
pub(crate) struct CompiledRule {
    pub id: String,
    /// `policy/rule`.
    pub qualified: String,
    pub when: Cond,
    pub unless: Option<Cond>,
    pub action: Action,
    pub mode: Mode,
    pub notice: Option<String>,
    pub alert: Option<Severity>,
    pub record: RecordMode,
    pub redact: RedactSpec,
    /// Detectors referenced by `when` and `unless`.
    pub detectors: Vec<usize>,
}

/// A policy, resolved.
pub(crate) struct CompiledPolicy {
    pub name: String,
    pub description: String,
    pub mode: Mode,
    pub scope: MetaCond,
    pub rules: Vec<CompiledRule>,
    pub tests: usize,
    pub source: String,
}

/// An immutable, compiled set of policies, ready to judge messages from any thread.
pub struct PolicySet {
    pub(crate) version: String,
    pub(crate) policies: Vec<CompiledPolicy>,
    pub(crate) detectors: Vec<DetectorEntry>,
    /// The eager automaton: gate literals, terms, and keywords that gate a detector.
    pub(crate) literals: Option<LiteralSearcher>,
    /// The lazy automaton: context keywords, searched only where a detector has candidates.
    pub(crate) keywords: Option<LiteralSearcher>,
    /// Pattern ids of `keywords` start here in `literal_roles`.
    pub(crate) keyword_offset: u32,
    /// For each pattern (eager ones first, then lazy ones), the detectors it concerns and how.
    pub(crate) literal_roles: Vec<Vec<(usize, LitRole)>>,
    /// Key of the `hash` redaction style.
    pub(crate) hash_key: crate::eval::redact::HashKey,
    /// Terms files the set was built from (a change means a reload).
    pub(crate) term_files: Vec<std::path::PathBuf>,
    /// The detectors that join split values (docs/10-conversations.md), found once here
    /// rather than per message: (index in `detectors`, index in the built-ins).
    pub(crate) joinable: Vec<(usize, usize)>,
}

impl std::fmt::Debug for PolicySet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PolicySet")
            .field("version", &self.version)
            .field("policies", &self.policies.len())
            .field("detectors", &self.detectors.len())
            .finish_non_exhaustive()
    }
}

/// Accumulates the shared automaton's patterns.
#[derive(Default)]
struct LiteralTable {
    index: HashMap<String, usize>,
    roles: Vec<Vec<(usize, LitRole)>>,
}

impl LiteralTable {
    fn add(&mut self, literal: &str, detector: usize, role: LitRole) {
        let key = literal.to_ascii_lowercase();
        if key.is_empty()
            || (role == LitRole::Keyword && key.len() > crate::detect::context::MAX_KEYWORD_BYTES)
        {
            return;
        }
        let next = self.roles.len();
        let i = *self.index.entry(key).or_insert(next);
        if i == next {
            self.roles.push(Vec::new());
        }
        if !self.roles[i].contains(&(detector, role)) {
            self.roles[i].push((detector, role));
        }
    }
}

fn resolve_meta(s: &model::Scope) -> MetaCond {
    let mut m = MetaCond {
        tenants: s.tenants.clone(),
        channels: s.channels.clone(),
        directions: s.directions.clone(),
        sender_roles: s.sender_roles.clone(),
        sender_groups: s.sender_groups.clone(),
        recipient_roles: s.recipient_roles.clone(),
        recipient_groups: s.recipient_groups.clone(),
        kinds: s.kinds.clone(),
        attributes: s.attributes.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
        directions_only: false,
    };
    m.directions_only = m.tenants.is_empty()
        && m.channels.is_empty()
        && m.sender_roles.is_empty()
        && m.sender_groups.is_empty()
        && m.recipient_roles.is_empty()
        && m.recipient_groups.is_empty()
        && m.kinds.is_empty()
        && m.attributes.is_empty();
    m
}

fn valid_name(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

fn valid_id(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
}

/// First line of an error, for one-line diagnostics.
fn one_line(e: &impl std::fmt::Display) -> String {
    let s = e.to_string();
    let lines: Vec<&str> = s.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
    lines.last().copied().unwrap_or("").trim_start_matches("error: ").to_owned()
}

/// Validates and compiles parsed documents. Errors go to `errors`; returns a set only if
/// there were none. The set keeps nothing of the documents but what evaluation reads.
pub(crate) fn compile(
    docs: &[Doc],
    options: &LoadOptions,
    errors: &mut Vec<super::Diagnostic>,
) -> Option<PolicySet> {
    let start_errors = errors.len();
    let mut compiler = Compiler::new(options);
    let mut policies = Vec::new();
    for (doc, source) in docs {
        let mut rep = Reporter { file: &source.name, text: &source.text, out: errors };
        policies.push(compiler.policy(&doc.value, source, &mut rep));
    }
    if errors.len() > start_errors {
        return None;
    }
    let set = compiler.finish(docs, policies, errors)?;
    (errors.len() == start_errors).then_some(set)
}

/// One compilation: detectors (built-ins first, at fixed indexes, then each policy's
/// own) and the literals of the shared automata accumulate across documents.
struct Compiler<'o> {
    options: &'o LoadOptions,
    detectors: Vec<DetectorEntry>,
    literals: LiteralTable,
    builtin_index: HashMap<&'static str, usize>,
    /// Policy name -> where it was first defined.
    names: HashMap<String, (String, u32, u32)>,
    /// Terms files read: a label, the path and the SHA-256 of the bytes.
    term_files: Vec<(String, std::path::PathBuf, [u8; 32])>,
    /// Compiled regex size still allowed to this set's patterns (of [`REGEX_SET_BUDGET`]).
    regex_budget: usize,
}

impl<'o> Compiler<'o> {
    /// A compilation holding the built-in detectors, shared by every policy.
    fn new(options: &'o LoadOptions) -> Self {
        let mut detectors: Vec<DetectorEntry> = Vec::new();
        let mut literals = LiteralTable::default();
        let mut builtin_index: HashMap<&'static str, usize> = HashMap::new();
        for b in builtin::built() {
            let idx = detectors.len();
            builtin_index.insert(b.spec.id, idx);
            let gate = match b.spec.gate {
                Gate::Always => CompiledGate::Always,
                Gate::MinDigits(n) => CompiledGate::MinDigits(n),
                Gate::RunLengths(m) => CompiledGate::RunLengths(m),
                Gate::AnyByte(bs) => CompiledGate::AnyByte(bs),
                Gate::AnyLiteral(lits) => {
                    for l in lits {
                        literals.add(l, idx, LitRole::Gate);
                    }
                    CompiledGate::Literal
                }
                Gate::Keywords => CompiledGate::Keywords,
            };
            for k in b.spec.keywords {
                literals.add(k, idx, LitRole::Keyword);
            }
            detectors.push(DetectorEntry {
                id: b.spec.id.to_owned(),
                matcher: Matcher::Builtin(b),
                gate,
                context: b.spec.context_rule(),
                on_error: Action::Block,
                has_keywords: !b.spec.keywords.is_empty(),
                exclude: Vec::new(),
            });
        }
        Self {
            options,
            detectors,
            literals,
            builtin_index,
            names: HashMap::new(),
            regex_budget: REGEX_SET_BUDGET,
            term_files: Vec::new(),
        }
    }

    /// Validates and compiles one policy document; errors go to `rep`.
    fn policy(&mut self, d: &PolicyDoc, source: &PolicySource, rep: &mut Reporter<'_>) -> CompiledPolicy {
        self.check_header(d, source, rep);
        let mut local: HashMap<String, usize> = HashMap::new();
        for def in &d.spec.detectors {
            if let Some(idx) = self.local_detector(def, &local, source, rep) {
                local.insert(def.id.value.clone(), idx);
            }
        }
        let declared: HashSet<&str> = d.spec.detectors.iter().map(|d| d.id.value.as_str()).collect();
        let resolver = Resolver { local: &local, builtin: &self.builtin_index, declared: &declared };
        let name = &d.metadata.name.value;
        let mut rule_ids: HashSet<String> = HashSet::new();
        let rules = d
            .spec
            .rules
            .iter()
            .map(|r| compile_rule(r, name, d.spec.mode, &resolver, &mut rule_ids, rep))
            .collect();
        CompiledPolicy {
            name: name.clone(),
            description: d.metadata.description.clone(),
            mode: d.spec.mode,
            scope: resolve_meta(&d.spec.scope),
            rules,
            tests: d.spec.tests.len(),
            source: source.name.clone(),
        }
    }

    /// apiVersion, kind, and a valid, unique policy name.
    fn check_header(&mut self, d: &PolicyDoc, source: &PolicySource, rep: &mut Reporter<'_>) {
        if d.api_version.value != "linewall/v1" {
            rep.error(
                d.api_version.line,
                d.api_version.column,
                format!("unsupported apiVersion `{}`: expected `linewall/v1`", d.api_version.value),
            );
        }
        if d.kind.value != "Policy" {
            rep.error(
                d.kind.line,
                d.kind.column,
                format!("unsupported kind `{}`: expected `Policy`", d.kind.value),
            );
        }
        let name = &d.metadata.name;
        if !valid_name(name) {
            rep.error(
                name.line,
                name.column,
                format!("invalid policy name `{}`: use [a-z0-9-]+", name.value),
            );
        }
        if let Some((file, l, c)) = self.names.get(&name.value) {
            rep.error(
                name.line,
                name.column,
                format!("duplicate policy name `{}`: first defined at {file}:{l}:{c}", name.value),
            );
        } else {
            self.names.insert(name.value.clone(), (source.name.clone(), name.line, name.column));
        }
    }

    /// Compiles one policy-local detector; its index, or `None` after reporting why not.
    fn local_detector(
        &mut self,
        def: &model::DetectorDef,
        local: &HashMap<String, usize>,
        source: &PolicySource,
        rep: &mut Reporter<'_>,
    ) -> Option<usize> {
        let id = &def.id;
        if !valid_id(id) {
            rep.error(id.line, id.column, format!("invalid detector id `{}`: use [a-z0-9_-]+", id.value));
            return None;
        }
        if self.builtin_index.contains_key(id.value.as_str()) {
            rep.error(
                id.line,
                id.column,
                format!("detector id `{}` is a built-in detector: choose another id", id.value),
            );
            return None;
        }
        if local.contains_key(&id.value) {
            rep.error(id.line, id.column, format!("duplicate detector id `{}` in this policy", id.value));
            return None;
        }
        let kinds = usize::from(def.pattern.is_some())
            + usize::from(def.terms.is_some() || def.terms_file.is_some())
            + usize::from(def.plugin.is_some());
        if kinds != 1 {
            rep.error(
                id.line,
                id.column,
                format!(
                    "detector `{}` needs exactly one of `pattern`, `terms` (or `terms_file`) or `plugin`",
                    id.value
                ),
            );
            return None;
        }
        let (matcher, gate) = self.matcher(def, source, rep)?;
        let idx = self.detectors.len();
        if def.validator.is_some() && def.pattern.is_none() {
            let v = def.validator.as_ref().map_or((id.line, id.column), |v| (v.line, v.column));
            rep.error(v.0, v.1, "`validator` only applies to `pattern` detectors");
        }
        for k in &def.keywords {
            self.literals.add(k, idx, LitRole::Keyword);
        }
        let base = def.confidence.unwrap_or(Confidence::Medium);
        self.detectors.push(DetectorEntry {
            id: id.value.clone(),
            matcher,
            gate,
            context: ContextRule {
                window: def.keyword_window.unwrap_or(DEFAULT_KEYWORD_WINDOW),
                requires: def.requires_keywords,
                boosted: def.confidence_with_keywords.unwrap_or(Confidence::High).max(base),
            },
            on_error: def.plugin.as_ref().and_then(|p| p.on_error).unwrap_or(Action::Block),
            has_keywords: !def.keywords.is_empty(),
            exclude: def.exclude.iter().map(|e| e.to_lowercase()).collect(),
        });
        if def.requires_keywords && def.keywords.is_empty() {
            rep.error(
                id.line,
                id.column,
                format!("detector `{}` requires keywords but lists none", id.value),
            );
        }
        Some(idx)
    }

    /// The matcher of a local detector (pattern, terms or plugin) and its gate.
    fn matcher(
        &mut self,
        def: &model::DetectorDef,
        source: &PolicySource,
        rep: &mut Reporter<'_>,
    ) -> Option<(Matcher, CompiledGate)> {
        let idx = self.detectors.len();
        if let Some(p) = &def.pattern {
            Some((self.pattern(def, p, rep)?, CompiledGate::Always))
        } else if def.terms.is_some() || def.terms_file.is_some() {
            Some((Matcher::Terms(self.terms(def, idx, source, rep)?), CompiledGate::Literal))
        } else if let Some(p) = &def.plugin {
            Some((self.plugin(def, p, source, rep)?, CompiledGate::Always))
        } else {
            None
        }
    }

    /// A `pattern` detector: its regex compiled within the set's size budget, and its
    /// validator.
    fn pattern(
        &mut self,
        def: &model::DetectorDef,
        p: &Located<String>,
        rep: &mut Reporter<'_>,
    ) -> Option<Matcher> {
        let id = &def.id;
        // Measured before the full compile, within what is left of the budget, so a
        // set over it is refused without paying for it. An invalid pattern gets the
        // regex crate's error below.
        let limit = REGEX_SIZE_LIMIT.min(self.regex_budget);
        let size = match nfa_bytes(&p.value, limit) {
            Ok(n) => Some(n),
            Err(Some(_)) if limit < REGEX_SIZE_LIMIT => {
                rep.error(
                    p.line,
                    p.column,
                    format!(
                        "pattern of detector `{}` does not fit in what is left of the compiled-size budget: the set's patterns together may use {} KiB and {} KiB are left (use smaller repetition counts or ASCII classes such as `[a-zA-Z0-9_]` instead of `\\w`)",
                        id.value,
                        REGEX_SET_BUDGET / 1024,
                        self.regex_budget / 1024
                    ),
                );
                return None;
            }
            Err(_) => None,
        };
        let regex = match RegexBuilder::new(&p.value)
            .size_limit(REGEX_SIZE_LIMIT)
            .dfa_size_limit(REGEX_SIZE_LIMIT)
            .build()
        {
            Ok(r) => r,
            Err(e) => {
                rep.error(
                    p.line,
                    p.column,
                    format!("invalid pattern for detector `{}`: {}", id.value, one_line(&e)),
                );
                return None;
            }
        };
        self.regex_budget = self.regex_budget.saturating_sub(size.unwrap_or(0));
        let validator = match &def.validator {
            None => None,
            Some(v) => match validators::by_name(&v.value) {
                Some(f) => Some(f),
                None => {
                    let help = super::shape::suggest(&v.value, validators::NAMES.iter().copied())
                        .map(|s| format!("did you mean `{s}`?"));
                    rep.report(
                        super::Code::InvalidValue,
                        v.line,
                        v.column,
                        format!(
                            "unknown validator `{}`: expected one of {}",
                            v.value,
                            validators::NAMES.join(", ")
                        ),
                        help,
                    );
                    return None;
                }
            },
        };
        let base = def.confidence.unwrap_or(Confidence::Medium);
        Some(Matcher::Pattern(PatternDetector { regex, validator, base }))
    }

    /// A `plugin` detector, loaded by the configured plugin host.
    fn plugin(
        &self,
        def: &model::DetectorDef,
        p: &model::PluginDef,
        source: &PolicySource,
        rep: &mut Reporter<'_>,
    ) -> Option<Matcher> {
        let id = &def.id;
        let Some(loader) = &self.options.plugin_loader else {
            rep.error(
                p.module.line,
                p.module.column,
                format!("detector `{}` is a plugin but this build has no plugin host", id.value),
            );
            return None;
        };
        let base = source.base_dir.clone().unwrap_or_default();
        let module = base.join(&p.module.value);
        let spec = PluginSpec {
            detector_id: &id.value,
            module: &module,
            sha256: p.sha256.as_ref().map(|s| s.value.as_str()),
            config: &p.config,
            timeout_ms: p.timeout_ms.unwrap_or(DEFAULT_PLUGIN_TIMEOUT_MS),
        };
        match loader.load(&spec) {
            Ok(plugin) => Some(Matcher::Plugin(PluginMatcher(plugin))),
            Err(e) => {
                rep.error(
                    p.module.line,
                    p.module.column,
                    format!("cannot load plugin for detector `{}`: {e}", id.value),
                );
                None
            }
        }
    }

    /// The terms of a `terms` / `terms_file` detector, added to the shared automaton.
    fn terms(
        &mut self,
        def: &model::DetectorDef,
        idx: usize,
        source: &PolicySource,
        rep: &mut Reporter<'_>,
    ) -> Option<TermsDetector> {
        let id = &def.id;
        // (term, where to report it: line, column, and the file line for file terms)
        let mut all: Vec<(&str, u32, u32, Option<u32>)> = Vec::new();
        if let Some(terms) = &def.terms {
            all.extend(terms.value.iter().map(|t| (t.trim(), terms.line, terms.column, None)));
        }
        let file = match &def.terms_file {
            None => None,
            Some(f) => {
                match super::terms::read(source.base_dir.as_deref(), &f.value, self.options.follow_symlinks) {
                    Ok(read) => Some((f, read)),
                    Err(e) => {
                        rep.report(super::Code::TermsFile, f.line, f.column, e.to_string(), None);
                        return None;
                    }
                }
            }
        };
        if let Some((f, read)) = &file {
            all.extend(read.terms.iter().map(|(n, t)| (t.as_str(), f.line, f.column, Some(*n))));
        }
        if all.iter().all(|(t, ..)| t.is_empty()) {
            let (l, c) = def.terms.as_ref().map_or((id.line, id.column), |t| (t.line, t.column));
            rep.error(l, c, format!("detector `{}` has no terms", id.value));
            return None;
        }
        if let Some((i, (t, l, c, n))) = all.iter().enumerate().find(|(_, (t, ..))| t.len() > MAX_TERM_BYTES)
        {
            let which =
                n.map_or_else(|| format!("term {}", i + 1), |n| format!("the term on line {n} of its file"));
            rep.error(
                *l,
                *c,
                format!(
                    "detector `{}`: {which} is {} bytes long; the limit is {MAX_TERM_BYTES}",
                    id.value,
                    t.len()
                ),
            );
            return None;
        }
        let case_sensitive = def.case_sensitive.unwrap_or(false);
        let mut exact = case_sensitive.then(HashSet::new);
        for (t, ..) in &all {
            self.literals.add(t, idx, LitRole::Term);
            if let Some(e) = &mut exact {
                e.insert(Box::<[u8]>::from(t.as_bytes()));
            }
        }
        if let Some((f, read)) = file {
            self.term_files.push((format!("{}/{}", id.value, f.value), read.path, read.sha256));
        }
        Some(TermsDetector {
            patterns: Vec::new(),
            exact,
            whole_word: def.whole_word.unwrap_or(true),
            base: def.confidence.unwrap_or(Confidence::Medium),
        })
    }

    /// Builds the shared automata and the set.
    fn finish(
        mut self,
        docs: &[Doc],
        policies: Vec<CompiledPolicy>,
        errors: &mut Vec<super::Diagnostic>,
    ) -> Option<PolicySet> {
        // Literals split in two automata. The eager one (gate literals, terms, and keywords
        // that gate their detector) runs on every field. The lazy one holds keywords that only
        // adjust the confidence of a candidate: it runs only on fields where some detector
        // found one, so text with nothing to find never pays for hundreds of context words.
        let eager = |roles: &Vec<(usize, LitRole)>| {
            roles.iter().any(|&(d, role)| {
                role != LitRole::Keyword || matches!(self.detectors[d].gate, CompiledGate::Keywords)
            })
        };
        let mut order: Vec<usize> = (0..self.literals.roles.len()).collect();
        order.sort_by_key(|&i| !eager(&self.literals.roles[i]));
        let eager_count = order.iter().filter(|&&i| eager(&self.literals.roles[i])).count();
        let mut patterns = vec![String::new(); self.literals.roles.len()];
        for (k, &i) in &self.literals.index {
            patterns[i] = k.clone();
        }
        let patterns: Vec<String> = order.iter().map(|&i| std::mem::take(&mut patterns[i])).collect();
        let roles: Vec<Vec<(usize, LitRole)>> =
            order.iter().map(|&i| std::mem::take(&mut self.literals.roles[i])).collect();
        for (p, rs) in roles.iter().enumerate() {
            for &(d, role) in rs {
                if role == LitRole::Term
                    && let Matcher::Terms(t) = &mut self.detectors[d].matcher
                {
                    t.add_pattern(p);
                }
            }
        }
        let automaton = build_automaton(&patterns[..eager_count], errors)?;
        let keyword_automaton = build_automaton(&patterns[eager_count..], errors)?;
        let version = version_of(docs, &self.term_files);
        let Some(hash_key) = derive_hash_key(self.options.hash_key.as_deref(), &version) else {
            errors.push(super::Diagnostic::unplaced(
                super::Code::PolicySet,
                "<policy set>",
                "the OS random number generator failed and no hash key is configured (set LINEWALL_HASH_KEY or --hash-key-file)",
            ));
            return None;
        };
        let joinable = joinable_detectors(&policies, &self.detectors);
        Some(PolicySet {
            joinable,
            version,
            policies,
            detectors: self.detectors,
            literals: automaton,
            keywords: keyword_automaton,
            keyword_offset: eager_count as u32,
            literal_roles: roles,
            hash_key: crate::eval::redact::HashKey::new(&hash_key),
            term_files: self.term_files.into_iter().map(|(_, path, _)| path).collect(),
        })
    }
}

/// The detectors of a compiled set that join split values (docs/10-conversations.md):
/// built-in, joinable, and referenced by a rule (findings are reported for those alone),
/// as (set index, built-in index). Found once here rather than per message.
fn joinable_detectors(policies: &[CompiledPolicy], detectors: &[DetectorEntry]) -> Vec<(usize, usize)> {
    let builtins = builtin::built();
    detectors
        .iter()
        .enumerate()
        .filter_map(|(d, e)| match &e.matcher {
            Matcher::Builtin(b)
                if b.spec.joinable
                    && policies.iter().any(|p| p.rules.iter().any(|r| r.detectors.contains(&d))) =>
            {
                Some((d, builtins.iter().position(|x| std::ptr::eq(x, *b))?))
            }
            _ => None,
        })
        .collect()
}

/// Resolves a policy's detector references: its own detectors first, then built-ins.
struct Resolver<'a> {
    local: &'a HashMap<String, usize>,
    builtin: &'a HashMap<&'static str, usize>,
    /// Ids the policy declares (compiled or not).
    declared: &'a HashSet<&'a str>,
}

impl Resolver<'_> {
    /// One `{id, min_confidence, min_count}`; `None` (reported if new) when unknown.
    fn requirement(&self, r: &model::DetectorRequirement, rep: &mut Reporter<'_>) -> Option<Requirement> {
        let idx =
            self.local.get(&r.id.value).copied().or_else(|| self.builtin.get(r.id.value.as_str()).copied());
        match idx {
            Some(detector) => Some(Requirement {
                detector,
                min_confidence: r.min_confidence.unwrap_or(Confidence::Low),
                min_count: r.min_count.unwrap_or(1).max(1),
                split: r.split.unwrap_or_default(),
            }),
            // Declared but not compiled: its definition already has an error, and a
            // second one on every rule that names it would only bury the first.
            None if self.declared.contains(r.id.value.as_str()) => None,
            None => {
                let known = self.local.keys().map(String::as_str).chain(self.builtin.keys().copied());
                let help = super::shape::suggest(&r.id.value, known).map(|s| format!("did you mean `{s}`?"));
                rep.report(
                    super::Code::UnknownDetector,
                    r.id.line,
                    r.id.column,
                    format!("unknown detector `{}`", r.id.value),
                    help,
                );
                None
            }
        }
    }

    /// A `when` or `unless`.
    fn cond(&self, c: &model::Condition, rep: &mut Reporter<'_>) -> Cond {
        let mut cond = Cond { meta: resolve_meta(&c.meta()), ..Cond::default() };
        if let Some(dc) = &c.detectors {
            cond.any = dc.any.iter().filter_map(|r| self.requirement(r, rep)).collect();
            cond.all = dc.all.iter().filter_map(|r| self.requirement(r, rep)).collect();
        }
        for q in cond.any.iter().chain(&cond.all) {
            cond.detector_set.insert(q.detector);
        }
        // With no finding, a requirement holds only if it asks for none.
        cond.needs_finding = !cond.any.is_empty() && cond.any.iter().all(|q| q.min_count > 0)
            || cond.all.iter().any(|q| q.min_count > 0);
        if let Some(a) = &c.attachments {
            cond.attachments = Some(AttachmentCond {
                extensions: a
                    .extensions
                    .iter()
                    .map(|e| e.trim_start_matches('.').to_ascii_lowercase())
                    .collect(),
                mime_types: a.mime_types.iter().map(|m| m.to_ascii_lowercase()).collect(),
                max_size_bytes: a.max_size_bytes,
            });
        }
        cond
    }
}

/// Validates and compiles one rule of policy `policy` (whose default mode is `mode`).
fn compile_rule(
    r: &model::Rule,
    policy: &str,
    mode: Mode,
    resolver: &Resolver<'_>,
    rule_ids: &mut HashSet<String>,
    rep: &mut Reporter<'_>,
) -> CompiledRule {
    if !valid_id(&r.id) {
        rep.error(r.id.line, r.id.column, format!("invalid rule id `{}`: use [a-z0-9_-]+", r.id.value));
    }
    if !rule_ids.insert(r.id.value.clone()) {
        rep.error(
            r.id.line,
            r.id.column,
            format!("duplicate rule id `{}` in policy `{}`", r.id.value, policy),
        );
    }
    let when = resolver.cond(&r.when, rep);
    let unless = r.unless.as_ref().map(|u| resolver.cond(u, rep));
    let names_detectors = r.when.detectors.as_ref().is_some_and(|d| !d.any.is_empty() || !d.all.is_empty());
    if r.action == Action::Redact && !names_detectors {
        rep.error(
            r.id.line,
            r.id.column,
            format!("rule `{}` redacts but has no `detectors` condition: nothing to redact", r.id.value),
        );
    }
    let redact = r.redact.clone().unwrap_or_default();
    if redact.style != RedactStyle::Mask
        && (redact.keep_first > 0 || redact.keep_last > 0 || redact.char.is_some())
    {
        rep.error(
            r.id.line,
            r.id.column,
            format!(
                "rule `{}`: `char`, `keep_first` and `keep_last` only apply to the `mask` style",
                r.id.value
            ),
        );
    }
    let mut dets: Vec<usize> = when.any.iter().chain(&when.all).map(|q| q.detector).collect();
    if let Some(u) = &unless {
        dets.extend(u.any.iter().chain(&u.all).map(|q| q.detector));
    }
    dets.sort_unstable();
    dets.dedup();
    CompiledRule {
        id: r.id.value.clone(),
        qualified: format!("{}/{}", policy, r.id.value),
        when,
        unless,
        action: r.action,
        mode: r.mode.unwrap_or(mode),
        notice: r.notice.clone(),
        alert: r.alert,
        record: r.record,
        redact,
        detectors: dets,
    }
}

/// Stable hash of the canonical content: documents sorted by name, positions and
/// formatting ignored.
fn version_of(docs: &[Doc], term_files: &[(String, std::path::PathBuf, [u8; 32])]) -> String {
    use sha2::{Digest, Sha256};
    let mut sorted: BTreeMap<&str, &PolicyDoc> = BTreeMap::new();
    for (d, _) in docs {
        sorted.insert(&d.value.metadata.name.value, &d.value);
    }
    let canonical = serde_json::to_vec(&sorted).unwrap_or_default();
    let mut h = Sha256::new();
    h.update(b"linewall/v1\0");
    h.update(env!("CARGO_PKG_VERSION").as_bytes());
    h.update(b"\0");
    h.update(&canonical);
    // The terms files' content is policy content too; the documents only name them.
    let mut files: Vec<(&str, &[u8; 32])> =
        term_files.iter().map(|(label, _, sha)| (label.as_str(), sha)).collect();
    files.sort_unstable();
    for (label, sha) in files {
        h.update(b"\0terms_file\0");
        h.update(label.as_bytes());
        h.update(sha);
    }
    let digest = h.finalize();
    hex::encode(&digest[..8])
}

/// The key of the `hash` redaction style: the configured secret salted with the policy
/// version, or a random per-process secret when none is configured. `None` when no key
/// is configured and the OS random number generator fails: a predictable key would make
/// hashed values reversible by anyone who can guess it, so that is a load error.
fn derive_hash_key(configured: Option<&[u8]>, version: &str) -> Option<[u8; 32]> {
    use hmac::{Hmac, Mac};
    static PROCESS_KEY: std::sync::OnceLock<[u8; 32]> = std::sync::OnceLock::new();
    let secret: Vec<u8> = match configured {
        Some(k) => k.to_vec(),
        None => match PROCESS_KEY.get() {
            Some(k) => k.to_vec(),
            None => {
                let mut k = [0u8; 32];
                getrandom::fill(&mut k).ok()?;
                PROCESS_KEY.get_or_init(|| k).to_vec()
            }
        },
    };
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(&secret).ok()?;
    mac.update(b"linewall-hash-redaction\0");
    mac.update(version.as_bytes());
    Some(mac.finalize().into_bytes().into())
}

/// The Thompson NFA size of `pattern` as the regex crate compiles it (Unicode, no
/// captures). `Err(Some(limit))` if it does not fit in `limit` bytes (the build stops
/// there), `Err(None)` if it does not compile at all.
fn nfa_bytes(pattern: &str, limit: usize) -> Result<usize, Option<usize>> {
    use regex_automata::nfa::thompson::{Compiler, Config, WhichCaptures};
    Compiler::new()
        .configure(Config::new().nfa_size_limit(Some(limit)).which_captures(WhichCaptures::None))
        .build(pattern)
        .map(|nfa| nfa.memory_usage())
        .map_err(|e| e.size_limit())
}

/// Automata recently built, by their exact pattern lists, most recent first.
type Recent = Vec<(Vec<String>, LiteralSearcher)>;

/// One automaton over `patterns` (ASCII case-insensitive, overlapping matches); `None`
/// when there are none. `Err` (with a diagnostic pushed) if it cannot be built.
///
/// The last few automata are kept and reused for the same pattern list: every set holds
/// the built-in detectors' literals, so a set without literals of its own (and a reload
/// of an unchanged set) needs exactly the automata built before, whose DFA build was the
/// largest part of loading a set. A [`LiteralSearcher`] is a shared handle: reuse
/// copies nothing.
fn build_automaton(
    patterns: &[String],
    errors: &mut Vec<super::Diagnostic>,
) -> Option<Option<LiteralSearcher>> {
    static RECENT: std::sync::Mutex<Recent> = std::sync::Mutex::new(Vec::new());
    if patterns.is_empty() {
        return Some(None);
    }
    {
        let mut recent = RECENT.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(i) = recent.iter().position(|(p, _)| p.as_slice() == patterns) {
            let hit = recent.remove(i);
            let ac = hit.1.clone();
            recent.insert(0, hit);
            return Some(Some(ac));
        }
    }
    let built = build_new_automaton(patterns, errors)?;
    let mut recent = RECENT.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    recent.insert(0, (patterns.to_vec(), built.clone()));
    recent.truncate(RECENT_AUTOMATA);
    Some(Some(built))
}

/// Builds the automaton of [`build_automaton`]; `None` (with a diagnostic) on failure.
fn build_new_automaton(patterns: &[String], errors: &mut Vec<super::Diagnostic>) -> Option<LiteralSearcher> {
    // A full DFA: overlapping search is one table lookup per byte. Large dictionaries get
    // a contiguous NFA: the DFA build would cost more than it saves.
    let bytes: usize = patterns.iter().map(String::len).sum();
    match LiteralSearcher::new(patterns, bytes <= MAX_DFA_PATTERN_BYTES) {
        Ok(ac) => Some(ac),
        Err(e) => {
            errors.push(super::Diagnostic::unplaced(
                super::Code::PolicySet,
                "<policy set>",
                format!("cannot build the literal automaton: {e}"),
            ));
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::{LoadOptions, PolicySet};

    #[test]
    fn the_shipped_packs_keep_dfa_automata_and_reuse_them() {
        // The DFA threshold bounds load time; it must not cost the packs their fast scan.
        let set = PolicySet::builtin(&LoadOptions::default()).expect("packs");
        let automata: Vec<_> = [&set.literals, &set.keywords].into_iter().flatten().collect();
        assert_eq!(automata.len(), 2);
        for ac in automata {
            assert!(ac.is_dfa());
        }
        let again = PolicySet::builtin(&LoadOptions::default()).expect("packs");
        assert_eq!(
            again.literals.as_ref().map(|a| a.patterns_len()),
            set.literals.as_ref().map(|a| a.patterns_len())
        );
    }
}
