//! The server's refusals as the CLI prints them: one line, escaped, with the API's
//! names of fields and query parameters turned into the command's own flags.
//!
//! The API names what was wrong as its callers spell it (`field: "variant"`, "filter
//! with `environment=`"); a CLI user typed `--variant` and `--env`, and is told those.
//! Only the structured parts are translated (the `field` member, a query parameter's
//! name leading the message, and a parameter to add, written `name=`): a value the
//! user gave, quoted in the message, is never mistaken for a name.

use pennon_server::model::{escaped, json_escaped};
use serde_json::Value as Json;

/// The flags of one command for the API's fields and query parameters it sends:
/// `("variant", "--variant")`.
pub(crate) type Names = [(&'static str, &'static str)];

/// Every command that sends an environment takes it as `--env`.
pub(crate) const ENVIRONMENT: (&str, &str) = ("environment", "--env");

/// The server's error as one line: ``the server refused (422 invalid_field) at
/// `--variant`: required for string flags``, escaped (a message may quote what was
/// refused, control characters and all).
pub(crate) fn describe(status: u16, body: &Json, names: &Names) -> String {
    let error = body.get("error");
    let text = |name: &str| error.and_then(|e| e.get(name)).and_then(Json::as_str).map(escaped);
    let mut line = format!("the server refused ({status}");
    let code = text("code");
    if let Some(code) = &code {
        line.push(' ');
        line.push_str(code);
    }
    line.push(')');
    let field = text("field");
    let message = text("message").map(|m| in_cli_terms(&m, field.as_deref(), names));
    if let Some(field) = field {
        let shown = flag_of(&field, names).unwrap_or_else(|| format!("`{field}`"));
        // A bad query parameter's message starts with its name already.
        if !message.as_ref().is_some_and(|m| m.starts_with(&shown)) {
            line.push_str(&format!(" at {shown}"));
        }
    }
    match message {
        Some(message) => line.push_str(&format!(": {message}")),
        None => line.push_str(&format!(": {}", json_escaped(&body.to_string()))),
    }
    if status == 404 && code.as_deref() == Some("no_route") {
        line.push_str(
            " (PENNON_URL must be the server's base URL, such as http://127.0.0.1:8080, without /api/v1; \
             or the server is older than this CLI)",
        );
    }
    line
}

/// The flag for API field `field`, backquoted: `` `--env` ``, or for a place inside
/// what the flag gave, `` `--env` (`environments[1]`) ``.
fn flag_of(field: &str, names: &Names) -> Option<String> {
    names.iter().find_map(|(api, flag)| {
        let rest = field.strip_prefix(api)?;
        match rest.chars().next() {
            None => Some(format!("`{flag}`")),
            Some('[' | '.') => Some(format!("`{flag}` (`{field}`)")),
            Some(_) => None,
        }
    })
}

/// `message` with the query parameter leading it (`` `limit`: ``) and any parameter it
/// says to add (`` `environment=` ``) named as the command's flags.
fn in_cli_terms(message: &str, field: Option<&str>, names: &Names) -> String {
    let mut message = message.to_owned();
    if let Some((field, flag)) = field.and_then(|f| Some((f, flag_of(f, names)?))) {
        if let Some(rest) = message.strip_prefix(&format!("`{field}`")) {
            message = format!("{flag}{rest}");
        }
    }
    for (api, flag) in names {
        message = message.replace(&format!("`{api}=`"), &format!("`{flag}`"));
    }
    message
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::{describe, ENVIRONMENT};

    fn refusal(code: &str, field: Option<&str>, message: &str) -> serde_json::Value {
        let mut error = json!({ "code": code, "message": message });
        if let Some(field) = field {
            error["field"] = json!(field);
        }
        json!({ "error": error })
    }

    #[test]
    fn fields_and_parameters_are_named_as_flags() {
        let names = [ENVIRONMENT, ("variant", "--variant"), ("limit", "--limit")];
        let body = refusal("invalid_field", Some("variant"), "required for string flags");
        assert_eq!(
            describe(422, &body, &names),
            "the server refused (422 invalid_field) at `--variant`: required for string flags"
        );
        let body = refusal("invalid_query", Some("limit"), "`limit`: `0` is not a whole number from 1 to 1000");
        assert_eq!(
            describe(400, &body, &names),
            "the server refused (400 invalid_query): `--limit`: `0` is not a whole number from 1 to 1000"
        );
        let body = refusal("forbidden", None, "it spans every environment (filter with `environment=`)");
        assert_eq!(
            describe(403, &body, &names),
            "the server refused (403 forbidden): it spans every environment (filter with `--env`)"
        );
    }

    #[test]
    fn a_place_inside_a_flag_keeps_its_path() {
        let names = [("environments", "--env")];
        let body = refusal("invalid_field", Some("environments[1]"), "no environment `qa`");
        assert_eq!(
            describe(422, &body, &names),
            "the server refused (422 invalid_field) at `--env` (`environments[1]`): no environment `qa`"
        );
    }

    #[test]
    fn values_quoted_in_a_message_stay_as_given() {
        // `--variant otherwise`: the value is not the field `otherwise`.
        let names = [("variant", "--variant"), ("otherwise", "--otherwise")];
        let body = refusal("invalid_field", Some("variant"), "the flag has no variant `otherwise`");
        assert_eq!(
            describe(422, &body, &names),
            "the server refused (422 invalid_field) at `--variant`: the flag has no variant `otherwise`"
        );
        let unnamed = refusal("invalid_field", Some("rules[0].serve"), "unknown variant");
        assert_eq!(
            describe(422, &unnamed, &names),
            "the server refused (422 invalid_field) at `rules[0].serve`: unknown variant"
        );
    }

    #[test]
    fn no_route_says_what_the_url_should_be() {
        let body = refusal("no_route", None, "no such route; see /openapi.json");
        assert!(describe(404, &body, &[]).ends_with(
            "PENNON_URL must be the server's base URL, such as \
            http://127.0.0.1:8080, without /api/v1; or the server is older than this CLI)"
        ));
    }
}
