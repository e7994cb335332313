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
mod document;
pub(crate) mod envs;
mod exposures;
mod flag_document;
pub(crate) mod flag_edit;
pub(crate) mod flags;
mod refusal;
pub(crate) mod rollback;
pub(crate) mod segments;
pub(crate) mod stale;
pub(crate) mod usage;

pub(crate) use client::{ApiArgs, Client, Reply};

use pennon_server::model::{escaped, json_escaped};
use serde_json::{json, Value as Json};

use super::{note, print_line, Failure};

/// A string member of a reply, safe to print on one line; empty when it is not a string.
pub(crate) fn text(value: &Json) -> String {
    escaped(value.as_str().unwrap_or_default()).into_owned()
}

/// Any member of a reply (an id, a version) as JSON text, safe to print.
pub(crate) fn shown(value: &Json) -> String {
    json_escaped(&value.to_string()).into_owned()
}

/// What a write did: how `--json` names it, and whether the command exits 3.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// Applied; with the snapshot version it published in the environment, if it
    /// published one (flag definitions, tokens, keys and protection publish none, or in
    /// every environment at once).
    Applied(Option<u64>),
    /// Already so: nothing changed, nothing was published.
    Unchanged,
    /// Not applied: a change request was opened (the reply is the request).
    Proposed,
}

impl Outcome {
    /// The outcome of a change to one environment (a flag's configuration there, a
    /// segment, a rollback, an approval): a 202 opened a change request; a version
    /// header says what was published; a 200 without one changed nothing.
    pub(crate) fn of_change(reply: &Reply) -> Outcome {
        match (reply.status, reply.version) {
            (202, _) => Outcome::Proposed,
            (_, Some(version)) => Outcome::Applied(Some(version)),
            (200, None) => Outcome::Unchanged,
            (_, None) => Outcome::Applied(None),
        }
    }

    fn name(self) -> &'static str {
        match self {
            Outcome::Applied(_) => "applied",
            Outcome::Unchanged => "unchanged",
            Outcome::Proposed => "change_request",
        }
    }
}

/// Ends a write. With `--json`, prints its outcome as one JSON document,
/// `{"outcome", "snapshot_version", "result"}`, `result` being the server's answer
/// (`null` for none); otherwise runs `text`, which prints the sentence. A change request
/// opened is [`Failure::Proposed`] (exit 3) either way.
pub(crate) fn finish(
    api: &ApiArgs,
    reply: &Reply,
    outcome: Outcome,
    text: impl FnOnce() -> Result<(), Failure>,
) -> Result<(), Failure> {
    if api.json {
        let version = match outcome {
            Outcome::Applied(version) => version,
            Outcome::Unchanged | Outcome::Proposed => None,
        };
        print_json(&json!({ "outcome": outcome.name(), "snapshot_version": version, "result": reply.body }))?;
    } else {
        text()?;
    }
    match outcome {
        Outcome::Proposed => Err(Failure::Proposed),
        Outcome::Applied(_) | Outcome::Unchanged => Ok(()),
    }
}

/// Ends a change to one environment ([`Outcome::of_change`]): prints the version
/// published, "no change", or the change request opened, after `done`.
pub(crate) fn report(api: &ApiArgs, reply: &Reply, done: &str) -> Result<(), Failure> {
    let outcome = Outcome::of_change(reply);
    finish(api, reply, outcome, || match outcome {
        Outcome::Proposed => {
            let id = shown(&reply.body["id"]);
            let env = text(&reply.body["environment"]);
            // A repeat of the write that opened it answers with the same request.
            let opened = match reply.body["already_open"].as_bool() {
                Some(true) => format!("change request {id} is already open for this change"),
                _ => format!("opened change request {id}"),
            };
            print_line(&format!(
                "{env} is protected: {opened}; another user must approve it (pennon change-requests approve {id})"
            ))
        }
        Outcome::Applied(Some(version)) => print_line(&format!("{done}: published snapshot version {version}")),
        // A write that found everything already so publishes nothing.
        Outcome::Unchanged => print_line(&format!("{done}: no change, nothing published")),
        Outcome::Applied(None) => print_line(done),
    })
}

/// Prints JSON, pretty, with the characters JSON leaves raw that a terminal would act on
/// escaped (the same JSON).
pub(crate) fn print_json(value: &Json) -> Result<(), Failure> {
    print_line(&json_escaped(&serde_json::to_string_pretty(value).unwrap_or_default()))
}

/// The query of a paged list: `limit`, then each filter given, its value escaped.
pub(crate) fn paged_query(limit: u32, filters: &[(&str, &Option<String>)]) -> String {
    let given =
        filters.iter().filter_map(|(name, value)| Some(format!("{name}={}", client::segment(value.as_deref()?))));
    std::iter::once(format!("limit={limit}")).chain(given).collect::<Vec<_>>().join("&")
}

/// Prints one tab-separated line per item of `list`, each led by its id, under a
/// header row naming the columns (`ID` and `columns`); an empty list prints nothing on
/// stdout, and says so on stderr.
pub(crate) fn table(list: &Json, empty: &str, columns: &str, line: impl Fn(&Json) -> String) -> Result<(), Failure> {
    let items = list.as_array().map(Vec::as_slice).unwrap_or_default();
    if items.is_empty() {
        note(empty);
        return Ok(());
    }
    print_line(&format!("ID\t{columns}"))?;
    items.iter().try_for_each(|item| print_line(&format!("{}\t{}", shown(&item["id"]), line(item))))
}
