//! Reload on file change: polls the policy directory (and the serving set's terms files,
//! wherever they are) and reloads once a change has settled.
//!
//! Polling (every two seconds) rather than inotify keeps the behaviour the same on every
//! filesystem, including network mounts and editors that replace files by renaming.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use crate::state::Policies;

/// Most entries looked at per poll (a runaway directory must not stall the watcher).
const MAX_ENTRIES: usize = 100_000;

/// Whether a failed look at an entry says something about the entry (it is gone, or not
/// readable) rather than about this process (out of descriptors or memory: EMFILE,
/// ENFILE, ENOMEM), which must not read as a change.
fn about_the_entry(e: &std::io::Error) -> bool {
    // ENOMEM 12, ENFILE 23, EMFILE 24 (the same numbers on Linux and the BSDs).
    !matches!(e.raw_os_error(), Some(12 | 23 | 24))
}

/// What the directory looks like: every entry's path, type, size and modification time;
/// `None` when the process could not look (e.g. out of file descriptors).
/// Links are not followed (a link loop cannot make this walk forever); a changed link
/// target still changes the link's own entry when it is replaced.
fn signature(path: &Path, extra: &[PathBuf]) -> Option<Vec<(PathBuf, u64, Option<SystemTime>)>> {
    let mut out = Vec::new();
    let mut stack = vec![path.to_path_buf()];
    // Terms files (`terms_file:`) may live outside the policy directory (`../lists/x.txt`
    // even though it starts with the directory's path); one inside is simply seen twice.
    for f in extra {
        match std::fs::metadata(f) {
            Ok(m) => out.push((f.clone(), m.len(), m.modified().ok())),
            Err(e) if about_the_entry(&e) => out.push((f.clone(), u64::MAX, None)),
            Err(_) => return None,
        }
    }
    while let Some(p) = stack.pop() {
        if out.len() >= MAX_ENTRIES {
            break;
        }
        // The root may be a link (a mounted configuration); entries below it are not followed.
        let m = if p == path { std::fs::metadata(&p) } else { std::fs::symlink_metadata(&p) };
        let m = match m {
            Ok(m) => m,
            Err(e) if about_the_entry(&e) => continue,
            Err(_) => return None,
        };
        if m.is_dir() {
            match std::fs::read_dir(&p) {
                Ok(rd) => stack.extend(rd.filter_map(|e| e.ok().map(|e| e.path()))),
                Err(e) if about_the_entry(&e) => {}
                Err(_) => return None,
            }
        } else {
            // Links (policy files under --follow-symlinks) report their target's state.
            let m = if m.file_type().is_symlink() { std::fs::metadata(&p).unwrap_or(m) } else { m };
            out.push((p, m.len(), m.modified().ok()));
        }
    }
    out.sort();
    Some(out)
}

/// Watches `path` forever, reloading `policies` after each settled change.
pub async fn watch(path: PathBuf, policies: Arc<Policies>, on_reload: impl Fn(bool) + Send + 'static) {
    // The terms files of the set serving now (a reload may add or drop some).
    let extra = |p: &Policies| p.current().term_files().to_vec();
    let mut last = loop {
        if let Some(s) = signature(&path, &extra(&policies)) {
            break s;
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
    };
    loop {
        tokio::time::sleep(Duration::from_secs(2)).await;
        // A poll that could not look (out of descriptors) is no change.
        let Some(now) = signature(&path, &extra(&policies)) else { continue };
        if now == last {
            continue;
        }
        // Wait for the writer to finish: reload only when two polls agree.
        tokio::time::sleep(Duration::from_millis(300)).await;
        let Some(settled) = signature(&path, &extra(&policies)) else { continue };
        if settled != now {
            continue;
        }
        last = settled;
        tracing::info!("policy files changed: reloading");
        on_reload(policies.reload().await.is_ok());
    }
}
