//! `pennon environments ...`: list, create, protect, unprotect and delete.

use reqwest::Method;
use serde_json::json;

use super::client::segment;
use super::{finish, print_json, shown, text, ApiArgs, Client, Outcome};
use crate::cli::{note, print_line, Failure};

/// `pennon environments` subcommands.
#[derive(Debug, clap::Subcommand)]
pub(crate) enum Command {
    /// List environments, with their latest snapshot version.
    List {
        /// The server.
        #[command(flatten)]
        api: ApiArgs,
    },
    /// Create an environment (every flag starts disabled in it) and publish it.
    Create {
        /// Its name.
        name: String,
        /// Changes need another user's approval (change requests).
        #[arg(long)]
        protected: bool,
        /// The server.
        #[command(flatten)]
        api: ApiArgs,
    },
    /// Make changes to an environment need another user's approval.
    Protect {
        /// The environment.
        name: String,
        /// The server.
        #[command(flatten)]
        api: ApiArgs,
    },
    /// Let changes to an environment apply at once again.
    Unprotect {
        /// The environment.
        name: String,
        /// The server.
        #[command(flatten)]
        api: ApiArgs,
    },
    /// Delete an unprotected environment (its published snapshots stay, as retention allows).
    Delete {
        /// The environment.
        name: String,
        /// The server.
        #[command(flatten)]
        api: ApiArgs,
    },
}

/// Runs a `pennon environments` subcommand.
pub(crate) async fn run(command: &Command) -> Result<(), Failure> {
    match command {
        Command::List { api } => {
            let body = Client::new(api)?.get("/api/v1/environments").await?.body;
            if api.json {
                return print_json(&body);
            }
            let envs = body["environments"].as_array().map(Vec::as_slice).unwrap_or_default();
            if envs.is_empty() {
                note("no environments this token may use");
            }
            envs.iter().try_for_each(|env| {
                let protected = if env["protected"] == true { "protected" } else { "-" };
                print_line(&format!("{}\tversion {}\t{protected}", text(&env["name"]), shown(&env["version"])))
            })
        }
        Command::Create { name, protected, api } => {
            let body = json!({ "name": name, "protected": protected });
            let reply = Client::new(api)?.send(Method::POST, "/api/v1/environments", Some(&body), None).await?;
            let outcome = Outcome::Applied(reply.body["version"].as_u64());
            finish(api, &reply, outcome, || {
                print_line(&format!("created `{name}`: published snapshot version {}", shown(&reply.body["version"])))
            })
        }
        Command::Protect { name, api } => set_protected(name, true, api).await,
        Command::Unprotect { name, api } => set_protected(name, false, api).await,
        Command::Delete { name, api } => {
            let path = format!("/api/v1/environments/{}", segment(name));
            let (_, reply) = Client::new(api)?
                .send_current(Method::DELETE, (&path, &path), &format!("`{name}`"), |_| Ok(None))
                .await?;
            finish(api, &reply, Outcome::Applied(None), || print_line(&format!("deleted `{name}`")))
        }
    }
}

/// Protects or unprotects `name`. The server answers a change with a new ETag, and one
/// that finds the environment already so with the ETag it had: that is `unchanged`
/// (nothing stored or audited), as for every other write.
async fn set_protected(name: &str, protected: bool, api: &ApiArgs) -> Result<(), Failure> {
    let path = format!("/api/v1/environments/{}", segment(name));
    let body = json!({ "protected": protected });
    let (current, reply) = Client::new(api)?
        .send_current(Method::PATCH, (&path, &path), &format!("`{name}`"), |_| Ok(Some(body.clone())))
        .await?;
    let unchanged = reply.etag.is_some() && reply.etag == current.etag;
    let outcome = if unchanged { Outcome::Unchanged } else { Outcome::Applied(None) };
    finish(api, &reply, outcome, || {
        let line = match (outcome, protected) {
            (Outcome::Unchanged, true) => format!("`{name}` was already protected: no change, nothing published"),
            (Outcome::Unchanged, false) => format!("`{name}` was not protected: no change, nothing published"),
            (_, true) => format!("`{name}` is protected"),
            (_, false) => format!("`{name}` is no longer protected"),
        };
        print_line(&line)
    })
}
