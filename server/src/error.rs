//! [`ApiError`]: every refusal the API makes, as a status and a JSON body that says
//! which field was wrong and why.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// A refused or failed request.
///
/// The body is `{"error": {"code", "message", "field"?, "path"?}}`: `code` is stable
/// for programs, `message` is for people, `field` names the member of the request
/// body at fault (`rules[0].conditions[1].value`), and `path` the JSON path in the
/// snapshot payload when the core's compile step refused it.
#[derive(Debug, Clone)]
pub struct ApiError {
    /// The HTTP status.
    pub status: StatusCode,
    /// A stable machine-readable code, such as `invalid_field`.
    pub code: &'static str,
    /// What was wrong and what to do about it.
    pub message: String,
    /// The request member at fault.
    pub field: Option<String>,
    /// The JSON path in the snapshot payload, for compile failures.
    pub path: Option<String>,
    /// The current ETag, for 412 responses.
    pub etag: Option<String>,
}

impl ApiError {
    /// A refusal with `status`, `code` and `message`.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError { status, code, message: message.into(), field: None, path: None, etag: None }
    }

    /// 400: the request is not what the endpoint reads (malformed JSON, bad query).
    pub fn bad_request(code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, code, message)
    }

    /// 400 `invalid_query`: query parameter `name` has a value the endpoint cannot use,
    /// as for any query string it cannot read; `field` and the message name it.
    pub fn bad_query(name: &str, message: impl std::fmt::Display) -> ApiError {
        let mut error = ApiError::bad_request("invalid_query", format!("`{name}`: {message}"));
        error.field = Some(name.to_owned());
        error
    }

    /// 422: well-formed, but `field` is invalid.
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> ApiError {
        let mut error = ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_field", message);
        error.field = Some(field.into()).filter(|f: &String| !f.is_empty());
        error
    }

    /// 404.
    pub fn not_found(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    /// 404 for an environment that does not exist: one message wherever it is looked up.
    pub fn no_environment(env: &str) -> ApiError {
        ApiError::not_found(format!("no environment `{env}`"))
    }

    /// 409: the request conflicts with the current state.
    pub fn conflict(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::CONFLICT, "conflict", message)
    }

    /// 401.
    pub fn unauthorized(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", message)
    }

    /// 403.
    pub fn forbidden(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::FORBIDDEN, "forbidden", message)
    }

    /// 503 `database_unavailable`.
    pub fn unavailable(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "database_unavailable", message)
    }

    /// 500, logging the cause; the client learns only that it failed.
    pub fn internal(cause: impl std::fmt::Display) -> ApiError {
        tracing::error!("internal error: {cause}");
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", "internal error; see the server log")
    }

    /// 408 `body_timeout`: the body did not arrive within `limit` of its first read. The
    /// connection is closed: what is left of the body would otherwise be read as the
    /// next request.
    pub fn body_timeout(limit: std::time::Duration) -> ApiError {
        let millis = limit.as_millis();
        let shown = if millis.is_multiple_of(1000) { format!("{} s", millis / 1000) } else { format!("{millis} ms") };
        ApiError::new(
            StatusCode::REQUEST_TIMEOUT,
            "body_timeout",
            format!(
                "the request body did not arrive within {shown} of the server starting to read it (--body-timeout); \
                 nothing was changed: send it again"
            ),
        )
    }

    /// Sets the field at fault.
    #[must_use]
    pub fn at(mut self, field: impl Into<String>) -> ApiError {
        self.field = Some(field.into());
        self
    }
}

impl From<sqlx::Error> for ApiError {
    /// 503 for a database that cannot be reached, cannot take writes now, or gave up a
    /// lock or a transaction that a retry can win (what a load balancer or client should
    /// retry); 500 for the rest. The driver's words go to the log only: SDK callers need
    /// not learn about the network.
    fn from(error: sqlx::Error) -> ApiError {
        let transient = match &error {
            sqlx::Error::Database(db) => {
                let postgres = db.try_downcast_ref::<sqlx::postgres::PgDatabaseError>().is_some();
                db.code().and_then(|code| classify(&code, postgres))
            }
            _ => None,
        };
        let unreachable = matches!(
            error,
            sqlx::Error::PoolTimedOut
                | sqlx::Error::PoolClosed
                | sqlx::Error::Io(_)
                | sqlx::Error::Tls(_)
                | sqlx::Error::WorkerCrashed
        );
        match (unreachable, transient) {
            (true, _) => {
                tracing::warn!("database unavailable: {error}");
                ApiError::unavailable("the database cannot be reached; published snapshots are still served")
            }
            (false, Some(Transient::Unavailable)) => {
                tracing::warn!("database unavailable: {error}");
                ApiError::unavailable("the database cannot take requests now; published snapshots are still served")
            }
            (false, Some(Transient::Full)) => {
                tracing::error!("database full: {error}");
                ApiError::unavailable("the database is out of space; nothing was changed")
            }
            (false, Some(Transient::Contended)) => {
                tracing::warn!("database lock: {error}");
                ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "busy",
                    "another write held what this one needs (a lock, or a conflicting transaction); \
                     nothing was changed: try again",
                )
            }
            _ => ApiError::internal(format!("database: {error}")),
        }
    }
}

/// Database failures that a retry may get past.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Transient {
    /// Restarting, failing over, read-only, out of connections, or connection lost.
    Unavailable,
    /// Out of disk space.
    Full,
    /// A lock wait ran out, or the transaction lost a serialization race or deadlock.
    Contended,
}

/// What a database error code says, if it is transient: PostgreSQL's SQLSTATE, or
/// SQLite's (extended) result code, whose low byte is the primary code.
fn classify(code: &str, postgres: bool) -> Option<Transient> {
    if !postgres {
        return match code.parse::<u32>().ok()? & 0xff {
            5 | 6 => Some(Transient::Contended),         // SQLITE_BUSY, SQLITE_LOCKED
            13 => Some(Transient::Full),                 // SQLITE_FULL
            8 | 10 | 14 => Some(Transient::Unavailable), // READONLY, IOERR, CANTOPEN
            _ => None,
        };
    }
    match code {
        "55P03" | "40001" | "40P01" => Some(Transient::Contended),
        "53100" => Some(Transient::Full),
        _ if code.starts_with("08") => Some(Transient::Unavailable),
        "57P01" | "57P02" | "57P03" | "53300" | "25006" => Some(Transient::Unavailable),
        _ => None,
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.field {
            Some(field) => write!(f, "{} ({}): {}: {}", self.status.as_u16(), self.code, field, self.message),
            None => write!(f, "{} ({}): {}", self.status.as_u16(), self.code, self.message),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut body = json!({ "code": self.code, "message": self.message });
        if let Some(field) = &self.field {
            body["field"] = json!(field);
        }
        if let Some(path) = &self.path {
            body["path"] = json!(path);
        }
        if let Some(etag) = &self.etag {
            body["current_etag"] = json!(etag);
        }
        let mut response = (self.status, axum::Json(json!({ "error": body }))).into_response();
        if self.status == StatusCode::SERVICE_UNAVAILABLE {
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        }
        if self.status == StatusCode::REQUEST_TIMEOUT {
            response.headers_mut().insert(header::CONNECTION, HeaderValue::from_static("close"));
        }
        if self.status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        if matches!(self.status, StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN) {
            response.extensions_mut().insert(crate::routes::Denial(self.message.clone()));
        }
        if let Some(etag) = self.etag.as_deref().and_then(|e| HeaderValue::from_str(e).ok()) {
            response.headers_mut().insert(header::ETAG, etag);
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::{classify, Transient};

    #[test]
    fn transient_database_codes() {
        for (code, expected) in [
            ("5", Some(Transient::Contended)),
            ("517", Some(Transient::Contended)), // SQLITE_BUSY_SNAPSHOT
            ("13", Some(Transient::Full)),
            ("1034", Some(Transient::Unavailable)), // SQLITE_IOERR_FSYNC
            ("19", None),                           // a constraint: a bug, not a retry
            ("2067", None),                         // SQLITE_CONSTRAINT_UNIQUE
        ] {
            assert_eq!(classify(code, false), expected, "SQLite {code}");
        }
        for (code, expected) in [
            ("40001", Some(Transient::Contended)),
            ("40P01", Some(Transient::Contended)),
            ("55P03", Some(Transient::Contended)),
            ("53100", Some(Transient::Full)),
            ("08006", Some(Transient::Unavailable)),
            ("25006", Some(Transient::Unavailable)),
            ("23505", None),
            ("42P01", None),
        ] {
            assert_eq!(classify(code, true), expected, "PostgreSQL {code}");
        }
    }
}
