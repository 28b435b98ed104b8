//! Checksums and format validators shared by built-in and policy-local detectors.
//!
//! Each validator takes the candidate value as it appears in the normalized text
//! (separators included) and decides whether it is plausible.

/// Names of validators a policy-local detector may use (`validator:` key).
pub const NAMES: &[&str] = &["luhn"];

/// Looks up a validator by name.
pub fn by_name(name: &str) -> Option<fn(&str) -> bool> {
    match name {
        "luhn" => Some(luhn),
        _ => None,
    }
}

/// Iterates the ASCII digits of `s` as numbers, skipping everything else.
pub fn digits(s: &str) -> impl DoubleEndedIterator<Item = u32> + '_ {
    s.bytes().filter(u8::is_ascii_digit).map(|b| u32::from(b - b'0'))
}

/// Luhn (mod 10) over the digits of `s`; false when there are fewer than two digits.
pub fn luhn(s: &str) -> bool {
    let mut sum = 0;
    let mut n = 0;
    for (i, d) in digits(s).rev().enumerate() {
        n += 1;
        sum += if i % 2 == 1 {
            let x = d * 2;
            if x > 9 { x - 9 } else { x }
        } else {
            d
        };
    }
    n >= 2 && sum % 10 == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn luhn_accepts_valid_and_rejects_invalid() {
        assert!(luhn("4111 1111 1111 1111"));
        assert!(!luhn("4111 1111 1111 1112"));
        assert!(!luhn("0"));
    }
}
