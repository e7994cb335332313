//! The document `pennon flags get KEY --env ENV` prints, `{"flag", "flag_etag",
//! "environment", "etag", "config"}`, read back by `configure` (its `config`, guarded
//! by `etag`) and `update` (its `flag`, guarded by `flag_etag`). One file so carries
//! both halves of a flag and the ETags that keep an edit of either from overwriting a
//! change made since the `get`.

use std::path::Path;

use pennon_server::model::{Flag, FlagConfig};
use serde::Deserialize as _;
use serde_json::{Map, Value as Json};

use super::client::segment;
use super::document::{file_argument, held_etag, same};
use super::Client;
use crate::cli::{inputs, note, Failure};

/// A `get` document, taken apart.
pub(super) struct Document {
    /// The definition, as `PUT /api/v1/flags/KEY` takes it.
    pub(super) flag: Json,
    /// The definition's ETag; absent in documents printed before it was added.
    pub(super) flag_etag: Option<String>,
    /// The environment of `config`.
    pub(super) env: String,
    /// The configuration's ETag.
    pub(super) etag: String,
    /// The configuration in `env`.
    pub(super) config: Json,
}

impl Document {
    /// Whether `file` is a `get` document rather than a bare configuration or definition.
    pub(super) fn is_document(file: &Map<String, Json>) -> bool {
        file.contains_key("config") && file.contains_key("flag")
    }

    /// Takes the document in file `name` apart, refusing one of another flag than `key`:
    /// its ETags would guard the wrong resource. `what` names the file in messages.
    pub(super) fn read(mut file: Map<String, Json>, what: &str, name: &str, key: &str) -> Result<Document, Failure> {
        let refuse = |why: String| Err(Failure::Usage(format!("{what} {name} {why}")));
        let flag = file.remove("flag").unwrap_or(Json::Null);
        let (their_key, env) = (flag["key"].as_str(), file.get("environment").and_then(Json::as_str));
        let (Some(their_key), Some(env)) = (their_key, env) else {
            return refuse(format!(
                "has a `config` but no `flag.key` or `environment`: give the document `pennon flags get {key} \
                 --env ENV` prints"
            ));
        };
        let env = env.to_owned();
        if their_key != key {
            return refuse(format!("holds `{their_key}` in `{env}`, not `{key}`: nothing was sent"));
        }
        let Some(etag) = held_etag(&file, "etag", name)? else {
            return refuse(format!("has no `etag`: print it again with `pennon flags get {key} --env {env}`"));
        };
        let flag_etag = held_etag(&file, "flag_etag", name)?;
        match file.remove("config") {
            Some(config @ Json::Object(_)) => Ok(Document { flag, flag_etag, env, etag, config }),
            _ => refuse("has a `config` that is not a JSON object".to_owned()),
        }
    }

    /// `configure` sends the `config` only: an edit of the document's `flag` would be
    /// lost without a word, so a `flag` that differs from the definition is noted.
    pub(super) async fn note_definition_edits(&self, client: &Client, file: &Path, key: &str) -> Result<(), Failure> {
        let current = client.get(&format!("/api/v1/flags/{}", segment(key))).await?;
        if !same_definition(&current.body, &self.flag, key) {
            note(&format!(
                "note: the `flag` in {} differs from the definition of `{key}` now; `configure` sends only \
                 `config`: `pennon flags update {key} --file {}` sends the `flag`",
                inputs::input_name(file),
                file_argument(file)
            ));
        }
        Ok(())
    }

    /// `update` sends the `flag` only: the counterpart of [`Self::note_definition_edits`].
    pub(super) async fn note_configuration_edits(
        &self,
        client: &Client,
        file: &Path,
        key: &str,
    ) -> Result<(), Failure> {
        let path = format!("/api/v1/environments/{}/flags/{}", segment(&self.env), segment(key));
        let current = client.get(&path).await?;
        if !same::<FlagConfig>(&current.body, &self.config) {
            let env = &self.env;
            note(&format!(
                "note: the `config` in {} differs from `{key}` in `{env}` now; `update` sends only `flag`: \
                 `pennon flags configure {key} --env {env} --file {}` sends the `config`",
                inputs::input_name(file),
                file_argument(file)
            ));
        }
        Ok(())
    }
}

/// [`same`] for definitions, whose `key` may be left out and the variants of a boolean
/// flag too, as the server fills both in.
pub(super) fn same_definition(a: &Json, b: &Json, key: &str) -> bool {
    let filled = |json: &Json| -> Option<Flag> {
        let mut flag = Flag::deserialize(json).ok()?;
        if flag.key.is_empty() {
            flag.key = key.to_owned();
        }
        flag.variants = flag.variants_or_default();
        Some(flag)
    };
    match (filled(a), filled(b)) {
        (Some(a), Some(b)) => a == b,
        _ => a == b,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::{same_definition, Document};

    #[test]
    fn an_unchanged_definition_is_told_by_its_content() {
        let stored = json!({ "key": "k", "type": "boolean", "variants": { "on": true, "off": false }, "tags": [],
                             "temporary": false, "client_visible": false });
        assert!(same_definition(&stored, &json!({ "type": "boolean" }), "k"));
        assert!(!same_definition(&stored, &json!({ "type": "boolean", "client_visible": true }), "k"));
    }

    #[test]
    fn a_document_is_read_with_both_etags_or_refused_saying_why() {
        let document = json!({ "flag": { "key": "k", "type": "boolean" }, "flag_etag": "\"r2\"",
                               "environment": "dev", "etag": "\"r5\"", "config": { "enabled": true } });
        let read = |value: serde_json::Value| {
            let serde_json::Value::Object(file) = value else { unreachable!() };
            Document::read(file, "definition file", "`f.json`", "k")
        };
        let taken = read(document.clone()).ok().unwrap();
        assert_eq!(
            (taken.flag_etag.as_deref(), taken.etag.as_str(), taken.env.as_str()),
            (Some("\"r2\""), "\"r5\"", "dev")
        );
        let mut older = document.clone();
        older.as_object_mut().unwrap().remove("flag_etag");
        assert_eq!(read(older).ok().unwrap().flag_etag, None);
        for (change, says) in [
            (json!({ "flag_etag": "r2" }), "`flag_etag` in `f.json`: `r2` is not an ETag"),
            (json!({ "flag_etag": 2 }), "`flag_etag` in `f.json` is not a string"),
            (json!({ "flag": { "key": "other" } }), "definition file `f.json` holds `other` in `dev`, not `k`"),
            (json!({ "config": [] }), "has a `config` that is not a JSON object"),
        ] {
            let mut bad = document.clone();
            for (member, value) in change.as_object().unwrap() {
                bad[member] = value.clone();
            }
            match read(bad) {
                Err(crate::cli::Failure::Usage(message)) => assert!(message.contains(says), "{message}"),
                _ => panic!("{change} was taken"),
            }
        }
    }
}
