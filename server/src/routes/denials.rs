//! Refused credentials are logged: a guessed, leaked or revoked token or SDK key in use
//! is otherwise invisible, as the server keeps no access log.

use axum::extract::Request;
use axum::http::header;
use axum::middleware::Next;
use axum::response::Response;

use super::RequestId;
use crate::listen::Peer;

/// Why a request was answered 401 or 403, put on the response by `ApiError`.
#[derive(Debug, Clone)]
pub(crate) struct Denial(pub(crate) String);

/// How much of a presented secret is logged: the prefix the server keeps as its
/// public identifier (the token and SDK-key lists show it), never the rest.
const SHOWN_PREFIX: usize = 10;

/// Logs every 401 and 403 at `warn`: method, path (no query), peer address, request
/// id, the secret's prefix and the reason given to the client.
pub(crate) async fn log_denials(request: Request, next: Next) -> Response {
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let peer = request.extensions().get::<Peer>().map(|peer| peer.0.to_string()).unwrap_or_default();
    let request_id = request.extensions().get::<RequestId>().map(|id| id.0.clone()).unwrap_or_default();
    let prefix = crate::auth::bearer(request.headers()).map(shown_prefix);
    let has_header = request.headers().contains_key(header::AUTHORIZATION);
    let response = next.run(request).await;
    if let Some(Denial(reason)) = response.extensions().get::<Denial>() {
        let presented = match (&prefix, has_header) {
            (Some(prefix), _) => format!("{prefix}…"),
            (None, true) => "an Authorization header that is not Bearer".to_owned(),
            (None, false) => "no credentials".to_owned(),
        };
        let status = response.status().as_u16();
        tracing::warn!(status, request_id, "refused {method} {path} from {peer} with {presented}: {reason}");
    }
    response
}

/// The first [`SHOWN_PREFIX`] characters, fewer if the secret is shorter than twice
/// that (a short one would be half shown).
pub(crate) fn shown_prefix(secret: &str) -> String {
    let length = secret.chars().count();
    let shown = if length >= 2 * SHOWN_PREFIX { SHOWN_PREFIX } else { length / 4 };
    secret.chars().take(shown).map(|c| if c.is_control() { '?' } else { c }).collect()
}
