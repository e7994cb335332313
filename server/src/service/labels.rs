//! Names, labels and descriptions of a write checked for characters that would reach a
//! terminal or a log as they are (see [`crate::model::check_label`]): refused with a
//! 422 naming the field, the character and where it is.

use crate::error::ApiError;
use crate::model::{check_label, check_prose, FlagConfig, Segment};

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

/// Checks the rule ids and metadata names of a configuration someone sends. (Variant
/// names in it must be the flag's own, which were checked with the flag.)
pub(crate) fn check_config(config: &FlagConfig) -> Result<(), ApiError> {
    for (i, rule) in config.rules.iter().enumerate() {
        label(format!("rules[{i}].id"), "rule id", &rule.id)?;
    }
    for name in config.metadata.keys() {
        label(format!("metadata[{name:?}]"), "metadata name", name)?;
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
    }
    Ok(())
}
