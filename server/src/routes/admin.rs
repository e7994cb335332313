//! `/api/v1/tokens`, `/api/v1/audit`, `/api/v1/change-requests` and `/api/v1/whoami`.

use axum::extract::State;
use axum::http::{Method, StatusCode};
use axum::response::Response;
use serde::Deserialize;
use serde_json::{json, Value as Json};

use super::{respond, whole_number, Auth, Body, Doc, PathParams, QueryParams, Routes, MAX_LIMIT};
use crate::app::App;
use crate::auth::Principal;
use crate::error::ApiError;
use crate::model::{AuditEntry, ChangeStatus, NewToken, Role, AUDIT_ACTIONS, AUDIT_RESOURCE_TYPES};
use crate::service::{access, changes, to_json};
use crate::store::{to_u64, AuditFilter, AuditRow};

pub(super) fn add(routes: Routes) -> Routes {
    let change = "/api/v1/change-requests/{id}";
    routes
        .add(
            Doc::new(Method::GET, "/api/v1/whoami", "The calling token", Auth::Token(Role::Viewer)).ok(
                200,
                Some("WhoAmI"),
                "name, role and environments",
            ),
            whoami,
        )
        .add(
            Doc::new(Method::GET, "/api/v1/tokens", "List API tokens", Auth::Token(Role::Admin)).ok(
                200,
                Some("TokenList"),
                "without secrets",
            ),
            list_tokens,
        )
        .add(
            Doc::new(Method::POST, "/api/v1/tokens", "Create an API token", Auth::Token(Role::Admin))
                .body("NewToken")
                .ok(201, Some("Token"), "the secret is in `token`, shown once"),
            create_token,
        )
        .add(
            Doc::new(Method::DELETE, "/api/v1/tokens/{id}", "Revoke an API token", Auth::Token(Role::Admin))
                .ok(204, None, "revoked"),
            revoke_token,
        )
        .add(
            Doc::new(Method::GET, "/api/v1/audit", "Read the audit log, newest first", Auth::Token(Role::Viewer))
                .query("environment", "only this environment (required for tokens scoped to environments)")
                .query("resource", "only this flag, segment or other resource key")
                .query("resource_type", "flag, segment, environment, token, sdk_key, change_request or snapshot")
                .query("actor", "only changes by this token name")
                .query(
                    "action",
                    "one of the actions the log records, such as flag.create or config.toggle (another is refused, \
                     the message listing them)",
                )
                .query("request_id", "only entries of this request")
                .query("since", "RFC 3339: only entries at or after")
                .query("until", "RFC 3339: only entries at or before")
                .query("before_id", "only entries with a smaller id (paging; 1 or more)")
                .query("limit", "at most this many (1 to 1000, default 100)")
                .ok(
                    200,
                    Some("AuditList"),
                    "`{\"entries\": [AuditEntry]}`; a compact entry (a large list changed) has `changes` beside \
                     `before` and `after`; a compact `change_request.open` entry has no `before`, and its \
                     `changes` compare the proposal with what the environment had",
                ),
            audit,
        )
        .add(
            Doc::new(Method::GET, "/api/v1/change-requests", "List change requests", Auth::Token(Role::Viewer))
                .query("environment", "only this environment")
                .query("status", "open, applied or rejected")
                .ok(200, Some("ChangeRequestList"), "newest first"),
            list_changes,
        )
        .add(
            Doc::new(Method::GET, change, "Read a change request", Auth::Token(Role::Viewer)).ok(
                200,
                Some("ChangeRequest"),
                "",
            ),
            get_change,
        )
        .add(
            Doc::new(
                Method::POST,
                "/api/v1/change-requests/{id}/approve",
                "Approve and apply a change request (not by its proposer)",
                Auth::Token(Role::Editor),
            )
            .ok(
                200,
                Some("ChangeRequest"),
                "applied and published (Pennon-Snapshot-Version header); or, when its change is already in effect \
                 (another change made it), closed as applied with nothing published: `snapshot_version` null",
            )
            .ok(403, Some("Error"), "the approver proposed it")
            .ok(
                412,
                Some("Error"),
                "the resource changed since the proposal: the request stays open, to be rejected and proposed again",
            ),
            approve,
        )
        .add(
            Doc::new(
                Method::POST,
                "/api/v1/change-requests/{id}/reject",
                "Reject a change request",
                Auth::Token(Role::Editor),
            )
            .ok(200, Some("ChangeRequest"), "rejected"),
            reject,
        )
}

async fn whoami(who: Principal) -> Result<Response, ApiError> {
    let environments = who.environments.clone().unwrap_or_else(|| vec!["*".into()]);
    let body = json!({ "name": who.name, "role": who.role, "environments": environments });
    Ok(respond(StatusCode::OK, Some(body), None, None))
}

async fn list_tokens(State(app): State<App>, who: Principal) -> Result<Response, ApiError> {
    who.require_all(Role::Admin, "API tokens span environments")?;
    let tokens: Vec<_> = app.store.read().await?.tokens().await?.iter().map(access::token_from_row).collect();
    Ok(respond(StatusCode::OK, Some(json!({ "tokens": tokens })), None, None))
}

async fn create_token(State(app): State<App>, who: Principal, body: Body) -> Result<Response, ApiError> {
    who.require_all(Role::Admin, "API tokens span environments")?;
    let new: NewToken = body.json()?;
    let token = access::create_token(&app, &who.actor(), &new).await?;
    Ok(respond(StatusCode::CREATED, Some(to_json(&token)?), None, None))
}

async fn revoke_token(
    State(app): State<App>,
    who: Principal,
    PathParams(id): PathParams<i64>,
) -> Result<Response, ApiError> {
    who.require_all(Role::Admin, "API tokens span environments")?;
    access::revoke_token(&app, &who.actor(), id).await?;
    Ok(respond(StatusCode::NO_CONTENT, None, None, None))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AuditQuery {
    environment: Option<String>,
    resource: Option<String>,
    resource_type: Option<String>,
    actor: Option<String>,
    action: Option<String>,
    request_id: Option<String>,
    since: Option<String>,
    until: Option<String>,
    before_id: Option<String>,
    limit: Option<String>,
}

/// `value` of query parameter `name`, when it is one of `known` (what the log records):
/// a filter on anything else would match nothing and read as "never happened".
fn known(name: &str, value: Option<String>, known: &[&str]) -> Result<Option<String>, ApiError> {
    match value {
        Some(value) if !known.contains(&value.as_str()) => Err(ApiError::bad_query(
            name,
            format!("the audit log records no `{value}`; it records {}", known.join(", ")),
        )),
        value => Ok(value),
    }
}

fn time(name: &str, text: Option<&String>) -> Result<Option<i64>, ApiError> {
    text.map(|t| pennon_core::parse_rfc3339(t).map_err(|e| ApiError::bad_query(name, e))).transpose()
}

/// The API form of an audit row.
fn entry(row: AuditRow) -> AuditEntry {
    let json = |text: Option<String>| text.and_then(|t| serde_json::from_str::<Json>(&t).ok());
    AuditEntry {
        id: row.id,
        at: crate::clock::rfc3339(row.at),
        actor: row.actor,
        approved_by: row.approved_by,
        action: row.action,
        resource_type: row.resource_type,
        resource: row.resource,
        environment: row.env,
        before: json(row.before_json),
        after: json(row.after_json),
        changes: row.changes_json.and_then(|t| serde_json::from_str(&t).ok()),
        request_id: row.request_id,
        snapshot_version: row.snapshot_version.map(to_u64),
        change_request: row.change_request,
    }
}

async fn audit(
    State(app): State<App>,
    who: Principal,
    QueryParams(q): QueryParams<AuditQuery>,
) -> Result<Response, ApiError> {
    let whole_log = "the whole audit log spans every environment (filter with `environment=`)";
    match &q.environment {
        Some(env) => who.require_env(Role::Viewer, env)?,
        None => who.require_all(Role::Viewer, whole_log)?,
    }
    let limit = whole_number("limit", q.limit.as_deref(), 1..=MAX_LIMIT)?.unwrap_or(100);
    let before_id = whole_number("before_id", q.before_id.as_deref(), 1..=i64::MAX)?;
    let action = known("action", q.action, AUDIT_ACTIONS)?;
    let resource_type = known("resource_type", q.resource_type, AUDIT_RESOURCE_TYPES)?;
    let mut store = app.store.read().await?;
    let mut since = time("since", q.since.as_ref())?;
    // A token scoped to an environment sees its entries, not those of an earlier
    // environment deleted under the same name (the audit log keeps those for admins).
    if let (Some(env), Some(_)) = (&q.environment, &who.environments) {
        let row = store.env(env).await?.ok_or_else(|| ApiError::no_environment(env))?;
        since = Some(since.map_or(row.created_at, |since| since.max(row.created_at)));
    }
    let filter = AuditFilter {
        since,
        until: time("until", q.until.as_ref())?,
        env: q.environment,
        resource: q.resource,
        resource_type,
        actor: q.actor,
        action,
        request_id: q.request_id,
        before_id,
        limit,
    };
    let entries: Vec<AuditEntry> = store.audit(&filter).await?.into_iter().map(entry).collect();
    Ok(respond(StatusCode::OK, Some(json!({ "entries": entries })), None, None))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ChangeQuery {
    environment: Option<String>,
    status: Option<ChangeStatus>,
}

async fn list_changes(
    State(app): State<App>,
    who: Principal,
    QueryParams(q): QueryParams<ChangeQuery>,
) -> Result<Response, ApiError> {
    match &q.environment {
        Some(env) => who.require_env(Role::Viewer, env)?,
        None => who.require(Role::Viewer)?,
    }
    const LIMIT: usize = 200;
    let status = q.status.map(ChangeStatus::as_str);
    let mut store = app.store.read().await?;
    // A scoped token reads each of its environments, newest first, so requests of
    // environments it cannot see never crowd its own out of the limit.
    let mut rows = match (&q.environment, &who.environments) {
        (None, Some(scoped)) => {
            let mut rows = Vec::new();
            for env in scoped {
                rows.extend(store.changes(Some(env), status, LIMIT as i64).await?);
            }
            rows.sort_by_key(|row| std::cmp::Reverse(row.id));
            rows
        }
        _ => store.changes(q.environment.as_deref(), status, LIMIT as i64).await?,
    };
    rows.truncate(LIMIT);
    let list = rows.iter().filter(|r| who.may_use(&r.env)).map(changes::from_row).collect::<Result<Vec<_>, _>>()?;
    Ok(respond(StatusCode::OK, Some(json!({ "change_requests": list })), None, None))
}

async fn read_change(app: &App, who: &Principal, id: i64, role: Role) -> Result<crate::store::ChangeRow, ApiError> {
    who.require(role)?;
    let row = app.store.read().await?.change(id).await?;
    let row =
        row.filter(|r| who.may_use(&r.env)).ok_or_else(|| ApiError::not_found(format!("no change request {id}")))?;
    who.require_env(role, &row.env)?;
    Ok(row)
}

async fn get_change(
    State(app): State<App>,
    who: Principal,
    PathParams(id): PathParams<i64>,
) -> Result<Response, ApiError> {
    let row = read_change(&app, &who, id, Role::Viewer).await?;
    Ok(respond(StatusCode::OK, Some(to_json(&changes::from_row(&row)?)?), None, None))
}

async fn approve(
    State(app): State<App>,
    who: Principal,
    PathParams(id): PathParams<i64>,
) -> Result<Response, ApiError> {
    let row = read_change(&app, &who, id, Role::Editor).await?;
    let applied = changes::approve(&app, &who.actor(), id, &row.env).await?;
    Ok(respond(applied.status, applied.body, None, applied.version))
}

async fn reject(State(app): State<App>, who: Principal, PathParams(id): PathParams<i64>) -> Result<Response, ApiError> {
    let row = read_change(&app, &who, id, Role::Editor).await?;
    let body = changes::reject(&app, &who.actor(), id, &row.env).await?;
    Ok(respond(StatusCode::OK, Some(body), None, None))
}
