//! Keeping an instance's hub in step with the database: at start, on every
//! notification from other instances (PostgreSQL `LISTEN`), and by polling as a
//! safety net for notifications lost while a connection was down.

use std::time::Duration;

use tokio::task::JoinHandle;

use crate::app::App;
use crate::model::SdkKind;
use crate::snapshot::{Exporter, Served};
use crate::store::{to_u64, Notice};

/// Loads every environment's latest snapshots into the hub, and forgets environments
/// that no longer exist.
pub(crate) async fn warm(app: &App) -> Result<(), sqlx::Error> {
    let mut tx = app.store.read().await?;
    let envs = tx.envs().await?;
    for env in &envs {
        let held = app.hub.feed(&env.name).map_or(0, |f| f.version());
        if to_u64(env.version) > held {
            app.load_latest(&mut tx, &env.name, held).await?;
        }
    }
    for (name, _) in app.hub.versions() {
        if !envs.iter().any(|e| e.name == name) {
            app.hub.remove(&name);
        }
    }
    Ok(())
}

/// Re-reads the state after notices may have been lost (the listener reconnected) or
/// named no key (an earlier release's revocation). Which SDK keys were revoked or
/// deleted meanwhile is unknown, so the live ones are read and every other grant is
/// dropped: emptying the cache instead would also drop the grants of the keys still
/// live, which snapshots are served with through a database outage (and a reconnect
/// often comes between two outages, a database restarting). When that read fails, every
/// key is looked up again on its next use, as after a lost notice (the poller's
/// refresh): while the store answers, a revoked key is refused then.
async fn resync(app: &App) -> Result<(), sqlx::Error> {
    let live = match app.store.read().await {
        Ok(mut tx) => tx.live_sdk_key_hashes().await,
        Err(e) => Err(e),
    };
    match live {
        Ok(live) => app.sdk_keys.keep_only(&live),
        Err(e) => {
            app.sdk_keys.refresh();
            return Err(e);
        }
    }
    warm(app).await
}

/// Starts the listener and the poller, when the database can announce changes.
pub(crate) async fn spawn_listeners(app: &App) -> Result<Vec<JoinHandle<()>>, sqlx::Error> {
    let Some(mut notifications) = app.store.listen().await? else { return Ok(Vec::new()) };
    let listener = {
        let app = App::clone(app);
        tokio::spawn(async move {
            loop {
                let outcome = match notifications.next().await {
                    Ok(Notice::Published { env, version }) => {
                        let held = app.hub.feed(&env).map_or(0, |f| f.version());
                        let behind = held < version;
                        // Announced after a later version: still exported, in its place.
                        let unexported = app
                            .exporter
                            .as_ref()
                            .filter(|exporter| !behind && !exporter.has(&env, SdkKind::Server, version));
                        if behind || unexported.is_some() {
                            match app.store.read().await {
                                Ok(mut tx) if behind => app.load_latest(&mut tx, &env, held).await,
                                Ok(mut tx) => match unexported {
                                    Some(exporter) => {
                                        export_missing(&mut tx, exporter, &env, version..version + 1).await
                                    }
                                    None => Ok(()),
                                },
                                Err(e) => Err(e),
                            }
                        } else {
                            Ok(())
                        }
                    }
                    Ok(Notice::KeyRevoked { key_hash }) => {
                        app.sdk_keys.revoked(&key_hash);
                        Ok(())
                    }
                    Ok(Notice::EnvDeleted { env }) => {
                        app.sdk_keys.env_deleted(&env);
                        warm(&app).await
                    }
                    Ok(Notice::Resync) => resync(&app).await,
                    Err(e) => {
                        tracing::warn!("database notifications: {e}; retrying");
                        tokio::time::sleep(Duration::from_secs(1)).await;
                        // A revocation may have been announced meanwhile: keys are looked up
                        // again, falling back on what was read while the store cannot
                        // answer (streams check their keys at each heartbeat anyway; waking
                        // them all each second of an outage would starve those).
                        app.sdk_keys.refresh();
                        warm(&app).await
                    }
                };
                if let Err(e) = outcome {
                    tracing::warn!("reading a change announced by another instance: {e}");
                }
            }
        })
    };
    let poller = {
        let app = App::clone(app);
        tokio::spawn(async move {
            let mut interval = tokio::time::interval(app.config.poll_interval);
            interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                interval.tick().await;
                // Bounds how long a revoked SDK key whose notification was lost stays
                // usable while the store answers.
                app.sdk_keys.refresh();
                if let Err(e) = warm(&app).await {
                    tracing::warn!("polling for changes: {e}");
                }
            }
        })
    };
    Ok(vec![listener, poller])
}

/// Writes every published snapshot missing from the export directory.
pub(crate) async fn export_all(app: &App, exporter: &Exporter) -> Result<(), String> {
    exporter.write_keys(&crate::routes::keys_document(app)).map_err(|e| e.to_string())?;
    let mut tx = app.store.read().await.map_err(|e| e.to_string())?;
    for env in tx.envs().await.map_err(|e| e.to_string())? {
        for kind in [SdkKind::Server, SdkKind::Client] {
            let mut versions =
                tx.list_snapshots(&env.name, kind.as_str(), None, i64::MAX).await.map_err(|e| e.to_string())?;
            versions.sort_by_key(|v| v.version);
            for meta in versions {
                let version = to_u64(meta.version);
                let written = export_version(&mut tx, exporter, &env.name, kind, version).await;
                written.map_err(|e| e.to_string())?.map_err(|e| e.to_string())?;
            }
        }
    }
    Ok(())
}

/// Exports the versions of `env` in `versions` (the last 1,000 of them) missing from
/// the export directory: other instances published them, and this one learns of the
/// latest alone, or of its own commit after a later one.
pub(crate) async fn export_missing(
    tx: &mut crate::store::Tx,
    exporter: &Exporter,
    env: &str,
    versions: std::ops::Range<u64>,
) -> Result<(), sqlx::Error> {
    let versions = versions.start.max(versions.end.saturating_sub(1000))..versions.end;
    for version in versions {
        for kind in [SdkKind::Server, SdkKind::Client] {
            if let Err(e) = export_version(tx, exporter, env, kind, version).await? {
                tracing::warn!("export of {env} version {version}: {e}");
            }
        }
    }
    Ok(())
}

/// Writes version `version` of `env`'s `kind` snapshot from the store, unless it is
/// exported already (or not in the store). The outer error is the store's, the inner
/// the file system's.
async fn export_version(
    tx: &mut crate::store::Tx,
    exporter: &Exporter,
    env: &str,
    kind: SdkKind,
    version: u64,
) -> Result<std::io::Result<()>, sqlx::Error> {
    if exporter.has(env, kind, version) {
        return Ok(Ok(()));
    }
    let Some(row) = tx.snapshot(env, kind.as_str(), crate::store::to_i64(version)).await? else { return Ok(Ok(())) };
    let (exporter, env, served) = (exporter.clone(), env.to_owned(), Served::from_row(&row));
    let written = tokio::task::spawn_blocking(move || exporter.write(&env, kind, &served)).await;
    Ok(written.map_err(std::io::Error::other).and_then(|result| result))
}
