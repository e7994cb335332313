//! `POST /v1/telemetry/{env}`: SDKs report evaluation counts, unknown keys and
//! exposures (see `crate::telemetry`).
//!
//! The SDK key is checked, then its rate, before the body is read: a refused or
//! throttled post costs no buffering. The body is read with a cap of its own, 1 MiB,
//! whatever `--max-body` says, as the wire format promises SDKs.

use std::time::Instant;

use axum::extract::{DefaultBodyLimit, FromRequest as _, Request, State};
use axum::handler::Handler as _;
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse as _, Response};
use serde_json::json;
use sha2::{Digest as _, Sha256};

use super::{respond, Auth, Body, Doc, PathParams, Routes};
use crate::app::App;
use crate::auth::{bearer, SdkKeyCache};
use crate::error::ApiError;
use crate::telemetry::Recorded;

/// The largest report body, bytes.
pub(crate) const MAX_REPORT_BYTES: usize = 1024 * 1024;

pub(super) fn add(routes: Routes) -> Routes {
    routes.add(
        Doc::new(
            Method::POST,
            "/v1/telemetry/{env}",
            "Report evaluation counts, unknown keys and exposures",
            Auth::SdkKey,
        )
        .body("TelemetryReport")
        .ok(
            202,
            Some("TelemetryAccepted"),
            "added: `counts` entries stored against the environment's flags (the rest joined the not-found \
                 tally) and exposures kept; or, with `\"duplicate\": true`, a repeat of a `batch` stored already, \
                 which added nothing",
        )
        .ok(401, Some("Error"), "no, unknown or revoked SDK key")
        .ok(403, Some("Error"), "an SDK key of another environment")
        .ok(413, Some("Error"), "the body is over 1 MiB")
        .ok(
            422,
            Some("Error"),
            "a member out of range, too long, holding control characters, or of the wrong type; `field` names \
                 it by path (`counts[3].count`); nothing was stored. An exposure the server cannot take is \
                 not refused this way: it is dropped alone (see `exposures_refused` in the 202)",
        )
        .ok(
            429,
            Some("Error"),
            "this SDK key posts more often than the server allows: `Retry-After` says when to send again \
                 (keep the counts and send them then)",
        )
        .ok(503, Some("Error"), "the database cannot take the report now; nothing was stored: send it again"),
        report.layer(DefaultBodyLimit::max(MAX_REPORT_BYTES)),
    )
}

async fn report(
    State(app): State<App>,
    PathParams(env): PathParams<String>,
    request: Request,
) -> Result<Response, ApiError> {
    let grant = SdkKeyCache::authorize(&app, request.headers(), &env).await?;
    let secret = bearer(request.headers()).unwrap_or_default();
    let hash: [u8; 32] = Sha256::digest(secret.as_bytes()).into();
    if let Err(wait) = app.telemetry.limiter.take(hash, Instant::now()) {
        return Ok(too_many(crate::telemetry::retry_after_seconds(wait)));
    }
    let body = Body::from_request(request, &app).await.map_err(|e| match e.status {
        // This route's limit is its own, not --max-body.
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "body_too_large",
            "the report is larger than 1 MiB, the most the telemetry endpoint takes (whatever --max-body says): \
             send its counts and exposures in several reports, as the Pennon SDKs do",
        ),
        _ => e,
    })?;
    let report: crate::telemetry::Report = body.json()?;
    let now = crate::clock::now_ms();
    let exposures = report.check(now)?;
    let catalog = app.telemetry.catalogs.get(&app.hub, &env, grant.kind)?;
    let (batch, accepted) = crate::telemetry::resolve(&report, &exposures, &catalog, &env, grant.kind, now);
    let body = match app.telemetry.record(&batch).await? {
        Recorded::Stored => {
            let mut body = json!({ "accepted": { "counts": accepted.counts, "exposures": accepted.exposures } });
            // Said, so that an SDK can log why (it should have left them out itself).
            if let Some(why) = &exposures.first_refusal {
                body["exposures_refused"] = json!(exposures.refused);
                body["exposure_refusal"] = json!({ "field": why.field, "message": why.message });
            }
            body
        }
        // Stored by an earlier post: the SDK learns it may drop the batch.
        Recorded::Duplicate => json!({ "accepted": { "counts": 0, "exposures": 0 }, "duplicate": true }),
    };
    Ok(respond(StatusCode::ACCEPTED, Some(body), None, None))
}

/// 429 with `Retry-After`.
fn too_many(seconds: u64) -> Response {
    let message = format!(
        "this SDK key posts telemetry more often than the server allows (--telemetry-rate): keep the counts and \
         send them in {seconds} s"
    );
    let mut response = ApiError::new(StatusCode::TOO_MANY_REQUESTS, "rate_limited", message).into_response();
    response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(seconds));
    response
}
