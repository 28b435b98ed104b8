//! Built-in detectors: national identifiers of Asia-Pacific countries (docs/notes/detector-breadth.md §1b).

use super::ids::{DigitId, RegexId};
use crate::detect::idcheck;
use crate::detect::{BuiltinDetector, Confidence, Gate, runs_of_at_least};

const CN_WORDS: &[&str] = &[
    "身份证",
    "居民身份证",
    "身份证号",
    "身份证号码",
    "身分證",
    "resident identity card",
    "resident id",
    "prc",
    "national identification card",
    "chinese id",
    "id card",
];
const HK_WORDS: &[&str] = &[
    "hkid",
    "hong kong identity card",
    "hong kong id",
    "香港身份證",
    "身份證",
    "身分證",
    "香港永久性居民身份證",
    "identity card",
    "id card",
];
const TW_WORDS: &[&str] = &[
    "身分證字號",
    "身份證",
    "身分證",
    "身分證統一編號",
    "國民身分證統一編號",
    "統一編號",
    "taiwan id",
    "national id",
    "id number",
];
const JP_WORDS: &[&str] = &[
    "マイナンバー",
    "個人番号",
    "個人番号カード",
    "通知カード",
    "my number",
    "mynumber",
    "individual number",
];
const KR_WORDS: &[&str] = &[
    "주민등록번호",
    "주민번호",
    "외국인등록번호",
    "rrn",
    "resident registration number",
    "jumin deungnok beonho",
    "registration number",
];
const MY_WORDS: &[&str] = &[
    "mykad",
    "no. k/p",
    "no k/p",
    "kad pengenalan",
    "nombor kad pengenalan",
    "ic number",
    "ic no",
    "nric",
    "identity card",
];
const ID_WORDS: &[&str] =
    &["ktp", "e-ktp", "kartu tanda penduduk", "nomor induk kependudukan", "nik", "no. nik", "identity card"];
/// Thai words as the engine sees them: NFKC splits SARA AM (U+0E33) into U+0E4D U+0E32.
const TH_WORDS: &[&str] = &[
    "เลขประจ\u{e4d}\u{e32}ตัวประชาชน",
    "เลขบัตรประชาชน",
    "บัตรประชาชน",
    "thai national id",
    "national id",
    "thai id",
    "id card",
];

/// The national-identifier detectors of Asia-Pacific countries.
pub const DETECTORS: &[BuiltinDetector] = &[
    BuiltinDetector {
        id: "cn_resident_id",
        description: "China resident identity card number: 18 characters, birth date, ISO 7064 MOD 11-2",
        region: "cn",
        validator: "iso7064_mod11_2",
        joinable: true,
        gate: Gate::RunLengths(runs_of_at_least(17)),
        keywords: CN_WORDS,
        keyword_window: 60,
        requires_keywords: false,
        confidence_with_keywords: Confidence::High,
        examples: &[
            "身份证号码：11010519491231002X",
            "my resident ID is 360426199101010071",
            "居民身份证 11010519491231002x",
        ],
        negative_examples: &[
            "身份证号码：110105194912310021",
            "order 360426199101010072",
            "id 110105194913310029",
        ],
        build: || {
            Box::new(
                RegexId::new(r"(?-u:\b)\d{17}[\dXx](?-u:\b)", idcheck::cn_resident_id)
                    .in_words(|w| w.len() == 18 && w.digits >= 17),
            )
        },
    },
    BuiltinDetector {
        id: "hk_hkid",
        description: "Hong Kong identity card number: letter(s), six digits, check digit (bare form needs context)",
        region: "hk",
        validator: "hkid_mod11",
        joinable: false,
        gate: Gate::MinDigits(6),
        keywords: HK_WORDS,
        keyword_window: 60,
        requires_keywords: false,
        confidence_with_keywords: Confidence::High,
        examples: &["HKID A123456(3)", "身份證號碼 CA182361(1)", "my hkid is G123456A"],
        negative_examples: &["HKID A123456(4)", "ref G123456A", "code CA182361(2)"],
        build: || {
            Box::new(
                RegexId::labelled(
                    r"(?-u:\b)[A-Z]{1,2}\d{6} ?(?:\([0-9A]\)|[0-9A](?-u:\b))",
                    idcheck::hk_hkid,
                    |v| v.ends_with(')'),
                    HK_WORDS,
                )
                .needing(|r| matches!(r.len, 6 | 7)),
            )
        },
    },
    BuiltinDetector {
        id: "tw_national_id",
        description: "Taiwan national identification number: letter, 1 or 2, eight digits, weighted check",
        region: "tw",
        validator: "tw_id_mod10",
        joinable: false,
        gate: Gate::RunLengths(runs_of_at_least(9)),
        keywords: TW_WORDS,
        keyword_window: 60,
        requires_keywords: false,
        confidence_with_keywords: Confidence::High,
        examples: &["身分證字號 A123456789", "national ID F222222222", "B147369524 是我的身分證"],
        negative_examples: &["身分證字號 A123456788", "A323456789", "AB123456789"],
        build: || {
            Box::new(
                RegexId::new(r"(?-u:\b)[A-Z][12]\d{8}(?-u:\b)", idcheck::tw_national_id)
                    .in_words(|w| w.len() == 10 && w.lower == 0 && w.digits == 9),
            )
        },
    },
    BuiltinDetector {
        id: "jp_my_number",
        description: "Japan My Number (individual number): 12 digits, weighted mod-11 check (needs context)",
        region: "jp",
        validator: "mod11_jp",
        joinable: true,
        gate: Gate::Keywords,
        keywords: JP_WORDS,
        keyword_window: 60,
        requires_keywords: true,
        confidence_with_keywords: Confidence::High,
        examples: &["マイナンバー 1234 5678 9018", "個人番号：123456789018", "my number is 1234-5678-9018"],
        negative_examples: &[
            "マイナンバー 1234 5678 9017",
            "order 123456789018",
            "my number is 1234 5678 901",
        ],
        build: || {
            Box::new(DigitId {
                lens: &[12],
                shapes: &[&[4, 4, 4]],
                check: idcheck::jp_my_number,
                bare_words: &[],
                any_shape: false,
            })
        },
    },
    BuiltinDetector {
        id: "kr_rrn",
        description: "South Korea resident registration number: YYMMDD-GNNNNNC, date and check digit (bare form needs context)",
        region: "kr",
        validator: "kr_rrn_mod11",
        joinable: true,
        gate: Gate::RunLengths(runs_of_at_least(13)),
        keywords: KR_WORDS,
        keyword_window: 60,
        requires_keywords: false,
        confidence_with_keywords: Confidence::High,
        examples: &["주민등록번호 900101-1234568", "RRN 971013-9019902", "주민번호는 9001011234568 입니다"],
        negative_examples: &["주민등록번호 901301-1234568", "order 900101-123456", "order 9001011234568"],
        build: || {
            Box::new(DigitId {
                lens: &[13],
                shapes: &[&[6, 7]],
                check: idcheck::kr_rrn,
                bare_words: KR_WORDS,
                any_shape: false,
            })
        },
    },
    BuiltinDetector {
        id: "my_mykad",
        description: "Malaysia MyKad (NRIC): YYMMDD-PB-NNNN, birth date and place code (bare form needs context)",
        region: "my",
        validator: "date_and_place",
        joinable: false,
        gate: Gate::RunLengths(runs_of_at_least(12)),
        keywords: MY_WORDS,
        keyword_window: 60,
        requires_keywords: false,
        confidence_with_keywords: Confidence::High,
        examples: &["MyKad 770305-02-1234", "No. K/P: 900101-14-5678", "IC number 770305021234"],
        negative_examples: &["MyKad 770305-17-1234", "770345-02-1234", "order 770305021234"],
        build: || {
            Box::new(DigitId {
                lens: &[12],
                shapes: &[&[6, 2, 4]],
                check: idcheck::my_mykad,
                bare_words: MY_WORDS,
                any_shape: false,
            })
        },
    },
    BuiltinDetector {
        id: "id_nik",
        description: "Indonesia NIK (KTP): 16 digits, region code and birth date (needs context)",
        region: "id",
        validator: "region_and_date",
        joinable: false,
        gate: Gate::Keywords,
        keywords: ID_WORDS,
        keyword_window: 60,
        requires_keywords: true,
        confidence_with_keywords: Confidence::High,
        examples: &[
            "NIK 3171015707920001",
            "nomor induk kependudukan: 3171 0157 0792 0001",
            "KTP saya 3171015707920001",
        ],
        negative_examples: &["NIK 3171017707920001", "order 3171015707920001", "NIK 9971015707920001"],
        build: || {
            Box::new(DigitId {
                lens: &[16],
                shapes: &[&[6, 6, 4], &[4, 4, 4, 4], &[2, 2, 2, 6, 4]],
                check: idcheck::id_nik,
                bare_words: &[],
                any_shape: false,
            })
        },
    },
    BuiltinDetector {
        id: "th_national_id",
        description: "Thailand national id: 13 digits (1-2345-67890-12-3), mod-11 check (bare form needs context)",
        region: "th",
        validator: "mod11_th",
        joinable: true,
        gate: Gate::RunLengths(runs_of_at_least(13)),
        keywords: TH_WORDS,
        keyword_window: 60,
        requires_keywords: false,
        confidence_with_keywords: Confidence::High,
        examples: &[
            "เลขประจำตัวประชาชน 1-1017-00207-03-0",
            "Thai national ID 3100600445635",
            "ID 3 1006 00445 63 5",
        ],
        negative_examples: &[
            "เลขประจำตัวประชาชน 1-1017-00207-03-1",
            "order 3100600445635",
            "9-1017-00207-03-0",
        ],
        build: || {
            Box::new(DigitId {
                lens: &[13],
                shapes: &[&[1, 4, 5, 2, 1]],
                check: idcheck::th_national_id,
                bare_words: TH_WORDS,
                any_shape: false,
            })
        },
    },
];
