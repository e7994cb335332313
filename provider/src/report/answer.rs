//! One report posted, and what the answer means for its deltas.

use std::time::Duration;

use reqwest::header::{HeaderValue, AUTHORIZATION, CONTENT_TYPE, RETRY_AFTER};
use reqwest::{StatusCode, Url};

use crate::sync::{describe, describe_refusal};

/// The longest `Retry-After` honoured: a server asking for more (or a garbled header)
/// must not silence an instance for days.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(3_600);

/// What became of a post.
pub(crate) enum Answer {
    /// 2xx: the server has the batch.
    Accepted,
    /// A network error, a 5xx, a 429 or a 408: the batch goes with the next report, not
    /// before `retry_after` if the server said so.
    Failed { reason: String, retry_after: Option<Duration> },
    /// Any other answer (a 4xx, a redirect not followed): the same batch would fail
    /// again, so it is dropped.
    Rejected { reason: String },
}

/// Posts `body` to `url`, the request timed out after `timeout` (the client's).
pub(crate) async fn post(
    http: &reqwest::Client,
    url: &Url,
    authorization: &HeaderValue,
    body: Vec<u8>,
    timeout: Duration,
) -> Answer {
    let request =
        http.post(url.clone()).header(AUTHORIZATION, authorization).header(CONTENT_TYPE, "application/json").body(body);
    let response = match request.send().await {
        Ok(response) => response,
        Err(e) => return Answer::Failed { reason: describe(&e, timeout), retry_after: None },
    };
    let status = response.status();
    if status.is_success() {
        return Answer::Accepted;
    }
    let retry_after =
        response.headers().get(RETRY_AFTER).and_then(|value| retry_after(value, std::time::SystemTime::now()));
    let retryable =
        status.is_server_error() || matches!(status, StatusCode::TOO_MANY_REQUESTS | StatusCode::REQUEST_TIMEOUT);
    let reason = describe_refusal(url, response, timeout).await;
    if retryable {
        Answer::Failed { reason, retry_after }
    } else {
        Answer::Rejected { reason }
    }
}

/// A `Retry-After` value as a wait from `now`: delay-seconds or an HTTP date (RFC 9110
/// section 10.2.3), at most [`MAX_RETRY_AFTER`]; `None` if it is neither.
pub(crate) fn retry_after(value: &HeaderValue, now: std::time::SystemTime) -> Option<Duration> {
    let text = value.to_str().ok()?.trim();
    let wait = if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
        Duration::from_secs(text.parse().unwrap_or(u64::MAX))
    } else {
        let at = http_date(text)?;
        at.duration_since(now).unwrap_or(Duration::ZERO)
    };
    Some(wait.min(MAX_RETRY_AFTER))
}

/// An IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`), the form servers send.
fn http_date(text: &str) -> Option<std::time::SystemTime> {
    let parts: Vec<&str> = text.split([' ', ':']).collect();
    let [_, day, month, year, hour, minute, second, "GMT"] = parts[..] else { return None };
    const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    let month = MONTHS.iter().position(|name| *name == month)?;
    let month = time::Month::try_from(u8::try_from(month + 1).ok()?).ok()?;
    let date = time::Date::from_calendar_date(year.parse().ok()?, month, day.parse().ok()?).ok()?;
    let at = date.with_hms(hour.parse().ok()?, minute.parse().ok()?, second.parse().ok()?).ok()?.assume_utc();
    let seconds = u64::try_from(at.unix_timestamp()).ok()?;
    std::time::UNIX_EPOCH.checked_add(Duration::from_secs(seconds))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_reads_seconds_and_dates_and_is_capped() {
        let now = std::time::UNIX_EPOCH + Duration::from_secs(784_111_777); // Sun, 06 Nov 1994 08:49:37 GMT
        let read = |text: &str| retry_after(&HeaderValue::from_str(text).unwrap(), now);
        assert_eq!(read("30"), Some(Duration::from_secs(30)));
        assert_eq!(read(" 0 "), Some(Duration::ZERO));
        assert_eq!(read("99999999999999999999999"), Some(MAX_RETRY_AFTER));
        assert_eq!(read("Sun, 06 Nov 1994 08:50:07 GMT"), Some(Duration::from_secs(30)));
        assert_eq!(read("Sun, 06 Nov 1994 08:00:00 GMT"), Some(Duration::ZERO), "a date past is no wait");
        assert_eq!(read("soon"), None);
        assert_eq!(read("-5"), None);
        assert_eq!(read("Sun, 06 Foo 1994 08:49:37 GMT"), None);
    }
}
