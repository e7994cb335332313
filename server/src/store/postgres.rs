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

impl PgStore {
    /// Connects to `url` and applies `migrations/postgres`.
    pub(crate) async fn open(url: &str) -> Result<PgStore, sqlx::Error> {
        let options = PgConnectOptions::from_str(url)?.application_name("pennon");
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
