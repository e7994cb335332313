//! `pennon flags configure` and `pennon flags update`: replace a flag's configuration in
//! one environment (targets, rules, prerequisites, fallthrough, off variant) or its
//! definition (variants, description, owner, tags, ...) with what a JSON file holds.
//!
//! The file may be what `pennon flags get KEY --env ENV` printed, edited: its `etag`
//! (for `configure`) or `flag_etag` (for `update`) then goes out in `If-Match`, so a
//! change someone made between that `get` and this write is refused (412) rather than
//! overwritten. Everything wrong with the file or the arguments is found before
//! anything is sent.

use std::path::PathBuf;

use pennon_server::model::FlagConfig;
use reqwest::Method;
use serde_json::{Map, Value as Json};

use super::client::segment;
use super::document::{etag_argument, same, stale};
use super::flag_document::{same_definition, Document};
use super::{finish, report, ApiArgs, Client, Outcome, Reply};
use crate::cli::{inputs, print_line, Failure};

/// Arguments of `pennon flags configure`.
#[derive(Debug, clap::Args)]
pub(crate) struct ConfigureArgs {
    /// The flag key.
    key: String,
    /// The environment.
    #[arg(long, value_name = "ENV")]
    env: String,
    /// The configuration as JSON (`enabled`, `off_variant`, `fallthrough`, `targets`,
    /// `rules`, `prerequisites`, `metadata`; `-` reads standard input), or the whole
    /// document `pennon flags get KEY --env ENV` printed, edited: then its `etag` is sent
    /// in `If-Match`, and a change made since that `get` is refused, not overwritten.
    #[arg(long, value_name = "FILE")]
    file: PathBuf,
    /// Apply only if the configuration's ETag is still this one. Default: the `etag` of
    /// a `get` document, else the current ETag, read just before the write (and read
    /// again if another write lands in between).
    #[arg(long, value_name = "ETAG")]
    if_match: Option<String>,
    /// The server.
    #[command(flatten)]
    api: ApiArgs,
}

/// Arguments of `pennon flags update`.
#[derive(Debug, clap::Args)]
pub(crate) struct UpdateArgs {
    /// The flag key.
    key: String,
    /// The document `pennon flags get KEY --env ENV` printed, edited: its `flag` is sent,
    /// with its `flag_etag` in `If-Match`, so a change made since that `get` is refused,
    /// not overwritten. Or the definition alone, as `pennon flags get KEY` prints it
    /// (`type`, `variants`, `description`, `owner`, `tags`, `temporary`, `expires_at`,
    /// `client_visible`). `-` reads standard input. It replaces the whole definition.
    #[arg(long, value_name = "FILE")]
    file: PathBuf,
    /// Apply only if the definition's ETag (the `ETag` header of `GET
    /// /api/v1/flags/KEY`) is still this one. Default: the `flag_etag` of a `get`
    /// document, else the current ETag, read just before the write (and read again if
    /// another write lands in between).
    #[arg(long, value_name = "ETAG")]
    if_match: Option<String>,
    /// The server.
    #[command(flatten)]
    api: ApiArgs,
}

/// Where the ETag sent in `If-Match` came from, which decides what a 412 advises.
/// Without one, the file says what should be, and goes out under the ETag read just
/// before ([`Client::send_current`]).
enum Guard {
    /// The `etag` of a `get` document.
    Document,
    /// `--if-match`.
    Argument,
}

/// `pennon flags configure`.
pub(crate) async fn configure(args: &ConfigureArgs) -> Result<(), Failure> {
    let (key, env) = (args.key.as_str(), args.env.as_str());
    let name = inputs::input_name(&args.file);
    let file = inputs::read_json_object(&args.file, "configuration file")?;
    let argument = args.if_match.as_deref().map(etag_argument).transpose()?;
    let (config, document) = if file.contains_key("config") {
        let document = Document::read(file, "configuration file", &name, key)?;
        if document.env != env {
            return Err(Failure::Usage(format!(
                "configuration file {name} holds `{key}` in `{}`, not `{key}` in `{env}`: nothing was sent. To \
                 apply its configuration to `{key}` in `{env}` all the same, give its `config` member alone",
                document.env
            )));
        }
        (document.config.clone(), Some(document))
    } else {
        if file.contains_key("type") || file.contains_key("variants") {
            return Err(Failure::Usage(format!(
                "configuration file {name} holds a flag definition (it has `type` or `variants`): `pennon flags \
                 update {key} --file` replaces definitions; `configure` takes a configuration, or the document \
                 `pennon flags get {key} --env {env}` prints"
            )));
        }
        (Json::Object(file), None)
    };
    let guarded = match (&document, argument) {
        (Some(document), Some(argument)) if argument != document.etag => {
            return Err(Failure::Usage(format!(
                "--if-match {argument} differs from the `etag` {} in {name}: give one of them",
                document.etag
            )))
        }
        (Some(document), _) => Some((document.etag.clone(), Guard::Document)),
        (None, Some(argument)) => Some((argument, Guard::Argument)),
        (None, None) => None,
    };
    let client = Client::new(&args.api)?;
    let path = format!("/api/v1/environments/{}/flags/{}", segment(env), segment(key));
    if let Some(document) = &document {
        document.note_definition_edits(&client, &args.file, key).await?;
    }
    let done = format!("configured `{key}` in `{env}`");
    let Some((etag, guard)) = guarded else {
        let what = format!("`{key}` in `{env}`");
        let (_, reply) = client.send_current(Method::PUT, (&path, &path), &what, |_| Ok(Some(config.clone()))).await?;
        return report(&args.api, &reply, &done);
    };
    let reply = client.exchange(Method::PUT, &path, Some(&config), Some(&etag)).await?;
    if reply.status == 412 {
        let current = client.get(&path).await?;
        if same::<FlagConfig>(&current.body, &config) {
            // Already so (this very file applied before, say): nothing is lost. A read
            // carries no snapshot version: `report` says "no change".
            return report(&args.api, &current, &done);
        }
        return Err(match guard {
            Guard::Document => stale(&reply, &format!("`{key}` in `{env}`"), &name, ("flags", key, env), "configure"),
            Guard::Argument => Failure::Api(format!(
                "{}\n`{key}` in `{env}` changed since you read ETag {etag}, and that change is kept: read it again \
                 (`pennon flags get {key} --env {env}`) and redo your edit",
                reply.reason()
            )),
        });
    }
    report(&args.api, &reply.accepted()?, &done)
}

/// `pennon flags update`.
pub(crate) async fn update(args: &UpdateArgs) -> Result<(), Failure> {
    let key = args.key.as_str();
    let name = inputs::input_name(&args.file);
    let file = inputs::read_json_object(&args.file, "definition file")?;
    let argument = args.if_match.as_deref().map(etag_argument).transpose()?;
    let (definition, document) = read_definition(file, &name, key)?;
    let guarded = match (document.as_ref().and_then(|d| d.flag_etag.clone()), argument) {
        (Some(held), Some(argument)) if argument != held => {
            return Err(Failure::Usage(format!(
                "--if-match {argument} differs from the `flag_etag` {held} in {name}: give one of them"
            )))
        }
        (Some(held), _) => Some((held, Guard::Document)),
        (None, Some(argument)) => Some((argument, Guard::Argument)),
        (None, None) => None,
    };
    let client = Client::new(&args.api)?;
    let path = format!("/api/v1/flags/{}", segment(key));
    if let Some(document) = &document {
        document.note_configuration_edits(&client, &args.file, key).await?;
    }
    let (reply, outcome) = match guarded {
        Some((etag, guard)) => {
            let reply = client.exchange(Method::PUT, &path, Some(&definition), Some(&etag)).await?;
            guarded_update(&client, reply, (&etag, guard), (&definition, document.as_ref()), (&name, key)).await?
        }
        None => {
            let what = format!("the definition of `{key}`");
            let (current, reply) =
                client.send_current(Method::PUT, (&path, &path), &what, |_| Ok(Some(definition.clone()))).await?;
            // A `PUT` of the definition as it is answers with the ETag it had.
            let unchanged = current.etag.is_some_and(|etag| same_etag(reply.etag.as_deref(), &etag));
            (reply, if unchanged { Outcome::Unchanged } else { Outcome::Applied(None) })
        }
    };
    finish(&args.api, &reply, outcome, || match outcome {
        Outcome::Unchanged => print_line(&format!("the definition of `{key}`: no change, nothing published")),
        _ => print_line(&format!(
            "updated the definition of `{key}`, published to every environment (ETag now {})",
            reply.etag.as_deref().unwrap_or("unknown")
        )),
    })
}

/// The outcome of `update`'s `PUT` under an ETag the user holds (`reply`): a 412 for a
/// definition that is already what was sent is "no change"; for another, the advice
/// that fits where the ETag came from.
async fn guarded_update(
    client: &Client,
    reply: Reply,
    (etag, guard): (&str, Guard),
    (definition, document): (&Json, Option<&Document>),
    (name, key): (&str, &str),
) -> Result<(Reply, Outcome), Failure> {
    let path = format!("/api/v1/flags/{}", segment(key));
    if reply.status != 412 {
        let reply = reply.accepted()?;
        // A `PUT` of the definition as it is answers with the ETag it had.
        let outcome = if same_etag(reply.etag.as_deref(), etag) { Outcome::Unchanged } else { Outcome::Applied(None) };
        return Ok((reply, outcome));
    }
    let current = client.get(&path).await?;
    if same_definition(&current.body, definition, key) {
        return Ok((current, Outcome::Unchanged));
    }
    Err(match (guard, document) {
        (Guard::Document, Some(document)) => {
            stale(&reply, &format!("the definition of `{key}`"), name, ("flags", key, &document.env), "update")
        }
        _ => Failure::Api(format!(
            "{}\nthe definition of `{key}` changed since you read ETag {etag}, and that change is kept: read it \
             again (`pennon flags get {key}`) and redo your edit",
            reply.reason()
        )),
    })
}

/// The definition `update` sends, from file `name`: a `get --env` document's `flag`
/// (with the document, for its `flag_etag`), or a bare definition.
fn read_definition(file: Map<String, Json>, name: &str, key: &str) -> Result<(Json, Option<Document>), Failure> {
    let (definition, document) = if Document::is_document(&file) {
        let document = Document::read(file, "definition file", name, key)?;
        if document.flag_etag.is_none() {
            return Err(Failure::Usage(format!(
                "definition file {name} has no `flag_etag` (an older `pennon` printed it): print it again with \
                 `pennon flags get {key} --env {}` and redo your edit there",
                document.env
            )));
        }
        (document.flag.clone(), Some(document))
    } else {
        if ["config", "fallthrough", "off_variant"].iter().any(|member| file.contains_key(*member)) {
            return Err(Failure::Usage(format!(
                "definition file {name} holds a configuration (`config`, `fallthrough` or `off_variant`): `pennon \
                 flags configure {key} --env ENV --file` sets those; `update` takes the definition `pennon flags \
                 get {key}` prints, or the document `pennon flags get {key} --env ENV` prints"
            )));
        }
        (Json::Object(file), None)
    };
    if let Some(other) = definition.get("key").and_then(Json::as_str).filter(|other| *other != key) {
        return Err(Failure::Usage(format!(
            "definition file {name} is the definition of `{other}`, not `{key}`: nothing was sent"
        )));
    }
    Ok((definition, document))
}

/// Whether the server answered with the ETag sent (weak or strong alike).
fn same_etag(answered: Option<&str>, sent: &str) -> bool {
    let strong = |tag: &str| tag.strip_prefix("W/").unwrap_or(tag).to_owned();
    answered.is_some_and(|answered| strong(answered) == strong(sent))
}

#[cfg(test)]
mod tests {
    use super::same_etag;

    #[test]
    fn an_unchanged_definition_is_told_by_its_etag() {
        assert!(same_etag(Some("\"r3\""), "W/\"r3\""));
        assert!(!same_etag(Some("\"r4\""), "\"r3\""));
        assert!(!same_etag(None, "\"r3\""));
    }
}
