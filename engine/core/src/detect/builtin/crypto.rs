//! Built-in detectors: cryptocurrency addresses.

use regex::Regex;
use sha2::{Digest, Sha256};
use sha3::Keccak256;

use crate::detect::{BuiltinDetector, Candidate, Confidence, Detector, Field, Gate};

/// The crypto detectors.
pub const DETECTORS: &[BuiltinDetector] = &[
    BuiltinDetector {
        id: "crypto_btc",
        region: "global",
        validator: "base58check_bech32",
        joinable: false,
        description: "Bitcoin address: Base58Check (P2PKH, P2SH) or Bech32/Bech32m (SegWit, Taproot)",
        gate: Gate::MinDigits(1),
        keywords: &["bitcoin", "btc", "wallet", "address", "coins"],
        keyword_window: 40,
        requires_keywords: false,
        confidence_with_keywords: Confidence::High,
        examples: &[
            "My wallet address: 1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2",
            "send to 3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy",
            "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq please",
        ],
        negative_examples: &[
            "1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN3",
            "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdr",
            "order 1234567890123456789012345",
        ],
        build: || Box::new(Btc::new()),
    },
    BuiltinDetector {
        id: "crypto_eth",
        region: "global",
        validator: "eip55",
        joinable: false,
        description: "Ethereum address (0x + 40 hex; EIP-55 checksum when mixed case)",
        gate: Gate::AnyLiteral(&["0x"]),
        keywords: &["ethereum", "eth", "wallet", "address", "erc20", "usdt", "metamask"],
        keyword_window: 40,
        requires_keywords: false,
        confidence_with_keywords: Confidence::High,
        examples: &[
            "send ETH to 0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
            "wallet 0xfb6916095ca1df60bb79ce92ce3ea74c37c5d359",
            "0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB is mine",
        ],
        negative_examples: &[
            "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD",
            "hash 0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed00",
            "color 0xffffff",
        ],
        build: || Box::new(Eth::new()),
    },
];

const B58: &[u8] = b"123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";

fn base58_decode(s: &str) -> Option<Vec<u8>> {
    let mut bytes: Vec<u8> = Vec::with_capacity(32);
    for c in s.bytes() {
        let mut carry = B58.iter().position(|&x| x == c)? as u32;
        for b in bytes.iter_mut().rev() {
            carry += u32::from(*b) * 58;
            *b = (carry & 0xff) as u8;
            carry >>= 8;
        }
        while carry > 0 {
            bytes.insert(0, (carry & 0xff) as u8);
            carry >>= 8;
        }
    }
    let zeros = s.bytes().take_while(|&c| c == b'1').count();
    let mut out = vec![0u8; zeros];
    out.extend(bytes);
    Some(out)
}

fn base58check_ok(s: &str) -> bool {
    let Some(raw) = base58_decode(s) else { return false };
    if raw.len() != 25 || !matches!(raw[0], 0x00 | 0x05) {
        return false;
    }
    let h = Sha256::digest(Sha256::digest(&raw[..21]));
    h[..4] == raw[21..]
}

fn bech32_polymod(values: &[u8]) -> u32 {
    const G: [u32; 5] = [0x3b6a_57b2, 0x2650_8e6d, 0x1ea1_19fa, 0x3d42_33dd, 0x2a14_62b3];
    let mut chk: u32 = 1;
    for &v in values {
        let b = chk >> 25;
        chk = ((chk & 0x01ff_ffff) << 5) ^ u32::from(v);
        for (i, g) in G.iter().enumerate() {
            if (b >> i) & 1 == 1 {
                chk ^= g;
            }
        }
    }
    chk
}

fn bech32_ok(s: &str) -> bool {
    const CHARSET: &[u8] = b"qpzry9x8gf2tvdw0s3jn54khce6mua7l";
    let lower = s.to_ascii_lowercase();
    if lower != s && s.to_ascii_uppercase() != s {
        return false;
    }
    let Some((hrp, data)) = lower.rsplit_once('1') else { return false };
    if hrp != "bc" || data.len() < 6 {
        return false;
    }
    let mut values: Vec<u8> = hrp.bytes().map(|c| c >> 5).collect();
    values.push(0);
    values.extend(hrp.bytes().map(|c| c & 31));
    let mut dv = Vec::with_capacity(data.len());
    for c in data.bytes() {
        match CHARSET.iter().position(|&x| x == c) {
            Some(p) => dv.push(p as u8),
            None => return false,
        }
    }
    values.extend(&dv);
    let witness_version = dv[0];
    let program_len = (dv.len() - 6 - 1) * 5 / 8;
    match (bech32_polymod(&values), witness_version) {
        (1, 0) => matches!(program_len, 20 | 32),
        (0x2bc8_30a3, 1..=16) => (2..=40).contains(&program_len),
        _ => false,
    }
}

struct Btc {
    re: Regex,
}

impl Btc {
    fn new() -> Self {
        Self {
            re: Regex::new(
                r"(?-u:\b)(?:[13][1-9A-HJ-NP-Za-km-z]{25,34}|(?:bc1|BC1)[02-9ac-hj-np-zAC-HJ-NP-Z]{11,71})(?-u:\b)",
            )
            .expect("static regex"),
        }
    }
}

impl Btc {
    fn find_between(&self, text: &str, from: usize, to: usize, out: &mut Vec<Candidate>) {
        for m in self.re.find_iter(&text[from..to]) {
            let v = m.as_str();
            let ok = if v.len() > 3 && v[..3].eq_ignore_ascii_case("bc1") {
                bech32_ok(v)
            } else {
                base58check_ok(v)
            };
            if ok {
                out.push(Candidate {
                    start: from + m.start(),
                    end: from + m.end(),
                    confidence: Confidence::High,
                });
            }
        }
    }
}

impl Detector for Btc {
    fn find_in_field(&self, field: &Field<'_>, out: &mut Vec<Candidate>) {
        // An address is one whole word of 26-35 (Base58) or 14-74 (Bech32) characters
        // with a digit (its `1`, `3` or `bc1`): only those words are searched.
        for w in field.words() {
            if (14..=74).contains(&w.len()) && w.digits > 0 && !w.has_underscore() {
                self.find_between(field.text(), w.start as usize, w.end as usize, out);
            }
        }
    }

    fn find(&self, text: &str, out: &mut Vec<Candidate>) {
        self.find_between(text, 0, text.len(), out);
    }
}

struct Eth {
    re: Regex,
}

impl Eth {
    fn new() -> Self {
        Self { re: Regex::new(r"(?-u:\b)0x[0-9a-fA-F]{40}(?-u:\b)").expect("static regex") }
    }
}

fn eip55_ok(hex_part: &str) -> bool {
    let lower = hex_part.to_ascii_lowercase();
    let hash = Keccak256::digest(lower.as_bytes());
    hex_part.bytes().enumerate().all(|(i, c)| {
        if !c.is_ascii_alphabetic() {
            return true;
        }
        let nibble = (hash[i / 2] >> (if i % 2 == 0 { 4 } else { 0 })) & 0x0f;
        (nibble >= 8) == c.is_ascii_uppercase()
    })
}

impl Detector for Eth {
    fn find(&self, text: &str, out: &mut Vec<Candidate>) {
        for m in self.re.find_iter(text) {
            let h = &m.as_str()[2..];
            let mixed =
                h.bytes().any(|c| c.is_ascii_lowercase()) && h.bytes().any(|c| c.is_ascii_uppercase());
            // Mixed case carries an EIP-55 checksum that must hold; single-case addresses
            // carry none, so they are reported with less certainty.
            let confidence = if mixed {
                if !eip55_ok(h) {
                    continue;
                }
                Confidence::High
            } else {
                Confidence::Medium
            };
            out.push(Candidate { start: m.start(), end: m.end(), confidence });
        }
    }
}
