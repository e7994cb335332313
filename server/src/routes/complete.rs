//! Writes run to their end even when the client hangs up.
//!
//! The server drops a request's handler when its client disconnects. A write dropped
//! mid-way could leave its transaction half begun (on SQLite, the write lock held on a
//! pooled connection, so every later write failed until a restart) or commit without
//! the hub and the exporter ever hearing of it, so the change was stored and audited
//! but never served. A request that may write is therefore run in its own task, which
//! a hang-up cannot cancel; reads and streams stay cancellable.

use axum::extract::Request;
use axum::http::Method;
use axum::middleware::Next;
use axum::response::{IntoResponse as _, Response};

use crate::error::ApiError;

/// Runs every request but `GET`, `HEAD` and `OPTIONS` to completion.
pub(super) async fn writes_to_completion(request: Request, next: Next) -> Response {
    if matches!(*request.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        return next.run(request).await;
    }
    match tokio::spawn(next.run(request)).await {
        Ok(response) => response,
        Err(failure) => ApiError::internal(format!("a write's task failed: {failure}")).into_response(),
    }
}
