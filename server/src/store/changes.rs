//! Change requests for protected environments.

use super::tx::on_conn;
use super::Tx;

/// A change request as stored; `operation` is JSON.
#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct ChangeRow {
    pub(crate) id: i64,
    pub(crate) env: String,
    pub(crate) status: String,
    pub(crate) operation: String,
    pub(crate) if_match: Option<String>,
    pub(crate) proposed_by: String,
    pub(crate) proposed_at: i64,
    pub(crate) decided_by: Option<String>,
    pub(crate) decided_at: Option<i64>,
    pub(crate) snapshot_version: Option<i64>,
    /// The revision of the flag's definition when a flag change was proposed.
    pub(crate) definition_rev: Option<i64>,
}

const COLUMNS: &str = "id, env, status, operation, if_match, proposed_by, proposed_at, decided_by, decided_at, \
                       snapshot_version, definition_rev";

impl Tx {
    /// Opens a change request; returns its id.
    pub(crate) async fn insert_change(
        &mut self,
        env: &str,
        operation: &str,
        if_match: Option<&str>,
        definition_rev: Option<i64>,
        proposed_by: &str,
        now: i64,
    ) -> Result<i64, sqlx::Error> {
        let sql = "INSERT INTO change_requests \
                   (env, status, operation, if_match, definition_rev, proposed_by, proposed_at) \
                   VALUES ($1, 'open', $2, $3, $4, $5, $6) RETURNING id";
        on_conn!(self, |c| sqlx::query_scalar(sql)
            .bind(env)
            .bind(operation)
            .bind(if_match)
            .bind(definition_rev)
            .bind(proposed_by)
            .bind(now)
            .fetch_one(c)
            .await)
    }

    /// The open change request by `proposed_by` in `env` that proposes exactly
    /// `operation` with the same `If-Match` and against the same flag definition, if
    /// there is one: a repeat of the write that opened it. Only race-free inside a
    /// transaction that holds `env`'s lock (SQLite's writer lock holds them all).
    pub(crate) async fn open_change_like(
        &mut self,
        env: &str,
        proposed_by: &str,
        operation: &str,
        if_match: Option<&str>,
        definition_rev: Option<i64>,
    ) -> Result<Option<i64>, sqlx::Error> {
        let sql = "SELECT id FROM change_requests WHERE env = $1 AND status = 'open' AND proposed_by = $2 \
                   AND operation = $3 AND (if_match = $4 OR (if_match IS NULL AND $4 IS NULL)) \
                   AND (definition_rev = $5 OR (definition_rev IS NULL AND $5 IS NULL)) ORDER BY id LIMIT 1";
        on_conn!(self, |c| sqlx::query_scalar(sql)
            .bind(env)
            .bind(proposed_by)
            .bind(operation)
            .bind(if_match)
            .bind(definition_rev)
            .fetch_optional(c)
            .await)
    }

    /// One change request.
    pub(crate) async fn change(&mut self, id: i64) -> Result<Option<ChangeRow>, sqlx::Error> {
        let sql = format!("SELECT {COLUMNS} FROM change_requests WHERE id = $1");
        on_conn!(self, |c| sqlx::query_as(&sql).bind(id).fetch_optional(c).await)
    }

    /// Change requests, newest first, optionally of one environment and status.
    pub(crate) async fn changes(
        &mut self,
        env: Option<&str>,
        status: Option<&str>,
        limit: i64,
    ) -> Result<Vec<ChangeRow>, sqlx::Error> {
        let sql = format!(
            "SELECT {COLUMNS} FROM change_requests WHERE ($1 = '' OR env = $1) AND ($2 = '' OR status = $2) \
             ORDER BY id DESC LIMIT $3"
        );
        let (env, status) = (env.unwrap_or_default(), status.unwrap_or_default());
        on_conn!(self, |c| sqlx::query_as(&sql).bind(env).bind(status).bind(limit).fetch_all(c).await)
    }

    /// Closes an open change request; returns whether it was still open (so two
    /// approvers racing cannot both apply it).
    pub(crate) async fn decide_change(
        &mut self,
        id: i64,
        status: &str,
        decided_by: &str,
        now: i64,
        snapshot_version: Option<i64>,
    ) -> Result<bool, sqlx::Error> {
        let sql = "UPDATE change_requests SET status = $2, decided_by = $3, decided_at = $4, snapshot_version = $5 \
                   WHERE id = $1 AND status = 'open'";
        let n = on_conn!(self, |c| sqlx::query(sql)
            .bind(id)
            .bind(status)
            .bind(decided_by)
            .bind(now)
            .bind(snapshot_version)
            .execute(c)
            .await?
            .rows_affected());
        Ok(n == 1)
    }
}
