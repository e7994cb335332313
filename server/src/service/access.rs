//! API tokens and SDK keys: created with a secret shown once, stored as SHA-256
//! hashes, revoked (never deleted, so the audit log keeps its meaning).

use super::labels::{label, name};
use super::{Actor, Writer};
use crate::app::AppInner;
use crate::clock::{hash_secret, new_secret, rfc3339};
use crate::error::ApiError;
use crate::model::{escaped, same_name, NewSdkKey, NewToken, Role, SdkKey, SdkKind, Token};
use crate::store::{Lock, Notice, SdkKeyRow, TokenRow};

/// Who the audit log names for what the server does itself (first run, re-signing).
pub(crate) const SYSTEM_ACTOR: &str = "pennon";

/// API token secrets start with this.
pub(crate) const TOKEN_PREFIX: &str = crate::model::API_TOKEN_PREFIX;

/// The prefix of an SDK key of `kind`.
pub(crate) fn sdk_prefix(kind: SdkKind) -> &'static str {
    kind.secret_prefix()
}

/// The API form of a token.
pub(crate) fn token_from_row(row: &TokenRow) -> Token {
    Token {
        id: row.id,
        name: row.name.clone(),
        role: Role::parse(&row.role).unwrap_or(Role::Viewer),
        environments: serde_json::from_str(&row.environments).unwrap_or_default(),
        prefix: row.prefix.clone(),
        created_at: rfc3339(row.created_at),
        created_by: row.created_by.clone(),
        revoked_at: row.revoked_at.map(rfc3339),
        token: None,
    }
}

/// The API form of an SDK key.
pub(crate) fn sdk_key_from_row(row: &SdkKeyRow) -> SdkKey {
    SdkKey {
        id: row.id,
        environment: row.env.clone(),
        kind: SdkKind::parse(&row.kind).unwrap_or(SdkKind::Client),
        name: row.name.clone(),
        prefix: row.prefix.clone(),
        created_at: rfc3339(row.created_at),
        created_by: row.created_by.clone(),
        revoked_at: row.revoked_at.map(rfc3339),
        key: None,
    }
}

/// Creates a token inside `w`; the result carries the secret.
pub(crate) async fn create_token_in(w: &mut Writer<'_>, new: &NewToken, created_by: &str) -> Result<Token, ApiError> {
    if new.name.trim().is_empty() || new.name.len() > 128 {
        return Err(ApiError::invalid("name", "a token's name is 1 to 128 bytes: who or what will use it"));
    }
    // The name is who the audit log says acted, and what four-eyes approval compares.
    name("name", "the token's name", &new.name)?;
    if same_name(&new.name, SYSTEM_ACTOR) {
        return Err(ApiError::invalid("name", format!("`{SYSTEM_ACTOR}` is the server's own name in the audit log")));
    }
    let tokens = w.tx.tokens().await?;
    if let Some(live) = tokens.iter().find(|t| t.revoked_at.is_none() && same_name(&t.name, &new.name)) {
        let named = if live.name == new.name { "" } else { " (names that differ only in case are one name)" };
        return Err(ApiError::conflict(format!(
            "a live token is already named `{}`{named}: the audit log and change-request approvals tell people apart \
             by it",
            escaped(&live.name)
        )));
    }
    let environments = new.environments.clone().unwrap_or_else(|| vec!["*".to_owned()]);
    if environments.is_empty() {
        return Err(ApiError::invalid("environments", "name at least one environment, or `*` for all"));
    }
    let known: Vec<String> = w.tx.envs().await?.into_iter().map(|e| e.name).collect();
    for (i, env) in environments.iter().enumerate() {
        if env != "*" && !known.contains(env) {
            return Err(ApiError::invalid(format!("environments[{i}]"), format!("no environment `{env}`")));
        }
    }
    let secret = new_secret(TOKEN_PREFIX).map_err(ApiError::internal)?;
    let mut row = TokenRow {
        id: 0,
        name: new.name.clone(),
        role: new.role.as_str().to_owned(),
        environments: serde_json::to_string(&environments).map_err(ApiError::internal)?,
        prefix: secret.chars().take(TOKEN_PREFIX.len() + 6).collect(),
        created_at: w.now,
        created_by: created_by.to_owned(),
        revoked_at: None,
    };
    row.id = w.tx.insert_token(&row, &hash_secret(&secret)).await?;
    let token = token_from_row(&row);
    w.audit::<Token, Token>("token.create", ("token", &row.id.to_string()), None, None, Some(&token));
    Ok(Token { token: Some(secret), ..token })
}

/// Creates a token.
pub(crate) async fn create_token(app: &AppInner, actor: &Actor, new: &NewToken) -> Result<Token, ApiError> {
    let mut w = Writer::begin(app, actor, Lock::Tokens).await?;
    let token = create_token_in(&mut w, new, &actor.name).await?;
    w.commit().await?;
    Ok(token)
}

/// Revokes a token, unless it is the last admin token for every environment: nothing
/// could then create tokens again.
pub(crate) async fn revoke_token(app: &AppInner, actor: &Actor, id: i64) -> Result<(), ApiError> {
    // Two admins revoking each other's token at once must not both pass.
    let mut w = Writer::begin(app, actor, Lock::Tokens).await?;
    let row = w.tx.token(id).await?.ok_or_else(|| ApiError::not_found(format!("no token {id}")))?;
    if row.revoked_at.is_none() && manages_everything(&row) {
        let others = w.tx.tokens().await?.into_iter().filter(|t| t.id != id && t.revoked_at.is_none());
        if !others.into_iter().any(|t| manages_everything(&t)) {
            return Err(ApiError::conflict(format!(
                "token {id} (`{}`) is the last admin token for every environment: create another one before \
                 revoking it, or nobody could manage tokens again",
                row.name
            )));
        }
    }
    if !w.tx.revoke_token(id, w.now).await? {
        return Err(ApiError::conflict(format!("token {id} is already revoked")));
    }
    w.audit::<Token, Token>("token.revoke", ("token", &id.to_string()), None, Some(&token_from_row(&row)), None);
    w.commit().await?;
    Ok(())
}

/// Whether `row` is an admin token for every environment.
fn manages_everything(row: &TokenRow) -> bool {
    row.role == Role::Admin.as_str() && serde_json::from_str::<Vec<String>>(&row.environments).is_ok_and(|e| e == ["*"])
}

/// Takes deleted environment `env` out of every live token's scope, inside `w`: a name
/// left in a scope would grant the environment created next under it. A token scoped to
/// nothing else is revoked. Each change is audited.
pub(crate) async fn unscope_in(w: &mut Writer<'_>, env: &str) -> Result<(), ApiError> {
    for row in w.tx.tokens().await? {
        let scope: Vec<String> = serde_json::from_str(&row.environments).map_err(ApiError::internal)?;
        if row.revoked_at.is_some() || !scope.iter().any(|e| e == env) {
            continue;
        }
        let before = token_from_row(&row);
        let id = row.id.to_string();
        let rest: Vec<String> = scope.into_iter().filter(|e| e != env).collect();
        if rest.is_empty() {
            w.tx.revoke_token(row.id, w.now).await?;
            w.audit::<Token, Token>("token.revoke", ("token", &id), Some(env), Some(&before), None);
        } else {
            let environments = serde_json::to_string(&rest).map_err(ApiError::internal)?;
            w.tx.set_token_environments(row.id, &environments).await?;
            let after = token_from_row(&TokenRow { environments, ..row });
            w.audit("token.update", ("token", &id), Some(env), Some(&before), Some(&after));
        }
    }
    Ok(())
}

/// Creates an SDK key of `env` inside `w`; the result carries the secret.
pub(crate) async fn create_sdk_key_in(
    w: &mut Writer<'_>,
    env: &str,
    new: &NewSdkKey,
    created_by: &str,
) -> Result<SdkKey, ApiError> {
    w.tx.env(env).await?.ok_or_else(|| ApiError::no_environment(env))?;
    let name = new.name.clone().unwrap_or_else(|| new.kind.as_str().to_owned());
    if name.trim().is_empty() || name.len() > 128 {
        return Err(ApiError::invalid("name", "an SDK key's name is 1 to 128 bytes"));
    }
    label("name", "the SDK key's name", &name)?;
    let secret = new_secret(sdk_prefix(new.kind)).map_err(ApiError::internal)?;
    let mut row = SdkKeyRow {
        id: 0,
        env: env.to_owned(),
        kind: new.kind.as_str().to_owned(),
        name,
        prefix: secret.chars().take(10).collect(),
        created_at: w.now,
        created_by: created_by.to_owned(),
        revoked_at: None,
    };
    row.id = w.tx.insert_sdk_key(&row, &hash_secret(&secret)).await?;
    let key = sdk_key_from_row(&row);
    w.audit::<SdkKey, SdkKey>("sdk_key.create", ("sdk_key", &row.id.to_string()), Some(env), None, Some(&key));
    Ok(SdkKey { key: Some(secret), ..key })
}

/// Creates an SDK key.
pub(crate) async fn create_sdk_key(
    app: &AppInner,
    actor: &Actor,
    env: &str,
    new: &NewSdkKey,
) -> Result<SdkKey, ApiError> {
    let mut w = Writer::begin(app, actor, Lock::None).await?;
    let key = create_sdk_key_in(&mut w, env, new, &actor.name).await?;
    w.commit().await?;
    Ok(key)
}

/// Revokes an SDK key; every instance drops it, and it alone, from its cache.
pub(crate) async fn revoke_sdk_key(app: &AppInner, actor: &Actor, env: &str, id: i64) -> Result<(), ApiError> {
    let mut w = Writer::begin(app, actor, Lock::None).await?;
    let keys = w.tx.sdk_keys(env).await?;
    let row =
        keys.iter().find(|k| k.id == id).ok_or_else(|| ApiError::not_found(format!("no SDK key {id} in `{env}`")))?;
    let Some(key_hash) = w.tx.revoke_sdk_key(env, id, w.now).await? else {
        return Err(ApiError::conflict(format!("SDK key {id} is already revoked")));
    };
    w.tx.notify(&Notice::KeyRevoked { key_hash: key_hash.clone() }).await?;
    let before = sdk_key_from_row(row);
    w.audit::<SdkKey, SdkKey>("sdk_key.revoke", ("sdk_key", &id.to_string()), Some(env), Some(&before), None);
    w.commit().await?;
    app.sdk_keys.revoked(&key_hash);
    Ok(())
}
