//! The per-field context every detector sees: the normalized text of one field and what
//! is derived from it (digit runs, label words near a span), computed at most once per
//! field and shared by all detectors. Nothing in it outlives the field's scan.

use std::cell::OnceCell;

use super::builtin::digits::{self, Run};

/// One field of a message as the detectors see it.
pub struct Field<'a> {
    text: &'a str,
    year: i32,
    runs: OnceCell<Vec<Run>>,
}

impl<'a> Field<'a> {
    /// The context of a field whose normalized text is `text`, judged in `year` (the
    /// calendar year of the decision's clock, which the caller supplies).
    pub fn new(text: &'a str, year: i32) -> Self {
        Self { text, year, runs: OnceCell::new() }
    }

    /// The calendar year of the decision (detectors that judge dates use it, never the
    /// system clock, so that evaluation is a function of its inputs).
    pub fn year(&self) -> i32 {
        self.year
    }

    /// The normalized text; candidate offsets are byte offsets into it.
    pub fn text(&self) -> &'a str {
        self.text
    }

    /// The digit runs of the text (see [`digits`]), tokenized on first use.
    pub fn runs(&self) -> &[Run] {
        self.runs.get_or_init(|| digits::runs(self.text))
    }

    /// Whether one of the label `words` occurs (ASCII case-insensitive) entirely within
    /// bytes `[from, to)` of the text, not glued to a letter: `ach` is not found in
    /// "each" nor `tel` in "hotel", while `secret` is found in `aws_secret_key`. A word
    /// ending in `*` is a prefix: `akia*` is found in `AKIAIOSFODNN7EXAMPLE`.
    pub fn has_word(&self, from: usize, to: usize, words: &[&str]) -> bool {
        let bytes = self.text.as_bytes();
        let lo = from.min(bytes.len());
        let hi = to.min(bytes.len());
        if lo >= hi {
            return false;
        }
        let letter = |i: usize| bytes.get(i).is_some_and(|&b| b.is_ascii_alphabetic() || b >= 0x80);
        words.iter().any(|w| {
            let (w, prefix) = match w.strip_suffix('*') {
                Some(p) => (p.as_bytes(), true),
                None => (w.as_bytes(), false),
            };
            if w.is_empty() || w.len() > hi - lo {
                return false;
            }
            // A label starting or ending with a non-letter (`ss#`, `a/c`) needs no boundary there.
            let glued_before = |i: usize| i > 0 && letter(i - 1) && w[0].is_ascii_alphabetic();
            let glued_after =
                |e: usize| !prefix && letter(e) && w.last().is_some_and(|b| b.is_ascii_alphabetic());
            (lo..=hi - w.len()).any(|i| {
                bytes[i..i + w.len()].eq_ignore_ascii_case(w) && !glued_before(i) && !glued_after(i + w.len())
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::Field;

    #[test]
    fn words_are_whole_words_within_the_window() {
        let f = Field::new("Each ACH transfer, see hotel tel: 5 aws_secret AKIAXYZ", 2026);
        assert!(f.has_word(0, 10, &["ach"]));
        assert!(!f.has_word(0, 4, &["ach"]), "`ach` inside `Each` is not a word");
        assert!(!f.has_word(20, 28, &["tel"]), "`tel` inside `hotel` is not a word");
        assert!(f.has_word(20, 35, &["tel"]));
        assert!(!f.has_word(5, 7, &["ach"]), "the word must lie inside the window");
        assert!(!f.has_word(60, 70, &["ach"]));
        let n = f.text().len();
        assert!(f.has_word(30, n, &["secret"]), "`_` separates words in identifiers");
        assert!(!f.has_word(30, n, &["akia"]));
        assert!(f.has_word(30, n, &["akia*"]), "a `*` word is a prefix");
    }

    #[test]
    fn runs_are_tokenized_once() {
        let f = Field::new("card 4111 1111 1111 1111", 2026);
        let a = f.runs().as_ptr();
        assert_eq!(f.runs()[0].all(), "4111111111111111");
        assert_eq!(a, f.runs().as_ptr());
    }
}
