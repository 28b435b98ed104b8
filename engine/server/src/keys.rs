//! Secret keys from files or the environment: the audit key of the decision log chain
//! and the hash key of `hash` redaction.

use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;

/// Largest key file accepted.
const MAX_KEY_FILE_BYTES: usize = 4096;

/// Fewest bytes a key from a file or `LINEWALL_AUDIT_KEY` may have.
pub const MIN_KEY_BYTES: usize = 16;

/// A key from its text: surrounding whitespace is ignored; 64 hex digits are decoded to
/// 32 bytes, anything else is used as raw bytes (at least [`MIN_KEY_BYTES`]).
pub fn parse_key(raw: &[u8]) -> Result<Vec<u8>, String> {
    let t = raw.trim_ascii();
    if t.len() == 64
        && let Ok(k) = hex::decode(t)
    {
        return Ok(k);
    }
    if t.len() < MIN_KEY_BYTES {
        return Err(format!("the key is shorter than {MIN_KEY_BYTES} bytes"));
    }
    Ok(t.to_vec())
}

/// Reads a key file (a regular file of at most 4 KiB); warns when others may read it.
pub fn read_key_file(path: &Path) -> Result<Vec<u8>, String> {
    let bytes = linewall_engine::policy::files::read_capped(path, MAX_KEY_FILE_BYTES, true)
        .map_err(|e| format!("key file {}: {e}", path.display()))?;
    if let Ok(m) = std::fs::metadata(path)
        && m.permissions().mode() & 0o077 != 0
    {
        tracing::warn!(file = %path.display(), "key file is readable by group or others: chmod 600 it");
    }
    parse_key(&bytes).map_err(|e| format!("key file {}: {e}", path.display()))
}

/// The audit key: from `file`, else `LINEWALL_AUDIT_KEY`; `None` when neither is set.
pub fn audit_key(file: Option<&Path>) -> Result<Option<Vec<u8>>, String> {
    if let Some(f) = file {
        return read_key_file(f).map(Some);
    }
    match std::env::var("LINEWALL_AUDIT_KEY") {
        Ok(v) if !v.is_empty() => {
            parse_key(v.as_bytes()).map(Some).map_err(|e| format!("LINEWALL_AUDIT_KEY: {e}"))
        }
        _ => Ok(None),
    }
}

/// The hash key to serve with: the configured one, else a fresh random key (`true`:
/// ephemeral). A failing random number generator is an error, never a fixed key.
pub fn resolve_hash_key(
    configured: Option<Vec<u8>>,
    fill: impl FnOnce(&mut [u8]) -> Result<(), getrandom::Error>,
) -> Result<(Vec<u8>, bool), String> {
    if let Some(k) = configured {
        return Ok((k, false));
    }
    let mut k = vec![0u8; 32];
    fill(&mut k).map_err(|e| {
        format!("the OS random number generator failed ({e}); configure a hash key with --hash-key-file or LINEWALL_HASH_KEY")
    })?;
    Ok((k, true))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failing_rng_is_a_start_up_error_not_a_zero_key() {
        let err = resolve_hash_key(None, |_| Err(getrandom::Error::UNSUPPORTED)).expect_err("must fail");
        assert!(err.contains("random number generator failed"), "{err}");
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
        assert!(parse_key(b"short").is_err());
    }
}
