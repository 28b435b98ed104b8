//! Built-in detectors: more cryptocurrency data — Litecoin, XRP, Solana and TRON
//! addresses, WIF private keys and BIP-39 seed phrases (docs/notes/detector-breadth.md §1f).

use bip39::Language;
use sha2::{Digest, Sha256};

use super::token::{TokenMatcher, near};
use crate::detect::{BuiltinDetector, Candidate, Confidence, Detector, Gate};

/// The extra crypto detectors.
pub const DETECTORS: &[BuiltinDetector] = &[
    BuiltinDetector {
        id: "crypto_ltc",
        description: "Litecoin address: Base58Check L/M (versions 0x30/0x32) or Bech32 ltc1",
        region: "global",
        validator: "base58check_bech32",
        joinable: false,
        gate: Gate::MinDigits(1),
        keywords: &["ltc", "litecoin", "wallet", "address"],
        keyword_window: 40,
        requires_keywords: false,
        confidence_with_keywords: Confidence::High,
        examples: &[
            "LTC to LM2WMpR1Rp6j3Sa59cMXMs1SPzj9eXpGc1 please",
            "litecoin: ltc1q54xu5xp9xza36mgn9n0dvgmm9mv3u0mj9nge8j",
            "MQMcJhpWHYVeQArcZR3sBgyPZxxRtnH441",
        ],
        negative_examples: &[
            "LM2WMpR1Rp6j3Sa59cMXMs1SPzj9eXpGc2",
            "ltc1qg82tq5ehw5ak6uh6tjnjtfs6r5z3v3w3hdx5x7",
            "Lorem1psumDolorSitAmetConsectetur",
        ],
        build: || {
            Box::new(
                TokenMatcher::new(
                    r"(?-u:\b)(?:[LM][1-9A-HJ-NP-Za-km-z]{25,33}|ltc1[02-9ac-hj-np-z]{8,87})(?-u:\b)",
                    check_ltc,
                )
                .in_words(|w| {
                    let n = w.len();
                    !w.has_underscore() && ((26..=34).contains(&n) || (12..=91).contains(&n) && w.upper == 0)
                }),
            )
        },
    },
    BuiltinDetector {
        id: "crypto_xrp",
        description: "XRP Ledger address: classic r… or X-address, Base58Check with the Ripple alphabet",
        region: "global",
        validator: "base58check_ripple",
        joinable: false,
        gate: Gate::MinDigits(1),
        keywords: &["xrp", "ripple", "destination tag", "memo", "wallet"],
        keyword_window: 40,
        requires_keywords: false,
        confidence_with_keywords: Confidence::High,
        examples: &[
            "send XRP to rHb9CJAWyB4rj91VRWn96DkukG4bwdtyTh",
            "rPT1Sjq2YGrBMTttX4GZHjKu9dyfzbpAYe tag 12345",
            "X7AcgcsBL6XDcUb289X4mJ8djcdyKaB5hJDWMArnXr61cqZ",
        ],
        negative_examples: &[
            "rHb9CJAWyB4rj91VRWn96DkukG4bwdtyTi",
            "rHb9CJAWyB4rj91VRWn96Dkuk",
            "reallyLongWordWithoutAnyMeaning1",
        ],
        build: || {
            Box::new(
                TokenMatcher::new(
                    r"(?-u:\b)(?:r[1-9A-HJ-NP-Za-km-z]{24,34}|[XT][1-9A-HJ-NP-Za-km-z]{46})(?-u:\b)",
                    check_xrp,
                )
                .in_words(|w| !w.has_underscore() && ((25..=35).contains(&w.len()) || w.len() == 47)),
            )
        },
    },
    BuiltinDetector {
        id: "crypto_sol",
        description: "Solana address (base58 of a 32-byte key; no checksum, so a Solana word is required)",
        region: "global",
        validator: "base58_32_bytes",
        joinable: false,
        gate: Gate::AnyLiteral(&["sol", "solana", "phantom", "solflare", "spl"]),
        keywords: &["sol", "solana", "phantom", "solflare", "spl"],
        keyword_window: 60,
        requires_keywords: true,
        confidence_with_keywords: Confidence::Medium,
        examples: &[
            "my solana wallet: 7EcDhSYGxXyscszYEp35KHN8vvw3svAuLKTzXwCFLtV",
            "send SOL to 4Nd1mBQtrMJVYVfKf2PJy9NZUZdTAsp7D4xWLs4gDB4T",
            "Phantom address GjJyeC1r2RgkuoCWMyPYkCWSGSGLcz266EaAkLA27AhL",
        ],
        negative_examples: &[
            "7EcDhSYGxXyscszYEp35KHN8vvw3svAuLKTzXwCFLtV",
            "solana: 7EcDhSYGxXyscszYEp35KHN8vvw3sv",
            "solana tx 5VERv8NMvzbJMEkV8xnrLkEaWRtSz9CosKDYjCJjBRnbJLgp8uirBgmQpjKhoR4tjF3ZpRzrFmBV6UjKdiSZkQUW",
        ],
        build: || {
            Box::new(
                TokenMatcher::new(r"(?-u:\b)[1-9A-HJ-NP-Za-km-z]{32,44}(?-u:\b)", check_sol)
                    .in_words(|w| (32..=44).contains(&w.len()) && !w.has_underscore()),
            )
        },
    },
    BuiltinDetector {
        id: "crypto_trx",
        description: "TRON address (T + 33 characters, Base58Check, version byte 0x41)",
        region: "global",
        validator: "base58check",
        joinable: false,
        gate: Gate::MinDigits(1),
        keywords: &["trx", "tron", "trc20", "usdt", "usdt-trc20", "wallet"],
        keyword_window: 40,
        requires_keywords: false,
        confidence_with_keywords: Confidence::High,
        examples: &[
            "USDT TRC20: TNPeeaaFB7K9cmo4uQpcU32zGK8G1NYqeL",
            "send to TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t",
            "tron TLa2f6VPqDgRE67v1736s7bJ8Ray5wYjU7",
        ],
        negative_examples: &[
            "TNPeeaaFB7K9cmo4uQpcU32zGK8G1NYqeM",
            "TNPeeaaFB7K9cmo4uQpcU32zGK8G1NYqe",
            "ThisIsNotAnAddressButLooksLong12",
        ],
        build: || {
            Box::new(
                TokenMatcher::new(r"(?-u:\b)T[1-9A-HJ-NP-Za-km-z]{33}(?-u:\b)", check_trx)
                    .in_words(|w| w.len() == 34 && w.upper >= 1 && !w.has_underscore()),
            )
        },
    },
    BuiltinDetector {
        id: "crypto_seed_phrase",
        description: "BIP-39 recovery (seed) phrase: 12–24 English list words with a valid checksum",
        region: "global",
        validator: "bip39_checksum",
        joinable: false,
        gate: Gate::AnyLiteral(&[
            "seed",
            "seed phrase",
            "recovery phrase",
            "mnemonic",
            "secret phrase",
            "secret recovery phrase",
            "backup phrase",
            "12 words",
            "24 words",
            "wallet",
            "metamask",
            "trust wallet",
            "ledger",
            "phrase",
            "words",
            "recovery",
            "restore",
            "frase semilla",
            "frase de recuperação",
            "frase de recuperación",
            "palabras",
            "助记词",
            "phrase de récupération",
            "wiederherstellungsphrase",
        ]),
        keywords: &[
            "seed",
            "seed phrase",
            "recovery phrase",
            "mnemonic",
            "secret phrase",
            "secret recovery phrase",
            "backup phrase",
            "12 words",
            "24 words",
            "wallet",
            "metamask",
            "trust wallet",
            "ledger",
            "phrase",
            "words",
            "recovery",
            "restore",
            "frase semilla",
            "frase de recuperação",
            "frase de recuperación",
            "palabras",
            "助记词",
            "phrase de récupération",
            "wiederherstellungsphrase",
        ],
        keyword_window: 200,
        requires_keywords: false,
        confidence_with_keywords: Confidence::High,
        examples: &[
            "my seed phrase: abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about",
            "recovery words: legal winner thank year wave sausage worth useful legal winner thank yellow",
            "wallet backup 1. letter 2. advice 3. cage 4. absurd 5. amount 6. doctor 7. acoustic 8. avoid 9. letter 10. advice 11. cage 12. above",
        ],
        negative_examples: &[
            "my seed phrase: abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon",
            "wallet words: legal winner thank year wave sausage worth useful",
            "seed the garden with grass and water it every day for two weeks until green shoots appear",
        ],
        build: || Box::new(SeedPhrase),
    },
    BuiltinDetector {
        id: "crypto_private_key_wif",
        description: "Bitcoin private key in Wallet Import Format (Base58Check, version 0x80 or 0xef)",
        region: "global",
        validator: "base58check",
        joinable: false,
        gate: Gate::MinDigits(1),
        keywords: &["private key", "wif", "import key", "clave privada", "chave privada", "privkey"],
        keyword_window: 40,
        requires_keywords: false,
        confidence_with_keywords: Confidence::High,
        examples: &[
            "private key 5HueCGU8rMjxEXxiPuD5BDku4MkFqeZyd4dZ1jvhTVqvbTLvyTJ",
            "WIF: KwdMAjGmerYanjeui5SHS7JkmpZvVipYvB2LJGU1ZxJwYvP98617",
            "L5oLkpV3aqBjhki6LmvChTCV6odsp4SXM6FfU2Gppt5kFLaHLuZ9",
        ],
        negative_examples: &[
            "5HueCGU8rMjxEXxiPuD5BDku4MkFqeZyd4dZ1jvhTVqvbTLvyTK",
            "KwdMAjGmerYanjeui5SHS7JkmpZvVipYvB2LJGU1ZxJwYvP9861",
            "1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2",
        ],
        build: || {
            Box::new(
                TokenMatcher::new(r"(?-u:\b)[59KLc][1-9A-HJ-NP-Za-km-z]{50,51}(?-u:\b)", check_wif)
                    .in_words(|w| (51..=52).contains(&w.len()) && !w.has_underscore()),
            )
        },
    },
];

/// Base58Check payload (version byte included, checksum removed) with the Bitcoin alphabet.
fn base58check(s: &str) -> Option<Vec<u8>> {
    bs58::decode(s).with_check(None).into_vec().ok()
}

fn has_digit(s: &str) -> bool {
    s.bytes().any(|b| b.is_ascii_digit())
}

fn bech32_polymod(values: impl Iterator<Item = u8>) -> u32 {
    const GEN: [u32; 5] = [0x3b6a_57b2, 0x2650_8e6d, 0x1ea1_19fa, 0x3d42_33dd, 0x2a14_62b3];
    let mut chk: u32 = 1;
    for v in values {
        let b = chk >> 25;
        chk = ((chk & 0x01ff_ffff) << 5) ^ u32::from(v);
        for (i, g) in GEN.iter().enumerate() {
            if (b >> i) & 1 == 1 {
                chk ^= g;
            }
        }
    }
    chk
}

/// Bech32 or Bech32m checksum of a lower-case address with human-readable part `hrp`.
pub fn bech32_valid(s: &str, hrp: &str) -> bool {
    const CHARSET: &[u8] = b"qpzry9x8gf2tvdw0s3jn54khce6mua7l";
    let Some(data) = s.strip_prefix(hrp).and_then(|r| r.strip_prefix('1')) else { return false };
    let mut values = Vec::with_capacity(data.len());
    for c in data.bytes() {
        let Some(v) = CHARSET.iter().position(|&x| x == c) else { return false };
        values.push(v as u8);
    }
    if values.len() < 7 {
        return false;
    }
    let hrp_b = hrp.bytes();
    let expanded = hrp_b.clone().map(|b| b >> 5).chain(std::iter::once(0)).chain(hrp_b.map(|b| b & 31));
    let pm = bech32_polymod(expanded.chain(values.iter().copied()));
    pm == 1 || pm == 0x2bc8_30a3
}

fn check_ltc(text: &str, s: usize, e: usize) -> Option<Confidence> {
    let v = &text[s..e];
    if !has_digit(v) {
        return None;
    }
    let ok = if v.starts_with("ltc1") {
        bech32_valid(v, "ltc")
    } else {
        base58check(v).is_some_and(|p| p.len() == 21 && matches!(p[0], 0x30 | 0x32))
    };
    ok.then_some(Confidence::Medium)
}

fn check_xrp(text: &str, s: usize, e: usize) -> Option<Confidence> {
    let v = &text[s..e];
    if !has_digit(v) {
        return None;
    }
    let p = bs58::decode(v).with_alphabet(bs58::Alphabet::RIPPLE).with_check(None).into_vec().ok()?;
    let ok = if v.starts_with('r') {
        p.len() == 21 && p[0] == 0
    } else {
        p.len() == 31 && matches!(&p[..2], [0x05, 0x44] | [0x04, 0x93])
    };
    ok.then_some(Confidence::Medium)
}

fn check_sol(text: &str, s: usize, e: usize) -> Option<Confidence> {
    let v = &text[s..e];
    // Mixed case and a digit: a base58 key, not a word or a number.
    let b = v.as_bytes();
    if !(b.iter().any(u8::is_ascii_uppercase) && b.iter().any(u8::is_ascii_lowercase) && has_digit(v)) {
        return None;
    }
    let bytes = bs58::decode(v).into_vec().ok()?;
    // A Bitcoin or TRON address is Base58Check; a Solana key has no checksum.
    (bytes.len() == 32 && base58check(v).is_none()).then_some(Confidence::Medium)
}

fn check_trx(text: &str, s: usize, e: usize) -> Option<Confidence> {
    let v = &text[s..e];
    (has_digit(v) && base58check(v).is_some_and(|p| p.len() == 21 && p[0] == 0x41))
        .then_some(Confidence::Medium)
}

fn check_wif(text: &str, s: usize, e: usize) -> Option<Confidence> {
    let v = &text[s..e];
    let p = base58check(v)?;
    let ok = matches!(p.first(), Some(0x80 | 0xef)) && (p.len() == 33 || (p.len() == 34 && p[33] == 1));
    (ok && has_digit(v)).then_some(Confidence::High)
}

/// A word of the BIP-39 English list, with its 11-bit index and byte span.
#[derive(Clone, Copy)]
struct Word {
    index: u16,
    start: usize,
    end: usize,
}

/// Finds runs of BIP-39 words (separators: spaces, commas, line breaks, list numbers)
/// and reports the longest window of 12, 15, 18, 21 or 24 words whose checksum holds.
struct SeedPhrase;

/// True when the entropy encoded by `idx` (12–24 word indices) matches its checksum.
pub fn bip39_checksum_ok(idx: &[u16]) -> bool {
    let n = idx.len();
    if !n.is_multiple_of(3) || !(12..=24).contains(&n) {
        return false;
    }
    let total_bits = n * 11;
    let cs_bits = total_bits / 33;
    let ent_bytes = (total_bits - cs_bits) / 8;
    let mut bits = vec![false; total_bits];
    for (i, &w) in idx.iter().enumerate() {
        for b in 0..11 {
            bits[i * 11 + b] = (w >> (10 - b)) & 1 == 1;
        }
    }
    let mut entropy = vec![0u8; ent_bytes];
    for (i, byte) in entropy.iter_mut().enumerate() {
        for b in 0..8 {
            if bits[i * 8 + b] {
                *byte |= 1 << (7 - b);
            }
        }
    }
    let hash = Sha256::digest(&entropy);
    (0..cs_bits).all(|i| ((hash[i / 8] >> (7 - i % 8)) & 1 == 1) == bits[ent_bytes * 8 + i])
}

/// Byte classes for the seed-phrase pre-scan.
const LETTER: u8 = 1;
const SEP: u8 = 2;
const CLASS: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut c = 0;
    while c < 256 {
        let b = c as u8;
        t[c] = if b.is_ascii_alphabetic() {
            LETTER
        } else if b.is_ascii_whitespace()
            || b.is_ascii_digit()
            || matches!(b, b',' | b'.' | b')' | b'-' | b';' | b'"' | b'\'')
        {
            SEP
        } else {
            0
        };
        c += 1;
    }
    t
};

/// Calls `f(start, end)` for every stretch of at least 12 consecutive words of 3–8
/// letters (the lengths of BIP-39 words): one cheap pass, so that the word-list lookup
/// runs only where a phrase can be. Prose breaks such stretches with short words
/// ("a", "to", "of") and punctuation.
fn phrase_stretches(b: &[u8], mut f: impl FnMut(usize, usize)) {
    let n = b.len();
    let (mut i, mut words, mut first) = (0, 0usize, 0);
    while i < n {
        match CLASS[usize::from(b[i])] {
            LETTER => {
                let s = i;
                while i < n && CLASS[usize::from(b[i])] == LETTER {
                    i += 1;
                }
                if (3..=8).contains(&(i - s)) {
                    if words == 0 {
                        first = s;
                    }
                    words += 1;
                } else {
                    if words >= 12 {
                        f(first, s);
                    }
                    words = 0;
                }
            }
            SEP => i += 1,
            _ => {
                if words >= 12 {
                    f(first, i);
                }
                words = 0;
                i += 1;
            }
        }
    }
    if words >= 12 {
        f(first, n);
    }
}

impl Detector for SeedPhrase {
    fn find(&self, text: &str, out: &mut Vec<Candidate>) {
        let mut spans = Vec::new();
        phrase_stretches(text.as_bytes(), |s, e| spans.push((s, e)));
        for (s, e) in spans {
            self.find_in(text, s, e, out);
        }
    }
}

impl SeedPhrase {
    /// The exact check over `text[from..to]`: word-list lookup and checksum windows.
    fn find_in(&self, text: &str, from: usize, to: usize, out: &mut Vec<Candidate>) {
        let list = Language::English;
        let b = &text.as_bytes()[..to];
        let mut run: Vec<Word> = Vec::new();
        let mut i = from;
        let flush = |run: &mut Vec<Word>, out: &mut Vec<Candidate>| {
            let mut at = 0;
            while run.len() >= at + 12 {
                let found = [24, 21, 18, 15, 12].into_iter().find(|&len| {
                    at + len <= run.len() && {
                        let idx: Vec<u16> = run[at..at + len].iter().map(|w| w.index).collect();
                        bip39_checksum_ok(&idx) && idx.iter().any(|&x| x != idx[0])
                    }
                });
                if let Some(len) = found {
                    let confidence = if near(
                        text,
                        run[at].start,
                        run[at + len - 1].end,
                        200,
                        &["seed", "phrase", "mnemonic", "recovery", "wallet"],
                    ) {
                        Confidence::High
                    } else {
                        Confidence::Medium
                    };
                    out.push(Candidate { start: run[at].start, end: run[at + len - 1].end, confidence });
                    at += len;
                } else {
                    at += 1;
                }
            }
            run.clear();
        };
        while i < b.len() {
            if b[i].is_ascii_alphabetic() {
                let start = i;
                while i < b.len() && b[i].is_ascii_alphabetic() {
                    i += 1;
                }
                let word = &text[start..i];
                let lower = word.to_ascii_lowercase();
                match (word.len() <= 8).then(|| list.find_word(&lower)).flatten() {
                    Some(index) => run.push(Word { index, start, end: i }),
                    None => flush(&mut run, out),
                }
            } else if b[i].is_ascii_whitespace()
                || b[i].is_ascii_digit()
                || matches!(b[i], b',' | b'.' | b')' | b'-' | b';' | b'"' | b'\'')
            {
                i += 1;
            } else {
                flush(&mut run, out);
                i += 1;
            }
        }
        flush(&mut run, out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bip39_test_vectors_pass_and_a_changed_word_fails() {
        let ok = |s: &str| {
            let idx: Vec<u16> = s.split(' ').filter_map(|w| Language::English.find_word(w)).collect();
            bip39_checksum_ok(&idx)
        };
        assert!(ok(
            "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about"
        ));
        assert!(ok("legal winner thank year wave sausage worth useful legal winner thank yellow"));
        assert!(!ok("legal winner thank year wave sausage worth useful legal winner thank year"));
    }

    #[test]
    fn bech32_checksum() {
        assert!(bech32_valid("bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq", "bc"));
        assert!(!bech32_valid("bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdr", "bc"));
    }
}
