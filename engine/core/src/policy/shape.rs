//! Structural validation of a YAML document against the policy language's JSON Schema
//! (generated from [`super::model`], the same one as `policies/schema.json`): unknown and
//! missing keys, values outside an enum, values of the wrong shape. Every mistake is
//! reported, with "did you mean" suggestions in the policy's own spellings, and each
//! comes with an [`Edit`] that takes the mistake out of the text so that typed parsing and
//! the semantic checks can still run on the rest of the document.

use std::ops::Range;
use std::sync::OnceLock;

use serde_json::{Map, Value as Json};

use super::diag::{Code, Reporter};
use super::tree::{Node, Value};

/// A change to the text that removes a mistake without moving anything else: the
/// characters of `range` become spaces (newlines are kept), then `insert` is written over
/// its start.
#[derive(Debug, Clone)]
pub(crate) struct Edit {
    /// Bytes to blank.
    pub range: Range<usize>,
    /// What to write at the start of the blanked range (no longer than the range).
    pub insert: String,
}

/// The schema of one policy document.
fn schema() -> &'static Json {
    static SCHEMA: OnceLock<Json> = OnceLock::new();
    SCHEMA.get_or_init(|| {
        serde_json::to_value(schemars::schema_for!(super::model::PolicyDoc)).unwrap_or(Json::Bool(true))
    })
}

/// Checks one document; mistakes go to `rep`, repairs are returned.
pub(crate) fn check_document(root: &Node, text: &str, rep: &mut Reporter<'_>) -> Vec<Edit> {
    let schema = schema();
    let defs = schema.get("$defs").and_then(Json::as_object);
    let empty = Map::new();
    let mut c = Checker { defs: defs.unwrap_or(&empty), text, rep, edits: Vec::new(), key: String::new() };
    c.node(root, schema, None);
    c.edits
}

/// Whether a node is the YAML null (`~`, `null`, or nothing).
fn is_null(n: &Node) -> bool {
    matches!(&n.value, Value::Scalar { text, plain: true } if matches!(text.as_str(), "" | "~" | "null" | "Null" | "NULL"))
}

/// What went wrong with a node, for its parent to remove it.
enum Outcome {
    Ok,
    Bad,
}

struct Checker<'a, 'r, 'o> {
    defs: &'a Map<String, Json>,
    text: &'a str,
    rep: &'r mut Reporter<'o>,
    edits: Vec<Edit>,
    /// The key whose value is being checked (for messages).
    key: String,
}

impl<'a> Checker<'a, '_, '_> {
    /// Follows `$ref`; returns the schema and the definition name it came from.
    fn resolve(&self, mut s: &'a Json, mut name: Option<&'a str>) -> (&'a Json, Option<&'a str>) {
        for _ in 0..8 {
            let Some(r) = s.get("$ref").and_then(Json::as_str) else { break };
            let Some(def) = r.strip_prefix("#/$defs/") else { break };
            match self.defs.get(def) {
                Some(d) => {
                    s = d;
                    name = Some(def);
                }
                None => break,
            }
        }
        (s, name)
    }

    fn node(&mut self, n: &Node, s: &'a Json, name: Option<&'a str>) -> Outcome {
        let (s, name) = self.resolve(s, name);
        if matches!(n.value, Value::Alias) {
            return Outcome::Ok;
        }
        if let Some(alts) = s.get("anyOf").and_then(Json::as_array) {
            let nullable = alts.iter().any(|a| a.get("type").and_then(Json::as_str) == Some("null"));
            if nullable && is_null(n) {
                return Outcome::Ok;
            }
            return match alts.iter().find(|a| a.get("type").and_then(Json::as_str) != Some("null")) {
                Some(a) => self.node(n, a, None),
                None => Outcome::Ok,
            };
        }
        if let Some(values) = enum_values(s) {
            return self.enum_value(n, &values, name);
        }
        let types = types_of(s);
        if types.is_empty() {
            return Outcome::Ok;
        }
        if is_null(n) && (types.contains(&"null") || types.iter().any(|t| matches!(*t, "object" | "array"))) {
            // An empty mapping or list is written as nothing at all; typed parsing decides.
            return Outcome::Ok;
        }
        match &n.value {
            Value::Map(entries) if types.contains(&"object") => self.object(n, entries, s),
            Value::Seq(items) if types.contains(&"array") => self.array(n, items, s),
            Value::Scalar { text, plain } if !types.iter().any(|t| matches!(*t, "object" | "array")) => {
                self.scalar(n, text, *plain, s, &types)
            }
            _ => {
                let what = match &n.value {
                    Value::Map(_) => "a mapping",
                    Value::Seq(_) => "a list",
                    _ => "a single value",
                };
                let expected = describe_types(&types);
                let message = format!("{}expected {expected}, found {what}", self.key_prefix());
                self.rep.at_bytes(Code::WrongType, n.bytes.clone(), message, None);
                Outcome::Bad
            }
        }
    }

    fn scalar(&mut self, n: &Node, text: &str, plain: bool, s: &Json, types: &[&str]) -> Outcome {
        let t = text.trim();
        if types.contains(&"string") {
            return Outcome::Ok;
        }
        let integer = types.contains(&"integer") || types.contains(&"number");
        if integer && t.chars().any(|c| c.is_ascii_digit()) {
            let negative = t.starts_with('-');
            if negative && s.get("minimum").and_then(Json::as_f64).is_some_and(|m| m >= 0.0) {
                let message = format!("{}expected a number of 0 or more", self.key_prefix());
                self.rep.at_bytes(Code::InvalidValue, n.bytes.clone(), message, None);
                return Outcome::Bad;
            }
            return Outcome::Ok;
        }
        if types.contains(&"boolean")
            && ["true", "false", "yes", "no", "on", "off", "y", "n"].iter().any(|b| t.eq_ignore_ascii_case(b))
        {
            return Outcome::Ok;
        }
        let _ = plain;
        let expected = describe_types(types);
        let message = format!("{}expected {expected}, found `{t}`", self.key_prefix());
        self.rep.at_bytes(Code::WrongType, n.bytes.clone(), message, None);
        Outcome::Bad
    }

    fn enum_value(&mut self, n: &Node, values: &[&str], name: Option<&str>) -> Outcome {
        let Some(text) = n.scalar() else {
            self.rep.at_bytes(
                Code::WrongType,
                n.bytes.clone(),
                format!("expected one of {}", list(values)),
                None,
            );
            return Outcome::Bad;
        };
        if values.contains(&text) || name.is_some_and(|d| accepted_by_type(d, text)) {
            return Outcome::Ok;
        }
        let help = match suggest(text, values.iter().copied()) {
            Some(s) => format!("did you mean `{s}`? (one of {})", list(values)),
            None => format!("expected one of {}", list(values)),
        };
        let what = name.map_or_else(|| String::from("value"), describe_def);
        self.rep.at_bytes(
            Code::InvalidValue,
            n.bytes.clone(),
            format!("unknown {what} `{text}`"),
            Some(help),
        );
        Outcome::Bad
    }

    fn object(&mut self, n: &Node, entries: &[(Node, Node)], s: &'a Json) -> Outcome {
        let props = s.get("properties").and_then(Json::as_object);
        let extra = s.get("additionalProperties");
        let required: Vec<&str> = s
            .get("required")
            .and_then(Json::as_array)
            .map(|r| r.iter().filter_map(Json::as_str).collect())
            .unwrap_or_default();
        let mut removed = 0;
        for (k, v) in entries {
            let key = k.scalar().unwrap_or("");
            let sub = props.and_then(|p| p.get(key));
            let parent = std::mem::replace(&mut self.key, key.to_owned());
            let outcome = match (sub, extra) {
                (Some(sub), _) => self.node(v, sub, None),
                (None, Some(Json::Bool(false))) => {
                    let known: Vec<&str> =
                        props.map(|p| p.keys().map(String::as_str).collect()).unwrap_or_default();
                    let help = match suggest(key, known.iter().copied()) {
                        Some(s) => format!("did you mean `{s}`?"),
                        None => format!("expected one of {}", list(&known)),
                    };
                    self.rep.at_bytes(
                        Code::UnknownKey,
                        k.bytes.clone(),
                        format!("unknown key `{key}`"),
                        Some(help),
                    );
                    Outcome::Bad
                }
                (None, Some(extra @ Json::Object(_))) => self.node(v, extra, None),
                (None, _) => Outcome::Ok,
            };
            self.key = parent;
            if matches!(outcome, Outcome::Bad) {
                if required.contains(&key) {
                    self.replace_required(v, sub);
                } else {
                    removed += 1;
                    self.remove(k.bytes.start..v.bytes.end.max(k.bytes.end), n.flow, false);
                }
            }
        }
        for r in &required {
            if !entries.iter().any(|(k, _)| k.scalar() == Some(r)) {
                let at = n.bytes.start..n.bytes.start;
                let span =
                    if n.flow { n.bytes.start..n.bytes.start + 1 } else { first_key(entries).unwrap_or(at) };
                self.rep.at_bytes(Code::MissingKey, span, format!("missing key `{r}`"), None);
            }
        }
        if removed > 0 && removed == entries.len() {
            self.edits.push(Edit { range: n.bytes.clone(), insert: String::from("{}") });
        }
        Outcome::Ok
    }

    fn array(&mut self, n: &Node, items: &[Node], s: &'a Json) -> Outcome {
        let Some(item_schema) = s.get("items") else { return Outcome::Ok };
        let mut removed = 0;
        for it in items {
            if matches!(self.node(it, item_schema, None), Outcome::Bad) {
                removed += 1;
                self.remove(it.bytes.clone(), n.flow, true);
            }
        }
        if removed > 0 && removed == items.len() {
            self.edits.push(Edit { range: n.bytes.clone(), insert: String::from("[]") });
        }
        Outcome::Ok
    }

    /// `` `key`: `` for messages about the value being checked.
    fn key_prefix(&self) -> String {
        if self.key.is_empty() { String::new() } else { format!("`{}`: ", self.key) }
    }

    /// A required key with a bad value: put in an allowed value (the suggested one, else the
    /// first) so the rest of its mapping can still be checked. A longer value is written
    /// only where nothing follows on the line, so no other position moves.
    fn replace_required(&mut self, v: &Node, sub: Option<&'a Json>) {
        let Some(sub) = sub else { return };
        let (s, _) = self.resolve(sub, None);
        let Some(values) = enum_values(s) else { return };
        let Some(fit) =
            v.scalar().and_then(|t| suggest(t, values.iter().copied())).or(values.first().copied())
        else {
            return;
        };
        let rest = self.text[v.bytes.end.min(self.text.len())..].split('\n').next().unwrap_or("").trim();
        if fit.len() <= v.bytes.len() || rest.is_empty() || rest.starts_with('#') {
            self.edits.push(Edit { range: v.bytes.clone(), insert: fit.to_owned() });
        }
    }

    /// Takes an entry or item out: its bytes, and the `,` (flow) or `-` (block list) that
    /// goes with it.
    fn remove(&mut self, mut range: Range<usize>, flow: bool, item: bool) {
        let bytes = self.text.as_bytes();
        let after = skip_blanks_forward(bytes, range.end);
        if flow && bytes.get(after) == Some(&b',') {
            range.end = after + 1;
        } else {
            let before = skip_blanks_backward(bytes, range.start);
            if before > 0
                && ((flow && bytes[before - 1] == b',') || (!flow && item && bytes[before - 1] == b'-'))
            {
                range.start = before - 1;
            }
        }
        self.edits.push(Edit { range, insert: String::new() });
    }
}

fn first_key(entries: &[(Node, Node)]) -> Option<Range<usize>> {
    entries.first().map(|(k, _)| k.bytes.clone())
}

fn skip_blanks_forward(b: &[u8], mut i: usize) -> usize {
    while i < b.len() && matches!(b[i], b' ' | b'\t') {
        i += 1;
    }
    i
}

fn skip_blanks_backward(b: &[u8], mut i: usize) -> usize {
    while i > 0 && matches!(b[i - 1], b' ' | b'\t') {
        i -= 1;
    }
    i
}

/// The allowed values of an enum schema (`enum`, or `oneOf` of `const`s).
fn enum_values(s: &Json) -> Option<Vec<&str>> {
    if let Some(e) = s.get("enum").and_then(Json::as_array) {
        return Some(e.iter().filter_map(Json::as_str).collect());
    }
    let one = s.get("oneOf").and_then(Json::as_array)?;
    let v: Vec<&str> = one.iter().filter_map(|o| o.get("const").and_then(Json::as_str)).collect();
    (v.len() == one.len()).then_some(v)
}

fn types_of(s: &Json) -> Vec<&str> {
    match s.get("type") {
        Some(Json::String(t)) => vec![t.as_str()],
        Some(Json::Array(a)) => a.iter().filter_map(Json::as_str).collect(),
        _ => Vec::new(),
    }
}

fn describe_types(types: &[&str]) -> String {
    let words: Vec<&str> = types
        .iter()
        .filter(|t| **t != "null")
        .map(|t| match *t {
            "object" => "a mapping",
            "array" => "a list",
            "integer" => "a whole number",
            "number" => "a number",
            "boolean" => "`true` or `false`",
            _ => "text",
        })
        .collect();
    words.join(" or ")
}

/// `channel`, `redact style`, ... from a schema definition name.
fn describe_def(def: &str) -> String {
    let mut out = String::new();
    for (i, c) in def.chars().enumerate() {
        if c.is_ascii_uppercase() && i > 0 {
            out.push(' ');
        }
        out.push(c.to_ascii_lowercase());
    }
    out
}

/// Whether the Rust type behind the schema definition `def` accepts `value` (serde
/// aliases, e.g. the gRPC spellings of channels in test messages, are accepted but never
/// suggested).
fn accepted_by_type(def: &str, value: &str) -> bool {
    use crate::message::{Channel, Direction, Role};
    fn ok<T: serde::de::DeserializeOwned>(v: &str) -> bool {
        serde_json::from_value::<T>(Json::String(v.to_owned())).is_ok()
    }
    match def {
        "Channel" => ok::<Channel>(value),
        "Direction" => ok::<Direction>(value),
        "Role" => ok::<Role>(value),
        _ => false,
    }
}

/// `` `a`, `b` or `c` ``.
fn list(values: &[&str]) -> String {
    let quoted: Vec<String> = values.iter().map(|v| format!("`{v}`")).collect();
    match quoted.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} or {last}", rest.join(", ")),
        Some((last, _)) => last.clone(),
        None => String::from("nothing"),
    }
}

/// The closest candidate to `word`, if close enough to be a likely typo: the same up to
/// case and `-`/`_`, or a small edit distance.
pub(crate) fn suggest<'c>(word: &str, candidates: impl IntoIterator<Item = &'c str>) -> Option<&'c str> {
    let norm = |s: &str| s.to_ascii_lowercase().replace(['-', ' '], "_");
    let w = norm(word);
    let mut best: Option<(f64, &str)> = None;
    for c in candidates {
        if c == word {
            continue;
        }
        let n = norm(c);
        let score = if n == w { 2.0 } else { strsim::jaro_winkler(&w, &n) };
        let dist = strsim::damerau_levenshtein(&w, &n);
        let close = n == w || dist <= 2.max(w.len() / 4) || score >= 0.9;
        if close && best.is_none_or(|(b, bc)| score > b || (score == b && c < bc)) {
            best = Some((score, c));
        }
    }
    best.map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::suggest;

    #[test]
    fn suggestions_are_close_spellings_only() {
        assert_eq!(suggest("chanels", ["channels", "tenants", "kinds"]), Some("channels"));
        assert_eq!(
            suggest("voice-transcript", ["whatsapp", "sms", "voice_transcript"]),
            Some("voice_transcript")
        );
        assert_eq!(suggest("sender-roles", ["sender_roles", "sender_groups"]), Some("sender_roles"));
        assert_eq!(suggest("zzz", ["channels", "tenants"]), None);
    }
}
