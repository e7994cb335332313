//! The notification stream: server-sent events announcing new versions.
//!
//! Any event makes the sources fetch at once, unless it names a version that is
//! already served. The stream is a hint, never a source of flags: what it says is not
//! trusted, only what the signed snapshot then says.

use std::sync::Arc;

use std::time::{Duration, Instant, SystemTime};

use reqwest::header::{ACCEPT, CACHE_CONTROL, CONTENT_TYPE};
use reqwest::Url;
use tracing::{debug, info, warn};

use super::http::describe;
use super::refusal::{describe_refusal, retry_after, shown_url};
use super::Backoff;
use crate::state::Shared;

/// Longest line, and longest event data, accepted; longer is a broken or hostile stream.
const MAX_LINE: usize = 64 * 1024;
/// A connection that spoke the protocol for this long was healthy: the reconnect after
/// it starts from the initial backoff. One that closes sooner backs off further, so a
/// server that accepts and drops at once cannot make every source fetch each second.
const STAYED_UP: Duration = Duration::from_secs(10);

/// Keeps a stream open to `url` until cancelled, reconnecting with backoff.
pub(crate) async fn listen(shared: Arc<Shared>, url: Url) {
    let config = &shared.config;
    let mut backoff = Backoff::new(config.backoff_initial, config.backoff_max, config.jitter);
    let mut connected_before = false;
    // Whether the last connection spoke the protocol.
    let mut was_up = false;
    let mut last_failure: Option<String> = None;
    loop {
        let mut parser = EventParser::default();
        let started = Instant::now();
        let (reason, heard) = match stream(&shared, &url, &mut parser, connected_before).await {
            Ok(heard) => ("the server closed the stream".to_owned(), heard),
            Err((reason, heard)) => (reason, heard),
        };
        connected_before |= heard;
        if heard && started.elapsed() >= STAYED_UP {
            backoff.reset();
        }
        if !heard && was_up {
            // A stream that was up ended and cannot be opened again: the control plane may
            // be gone. A fetch now tells, and starts the stale clock when it fails, rather
            // than the next poll, up to a poll interval later. (A stream a proxy cut and
            // that reopens fetches on reconnecting, as always: nothing more is asked.)
            debug!(source = %shown_url(&url), "notification stream cannot reopen: fetching now");
            shared.announce.send_modify(|count| *count = count.wrapping_add(1));
        }
        was_up = heard;
        // What the server asked for (`retry:`, or a refusal's `Retry-After`: a server at
        // its stream cap) is a floor, up to the configured ceiling. Polling goes on
        // meanwhile: the stream only says when to fetch sooner.
        let delay = backoff.next_delay().max(parser.retry.unwrap_or_default().min(config.backoff_max));
        let (source, served_version) = (shown_url(&url), shared.served_version());
        // The same failure again (a server down, a revoked key) is logged once.
        if heard || last_failure.as_deref() != Some(reason.as_str()) {
            warn!(source, reason = %reason, served_version, "notification stream {source}: {reason}; reconnecting in {delay:?}");
        } else {
            debug!(source, reason = %reason, served_version, "notification stream {source}: {reason} again; reconnecting in {delay:?}");
        }
        last_failure = (!heard).then_some(reason);
        tokio::time::sleep(delay).await;
    }
}

/// One connection. Returns whether anything was heard, with the error if any.
async fn stream(shared: &Shared, url: &Url, parser: &mut EventParser, reconnect: bool) -> Result<bool, (String, bool)> {
    let timeout = shared.config.request_timeout;
    let request = shared
        .config
        .stream_http
        .get(url.clone())
        .header(ACCEPT, "text/event-stream")
        .header(CACHE_CONTROL, "no-cache");
    let mut response = match tokio::time::timeout(timeout, request.send()).await {
        Ok(Ok(response)) => response,
        Ok(Err(e)) => return Err((describe(&e, timeout), false)),
        Err(_) => return Err((format!("no response within {timeout:?}"), false)),
    };
    if !response.status().is_success() {
        parser.retry = retry_after(response.headers(), SystemTime::now()).or(parser.retry);
        return Err((describe_refusal(url, response, timeout).await, false));
    }
    let content_type = response.headers().get(CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default();
    if !content_type.trim_start().to_ascii_lowercase().starts_with("text/event-stream") {
        return Err((format!("not an event stream (Content-Type `{content_type}`)"), false));
    }
    let source = shown_url(url);
    info!(source, "notification stream {source} connected");
    if reconnect {
        // Announcements may have been missed while disconnected.
        announce(shared, url, None);
    }
    let idle = shared.config.stream_idle_timeout;
    let mut heard = false;
    loop {
        let chunk = match tokio::time::timeout(idle, response.chunk()).await {
            Ok(Ok(Some(chunk))) => chunk,
            Ok(Ok(None)) => return Ok(heard),
            Ok(Err(e)) => return Err((describe(&e, timeout), heard)),
            Err(_) => return Err((format!("silent for {idle:?} (no event or heartbeat)"), heard)),
        };
        for data in parser.feed(&chunk).map_err(|reason| (reason, heard))? {
            announce(shared, url, Some(&data));
        }
        // Heard: a whole line of the protocol (an event, a heartbeat), not just bytes.
        heard |= parser.lines > 0;
    }
}

/// Makes the sources fetch now, unless `data` names a version already served.
fn announce(shared: &Shared, url: &Url, data: Option<&str>) {
    let announced = data.and_then(announced_version);
    let served = shared.served_version();
    if let (Some(announced), Some(served)) = (announced, served) {
        if announced <= served {
            debug!(source = %shown_url(url), announced, served, "announced version {announced} is already served");
            return;
        }
    }
    let source = shown_url(url);
    info!(source, announced, served_version = served, "new version announced by {source}: fetching now");
    shared.announce.send_modify(|count| *count = count.wrapping_add(1));
}

/// The version an event names: `{"version": N}`, a bare `N`, or the first number in
/// text such as `version N is available`.
pub(crate) fn announced_version(data: &str) -> Option<u64> {
    if let Ok(json) = serde_json::from_str::<serde_json::Value>(data) {
        if let Some(version) = json.as_u64().or_else(|| json.get("version").and_then(serde_json::Value::as_u64)) {
            return Some(version);
        }
    }
    let start = data.find(|c: char| c.is_ascii_digit())?;
    let digits = &data[start..];
    let end = digits.find(|c: char| !c.is_ascii_digit()).unwrap_or(digits.len());
    digits[..end].parse().ok()
}

/// An incremental parser of the `text/event-stream` format: `data:` lines joined by
/// newlines, dispatched at a blank line; comments (heartbeats) and other fields ignored,
/// except `retry:`, kept as the minimum reconnect delay (as is a refusal's
/// `Retry-After`).
#[derive(Default)]
pub(crate) struct EventParser {
    line: Vec<u8>,
    data: Option<String>,
    after_cr: bool,
    pub(crate) retry: Option<Duration>,
    /// Lines completed so far.
    pub(crate) lines: u64,
}

impl EventParser {
    /// Feeds bytes; returns the data of every event completed by them.
    pub(crate) fn feed(&mut self, bytes: &[u8]) -> Result<Vec<String>, String> {
        let mut events = Vec::new();
        for &byte in bytes {
            // A line ends at CR, LF or CRLF.
            if byte == b'\n' && std::mem::take(&mut self.after_cr) {
                continue;
            }
            if byte == b'\n' || byte == b'\r' {
                self.after_cr = byte == b'\r';
                let line = std::mem::take(&mut self.line);
                self.line_done(&line, &mut events)?;
                continue;
            }
            self.after_cr = false;
            if self.line.len() >= MAX_LINE {
                return Err(format!("a line is longer than {MAX_LINE} bytes"));
            }
            self.line.push(byte);
        }
        Ok(events)
    }

    fn line_done(&mut self, line: &[u8], events: &mut Vec<String>) -> Result<(), String> {
        self.lines += 1;
        if line.is_empty() {
            events.extend(self.data.take());
            return Ok(());
        }
        let line = String::from_utf8_lossy(line);
        let (field, value) = match line.split_once(':') {
            Some((field, value)) => (field, value.strip_prefix(' ').unwrap_or(value)),
            None => (line.as_ref(), ""),
        };
        match field {
            "data" => match &mut self.data {
                Some(data) if data.len() + 1 + value.len() > MAX_LINE => {
                    return Err(format!("an event's data is longer than {MAX_LINE} bytes"));
                }
                Some(data) => {
                    data.push('\n');
                    data.push_str(value);
                }
                None => self.data = Some(value.to_owned()),
            },
            "retry" => {
                if let Ok(millis) = value.parse() {
                    self.retry = Some(Duration::from_millis(millis));
                }
            }
            // Comments (`: heartbeat`), `event`, `id` and unknown fields.
            _ => {}
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_split_across_chunks_and_line_endings() {
        let mut parser = EventParser::default();
        assert!(parser.feed(b": heartbeat\r\n\r\nevent: snapshot\ndata: version 7").unwrap().is_empty());
        assert_eq!(parser.feed(b" is available\r\rdata:{\"version\": 8}\n").unwrap(), ["version 7 is available"]);
        assert_eq!(parser.feed(b"data: second line\n\nretry: 2500\n").unwrap(), ["{\"version\": 8}\nsecond line"]);
        assert_eq!(parser.retry, Some(std::time::Duration::from_millis(2500)));
    }

    #[test]
    fn versions_are_read_from_json_or_text() {
        assert_eq!(announced_version(r#"{"version": 12, "environment": "prod"}"#), Some(12));
        assert_eq!(announced_version("13"), Some(13));
        assert_eq!(announced_version("version 14 is available"), Some(14));
        assert_eq!(announced_version("something changed"), None);
    }

    #[test]
    fn an_endless_line_is_refused() {
        let mut parser = EventParser::default();
        assert!(parser.feed(&vec![b'x'; MAX_LINE + 1]).is_err());
    }

    #[test]
    fn endless_event_data_is_refused() {
        let mut parser = EventParser::default();
        let line = format!("data: {}\n", "x".repeat(1000));
        let mut fed = 0;
        let error = loop {
            match parser.feed(line.as_bytes()) {
                Ok(events) => assert!(events.is_empty()),
                Err(error) => break error,
            }
            fed += 1;
        };
        assert_eq!(error, format!("an event's data is longer than {MAX_LINE} bytes"));
        assert_eq!(fed, MAX_LINE / 1001, "refused as soon as the data passes the limit");
    }
}
