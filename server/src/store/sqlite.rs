//! The embedded backend: one SQLite file in WAL mode.
//!
//! Writes are serialized twice: an in-process mutex queues them without polling, and
//! `BEGIN IMMEDIATE` takes SQLite's write lock before the first read, so a
//! read-modify-write can never be overtaken (a second process on the same file, say a
//! restarted server racing the old one, waits on SQLite's busy timeout instead).

use std::str::FromStr as _;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Connection as _, SqliteConnection, SqlitePool};
use tokio::sync::Mutex;

use super::tx::{Inner, Tx};
use super::{Found, Lock, Notifications, Repository};

/// The SQLite repository.
pub(crate) struct SqliteStore {
    pool: SqlitePool,
    writer: Arc<Mutex<()>>,
}

impl SqliteStore {
    /// Opens `url` (creating the file) and applies `migrations/sqlite`.
    pub(crate) async fn open(url: &str) -> Result<SqliteStore, sqlx::Error> {
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // FULL: a commit is on disk before the client hears of it, even across a
            // power cut, not just a killed process.
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(30));
        create_private(url, &options)?;
        let pool = SqlitePoolOptions::new().max_connections(8).connect_with(options).await?;
        let mut migrator = sqlx::migrate!("./migrations/sqlite");
        // Migrations only add: an instance of the previous release (a rolling upgrade,
        // a rollback of the deployment) runs against a schema a newer one migrated.
        migrator.set_ignore_missing(true);
        migrator.run(&pool).await?;
        Ok(SqliteStore { pool, writer: Arc::new(Mutex::new(())) })
    }
}

impl SqliteStore {
    /// What is at `url`, read without creating or converting anything: the options
    /// create no file, and set no journal mode (asking for WAL converts the file opened).
    /// A server's write lock is waited out as its writes wait, on the busy timeout.
    pub(crate) async fn bootstrapped(url: &str) -> Result<Found, sqlx::Error> {
        let options =
            SqliteConnectOptions::from_str(url)?.create_if_missing(false).busy_timeout(Duration::from_secs(30));
        let path = options.get_filename();
        if !path.is_file() {
            let missing_dir = path.parent().filter(|dir| !dir.as_os_str().is_empty() && !dir.is_dir());
            let why = missing_dir.map(|dir| format!(" (no directory `{}`)", dir.display())).unwrap_or_default();
            return Ok(Found::Nothing(format!("`{}`{why}", path.display())));
        }
        let mut connection = SqliteConnection::connect_with(&options).await?;
        let tables = "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'meta'";
        let has_meta = sqlx::query_scalar::<_, i64>(tables).fetch_one(&mut connection).await? > 0;
        let bootstrapped = has_meta
            && sqlx::query_scalar::<_, String>("SELECT value FROM meta WHERE key = 'bootstrapped'")
                .fetch_optional(&mut connection)
                .await?
                .is_some();
        connection.close().await?;
        Ok(if bootstrapped { Found::Bootstrapped } else { Found::NoPennon(format!("`{}`", path.display())) })
    }
}

/// Creates the database file of `options` if it is missing, readable and writable by its
/// owner alone: it holds token and key hashes, and SQLite would create it 0644 (less the
/// umask), which matters for a `--database-url sqlite:PATH` outside the 0700 data
/// directory. SQLite gives the `-wal` and `-shm` files the mode of the database file. An
/// empty file is an empty database; an existing one is left as it is.
pub(crate) fn create_private(url: &str, options: &SqliteConnectOptions) -> Result<(), sqlx::Error> {
    use std::os::unix::fs::OpenOptionsExt as _;
    if url.contains(":memory:") || url.contains("mode=memory") || url.contains("mode=ro") {
        return Ok(());
    }
    let created = std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(options.get_filename());
    match created {
        Ok(_) => Ok(()),
        // SQLite says what is wrong with a missing directory, in its own words.
        Err(e) if matches!(e.kind(), std::io::ErrorKind::AlreadyExists | std::io::ErrorKind::NotFound) => Ok(()),
        Err(e) => Err(sqlx::Error::Io(e)),
    }
}

#[async_trait]
impl Repository for SqliteStore {
    fn backend(&self) -> &'static str {
        "sqlite"
    }

    async fn read(&self) -> Result<Tx, sqlx::Error> {
        Ok(Tx { inner: Inner::Sqlite(self.pool.begin().await?), _writer: None })
    }

    async fn write(&self, _lock: &Lock) -> Result<Tx, sqlx::Error> {
        // The database lock covers every environment and the catalog at once.
        let guard = Arc::clone(&self.writer).lock_owned().await;
        let tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        Ok(Tx { inner: Inner::Sqlite(tx), _writer: Some(guard) })
    }

    async fn listen(&self) -> Result<Option<Box<dyn Notifications>>, sqlx::Error> {
        // One process owns an SQLite file: it learns of its own commits directly.
        Ok(None)
    }

    async fn close(&self) {
        self.pool.close().await;
    }
}
