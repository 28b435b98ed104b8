//! Built-in detectors: network and device identifiers (MAC, IMEI, IMSI, ICCID), per
//! docs/notes/detector-breadth.md §1i.

use super::token::{TokenMatcher, near};
use crate::detect::validators::{digits, luhn};
use crate::detect::{BuiltinDetector, Confidence, Gate, runs_of_at_least};

/// GSMA reporting-body identifiers: the first two digits of an IMEI's type allocation code.
const IMEI_RBI: &[&str] =
    &["01", "10", "30", "33", "35", "44", "45", "49", "50", "51", "52", "53", "54", "86", "91", "98", "99"];

/// Mobile country codes in the ITU list (stdnum `imsi.dat`).
const MCC: &[u16] = &[
    1, 202, 204, 206, 208, 212, 213, 214, 216, 218, 219, 220, 221, 222, 226, 228, 230, 231, 232, 234, 235,
    238, 240, 242, 244, 246, 247, 248, 250, 255, 257, 259, 260, 262, 266, 268, 270, 272, 274, 276, 278, 280,
    282, 283, 284, 286, 288, 289, 290, 292, 293, 294, 295, 297, 302, 308, 310, 311, 312, 313, 314, 316, 330,
    334, 338, 340, 342, 344, 346, 348, 350, 352, 354, 356, 358, 360, 362, 363, 364, 365, 366, 368, 370, 372,
    374, 376, 400, 401, 402, 404, 405, 410, 412, 413, 414, 415, 416, 417, 418, 419, 420, 421, 422, 424, 425,
    426, 427, 428, 429, 432, 434, 436, 437, 438, 440, 441, 450, 452, 454, 455, 456, 457, 460, 466, 467, 470,
    472, 502, 505, 510, 514, 515, 520, 525, 528, 530, 536, 537, 539, 540, 541, 542, 543, 544, 545, 546, 547,
    548, 549, 550, 551, 552, 553, 554, 555, 602, 603, 604, 605, 606, 607, 608, 609, 610, 611, 612, 613, 614,
    615, 616, 617, 618, 619, 620, 621, 622, 623, 624, 625, 626, 627, 628, 629, 630, 631, 632, 633, 634, 635,
    636, 637, 638, 639, 640, 641, 642, 643, 645, 646, 647, 648, 649, 650, 651, 652, 653, 654, 655, 657, 658,
    659, 702, 704, 706, 708, 710, 712, 714, 716, 722, 724, 730, 732, 734, 736, 738, 740, 742, 744, 746, 748,
    750, 901, 902, 991, 995, 999,
];

/// The network and device detectors.
pub const DETECTORS: &[BuiltinDetector] = &[
    BuiltinDetector {
        id: "mac_address",
        description: "MAC address (xx:xx:…, xx-xx-…, xxxx.xxxx.xxxx), broadcast and multicast excluded",
        region: "global",
        validator: "",
        joinable: false,
        gate: Gate::MinDigits(1),
        keywords: &[
            "mac",
            "mac address",
            "hardware address",
            "physical address",
            "ethernet",
            "wifi",
            "bssid",
        ],
        keyword_window: 40,
        requires_keywords: false,
        confidence_with_keywords: Confidence::High,
        examples: &["MAC 00:1A:2B:3C:4D:5E", "device 3c-22-fb-91-0a-7e joined", "cisco 001a.2b3c.4d5e"],
        negative_examples: &[
            "ff:ff:ff:ff:ff:ff",
            "01:00:5e:00:00:fb multicast",
            "at 10:30:00 today",
            "fe80::1:2:3:4:5",
        ],
        build: || {
            Box::new(TokenMatcher::new(
                r"(?-u:\b)(?:[0-9A-Fa-f]{2}(?::[0-9A-Fa-f]{2}){5}|[0-9A-Fa-f]{2}(?:-[0-9A-Fa-f]{2}){5}|[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4})(?-u:\b)",
                check_mac,
            )
            .in_chains(b":-.", 3))
        },
    },
    BuiltinDetector {
        id: "imei",
        description: "IMEI handset identifier (15 digits, Luhn, known reporting body); IMEISV with a word",
        region: "global",
        validator: "luhn",
        joinable: true,
        gate: Gate::RunLengths(runs_of_at_least(14)),
        keywords: &["imei", "imeisv", "*#06#", "device serial", "handset", "serial number"],
        keyword_window: 40,
        requires_keywords: false,
        confidence_with_keywords: Confidence::High,
        examples: &[
            "IMEI 490154203237518",
            "my phone's imei: 35-209900-176148-1",
            "handset 356938035643809 was stolen",
        ],
        negative_examples: &["490154203237517", "IMEI 4901542032375", "Bank acct 495282914055013"],
        build: || {
            Box::new(TokenMatcher::new(
                r"(?-u:\b)(?:[0-9]{2}[ -]?[0-9]{6}[ -]?[0-9]{6}[ -]?[0-9]{1,2}|[0-9]{14,16})(?-u:\b)",
                check_imei,
            ))
        },
    },
    BuiltinDetector {
        id: "imsi",
        description: "IMSI subscriber identity (14–15 digits, known mobile country code, needs a SIM word)",
        region: "global",
        validator: "mcc",
        joinable: false,
        gate: Gate::AnyLiteral(&["imsi", "sim", "subscriber", "subscriber identity", "mcc", "mnc"]),
        keywords: &["imsi", "sim", "subscriber", "subscriber identity", "mcc", "mnc"],
        keyword_window: 40,
        requires_keywords: true,
        confidence_with_keywords: Confidence::Medium,
        examples: &["IMSI 310150123456789", "sim imsi: 234150999999999", "subscriber 262011234567890"],
        negative_examples: &["310150123456789", "IMSI 100150123456789", "IMSI 3101501234"],
        build: || {
            Box::new(
                TokenMatcher::new(r"(?-u:\b)[0-9]{14,15}(?-u:\b)", check_imsi)
                    .in_words(|w| (14..=15).contains(&w.len()) && usize::from(w.digits) == w.len()),
            )
        },
    },
    BuiltinDetector {
        id: "iccid",
        description: "SIM card number ICCID (19–20 digits starting 89, Luhn)",
        region: "global",
        validator: "luhn",
        joinable: true,
        gate: Gate::RunLengths(runs_of_at_least(19)),
        keywords: &["iccid", "sim number", "sim serial", "esim", "sim card", "sim"],
        keyword_window: 40,
        requires_keywords: false,
        confidence_with_keywords: Confidence::High,
        examples: &[
            "ICCID 8944500102198304826",
            "sim card 89 44 500 10219830482 6",
            "esim 89014103211118510720",
        ],
        negative_examples: &["8944500102198304827", "ICCID 894450010219830482", "7944500102198304826"],
        build: || Box::new(TokenMatcher::new(r"(?-u:\b)89(?:[ -]?[0-9]){17,18}(?-u:\b)", check_iccid)),
    },
];

fn hex_octets(v: &str) -> Vec<u8> {
    let hex: Vec<u8> = v.bytes().filter(u8::is_ascii_hexdigit).collect();
    hex.chunks(2)
        .filter_map(|c| std::str::from_utf8(c).ok().and_then(|s| u8::from_str_radix(s, 16).ok()))
        .collect()
}

fn check_mac(text: &str, s: usize, e: usize) -> Option<Confidence> {
    let v = &text[s..e];
    let b = text.as_bytes();
    // Part of an IPv6 address or a longer colon/dash list.
    let glued =
        |i: Option<usize>| i.and_then(|i| b.get(i)).is_some_and(|&x| x == b':' || x == b'-' || x == b'.');
    if glued(s.checked_sub(1)) || (glued(Some(e)) && b.get(e + 1).is_some_and(u8::is_ascii_hexdigit)) {
        return None;
    }
    let octets = hex_octets(v);
    if octets.len() != 6
        || octets[0] & 1 == 1
        || octets.iter().all(|&o| o == 0)
        || !v.bytes().any(|c| c.is_ascii_digit())
    {
        return None;
    }
    // A Cisco-style triple of four digits is as often a number with dots.
    if v.contains('.')
        && !v.bytes().any(|c| c.is_ascii_alphabetic())
        && !near(text, s, e, 40, &["mac", "ethernet", "hardware"])
    {
        return None;
    }
    Some(Confidence::Medium)
}

fn check_imei(text: &str, s: usize, e: usize) -> Option<Confidence> {
    let v = &text[s..e];
    let d: String = v.bytes().filter(u8::is_ascii_digit).map(char::from).collect();
    if !IMEI_RBI.contains(&&d[..2]) {
        return None;
    }
    // A Luhn-valid 15-digit account or card number is not a handset.
    let device = near(text, s, e, 30, &["imei", "handset", "device", "phone", "*#06#", "serial"]);
    if !device
        && near(text, s, e, 25, &["acct", "account", "card", "iban", "routing", "cc ", "policy", "invoice"])
    {
        return None;
    }
    match d.len() {
        15 if luhn(&d) => Some(Confidence::Medium),
        // IMEI without its check digit, or IMEISV: no checksum, so a word is needed.
        14 | 16 if near(text, s, e, 30, &["imei"]) => Some(Confidence::Medium),
        _ => None,
    }
}

fn check_imsi(text: &str, s: usize, e: usize) -> Option<Confidence> {
    let d: Vec<u32> = digits(&text[s..e]).collect();
    let mcc = (d[0] * 100 + d[1] * 10 + d[2]) as u16;
    MCC.binary_search(&mcc).is_ok().then_some(Confidence::Medium)
}

fn check_iccid(text: &str, s: usize, e: usize) -> Option<Confidence> {
    let n = digits(&text[s..e]).count();
    ((19..=20).contains(&n) && luhn(&text[s..e])).then_some(Confidence::Medium)
}
