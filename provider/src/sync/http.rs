//! The HTTP(S) source: conditional polling with ETags, backoff, and a size cap.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use reqwest::header::{HeaderValue, ACCEPT, ETAG, IF_NONE_MATCH};
use reqwest::{Response, StatusCode, Url};
use tracing::debug;

use super::refusal::{describe_refusal, retry_after, shown_url};
use super::{blocking, jittered, Backoff, FirstAttempt};
use crate::state::{refusal_reason, Shared};
use crate::Offered;

/// Polls `url` until cancelled: after a success, every `poll_interval` (jittered);
/// after a failure, with exponential backoff; at once when a notification arrives.
pub(crate) async fn poll(shared: Arc<Shared>, url: Url, mut first: FirstAttempt) {
    let config = &shared.config;
    let source: Arc<str> = shown_url(&url).into();
    let mut etag: Option<Tag> = None;
    let mut backoff = Backoff::new(config.backoff_initial, config.backoff_max, config.jitter);
    let mut announcements = shared.announce.subscribe();
    loop {
        let fetched = fetch(&shared, &url, &source, &mut etag).await;
        first.done();
        let delay = match fetched {
            Ok(()) => {
                backoff.reset();
                jittered(config.poll_interval, config.jitter)
            }
            // A server that says when to come back (429, 503 with `Retry-After`) is not
            // asked sooner, nor later than the backoff's ceiling.
            Err(asked) => backoff.next_delay().max(asked.unwrap_or_default().min(config.backoff_max)),
        };
        tokio::select! {
            () = tokio::time::sleep(delay) => {}
            changed = announcements.changed() => {
                if changed.is_ok() {
                    debug!(source = %source, "a new version was announced: fetching {source} now");
                }
            }
        }
    }
}

/// The ETag of the source's last body that verified, and that body's version.
///
/// A 304 is that version again: if a newer one is served by then (from another source),
/// the source is behind (a mirror or CDN edge that has not caught up), and the 304 is
/// refused as a rollback, as the body would be. A lagging source so costs a conditional
/// request per poll, not the whole body, and never counts as syncing.
struct Tag {
    value: HeaderValue,
    version: u64,
}

/// One conditional GET. `Ok` when the source answered usefully (a verified snapshot,
/// the same one again, or 304); otherwise the wait a `Retry-After` asked for, if any.
async fn fetch(
    shared: &Arc<Shared>,
    url: &Url,
    source: &Arc<str>,
    etag: &mut Option<Tag>,
) -> Result<(), Option<Duration>> {
    let mut request = shared.config.http.get(url.clone()).header(ACCEPT, "application/json");
    if let Some(tag) = etag.as_ref() {
        request = request.header(IF_NONE_MATCH, tag.value.clone());
    }
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
        if let Some(offered) = etag.as_ref().map(|tag| tag.version).filter(|&offered| offered < held) {
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
    let new_etag = response.headers().get(ETAG).cloned();
    let body = match read_capped(response, shared.config.max_bytes, shared.config.request_timeout).await {
        Ok(body) => body,
        Err(reason) => {
            shared.record_failure(source, reason);
            return Err(None);
        }
    };
    let label = source.clone();
    let offered = blocking(shared, move |shared| shared.offer_and_cache(&label, &body));
    // Only the tag of a body that verified: any other refused body is fetched whole again.
    let (accepted, version) = match offered.await {
        Some(Ok(Offered::Updated { new_version: version, .. } | Offered::Unchanged { version })) => (true, version),
        Some(Err(pennon_core::Error::Rollback { offered, .. })) => (false, offered),
        Some(Err(_)) | None => {
            *etag = None;
            return Err(None);
        }
    };
    *etag = new_etag.map(|value| Tag { value, version });
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
