//! Reading what commands are given: files, JSON documents, keys, times and evaluation
//! contexts.
//!
//! Every problem here is a usage error (exit 2) whose message names the argument or
//! the path, and for files the operating system's error.

use std::io::Read as _;
use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use pennon_core::{Context, PublicKey, SigningKey};
use pennon_server::model::JsonInputError;
use serde_json::{Map, Value as Json};

use super::Failure;

const PUBLIC_PREFIX: &str = "ed25519:";
const PRIVATE_PREFIX: &str = "ed25519-private:";

/// Reads a whole file; `what` says what it should hold, for the message.
pub(crate) fn read_file(path: &Path, what: &str) -> Result<Vec<u8>, Failure> {
    std::fs::read(path).map_err(|e| Failure::Usage(format!("cannot read {what} `{}`: {e}", path.display())))
}

/// Reads a whole file that must be UTF-8 text.
pub(crate) fn read_text(path: &Path, what: &str) -> Result<String, Failure> {
    String::from_utf8(read_file(path, what)?)
        .map_err(|_| Failure::Usage(format!("{what} `{}` is not UTF-8 text", path.display())))
}

/// Reads a `--file` holding one JSON object, `-` for standard input; `what` says what it
/// should hold ("configuration file"), for the messages, which name the file.
pub(crate) fn read_json_object(path: &Path, what: &str) -> Result<Map<String, Json>, Failure> {
    let name = input_name(path);
    let text = if path == Path::new("-") {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .map_err(|e| Failure::Usage(format!("cannot read {what} from standard input: {e}")))?;
        text
    } else {
        read_text(path, what)?
    };
    match read_json(&text, &format!("{what} {name}"))? {
        Json::Object(object) => Ok(object),
        other => Err(Failure::Usage(format!(
            "{what} {name} must hold a JSON object, not {}",
            pennon_server::model::json_kind(&other)
        ))),
    }
}

/// Reads JSON text given as `source` (`configuration file `f.json``, `--variants`), as
/// the server reads request bodies: an object naming a member twice is refused, since
/// the server would refuse it too and a reader may take the other value.
pub(crate) fn read_json(text: &str, source: &str) -> Result<Json, Failure> {
    pennon_server::model::parse_json(text.as_bytes()).map_err(|e| match e {
        JsonInputError::Malformed(e) => Failure::Usage(format!("{source} is not JSON: {e}")),
        duplicate @ JsonInputError::Duplicate(_) => Failure::Usage(format!("{source} {duplicate}")),
    })
}

/// The names of a JSON object's members in the order they are written (empty for
/// anything but an object). `serde_json::Map` sorts its keys, and the crate's
/// `preserve_order` feature would change that for every map the server reads.
pub(crate) fn member_order(text: &str) -> Vec<String> {
    struct Names;
    impl<'de> serde::de::Visitor<'de> for Names {
        type Value = Vec<String>;
        fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            formatter.write_str("a JSON object")
        }
        fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Vec<String>, A::Error> {
            let mut names = Vec::new();
            while let Some((name, serde::de::IgnoredAny)) = map.next_entry::<String, serde::de::IgnoredAny>()? {
                names.push(name);
            }
            Ok(names)
        }
    }
    let mut reader = serde_json::Deserializer::from_str(text);
    serde::Deserializer::deserialize_map(&mut reader, Names).unwrap_or_default()
}

/// How messages name a `--file`: `` `PATH` ``, and `-` as standard input.
pub(crate) fn input_name(path: &Path) -> String {
    if path == Path::new("-") {
        "`-` (standard input)".to_owned()
    } else {
        format!("`{}`", path.display())
    }
}

/// Reads a private key file (`ed25519-private:<base64>`).
pub(crate) fn read_signing_key(path: &Path) -> Result<SigningKey, Failure> {
    let text = read_text(path, "private key file")?;
    if text.trim_start().starts_with(PUBLIC_PREFIX) {
        return Err(Failure::Usage(format!(
            "`{}` holds a public key; signing needs the private key file (`.key`)",
            path.display()
        )));
    }
    SigningKey::parse(&text).map_err(|e| Failure::Usage(format!("`{}`: {e}", path.display())))
}

/// Reads a `--trusted-key` value: the key text `ed25519:<base64>`, or a file holding it.
pub(crate) fn read_trusted_key(value: &str) -> Result<PublicKey, Failure> {
    let trimmed = value.trim();
    if trimmed.starts_with(PRIVATE_PREFIX) {
        // Never echo it: it is a secret given in the wrong place.
        return Err(Failure::Usage(
            "--trusted-key was given a private key; pass the public key (`ed25519:...` or the `.pub` file)".into(),
        ));
    }
    if trimmed.starts_with(PUBLIC_PREFIX) {
        return PublicKey::parse(trimmed).map_err(|e| Failure::Usage(format!("--trusted-key `{trimmed}`: {e}")));
    }
    let path = Path::new(value);
    let text = read_text(path, "trusted key file")?;
    if text.trim_start().starts_with(PRIVATE_PREFIX) {
        return Err(Failure::Usage(format!(
            "`{}` holds a private key; trust the public key file (`.pub`) instead",
            path.display()
        )));
    }
    PublicKey::parse(&text).map_err(|e| Failure::Usage(format!("trusted key file `{}`: {e}", path.display())))
}

/// The time to check and evaluate at: `--now` when given, else the system clock.
pub(crate) fn now(arg: Option<&str>) -> Result<i64, Failure> {
    match arg {
        Some(text) => pennon_core::parse_rfc3339(text).map_err(|e| Failure::Usage(format!("--now: {e}"))),
        None => Ok(system_now()),
    }
}

/// The system clock in Unix milliseconds. The core never reads a clock; the CLI may.
pub(crate) fn system_now() -> i64 {
    let millis = |d: std::time::Duration| i64::try_from(d.as_millis()).unwrap_or(i64::MAX);
    match SystemTime::now().duration_since(UNIX_EPOCH) {
        Ok(after) => millis(after),
        Err(before) => -millis(before.duration()),
    }
}

/// A time argument (`--since`, `--until`, named by `flag`) as RFC 3339: a time back from
/// now (`7d`, `24h`, `30m`, as `pennon serve`'s durations), or an RFC 3339 time as it is.
pub(crate) fn time_or_back(flag: &str, text: &str) -> Result<String, Failure> {
    if let Ok(back) = pennon_server::parse_duration(text) {
        let back = i64::try_from(back.as_millis()).unwrap_or(i64::MAX);
        return Ok(pennon_core::format_rfc3339(system_now().saturating_sub(back).max(0)));
    }
    pennon_core::parse_rfc3339(text).map(|_| text.to_owned()).map_err(|_| {
        Failure::Usage(format!(
            "{flag}: `{}` is neither a time back from now (7d, 24h, 30m) nor an RFC 3339 time \
             (2026-01-31T09:00:00Z)",
            pennon_server::model::escaped(text)
        ))
    })
}

/// Reads `--context`: inline JSON, or `@path` for a file holding it.
///
/// A context whose `targetingKey` is not a string would make every evaluation a
/// `PARSE_ERROR`; the CLI refuses it up front instead, as a usage error.
pub(crate) fn read_context(arg: &str) -> Result<Context, Failure> {
    let (text, source) = match arg.strip_prefix('@') {
        Some(path) => (read_text(Path::new(path), "context file")?, format!("--context file `{path}`")),
        None => (arg.to_owned(), "--context".to_owned()),
    };
    let context = Context::from_json(&text).map_err(|e| Failure::Usage(format!("{source}: {e}")))?;
    match context.problem() {
        Some(problem) => Err(Failure::Usage(format!("{source}: {problem}"))),
        None => Ok(context),
    }
}
