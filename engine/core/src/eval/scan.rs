//! Scanning one field: normalization, the shared literal pass, gated detectors, context
//! words, exclusions, and offsets mapped back to the original text.

use super::RawFinding;
use super::fields::FieldPath;
use crate::detect::context::is_word_boundary;
use crate::detect::{Candidate, Detector, Field};
use crate::message::Message;
use crate::normalize::Normalized;
use crate::plugin::PluginInput;
use crate::policy::PolicySet;
use crate::policy::compile::{CompiledGate, LitRole, Matcher, TermsMatcher};
use crate::verdict::EvalError;

/// Buffers reused across the fields of one message.
#[derive(Default)]
pub(crate) struct Scratch {
    /// Literal hits: (pattern, start, end).
    hits: Vec<(u32, u32, u32)>,
    candidates: Vec<Candidate>,
    keywords: Vec<(usize, usize)>,
    local: Vec<RawFinding>,
    /// Per detector: one of its gate literals or terms occurs in the field.
    literal_open: Vec<bool>,
    /// Per detector: one of its keywords occurs in the field.
    keyword_seen: Vec<bool>,
}

/// What the scan of every field of one message shares.
pub(crate) struct MessageScan<'a> {
    /// Per detector: whether a candidate rule references it.
    pub needed: &'a [bool],
    /// The message (its metadata is a plugin's input).
    pub msg: &'a Message,
    /// The year of the decision's clock (for detectors that judge dates).
    pub year: i32,
    /// The caller's cancel flag: once raised, no further detector or plugin runs.
    pub cancel: Option<&'a std::sync::atomic::AtomicBool>,
    /// One field's text already normalized by the caller (conversations do it to find
    /// the boundary fragments), so it is not normalized twice.
    pub normalized: Option<(FieldPath, &'a Normalized<'a>)>,
}

impl PolicySet {
    /// Scans one field with the detectors flagged in `run.needed`, appending findings.
    pub(crate) fn scan_field(
        &self,
        run: &MessageScan<'_>,
        path: FieldPath,
        text: &str,
        s: &mut Scratch,
        out: &mut Vec<RawFinding>,
        errors: &mut Vec<EvalError>,
    ) {
        let own;
        let norm = match run.normalized {
            Some((p, n)) if p == path => n,
            _ => {
                own = Normalized::new(text);
                &own
            }
        };
        // Digit runs and label words are derived once per field, for every detector.
        let field = Field::new(norm.text(), run.year);
        let bytes = field.text().as_bytes();
        let digits = count_digits(bytes);
        s.hits.clear();
        if let Some(ac) = &self.literals {
            let hits = &mut s.hits;
            ac.for_each_match(bytes, |p, start, end| hits.push((p, start as u32, end as u32)));
        }
        s.local.clear();
        s.literal_open.clear();
        s.literal_open.resize(self.detectors.len(), false);
        s.keyword_seen.clear();
        s.keyword_seen.resize(self.detectors.len(), false);
        self.note_hits(0, s);
        let mut context_scanned = false;
        for (d, entry) in self.detectors.iter().enumerate() {
            if !run.needed[d] {
                continue;
            }
            if super::cancelled(run.cancel) {
                return;
            }
            let open = match entry.gate {
                CompiledGate::Always => true,
                CompiledGate::MinDigits(n) => digits >= n,
                CompiledGate::RunLengths(m) => digits > 0 && field.run_lengths() & m != 0,
                CompiledGate::AnyByte(set) => any_byte(set, bytes),
                CompiledGate::Literal => s.literal_open[d],
                CompiledGate::Keywords => s.keyword_seen[d],
            };
            if !open {
                continue;
            }
            s.candidates.clear();
            self.find_candidates(d, &field, run, path, s, errors);
            if s.candidates.is_empty() {
                continue;
            }
            if entry.has_keywords && !context_scanned {
                context_scanned = true;
                self.scan_keywords(bytes, s);
            }
            self.keep_candidates(d, &field, norm, path, s);
        }
        // One finding per detector and span, in text order (sorting keeps this linear-ish
        // however many matches a hostile message holds).
        s.local.sort_by_key(|f| (f.start, f.end, f.detector));
        s.local.dedup_by_key(|f| (f.start, f.end, f.detector));
        out.extend_from_slice(&s.local);
    }

    /// Runs detector `d` over the field, into `s.candidates`.
    fn find_candidates(
        &self,
        d: usize,
        field: &Field<'_>,
        run: &MessageScan<'_>,
        path: FieldPath,
        s: &mut Scratch,
        errors: &mut Vec<EvalError>,
    ) {
        let entry = &self.detectors[d];
        let t = field.text();
        match &entry.matcher {
            Matcher::Builtin(b) => b.matcher.find_in_field(field, &mut s.candidates),
            Matcher::Pattern(p) => p.find_in_field(field, &mut s.candidates),
            Matcher::Terms(m) => {
                terms_candidates(self, d, m, t.as_bytes(), &s.hits, entry.base, &mut s.candidates)
            }
            Matcher::Plugin { plugin, on_error } => {
                let msg = run.msg;
                let input = PluginInput {
                    text: t,
                    field: &path.to_string(),
                    channel: msg.channel,
                    direction: msg.direction,
                    attributes: &msg.attributes,
                };
                match plugin.detect(&input) {
                    Ok(found) => s.candidates.extend(found.into_iter().filter_map(|f| {
                        (f.start < f.end
                            && f.end <= t.len()
                            && t.is_char_boundary(f.start)
                            && t.is_char_boundary(f.end))
                        .then_some(Candidate { start: f.start, end: f.end, confidence: f.confidence })
                    })),
                    Err(e) => {
                        if !errors.iter().any(|x| x.detector == entry.id) {
                            errors.push(EvalError {
                                detector: entry.id.clone(),
                                error: e.to_string(),
                                on_error: *on_error,
                            });
                        }
                    }
                }
            }
        }
    }

    /// Adds the lazy keyword automaton's hits (context words that only adjust confidence).
    fn scan_keywords(&self, bytes: &[u8], s: &mut Scratch) {
        if let Some(ac) = &self.keywords {
            let from = s.hits.len();
            let (hits, offset) = (&mut s.hits, self.keyword_offset);
            ac.for_each_match(bytes, |p, start, end| hits.push((p + offset, start as u32, end as u32)));
            self.note_hits(from, s);
        }
    }

    /// Applies detector `d`'s context words and exclusions to `s.candidates` and keeps
    /// the survivors in `s.local`, in original offsets.
    fn keep_candidates(
        &self,
        d: usize,
        field: &Field<'_>,
        norm: &Normalized,
        path: FieldPath,
        s: &mut Scratch,
    ) {
        let entry = &self.detectors[d];
        let t = field.text();
        let bytes = t.as_bytes();
        s.keywords.clear();
        if entry.has_keywords && s.keyword_seen[d] {
            for &(p, hs, he) in &s.hits {
                if self.literal_roles[p as usize].contains(&(d, LitRole::Keyword))
                    && is_word_boundary(bytes, hs as usize, he as usize)
                {
                    s.keywords.push((hs as usize, he as usize));
                }
            }
        }
        s.keywords.sort_unstable();
        for c in &mut s.candidates {
            if !entry.context.apply(c, &s.keywords) {
                continue;
            }
            if !entry.exclude.is_empty() {
                let v = t[c.start..c.end].to_lowercase();
                if entry.exclude.contains(&v) {
                    continue;
                }
            }
            let (start, end) = norm.original_span(c.start, c.end);
            s.local.push(RawFinding {
                detector: d,
                field: path,
                start,
                end,
                confidence: c.confidence,
                split: false,
            });
        }
    }

    /// Records which detectors the literal hits from `from` on open or give keywords to.
    fn note_hits(&self, from: usize, s: &mut Scratch) {
        for &(p, _, _) in &s.hits[from..] {
            for &(d, role) in &self.literal_roles[p as usize] {
                match role {
                    LitRole::Keyword => s.keyword_seen[d] = true,
                    LitRole::Gate | LitRole::Term => s.literal_open[d] = true,
                }
            }
        }
    }

    /// Runs one detector alone over a text (for `examples` checks), with every gate open.
    pub(crate) fn detect_with(&self, detector: usize, text: &str) -> Vec<RawFinding> {
        let mut needed = vec![false; self.detectors.len()];
        needed[detector] = true;
        let msg = Message::text(text);
        let run = MessageScan {
            needed: &needed,
            msg: &msg,
            year: super::year_of(std::time::SystemTime::now()),
            cancel: None,
            normalized: None,
        };
        let mut out = Vec::new();
        let mut errors = Vec::new();
        self.scan_field(&run, FieldPath::Text, text, &mut Scratch::default(), &mut out, &mut errors);
        out
    }
}

/// Dictionary matches of terms detector `d`: whole words, leftmost-longest, no overlaps.
fn terms_candidates(
    set: &PolicySet,
    d: usize,
    m: &TermsMatcher,
    bytes: &[u8],
    hits: &[(u32, u32, u32)],
    base: crate::detect::Confidence,
    out: &mut Vec<Candidate>,
) {
    let mut mine: Vec<(usize, usize)> = hits
        .iter()
        .filter(|&&(p, s, e)| {
            let (s, e) = (s as usize, e as usize);
            set.literal_roles[p as usize].contains(&(d, LitRole::Term))
                && (!m.whole_word || is_word_boundary(bytes, s, e))
                && m.exact.as_ref().is_none_or(|x| bytes.get(s..e).is_some_and(|b| x.contains(b)))
        })
        .map(|&(_, s, e)| (s as usize, e as usize))
        .collect();
    mine.sort_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)));
    let mut last_end = 0;
    for (s, e) in mine {
        if s >= last_end {
            out.push(Candidate { start: s, end: e, confidence: base });
            last_end = e;
        }
    }
}

/// ASCII digits in `bytes`. Summed in chunks of at most 255 into a `u8`, which the
/// compiler turns into 16 or 32 byte-wide lanes (a `usize` counter gets 2 or 4): this
/// runs over every byte of every field.
fn count_digits(bytes: &[u8]) -> usize {
    bytes
        .chunks(255)
        .map(|c| {
            usize::from(c.iter().map(|&b| u8::from(b.wrapping_sub(b'0') < 10)).fold(0u8, u8::wrapping_add))
        })
        .sum()
}

/// Whether any of `set` occurs in `bytes` (memchr for up to three bytes).
fn any_byte(set: &[u8], bytes: &[u8]) -> bool {
    match *set {
        [a] => memchr::memchr(a, bytes).is_some(),
        [a, b] => memchr::memchr2(a, b, bytes).is_some(),
        [a, b, c] => memchr::memchr3(a, b, c, bytes).is_some(),
        _ => bytes.iter().any(|b| set.contains(b)),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn digit_count_and_byte_gate() {
        let text = "1a2b3c".repeat(200);
        assert_eq!(super::count_digits(text.as_bytes()), 600);
        assert_eq!(super::count_digits(b"\xd9\xa1 no ascii digits /:"), 0);
        assert!(super::any_byte(b"@", b"mail me at x@y.z"));
        assert!(!super::any_byte(b".:", b"no dots or colons"));
        assert!(super::any_byte(b"xyz@", b"@"));
    }
}
