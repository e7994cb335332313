//! Published snapshots: immutable, one row per environment, kind and version, deleted
//! only by snapshot retention (`retention.rs`), never the newest of an environment and kind.

use super::tx::on_conn;
use super::Tx;

/// A published snapshot with its envelope.
#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct SnapshotRow {
    pub(crate) env: String,
    pub(crate) kind: String,
    pub(crate) version: i64,
    pub(crate) sha256: String,
    pub(crate) envelope: String,
    pub(crate) key_ids: String,
    pub(crate) issued_at: i64,
    pub(crate) expires_at: i64,
}

/// A published snapshot without its envelope, for listings.
#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct SnapshotMeta {
    pub(crate) kind: String,
    pub(crate) version: i64,
    pub(crate) sha256: String,
    pub(crate) key_ids: String,
    pub(crate) issued_at: i64,
    pub(crate) expires_at: i64,
}

const COLUMNS: &str = "env, kind, version, sha256, envelope, key_ids, issued_at, expires_at";

impl Tx {
    /// Stores a published snapshot. A second row with the same version is refused by
    /// the primary key: versions cannot collide.
    pub(crate) async fn insert_snapshot(&mut self, row: &SnapshotRow) -> Result<(), sqlx::Error> {
        let sql = format!("INSERT INTO snapshots ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)");
        on_conn!(self, |c| sqlx::query(&sql)
            .bind(&row.env)
            .bind(&row.kind)
            .bind(row.version)
            .bind(&row.sha256)
            .bind(&row.envelope)
            .bind(&row.key_ids)
            .bind(row.issued_at)
            .bind(row.expires_at)
            .execute(c)
            .await
            .map(drop))?;
        Ok(())
    }

    /// One snapshot by version.
    pub(crate) async fn snapshot(
        &mut self,
        env: &str,
        kind: &str,
        version: i64,
    ) -> Result<Option<SnapshotRow>, sqlx::Error> {
        let sql = format!("SELECT {COLUMNS} FROM snapshots WHERE env = $1 AND kind = $2 AND version = $3");
        on_conn!(self, |c| sqlx::query_as(&sql).bind(env).bind(kind).bind(version).fetch_optional(c).await)
    }

    /// The newest snapshot of `env` of `kind`.
    pub(crate) async fn latest_snapshot(&mut self, env: &str, kind: &str) -> Result<Option<SnapshotRow>, sqlx::Error> {
        let sql = format!("SELECT {COLUMNS} FROM snapshots WHERE env = $1 AND kind = $2 ORDER BY version DESC LIMIT 1");
        on_conn!(self, |c| sqlx::query_as(&sql).bind(env).bind(kind).fetch_optional(c).await)
    }

    /// Snapshots of `env` of `kind`, newest first, below `before` when given.
    pub(crate) async fn list_snapshots(
        &mut self,
        env: &str,
        kind: &str,
        before: Option<i64>,
        limit: i64,
    ) -> Result<Vec<SnapshotMeta>, sqlx::Error> {
        let sql = "SELECT kind, version, sha256, key_ids, issued_at, expires_at FROM snapshots \
                   WHERE env = $1 AND kind = $2 AND version < $3 ORDER BY version DESC LIMIT $4";
        let before = before.unwrap_or(i64::MAX);
        on_conn!(self, |c| sqlx::query_as(sql).bind(env).bind(kind).bind(before).bind(limit).fetch_all(c).await)
    }

    /// The highest version ever published for `env` (0 if none), deleted or not.
    /// Each environment's name and the key ids (comma-separated) that signed its latest
    /// server snapshot.
    pub(crate) async fn latest_signers(&mut self) -> Result<Vec<(String, String)>, sqlx::Error> {
        let sql = "SELECT s.env, s.key_ids FROM snapshots s JOIN environments e \
                   ON s.env = e.name AND s.version = e.version AND s.kind = 'server' ORDER BY s.env";
        on_conn!(self, |c| sqlx::query_as(sql).fetch_all(c).await)
    }

    pub(crate) async fn max_snapshot_version(&mut self, env: &str) -> Result<i64, sqlx::Error> {
        let sql = "SELECT COALESCE(MAX(version), 0) FROM snapshots WHERE env = $1";
        on_conn!(self, |c| sqlx::query_scalar(sql).bind(env).fetch_one(c).await)
    }
}
