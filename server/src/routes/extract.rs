//! Reading requests with errors that say exactly what was wrong: a JSON body whose
//! every refusal names the field at fault, and query strings likewise.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::StatusCode;
use serde::de::DeserializeOwned;

use crate::error::ApiError;
use crate::model::{parse_json, JsonInputError};

/// A request body, read whole (over the body limit: 413 `body_too_large`; not all
/// arrived within `--body-timeout`: 408 `body_timeout`) and parsed as JSON by
/// [`Body::json`] once the caller is known to be allowed to send it.
pub(crate) struct Body(pub(crate) Bytes);

impl Body {
    /// The body as `T`:
    ///
    /// - not JSON (or trailing bytes): 400 `malformed_json`, with line and column;
    /// - an object naming a member twice, at any depth: 400 `malformed_json`, with
    ///   `field` set to the second one's path ([`parse_json`]);
    /// - JSON of the wrong shape (unknown member, wrong type, missing member): 422
    ///   `invalid_field` (`unknown_field`), with `field` set to the path, such as
    ///   `rules[0].serve`.
    pub(crate) fn json<T: DeserializeOwned>(&self) -> Result<T, ApiError> {
        parse(&self.0)
    }
}

impl<S: Send + Sync> FromRequest<S> for Body {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Body, ApiError> {
        let bytes = Bytes::from_request(request, state).await.map_err(|rejection| match rejection {
            BytesRejection::FailedToBufferBody(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "body_too_large",
                "the request body is larger than the server accepts (--max-body)",
            ),
            BytesRejection::FailedToBufferBody(e) => match crate::limits::timed_out(&e) {
                Some(missed) => ApiError::body_timeout(missed.limit),
                None => ApiError::bad_request("unreadable_body", e.body_text()),
            },
            other => ApiError::bad_request("unreadable_body", other.body_text()),
        })?;
        Ok(Body(bytes))
    }
}

/// Parses `bytes` as `T` with the errors described on [`Body::json`].
pub(crate) fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::bad_request("malformed_json", "the request body is empty; send a JSON object"));
    }
    // JSON first, then its shape: read in one step, serde reports a field of the wrong
    // type inside an enum (`"type": 7`) as a syntax error, with no field named.
    let json = parse_json(bytes).map_err(|e| {
        let refusal = ApiError::bad_request("malformed_json", format!("the request body {e}"));
        match e {
            JsonInputError::Duplicate(duplicate) => refusal.at(duplicate.path),
            JsonInputError::Malformed(_) => refusal,
        }
    })?;
    // serde would take an array for an object's members in order (`["b", "boolean"]`).
    if !json.is_object() {
        return Err(ApiError::invalid(
            "",
            format!("the request body must be a JSON object, not {}", crate::model::json_kind(&json)),
        ));
    }
    shaped(json)
}

/// Reads a parsed body (or a part of one a route took out) as `T`: JSON of the wrong
/// shape is refused as [`Body::json`] describes.
pub(crate) fn shaped<T: DeserializeOwned>(json: serde_json::Value) -> Result<T, ApiError> {
    serde_path_to_error::deserialize(json).map_err(|e| {
        let field = field_name(&e.path().to_string());
        let message = plain_words(strip_position(&e.into_inner().to_string()));
        if let Some(name) = unknown_member(&message) {
            return ApiError::invalid(join(&field, &name), message).with_code("unknown_field");
        }
        // serde names a missing member in the message, with the path of the object
        // that lacks it: the field is the member.
        match member_named(&message, "missing field `") {
            Some(name) => ApiError::invalid(join(&field, &name), message),
            None => ApiError::invalid(field, message),
        }
    })
}

/// serde calls a value outside a fixed set (an operator, a flag type, a role) an
/// "unknown variant", which here reads as a flag's variant: it is an unknown value.
pub(crate) fn plain_words(message: String) -> String {
    match message.strip_prefix("unknown variant `") {
        Some(rest) => format!("unknown value `{rest}"),
        None => message,
    }
}

impl ApiError {
    /// Replaces the code.
    fn with_code(mut self, code: &'static str) -> ApiError {
        self.code = code;
        self
    }
}

/// serde_path_to_error writes the root as `.`; the API leaves it empty.
fn field_name(path: &str) -> String {
    if path == "." {
        String::new()
    } else {
        path.to_owned()
    }
}

/// The unknown member's path: serde_path_to_error already ends the path with it.
fn join(parent: &str, name: &str) -> String {
    if parent == name || parent.ends_with(&format!(".{name}")) {
        parent.to_owned()
    } else if parent.is_empty() {
        name.to_owned()
    } else {
        format!("{parent}.{name}")
    }
}

/// The member named by serde's "unknown field `x`, expected ..." message.
fn unknown_member(message: &str) -> Option<String> {
    member_named(message, "unknown field `")
}

/// The member a serde message starting with `prefix` (up to its backquote) names.
fn member_named(message: &str, prefix: &str) -> Option<String> {
    let rest = message.strip_prefix(prefix)?;
    Some(rest[..rest.find('`')?].to_owned())
}

/// Drops serde_json's " at line 1 column 17" suffix from data errors: the field path
/// says where.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(at) => message[..at].to_owned(),
        None => message.to_owned(),
    }
}

/// A query string of type `T`, refused with 400 `invalid_query` naming the parameter
/// in `field` and at the start of the message ([`ApiError::bad_query`]), as the routes
/// that check their parameters themselves do.
pub(crate) struct QueryParams<T>(pub(crate) T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for QueryParams<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<QueryParams<T>, ApiError> {
        let query = parts.uri.query().unwrap_or_default();
        let deserializer = serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
        serde_path_to_error::deserialize(deserializer).map(QueryParams).map_err(|e| query_refusal(query, &e))
    }
}

/// The refusal of `query`, naming the parameter `error` is about and the value it had.
fn query_refusal(query: &str, error: &serde_path_to_error::Error<serde_urlencoded::de::Error>) -> ApiError {
    let message = plain_words(error.inner().to_string());
    let name = Some(field_name(&error.path().to_string()))
        .filter(|path| !path.is_empty())
        .or_else(|| member_named(&message, "missing field `"));
    let Some(name) = name else { return ApiError::bad_request("invalid_query", message) };
    if let Some(expected) = message.strip_prefix(&format!("unknown field `{name}`, ")) {
        return ApiError::bad_query(&name, format!("no such parameter here; {expected}"));
    }
    match form_urlencoded::parse(query.as_bytes()).find(|(key, _)| *key == *name) {
        Some((_, value)) => ApiError::bad_query(&name, format!("cannot use `{value}`: {message}")),
        None => ApiError::bad_query(&name, message),
    }
}

/// The most entries one page of a list may ask for (`limit`).
pub(crate) const MAX_LIMIT: i64 = 1000;

/// A whole number from query parameter `name`, within `range`; `None` when absent.
/// Out of range is refused like any value the route cannot use (400 `invalid_query`,
/// the range in the message), never clamped: a `limit=0` answered with nothing, or a
/// `limit=5000` cut to 1,000 without a word, reads as "that is all there is".
pub(crate) fn whole_number(
    name: &str,
    text: Option<&str>,
    range: std::ops::RangeInclusive<i64>,
) -> Result<Option<i64>, ApiError> {
    let Some(text) = text else { return Ok(None) };
    match text.parse::<i64>() {
        Ok(n) if range.contains(&n) && text.bytes().all(|b| b.is_ascii_digit()) => Ok(Some(n)),
        _ if *range.end() == i64::MAX => {
            Err(ApiError::bad_query(name, format!("`{text}` is not a whole number of {} or more", range.start())))
        }
        _ => Err(ApiError::bad_query(
            name,
            format!("`{text}` is not a whole number from {} to {}", range.start(), range.end()),
        )),
    }
}

/// Path parameters of type `T`, refused with 400 `invalid_path` naming the problem.
pub(crate) struct PathParams<T>(pub(crate) T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for PathParams<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<PathParams<T>, ApiError> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|path| PathParams(path.0))
            .map_err(|e| ApiError::bad_request("invalid_path", e.body_text()))
    }
}
