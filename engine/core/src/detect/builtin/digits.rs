//! Helpers of the digit-based detectors around the shared digit runs
//! ([`crate::detect::runs`], re-exported here).

pub use crate::detect::runs::{MAX_DIGITS, Run, runs};

/// The word right before byte `at`, skipping separators and punctuation.
pub fn previous_token(text: &str, at: usize) -> &str {
    let before = text[..at].trim_end_matches([' ', '-', '.', ':', '#', '_', '/']);
    before.rsplit(|c: char| !c.is_ascii_alphanumeric()).next().unwrap_or("")
}

/// True when the word before `at` is a code in capitals (an IBAN group such as `XLJR`,
/// a spaced-out letter such as the `L` of `P L 6 6 ...`), so the digits that follow
/// continue that code rather than start a number of their own.
pub fn follows_code(text: &str, at: usize, allowed: &[&str]) -> bool {
    let token = previous_token(text, at);
    (1..=4).contains(&token.len())
        && token.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
        && token.bytes().any(|b| b.is_ascii_uppercase())
        && !allowed.contains(&token)
}

/// The char boundary at or before `i`.
pub fn floor_boundary(text: &str, mut i: usize) -> usize {
    i = i.min(text.len());
    while i > 0 && !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// The char boundary at or after `i`.
pub fn ceil_boundary(text: &str, mut i: usize) -> usize {
    i = i.min(text.len());
    while i < text.len() && !text.is_char_boundary(i) {
        i += 1;
    }
    i
}
