//! The per-field context every detector sees: the normalized text of one field, what is
//! derived from it (digit runs, label words near a span, the shared literal automaton's
//! hits), computed at most once per field and shared by all detectors, and where the
//! field comes from (its message's metadata and its path). Nothing in it outlives the
//! field's scan.

use std::cell::OnceCell;
use std::collections::BTreeMap;
use std::fmt;

use super::runs::{self, Run};
use crate::message::{Channel, Direction, Message};

/// One field of a message as the detectors see it.
pub struct Field<'a> {
    text: &'a str,
    year: i32,
    runs: OnceCell<Vec<Run>>,
    run_lengths: OnceCell<u64>,
    words: OnceCell<Vec<Word>>,
    literals: &'a [LiteralHit],
    origin: Option<Origin<'a>>,
    path: OnceCell<String>,
}

/// One occurrence, in the field's text, of a literal of the policy set's shared automaton
/// (detector gate literals, dictionary terms, context words that gate their detector).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LiteralHit {
    /// The literal's pattern id in the set's automaton.
    pub pattern: u32,
    /// Byte offset of the first byte.
    pub start: u32,
    /// Byte offset after the last byte.
    pub end: u32,
}

/// Where a field comes from: its message (whose metadata plugins receive) and its path.
#[derive(Clone, Copy)]
pub struct Origin<'a> {
    /// The message the field is part of.
    pub message: &'a Message,
    /// The field's path in it (`text`, `attachments[0].text`); rendered only if asked for.
    pub path: &'a dyn fmt::Display,
}

/// The attributes of a field without a message.
static NO_ATTRIBUTES: BTreeMap<String, String> = BTreeMap::new();

/// A maximal run of ASCII word bytes (`[A-Za-z0-9_]`): exactly what `(?-u:\b)` delimits,
/// so a token regex anchored by it on both sides matches whole words only. Detectors of
/// token-shaped identifiers ask for words of their length and character mix instead of
/// running their own regex over the whole text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Word {
    /// Byte offset of the first byte.
    pub start: u32,
    /// Byte offset after the last byte.
    pub end: u32,
    /// ASCII digits in it.
    pub digits: u16,
    /// ASCII upper-case letters in it.
    pub upper: u16,
    /// ASCII lower-case letters in it.
    pub lower: u16,
}

impl Word {
    /// Length in bytes.
    pub fn len(&self) -> usize {
        (self.end - self.start) as usize
    }

    /// Whether the word is empty (never, for a word of [`Field::words`]).
    pub fn is_empty(&self) -> bool {
        self.end == self.start
    }

    /// Whether it holds an underscore (letters and digits do not add up to its length).
    pub fn has_underscore(&self) -> bool {
        usize::from(self.digits) + usize::from(self.upper) + usize::from(self.lower) != self.len()
    }
}

/// The words of `text` (see [`Word`]); counts saturate for absurdly long words.
fn words(text: &str) -> Vec<Word> {
    let b = text.as_bytes();
    // Room for the words of a message-sized text without regrowing (a word and its
    // separator take two bytes at least; prose averages about six).
    let mut out = Vec::with_capacity((b.len() / 4).clamp(8, 1024));
    let mut i = 0;
    while i < b.len() {
        if !(b[i].is_ascii_alphanumeric() || b[i] == b'_') {
            i += 1;
            continue;
        }
        let start = i;
        let (mut digits, mut upper, mut lower) = (0u16, 0u16, 0u16);
        while i < b.len() {
            let c = b[i];
            if c.is_ascii_digit() {
                digits = digits.saturating_add(1);
            } else if c.is_ascii_uppercase() {
                upper = upper.saturating_add(1);
            } else if c.is_ascii_lowercase() {
                lower = lower.saturating_add(1);
            } else if c != b'_' {
                break;
            }
            i += 1;
        }
        out.push(Word { start: start as u32, end: i as u32, digits, upper, lower });
    }
    out
}

impl<'a> Field<'a> {
    /// The context of a field whose normalized text is `text`, judged in `year` (the
    /// calendar year of the decision's clock, which the caller supplies). Alone, it is
    /// the `text` field of a message with default metadata and no literal hits.
    pub fn new(text: &'a str, year: i32) -> Self {
        Self {
            text,
            year,
            runs: OnceCell::new(),
            run_lengths: OnceCell::new(),
            words: OnceCell::new(),
            literals: &[],
            origin: None,
            path: OnceCell::new(),
        }
    }

    /// The same field, as part of `origin`'s message.
    pub fn with_origin(mut self, origin: Origin<'a>) -> Self {
        self.origin = Some(origin);
        self
    }

    /// The same field with the set's literal hits in its text (found by the engine in
    /// one pass for every detector).
    pub fn with_literals(mut self, hits: &'a [LiteralHit]) -> Self {
        self.literals = hits;
        self
    }

    /// The hits of the set's shared literal automaton in the text, in no particular order.
    pub fn literal_hits(&self) -> &'a [LiteralHit] {
        self.literals
    }

    /// The field's path in its message (`text`, `attachments[0].text`).
    pub fn path(&self) -> &str {
        self.path.get_or_init(|| self.origin.map_or_else(|| String::from("text"), |o| o.path.to_string()))
    }

    /// The channel of the field's message.
    pub fn channel(&self) -> Channel {
        self.origin.map_or_else(Channel::default, |o| o.message.channel)
    }

    /// The direction of the field's message.
    pub fn direction(&self) -> Direction {
        self.origin.map_or_else(Direction::default, |o| o.message.direction)
    }

    /// The caller attributes of the field's message.
    pub fn attributes(&self) -> &'a BTreeMap<String, String> {
        self.origin.map_or(&NO_ATTRIBUTES, |o| &o.message.attributes)
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

    /// The digit runs of the text (see [`runs`](super::runs)), tokenized on first use.
    pub fn runs(&self) -> &[Run] {
        self.runs.get_or_init(|| runs::runs(self.text))
    }

    /// The lengths of the text's digit runs as a [`Gate::RunLengths`](super::Gate) set.
    pub fn run_lengths(&self) -> u64 {
        *self.run_lengths.get_or_init(|| self.runs().iter().fold(0, |m, r| m | 1 << r.len.min(63)))
    }

    /// The words of the text (see [`Word`]), tokenized on first use.
    pub fn words(&self) -> &[Word] {
        self.words.get_or_init(|| words(self.text))
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
        // Every detector's context check asks this, so it must not try every label at every
        // byte: a label starting with a letter can only occur where a word starts, and a
        // window holds few word starts; a label starting otherwise (`#`, a Thai or CJK
        // label) is looked for by its first byte, which has no other case.
        let letter_first = |w: &str| w.as_bytes().first().is_some_and(u8::is_ascii_alphabetic);
        for w in words.iter().filter(|w| !letter_first(w)) {
            let Some(&first) = w.as_bytes().first() else { continue };
            let mut i = lo;
            while let Some(k) = memchr::memchr(first, &bytes[i..hi]) {
                if label_at(bytes, w, i + k, hi) {
                    return true;
                }
                i += k + 1;
            }
        }
        let letter = |b: u8| b.is_ascii_alphabetic() || b >= 0x80;
        let mut after_letter = lo > 0 && letter(bytes[lo - 1]);
        for (i, &b) in bytes.iter().enumerate().take(hi).skip(lo) {
            if b.is_ascii_alphabetic() && !after_letter {
                let b = b.to_ascii_lowercase();
                if words.iter().any(|w| {
                    letter_first(w) && w.as_bytes()[0].to_ascii_lowercase() == b && label_at(bytes, w, i, hi)
                }) {
                    return true;
                }
            }
            after_letter = letter(b);
        }
        false
    }
}

/// Whether label `w` (see [`Field::has_word`]) occurs at byte `i` of `bytes`, ending by
/// byte `hi`.
fn label_at(bytes: &[u8], w: &str, i: usize, hi: usize) -> bool {
    let (w, prefix) = match w.strip_suffix('*') {
        Some(p) => (p.as_bytes(), true),
        None => (w.as_bytes(), false),
    };
    if w.is_empty() || i + w.len() > hi {
        return false;
    }
    let letter = |i: usize| bytes.get(i).is_some_and(|&b| b.is_ascii_alphabetic() || b >= 0x80);
    // A label starting or ending with a non-letter (`ss#`, `a/c`) needs no boundary there.
    let glued_before = i > 0 && letter(i - 1) && w[0].is_ascii_alphabetic();
    let e = i + w.len();
    let glued_after = !prefix && letter(e) && w.last().is_some_and(|b| b.is_ascii_alphabetic());
    bytes[i..e].eq_ignore_ascii_case(w) && !glued_before && !glued_after
}

#[cfg(test)]
mod tests {
    use super::Field;

    /// The definition of [`Field::has_word`], one label and one position at a time.
    fn has_word_by_definition(text: &str, from: usize, to: usize, words: &[&str]) -> bool {
        let bytes = text.as_bytes();
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
            let glued_before = |i: usize| i > 0 && letter(i - 1) && w[0].is_ascii_alphabetic();
            let glued_after =
                |e: usize| !prefix && letter(e) && w.last().is_some_and(|b| b.is_ascii_alphabetic());
            (lo..=hi - w.len()).any(|i| {
                bytes[i..i + w.len()].eq_ignore_ascii_case(w) && !glued_before(i) && !glued_after(i + w.len())
            })
        })
    }

    proptest::proptest! {
        #[test]
        fn has_word_agrees_with_its_definition(
            text in "[aAcC#/é 1_.]{0,24}",
            from in 0usize..26,
            len in 0usize..26,
        ) {
            let words = ["ac", "a/c", "#", "c#", "ca*", "é", "éc", "acc", "c", "a"];
            let f = Field::new(&text, 2026);
            let (from, to) = (from.min(text.len()), (from + len).min(text.len()));
            // Windows end on char boundaries, as callers' windows do.
            if text.is_char_boundary(from) && text.is_char_boundary(to) {
                for k in 0..words.len() {
                    let ws = &words[k..];
                    proptest::prop_assert_eq!(
                        f.has_word(from, to, ws),
                        has_word_by_definition(&text, from, to, ws),
                        "{:?} in {:?}[{}..{}]", ws, text, from, to
                    );
                }
            }
        }
    }

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
    fn words_are_what_an_ascii_word_boundary_delimits() {
        let f = Field::new("ISIN US0378331005, aws_key=AB12 é9x", 2026);
        let w: Vec<(&str, u16, u16, u16, bool)> = f
            .words()
            .iter()
            .map(|w| {
                (&f.text()[w.start as usize..w.end as usize], w.digits, w.upper, w.lower, w.has_underscore())
            })
            .collect();
        assert_eq!(
            w,
            [
                ("ISIN", 0, 4, 0, false),
                ("US0378331005", 10, 2, 0, false),
                ("aws_key", 0, 0, 6, true),
                ("AB12", 2, 2, 0, false),
                ("9x", 1, 0, 1, false),
            ]
        );
    }

    #[test]
    fn run_length_gates_see_the_lengths_of_the_runs() {
        use crate::detect::{run_lengths, runs_of_at_least};
        let f = Field::new(
            "SSN 536-22-8174, 12 items, card 4111 1111 1111 1111 1111 1111 1111 1111 1111 1111 1111 1111 1111 1111 1111 1111 1",
            2026,
        );
        let m = f.run_lengths();
        assert_ne!(m & run_lengths(&[9]), 0);
        assert_ne!(m & run_lengths(&[2]), 0);
        assert_eq!(m & run_lengths(&[3, 10]), 0);
        assert_ne!(m & runs_of_at_least(60), 0, "a run of 65 digits counts as 63 or more");
        assert_eq!(Field::new("no digits", 2026).run_lengths(), 0);
        assert_eq!(runs_of_at_least(12) & run_lengths(&[11]), 0);
        assert_ne!(runs_of_at_least(12) & run_lengths(&[12, 80]), 0);
    }

    #[test]
    fn a_field_knows_its_message_and_a_text_alone_is_a_default_text_field() {
        use super::{Channel, Direction, Message, Origin};
        let mut msg = Message::text("hi");
        msg.channel = Channel::Sms;
        msg.direction = Direction::Inbound;
        msg.attributes.insert("team".into(), "ops".into());
        let path = "attachments[2].text";
        let f = Field::new("hi", 2026).with_origin(Origin { message: &msg, path: &path });
        assert_eq!(
            (f.path(), f.channel(), f.direction()),
            ("attachments[2].text", Channel::Sms, Direction::Inbound)
        );
        assert_eq!(f.attributes().get("team").map(String::as_str), Some("ops"));
        let alone = Field::new("hi", 2026);
        assert_eq!(
            (alone.path(), alone.channel(), alone.direction()),
            ("text", Channel::default(), Direction::default())
        );
        assert!(alone.attributes().is_empty() && alone.literal_hits().is_empty());
    }

    #[test]
    fn runs_are_tokenized_once() {
        let f = Field::new("card 4111 1111 1111 1111", 2026);
        let a = f.runs().as_ptr();
        assert_eq!(f.runs()[0].all(), "4111111111111111");
        assert_eq!(a, f.runs().as_ptr());
    }
}
