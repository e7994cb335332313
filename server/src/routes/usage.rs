//! What SDK telemetry shows, for any role: evaluations per flag
//! (`/api/v1/reports/usage`), unknown keys (`/api/v1/reports/not-found`) and
//! exposures (`/api/v1/exposures`). A token scoped to environments reads its own only;
//! without `environment=` it gets each of them.

use axum::extract::State;
use axum::http::{Method, StatusCode};
use axum::response::Response;
use serde::Deserialize;

use super::{respond, whole_number, Auth, Doc, QueryParams, Routes, MAX_LIMIT};
use crate::app::App;
use crate::auth::Principal;
use crate::clock::rfc3339;
use crate::error::ApiError;
use crate::model::{ExposureEntry, ExposureList, Granularity, Role};
use crate::report::UsageQuery;
use crate::service::to_json;
use crate::store::telemetry::{ExposureFilter, ExposureRow};
use crate::store::{to_u64, EnvRow, Tx};

const DAY_MS: i64 = 86_400_000;

pub(super) fn add(routes: Routes) -> Routes {
    let scoped = "only this environment (default: every one the token may read)";
    routes
        .add(
            Doc::new(
                Method::GET,
                "/api/v1/reports/usage",
                "Evaluations SDKs reported, per environment and flag: totals per variant, series, last seen, SDKs",
                Auth::Token(Role::Viewer),
            )
            .query("environment", scoped)
            .query("flag", "only this flag (default: every flag)")
            .query("since", "RFC 3339, rounded down to the hour (default: 7 days ago; hourly counts are kept 30 days)")
            .query("until", "RFC 3339 (default: now)")
            .query("granularity", "`hour` or `day` per series point (default: `hour` for up to 2 days, else `day`)")
            .ok(200, Some("UsageReport"), "every flag of each environment, by key, with its SDKs")
            .ok(404, Some("Error"), "no such environment or flag")
            .ok(
                400,
                Some("Error"),
                "`invalid_query`: a bad time, range or granularity; `field` names the parameter",
            ),
            usage,
        )
        .add(
            Doc::new(
                Method::GET,
                "/api/v1/reports/not-found",
                "Keys code evaluates that no flag has (a typo, or a deleted flag still called)",
                Auth::Token(Role::Viewer),
            )
            .query("environment", scoped)
            .ok(200, Some("NotFoundReport"), "per environment, most recently asked for first")
            .ok(404, Some("Error"), "no such environment"),
            not_found,
        )
        .add(
            Doc::new(
                Method::GET,
                "/api/v1/exposures",
                "Recent exposures SDKs reported, newest first: for spot checks of experiments, not analysis",
                Auth::Token(Role::Viewer),
            )
            .query("environment", scoped)
            .query("flag", "only this flag")
            .query("since", "RFC 3339: only those received at or after")
            .query("before_id", "only those with a smaller id (paging: pass `next_before_id`)")
            .query("limit", "at most this many (1 to 1000, default 100)")
            .ok(200, Some("ExposureList"), "the newest kept (per environment, by count and age: see --exposures-kept)")
            .ok(404, Some("Error"), "no such environment")
            .ok(400, Some("Error"), "`invalid_query`: a bad time or limit; `field` names the parameter"),
            exposures,
        )
}

/// The environments a request covers: the one it names (which must exist, and the
/// token may read), or every one the token may read.
async fn covered(tx: &mut Tx, who: &Principal, asked: Option<&str>) -> Result<Vec<EnvRow>, ApiError> {
    match asked {
        Some(env) => {
            who.require_env(Role::Viewer, env)?;
            Ok(vec![tx.env(env).await?.ok_or_else(|| ApiError::no_environment(env))?])
        }
        None => {
            who.require(Role::Viewer)?;
            Ok(tx.envs().await?.into_iter().filter(|env| who.may_use(&env.name)).collect())
        }
    }
}

/// A time from query parameter `name`.
fn time(name: &str, text: Option<&str>) -> Result<Option<i64>, ApiError> {
    text.map(|text| {
        pennon_core::parse_rfc3339(text).map_err(|e| {
            ApiError::bad_query(name, format!("`{text}` is not an RFC 3339 time such as 2026-01-02T00:00:00Z: {e}"))
        })
    })
    .transpose()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UsageParams {
    environment: Option<String>,
    flag: Option<String>,
    since: Option<String>,
    until: Option<String>,
    granularity: Option<String>,
}

async fn usage(
    State(app): State<App>,
    who: Principal,
    QueryParams(q): QueryParams<UsageParams>,
) -> Result<Response, ApiError> {
    let now = crate::clock::now_ms();
    let until = time("until", q.until.as_deref())?.unwrap_or(now);
    let since = time("since", q.since.as_deref())?.unwrap_or(until - 7 * DAY_MS);
    if since >= until {
        return Err(ApiError::bad_query("since", "must be before `until`"));
    }
    let granularity = match q.granularity.as_deref() {
        None if until - since <= 2 * DAY_MS => Granularity::Hour,
        None | Some("day") => Granularity::Day,
        Some("hour") => Granularity::Hour,
        Some(other) => return Err(ApiError::bad_query("granularity", format!("`{other}` is not `hour` or `day`"))),
    };
    let mut main = app.store.read().await?;
    let envs = covered(&mut main, &who, q.environment.as_deref()).await?;
    if let Some(flag) = &q.flag {
        main.flag(flag).await?.ok_or_else(|| ApiError::not_found(format!("no flag `{flag}`")))?;
    }
    let query = UsageQuery { envs, flag: q.flag, since, until, granularity };
    let mut telemetry = app.telemetry.store.read().await?;
    let report = crate::report::usage(&mut main, &mut telemetry, &query, now).await?;
    Ok(respond(StatusCode::OK, Some(to_json(&report)?), None, None))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NotFoundParams {
    environment: Option<String>,
}

async fn not_found(
    State(app): State<App>,
    who: Principal,
    QueryParams(q): QueryParams<NotFoundParams>,
) -> Result<Response, ApiError> {
    let mut main = app.store.read().await?;
    let envs = covered(&mut main, &who, q.environment.as_deref()).await?;
    let mut telemetry = app.telemetry.store.read().await?;
    let report = crate::report::not_found(&mut main, &mut telemetry, &envs, crate::clock::now_ms()).await?;
    Ok(respond(StatusCode::OK, Some(to_json(&report)?), None, None))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ExposureParams {
    environment: Option<String>,
    flag: Option<String>,
    since: Option<String>,
    before_id: Option<String>,
    limit: Option<String>,
}

async fn exposures(
    State(app): State<App>,
    who: Principal,
    QueryParams(q): QueryParams<ExposureParams>,
) -> Result<Response, ApiError> {
    let limit = whole_number("limit", q.limit.as_deref(), 1..=MAX_LIMIT)?.unwrap_or(100);
    let before_id = whole_number("before_id", q.before_id.as_deref(), 1..=i64::MAX)?;
    let now = crate::clock::now_ms();
    // Past the age bound they are deleted by the next report or sweep; never shown.
    let kept_since = app.telemetry.exposures_since(now);
    let since = time("since", q.since.as_deref())?.map_or(kept_since, |since| since.max(kept_since));
    let envs = covered(&mut app.store.read().await?, &who, q.environment.as_deref()).await?;
    let mut telemetry = app.telemetry.store.read().await?;
    let mut rows: Vec<ExposureRow> = Vec::new();
    for env in &envs {
        let filter = ExposureFilter {
            env: env.name.clone(),
            flag: q.flag.clone(),
            since: since.max(env.created_at),
            before_id,
            limit,
        };
        rows.extend(telemetry.exposures(&filter).await?);
    }
    rows.sort_by_key(|row| std::cmp::Reverse(row.id));
    let full = rows.len() as i64 >= limit;
    rows.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    let next_before_id = rows.last().map(|row| row.id).filter(|_| full);
    let exposures = rows.into_iter().map(entry).collect();
    Ok(respond(StatusCode::OK, Some(to_json(&ExposureList { exposures, next_before_id })?), None, None))
}

fn entry(row: ExposureRow) -> ExposureEntry {
    ExposureEntry {
        id: row.id,
        environment: row.env,
        flag: row.flag,
        variant: row.variant,
        reason: row.reason,
        rule_id: row.rule_id,
        targeting_key: row.targeting_key,
        bucket_attribute: row.bucket_attribute,
        bucket_value: row.bucket_value,
        snapshot_version: to_u64(row.snapshot_version),
        timestamp: rfc3339(row.timestamp_ms),
        received_at: rfc3339(row.received_at),
        sdk: Some(row.sdk).filter(|sdk| !sdk.is_empty()),
        instance: row.instance,
    }
}
