//! `/api/v1/environments`: environments, their published snapshots, rollback and SDK
//! keys.

use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::Response;
use serde::Deserialize;
use serde_json::{json, Value as Json};

use super::flags::submit;
use super::{respond, whole_number, Auth, Body, Doc, PathParams, QueryParams, Routes, MAX_LIMIT};
use crate::app::App;
use crate::auth::Principal;
use crate::error::ApiError;
use crate::model::{EnvPatch, NewEnvironment, NewSdkKey, Operation, Role, SdkKind};
use crate::service::{access, envs, to_json, IfMatch};
use crate::snapshot::{decode_envelope_payload, missing_version};
use crate::store::{to_i64, to_u64};

pub(super) fn add(routes: Routes) -> Routes {
    let one = "/api/v1/environments/{env}";
    let keys = "/api/v1/environments/{env}/sdk-keys";
    routes
        .add(
            Doc::new(Method::GET, "/api/v1/environments", "List environments", Auth::Token(Role::Viewer)).ok(
                200,
                Some("EnvironmentList"),
                "the environments the token may use",
            ),
            list,
        )
        .add(
            Doc::new(Method::POST, "/api/v1/environments", "Create an environment", Auth::Token(Role::Admin))
                .body("NewEnvironment")
                .ok(201, Some("Environment"), "created and published"),
            create,
        )
        .add(
            Doc::new(Method::GET, one, "Read an environment", Auth::Token(Role::Viewer)).ok(
                200,
                Some("Environment"),
                "ETag header",
            ),
            get,
        )
        .add(
            Doc::new(Method::PATCH, one, "Protect or unprotect an environment", Auth::Token(Role::Admin))
                .body("EnvPatch")
                .if_match()
                .ok(200, Some("Environment"), "changed"),
            patch,
        )
        .add(
            Doc::new(Method::DELETE, one, "Delete an unprotected environment", Auth::Token(Role::Admin)).if_match().ok(
                204,
                None,
                "deleted, and taken out of API tokens' scopes (a token scoped to it alone is revoked), its open \
                 change requests rejected, with its telemetry; its snapshots stay, as snapshot retention allows",
            ),
            delete,
        )
        .add(
            Doc::new(
                Method::GET,
                "/api/v1/environments/{env}/snapshots",
                "List published snapshots",
                Auth::Token(Role::Viewer),
            )
            .query("kind", "`server` (default) or `client`")
            .query("before", "only versions below this (1 or more)")
            .query("limit", "at most this many (1 to 1000, default 50)")
            .ok(200, Some("SnapshotList"), "newest first, of the versions snapshot retention keeps"),
            snapshots,
        )
        .add(
            Doc::new(
                Method::GET,
                "/api/v1/environments/{env}/snapshots/{version}",
                "One published snapshot",
                Auth::Token(Role::Viewer),
            )
            .query("kind", "`server` (default) or `client`")
            .ok(200, Some("Snapshot"), "metadata, payload and envelope")
            .ok(
                410,
                Some("Error"),
                "`pruned`: snapshot retention deleted it; the message names the oldest kept",
            ),
            snapshot,
        )
        .add(
            Doc::new(
                Method::POST,
                "/api/v1/environments/{env}/rollback",
                "Republish an earlier version's content as a new version",
                Auth::Token(Role::Editor),
            )
            .body("RollbackRequest")
            .if_match()
            .ok(200, Some("RollbackResult"), "published")
            .ok(
                422,
                Some("Error"),
                "`to_version` is not one to roll back to: the current version or later, one of an earlier environment \
                 of the same name, or one snapshot retention deleted (the message names the versions kept)",
            )
            .ok(202, Some("ChangeRequest"), super::PROPOSED),
            rollback,
        )
        .add(
            Doc::new(Method::GET, keys, "List SDK keys", Auth::Token(Role::Admin)).ok(
                200,
                Some("SdkKeyList"),
                "without secrets",
            ),
            list_keys,
        )
        .add(
            Doc::new(Method::POST, keys, "Create an SDK key", Auth::Token(Role::Admin)).body("NewSdkKey").ok(
                201,
                Some("SdkKey"),
                "the secret is in `key`, shown once",
            ),
            create_key,
        )
        .add(
            Doc::new(
                Method::DELETE,
                "/api/v1/environments/{env}/sdk-keys/{id}",
                "Revoke an SDK key",
                Auth::Token(Role::Admin),
            )
            .ok(204, None, "revoked"),
            revoke_key,
        )
}

async fn list(State(app): State<App>, who: Principal) -> Result<Response, ApiError> {
    who.require(Role::Viewer)?;
    let rows = app.store.read().await?.envs().await?;
    let envs: Vec<_> = rows.iter().filter(|r| who.may_use(&r.name)).map(|r| envs::from_row(r).0).collect();
    Ok(respond(StatusCode::OK, Some(json!({ "environments": envs })), None, None))
}

async fn create(State(app): State<App>, who: Principal, body: Body) -> Result<Response, ApiError> {
    who.require_all(Role::Admin, "creating an environment publishes every flag to it")?;
    let new: NewEnvironment = body.json()?;
    let (env, etag) = envs::create(&app, &who.actor(), &new).await?;
    Ok(respond(StatusCode::CREATED, Some(to_json(&env)?), Some(&etag), Some(env.version)))
}

async fn get(
    State(app): State<App>,
    who: Principal,
    PathParams(name): PathParams<String>,
) -> Result<Response, ApiError> {
    who.require_env(Role::Viewer, &name)?;
    let row = app.store.read().await?.env(&name).await?;
    let (env, etag) = envs::from_row(&row.ok_or_else(|| ApiError::not_found(format!("no environment `{name}`")))?);
    Ok(respond(StatusCode::OK, Some(to_json(&env)?), Some(&etag), None))
}

async fn patch(
    State(app): State<App>,
    who: Principal,
    PathParams(name): PathParams<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    who.require_env(Role::Admin, &name)?;
    let change: EnvPatch = body.json()?;
    let (env, etag) = envs::patch(&app, &who.actor(), &name, &change, &IfMatch::from_headers(&headers)).await?;
    Ok(respond(StatusCode::OK, Some(to_json(&env)?), Some(&etag), None))
}

async fn delete(
    State(app): State<App>,
    who: Principal,
    PathParams(name): PathParams<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    who.require_all(Role::Admin, "deleting an environment changes API tokens' scopes")?;
    let status = envs::delete(&app, &who.actor(), &name, &IfMatch::from_headers(&headers)).await?;
    Ok(respond(status, None, None, None))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SnapshotQuery {
    kind: Option<SdkKind>,
    before: Option<String>,
    limit: Option<String>,
}

async fn snapshots(
    State(app): State<App>,
    who: Principal,
    PathParams(env): PathParams<String>,
    QueryParams(query): QueryParams<SnapshotQuery>,
) -> Result<Response, ApiError> {
    who.require_env(Role::Viewer, &env)?;
    let kind = query.kind.unwrap_or(SdkKind::Server);
    let limit = whole_number("limit", query.limit.as_deref(), 1..=MAX_LIMIT)?.unwrap_or(50);
    let before = whole_number("before", query.before.as_deref(), 1..=i64::MAX)?;
    let mut tx = app.store.read().await?;
    let floor = tx.base_version(&env).await?;
    let rows = tx.list_snapshots(&env, kind.as_str(), before, limit).await?;
    let list: Vec<Json> = rows
        .iter()
        .filter(|r| r.version > floor)
        .map(|r| {
            json!({
                "version": r.version, "kind": r.kind, "sha256": r.sha256, "key_ids": r.key_ids.split(',').collect::<Vec<_>>(),
                "issued_at": crate::clock::rfc3339(r.issued_at), "expires_at": crate::clock::rfc3339(r.expires_at),
            })
        })
        .collect();
    Ok(respond(StatusCode::OK, Some(json!({ "environment": env, "snapshots": list })), None, None))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct KindQuery {
    kind: Option<SdkKind>,
}

async fn snapshot(
    State(app): State<App>,
    who: Principal,
    PathParams((env, version)): PathParams<(String, u64)>,
    QueryParams(query): QueryParams<KindQuery>,
) -> Result<Response, ApiError> {
    who.require_env(Role::Viewer, &env)?;
    let kind = query.kind.unwrap_or(SdkKind::Server);
    let mut tx = app.store.read().await?;
    let floor = tx.base_version(&env).await?;
    let row = if to_i64(version) > floor { tx.snapshot(&env, kind.as_str(), to_i64(version)).await? } else { None };
    let Some(row) = row else {
        return Err(missing_version(&mut tx, &app.config.retention, &env, kind, version, floor).await?);
    };
    let payload: Json = serde_json::from_slice(&decode_envelope_payload(&row.envelope)?).map_err(ApiError::internal)?;
    let envelope: Json = serde_json::from_str(&row.envelope).map_err(ApiError::internal)?;
    let body = json!({
        "environment": env, "kind": row.kind, "version": to_u64(row.version), "sha256": row.sha256,
        "key_ids": row.key_ids.split(',').collect::<Vec<_>>(),
        "issued_at": crate::clock::rfc3339(row.issued_at), "expires_at": crate::clock::rfc3339(row.expires_at),
        "payload": payload, "envelope": envelope,
    });
    Ok(respond(StatusCode::OK, Some(body), None, None))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RollbackRequest {
    to_version: u64,
}

async fn rollback(
    State(app): State<App>,
    who: Principal,
    PathParams(env): PathParams<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    who.require_env(Role::Editor, &env)?;
    let request: RollbackRequest = body.json()?;
    submit(&app, &who, &env, Operation::Rollback { to_version: request.to_version }, &headers).await
}

async fn list_keys(
    State(app): State<App>,
    who: Principal,
    PathParams(env): PathParams<String>,
) -> Result<Response, ApiError> {
    who.require_env(Role::Admin, &env)?;
    let rows = app.store.read().await?.sdk_keys(&env).await?;
    let keys: Vec<_> = rows.iter().map(access::sdk_key_from_row).collect();
    Ok(respond(StatusCode::OK, Some(json!({ "environment": env, "sdk_keys": keys })), None, None))
}

async fn create_key(
    State(app): State<App>,
    who: Principal,
    PathParams(env): PathParams<String>,
    body: Body,
) -> Result<Response, ApiError> {
    who.require_env(Role::Admin, &env)?;
    let new: NewSdkKey = body.json()?;
    let key = access::create_sdk_key(&app, &who.actor(), &env, &new).await?;
    Ok(respond(StatusCode::CREATED, Some(to_json(&key)?), None, None))
}

async fn revoke_key(
    State(app): State<App>,
    who: Principal,
    PathParams((env, id)): PathParams<(String, i64)>,
) -> Result<Response, ApiError> {
    who.require_env(Role::Admin, &env)?;
    access::revoke_sdk_key(&app, &who.actor(), &env, id).await?;
    Ok(respond(StatusCode::NO_CONTENT, None, None, None))
}
