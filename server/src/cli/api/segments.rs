//! `pennon segments ...`: segments of one environment.

use std::path::PathBuf;

use reqwest::Method;
use serde_json::{json, Value as Json};

use super::client::segment;
use super::{print_json, report, text, ApiArgs, Client};
use crate::cli::{inputs, print_line, Failure};

/// `pennon segments` subcommands.
#[derive(Debug, clap::Subcommand)]
pub(crate) enum Command {
    /// List the segments of an environment.
    List {
        /// The environment.
        #[arg(long, value_name = "ENV")]
        env: String,
        /// The server.
        #[command(flatten)]
        api: ApiArgs,
    },
    /// Print a segment as JSON.
    Get {
        /// The segment key.
        key: String,
        /// The environment.
        #[arg(long, value_name = "ENV")]
        env: String,
        /// The server.
        #[command(flatten)]
        api: ApiArgs,
    },
    /// Create a segment from targeting keys, or from a JSON file.
    Create(EditArgs),
    /// Replace a segment (keys given replace the lists; --file replaces everything).
    Update(EditArgs),
    /// Delete a segment no flag uses.
    Delete {
        /// The segment key.
        key: String,
        /// The environment.
        #[arg(long, value_name = "ENV")]
        env: String,
        /// The server.
        #[command(flatten)]
        api: ApiArgs,
    },
}

/// What `create` and `update` take.
#[derive(Debug, clap::Args)]
pub(crate) struct EditArgs {
    /// The segment key.
    key: String,
    /// The environment.
    #[arg(long, value_name = "ENV")]
    env: String,
    /// Targeting keys always in (comma-separated or repeated).
    #[arg(long, value_delimiter = ',')]
    include: Vec<String>,
    /// Targeting keys never in (comma-separated or repeated).
    #[arg(long, value_delimiter = ',')]
    exclude: Vec<String>,
    /// What the segment is for.
    #[arg(long)]
    description: Option<String>,
    /// The whole segment as JSON (`included`, `excluded`, `rules`, `description`); `-`
    /// reads standard input.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["include", "exclude", "description"])]
    file: Option<PathBuf>,
    /// The server.
    #[command(flatten)]
    api: ApiArgs,
}

fn base(env: &str) -> String {
    format!("/api/v1/environments/{}/segments", segment(env))
}

/// Runs a `pennon segments` subcommand.
pub(crate) async fn run(command: &Command) -> Result<(), Failure> {
    match command {
        Command::List { env, api } => {
            let reply = Client::new(api)?.get(&base(env)).await?;
            if api.json {
                return print_json(&reply.body);
            }
            let empty = Vec::new();
            for s in reply.body["segments"].as_array().unwrap_or(&empty) {
                let count = |name: &str| s["segment"][name].as_array().map_or(0, Vec::len);
                print_line(&format!(
                    "{:<32} {} included, {} excluded, {} rules",
                    text(&s["key"]),
                    count("included"),
                    count("excluded"),
                    count("rules")
                ))?;
            }
            Ok(())
        }
        Command::Get { key, env, api } => {
            print_json(&Client::new(api)?.get(&format!("{}/{}", base(env), segment(key))).await?.body)
        }
        Command::Create(args) => {
            let client = Client::new(&args.api)?;
            let body = body(args, None)?;
            let reply = client.send(Method::POST, &base(&args.env), Some(&body), None).await?;
            report(&args.api, &reply, &format!("created segment `{}` in `{}`", args.key, args.env))
        }
        Command::Update(args) => {
            let client = Client::new(&args.api)?;
            let path = format!("{}/{}", base(&args.env), segment(&args.key));
            let current = client.get(&path).await?;
            let body = body(args, Some(&current.body))?;
            let reply = client.send(Method::PUT, &path, Some(&body), current.etag.as_deref()).await?;
            report(&args.api, &reply, &format!("updated segment `{}` in `{}`", args.key, args.env))
        }
        Command::Delete { key, env, api } => {
            let path = format!("{}/{}", base(env), segment(key));
            let reply = Client::new(api)?.send_current(Method::DELETE, &path, None).await?;
            report(api, &reply, &format!("deleted segment `{key}` from `{env}`"))
        }
    }
}

/// The request body: the file, or the current segment with the given lists replaced.
fn body(args: &EditArgs, current: Option<&Json>) -> Result<Json, Failure> {
    let mut body = match (&args.file, current) {
        (Some(path), _) => Json::Object(inputs::read_json_object(path, "segment file")?),
        (None, Some(current)) => current.clone(),
        (None, None) => json!({}),
    };
    if let Some(empty) = [("--include", &args.include), ("--exclude", &args.exclude)]
        .into_iter()
        .find(|(_, keys)| keys.iter().any(String::is_empty))
    {
        return Err(Failure::Usage(format!("{}: a targeting key cannot be empty", empty.0)));
    }
    body["key"] = json!(args.key);
    if args.file.is_none() {
        if !args.include.is_empty() || current.is_none() {
            body["included"] = json!(args.include);
        }
        if !args.exclude.is_empty() || current.is_none() {
            body["excluded"] = json!(args.exclude);
        }
        if let Some(description) = &args.description {
            body["description"] = json!(description);
        }
    }
    Ok(body)
}
