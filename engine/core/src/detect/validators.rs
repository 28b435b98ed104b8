//! Checksums and format validators shared by built-in and policy-local detectors.
//!
//! Each validator takes the candidate value as it appears in the normalized text
//! (separators included) and decides whether it is plausible.

/// Names of validators a policy-local detector may use (`validator:` key).
pub const NAMES: &[&str] = &["luhn", "mod97", "aba", "verhoeff", "mod11_nhs", "au_tfn"];

/// Looks up a validator by name.
pub fn by_name(name: &str) -> Option<fn(&str) -> bool> {
    match name {
        "luhn" => Some(luhn),
        "mod97" => Some(iban_mod97),
        "aba" => Some(aba),
        "verhoeff" => Some(verhoeff),
        "mod11_nhs" => Some(nhs_mod11),
        "au_tfn" => Some(au_tfn),
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

/// ABA routing number checksum (weights 3, 7, 1) over exactly nine digits.
pub fn aba(s: &str) -> bool {
    let d: Vec<u32> = digits(s).collect();
    if d.len() != 9 || d.iter().all(|&x| x == 0) {
        return false;
    }
    let w = [3, 7, 1, 3, 7, 1, 3, 7, 1];
    d.iter().zip(w).map(|(a, b)| a * b).sum::<u32>() % 10 == 0
}

/// Verhoeff checksum (Aadhaar).
pub fn verhoeff(s: &str) -> bool {
    const D: [[u8; 10]; 10] = [
        [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
        [1, 2, 3, 4, 0, 6, 7, 8, 9, 5],
        [2, 3, 4, 0, 1, 7, 8, 9, 5, 6],
        [3, 4, 0, 1, 2, 8, 9, 5, 6, 7],
        [4, 0, 1, 2, 3, 9, 5, 6, 7, 8],
        [5, 9, 8, 7, 6, 0, 4, 3, 2, 1],
        [6, 5, 9, 8, 7, 1, 0, 4, 3, 2],
        [7, 6, 5, 9, 8, 2, 1, 0, 4, 3],
        [8, 7, 6, 5, 9, 3, 2, 1, 0, 4],
        [9, 8, 7, 6, 5, 4, 3, 2, 1, 0],
    ];
    const P: [[u8; 10]; 8] = [
        [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
        [1, 5, 7, 6, 2, 8, 3, 0, 9, 4],
        [5, 8, 0, 3, 7, 9, 6, 1, 4, 2],
        [8, 9, 1, 6, 0, 4, 3, 5, 2, 7],
        [9, 4, 5, 3, 1, 2, 6, 8, 7, 0],
        [4, 2, 8, 6, 5, 7, 3, 9, 0, 1],
        [2, 7, 9, 3, 8, 0, 6, 4, 1, 5],
        [7, 0, 4, 6, 9, 1, 3, 2, 5, 8],
    ];
    let mut c = 0usize;
    let mut n = 0;
    for (i, d) in digits(s).rev().enumerate() {
        c = D[c][P[i % 8][d as usize] as usize] as usize;
        n += 1;
    }
    n > 1 && c == 0
}

/// NHS number mod-11 check over ten digits.
pub fn nhs_mod11(s: &str) -> bool {
    let d: Vec<u32> = digits(s).collect();
    if d.len() != 10 {
        return false;
    }
    let sum: u32 = d[..9].iter().enumerate().map(|(i, x)| x * (10 - i as u32)).sum();
    let check = 11 - sum % 11;
    match check {
        11 => d[9] == 0,
        10 => false,
        c => d[9] == c,
    }
}

/// Australian tax file number weighted check (8 or 9 digits).
pub fn au_tfn(s: &str) -> bool {
    let d: Vec<u32> = digits(s).collect();
    let w: &[u32] = match d.len() {
        9 => &[1, 4, 3, 7, 5, 8, 6, 9, 10],
        8 => &[10, 7, 8, 4, 6, 3, 5, 1],
        _ => return false,
    };
    d.iter().zip(w).map(|(a, b)| a * b).sum::<u32>() % 11 == 0
}

/// Singapore NRIC / FIN check letter.
pub fn sg_nric(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() != 9 || !b[1..8].iter().all(u8::is_ascii_digit) {
        return false;
    }
    let prefix = b[0].to_ascii_uppercase();
    let w = [2, 7, 6, 5, 4, 3, 2];
    let mut sum: u32 = b[1..8].iter().zip(w).map(|(d, w)| u32::from(d - b'0') * w).sum();
    if matches!(prefix, b'T' | b'G') {
        sum += 4;
    } else if prefix == b'M' {
        sum += 3;
    }
    let r = (sum % 11) as usize;
    let table: &[u8; 11] = match prefix {
        b'S' | b'T' => b"JZIHGFEDCBA",
        b'F' | b'G' => b"XWUTRQPNMLK",
        b'M' => b"XWUTRQPNJLK",
        _ => return false,
    };
    let idx = if prefix == b'M' { 10 - r } else { r };
    table[idx] == b[8].to_ascii_uppercase()
}

/// Expected IBAN length per country (ISO 13616 registry).
pub fn iban_length(country: &str) -> Option<usize> {
    let &[a, b] = country.as_bytes() else { return None };
    Some(match (a, b) {
        (b'A', b'D') => 24,
        (b'A', b'E') => 23,
        (b'A', b'L') => 28,
        (b'A', b'T') => 20,
        (b'A', b'Z') => 28,
        (b'B', b'A') => 20,
        (b'B', b'E') => 16,
        (b'B', b'G') => 22,
        (b'B', b'H') => 22,
        (b'B', b'I') => 27,
        (b'B', b'R') => 29,
        (b'B', b'Y') => 28,
        (b'C', b'H') => 21,
        (b'C', b'R') => 22,
        (b'C', b'Y') => 28,
        (b'C', b'Z') => 24,
        (b'D', b'E') => 22,
        (b'D', b'J') => 27,
        (b'D', b'K') => 18,
        (b'D', b'O') => 28,
        (b'E', b'E') => 20,
        (b'E', b'G') => 29,
        (b'E', b'S') => 24,
        (b'F', b'I') => 18,
        (b'F', b'K') => 18,
        (b'F', b'O') => 18,
        (b'F', b'R') => 27,
        (b'G', b'B') => 22,
        (b'G', b'E') => 22,
        (b'G', b'I') => 23,
        (b'G', b'L') => 18,
        (b'G', b'R') => 27,
        (b'G', b'T') => 28,
        (b'H', b'N') => 28,
        (b'H', b'R') => 21,
        (b'H', b'U') => 28,
        (b'I', b'E') => 22,
        (b'I', b'L') => 23,
        (b'I', b'Q') => 23,
        (b'I', b'S') => 26,
        (b'I', b'T') => 27,
        (b'J', b'O') => 30,
        (b'K', b'W') => 30,
        (b'K', b'Z') => 20,
        (b'L', b'B') => 28,
        (b'L', b'C') => 32,
        (b'L', b'I') => 21,
        (b'L', b'T') => 20,
        (b'L', b'U') => 20,
        (b'L', b'V') => 21,
        (b'L', b'Y') => 25,
        (b'M', b'C') => 27,
        (b'M', b'D') => 24,
        (b'M', b'E') => 22,
        (b'M', b'K') => 19,
        (b'M', b'N') => 20,
        (b'M', b'R') => 27,
        (b'M', b'T') => 31,
        (b'M', b'U') => 30,
        (b'N', b'I') => 28,
        (b'N', b'L') => 18,
        (b'N', b'O') => 15,
        (b'O', b'M') => 23,
        (b'P', b'K') => 24,
        (b'P', b'L') => 28,
        (b'P', b'S') => 29,
        (b'P', b'T') => 25,
        (b'Q', b'A') => 29,
        (b'R', b'O') => 24,
        (b'R', b'S') => 22,
        (b'R', b'U') => 33,
        (b'S', b'A') => 24,
        (b'S', b'C') => 31,
        (b'S', b'D') => 18,
        (b'S', b'E') => 24,
        (b'S', b'I') => 19,
        (b'S', b'K') => 24,
        (b'S', b'M') => 27,
        (b'S', b'O') => 23,
        (b'S', b'T') => 25,
        (b'S', b'V') => 28,
        (b'T', b'L') => 23,
        (b'T', b'N') => 24,
        (b'T', b'R') => 26,
        (b'U', b'A') => 29,
        (b'V', b'A') => 22,
        (b'V', b'G') => 24,
        (b'X', b'K') => 20,
        (b'Y', b'E') => 30,
        _ => return None,
    })
}

/// ISO 13616 check: country length and mod-97 over the alphanumerics of `s`.
pub fn iban_mod97(s: &str) -> bool {
    let chars: Vec<u8> =
        s.bytes().filter(u8::is_ascii_alphanumeric).map(|b| b.to_ascii_uppercase()).collect();
    if chars.len() < 15 || !chars[0].is_ascii_alphabetic() || !chars[1].is_ascii_alphabetic() {
        return false;
    }
    let country = std::str::from_utf8(&chars[..2]).unwrap_or("");
    if iban_length(country) != Some(chars.len()) || !chars[2].is_ascii_digit() || !chars[3].is_ascii_digit() {
        return false;
    }
    let mut rem: u32 = 0;
    for &c in chars[4..].iter().chain(&chars[..4]) {
        let v = if c.is_ascii_digit() { u32::from(c - b'0') } else { u32::from(c - b'A') + 10 };
        rem = if v >= 10 { (rem * 100 + v) % 97 } else { (rem * 10 + v) % 97 };
    }
    rem == 1
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

    #[test]
    fn checksums_match_published_examples() {
        assert!(aba("011000015") && aba("021000021") && !aba("011000016"));
        assert!(verhoeff("234567890124") && !verhoeff("234567890125"));
        // The published worked example (236 gets check digit 3) and a number whose
        // digits reach row 4 of the permutation table.
        assert!(verhoeff("2363") && !verhoeff("2364") && verhoeff("759876869372"));
        assert!(nhs_mod11("943 476 5919") && !nhs_mod11("943 476 5918"));
        assert!(au_tfn("123 456 782") && !au_tfn("123 456 783"));
        assert!(sg_nric("S1234567D") && !sg_nric("S1234567A"));
        assert!(iban_mod97("DE89 3704 0044 0532 0130 00") && iban_mod97("GB82WEST12345698765432"));
        assert!(!iban_mod97("DE88 3704 0044 0532 0130 00") && !iban_mod97("DE89 3704 0044 0532 0130 0"));
    }
}
