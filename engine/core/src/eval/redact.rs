//! Redaction of spans in a field (docs/03-verdict.md, docs/09-messaging-facts.md): mask, label, remove, keyed hash.

use hmac::{Hmac, Mac};

use crate::policy::model::{RedactSpec, RedactStyle};

/// One span to redact in a field, in original byte offsets.
#[derive(Debug, Clone)]
pub struct RedactSpan<'a> {
    /// Start byte.
    pub start: usize,
    /// End byte (exclusive).
    pub end: usize,
    /// How to redact it.
    pub spec: &'a RedactSpec,
    /// Detector id, for the `label` style.
    pub detector: &'a str,
}

/// GSM-7 basic characters usable as a mask on SMS without flipping the message to UCS-2.
fn is_gsm7_mask(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '*' | '#' | '-' | '.' | '_' | '+' | '=' | '/' | '?' | '!')
}

/// The key of the `hash` redaction style, its HMAC key schedule done once: hashing a
/// value then costs two SHA-256 blocks instead of four.
#[derive(Clone)]
pub struct HashKey {
    /// `None` only if HMAC refused the key, which it never does for 32 bytes; every
    /// value then hashes to zeros rather than failing the evaluation.
    mac: Option<Hmac<sha2::Sha256>>,
}

impl HashKey {
    /// The keyed state for `key`.
    pub fn new(key: &[u8; 32]) -> Self {
        Self { mac: <Hmac<sha2::Sha256> as Mac>::new_from_slice(key).ok() }
    }

    /// The HMAC-SHA256 of `value` under the key.
    fn mac(&self, value: &str) -> [u8; 32] {
        let Some(mut mac) = self.mac.clone() else { return [0; 32] };
        mac.update(value.as_bytes());
        mac.finalize().into_bytes().into()
    }

    /// Hex HMAC-SHA256 of `value` (see [`keyed_hash`]).
    pub fn hash(&self, value: &str) -> String {
        hex::encode(self.mac(value))
    }
}

impl std::fmt::Debug for HashKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("HashKey(<secret>)")
    }
}

/// Rewrites `text` with `spans` redacted. Overlapping or touching spans are merged; a
/// merged span takes the style of the span that starts first (the longest on a tie).
pub fn apply(text: &str, spans: &mut [RedactSpan<'_>], key: &HashKey, sms: bool) -> String {
    spans.sort_by(|a, b| a.start.cmp(&b.start).then(b.end.cmp(&a.end)));
    let mut out = String::with_capacity(text.len());
    let mut pos = 0;
    let mut i = 0;
    while i < spans.len() {
        let head = spans[i].clone();
        let mut end = head.end;
        let mut j = i + 1;
        while j < spans.len() && spans[j].start <= end {
            end = end.max(spans[j].end);
            j += 1;
        }
        let start = head.start.max(pos);
        if start < end && text.is_char_boundary(start) && text.is_char_boundary(end) {
            out.push_str(&text[pos..start]);
            redact_one(&text[start..end], &head, key, sms, &mut out);
            pos = end;
        }
        i = j;
    }
    out.push_str(&text[pos..]);
    out
}

fn redact_one(value: &str, span: &RedactSpan<'_>, key: &HashKey, sms: bool, out: &mut String) {
    match span.spec.style {
        RedactStyle::Mask => {
            let mut c = span.spec.char.unwrap_or('*');
            if sms && !is_gsm7_mask(c) {
                c = '*';
            }
            let n = value.chars().count();
            let keep_first = span.spec.keep_first.min(n);
            let keep_last = span.spec.keep_last.min(n - keep_first);
            for (k, ch) in value.chars().enumerate() {
                if k < keep_first || k >= n - keep_last {
                    out.push(ch);
                } else {
                    out.push(c);
                }
            }
        }
        RedactStyle::Label => {
            out.push('[');
            out.extend(span.detector.chars().map(|c| c.to_ascii_uppercase()));
            out.push(']');
        }
        RedactStyle::Remove => {}
        RedactStyle::Hash => {
            const HEX: &[u8; 16] = b"0123456789abcdef";
            out.push_str("[#");
            // The first 12 hex digits of the keyed hash.
            for b in &key.mac(value)[..6] {
                out.push(char::from(HEX[usize::from(b >> 4)]));
                out.push(char::from(HEX[usize::from(b & 0xf)]));
            }
            out.push(']');
        }
    }
}

/// Hex HMAC-SHA256 of `value` under `key`: linkable within one policy set and key, not
/// reversible by dictionary without the key.
pub fn keyed_hash(key: &[u8; 32], value: &str) -> String {
    HashKey::new(key).hash(value)
}

/// A masked preview of a detected value: letters and digits become `*` except the last
/// two of a value of eight characters or more; separators stay, so a reader sees the shape.
pub fn preview(value: &str) -> String {
    if value.is_ascii() {
        return preview_ascii(value.as_bytes());
    }
    let n = value.chars().filter(|c| c.is_alphanumeric()).count();
    let keep = if n >= 8 { 2 } else { 0 };
    let mut seen = 0;
    value
        .chars()
        .filter(|c| !crate::normalize::is_invisible(*c))
        .map(|c| {
            if c.is_alphanumeric() {
                seen += 1;
                if seen > n - keep { c } else { '*' }
            } else {
                c
            }
        })
        .collect()
}

/// [`preview`] of an ASCII value (most are), byte by byte into one allocation.
fn preview_ascii(value: &[u8]) -> String {
    let n = value.iter().filter(|b| b.is_ascii_alphanumeric()).count();
    let keep = if n >= 8 { 2 } else { 0 };
    let mut seen = 0;
    let mut out = String::with_capacity(value.len());
    for &b in value {
        if ascii_invisible(b) {
            continue;
        }
        if b.is_ascii_alphanumeric() {
            seen += 1;
            out.push(if seen > n - keep { char::from(b) } else { '*' });
        } else {
            out.push(char::from(b));
        }
    }
    out
}

/// [`crate::normalize::is_invisible`] for an ASCII byte: control characters other than
/// tab, line feed and carriage return.
fn ascii_invisible(b: u8) -> bool {
    (b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r')) || b == 0x7f
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(style: RedactStyle, keep_last: usize) -> RedactSpec {
        RedactSpec { style, char: None, keep_first: 0, keep_last }
    }

    #[test]
    fn mask_keeps_last_and_masks_separators() {
        let s = spec(RedactStyle::Mask, 4);
        let text = "here: 4111-1111-1111-1111 thx";
        let mut spans = [RedactSpan { start: 6, end: 25, spec: &s, detector: "credit_card" }];
        assert_eq!(apply(text, &mut spans, &HashKey::new(&[0; 32]), false), "here: ***************1111 thx");
    }

    #[test]
    fn overlapping_spans_merge_and_label_uses_detector() {
        let s = spec(RedactStyle::Label, 0);
        let text = "a 123456789 b";
        let mut spans = [
            RedactSpan { start: 2, end: 8, spec: &s, detector: "us_ssn" },
            RedactSpan { start: 5, end: 11, spec: &s, detector: "phone" },
        ];
        assert_eq!(apply(text, &mut spans, &HashKey::new(&[0; 32]), false), "a [US_SSN] b");
    }

    #[test]
    fn hash_is_keyed_and_short() {
        let s = spec(RedactStyle::Hash, 0);
        let text = "x secret y";
        let mut a = [RedactSpan { start: 2, end: 8, spec: &s, detector: "d" }];
        let out1 = apply(text, &mut a, &HashKey::new(&[1; 32]), false);
        let mut b = [RedactSpan { start: 2, end: 8, spec: &s, detector: "d" }];
        let out2 = apply(text, &mut b, &HashKey::new(&[2; 32]), false);
        assert!(out1.starts_with("x [#") && out1.len() == "x [#".len() + 12 + "] y".len());
        assert_ne!(out1, out2, "the hash must depend on the key");
        let full = keyed_hash(&[1; 32], "secret");
        assert_eq!(out1, format!("x [#{}] y", &full[..12]), "the redaction shows the keyed hash's head");
        // RFC 4231-style check that the precomputed state is plain HMAC-SHA256.
        let mut mac = <Hmac<sha2::Sha256> as Mac>::new_from_slice(&[1; 32]).expect("key");
        mac.update(b"secret");
        assert_eq!(full, hex::encode(mac.finalize().into_bytes()));
    }

    #[test]
    fn sms_mask_stays_gsm7() {
        let s = RedactSpec { style: RedactStyle::Mask, char: Some('•'), keep_first: 0, keep_last: 0 };
        let mut spans = [RedactSpan { start: 0, end: 3, spec: &s, detector: "d" }];
        assert_eq!(apply("abc", &mut spans, &HashKey::new(&[0; 32]), true), "***");
    }

    #[test]
    fn preview_never_shows_the_value() {
        assert_eq!(preview("4111 1111 1111 1111"), "**** **** **** **11");
        assert_eq!(preview("1234"), "****");
        assert_eq!(preview("SSN 536\u{0}22\u{0}8174"), "*** *******74");
        assert_eq!(preview("４１１１-1111-1111-1111"), "****-****-****-**11");
        assert_eq!(preview("ab\u{200b}cd-éfghij"), "****-****ij");
    }

    #[test]
    fn ascii_invisibles_are_the_normalizers() {
        for b in 0u8..0x80 {
            assert_eq!(ascii_invisible(b), crate::normalize::is_invisible(char::from(b)), "byte {b:#x}");
        }
    }
}
