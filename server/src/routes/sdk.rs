//! What SDKs call: the latest snapshot (ETag = payload hash, `If-None-Match` gives
//! 304), any snapshot retention keeps by version (immutable), a server-sent-events
//! stream of new versions with heartbeats (`stream.rs`), and the public keys.
//!
//! The latest snapshots are served from memory (the hub), so a fetch costs a hash of
//! the SDK key, two map lookups and, for a 304, no body at all.

use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value as Json};

use super::{Auth, Doc, PathParams, Routes};
use crate::app::App;
use crate::auth::SdkKeyCache;
use crate::error::ApiError;
use crate::snapshot::{missing_version, Served};
use crate::store::{to_i64, to_u64};

pub(super) fn add(routes: Routes) -> Routes {
    routes
        .add(
            Doc::new(Method::GET, "/v1/snapshots/{env}", "The latest signed snapshot of an environment", Auth::SdkKey)
                .ok(200, Some("Envelope"), "the envelope; ETag is the quoted SHA-256 of its payload")
                .ok(304, None, "If-None-Match names the current ETag")
                .ok(401, Some("Error"), "no, unknown or revoked SDK key")
                .ok(403, Some("Error"), "an SDK key of another environment"),
            latest,
        )
        .add(
            Doc::new(Method::GET, "/v1/snapshots/{env}/{version}", "One snapshot by version (immutable)", Auth::SdkKey)
                .ok(200, Some("Envelope"), "the envelope, cacheable forever")
                .ok(404, Some("Error"), "no such version")
                .ok(410, Some("Error"), "`pruned`: snapshot retention deleted it; the message names the oldest kept"),
            by_version,
        )
        .add(
            Doc::new(Method::GET, "/v1/stream/{env}", "Server-sent events announcing new versions", Auth::SdkKey)
                .ok(
                    200,
                    None,
                    "text/event-stream: `event: version` with `data: N` at connect and at every new version; \
                     `: heartbeat` comments in between",
                )
                .ok(
                    429,
                    Some("Error"),
                    "`too_many_streams`: this SDK key has --max-streams-per-key streams open on this instance; \
                     `Retry-After` says when to try again, and the snapshot can be polled meanwhile",
                )
                .ok(
                    503,
                    Some("Error"),
                    "`streams_full`: this instance has --max-streams streams open (`Retry-After` says when to \
                     try again; poll the snapshot meanwhile), or `database_unavailable`: the key could not be \
                     checked",
                ),
            super::stream::stream,
        )
        .add(
            Doc::new(Method::GET, "/v1/keys", "The public keys snapshots are signed with", Auth::Public).ok(
                200,
                Some("Keys"),
                "signing keys, then other published keys",
            ),
            keys,
        )
}

fn envelope_response(served: &Served, cache_control: &'static str) -> Response {
    let mut response = served.body.clone().into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache_control));
    if let Ok(etag) = HeaderValue::from_str(&served.etag) {
        headers.insert(header::ETAG, etag);
    }
    headers.insert("pennon-snapshot-version", HeaderValue::from(served.version));
    response
}

/// Whether `If-None-Match` names `etag` (or is `*`).
fn not_modified(headers: &HeaderMap, etag: &str) -> bool {
    headers.get_all(header::IF_NONE_MATCH).iter().filter_map(|v| v.to_str().ok()).flat_map(|v| v.split(',')).any(|t| {
        let t = t.trim();
        t == "*" || t.strip_prefix("W/").unwrap_or(t) == etag
    })
}

async fn latest(
    State(app): State<App>,
    PathParams(env): PathParams<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let grant = SdkKeyCache::authorize(&app, &headers, &env).await?;
    let served = app
        .hub
        .feed(&env)
        .and_then(|feed| feed.latest(grant.kind))
        .ok_or_else(|| ApiError::not_found(format!("`{env}` has no published snapshot")))?;
    if not_modified(&headers, &served.etag) {
        let mut response = StatusCode::NOT_MODIFIED.into_response();
        if let Ok(etag) = HeaderValue::from_str(&served.etag) {
            response.headers_mut().insert(header::ETAG, etag);
        }
        response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
        return Ok(response);
    }
    Ok(envelope_response(&served, "no-cache"))
}

async fn by_version(
    State(app): State<App>,
    PathParams((env, version)): PathParams<(String, u64)>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let grant = SdkKeyCache::authorize(&app, &headers, &env).await?;
    let immutable = "max-age=31536000, immutable";
    if let Some(served) = app.hub.feed(&env).and_then(|f| f.latest(grant.kind)).filter(|s| s.version == version) {
        return Ok(envelope_response(&served, immutable));
    }
    let mut tx = app.store.read().await?;
    let floor = to_u64(tx.base_version(&env).await?);
    let row = if version > floor { tx.snapshot(&env, grant.kind.as_str(), to_i64(version)).await? } else { None };
    let Some(row) = row else {
        let policy = &app.config.retention;
        return Err(missing_version(&mut tx, policy, &env, grant.kind, version, to_i64(floor)).await?);
    };
    Ok(envelope_response(&Served::from_row(&row), immutable))
}

/// `GET /v1/keys` (and `keys.json` in the export directory).
pub(crate) fn keys_document(app: &App) -> Json {
    let signing = app.keys.signing.iter().map(|k| (k.public_key(), "signing"));
    let published = app.keys.published.iter().map(|k| (k, "published"));
    let keys: Vec<Json> = signing
        .chain(published)
        .map(|(key, status)| json!({ "key_id": key.key_id(), "public_key": key.to_text(), "status": status }))
        .collect();
    json!({ "keys": keys })
}

async fn keys(State(app): State<App>) -> Response {
    axum::Json(keys_document(&app)).into_response()
}
