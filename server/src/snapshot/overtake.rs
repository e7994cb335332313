//! Overtaking the export directory at start: a database restored from a backup must
//! not publish again the versions it published before.

use serde_json::json;

use super::Exporter;
use crate::app::AppInner;
use crate::error::ApiError;
use crate::service::{Actor, Writer};
use crate::store::{to_i64, to_u64, Lock};

/// Moves every environment past the versions its export directory already holds.
///
/// A database restored from a backup would publish versions it had published before,
/// with other content: clients that saw the old ones refuse the new as rollbacks or
/// equivocation, and the directory would hold two different files of one version. So
/// an environment whose export is ahead has its current state published as the version
/// after the export's newest, at once, with an audit entry.
pub(crate) async fn overtake_export(app: &AppInner, exporter: &Exporter) -> Result<(), ApiError> {
    let envs = app.store.read().await?.envs().await?;
    for env in envs {
        let exported = exporter.newest(&env.name);
        if exported <= to_u64(env.version) {
            continue;
        }
        let actor = Actor {
            name: crate::service::access::SYSTEM_ACTOR.into(),
            request_id: format!("overtake-{}", crate::clock::now_ms()),
        };
        let mut w = Writer::begin(app, &actor, Lock::Envs(vec![env.name.clone()])).await?;
        let Some(row) = w.tx.env(&env.name).await? else { continue };
        if exported <= to_u64(row.version) {
            continue; // another instance did it meanwhile
        }
        w.tx.set_env_version(&env.name, to_i64(exported)).await?;
        w.publish(&env.name);
        let before = json!({ "version": row.version });
        let after = json!({ "exported_version": exported, "reason": "the export directory is ahead of the database" });
        w.audit("snapshot.overtake", ("snapshot", &env.name), Some(&env.name), Some(&before), Some(&after));
        let versions = w.commit().await?;
        tracing::warn!(
            "the export directory holds `{}` version {exported}, above the database's {} (restored from a backup?): \
             published the current state as version {}",
            env.name,
            row.version,
            versions.get(&env.name).copied().unwrap_or(0)
        );
    }
    Ok(())
}
