//! `pennon flags exposures`: the recent exposures SDKs reported (who got which variant
//! of which flag, and why), newest first, a page at a time: for spot checks of an
//! experiment, not its analysis.

use serde_json::Value as Json;

use super::{paged_query, print_json, shown, table, text, ApiArgs, Client};
use crate::cli::inputs::time_or_back;
use crate::cli::{note, Failure};

/// Arguments of `pennon flags exposures`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Only this flag.
    key: Option<String>,
    /// Only this environment (a token scoped to environments gets each of its own).
    #[arg(long, value_name = "ENV")]
    env: Option<String>,
    /// Only those received at or after: a time back from now (7d, 24h, 30m) or an RFC
    /// 3339 time.
    #[arg(long, value_name = "WHEN")]
    since: Option<String>,
    /// Only those older than this id (to page back: the id the previous page names).
    #[arg(long, value_name = "ID")]
    before_id: Option<String>,
    /// At most this many (1 to 1000).
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u32).range(1..=1000))]
    limit: u32,
    /// The server.
    #[command(flatten)]
    api: ApiArgs,
}

/// The columns after `ID`.
const COLUMNS: &str = "EVALUATED\tENVIRONMENT\tFLAG\tVARIANT\tREASON\tRULE\tTARGETING_KEY\tSDK";

/// Prints a page of exposures.
pub(crate) async fn run(args: &Args) -> Result<(), Failure> {
    let since = args.since.as_deref().map(|since| time_or_back("--since", since)).transpose()?;
    let filters = [("environment", &args.env), ("flag", &args.key), ("since", &since), ("before_id", &args.before_id)];
    let client = Client::new(&args.api)?.naming(&[
        ("flag", "KEY"),
        ("since", "--since"),
        ("before_id", "--before-id"),
        ("limit", "--limit"),
    ]);
    let reply = client.get(&format!("/api/v1/exposures?{}", paged_query(args.limit, &filters))).await?;
    if args.api.json {
        return print_json(&reply.body);
    }
    let which = match (&args.key, &args.env) {
        (Some(key), Some(env)) => format!(" of `{key}` in `{env}`"),
        (Some(key), None) => format!(" of `{key}`"),
        (None, Some(env)) => format!(" in `{env}`"),
        (None, None) => String::new(),
    };
    let empty = format!(
        "no exposures{which}: SDKs report them only when told to (`exposureCapacity` in JavaScript, \
         `exposure_queue` in Rust; 0, none, by default), and the server keeps the newest (--exposures-kept) \
         for --exposures-max-age"
    );
    table(&reply.body["exposures"], &empty, COLUMNS, line)?;
    if reply.body["next_before_id"].is_i64() {
        // To stderr: a script reading the lines gets the exposures alone.
        note(&format!("more: the next page is --before-id {}", shown(&reply.body["next_before_id"])));
    }
    Ok(())
}

/// One exposure's columns after its id; `-` for what it lacks (a rule id, a targeting key).
fn line(exposure: &Json) -> String {
    let column = |name: &str| match &exposure[name] {
        Json::String(value) if !value.is_empty() => text(&exposure[name]),
        _ => "-".to_owned(),
    };
    ["timestamp", "environment", "flag", "variant", "reason", "rule_id", "targeting_key", "sdk"].map(column).join("\t")
}
