//! `pennon change-requests ...`: list, approve and reject changes to protected
//! environments.

use reqwest::Method;

use super::client::segment;
use super::{finish, print_json, report, shown, text, ApiArgs, Client, Outcome};
use serde_json::Value as Json;

use pennon_server::model::{escaped, Operation};

use crate::cli::{note, print_line, Failure};

/// `pennon change-requests` subcommands.
#[derive(Debug, clap::Subcommand)]
pub(crate) enum Command {
    /// List change requests.
    List {
        /// Only this environment.
        #[arg(long, value_name = "ENV")]
        env: Option<String>,
        /// open, applied or rejected.
        #[arg(long)]
        status: Option<String>,
        /// The server.
        #[command(flatten)]
        api: ApiArgs,
    },
    /// Print one change request as JSON: the whole change, as it would be applied.
    Get {
        /// Its id.
        id: i64,
        /// The server.
        #[command(flatten)]
        api: ApiArgs,
    },
    /// Approve and apply a change request (someone else must have proposed it).
    ///
    /// One whose resource changed since it was proposed is refused (412): reject it, and
    /// have it proposed again. One whose change is already in effect is closed as
    /// applied, publishing nothing.
    Approve {
        /// Its id.
        id: i64,
        /// The server.
        #[command(flatten)]
        api: ApiArgs,
    },
    /// Reject a change request.
    Reject {
        /// Its id.
        id: i64,
        /// The server.
        #[command(flatten)]
        api: ApiArgs,
    },
}

/// Runs a `pennon change-requests` subcommand.
pub(crate) async fn run(command: &Command) -> Result<(), Failure> {
    match command {
        Command::List { env, status, api } => {
            let mut query = Vec::new();
            if let Some(env) = env {
                query.push(format!("environment={}", segment(env)));
            }
            if let Some(status) = status {
                query.push(format!("status={}", segment(status)));
            }
            let client = Client::new(api)?.naming(&[("status", "--status")]);
            let reply = client.get(&format!("/api/v1/change-requests?{}", query.join("&"))).await?;
            if api.json {
                return print_json(&reply.body);
            }
            let empty = Vec::new();
            let changes = reply.body["change_requests"].as_array().unwrap_or(&empty);
            if changes.is_empty() {
                note("no change requests match");
            }
            for change in changes {
                let text = |name: &str| text(&change[name]);
                print_line(&format!(
                    "#{} {} in {}: {}; proposed by {} at {}",
                    shown(&change["id"]),
                    text("status"),
                    text("environment"),
                    summary(&change["operation"]),
                    text("proposed_by"),
                    text("proposed_at")
                ))?;
            }
            Ok(())
        }
        Command::Get { id, api } => {
            print_json(&Client::new(api)?.get(&format!("/api/v1/change-requests/{id}")).await?.body)
        }
        Command::Approve { id, api } => {
            let reply = Client::new(api)?
                .send(Method::POST, &format!("/api/v1/change-requests/{id}/approve"), None, None)
                .await?;
            // Approved without publishing: another change had already made its change.
            let done = match Outcome::of_change(&reply) {
                Outcome::Unchanged => format!("approved change request {id}, whose change was already in effect"),
                _ => format!("approved and applied change request {id}"),
            };
            report(api, &reply, &done)
        }
        Command::Reject { id, api } => {
            let path = format!("/api/v1/change-requests/{id}/reject");
            let reply = Client::new(api)?.send(Method::POST, &path, None, None).await?;
            finish(api, &reply, Outcome::Applied(None), || print_line(&format!("rejected change request {id}")))
        }
    }
}

/// What a change would do, in a few words: enough for the approver to know what to
/// look at (`change-requests get ID` shows all of it). Escaped: the names in it are
/// the proposer's.
fn summary(operation: &Json) -> String {
    let Ok(operation) = serde_json::from_value::<Operation>(operation.clone()) else {
        return match operation["action"].as_str() {
            Some(_) => text(&operation["action"]),
            None => "an unknown change".to_owned(),
        };
    };
    escaped(&describe(operation)).into_owned()
}

fn describe(operation: Operation) -> String {
    match operation {
        Operation::Toggle { flag, enabled } => format!("turn `{flag}` {}", if enabled { "on" } else { "off" }),
        Operation::Rollout { flag, rollout } => {
            let variant = rollout.variant.map(|v| format!(" `{v}`")).unwrap_or_default();
            format!("roll{variant} out to {}% of `{flag}`", rollout.percent)
        }
        Operation::UpdateConfig { flag, config } => {
            format!("replace the configuration of `{flag}` ({})", if config.enabled { "enabled" } else { "disabled" })
        }
        Operation::CreateSegment { segment } => format!("create segment `{}`", segment.key),
        Operation::UpdateSegment { segment } => format!("replace segment `{}`", segment.key),
        Operation::DeleteSegment { key } => format!("delete segment `{key}`"),
        Operation::Rollback { to_version } => format!("roll back to the content of version {to_version}"),
    }
}
