//! The policy manifest (`--manifest FILE`): the exact list of policy files with their
//! SHA-256, in `sha256sum` format (`<hex>  <path relative to the policy directory>`).
//! A set loads only when the files found are exactly those listed and every file's bytes
//! hash to its line, so a half-written deployment never serves: write the files, then the
//! manifest last.

use std::collections::BTreeMap;
use std::path::Path;

use linewall_engine::policy::PolicySource;
use linewall_engine::policy::files::read_capped;
use sha2::{Digest, Sha256};

/// Largest manifest accepted.
const MAX_MANIFEST_BYTES: usize = 1 << 20;

/// Parses a manifest: `path -> sha256 hex` (lower case). Blank lines and `#` comments
/// are skipped; a line is `<64 hex digits> <space> <space or *> <path>`.
fn parse(text: &str) -> Result<BTreeMap<String, String>, String> {
    let mut out = BTreeMap::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim_end();
        if line.trim().is_empty() || line.trim_start().starts_with('#') {
            continue;
        }
        let bad = || format!("manifest line {}: expected `<sha256 hex>  <path>`", i + 1);
        let (hash, rest) = line.split_once(' ').ok_or_else(bad)?;
        let path = rest.strip_prefix(' ').or_else(|| rest.strip_prefix('*')).ok_or_else(bad)?;
        if hash.len() != 64 || !hash.bytes().all(|b| b.is_ascii_hexdigit()) || path.is_empty() {
            return Err(bad());
        }
        let path = path.strip_prefix("./").unwrap_or(path).to_owned();
        if out.insert(path, hash.to_ascii_lowercase()).is_some() {
            return Err(format!("manifest line {}: a path is listed twice", i + 1));
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
pub fn check(manifest: &Path, root: &Path, sources: &[PolicySource]) -> Result<(), String> {
    let bytes = read_capped(manifest, MAX_MANIFEST_BYTES, true)
        .map_err(|e| format!("manifest {}: {e}", manifest.display()))?;
    let text = String::from_utf8(bytes).map_err(|_| format!("manifest {}: not UTF-8", manifest.display()))?;
    let mut want = parse(&text).map_err(|e| format!("{}: {e}", manifest.display()))?;
    let mut problems = Vec::new();
    for s in sources {
        let rel = relative(root, &s.name);
        match want.remove(&rel) {
            None => problems.push(format!("{rel}: not listed in the manifest")),
            Some(h) if h != hex::encode(Sha256::digest(s.text.as_bytes())) => problems
                .push(format!("{rel}: does not match its manifest sha256 (changed or partly written)")),
            Some(_) => {}
        }
    }
    problems.extend(want.into_keys().map(|p| format!("{p}: listed in the manifest but missing")));
    if problems.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "policy files do not match the manifest {}:\n{}",
            manifest.display(),
            problems.join("\n")
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha256sum_lines_parse() {
        let h = "a".repeat(64);
        let m = parse(&format!("# deploy 42\n{h}  pci.yaml\n{h} *sub/x.yml\n")).expect("parse");
        assert_eq!(m.keys().collect::<Vec<_>>(), ["pci.yaml", "sub/x.yml"]);
        assert!(parse("abc  pci.yaml").is_err());
        assert!(parse(&format!("{h}  a.yaml\n{h}  a.yaml")).is_err());
    }
}
