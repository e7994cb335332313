//! The embedded backend: one SQLite file in WAL mode.
//!
//! Writes are serialized twice: an in-process mutex queues them without polling, and
//! `BEGIN IMMEDIATE` takes SQLite's write lock before the first read, so a
//! read-modify-write can never be overtaken (a command writing beside the server,
//! `pennon admin-token`, waits on SQLite's busy timeout instead).
//!
//! One server serves a file: it learns of its own commits alone, so a second one would
//! serve only its own writes, and the two would drift apart. The server holds an
//! advisory lock on `NAME.db.lock` beside the file while it runs ([`Claim`]), and a
//! second is refused at start.

use std::str::FromStr as _;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Connection as _, SqliteConnection, SqlitePool};
use tokio::sync::Mutex;

use super::tx::{Inner, Tx};
use super::{Found, Lock, Notifications, Opener, Repository};

/// The SQLite repository.
pub(crate) struct SqliteStore {
    pool: SqlitePool,
    writer: Arc<Mutex<()>>,
    /// A server's hold on the file, let go when the pool is closed.
    claim: std::sync::Mutex<Option<Claim>>,
}

impl SqliteStore {
    /// Opens `url` (creating the file) and applies `migrations/sqlite`; for a server,
    /// first claims the file ([`Claim`]).
    pub(crate) async fn open(url: &str, opener: Opener) -> Result<SqliteStore, String> {
        let message = |e: sqlx::Error| format!("SQLite database {url}: {e}");
        let options = SqliteConnectOptions::from_str(url).map_err(message)?;
        create_private(url, &options).map_err(message)?;
        let claim = match opener {
            Opener::Server if on_disk(url) => Some(Claim::take(options.get_filename())?),
            _ => None,
        };
        let pool = Self::connect(options).await.map_err(message)?;
        Ok(SqliteStore { pool, writer: Arc::new(Mutex::new(())), claim: std::sync::Mutex::new(claim) })
    }

    /// Opens a pool on the file and migrates it.
    async fn connect(options: SqliteConnectOptions) -> Result<SqlitePool, sqlx::Error> {
        let options = options
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // FULL: a commit is on disk before the client hears of it, even across a
            // power cut, not just a killed process.
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(30));
        let pool = SqlitePoolOptions::new().max_connections(8).connect_with(options).await?;
        let mut migrator = sqlx::migrate!("./migrations/sqlite");
        // Migrations only add: an instance of the previous release (a rolling upgrade,
        // a rollback of the deployment) runs against a schema a newer one migrated.
        migrator.set_ignore_missing(true);
        migrator.run(&pool).await?;
        Ok(pool)
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
    if !on_disk(url) {
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

/// Whether `url` names a file this process may create and write (not an in-memory or
/// read-only database).
fn on_disk(url: &str) -> bool {
    !(url.contains(":memory:") || url.contains("mode=memory") || url.contains("mode=ro"))
}

/// A server's exclusive advisory lock (`flock`) on `NAME.db.lock` beside its database
/// file, held until the store closes; the operating system lets go of it when the
/// process ends, however it ends, so a crash leaves nothing to clean up. The file holds
/// the process id of its holder, for the message that refuses a second server. The file
/// itself stays: removing it could let two servers lock two different files.
struct Claim {
    _file: std::fs::File,
}

impl Claim {
    /// Claims the database file `database`, or says which process holds it.
    fn take(database: &std::path::Path) -> Result<Claim, String> {
        use std::io::{Read as _, Seek as _, Write as _};
        use std::os::unix::fs::OpenOptionsExt as _;
        // One lock file for every name of the database (relative or absolute, through a
        // symbolic link to the file or to its directory); it exists, as `open` made it.
        let database = std::fs::canonicalize(database).unwrap_or_else(|_| database.to_path_buf());
        let mut path = database.clone().into_os_string();
        path.push(".lock");
        let path = std::path::PathBuf::from(path);
        let cannot = |e: std::io::Error| {
            format!("cannot lock SQLite database `{}` for this server: `{}`: {e}", database.display(), path.display())
        };
        let mut file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            // Not emptied before it is locked: it names the process holding it.
            .truncate(false)
            .mode(0o600)
            .open(&path)
            .map_err(cannot)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                let mut holder = String::new();
                let _ = file.read_to_string(&mut holder); // only for the message
                let holder = match holder.trim() {
                    pid if !pid.is_empty() && pid.bytes().all(|b| b.is_ascii_digit()) => format!("process {pid}"),
                    _ => "another process".to_owned(),
                };
                return Err(format!(
                    "SQLite database `{}` is already served by another `pennon serve` ({holder} holds its lock, \
                     `{}`): SQLite is for one instance, as each would serve only its own writes. Stop the other \
                     one first, or give this one a database of its own (--data-dir, --database-url); to run \
                     several instances, use PostgreSQL (--database-url postgres://...; see docs/OPERATIONS.md, Scale-out on PostgreSQL)",
                    database.display(),
                    path.display()
                ));
            }
            Err(std::fs::TryLockError::Error(e)) => return Err(cannot(e)),
        }
        let written = file
            .set_len(0)
            .and_then(|()| file.rewind())
            .and_then(|()| file.write_all(format!("{}\n", std::process::id()).as_bytes()));
        if let Err(e) = written {
            tracing::warn!("cannot write this process's id into `{}`: {e}", path.display());
        }
        Ok(Claim { _file: file })
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
        // Another server may start on the file now (a restart in this process, in tests).
        drop(self.claim.lock().unwrap_or_else(std::sync::PoisonError::into_inner).take());
    }
}
