//! The commands that talk to a running control plane over its admin API. The server
//! is `PENNON_URL` (or `--url`, default `http://127.0.0.1:8080`) and the API token is
//! `PENNON_TOKEN`, taken only from the environment so that it stays out of shell
//! history and process lists.

pub(crate) mod access;
pub(crate) mod audit;
pub(crate) mod changes;
pub(crate) mod check;
mod client;
pub(crate) mod envs;
pub(crate) mod flags;
pub(crate) mod rollback;
pub(crate) mod segments;
pub(crate) mod stale;

pub(crate) use client::{ApiArgs, Client, Reply};

use serde_json::Value as Json;

use super::{print_line, Failure};

/// Prints what a write produced: the version published, or the change request opened.
pub(crate) fn report(reply: &Reply, done: &str) -> Result<(), Failure> {
    if reply.status == 202 {
        let id = reply.body.get("id").and_then(Json::as_i64).unwrap_or_default();
        let env = reply.body.get("environment").and_then(Json::as_str).unwrap_or_default();
        return print_line(&format!(
            "{env} is protected: opened change request {id}; another user must approve it \
             (pennon change-requests approve {id})"
        ));
    }
    match reply.version {
        Some(version) => print_line(&format!("{done}: published snapshot version {version}")),
        // A write that found everything already so publishes nothing.
        None if reply.status == 200 => print_line(&format!("{done}: no change, nothing published")),
        None => print_line(done),
    }
}

/// Prints JSON, pretty.
pub(crate) fn print_json(value: &Json) -> Result<(), Failure> {
    print_line(&serde_json::to_string_pretty(value).unwrap_or_default())
}
