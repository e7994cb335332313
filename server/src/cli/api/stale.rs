//! `pennon flags stale`: the stale-flag report, one block per flag.

use pennon_server::{days, for_days};
use serde_json::Value as Json;

use super::client::segment;
use super::{print_json, text, ApiArgs, Client};
use crate::cli::{note, print_line, Failure};

/// Arguments of `pennon flags stale`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Days each environment must have served one value to everyone (0 to 3650).
    #[arg(long, value_name = "DAYS", default_value_t = 7, value_parser = clap::value_parser!(u32).range(0..=3650))]
    settled_days: u32,
    /// Days a temporary flag without an expiry may live (0 to 3650).
    #[arg(long, value_name = "DAYS", default_value_t = 40, value_parser = clap::value_parser!(u32).range(0..=3650))]
    lifetime_days: u32,
    /// Days without a reported evaluation, where SDKs report telemetry, for `unused`.
    #[arg(long, value_name = "DAYS", default_value_t = 7, value_parser = clap::value_parser!(u32).range(0..=3650))]
    unused_days: u32,
    /// Only this environment (a token scoped to environments must name one).
    #[arg(long, value_name = "ENV")]
    env: Option<String>,
    /// The server.
    #[command(flatten)]
    api: ApiArgs,
}

/// Prints the report.
pub(crate) async fn run(args: &Args) -> Result<(), Failure> {
    let mut path = format!(
        "/api/v1/reports/stale-flags?settled_days={}&lifetime_days={}&unused_days={}",
        args.settled_days, args.lifetime_days, args.unused_days
    );
    if let Some(env) = &args.env {
        path.push_str(&format!("&environment={}", segment(env)));
    }
    let report = Client::new(&args.api)?.get(&path).await?.body;
    if args.api.json {
        return print_json(&report);
    }
    let empty = Vec::new();
    let flags = report["flags"].as_array().unwrap_or(&empty);
    if flags.is_empty() {
        // To stderr: a script reading the report gets no lines, not a sentence.
        note(&format!(
            "no stale flags: no temporary flag is expired, older than {} without an expiry, serving one value \
             everywhere{}, or unevaluated{} where SDKs report telemetry",
            days(args.lifetime_days),
            for_days(args.settled_days),
            for_days(args.unused_days)
        ));
        return Ok(());
    }
    for (i, flag) in flags.iter().enumerate() {
        if i > 0 {
            print_line("")?;
        }
        for line in block(flag) {
            print_line(&line)?;
        }
    }
    Ok(())
}

/// One flag: a heading, a line per reason, a line per environment that varies, and the
/// action.
fn block(flag: &Json) -> Vec<String> {
    // Every piece through `text`: owners, variant names and values reach the terminal
    // escaped, whatever a database from before the API refused control characters holds.
    let day = |value: &Json| text(value).chars().take(10).collect::<String>();
    let mut heading = text(&flag["key"]);
    if flag["owner"].is_string() {
        heading.push_str(&format!(" (owner: {})", text(&flag["owner"])));
    }
    heading.push_str(&format!(", stale since {}", day(&flag["stale_since"])));
    let mut lines = vec![heading];
    let empty = Vec::new();
    for reason in flag["reasons"].as_array().unwrap_or(&empty) {
        lines.push(format!(
            "  {} since {}: {}",
            text(&reason["reason"]),
            day(&reason["since"]),
            text(&reason["message"])
        ));
    }
    for env in flag["environments"].as_array().unwrap_or(&empty) {
        if env["varies"].is_string() {
            lines.push(format!("  {}: {}", text(&env["environment"]), text(&env["varies"])));
        }
    }
    lines.push(format!("  -> {}", text(&flag["action"])));
    lines
}
