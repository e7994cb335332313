//! `pennon audit`: the audit log, newest first, filtered.

use serde_json::Value as Json;

use super::{paged_query, print_json, shown, text, ApiArgs, Client};
use crate::cli::inputs::time_or_back;
use crate::cli::{print_line, Failure};

/// Arguments of `pennon audit`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Only this environment.
    #[arg(long, value_name = "ENV")]
    env: Option<String>,
    /// Only this flag, segment or other resource.
    #[arg(long, value_name = "KEY")]
    resource: Option<String>,
    /// Only changes by this token name.
    #[arg(long)]
    actor: Option<String>,
    /// Only this action (flag.create, config.toggle, config.rollout, rollback,
    /// change_request.approve, ...; the server refuses one it never records, listing
    /// those it does).
    #[arg(long)]
    action: Option<String>,
    /// Only entries at or after this time: a time back from now (7d, 24h, 30m) or an
    /// RFC 3339 time.
    #[arg(long, value_name = "WHEN")]
    since: Option<String>,
    /// Only entries at or before this time, given as --since is.
    #[arg(long, value_name = "WHEN")]
    until: Option<String>,
    /// Only entries older than this id (to page back: the last id printed).
    #[arg(long, value_name = "ID")]
    before_id: Option<String>,
    /// At most this many entries (1 to 1000; page further back with --before-id). A
    /// large list changed shows as `; /included +1 -1 (45000 now): +ann -bob`.
    #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u32).range(1..=1000))]
    limit: u32,
    /// The server.
    #[command(flatten)]
    api: ApiArgs,
}

/// Prints the matching entries.
pub(crate) async fn run(args: &Args) -> Result<(), Failure> {
    let time = |flag: &str, text: &Option<String>| text.as_deref().map(|t| time_or_back(flag, t)).transpose();
    let (since, until) = (time("--since", &args.since)?, time("--until", &args.until)?);
    let filters = [
        ("environment", &args.env),
        ("resource", &args.resource),
        ("actor", &args.actor),
        ("action", &args.action),
        ("since", &since),
        ("until", &until),
        ("before_id", &args.before_id),
    ];
    let client = Client::new(&args.api)?.naming(&[
        ("resource", "--resource"),
        ("actor", "--actor"),
        ("action", "--action"),
        ("since", "--since"),
        ("until", "--until"),
        ("before_id", "--before-id"),
        ("limit", "--limit"),
    ]);
    let reply = client.get(&format!("/api/v1/audit?{}", paged_query(args.limit, &filters))).await?;
    if args.api.json {
        return print_json(&reply.body);
    }
    let empty = Vec::new();
    for entry in reply.body["entries"].as_array().unwrap_or(&empty) {
        let text = |name: &str| text(&entry[name]);
        let mut line = format!(
            "{} #{} {} {} {} {}",
            text("at"),
            shown(&entry["id"]),
            text("actor"),
            text("action"),
            text("resource_type"),
            text("resource")
        );
        if entry["environment"].is_string() {
            line.push_str(&format!(" in {}", text("environment")));
        }
        if let Some(version) = entry["snapshot_version"].as_u64() {
            line.push_str(&format!(" -> v{version}"));
        }
        if entry["approved_by"].is_string() {
            line.push_str(&format!(" (approved by {})", text("approved_by")));
        }
        line.push_str(&format!(" [request {}]", text("request_id")));
        if entry.get("change_request").is_some_and(Json::is_i64) {
            line.push_str(&format!(" [change request {}]", entry["change_request"]));
        }
        // An opened change request's lists are what it proposes, not yet what is.
        let count = if entry["action"] == "change_request.open" { "proposed" } else { "now" };
        for change in entry["changes"].as_array().map(Vec::as_slice).unwrap_or_default() {
            line.push_str(&format!("; {}", list_change(change, count)));
        }
        print_line(&line)?;
    }
    Ok(())
}

/// A list of a compact entry: `/included +2 -1 (45001 now): +ann +bob -carl`, naming the
/// members when there are a few (`--json` has them all); `count` says what the total is.
fn list_change(change: &Json, count: &str) -> String {
    const NAMED: usize = 3;
    let members = |name: &str| change[name].as_array().map(Vec::as_slice).unwrap_or_default().to_vec();
    let (added, removed) = (members("added"), members("removed"));
    let mut line = format!(
        "{} +{} -{} ({} {count})",
        text(&change["path"]),
        added.len(),
        removed.len(),
        shown(&change["after_count"])
    );
    if added.len() + removed.len() <= NAMED && !(added.is_empty() && removed.is_empty()) {
        let name = |v: &Json| if v.is_string() { text(v) } else { shown(v) };
        let named: Vec<String> = added
            .iter()
            .map(|v| format!("+{}", name(v)))
            .chain(removed.iter().map(|v| format!("-{}", name(v))))
            .collect();
        line.push_str(&format!(": {}", named.join(" ")));
    }
    line
}
