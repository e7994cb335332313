//! The HTTP(S) source: conditional polling (ETag, else Last-Modified), backoff, a size
//! cap, and fetching when the notification stream announces a version.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use reqwest::header::{HeaderValue, ACCEPT, ETAG, IF_MODIFIED_SINCE, IF_NONE_MATCH, LAST_MODIFIED};
use reqwest::{Response, StatusCode, Url};
use tokio::sync::watch;
use tokio::time::Instant;
use tracing::debug;

use super::announced::Hold;
use super::refusal::{describe_refusal, retry_after, shown_url};
use super::{blocking, jittered, Announced, Backoff, FirstAttempt};
use crate::state::{refusal_reason, Shared};
use crate::Offered;

/// Polls `url` until cancelled: after a success, every `poll_interval` (jittered);
/// after a failure, with exponential backoff; at once when the stream announces a
/// version, unless its announcements are held back (`announced.rs`).
pub(crate) async fn poll(shared: Arc<Shared>, url: Url, mut first: FirstAttempt) {
    let config = &shared.config;
    let source: Arc<str> = shown_url(&url).into();
    let mut validator: Option<Validator> = None;
    let mut backoff = Backoff::new(config.backoff_initial, config.backoff_max, config.jitter);
    let mut announcements = shared.announce.subscribe();
    let mut seen = *announcements.borrow_and_update();
    let mut hold = Hold::new(config);
    // When events asked for the next fetch: the version the latest of them named, if any.
    let mut claim: Option<Option<u64>> = None;
    loop {
        let before = shared.served_version();
        let fetched = fetch(&shared, &url, &source, &mut validator).await;
        first.done();
        if let Some(named) = claim.take() {
            hold.judge(named, before, shared.served_version(), &source);
        }
        let delay = match fetched {
            Ok(()) => {
                backoff.reset();
                jittered(config.poll_interval, config.jitter)
            }
            // A server that says when to come back (429, 503 with `Retry-After`) is not
            // asked sooner, nor later than the backoff's ceiling.
            Err(asked) => backoff.next_delay().max(asked.unwrap_or_default().min(config.backoff_max)),
        };
        claim = wait(&mut announcements, &mut seen, &hold, delay, &source).await;
    }
}

/// Waits `delay`, or less when the stream asks: at once after its reconnect, and for an
/// event unless events are held back, then when the hold ends. Returns, when events
/// asked for the next fetch, the version the latest of them named, if any.
async fn wait(
    announcements: &mut watch::Receiver<Announced>,
    seen: &mut Announced,
    hold: &Hold,
    delay: Duration,
    source: &str,
) -> Option<Option<u64>> {
    let before = *seen;
    let claim = |now: Announced| (now.named != before.named).then_some(now.latest);
    let next_poll = Instant::now() + delay;
    let mut wake = next_poll;
    // Whether an event asked for a fetch that has not been made.
    let mut asked = false;
    loop {
        tokio::select! {
            () = tokio::time::sleep_until(wake) => return asked.then(|| claim(*seen)),
            changed = announcements.changed() => {
                if changed.is_err() {
                    // No stream can announce any more (not while the provider lives).
                    tokio::time::sleep_until(wake).await;
                    return asked.then(|| claim(*seen));
                }
                let now = *announcements.borrow_and_update();
                let reconnected = now.reconnects != seen.reconnects;
                let event = now.events != seen.events;
                *seen = now;
                if reconnected {
                    debug!(source, "the notification stream reconnected, or cannot reopen: fetching {source} now");
                    return (asked || event).then(|| claim(now));
                }
                if !event {
                    continue;
                }
                match hold.until() {
                    None => {
                        debug!(source, "a new version was announced: fetching {source} now");
                        return Some(claim(now));
                    }
                    Some(until) if !asked => {
                        debug!(source, "a new version was announced: fetching {source} when the hold ends, in {:?}",
                            until.saturating_duration_since(Instant::now()));
                        wake = wake.min(until);
                    }
                    Some(_) => {}
                }
                asked = true;
            }
        }
    }
}

/// What the next request revalidates the source's last verified body with, and that
/// body's version.
///
/// A 304 is that version again: if a newer one is served by then (from another source),
/// the source is behind (a mirror or CDN edge that has not caught up), and the 304 is
/// refused as a rollback, as the body would be. A lagging source so costs a conditional
/// request per poll, not the whole body, and never counts as syncing.
struct Validator {
    condition: Condition,
    version: u64,
}

/// The header a request sends: the ETag in `If-None-Match`, or where the source sent
/// none (a static host such as `python3 -m http.server`), its `Last-Modified` in
/// `If-Modified-Since`, as given. RFC 9110 13.1.3: a server that has both weighs the
/// ETag only, so one is never sent with the other.
enum Condition {
    ETag(HeaderValue),
    LastModified(HeaderValue),
}

impl Condition {
    /// The validator of a response: its `ETag`, else its `Last-Modified`.
    fn of(headers: &reqwest::header::HeaderMap) -> Option<Condition> {
        headers
            .get(ETAG)
            .map(|etag| Condition::ETag(etag.clone()))
            .or_else(|| headers.get(LAST_MODIFIED).map(|date| Condition::LastModified(date.clone())))
    }
}

/// One conditional GET. `Ok` when the source answered usefully (a verified snapshot,
/// the same one again, or 304); otherwise the wait a `Retry-After` asked for, if any.
async fn fetch(
    shared: &Arc<Shared>,
    url: &Url,
    source: &Arc<str>,
    validator: &mut Option<Validator>,
) -> Result<(), Option<Duration>> {
    let mut request = shared.config.http.get(url.clone()).header(ACCEPT, "application/json");
    request = match validator.as_ref().map(|held| &held.condition) {
        Some(Condition::ETag(etag)) => request.header(IF_NONE_MATCH, etag.clone()),
        Some(Condition::LastModified(date)) => request.header(IF_MODIFIED_SINCE, date.clone()),
        None => request,
    };
    let response = match request.send().await {
        Ok(response) => response,
        Err(e) => {
            shared.record_failure(source, describe(&e, shared.config.request_timeout));
            return Err(None);
        }
    };
    let status = response.status();
    if status == StatusCode::NOT_MODIFIED {
        let held = shared.served_version().unwrap_or_default();
        if let Some(offered) = validator.as_ref().map(|held| held.version).filter(|&offered| offered < held) {
            shared.record_failure(source, refusal_reason(&pennon_core::Error::Rollback { held, offered }));
            return Err(None);
        }
        debug!(source = %source, "{source}: 304 Not Modified, keeping version {:?}", shared.served_version());
        shared.record_success(source);
        return Ok(());
    }
    if !status.is_success() {
        let asked = retry_after(response.headers(), SystemTime::now());
        let reason = describe_refusal(url, response, shared.config.request_timeout).await;
        if matches!(status, StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN) {
            shared.record_denial(source, reason);
        } else {
            shared.record_failure(source, reason);
        }
        return Err(asked);
    }
    let condition = Condition::of(response.headers());
    let body = match read_capped(response, shared.config.max_bytes, shared.config.request_timeout).await {
        Ok(body) => body,
        Err(reason) => {
            shared.record_failure(source, reason);
            return Err(None);
        }
    };
    let label = source.clone();
    let offered = blocking(shared, move |shared| shared.offer_and_cache(&label, &body));
    // Only the validator of a body that verified: any other refused body is fetched whole again.
    let (accepted, version) = match offered.await {
        Some(Ok(Offered::Updated { new_version: version, .. } | Offered::Unchanged { version })) => (true, version),
        Some(Err(pennon_core::Error::Rollback { offered, .. })) => (false, offered),
        Some(Err(_)) | None => {
            *validator = None;
            return Err(None);
        }
    };
    *validator = condition.map(|condition| Validator { condition, version });
    if accepted {
        Ok(())
    } else {
        Err(None)
    }
}

/// Reads the body chunk by chunk and stops as soon as it passes `cap` bytes.
async fn read_capped(mut response: Response, cap: usize, timeout: std::time::Duration) -> Result<Vec<u8>, String> {
    let cap_u64 = u64::try_from(cap).unwrap_or(u64::MAX);
    if let Some(length) = response.content_length().filter(|&length| length > cap_u64) {
        return Err(format!("the response is {length} bytes, over the cap of {cap} bytes; not reading it"));
    }
    let mut body = Vec::new();
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) => {
                if body.len().saturating_add(chunk.len()) > cap {
                    return Err(format!("the response passed the cap of {cap} bytes; stopped reading"));
                }
                body.extend_from_slice(&chunk);
            }
            Ok(None) => return Ok(body),
            Err(e) => {
                return Err(format!("reading the body failed after {} bytes: {}", body.len(), describe(&e, timeout)))
            }
        }
    }
}

/// A reqwest error with its causes, and the timeout named when it was one.
pub(crate) fn describe(error: &reqwest::Error, timeout: std::time::Duration) -> String {
    let mut text = if error.is_timeout() {
        format!("timed out after {timeout:?}")
    } else if error.is_connect() {
        "cannot connect".to_owned()
    } else {
        // reqwest names the URL in full, secrets and all.
        let text = error.to_string();
        error.url().map_or(text.clone(), |url| text.replace(url.as_str(), &shown_url(url)))
    };
    let mut cause = std::error::Error::source(error);
    while let Some(inner) = cause {
        text.push_str(": ");
        text.push_str(&inner.to_string());
        cause = inner.source();
    }
    text
}
