//! Joining: the joinable detectors run over the earlier fragments of a chain followed by
//! the leading fragment of the message being judged.

use std::sync::LazyLock;

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, AhoCorasickKind, MatchKind};

use super::Turn;
use super::fragment::Run;
use super::store::Fragment;
use crate::detect::builtin::{self, Built};
use crate::detect::context::is_word_boundary;
use crate::detect::{Candidate, Confidence, Field};
use crate::eval::fields::FieldPath;
use crate::policy::PolicySet;
use crate::policy::compile::CompiledGate;
use crate::verdict::FindingPart;

/// Bytes of the judged message after its fragment given to detectors as context.
const CONTEXT_AFTER_BYTES: usize = 40;
/// Bytes before an earlier fragment searched for context words.
const CONTEXT_BEFORE_BYTES: usize = 40;
/// Context words remembered per fragment.
const MAX_CONTEXT_WORDS: usize = 4;

/// A value found split across messages: a finding of the judged message.
#[derive(Debug, Clone, PartialEq)]
pub struct SplitFinding {
    /// Detector index in the policy set.
    pub(crate) detector: usize,
    /// Field of the judged message holding its fragment.
    pub(crate) field: FieldPath,
    /// Original byte span of the fragment's share of the value.
    pub(crate) start: usize,
    pub(crate) end: usize,
    pub(crate) confidence: Confidence,
    /// The earlier fragments' shares.
    pub(crate) parts: Vec<FindingPart>,
}

/// Per built-in detector (same order as [`builtin::built`]): its keyword matcher when it
/// is joinable.
static JOIN_KEYWORDS: LazyLock<Vec<Option<AhoCorasick>>> = LazyLock::new(|| {
    builtin::built()
        .iter()
        .map(|b| {
            b.spec
                .joinable
                .then(|| AhoCorasickBuilder::new().ascii_case_insensitive(true).build(b.spec.keywords).ok())?
        })
        .collect()
});

/// Every context word of every joinable detector, to note the words before a fragment.
static CONTEXT_WORDS: LazyLock<Option<(AhoCorasick, Vec<&'static str>)>> = LazyLock::new(|| {
    let mut words: Vec<&'static str> = builtin::all()
        .filter(|d| d.joinable)
        .flat_map(|d| d.keywords.iter().copied())
        .filter(|w| w.len() <= crate::detect::context::MAX_KEYWORD_BYTES)
        .collect();
    words.sort_unstable();
    words.dedup();
    // A DFA without prefilter: the haystack is at most 40 bytes, where a prefilter's
    // set-up costs more than the scan, and this runs for every fragment remembered.
    let ac = AhoCorasickBuilder::new()
        .ascii_case_insensitive(true)
        .match_kind(MatchKind::LeftmostLongest)
        .kind(Some(AhoCorasickKind::DFA))
        .prefilter(false)
        .build(&words)
        .ok()?;
    Some((ac, words))
});

/// `r` without the context words it starts with: `TFN 123 45` is the keyword `tfn`
/// and the fragment `123 45` (capitals-only tokens belong to runs, for IBAN groups).
pub(crate) fn skip_keywords(t: &str, mut r: Run) -> Run {
    let Some((_, words)) = CONTEXT_WORDS.as_ref() else { return r };
    let b = t.as_bytes();
    loop {
        let mut e = r.start;
        while e < r.end && b[e].is_ascii_alphabetic() {
            e += 1;
        }
        if e == r.start || e >= r.end || b[e].is_ascii_alphanumeric() {
            return r;
        }
        // The words are lower case; compare without allocating a lower-cased copy.
        let token = &b[r.start..e];
        let lower = |w: &&str| w.bytes().cmp(token.iter().map(u8::to_ascii_lowercase));
        if words.binary_search_by(lower).is_err() {
            return r;
        }
        let mut next = e;
        while next < r.end && !b[next].is_ascii_alphanumeric() {
            next += 1;
        }
        r.start = next;
    }
}

/// The joinable detectors' context words in `t[..at]` near `at`, lower-cased.
pub(crate) fn context_before(t: &str, at: usize) -> Vec<String> {
    let Some((ac, words)) = CONTEXT_WORDS.as_ref() else { return Vec::new() };
    let mut from = at.saturating_sub(CONTEXT_BEFORE_BYTES);
    while !t.is_char_boundary(from) {
        from -= 1;
    }
    let hay = &t.as_bytes()[from..at];
    let mut out: Vec<String> = Vec::new();
    for m in ac.find_iter(hay) {
        let w = words[m.pattern().as_usize()];
        if is_word_boundary(hay, m.start(), m.end()) && !out.iter().any(|o| o == w) {
            out.push(w.to_owned());
            if out.len() == MAX_CONTEXT_WORDS {
                break;
            }
        }
    }
    out
}

fn ceil_boundary(t: &str, mut at: usize) -> usize {
    at = at.min(t.len());
    while !t.is_char_boundary(at) {
        at += 1;
    }
    at
}

/// Candidates of built-in detector `b` (set index `d`, built-in index `bi`) in `field`,
/// context words applied.
fn detect(b: &Built, d: usize, bi: usize, set: &PolicySet, field: &Field<'_>, out: &mut Vec<Candidate>) {
    out.clear();
    b.matcher.find_in_field(field, out);
    if out.is_empty() {
        return;
    }
    let text = field.text().as_bytes();
    let mut hits = Vec::new();
    if let Some(Some(kw)) = JOIN_KEYWORDS.get(bi) {
        for m in kw.find_overlapping_iter(text) {
            if is_word_boundary(text, m.start(), m.end()) {
                hits.push((m.start(), m.end()));
            }
        }
    }
    hits.sort_unstable();
    let rule = set.detectors[d].context;
    out.retain_mut(|c| rule.apply(c, &hits));
}

/// Whether detector gate `gate` lets the detector run on `field` (holding `digits` ASCII
/// digits), as the message scan decides it (eval/scan.rs): a closed gate means the
/// detector cannot find anything there. Gates that depend on the scan's literal pass
/// (gate literals, keywords) are taken as open.
fn gate_open(gate: &CompiledGate, field: &Field<'_>, digits: usize) -> bool {
    match gate {
        CompiledGate::MinDigits(n) => digits >= *n,
        CompiledGate::RunLengths(m) => digits > 0 && field.run_lengths() & m != 0,
        CompiledGate::AnyByte(set) => field.text().bytes().any(|b| set.contains(&b)),
        CompiledGate::Always | CompiledGate::Literal | CompiledGate::Keywords => true,
    }
}

/// How the fragments are put together for the detectors.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Glue {
    /// As written, one space between fragments: a split between two groups
    /// (`4111 1111` + `1111 1111`) keeps the layout detectors check.
    Spaced,
    /// Separators dropped: a split inside a group (`687 01` + `8` + `9455`) reads as
    /// the compact number.
    Compact,
}

fn is_sep(c: char) -> bool {
    matches!(c, ' ' | '-' | '.' | '/' | '_' | '(' | ')')
}

/// The joined text of one attempt and, per byte, the fragment and byte it came from
/// (`None` for context words and glue).
#[derive(Default)]
struct Joined {
    text: String,
    from: Vec<Option<(u8, u16)>>,
}

impl Joined {
    fn clear(&mut self) {
        self.text.clear();
        self.from.clear();
    }

    fn push_plain(&mut self, s: &str) {
        self.text.push_str(s);
        self.from.extend(std::iter::repeat_n(None, s.len()));
    }

    fn push_fragment(&mut self, seg: u8, s: &str, glue: Glue) {
        for (i, c) in s.char_indices() {
            if glue == Glue::Compact && is_sep(c) {
                continue;
            }
            self.text.push(c);
            for k in 0..c.len_utf8() {
                self.from.push(Some((seg, u16::try_from(i + k).unwrap_or(u16::MAX))));
            }
        }
    }

    /// Byte span `[a, b)` that `[s, e)` of the joined text covers in fragment `seg`.
    fn span_in(&self, seg: u8, s: usize, e: usize) -> Option<(usize, usize)> {
        let mut out: Option<(usize, usize)> = None;
        for &(g, off) in self.from[s..e].iter().flatten() {
            if g == seg {
                let off = usize::from(off);
                out = Some(out.map_or((off, off + 1), |(a, z)| (a.min(off), z.max(off + 1))));
            }
        }
        out
    }
}

/// Values that start in an earlier fragment of `chain` and end in the leading fragment
/// of the judged message.
pub(crate) fn find(set: &PolicySet, turn: &Turn<'_>, lead: Run, chain: &[Fragment]) -> Vec<SplitFinding> {
    let mut found: Vec<SplitFinding> = Vec::new();
    if set.joinable.is_empty() {
        return found;
    }
    let builtins = builtin::built();
    let year = crate::eval::year_of(std::time::SystemTime::now());
    let t = turn.norm.text();
    let lead_text = &t[lead.start..lead.end];
    let after = &t[lead.end..ceil_boundary(t, lead.end + CONTEXT_AFTER_BYTES)];
    let mut joined = Joined::default();
    let mut cands = Vec::new();
    for (i, glue) in (0..chain.len()).flat_map(|i| [(i, Glue::Spaced), (i, Glue::Compact)]) {
        let suffix = &chain[i..];
        // Segment k < suffix.len() is an earlier fragment; the last one is the lead.
        let lead_seg = u8::try_from(suffix.len()).unwrap_or(u8::MAX);
        joined.clear();
        for w in &chain[i].context {
            joined.push_plain(w);
            joined.push_plain(" ");
        }
        for (k, f) in suffix.iter().enumerate() {
            joined.push_fragment(u8::try_from(k).unwrap_or(u8::MAX), &f.text, glue);
            if glue == Glue::Spaced {
                joined.push_plain(" ");
            }
        }
        joined.push_fragment(lead_seg, lead_text, glue);
        if glue == Glue::Compact && !after.starts_with(is_sep) {
            joined.push_plain(" ");
        }
        joined.push_plain(after);
        // One field per attempt: its digit runs and words are derived once for every detector.
        let field = Field::new(&joined.text, year);
        let digits = joined.text.bytes().filter(u8::is_ascii_digit).count();
        for &(d, bi) in &set.joinable {
            let Some(b) = builtins.get(bi) else { continue };
            if !gate_open(&set.detectors[d].gate, &field, digits) {
                continue;
            }
            detect(b, d, bi, set, &field, &mut cands);
            for c in &cands {
                // It must start in the first fragment and reach into the lead.
                if !matches!(joined.from.get(c.start), Some(Some((0, _)))) {
                    continue;
                }
                let Some((a, z)) = joined.span_in(lead_seg, c.start, c.end) else { continue };
                let (start, end) = turn.norm.original_span(lead.start + a, lead.start + z);
                if found.iter().any(|f| f.detector == d && f.start == start && f.end == end) {
                    continue;
                }
                let parts = suffix
                    .iter()
                    .enumerate()
                    .filter_map(|(k, f)| {
                        let (a, z) = joined.span_in(u8::try_from(k).ok()?, c.start, c.end)?;
                        let (ps, pe) = f.original_chars(a, z);
                        Some(FindingPart {
                            message_id: f.message_id.clone(),
                            field: f.field.as_str().to_owned(),
                            start: ps,
                            end: pe,
                        })
                    })
                    .collect();
                found.push(SplitFinding {
                    detector: d,
                    field: turn.field.path(),
                    start,
                    end,
                    confidence: c.confidence,
                    parts,
                });
            }
        }
    }
    found
}
