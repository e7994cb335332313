//! Where evaluation telemetry is kept, apart from what flag writes lock.
//!
//! Reports arrive far more often than flag changes, and from public keys, so they must
//! never queue with the writes that publish snapshots:
//!
//! - **SQLite** has one write lock per file, so telemetry lives in a file of its own,
//!   `pennon-telemetry.db` beside `pennon.db`, with its own pool, writer mutex and
//!   migrations (`migrations/sqlite-telemetry`). It runs with `synchronous=NORMAL`: a
//!   power cut may lose the last reports, never the file.
//! - **PostgreSQL** keeps the tables in the main database (migration 0006) but writes
//!   them through a small pool of their own, so reports cannot take the connections
//!   flag writes need, and serializes the reports of one environment with an advisory
//!   lock, never the environment rows that flag writes lock.
//!
//! Writes are in `write.rs`, reads in `read.rs`; both are [`Tx`] methods, written once
//! for both backends as the rest of the store is.

mod forget;
mod read;
mod write;

use std::str::FromStr as _;
use std::sync::Arc;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{PgPool, SqlitePool};
use tokio::sync::Mutex;

pub(crate) use read::{ExposureFilter, ExposureRow};
pub(crate) use write::{Batch, Bounds, Cutoffs, NewExposure, Outcome, MAX_TALLY};

use super::tx::{Inner, Tx};

/// The advisory lock class of telemetry writes (`pg_advisory_xact_lock(class, hash of
/// the environment)`): "tlmy" in ASCII, apart from any lock of sqlx's migrator.
const LOCK_CLASS: i32 = 0x746c_6d79;

/// Where telemetry is stored.
pub(crate) struct TelemetryStore {
    backend: Backend,
}

enum Backend {
    Sqlite { pool: SqlitePool, writer: Arc<Mutex<()>> },
    Postgres(PgPool),
}

impl TelemetryStore {
    /// Opens the telemetry store that goes with the main database at `main_url` (already
    /// migrated): a file beside an SQLite database, or the same PostgreSQL database.
    pub(crate) async fn open(main_url: &str) -> Result<TelemetryStore, String> {
        if main_url.starts_with("postgres://") || main_url.starts_with("postgresql://") {
            let options = PgConnectOptions::from_str(main_url)
                .map_err(|e| format!("telemetry on PostgreSQL: {e}"))?
                .application_name("pennon-telemetry");
            // Four connections: reports of one environment take turns anyway (the
            // advisory lock), and the main pool's sixteen stay for flag writes.
            let pool = PgPoolOptions::new()
                .max_connections(4)
                .acquire_timeout(Duration::from_secs(10))
                .connect_with(options)
                .await
                .map_err(|e| format!("telemetry on PostgreSQL at {}: {e}", super::redact(main_url)))?;
            return Ok(TelemetryStore { backend: Backend::Postgres(pool) });
        }
        let url = sqlite_url(main_url);
        let options = SqliteConnectOptions::from_str(&url)
            .map_err(|e| format!("telemetry database {url}: {e}"))?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(30));
        crate::store::sqlite::create_private(&url, &options).map_err(|e| format!("telemetry database {url}: {e}"))?;
        // One connection for an in-memory database: each connection would have its own.
        let connections = if url.contains(":memory:") { 1 } else { 4 };
        let pool = SqlitePoolOptions::new()
            .max_connections(connections)
            .connect_with(options)
            .await
            .map_err(|e| format!("telemetry database {url}: {e}"))?;
        let mut migrator = sqlx::migrate!("./migrations/sqlite-telemetry");
        migrator.set_ignore_missing(true);
        migrator.run(&pool).await.map_err(|e| format!("telemetry database {url}: {e}"))?;
        Ok(TelemetryStore { backend: Backend::Sqlite { pool, writer: Arc::new(Mutex::new(())) } })
    }

    /// A write transaction for reports of `env`: they take turns with each other, never
    /// with flag writes.
    pub(crate) async fn write(&self, env: &str) -> Result<Tx, sqlx::Error> {
        match &self.backend {
            Backend::Sqlite { pool, writer } => sqlite_write(pool, writer).await,
            Backend::Postgres(pool) => {
                let mut tx = pool.begin().await?;
                // As the main store's writes: give up on a lock after 10 s (503 `busy`, and
                // the SDK sends the counts again), and let PostgreSQL end a transaction an
                // instance left idle.
                sqlx::query(
                    "SELECT set_config('lock_timeout', '10s', true), \
                     set_config('idle_in_transaction_session_timeout', '30s', true)",
                )
                .execute(&mut *tx)
                .await?;
                sqlx::query("SELECT pg_advisory_xact_lock($1, hashtext($2))")
                    .bind(LOCK_CLASS)
                    .bind(env)
                    .execute(&mut *tx)
                    .await?;
                Ok(Tx { inner: Inner::Postgres(tx), _writer: None })
            }
        }
    }

    /// A transaction for reading.
    pub(crate) async fn read(&self) -> Result<Tx, sqlx::Error> {
        Ok(match &self.backend {
            Backend::Sqlite { pool, .. } => Tx { inner: Inner::Sqlite(pool.begin().await?), _writer: None },
            Backend::Postgres(pool) => Tx { inner: Inner::Postgres(pool.begin().await?), _writer: None },
        })
    }

    /// A write transaction for pruning every environment at once (the periodic sweep).
    pub(crate) async fn sweeper(&self) -> Result<Tx, sqlx::Error> {
        match &self.backend {
            Backend::Sqlite { pool, writer } => sqlite_write(pool, writer).await,
            Backend::Postgres(pool) => {
                let mut tx = pool.begin().await?;
                sqlx::query("SELECT set_config('lock_timeout', '10s', true)").execute(&mut *tx).await?;
                Ok(Tx { inner: Inner::Postgres(tx), _writer: None })
            }
        }
    }

    /// Closes the pool.
    pub(crate) async fn close(&self) {
        match &self.backend {
            Backend::Sqlite { pool, .. } => pool.close().await,
            Backend::Postgres(pool) => pool.close().await,
        }
    }
}

/// The telemetry file that goes with the SQLite database at `main_url`: `NAME.db` gives
/// `NAME-telemetry.db` (any other name gets `-telemetry` appended), with the same query.
fn sqlite_url(main_url: &str) -> String {
    let (scheme, rest) = match main_url.strip_prefix("sqlite://") {
        Some(rest) => ("sqlite://", rest),
        None => ("sqlite:", main_url.strip_prefix("sqlite:").unwrap_or(main_url)),
    };
    let (path, query) = match rest.split_once('?') {
        Some((path, query)) => (path, format!("?{query}")),
        None => (rest, String::new()),
    };
    if path.is_empty() || path == ":memory:" {
        return "sqlite::memory:".to_owned();
    }
    let file = match path.strip_suffix(".db") {
        Some(stem) => format!("{stem}-telemetry.db"),
        None => format!("{path}-telemetry"),
    };
    format!("{scheme}{file}{query}")
}

/// SQLite's write transaction: reports and sweeps take turns on the writer lock first,
/// so none waits inside SQLite's busy timeout for another.
async fn sqlite_write(pool: &sqlx::SqlitePool, writer: &Arc<Mutex<()>>) -> Result<Tx, sqlx::Error> {
    let guard = Arc::clone(writer).lock_owned().await;
    let tx = pool.begin_with("BEGIN IMMEDIATE").await?;
    Ok(Tx { inner: Inner::Sqlite(tx), _writer: Some(guard) })
}

#[cfg(test)]
mod tests {
    use super::sqlite_url;

    #[test]
    fn the_telemetry_file_sits_beside_the_database() {
        assert_eq!(sqlite_url("sqlite://pennon-data/pennon.db"), "sqlite://pennon-data/pennon-telemetry.db");
        assert_eq!(sqlite_url("sqlite:/var/lib/flags?mode=rwc"), "sqlite:/var/lib/flags-telemetry?mode=rwc");
        assert_eq!(sqlite_url("sqlite::memory:"), "sqlite::memory:");
    }
}
