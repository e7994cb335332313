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
//!
//! The server snapshots hold every flag and segment, so the export is kept from other
//! users as the data directory is: created 0700 with files 0600. One created beforehand
//! and open to other users (`mkdir` gives 0755) is made 0700, with a warning. One shared
//! with its group alone (0750: a web server or uploader in that group reads it) is
//! kept, and what is written in it is group-readable (0640, subdirectories 0750), as
//! PostgreSQL derives its files' modes from its data directory's. Modes are asked for
//! at creation, so a stricter umask takes away more.

use std::os::unix::fs::{DirBuilderExt as _, OpenOptionsExt as _, PermissionsExt as _};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::{Published, Served};
use crate::model::SdkKind;

/// Writes snapshots under one directory.
#[derive(Debug, Clone)]
pub(crate) struct Exporter {
    dir: PathBuf,
    /// Modes of what is created in it: private, or readable by the directory's group.
    modes: Modes,
    /// Held while a snapshot is written: two exports that both read the directory
    /// before either wrote could otherwise put an older `latest.json` over a newer one.
    writing: Arc<Mutex<()>>,
}

impl Exporter {
    /// An exporter into `dir`, created (0700) if missing, closed to other users if open
    /// to them.
    pub(crate) fn new(dir: PathBuf) -> Result<Exporter, String> {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(Modes::PRIVATE.dir)
            .create(&dir)
            .map_err(|e| format!("cannot create export directory `{}`: {e}", dir.display()))?;
        let modes = Modes::of(&dir);
        Ok(Exporter { dir, modes, writing: Arc::default() })
    }

    /// Writes `keys.json`.
    pub(crate) fn write_keys(&self, keys: &serde_json::Value) -> std::io::Result<()> {
        let json = serde_json::to_vec_pretty(keys).unwrap_or_default();
        crate::files::replace_file_with_mode(&self.dir.join("keys.json"), &json, self.modes.file)
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
        std::fs::DirBuilder::new().recursive(true).mode(self.modes.dir).create(&dir)?;
        // Instances sharing the directory take turns too. Where the file system cannot
        // lock, each still writes whole files; only `latest.json` may then lag a version.
        let lock = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .mode(self.modes.file)
            .open(dir.join(".lock"))?;
        let _turn = take_turn(&lock, &dir);
        let path = dir.join(format!("{}.json", served.version));
        if !path.exists() {
            crate::files::replace_file_with_mode(&path, &served.body, self.modes.file)?;
        }
        let latest = dir.join("latest.json");
        if served.version >= newest_in(&dir) {
            crate::files::replace_file_with_mode(&latest, &served.body, self.modes.file)?;
        }
        Ok(())
    }
}

/// The modes of directories and files created in the export directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Modes {
    dir: u32,
    file: u32,
}

impl Modes {
    /// The owner's alone.
    const PRIVATE: Modes = Modes { dir: 0o700, file: 0o600 };
    /// Also readable by the export directory's group.
    const GROUP: Modes = Modes { dir: 0o750, file: 0o640 };

    /// The modes for writing in `dir`, after closing it to other users if it was open to
    /// them: readable by its group if it is (mode 0750), else private. A directory whose
    /// mode cannot be read or changed is written in privately.
    fn of(dir: &Path) -> Modes {
        let Ok(metadata) = std::fs::metadata(dir) else { return Modes::PRIVATE };
        let mode = metadata.permissions().mode() & 0o777;
        if mode & 0o007 != 0 {
            let shown = dir.display();
            match std::fs::set_permissions(dir, std::fs::Permissions::from_mode(Modes::PRIVATE.dir)) {
                Ok(()) => tracing::warn!(
                    "export directory `{shown}` was mode {mode:04o}, open to other users (its server snapshots \
                     hold every flag and segment); it is now 0700. To let a web server or uploader read it, give \
                     the directory that program's group and mode 0750"
                ),
                Err(e) => tracing::warn!(
                    "export directory `{shown}` is mode {mode:04o}, open to other users, and cannot be made 0700: {e}"
                ),
            }
            return Modes::PRIVATE;
        }
        if mode & 0o050 == 0o050 {
            Modes::GROUP
        } else {
            Modes::PRIVATE
        }
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
