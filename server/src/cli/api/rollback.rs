//! `pennon rollback --env ENV --to VERSION`: republish an earlier version's content as a
//! new, higher version.

use reqwest::Method;
use serde_json::json;

use super::client::segment;
use super::{report, ApiArgs, Client};
use crate::cli::Failure;

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
    let client = Client::new(&args.api)?;
    let env_path = format!("/api/v1/environments/{}", segment(&args.env));
    let current = client.get(&env_path).await?;
    let body = json!({ "to_version": args.to_version });
    let reply =
        client.send(Method::POST, &format!("{env_path}/rollback"), Some(&body), current.etag.as_deref()).await?;
    report(&args.api, &reply, &format!("rolled `{}` back to the content of version {}", args.env, args.to_version))
}
