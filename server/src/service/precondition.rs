//! Optimistic concurrency: every resource has an entity tag, and every update and
//! delete must send it back in `If-Match`. Without it the answer is 428; with a stale
//! one, 412 and the current tag, so two editors never silently overwrite each other.
//! `*` (RFC 9110: any current version) is the explicit way to overwrite: every route
//! that checks `If-Match` takes it, and a change request keeps it for its approval.

use axum::http::HeaderMap;

use crate::error::ApiError;
use axum::http::StatusCode;

/// The `If-Match` header of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum IfMatch {
    /// Absent.
    Missing,
    /// `*`: any current version (the resource must exist).
    Any,
    /// One or more entity tags.
    Tags(Vec<String>),
}

impl IfMatch {
    /// Reads `If-Match` from `headers`.
    pub(crate) fn from_headers(headers: &HeaderMap) -> IfMatch {
        let values: Vec<&str> =
            headers.get_all(axum::http::header::IF_MATCH).iter().filter_map(|v| v.to_str().ok()).collect();
        if values.is_empty() {
            return IfMatch::Missing;
        }
        let tags: Vec<String> =
            values.iter().flat_map(|v| v.split(',')).map(|t| t.trim().to_owned()).filter(|t| !t.is_empty()).collect();
        if tags.iter().any(|t| t == "*") {
            IfMatch::Any
        } else {
            IfMatch::Tags(tags)
        }
    }

    /// Reads the form stored with a change request.
    pub(crate) fn from_stored(stored: Option<&str>) -> IfMatch {
        match stored {
            None => IfMatch::Missing,
            Some("*") => IfMatch::Any,
            Some(tags) => IfMatch::Tags(tags.split(',').map(|t| t.trim().to_owned()).collect()),
        }
    }

    /// The form stored with a change request.
    pub(crate) fn to_stored(&self) -> Option<String> {
        match self {
            IfMatch::Missing => None,
            IfMatch::Any => Some("*".into()),
            IfMatch::Tags(tags) => Some(tags.join(", ")),
        }
    }

    /// Requires the header to be present (428 otherwise).
    pub(crate) fn required(&self) -> Result<(), ApiError> {
        if *self == IfMatch::Missing {
            return Err(ApiError::new(
                StatusCode::PRECONDITION_REQUIRED,
                "precondition_required",
                "this update needs an `If-Match` header with the resource's current ETag (from a GET), or `*` \
                 to overwrite whatever is there",
            ));
        }
        Ok(())
    }

    /// Checks the header against the resource's current tag: 428 if absent, 412 if it
    /// does not match.
    pub(crate) fn check(&self, current: &str) -> Result<(), ApiError> {
        self.required()?;
        let weak = |t: &str| t.strip_prefix("W/").unwrap_or(t).to_owned();
        match self {
            IfMatch::Tags(tags) if !tags.iter().any(|t| weak(t) == current) => {
                let mut error = ApiError::new(
                    StatusCode::PRECONDITION_FAILED,
                    "precondition_failed",
                    format!(
                        "the resource changed since you read it: its ETag is now {current}, not {}; read it again \
                         and re-apply your change",
                        tags.join(", ")
                    ),
                );
                error.etag = Some(current.to_owned());
                Err(error)
            }
            _ => Ok(()),
        }
    }
}

/// The entity tag of a resource at revision `rev`.
pub(crate) fn etag_rev(rev: i64) -> String {
    format!("\"r{rev}\"")
}

/// The entity tag of an environment: it changes with its settings and its version.
pub(crate) fn etag_env(version: i64, rev: i64) -> String {
    format!("\"v{version}.r{rev}\"")
}
