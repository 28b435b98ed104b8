//! Built-in detectors: securities identifiers (ISIN, CUSIP, SEDOL, LEI, FIGI), for trade
//! surveillance. Check digits per docs/notes/detector-breadth.md §1f (python-stdnum).

use super::token::{TokenMatcher, alnum_value, near};
use crate::detect::{BuiltinDetector, Confidence, Gate};

/// ISO 3166-1 alpha-2 codes plus the ISIN pseudo-countries (EU, XS, …), as in stdnum.
const ISIN_COUNTRIES: &str = "AD AE AF AG AI AL AM AN AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN \
BO BQ BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CS CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER \
ES ET EU FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO \
IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM \
MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY \
QA QS QT RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO \
TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS XA XB XC XD XF XK XS YE YT ZA ZM ZW";

/// Words that make a CUSIP or SEDOL plausible: nine or seven characters are as often a
/// passport, order or member number, so these two need trading context.
const SECURITY_WORDS: &[&str] = &[
    "cusip", "cins", "sedol", "isin", "bond", "note", "treasur", "coupon", "maturity", "shares", "securit",
    "stock", "equity", "position", "holding", "buy", "sell", "bid", "offer", "trade", "fund", "tranche",
    "issue", "lse", "ticker", "notional", "nominal", "par ", "yield",
];

/// Words that say a token is some other identifier.
const OTHER_ID_WORDS: &[&str] = &[
    "passport",
    "licen",
    "member",
    "ticket",
    "invoice",
    "account",
    "acct",
    "order no",
    "ref",
    "tracking",
    "policy no",
];

/// The securities detectors.
pub const DETECTORS: &[BuiltinDetector] = &[
    BuiltinDetector {
        id: "isin",
        description: "International Securities Identification Number (ISO 6166: country + 9 + Luhn check digit)",
        region: "global",
        validator: "isin_luhn",
        joinable: false,
        gate: Gate::MinDigits(1),
        keywords: &[
            "isin",
            "security",
            "securities",
            "bond",
            "tranche",
            "wertpapier",
            "valeur",
            "titulo",
            "shares",
        ],
        keyword_window: 40,
        requires_keywords: false,
        confidence_with_keywords: Confidence::High,
        examples: &[
            "buy 10k US0378331005 at the open",
            "ISIN: DE000BAY0017",
            "tranche XS2177363293 priced at par",
        ],
        negative_examples: &["US0378331006", "ZZ0378331005 is not a country", "ref AB12345678901"],
        build: || {
            Box::new(
                TokenMatcher::new(r"(?-u:\b)[A-Z]{2}[A-Z0-9]{9}[0-9](?-u:\b)", check_isin)
                    .in_words(|w| w.len() == 12 && w.lower == 0 && w.digits >= 2),
            )
        },
    },
    BuiltinDetector {
        id: "cusip",
        description: "CUSIP / CINS security number (9 characters, mod-10 double-add-double check)",
        region: "us",
        validator: "cusip",
        joinable: false,
        gate: Gate::MinDigits(5),
        keywords: &["cusip", "cins", "bond", "notes", "security", "isin"],
        keyword_window: 40,
        requires_keywords: false,
        confidence_with_keywords: Confidence::High,
        examples: &["CUSIP 037833100 (Apple)", "sell the 02079K305 position", "notes cusip: 912828U24"],
        negative_examples: &["ticket 037833101", "037833100", "here is my passport # 40YT51405"],
        build: || {
            Box::new(
                TokenMatcher::new(r"(?-u:\b)[0-9A-Z]{8}[0-9](?-u:\b)", check_cusip)
                    .in_words(|w| w.len() == 9 && w.lower == 0 && w.digits >= 5),
            )
        },
    },
    BuiltinDetector {
        id: "sedol",
        description: "SEDOL (UK/IE security code: 6 characters without vowels + weighted check digit)",
        region: "gb",
        validator: "sedol",
        joinable: false,
        gate: Gate::MinDigits(2),
        keywords: &["sedol", "lse", "ticker", "isin", "security"],
        keyword_window: 40,
        requires_keywords: false,
        confidence_with_keywords: Confidence::High,
        examples: &["SEDOL B0YBKJ7", "buy B0YBKL9 for the fund", "sedol: 0263494"],
        negative_examples: &["sedol B0YBKJ8", "0263494", "order ref B0YBKJ7"],
        build: || {
            Box::new(
                TokenMatcher::new(r"(?-u:\b)[0-9BCDFGHJKLMNPQRSTVWXYZ]{6}[0-9](?-u:\b)", check_sedol)
                    .in_words(|w| w.len() == 7 && w.lower == 0 && w.digits >= 2),
            )
        },
    },
    BuiltinDetector {
        id: "lei",
        description: "Legal Entity Identifier (ISO 17442: 20 characters, ISO 7064 MOD 97-10)",
        region: "global",
        validator: "iso7064_mod97_10",
        joinable: false,
        gate: Gate::MinDigits(2),
        keywords: &["lei", "legal entity identifier", "gleif", "counterparty"],
        keyword_window: 40,
        requires_keywords: false,
        confidence_with_keywords: Confidence::High,
        examples: &[
            "LEI 5493001KJTIIGC8Y1R12",
            "counterparty 213800D1EI4B9WTWWD28 confirmed",
            "the LEI is HWUPKR0MPOU8FGXBT394",
        ],
        negative_examples: &["5493001KJTIIGC8Y1R13", "5493001KJTIIGC8Y1R1", "ABCDEFGHIJKLMNOPQR12"],
        build: || {
            Box::new(
                TokenMatcher::new(r"(?-u:\b)[0-9A-Z]{18}[0-9]{2}(?-u:\b)", check_lei)
                    .in_words(|w| w.len() == 20 && w.lower == 0 && w.digits >= 2),
            )
        },
    },
    BuiltinDetector {
        id: "figi",
        description: "Financial Instrument Global Identifier (OpenFIGI: 12 characters, 3rd is G, mod-10 check)",
        region: "global",
        validator: "figi",
        joinable: false,
        gate: Gate::MinDigits(1),
        keywords: &["figi", "bbg", "bloomberg", "openfigi"],
        keyword_window: 40,
        requires_keywords: false,
        confidence_with_keywords: Confidence::High,
        examples: &["FIGI BBG000BLNNH6", "BBG000B9XRY4 is Apple", "figi: BBG00H9NR574"],
        negative_examples: &["BBG000BLNNH7", "BSG000BLNNH6", "BBG000BLNNH"],
        build: || {
            Box::new(
                TokenMatcher::new(
                    r"(?-u:\b)[B-DF-HJ-NP-TV-Z]{2}G[B-DF-HJ-NP-TV-Z0-9]{8}[0-9](?-u:\b)",
                    check_figi,
                )
                .in_words(|w| w.len() == 12 && w.lower == 0 && w.digits >= 1 && w.upper >= 3),
            )
        },
    },
];

/// ISIN check: known country prefix and Luhn over the letters-as-two-digits expansion.
pub fn isin_valid(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() != 12 || !ISIN_COUNTRIES.split(' ').any(|c| c.as_bytes() == &b[..2]) {
        return false;
    }
    let mut digits: Vec<u32> = Vec::with_capacity(24);
    for &c in b {
        let Some(v) = alnum_value(c) else { return false };
        if v >= 10 {
            digits.push(v / 10);
        }
        digits.push(v % 10);
    }
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &d)| if i % 2 == 1 { if d * 2 > 9 { d * 2 - 9 } else { d * 2 } } else { d })
        .sum();
    sum.is_multiple_of(10)
}

/// Double-add-double check over `body` (CUSIP, FIGI): values 0–9, A=10 … Z=35 (CUSIP
/// also `*`=36, `@`=37, `#`=38); every second value doubled; digits of the products added.
fn double_add_double(body: &[u8]) -> Option<u32> {
    let mut sum = 0;
    for (i, &c) in body.iter().enumerate() {
        let mut v = match c {
            b'*' => 36,
            b'@' => 37,
            b'#' => 38,
            _ => alnum_value(c)?,
        };
        if i % 2 == 1 {
            v *= 2;
        }
        sum += v / 10 + v % 10;
    }
    Some((10 - sum % 10) % 10)
}

/// CUSIP check digit.
pub fn cusip_valid(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 9 && double_add_double(&b[..8]).is_some_and(|c| u32::from(b[8].wrapping_sub(b'0')) == c)
}

/// SEDOL check digit (weights 1,3,1,7,3,9; vowels are not used).
pub fn sedol_valid(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() != 7 || b.iter().any(|c| b"AEIOU".contains(c)) {
        return false;
    }
    let mut sum = 0;
    for (&c, w) in b[..6].iter().zip([1, 3, 1, 7, 3, 9]) {
        let Some(v) = alnum_value(c) else { return false };
        sum += v * w;
    }
    u32::from(b[6].wrapping_sub(b'0')) == (10 - sum % 10) % 10
}

/// ISO 7064 MOD 97-10 over letters-as-numbers: the whole value mod 97 is 1 (LEI).
pub fn mod97_10_valid(s: &str) -> bool {
    let mut r: u32 = 0;
    for c in s.bytes() {
        let Some(v) = alnum_value(c) else { return false };
        r = if v >= 10 { (r * 100 + v) % 97 } else { (r * 10 + v) % 97 };
    }
    r == 1
}

/// FIGI check: shape, excluded prefixes, double-add-double check digit.
pub fn figi_valid(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 12
        && b[2] == b'G'
        && !matches!(&b[..2], b"BS" | b"BM" | b"GG" | b"GB" | b"VG")
        && double_add_double(&b[..11]).is_some_and(|c| u32::from(b[11].wrapping_sub(b'0')) == c)
}

fn check_isin(text: &str, s: usize, e: usize) -> Option<Confidence> {
    let v = &text[s..e];
    // Twelve digits after two letters with no letter in the body is still an ISIN
    // (US0378331005); a body of letters only is a word.
    (isin_valid(v) && v.bytes().skip(2).filter(u8::is_ascii_digit).count() >= 2).then_some(Confidence::Medium)
}

fn check_cusip(text: &str, s: usize, e: usize) -> Option<Confidence> {
    let v = &text[s..e];
    let digits = v.bytes().filter(u8::is_ascii_digit).count();
    if digits < 5 || !cusip_valid(v) {
        return None;
    }
    trading_context(text, s, e).then_some(Confidence::Medium)
}

fn check_sedol(text: &str, s: usize, e: usize) -> Option<Confidence> {
    let v = &text[s..e];
    let digits = v.bytes().filter(u8::is_ascii_digit).count();
    if digits < 2 || !sedol_valid(v) {
        return None;
    }
    trading_context(text, s, e).then_some(Confidence::Medium)
}

/// Trading words near the value and no word naming another kind of identifier.
fn trading_context(text: &str, s: usize, e: usize) -> bool {
    near(text, s, e, 50, SECURITY_WORDS) && !near(text, s, e, 25, OTHER_ID_WORDS)
}

fn check_lei(text: &str, s: usize, e: usize) -> Option<Confidence> {
    mod97_10_valid(&text[s..e]).then_some(Confidence::Medium)
}

fn check_figi(text: &str, s: usize, e: usize) -> Option<Confidence> {
    figi_valid(&text[s..e]).then_some(Confidence::Medium)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_digits_match_published_values() {
        assert!(isin_valid("US0378331005"));
        assert!(isin_valid("GB00BYXJL758"));
        assert!(!isin_valid("US0378331006"));
        assert!(cusip_valid("037833100"));
        assert!(cusip_valid("02079K305"));
        assert!(!cusip_valid("037833101"));
        assert!(sedol_valid("B0YBKJ7"));
        assert!(sedol_valid("0263494"));
        assert!(!sedol_valid("B0YBKJ8"));
        assert!(mod97_10_valid("5493001KJTIIGC8Y1R12"));
        assert!(!mod97_10_valid("5493001KJTIIGC8Y1R13"));
        assert!(figi_valid("BBG000BLNNH6"));
        assert!(!figi_valid("BBG000BLNNH7"));
    }
}
