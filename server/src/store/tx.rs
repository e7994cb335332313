//! [`Tx`]: one transaction on either backend, and the macro that writes a query once
//! for both.
//!
//! Each query is written as ordinary sqlx code inside [`on_conn!`], which expands it
//! into one match arm per backend. Both arms type-check against a concrete driver, so
//! there is no `Any` driver and no generic trait bounds, and the SQL (plain SQL with
//! `$1` placeholders, which both SQLite and PostgreSQL read) exists once.

use sqlx::{Postgres, Sqlite, Transaction};
use tokio::sync::OwnedMutexGuard;

use super::Notice;

/// The backend-specific transaction.
pub(crate) enum Inner {
    /// An SQLite transaction.
    Sqlite(Transaction<'static, Sqlite>),
    /// A PostgreSQL transaction.
    Postgres(Transaction<'static, Postgres>),
}

/// A transaction. Dropping it without [`Tx::commit`] rolls it back.
pub(crate) struct Tx {
    pub(crate) inner: Inner,
    /// SQLite: the in-process writer lock, held until the transaction ends, so that
    /// writers queue on a mutex rather than polling SQLite's busy handler.
    pub(crate) _writer: Option<OwnedMutexGuard<()>>,
}

/// Runs `$body` with `$conn` bound to the connection of whichever backend `$tx` uses.
macro_rules! on_conn {
    ($tx:expr, |$conn:ident| $body:expr) => {
        match &mut $tx.inner {
            $crate::store::tx::Inner::Sqlite(tx) => {
                let $conn = &mut **tx;
                $body
            }
            $crate::store::tx::Inner::Postgres(tx) => {
                let $conn = &mut **tx;
                $body
            }
        }
    };
}
pub(crate) use on_conn;

impl Tx {
    /// Commits.
    pub(crate) async fn commit(self) -> Result<(), sqlx::Error> {
        match self.inner {
            Inner::Sqlite(tx) => tx.commit().await,
            Inner::Postgres(tx) => tx.commit().await,
        }
    }

    /// Announces `notice` to every instance when this transaction commits (PostgreSQL
    /// delivers `NOTIFY` at commit, and not at all on rollback). SQLite has one
    /// instance, which learns of its own commits directly.
    pub(crate) async fn notify(&mut self, notice: &Notice) -> Result<(), sqlx::Error> {
        if let Inner::Postgres(tx) = &mut self.inner {
            sqlx::query("SELECT pg_notify('pennon', $1)").bind(notice.encode()).execute(&mut **tx).await?;
        }
        Ok(())
    }

    /// A value from the `meta` table.
    pub(crate) async fn meta(&mut self, key: &str) -> Result<Option<String>, sqlx::Error> {
        on_conn!(self, |c| sqlx::query_scalar("SELECT value FROM meta WHERE key = $1")
            .bind(key)
            .fetch_optional(c)
            .await)
    }

    /// Sets `key` in the `meta` table unless it is set; returns whether this call set it.
    pub(crate) async fn set_meta_once(&mut self, key: &str, value: &str) -> Result<bool, sqlx::Error> {
        let sql = "INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING";
        let done = on_conn!(self, |c| sqlx::query(sql).bind(key).bind(value).execute(c).await?.rows_affected());
        Ok(done == 1)
    }
}
