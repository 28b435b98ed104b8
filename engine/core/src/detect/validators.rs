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
        [9, 4, 5, 3, 1, 2, 7, 8, 6, 0],
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
    Some(match country {
        "AD" => 24,
        "AE" => 23,
        "AL" => 28,
        "AT" => 20,
        "AZ" => 28,
        "BA" => 20,
        "BE" => 16,
        "BG" => 22,
        "BH" => 22,
        "BI" => 27,
        "BR" => 29,
        "BY" => 28,
        "CH" => 21,
        "CR" => 22,
        "CY" => 28,
        "CZ" => 24,
        "DE" => 22,
        "DJ" => 27,
        "DK" => 18,
        "DO" => 28,
        "EE" => 20,
        "EG" => 29,
        "ES" => 24,
        "FI" => 18,
        "FK" => 18,
        "FO" => 18,
        "FR" => 27,
        "GB" => 22,
        "GE" => 22,
        "GI" => 23,
        "GL" => 18,
        "GR" => 27,
        "GT" => 28,
        "HN" => 28,
        "HR" => 21,
        "HU" => 28,
        "IE" => 22,
        "IL" => 23,
        "IQ" => 23,
        "IS" => 26,
        "IT" => 27,
        "JO" => 30,
        "KW" => 30,
        "KZ" => 20,
        "LB" => 28,
        "LC" => 32,
        "LI" => 21,
        "LT" => 20,
        "LU" => 20,
        "LV" => 21,
        "LY" => 25,
        "MC" => 27,
        "MD" => 24,
        "ME" => 22,
        "MK" => 19,
        "MN" => 20,
        "MR" => 27,
        "MT" => 31,
        "MU" => 30,
        "NI" => 28,
        "NL" => 18,
        "NO" => 15,
        "OM" => 23,
        "PK" => 24,
        "PL" => 28,
        "PS" => 29,
        "PT" => 25,
        "QA" => 29,
        "RO" => 24,
        "RS" => 22,
        "RU" => 33,
        "SA" => 24,
        "SC" => 31,
        "SD" => 18,
        "SE" => 24,
        "SI" => 19,
        "SK" => 24,
        "SM" => 27,
        "SO" => 23,
        "ST" => 25,
        "SV" => 28,
        "TL" => 23,
        "TN" => 24,
        "TR" => 26,
        "UA" => 29,
        "VA" => 22,
        "VG" => 24,
        "XK" => 20,
        "YE" => 30,
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
        assert!(nhs_mod11("943 476 5919") && !nhs_mod11("943 476 5918"));
        assert!(au_tfn("123 456 782") && !au_tfn("123 456 783"));
        assert!(sg_nric("S1234567D") && !sg_nric("S1234567A"));
        assert!(iban_mod97("DE89 3704 0044 0532 0130 00") && iban_mod97("GB82WEST12345698765432"));
        assert!(!iban_mod97("DE88 3704 0044 0532 0130 00") && !iban_mod97("DE89 3704 0044 0532 0130 0"));
    }
}
