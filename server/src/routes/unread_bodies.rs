//! A small body that the route left unread is read before a successful answer goes out.
//!
//! A route that takes no body (a `GET`, `POST …/approve`) leaves one that a client
//! sent anyway (`curl -d '{}'`) unread. The connection then cannot be reused and is
//! closed with those bytes still in the socket's receive buffer, which the kernel
//! answers with a reset: the client loses whatever part of a large answer (an approved
//! 45,000-key segment is 1.1 MB) it had not read yet. Measured before this: 20 resets
//! in 20 reads of such a segment, with `{"x":1}` sent just after the headers.
//!
//! Only after the route has answered, and only for an answer that is not a refusal: a
//! request without valid credentials still never has its body read (`limits/body.rs`),
//! and refusals are short enough to arrive before a reset. Bodies over [`SMALL`] are
//! not waited for.

use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};

use axum::body::{Body, Bytes};
use axum::extract::Request;
use axum::http::header::CONTENT_LENGTH;
use axum::middleware::Next;
use axum::response::Response;
use http_body::{Frame, SizeHint};

/// Larger unread bodies are left as they are: every body of the admin API but segment
/// and snapshot uploads is smaller, and reading one is a few packets' wait at most.
const SMALL: usize = 64 * 1024;

/// Hands the body to the route, and reads what the route left of it once the route
/// has answered with a success or a redirect.
pub(super) async fn read_unread_bodies(request: Request, next: Next) -> Response {
    let length = request.headers().get(CONTENT_LENGTH).and_then(|value| value.to_str().ok()?.parse::<usize>().ok());
    if !length.is_some_and(|length| length > 0 && length <= SMALL) {
        return next.run(request).await;
    }
    let left = Arc::new(Mutex::new(None));
    let request = request.map(|body| Body::new(Returned { body: Some(body), left: left.clone() }));
    let response = next.run(request).await;
    let unread = left.lock().unwrap_or_else(PoisonError::into_inner).take();
    if let Some(unread) =
        unread.filter(|_| !response.status().is_client_error() && !response.status().is_server_error())
    {
        // Its end is all that matters; a body that fails (a hang-up, `--body-timeout`)
        // is the connection's end anyway.
        let _ = axum::body::to_bytes(unread, SMALL).await;
    }
    response
}

/// The request body as the route sees it; what the route drops unread goes back to
/// `left`.
struct Returned {
    body: Option<Body>,
    left: Arc<Mutex<Option<Body>>>,
}

impl http_body::Body for Returned {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        match self.get_mut().body.as_mut() {
            Some(body) => Pin::new(body).poll_frame(cx),
            None => Poll::Ready(None),
        }
    }

    fn is_end_stream(&self) -> bool {
        self.body.as_ref().is_none_or(http_body::Body::is_end_stream)
    }

    fn size_hint(&self) -> SizeHint {
        self.body.as_ref().map_or_else(|| SizeHint::with_exact(0), http_body::Body::size_hint)
    }
}

impl Drop for Returned {
    fn drop(&mut self) {
        if let Some(body) = self.body.take().filter(|body| !http_body::Body::is_end_stream(body)) {
            *self.left.lock().unwrap_or_else(PoisonError::into_inner) = Some(body);
        }
    }
}
