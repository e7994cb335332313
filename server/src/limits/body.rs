//! A deadline for a whole request body.
//!
//! The head deadline (`--head-timeout`) ends once the head is in; without this, an
//! authenticated client could send a body a byte at a time and hold the connection,
//! and the write's task (`routes/complete.rs`), for as long as it liked. The clock
//! starts when the handler first reads the body, after the caller is authenticated:
//! time spent waiting for the database then does not count against the client, whose
//! sending may have been held back by TCP flow control meanwhile. An unauthenticated
//! request never reads its body: it is answered at once and its connection closed.

use std::future::Future as _;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::BoxError;
use http_body::{Body, Frame, SizeHint};
use tokio::time::{Instant, Sleep};

/// A request body that fails with [`BodyTimedOut`] if it has not all arrived within
/// `limit` of its first read.
pub(crate) struct Deadline<B> {
    inner: B,
    limit: Duration,
    /// When the body was first read.
    started: Option<Instant>,
    /// Armed the first time the body has nothing ready: a body that arrives whole
    /// before it is read costs no timer.
    timer: Option<Pin<Box<Sleep>>>,
}

impl<B> Deadline<B> {
    /// `inner`, to arrive within `limit` of its first read.
    pub(crate) fn new(inner: B, limit: Duration) -> Deadline<B> {
        Deadline { inner, limit, started: None, timer: None }
    }
}

/// The error a body that missed its deadline ends with.
#[derive(Debug, Clone, Copy)]
pub(crate) struct BodyTimedOut {
    /// The deadline it missed.
    pub(crate) limit: Duration,
}

impl std::fmt::Display for BodyTimedOut {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "the request body did not arrive within {} ms", self.limit.as_millis())
    }
}

impl std::error::Error for BodyTimedOut {}

impl<B> Body for Deadline<B>
where
    B: Body + Unpin,
    B::Error: Into<BoxError>,
{
    type Data = B::Data;
    type Error = BoxError;

    fn poll_frame(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<B::Data>, BoxError>>> {
        let this = self.get_mut();
        let started = *this.started.get_or_insert_with(Instant::now);
        if let Poll::Ready(frame) = Pin::new(&mut this.inner).poll_frame(cx) {
            return Poll::Ready(frame.map(|frame| frame.map_err(Into::into)));
        }
        let timer = this.timer.get_or_insert_with(|| Box::pin(tokio::time::sleep_until(started + this.limit)));
        match timer.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(Some(Err(Box::new(BodyTimedOut { limit: this.limit })))),
            Poll::Pending => Poll::Pending,
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// The missed deadline, if `error` (a failed read of a body, wrapped by axum any number
/// of times) comes from one.
pub(crate) fn timed_out(error: &(dyn std::error::Error + 'static)) -> Option<BodyTimedOut> {
    let mut cause = Some(error);
    while let Some(error) = cause {
        if let Some(timed_out) = error.downcast_ref::<BodyTimedOut>() {
            return Some(*timed_out);
        }
        cause = error.source();
    }
    None
}
