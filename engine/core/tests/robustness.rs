//! No input crashes evaluation, and every finding points at real characters: random
//! messages mixing digits, separators, look-alikes, invisible characters and scripts.

use linewall_engine::Message;
use linewall_engine::message::{Channel, Direction};
use linewall_engine::policy::{LoadOptions, PolicySet};

/// A small deterministic generator (xorshift), so failures reproduce.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[(self.next() % items.len() as u64) as usize]
    }
}

const PIECES: &[&str] = &[
    "4111",
    "1111",
    " ",
    "-",
    ".",
    "/",
    "_",
    "(",
    ")",
    "+",
    "00",
    "0",
    "9",
    "１",
    "𝟒",
    "٤",
    "\u{200b}",
    "\u{2060}",
    "\u{feff}",
    "\u{00a0}",
    "é",
    "АКІА",
    "card",
    "ssn",
    "iban",
    "DE89",
    "GB82",
    "WEST",
    "routing",
    "account",
    "@",
    "example.com",
    "bc1q",
    "0x",
    "ghp_",
    "AKIA",
    "password=",
    "DOB",
    "12/05/1984",
    "passport",
    "C7773921",
    "🙂",
    "\u{0301}",
    "\u{FFFD}",
    "中文",
    "ﷺ",
    "\n",
    "\t",
    "\"",
    "\\",
    "sk_live_",
    "eyJ",
    ".",
    "::",
    "192.168.",
];

fn random_text(rng: &mut Rng) -> String {
    let n = 1 + rng.next() % 60;
    (0..n).map(|_| rng.pick(PIECES)).collect()
}

fn check(set: &PolicySet, msg: &Message) {
    let v = set.evaluate(msg);
    for f in &v.findings {
        let text = linewall_engine::eval::fields::get(msg, &f.field).expect("finding names a real field");
        assert!(f.byte_start < f.byte_end && f.byte_end <= text.len(), "byte span inside the field");
        assert!(text.is_char_boundary(f.byte_start) && text.is_char_boundary(f.byte_end), "char boundaries");
        assert_eq!(text[..f.byte_start].chars().count(), f.start, "code-point start");
        assert_eq!(text[..f.byte_end].chars().count(), f.end, "code-point end");
        let value = &text[f.byte_start..f.byte_end];
        if value.chars().filter(|c| c.is_alphanumeric()).count() >= 8 {
            assert_ne!(f.preview, value, "preview is masked");
        }
    }
}

#[test]
fn random_messages_never_panic_and_findings_are_well_formed() {
    let set = PolicySet::builtin(&LoadOptions::default()).expect("packs load");
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    for i in 0..20_000 {
        let mut msg = Message::text(random_text(&mut rng));
        msg.direction = if i % 2 == 0 { Direction::Inbound } else { Direction::Outbound };
        msg.channel = [Channel::Whatsapp, Channel::Sms, Channel::Other][i % 3];
        if i % 5 == 0 {
            msg.caption = random_text(&mut rng);
        }
        check(&set, &msg);
    }
}

#[test]
fn a_megabyte_of_dense_matches_is_handled() {
    let set = PolicySet::builtin(&LoadOptions::default()).expect("packs load");
    let text = "card 4111 1111 1111 1111, ssn 536-22-8174; ".repeat(24_000);
    let msg = Message { text, direction: Direction::Inbound, ..Message::default() };
    let v = set.evaluate(&msg);
    assert!(v.findings.len() >= 48_000, "{} findings", v.findings.len());
    check(&set, &msg);
}
