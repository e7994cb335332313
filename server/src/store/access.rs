//! API tokens and SDK keys. Only SHA-256 hashes of the secrets are stored.

use super::tx::on_conn;
use super::Tx;

/// An API token as stored; `environments` is a JSON array (`["*"]` for all).
#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct TokenRow {
    pub(crate) id: i64,
    pub(crate) name: String,
    pub(crate) role: String,
    pub(crate) environments: String,
    pub(crate) prefix: String,
    pub(crate) created_at: i64,
    pub(crate) created_by: String,
    pub(crate) revoked_at: Option<i64>,
}

/// An SDK key as stored.
#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct SdkKeyRow {
    pub(crate) id: i64,
    pub(crate) env: String,
    pub(crate) kind: String,
    pub(crate) name: String,
    pub(crate) prefix: String,
    pub(crate) created_at: i64,
    pub(crate) created_by: String,
    pub(crate) revoked_at: Option<i64>,
}

const TOKEN_COLUMNS: &str = "id, name, role, environments, prefix, created_at, created_by, revoked_at";
const KEY_COLUMNS: &str = "id, env, kind, name, prefix, created_at, created_by, revoked_at";

impl Tx {
    /// Stores a token; returns its id.
    pub(crate) async fn insert_token(&mut self, row: &TokenRow, hash: &str) -> Result<i64, sqlx::Error> {
        let sql = "INSERT INTO api_tokens (name, role, environments, token_hash, prefix, created_at, created_by) \
                   VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id";
        on_conn!(self, |c| sqlx::query_scalar(sql)
            .bind(&row.name)
            .bind(&row.role)
            .bind(&row.environments)
            .bind(hash)
            .bind(&row.prefix)
            .bind(row.created_at)
            .bind(&row.created_by)
            .fetch_one(c)
            .await)
    }

    /// The live (unrevoked) token with this hash.
    pub(crate) async fn token_by_hash(&mut self, hash: &str) -> Result<Option<TokenRow>, sqlx::Error> {
        let sql = format!("SELECT {TOKEN_COLUMNS} FROM api_tokens WHERE token_hash = $1 AND revoked_at IS NULL");
        on_conn!(self, |c| sqlx::query_as(&sql).bind(hash).fetch_optional(c).await)
    }

    /// Every token, revoked ones included.
    pub(crate) async fn tokens(&mut self) -> Result<Vec<TokenRow>, sqlx::Error> {
        let sql = format!("SELECT {TOKEN_COLUMNS} FROM api_tokens ORDER BY id");
        on_conn!(self, |c| sqlx::query_as(&sql).fetch_all(c).await)
    }

    /// One token.
    pub(crate) async fn token(&mut self, id: i64) -> Result<Option<TokenRow>, sqlx::Error> {
        let sql = format!("SELECT {TOKEN_COLUMNS} FROM api_tokens WHERE id = $1");
        on_conn!(self, |c| sqlx::query_as(&sql).bind(id).fetch_optional(c).await)
    }

    /// Revokes a token; returns whether it was live.
    pub(crate) async fn revoke_token(&mut self, id: i64, now: i64) -> Result<bool, sqlx::Error> {
        let sql = "UPDATE api_tokens SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL";
        let n = on_conn!(self, |c| sqlx::query(sql).bind(id).bind(now).execute(c).await?.rows_affected());
        Ok(n == 1)
    }

    /// Sets a live token's environments (a JSON array).
    pub(crate) async fn set_token_environments(&mut self, id: i64, environments: &str) -> Result<(), sqlx::Error> {
        let sql = "UPDATE api_tokens SET environments = $2 WHERE id = $1 AND revoked_at IS NULL";
        on_conn!(self, |c| sqlx::query(sql).bind(id).bind(environments).execute(c).await.map(drop))
    }

    /// Stores an SDK key; returns its id.
    pub(crate) async fn insert_sdk_key(&mut self, row: &SdkKeyRow, hash: &str) -> Result<i64, sqlx::Error> {
        let sql = "INSERT INTO sdk_keys (env, kind, name, key_hash, prefix, created_at, created_by) \
                   VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id";
        on_conn!(self, |c| sqlx::query_scalar(sql)
            .bind(&row.env)
            .bind(&row.kind)
            .bind(&row.name)
            .bind(hash)
            .bind(&row.prefix)
            .bind(row.created_at)
            .bind(&row.created_by)
            .fetch_one(c)
            .await)
    }

    /// The live SDK key with this hash.
    pub(crate) async fn sdk_key_by_hash(&mut self, hash: &str) -> Result<Option<SdkKeyRow>, sqlx::Error> {
        let sql = format!("SELECT {KEY_COLUMNS} FROM sdk_keys WHERE key_hash = $1 AND revoked_at IS NULL");
        on_conn!(self, |c| sqlx::query_as(&sql).bind(hash).fetch_optional(c).await)
    }

    /// The SDK keys of `env`, revoked ones included.
    pub(crate) async fn sdk_keys(&mut self, env: &str) -> Result<Vec<SdkKeyRow>, sqlx::Error> {
        let sql = format!("SELECT {KEY_COLUMNS} FROM sdk_keys WHERE env = $1 ORDER BY id");
        on_conn!(self, |c| sqlx::query_as(&sql).bind(env).fetch_all(c).await)
    }

    /// The stored hashes of the live SDK keys.
    pub(crate) async fn live_sdk_key_hashes(&mut self) -> Result<Vec<String>, sqlx::Error> {
        let sql = "SELECT key_hash FROM sdk_keys WHERE revoked_at IS NULL";
        on_conn!(self, |c| sqlx::query_scalar(sql).fetch_all(c).await)
    }

    /// Revokes an SDK key of `env`; returns its stored hash if it was live.
    pub(crate) async fn revoke_sdk_key(&mut self, env: &str, id: i64, now: i64) -> Result<Option<String>, sqlx::Error> {
        let sql = "UPDATE sdk_keys SET revoked_at = $3 WHERE id = $1 AND env = $2 AND revoked_at IS NULL \
                   RETURNING key_hash";
        on_conn!(self, |c| sqlx::query_scalar(sql).bind(id).bind(env).bind(now).fetch_optional(c).await)
    }
}
