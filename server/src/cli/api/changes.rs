//! `pennon change-requests ...`: list, approve and reject changes to protected
//! environments.

use reqwest::Method;

use super::client::segment;
use super::{print_json, report, ApiArgs, Client};
use crate::cli::{print_line, Failure};

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
        /// Print JSON.
        #[arg(long)]
        json: bool,
        /// The server.
        #[command(flatten)]
        api: ApiArgs,
    },
    /// Approve and apply a change request (someone else must have proposed it).
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
        Command::List { env, status, json, api } => {
            let mut query = Vec::new();
            if let Some(env) = env {
                query.push(format!("environment={}", segment(env)));
            }
            if let Some(status) = status {
                query.push(format!("status={}", segment(status)));
            }
            let reply = Client::new(api)?.get(&format!("/api/v1/change-requests?{}", query.join("&"))).await?;
            if *json {
                return print_json(&reply.body);
            }
            let empty = Vec::new();
            for change in reply.body["change_requests"].as_array().unwrap_or(&empty) {
                let text = |name: &str| change[name].as_str().unwrap_or_default().to_owned();
                print_line(&format!(
                    "#{} {} {} in {} proposed by {} at {}",
                    change["id"],
                    text("status"),
                    change["operation"]["action"].as_str().unwrap_or_default(),
                    text("environment"),
                    text("proposed_by"),
                    text("proposed_at")
                ))?;
            }
            Ok(())
        }
        Command::Approve { id, api } => {
            let reply = Client::new(api)?
                .send(Method::POST, &format!("/api/v1/change-requests/{id}/approve"), None, None)
                .await?;
            report(&reply, &format!("approved and applied change request {id}"))
        }
        Command::Reject { id, api } => {
            Client::new(api)?.send(Method::POST, &format!("/api/v1/change-requests/{id}/reject"), None, None).await?;
            print_line(&format!("rejected change request {id}"))
        }
    }
}
