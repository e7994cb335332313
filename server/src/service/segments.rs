//! Segment operations within one environment.

use axum::http::StatusCode;

use super::labels::check_segment;
use super::ops::Applied;
use super::{etag_rev, to_json, IfMatch, Writer};
use crate::error::ApiError;
use crate::model::{check_key, FlagConfig, Op, Segment};
use crate::snapshot::Focus;

/// Creates a segment.
pub(crate) async fn create(w: &mut Writer<'_>, env: &str, segment: &Segment) -> Result<Applied, ApiError> {
    check_key(&segment.key).map_err(|why| ApiError::invalid("key", format!("segment key `{}` {why}", segment.key)))?;
    check_segment(segment)?;
    w.focus = Focus::Segment(segment.key.clone());
    if w.tx.segment(env, &segment.key).await?.is_some() {
        return Err(ApiError::conflict(format!("segment `{}` already exists in `{env}`", segment.key)).at("key"));
    }
    let rev = w.next_rev(0);
    store(w, env, segment, rev).await?;
    w.audit::<Segment, Segment>("segment.create", ("segment", &segment.key), Some(env), None, Some(segment));
    Ok(Applied { status: StatusCode::CREATED, body: Some(to_json(segment)?), etag: Some(etag_rev(rev)), version: None })
}

/// Replaces a segment.
pub(crate) async fn update(
    w: &mut Writer<'_>,
    env: &str,
    segment: &Segment,
    if_match: &IfMatch,
) -> Result<Applied, ApiError> {
    check_segment(segment)?;
    w.focus = Focus::Segment(segment.key.clone());
    let row =
        w.tx.segment(env, &segment.key)
            .await?
            .ok_or_else(|| ApiError::not_found(format!("no segment `{}` in `{env}`", segment.key)))?;
    if_match.check(&etag_rev(row.rev))?;
    let before: Segment = serde_json::from_str(&row.body).map_err(ApiError::internal)?;
    if before == *segment {
        let etag = Some(etag_rev(row.rev)); // a repeated PUT: nothing changes
        return Ok(Applied { status: StatusCode::OK, body: Some(to_json(segment)?), etag, version: None });
    }
    let rev = w.next_rev(row.rev);
    store(w, env, segment, rev).await?;
    w.audit("segment.update", ("segment", &segment.key), Some(env), Some(&before), Some(segment));
    Ok(Applied { status: StatusCode::OK, body: Some(to_json(segment)?), etag: Some(etag_rev(rev)), version: None })
}

/// Deletes a segment that nothing uses.
pub(crate) async fn delete(w: &mut Writer<'_>, env: &str, key: &str, if_match: &IfMatch) -> Result<Applied, ApiError> {
    w.focus = Focus::Segment(key.to_owned());
    let row =
        w.tx.segment(env, key).await?.ok_or_else(|| ApiError::not_found(format!("no segment `{key}` in `{env}`")))?;
    if_match.check(&etag_rev(row.rev))?;
    for config in w.tx.configs(env).await? {
        let parsed: FlagConfig = serde_json::from_str(&config.config).map_err(ApiError::internal)?;
        let rules = parsed.rules.iter().map(|rule| (&rule.id, &rule.conditions));
        if let Some((rule, _)) = rules.into_iter().find(|(_, conditions)| uses(conditions, key)) {
            return Err(ApiError::conflict(format!(
                "segment `{key}` is used by rule `{rule}` of flag `{}` in `{env}`; change that rule first",
                config.flag
            )));
        }
    }
    for other in w.tx.segments(env).await? {
        let parsed: Segment = serde_json::from_str(&other.body).map_err(ApiError::internal)?;
        if other.key != key && parsed.rules.iter().any(|rule| uses(&rule.conditions, key)) {
            return Err(ApiError::conflict(format!("segment `{key}` is used by segment `{}` in `{env}`", other.key)));
        }
    }
    let before: Segment = serde_json::from_str(&row.body).map_err(ApiError::internal)?;
    w.tx.delete_segment(env, key).await?;
    w.publish(env);
    w.audit::<Segment, Segment>("segment.delete", ("segment", key), Some(env), Some(&before), None);
    Ok(Applied { status: StatusCode::NO_CONTENT, body: None, etag: None, version: None })
}

fn uses(conditions: &[crate::model::Condition], key: &str) -> bool {
    conditions.iter().filter(|c| matches!(c.op, Op::InSegment | Op::NotInSegment)).any(|c| match &c.value {
        Some(serde_json::Value::String(name)) => name == key,
        Some(serde_json::Value::Array(names)) => names.iter().any(|n| n.as_str() == Some(key)),
        _ => false,
    })
}

async fn store(w: &mut Writer<'_>, env: &str, segment: &Segment, rev: i64) -> Result<(), ApiError> {
    let text = serde_json::to_string(segment).map_err(ApiError::internal)?;
    w.tx.put_segment(env, &segment.key, &text, rev, w.now).await?;
    w.publish(env);
    Ok(())
}
