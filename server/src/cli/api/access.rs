//! `pennon tokens ...` and `pennon sdk-keys ...`: the credentials an admin hands out.
//!
//! A secret is shown once, when it is created. `create` prints it alone on stdout (what
//! it is, and how to use it, go to stderr), so `TOKEN=$(pennon tokens create ...)`
//! captures exactly the secret; with `--json`, the whole answer (id, prefix, secret).

use reqwest::Method;
use serde_json::{json, Value as Json};

use super::client::segment;
use super::{finish, print_json, shown, table, text, ApiArgs, Client, Outcome, Reply};
use crate::cli::{note, print_line, refuse_discarded_secret, stdout_closed, Failure};

/// `pennon tokens` subcommands (admin tokens only).
#[derive(Debug, clap::Subcommand)]
pub(crate) enum TokenCommand {
    /// List API tokens (without their secrets): a header row, then one tab-separated line each.
    List {
        /// The server.
        #[command(flatten)]
        api: ApiArgs,
    },
    /// Create an API token and print its secret, once, on stdout.
    Create {
        /// Who will use it (a person or a pipeline); audit entries name it. Unique among
        /// live tokens in any case (`ED` is `ed`), with no invisible characters and no
        /// white space at either end.
        name: String,
        /// What it may do: viewer, editor or admin.
        #[arg(long, value_name = "ROLE")]
        role: String,
        /// An environment it may use (repeat or comma-separate; default every one).
        #[arg(long = "env", value_name = "ENV", value_delimiter = ',')]
        envs: Vec<String>,
        /// The server.
        #[command(flatten)]
        api: ApiArgs,
    },
    /// Revoke an API token by its id (see `pennon tokens list`).
    Revoke {
        /// The token's id.
        id: i64,
        /// The server.
        #[command(flatten)]
        api: ApiArgs,
    },
}

/// `pennon sdk-keys` subcommands (admin tokens only).
#[derive(Debug, clap::Subcommand)]
pub(crate) enum SdkKeyCommand {
    /// List an environment's SDK keys (without their secrets): a header row, then one line each.
    List {
        /// The environment.
        #[arg(long, value_name = "ENV")]
        env: String,
        /// The server.
        #[command(flatten)]
        api: ApiArgs,
    },
    /// Create an SDK key and print its secret, once, on stdout.
    Create {
        /// The environment whose snapshots it fetches.
        #[arg(long, value_name = "ENV")]
        env: String,
        /// `server` (every flag, for services) or `client` (client-visible flags only,
        /// for browsers and apps).
        #[arg(long, value_name = "KIND")]
        kind: String,
        /// What it is for (default: the kind).
        #[arg(long, value_name = "NAME")]
        name: Option<String>,
        /// The server.
        #[command(flatten)]
        api: ApiArgs,
    },
    /// Revoke an SDK key by its id (see `pennon sdk-keys list`).
    Revoke {
        /// The key's id.
        id: i64,
        /// The environment it belongs to.
        #[arg(long, value_name = "ENV")]
        env: String,
        /// The server.
        #[command(flatten)]
        api: ApiArgs,
    },
}

/// Runs a `pennon tokens` subcommand.
pub(crate) async fn run_tokens(command: &TokenCommand) -> Result<(), Failure> {
    match command {
        TokenCommand::List { api } => {
            let body = Client::new(api)?.get("/api/v1/tokens").await?.body;
            if api.json {
                return print_json(&body);
            }
            table(&body["tokens"], "no API tokens", "NAME\tROLE\tPREFIX\tENVIRONMENTS\tSTATE", |t| {
                let scope = t["environments"].as_array().map(|e| joined(e)).unwrap_or_default();
                format!("{}\t{}\t{}\t{scope}\t{}", text(&t["name"]), text(&t["role"]), text(&t["prefix"]), state(t))
            })
        }
        TokenCommand::Create { name, role, envs, api } => {
            let mut body = json!({ "name": name, "role": role });
            if !envs.is_empty() {
                body["environments"] = json!(envs);
            }
            let client = Client::new(api)?.naming(&[("role", "--role"), ("environments", "--env")]);
            refuse_discarded_secret("API token")?;
            let reply = client.send(Method::POST, "/api/v1/tokens", Some(&body), None).await?;
            let scope = if envs.is_empty() { "every environment".to_owned() } else { envs.join(", ") };
            let id = shown(&reply.body["id"]);
            note(&format!(
                "created API token {id} `{name}` ({role}, {scope}); its secret is shown once. \
                 Use it as PENNON_TOKEN or in `Authorization: Bearer`."
            ));
            let printed = finish(api, &reply, Outcome::Applied(None), || print_line(&text(&reply.body["token"])));
            let revoke = format!("/api/v1/tokens/{id}");
            deliver_secret(&client, printed, &revoke, &format!("API token {id}"), "tokens revoke ID").await
        }
        TokenCommand::Revoke { id, api } => {
            let reply = Client::new(api)?.send(Method::DELETE, &format!("/api/v1/tokens/{id}"), None, None).await?;
            finish(api, &reply, Outcome::Applied(None), || print_line(&format!("revoked API token {id}")))
        }
    }
}

/// Runs a `pennon sdk-keys` subcommand.
pub(crate) async fn run_sdk_keys(command: &SdkKeyCommand) -> Result<(), Failure> {
    match command {
        SdkKeyCommand::List { env, api } => {
            let path = format!("/api/v1/environments/{}/sdk-keys", segment(env));
            let body = Client::new(api)?.get(&path).await?.body;
            if api.json {
                return print_json(&body);
            }
            table(&body["sdk_keys"], &format!("no SDK keys for `{env}`"), "NAME\tKIND\tPREFIX\tSTATE", |k| {
                format!("{}\t{}\t{}\t{}", text(&k["name"]), text(&k["kind"]), text(&k["prefix"]), state(k))
            })
        }
        SdkKeyCommand::Create { env, kind, name, api } => {
            let mut body = json!({ "kind": kind });
            if let Some(name) = name {
                body["name"] = json!(name);
            }
            let path = format!("/api/v1/environments/{}/sdk-keys", segment(env));
            let client = Client::new(api)?.naming(&[("kind", "--kind"), ("name", "--name")]);
            refuse_discarded_secret("SDK key")?;
            let reply = client.send(Method::POST, &path, Some(&body), None).await?;
            let id = shown(&reply.body["id"]);
            note(&format!(
                "created {kind} SDK key {id} for `{env}`; its secret is shown once. SDKs send it as \
                 `Authorization: Bearer` to /v1/snapshots/{env} and /v1/stream/{env}."
            ));
            let printed = finish(api, &reply, Outcome::Applied(None), || print_line(&text(&reply.body["key"])));
            let revoke = format!("{path}/{id}");
            let what = format!("SDK key {id} of `{env}`");
            deliver_secret(&client, printed, &revoke, &what, &format!("sdk-keys revoke ID --env {env}")).await
        }
        SdkKeyCommand::Revoke { id, env, api } => {
            let path = format!("/api/v1/environments/{}/sdk-keys/{id}", segment(env));
            let reply = Client::new(api)?.send(Method::DELETE, &path, None, None).await?;
            finish(api, &reply, Outcome::Applied(None), || print_line(&format!("revoked SDK key {id} of `{env}`")))
        }
    }
}

/// Ends a `create` whose secret went to stdout as `printed` says. A secret nobody could
/// read (stdout closed, or unwritable) is one nobody can use, and the server never shows
/// it again: the credential is revoked at `revoke_path` rather than left live and
/// unaccounted for, and the command fails saying so.
async fn deliver_secret(
    client: &Client,
    printed: Result<(), Failure>,
    revoke_path: &str,
    what: &str,
    revoke_command: &str,
) -> Result<(), Failure> {
    let cause = match printed {
        Err(Failure::Usage(cause)) => cause,
        Ok(()) if stdout_closed() => "standard output is closed".to_owned(),
        other => return other,
    };
    let revoked = client.send(Method::DELETE, revoke_path, None, None).await.map(|_: Reply| ());
    Err(Failure::Usage(match revoked {
        Ok(()) => format!(
            "the secret of {what} could not be shown ({cause}), so it was revoked: nobody could have used it. \
             Run the command again with its output going somewhere"
        ),
        Err(failure) => {
            let reason = match failure {
                Failure::Api(reason) | Failure::Usage(reason) => format!(" ({reason})"),
                _ => String::new(),
            };
            format!(
                "the secret of {what} could not be shown ({cause}), and revoking it failed{reason}: nobody has \
                 its secret, but it is live; revoke it with `pennon {revoke_command}`"
            )
        }
    }))
}

/// `active`, or when it was revoked.
fn state(item: &Json) -> String {
    if item["revoked_at"].is_string() {
        format!("revoked {}", text(&item["revoked_at"]))
    } else {
        "active".to_owned()
    }
}

fn joined(values: &[Json]) -> String {
    values.iter().map(text).collect::<Vec<_>>().join(",")
}
