//! What the stale-flag report reads from the audit log, for all the flags it looks at
//! in one query each, rather than per flag (one to page through its `flag.update`
//! entries, and up to three per environment for its configuration changes: up to ten a
//! flag with three environments).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde_json::Value as Json;

use crate::error::ApiError;
use crate::store::Tx;

/// When the type or variants of each flag in `created` (key: creation time) last
/// changed: the newest `flag.update` since its creation whose before and after differ in
/// them. A flag whose values never changed is absent (they are as created).
pub(super) async fn values_changed(
    tx: &mut Tx,
    created: &BTreeMap<&str, i64>,
) -> Result<HashMap<String, i64>, ApiError> {
    let mut changed = HashMap::new();
    if created.is_empty() {
        return Ok(changed);
    }
    let read = |text: &Option<String>| text.as_deref().and_then(|t| serde_json::from_str::<Json>(t).ok());
    let values = |flag: &Option<Json>| flag.as_ref().map(|f| (f.get("type").cloned(), f.get("variants").cloned()));
    // Newest first: the first that differs is a flag's last change.
    for row in tx.flag_updates_since(created).await? {
        if changed.contains_key(&row.resource) {
            continue;
        }
        if values(&read(&row.before_json)) != values(&read(&row.after_json)) {
            changed.insert(row.resource, row.at);
        }
    }
    Ok(changed)
}

/// Which flags of `created` (key: creation time) had their configuration changed in any
/// of `envs` since they were created: by a `config.*` write (directly or through an
/// approved change request; a rollback only restores what such writes made).
pub(super) async fn configured(
    tx: &mut Tx,
    created: &BTreeMap<&str, i64>,
    envs: &[String],
) -> Result<BTreeSet<String>, ApiError> {
    if created.is_empty() || envs.is_empty() {
        return Ok(BTreeSet::new());
    }
    Ok(tx.configured_since(created, envs).await?.into_iter().collect())
}
