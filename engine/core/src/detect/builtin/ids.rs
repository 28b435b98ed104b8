//! Shared matchers of the identifier detectors of §1a–1e, 1g, 1j: a fixed-length digit
//! number in known groupings, and a regex shape, each confirmed by a check function.

use regex::Regex;

use super::digits::{self, Run};
use crate::detect::field::Word;
use crate::detect::{Candidate, Confidence, Detector, Field};

/// Bytes before or after a candidate searched for a label by [`labelled_near`] (room for
/// a Thai or CJK label of 20 characters at 3 bytes each).
const LABEL_WINDOW: usize = 64;

/// Whether one of `words` (lower-case) occurs within [`LABEL_WINDOW`] bytes of `[start, end)`.
pub fn labelled_near(field: &Field<'_>, start: usize, end: usize, words: &[&str]) -> bool {
    field.has_word(start.saturating_sub(LABEL_WINDOW), end + LABEL_WINDOW, words)
}

/// Words that label a number as something else (a card, an account, a phone number, an
/// order): right before a bare number they rule an identifier out.
const OTHER_LABELS: &[&str] = &[
    "card",
    "acct",
    "account",
    "order",
    "invoice",
    "phone",
    "tel",
    "mobile",
    "call",
    "fax",
    "tracking",
    "routing",
    "iban",
    "amount",
    "total",
    "ticket",
    "visa",
    "mastercard",
    "amex",
    "whatsapp",
];
/// Words before `card` that make it an identity card after all.
const ID_CARD: &[&str] =
    &["id", "identity", "identification", "insurance", "medicare", "health", "kad", "ic"];

/// Whether the word right before byte `start` labels the number as something else.
pub fn other_label_before(text: &str, start: usize) -> bool {
    let lo = digits::floor_boundary(text, start.saturating_sub(24));
    let before = text[lo..start].to_ascii_lowercase();
    let mut words = before.split(|c: char| !c.is_ascii_alphabetic()).filter(|w| !w.is_empty()).rev();
    let Some(last) = words.next() else { return false };
    // Only the label right before the number counts: `card 4106 ...` but not `card: see BSN 1...`.
    let tail = before.trim_end_matches(|c: char| !c.is_ascii_alphabetic());
    if before.len() - tail.len() > 4 {
        return false;
    }
    OTHER_LABELS.contains(&last) && !(last == "card" && words.next().is_some_and(|w| ID_CARD.contains(&w)))
}

/// The separator bytes between digit `i - 1` and digit `i` of a run.
fn sep<'t>(text: &'t str, run: &Run, i: usize) -> &'t [u8] {
    &text.as_bytes()[run.pos[i - 1] as usize + 1..run.pos[i] as usize]
}

/// A number of one of `lens` digits, written unbroken, one digit per group, or in one of
/// `shapes`; `bare_words`, when not empty, must label an unbroken or odd-shaped number.
pub struct DigitId {
    /// Accepted digit counts.
    pub lens: &'static [usize],
    /// Groupings that are the identifier's own written form.
    pub shapes: &'static [&'static [usize]],
    /// Validator over the digits.
    pub check: fn(&str) -> bool,
    /// Labels required for a number not written in one of `shapes` (empty: none required).
    pub bare_words: &'static [&'static str],
    /// Whether a number in some other grouping is accepted at all.
    pub any_shape: bool,
}

impl DigitId {
    fn consider(&self, field: &Field<'_>, run: &Run, a: usize, b: usize, out: &mut Vec<Candidate>) {
        let text = field.text();
        let g = run.groups(a, b);
        let own = self.shapes.contains(&g.as_slice());
        let unbroken = g.len() == 1;
        let spaced_out = g.iter().all(|&x| x == 1);
        if !(own || unbroken || spaced_out || self.any_shape) {
            return;
        }
        let (s, e) = run.span(a, b);
        if other_label_before(text, s) {
            return;
        }
        if !own && !self.bare_words.is_empty() && !labelled_near(field, s, e, self.bare_words) {
            return;
        }
        if (self.check)(run.digit_str(a, b)) {
            out.push(Candidate { start: s, end: e, confidence: Confidence::Medium });
        }
    }
}

impl Detector for DigitId {
    fn find_in_field(&self, field: &Field<'_>, out: &mut Vec<Candidate>) {
        let text = field.text();
        {
            for run in field.runs() {
                if run.plus || run.len > digits::MAX_DIGITS {
                    continue;
                }
                if self.lens.contains(&run.len) {
                    if !run.attached {
                        self.consider(field, run, 0, run.len, out);
                    }
                    continue;
                }
                // A number followed or preceded by another one across a space
                // (`BSN 123456782 12-03-2024`): a window that starts and ends at a group
                // boundary and whose outer separators differ from its inner ones, so
                // that a sub-span of a uniformly separated longer group is never taken.
                for &len in self.lens {
                    if run.len <= len {
                        continue;
                    }
                    for a in 0..=run.len - len {
                        let b = a + len;
                        if !run.boundary(a) || !run.boundary(b) {
                            continue;
                        }
                        if run.attached && (a == 0 || b == run.len) {
                            continue;
                        }
                        let outer: Vec<&[u8]> = [a, b]
                            .iter()
                            .filter(|&&i| i > 0 && i < run.len)
                            .map(|&i| sep(text, run, i))
                            .collect();
                        let inner_same = (a + 1..b)
                            .filter(|&i| run.boundary(i))
                            .any(|i| outer.contains(&sep(text, run, i)));
                        if !inner_same {
                            self.consider(field, run, a, b, out);
                        }
                    }
                }
            }
        }
    }
}

/// Matches of a regex that pass `check`; when `shaped` says a match is not in the
/// identifier's own written form, one of `bare_words` must label it.
pub struct RegexId {
    re: Regex,
    check: fn(&str) -> bool,
    shaped: fn(&str) -> bool,
    bare_words: &'static [&'static str],
    /// A digit run every match contains; the regex runs only on texts that have one
    /// (the runs are tokenized once per text and shared by every digit detector).
    need: Option<fn(&Run) -> bool>,
    /// The words a match can be: the regex runs over those words only (see
    /// [`TokenMatcher::in_words`](super::token::TokenMatcher::in_words)).
    shape: Option<fn(&Word) -> bool>,
    /// A word every match contains (a match may span several words): the regex runs only
    /// on texts that have one.
    need_word: Option<fn(&Word) -> bool>,
}

impl RegexId {
    /// A detector over `pattern` validated by `check`.
    pub fn new(pattern: &str, check: fn(&str) -> bool) -> Self {
        Self::labelled(pattern, check, |_| true, &[])
    }

    /// As [`RegexId::new`], with matches that fail `shaped` needing one of `bare_words` nearby.
    pub fn labelled(
        pattern: &str,
        check: fn(&str) -> bool,
        shaped: fn(&str) -> bool,
        bare_words: &'static [&'static str],
    ) -> Self {
        Self {
            re: Regex::new(pattern).expect("static regex"),
            check,
            shaped,
            bare_words,
            need: None,
            shape: None,
            need_word: None,
        }
    }

    /// Runs the regex only on texts with a digit run that satisfies `need`.
    pub fn needing(mut self, need: fn(&Run) -> bool) -> Self {
        self.need = Some(need);
        self
    }

    /// Runs the regex only on texts with a word that satisfies `need`.
    pub fn needing_word(mut self, need: fn(&Word) -> bool) -> Self {
        self.need_word = Some(need);
        self
    }

    /// Runs the regex only over the field's words that pass `shape`. Only for a pattern
    /// whose every match is one whole word: `(?-u:\b)` on both ends, letters and digits
    /// only in between.
    pub fn in_words(mut self, shape: fn(&Word) -> bool) -> Self {
        self.shape = Some(shape);
        self
    }

    fn find_between(&self, field: &Field<'_>, from: usize, to: usize, out: &mut Vec<Candidate>) {
        let text = field.text();
        for m in self.re.find_iter(&text[from..to]) {
            let (s, e) = (from + m.start(), from + m.end());
            if continues_code(text, s, e) {
                continue;
            }
            let v = m.as_str();
            if !(self.check)(v) {
                continue;
            }
            if !(self.shaped)(v) && !labelled_near(field, s, e, self.bare_words) {
                continue;
            }
            out.push(Candidate { start: s, end: e, confidence: Confidence::Medium });
        }
    }
}

/// Whether a match continues a longer code: a `-`, `.` or `/` joins it to a letter or
/// digit right before or after (`14.981.1966-4` holds no RUT `14.981.196-6`).
pub fn continues_code(text: &str, start: usize, end: usize) -> bool {
    let b = text.as_bytes();
    let joiner = |c: u8| matches!(c, b'-' | b'.' | b'/');
    let after = end + 1 < b.len() && joiner(b[end]) && b[end + 1].is_ascii_alphanumeric();
    let before = start >= 2 && joiner(b[start - 1]) && b[start - 2].is_ascii_alphanumeric();
    after || before
}

impl Detector for RegexId {
    fn find_in_field(&self, field: &Field<'_>, out: &mut Vec<Candidate>) {
        if let Some(need) = self.need
            && !field.runs().iter().any(need)
        {
            return;
        }
        if let Some(need) = self.need_word
            && !field.words().iter().any(need)
        {
            return;
        }
        match self.shape {
            // The slice's ends are word boundaries as they are in the text.
            Some(shape) => {
                for w in field.words().iter().filter(|w| shape(w)) {
                    self.find_between(field, w.start as usize, w.end as usize, out);
                }
            }
            None => self.find_between(field, 0, field.text().len(), out),
        }
    }
}
