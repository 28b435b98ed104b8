//! Secret keys from files or the environment: the audit key of the decision log chain
//! and the hash key of `hash` redaction.

use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};

use linewall_engine::policy::files::FileError;

/// Largest key file accepted.
const MAX_KEY_FILE_BYTES: usize = 4096;

/// Fewest bytes a key from a file or `LINEWALL_AUDIT_KEY` may have.
pub const MIN_KEY_BYTES: usize = 16;

/// Why a key could not be had. No variant holds any of the key's bytes.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// The key (not 64 hex digits) is shorter than [`MIN_KEY_BYTES`].
    #[error("the key is shorter than {MIN_KEY_BYTES} bytes")]
    TooShort,
    /// The key file could not be read (missing, not a regular file, over 4 KiB, ...).
    #[error("key file {}: {reason}", path.display())]
    Unreadable {
        /// The key file.
        path: PathBuf,
        /// Why it was not read.
        reason: FileError,
    },
    /// The key file does not hold a usable key.
    #[error("key file {}: {reason}", path.display())]
    BadFile {
        /// The key file.
        path: PathBuf,
        /// What is wrong with its key.
        reason: Box<KeyError>,
    },
    /// `LINEWALL_AUDIT_KEY` does not hold a usable key.
    #[error("LINEWALL_AUDIT_KEY: {0}")]
    BadEnv(Box<KeyError>),
    /// No hash key is configured and the OS random number generator failed.
    #[error(
        "the OS random number generator failed ({0}); configure a hash key with --hash-key-file or LINEWALL_HASH_KEY"
    )]
    Rng(getrandom::Error),
}

/// A key from its text: surrounding whitespace is ignored; 64 hex digits are decoded to
/// 32 bytes, anything else is used as raw bytes (at least [`MIN_KEY_BYTES`]).
pub fn parse_key(raw: &[u8]) -> Result<Vec<u8>, KeyError> {
    let t = raw.trim_ascii();
    if t.len() == 64
        && let Ok(k) = hex::decode(t)
    {
        return Ok(k);
    }
    if t.len() < MIN_KEY_BYTES {
        return Err(KeyError::TooShort);
    }
    Ok(t.to_vec())
}

/// Reads a key file (a regular file of at most 4 KiB); warns when others may read it.
pub fn read_key_file(path: &Path) -> Result<Vec<u8>, KeyError> {
    let bytes = linewall_engine::policy::files::read_capped(path, MAX_KEY_FILE_BYTES, true)
        .map_err(|reason| KeyError::Unreadable { path: path.to_path_buf(), reason })?;
    if let Ok(m) = std::fs::metadata(path)
        && m.permissions().mode() & 0o077 != 0
    {
        tracing::warn!(file = %path.display(), "key file is readable by group or others: chmod 600 it");
    }
    parse_key(&bytes).map_err(|e| KeyError::BadFile { path: path.to_path_buf(), reason: Box::new(e) })
}

/// The audit key: from `file`, else `LINEWALL_AUDIT_KEY`; `None` when neither is set.
pub fn audit_key(file: Option<&Path>) -> Result<Option<Vec<u8>>, KeyError> {
    if let Some(f) = file {
        return read_key_file(f).map(Some);
    }
    match std::env::var("LINEWALL_AUDIT_KEY") {
        Ok(v) if !v.is_empty() => {
            parse_key(v.as_bytes()).map(Some).map_err(|e| KeyError::BadEnv(Box::new(e)))
        }
        _ => Ok(None),
    }
}

/// The hash key to serve with: the configured one, else a fresh random key (`true`:
/// ephemeral). A failing random number generator is an error, never a fixed key.
pub fn resolve_hash_key(
    configured: Option<Vec<u8>>,
    fill: impl FnOnce(&mut [u8]) -> Result<(), getrandom::Error>,
) -> Result<(Vec<u8>, bool), KeyError> {
    if let Some(k) = configured {
        return Ok((k, false));
    }
    let mut k = vec![0u8; 32];
    fill(&mut k).map_err(KeyError::Rng)?;
    Ok((k, true))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failing_rng_is_a_start_up_error_not_a_zero_key() {
        let err = resolve_hash_key(None, |_| Err(getrandom::Error::UNSUPPORTED)).expect_err("must fail");
        assert!(matches!(err, KeyError::Rng(_)), "{err}");
        assert!(err.to_string().contains("random number generator failed"), "{err}");
        let (k, ephemeral) = resolve_hash_key(None, getrandom::fill).expect("rng");
        assert!(ephemeral && k.len() == 32 && k.iter().any(|&b| b != 0));
        assert_eq!(
            resolve_hash_key(Some(b"k".to_vec()), |_| unreachable!()).expect("k"),
            (b"k".to_vec(), false)
        );
    }

    #[test]
    fn keys_parse_hex_or_raw_and_refuse_short_ones() {
        assert_eq!(parse_key(format!("{}\n", "ab".repeat(32)).as_bytes()).expect("hex"), vec![0xab; 32]);
        assert_eq!(parse_key(b"  a-long-enough-secret \n").expect("raw"), b"a-long-enough-secret");
        assert!(matches!(parse_key(b"short"), Err(KeyError::TooShort)));
    }

    #[test]
    fn key_file_errors_name_the_file_and_the_problem_not_the_key() {
        let dir = std::env::temp_dir().join(format!("linewall-keys-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let missing = dir.join("missing.key");
        assert!(matches!(read_key_file(&missing), Err(KeyError::Unreadable { .. })));
        let short = dir.join("short.key");
        std::fs::write(&short, "hunter2").expect("write");
        let err = read_key_file(&short).expect_err("too short");
        assert!(matches!(&err, KeyError::BadFile { reason, .. } if matches!(**reason, KeyError::TooShort)));
        assert_eq!(
            err.to_string(),
            format!("key file {}: the key is shorter than 16 bytes", short.display())
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}
