//! The last-known-good cache: the envelope bytes of the newest verified snapshot.
//!
//! Written atomically (temp file, fsync, rename, fsync of the directory), so a crash
//! leaves either the old file or the new one, never half of one. Whatever is on disk is
//! verified again before it is served: the cache is a convenience, not a trust root.

use std::fs::{self, File, OpenOptions, TryLockError};
use std::io::{self, Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::thread;
use std::time::{Duration, Instant};

/// How long a write waits for another writer's lock before giving up this write.
const LOCK_WAIT: Duration = Duration::from_secs(2);
/// How often it tries the lock meanwhile.
const LOCK_RETRY: Duration = Duration::from_millis(20);

/// One environment's cache file.
pub(crate) struct Cache {
    dir: PathBuf,
    path: PathBuf,
    /// The newest version written by this process; older ones are never written over it.
    written: Mutex<u64>,
}

impl Cache {
    pub(crate) fn new(dir: PathBuf, environment: &str) -> Cache {
        let path = dir.join(file_name(environment));
        Cache { dir, path, written: Mutex::new(0) }
    }

    /// Where the envelope is kept.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// Reads the cached envelope; `Ok(None)` when there is none yet.
    pub(crate) fn read(&self, max_bytes: usize) -> io::Result<Option<Vec<u8>>> {
        let file = match File::open(&self.path) {
            Ok(file) => file,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e),
        };
        let mut bytes = Vec::new();
        // One byte over the cap is enough for the trust policy to refuse it as too large.
        let limit = u64::try_from(max_bytes).unwrap_or(u64::MAX).saturating_add(1);
        file.take(limit).read_to_end(&mut bytes)?;
        Ok(Some(bytes))
    }

    /// Writes `envelope` (verified, version `version`) unless a newer one was written.
    /// Returns whether it wrote.
    ///
    /// Other providers, in this process or another, may share the directory: writers
    /// take turns on a lock file, and none replaces a file that `version_of` (which
    /// verifies) finds newer. An older cache would lower the rollback floor the next
    /// start reads from it.
    pub(crate) fn store(
        &self,
        version: u64,
        envelope: &[u8],
        max_bytes: usize,
        version_of: impl Fn(&[u8]) -> Option<u64>,
    ) -> io::Result<bool> {
        let mut written = self.written.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if version <= *written {
            return Ok(false);
        }
        fs::create_dir_all(&self.dir)?;
        let turn = self.take_turn()?;
        if let Some(on_disk) = self.read(max_bytes)?.as_deref().and_then(version_of) {
            if on_disk >= version {
                *written = on_disk;
                return Ok(false);
            }
        }
        let temp = self.dir.join(temp_name(&self.path));
        let result = write_synced(&temp, envelope).and_then(|()| fs::rename(&temp, &self.path));
        if let Err(e) = result {
            let _ = fs::remove_file(&temp);
            return Err(e);
        }
        sync_dir(&self.dir)?;
        *written = version;
        drop(turn);
        Ok(true)
    }

    /// An exclusive lock on `.<file>.lock` next to the cache file, held until dropped;
    /// `None` where the file system cannot lock (none, or NFS without a lock manager):
    /// the version check still stands, and a cache is better written unlocked than never.
    /// Waits at most [`LOCK_WAIT`]: a peer stopped while holding it (a paused process, a
    /// hung lock manager) must not stop this provider's syncing, which waits for the write.
    fn take_turn(&self) -> io::Result<Option<File>> {
        let name = self.path.file_name().map(|name| name.to_string_lossy().into_owned()).unwrap_or_default();
        let path = self.dir.join(format!(".{name}.lock"));
        let file = OpenOptions::new().create(true).truncate(false).write(true).open(&path)?;
        let deadline = Instant::now() + LOCK_WAIT;
        loop {
            match file.try_lock() {
                Ok(()) => return Ok(Some(file)),
                Err(TryLockError::Error(_)) => return Ok(None),
                Err(TryLockError::WouldBlock) if Instant::now() < deadline => thread::sleep(LOCK_RETRY),
                Err(TryLockError::WouldBlock) => {
                    return Err(io::Error::new(
                        io::ErrorKind::TimedOut,
                        format!(
                            "another process has held {} for {} s (a provider sharing the directory, stopped?)",
                            path.display(),
                            LOCK_WAIT.as_secs()
                        ),
                    ))
                }
            }
        }
    }
}

fn write_synced(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut file = OpenOptions::new().write(true).create_new(true).open(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

/// Makes the rename durable. Directories cannot be opened for syncing on every
/// platform; where they cannot, the rename is still atomic.
fn sync_dir(dir: &Path) -> io::Result<()> {
    if cfg!(unix) {
        File::open(dir)?.sync_all()
    } else {
        Ok(())
    }
}

/// A name unique to this process and write: a crashed writer leaves a stray temp file,
/// never a torn cache file.
fn temp_name(path: &Path) -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let name = path.file_name().map(|name| name.to_string_lossy().into_owned()).unwrap_or_default();
    format!(".{name}.{}.{}.tmp", std::process::id(), COUNTER.fetch_add(1, Ordering::Relaxed))
}

/// `pennon-<environment>.envelope.json`, or `pennon-hex.<hex>.envelope.json` when the
/// environment holds anything but ASCII letters, digits, `-` and `_`: any environment
/// name gives a safe file name, and the two forms cannot collide (the first has no `.`).
fn file_name(environment: &str) -> String {
    let plain = environment.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if plain {
        format!("pennon-{environment}.envelope.json")
    } else {
        let hex: String = environment.bytes().map(|b| format!("{b:02x}")).collect();
        format!("pennon-hex.{hex}.envelope.json")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn environment_names_become_safe_file_names() {
        assert_eq!(file_name("prod-eu_1"), "pennon-prod-eu_1.envelope.json");
        assert_eq!(file_name("../etc"), "pennon-hex.2e2e2f657463.envelope.json");
    }

    /// A stand-in for verification: the envelope is its version in decimal.
    fn digits(bytes: &[u8]) -> Option<u64> {
        std::str::from_utf8(bytes).ok()?.parse().ok()
    }

    #[test]
    fn an_older_version_never_overwrites_a_newer_one() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::new(dir.path().join("nested"), "prod");
        assert!(cache.store(2, b"2", 100, digits).unwrap());
        assert!(!cache.store(1, b"1", 100, digits).unwrap());
        assert_eq!(cache.read(100).unwrap().unwrap(), b"2");
        let temps = fs::read_dir(dir.path().join("nested"))
            .unwrap()
            .filter(|e| e.as_ref().unwrap().file_name().to_string_lossy().ends_with(".tmp"));
        assert_eq!(temps.count(), 0, "no temp file is left behind");
    }

    /// Two providers sharing one directory: the one that saw an older version last does
    /// not write it over the other's newer one, whatever is left in the file.
    #[test]
    fn a_provider_sharing_the_directory_keeps_the_newer_version() {
        let dir = tempfile::tempdir().unwrap();
        let (first, second) = (Cache::new(dir.path().to_owned(), "prod"), Cache::new(dir.path().to_owned(), "prod"));
        assert!(first.store(5, b"5", 100, digits).unwrap());
        assert!(!second.store(4, b"4", 100, digits).unwrap());
        assert_eq!(second.read(100).unwrap().unwrap(), b"5");
        assert!(second.store(6, b"6", 100, digits).unwrap());
        assert!(!first.store(6, b"6", 100, digits).unwrap(), "the same version is not written twice");
        // A file that does not verify is replaced by any verified version.
        fs::write(first.path(), b"tampered").unwrap();
        assert!(second.store(7, b"7", 100, digits).unwrap());
        assert_eq!(first.read(100).unwrap().unwrap(), b"7");
    }

    /// A peer that holds the lock and never lets go costs one write, not every later one.
    #[test]
    fn a_stuck_peer_holding_the_lock_fails_the_write_instead_of_blocking_it() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::new(dir.path().to_owned(), "prod");
        let peer = File::create(dir.path().join(".pennon-prod.envelope.json.lock")).unwrap();
        peer.lock().unwrap();
        let refused = cache.store(1, b"1", 100, digits).unwrap_err();
        assert_eq!(refused.kind(), io::ErrorKind::TimedOut);
        assert!(refused.to_string().contains("has held"), "{refused}");
        assert_eq!(cache.read(100).unwrap(), None);
        peer.unlock().unwrap();
        assert!(cache.store(2, b"2", 100, digits).unwrap());
    }
}
