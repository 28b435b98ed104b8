//! Built-in detectors: credentials, keys and tokens.

use regex::Regex;

use crate::detect::{BuiltinDetector, Candidate, Confidence, Detector, Field, Gate};

/// The secret detectors.
pub const DETECTORS: &[BuiltinDetector] = &[
    BuiltinDetector {
        id: "aws_access_key",
        region: "global",
        validator: "",
        joinable: false,
        description: "AWS access key id (AKIA/ASIA/... + 16 base32 characters)",
        gate: Gate::AnyLiteral(&[
            "akia", "asia", "agpa", "aida", "aroa", "aipa", "anpa", "anva", "abia", "acca",
        ]),
        keywords: &["aws", "access key", "aws_access_key_id", "key"],
        keyword_window: 40,
        requires_keywords: false,
        confidence_with_keywords: Confidence::High,
        examples: &[
            "the deploy key is AKIA5XTPLPFT7V4SEH2K, rotate it",
            "export AWS_ACCESS_KEY_ID=ASIAQIVBA5CIBY5X3KOO",
            "АКІА5XTPLPFT7V4SEH2K",
        ],
        negative_examples: &["AKIA is a prefix", "AKIA5XTPLPFT7V4SEH2", "akia5xtplpft7v4seh2k"],
        build: || {
            Box::new(Simple::new(
                r"(?-u:\b)(?:AKIA|ASIA|AGPA|AIDA|AROA|AIPA|ANPA|ANVA|ABIA|ACCA)[A-Z2-7]{16}(?-u:\b)",
                Confidence::High,
            ))
        },
    },
    BuiltinDetector {
        id: "aws_secret_key",
        region: "global",
        validator: "",
        joinable: false,
        description: "AWS secret access key (40 base64 characters next to AWS words or an access key)",
        gate: Gate::AnyLiteral(&["secret", "aws", "akia", "asia", "key"]),
        keywords: &["aws_secret_access_key", "secret", "secret key", "secret access key", "aws"],
        keyword_window: 60,
        requires_keywords: false,
        confidence_with_keywords: Confidence::High,
        examples: &[
            "aws_secret_access_key = xQLW4ldAvOQLx51KdPnEQw/prg3E6XMX9DXE03zE",
            "secret: f2rcDkdfrUnW5gcF/Ha6ili8GjHEAD6+Wj9Kfzjs",
            "keys: AKIAHL4PEJCVRECPSNYB VH7Q6/JaeBCrylOZKuhHBqKLPSVxY+ds6z4+Lw+E",
        ],
        negative_examples: &[
            "commit 3f9a1c2b4d5e6f708192a3b4c5d6e7f801234567",
            "secret santa list is ready",
            "the key is in the drawer",
        ],
        build: || Box::new(AwsSecret::new()),
    },
    BuiltinDetector {
        id: "github_token",
        region: "global",
        validator: "crc32",
        joinable: false,
        description: "GitHub token (ghp_, gho_, ghu_, ghs_, ghr_, github_pat_)",
        gate: Gate::AnyLiteral(&["ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"]),
        keywords: &["github", "token"],
        keyword_window: 40,
        requires_keywords: false,
        confidence_with_keywords: Confidence::High,
        examples: &[
            "token=ghp_KLzdocJ2isAjIhKtJ0RlgLKOmxgJTeKdNnFR",
            "use gho_16C7e42F292c6912E7710c838347Ae178B4a",
            "github_pat_11ABCDEFG0abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789abcdefghijklmnopqrstu",
        ],
        negative_examples: &["ghp_short", "the ghp_ prefix", "xghp_KLzdocJ2isAjIhKtJ0RlgLKOmxgJTeKdNnFR"],
        build: || {
            Box::new(Simple::new(
                r"(?-u:\b)(?:gh[pousr]_[A-Za-z0-9]{36}(?-u:\b)|github_pat_[A-Za-z0-9_]{60,90})",
                Confidence::High,
            ))
        },
    },
    BuiltinDetector {
        id: "slack_token",
        region: "global",
        validator: "",
        joinable: false,
        description: "Slack token (xoxb-, xoxp-, ...) or incoming webhook URL",
        gate: Gate::AnyLiteral(&["xox", "hooks.slack.com"]),
        keywords: &["slack", "token"],
        keyword_window: 40,
        requires_keywords: false,
        confidence_with_keywords: Confidence::High,
        examples: &[
            "use this token xoxb-72968275850-6015269896145-g1yGbfjyrZv1vr5aaLVP4ZOa",
            "xoxp-1234567890-1234567890-1234567890-abcdef1234567890abcdef1234567890",
            "https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX",
        ],
        negative_examples: &["xoxb- is a prefix", "xox-123", "slack me later"],
        build: || {
            Box::new(Simple::new(
                r"(?-u:\b)xox[abposre]-[0-9]{6,}-[A-Za-z0-9-]{8,}|https://hooks\.slack\.com/services/[A-Za-z0-9/_]{20,}",
                Confidence::High,
            ))
        },
    },
    BuiltinDetector {
        id: "stripe_key",
        region: "global",
        validator: "",
        joinable: false,
        description: "Stripe secret or restricted key (sk_/rk_ live or test)",
        gate: Gate::AnyLiteral(&["sk_live_", "sk_test_", "rk_live_", "rk_test_"]),
        keywords: &["stripe", "api key", "key"],
        keyword_window: 40,
        requires_keywords: false,
        confidence_with_keywords: Confidence::High,
        examples: &[
            "API key: sk_live_EW8JTJ7AIDUpxn4uGnSOoK2V",
            "use sk_live_4eC39HqLyjWDarjtT1zdp7dc for the charge",
            "rk_test_51H8nTmKZ0aBcDeFgHiJkLmNo",
        ],
        negative_examples: &[
            "sk_live_short",
            "pk_live_EW8JTJ7AIDUpxn4uGnSOoK2V",
            "task_live_EW8JTJ7AIDUpxn4uGnSOoK2V",
        ],
        build: || {
            Box::new(Simple::new(r"(?-u:\b)[sr]k_(?:live|test)_[A-Za-z0-9]{16,99}(?-u:\b)", Confidence::High))
        },
    },
    BuiltinDetector {
        id: "google_api_key",
        region: "global",
        validator: "",
        joinable: false,
        description: "Google API key (AIza + 35 characters)",
        gate: Gate::AnyLiteral(&["aiza"]),
        keywords: &["google", "api key", "key", "maps"],
        keyword_window: 40,
        requires_keywords: false,
        confidence_with_keywords: Confidence::High,
        examples: &[
            "key=AIzaSyA1234567890abcdefghijklmnopqrstuv",
            "AIzaSyD-9tSrke72PouQMnMX-a7eZSW0jkFMBWY is the maps key",
            "google: AIzaSyBdVl-cTICSwYKrZ95SuvNw7dbMuDt1KG0",
        ],
        negative_examples: &[
            "AIza is a prefix",
            "AIzaSyA123",
            "AIzaSyA1234567890abcdefghijklmnopqrstuvwxyz0123",
        ],
        build: || {
            Box::new(
                Simple::new(r"(?-u:\b)AIza[0-9A-Za-z_-]{35}(?:[^0-9A-Za-z_-]|$)", Confidence::High)
                    .trim_last(),
            )
        },
    },
    BuiltinDetector {
        id: "private_key",
        region: "global",
        validator: "",
        joinable: false,
        description: "PEM private key block",
        gate: Gate::AnyLiteral(&["private key"]),
        keywords: &["key"],
        keyword_window: 20,
        requires_keywords: false,
        confidence_with_keywords: Confidence::High,
        examples: &[
            "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA\n-----END RSA PRIVATE KEY-----",
            "-----BEGIN OPENSSH PRIVATE KEY-----",
            "-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIFHDBO\n-----END ENCRYPTED PRIVATE KEY-----",
        ],
        negative_examples: &[
            "-----BEGIN PUBLIC KEY-----",
            "never share your private key",
            "-----BEGIN CERTIFICATE-----",
        ],
        build: || Box::new(PrivateKey::new()),
    },
    BuiltinDetector {
        id: "jwt",
        region: "global",
        validator: "",
        joinable: false,
        description: "JSON Web Token (three base64url segments, JSON header)",
        gate: Gate::AnyLiteral(&["eyj"]),
        keywords: &["jwt", "token", "bearer", "authorization"],
        keyword_window: 40,
        requires_keywords: false,
        confidence_with_keywords: Confidence::High,
        examples: &[
            "Authorization: Bearer eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
            "jwt=eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJhY21lIn0.c2lnbmF0dXJlX3ZhbHVlX2hlcmU",
            "eyJ0eXAiOiJKV1QiLCJhbGciOiJFUzI1NiJ9.eyJhIjoxfQ.AbCdEfGhIjKlMnOp",
        ],
        negative_examples: &[
            "eyJ is base64 for {\"",
            "eyJhbGciOiJIUzI1NiJ9",
            "eyJub3QiOiJqd3QifQ.eyJhIjoxfQ.AbCdEfGhIjKlMnOp",
        ],
        build: || Box::new(Jwt::new()),
    },
    BuiltinDetector {
        id: "password_assignment",
        region: "global",
        validator: "",
        joinable: false,
        description: "A password given in a message (password=..., \"my password is ...\")",
        gate: Gate::AnyLiteral(&[
            "pass",
            "pwd",
            "contraseña",
            "contrasena",
            "mot de passe",
            "senha",
            "passwort",
            "kennwort",
            "pin",
        ]),
        keywords: &["password", "login", "credentials", "passwort", "contraseña", "senha"],
        keyword_window: 10,
        requires_keywords: false,
        confidence_with_keywords: Confidence::Medium,
        examples: &[
            "login is jsmith, password: Tr0ub4dor&3x",
            "DB_PASSWORD=s3cr3t!Pa55",
            "mi contraseña es Gato2024!",
            "a minha senha é Lisboa2024",
        ],
        negative_examples: &[
            "please reset your password using the link",
            "password: ********",
            "password=<your password>",
        ],
        build: || Box::new(Password::new()),
    },
];

/// One regex, every match a candidate.
struct Simple {
    re: Regex,
    confidence: Confidence,
    /// The regex consumes one terminator byte that is not part of the value.
    trim_last: bool,
}

impl Simple {
    fn new(pattern: &str, confidence: Confidence) -> Self {
        Self { re: Regex::new(pattern).expect("static regex"), confidence, trim_last: false }
    }

    fn trim_last(mut self) -> Self {
        self.trim_last = true;
        self
    }
}

impl Detector for Simple {
    fn find(&self, text: &str, out: &mut Vec<Candidate>) {
        for m in self.re.find_iter(text) {
            let mut end = m.end();
            if self.trim_last
                && !m
                    .as_str()
                    .chars()
                    .last()
                    .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
            {
                end = text[..end].char_indices().last().map_or(end, |(i, _)| i);
            }
            out.push(Candidate { start: m.start(), end, confidence: self.confidence });
        }
    }
}

/// Longest PEM body (between the BEGIN and END lines) taken into a key block: a 16,384-bit
/// RSA key is about 12 KB of base64. A longer run is reported as its header alone.
const MAX_PEM_BODY: usize = 64 << 10;

/// PEM private-key blocks: the BEGIN line, extended to the first END line when only key
/// characters (base64, whitespace, `:,-` of PEM headers) lie between, within
/// [`MAX_PEM_BODY`] bytes.
///
/// One regex with a lazy body (`BEGIN…[body]*?END`) rescans the rest of the text from every
/// BEGIN line that has no END: quadratic (1 MB of BEGIN lines took 32 s). Here the END
/// search and the body check each remember how far they have looked, so the whole text is
/// scanned a bounded number of times: linear.
struct PrivateKey {
    begin: Regex,
    end: Regex,
}

impl PrivateKey {
    fn new() -> Self {
        Self {
            begin: Regex::new(r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----")
                .expect("static regex"),
            end: Regex::new(r"-----END (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----").expect("static regex"),
        }
    }
}

/// A character a PEM body may hold.
fn pem_body_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '+' | '/' | '=' | ':' | ',' | '-') || c.is_whitespace()
}

impl Detector for PrivateKey {
    fn find(&self, text: &str, out: &mut Vec<Candidate>) {
        // The first END line at or after `from` (None: there is none after `from`).
        let mut end_cache: Option<(usize, Option<(usize, usize)>)> = None;
        // The first byte at or after `from` that no PEM body may hold (text.len() if none).
        let mut bad_cache: Option<(usize, usize)> = None;
        let mut at = 0;
        while let Some(h) = self.begin.find_at(text, at) {
            let body = h.end();
            let next_end = match end_cache {
                // Still valid: nothing between `from` and the END found is an END.
                Some((from, found)) if from <= body && found.is_none_or(|(s, _)| s >= body) => found,
                _ => {
                    let found = self.end.find_at(text, body).map(|m| (m.start(), m.end()));
                    end_cache = Some((body, found));
                    found
                }
            };
            let first_bad = match bad_cache {
                Some((from, bad)) if from <= body && bad >= body => bad,
                _ => {
                    let bad = text[body..]
                        .char_indices()
                        .find(|(_, c)| !pem_body_char(*c))
                        .map_or(text.len(), |(i, _)| body + i);
                    bad_cache = Some((body, bad));
                    bad
                }
            };
            let end = match next_end {
                Some((s, e)) if s - body <= MAX_PEM_BODY && first_bad >= s => e,
                _ => h.end(),
            };
            out.push(Candidate { start: h.start(), end, confidence: Confidence::High });
            at = end;
        }
    }
}

struct AwsSecret {
    re: Regex,
}

impl AwsSecret {
    fn new() -> Self {
        Self {
            re: Regex::new(r"(?:^|[^A-Za-z0-9/+])([A-Za-z0-9/+]{40})(?:$|[^A-Za-z0-9/+=])")
                .expect("static regex"),
        }
    }
}

impl Detector for AwsSecret {
    fn find_in_field(&self, field: &Field<'_>, out: &mut Vec<Candidate>) {
        let text = field.text();
        let mut at = 0;
        while let Some(c) = self.re.captures_at(text, at) {
            let Some(m) = c.get(1) else { break };
            at = m.end();
            let v = m.as_str().as_bytes();
            let (upper, lower, digit) = (
                v.iter().any(u8::is_ascii_uppercase),
                v.iter().any(u8::is_ascii_lowercase),
                v.iter().any(u8::is_ascii_digit),
            );
            // Hex digests (commit ids, SHA-1) are 40 characters of one case.
            if !(upper && lower && digit) {
                continue;
            }
            let from = super::digits::floor_boundary(text, m.start().saturating_sub(80));
            if field.has_word(from, m.start(), &["secret*", "aws", "akia*", "asia*", "credential*"]) {
                out.push(Candidate { start: m.start(), end: m.end(), confidence: Confidence::Medium });
            }
        }
    }
}

struct Jwt {
    re: Regex,
}

impl Jwt {
    fn new() -> Self {
        Self {
            re: Regex::new(r"(?-u:\b)eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]{8,}")
                .expect("static regex"),
        }
    }
}

/// Decodes unpadded base64url.
fn b64url(s: &str) -> Option<Vec<u8>> {
    decode_base64(s, b'-', b'_')
}

/// Decodes base64 whose 63rd and 64th characters are `c62` and `c63` (padding not
/// accepted: strip it first); `None` on any other character.
pub(super) fn decode_base64(s: &str, c62: u8, c63: u8) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let mut acc = 0u32;
    let mut bits = 0;
    for c in s.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            _ if c == c62 => 62,
            _ if c == c63 => 63,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    Some(out)
}

impl Detector for Jwt {
    fn find(&self, text: &str, out: &mut Vec<Candidate>) {
        for m in self.re.find_iter(text) {
            let header = m.as_str().split('.').next().unwrap_or("");
            let Some(json) = b64url(header) else { continue };
            let json = String::from_utf8_lossy(&json);
            if json.contains("\"alg\"") {
                out.push(Candidate { start: m.start(), end: m.end(), confidence: Confidence::Medium });
            }
        }
    }
}

struct Password {
    re: Regex,
}

impl Password {
    fn new() -> Self {
        Self {
            re: Regex::new(
                r#"(?i)(?-u:\b)(?:[a-z_]*pass(?:word|wd|code|phrase)?|pwd|contraseña|contrasena|mot de passe|passwort|kennwort|senha)(?-u:\b)\s*(?:[:=]|(?-u:\b)is(?-u:\b)|(?-u:\b)es(?-u:\b)|(?-u:\b)est(?-u:\b)|(?-u:\b)ist(?-u:\b)|é(?:[^\w]|$))\s*[:=]?\s*["'`]?([^\s"'`,;]{4,64})"#,
            )
            .expect("static regex"),
        }
    }
}

impl Detector for Password {
    fn find(&self, text: &str, out: &mut Vec<Candidate>) {
        for c in self.re.captures_iter(text) {
            let Some(v) = c.get(1) else { continue };
            let s = v.as_str().trim_end_matches(['.', '!', ')']);
            if s.len() < 4 {
                continue;
            }
            let b = s.as_bytes();
            let placeholder = b.iter().all(|&x| matches!(x, b'*' | b'x' | b'X' | b'.' | b'-' | b'#'))
                || s.starts_with('<')
                || s.starts_with('{')
                || s.starts_with('$')
                || [
                    "password",
                    "changeme",
                    "required",
                    "reset",
                    "protected",
                    "incorrect",
                    "wrong",
                    "expired",
                ]
                .iter()
                .any(|p| s.eq_ignore_ascii_case(p));
            // A real secret mixes classes; a single plain word is usually prose.
            let classes = [
                b.iter().any(u8::is_ascii_lowercase),
                b.iter().any(u8::is_ascii_uppercase),
                b.iter().any(u8::is_ascii_digit),
                b.iter().any(|x| !x.is_ascii_alphanumeric()),
            ]
            .iter()
            .filter(|&&x| x)
            .count();
            if placeholder || classes < 2 {
                continue;
            }
            let confidence = if classes >= 3 { Confidence::High } else { Confidence::Medium };
            out.push(Candidate { start: v.start(), end: v.start() + s.len(), confidence });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spans(text: &str) -> Vec<(usize, usize)> {
        let mut out = Vec::new();
        PrivateKey::new().find(text, &mut out);
        out.into_iter().map(|c| (c.start, c.end)).collect()
    }

    #[test]
    fn a_key_block_runs_from_begin_to_end() {
        let key = "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA\n-----END RSA PRIVATE KEY-----";
        let text = format!("here: {key} thanks");
        assert_eq!(spans(&text), vec![(6, 6 + key.len())]);
        // A character no PEM body holds: the header alone.
        let text = "-----BEGIN PRIVATE KEY-----\nMII!\n-----END PRIVATE KEY-----";
        assert_eq!(spans(text), vec![(0, 27)]);
    }

    #[test]
    fn a_megabyte_of_begin_lines_is_one_finding_each() {
        // Quadratic with the old single regex (32 s in release for 1 MB).
        let line = "-----BEGIN PRIVATE KEY-----\n";
        let n = (1 << 20) / line.len();
        let text = line.repeat(n);
        let found = spans(&text);
        assert_eq!(found.len(), n);
        assert!(found.iter().enumerate().all(|(i, &(s, e))| s == i * line.len() && e == s + line.len() - 1));
        // An END at the very end: headers more than 64 KiB before it stand alone, the
        // first one within 64 KiB takes the rest as its body.
        let text = format!("{text}-----END PRIVATE KEY-----");
        let found = spans(&text);
        assert_eq!(found.last().map(|s| s.1), Some(text.len()));
        assert!(found.len() < n && found.len() > n - (MAX_PEM_BODY / line.len()) - 2);
    }

    #[test]
    fn an_overlong_body_is_not_taken_into_the_block() {
        let body = "QUJD\n".repeat(20_000);
        let text = format!("-----BEGIN PRIVATE KEY-----\n{body}-----END PRIVATE KEY-----");
        assert_eq!(spans(&text), vec![(0, 27)]);
    }
}
