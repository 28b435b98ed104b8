//! Load errors as data: a [`Diagnostic`] has a code, a severity, a file, a span (line and
//! column at both ends, and the byte range), a message and an optional help line. One
//! renderer (annotate-snippets) draws them for people: [`Diagnostic::render`] with the
//! source snippet for the CLI, [`Diagnostic::render_short`] on one line for logs.

use std::fmt;
use std::ops::Range;

use annotate_snippets::{AnnotationKind, Group, Level, Renderer, Snippet};
use serde::Serialize;

/// What kind of mistake a diagnostic reports (stable, for tools and the gRPC API).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Code {
    /// The file cannot be read (missing, a link, too large, not UTF-8, ...).
    File,
    /// The file does not declare itself a Linewall policy.
    NotAPolicy,
    /// The YAML itself is malformed.
    YamlSyntax,
    /// A key the policy language does not have.
    UnknownKey,
    /// A required key is absent.
    MissingKey,
    /// A value outside the allowed set (an enum, a range, a format).
    InvalidValue,
    /// A value of the wrong shape (a list where a mapping is expected, ...).
    WrongType,
    /// A rule names a detector that is neither built in nor defined by the policy.
    UnknownDetector,
    /// A detector's `examples` or `negative_examples` do not behave as declared.
    Example,
    /// A term list file (`terms_file`) cannot be used.
    TermsFile,
    /// Any other violation of the policy language.
    Invalid,
    /// The set as a whole cannot be built.
    PolicySet,
}

impl Code {
    /// The code as written in output (`unknown-key`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::File => "file",
            Self::NotAPolicy => "not-a-policy",
            Self::YamlSyntax => "yaml-syntax",
            Self::UnknownKey => "unknown-key",
            Self::MissingKey => "missing-key",
            Self::InvalidValue => "invalid-value",
            Self::WrongType => "wrong-type",
            Self::UnknownDetector => "unknown-detector",
            Self::Example => "example",
            Self::TermsFile => "terms-file",
            Self::Invalid => "invalid",
            Self::PolicySet => "policy-set",
        }
    }
}

/// How serious a diagnostic is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// The set is not loaded.
    Error,
    /// Worth a look; the set still loads.
    Warning,
}

/// A 1-based line and column (columns count characters).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default, Serialize)]
pub struct Position {
    /// 1-based line.
    pub line: u32,
    /// 1-based column.
    pub column: u32,
}

/// The source text a diagnostic points at.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Span {
    /// First character.
    pub start: Position,
    /// Just past the last character.
    pub end: Position,
    /// Byte range in the file.
    pub bytes: Range<usize>,
}

/// The lines of the file a span covers, kept so a diagnostic renders without the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Excerpt {
    /// Line number of the first line of `text`.
    pub first_line: u32,
    /// Byte offset of `text` in the file.
    pub offset: usize,
    /// Whole lines of the file.
    pub text: String,
}

/// One load error (or warning) with its position.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    /// What kind of mistake.
    pub code: Code,
    /// How serious.
    pub severity: Severity,
    /// The file, as given by the caller (`<policy set>` for the set as a whole).
    pub file: String,
    /// Where in the file; `None` for errors about the whole file or set.
    pub span: Option<Span>,
    /// Lower-case message, user values in backticks.
    pub message: String,
    /// A hint, e.g. `did you mean `channels`?`.
    pub help: Option<String>,
    /// The source lines of `span` (policy text only, never other files' content).
    #[serde(skip)]
    pub excerpt: Option<Excerpt>,
}

impl Diagnostic {
    /// An error about a whole file or the whole set (no position).
    pub fn unplaced(code: Code, file: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            code,
            severity: Severity::Error,
            file: file.into(),
            span: None,
            message: message.into(),
            help: None,
            excerpt: None,
        }
    }

    /// 1-based line of the start (0 when unplaced).
    pub fn line(&self) -> u32 {
        self.span.as_ref().map_or(0, |s| s.start.line)
    }

    /// 1-based column of the start (0 when unplaced).
    pub fn column(&self) -> u32 {
        self.span.as_ref().map_or(0, |s| s.start.column)
    }

    /// The diagnostic with its source snippet and help, as the CLI prints it.
    pub fn render(&self) -> String {
        Renderer::plain().render(&self.report())
    }

    /// The diagnostic on one line (`file:line:column: error[code]: message`), for logs.
    pub fn render_short(&self) -> String {
        let mut s = Renderer::plain().short_message(true).render(&self.report());
        if self.span.is_none() {
            // The short form names the origin only with a line; a whole-file error still
            // says which file.
            s = format!("{}: {s}", self.file);
        }
        if let Some(h) = &self.help {
            s.push_str(" (help: ");
            s.push_str(h);
            s.push(')');
        }
        s
    }

    fn report(&self) -> Vec<Group<'_>> {
        let level = match self.severity {
            Severity::Error => Level::ERROR,
            Severity::Warning => Level::WARNING,
        };
        let title = level.primary_title(self.message.as_str()).id(self.code.as_str());
        let mut group = match (&self.span, &self.excerpt) {
            (Some(span), Some(ex)) if span.bytes.start >= ex.offset => {
                let start = (span.bytes.start - ex.offset).min(ex.text.len());
                let end = (span.bytes.end.saturating_sub(ex.offset)).clamp(start, ex.text.len());
                title.element(
                    Snippet::source(ex.text.as_str())
                        .line_start(ex.first_line as usize)
                        .path(self.file.as_str())
                        .annotation(AnnotationKind::Primary.span(start..end)),
                )
            }
            (Some(span), _) => title.element(
                annotate_snippets::Origin::path(self.file.as_str())
                    .line(span.start.line as usize)
                    .char_column(span.start.column.saturating_sub(1) as usize),
            ),
            (None, _) => title.element(annotate_snippets::Origin::path(self.file.as_str())),
        };
        if let Some(h) = &self.help {
            group = group.element(Level::HELP.message(h.as_str()));
        }
        vec![group]
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.render())
    }
}

/// Every load error of a policy set; a set with any error is never loaded.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Diagnostics {
    /// The errors, in file order.
    pub errors: Vec<Diagnostic>,
}

impl Diagnostics {
    /// One diagnostic.
    pub fn one(d: Diagnostic) -> Self {
        Self { errors: vec![d] }
    }

    /// True when there is no error.
    pub fn is_empty(&self) -> bool {
        self.errors.is_empty()
    }

    /// Number of errors.
    pub fn len(&self) -> usize {
        self.errors.len()
    }

    /// Every diagnostic on one line each, for logs.
    pub fn render_short(&self) -> String {
        let lines: Vec<String> = self.errors.iter().map(Diagnostic::render_short).collect();
        lines.join("\n")
    }
}

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, d) in self.errors.iter().enumerate() {
            if i > 0 {
                f.write_str("\n\n")?;
            }
            write!(f, "{}", d.render().trim_end())?;
        }
        Ok(())
    }
}

impl std::error::Error for Diagnostics {}

/// Collects diagnostics for one file, attaching the source excerpt of each.
pub(crate) struct Reporter<'a> {
    pub file: &'a str,
    pub text: &'a str,
    pub out: &'a mut Vec<Diagnostic>,
}

impl Reporter<'_> {
    /// Records an error at `line:column` of this file; the span is the token there.
    pub fn error(&mut self, line: u32, column: u32, message: impl Into<String>) {
        self.report(Code::Invalid, line, column, message, None);
    }

    /// Records an error with a code and an optional help at the token at `line:column`.
    pub fn report(
        &mut self,
        code: Code,
        line: u32,
        column: u32,
        message: impl Into<String>,
        help: Option<String>,
    ) {
        let span = token_span(self.text, line, column);
        self.push(code, span, message.into(), help);
    }

    /// Records an error over a byte range of this file.
    pub fn at_bytes(
        &mut self,
        code: Code,
        bytes: Range<usize>,
        message: impl Into<String>,
        help: Option<String>,
    ) {
        let span = span_of_bytes(self.text, bytes);
        self.push(code, span, message.into(), help);
    }

    fn push(&mut self, code: Code, span: Option<Span>, message: String, help: Option<String>) {
        let excerpt = span.as_ref().map(|s| excerpt(self.text, &s.bytes));
        self.out.push(Diagnostic {
            code,
            severity: Severity::Error,
            file: self.file.to_owned(),
            span,
            message,
            help,
            excerpt,
        });
    }
}

/// Byte offset where 1-based `line` starts.
fn line_start(text: &str, line: u32) -> Option<usize> {
    if line == 1 {
        return Some(0);
    }
    text.match_indices('\n').nth(line.checked_sub(2)? as usize).map(|(i, _)| i + 1)
}

/// The span of the token at `line:column`: a quoted scalar, or up to the next structural
/// character. `None` when the position is unknown or outside the text.
fn token_span(text: &str, line: u32, column: u32) -> Option<Span> {
    if line == 0 {
        return None;
    }
    let ls = line_start(text, line)?;
    let line_text = text[ls..].split('\n').next().unwrap_or("").trim_end_matches('\r');
    let col = column.max(1) as usize - 1;
    let start = ls + line_text.char_indices().nth(col).map_or(line_text.len(), |(i, _)| i);
    let rest = &text[start..ls + line_text.len()];
    let len = token_len(rest).max(usize::from(!rest.is_empty()));
    span_of_bytes(text, start..start + len)
}

/// Length in bytes of the token starting a string: a quoted scalar, or up to the next
/// structural character.
fn token_len(s: &str) -> usize {
    let mut chars = s.char_indices();
    match chars.next() {
        Some((_, q @ ('"' | '\''))) => chars.find(|&(_, c)| c == q).map_or(s.len(), |(i, _)| i + 1),
        Some(_) => s.find([' ', ',', ']', '}', '#']).unwrap_or(s.len()),
        None => 0,
    }
}

/// Line and column of a byte offset.
fn position(text: &str, at: usize) -> Position {
    let at = floor_char_boundary(text, at);
    let before = &text[..at];
    let line = before.matches('\n').count() + 1;
    let ls = before.rfind('\n').map_or(0, |i| i + 1);
    Position {
        line: u32::try_from(line).unwrap_or(u32::MAX),
        column: u32::try_from(text[ls..at].chars().count() + 1).unwrap_or(u32::MAX),
    }
}

fn floor_char_boundary(text: &str, mut at: usize) -> usize {
    at = at.min(text.len());
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

/// The span of a byte range (clamped to the text).
pub(crate) fn span_of_bytes(text: &str, bytes: Range<usize>) -> Option<Span> {
    let start = floor_char_boundary(text, bytes.start);
    let end = floor_char_boundary(text, bytes.end.max(start));
    Some(Span { start: position(text, start), end: position(text, end), bytes: start..end })
}

/// Whole lines of `text` around `bytes`.
fn excerpt(text: &str, bytes: &Range<usize>) -> Excerpt {
    let start = text[..bytes.start.min(text.len())].rfind('\n').map_or(0, |i| i + 1);
    let end = text[bytes.end.min(text.len())..].find('\n').map_or(text.len(), |i| bytes.end + i);
    let first_line = u32::try_from(text[..start].matches('\n').count() + 1).unwrap_or(u32::MAX);
    Excerpt { first_line, offset: start, text: text[start..end].to_owned() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_position_snippet_underline_and_help() {
        let mut out = Vec::new();
        let text = "a: 1\n      - {id: cc}\n";
        Reporter { file: "p.yaml", text, out: &mut out }.report(
            Code::UnknownDetector,
            2,
            14,
            "unknown detector `cc`",
            Some(String::from("did you mean `cn`?")),
        );
        let d = &out[0];
        assert_eq!(
            d.span.as_ref().map(|s| (s.start, s.end, s.bytes.clone())),
            Some((Position { line: 2, column: 14 }, Position { line: 2, column: 16 }, 18..20))
        );
        assert_eq!(
            d.render(),
            "error[unknown-detector]: unknown detector `cc`\n --> p.yaml:2:14\n  |\n2 |       - {id: cc}\n  |              ^^\n  |\n  = help: did you mean `cn`?"
        );
        assert_eq!(
            d.render_short(),
            "p.yaml:2:14: error[unknown-detector]: unknown detector `cc` (help: did you mean `cn`?)"
        );
        let whole = Diagnostic::unplaced(Code::File, "q.yaml", "is a symbolic link");
        assert_eq!(whole.render_short(), "q.yaml: error[file]: is a symbolic link");
        assert_eq!(whole.render(), "error[file]: is a symbolic link\n--> q.yaml");
    }
}
