//! Finding and reading policy files without trusting the directory.
//!
//! Only regular files are read. Symbolic links are refused unless the caller opts in
//! (`--follow-symlinks`); the check is made on the opened descriptor, so a file swapped
//! for a link, a FIFO or a device between listing and opening is still refused. Opens are
//! non-blocking (a FIFO never stalls a reload) and every read stops one byte past its cap
//! (a link to `/dev/zero` cannot exhaust memory).

use std::io::Read as _;
use std::os::unix::fs::{FileTypeExt as _, OpenOptionsExt as _};
use std::path::{Path, PathBuf};

/// Most policy files one set may have.
pub const MAX_POLICY_FILES: usize = 10_000;

/// Deepest directory nesting searched for policy files.
const MAX_DEPTH: usize = 16;

/// Why a file was not read; the message never holds any of the file's bytes.
#[derive(Debug, thiserror::Error)]
pub enum FileError {
    /// The path is a symbolic link and links are not followed.
    #[error("is a symbolic link; links are not followed (use --follow-symlinks to allow them)")]
    Symlink,
    /// The path is a FIFO, socket, device or directory.
    #[error("is not a regular file ({0})")]
    NotRegular(&'static str),
    /// The file is larger than its cap.
    #[error("is larger than {0} bytes")]
    TooLarge(usize),
    /// Too many files or directories too deep.
    #[error("{0}")]
    Limit(String),
    /// Opening or reading failed.
    #[error("cannot read: {0}")]
    Io(#[from] std::io::Error),
}

fn kind(t: std::fs::FileType) -> &'static str {
    if t.is_dir() {
        "a directory"
    } else if t.is_fifo() {
        "a FIFO"
    } else if t.is_socket() {
        "a socket"
    } else if t.is_block_device() || t.is_char_device() {
        "a device"
    } else if t.is_symlink() {
        "a symbolic link"
    } else {
        "not a file"
    }
}

/// Reads a regular file of at most `cap` bytes. Without `follow_symlinks` a link is
/// refused (`O_NOFOLLOW`); the file type is checked on the opened descriptor, the open
/// never blocks (`O_NONBLOCK`), and at most `cap + 1` bytes are read.
pub fn read_capped(path: &Path, cap: usize, follow_symlinks: bool) -> Result<Vec<u8>, FileError> {
    let mut flags = libc::O_NONBLOCK;
    if !follow_symlinks {
        flags |= libc::O_NOFOLLOW;
    }
    let file = match std::fs::OpenOptions::new().read(true).custom_flags(flags).open(path) {
        Ok(f) => f,
        // O_NOFOLLOW on a link fails with ELOOP.
        Err(e) if e.raw_os_error() == Some(libc::ELOOP) && !follow_symlinks => {
            return Err(FileError::Symlink);
        }
        Err(e) => return Err(FileError::Io(e)),
    };
    let meta = file.metadata()?;
    if !meta.file_type().is_file() {
        return Err(FileError::NotRegular(kind(meta.file_type())));
    }
    if meta.len() > cap as u64 {
        return Err(FileError::TooLarge(cap));
    }
    let mut out = Vec::with_capacity(usize::try_from(meta.len()).unwrap_or(0).min(cap) + 1);
    file.take(cap as u64 + 1).read_to_end(&mut out)?;
    if out.len() > cap {
        return Err(FileError::TooLarge(cap));
    }
    Ok(out)
}

/// Lists the `*.yaml` / `*.yml` files under `root` (or `root` itself when it is not a
/// directory), sorted. The root may be a link; entries below it that are links are
/// refused unless `follow_symlinks`, and entries that are not regular files or
/// directories are refused. Names starting with `.` are skipped (editor and
/// orchestration files). Errors carry the offending path.
pub fn list_policy_files(root: &Path, follow_symlinks: bool) -> Result<Vec<PathBuf>, (PathBuf, FileError)> {
    let meta = std::fs::metadata(root).map_err(|e| (root.to_path_buf(), FileError::Io(e)))?;
    if !meta.is_dir() {
        return Ok(vec![root.to_path_buf()]);
    }
    let mut out = Vec::new();
    walk(root, follow_symlinks, 0, &mut out)?;
    out.sort();
    Ok(out)
}

fn is_policy_name(p: &Path) -> bool {
    matches!(p.extension().and_then(|e| e.to_str()), Some("yaml" | "yml"))
}

fn walk(dir: &Path, follow: bool, depth: usize, out: &mut Vec<PathBuf>) -> Result<(), (PathBuf, FileError)> {
    if depth > MAX_DEPTH {
        return Err((
            dir.to_path_buf(),
            FileError::Limit(format!("is nested deeper than {MAX_DEPTH} directories")),
        ));
    }
    let rd = std::fs::read_dir(dir).map_err(|e| (dir.to_path_buf(), FileError::Io(e)))?;
    let mut entries = Vec::new();
    for e in rd {
        let e = e.map_err(|e| (dir.to_path_buf(), FileError::Io(e)))?;
        if e.file_name().to_string_lossy().starts_with('.') {
            continue;
        }
        entries.push(e.path());
    }
    entries.sort();
    for p in entries {
        let lmeta = std::fs::symlink_metadata(&p).map_err(|e| (p.clone(), FileError::Io(e)))?;
        let mut t = lmeta.file_type();
        if t.is_symlink() {
            if !is_policy_name(&p) && !follow {
                // A link that is neither a policy file nor followed is simply not ours.
                continue;
            }
            if !follow {
                return Err((p, FileError::Symlink));
            }
            t = std::fs::metadata(&p).map_err(|e| (p.clone(), FileError::Io(e)))?.file_type();
        }
        if t.is_dir() {
            walk(&p, follow, depth + 1, out)?;
        } else if is_policy_name(&p) {
            if !t.is_file() {
                return Err((p, FileError::NotRegular(kind(t))));
            }
            if out.len() >= MAX_POLICY_FILES {
                return Err((p, FileError::Limit(format!("more than {MAX_POLICY_FILES} policy files"))));
            }
            out.push(p);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_are_capped_and_devices_refused() {
        let e = read_capped(Path::new("/dev/zero"), 1024, true);
        assert!(matches!(e, Err(FileError::NotRegular("a device"))), "{e:?}");
        let dir = std::env::temp_dir().join(format!("linewall-files-{}", std::process::id()));
        let _ = std::fs::create_dir_all(&dir);
        let f = dir.join("big.yaml");
        std::fs::write(&f, vec![b'a'; 2048]).expect("write");
        assert!(matches!(read_capped(&f, 1024, false), Err(FileError::TooLarge(1024))));
        assert_eq!(read_capped(&f, 4096, false).expect("read").len(), 2048);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
