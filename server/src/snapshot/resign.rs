//! Re-signing: a snapshot carries `expires_at`, and clients refuse it after that, so an
//! environment nobody changes is republished (same content, next version, fresh
//! expiry) before it expires. At start, environments last signed with other keys are
//! republished too, which is how a key rotation reaches clients.

use std::time::Duration;

use serde_json::json;

use crate::app::{App, AppInner};
use crate::error::ApiError;
use crate::service::{Actor, Writer};
use crate::store::{Lock, SnapshotRow};

/// Why an environment needs a new signature, if it does.
fn reason(app: &AppInner, latest: Option<&SnapshotRow>, now: i64, keys_too: bool) -> Option<&'static str> {
    let Some(latest) = latest else { return Some("never published") };
    let before = i64::try_from(app.config.resign_before.as_millis()).unwrap_or(i64::MAX);
    if latest.expires_at.saturating_sub(now) <= before {
        Some("expires soon")
    } else if keys_too && latest.key_ids != app.keys.key_ids() {
        Some("signing keys changed")
    } else {
        None
    }
}

/// Republishes every environment whose snapshot expires within `resign_before` (and,
/// if `keys_too`, every one signed with other keys than the current ones).
pub(crate) async fn resign_due(app: &AppInner, keys_too: bool) -> Result<(), ApiError> {
    let now = crate::clock::now_ms();
    let mut due = Vec::new();
    {
        let mut tx = app.store.read().await?;
        for env in tx.envs().await? {
            let latest = tx.latest_snapshot(&env.name, "server").await?;
            if reason(app, latest.as_ref(), now, keys_too).is_some() {
                due.push(env.name);
            }
        }
    }
    for env in due {
        let actor = Actor { name: crate::service::access::SYSTEM_ACTOR.into(), request_id: format!("resign-{now}") };
        let mut w = Writer::begin(app, &actor, Lock::Envs(vec![env.clone()])).await?;
        // Another instance may have re-signed it meanwhile: decide again under the lock.
        let latest = w.tx.latest_snapshot(&env, "server").await?;
        let Some(why) = reason(app, latest.as_ref(), w.now, keys_too) else { continue };
        w.publish(&env);
        let before = latest.map(|l| json!({ "version": l.version, "expires_at": crate::clock::rfc3339(l.expires_at), "key_ids": l.key_ids }));
        let after = json!({ "reason": why, "key_ids": app.keys.key_ids() });
        w.audit("snapshot.resign", ("snapshot", &env), Some(&env), before.as_ref(), Some(&after));
        let versions = w.commit().await?;
        tracing::info!("re-signed `{env}` ({why}) as version {}", versions.get(&env).copied().unwrap_or(0));
    }
    Ok(())
}

/// Checks for snapshots to re-sign every `resign_interval`.
pub(crate) async fn run_resigner(app: App) {
    let period = app.config.resign_interval.max(Duration::from_millis(10));
    let mut interval = tokio::time::interval(period);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    interval.tick().await;
    loop {
        interval.tick().await;
        if let Err(e) = resign_due(&app, false).await {
            tracing::warn!("re-signing: {e}");
        }
    }
}
