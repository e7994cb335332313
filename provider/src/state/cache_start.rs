//! The last-known-good cache read at start: the fallback served when no source answers,
//! and the rollback floor for what they offer.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use pennon_core::{Loaded, Snapshot};
use tracing::{debug, error, info, warn};

use super::{lock, Shared};
use crate::cache::{read_capped, Cache};

/// What a cache file holds, once verified.
enum Found {
    /// A snapshot that may be served.
    Current(Snapshot),
    /// Verified but past its expiry: not served, but its version is still a floor.
    Expired { version: u64, problem: String },
    /// Nothing usable, and why (for the initialization error).
    Unusable(String),
}

impl Shared {
    /// Reads and verifies the cache at the start of run `epoch`. Its snapshot becomes
    /// the fallback and its version the rollback floor, unless the provider shut down
    /// meanwhile. Blocking.
    pub(crate) fn load_cache(&self, epoch: u64) {
        let Some(cache) = &self.cache else { return };
        let _load = lock(&self.load);
        {
            let mut sync = lock(&self.sync);
            if sync.cache_read || self.epoch() != epoch {
                return;
            }
            sync.cache_read = true;
        }
        let found = match self.read_verified(cache.path()) {
            Some(found) => found,
            None => self.read_earlier(cache),
        };
        let mut sync = lock(&self.sync);
        if self.epoch() != epoch {
            return;
        }
        match found {
            Found::Current(snapshot) => {
                sync.floor = Some(snapshot.held());
                sync.fallback = Some(Arc::new(snapshot));
            }
            Found::Expired { version, problem } => {
                sync.min_version = version;
                sync.cache_problem = Some(problem);
            }
            Found::Unusable(problem) => sync.cache_problem = Some(problem),
        }
    }

    /// Reads and verifies one cache file, logging what it found. `None` when there is no
    /// such file.
    fn read_verified(&self, path: &Path) -> Option<Found> {
        let shown = path.display();
        let bytes = match read_capped(path, self.config.max_bytes) {
            Ok(None) => return None,
            Ok(Some(bytes)) => bytes,
            Err(e) => {
                warn!(source = %shown, reason = %e, "cannot read last-known-good cache {shown}: {e}; ignoring it");
                return Some(Found::Unusable(format!("cannot read last-known-good cache {shown}: {e}")));
            }
        };
        Some(match self.config.policy.load(&bytes, None, self.config.now()) {
            Ok(Loaded::Updated(snapshot)) => {
                let version = snapshot.version();
                info!(source = %shown, version, "last-known-good cache {shown} holds verified version {version}");
                Found::Current(snapshot)
            }
            Ok(Loaded::Unchanged) => Found::Unusable(format!("last-known-good cache {shown} held nothing new")),
            Err(e) if e.kind() == "expired" => {
                warn!(source = %shown, reason = %e, "last-known-good cache {shown} has expired: {e}; not served");
                let problem = format!("last-known-good cache {shown} refused: {e}");
                match self.config.policy.held_of(&bytes) {
                    Ok(held) => Found::Expired { version: held.version, problem },
                    Err(_) => Found::Unusable(problem),
                }
            }
            Err(e) => {
                error!(source = %shown, reason = %e, kind = e.kind(),
                    "ignoring corrupt or tampered last-known-good cache {shown}: {e}; it will not be served, \
                     and the next verified snapshot replaces it");
                Found::Unusable(format!("last-known-good cache {shown} refused: {e}"))
            }
        })
    }

    /// This policy's file does not exist yet: the newest verified file written for the
    /// environment under earlier trusted keys (or before files were named by policy), so
    /// a start during a key rotation, with every source down, still has a snapshot.
    /// Files of other control planes or audiences do not verify and are passed over.
    fn read_earlier(&self, cache: &Cache) -> Found {
        let none_yet = || Found::Unusable(format!("no last-known-good cache at {} yet", cache.path().display()));
        let paths = match cache.earlier() {
            Ok(paths) => paths,
            Err(e) => {
                debug!(reason = %e, "cannot list the cache directory for earlier files: {e}");
                return none_yet();
            }
        };
        let mut newest: Option<(PathBuf, Snapshot)> = None;
        let mut expired: Option<(u64, String)> = None;
        for path in paths {
            let bytes = match read_capped(&path, self.config.max_bytes) {
                Ok(Some(bytes)) => bytes,
                Ok(None) => continue,
                Err(e) => {
                    debug!(source = %path.display(), reason = %e, "cannot read {}: {e}", path.display());
                    continue;
                }
            };
            match self.config.policy.load(&bytes, None, self.config.now()) {
                Ok(Loaded::Updated(snapshot)) => {
                    if newest.as_ref().is_none_or(|(_, held)| snapshot.version() > held.version()) {
                        newest = Some((path, snapshot));
                    }
                }
                Err(e) if e.kind() == "expired" => {
                    if let Ok(held) = self.config.policy.held_of(&bytes) {
                        if expired.as_ref().is_none_or(|(version, _)| held.version > *version) {
                            expired =
                                Some((held.version, format!("last-known-good cache {} refused: {e}", path.display())));
                        }
                    }
                }
                Ok(Loaded::Unchanged) => {}
                Err(e) => debug!(source = %path.display(), reason = %e,
                    "{} is not this provider's to read: {e}", path.display()),
            }
        }
        match (newest, expired) {
            (Some((path, snapshot)), _) => {
                let (shown, version) = (path.display(), snapshot.version());
                info!(source = %shown, version,
                    "no last-known-good cache at {} yet; {shown}, written under earlier trusted keys, holds verified \
                     version {version}", cache.path().display());
                Found::Current(snapshot)
            }
            (None, Some((version, problem))) => Found::Expired { version, problem },
            (None, None) => none_yet(),
        }
    }
}
