//! One report posted, and what the answer means for its deltas.

use std::time::Duration;

use reqwest::header::{HeaderValue, AUTHORIZATION, CONTENT_TYPE};
use reqwest::{StatusCode, Url};

use crate::sync::{describe, describe_refusal, retry_after};

/// The longest `Retry-After` honoured: a server asking for more (or a garbled header)
/// must not silence an instance for days.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(3_600);

/// What became of a post.
pub(crate) enum Answer {
    /// 2xx: the server has the batch; `duplicate`: it had it already (an earlier post
    /// was stored but its answer lost); `refused`: why it dropped exposures of it, if it
    /// did.
    Accepted { duplicate: bool, refused: Option<String> },
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
        let answer = accepted(response, timeout).await;
        return Answer::Accepted { duplicate: answer["duplicate"] == true, refused: refused_exposures(&answer) };
    }
    let retry_after = asked_wait(response.headers());
    let retryable =
        status.is_server_error() || matches!(status, StatusCode::TOO_MANY_REQUESTS | StatusCode::REQUEST_TIMEOUT);
    let reason = describe_refusal(url, response, timeout).await;
    if retryable {
        Answer::Failed { reason, retry_after }
    } else {
        Answer::Rejected { reason }
    }
}

/// The largest 2xx body read: the server's answer is a few dozen bytes.
const ANSWER_MAX: usize = 16 * 1024;

/// A 2xx answer's JSON body; `Null` if it is not JSON or does not arrive within
/// `timeout` (the status says the batch is stored: the body only adds detail).
async fn accepted(mut response: reqwest::Response, timeout: Duration) -> serde_json::Value {
    let mut body = Vec::new();
    let read = async {
        while body.len() < ANSWER_MAX {
            match response.chunk().await {
                Ok(Some(chunk)) => body.extend_from_slice(&chunk),
                _ => break,
            }
        }
    };
    let _ = tokio::time::timeout(timeout, read).await;
    serde_json::from_slice(&body).unwrap_or_default()
}

/// What an accepted report's answer says of exposures the control plane dropped
/// (`exposures_refused`, and the first's `exposure_refusal`), if any.
fn refused_exposures(answer: &serde_json::Value) -> Option<String> {
    let refused = answer["exposures_refused"].as_u64().filter(|&n| n > 0)?;
    let why = &answer["exposure_refusal"];
    let first = match (why["field"].as_str(), why["message"].as_str()) {
        (Some(field), Some(message)) => {
            let message: String = message.split_whitespace().collect::<Vec<_>>().join(" ").chars().take(200).collect();
            format!(" (the first: {field}: {message})")
        }
        _ => String::new(),
    };
    let plural = if refused == 1 { "" } else { "s" };
    Some(format!("the control plane dropped {refused} exposure{plural} of a report{first}; its counts were kept"))
}

/// The wait `Retry-After` asks for, at most [`MAX_RETRY_AFTER`].
fn asked_wait(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    retry_after(headers, std::time::SystemTime::now()).map(|wait| wait.min(MAX_RETRY_AFTER))
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::RETRY_AFTER;

    #[test]
    fn dropped_exposures_are_described_from_the_answer() {
        let answer = serde_json::json!({
            "accepted": { "counts": 1, "exposures": 0 }, "exposures_refused": 2,
            "exposure_refusal": { "field": "exposures[0].rule_id", "message": "must be 0 to 1024 bytes long" }
        });
        assert_eq!(
            refused_exposures(&answer).as_deref(),
            Some(
                "the control plane dropped 2 exposures of a report (the first: exposures[0].rule_id: must be 0 to \
                 1024 bytes long); its counts were kept"
            )
        );
        assert_eq!(refused_exposures(&serde_json::json!({ "accepted": { "counts": 1 } })), None);
    }

    #[test]
    fn a_long_retry_after_is_capped() {
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert(RETRY_AFTER, HeaderValue::from_static("99999999999999999999999"));
        assert_eq!(asked_wait(&headers), Some(MAX_RETRY_AFTER));
        headers.insert(RETRY_AFTER, HeaderValue::from_static("30"));
        assert_eq!(asked_wait(&headers), Some(Duration::from_secs(30)));
    }
}
