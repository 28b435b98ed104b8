//! The policy manifest (`--manifest FILE`): the exact list of policy files with their
//! SHA-256, in `sha256sum` format (`<hex>  <path relative to the policy directory>`).
//! A set loads only when the files found are exactly those listed and every file's bytes
//! hash to its line, so a half-written deployment never serves: write the files, then the
//! manifest last.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use linewall_engine::policy::PolicySource;
use linewall_engine::policy::files::read_capped;
use sha2::{Digest, Sha256};

/// Largest manifest accepted.
const MAX_MANIFEST_BYTES: usize = 1 << 20;

/// Why a set was refused by its manifest ([`check`]).
#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    /// The manifest could not be read.
    #[error("manifest {}: {source}", path.display())]
    Unreadable {
        /// The manifest.
        path: PathBuf,
        /// Why it could not be read.
        source: linewall_engine::policy::files::FileError,
    },
    /// The manifest is not UTF-8.
    #[error("manifest {}: not UTF-8", path.display())]
    NotUtf8 {
        /// The manifest.
        path: PathBuf,
    },
    /// A line is not `<sha256 hex>  <path>`.
    #[error("{}: manifest line {line}: expected `<sha256 hex>  <path>`", path.display())]
    BadLine {
        /// The manifest.
        path: PathBuf,
        /// Line number (from 1).
        line: usize,
    },
    /// A path is listed twice.
    #[error("{}: manifest line {line}: a path is listed twice", path.display())]
    Duplicate {
        /// The manifest.
        path: PathBuf,
        /// Line number (from 1) of the second listing.
        line: usize,
    },
    /// The files found are not exactly those listed with their hashes.
    #[error(
        "policy files do not match the manifest {}:\n{}",
        path.display(),
        problems.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n")
    )]
    Mismatch {
        /// The manifest.
        path: PathBuf,
        /// Every file that differs, in the order found.
        problems: Vec<Mismatch>,
    },
}

/// One file that differs from the manifest (paths relative to the policy directory).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Mismatch {
    /// A policy file the manifest does not list.
    #[error("{0}: not listed in the manifest")]
    NotListed(String),
    /// A file whose bytes do not hash to its line.
    #[error("{0}: does not match its manifest sha256 (changed or partly written)")]
    Changed(String),
    /// A listed file that is not there.
    #[error("{0}: listed in the manifest but missing")]
    Missing(String),
}

/// Parses a manifest: `path -> sha256 hex` (lower case). Blank lines and `#` comments
/// are skipped; a line is `<64 hex digits> <space> <space or *> <path>`.
fn parse(text: &str, manifest: &Path) -> Result<BTreeMap<String, String>, ManifestError> {
    let mut out = BTreeMap::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim_end();
        if line.trim().is_empty() || line.trim_start().starts_with('#') {
            continue;
        }
        let bad = || ManifestError::BadLine { path: manifest.to_owned(), line: i + 1 };
        let (hash, rest) = line.split_once(' ').ok_or_else(bad)?;
        let path = rest.strip_prefix(' ').or_else(|| rest.strip_prefix('*')).ok_or_else(bad)?;
        if hash.len() != 64 || !hash.bytes().all(|b| b.is_ascii_hexdigit()) || path.is_empty() {
            return Err(bad());
        }
        let path = path.strip_prefix("./").unwrap_or(path).to_owned();
        if out.insert(path, hash.to_ascii_lowercase()).is_some() {
            return Err(ManifestError::Duplicate { path: manifest.to_owned(), line: i + 1 });
        }
    }
    Ok(out)
}

/// The name a source has in the manifest: its path relative to the policy directory (or
/// its file name when the policies are one file).
fn relative(root: &Path, name: &str) -> String {
    let p = Path::new(name);
    let rel =
        if root.is_dir() { p.strip_prefix(root).unwrap_or(p) } else { p.file_name().map_or(p, Path::new) };
    rel.to_string_lossy().into_owned()
}

/// Checks the sources read from `root` against the manifest at `manifest`; the error
/// lists every mismatch (paths only, never content).
pub fn check(manifest: &Path, root: &Path, sources: &[PolicySource]) -> Result<(), ManifestError> {
    let bytes = read_capped(manifest, MAX_MANIFEST_BYTES, true)
        .map_err(|source| ManifestError::Unreadable { path: manifest.to_owned(), source })?;
    let text = String::from_utf8(bytes).map_err(|_| ManifestError::NotUtf8 { path: manifest.to_owned() })?;
    let mut want = parse(&text, manifest)?;
    let mut problems = Vec::new();
    for s in sources {
        let rel = relative(root, &s.name);
        match want.remove(&rel) {
            None => problems.push(Mismatch::NotListed(rel)),
            Some(h) if h != hex::encode(Sha256::digest(s.text.as_bytes())) => {
                problems.push(Mismatch::Changed(rel))
            }
            Some(_) => {}
        }
    }
    problems.extend(want.into_keys().map(Mismatch::Missing));
    if problems.is_empty() {
        Ok(())
    } else {
        Err(ManifestError::Mismatch { path: manifest.to_owned(), problems })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha256sum_lines_parse() {
        let h = "a".repeat(64);
        let at = Path::new("MANIFEST");
        let m = parse(&format!("# deploy 42\n{h}  pci.yaml\n{h} *sub/x.yml\n"), at).expect("parse");
        assert_eq!(m.keys().collect::<Vec<_>>(), ["pci.yaml", "sub/x.yml"]);
        assert!(matches!(parse("\nabc  pci.yaml", at), Err(ManifestError::BadLine { line: 2, .. })));
        let twice = parse(&format!("{h}  a.yaml\n{h}  a.yaml"), at).expect_err("listed twice");
        assert_eq!(twice.to_string(), "MANIFEST: manifest line 2: a path is listed twice");
    }

    #[test]
    fn every_file_that_differs_from_the_manifest_is_named() {
        let d = std::env::temp_dir().join(format!("linewall-manifest-{}", std::process::id()));
        std::fs::create_dir_all(&d).expect("dir");
        let src = |name: &str, text: &str| PolicySource {
            name: d.join(name).to_string_lossy().into_owned(),
            text: text.to_owned(),
            base_dir: None,
        };
        let hash = |t: &str| hex::encode(Sha256::digest(t.as_bytes()));
        let manifest = d.join("MANIFEST");
        let listed = format!("{}  a.yaml\n{}  b.yaml\n{}  gone.yaml\n", hash("a"), hash("b"), hash("x"));
        std::fs::write(&manifest, listed).expect("write");
        assert!(
            check(&manifest, &d, &[src("a.yaml", "a"), src("b.yaml", "b"), src("gone.yaml", "x")]).is_ok()
        );
        let e = check(&manifest, &d, &[src("a.yaml", "a"), src("b.yaml", "half"), src("new.yaml", "n")])
            .expect_err("three files differ");
        let ManifestError::Mismatch { problems, .. } = &e else { panic!("{e:?}") };
        assert_eq!(
            problems,
            &[
                Mismatch::Changed("b.yaml".into()),
                Mismatch::NotListed("new.yaml".into()),
                Mismatch::Missing("gone.yaml".into())
            ]
        );
        assert_eq!(
            e.to_string().lines().skip(1).collect::<Vec<_>>(),
            [
                "b.yaml: does not match its manifest sha256 (changed or partly written)",
                "new.yaml: not listed in the manifest",
                "gone.yaml: listed in the manifest but missing"
            ]
        );
        let _ = std::fs::remove_dir_all(&d);
    }
}
