//! `GET /v1/stream/{env}`: server-sent events announcing new versions.
//!
//! A stream outlives the check of the SDK key that opened it, so the key is checked
//! again whenever a key is revoked (on this instance or, through the database, another)
//! and at every heartbeat: a revoked key's stream ends within one heartbeat even when
//! the revocation's notification was lost. Heartbeats keep their own clock, which
//! revocations do not reset, and a check the store cannot answer in time keeps the
//! stream: clients drop a silent stream, and an unreachable database revokes nothing.
//!
//! Each stream counts against `--max-streams-per-key` and `--max-streams` until it ends
//! (`limits/streams.rs`); beyond either it is refused, 429 or 503 with `Retry-After`,
//! and its SDK polls meanwhile.

use std::convert::Infallible;

use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::sse::{Event, Sse};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use tokio::sync::watch;

use super::denials::shown_prefix;
use super::{heartbeat, PathParams};
use crate::app::App;
use crate::auth::{bearer, sdk_key_hash, SdkKeyCache};
use crate::error::ApiError;
use crate::limits::{StreamPermit, StreamRefusal};
use crate::listen::Peer;

/// What a refused stream is told to wait before asking again (`Retry-After`). It polls
/// meanwhile; SDKs keep their own backoff above it.
const RETRY_AFTER_SECONDS: u32 = 30;

pub(super) async fn stream(
    State(app): State<App>,
    PathParams(env): PathParams<String>,
    peer: Option<Extension<Peer>>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    SdkKeyCache::authorize(&app, &headers, &env).await?;
    let feed = app.hub.feed(&env).ok_or_else(|| ApiError::not_found(format!("`{env}` has no published snapshot")))?;
    // Authorized, so the key is a valid one: unknown keys are never counted.
    let secret = bearer(&headers).unwrap_or_default();
    let key = sdk_key_hash(secret);
    let permit = match app.streams.try_open(key) {
        Ok(permit) => permit,
        Err(refusal) => {
            let peer = peer.map(|Extension(Peer(peer))| peer.to_string()).unwrap_or_default();
            if let Some(unlogged) = app.streams.to_log(refusal, key, std::time::Instant::now()) {
                log_refusal(refusal, &env, &shown_prefix(secret), &peer, unlogged);
            }
            return Ok(refused(refusal, &env));
        }
    };
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
        _permit: permit,
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
    /// Counts the stream against its caps until it is dropped.
    _permit: StreamPermit,
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

/// 429 for a key at its cap, 503 for a full server, both with `Retry-After`.
fn refused(refusal: StreamRefusal, env: &str) -> Response {
    let meanwhile = format!("poll GET /v1/snapshots/{env} meanwhile and open the stream again later");
    let error = match refusal {
        StreamRefusal::Key { limit } => ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "too_many_streams",
            format!(
                "this SDK key already has {limit} streams open on this server, the most one key may have \
                 (--max-streams-per-key); {meanwhile}"
            ),
        ),
        StreamRefusal::Server { limit } => ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "streams_full",
            format!("this server already has {limit} streams open, the most it allows (--max-streams); {meanwhile}"),
        ),
    };
    let mut response = error.into_response();
    response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(RETRY_AFTER_SECONDS));
    response
}

/// One `warn` line for a refusal, naming the key by its public prefix.
fn log_refusal(refusal: StreamRefusal, env: &str, key: &str, peer: &str, unlogged: u64) {
    let why = match refusal {
        StreamRefusal::Key { limit } => {
            format!("the key has {limit} streams open, the most --max-streams-per-key allows")
        }
        StreamRefusal::Server { limit } => {
            format!("the server has {limit} streams open, the most --max-streams allows")
        }
    };
    let left_out = match unlogged {
        0 => String::new(),
        n => format!(" ({n} more refused since the last such line)"),
    };
    tracing::warn!("refused a stream of `{env}` to SDK key {key}… from {peer}: {why}; it polls instead{left_out}");
}
