//! `pennon check --env production FLAG...`: for CI/CD pipelines. Fetches the
//! environment's latest published snapshot, verifies it against the server's public
//! keys exactly as a client would, and checks that every named flag is in it (and of
//! the expected type). Exits 1 with one line per problem; with `--json`, one document
//! with a result per flag.

use pennon_core::{Context, FlagType, PublicKey, Reason, TrustPolicy};
use pennon_server::model::escaped;
use serde_json::{json, Value as Json};

use super::client::segment;
use super::{print_json, ApiArgs, Client};
use crate::cli::{inputs, note, print_line, Failure};

/// Arguments of `pennon check`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The environment whose published snapshot to check.
    #[arg(long, value_name = "ENV")]
    env: String,
    /// Every flag must have this type (boolean, string, integer, float, object).
    #[arg(long = "type", value_name = "TYPE")]
    kind: Option<String>,
    /// The flag keys the code about to ship reads.
    #[arg(required = true, value_name = "FLAG")]
    flags: Vec<String>,
    /// The server.
    #[command(flatten)]
    api: ApiArgs,
}

/// Runs the check.
pub(crate) async fn run(args: &Args) -> Result<(), Failure> {
    let expected = match &args.kind {
        Some(name) => Some(FlagType::parse(name).ok_or_else(|| {
            Failure::Usage(format!("--type `{}`: use boolean, string, integer, float or object", escaped(name)))
        })?),
        None => None,
    };
    let client = Client::new(&args.api)?;
    let keys = client.get("/v1/keys").await?.body;
    let keys: Vec<PublicKey> = keys["keys"]
        .as_array()
        .map(|keys| keys.iter().filter_map(|k| PublicKey::parse(k["public_key"].as_str()?).ok()).collect())
        .unwrap_or_default();
    let env = segment(&args.env);
    // The snapshot history outlives a deleted environment: ask for the environment
    // itself first, so that a gate aimed at one that is gone fails (404).
    client.get(&format!("/api/v1/environments/{env}")).await?;
    let list = client.get(&format!("/api/v1/environments/{env}/snapshots?limit=1")).await?.body;
    let Some(version) = list["snapshots"].get(0).and_then(|s| s["version"].as_u64()) else {
        return refuse(args, None, &format!("`{}` has no published snapshot", args.env));
    };
    let snapshot = client.get(&format!("/api/v1/environments/{env}/snapshots/{version}")).await?.body;
    let envelope = snapshot.get("envelope").map(Json::to_string).unwrap_or_default();
    let now = inputs::system_now();
    let policy = TrustPolicy::new(args.env.as_str(), keys).map_err(|e| Failure::Usage(format!("/v1/keys: {e}")))?;
    let snapshot = match policy.load_fresh(envelope.as_bytes(), 0, now) {
        Ok(snapshot) => snapshot,
        Err(error) => {
            let why = format!("snapshot version {version} of `{}`: {}: {error}", args.env, error.kind());
            return refuse(args, Some(version), &why);
        }
    };
    let mut problems = 0;
    let mut lines = Vec::new();
    let mut results = Vec::new();
    let empty = Context::new(None);
    for key in &args.flags {
        let (line, result) = match snapshot.flag_type(key) {
            None => {
                problems += 1;
                match pennon_server::model::check_key(key) {
                    Err(why) => (
                        format!("malformed: `{key}` is not a valid flag key: it {why}"),
                        json!({ "key": key, "result": "malformed", "message": format!("it {why}") }),
                    ),
                    Ok(()) => (
                        format!("missing: `{key}` is not in `{}` (snapshot version {version})", args.env),
                        json!({ "key": key, "result": "missing" }),
                    ),
                }
            }
            Some(kind) if expected.is_some_and(|e| e != kind) => {
                problems += 1;
                let wanted = expected.map_or("", FlagType::as_str);
                (
                    format!("wrong type: `{key}` is a {} flag in `{}`, expected {wanted}", kind.as_str(), args.env),
                    json!({ "key": key, "result": "wrong_type", "type": kind.as_str(), "expected": wanted }),
                )
            }
            Some(kind) => {
                let enabled = snapshot.evaluate(key, &empty, now).reason != Reason::Disabled;
                let state = if enabled { "enabled" } else { "disabled" };
                let due = snapshot.flag_metadata(key).and_then(|m| m.expires_at).filter(|at| *at < now);
                if let Some(at) = due {
                    note(&format!("warning: `{key}` was due for removal at {}", pennon_core::format_rfc3339(at)));
                }
                let due = due.map(pennon_core::format_rfc3339);
                (
                    format!("ok: `{key}` ({}, {state}) in `{}` snapshot version {version}", kind.as_str(), args.env),
                    json!({ "key": key, "result": "ok", "type": kind.as_str(), "enabled": enabled, "due_for_removal": due }),
                )
            }
        };
        lines.push(line);
        results.push(result);
    }
    if args.api.json {
        print_json(&json!({
            "environment": args.env, "snapshot_version": version, "passed": problems == 0, "flags": results
        }))?;
    } else {
        lines.iter().try_for_each(|line| print_line(line))?;
    }
    if problems > 0 {
        note(&format!("{problems} of {} flag(s) failed the check", args.flags.len()));
        return Err(Failure::RefusalPrinted);
    }
    Ok(())
}

/// Prints why the environment's snapshot itself fails (a line, or the JSON document with
/// `refused`), and fails.
fn refuse(args: &Args, version: Option<u64>, why: &str) -> Result<(), Failure> {
    if args.api.json {
        print_json(&json!({
            "environment": args.env, "snapshot_version": version, "passed": false, "refused": why, "flags": []
        }))?;
    } else {
        print_line(&format!("refused: {why}"))?;
    }
    Err(Failure::RefusalPrinted)
}
