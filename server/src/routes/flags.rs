//! `/api/v1/flags` (definitions) and `/api/v1/environments/{env}/flags` (their
//! configuration in one environment, with the toggle and rollout shortcuts).

use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::Response;
use serde::Deserialize;
use serde_json::json;

use super::{respond, Auth, Body, Doc, PathParams, QueryParams, Routes};
use crate::app::App;
use crate::auth::Principal;
use crate::error::ApiError;
use crate::model::{Flag, FlagConfig, Operation, Role, RolloutRequest, Toggle};
use crate::service::{etag_rev, flags, ops, to_json, IfMatch};
use crate::snapshot::{default_config, flag_from_row};

pub(super) fn add(routes: Routes) -> Routes {
    let config_path = "/api/v1/environments/{env}/flags/{key}";
    routes
        .add(
            Doc::new(Method::GET, "/api/v1/flags", "List flag definitions", Auth::Token(Role::Viewer))
                .query("tag", "only flags with this tag")
                .ok(200, Some("FlagList"), "`{\"flags\": [Flag]}`"),
            list,
        )
        .add(
            Doc::new(Method::POST, "/api/v1/flags", "Create a flag (disabled everywhere)", Auth::Token(Role::Editor))
                .body("NewFlag")
                .ok(
                    201,
                    Some("Flag"),
                    "created; ETag header. Disabled everywhere, it serves its off variant (`off_variant` if given, \
                     else `off`, else the first variant by name); its fallthrough, served once enabled, is `on`, \
                     else that same off variant, so enabling a flag without an `on` variant changes nothing until \
                     its configuration is set",
                )
                .ok(409, Some("Error"), "the key exists")
                .ok(422, Some("Error"), "a field is invalid"),
            create,
        )
        .add(
            Doc::new(Method::GET, "/api/v1/flags/{key}", "Read a flag definition", Auth::Token(Role::Viewer)).ok(
                200,
                Some("Flag"),
                "ETag header",
            ),
            get,
        )
        .add(
            Doc::new(Method::PUT, "/api/v1/flags/{key}", "Replace a flag definition", Auth::Token(Role::Editor))
                .body("Flag")
                .if_match()
                .ok(200, Some("Flag"), "replaced; new ETag")
                .ok(412, Some("Error"), "If-Match is stale")
                .ok(428, Some("Error"), "no If-Match"),
            put,
        )
        .add(
            Doc::new(Method::DELETE, "/api/v1/flags/{key}", "Delete a flag everywhere", Auth::Token(Role::Editor))
                .if_match()
                .ok(204, None, "deleted, with its telemetry (counts, last-seen times, exposures)"),
            delete,
        )
        .add(
            Doc::new(
                Method::GET,
                "/api/v1/environments/{env}/flags",
                "Every flag's configuration in an environment",
                Auth::Token(Role::Viewer),
            )
            .ok(200, Some("ConfigList"), "`{\"flags\": [{\"key\", \"etag\", \"config\"}]}`"),
            list_configs,
        )
        .add(
            Doc::new(Method::GET, config_path, "A flag's configuration in an environment", Auth::Token(Role::Viewer))
                .ok(200, Some("FlagConfig"), "ETag header"),
            get_config,
        )
        .add(
            Doc::new(Method::PUT, config_path, "Replace a flag's configuration", Auth::Token(Role::Editor))
                .body("FlagConfig")
                .if_match()
                .ok(
                    200,
                    Some("FlagConfig"),
                    "published; ETag and Pennon-Snapshot-Version headers (none if nothing changed)",
                )
                .ok(202, Some("ChangeRequest"), super::PROPOSED)
                .ok(422, Some("Error"), "invalid; `field` names the member, `path` the snapshot path"),
            put_config,
        )
        .add(
            Doc::new(
                Method::POST,
                "/api/v1/environments/{env}/flags/{key}/toggle",
                "Set the kill switch",
                Auth::Token(Role::Editor),
            )
            .body("Toggle")
            .if_match()
            .ok(200, Some("FlagConfig"), "published (Pennon-Snapshot-Version), or already so (no header)")
            .ok(202, Some("ChangeRequest"), super::PROPOSED),
            toggle,
        )
        .add(
            Doc::new(
                Method::POST,
                "/api/v1/environments/{env}/flags/{key}/rollout",
                "Roll a variant out to a percentage of users",
                Auth::Token(Role::Editor),
            )
            .body("RolloutRequest")
            .if_match()
            .ok(200, Some("FlagConfig"), "published (Pennon-Snapshot-Version), or already so (no header)")
            .ok(202, Some("ChangeRequest"), super::PROPOSED),
            rollout,
        )
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    tag: Option<String>,
}

async fn list(
    State(app): State<App>,
    who: Principal,
    QueryParams(query): QueryParams<ListQuery>,
) -> Result<Response, ApiError> {
    who.require(Role::Viewer)?;
    let mut flags = Vec::new();
    for row in app.store.read().await?.flags().await? {
        let flag = flag_from_row(&row)?;
        if query.tag.as_ref().is_none_or(|tag| flag.tags.contains(tag)) {
            flags.push(flag);
        }
    }
    Ok(respond(StatusCode::OK, Some(json!({ "flags": flags })), None, None))
}

async fn create(State(app): State<App>, who: Principal, body: Body) -> Result<Response, ApiError> {
    // A new flag is published to every environment, as an update or delete is.
    who.require_all(Role::Editor, "a flag definition is published to every environment")?;
    let mut members: serde_json::Map<String, serde_json::Value> = body.json()?;
    let off_variant = match members.remove("off_variant") {
        None => None,
        Some(serde_json::Value::String(name)) => Some(name),
        Some(_) => return Err(ApiError::invalid("off_variant", "must be a string: the name of one of the variants")),
    };
    let flag: Flag = super::extract::shaped(serde_json::Value::Object(members))?;
    let (flag, etag) = flags::create(&app, &who.actor(), flag, off_variant.as_deref()).await?;
    let mut response = respond(StatusCode::CREATED, Some(to_json(&flag)?), Some(&etag), None);
    if let Ok(location) = HeaderValue::from_str(&format!("/api/v1/flags/{}", flag.key)) {
        response.headers_mut().insert(header::LOCATION, location);
    }
    Ok(response)
}

async fn get(
    State(app): State<App>,
    who: Principal,
    PathParams(key): PathParams<String>,
) -> Result<Response, ApiError> {
    who.require(Role::Viewer)?;
    let row =
        app.store.read().await?.flag(&key).await?.ok_or_else(|| ApiError::not_found(format!("no flag `{key}`")))?;
    Ok(respond(StatusCode::OK, Some(to_json(&flag_from_row(&row)?)?), Some(&etag_rev(row.rev)), None))
}

async fn put(
    State(app): State<App>,
    who: Principal,
    PathParams(key): PathParams<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    who.require_all(Role::Editor, "a flag definition is published to every environment")?;
    let flag: Flag = body.json()?;
    let (flag, etag) = flags::update(&app, &who.actor(), &key, flag, &IfMatch::from_headers(&headers)).await?;
    Ok(respond(StatusCode::OK, Some(to_json(&flag)?), Some(&etag), None))
}

async fn delete(
    State(app): State<App>,
    who: Principal,
    PathParams(key): PathParams<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    who.require_all(Role::Editor, "a flag definition is published to every environment")?;
    flags::delete(&app, &who.actor(), &key, &IfMatch::from_headers(&headers)).await?;
    Ok(respond(StatusCode::NO_CONTENT, None, None, None))
}

async fn list_configs(
    State(app): State<App>,
    who: Principal,
    PathParams(env): PathParams<String>,
) -> Result<Response, ApiError> {
    who.require_env(Role::Viewer, &env)?;
    let mut tx = app.store.read().await?;
    tx.env(&env).await?.ok_or_else(|| ApiError::no_environment(&env))?;
    let mut flags = Vec::new();
    for row in tx.configs(&env).await? {
        let config: FlagConfig = serde_json::from_str(&row.config).map_err(ApiError::internal)?;
        flags.push(json!({ "key": row.flag, "etag": etag_rev(row.rev), "config": config }));
    }
    Ok(respond(StatusCode::OK, Some(json!({ "environment": env, "flags": flags })), None, None))
}

async fn get_config(
    State(app): State<App>,
    who: Principal,
    PathParams((env, key)): PathParams<(String, String)>,
) -> Result<Response, ApiError> {
    who.require_env(Role::Viewer, &env)?;
    let mut tx = app.store.read().await?;
    tx.env(&env).await?.ok_or_else(|| ApiError::no_environment(&env))?;
    let flag = tx.flag(&key).await?.ok_or_else(|| ApiError::not_found(format!("no flag `{key}`")))?;
    let (config, rev) = match tx.config(&env, &key).await? {
        Some(row) => (serde_json::from_str::<FlagConfig>(&row.config).map_err(ApiError::internal)?, row.rev),
        None => (default_config(&flag_from_row(&flag)?.variants_or_default().unwrap_or_default()), 0),
    };
    Ok(respond(StatusCode::OK, Some(to_json(&config)?), Some(&etag_rev(rev)), None))
}

/// Runs an operation on `env` for `who` and answers with its outcome.
pub(super) async fn submit(
    app: &App,
    who: &Principal,
    env: &str,
    op: Operation,
    headers: &HeaderMap,
) -> Result<Response, ApiError> {
    let applied = ops::submit(app, &who.actor(), env, op, &IfMatch::from_headers(headers)).await?;
    Ok(respond(applied.status, applied.body, applied.etag.as_deref(), applied.version))
}

async fn put_config(
    State(app): State<App>,
    who: Principal,
    PathParams((env, key)): PathParams<(String, String)>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    who.require_env(Role::Editor, &env)?;
    let config: FlagConfig = body.json()?;
    submit(&app, &who, &env, Operation::UpdateConfig { flag: key, config: Box::new(config) }, &headers).await
}

async fn toggle(
    State(app): State<App>,
    who: Principal,
    PathParams((env, key)): PathParams<(String, String)>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    who.require_env(Role::Editor, &env)?;
    let toggle: Toggle = body.json()?;
    submit(&app, &who, &env, Operation::Toggle { flag: key, enabled: toggle.enabled }, &headers).await
}

async fn rollout(
    State(app): State<App>,
    who: Principal,
    PathParams((env, key)): PathParams<(String, String)>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    who.require_env(Role::Editor, &env)?;
    let rollout: RolloutRequest = body.json()?;
    submit(&app, &who, &env, Operation::Rollout { flag: key, rollout }, &headers).await
}
