//! Context words: keywords near a match raise its confidence, or are required.

use super::{Candidate, Confidence};

/// Longest keyword considered, in bytes; longer keywords are ignored by the matcher.
pub const MAX_KEYWORD_BYTES: usize = 64;

/// How context words affect one detector's candidates.
#[derive(Debug, Clone, Copy)]
pub struct ContextRule {
    /// Bytes before the start or after the end of a match that a keyword may be.
    pub window: usize,
    /// Drop candidates with no keyword in the window.
    pub requires: bool,
    /// Confidence given to a candidate with a keyword in the window.
    pub boosted: Confidence,
}

impl ContextRule {
    /// Applies the rule to `c` given the byte spans of this detector's keyword
    /// occurrences in the same text, sorted by start. Returns false to drop it.
    pub fn apply(&self, c: &mut Candidate, hits: &[(usize, usize)]) -> bool {
        let lo = c.start.saturating_sub(self.window);
        let hi = c.end.saturating_add(self.window);
        // A keyword inside the match itself (e.g. `password=` in a password assignment)
        // counts too. Binary search keeps a message with thousands of matches and
        // keywords linear-logarithmic: only keywords starting at most MAX_KEYWORD_BYTES
        // before the window can reach into it.
        let upto = hits.partition_point(|&(s, _)| s <= hi);
        let near = hits[..upto]
            .iter()
            .rev()
            .take_while(|&&(s, _)| s.saturating_add(MAX_KEYWORD_BYTES) >= lo)
            .any(|&(_, e)| e >= lo);
        if near {
            c.confidence = c.confidence.max(self.boosted);
            true
        } else {
            !self.requires
        }
    }
}

/// True when `[start, end)` neither starts nor ends inside a word.
pub fn is_word_boundary(bytes: &[u8], start: usize, end: usize) -> bool {
    let word = |b: u8| b.is_ascii_alphanumeric() || b == b'_' || b >= 0x80;
    let first_is_word = bytes.get(start).is_some_and(|&b| word(b));
    let last_is_word = end > 0 && bytes.get(end - 1).is_some_and(|&b| word(b));
    let before_ok = start == 0 || !first_is_word || !word(bytes[start - 1]);
    let after_ok = end >= bytes.len() || !last_is_word || !word(bytes[end]);
    before_ok && after_ok
}
