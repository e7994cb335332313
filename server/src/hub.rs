//! The in-memory side of publishing: the latest snapshots of every environment, ready
//! to serve without touching the database, and a watch channel per environment that
//! wakes its stream clients.
//!
//! Versions only move forward here: a publish learnt twice (directly and through
//! PostgreSQL `NOTIFY`), or out of order, changes nothing the second time.

use std::collections::HashMap;
use std::sync::{Arc, PoisonError, RwLock};

use tokio::sync::watch;

use crate::model::SdkKind;
use crate::snapshot::{Published, Served};

/// One environment's feed.
pub(crate) struct Feed {
    current: RwLock<Option<Published>>,
    version: watch::Sender<u64>,
}

impl Feed {
    /// The latest snapshot of `kind`.
    pub(crate) fn latest(&self, kind: SdkKind) -> Option<Arc<Served>> {
        let current = self.current.read().unwrap_or_else(PoisonError::into_inner);
        current.as_ref().map(|p| Arc::clone(if kind == SdkKind::Server { &p.server } else { &p.client }))
    }

    /// The latest version (0 before the first).
    pub(crate) fn version(&self) -> u64 {
        *self.version.borrow()
    }

    /// A receiver woken at every new version.
    pub(crate) fn subscribe(&self) -> watch::Receiver<u64> {
        self.version.subscribe()
    }
}

/// Every environment's feed.
#[derive(Default)]
pub(crate) struct Hub {
    feeds: RwLock<HashMap<String, Arc<Feed>>>,
}

impl Hub {
    /// The feed of `env`, if it has published anything.
    pub(crate) fn feed(&self, env: &str) -> Option<Arc<Feed>> {
        self.feeds.read().unwrap_or_else(PoisonError::into_inner).get(env).cloned()
    }

    /// Makes `published` current if it is newer than what is held, and wakes the
    /// environment's streams. Returns whether it was newer.
    pub(crate) fn offer(&self, published: Published) -> bool {
        let feed = {
            let mut feeds = self.feeds.write().unwrap_or_else(PoisonError::into_inner);
            let feed = feeds
                .entry(published.env.clone())
                .or_insert_with(|| Arc::new(Feed { current: RwLock::new(None), version: watch::Sender::new(0) }));
            Arc::clone(feed)
        };
        let version = published.version;
        {
            let mut current = feed.current.write().unwrap_or_else(PoisonError::into_inner);
            if current.as_ref().is_some_and(|c| c.version >= version) {
                return false;
            }
            *current = Some(published);
        }
        feed.version.send_if_modified(|held| {
            let newer = version > *held;
            if newer {
                *held = version;
            }
            newer
        });
        true
    }

    /// Forgets an environment; its streams end.
    pub(crate) fn remove(&self, env: &str) {
        self.feeds.write().unwrap_or_else(PoisonError::into_inner).remove(env);
    }

    /// The environments held and their versions.
    pub(crate) fn versions(&self) -> Vec<(String, u64)> {
        let feeds = self.feeds.read().unwrap_or_else(PoisonError::into_inner);
        feeds.iter().map(|(env, feed)| (env.clone(), feed.version())).collect()
    }
}
