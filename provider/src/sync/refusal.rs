//! What a server said when it refused a request, for the failure message: "HTTP status
//! 401 Unauthorized" alone does not tell a missing SDK key from a revoked one, and
//! `pennon serve` says which in its JSON error body. The npm package words it the same.

use std::time::{Duration, SystemTime};

use reqwest::header::{HeaderMap, CONTENT_TYPE, RETRY_AFTER};
use reqwest::{Response, Url};

/// At most this much of an error body is read.
const BODY_MAX: usize = 4096;
/// Longest explanation kept in a message, in characters.
const DETAIL_MAX: usize = 200;

/// "HTTP status 401 Unauthorized: unknown or revoked SDK key", naming where a redirect
/// to another origin ended (reqwest does not send `Authorization` there).
pub(crate) async fn describe_refusal(requested: &Url, response: Response, timeout: Duration) -> String {
    let status = response.status();
    let final_url = response.url().clone();
    let mut text = format!("HTTP status {status}");
    if final_url.origin() != requested.origin() {
        text.push_str(&format!(
            " from {} (redirected to another origin, so an `Authorization` header was not sent)",
            shown_url(&final_url)
        ));
    }
    if let Some(detail) = detail(response, timeout).await {
        text.push_str(": ");
        text.push_str(&detail);
    }
    text
}

/// The wait a refusal asks for in `Retry-After` (RFC 9110 10.2.3): seconds, or an HTTP
/// date, counted from `now`; `None` when absent or unreadable.
pub(crate) fn retry_after(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        return Some(Duration::from_secs(value.parse().unwrap_or(u64::MAX)));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(now).unwrap_or_default())
}

/// A URL as logs and messages show it: without the user name, password, query and
/// fragment, which may hold secrets (a presigned bucket URL's signature, a token); a
/// cut query shows as `?…`, so that two sources differing only there stay apart.
pub(crate) fn shown_url(url: &Url) -> String {
    let mut shown = url.clone();
    let _ = shown.set_username("");
    let _ = shown.set_password(None);
    shown.set_query(None);
    shown.set_fragment(None);
    let mut text = shown.to_string();
    if url.query().is_some() {
        text.push_str("?…");
    }
    text
}

/// A JSON body's `error.message` (or `error`, or `message`), or a plain-text body, on
/// one line and cut to [`DETAIL_MAX`]; nothing for other types (an HTML error page).
async fn detail(mut response: Response, timeout: Duration) -> Option<String> {
    let content_type = response.headers().get(CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default();
    let content_type = content_type.to_ascii_lowercase();
    let json = content_type.contains("/json") || content_type.contains("+json");
    if !json && !content_type.starts_with("text/plain") {
        return None;
    }
    let mut body = Vec::new();
    let read = async {
        while body.len() < BODY_MAX {
            match response.chunk().await {
                Ok(Some(chunk)) => body.extend_from_slice(&chunk),
                _ => break,
            }
        }
    };
    // A body that stalls gives no detail, not a longer wait.
    let _ = tokio::time::timeout(timeout, read).await;
    let text = String::from_utf8_lossy(&body[..body.len().min(BODY_MAX)]);
    let explained = if json { explanation(&text) } else { None };
    one_line(explained.as_deref().unwrap_or(&text))
}

/// The explanation a JSON error body carries, if it parses whole, after the member it
/// names (`error.field`, as `pennon serve` sends: `counts[3].count: must be ...`).
fn explanation(text: &str) -> Option<String> {
    let body: serde_json::Value = serde_json::from_str(text).ok()?;
    let (said, field) = match body.get("error") {
        Some(serde_json::Value::Object(error)) => (error.get("message"), error.get("field")),
        Some(error @ serde_json::Value::String(_)) => (Some(error), None),
        _ => (body.get("message"), None),
    };
    let said = said.and_then(serde_json::Value::as_str)?;
    match field.and_then(serde_json::Value::as_str) {
        Some(field) if !field.is_empty() => Some(format!("{field}: {said}")),
        _ => Some(said.to_owned()),
    }
}

fn one_line(text: &str) -> Option<String> {
    let line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    match line.char_indices().nth(DETAIL_MAX) {
        _ if line.is_empty() => None,
        Some((cut, _)) => Some(format!("{}…", &line[..cut])),
        None => Some(line),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn explanations_come_from_the_usual_json_shapes() {
        let said = |text: &str| explanation(text);
        assert_eq!(
            said(r#"{"error":{"code":"unauthorized","message":"unknown SDK key"}}"#).as_deref(),
            Some("unknown SDK key")
        );
        assert_eq!(said(r#"{"error":"forbidden"}"#).as_deref(), Some("forbidden"));
        assert_eq!(
            said(r#"{"error":{"code":"invalid_field","message":"must be at least 1","field":"counts[3].count"}}"#)
                .as_deref(),
            Some("counts[3].count: must be at least 1")
        );
        assert_eq!(said(r#"{"message":"rate limited"}"#).as_deref(), Some("rate limited"));
        assert_eq!(said(r#"{"error":{"code":7}}"#), None);
        assert_eq!(said("{not json"), None);
    }

    #[test]
    fn retry_after_is_read_as_seconds_or_a_date() {
        let now = std::time::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let asked = |value: &str| {
            let mut headers = HeaderMap::new();
            headers.insert(RETRY_AFTER, value.parse().unwrap());
            retry_after(&headers, now)
        };
        assert_eq!(asked("30"), Some(Duration::from_secs(30)));
        assert_eq!(asked(" 0 "), Some(Duration::ZERO));
        assert_eq!(asked(&httpdate::fmt_http_date(now + Duration::from_secs(90))), Some(Duration::from_secs(90)));
        assert_eq!(asked(&httpdate::fmt_http_date(now - Duration::from_secs(90))), Some(Duration::ZERO), "past");
        assert_eq!(asked("soon"), None);
        assert_eq!(asked("-5"), None);
        assert_eq!(retry_after(&HeaderMap::new(), now), None);
    }

    #[test]
    fn details_are_one_line_and_cut() {
        assert_eq!(one_line("  a\n\tb  ").as_deref(), Some("a b"));
        assert_eq!(one_line(" \n "), None);
        let long = "é".repeat(300);
        let cut = one_line(&long).unwrap();
        assert_eq!(cut.chars().count(), DETAIL_MAX + 1);
        assert!(cut.ends_with('…'));
    }
}
