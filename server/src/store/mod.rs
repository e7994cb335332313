//! Storage: one [`Repository`] trait over a concrete SQLite pool and a concrete
//! PostgreSQL pool, each with its own migrations (`server/migrations/{sqlite,postgres}`).
//!
//! The backends differ in how a write is serialized and in how other instances learn
//! of it, so those live behind the trait: SQLite takes the database write lock with
//! `BEGIN IMMEDIATE`, PostgreSQL locks the environment rows with `SELECT ... FOR
//! UPDATE` and announces commits with `NOTIFY`. The queries themselves are plain SQL
//! that both understand, written once on [`Tx`] (see `tx.rs`).

mod access;
mod audit;
mod changes;
mod envs;
mod flags;
mod postgres;
mod retention;
mod segments;
mod snapshots;
mod sqlite;
pub(crate) mod telemetry;
mod tx;

use std::sync::Arc;

use async_trait::async_trait;

pub(crate) use access::{SdkKeyRow, TokenRow};
pub(crate) use audit::{AuditFilter, AuditRow, NewAudit};
pub(crate) use changes::ChangeRow;
pub(crate) use envs::EnvRow;
pub(crate) use flags::FlagRow;
pub(crate) use retention::{HistoryRow, Savepoint};
pub(crate) use snapshots::SnapshotRow;
pub(crate) use tx::Tx;

/// What a write transaction must hold before it reads anything.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Lock {
    /// Nothing beyond a write transaction: SDK keys, change-request bookkeeping.
    None,
    /// The catalog row alone, publishing nothing: API tokens, whose names must be
    /// unique among live ones (two creations of one name at once must see each other)
    /// and whose scopes name environments (which catalog writes create and delete).
    Tokens,
    /// These environments: their next snapshot versions are decided under this lock.
    Envs(Vec<String>),
    /// The catalog (flags and environments as a whole) and then every environment.
    Catalog,
}

/// A change another instance (or this one) committed, as announced by the database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Notice {
    /// `env` published `version`.
    Published {
        /// The environment.
        env: String,
        /// The new version.
        version: u64,
    },
    /// The SDK key whose stored hash is `key_hash` was revoked: drop its cached grant.
    KeyRevoked {
        /// Its hash as stored (hex SHA-256; a key is not named by its secret).
        key_hash: String,
    },
    /// `env` was deleted, with its SDK keys: drop their grants, and the environment.
    EnvDeleted {
        /// The environment.
        env: String,
    },
    /// Notices may have been lost (a reconnect), or another instance announced what this
    /// one cannot read (an earlier release's `keys`, which named no key): re-read the
    /// state.
    Resync,
}

impl Notice {
    /// The text sent with `NOTIFY`.
    pub(crate) fn encode(&self) -> String {
        match self {
            Notice::Published { env, version } => format!("published {version} {env}"),
            Notice::KeyRevoked { key_hash } => format!("revoked {key_hash}"),
            Notice::EnvDeleted { env } => format!("deleted {env}"),
            Notice::Resync => "resync".to_owned(),
        }
    }

    /// Reads what [`Notice::encode`] wrote; anything else asks for a resync. (Instances
    /// of an earlier release read the notices they do not know as a resync too.)
    pub(crate) fn decode(text: &str) -> Notice {
        let (word, rest) = text.split_once(' ').unwrap_or((text, ""));
        match (word, rest) {
            ("published", rest) => match rest.split_once(' ').map(|(version, env)| (version.parse(), env)) {
                Some((Ok(version), env)) if !env.is_empty() => Notice::Published { env: env.to_owned(), version },
                _ => Notice::Resync,
            },
            ("revoked", key_hash) if !key_hash.is_empty() => Notice::KeyRevoked { key_hash: key_hash.to_owned() },
            ("deleted", env) if !env.is_empty() => Notice::EnvDeleted { env: env.to_owned() },
            _ => Notice::Resync,
        }
    }
}

/// A stream of [`Notice`]s from the database (PostgreSQL `LISTEN`).
#[async_trait]
pub(crate) trait Notifications: Send {
    /// Waits for the next notice.
    async fn next(&mut self) -> Result<Notice, sqlx::Error>;
}

/// A database Pennon keeps its state in.
#[async_trait]
pub(crate) trait Repository: Send + Sync {
    /// `sqlite` or `postgres`, for messages.
    fn backend(&self) -> &'static str;
    /// A transaction for reading.
    async fn read(&self) -> Result<Tx, sqlx::Error>;
    /// A write transaction holding `lock`. Dropping it uncommitted rolls it back.
    async fn write(&self, lock: &Lock) -> Result<Tx, sqlx::Error>;
    /// Notices of commits by every instance, when the database can announce them.
    async fn listen(&self) -> Result<Option<Box<dyn Notifications>>, sqlx::Error>;
    /// Closes the pool.
    async fn close(&self);
}

/// Who opens a database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Opener {
    /// `pennon serve`: on SQLite, the one server of the file, which it claims for as
    /// long as it runs (a second server is refused; see `sqlite.rs`).
    Server,
    /// A command run beside a server (`pennon admin-token`): it claims nothing, and its
    /// writes wait on SQLite's write lock as the server's do.
    Command,
}

/// Opens (creating if needed) and migrates the database at `url`: `sqlite:…` or
/// `postgres://…`.
pub(crate) async fn open(url: &str, opener: Opener) -> Result<Arc<dyn Repository>, String> {
    if is_postgres(url) {
        Ok(Arc::new(postgres::PgStore::open(url).await?))
    } else if url.starts_with("sqlite:") {
        Ok(Arc::new(sqlite::SqliteStore::open(url, opener).await?))
    } else {
        Err(unsupported(url))
    }
}

/// Opens the database at `url` for a command, as [`open`] does, migrations included
/// (claiming nothing: a server may be running on it), but only one that
/// exists and that a first run bootstrapped: a command run beside a server (`pennon
/// admin-token`) must neither create a database no server uses (a mistyped path, a
/// missing data directory) nor lay Pennon's tables into another application's database.
/// Nothing is created or migrated before both are checked.
pub(crate) async fn open_bootstrapped(url: &str) -> Result<Arc<dyn Repository>, String> {
    let found = if is_postgres(url) {
        postgres::PgStore::bootstrapped(url).await.map_err(|e| format!("PostgreSQL at {}: {e}", redact(url)))?
    } else if url.starts_with("sqlite:") {
        sqlite::SqliteStore::bootstrapped(url).await.map_err(|e| format!("SQLite database {url}: {e}"))?
    } else {
        return Err(unsupported(url));
    };
    match found {
        Found::Nothing(place) => Err(format!(
            "there is no database at {place}; nothing was created. Give the --data-dir or --database-url (or \
             PENNON_DATA_DIR, PENNON_DATABASE_URL) that `pennon serve` uses, or run this in the directory it was \
             started in"
        )),
        Found::NoPennon(place) => Err(format!(
            "{place} holds no Pennon data: `pennon serve` has never started on it; nothing was changed. Check \
             that it is the database `pennon serve` uses (its first start there creates an admin token and \
             prints it)"
        )),
        Found::Bootstrapped => open(url, Opener::Command).await,
    }
}

/// What a database URL leads to, checked without changing anything.
pub(crate) enum Found {
    /// No database there (the place, for messages).
    Nothing(String),
    /// A database without Pennon's tables, or one that a first run did not bootstrap.
    NoPennon(String),
    /// A database a first run bootstrapped.
    Bootstrapped,
}

/// Whether `url` names a PostgreSQL database.
pub(crate) fn is_postgres(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

fn unsupported(url: &str) -> String {
    format!("unsupported database URL `{}`: use sqlite:PATH or postgres://...", redact(url))
}

/// A database URL without its password, for messages.
pub(crate) fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let userinfo = &url[scheme + 3..at];
            let user = userinfo.split(':').next().unwrap_or_default();
            format!("{}{user}:***{}", &url[..scheme + 3], &url[at..])
        }
        _ => url.to_owned(),
    }
}

/// Converts a stored integer that is never negative.
pub(crate) fn to_u64(value: i64) -> u64 {
    u64::try_from(value).unwrap_or(0)
}

/// Converts a count or version for storage.
pub(crate) fn to_i64(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::Notice;

    #[test]
    fn notices_read_back_and_anything_else_is_a_resync() {
        for notice in [
            Notice::Published { env: "staging".into(), version: 42 },
            Notice::KeyRevoked { key_hash: crate::clock::hash_secret("pns_x") },
            Notice::EnvDeleted { env: "qa".into() },
            Notice::Resync,
        ] {
            assert_eq!(Notice::decode(&notice.encode()), notice);
        }
        // `keys` is what an earlier release sent for any revocation, naming no key.
        for other in ["keys", "", "published", "published x staging", "published 3", "revoked", "deleted "] {
            assert_eq!(Notice::decode(other), Notice::Resync, "{other:?}");
        }
    }
}
