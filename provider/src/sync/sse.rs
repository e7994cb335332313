//! The notification stream: server-sent events announcing new versions.
//!
//! Any event makes the HTTP sources fetch at once, unless it names a version that is
//! already served, or a fetch for earlier events did not deliver what they announced
//! (`announced.rs`: then events wait out a hold). The stream is a hint, never a source
//! of flags: what it says is not trusted, only what the signed snapshot then says.

use std::sync::Arc;

use std::time::{Duration, Instant, SystemTime};

use pennon_core::MAX_VERSION;
use reqwest::header::{ACCEPT, CACHE_CONTROL, CONTENT_TYPE};
use reqwest::Url;
use tracing::{debug, info, warn};

use super::http::describe;
use super::refusal::{describe_refusal, retry_after, shown_url};
use super::{Announced, Backoff};
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
            shared.announce.send_modify(|tally| tally.reconnects = tally.reconnects.wrapping_add(1));
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
        shared.announce.send_modify(|tally| tally.reconnects = tally.reconnects.wrapping_add(1));
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
            announce(shared, url, &data);
        }
        // Heard: a whole line of the protocol (an event, a heartbeat), not just bytes.
        heard |= parser.lines > 0;
    }
}

/// Makes the sources fetch now, unless `data` names a version already served. Logged
/// at `info` while the version announced before is served: a stream announcing versions
/// never published logs its first, not each.
fn announce(shared: &Shared, url: &Url, data: &str) {
    let announced = announced_version(data);
    let served = shared.served_version();
    let source = shown_url(url);
    if let (Some(announced), Some(served)) = (announced, served) {
        if announced <= served {
            debug!(source, announced, served, "announced version {announced} is already served");
            return;
        }
    }
    let mut outstanding = false;
    shared.announce.send_modify(|tally: &mut Announced| {
        outstanding = tally.latest > served.unwrap_or(0);
        tally.events = tally.events.wrapping_add(1);
        if let Some(version) = announced {
            tally.named = tally.named.wrapping_add(1);
            tally.latest = version;
        }
    });
    if outstanding {
        debug!(source, announced, served_version = served, "new version announced by {source}");
    } else {
        info!(source, announced, served_version = served, "new version announced by {source}: fetching now");
    }
}

/// The version an event names: `{"version": N}`, a bare `N`, or the first number in
/// text such as `version N is available`. As a snapshot's version, it is an integer
/// from 1 to 2^53 - 1 written as one: `11.0`, `1e15`, `-1` or `2^53` name none (and
/// the event then asks for a fetch as one naming none does). The npm package's
/// `announcedVersion` reads the same.
pub(crate) fn announced_version(data: &str) -> Option<u64> {
    let in_range = |version: &u64| (1..=MAX_VERSION).contains(version);
    if let Ok(json) = serde_json::from_str::<serde_json::Value>(data) {
        let named = if json.is_number() { Some(&json) } else { json.get("version").filter(|v| v.is_number()) };
        if let Some(number) = named {
            // Only an integer literal is a `u64` here: serde_json reads `11.0` as a float.
            return number.as_u64().filter(in_range);
        }
    }
    // The first number in the text: digits, and any sign, exponent or point (one before
    // a digit: `version 7.` names 7) around them.
    let bytes = data.as_bytes();
    let first = bytes.iter().position(u8::is_ascii_digit)?;
    let mut start = first;
    if start > 0 && bytes[start - 1] == b'.' {
        start -= 1;
    }
    if start > 0 && matches!(bytes[start - 1], b'+' | b'-') {
        start -= 1;
    }
    let mut end = first;
    while let Some(&b) = bytes.get(end) {
        let point = b == b'.' && bytes.get(end + 1).is_some_and(u8::is_ascii_digit);
        if !(b.is_ascii_digit() || point || matches!(b, b'e' | b'E' | b'+' | b'-')) {
            break;
        }
        end += 1;
    }
    let number = &data[start..end];
    if !number.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    number.parse().ok().filter(in_range)
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
        assert_eq!(announced_version("1000000000000001"), Some(1_000_000_000_000_001));
        assert_eq!(
            announced_version(r#"{"version": "15"}"#),
            Some(15),
            "not a JSON number: the first number in the text"
        );
    }

    /// As a snapshot's version: an integer from 1 to 2^53 - 1, written as one.
    #[test]
    fn versions_that_are_no_snapshot_version_name_none() {
        for data in [
            "11.0",
            "1e15",
            "1e15+1",
            "-1",
            "0",
            "9007199254740992",
            "99999999999999999999",
            r#"{"version": 11.0}"#,
            r#"{"version": 1e15}"#,
            r#"{"version": -3}"#,
            "version 1.5 is available",
            "v2.1.0",
            "version -2",
            "version .5",
            "released 2026-01-01",
        ] {
            assert_eq!(announced_version(data), None, "{data}");
        }
        assert_eq!(announced_version("9007199254740991"), Some(MAX_VERSION));
        assert_eq!(announced_version("version 7."), Some(7), "a sentence's full stop");
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
