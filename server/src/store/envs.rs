//! Environments.

use super::tx::on_conn;
use super::Tx;

/// An environment as stored.
#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct EnvRow {
    pub(crate) name: String,
    pub(crate) protected: bool,
    pub(crate) version: i64,
    pub(crate) rev: i64,
    pub(crate) created_at: i64,
    /// The last version published before this environment was created, by an earlier
    /// environment of the same name (0 if none): rollback stays above it.
    pub(crate) base_version: i64,
}

const COLUMNS: &str = "name, protected, version, rev, created_at, base_version";

impl Tx {
    /// Every environment, by name.
    pub(crate) async fn envs(&mut self) -> Result<Vec<EnvRow>, sqlx::Error> {
        let sql = format!("SELECT {COLUMNS} FROM environments ORDER BY name");
        on_conn!(self, |c| sqlx::query_as(&sql).fetch_all(c).await)
    }

    /// One environment.
    pub(crate) async fn env(&mut self, name: &str) -> Result<Option<EnvRow>, sqlx::Error> {
        let sql = format!("SELECT {COLUMNS} FROM environments WHERE name = $1");
        on_conn!(self, |c| sqlx::query_as(&sql).bind(name).fetch_optional(c).await)
    }

    /// The last version published by an earlier environment of this name, deleted
    /// before this one was created (0 if none, or if `name` is gone). Those snapshots
    /// stay in the database, but nobody who may use `name` now may read them: its
    /// tokens and keys were revoked or re-scoped with it.
    pub(crate) async fn base_version(&mut self, name: &str) -> Result<i64, sqlx::Error> {
        Ok(self.env(name).await?.map_or(0, |e| e.base_version))
    }

    /// Creates an environment whose versions start after `version`.
    pub(crate) async fn insert_env(
        &mut self,
        name: &str,
        protected: bool,
        version: i64,
        now: i64,
    ) -> Result<(), sqlx::Error> {
        let sql = "INSERT INTO environments (name, protected, version, rev, created_at, base_version) \
                   VALUES ($1, $2, $3, 1, $4, $3)";
        on_conn!(self, |c| sqlx::query(sql)
            .bind(name)
            .bind(protected)
            .bind(version)
            .bind(now)
            .execute(c)
            .await
            .map(drop))?;
        Ok(())
    }

    /// Changes whether an environment is protected, bumping its revision.
    pub(crate) async fn set_env_protected(&mut self, name: &str, protected: bool) -> Result<(), sqlx::Error> {
        let sql = "UPDATE environments SET protected = $2, rev = rev + 1 WHERE name = $1";
        on_conn!(self, |c| sqlx::query(sql).bind(name).bind(protected).execute(c).await.map(drop))?;
        Ok(())
    }

    /// Records the version just published.
    pub(crate) async fn set_env_version(&mut self, name: &str, version: i64) -> Result<(), sqlx::Error> {
        let sql = "UPDATE environments SET version = $2 WHERE name = $1";
        on_conn!(self, |c| sqlx::query(sql).bind(name).bind(version).execute(c).await.map(drop))?;
        Ok(())
    }

    /// Deletes an environment with its flag configurations, segments and SDK keys.
    /// Its snapshots stay: they are immutable history.
    pub(crate) async fn delete_env(&mut self, name: &str) -> Result<(), sqlx::Error> {
        on_conn!(self, |c| {
            for table in ["flag_configs", "segments", "sdk_keys"] {
                sqlx::query(&format!("DELETE FROM {table} WHERE env = $1")).bind(name).execute(&mut *c).await?;
            }
            sqlx::query("DELETE FROM environments WHERE name = $1").bind(name).execute(&mut *c).await?;
        });
        Ok(())
    }
}
