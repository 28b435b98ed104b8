//! Business rules the gateway computes and hands to Linewall as attributes: phone
//! normalisation, the 24-hour customer-service window, SMS keyword families.

/// Length of the customer-service window after the last inbound message.
pub const WINDOW_SECS: i64 = 24 * 60 * 60;

/// E.164 form (`+` and 8–15 digits) of a phone number written with spaces, dashes,
/// parentheses or without `+`; `None` when it is not a phone number.
pub fn normalize_phone(raw: &str) -> Option<String> {
    let mut digits = String::with_capacity(16);
    for (i, c) in raw.trim().chars().enumerate() {
        match c {
            '0'..='9' => digits.push(c),
            '+' if i == 0 => {}
            ' ' | '-' | '(' | ')' | '.' => {}
            _ => return None,
        }
    }
    (8..=15).contains(&digits.len()).then(|| format!("+{digits}"))
}

/// Whether the window is open at `now` and when it closes, from the last inbound
/// message's `timestamp` (Unix seconds).
pub fn window(last_inbound: Option<i64>, now: i64) -> (bool, Option<i64>) {
    match last_inbound {
        Some(ts) => (now < ts + WINDOW_SECS, Some(ts + WINDOW_SECS)),
        None => (false, None),
    }
}

/// An SMS / WhatsApp compliance keyword sent by a contact.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Keyword {
    /// Opt out (STOP, UNSUBSCRIBE, CANCEL, END, QUIT, …).
    Stop,
    /// Opt back in (START, UNSTOP, YES).
    Start,
    /// Ask for help (HELP, INFO).
    Help,
}

impl Keyword {
    /// Lower-case name used in records and attributes.
    pub fn as_str(self) -> &'static str {
        match self {
            Keyword::Stop => "stop",
            Keyword::Start => "start",
            Keyword::Help => "help",
        }
    }
}

/// The keyword family of a message that is exactly one keyword (case-insensitive,
/// surrounding whitespace and punctuation ignored), per Twilio's and carriers' lists.
pub fn keyword(text: &str) -> Option<Keyword> {
    let word = text.trim().trim_matches(|c: char| c == '.' || c == '!').to_ascii_uppercase();
    match word.as_str() {
        "STOP" | "STOPALL" | "UNSUBSCRIBE" | "CANCEL" | "END" | "QUIT" | "REVOKE" | "OPTOUT" | "OPT-OUT"
        | "ARRET" | "REMOVE" => Some(Keyword::Stop),
        "START" | "UNSTOP" | "YES" => Some(Keyword::Start),
        "HELP" | "INFO" => Some(Keyword::Help),
        _ => None,
    }
}

/// Current Unix time in seconds.
pub fn now_secs() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// RFC 3339 form of Unix seconds.
pub fn rfc3339(secs: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(secs)
        .ok()
        .and_then(|t| t.format(&time::format_description::well_known::Rfc3339).ok())
        .unwrap_or_default()
}

/// Unix seconds of an RFC 3339 timestamp.
pub fn parse_rfc3339(s: &str) -> Option<i64> {
    time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339)
        .ok()
        .map(|t| t.unix_timestamp())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phones_normalise_to_e164() {
        assert_eq!(normalize_phone("16505551234").as_deref(), Some("+16505551234"));
        assert_eq!(normalize_phone("+1 (650) 555-1234").as_deref(), Some("+16505551234"));
        assert_eq!(normalize_phone("12"), None);
        assert_eq!(normalize_phone("+1650abc"), None);
    }

    #[test]
    fn window_is_24_hours_from_last_inbound() {
        let now = 1_750_000_000;
        assert!(window(Some(now - 3600), now).0);
        assert!(!window(Some(now - 25 * 3600), now).0);
        assert_eq!(window(None, now), (false, None));
    }

    #[test]
    fn keyword_families() {
        assert_eq!(keyword(" stop "), Some(Keyword::Stop));
        assert_eq!(keyword("Unsubscribe"), Some(Keyword::Stop));
        assert_eq!(keyword("START"), Some(Keyword::Start));
        assert_eq!(keyword("help!"), Some(Keyword::Help));
        assert_eq!(keyword("please stop calling"), None);
    }
}
