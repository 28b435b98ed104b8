//! A firm's internal account number: a prefix (e.g. `AC-`), a fixed number of digits, the
//! last one a weighted mod-11 check digit. Digit groups may be split by one space, `-`
//! or `.`, as people type them (`AC-1234 5678`).
//!
//! Config: `prefix` (default `AC-`, matched case-insensitively), `digits` (default 8,
//! check digit included), `weights` (default `[2, 3, 4, 5, 6, 7]`, applied from the
//! rightmost payload digit leftwards, repeating).

use linewall_plugin_sdk::{Confidence, Config, Detector, Finding, Message};
use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct Settings {
    prefix: String,
    digits: usize,
    weights: Vec<u32>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings { prefix: "AC-".into(), digits: 8, weights: vec![2, 3, 4, 5, 6, 7] }
    }
}

/// The detector, configured.
#[derive(Default)]
struct AccountNumber {
    settings: Settings,
}

/// Whether `digits` (check digit last) passes the weighted mod-11 check. A remainder
/// that would need check digit 10 is never issued, so it never validates.
fn check_digit_ok(digits: &[u32], weights: &[u32]) -> bool {
    let Some((&check, payload)) = digits.split_last() else { return false };
    let sum: u32 = payload.iter().rev().zip(weights.iter().cycle()).map(|(d, w)| d * w).sum();
    let expected = (11 - sum % 11) % 11;
    expected < 10 && expected == check
}

impl Detector for AccountNumber {
    fn init(config: &Config) -> Result<Self, String> {
        let settings: Settings = config.deserialize()?;
        if settings.prefix.trim().is_empty() {
            return Err("`prefix` must not be empty".into());
        }
        if !(2..=30).contains(&settings.digits) {
            return Err(format!("`digits` must be between 2 and 30, not {}", settings.digits));
        }
        if settings.weights.is_empty() || settings.weights.iter().any(|&w| w == 0 || w > 100) {
            return Err("`weights` must be a non-empty list of numbers from 1 to 100".into());
        }
        Ok(AccountNumber { settings })
    }

    fn detect(&self, msg: &Message) -> Vec<Finding> {
        let text = msg.text.as_bytes();
        let prefix = self.settings.prefix.as_bytes();
        let mut found = Vec::new();
        let mut digits = Vec::with_capacity(self.settings.digits);
        let mut i = 0;
        while i + prefix.len() <= text.len() {
            let at_boundary = i == 0 || !text[i - 1].is_ascii_alphanumeric();
            if !(at_boundary && text[i..i + prefix.len()].eq_ignore_ascii_case(prefix)) {
                i += 1;
                continue;
            }
            let start = i;
            let mut j = i + prefix.len();
            digits.clear();
            while digits.len() < self.settings.digits && j < text.len() {
                let b = text[j];
                if b.is_ascii_digit() {
                    digits.push(u32::from(b - b'0'));
                    j += 1;
                } else if matches!(b, b' ' | b'-' | b'.')
                    && !digits.is_empty()
                    && text.get(j + 1).is_some_and(u8::is_ascii_digit)
                {
                    j += 1;
                } else {
                    break;
                }
            }
            let ends_cleanly = text.get(j).is_none_or(|b| !b.is_ascii_alphanumeric());
            if digits.len() == self.settings.digits
                && ends_cleanly
                && check_digit_ok(&digits, &self.settings.weights)
            {
                found.push(Finding::new(start..j, Confidence::High));
                i = j;
            } else {
                i += 1;
            }
        }
        found
    }
}

linewall_plugin_sdk::export_detector!(AccountNumber);

#[cfg(test)]
mod tests {
    use super::*;

    fn detector(config: &str) -> AccountNumber {
        AccountNumber::init(&Config::parse(config).unwrap()).unwrap()
    }

    fn spans(d: &AccountNumber, text: &str) -> Vec<String> {
        d.detect(&Message::from_text(text)).iter().map(|f| text[f.span()].to_string()).collect()
    }

    #[test]
    fn check_digit_is_weighted_mod_11() {
        // 1234567: 7*2 + 6*3 + 5*4 + 4*5 + 3*6 + 2*7 + 1*2 = 106; 106 % 11 = 7; 11 - 7 = 4.
        assert!(check_digit_ok(&[1, 2, 3, 4, 5, 6, 7, 4], &[2, 3, 4, 5, 6, 7]));
        assert!(!check_digit_ok(&[1, 2, 3, 4, 5, 6, 7, 5], &[2, 3, 4, 5, 6, 7]));
    }

    #[test]
    fn finds_valid_numbers_with_or_without_separators() {
        let d = detector("null");
        assert_eq!(spans(&d, "pay into AC-12345674 today"), ["AC-12345674"]);
        assert_eq!(spans(&d, "ac-1234 5674, thanks"), ["ac-1234 5674"]);
        assert_eq!(spans(&d, "AC-1234-5674."), ["AC-1234-5674"]);
    }

    #[test]
    fn ignores_bad_check_digits_wrong_lengths_and_embedded_prefixes() {
        let d = detector("null");
        assert!(spans(&d, "AC-12345675").is_empty());
        assert!(spans(&d, "AC-1234567").is_empty());
        assert!(spans(&d, "AC-123456740").is_empty());
        assert!(spans(&d, "MAC-12345674").is_empty());
    }

    #[test]
    fn prefix_and_length_come_from_the_config() {
        let d = detector(r#"{"prefix": "ZB", "digits": 6}"#);
        // 12345: 5*2 + 4*3 + 3*4 + 2*5 + 1*6 = 50; 50 % 11 = 6; 11 - 6 = 5.
        assert_eq!(spans(&d, "ref ZB123455"), ["ZB123455"]);
        assert!(spans(&d, "AC-12345674").is_empty());
    }

    #[test]
    fn bad_config_is_refused() {
        for bad in [r#"{"digits": 1}"#, r#"{"prefix": ""}"#, r#"{"weights": []}"#, r#"{"colour": "red"}"#] {
            assert!(AccountNumber::init(&Config::parse(bad).unwrap()).is_err(), "{bad}");
        }
    }
}
