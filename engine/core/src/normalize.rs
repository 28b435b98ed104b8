//! Normalization against evasion (docs/06-evasion.md), with an offset map back to the original.
//!
//! Detectors never see the raw text: they see a normalized copy where look-alike
//! characters are folded to the ASCII character they imitate (full-width and
//! mathematical digits, other scripts' decimal digits, Cyrillic and Greek letters that
//! look Latin, exotic dashes and spaces) and invisible format characters (zero-width
//! space, joiners, BOM, bidi controls, soft hyphen) are dropped. Every byte of the
//! normalized text remembers which original character it came from, so findings and
//! redactions land on the characters the sender actually typed.
//!
//! ASCII text is already normal: it is borrowed as is, with no map and no allocation.

use std::borrow::Cow;

use unicode_normalization::UnicodeNormalization;

/// A field's text prepared for detection.
#[derive(Debug, Clone)]
pub struct Normalized<'a> {
    text: Cow<'a, str>,
    /// For each normalized byte, the byte range of the original character it came from.
    /// Empty when the text is unchanged (identity map).
    map: Vec<(u32, u32)>,
}

impl<'a> Normalized<'a> {
    /// Normalizes `original`.
    pub fn new(original: &'a str) -> Self {
        if plain_ascii(original.as_bytes()) {
            return Self { text: Cow::Borrowed(original), map: Vec::new() };
        }
        let mut text = String::with_capacity(original.len());
        let mut map = Vec::with_capacity(original.len());
        let mut buf = [0u8; 4];
        for (i, c) in original.char_indices() {
            let range = (i as u32, (i + c.len_utf8()) as u32);
            let mut push = |out: char, text: &mut String, map: &mut Vec<(u32, u32)>| {
                text.push_str(out.encode_utf8(&mut buf));
                map.extend(std::iter::repeat_n(range, out.len_utf8()));
            };
            if is_invisible(c) {
                continue;
            } else if c.is_ascii() {
                push(c, &mut text, &mut map);
            } else if let Some(f) = fold(c) {
                push(f, &mut text, &mut map);
            } else {
                let mut any = false;
                for n in std::iter::once(c).nfkc() {
                    any = true;
                    push(fold(n).unwrap_or(n), &mut text, &mut map);
                }
                if !any {
                    push(c, &mut text, &mut map);
                }
            }
        }
        Self { text: Cow::Owned(text), map }
    }

    /// The normalized text detectors see.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// True when the normalized text is the original text byte for byte.
    pub fn is_identity(&self) -> bool {
        matches!(self.text, Cow::Borrowed(_))
    }

    /// Maps a normalized byte span `[start, end)` to the original byte span that covers
    /// every original character it came from (invisible characters inside included).
    pub fn original_span(&self, start: usize, end: usize) -> (usize, usize) {
        if self.map.is_empty() {
            return (start, end);
        }
        if start >= end {
            let at = self.map.get(start).map_or_else(|| self.original_len(), |r| r.0 as usize);
            return (at, at);
        }
        let s = self.map[start].0 as usize;
        let e = self.map[end - 1].1 as usize;
        (s, e)
    }

    fn original_len(&self) -> usize {
        self.map.last().map_or(0, |r| r.1 as usize)
    }
}

/// Whether `b` is printable ASCII, tab or line breaks only: text that is already normal.
/// Checked 64 bytes at a time without early exit, so the compiler vectorizes it (this
/// runs over every byte of every field).
fn plain_ascii(b: &[u8]) -> bool {
    b.chunks(64).all(|c| {
        c.iter().fold(0u8, |bad, &x| {
            bad | u8::from(x.wrapping_sub(0x20) >= 0x5f && !matches!(x, b'\t' | b'\n' | b'\r'))
        }) == 0
    })
}

/// Characters that render as nothing and are dropped before detection: format
/// characters (zero-width, joiners, bidi controls, …) and control characters other than
/// tab and line breaks (a NUL between digit groups separates nothing a reader sees).
pub fn is_invisible(c: char) -> bool {
    matches!(c,
        '\u{0000}'..='\u{0008}' | '\u{000B}' | '\u{000C}' | '\u{000E}'..='\u{001F}'
        | '\u{007F}'..='\u{009F}' |
        '\u{00AD}' | '\u{034F}' | '\u{061C}' | '\u{115F}' | '\u{1160}' | '\u{17B4}' | '\u{17B5}'
        | '\u{180B}'..='\u{180F}'
        | '\u{200B}'..='\u{200F}'
        | '\u{202A}'..='\u{202E}'
        | '\u{2060}'..='\u{206F}'
        | '\u{3164}' | '\u{FE00}'..='\u{FE0F}' | '\u{FEFF}' | '\u{FFA0}'
        | '\u{FFF9}'..='\u{FFFB}'
        | '\u{1BCA0}'..='\u{1BCA3}'
        | '\u{1D173}'..='\u{1D17A}'
        | '\u{E0000}'..='\u{E0FFF}'
    )
}

/// Zero code points of the Unicode decimal-digit blocks NFKC leaves alone.
const DIGIT_ZEROS: &[u32] = &[
    0x0660, 0x06F0, 0x07C0, 0x0966, 0x09E6, 0x0A66, 0x0AE6, 0x0B66, 0x0BE6, 0x0C66, 0x0CE6, 0x0D66, 0x0DE6,
    0x0E50, 0x0ED0, 0x0F20, 0x1040, 0x1090, 0x17E0, 0x1810, 0x1946, 0x19D0, 0x1A80, 0x1A90, 0x1B50, 0x1BB0,
    0x1C40, 0x1C50, 0xA620, 0xA8D0, 0xA900, 0xA9D0, 0xA9F0, 0xAA50, 0xABF0,
];

/// Folds one character to the ASCII character it imitates, if it is a known look-alike
/// that NFKC does not already fold.
fn fold(c: char) -> Option<char> {
    let cp = c as u32;
    for &zero in DIGIT_ZEROS {
        if (zero..zero + 10).contains(&cp) {
            return char::from_digit(cp - zero, 10);
        }
    }
    Some(match c {
        // Dashes and minus signs.
        '\u{2010}'..='\u{2015}' | '\u{2212}' | '\u{FE58}' | '\u{FE63}' | '\u{FF0D}' | '\u{2043}' => '-',
        // Spaces.
        '\u{00A0}' | '\u{1680}' | '\u{2000}'..='\u{200A}' | '\u{202F}' | '\u{205F}' | '\u{3000}' => ' ',
        // Dots.
        '\u{2024}' | '\u{FF0E}' | '\u{3002}' | '\u{FF61}' => '.',
        // Cyrillic look-alikes.
        'А' => 'A',
        'В' => 'B',
        'Е' => 'E',
        'К' => 'K',
        'М' => 'M',
        'Н' => 'H',
        'О' => 'O',
        'Р' => 'P',
        'С' => 'C',
        'Т' => 'T',
        'Х' => 'X',
        'Ѕ' => 'S',
        'І' => 'I',
        'Ј' => 'J',
        'а' => 'a',
        'е' => 'e',
        'о' => 'o',
        'р' => 'p',
        'с' => 'c',
        'у' => 'y',
        'х' => 'x',
        'ѕ' => 's',
        'і' => 'i',
        'ј' => 'j',
        'һ' => 'h',
        'ԁ' => 'd',
        'ԛ' => 'q',
        'ԝ' => 'w',
        // Greek look-alikes.
        'Α' => 'A',
        'Β' => 'B',
        'Ε' => 'E',
        'Ζ' => 'Z',
        'Η' => 'H',
        'Ι' => 'I',
        'Κ' => 'K',
        'Μ' => 'M',
        'Ν' => 'N',
        'Ο' => 'O',
        'Ρ' => 'P',
        'Τ' => 'T',
        'Υ' => 'Y',
        'Χ' => 'X',
        'ο' => 'o',
        'ν' => 'v',
        'ι' => 'i',
        'κ' => 'k',
        'ρ' => 'p',
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn norm(s: &str) -> String {
        Normalized::new(s).text().to_owned()
    }

    #[test]
    fn ascii_is_borrowed_unchanged() {
        let n = Normalized::new("card 4111 1111 1111 1111");
        assert!(n.is_identity());
        assert_eq!(n.original_span(5, 24), (5, 24));
    }

    #[test]
    fn spec_evasions_fold_to_one_card() {
        assert_eq!(norm("4１１１ 1111 1111 1111"), "4111 1111 1111 1111");
        assert_eq!(norm("4111\u{200b}1111\u{200b}1111\u{200b}1111"), "4111111111111111");
        assert_eq!(norm("𝟒𝟏𝟏𝟏"), "4111");
        assert_eq!(norm("٤١١١"), "4111");
        assert_eq!(norm("4111\u{00a0}1111\u{2013}1111"), "4111 1111-1111");
        assert_eq!(norm("АКІА"), "AKIA");
    }

    #[test]
    fn control_characters_are_dropped_but_tabs_and_line_breaks_stay() {
        assert_eq!(norm("SSN 536\u{0}22\u{0}8174"), "SSN 536228174");
        assert_eq!(norm("4111\u{1}1111\u{1b}1111\u{7f}1111\u{85}"), "4111111111111111");
        assert_eq!(norm("a\tb\r\nc"), "a\tb\r\nc");
        assert!(Normalized::new("a\tb\r\nc ~").is_identity());
        let original = "x 5\u{0}3";
        let n = Normalized::new(original);
        assert_eq!(n.text(), "x 53");
        assert_eq!(n.original_span(2, 4), (2, 5));
    }

    #[test]
    fn spans_map_back_to_original_characters() {
        let original = "card: 4１\u{200b}1";
        let n = Normalized::new(original);
        assert_eq!(n.text(), "card: 411");
        let (s, e) = n.original_span(6, 9);
        assert_eq!(&original[s..e], "4１\u{200b}1");
    }
}
