//! The scale-out backend: PostgreSQL, shared by any number of `pennon serve` processes.
//!
//! Publishing is serialized per environment in the database: a write transaction
//! locks the environment rows it will publish (`SELECT ... FOR UPDATE`, in name order,
//! so two writers never deadlock), and catalog-wide writes first lock the `catalog` row
//! of `meta`. Commits are announced with `NOTIFY pennon`, which PostgreSQL delivers
//! only when the transaction commits; every instance `LISTEN`s and tells its own
//! stream clients.

use std::str::FromStr as _;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::postgres::{PgConnectOptions, PgListener, PgPoolOptions};
use sqlx::{Connection as _, PgConnection, PgPool};

use super::tx::{Inner, Tx};
use super::{Found, Lock, Notice, Notifications, Repository};

/// The PostgreSQL repository.
pub(crate) struct PgStore {
    pool: PgPool,
}

/// How long a start waits for PostgreSQL to accept connections: it may be starting
/// beside Pennon (a compose file, a reboot).
const REACH_PATIENCE: Duration = Duration::from_secs(30);

impl PgStore {
    /// Connects to `url` and applies `migrations/postgres`.
    pub(crate) async fn open(url: &str) -> Result<PgStore, String> {
        let fail = |e: sqlx::Error| format!("PostgreSQL at {}: {e}", super::redact(url));
        let options = PgConnectOptions::from_str(url).map_err(fail)?.application_name("pennon");
        reach(&options, REACH_PATIENCE).await.map_err(|why| format!("PostgreSQL at {}: {why}", super::redact(url)))?;
        Self::migrated(options).await.map_err(fail)
    }

    /// A pool on `options`, migrated.
    async fn migrated(options: PgConnectOptions) -> Result<PgStore, sqlx::Error> {
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(options.clone())
            .await?;
        // Two instances starting together on a fresh database: sqlx's migrator takes
        // an advisory lock, so one migrates and the other waits.
        let mut migrator = sqlx::migrate!("./migrations/postgres");
        // Migrations only add: an instance of the previous release (a rolling upgrade,
        // a rollback of the deployment) runs against a schema a newer one migrated.
        migrator.set_ignore_missing(true);
        // The migrator creates its table with `CREATE TABLE IF NOT EXISTS`, which on
        // every start but the first draws a NOTICE (`relation "_sqlx_migrations"
        // already exists, skipping`) that sqlx logs at INFO, and offers no setting for.
        // It runs on a connection of its own that asks for warnings and errors only
        // (a `SET`, not a startup option, which poolers such as PgBouncer may refuse);
        // the pool's connections keep the server's defaults.
        let mut connection = PgConnection::connect_with(&options).await?;
        sqlx::query("SET client_min_messages = warning").execute(&mut connection).await?;
        migrator.run(&mut connection).await?;
        connection.close().await?;
        Ok(PgStore { pool })
    }
}

/// Connects once to `options`, trying again for up to `patience` while the server
/// refuses connections or does not answer, so that one that cannot be reached is
/// reported with why, where, and what to check (the pool would say only "pool timed
/// out", after as long).
async fn reach(options: &PgConnectOptions, patience: Duration) -> Result<(), String> {
    let place = match options.get_socket() {
        Some(socket) => format!("socket directory `{}`", socket.display()),
        None => format!("{}:{}", options.get_host(), options.get_port()),
    };
    let check = "check that PostgreSQL runs there and accepts connections from this host, and the host and \
                 port of --database-url (or PENNON_DATABASE_URL); nothing was created";
    let deadline = tokio::time::Instant::now() + patience;
    let mut warned = false;
    loop {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        let why = match tokio::time::timeout(left, PgConnection::connect_with(options)).await {
            Ok(Ok(connection)) => {
                let _ = connection.close().await; // reached: the pool connects next
                return Ok(());
            }
            Ok(Err(sqlx::Error::Io(e))) if e.kind() == std::io::ErrorKind::ConnectionRefused => e.to_string(),
            // cannot_connect_now (starting up) and too_many_connections: worth waiting
            // for, as the pool would.
            Ok(Err(sqlx::Error::Database(e))) if matches!(e.code().as_deref(), Some("57P03" | "53300")) => {
                e.to_string()
            }
            // PostgreSQL answered (a password refused, no such database): its words say it.
            Ok(Err(e @ (sqlx::Error::Database(_) | sqlx::Error::Configuration(_)))) => return Err(e.to_string()),
            // Nothing there, or something else than PostgreSQL (a hang-up, another protocol).
            Ok(Err(e)) => return Err(format!("cannot connect to {place}: {e}; {check}")),
            Err(_) => "no answer".to_owned(),
        };
        if tokio::time::Instant::now() + Duration::from_secs(1) >= deadline {
            return Err(format!("cannot connect to {place} ({why}), tried for {} s; {check}", patience.as_secs()));
        }
        if !warned {
            warned = true;
            tracing::warn!(
                "cannot connect to PostgreSQL at {place} yet ({why}); trying again for up to {} s",
                patience.as_secs()
            );
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

impl PgStore {
    /// What is at `url`, read without creating or migrating anything.
    pub(crate) async fn bootstrapped(url: &str) -> Result<Found, sqlx::Error> {
        let options = PgConnectOptions::from_str(url)?.application_name("pennon");
        let place = format!("`{}`", super::redact(url));
        let mut connection = match PgConnection::connect_with(&options).await {
            Ok(connection) => connection,
            // invalid_catalog_name: the server is there, the database is not.
            Err(sqlx::Error::Database(e)) if e.code().as_deref() == Some("3D000") => {
                return Ok(Found::Nothing(format!("{place} ({})", e.message())));
            }
            Err(e) => return Err(e),
        };
        let has_meta: bool =
            sqlx::query_scalar("SELECT to_regclass('meta') IS NOT NULL").fetch_one(&mut connection).await?;
        let bootstrapped = has_meta
            && sqlx::query_scalar::<_, String>("SELECT value FROM meta WHERE key = 'bootstrapped'")
                .fetch_optional(&mut connection)
                .await?
                .is_some();
        connection.close().await?;
        Ok(if bootstrapped { Found::Bootstrapped } else { Found::NoPennon(place) })
    }
}

#[async_trait]
impl Repository for PgStore {
    fn backend(&self) -> &'static str {
        "postgres"
    }

    async fn read(&self) -> Result<Tx, sqlx::Error> {
        Ok(Tx { inner: Inner::Postgres(self.pool.begin().await?), _writer: None })
    }

    async fn write(&self, lock: &Lock) -> Result<Tx, sqlx::Error> {
        let mut tx = self.pool.begin().await?;
        // For writes only (migrations wait on their advisory lock as long as it takes):
        // a write waits at most 10 s for another's lock, then is refused (503 `busy`)
        // rather than queueing behind an instance that may never come back; and
        // PostgreSQL ends a write left idle for 30 s by an instance cut off mid-way,
        // releasing its locks for the rest of the fleet.
        sqlx::query(
            "SELECT set_config('lock_timeout', '10s', true), \
             set_config('idle_in_transaction_session_timeout', '30s', true)",
        )
        .execute(&mut *tx)
        .await?;
        match lock {
            Lock::None => {}
            Lock::Envs(names) => {
                sqlx::query("SELECT name FROM environments WHERE name = ANY($1) ORDER BY name FOR UPDATE")
                    .bind(names)
                    .fetch_all(&mut *tx)
                    .await?;
            }
            Lock::Tokens => {
                sqlx::query("SELECT key FROM meta WHERE key = 'catalog' FOR UPDATE").fetch_all(&mut *tx).await?;
            }
            Lock::Catalog => {
                sqlx::query("SELECT key FROM meta WHERE key = 'catalog' FOR UPDATE").fetch_all(&mut *tx).await?;
                sqlx::query("SELECT name FROM environments ORDER BY name FOR UPDATE").fetch_all(&mut *tx).await?;
            }
        }
        Ok(Tx { inner: Inner::Postgres(tx), _writer: None })
    }

    async fn listen(&self) -> Result<Option<Box<dyn Notifications>>, sqlx::Error> {
        let mut listener = PgListener::connect_with(&self.pool).await?;
        listener.listen("pennon").await?;
        Ok(Some(Box::new(PgNotifications { listener })))
    }

    async fn close(&self) {
        self.pool.close().await;
    }
}

struct PgNotifications {
    listener: PgListener,
}

#[async_trait]
impl Notifications for PgNotifications {
    async fn next(&mut self) -> Result<Notice, sqlx::Error> {
        // `None`: the connection dropped and will be re-established on the next call;
        // notices sent meanwhile are lost, so the caller re-reads the state.
        Ok(match self.listener.try_recv().await? {
            Some(notification) => Notice::decode(notification.payload()),
            None => Notice::Resync,
        })
    }
}

#[cfg(test)]
mod tests {
    use std::str::FromStr as _;
    use std::time::Duration;

    use sqlx::postgres::PgConnectOptions;

    /// A server refusing connections is tried again for the patience given, then reported
    /// with where, why and what to check, instead of sqlx's "pool timed out".
    #[tokio::test]
    async fn an_unreachable_server_is_reported_with_where_and_why() {
        let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap(); // dropped: refuses
        let options = PgConnectOptions::from_str(&format!("postgres://pennon:secret@{closed}/pennon")).unwrap();
        let why = super::reach(&options, Duration::from_millis(1500)).await.unwrap_err();
        for needed in [&format!("cannot connect to {closed} ("), "refused", "check that PostgreSQL runs there"] {
            assert!(why.contains(needed), "no {needed:?} in {why}");
        }
        assert!(!why.contains("secret"), "{why}");
    }
}
