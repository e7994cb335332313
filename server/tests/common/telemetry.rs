//! Posting telemetry as an SDK would, and reaching the telemetry tables directly.

use serde_json::{json, Value as Json};

use super::{Api, Resp, Server};

pub const HOUR_MS: i64 = 3_600_000;
pub const DAY_MS: i64 = 86_400_000;

/// The start of the hour `ms` falls in.
pub fn hour_start(ms: i64) -> i64 {
    ms - ms.rem_euclid(HOUR_MS)
}

/// A report from instance `i-1` of `pennon-rust/0.1.0` whose window ends at `end_ms`.
pub fn report(end_ms: i64, counts: Json) -> Json {
    json!({
        "sdk": "pennon-rust/0.1.0",
        "instance": "i-1",
        "window": { "start_ms": end_ms - 60_000, "end_ms": end_ms },
        "snapshot_version": 2,
        "counts": counts,
    })
}

/// `POST /v1/telemetry/{env}` with SDK key `key`.
pub async fn post(server: &Server, key: &str, env: &str, body: &Json) -> Resp {
    Api::new(&server.url, key).post(&format!("/v1/telemetry/{env}"), body).await
}

/// Posts and requires 202.
pub async fn accepted(server: &Server, key: &str, env: &str, body: &Json) -> Json {
    let reply = post(server, key, env, body).await;
    assert_eq!(reply.status, 202, "{}", reply.body);
    reply.body["accepted"].clone()
}

/// The URL of the database holding the telemetry tables of a server on `database_url`:
/// the file beside an SQLite database, or the same PostgreSQL database.
pub fn telemetry_url(database_url: &str) -> String {
    if database_url.starts_with("sqlite") {
        database_url.replace("pennon.db", "pennon-telemetry.db")
    } else {
        database_url.to_owned()
    }
}

/// Runs `sql` on the database at `url`.
pub async fn execute(url: &str, sql: &str) {
    if url.starts_with("sqlite") {
        let pool = sqlx::SqlitePool::connect(url).await.unwrap();
        sqlx::query(sql).execute(&pool).await.unwrap();
        pool.close().await;
    } else {
        let pool = sqlx::PgPool::connect(url).await.unwrap();
        sqlx::query(sql).execute(&pool).await.unwrap();
        pool.close().await;
    }
}

/// Counts rows with `sql` (a `SELECT COUNT(*)`) on the database at `url`.
pub async fn count(url: &str, sql: &str) -> i64 {
    if url.starts_with("sqlite") {
        let pool = sqlx::SqlitePool::connect(url).await.unwrap();
        let n = sqlx::query_scalar(sql).fetch_one(&pool).await.unwrap();
        pool.close().await;
        n
    } else {
        let pool = sqlx::PgPool::connect(url).await.unwrap();
        let n = sqlx::query_scalar(sql).fetch_one(&pool).await.unwrap();
        pool.close().await;
        n
    }
}

/// Runs `sql` on the telemetry tables of `server`.
pub async fn telemetry_sql(server: &Server, sql: &str) {
    execute(&telemetry_url(&server.database_url), sql).await;
}

/// Runs `sql` on the main database of `server`.
pub async fn main_sql(server: &Server, sql: &str) {
    execute(&server.database_url, sql).await;
}

/// The usage report for `query` (`?environment=...`), as the admin sees it.
pub async fn usage(server: &Server, query: &str) -> Json {
    let reply = server.admin().get(&format!("/api/v1/reports/usage{query}")).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    reply.body
}

/// Flag `key` of environment `env` in a usage report.
pub fn flag_usage<'r>(report: &'r Json, env: &str, key: &str) -> &'r Json {
    let env = report["environments"].as_array().unwrap().iter().find(|e| e["environment"] == env);
    let env = env.unwrap_or_else(|| panic!("no {env:?} in {report}"));
    env["flags"].as_array().unwrap().iter().find(|f| f["flag"] == key).unwrap_or_else(|| panic!("no {key} in {env}"))
}
