//! Reload on file change: polls the policy directory and reloads once a change has settled.
//!
//! Polling (every two seconds) rather than inotify keeps the behaviour the same on every
//! filesystem, including network mounts and editors that replace files by renaming.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use crate::state::Policies;

/// Most entries looked at per poll (a runaway directory must not stall the watcher).
const MAX_ENTRIES: usize = 100_000;

/// What the directory looks like: every entry's path, type, size and modification time.
/// Links are not followed (a link loop cannot make this walk forever); a changed link
/// target still changes the link's own entry when it is replaced.
fn signature(path: &Path) -> Vec<(PathBuf, u64, Option<SystemTime>)> {
    let mut out = Vec::new();
    let mut stack = vec![path.to_path_buf()];
    while let Some(p) = stack.pop() {
        if out.len() >= MAX_ENTRIES {
            break;
        }
        // The root may be a link (a mounted configuration); entries below it are not followed.
        let m = if p == path { std::fs::metadata(&p) } else { std::fs::symlink_metadata(&p) };
        let Ok(m) = m else { continue };
        if m.is_dir() {
            if let Ok(rd) = std::fs::read_dir(&p) {
                stack.extend(rd.filter_map(|e| e.ok().map(|e| e.path())));
            }
        } else {
            // Links (policy files under --follow-symlinks) report their target's state.
            let m = if m.file_type().is_symlink() { std::fs::metadata(&p).unwrap_or(m) } else { m };
            out.push((p, m.len(), m.modified().ok()));
        }
    }
    out.sort();
    out
}

/// Watches `path` forever, reloading `policies` after each settled change.
pub async fn watch(path: PathBuf, policies: Arc<Policies>, on_reload: impl Fn(bool) + Send + 'static) {
    let mut last = signature(&path);
    loop {
        tokio::time::sleep(Duration::from_secs(2)).await;
        let now = signature(&path);
        if now == last {
            continue;
        }
        // Wait for the writer to finish: reload only when two polls agree.
        tokio::time::sleep(Duration::from_millis(300)).await;
        let settled = signature(&path);
        if settled != now {
            continue;
        }
        last = settled;
        tracing::info!("policy files changed: reloading");
        on_reload(policies.reload().await.is_ok());
    }
}
