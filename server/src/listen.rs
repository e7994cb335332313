//! The HTTP accept loop. It does what `axum::serve` does, plus what a server open to
//! browsers on any origin needs and `axum::serve` cannot be told:
//!
//! - one router for every connection: `axum::serve` rebuilds every route per
//!   connection (about 1 MB each, held by the allocator after it closes: 300 idle
//!   sockets took the process from 15 to 316 MB);
//! - a deadline for each request head, so a connection that sends nothing, or half a
//!   head, or stays idle between requests, is closed rather than held for ever;
//! - a deadline for each request body (`limits/body.rs`), so a body sent a byte at a
//!   time is answered 408 and its connection closed.
//!
//! Streams are not cut: the head deadline runs only while a request head is awaited,
//! and a stream's request has no body.

use std::io;
use std::time::Duration;

use axum::body::Body;
use axum::extract::Request;
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tower::ServiceExt as _;

use crate::limits::Deadline;

/// The address a request's connection came from (a proxy's, behind one).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Peer(pub(crate) std::net::SocketAddr);

/// How long a client may take to send its request.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Timeouts {
    /// To send a request head, or to stay idle between two requests.
    pub(crate) head: Duration,
    /// To send a whole request body, from when it is first read.
    pub(crate) body: Duration,
}

/// Serves `router` on `listener` until `stop` turns true, then lets the open
/// connections finish what they are answering.
pub(crate) async fn serve(
    listener: TcpListener,
    router: Router,
    timeouts: Timeouts,
    mut stop: watch::Receiver<bool>,
) -> io::Result<()> {
    // Every route turned into a service once, here, rather than per connection.
    let router = router.with_state(());
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new()).header_read_timeout(timeouts.head);
    let graceful = GracefulShutdown::new();
    let stopped = async move {
        let _ = stop.wait_for(|stopped| *stopped).await;
    };
    tokio::pin!(stopped);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    pause_after(&error).await;
                    continue;
                }
            },
            () = &mut stopped => break,
        };
        let _ = stream.set_nodelay(true);
        let service = router.clone().map_request(move |request: Request<Incoming>| {
            let mut request = request.map(|body| Body::new(Deadline::new(body, timeouts.body)));
            request.extensions_mut().insert(Peer(peer));
            request
        });
        let connection = http.serve_connection(TokioIo::new(stream), TowerToHyperService::new(service));
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            if let Err(error) = connection.await {
                tracing::debug!("connection ended: {error}");
            }
        });
    }
    drop(listener);
    // A deadline for the drain: a client that stops halfway through a request body
    // would otherwise hold the process open for ever after SIGTERM. Writes still under
    // way when it passes roll back (they commit whole or not at all).
    if tokio::time::timeout(DRAIN_DEADLINE, graceful.shutdown()).await.is_err() {
        tracing::warn!("connections still open {} s after the stop signal: closing them", DRAIN_DEADLINE.as_secs());
    }
    Ok(())
}

/// How long stopping waits for connections to finish.
const DRAIN_DEADLINE: Duration = Duration::from_secs(30);

/// After a failed `accept`: a connection reset before it was taken costs nothing, but
/// out of file descriptors (or memory) the loop would spin, so it waits a moment.
async fn pause_after(error: &io::Error) {
    if matches!(error.kind(), io::ErrorKind::ConnectionAborted | io::ErrorKind::ConnectionReset) {
        return;
    }
    tracing::error!("cannot accept a connection: {error}; trying again in 1 s");
    tokio::time::sleep(Duration::from_secs(1)).await;
}
