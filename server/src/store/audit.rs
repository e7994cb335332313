//! The audit log: append-only (the schema refuses updates and deletes).

use std::collections::BTreeMap;

use super::tx::{on_conn, Inner};
use super::Tx;

/// An audit entry as stored; `before_json` and `after_json` are JSON, and so is
/// `changes_json`, the lists a compact entry keeps out of them (NULL in a whole entry,
/// and in every entry from before migration 0007).
#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct AuditRow {
    pub(crate) id: i64,
    pub(crate) at: i64,
    pub(crate) actor: String,
    pub(crate) approved_by: Option<String>,
    pub(crate) action: String,
    pub(crate) resource_type: String,
    pub(crate) resource: String,
    pub(crate) env: Option<String>,
    pub(crate) before_json: Option<String>,
    pub(crate) after_json: Option<String>,
    pub(crate) changes_json: Option<String>,
    pub(crate) request_id: String,
    pub(crate) snapshot_version: Option<i64>,
    pub(crate) change_request: Option<i64>,
}

/// An entry to append.
#[derive(Debug, Clone)]
pub(crate) struct NewAudit {
    pub(crate) at: i64,
    pub(crate) actor: String,
    pub(crate) approved_by: Option<String>,
    pub(crate) action: String,
    pub(crate) resource_type: String,
    pub(crate) resource: String,
    pub(crate) env: Option<String>,
    pub(crate) before_json: Option<String>,
    pub(crate) after_json: Option<String>,
    pub(crate) changes_json: Option<String>,
    pub(crate) request_id: String,
    pub(crate) snapshot_version: Option<i64>,
    pub(crate) change_request: Option<i64>,
}

/// Which entries to list; every field narrows the result.
#[derive(Debug, Clone, Default)]
pub(crate) struct AuditFilter {
    pub(crate) env: Option<String>,
    pub(crate) resource: Option<String>,
    pub(crate) resource_type: Option<String>,
    pub(crate) actor: Option<String>,
    pub(crate) action: Option<String>,
    pub(crate) request_id: Option<String>,
    pub(crate) since: Option<i64>,
    pub(crate) until: Option<i64>,
    /// Only entries with an id below this (paging backwards).
    pub(crate) before_id: Option<i64>,
    pub(crate) limit: i64,
}

const COLUMNS: &str = "id, at, actor, approved_by, action, resource_type, resource, env, before_json, after_json, \
                       changes_json, request_id, snapshot_version, change_request";

impl Tx {
    /// Appends an entry.
    pub(crate) async fn insert_audit(&mut self, entry: &NewAudit) -> Result<(), sqlx::Error> {
        let sql = "INSERT INTO audit_log (at, actor, approved_by, action, resource_type, resource, env, before_json, \
                   after_json, changes_json, request_id, snapshot_version, change_request) \
                   VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)";
        on_conn!(self, |c| sqlx::query(sql)
            .bind(entry.at)
            .bind(&entry.actor)
            .bind(&entry.approved_by)
            .bind(&entry.action)
            .bind(&entry.resource_type)
            .bind(&entry.resource)
            .bind(&entry.env)
            .bind(&entry.before_json)
            .bind(&entry.after_json)
            .bind(&entry.changes_json)
            .bind(&entry.request_id)
            .bind(entry.snapshot_version)
            .bind(entry.change_request)
            .execute(c)
            .await
            .map(drop))?;
        Ok(())
    }

    /// Entries matching `filter`, newest first.
    pub(crate) async fn audit(&mut self, filter: &AuditFilter) -> Result<Vec<AuditRow>, sqlx::Error> {
        let mut sql = format!("SELECT {COLUMNS} FROM audit_log WHERE 1 = 1");
        let mut texts: Vec<&str> = Vec::new();
        let text_filters = [
            ("env", &filter.env),
            ("resource", &filter.resource),
            ("resource_type", &filter.resource_type),
            ("actor", &filter.actor),
            ("action", &filter.action),
            ("request_id", &filter.request_id),
        ];
        for (column, value) in text_filters {
            if let Some(value) = value {
                texts.push(value);
                sql.push_str(&format!(" AND {column} = ${}", texts.len()));
            }
        }
        let n = texts.len();
        sql.push_str(&format!(
            " AND at >= ${} AND at <= ${} AND id < ${} ORDER BY id DESC LIMIT ${}",
            n + 1,
            n + 2,
            n + 3,
            n + 4
        ));
        let numbers = [
            filter.since.unwrap_or(i64::MIN),
            filter.until.unwrap_or(i64::MAX),
            filter.before_id.unwrap_or(i64::MAX),
            filter.limit,
        ];
        on_conn!(self, |c| {
            let mut query = sqlx::query_as(&sql);
            for text in &texts {
                query = query.bind(*text);
            }
            for number in numbers {
                query = query.bind(number);
            }
            query.fetch_all(c).await
        })
    }
}

/// A `flag.update` entry: which flag, when, and its definition before and after.
#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct FlagUpdateRow {
    pub(crate) resource: String,
    pub(crate) at: i64,
    pub(crate) before_json: Option<String>,
    pub(crate) after_json: Option<String>,
}

/// The flags wanted, as a JSON object of key to creation time (Unix milliseconds): one
/// parameter however many there are, read by `json_each` (SQLite) or `jsonb_each_text`
/// (PostgreSQL), since neither binds a list to `IN` portably.
fn wanted(created: &BTreeMap<&str, i64>) -> String {
    serde_json::to_string(created).unwrap_or_else(|_| "{}".into())
}

impl Tx {
    /// The `flag.update` entries of the flags in `created` (key: creation time) since
    /// each was created, newest first.
    pub(crate) async fn flag_updates_since(
        &mut self,
        created: &BTreeMap<&str, i64>,
    ) -> Result<Vec<FlagUpdateRow>, sqlx::Error> {
        let (join, since) = match self.inner {
            Inner::Sqlite(_) => ("json_each($1)", "w.value"),
            Inner::Postgres(_) => ("jsonb_each_text($1::jsonb)", "w.value::bigint"),
        };
        let sql = format!(
            "SELECT a.resource, a.at, a.before_json, a.after_json FROM audit_log a JOIN {join} w ON a.resource = w.key \
             WHERE a.resource_type = 'flag' AND a.action = 'flag.update' AND a.at >= {since} ORDER BY a.id DESC"
        );
        let created = wanted(created);
        on_conn!(self, |c| sqlx::query_as(&sql).bind(&created).fetch_all(c).await)
    }

    /// Which flags of `created` (key: creation time) have a `config.*` entry in one of
    /// `envs` since they were created.
    pub(crate) async fn configured_since(
        &mut self,
        created: &BTreeMap<&str, i64>,
        envs: &[String],
    ) -> Result<Vec<String>, sqlx::Error> {
        let (join, since, names) = match self.inner {
            Inner::Sqlite(_) => ("json_each($1)", "w.value", "SELECT value FROM json_each($2)"),
            Inner::Postgres(_) => {
                ("jsonb_each_text($1::jsonb)", "w.value::bigint", "SELECT jsonb_array_elements_text($2::jsonb)")
            }
        };
        let sql = format!(
            "SELECT DISTINCT a.resource FROM audit_log a JOIN {join} w ON a.resource = w.key \
             WHERE a.resource_type = 'flag' AND a.action IN ('config.update', 'config.toggle', 'config.rollout') \
             AND a.at >= {since} AND a.env IN ({names})"
        );
        let (created, envs) = (wanted(created), serde_json::to_string(envs).unwrap_or_else(|_| "[]".into()));
        on_conn!(self, |c| sqlx::query_scalar(&sql).bind(&created).bind(&envs).fetch_all(c).await)
    }
}
