//! Flag definitions: created, replaced and deleted across every environment at once.
//!
//! A definition change publishes every environment, under the catalog lock. Creating a
//! flag changes no behaviour (it starts disabled everywhere), so it needs no change
//! request even where environments are protected; changing the variants of, or
//! deleting, a flag that is enabled in a protected environment is refused until it is
//! disabled there (through a change request).

use std::collections::BTreeMap;

use serde_json::{json, Value as Json};

use super::labels::{label, name, prose};
use super::{etag_rev, Actor, IfMatch, Writer};
use crate::app::AppInner;
use crate::error::ApiError;
use crate::model::{check_key, Flag, FlagConfig};
use crate::snapshot::{initial_config, Focus};
use crate::store::{FlagRow, Lock};

/// Checks with [`name`] the variant names `variants` brings in: those the stored
/// definition `before` has already stay, as earlier releases accepted them (a flag
/// enabled in a protected environment could not otherwise change at all, since its
/// variants cannot be renamed there).
fn check_new_variant_names(variants: &BTreeMap<String, Json>, before: Option<&Flag>) -> Result<(), ApiError> {
    let stored = before.and_then(|flag| flag.variants.as_ref());
    for variant in variants.keys().filter(|variant| !stored.is_some_and(|stored| stored.contains_key(*variant))) {
        name(format!("variants[{variant:?}]"), "the variant name", variant)?;
    }
    Ok(())
}

/// Checks a definition's own fields; the core checks the variants' values.
fn validate(flag: &Flag) -> Result<BTreeMap<String, Json>, ApiError> {
    check_key(&flag.key).map_err(|why| ApiError::invalid("key", format!("flag key `{}` {why}", flag.key)))?;
    let variants = flag.variants_or_default().ok_or_else(|| {
        ApiError::invalid(
            "variants",
            format!("{} flags need their variants: an object of name to value", flag.kind.as_str()),
        )
    })?;
    if variants.is_empty() {
        return Err(ApiError::invalid("variants", "a flag needs at least one variant"));
    }
    if let Some(name) = variants.keys().find(|name| name.is_empty() || name.len() > 256) {
        return Err(ApiError::invalid(format!("variants[{name:?}]"), "variant names are 1 to 256 bytes"));
    }
    for name in variants.keys() {
        label(format!("variants[{name:?}]"), "the variant name", name)?;
    }
    if let Some(expires_at) = &flag.expires_at {
        pennon_core::parse_rfc3339(expires_at).map_err(|e| ApiError::invalid("expires_at", e.to_string()))?;
    }
    if let Some((i, _)) = flag.tags.iter().enumerate().find(|(_, tag)| tag.is_empty() || tag.len() > 128) {
        return Err(ApiError::invalid(format!("tags[{i}]"), "tags are 1 to 128 bytes"));
    }
    // Results carry tags joined by commas (SPEC 5.2): `a,b` would read as two tags.
    if let Some((i, _)) = flag.tags.iter().enumerate().find(|(_, tag)| tag.contains(',')) {
        return Err(ApiError::invalid(
            format!("tags[{i}]"),
            "a tag cannot hold a comma: results list tags joined by commas",
        ));
    }
    for (i, tag) in flag.tags.iter().enumerate() {
        label(format!("tags[{i}]"), "the tag", tag)?;
    }
    for (field, text) in [("description", &flag.description), ("owner", &flag.owner)] {
        if text.as_ref().is_some_and(|t| t.len() > 4096) {
            return Err(ApiError::invalid(field, "at most 4096 bytes"));
        }
    }
    if let Some(owner) = &flag.owner {
        label("owner", "the owner", owner)?;
    }
    if let Some(description) = &flag.description {
        prose("description", "the description", description)?;
    }
    Ok(variants)
}

fn to_row(flag: &Flag, variants: &BTreeMap<String, Json>, rev: i64, created_at: i64, now: i64) -> FlagRow {
    FlagRow {
        key: flag.key.clone(),
        kind: flag.kind.as_str().to_owned(),
        variants: serde_json::to_string(variants).unwrap_or_default(),
        description: flag.description.clone(),
        owner: flag.owner.clone(),
        tags: serde_json::to_string(&flag.tags).unwrap_or_default(),
        temporary: flag.temporary,
        expires_at: flag.expires_at.clone(),
        client_visible: flag.client_visible,
        rev,
        definition_rev: rev,
        created_at,
        updated_at: now,
    }
}

/// Creates a flag, disabled in every environment, serving `off_variant` there (default:
/// [`initial_config`]'s). Returns it and its ETag.
pub(crate) async fn create(
    app: &AppInner,
    actor: &Actor,
    mut flag: Flag,
    off_variant: Option<&str>,
) -> Result<(Flag, String), ApiError> {
    let variants = validate(&flag)?;
    check_new_variant_names(&variants, None)?;
    if let Some(off) = off_variant.filter(|off| !variants.contains_key(*off)) {
        let names: Vec<String> = variants.keys().map(|name| format!("`{name}`")).collect();
        return Err(ApiError::invalid(
            "off_variant",
            format!("`{off}` is not one of the variants; name one of {}", names.join(", ")),
        ));
    }
    flag.variants = Some(variants.clone());
    let mut w = Writer::begin(app, actor, Lock::Catalog).await?;
    w.focus = Focus::Flag(flag.key.clone());
    if w.tx.flag(&flag.key).await?.is_some() {
        return Err(ApiError::conflict(format!("flag `{}` already exists", flag.key)).at("key"));
    }
    let rev = w.next_rev(0);
    w.tx.put_flag(&to_row(&flag, &variants, rev, w.now, w.now)).await?;
    let config = initial_config(&variants, off_variant);
    let config_text = serde_json::to_string(&config).map_err(ApiError::internal)?;
    for env in w.tx.envs().await? {
        w.tx.put_config(&env.name, &flag.key, &config_text, rev, w.now).await?;
        w.publish(&env.name);
        let after = json!({ "flag": flag, "config": config });
        w.audit::<Json, Json>("flag.create", ("flag", &flag.key), Some(&env.name), None, Some(&after));
    }
    w.commit().await?;
    Ok((flag, etag_rev(rev)))
}

/// Replaces a definition. Returns it and its new ETag.
pub(crate) async fn update(
    app: &AppInner,
    actor: &Actor,
    key: &str,
    mut flag: Flag,
    if_match: &IfMatch,
) -> Result<(Flag, String), ApiError> {
    if flag.key.is_empty() {
        flag.key = key.to_owned();
    } else if flag.key != key {
        return Err(ApiError::invalid("key", format!("the body names flag `{}`, the path `{key}`", flag.key)));
    }
    if_match.required()?;
    let variants = validate(&flag)?;
    flag.variants = Some(variants.clone());
    let mut w = Writer::begin(app, actor, Lock::Catalog).await?;
    w.focus = Focus::Flag(key.to_owned());
    let row = w.tx.flag(key).await?.ok_or_else(|| ApiError::not_found(format!("no flag `{key}`")))?;
    if_match.check(&etag_rev(row.rev))?;
    let before = crate::snapshot::flag_from_row(&row)?;
    check_new_variant_names(&variants, Some(&before))?;
    if before == flag {
        // A repeated PUT changes nothing: no revision, snapshot or audit entry.
        return Ok((flag, etag_rev(row.rev)));
    }
    let values_changed = before.kind != flag.kind || before.variants != flag.variants;
    let serving_changed = values_changed || before.client_visible != flag.client_visible;
    if serving_changed {
        refuse_if_enabled_in_protected(&mut w, key, "change the type, variants or client visibility of").await?;
    }
    if values_changed {
        refuse_if_off_value_changes_in_protected(&mut w, key, &before, &flag).await?;
    }
    let rev = w.next_rev(row.rev);
    let mut new_row = to_row(&flag, &variants, rev, row.created_at, w.now);
    if !serving_changed {
        new_row.definition_rev = row.definition_rev;
    }
    w.tx.put_flag(&new_row).await?;
    for env in w.tx.envs().await? {
        w.publish(&env.name);
        w.audit("flag.update", ("flag", key), Some(&env.name), Some(&before), Some(&flag));
    }
    w.commit().await?;
    Ok((flag, etag_rev(rev)))
}

/// Deletes a flag everywhere.
pub(crate) async fn delete(app: &AppInner, actor: &Actor, key: &str, if_match: &IfMatch) -> Result<(), ApiError> {
    if_match.required()?;
    let mut w = Writer::begin(app, actor, Lock::Catalog).await?;
    w.focus = Focus::Flag(key.to_owned());
    let row = w.tx.flag(key).await?.ok_or_else(|| ApiError::not_found(format!("no flag `{key}`")))?;
    if_match.check(&etag_rev(row.rev))?;
    refuse_if_enabled_in_protected(&mut w, key, "delete").await?;
    let before = crate::snapshot::flag_from_row(&row)?;
    let envs = w.tx.envs().await?;
    for env in &envs {
        for config in w.tx.configs(&env.name).await? {
            let config: FlagConfig = serde_json::from_str(&config.config).map_err(ApiError::internal)?;
            if let Some(p) = config.prerequisites.iter().find(|p| p.flag == key) {
                return Err(ApiError::conflict(format!(
                    "flag `{key}` is a prerequisite (for variant `{}`) of another flag in `{}`; remove that \
                     prerequisite first",
                    p.variant, env.name
                )));
            }
        }
    }
    w.tx.delete_flag(key).await?;
    for env in &envs {
        w.publish(&env.name);
        w.audit::<Flag, Flag>("flag.delete", ("flag", key), Some(&env.name), Some(&before), None);
    }
    w.commit().await?;
    let names: Vec<String> = envs.into_iter().map(|env| env.name).collect();
    app.telemetry.forget_flag(&names, key).await;
    Ok(())
}

/// A flag disabled in a protected environment serves its off variant there: that
/// variant's value (or type) cannot change without that environment's approval.
async fn refuse_if_off_value_changes_in_protected(
    w: &mut Writer<'_>,
    key: &str,
    before: &Flag,
    after: &Flag,
) -> Result<(), ApiError> {
    let protected: Vec<String> = w.tx.envs().await?.into_iter().filter(|e| e.protected).map(|e| e.name).collect();
    let (old, new) =
        (before.variants_or_default().unwrap_or_default(), after.variants_or_default().unwrap_or_default());
    for config in w.tx.flag_configs(key).await? {
        let Ok(config_value) = serde_json::from_str::<FlagConfig>(&config.config) else { continue };
        let off = &config_value.off_variant;
        if protected.contains(&config.env) && (before.kind != after.kind || old.get(off) != new.get(off)) {
            return Err(ApiError::conflict(format!(
                "flag `{key}` serves its off variant `{off}` in protected environment `{}`: changing that \
                 variant's value or the flag's type would change what it serves without approval; change \
                 the off variant there (through a change request) first",
                config.env
            )));
        }
    }
    Ok(())
}

async fn refuse_if_enabled_in_protected(w: &mut Writer<'_>, key: &str, what: &str) -> Result<(), ApiError> {
    let protected: Vec<String> = w.tx.envs().await?.into_iter().filter(|e| e.protected).map(|e| e.name).collect();
    for config in w.tx.flag_configs(key).await? {
        let enabled = serde_json::from_str::<FlagConfig>(&config.config).map(|c| c.enabled).unwrap_or(true);
        if enabled && protected.contains(&config.env) {
            return Err(ApiError::conflict(format!(
                "flag `{key}` is enabled in protected environment `{}`: disable it there (through a change \
                 request) before you {what} it",
                config.env
            )));
        }
    }
    Ok(())
}
