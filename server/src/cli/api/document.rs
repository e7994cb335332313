//! What the documents `pennon flags get KEY --env ENV` and `pennon segments get KEY --env
//! ENV` print have in common: each carries the ETag of what it holds, which the command
//! that writes the edited document back sends in `If-Match`, so that a change someone
//! made since the `get` is refused (412) and kept rather than overwritten.

use std::path::Path;

use serde::de::DeserializeOwned;
use serde_json::{Map, Value as Json};

use super::Reply;
use crate::cli::Failure;

/// The ETag in member `member` of the document in file `name`: `None` when it is absent
/// (a document printed before it was added), refused when it is not one.
pub(super) fn held_etag(file: &Map<String, Json>, member: &str, name: &str) -> Result<Option<String>, Failure> {
    match file.get(member) {
        None | Some(Json::Null) => Ok(None),
        Some(Json::String(tag)) => {
            checked_etag(tag).map(Some).map_err(|why| Failure::Usage(format!("`{member}` in {name}: {why}")))
        }
        Some(_) => Err(Failure::Usage(format!(
            "`{member}` in {name} is not a string: give the ETag as the `get` printed it, like \"r12\""
        ))),
    }
}

/// An ETag that can go out in `If-Match` as one tag: anything else would fail to send,
/// or be taken as several tags, or as `*` (overwrite whatever is there).
pub(super) fn checked_etag(etag: &str) -> Result<String, String> {
    let inner = etag.strip_prefix("W/").unwrap_or(etag);
    let quoted = inner.len() > 2 && inner.starts_with('"') && inner.ends_with('"');
    let plain = inner.trim_matches('"').chars().all(|c| c.is_ascii_graphic() && c != '"' && c != ',');
    if quoted && plain {
        Ok(etag.to_owned())
    } else {
        Err(format!("`{etag}` is not an ETag: give the value of an `ETag` header, like \"r12\""))
    }
}

/// A `--if-match` value: an ETag as the server sends it (`"r12"`), or without its
/// quotes (`r12`), which the shell strips unless told otherwise.
pub(super) fn etag_argument(text: &str) -> Result<String, Failure> {
    if text.trim() == "*" {
        return Err(Failure::Usage(
            "--if-match takes an ETag, not `*`: leave it out to write over what is there now".into(),
        ));
    }
    let quoted = if text.starts_with('"') || text.starts_with("W/") { text.to_owned() } else { format!("\"{text}\"") };
    checked_etag(&quoted).map_err(|why| Failure::Usage(format!("--if-match: {why}")))
}

/// The refusal of a write whose document's ETag is stale: the server's reason, then
/// that `changed` ("segment `beta` in `staging`") changed after the `pennon {noun} get`
/// that file `name` holds, and how to redo the edit: `get` `key` in `env` again, and
/// `verb` ("update") from what it prints.
pub(super) fn stale(
    reply: &Reply,
    changed: &str,
    name: &str,
    (noun, key, env): (&str, &str, &str),
    verb: &str,
) -> Failure {
    Failure::Api(format!(
        "{}\n{changed} changed after the `pennon {noun} get` that {name} holds, and that change is kept: run \
         `pennon {noun} get {key} --env {env}` again, redo your edit in what it prints, and {verb} from that",
        reply.reason()
    ))
}

/// `file` as a shell word to paste into the command a note suggests: single-quoted
/// unless plain, and `FILE` for standard input, which cannot be read twice.
pub(super) fn file_argument(file: &Path) -> String {
    let text = file.to_string_lossy();
    let plain = |c: char| c.is_ascii_alphanumeric() || "._/-+=:@,".contains(c);
    if file == Path::new("-") {
        "FILE".to_owned()
    } else if !text.is_empty() && text.chars().all(plain) {
        text.into_owned()
    } else {
        format!("'{}'", text.replace('\'', "'\\''"))
    }
}

/// Whether two documents mean the same `T` (members left out and given as their
/// default alike); as JSON when either is not a `T`.
pub(super) fn same<T: DeserializeOwned + PartialEq>(a: &Json, b: &Json) -> bool {
    match (T::deserialize(a), T::deserialize(b)) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use serde_json::json;

    use super::{checked_etag, etag_argument, file_argument, held_etag};

    #[test]
    fn held_etags_are_taken_as_printed_or_refused_saying_why() {
        let file = |value: serde_json::Value| value.as_object().unwrap().clone();
        let held = |value| held_etag(&file(value), "etag", "`f.json`");
        assert_eq!(held(json!({ "etag": "\"r5\"" })).ok().unwrap().as_deref(), Some("\"r5\""));
        assert_eq!(held(json!({})).ok().unwrap(), None);
        assert_eq!(held(json!({ "etag": null })).ok().unwrap(), None);
        for (bad, says) in [
            (json!({ "etag": "r5" }), "`etag` in `f.json`: `r5` is not an ETag"),
            (json!({ "etag": 5 }), "`etag` in `f.json` is not a string"),
        ] {
            match held(bad) {
                Err(crate::cli::Failure::Usage(message)) => assert!(message.contains(says), "{message}"),
                _ => panic!("taken"),
            }
        }
        assert!(checked_etag("W/\"r1\"").is_ok());
        assert!(checked_etag("\"r1\", \"r2\"").is_err());
    }

    #[test]
    fn etags_are_taken_quoted_or_bare_and_nothing_else() {
        assert_eq!(etag_argument("r12").unwrap(), "\"r12\"");
        assert_eq!(etag_argument("\"r12\"").unwrap(), "\"r12\"");
        assert_eq!(etag_argument("W/\"r12\"").unwrap(), "W/\"r12\"");
        for bad in ["*", "\"r1\", \"r2\"", "r 1", "\"r1", "", "\"\u{1b}\""] {
            assert!(etag_argument(bad).is_err(), "{bad:?} taken");
        }
        assert!(checked_etag("r12").is_err(), "a document's etag is taken as printed");
    }

    #[test]
    fn suggested_commands_name_the_file_as_one_shell_word() {
        assert_eq!(file_argument(Path::new("flags/nc.json")), "flags/nc.json");
        assert_eq!(file_argument(Path::new("my flag.json")), "'my flag.json'");
        assert_eq!(file_argument(Path::new("it's.json")), "'it'\\''s.json'");
        assert_eq!(file_argument(Path::new("-")), "FILE");
    }
}
