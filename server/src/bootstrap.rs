//! The first run on an empty database: environments `development`, `staging` and
//! `production` (protected), a first admin token and a server SDK key for
//! `development`, all created in one transaction and audited as the actor `pennon`.
//! The secrets are returned once, to be printed; the database keeps only hashes.

use crate::app::AppInner;
use crate::error::ApiError;
use crate::model::{NewEnvironment, NewSdkKey, NewToken, Role, SdkKind};
use crate::service::{access, envs, Actor, Writer};
use crate::store::Lock;

/// What a first run created.
#[derive(Debug, Clone)]
pub struct FirstRun {
    /// The environments created.
    pub environments: Vec<String>,
    /// The admin token (shown once).
    pub admin_token: String,
    /// A server SDK key for `development` (shown once).
    pub sdk_key: String,
    /// The environment of `sdk_key`.
    pub sdk_key_env: String,
}

/// The environments a first run creates, and whether each is protected.
pub const DEFAULT_ENVIRONMENTS: [(&str, bool); 3] = [("development", false), ("staging", false), ("production", true)];

/// Bootstraps an empty database; does nothing (returns `None`) on any later start,
/// including when another instance is bootstrapping the same database concurrently.
pub(crate) async fn run(app: &AppInner) -> Result<Option<FirstRun>, ApiError> {
    let actor = Actor { name: crate::service::access::SYSTEM_ACTOR.into(), request_id: "bootstrap".into() };
    let mut w = Writer::begin(app, &actor, Lock::Catalog).await?;
    if w.tx.meta("bootstrapped").await?.is_some() {
        return Ok(None);
    }
    w.tx.set_meta_once("bootstrapped", &crate::clock::rfc3339(w.now)).await?;
    let mut environments = Vec::new();
    for (name, protected) in DEFAULT_ENVIRONMENTS {
        envs::create_in(&mut w, &NewEnvironment { name: name.into(), protected }).await?;
        environments.push(name.to_owned());
    }
    let admin = NewToken { name: "admin".into(), role: Role::Admin, environments: None };
    let token = access::create_token_in(&mut w, &admin, access::SYSTEM_ACTOR).await?;
    let new_key = NewSdkKey { kind: SdkKind::Server, name: Some("first server key".into()) };
    let sdk_key = access::create_sdk_key_in(&mut w, "development", &new_key, access::SYSTEM_ACTOR).await?;
    w.commit().await?;
    Ok(Some(FirstRun {
        environments,
        admin_token: token.token.unwrap_or_default(),
        sdk_key: sdk_key.key.unwrap_or_default(),
        sdk_key_env: "development".into(),
    }))
}
