//! Rollback: republish the content of an earlier snapshot as a new, higher version.
//!
//! Clients refuse lower versions, so a rollback never re-serves the old envelope; it
//! restores the environment's state (flag configurations and segments) to what that
//! version published and publishes it as the next version. Later edits then start
//! from the restored state. Flag definitions are shared by every environment and are
//! not rolled back: a flag created since is disabled, its targeting kept along with the
//! segments created since that it names (enabled again, it serves its rules), and a
//! flag deleted since, or whose variants changed since, makes the rollback fail with
//! 409. Versions published by an earlier environment of the same name (deleted, then
//! created again) are not offered: restoring one would revive what its deletion
//! removed. Nor are versions snapshot retention deleted: the refusal names the oldest
//! one kept.

use std::collections::{BTreeMap, BTreeSet};

use axum::http::StatusCode;
use serde_json::{json, Map, Value as Json};

use super::ops::Applied;
use super::{etag_env, IfMatch, Writer};
use crate::error::ApiError;
use crate::model::{FlagConfig, Segment};
use crate::snapshot::{decode_envelope_payload, flag_from_row, segment_names};
use crate::store::{to_i64, to_u64};

/// The members of a payload flag that are its per-environment configuration.
const CONFIG_MEMBERS: [&str; 7] =
    ["enabled", "off_variant", "fallthrough", "targets", "rules", "prerequisites", "metadata"];

/// Restores `env` to the content of `to_version` and marks it for publishing.
pub(crate) async fn rollback(
    w: &mut Writer<'_>,
    env: &str,
    to_version: u64,
    if_match: &IfMatch,
) -> Result<Applied, ApiError> {
    let row = w.tx.env(env).await?.ok_or_else(|| ApiError::no_environment(env))?;
    if_match.check(&etag_env(row.version, row.rev))?;
    let created = to_u64(row.base_version) + 1;
    let kept = w.tx.oldest_kept(env, "server", row.base_version).await?.map_or(created, to_u64);
    let first = created.max(kept);
    let latest = to_u64(row.version);
    if to_version >= latest || to_version < first {
        let range = if first < latest { format!("{first} to {}", latest - 1) } else { "none yet".to_owned() };
        // Versions up to `base_version` were published by an environment of the same
        // name that has been deleted since: restoring one would revive its content.
        let why = if to_version != 0 && to_version < created {
            format!("version {to_version} was published before `{env}` was created again")
        } else if to_version != 0 && to_version < first {
            let policy = w.retention().map_or_else(|| "what its settings say".to_owned(), |r| r.describe());
            format!(
                "version {to_version} of `{env}` is no longer kept: snapshot retention deleted it (this server \
                 keeps {policy}); the oldest kept is version {first}"
            )
        } else {
            format!("roll back to an earlier version of `{env}`")
        };
        return Err(ApiError::invalid("to_version", format!("{why}; versions to roll back to: {range}")));
    }
    let snapshot =
        w.tx.snapshot(env, "server", to_i64(to_version))
            .await?
            .ok_or_else(|| ApiError::invalid("to_version", format!("`{env}` has no snapshot version {to_version}")))?;
    let payload: Json =
        serde_json::from_slice(&decode_envelope_payload(&snapshot.envelope)?).map_err(ApiError::internal)?;
    let old_flags = payload.get("flags").and_then(Json::as_object).cloned().unwrap_or_default();
    let old_segments = payload.get("segments").and_then(Json::as_object).cloned().unwrap_or_default();

    let mut flags = BTreeMap::new();
    for flag in w.tx.flags().await? {
        flags.insert(flag.key.clone(), flag_from_row(&flag)?);
    }
    for (key, old) in &old_flags {
        let Some(current) = flags.get(key) else {
            return Err(ApiError::conflict(format!(
                "flag `{key}` was in version {to_version} but has been deleted since; create it again first"
            )));
        };
        let same = old.get("type").and_then(Json::as_str) == Some(current.kind.as_str())
            && old.get("variants") == current.variants.as_ref().map(|v| json!(v)).as_ref();
        if !same {
            return Err(ApiError::conflict(format!(
                "the type or variants of flag `{key}` changed since version {to_version}; a rollback restores \
                 configurations, not definitions"
            )));
        }
    }
    // The configurations of flags created since, kept but disabled.
    let mut newer_configs = Vec::new();
    for (key, flag) in &flags {
        let current = w.tx.config(env, key).await?;
        let rev = current.as_ref().map_or(0, |c| c.rev);
        let restored: FlagConfig = match old_flags.get(key) {
            Some(old) => config_of(old)?,
            None => match &current {
                Some(c) => {
                    let kept =
                        FlagConfig { enabled: false, ..serde_json::from_str(&c.config).map_err(ApiError::internal)? };
                    newer_configs.push(kept.clone());
                    kept
                }
                None => crate::snapshot::default_config(&flag.variants_or_default().unwrap_or_default()),
            },
        };
        let text = serde_json::to_string(&restored).map_err(ApiError::internal)?;
        if current.as_ref().map(|c| &c.config) != Some(&text) {
            let rev = w.next_rev(rev);
            w.tx.put_config(env, key, &text, rev, w.now).await?;
        }
    }
    let mut current_segments = BTreeMap::new();
    for segment in w.tx.segments(env).await? {
        let parsed: Segment = serde_json::from_str(&segment.body).map_err(ApiError::internal)?;
        current_segments.insert(segment.key.clone(), (parsed, segment.rev));
    }
    let kept = kept_segments(&newer_configs, &current_segments, &old_segments);
    let mut descriptions = BTreeMap::new();
    for (key, (segment, rev)) in current_segments {
        if !old_segments.contains_key(&key) && !kept.contains(&key) {
            w.tx.delete_segment(env, &key).await?;
        }
        descriptions.insert(key, (segment.description, rev));
    }
    for (key, old) in &old_segments {
        let (description, rev) = descriptions.remove(key).unwrap_or((None, 0));
        let mut restored: Segment = serde_json::from_value(old.clone()).map_err(ApiError::internal)?;
        restored.key = key.clone();
        restored.description = description;
        let text = serde_json::to_string(&restored).map_err(ApiError::internal)?;
        let rev = w.next_rev(rev);
        w.tx.put_segment(env, key, &text, rev, w.now).await?;
    }
    w.publish(env);
    let before = json!({ "version": row.version });
    let after = json!({ "restored_version": to_version, "kept_segments": kept });
    w.audit("rollback", ("environment", env), Some(env), Some(&before), Some(&after));
    Ok(Applied {
        status: StatusCode::OK,
        body: Some(json!({ "environment": env, "restored_version": to_version, "kept_segments": kept })),
        etag: None,
        version: None,
    })
}

/// The segments the restored version (`old`) did not have that stay as they are: those
/// the kept rules of flags created since (`newer`) name, directly or through other kept
/// segments. Deleting them would leave those rules naming nothing, a snapshot that
/// cannot publish. A segment the old version had is restored instead, and its rules
/// name only segments that version had.
fn kept_segments(
    newer: &[FlagConfig],
    current: &BTreeMap<String, (Segment, i64)>,
    old: &Map<String, Json>,
) -> BTreeSet<String> {
    let mut pending: Vec<String> =
        newer.iter().flat_map(|config| &config.rules).flat_map(|rule| segment_names(&rule.conditions)).collect();
    let mut kept = BTreeSet::new();
    while let Some(name) = pending.pop() {
        if old.contains_key(&name) || kept.contains(&name) {
            continue;
        }
        if let Some((segment, _)) = current.get(&name) {
            pending.extend(segment.rules.iter().flat_map(|rule| segment_names(&rule.conditions)));
            kept.insert(name);
        }
    }
    kept
}

/// The configuration members of a payload flag.
fn config_of(flag: &Json) -> Result<FlagConfig, ApiError> {
    let members: Map<String, Json> = flag
        .as_object()
        .map(|m| {
            m.iter()
                .filter(|(k, _)| CONFIG_MEMBERS.contains(&k.as_str()))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect()
        })
        .unwrap_or_default();
    serde_json::from_value(Json::Object(members)).map_err(ApiError::internal)
}
