//! The last-known-good cache: the envelope bytes of the newest verified snapshot.
//!
//! One file per environment and trust policy (keys, threshold, audience): providers of
//! two control planes, or of both audiences, may share a directory without replacing
//! each other's file. When the trusted keys change, the new name starts empty, so a
//! start reads the files of earlier policies for the environment too ([`Cache::earlier`]).
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

use pennon_core::{Audience, PublicKey};
use sha2::{Digest as _, Sha256};

/// How long a write waits for another writer's lock before giving up this write.
const LOCK_WAIT: Duration = Duration::from_secs(2);
/// How often it tries the lock meanwhile.
const LOCK_RETRY: Duration = Duration::from_millis(20);

/// One environment's cache file, for one trust policy.
pub(crate) struct Cache {
    dir: PathBuf,
    path: PathBuf,
    /// The environment's part of file names, shared by every policy's file.
    environment_part: String,
    /// The newest version written by this process; older ones are never written over it.
    written: Mutex<u64>,
}

impl Cache {
    /// `policy_tag` comes from [`policy_tag`].
    pub(crate) fn new(dir: PathBuf, environment: &str, policy_tag: &str) -> Cache {
        let environment_part = environment_part(environment);
        let path = dir.join(format!("{environment_part}.{policy_tag}{SUFFIX}"));
        Cache { dir, path, environment_part, written: Mutex::new(0) }
    }

    /// Where the envelope is kept.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// Reads the cached envelope; `Ok(None)` when there is none yet.
    pub(crate) fn read(&self, max_bytes: usize) -> io::Result<Option<Vec<u8>>> {
        read_capped(&self.path, max_bytes)
    }

    /// The environment's files written under other trust policies (before the trusted
    /// keys changed), or by a provider that named the file by environment alone. Sorted,
    /// so the choice among equals is the same on every start. They may belong to a
    /// provider still running with those keys, so they are read, never removed.
    pub(crate) fn earlier(&self) -> io::Result<Vec<PathBuf>> {
        let unversioned = format!("{}{SUFFIX}", self.environment_part);
        let tagged = format!("{}.", self.environment_part);
        let mut found = Vec::new();
        let entries = match fs::read_dir(&self.dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(found),
            Err(e) => return Err(e),
        };
        for entry in entries {
            let name = entry?.file_name();
            let Some(name) = name.to_str() else { continue };
            let tag = name.strip_prefix(&tagged).and_then(|rest| rest.strip_suffix(SUFFIX));
            let is_policy_tag =
                tag.is_some_and(|tag| tag.len() == TAG_HEX && tag.bytes().all(|b| b.is_ascii_hexdigit()));
            if (name == unversioned || is_policy_tag) && self.dir.join(name) != self.path {
                found.push(self.dir.join(name));
            }
        }
        found.sort();
        Ok(found)
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

/// Reads at most one byte over `max_bytes`: enough for the trust policy to refuse the
/// file as too large. `Ok(None)` when there is no file.
pub(crate) fn read_capped(path: &Path, max_bytes: usize) -> io::Result<Option<Vec<u8>>> {
    let file = match File::open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    let mut bytes = Vec::new();
    let limit = u64::try_from(max_bytes).unwrap_or(u64::MAX).saturating_add(1);
    file.take(limit).read_to_end(&mut bytes)?;
    Ok(Some(bytes))
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

const SUFFIX: &str = ".envelope.json";
/// Hex digits of a policy tag: 48 bits, so two policies sharing a directory by chance
/// share a name about once in 10^14 pairs (and then only replace each other's file, as
/// before tags).
const TAG_HEX: usize = 12;

/// Names what decides whether a cached envelope verifies, apart from the environment:
/// the trusted keys (in any order), the threshold and the audience.
pub(crate) fn policy_tag(keys: &[PublicKey], threshold: usize, audience: Option<Audience>) -> String {
    let mut ids: Vec<&str> = keys.iter().map(PublicKey::key_id).collect();
    ids.sort_unstable();
    ids.dedup();
    let audience = audience.map_or("any", Audience::as_str);
    let digest = Sha256::digest(format!("pennon cache policy 1\n{audience}\n{threshold}\n{}", ids.join(",")));
    digest.iter().take(TAG_HEX / 2).map(|b| format!("{b:02x}")).collect()
}

/// `pennon-<environment>`, or `pennon-hex.<hex>` when the environment holds anything but
/// ASCII letters, digits, `-` and `_`: any environment name gives a safe file name, and
/// the two forms cannot collide (the first has no `.`).
fn environment_part(environment: &str) -> String {
    let plain = environment.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if plain {
        format!("pennon-{environment}")
    } else {
        let hex: String = environment.bytes().map(|b| format!("{b:02x}")).collect();
        format!("pennon-hex.{hex}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TAG: &str = "0123456789ab";

    #[test]
    fn file_names_are_safe_for_any_environment_and_carry_the_policy() {
        let name = |environment| Cache::new(PathBuf::from("d"), environment, TAG).path().to_owned();
        assert_eq!(name("prod-eu_1"), Path::new("d/pennon-prod-eu_1.0123456789ab.envelope.json"));
        assert_eq!(name("../etc"), Path::new("d/pennon-hex.2e2e2f657463.0123456789ab.envelope.json"));
    }

    #[test]
    fn the_policy_tag_names_keys_threshold_and_audience_not_key_order() {
        let key = |n: u8| pennon_core::SigningKey::from_seed([n; 32]).public_key().clone();
        let tag = |keys: &[PublicKey], threshold, audience| policy_tag(keys, threshold, audience);
        let base = tag(&[key(1), key(2)], 1, Some(Audience::Server));
        assert_eq!(base.len(), TAG_HEX);
        assert_eq!(base, tag(&[key(2), key(1)], 1, Some(Audience::Server)), "order does not matter");
        assert_eq!(base, tag(&[key(2), key(1), key(2)], 1, Some(Audience::Server)), "nor repeats");
        let others = [
            tag(&[key(1)], 1, Some(Audience::Server)),
            tag(&[key(1), key(2)], 2, Some(Audience::Server)),
            tag(&[key(1), key(2)], 1, Some(Audience::Client)),
            tag(&[key(1), key(2)], 1, None),
        ];
        for other in others {
            assert_ne!(base, other);
        }
    }

    #[test]
    fn earlier_files_are_the_environments_other_policies_and_the_untagged_name() {
        let dir = tempfile::tempdir().unwrap();
        let names = [
            "pennon-prod.0123456789ab.envelope.json", // this policy's own
            "pennon-prod.ba9876543210.envelope.json",
            "pennon-prod.envelope.json",
            "pennon-prod-eu.ba9876543210.envelope.json", // another environment
            "pennon-prod.xyz.envelope.json",
            ".pennon-prod.ba9876543210.envelope.json.lock",
            ".pennon-prod.ba9876543210.envelope.json.7.0.tmp",
        ];
        for name in names {
            fs::write(dir.path().join(name), b"").unwrap();
        }
        let earlier = Cache::new(dir.path().to_owned(), "prod", TAG).earlier().unwrap();
        let earlier: Vec<_> = earlier.iter().map(|path| path.file_name().unwrap().to_str().unwrap()).collect();
        assert_eq!(earlier, ["pennon-prod.ba9876543210.envelope.json", "pennon-prod.envelope.json"]);
        let missing = Cache::new(dir.path().join("missing"), "prod", TAG);
        assert!(missing.earlier().unwrap().is_empty());
    }

    /// A stand-in for verification: the envelope is its version in decimal.
    fn digits(bytes: &[u8]) -> Option<u64> {
        std::str::from_utf8(bytes).ok()?.parse().ok()
    }

    #[test]
    fn an_older_version_never_overwrites_a_newer_one() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::new(dir.path().join("nested"), "prod", TAG);
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
        let (first, second) =
            (Cache::new(dir.path().to_owned(), "prod", TAG), Cache::new(dir.path().to_owned(), "prod", TAG));
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
        let cache = Cache::new(dir.path().to_owned(), "prod", TAG);
        let peer = File::create(dir.path().join(".pennon-prod.0123456789ab.envelope.json.lock")).unwrap();
        peer.lock().unwrap();
        let refused = cache.store(1, b"1", 100, digits).unwrap_err();
        assert_eq!(refused.kind(), io::ErrorKind::TimedOut);
        assert!(refused.to_string().contains("has held"), "{refused}");
        assert_eq!(cache.read(100).unwrap(), None);
        peer.unlock().unwrap();
        assert!(cache.store(2, b"2", 100, digits).unwrap());
    }
}
