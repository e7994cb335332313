//! `pennon rollback --env ENV --to VERSION`: republish an earlier version's content as a
//! new, higher version.

use reqwest::Method;
use serde_json::json;

use super::client::segment;
use super::{report, text, ApiArgs, Client};
use crate::cli::{note, Failure};

/// Arguments of `pennon rollback`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The environment.
    #[arg(long, value_name = "ENV")]
    env: String,
    /// The earlier version whose content to restore.
    #[arg(long = "to", value_name = "VERSION")]
    to_version: u64,
    /// The server.
    #[command(flatten)]
    api: ApiArgs,
}

/// Rolls back.
pub(crate) async fn run(args: &Args) -> Result<(), Failure> {
    let env_path = format!("/api/v1/environments/{}", segment(&args.env));
    let body = json!({ "to_version": args.to_version });
    // The environment's ETag changes with every version it publishes: one published
    // between the read and the rollback is read again, the version to restore is the same.
    let (_, reply) = Client::new(&args.api)?
        .send_current(Method::POST, (&env_path, &format!("{env_path}/rollback")), &format!("`{}`", args.env), |_| {
            Ok(Some(body.clone()))
        })
        .await?;
    let kept: Vec<String> = reply.body["kept_segments"]
        .as_array()
        .map(|kept| kept.iter().map(|key| format!("`{}`", text(key))).collect())
        .unwrap_or_default();
    if !kept.is_empty() {
        let (segments, are, they) =
            if kept.len() == 1 { ("segment", "is", "it is") } else { ("segments", "are", "they are") };
        note(&format!(
            "note: {segments} {} {are} kept as {they} now, not restored: flags created since version {} (disabled by \
             the rollback) name {}",
            kept.join(", "),
            args.to_version,
            if kept.len() == 1 { "it" } else { "them" }
        ));
    }
    report(&args.api, &reply, &format!("rolled `{}` back to the content of version {}", args.env, args.to_version))
}
