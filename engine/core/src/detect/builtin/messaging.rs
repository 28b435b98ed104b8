//! Built-in detectors specific to business messaging: one-time codes, card PINs and
//! pasted SWIFT MT103 payment messages (docs/notes/detector-breadth.md §1k).

use regex::Regex;

use super::digits::{self, Run};
use super::ids::labelled_near;
use crate::detect::{BuiltinDetector, Candidate, Confidence, Detector, Field, Gate};

const OTP_WORDS: &[&str] = &[
    "otp",
    "one-time password",
    "one time password",
    "one-time code",
    "one time code",
    "verification code",
    "verification pin",
    "is your code",
    "your code is",
    "your code",
    "login code",
    "log-in code",
    "sign-in code",
    "auth code",
    "authentication code",
    "confirmation code",
    "security code is",
    "passcode",
    "2fa code",
    "2fa",
    "tac",
    "código de verificación",
    "código de verificação",
    "código de acesso",
    "código de seguridad",
    "code de vérification",
    "code de confirmation",
    "bestätigungscode",
    "verifizierungscode",
    "codice di verifica",
    "验证码",
    "驗證碼",
    "認証コード",
    "確認コード",
    "인증번호",
    "인증 번호",
    "رمز التحقق",
    "ओटीपी",
    "kode otp",
    "kode verifikasi",
    "mã otp",
    "mã xác nhận",
    "mã xác thực",
];
const PIN_WORDS: &[&str] = &[
    "pin",
    "pin code",
    "pin number",
    "atm pin",
    "card pin",
    "debit pin",
    "pin block",
    "pin-code",
    "pincode",
    "code pin",
    "senha do cartão",
    "senha do cartao",
    "nip",
    "geheimzahl",
    "pin-nummer",
    "código pin",
    "codigo pin",
    "密码",
    "비밀번호",
    "暗証番号",
];
const CARD_WORDS: &[&str] = &[
    "card",
    "atm",
    "debit",
    "credit",
    "bank",
    "cartão",
    "cartao",
    "karte",
    "tarjeta",
    "carte",
    "visa",
    "mastercard",
];
const MT103_WORDS: &[&str] =
    &["mt103", "mt 103", "swift copy", "payment confirmation", "uetr", "wire", "transferencia", "swift"];

/// The messaging-specific detectors.
pub const DETECTORS: &[BuiltinDetector] = &[
    BuiltinDetector {
        id: "otp_code",
        description: "One-time passcode (4-8 digits) next to verification-code wording, in many languages",
        region: "global",
        validator: "",
        joinable: false,
        gate: Gate::Keywords,
        keywords: OTP_WORDS,
        keyword_window: 40,
        requires_keywords: true,
        confidence_with_keywords: Confidence::High,
        examples: &[
            "482913 is your verification code. For your security, do not share this code.",
            "Your OTP is 5521, valid for 5 minutes",
            "código de verificación: 734-912",
        ],
        negative_examples: &[
            "your verification code expires on 12/05/2025",
            "the OTP was sent to +44 7700 900123",
            "one-time password reset costs $1200",
        ],
        build: || Box::new(OneTimeCode),
    },
    BuiltinDetector {
        id: "card_pin",
        description: "Card PIN (4-6 digits) right next to a PIN word",
        region: "global",
        validator: "",
        joinable: false,
        gate: Gate::Keywords,
        keywords: PIN_WORDS,
        keyword_window: 24,
        requires_keywords: true,
        confidence_with_keywords: Confidence::High,
        examples: &["my card PIN is 4821", "ATM pin: 0934", "a senha do cartão é 7710"],
        negative_examples: &[
            "pin code 560001 Bangalore",
            "PIN reset on 12/05/2025",
            "pin the message at 10:30",
        ],
        build: || Box::new(CardPin),
    },
    BuiltinDetector {
        id: "swift_mt103",
        description: "SWIFT MT103 payment message: block headers or at least three MT field tags",
        region: "global",
        validator: "mt_tags",
        joinable: false,
        gate: Gate::AnyLiteral(&[
            ":20:", ":23b:", ":32a:", ":50k:", ":50a:", ":50f:", ":59:", ":70:", ":71a:", "{2:",
        ]),
        keywords: MT103_WORDS,
        keyword_window: 80,
        requires_keywords: false,
        confidence_with_keywords: Confidence::High,
        examples: &[
            "SWIFT copy:\n:20:REF12345\n:23B:CRED\n:32A:250314EUR12500,00\n:50K:/DE89370400440532013000\nJOHN DOE\n:59:/GB29NWBK60161331926819\nACME LTD\n:71A:SHA",
            "{1:F01DEUTDEFFAXXX0000000000}{2:I103BARCGB22XXXXN}{4:\n:20:INV778\n:32A:250101USD100,00\n:59:/123456",
            "MT103 :20:PAY-99 :32A:240230GBP5000,00 :50K:ACME :59:BOB :71A:OUR",
        ],
        negative_examples: &[
            "meeting at 10:20: see you",
            "ratio :20: and :59: only",
            "the MT103 will follow tomorrow",
        ],
        build: || Box::new(Mt103::new()),
    },
];

/// Whether a run looks like a date, a time, an amount or a phone number rather than a code.
fn not_a_code(text: &str, run: &Run) -> bool {
    let b = text.as_bytes();
    let seps = (1..run.len.min(digits::MAX_DIGITS))
        .filter(|&i| run.boundary(i))
        .flat_map(|i| &b[run.pos[i - 1] as usize + 1..run.pos[i] as usize])
        .any(|&c| matches!(c, b'/' | b'.' | b'(' | b')'));
    let before = &text[..run.start];
    let after = &text[run.end..];
    let amount = before.trim_end().ends_with(['$', '€', '£', '₹', '¥'])
        || after.starts_with('%')
        || after.trim_start().starts_with(['%', '€', '$'])
        || after.starts_with(':')
        || before.ends_with(':') && before[..before.len() - 1].ends_with(|c: char| c.is_ascii_digit());
    seps || amount || run.plus
}

/// One-time codes: a run of 4 to 8 digits (or two groups of three or four) near OTP wording.
struct OneTimeCode;

impl Detector for OneTimeCode {
    fn find_in_field(&self, field: &Field<'_>, out: &mut Vec<Candidate>) {
        let text = field.text();
        {
            for run in field.runs() {
                if !(4..=8).contains(&run.len) {
                    continue;
                }
                let g = run.groups(0, run.len);
                if !(g.len() == 1 || g == [3, 3] || g == [4, 4] || g == [2, 2, 2]) {
                    continue;
                }
                // `G-482913` (Google) is a code; other letter prefixes make an identifier.
                if run.attached {
                    let pre = text.as_bytes().get(run.start.wrapping_sub(2)).copied();
                    let glued_after = text.as_bytes().get(run.end).is_some_and(u8::is_ascii_alphanumeric);
                    if glued_after || pre != Some(b'G') || text.as_bytes().get(run.start - 1) != Some(&b'-') {
                        continue;
                    }
                }
                if not_a_code(text, run) {
                    continue;
                }
                let d = run.all();
                // Four-digit years next to code wording are dates, not codes.
                if run.len == 4 && matches!(d.parse::<u32>().unwrap_or(0), 1950..=2099) {
                    continue;
                }
                let (s, e) = run.span(0, run.len);
                out.push(Candidate { start: s, end: e, confidence: Confidence::Medium });
            }
        }
    }
}

/// Card PINs: 4 to 6 digits; a six-digit one needs a card word (Indian postal codes are
/// called "PIN code").
struct CardPin;

impl Detector for CardPin {
    fn find_in_field(&self, field: &Field<'_>, out: &mut Vec<Candidate>) {
        let text = field.text();
        {
            for run in field.runs() {
                if !(4..=6).contains(&run.len) || run.attached || run.groups(0, run.len).len() != 1 {
                    continue;
                }
                if not_a_code(text, run) {
                    continue;
                }
                if run.len > 4 && !labelled_near(field, run.start, run.end, CARD_WORDS) {
                    continue;
                }
                // "changed in 2023": a year after a preposition is a date.
                let year = run.len == 4 && matches!(run.all().parse::<u32>().unwrap_or(0), 1950..=2099);
                let prev = digits::previous_token(text, run.start).to_ascii_lowercase();
                if year
                    && matches!(
                        prev.as_str(),
                        "in" | "since"
                            | "until"
                            | "from"
                            | "by"
                            | "of"
                            | "year"
                            | "em"
                            | "en"
                            | "im"
                            | "seit"
                    )
                {
                    continue;
                }
                let (s, e) = run.span(0, run.len);
                out.push(Candidate { start: s, end: e, confidence: Confidence::Medium });
            }
        }
    }
}

/// MT103: the `{2:I103`/`{2:O103` application header, or three distinct field tags at a
/// line start or after a space; the finding spans the message from its first tag to the
/// end of the last tagged line.
struct Mt103 {
    tag: Regex,
}

impl Mt103 {
    fn new() -> Self {
        Self {
            tag: Regex::new(
                r"(?m)(?:^|[\s}{])(?::(20|23B|32A|33B|50[AFK]|52[AD]|53[AB]|54A|56A|57[AD]|59[AF]?|70|71[AFG]|72):|\{2:[IO]103)",
            )
            .expect("static regex"),
        }
    }
}

impl Detector for Mt103 {
    fn find(&self, text: &str, out: &mut Vec<Candidate>) {
        let mut seen: Vec<&str> = Vec::new();
        let mut first = None;
        let mut last_end = 0;
        let mut header = false;
        for c in self.tag.captures_iter(text) {
            let Some(m) = c.get(0) else { continue };
            let start = m.start() + m.as_str().len()
                - m.as_str().trim_start_matches([' ', '\n', '\r', '\t', '{', '}']).len();
            first.get_or_insert(start);
            match c.get(1) {
                Some(t) if !seen.contains(&t.as_str()) => seen.push(t.as_str()),
                Some(_) => {}
                None => header = true,
            }
            last_end = m.end();
        }
        let Some(start) = first else { return };
        // Three distinct tags, or the MT103 header and one tag.
        let enough = seen.len() >= 3 || (header && !seen.is_empty());
        if !enough {
            return;
        }
        let end = text[last_end..].find('\n').map_or(text.len(), |i| last_end + i);
        let end = text[..end].trim_end().len().max(last_end);
        out.push(Candidate { start, end, confidence: Confidence::High });
    }
}
