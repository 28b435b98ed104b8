//! Scanning one field: normalization, the shared literal pass, gated detectors, context
//! words, exclusions, and offsets mapped back to the original text.
//!
//! Every detector (built-in, policy `pattern` or `terms`, plugin) runs the same way:
//! through [`Detector::try_find_in_field`] over one [`Field`] context built once per field.

use super::RawFinding;
use super::fields::FieldPath;
use crate::detect::context::is_word_boundary;
use crate::detect::{Candidate, Field, LiteralHit, Origin};
use crate::message::Message;
use crate::normalize::Normalized;
use crate::policy::PolicySet;
use crate::policy::compile::{CompiledGate, LitRole};
use crate::verdict::EvalError;

/// Buffers reused across the fields of one message.
#[derive(Default)]
pub(crate) struct Scratch {
    /// Hits of the eager automaton (gate literals, terms, gating keywords).
    hits: Vec<LiteralHit>,
    /// Hits of the lazy keyword automaton (context words), pattern ids offset.
    keyword_hits: Vec<LiteralHit>,
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
        // The literal hits are found once per field, for every detector; the field keeps
        // them while the detectors run (taken out of the scratch so that it can lend them).
        let mut hits = std::mem::take(&mut s.hits);
        hits.clear();
        if let Some(ac) = &self.literals {
            ac.for_each_match(norm.text().as_bytes(), |pattern, start, end| {
                hits.push(LiteralHit { pattern, start: start as u32, end: end as u32 });
            });
        }
        // Digit runs and label words are derived on first use, once per field.
        let field = Field::new(norm.text(), run.year)
            .with_literals(&hits)
            .with_origin(Origin { message: run.msg, path: &path });
        s.local.clear();
        s.keyword_hits.clear();
        s.literal_open.clear();
        s.literal_open.resize(self.detectors.len(), false);
        s.keyword_seen.clear();
        s.keyword_seen.resize(self.detectors.len(), false);
        self.note_hits(&hits, s);
        let finished = self.run_detectors(run, &field, norm, path, s, errors);
        drop(field);
        s.hits = hits;
        if !finished {
            return;
        }
        // One finding per detector and span, in text order (sorting keeps this linear-ish
        // however many matches a hostile message holds).
        s.local.sort_by_key(|f| (f.start, f.end, f.detector));
        s.local.dedup_by_key(|f| (f.start, f.end, f.detector));
        out.extend_from_slice(&s.local);
    }

    /// The detector loop of [`Self::scan_field`]: every needed detector whose gate is open
    /// runs over `field`; false when the caller's cancel flag stopped it.
    fn run_detectors(
        &self,
        run: &MessageScan<'_>,
        field: &Field<'_>,
        norm: &Normalized,
        path: FieldPath,
        s: &mut Scratch,
        errors: &mut Vec<EvalError>,
    ) -> bool {
        let bytes = field.text().as_bytes();
        let digits = count_digits(bytes);
        let mut context_scanned = false;
        for (d, entry) in self.detectors.iter().enumerate() {
            if !run.needed[d] {
                continue;
            }
            if super::cancelled(run.cancel) {
                return false;
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
            if let Err(e) = entry.matcher.detector().try_find_in_field(field, &mut s.candidates) {
                // A failed detector reports nothing; the verdict carries its error once.
                s.candidates.clear();
                if !errors.iter().any(|x| x.detector == entry.id) {
                    errors.push(EvalError {
                        detector: entry.id.clone(),
                        error: e.to_string(),
                        on_error: entry.on_error,
                    });
                }
            }
            if s.candidates.is_empty() {
                continue;
            }
            if entry.has_keywords && !context_scanned {
                context_scanned = true;
                self.scan_keywords(bytes, s);
            }
            self.keep_candidates(d, field, norm, path, s);
        }
        true
    }

    /// Finds the lazy keyword automaton's hits (context words that only adjust confidence).
    fn scan_keywords(&self, bytes: &[u8], s: &mut Scratch) {
        if let Some(ac) = &self.keywords {
            let mut hits = std::mem::take(&mut s.keyword_hits);
            let offset = self.keyword_offset;
            ac.for_each_match(bytes, |p, start, end| {
                hits.push(LiteralHit { pattern: p + offset, start: start as u32, end: end as u32 });
            });
            self.note_hits(&hits, s);
            s.keyword_hits = hits;
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
            for h in field.literal_hits().iter().chain(&s.keyword_hits) {
                let (hs, he) = (h.start as usize, h.end as usize);
                if self.literal_roles[h.pattern as usize].contains(&(d, LitRole::Keyword))
                    && is_word_boundary(bytes, hs, he)
                {
                    s.keywords.push((hs, he));
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

    /// Records which detectors the literal `hits` open or give keywords to.
    fn note_hits(&self, hits: &[LiteralHit], s: &mut Scratch) {
        for h in hits {
            for &(d, role) in &self.literal_roles[h.pattern as usize] {
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
