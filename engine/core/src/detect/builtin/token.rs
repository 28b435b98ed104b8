//! Shared matching for token-shaped detectors (securities, keys, addresses): one regex,
//! the value in capture group 1 (or the whole match), and a check that decides the
//! confidence of each value or rejects it.

use regex::Regex;

use super::digits::{ceil_boundary, floor_boundary};
use crate::detect::field::Word;
use crate::detect::{Candidate, Confidence, Detector, Field};

/// Decides a value's confidence, or rejects it (`None`). Gets the whole text and the
/// value's byte span in it, for checks that look at the surroundings.
pub type Check = fn(text: &str, start: usize, end: usize) -> Option<Confidence>;

/// One regex and one check.
pub struct TokenMatcher {
    re: Regex,
    check: Check,
    groups: bool,
    /// Where the regex runs.
    scope: Scope,
}

/// The parts of a field a [`TokenMatcher`] searches.
#[derive(Clone, Copy)]
enum Scope {
    /// The whole text.
    Text,
    /// The words that pass the shape (see [`TokenMatcher::in_words`]).
    Words(fn(&Word) -> bool),
    /// Chains of at least `min` words joined by single `joiners` bytes (see
    /// [`TokenMatcher::in_chains`]).
    Chains { joiners: &'static [u8], min: usize },
}

impl TokenMatcher {
    /// Compiles `pattern` (a static, tested pattern).
    pub fn new(pattern: &str, check: Check) -> Self {
        let re = Regex::new(pattern).expect("static regex");
        let groups = re.captures_len() > 1;
        Self { re, check, groups, scope: Scope::Text }
    }

    /// Runs the regex only over the field's words (see [`Word`]) that pass `shape`,
    /// never over the whole text. Only for a pattern whose every match is one whole
    /// word: `(?-u:\b)` on both ends, letters and digits only in between, no groups.
    pub fn in_words(mut self, shape: fn(&Word) -> bool) -> Self {
        debug_assert!(!self.groups, "a word-shaped pattern has no groups");
        self.scope = Scope::Words(shape);
        self
    }

    /// Runs the regex only over chains of at least `min` words joined by exactly one
    /// of `joiners` (`00:1A:2B:3C:4D:5E`). Only for a pattern whose every match is such
    /// a chain or part of one, `(?-u:\b)` on both ends, without groups.
    pub fn in_chains(mut self, joiners: &'static [u8], min: usize) -> Self {
        debug_assert!(!self.groups, "a chain-shaped pattern has no groups");
        self.scope = Scope::Chains { joiners, min };
        self
    }

    fn find_whole(&self, text: &str, from: usize, to: usize, out: &mut Vec<Candidate>) {
        for m in self.re.find_iter(&text[from..to]) {
            let (s, e) = (from + m.start(), from + m.end());
            if let Some(confidence) = (self.check)(text, s, e) {
                out.push(Candidate { start: s, end: e, confidence });
            }
        }
    }
}

impl Detector for TokenMatcher {
    fn find_in_field(&self, field: &Field<'_>, out: &mut Vec<Candidate>) {
        // A word (or a chain) is all a match can be, and the slice's ends are word
        // boundaries as they are in the text: the same matches, for a fraction of the bytes.
        let text = field.text();
        match self.scope {
            Scope::Words(shape) => {
                for w in field.words().iter().filter(|w| shape(w)) {
                    self.find_whole(text, w.start as usize, w.end as usize, out);
                }
            }
            Scope::Chains { joiners, min } => {
                let words = field.words();
                let b = text.as_bytes();
                let joined =
                    |a: &Word, z: &Word| z.start == a.end + 1 && joiners.contains(&b[a.end as usize]);
                let mut i = 0;
                while i < words.len() {
                    let mut k = i;
                    while k + 1 < words.len() && joined(&words[k], &words[k + 1]) {
                        k += 1;
                    }
                    if k + 1 - i >= min {
                        self.find_whole(text, words[i].start as usize, words[k].end as usize, out);
                    }
                    i = k + 1;
                }
            }
            Scope::Text => self.find(text, out),
        }
    }

    fn find(&self, text: &str, out: &mut Vec<Candidate>) {
        if !self.groups {
            self.find_whole(text, 0, text.len(), out);
            return;
        }
        let mut at = 0;
        while at <= text.len() {
            let Some(c) = self.re.captures_at(text, at) else { break };
            let Some(whole) = c.get(0) else { break };
            // The first group that took part is the value.
            let m = (1..c.len()).find_map(|i| c.get(i)).unwrap_or(whole);
            if let Some(confidence) = (self.check)(text, m.start(), m.end()) {
                out.push(Candidate { start: m.start(), end: m.end(), confidence });
            }
            // Terminator bytes consumed by the match may start the next value.
            at = if m.end() > at { m.end() } else { ceil_boundary(text, whole.end().max(at + 1)) };
        }
    }
}

/// Several matchers run one after the other (a detector with several token shapes).
pub struct Many(pub Vec<Box<dyn Detector>>);

impl Detector for Many {
    fn find_in_field(&self, field: &Field<'_>, out: &mut Vec<Candidate>) {
        for d in &self.0 {
            d.find_in_field(field, out);
        }
    }
}

/// Always `High`: the format alone is unmistakable.
pub fn high(_: &str, _: usize, _: usize) -> Option<Confidence> {
    Some(Confidence::High)
}

/// Always `Medium`.
pub fn medium(_: &str, _: usize, _: usize) -> Option<Confidence> {
    Some(Confidence::Medium)
}

/// Shannon entropy of `s` in bits per byte.
pub fn entropy(s: &str) -> f64 {
    let mut counts = [0u32; 256];
    for b in s.bytes() {
        counts[usize::from(b)] += 1;
    }
    let n = s.len() as f64;
    if n == 0.0 {
        return 0.0;
    }
    counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = f64::from(c) / n;
            -p * p.log2()
        })
        .sum()
}

/// True when the `window` bytes before `start` (or after `end`) hold one of `words`
/// (lower-case), ASCII case-insensitively.
pub fn near(text: &str, start: usize, end: usize, window: usize, words: &[&str]) -> bool {
    let lo = floor_boundary(text, start.saturating_sub(window));
    let hi = ceil_boundary(text, end.saturating_add(window).min(text.len()));
    let hay = text[lo..hi].to_ascii_lowercase();
    words.iter().any(|w| hay.contains(w))
}

/// True when `window` bytes before `start` hold one of `words` (lower-case).
pub fn before(text: &str, start: usize, window: usize, words: &[&str]) -> bool {
    let lo = floor_boundary(text, start.saturating_sub(window));
    let hay = text[lo..start].to_ascii_lowercase();
    words.iter().any(|w| hay.contains(w))
}

/// Number of character classes (lower, upper, digit, other) in `s`.
pub fn classes(s: &str) -> usize {
    let b = s.as_bytes();
    [
        b.iter().any(u8::is_ascii_lowercase),
        b.iter().any(u8::is_ascii_uppercase),
        b.iter().any(u8::is_ascii_digit),
        b.iter().any(|x| !x.is_ascii_alphanumeric()),
    ]
    .iter()
    .filter(|&&x| x)
    .count()
}

/// Value of an alphanumeric character: 0–9 for digits, A=10 … Z=35 (either case).
pub fn alnum_value(c: u8) -> Option<u32> {
    match c {
        b'0'..=b'9' => Some(u32::from(c - b'0')),
        b'A'..=b'Z' => Some(u32::from(c - b'A') + 10),
        b'a'..=b'z' => Some(u32::from(c - b'a') + 10),
        _ => None,
    }
}

/// Decodes unpadded base64url (`-`, `_`); `None` on any other character.
pub fn b64url_decode(s: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0);
    for c in s.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'-' | b'+' => 62,
            b'_' | b'/' => 63,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entropy_of_repeated_and_mixed_text() {
        assert!(entropy("aaaaaaaa") < 0.01);
        assert!((entropy("abcd") - 2.0).abs() < 1e-9);
    }

    #[test]
    fn matcher_reports_the_first_group_and_restarts_after_it() {
        let m = TokenMatcher::new(r"(?:^|[^a-z])([a-z]{3})(?:[^a-z]|$)", medium);
        let mut out = Vec::new();
        m.find("abc def", &mut out);
        let spans: Vec<(usize, usize)> = out.iter().map(|c| (c.start, c.end)).collect();
        assert_eq!(spans, vec![(0, 3), (4, 7)]);
    }
}
