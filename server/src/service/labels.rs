//! Names, labels and descriptions of a write checked for characters that would reach a
//! terminal or a log as they are (see [`crate::model::check_label`]), and names for
//! what would make them read as another name ([`crate::model::check_name`]): refused
//! with a 422 naming the field, the character and where it is.

use crate::error::ApiError;
use crate::model::{check_label, check_name, check_prose, Condition, FlagConfig, Segment, Serve, MAX_RULE_TEXT};

/// Checks a name or label: `what` says what it is (`tag`, `variant name`).
pub(crate) fn label(field: impl Into<String>, what: &str, text: &str) -> Result<(), ApiError> {
    check_label(text).map_err(|why| {
        ApiError::invalid(
            field,
            format!(
                "{what} {why}: names and labels cannot hold control characters or bidirectional controls \
                 (U+202A to U+202E, U+2066 to U+2069), which terminals and logs would act on"
            ),
        )
    })
}

/// Checks a name people tell apart by sight (a token's name, a variant name; see
/// [`crate::model::check_name`]): `what` says which.
pub(crate) fn name(field: impl Into<String>, what: &str, text: &str) -> Result<(), ApiError> {
    check_name(text).map_err(|why| {
        ApiError::invalid(
            field,
            format!(
                "{what} {why}: names cannot hold control characters, bidirectional controls or invisible characters \
                 (Unicode's default-ignorable and format characters, such as U+200B or U+00AD), begin or end with \
                 white space, or start with a combining mark or put one on an ASCII character (write `é`, not `e` \
                 and U+0301), since each would read as another name"
            ),
        )
    })
}

/// Checks a description: line feeds and tabs are allowed.
pub(crate) fn prose(field: impl Into<String>, what: &str, text: &str) -> Result<(), ApiError> {
    check_prose(text).map_err(|why| {
        ApiError::invalid(
            field,
            format!(
                "{what} {why}: descriptions may hold line feeds and tabs, but no other control characters and no \
                 bidirectional controls (U+202A to U+202E, U+2066 to U+2069)"
            ),
        )
    })
}

/// Checks the rule ids, condition attributes, rollouts' `bucket_by` and metadata names
/// of a configuration someone sends. (Variant names in it must be the flag's own, which were checked with
/// the flag.) Rule ids and `bucket_by` are bounded as the telemetry endpoint bounds the
/// exposures that carry them back.
pub(crate) fn check_config(config: &FlagConfig) -> Result<(), ApiError> {
    for (i, rule) in config.rules.iter().enumerate() {
        label(format!("rules[{i}].id"), "rule id", &rule.id)?;
        bounded(format!("rules[{i}].id"), "a rule id", &rule.id)?;
        attributes(i, &rule.conditions)?;
        bucket_by(&format!("rules[{i}].serve"), &rule.serve)?;
    }
    bucket_by("fallthrough", &config.fallthrough)?;
    for name in config.metadata.keys() {
        label(format!("metadata[{name:?}]"), "metadata name", name)?;
    }
    Ok(())
}

/// Refuses `text` over [`MAX_RULE_TEXT`] bytes.
fn bounded(field: String, what: &str, text: &str) -> Result<(), ApiError> {
    if text.len() > MAX_RULE_TEXT {
        let message = format!(
            "{what} is at most {MAX_RULE_TEXT} bytes, not {}: SDKs send it back with every exposure",
            text.len()
        );
        return Err(ApiError::invalid(field, message));
    }
    Ok(())
}

/// Checks the `bucket_by` of `serve`'s rollout, if it has one, at `at`.
fn bucket_by(at: &str, serve: &Serve) -> Result<(), ApiError> {
    let Some(name) = serve.rollout.as_ref().and_then(|rollout| rollout.bucket_by.as_deref()) else { return Ok(()) };
    label(format!("{at}.rollout.bucket_by"), "`bucket_by`", name)?;
    bounded(format!("{at}.rollout.bucket_by"), "`bucket_by`", name)
}

/// Checks the attribute names of rule `rule`'s conditions: an attribute is a name, shown
/// in reviews and the audit log, so it holds no control or bidirectional characters.
/// (Values are data to match as users' contexts hold them, and are left as they are.)
fn attributes(rule: usize, conditions: &[Condition]) -> Result<(), ApiError> {
    for (j, condition) in conditions.iter().enumerate() {
        if let Some(attribute) = &condition.attribute {
            label(format!("rules[{rule}].conditions[{j}].attribute"), "attribute", attribute)?;
        }
    }
    Ok(())
}

/// Checks a segment's description and rule ids.
pub(crate) fn check_segment(segment: &Segment) -> Result<(), ApiError> {
    if let Some(description) = &segment.description {
        prose("description", "the description", description)?;
    }
    for (i, rule) in segment.rules.iter().enumerate() {
        label(format!("rules[{i}].id"), "rule id", &rule.id)?;
        attributes(i, &rule.conditions)?;
    }
    Ok(())
}
