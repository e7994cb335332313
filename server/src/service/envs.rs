//! Environments: created (with every flag disabled), protected or not, deleted.

use axum::http::StatusCode;

use super::{etag_env, Actor, IfMatch, Writer};
use crate::app::AppInner;
use crate::clock::rfc3339;
use crate::error::ApiError;
use crate::model::{check_key, EnvPatch, Environment, FlagConfig, NewEnvironment};
use crate::snapshot::{default_config, flag_from_row};
use crate::store::{to_i64, to_u64, EnvRow, Lock, Notice};

/// The API form of an environment and its ETag.
pub(crate) fn from_row(row: &EnvRow) -> (Environment, String) {
    let env = Environment {
        name: row.name.clone(),
        protected: row.protected,
        version: to_u64(row.version),
        created_at: rfc3339(row.created_at),
    };
    (env, etag_env(row.version, row.rev))
}

/// Creates an environment inside `w` (which holds the catalog lock) and publishes its
/// first snapshot. A re-created environment continues after its old versions, those in
/// the export directory too (the database may be a restored backup that never saw
/// them), so clients that remember them do not see a rollback.
pub(crate) async fn create_in(w: &mut Writer<'_>, new: &NewEnvironment) -> Result<(), ApiError> {
    check_key(&new.name).map_err(|why| ApiError::invalid("name", format!("environment name `{}` {why}", new.name)))?;
    if w.tx.env(&new.name).await?.is_some() {
        return Err(ApiError::conflict(format!("environment `{}` already exists", new.name)).at("name"));
    }
    let exported = to_i64(w.exported_version(&new.name));
    let previous = w.tx.max_snapshot_version(&new.name).await?.max(exported);
    w.tx.insert_env(&new.name, new.protected, previous, w.now).await?;
    for flag in w.tx.flags().await? {
        let config: FlagConfig = default_config(&flag_from_row(&flag)?.variants_or_default().unwrap_or_default());
        let text = serde_json::to_string(&config).map_err(ApiError::internal)?;
        let rev = w.next_rev(0);
        w.tx.put_config(&new.name, &flag.key, &text, rev, w.now).await?;
    }
    w.publish(&new.name);
    w.audit::<NewEnvironment, NewEnvironment>(
        "environment.create",
        ("environment", &new.name),
        Some(&new.name),
        None,
        Some(new),
    );
    Ok(())
}

/// Creates an environment.
pub(crate) async fn create(
    app: &AppInner,
    actor: &Actor,
    new: &NewEnvironment,
) -> Result<(Environment, String), ApiError> {
    let mut w = Writer::begin(app, actor, Lock::Catalog).await?;
    create_in(&mut w, new).await?;
    w.commit().await?;
    let row = app.store.read().await?.env(&new.name).await?;
    row.map(|r| from_row(&r)).ok_or_else(|| ApiError::internal("environment vanished"))
}

/// Protects or unprotects an environment.
pub(crate) async fn patch(
    app: &AppInner,
    actor: &Actor,
    name: &str,
    patch: &EnvPatch,
    if_match: &IfMatch,
) -> Result<(Environment, String), ApiError> {
    if_match.required()?;
    let mut w = Writer::begin(app, actor, Lock::Envs(vec![name.to_owned()])).await?;
    let row = w.tx.env(name).await?.ok_or_else(|| ApiError::not_found(format!("no environment `{name}`")))?;
    if_match.check(&etag_env(row.version, row.rev))?;
    if row.protected == patch.protected {
        return Ok(from_row(&row)); // already so: no audit entry
    }
    w.tx.set_env_protected(name, patch.protected).await?;
    let after = w.tx.env(name).await?.ok_or_else(|| ApiError::internal("environment vanished"))?;
    let (before_json, after_json) = (from_row(&row).0, from_row(&after).0);
    w.audit("environment.update", ("environment", name), Some(name), Some(&before_json), Some(&after_json));
    w.commit().await?;
    Ok(from_row(&after))
}

/// Deletes an unprotected environment with its configurations, segments and SDK keys,
/// and takes it out of API tokens' scopes (`access::unscope_in`). Its published
/// snapshots stay, as retention allows (always the newest, which a new environment of
/// the same name continues after).
pub(crate) async fn delete(
    app: &AppInner,
    actor: &Actor,
    name: &str,
    if_match: &IfMatch,
) -> Result<StatusCode, ApiError> {
    if_match.required()?;
    let mut w = Writer::begin(app, actor, Lock::Catalog).await?;
    let row = w.tx.env(name).await?.ok_or_else(|| ApiError::not_found(format!("no environment `{name}`")))?;
    if_match.check(&etag_env(row.version, row.rev))?;
    if row.protected {
        return Err(ApiError::conflict(format!("environment `{name}` is protected: unprotect it before deleting it")));
    }
    super::changes::reject_all_in(&mut w, name).await?;
    w.tx.delete_env(name).await?;
    super::access::unscope_in(&mut w, name).await?;
    w.tx.notify(&Notice::EnvDeleted { env: name.to_owned() }).await?;
    w.audit::<Environment, Environment>(
        "environment.delete",
        ("environment", name),
        Some(name),
        Some(&from_row(&row).0),
        None,
    );
    w.commit().await?;
    app.hub.remove(name);
    app.sdk_keys.env_deleted(name);
    app.telemetry.forget_env(name).await;
    Ok(StatusCode::NO_CONTENT)
}
