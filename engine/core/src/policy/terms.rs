//! Term lists kept in their own files (`terms_file:`), as compliance teams maintain them:
//! one term a line, blank lines ignored, a line whose first non-blank character is `#` is
//! a comment (a `#` inside a term, as in `C#`, is part of the term).

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::files::{self, FileError};

/// Largest terms file accepted.
pub const MAX_TERMS_FILE_BYTES: usize = 16 << 20;

/// Most terms one file may hold.
pub const MAX_TERMS_PER_FILE: usize = 1_000_000;

/// Why a terms file cannot be used; never quotes the file's content.
#[derive(Debug, thiserror::Error)]
pub enum TermsFileError {
    /// The policy did not come from a file, so there is no directory to resolve against.
    #[error("`terms_file` needs a policy read from a directory (built-in and uploaded policies have none)")]
    NoDirectory,
    /// The file cannot be read (missing, a link, not a regular file, too large).
    #[error("terms file `{path}` {source}")]
    File {
        /// The path as resolved.
        path: String,
        /// Why.
        #[source]
        source: FileError,
    },
    /// The file is not UTF-8.
    #[error("terms file `{0}` is not UTF-8 text")]
    NotUtf8(String),
    /// Too many terms.
    #[error("terms file `{0}` has more than {MAX_TERMS_PER_FILE} terms")]
    TooMany(String),
}

/// A terms file as read: where it is, its terms, and the hash of its bytes (which goes
/// into `policy_version`).
#[derive(Debug, Clone)]
pub struct TermsFile {
    /// The resolved path (watched for changes by servers).
    pub path: PathBuf,
    /// The terms, in file order, trimmed, with the 1-based line each came from.
    pub terms: Vec<(u32, String)>,
    /// SHA-256 of the file's bytes.
    pub sha256: [u8; 32],
}

/// Reads `relative` (resolved against `base`, the policy file's directory) with the
/// policy files' own limits: a regular file, links only with `follow_symlinks`, at most
/// [`MAX_TERMS_FILE_BYTES`].
pub fn read(base: Option<&Path>, relative: &str, follow_symlinks: bool) -> Result<TermsFile, TermsFileError> {
    let base = base.ok_or(TermsFileError::NoDirectory)?;
    let path = base.join(relative);
    let shown = path.display().to_string();
    let bytes = files::read_capped(&path, MAX_TERMS_FILE_BYTES, follow_symlinks)
        .map_err(|source| TermsFileError::File { path: shown.clone(), source })?;
    let sha256: [u8; 32] = Sha256::digest(&bytes).into();
    let text = String::from_utf8(bytes).map_err(|_| TermsFileError::NotUtf8(shown.clone()))?;
    let terms: Vec<(u32, String)> = parse(&text).map(|(n, t)| (n, t.to_owned())).collect();
    if terms.len() > MAX_TERMS_PER_FILE {
        return Err(TermsFileError::TooMany(shown));
    }
    Ok(TermsFile { path, terms, sha256 })
}

/// The terms of a terms file's text with their 1-based line numbers.
pub fn parse(text: &str) -> impl Iterator<Item = (u32, &str)> {
    text.lines().enumerate().filter_map(|(i, l)| {
        let t = l.trim();
        (!t.is_empty() && !t.starts_with('#')).then(|| (u32::try_from(i + 1).unwrap_or(u32::MAX), t))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_term_a_line_with_comments_and_blank_lines() {
        let got: Vec<(u32, &str)> = parse("# tickers\nAAPL\n\n  MSFT  \r\n  # not a term\nC#\n").collect();
        assert_eq!(got, vec![(2, "AAPL"), (4, "MSFT"), (6, "C#")]);
    }

    #[test]
    fn files_are_read_with_the_policy_limits() {
        assert!(matches!(read(None, "x.txt", false), Err(TermsFileError::NoDirectory)));
        let e = read(Some(Path::new("/dev")), "zero", true);
        assert!(matches!(e, Err(TermsFileError::File { source: FileError::NotRegular(_), .. })), "{e:?}");
        let dir = std::env::temp_dir().join(format!("linewall-terms-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        std::fs::write(dir.join("t.txt"), "a\nb\n").expect("write");
        let f = read(Some(&dir), "t.txt", false).expect("read");
        assert_eq!(f.terms, vec![(1, String::from("a")), (2, String::from("b"))]);
        std::fs::write(dir.join("bad.txt"), [0xff, 0xfe]).expect("write");
        assert!(matches!(read(Some(&dir), "bad.txt", false), Err(TermsFileError::NotUtf8(_))));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
