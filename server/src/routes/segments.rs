//! `/api/v1/environments/{env}/segments`: segments of one environment.

use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::Response;
use serde_json::json;

use super::flags::submit;
use super::{respond, Auth, Body, Doc, PathParams, Routes};
use crate::app::App;
use crate::auth::Principal;
use crate::error::ApiError;
use crate::model::{Operation, Role, Segment};
use crate::service::{etag_rev, to_json};

pub(super) fn add(routes: Routes) -> Routes {
    let list_path = "/api/v1/environments/{env}/segments";
    let one_path = "/api/v1/environments/{env}/segments/{key}";
    routes
        .add(
            Doc::new(Method::GET, list_path, "List the segments of an environment", Auth::Token(Role::Viewer)).ok(
                200,
                Some("SegmentList"),
                "`{\"segments\": [{\"key\", \"etag\", \"segment\"}]}`",
            ),
            list,
        )
        .add(
            Doc::new(Method::POST, list_path, "Create a segment", Auth::Token(Role::Editor))
                .body("Segment")
                .ok(201, Some("Segment"), "published; ETag header")
                .ok(202, Some("ChangeRequest"), super::PROPOSED)
                .ok(409, Some("Error"), "the key exists"),
            create,
        )
        .add(
            Doc::new(Method::GET, one_path, "Read a segment", Auth::Token(Role::Viewer)).ok(
                200,
                Some("Segment"),
                "ETag header",
            ),
            get,
        )
        .add(
            Doc::new(Method::PUT, one_path, "Replace a segment", Auth::Token(Role::Editor))
                .body("Segment")
                .if_match()
                .ok(200, Some("Segment"), "published")
                .ok(202, Some("ChangeRequest"), super::PROPOSED),
            put,
        )
        .add(
            Doc::new(Method::DELETE, one_path, "Delete a segment no flag uses", Auth::Token(Role::Editor))
                .if_match()
                .ok(204, None, "published")
                .ok(202, Some("ChangeRequest"), super::PROPOSED)
                .ok(409, Some("Error"), "a flag or segment uses it"),
            delete,
        )
}

async fn list(
    State(app): State<App>,
    who: Principal,
    PathParams(env): PathParams<String>,
) -> Result<Response, ApiError> {
    who.require_env(Role::Viewer, &env)?;
    let mut tx = app.store.read().await?;
    tx.env(&env).await?.ok_or_else(|| ApiError::no_environment(&env))?;
    let mut segments = Vec::new();
    for row in tx.segments(&env).await? {
        let segment: Segment = serde_json::from_str(&row.body).map_err(ApiError::internal)?;
        segments.push(json!({ "key": row.key, "etag": etag_rev(row.rev), "segment": segment }));
    }
    Ok(respond(StatusCode::OK, Some(json!({ "environment": env, "segments": segments })), None, None))
}

async fn create(
    State(app): State<App>,
    who: Principal,
    PathParams(env): PathParams<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    who.require_env(Role::Editor, &env)?;
    let segment: Segment = body.json()?;
    submit(&app, &who, &env, Operation::CreateSegment { segment: Box::new(segment) }, &headers).await
}

async fn get(
    State(app): State<App>,
    who: Principal,
    PathParams((env, key)): PathParams<(String, String)>,
) -> Result<Response, ApiError> {
    who.require_env(Role::Viewer, &env)?;
    let row = app.store.read().await?.segment(&env, &key).await?;
    let row = row.ok_or_else(|| ApiError::not_found(format!("no segment `{key}` in `{env}`")))?;
    let segment: Segment = serde_json::from_str(&row.body).map_err(ApiError::internal)?;
    Ok(respond(StatusCode::OK, Some(to_json(&segment)?), Some(&etag_rev(row.rev)), None))
}

async fn put(
    State(app): State<App>,
    who: Principal,
    PathParams((env, key)): PathParams<(String, String)>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    who.require_env(Role::Editor, &env)?;
    let mut segment: Segment = body.json()?;
    if segment.key.is_empty() {
        segment.key.clone_from(&key);
    } else if segment.key != key {
        return Err(ApiError::invalid("key", format!("the body names segment `{}`, the path `{key}`", segment.key)));
    }
    submit(&app, &who, &env, Operation::UpdateSegment { segment: Box::new(segment) }, &headers).await
}

async fn delete(
    State(app): State<App>,
    who: Principal,
    PathParams((env, key)): PathParams<(String, String)>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    who.require_env(Role::Editor, &env)?;
    submit(&app, &who, &env, Operation::DeleteSegment { key }, &headers).await
}
