//! `GET /v1/stream/{env}`: server-sent events announcing new versions.
//!
//! A stream outlives the check of the SDK key that opened it, so the key is checked
//! again whenever a key is revoked (on this instance or, through the database, another)
//! and at every heartbeat: a revoked key's stream ends within one heartbeat even when
//! the revocation's notification was lost. Heartbeats keep their own clock, which
//! revocations do not reset, and a check the store cannot answer in time keeps the
//! stream: clients drop a silent stream, and an unreachable database revokes nothing.

use std::convert::Infallible;

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::sse::{Event, Sse};
use axum::response::{IntoResponse, Response};
use tokio::sync::watch;

use super::{heartbeat, PathParams};
use crate::app::App;
use crate::auth::SdkKeyCache;
use crate::error::ApiError;

pub(super) async fn stream(
    State(app): State<App>,
    PathParams(env): PathParams<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    SdkKeyCache::authorize(&app, &headers, &env).await?;
    let feed = app.hub.feed(&env).ok_or_else(|| ApiError::not_found(format!("`{env}` has no published snapshot")))?;
    let period = heartbeat(&app);
    let mut heartbeats = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
    heartbeats.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let watching = Watching {
        heartbeats,
        versions: feed.subscribe(),
        stop: app.stopping.subscribe(),
        revocations: app.sdk_keys.revocations(),
        app,
        env,
        headers,
        first: true,
    };
    let mut response = Sse::new(futures_util::stream::unfold(watching, next_event)).into_response();
    response.headers_mut().insert("x-accel-buffering", HeaderValue::from_static("no"));
    Ok(response)
}

/// One open stream.
struct Watching {
    app: App,
    env: String,
    /// The request's headers, holding the SDK key.
    headers: HeaderMap,
    heartbeats: tokio::time::Interval,
    versions: watch::Receiver<u64>,
    stop: watch::Receiver<bool>,
    revocations: watch::Receiver<u64>,
    first: bool,
}

/// The next event: the version at connect and at every new one, and a heartbeat
/// comment each `--heartbeat` in between. The stream ends when the server stops or the
/// key no longer grants the environment.
async fn next_event(mut w: Watching) -> Option<(Result<Event, Infallible>, Watching)> {
    if !std::mem::take(&mut w.first) {
        loop {
            tokio::select! {
                changed = w.versions.changed() => {
                    changed.ok()?;
                    break;
                }
                () = stopped(&mut w.stop) => return None,
                revoked = w.revocations.changed() => {
                    revoked.ok()?;
                    w.still_granted().await?;
                }
                _ = w.heartbeats.tick() => {
                    w.still_granted().await?;
                    return Some((Ok(Event::default().comment("heartbeat")), w));
                }
            }
        }
    }
    let version = *w.versions.borrow_and_update();
    let event = Event::default().event("version").id(version.to_string()).data(version.to_string());
    Some((Ok(event), w))
}

/// Resolves once the server is stopping.
async fn stopped(stop: &mut watch::Receiver<bool>) {
    let _ = stop.wait_for(|stopping| *stopping).await;
}

impl Watching {
    /// `None` when the key is revoked or no longer of this environment. A store that
    /// cannot answer (the check gives up after its own 2 s, `auth.rs`) keeps the
    /// stream: that is no revocation.
    async fn still_granted(&self) -> Option<()> {
        match SdkKeyCache::authorize(&self.app, &self.headers, &self.env).await {
            Err(e) if matches!(e.status, StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN) => None,
            _ => Some(()),
        }
    }
}
