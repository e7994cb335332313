//! Cross-origin reads of the SDK endpoints, so that browsers on any origin can poll
//! snapshots with a client key (`pnc_...`) and stream new versions, and post telemetry
//! (`POST /v1/telemetry/{env}`, JSON, so its preflight asks for `Content-Type`).
//!
//! Any origin is allowed, without credentials: every request is authorized by the SDK
//! key it carries, which a page either holds or does not, so naming origins would only
//! constrain browsers, never a client that has the key. Responses expose `ETag` (or
//! every poll would download the whole snapshot), `Pennon-Snapshot-Version` and
//! `Retry-After` (not readable across origins otherwise, so the web provider could not
//! wait as long as a 503 or 429 asks). The
//! admin API (`/api/v1`) sends no CORS headers: it is for the CLI and servers.

use axum::extract::Request;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// Request headers a browser may send: the SDK key, the ETag to revalidate and the
/// last event id of a resumed stream.
const ALLOWED_HEADERS: &str = "authorization, if-none-match, last-event-id";
/// What a browser may send to the telemetry endpoint: the SDK key and a JSON body.
const TELEMETRY_HEADERS: &str = "authorization, content-type";
/// Response headers a page may read.
const EXPOSED_HEADERS: &str = "etag, pennon-snapshot-version, retry-after";
/// What a page may read of a telemetry answer: when to post again after a 429 or 503
/// (not a header browsers let pages read unless named).
const TELEMETRY_EXPOSED: &str = "retry-after";
/// How long a browser may cache a preflight answer: one day, in seconds.
const PREFLIGHT_MAX_AGE: &str = "86400";

/// Answers preflights itself (they carry no SDK key) and marks every other response
/// readable from any origin.
pub(crate) async fn allow_any_origin(request: Request, next: Next) -> Response {
    let telemetry = request.uri().path().starts_with("/v1/telemetry/");
    if request.method() == Method::OPTIONS && request.headers().contains_key(header::ACCESS_CONTROL_REQUEST_METHOD) {
        let (methods, allowed) = if telemetry { ("POST", TELEMETRY_HEADERS) } else { ("GET", ALLOWED_HEADERS) };
        let mut response = StatusCode::NO_CONTENT.into_response();
        let headers = response.headers_mut();
        headers.insert(header::ACCESS_CONTROL_ALLOW_METHODS, HeaderValue::from_static(methods));
        headers.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, HeaderValue::from_static(allowed));
        headers.insert(header::ACCESS_CONTROL_MAX_AGE, HeaderValue::from_static(PREFLIGHT_MAX_AGE));
        allow(headers);
        return response;
    }
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    allow(headers);
    let exposed = if telemetry { TELEMETRY_EXPOSED } else { EXPOSED_HEADERS };
    headers.insert(header::ACCESS_CONTROL_EXPOSE_HEADERS, HeaderValue::from_static(exposed));
    response
}

fn allow(headers: &mut HeaderMap) {
    headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
}
