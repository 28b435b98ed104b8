//! Built-in detectors: regional bank account and payment addresses (Canada, Australia,
//! Mexico, India), per docs/notes/detector-breadth.md §1f.

use super::token::{TokenMatcher, near};
use crate::detect::{BuiltinDetector, Confidence, Gate, runs_of_at_least};

/// Major Indian bank codes (first four letters of an IFSC).
const IFSC_BANKS: &[&str] = &[
    "ABHY", "AIRP", "ALLA", "ANDB", "AUBL", "BARB", "BDBL", "BKDN", "BKID", "CBIN", "CITI", "CIUB", "CNRB",
    "CORP", "CSBK", "DBSS", "DCBL", "DEUT", "DLXB", "ESFB", "FDRL", "FINO", "HDFC", "HSBC", "IBKL", "ICIC",
    "IDFB", "IDIB", "INDB", "IOBA", "JAKA", "JSFB", "KARB", "KKBK", "KVBL", "MAHB", "NTBL", "ORBC", "PSIB",
    "PUNB", "PYTM", "RATN", "SBIN", "SCBL", "SIBL", "SRCB", "SVCB", "SYNB", "TMBL", "UBIN", "UCBA", "UTBI",
    "UTIB", "VIJB", "YESB",
];

/// UPI payment-service-provider handles (the part after `@`).
const UPI_HANDLES: &[&str] = &[
    "abfspay",
    "airtel",
    "apl",
    "axisb",
    "axisbank",
    "axl",
    "barodampay",
    "dbs",
    "fam",
    "federal",
    "freecharge",
    "hdfcbank",
    "hdfcbankjd",
    "ibl",
    "icici",
    "idfcbank",
    "ikwik",
    "indus",
    "jupiteraxis",
    "kotak",
    "mairtel",
    "naviaxis",
    "okaxis",
    "okhdfcbank",
    "okicici",
    "oksbi",
    "paytm",
    "pingpay",
    "postbank",
    "ptaxis",
    "pthdfc",
    "ptsbi",
    "ptyes",
    "rbl",
    "sbi",
    "slice",
    "superyes",
    "timecosmos",
    "upi",
    "waaxis",
    "wahdfcbank",
    "waicici",
    "wasbi",
    "ybl",
    "yapl",
    "yesbank",
    "yesbankltd",
];

/// The bank-account and payment-address detectors.
pub const DETECTORS: &[BuiltinDetector] = &[
    BuiltinDetector {
        id: "ca_bank_account",
        description: "Canadian bank account: transit (5) and institution (3) numbers with a 7–12 digit account",
        region: "ca",
        validator: "",
        joinable: false,
        gate: Gate::AnyLiteral(&[
            "transit",
            "institution",
            "account",
            "acct",
            "compte",
            "numéro de compte",
            "succursale",
            "chequing",
            "direct deposit",
            "dépôt direct",
            "void cheque",
            "banking details",
        ]),
        keywords: &[
            "transit",
            "institution",
            "account",
            "acct",
            "compte",
            "numéro de compte",
            "succursale",
            "chequing",
            "direct deposit",
            "dépôt direct",
            "void cheque",
            "banking details",
        ],
        keyword_window: 80,
        requires_keywords: true,
        confidence_with_keywords: Confidence::Medium,
        examples: &[
            "direct deposit: transit 12345, institution 003, account 1234567",
            "my account is 12345-003 9876543210",
            "numéro de compte 54321-815-7654321",
        ],
        negative_examples: &["12345-003 9876543210", "transit 12345, gate 3", "account 12345"],
        build: || {
            Box::new(TokenMatcher::new(
                r"(?i)(?-u:\b)(?:transit(?: no\.?| number| #)?[: ]*[0-9]{5}[ ,;]+(?:institution|inst\.?|bank)(?: no\.?| number| #| code)?[: ]*[0-9]{3}[ ,;]+(?:account|acct|a/c|compte)(?: no\.?| number| #)?[: ]*[0-9]{7,12}|[0-9]{5}[- ][0-9]{3}[- ][0-9]{7,12})(?-u:\b)",
                medium_ca,
            ))
        },
    },
    BuiltinDetector {
        id: "au_bank_account",
        description: "Australian bank account: BSB (ddd-ddd) with a 6–10 digit account number",
        region: "au",
        validator: "",
        joinable: false,
        gate: Gate::AnyLiteral(&[
            "bsb",
            "account number",
            "acc no",
            "account no",
            "bank details",
            "banking information",
            "fund transfer",
            "swift bank code",
            "account",
        ]),
        keywords: &[
            "bsb",
            "account number",
            "acc no",
            "account no",
            "bank details",
            "banking information",
            "fund transfer",
            "swift bank code",
            "account",
        ],
        keyword_window: 80,
        requires_keywords: true,
        confidence_with_keywords: Confidence::Medium,
        examples: &[
            "BSB 062-000 account 12345678",
            "bank details: 082-902 / 512345678",
            "BSB: 033000, acc no 123456",
        ],
        negative_examples: &["062-000 12345678", "BSB 062-000", "account 062 000"],
        build: || {
            Box::new(TokenMatcher::new(
                r"(?i)(?-u:\b)(?:bsb[: #]*)?[0-9]{3}[- ]?[0-9]{3}[ ,;/]{1,3}(?:(?:acc(?:ount)?|a/c)(?: no\.?| number| #)?[: ]*)?[0-9]{6,10}(?-u:\b)",
                check_au,
            ))
        },
    },
    BuiltinDetector {
        id: "mx_clabe",
        description: "Mexican CLABE interbank account (18 digits, weights 3-7-1 check digit)",
        region: "mx",
        validator: "clabe",
        joinable: true,
        gate: Gate::RunLengths(runs_of_at_least(18)),
        keywords: &["clabe", "cuenta clabe", "spei", "transferencia", "interbancaria", "cuenta"],
        keyword_window: 40,
        requires_keywords: false,
        confidence_with_keywords: Confidence::High,
        examples: &[
            "CLABE 002010077777777771",
            "transfiere a 032180000118359719 por SPEI",
            "002 010 07777777777 1",
        ],
        negative_examples: &["002010077777777772", "CLABE 00201007777777777", "0020100777777777712"],
        build: || {
            Box::new(TokenMatcher::new(
                r"(?-u:\b)[0-9]{3}[ -]?[0-9]{3}[ -]?[0-9]{4}[ -]?[0-9]{7}[ -]?[0-9](?-u:\b)|(?-u:\b)[0-9]{3} [0-9]{3} [0-9]{11} [0-9](?-u:\b)",
                check_clabe,
            ))
        },
    },
    BuiltinDetector {
        id: "in_ifsc",
        description: "Indian Financial System Code (4-letter bank code, 0, 6-character branch)",
        region: "in",
        validator: "",
        joinable: false,
        gate: Gate::MinDigits(1),
        keywords: &["ifsc", "branch code", "neft", "rtgs", "imps", "खाता संख्या", "account"],
        keyword_window: 60,
        requires_keywords: false,
        confidence_with_keywords: Confidence::High,
        examples: &["IFSC SBIN0001234", "send by NEFT to HDFC0000123", "ifsc: QWER0AB1234"],
        negative_examples: &["SBIN1001234", "QWER0AB1234 is a code", "SBIN0ABCDEF"],
        build: || {
            Box::new(
                TokenMatcher::new(r"(?-u:\b)[A-Z]{4}0[A-Z0-9]{6}(?-u:\b)", check_ifsc)
                    .in_words(|w| w.len() == 11 && w.lower == 0 && w.digits >= 1 && w.upper >= 4),
            )
        },
    },
    BuiltinDetector {
        id: "in_upi_vpa",
        description: "Indian UPI payment address (VPA, `name@handle`)",
        region: "in",
        validator: "",
        joinable: false,
        gate: Gate::AnyByte(b"@"),
        keywords: &[
            "upi",
            "upi id",
            "vpa",
            "gpay",
            "google pay",
            "phonepe",
            "paytm",
            "bhim",
            "pay to",
            "send to",
        ],
        keyword_window: 60,
        requires_keywords: false,
        confidence_with_keywords: Confidence::High,
        examples: &["pay to rahul.sharma@okaxis", "my UPI id is 9876543210@ybl", "UPI: shop-42@examplebank"],
        negative_examples: &["mail rahul@example.com", "meet @okaxis later", "user@unknownhandle"],
        build: || {
            Box::new(TokenMatcher::new(
                r"(?-u:\b)[A-Za-z0-9][A-Za-z0-9._-]{1,255}@[A-Za-z][A-Za-z0-9-]{1,63}(?-u:\b)",
                check_upi,
            ))
        },
    },
];

fn medium_ca(_: &str, _: usize, _: usize) -> Option<Confidence> {
    Some(Confidence::Medium)
}

fn check_au(text: &str, s: usize, e: usize) -> Option<Confidence> {
    // Without `bsb` in the match, a separated six-digit group must look like a BSB.
    let v = &text[s..e];
    let has_bsb = v.get(..3).is_some_and(|p| p.eq_ignore_ascii_case("bsb"));
    let dashed = v.as_bytes().get(3) == Some(&b'-');
    (has_bsb || dashed || near(text, s, e, 40, &["bsb"])).then_some(Confidence::Medium)
}

/// CLABE check digit: weights 3, 7, 1 over 17 digits, each product mod 10.
pub fn clabe_valid(s: &str) -> bool {
    let d: Vec<u32> = crate::detect::validators::digits(s).collect();
    if d.len() != 18 {
        return false;
    }
    let sum: u32 = d[..17].iter().zip([3, 7, 1].iter().cycle()).map(|(a, w)| (a * w) % 10).sum();
    (10 - sum % 10) % 10 == d[17]
}

fn check_clabe(text: &str, s: usize, e: usize) -> Option<Confidence> {
    let b = text.as_bytes();
    // Part of a longer separated digit run.
    if (s >= 2 && matches!(b[s - 1], b' ' | b'-') && b[s - 2].is_ascii_digit())
        || (b.get(e).is_some_and(|&x| x == b' ' || x == b'-') && b.get(e + 1).is_some_and(u8::is_ascii_digit))
    {
        return None;
    }
    clabe_valid(&text[s..e]).then_some(Confidence::Medium)
}

fn check_ifsc(text: &str, s: usize, e: usize) -> Option<Confidence> {
    let v = &text[s..e];
    if !v[5..].bytes().any(|c| c.is_ascii_digit()) {
        return None;
    }
    if IFSC_BANKS.contains(&&v[..4]) || near(text, s, e, 40, &["ifsc", "neft", "rtgs", "imps", "branch code"])
    {
        Some(Confidence::Medium)
    } else {
        None
    }
}

fn check_upi(text: &str, s: usize, e: usize) -> Option<Confidence> {
    let b = text.as_bytes();
    // `name@domain.tld` is an e-mail address.
    if b.get(e) == Some(&b'.') && b.get(e + 1).is_some_and(u8::is_ascii_alphanumeric) {
        return None;
    }
    let handle = text[s..e].rsplit('@').next()?.to_ascii_lowercase();
    (UPI_HANDLES.contains(&handle.as_str())
        || near(text, s, e, 40, &["upi", "vpa", "gpay", "phonepe", "paytm", "bhim"]))
    .then_some(Confidence::Medium)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clabe_check_digit_matches_the_published_example() {
        assert!(clabe_valid("002010077777777771"));
        assert!(clabe_valid("032180000118359719"));
        assert!(!clabe_valid("002010077777777772"));
    }
}
