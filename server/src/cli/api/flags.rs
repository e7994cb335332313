//! `pennon flags ...`: list, read, create, enable, disable, roll out and delete flags
//! (set their targeting or definition from a file, in `flag_edit.rs`; report the stale
//! ones, in `stale.rs`, what SDKs evaluated, in `usage.rs`, and the exposures they
//! reported, in `exposures.rs`).

use pennon_server::model::escaped;
use reqwest::Method;
use serde_json::{json, Value as Json};

use super::client::segment;
use super::{finish, print_json, report, text, ApiArgs, Client, Outcome};
use crate::cli::{inputs, note, print_line, Failure};

/// `pennon flags` subcommands.
#[derive(Debug, clap::Subcommand)]
pub(crate) enum Command {
    /// List flags (with their state in an environment, given `--env`).
    List {
        /// Show whether each flag is enabled here.
        #[arg(long, value_name = "ENV")]
        env: Option<String>,
        /// Only flags with this tag.
        #[arg(long)]
        tag: Option<String>,
        /// The server.
        #[command(flatten)]
        api: ApiArgs,
    },
    /// Print a flag's definition (and its configuration in `--env`) as JSON.
    Get {
        /// The flag key.
        key: String,
        /// Also print its configuration in this environment.
        #[arg(long, value_name = "ENV")]
        env: Option<String>,
        /// The server.
        #[command(flatten)]
        api: ApiArgs,
    },
    /// Create a flag; it starts disabled in every environment.
    Create(CreateArgs),
    /// Turn a flag on in an environment (its kill switch).
    Enable(ToggleArgs),
    /// Turn a flag off in an environment: everyone gets its off variant.
    Disable(ToggleArgs),
    /// Serve VARIANT to PERCENT of users (the fallthrough), the others OTHERWISE.
    ///
    /// Raising PERCENT keeps the users VARIANT already has. `rollout 95` and `rollout 5
    /// --variant off --otherwise on` serve the same share to different users (10%
    /// differ): keep one direction for a rollout's life.
    Rollout {
        /// The flag key.
        key: String,
        /// 0 to 100, up to three decimals.
        #[arg(value_parser = parse_percent)]
        percent: f64,
        /// The environment.
        #[arg(long, value_name = "ENV")]
        env: String,
        /// The variant rolled out (default for boolean flags: the `true` one).
        #[arg(long)]
        variant: Option<String>,
        /// Everyone else's variant (default for boolean flags: the `false` one).
        #[arg(long)]
        otherwise: Option<String>,
        /// The server.
        #[command(flatten)]
        api: ApiArgs,
    },
    /// Set a flag's targeting in an environment from a file: `get KEY --env ENV`, edited.
    ///
    /// The file sets the targets, rules, prerequisites, fallthrough and off variant.
    /// Printed by `pennon flags get KEY --env ENV > FILE` and edited, it carries the ETag
    /// read: a change someone made since is refused (412), not overwritten.
    Configure(super::flag_edit::ConfigureArgs),
    /// Replace a flag's definition from a file: `get KEY`, edited.
    ///
    /// The file sets the variants, description, owner, tags, temporary, expires_at and
    /// client_visible.
    Update(super::flag_edit::UpdateArgs),
    /// Report temporary flags due for removal: why, since when, and what to do.
    Stale(super::stale::Args),
    /// Report what SDKs that send telemetry evaluated: per flag and variant, last seen.
    Usage(super::usage::UsageArgs),
    /// List keys code evaluates that no flag has (a typo, or a deleted flag still called).
    #[command(name = "not-found")]
    NotFound(super::usage::NotFoundArgs),
    /// List recent exposures SDKs reported (who got which variant, and why), newest
    /// first: a header row, then one tab-separated line each.
    Exposures(super::exposures::Args),
    /// Delete a flag from every environment.
    Delete {
        /// The flag key.
        key: String,
        /// The server.
        #[command(flatten)]
        api: ApiArgs,
    },
}

/// Arguments of `pennon flags create`.
#[derive(Debug, clap::Args)]
pub(crate) struct CreateArgs {
    /// The flag key: letters, digits, `.`, `_`, `-`.
    key: String,
    /// boolean, string, integer, float or object.
    #[arg(long = "type", value_name = "TYPE", default_value = "boolean")]
    kind: String,
    /// The variants as a JSON object (default for boolean: {"on": true, "off": false}).
    /// A new flag serves its off variant when disabled, and its `on` variant (else that
    /// same off variant) when enabled: without an `on`, enabling it changes nothing
    /// until a rollout or `configure` sets what it serves.
    #[arg(long, value_name = "JSON")]
    variants: Option<String>,
    /// The variant every environment serves while the flag is disabled (an experiment's
    /// control). Default: the one named `off`, else the first written in `--variants`
    /// (for a boolean flag without `--variants`, `off`).
    #[arg(long, value_name = "NAME")]
    off_variant: Option<String>,
    /// What the flag is for.
    #[arg(long)]
    description: Option<String>,
    /// Who owns it.
    #[arg(long)]
    owner: Option<String>,
    /// A tag; repeat for more.
    #[arg(long = "tag")]
    tags: Vec<String>,
    /// A temporary flag (release toggle, experiment).
    #[arg(long)]
    temporary: bool,
    /// When a temporary flag should be gone (RFC 3339).
    #[arg(long, value_name = "RFC3339")]
    expires_at: Option<String>,
    /// Include it in browser (client-key) snapshots.
    #[arg(long)]
    client_visible: bool,
    /// The server.
    #[command(flatten)]
    api: ApiArgs,
}

/// Arguments of `pennon flags enable` and `disable`.
#[derive(Debug, clap::Args)]
pub(crate) struct ToggleArgs {
    /// The flag key.
    key: String,
    /// The environment.
    #[arg(long, value_name = "ENV")]
    env: String,
    /// The server.
    #[command(flatten)]
    api: ApiArgs,
}

/// Runs a `pennon flags` subcommand.
pub(crate) async fn run(command: &Command) -> Result<(), Failure> {
    match command {
        Command::List { env, tag, api } => list(&Client::new(api)?, env.as_deref(), tag.as_deref(), api.json).await,
        Command::Get { key, env, api } => get(&Client::new(api)?, key, env.as_deref()).await,
        Command::Create(args) => create(args).await,
        Command::Enable(args) => toggle(args, true).await,
        Command::Disable(args) => toggle(args, false).await,
        Command::Rollout { key, percent, env, variant, otherwise, api } => {
            let client = Client::new(api)?.naming(&[
                ("percent", "PERCENT"),
                ("variant", "--variant"),
                ("otherwise", "--otherwise"),
            ]);
            let path = config_path(env, key);
            let body = strip_nulls(json!({ "percent": percent, "variant": variant, "otherwise": otherwise }));
            let (current, reply) = client
                .send_current(Method::POST, (&path, &format!("{path}/rollout")), &format!("`{key}` in `{env}`"), |_| {
                    Ok(Some(body.clone()))
                })
                .await?;
            // The rollout is stored either way, but a disabled flag serves its off variant
            // to everyone: "25% rolled out" alone would read as a quarter of users served.
            if current.body.get("enabled") == Some(&Json::Bool(false)) {
                note(&format!(
                    "note: `{key}` is disabled in `{env}`, so everyone gets its off variant until \
                     `pennon flags enable {key} --env {env}`"
                ));
            }
            report(api, &reply, &format!("`{key}` in `{env}`: {percent}% rolled out"))
        }
        Command::Configure(args) => super::flag_edit::configure(args).await,
        Command::Update(args) => super::flag_edit::update(args).await,
        Command::Stale(args) => super::stale::run(args).await,
        Command::Usage(args) => super::usage::run_usage(args).await,
        Command::NotFound(args) => super::usage::run_not_found(args).await,
        Command::Exposures(args) => super::exposures::run(args).await,
        Command::Delete { key, api } => {
            let path = format!("/api/v1/flags/{}", segment(key));
            let (_, reply) = Client::new(api)?
                .send_current(Method::DELETE, (&path, &path), &format!("`{key}`"), |_| Ok(None))
                .await?;
            finish(api, &reply, Outcome::Applied(None), || {
                print_line(&format!("deleted `{key}` from every environment"))
            })
        }
    }
}

fn config_path(env: &str, key: &str) -> String {
    format!("/api/v1/environments/{}/flags/{}", segment(env), segment(key))
}

fn strip_nulls(value: Json) -> Json {
    match value {
        Json::Object(map) => Json::Object(map.into_iter().filter(|(_, v)| !v.is_null()).collect()),
        other => other,
    }
}

async fn list(client: &Client, env: Option<&str>, tag: Option<&str>, as_json: bool) -> Result<(), Failure> {
    let path = match tag {
        Some(tag) => format!("/api/v1/flags?tag={}", segment(tag)),
        None => "/api/v1/flags".to_owned(),
    };
    let flags = client.get(&path).await?.body;
    let enabled: Option<Json> = match env {
        Some(env) => Some(client.get(&format!("/api/v1/environments/{}/flags", segment(env))).await?.body),
        None => None,
    };
    if as_json {
        return print_json(&json!({ "flags": flags["flags"], "environment": enabled }));
    }
    let state = |key: &str| -> &str {
        let configs = enabled.as_ref().and_then(|e| e["flags"].as_array());
        match configs.and_then(|c| c.iter().find(|f| f["key"] == key)) {
            Some(f) if f["config"]["enabled"] == true => "on",
            Some(_) => "off",
            None => "-",
        }
    };
    let empty = Vec::new();
    let list = flags["flags"].as_array().unwrap_or(&empty);
    if list.is_empty() {
        // To stderr: a script reading the list gets no lines, not a sentence.
        match tag {
            Some(tag) => note(&format!("no flag is tagged `{tag}`")),
            None => note("no flags yet: pennon flags create KEY --type boolean"),
        }
        return Ok(());
    }
    for flag in list {
        let key = flag["key"].as_str().unwrap_or_default();
        let mut line = format!("{:<32} {:<8}", text(&flag["key"]), text(&flag["type"]));
        if env.is_some() {
            line.push_str(&format!(" {:<4}", state(key)));
        }
        if flag["client_visible"] == true {
            line.push_str(" client-visible");
        }
        let tags: Vec<String> = flag["tags"].as_array().map(|t| t.iter().map(text).collect()).unwrap_or_default();
        if !tags.is_empty() {
            line.push_str(&format!(" [{}]", tags.join(", ")));
        }
        print_line(line.trim_end())?;
    }
    Ok(())
}

async fn get(client: &Client, key: &str, env: Option<&str>) -> Result<(), Failure> {
    let flag = client.get(&format!("/api/v1/flags/{}", segment(key))).await?;
    match env {
        None => print_json(&flag.body),
        Some(env) => {
            let config = client.get(&config_path(env, key)).await?;
            print_json(&json!({
                "flag": flag.body, "flag_etag": flag.etag, "environment": env, "etag": config.etag, "config": config.body
            }))
        }
    }
}

async fn create(args: &CreateArgs) -> Result<(), Failure> {
    let client = Client::new(&args.api)?.naming(&[
        ("type", "--type"),
        ("variants", "--variants"),
        ("description", "--description"),
        ("owner", "--owner"),
        ("tags", "--tag"),
        ("expires_at", "--expires-at"),
        ("off_variant", "--off-variant"),
    ]);
    let (variants, written) = match &args.variants {
        Some(text) => (Some(inputs::read_json(text, "--variants")?), inputs::member_order(text)),
        None => (None, Vec::new()),
    };
    // The API's default, `off` else the first variant by name, would make `b` the off
    // variant of {"control", "b", "c"}: a disabled experiment serving a treatment. The
    // order written says which comes first; the API's default stays as documented.
    let off_variant = match (&args.off_variant, args.kind.as_str()) {
        (Some(name), _) => Some(name.clone()),
        (None, "boolean") => None,
        (None, _) if written.iter().any(|name| name == "off") => Some("off".to_owned()),
        (None, _) => written.first().cloned(),
    };
    let body = strip_nulls(json!({
        "key": args.key, "type": args.kind, "variants": variants, "description": args.description,
        "owner": args.owner, "tags": args.tags, "temporary": args.temporary, "expires_at": args.expires_at,
        "client_visible": args.client_visible, "off_variant": off_variant,
    }));
    let reply = client.send(Method::POST, "/api/v1/flags", Some(&body), None).await?;
    finish(&args.api, &reply, Outcome::Applied(None), || {
        print_line(&created(&args.key, &args.kind, &reply.body["variants"], off_variant.as_deref()))
    })
}

/// What `flags create` did: the variant the flag serves disabled and the one it serves
/// enabled, named, with how to change either.
fn created(key: &str, kind: &str, variants: &Json, off_variant: Option<&str>) -> String {
    // The server's defaults: the off variant is `off`, else the first by name (the
    // reply's variants are sorted); the fallthrough `on`, else the off variant.
    let first = variants.as_object().and_then(|v| v.keys().next()).map_or("", String::as_str);
    let off = off_variant.unwrap_or(if variants.get("off").is_some() { "off" } else { first });
    let (key, kind, off) = (escaped(key), escaped(kind), escaped(off));
    if variants.get("on").is_some() {
        return format!(
            "created `{key}` ({kind}), disabled in every environment: it serves `{off}` (its off variant) until \
             enabled, then `on` (its fallthrough): pennon flags enable {key} --env ENV; to serve `on` to a share \
             of users only: pennon flags rollout {key} PERCENT --env ENV; to change the off variant: pennon flags \
             configure"
        );
    }
    format!(
        "created `{key}` ({kind}), disabled in every environment: it serves `{off}` (its off variant), and with no \
         variant `on` its fallthrough serves `{off}` too once enabled, so enabling it changes nothing until you \
         set what it serves: pennon flags rollout {key} PERCENT --env ENV --variant VARIANT --otherwise VARIANT, \
         or pennon flags configure (which also sets the off variant)"
    )
}

async fn toggle(args: &ToggleArgs, enabled: bool) -> Result<(), Failure> {
    let (key, env) = (&args.key, &args.env);
    let path = config_path(env, key);
    let body = json!({ "enabled": enabled });
    let (_, reply) = Client::new(&args.api)?
        .send_current(Method::POST, (&path, &format!("{path}/toggle")), &format!("`{key}` in `{env}`"), |_| {
            Ok(Some(body.clone()))
        })
        .await?;
    let word = if enabled { "enabled" } else { "disabled" };
    report(&args.api, &reply, &format!("{word} `{key}` in `{env}`"))
}

/// A percentage from 0 to 100. `NaN` and `inf` parse as floats, but JSON cannot carry
/// them (they went out as `null`, and the server then named a missing field).
fn parse_percent(text: &str) -> Result<f64, String> {
    match text.trim().parse::<f64>() {
        Ok(percent) if (0.0..=100.0).contains(&percent) => Ok(percent),
        _ => Err(format!("`{}` is not a percentage: give a number from 0 to 100", escaped(text))),
    }
}
