//! Load errors with source positions, rendered as `file:line:column: message` followed by
//! the source line and an underline.

use std::fmt;

/// One load error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// The file, as given by the caller.
    pub file: String,
    /// 1-based line (0 when unknown).
    pub line: u32,
    /// 1-based column (0 when unknown).
    pub column: u32,
    /// Lower-case message, user values in backticks.
    pub message: String,
    /// The source line, for the snippet.
    pub source_line: Option<String>,
}

/// Every load error of a policy set; a set with any error is never loaded.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Diagnostics {
    /// The errors, in file order.
    pub errors: Vec<Diagnostic>,
}

impl Diagnostics {
    /// True when there is no error.
    pub fn is_empty(&self) -> bool {
        self.errors.is_empty()
    }

    /// Number of errors.
    pub fn len(&self) -> usize {
        self.errors.len()
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}: {}", self.file, self.line, self.column, self.message)?;
        if let Some(src) = &self.source_line {
            let col = self.column.max(1) as usize;
            let width = self.line.to_string().len();
            let rest: String = src.chars().skip(col - 1).collect();
            let token = token_len(&rest).max(1);
            let pad: String = src.chars().take(col - 1).map(|c| if c == '\t' { '\t' } else { ' ' }).collect();
            write!(
                f,
                "\n{:width$} |\n{} | {}\n{:width$} | {}{}",
                "",
                self.line,
                src,
                "",
                pad,
                "^".repeat(token),
            )?;
        }
        Ok(())
    }
}

/// Length in chars of the token starting a string: a quoted scalar, or up to the next
/// structural character.
fn token_len(s: &str) -> usize {
    let mut chars = s.chars();
    match chars.next() {
        Some(q @ ('"' | '\'')) => {
            let body: usize = chars.take_while(|&c| c != q).count();
            body + 2
        }
        Some(_) => s.chars().take_while(|&c| !matches!(c, ' ' | ',' | ']' | '}' | '#')).count().max(1),
        None => 1,
    }
}

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, d) in self.errors.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{d}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Diagnostics {}

/// Collects diagnostics for one file, attaching the source line of each.
pub(crate) struct Reporter<'a> {
    pub file: &'a str,
    pub text: &'a str,
    pub out: &'a mut Vec<Diagnostic>,
}

impl Reporter<'_> {
    /// Records an error at `line:column` of this file.
    pub fn error(&mut self, line: u32, column: u32, message: impl Into<String>) {
        let source_line =
            (line > 0).then(|| self.text.lines().nth(line as usize - 1).map(str::to_owned)).flatten();
        self.out.push(Diagnostic {
            file: self.file.to_owned(),
            line,
            column,
            message: message.into(),
            source_line,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_position_snippet_and_underline() {
        let mut out = Vec::new();
        let text = "a: 1\n      - {id: cc}\n";
        Reporter { file: "p.yaml", text, out: &mut out }.error(2, 14, "unknown detector `cc`");
        let d = Diagnostics { errors: out };
        assert_eq!(
            d.to_string(),
            "p.yaml:2:14: unknown detector `cc`\n  |\n2 |       - {id: cc}\n  |              ^^"
        );
    }
}
