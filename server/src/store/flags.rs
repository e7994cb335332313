//! Flags (defined once) and their per-environment configurations.

use super::tx::on_conn;
use super::Tx;

/// A flag definition as stored; `variants` and `tags` are JSON.
#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct FlagRow {
    pub(crate) key: String,
    pub(crate) kind: String,
    pub(crate) variants: String,
    pub(crate) description: Option<String>,
    pub(crate) owner: Option<String>,
    pub(crate) tags: String,
    pub(crate) temporary: bool,
    pub(crate) expires_at: Option<String>,
    pub(crate) client_visible: bool,
    pub(crate) rev: i64,
    /// The `rev` at which the type, variants or client visibility last changed: what a
    /// change request is approved against (a description edit leaves it).
    pub(crate) definition_rev: i64,
    pub(crate) created_at: i64,
    pub(crate) updated_at: i64,
}

/// A flag's configuration in one environment; `config` is JSON.
#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct ConfigRow {
    pub(crate) env: String,
    pub(crate) flag: String,
    pub(crate) config: String,
    pub(crate) rev: i64,
    /// When it last changed (Unix milliseconds): a write that changes nothing leaves it.
    pub(crate) updated_at: i64,
}

const FLAG_COLUMNS: &str =
    "key, kind, variants, description, owner, tags, temporary, expires_at, client_visible, rev, \
                            created_at, updated_at, definition_rev";

impl Tx {
    /// Every flag, by key.
    pub(crate) async fn flags(&mut self) -> Result<Vec<FlagRow>, sqlx::Error> {
        let sql = format!("SELECT {FLAG_COLUMNS} FROM flags ORDER BY key");
        on_conn!(self, |c| sqlx::query_as(&sql).fetch_all(c).await)
    }

    /// One flag.
    pub(crate) async fn flag(&mut self, key: &str) -> Result<Option<FlagRow>, sqlx::Error> {
        let sql = format!("SELECT {FLAG_COLUMNS} FROM flags WHERE key = $1");
        on_conn!(self, |c| sqlx::query_as(&sql).bind(key).fetch_optional(c).await)
    }

    /// Inserts or replaces a flag; the caller has checked `rev`.
    pub(crate) async fn put_flag(&mut self, row: &FlagRow) -> Result<(), sqlx::Error> {
        let sql = format!(
            "INSERT INTO flags ({FLAG_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) \
             ON CONFLICT (key) DO UPDATE SET kind = $2, variants = $3, description = $4, owner = $5, tags = $6, \
             temporary = $7, expires_at = $8, client_visible = $9, rev = $10, updated_at = $12, definition_rev = $13"
        );
        on_conn!(self, |c| sqlx::query(&sql)
            .bind(&row.key)
            .bind(&row.kind)
            .bind(&row.variants)
            .bind(&row.description)
            .bind(&row.owner)
            .bind(&row.tags)
            .bind(row.temporary)
            .bind(&row.expires_at)
            .bind(row.client_visible)
            .bind(row.rev)
            .bind(row.created_at)
            .bind(row.updated_at)
            .bind(row.definition_rev)
            .execute(c)
            .await
            .map(drop))?;
        Ok(())
    }

    /// Deletes a flag and its configurations.
    pub(crate) async fn delete_flag(&mut self, key: &str) -> Result<(), sqlx::Error> {
        on_conn!(self, |c| {
            sqlx::query("DELETE FROM flag_configs WHERE flag = $1").bind(key).execute(&mut *c).await?;
            sqlx::query("DELETE FROM flags WHERE key = $1").bind(key).execute(&mut *c).await?;
        });
        Ok(())
    }

    /// Every flag configuration of `env`, by flag key.
    pub(crate) async fn configs(&mut self, env: &str) -> Result<Vec<ConfigRow>, sqlx::Error> {
        let sql = "SELECT env, flag, config, rev, updated_at FROM flag_configs WHERE env = $1 ORDER BY flag";
        on_conn!(self, |c| sqlx::query_as(sql).bind(env).fetch_all(c).await)
    }

    /// Every configuration of one flag, by environment.
    pub(crate) async fn flag_configs(&mut self, flag: &str) -> Result<Vec<ConfigRow>, sqlx::Error> {
        let sql = "SELECT env, flag, config, rev, updated_at FROM flag_configs WHERE flag = $1 ORDER BY env";
        on_conn!(self, |c| sqlx::query_as(sql).bind(flag).fetch_all(c).await)
    }

    /// One flag's configuration in `env`.
    pub(crate) async fn config(&mut self, env: &str, flag: &str) -> Result<Option<ConfigRow>, sqlx::Error> {
        let sql = "SELECT env, flag, config, rev, updated_at FROM flag_configs WHERE env = $1 AND flag = $2";
        on_conn!(self, |c| sqlx::query_as(sql).bind(env).bind(flag).fetch_optional(c).await)
    }

    /// Inserts or replaces a configuration with revision `rev`.
    pub(crate) async fn put_config(
        &mut self,
        env: &str,
        flag: &str,
        config: &str,
        rev: i64,
        now: i64,
    ) -> Result<(), sqlx::Error> {
        let sql = "INSERT INTO flag_configs (env, flag, config, rev, updated_at) VALUES ($1, $2, $3, $4, $5) \
                   ON CONFLICT (env, flag) DO UPDATE SET config = $3, rev = $4, updated_at = $5";
        on_conn!(self, |c| sqlx::query(sql)
            .bind(env)
            .bind(flag)
            .bind(config)
            .bind(rev)
            .bind(now)
            .execute(c)
            .await
            .map(drop))?;
        Ok(())
    }
}
