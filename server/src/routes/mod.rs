//! The HTTP surface: the admin API under `/api/v1`, the SDK endpoints under `/v1`, and
//! `/openapi.json`.
//!
//! Every route is registered through [`Routes::add`] together with its documentation,
//! and the OpenAPI document is generated from that same list, so it cannot name a
//! route that does not exist or miss one that does.

mod admin;
mod complete;
mod cors;
mod denials;
mod envs;
mod extract;
mod flags;
mod openapi;
mod reports;
mod schemas;
mod sdk;
mod segments;
mod stream;
mod telemetry;
mod telemetry_schemas;
mod unread_bodies;
mod usage;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;
use std::time::Duration;

use axum::extract::{DefaultBodyLimit, Request};
use axum::handler::Handler;
use axum::http::{HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{on, MethodFilter};
use axum::Router;

pub(crate) use denials::Denial;

/// The 202 answer of a write to a protected environment, in every such route's docs.
const PROPOSED: &str =
    "protected environment: a change request was opened; or, when the same proposer (token name) already has an \
                        open request for exactly this change, that one (`already_open: true`, nothing new stored)";
pub(crate) use extract::{plain_words, whole_number, Body, PathParams, QueryParams, MAX_LIMIT};
pub(crate) use sdk::keys_document;

use crate::app::App;
use crate::error::ApiError;
use crate::model::Role;

/// The id of a request: the client's `X-Request-Id` when it is reasonable, else a new
/// one. Responses carry it back, and audit entries record it.
#[derive(Debug, Clone)]
pub(crate) struct RequestId(pub(crate) String);

/// Who may call a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Auth {
    /// Anyone.
    Public,
    /// An API token with at least this role.
    Token(Role),
    /// An SDK key of the environment in the path.
    SdkKey,
}

/// The documentation of one route.
#[derive(Debug, Clone)]
pub(crate) struct Doc {
    pub(crate) method: Method,
    pub(crate) path: &'static str,
    pub(crate) summary: &'static str,
    pub(crate) auth: Auth,
    /// The schema of the request body, if it takes one.
    pub(crate) body: Option<&'static str>,
    /// Status, schema of the body (if JSON) and meaning, for each response.
    pub(crate) responses: Vec<(u16, Option<&'static str>, &'static str)>,
    /// Whether the route needs `If-Match`.
    pub(crate) if_match: bool,
    /// Query parameters and their meaning.
    pub(crate) query: Vec<(&'static str, &'static str)>,
}

impl Doc {
    /// A route with a summary; add the rest with the builder methods.
    pub(crate) fn new(method: Method, path: &'static str, summary: &'static str, auth: Auth) -> Doc {
        Doc { method, path, summary, auth, body: None, responses: Vec::new(), if_match: false, query: Vec::new() }
    }

    /// Takes a JSON body of `schema`.
    pub(crate) fn body(mut self, schema: &'static str) -> Doc {
        self.body = Some(schema);
        self
    }

    /// Answers `status` with a body of `schema`.
    pub(crate) fn ok(mut self, status: u16, schema: Option<&'static str>, meaning: &'static str) -> Doc {
        self.responses.push((status, schema, meaning));
        self
    }

    /// Needs `If-Match`.
    pub(crate) fn if_match(mut self) -> Doc {
        self.if_match = true;
        self
    }

    /// Reads query parameter `name`.
    pub(crate) fn query(mut self, name: &'static str, meaning: &'static str) -> Doc {
        self.query.push((name, meaning));
        self
    }
}

/// The router being built and the documentation of every route in it.
pub(crate) struct Routes {
    router: Router<App>,
    /// The SDK routes (`/v1/...`), kept apart for their CORS layer (`cors.rs`): any
    /// origin may read them, while the admin API stays closed to browsers.
    sdk: Router<App>,
    pub(crate) docs: Vec<Doc>,
}

impl Routes {
    /// Registers `handler` for `doc.method` on `doc.path`.
    pub(crate) fn add<H: Handler<T, App>, T: 'static>(mut self, doc: Doc, handler: H) -> Routes {
        let filter = MethodFilter::try_from(doc.method.clone()).unwrap_or(MethodFilter::GET);
        if doc.path.starts_with("/v1/") {
            self.sdk = self.sdk.route(doc.path, on(filter, handler));
        } else {
            self.router = self.router.route(doc.path, on(filter, handler));
        }
        self.docs.push(doc);
        self
    }
}

/// Every route, documented.
pub(crate) fn routes() -> Routes {
    let routes = Routes { router: Router::new(), sdk: Router::new(), docs: Vec::new() };
    let routes = sdk::add(routes);
    let routes = flags::add(routes);
    let routes = segments::add(routes);
    let routes = envs::add(routes);
    let routes = reports::add(routes);
    let routes = telemetry::add(routes);
    let routes = usage::add(routes);
    admin::add(routes)
}

/// The application's router.
pub(crate) fn router(app: App) -> Router {
    let Routes { router, sdk, docs } = routes();
    let document = openapi::document(&docs);
    let max_body = app.config.max_body_bytes;
    let admin = router
        .route("/openapi.json", axum::routing::get(move || async move { axum::Json(document) }))
        .route("/healthz", axum::routing::get(|| async { "ok\n" }))
        .fallback(|| async { ApiError::new(StatusCode::NOT_FOUND, "no_route", "no such route; see /openapi.json") })
        .method_not_allowed_fallback(method_not_allowed);
    // Before the CORS layer, so that a preflight still reaches it.
    let sdk =
        sdk.method_not_allowed_fallback(method_not_allowed).layer(axum::middleware::from_fn(cors::allow_any_origin));
    sdk.merge(admin)
        .layer(axum::middleware::from_fn(unread_bodies::read_unread_bodies))
        .layer(axum::middleware::from_fn(complete::writes_to_completion))
        .layer(axum::middleware::from_fn(denials::log_denials))
        .layer(axum::middleware::from_fn(request_id))
        .layer(DefaultBodyLimit::max(max_body))
        .with_state(app)
}

/// A route asked with a method it does not take: JSON like every refusal (axum sends an
/// empty body), with axum's `Allow` header.
async fn method_not_allowed() -> ApiError {
    let message = "this route does not take that method: the Allow header lists those it takes";
    ApiError::new(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed", message)
}

/// The OpenAPI document (also served at `/openapi.json`).
pub fn openapi_document() -> serde_json::Value {
    openapi::document(&routes().docs)
}

/// A process-unique id: a random prefix chosen at start and a counter, so that ids
/// from several instances sharing a database do not collide and cost no system call.
fn new_request_id() -> String {
    static PREFIX: OnceLock<String> = OnceLock::new();
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let prefix =
        PREFIX.get_or_init(|| crate::clock::random_bytes::<4>().map(|b| crate::clock::hex(&b)).unwrap_or_default());
    format!("{prefix}-{:x}", COUNTER.fetch_add(1, Ordering::Relaxed))
}

async fn request_id(mut request: Request, next: Next) -> Response {
    let given = request.headers().get("x-request-id").and_then(|v| v.to_str().ok()).filter(|v| {
        !v.is_empty() && v.len() <= 64 && v.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(&b))
    });
    let id = match given {
        Some(id) => id.to_owned(),
        None => new_request_id(),
    };
    request.extensions_mut().insert(RequestId(id.clone()));
    let mut response = next.run(request).await;
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert("x-request-id", value);
    }
    response
}

/// A JSON response with an optional ETag and snapshot version.
pub(crate) fn respond(
    status: StatusCode,
    body: Option<serde_json::Value>,
    etag: Option<&str>,
    version: Option<u64>,
) -> Response {
    let mut response = match body {
        Some(body) => (status, axum::Json(body)).into_response(),
        None => status.into_response(),
    };
    if let Some(etag) = etag.and_then(|e| HeaderValue::from_str(e).ok()) {
        response.headers_mut().insert(axum::http::header::ETAG, etag);
    }
    if let Some(version) = version {
        response.headers_mut().insert("pennon-snapshot-version", HeaderValue::from(version));
    }
    response
}

/// How long a stream waits between heartbeats, at least 10 ms.
pub(crate) fn heartbeat(app: &App) -> Duration {
    app.config.heartbeat.max(Duration::from_millis(10))
}
