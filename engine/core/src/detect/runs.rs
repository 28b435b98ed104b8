//! Digit runs: the tokenizer every digit-based detector shares, run at most once per
//! field (see [`super::Field::runs`]).
//!
//! A run is a sequence of ASCII digits in which consecutive digits are separated by at
//! most three separator characters (space, `-`, `.`, `/`, parentheses), so that
//! `4111 1111 1111 1111`, `4111-1111`, `2 7 2 0 9 6`, `CH71 - 4678` and `(11) 95120-8219`
//! each read as one number. Runs glued to letters (`INV-36935`, `TXN8426`) are marked so
//! detectors can skip identifiers.

/// Most digits tracked per run; longer runs are kept but only their first digits indexed.
pub const MAX_DIGITS: usize = 40;

/// One run of digits in a normalized text.
#[derive(Debug, Clone)]
pub struct Run {
    /// Byte offset of the first digit.
    pub start: usize,
    /// Byte offset after the last digit.
    pub end: usize,
    /// Number of digits in the run.
    pub len: usize,
    /// The digits as ASCII bytes (first [`MAX_DIGITS`]).
    pub digits: [u8; MAX_DIGITS],
    /// Byte offset of each digit.
    pub pos: [u32; MAX_DIGITS],
    /// Bit `i` set when a separator precedes digit `i`.
    pub breaks: u64,
    /// Preceded by `+` (international phone format).
    pub plus: bool,
    /// Glued to a letter or an identifier prefix (`INV-`, `v6.`) on either side.
    pub attached: bool,
}

impl Run {
    /// The digits `[a, b)` as a string slice.
    pub fn digit_str(&self, a: usize, b: usize) -> &str {
        std::str::from_utf8(&self.digits[a..b.min(self.len).min(MAX_DIGITS)]).unwrap_or("")
    }

    /// All digits (up to [`MAX_DIGITS`]).
    pub fn all(&self) -> &str {
        self.digit_str(0, self.len)
    }

    /// Sizes of the separator-delimited groups of digits `[a, b)`.
    pub fn groups(&self, a: usize, b: usize) -> Vec<usize> {
        let mut out = Vec::new();
        let mut n = 0;
        for i in a..b.min(MAX_DIGITS) {
            if i > a && self.breaks & (1 << i) != 0 {
                out.push(n);
                n = 0;
            }
            n += 1;
        }
        if n > 0 {
            out.push(n);
        }
        out
    }

    /// Whether a separator precedes digit `i` (or `i` is the start or the end).
    pub fn boundary(&self, i: usize) -> bool {
        i == 0 || i >= self.len || (i < MAX_DIGITS && self.breaks & (1 << i) != 0)
    }

    /// Byte span of digits `[a, b)`.
    pub fn span(&self, a: usize, b: usize) -> (usize, usize) {
        let s = self.pos[a] as usize;
        let e = self.pos[b - 1] as usize + 1;
        (s, e)
    }
}

fn is_sep(b: u8) -> bool {
    matches!(b, b' ' | b'-' | b'.' | b'/' | b'_' | b'(' | b')')
}

/// The index of the first ASCII digit at or after `i` (`b.len()` if none). Prose is
/// skipped 32 bytes at a time with a test the compiler vectorizes: texts with a digit
/// or two in kilobytes of words are common, and every digit detector shares this pass.
fn next_digit(b: &[u8], mut i: usize) -> usize {
    while let Some(chunk) = b.get(i..i + 32) {
        if chunk.iter().fold(0u8, |any, &x| any | u8::from(x.wrapping_sub(b'0') < 10)) != 0 {
            break;
        }
        i += 32;
    }
    while i < b.len() && !b[i].is_ascii_digit() {
        i += 1;
    }
    i
}

/// Splits `text` into digit runs.
pub fn runs(text: &str) -> Vec<Run> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if !b[i].is_ascii_digit() {
            i = next_digit(b, i + 1);
            continue;
        }
        let start = i;
        let mut run = Run {
            start,
            end: start,
            len: 0,
            digits: [0; MAX_DIGITS],
            pos: [0; MAX_DIGITS],
            breaks: 0,
            plus: false,
            attached: false,
        };
        // What precedes the run.
        let mut k = start;
        while k > 0 && b[k - 1] == b' ' && start - k < 1 {
            k -= 1;
        }
        if k > 0 && b[k - 1] == b'+' {
            run.plus = true;
        }
        if start > 0 {
            let p = b[start - 1];
            if p.is_ascii_alphabetic() {
                run.attached = true;
            }
            if matches!(p, b'-' | b'.' | b'#' | b'/' | b'_')
                && start > 1
                && b[start - 2].is_ascii_alphabetic()
            {
                run.attached = true;
            }
        }
        let mut j = i;
        loop {
            // j is at a digit.
            if run.len < MAX_DIGITS {
                run.digits[run.len] = b[j];
                run.pos[run.len] = j as u32;
            }
            run.len += 1;
            run.end = j + 1;
            j += 1;
            // Look for the next digit across at most three separators.
            let mut s = j;
            while s < b.len() && s - j < 3 && is_sep(b[s]) {
                s += 1;
            }
            if s < b.len() && b[s].is_ascii_digit() {
                if s > j && run.len < MAX_DIGITS {
                    run.breaks |= 1 << run.len;
                }
                j = s;
                continue;
            }
            break;
        }
        if run.end < b.len() {
            let n = b[run.end];
            if n.is_ascii_alphabetic() || n == b'_' {
                run.attached = true;
            }
        }
        i = run.end;
        out.push(run);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn separators_join_groups_and_letters_attach() {
        let r = runs("card 4111 1111-1111.1111 and INV-369 or +54 9 11 4981-2971");
        assert_eq!(r[0].all(), "4111111111111111");
        assert_eq!(r[0].groups(0, 16), [4, 4, 4, 4]);
        assert!(!r[0].attached);
        assert_eq!(r[1].all(), "369");
        assert!(r[1].attached);
        assert!(r[2].plus);
        assert_eq!(r[2].all(), "5491149812971");
    }

    #[test]
    fn digits_far_into_prose_are_found_at_their_offsets() {
        let text = format!("{}12{}3{}", "word ".repeat(20), "y".repeat(40), "z".repeat(31));
        let r = runs(&text);
        assert_eq!(r.len(), 2);
        assert_eq!((r[0].start, r[0].all()), (100, "12"));
        assert_eq!((r[1].start, r[1].all()), (142, "3"));
        assert!(runs(&"x".repeat(100)).is_empty());
    }
}
