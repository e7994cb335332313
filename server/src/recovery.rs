//! Break-glass: a new admin token made directly in the database, for when every admin
//! token is lost (`pennon admin-token`).
//!
//! The first run prints its admin token once, the database keeps only a hash, and
//! every admin route needs an admin token: without this, a lost token meant starting
//! over. Whoever can open the database can already read and change everything in it,
//! so a command run with that access (as Grafana's `grafana cli admin
//! reset-admin-password` and GitLab's rake task are) grants nothing new, and leaves no
//! long-lived secret in a configuration file (as the bootstrap tokens of Flipt and
//! Unleash do). The token is made by the service code the API uses, so its name rules,
//! hashing and audit entry are the API's.

use crate::clock::now_ms;
use crate::error::ApiError;
use crate::model::{same_name, NewToken, Role};
use crate::service::access::{self, SYSTEM_ACTOR};
use crate::service::{Actor, Writer};
use crate::store::{Lock, Repository};

/// The name a recovered token gets unless one is asked for; when a live token has it,
/// the first free of `recovered-admin-2`, `-3`, ...
const RECOVERED_NAME: &str = "recovered-admin";

/// The request id of the audit entry starts with this: `admin-token-<Unix ms>`.
const REQUEST_ID_PREFIX: &str = "admin-token-";

/// An admin token made by [`recover_admin_token`].
#[derive(Debug, Clone)]
pub struct RecoveredToken {
    /// Its id (for `pennon tokens revoke`).
    pub id: i64,
    /// Its name, the actor its audit entries will name.
    pub name: String,
    /// The secret, shown once.
    pub secret: String,
    /// The request id of the audit entry that records its creation.
    pub request_id: String,
}

/// Why [`recover_admin_token`] made no token.
#[derive(Debug)]
pub enum RecoveryError {
    /// No bootstrapped Pennon database at the URL, or it could not be opened; the
    /// message says which, and what to do. Nothing was created.
    Database(String),
    /// The token was refused (a name taken or not allowed) or could not be written.
    Refused(ApiError),
}

/// Creates an admin token for every environment in the database at `database_url`
/// (which a first run must have bootstrapped), named `name` or `recovered-admin` (the
/// first free of `recovered-admin-2`, `-3`, ... when a live token has it). Its audit
/// entry names the actor `pennon`, as for what the first run creates, with the request
/// id `admin-token-<Unix ms>`: no API token made the request. Safe
/// while servers run on the database: their token lookups read the database on each
/// request, so they accept the token at once.
pub async fn recover_admin_token(database_url: &str, name: Option<&str>) -> Result<RecoveredToken, RecoveryError> {
    let store = crate::store::open_bootstrapped(database_url).await.map_err(RecoveryError::Database)?;
    let made = create(store.as_ref(), name).await.map_err(RecoveryError::Refused);
    store.close().await;
    made
}

async fn create(store: &dyn Repository, name: Option<&str>) -> Result<RecoveredToken, ApiError> {
    let actor = Actor { name: SYSTEM_ACTOR.into(), request_id: format!("{REQUEST_ID_PREFIX}{}", now_ms()) };
    let mut w = Writer::offline(store, &actor, Lock::Tokens).await?;
    let name = match name {
        Some(name) => name.to_owned(),
        None => {
            let live: Vec<String> =
                w.tx.tokens().await?.into_iter().filter(|t| t.revoked_at.is_none()).map(|t| t.name).collect();
            free_name(&live)
        }
    };
    let new = NewToken { name, role: Role::Admin, environments: None };
    let token = access::create_token_in(&mut w, &new, SYSTEM_ACTOR).await?;
    w.commit().await?;
    Ok(RecoveredToken {
        id: token.id,
        name: token.name,
        secret: token.token.unwrap_or_default(),
        request_id: actor.request_id,
    })
}

/// [`RECOVERED_NAME`], or the first of `recovered-admin-2`, `-3`, ... that no name in
/// `live` has (in any case: token names compare without it).
fn free_name(live: &[String]) -> String {
    let mut n = 1;
    loop {
        let candidate = if n == 1 { RECOVERED_NAME.to_owned() } else { format!("{RECOVERED_NAME}-{n}") };
        if !live.iter().any(|name| same_name(name, &candidate)) {
            return candidate;
        }
        n += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::free_name;

    #[test]
    fn the_first_free_name_is_taken() {
        let live = |names: &[&str]| names.iter().map(|n| (*n).to_owned()).collect::<Vec<_>>();
        assert_eq!(free_name(&live(&["admin"])), "recovered-admin");
        assert_eq!(free_name(&live(&["recovered-admin"])), "recovered-admin-2");
        assert_eq!(free_name(&live(&["recovered-admin", "recovered-admin-2"])), "recovered-admin-3");
        assert_eq!(free_name(&live(&["recovered-admin-2"])), "recovered-admin");
        assert_eq!(free_name(&live(&["Recovered-Admin"])), "recovered-admin-2");
    }
}
