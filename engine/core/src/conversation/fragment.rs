//! Boundary fragments: the value-like run that ends a message or starts it.
//!
//! A run is a sequence of tokens of ASCII digits and capital letters (at least one digit
//! in the run) separated by at most three separator characters, the same separators the
//! digit tokenizer accepts (`4111 1111`, `GB82 WEST`, `AB 12-34`). Only runs touching a
//! message boundary count: the trailing run has nothing but whitespace or punctuation
//! after it, the leading run nothing but that before it. A run in the middle of a
//! sentence is neither, so it never joins.

/// Longest run kept, in normalized bytes: the longest joinable value (a 34-character
/// IBAN with separators) fits; a longer run is not a fragment of one.
pub(crate) const MAX_RUN_BYTES: usize = 48;
/// Separator characters allowed between two tokens of a run.
const MAX_SEPARATORS: usize = 3;

/// A run's byte span in a normalized text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Run {
    pub start: usize,
    pub end: usize,
}

/// The boundary runs of one normalized text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Boundary {
    /// The run the text starts with.
    pub leading: Option<Run>,
    /// The run the text ends with.
    pub trailing: Option<Run>,
    /// The text is one run and nothing else (then leading == trailing).
    pub only: bool,
}

fn is_sep(b: u8) -> bool {
    matches!(b, b' ' | b'-' | b'.' | b'/' | b'_' | b'(' | b')')
}

/// A byte a run's token may hold (a character of any other kind ends every token).
fn is_run_byte(b: u8) -> bool {
    b.is_ascii_digit() || b.is_ascii_uppercase()
}

/// Digits, or capitals; a capitals-only token is short (an IBAN bank code, a NINO
/// prefix), so ordinary shouted words do not extend a run.
fn token_ok(tok: &[u8]) -> Option<usize> {
    if tok.is_empty() || !tok.iter().all(|&b| is_run_byte(b)) {
        return None;
    }
    let digits = tok.iter().filter(|b| b.is_ascii_digit()).count();
    (digits > 0 || tok.len() <= 4).then_some(digits)
}

/// True when the character starting at byte `at` is a letter or digit (of any script).
fn word_at(t: &str, at: usize) -> bool {
    t.get(at..).and_then(|s| s.chars().next()).is_some_and(char::is_alphanumeric)
}

/// True when the character ending at byte `at` is a letter or digit (of any script).
fn word_before(t: &str, at: usize) -> bool {
    t.get(..at).and_then(|s| s.chars().next_back()).is_some_and(char::is_alphanumeric)
}

/// The run `t` starts with, if any, and its digit count.
fn leading(t: &str) -> Option<(Run, usize)> {
    let b = t.as_bytes();
    let start = t.char_indices().find(|(_, c)| c.is_alphanumeric()).map(|(i, _)| i)?;
    // Most messages start with a word: its first character already ends the search.
    if !is_run_byte(b[start]) {
        return None;
    }
    let (mut i, mut end, mut digits) = (start, start, 0);
    loop {
        let ts = i;
        while i < b.len() && b[i].is_ascii_alphanumeric() {
            i += 1;
        }
        let Some(d) = token_ok(&b[ts..i]) else { break };
        if word_at(t, i) {
            // Glued to a letter of another script: not a value boundary.
            break;
        }
        if i - start > MAX_RUN_BYTES {
            return None;
        }
        end = i;
        digits += d;
        let mut s = i;
        while s < b.len() && s - i < MAX_SEPARATORS && is_sep(b[s]) {
            s += 1;
        }
        if s == i || s >= b.len() || !b[s].is_ascii_alphanumeric() {
            break;
        }
        i = s;
    }
    (end > start).then_some((Run { start, end }, digits))
}

/// The run `t` ends with, if any, and its digit count.
fn trailing(t: &str) -> Option<(Run, usize)> {
    let b = t.as_bytes();
    let end = t.char_indices().rev().find(|(_, c)| c.is_alphanumeric()).map(|(i, c)| i + c.len_utf8())?;
    // Most messages end with a word: its last character already ends the search.
    if !is_run_byte(b[end - 1]) {
        return None;
    }
    let (mut j, mut start, mut digits) = (end, end, 0);
    loop {
        let te = j;
        while j > 0 && b[j - 1].is_ascii_alphanumeric() {
            j -= 1;
        }
        let Some(d) = token_ok(&b[j..te]) else { break };
        if word_before(t, j) {
            break;
        }
        if end - j > MAX_RUN_BYTES {
            return None;
        }
        start = j;
        digits += d;
        let mut s = j;
        while s > 0 && j - s < MAX_SEPARATORS && is_sep(b[s - 1]) {
            s -= 1;
        }
        if s == j || s == 0 || !b[s - 1].is_ascii_alphanumeric() {
            break;
        }
        j = s;
    }
    (end > start).then_some((Run { start, end }, digits))
}

/// The boundary runs of a normalized text. A run needs a digit, unless it is the whole
/// message (`GB` or `WEST` sent alone between two pieces of an IBAN).
pub(crate) fn boundary(t: &str) -> Boundary {
    let lead = leading(t);
    let trail = trailing(t);
    // The leading run starts at the first letter or digit and the trailing one ends at
    // the last: the same run is the whole text.
    let only = matches!((lead, trail), (Some((l, _)), Some((r, _))) if l == r);
    let keep = |x: Option<(Run, usize)>| x.filter(|&(_, d)| d > 0 || only).map(|(r, _)| r);
    Boundary { leading: keep(lead), trailing: keep(trail), only }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lead(t: &str) -> Option<&str> {
        boundary(t).leading.map(|r| &t[r.start..r.end])
    }
    fn trail(t: &str) -> Option<&str> {
        boundary(t).trailing.map(|r| &t[r.start..r.end])
    }

    #[test]
    fn runs_at_the_boundaries_only() {
        assert_eq!(trail("my card is 4111 1111"), Some("4111 1111"));
        assert_eq!(trail("my card is 4111-1111 ..."), Some("4111-1111"));
        assert_eq!(lead("1111 1111 and that's it"), Some("1111 1111"));
        assert_eq!(lead("  -> 1111 1111"), Some("1111 1111"));
        assert_eq!(trail("I bought 4111 1111 apples"), None);
        assert_eq!(lead("I bought 4111 1111"), None);
        assert_eq!(trail("send to GB82 WEST"), Some("GB82 WEST"));
        assert_eq!(lead("WEST 1234 5698 7654 32 thanks"), Some("WEST 1234 5698 7654 32"));
        assert_eq!(trail("just words"), None);
        assert_eq!(trail("see you OK"), None);
        assert_eq!(trail("ref INV4111x"), None);
    }

    #[test]
    fn a_message_that_is_only_a_run() {
        let b = boundary("1111 1111");
        assert!(b.only);
        assert_eq!(b.leading, b.trailing);
        assert!(boundary(" (1111) 1111. ").only);
        assert!(!boundary("1111 1111 and 2222").only);
        assert!(!boundary("1111 ok 1111").only);
        assert!(boundary("WEST").only, "letters alone join only as a whole message");
        assert!(!boundary("just words").only);
    }

    #[test]
    fn long_runs_are_not_fragments() {
        let long = "1234 ".repeat(12);
        assert_eq!(lead(&long), None);
        assert_eq!(trail(&long), None);
    }
}
