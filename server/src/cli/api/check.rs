//! `pennon check --env production FLAG...`: for CI/CD pipelines. Fetches the
//! environment's latest published snapshot, verifies it against the server's public
//! keys exactly as a client would, and checks that every named flag is in it (and of
//! the expected type). Exits 1 with one line per problem.

use pennon_core::{Context, FlagType, PublicKey, Reason, TrustPolicy};
use serde_json::Value as Json;

use super::client::segment;
use super::{ApiArgs, Client};
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
            Failure::Usage(format!("--type `{name}`: use boolean, string, integer, float or object"))
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
        print_line(&format!("refused: `{}` has no published snapshot", args.env))?;
        return Err(Failure::RefusalPrinted);
    };
    let snapshot = client.get(&format!("/api/v1/environments/{env}/snapshots/{version}")).await?.body;
    let envelope = snapshot.get("envelope").map(Json::to_string).unwrap_or_default();
    let now = inputs::system_now();
    let policy = TrustPolicy::new(args.env.as_str(), keys).map_err(|e| Failure::Usage(format!("/v1/keys: {e}")))?;
    let snapshot = match policy.load_fresh(envelope.as_bytes(), 0, now) {
        Ok(snapshot) => snapshot,
        Err(error) => {
            print_line(&format!("refused: snapshot version {version} of `{}`: {}: {error}", args.env, error.kind()))?;
            return Err(Failure::RefusalPrinted);
        }
    };
    let mut problems = 0;
    let empty = Context::new(None);
    for key in &args.flags {
        let line = match snapshot.flag_type(key) {
            None => {
                problems += 1;
                match pennon_server::model::check_key(key) {
                    Err(why) => format!("malformed: `{key}` is not a valid flag key: it {why}"),
                    Ok(()) => format!("missing: `{key}` is not in `{}` (snapshot version {version})", args.env),
                }
            }
            Some(kind) if expected.is_some_and(|e| e != kind) => {
                problems += 1;
                let wanted = expected.map_or("", FlagType::as_str);
                format!("wrong type: `{key}` is a {} flag in `{}`, expected {wanted}", kind.as_str(), args.env)
            }
            Some(kind) => {
                let state =
                    if snapshot.evaluate(key, &empty, now).reason == Reason::Disabled { "disabled" } else { "enabled" };
                let stale = snapshot.flag_metadata(key).and_then(|m| m.expires_at).filter(|at| *at < now);
                if let Some(at) = stale {
                    note(&format!("warning: `{key}` was due for removal at {}", pennon_core::format_rfc3339(at)));
                }
                format!("ok: `{key}` ({}, {state}) in `{}` snapshot version {version}", kind.as_str(), args.env)
            }
        };
        print_line(&line)?;
    }
    if problems > 0 {
        note(&format!("{problems} of {} flag(s) failed the check", args.flags.len()));
        return Err(Failure::RefusalPrinted);
    }
    Ok(())
}
