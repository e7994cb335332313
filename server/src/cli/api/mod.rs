//! The commands that talk to a running control plane over its admin API. The server
//! is `PENNON_URL` (or `--url`, default `http://127.0.0.1:8080`) and the API token is
//! `PENNON_TOKEN`, taken only from the environment so that it stays out of shell
//! history and process lists.
//!
//! Whatever a server sends is printed through [`text`], [`shown`] or [`print_json`],
//! which escape control characters and bidirectional controls: a tag or a variant name
//! stored before the API refused them could otherwise drive the terminal of whoever
//! lists it (clear the screen, or overwrite a change request's summary).

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
pub(crate) mod usage;

pub(crate) use client::{ApiArgs, Client, Reply};

use pennon_server::model::{escaped, json_escaped};
use serde_json::Value as Json;

use super::{print_line, Failure};

/// A string member of a reply, safe to print on one line; empty when it is not a string.
pub(crate) fn text(value: &Json) -> String {
    escaped(value.as_str().unwrap_or_default()).into_owned()
}

/// Any member of a reply (an id, a version) as JSON text, safe to print.
pub(crate) fn shown(value: &Json) -> String {
    json_escaped(&value.to_string()).into_owned()
}

/// Prints what a write produced: the version published, or the change request opened.
pub(crate) fn report(reply: &Reply, done: &str) -> Result<(), Failure> {
    if reply.status == 202 {
        let id = reply.body.get("id").and_then(Json::as_i64).unwrap_or_default();
        let env = text(&reply.body["environment"]);
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

/// Prints JSON, pretty, with the characters JSON leaves raw that a terminal would act on
/// escaped (the same JSON).
pub(crate) fn print_json(value: &Json) -> Result<(), Failure> {
    print_line(&json_escaped(&serde_json::to_string_pretty(value).unwrap_or_default()))
}
