//! Segments, kept per environment; `body` is JSON.

use super::tx::on_conn;
use super::Tx;

/// A segment as stored.
#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct SegmentRow {
    pub(crate) key: String,
    pub(crate) body: String,
    pub(crate) rev: i64,
}

impl Tx {
    /// Every segment of `env`, by key.
    pub(crate) async fn segments(&mut self, env: &str) -> Result<Vec<SegmentRow>, sqlx::Error> {
        let sql = "SELECT key, body, rev FROM segments WHERE env = $1 ORDER BY key";
        on_conn!(self, |c| sqlx::query_as(sql).bind(env).fetch_all(c).await)
    }

    /// One segment.
    pub(crate) async fn segment(&mut self, env: &str, key: &str) -> Result<Option<SegmentRow>, sqlx::Error> {
        let sql = "SELECT key, body, rev FROM segments WHERE env = $1 AND key = $2";
        on_conn!(self, |c| sqlx::query_as(sql).bind(env).bind(key).fetch_optional(c).await)
    }

    /// Inserts or replaces a segment with revision `rev`.
    pub(crate) async fn put_segment(
        &mut self,
        env: &str,
        key: &str,
        body: &str,
        rev: i64,
        now: i64,
    ) -> Result<(), sqlx::Error> {
        let sql = "INSERT INTO segments (env, key, body, rev, updated_at) VALUES ($1, $2, $3, $4, $5) \
                   ON CONFLICT (env, key) DO UPDATE SET body = $3, rev = $4, updated_at = $5";
        on_conn!(self, |c| sqlx::query(sql)
            .bind(env)
            .bind(key)
            .bind(body)
            .bind(rev)
            .bind(now)
            .execute(c)
            .await
            .map(drop))?;
        Ok(())
    }

    /// Deletes a segment.
    pub(crate) async fn delete_segment(&mut self, env: &str, key: &str) -> Result<(), sqlx::Error> {
        let sql = "DELETE FROM segments WHERE env = $1 AND key = $2";
        on_conn!(self, |c| sqlx::query(sql).bind(env).bind(key).execute(c).await.map(drop))?;
        Ok(())
    }
}
