//! `pennon segments ...`: segments of one environment.

use std::path::{Path, PathBuf};

use pennon_server::model::Segment;
use reqwest::Method;
use serde_json::{json, Value as Json};

use super::client::segment;
use super::document::{etag_argument, held_etag, same, stale};
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
    /// Print a segment as JSON, with its ETag: `{"environment", "etag", "segment"}`.
    ///
    /// Edited, the document is what `update --file` takes: it sends the `segment` under
    /// the `etag`, so a change someone made since is refused (412), not overwritten.
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
    Update(UpdateArgs),
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
    /// The whole segment as JSON (`included`, `excluded`, `rules`, `description`), or the
    /// document `pennon segments get KEY --env ENV` printed, edited: `update` sends its
    /// `segment` under its `etag`, so a change made since that `get` is refused, not
    /// overwritten. `-` reads standard input.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["include", "exclude", "description"])]
    file: Option<PathBuf>,
    /// The server.
    #[command(flatten)]
    api: ApiArgs,
}

/// What `update` takes: what `create` takes, and the ETag the segment must still have.
#[derive(Debug, clap::Args)]
pub(crate) struct UpdateArgs {
    #[command(flatten)]
    edit: EditArgs,
    /// Apply only if the segment's ETag (the `etag` `pennon segments get` printed) is
    /// still this one. Default: the `etag` of a `get` document, else the current ETag,
    /// read just before the write (and read again if another write lands in between).
    #[arg(long, value_name = "ETAG")]
    if_match: Option<String>,
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
            let reply = Client::new(api)?.get(&format!("{}/{}", base(env), segment(key))).await?;
            print_json(&json!({ "environment": env, "etag": reply.etag, "segment": reply.body }))
        }
        Command::Create(args) => {
            let file = args.file.as_deref().map(|path| SegmentFile::read(path, &args.key, None)).transpose()?;
            let body = body(args, file.as_ref().map(|file| &file.segment), None)?;
            let reply = Client::new(&args.api)?.send(Method::POST, &base(&args.env), Some(&body), None).await?;
            report(&args.api, &reply, &format!("created segment `{}` in `{}`", args.key, args.env))
        }
        Command::Update(args) => update(args).await,
        Command::Delete { key, env, api } => {
            let path = format!("{}/{}", base(env), segment(key));
            let what = format!("segment `{key}` in `{env}`");
            let (_, reply) =
                Client::new(api)?.send_current(Method::DELETE, (&path, &path), &what, |_| Ok(None)).await?;
            report(api, &reply, &format!("deleted segment `{key}` from `{env}`"))
        }
    }
}

/// `pennon segments update`. The document `get` printed goes out under its ETag, and
/// anything under `--if-match`: a change made since is refused and kept. Anything else
/// says what the segment should be (keys given, or a whole segment), so it is sent under
/// the ETag read just before, read again if the segment changes in between.
async fn update(UpdateArgs { edit: args, if_match }: &UpdateArgs) -> Result<(), Failure> {
    let (key, env) = (args.key.as_str(), args.env.as_str());
    let file = args.file.as_deref().map(|path| SegmentFile::read(path, key, Some(env))).transpose()?;
    let argument = if_match.as_deref().map(etag_argument).transpose()?;
    let guard = match (file.as_ref().and_then(|file| file.etag.as_ref()), argument) {
        (Some(held), Some(argument)) if *held != argument => {
            let name = file.as_ref().map_or("", |file| file.name.as_str());
            return Err(Failure::Usage(format!(
                "--if-match {argument} differs from the `etag` {held} in {name}: give one of them"
            )));
        }
        (Some(held), _) => Some(held.clone()),
        (None, argument) => argument,
    };
    let client = Client::new(&args.api)?;
    let path = format!("{}/{}", base(env), segment(key));
    let done = format!("updated segment `{key}` in `{env}`");
    let what = format!("segment `{key}` in `{env}`");
    let held = file.as_ref().map(|file| &file.segment);
    let Some(etag) = guard else {
        let (_, reply) = client
            .send_current(Method::PUT, (&path, &path), &what, |current| body(args, held, Some(&current.body)).map(Some))
            .await?;
        return report(&args.api, &reply, &done);
    };
    // Keys given are applied to the segment as it was at that ETag: read it now, and
    // the write is refused if it has changed since.
    let body = match held {
        Some(held) => body(args, Some(held), None)?,
        None => body(args, None, Some(&client.get(&path).await?.body))?,
    };
    let reply = client.exchange(Method::PUT, &path, Some(&body), Some(&etag)).await?;
    if reply.status != 412 {
        return report(&args.api, &reply.accepted()?, &done);
    }
    let current = client.get(&path).await?;
    if same::<Segment>(&current.body, &body) {
        // Already so (this very file applied before, say): nothing is lost.
        return report(&args.api, &current, &done);
    }
    Err(match file.as_ref().filter(|file| file.etag.is_some()) {
        Some(file) => stale(&reply, &what, &file.name, ("segments", key, env), "update"),
        None => Failure::Api(format!(
            "{}\n{what} changed since you read ETag {etag}, and that change is kept: read it again (`pennon \
             segments get {key} --env {env}`) and redo your edit",
            reply.reason()
        )),
    })
}

/// A segment `--file`: the segment it holds, with the ETag of the document `pennon
/// segments get` printed; none for a segment alone (hand-written, or printed by a
/// `pennon` older than the document).
struct SegmentFile {
    /// The segment, as `PUT` takes it.
    segment: Json,
    /// The ETag the `get` read, for `update`.
    etag: Option<String>,
    /// The file, as messages name it.
    name: String,
}

impl SegmentFile {
    /// Reads the file at `path`, a `get` document or a segment alone. For `update` (`env`
    /// given) a document must hold segment `key` in `env`, with its `etag`: that ETag
    /// guards no other segment. `create` takes the segment of any document (a copy).
    fn read(path: &Path, key: &str, env: Option<&str>) -> Result<SegmentFile, Failure> {
        let name = inputs::input_name(path);
        let mut file = inputs::read_json_object(path, "segment file")?;
        let refuse = |why: String| Err(Failure::Usage(format!("segment file {name} {why}")));
        let Some(segment) = file.remove("segment") else {
            if let Some(other) = env.and(file.get("key")).and_then(Json::as_str).filter(|other| *other != key) {
                return refuse(format!(
                    "is segment `{other}`, not `{key}`: nothing was sent. To apply it to `{key}` all the same, \
                     leave out its `key`"
                ));
            }
            return Ok(SegmentFile { segment: Json::Object(file), etag: None, name });
        };
        if !segment.is_object() {
            return refuse("has a `segment` that is not a JSON object".to_owned());
        }
        let Some(env) = env else { return Ok(SegmentFile { segment, etag: None, name }) };
        let Some(their_env) = file.get("environment").and_then(Json::as_str) else {
            return refuse(format!(
                "has a `segment` but no `environment`: give the document `pennon segments get {key} --env {env}` \
                 prints, or the segment alone"
            ));
        };
        let their_key = segment.get("key").and_then(Json::as_str).unwrap_or(key);
        if (their_key, their_env) != (key, env) {
            return refuse(format!(
                "holds segment `{their_key}` in `{their_env}`, not `{key}` in `{env}`: nothing was sent. To apply \
                 it to `{key}` in `{env}` all the same, give its `segment` member alone"
            ));
        }
        let Some(etag) = held_etag(&file, "etag", &name)? else {
            return refuse(format!(
                "has no `etag`: print it again with `pennon segments get {key} --env {env}` and redo your edit there"
            ));
        };
        Ok(SegmentFile { segment, etag: Some(etag), name })
    }
}

/// The request body: the file's segment, or the current segment with the given lists
/// replaced, or (creating) the given lists.
fn body(args: &EditArgs, file: Option<&Json>, current: Option<&Json>) -> Result<Json, Failure> {
    if let Some(empty) = [("--include", &args.include), ("--exclude", &args.exclude)]
        .into_iter()
        .find(|(_, keys)| keys.iter().any(String::is_empty))
    {
        return Err(Failure::Usage(format!("{}: a targeting key cannot be empty", empty.0)));
    }
    let mut body = match (file, current) {
        (Some(file), _) => file.clone(),
        (None, Some(current)) => current.clone(),
        (None, None) => json!({}),
    };
    body["key"] = json!(args.key);
    if file.is_none() {
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
