//! Exporting published snapshots to a directory a CDN or bucket can host:
//!
//! ```text
//! DIR/keys.json                         the public keys, as GET /v1/keys
//! DIR/<env>/server/<version>.json       every snapshot, immutable
//! DIR/<env>/server/latest.json          the newest, replaced atomically
//! DIR/<env>/client/...                  the same for client keys
//! ```
//!
//! Export happens after commit and never blocks publishing: a failure is logged, and
//! the next start catches up.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::{Published, Served};
use crate::model::SdkKind;

/// Writes snapshots under one directory.
#[derive(Debug, Clone)]
pub(crate) struct Exporter {
    dir: PathBuf,
    /// Held while a snapshot is written: two exports that both read the directory
    /// before either wrote could otherwise put an older `latest.json` over a newer one.
    writing: Arc<Mutex<()>>,
}

impl Exporter {
    /// An exporter into `dir`, created if missing.
    pub(crate) fn new(dir: PathBuf) -> Result<Exporter, String> {
        std::fs::create_dir_all(&dir)
            .map_err(|e| format!("cannot create export directory `{}`: {e}", dir.display()))?;
        Ok(Exporter { dir, writing: Arc::default() })
    }

    /// Writes `keys.json`.
    pub(crate) fn write_keys(&self, keys: &serde_json::Value) -> std::io::Result<()> {
        crate::files::replace_file(&self.dir.join("keys.json"), &serde_json::to_vec_pretty(keys).unwrap_or_default())
    }

    /// Writes both snapshots of `published` (in a blocking task).
    pub(crate) async fn export(&self, published: Published) {
        let this = self.clone();
        let result = tokio::task::spawn_blocking(move || {
            this.write(&published.env, SdkKind::Server, &published.server)?;
            this.write(&published.env, SdkKind::Client, &published.client)
        })
        .await;
        match result {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::warn!("export to {}: {e}", self.dir.display()),
            Err(e) => tracing::warn!("export task: {e}"),
        }
    }

    /// Whether version `version` of `env`/`kind` is already exported.
    pub(crate) fn has(&self, env: &str, kind: SdkKind, version: u64) -> bool {
        self.dir.join(env).join(kind.as_str()).join(format!("{version}.json")).exists()
    }

    /// The newest version of `env` exported, server or client; 0 for none.
    pub(crate) fn newest(&self, env: &str) -> u64 {
        [SdkKind::Server, SdkKind::Client]
            .into_iter()
            .map(|kind| newest_in(&self.dir.join(env).join(kind.as_str())))
            .max()
            .unwrap_or(0)
    }

    /// Writes one snapshot and, if it is the newest there, `latest.json`.
    pub(crate) fn write(&self, env: &str, kind: SdkKind, served: &Served) -> std::io::Result<()> {
        // A panic while writing poisons nothing worth refusing: the files are replaced whole.
        let _writing = self.writing.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let dir = self.dir.join(env).join(kind.as_str());
        std::fs::create_dir_all(&dir)?;
        // Instances sharing the directory take turns too. Where the file system cannot
        // lock, each still writes whole files; only `latest.json` may then lag a version.
        let lock = std::fs::OpenOptions::new().create(true).truncate(false).write(true).open(dir.join(".lock"))?;
        let _turn = take_turn(&lock, &dir);
        let path = dir.join(format!("{}.json", served.version));
        if !path.exists() {
            crate::files::replace_file(&path, &served.body)?;
        }
        let latest = dir.join("latest.json");
        if served.version >= newest_in(&dir) {
            crate::files::replace_file(&latest, &served.body)?;
        }
        Ok(())
    }
}

/// How long an export waits for another instance's turn: one stuck holding the lock (a
/// paused container, a cut-off NFS client) must not hold up this instance's writes.
const TURN_PATIENCE: Duration = Duration::from_secs(2);

/// Takes `lock`, waiting at most [`TURN_PATIENCE`]; without it the export goes on, and
/// files are still whole (only `latest.json` might then lag a version).
fn take_turn<'a>(lock: &'a std::fs::File, dir: &Path) -> Option<&'a std::fs::File> {
    let deadline = Instant::now() + TURN_PATIENCE;
    loop {
        match lock.try_lock() {
            Ok(()) => return Some(lock),
            Err(std::fs::TryLockError::WouldBlock) if Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(5));
            }
            Err(e) => {
                tracing::warn!("export in {}: went on without the lock ({e})", dir.display());
                return None;
            }
        }
    }
}

/// The highest `<version>.json` in `dir`; 0 for none (or no such directory).
fn newest_in(dir: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(dir) else { return 0 };
    entries
        .filter_map(|entry| entry.ok()?.file_name().to_str()?.strip_suffix(".json")?.parse::<u64>().ok())
        .max()
        .unwrap_or(0)
}

#[cfg(test)]
#[path = "export_tests.rs"]
mod tests;
