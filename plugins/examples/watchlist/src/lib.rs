//! An information-barrier check: names on a restricted (watch) list — tickers, company
//! names — mentioned within a few words of price-sensitive words ("merger", "earnings",
//! "before the announcement").
//!
//! Each mention of a listed name is a finding: `high` confidence when a sensitive word
//! or phrase is within `window` words of it, `low` otherwise, so a policy can block the
//! first and only monitor the second (`min_confidence: high`).
//!
//! Config: `names` (required: tickers such as `ACME` or `$ACME`, or names such as
//! `Globex Corp`; matched case-insensitively as whole words), `sensitive` (phrases;
//! default: a list of deal and results vocabulary), `window` (words, default 8).

use linewall_plugin_sdk::{Confidence, Config, Detector, Finding, Message};
use serde::Deserialize;

/// Deal and results vocabulary that makes a mention price-sensitive.
const DEFAULT_SENSITIVE: &[&str] = &[
    "merger",
    "acquisition",
    "takeover",
    "tender offer",
    "buyout",
    "earnings",
    "results",
    "guidance",
    "profit warning",
    "before the announcement",
    "not yet announced",
    "inside information",
    "price sensitive",
    "price-sensitive",
    "deal",
    "bid",
];

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Settings {
    names: Vec<String>,
    #[serde(default)]
    sensitive: Option<Vec<String>>,
    #[serde(default = "default_window")]
    window: usize,
}

fn default_window() -> usize {
    8
}

/// A phrase as lower-case words.
type Phrase = Vec<String>;

#[derive(Default)]
struct Watchlist {
    names: Vec<Phrase>,
    sensitive: Vec<Phrase>,
    window: usize,
}

/// A word of the text: its lower-cased form and its byte range in the text.
struct Word {
    lower: String,
    start: usize,
    end: usize,
}

/// Splits into words: runs of letters and digits, keeping inner `.`, `-`, `&` and `'`
/// (`BRK.B`, `price-sensitive`, `AT&T`); a leading `$` (cashtag) is dropped.
fn words(text: &str) -> Vec<Word> {
    let mut out = Vec::new();
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if !c.is_alphanumeric() {
            continue;
        }
        let mut end = i + c.len_utf8();
        while let Some(&(j, d)) = chars.peek() {
            let joiner = matches!(d, '.' | '-' | '&' | '\'')
                && text[j + d.len_utf8()..].chars().next().is_some_and(char::is_alphanumeric);
            if d.is_alphanumeric() || joiner {
                end = j + d.len_utf8();
                chars.next();
            } else {
                break;
            }
        }
        out.push(Word { lower: text[i..end].to_lowercase(), start: i, end });
    }
    out
}

fn phrase(s: &str) -> Phrase {
    words(s).into_iter().map(|w| w.lower).collect()
}

/// Word indices where `p` starts in `ws`.
fn occurrences<'a>(ws: &'a [Word], p: &'a Phrase) -> impl Iterator<Item = usize> + 'a {
    (0..ws.len().saturating_sub(p.len() - 1))
        .filter(move |&i| p.iter().enumerate().all(|(k, w)| ws[i + k].lower == *w))
}

impl Detector for Watchlist {
    fn init(config: &Config) -> Result<Self, String> {
        let s: Settings = config.deserialize()?;
        let names: Vec<Phrase> = s.names.iter().map(|n| phrase(n)).filter(|p| !p.is_empty()).collect();
        if names.is_empty() {
            return Err("`names` must list at least one ticker or company name".into());
        }
        let sensitive: Vec<Phrase> = match s.sensitive {
            Some(list) => list.iter().map(|p| phrase(p)).filter(|p| !p.is_empty()).collect(),
            None => DEFAULT_SENSITIVE.iter().map(|p| phrase(p)).collect(),
        };
        if sensitive.is_empty() {
            return Err("`sensitive` must not be empty".into());
        }
        if s.window == 0 || s.window > 100 {
            return Err(format!("`window` must be between 1 and 100 words, not {}", s.window));
        }
        Ok(Watchlist { names, sensitive, window: s.window })
    }

    fn detect(&self, msg: &Message) -> Vec<Finding> {
        let ws = words(&msg.text);
        if ws.is_empty() {
            return Vec::new();
        }
        // Word ranges [first, last] of every sensitive phrase.
        let hot: Vec<(usize, usize)> = self
            .sensitive
            .iter()
            .flat_map(|p| occurrences(&ws, p).map(move |i| (i, i + p.len() - 1)))
            .collect();
        let mut found = Vec::new();
        for name in &self.names {
            for i in occurrences(&ws, name) {
                let last = i + name.len() - 1;
                let near = hot.iter().any(|&(a, b)| {
                    let gap = if b < i { i - b } else { a.saturating_sub(last) };
                    gap <= self.window
                });
                let confidence = if near { Confidence::High } else { Confidence::Low };
                found.push(Finding::new(ws[i].start..ws[last].end, confidence));
            }
        }
        found.sort_by_key(|f| (f.start, f.end));
        found
    }
}

linewall_plugin_sdk::export_detector!(Watchlist);

#[cfg(test)]
mod tests {
    use super::*;

    fn detector() -> Watchlist {
        let config = r#"{"names": ["ACME", "Globex Corp"], "window": 5}"#;
        Watchlist::init(&Config::parse(config).unwrap()).unwrap()
    }

    fn found(text: &str) -> Vec<(String, Confidence)> {
        detector()
            .detect(&Message::from_text(text))
            .iter()
            .map(|f| (text[f.span()].to_string(), f.confidence))
            .collect()
    }

    #[test]
    fn a_name_near_a_sensitive_word_is_high() {
        assert_eq!(found("ACME merger is on for Monday"), [("ACME".to_string(), Confidence::High)]);
        assert_eq!(found("buy $acme before the announcement"), [("acme".to_string(), Confidence::High)]);
        assert_eq!(
            found("earnings at Globex Corp look strong"),
            [("Globex Corp".to_string(), Confidence::High)]
        );
    }

    #[test]
    fn a_bare_mention_is_low_and_far_words_do_not_count() {
        assert_eq!(found("lunch with the ACME team"), [("ACME".to_string(), Confidence::Low)]);
        assert_eq!(
            found("ACME one two three four five six seven merger"),
            [("ACME".to_string(), Confidence::Low)]
        );
    }

    #[test]
    fn whole_words_only() {
        assert!(found("ACMEX results and Globex results").is_empty());
    }

    #[test]
    fn config_is_checked() {
        for bad in [r#"{"names": []}"#, r#"{"names": ["A"], "window": 0}"#, r#"{}"#] {
            assert!(Watchlist::init(&Config::parse(bad).unwrap()).is_err(), "{bad}");
        }
    }
}
