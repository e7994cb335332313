//! Snapshot retention: the database keeps, per environment and audience, the versions
//! `--snapshot-keep` and `--snapshot-max-age` say, and always the newest.
//!
//! Every write that publishes prunes the environments it published, in its own
//! transaction after the new version is in (so the newest is the new one), inside a
//! savepoint: a failed prune is undone and logged, and the write commits all the same.
//! That bounds the history however fast an editor writes. A sweep at start and every
//! `--resign-interval` prunes what no write reaches: the backlog of a database from
//! before retention (or after lowering the limits), versions aging past
//! `--snapshot-max-age` in an environment nobody changes, and deleted environments.
//! Each prune deletes at most [`BATCH`] versions, under the environment's write lock.
//!
//! Histories stay contiguous: what is kept is every version from the oldest kept to
//! the newest, so "the oldest kept" is all a refusal needs to name.

use std::time::Duration;

use axum::http::StatusCode;

use crate::app::{App, AppInner};
use crate::config::Retention;
use crate::error::ApiError;
use crate::model::SdkKind;
use crate::store::{to_i64, HistoryRow, Lock, Savepoint, Tx};

/// The most versions of one environment and audience a prune deletes: freeing a
/// megabyte-sized snapshot costs SQLite a read of its overflow pages, so a long backlog
/// is worked off in batches between other writes rather than in one long transaction.
pub(crate) const BATCH: i64 = 100;

const KINDS: [SdkKind; 2] = [SdkKind::Server, SdkKind::Client];

fn millis(duration: Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
}

/// The oldest version of `env`/`kind` that `policy` keeps at `now`; `None` when there
/// are no snapshots.
async fn first_kept(
    tx: &mut Tx,
    policy: &Retention,
    env: &str,
    kind: &str,
    now: i64,
) -> Result<Option<i64>, sqlx::Error> {
    let Some(newest) = tx.version_from_newest(env, kind, 0).await? else { return Ok(None) };
    let mut first = i64::MIN;
    if let Some(keep) = policy.keep {
        let edge = tx.version_from_newest(env, kind, to_i64(keep).saturating_sub(1)).await?;
        first = first.max(edge.unwrap_or(i64::MIN));
    }
    if let Some(age) = policy.max_age {
        let young = tx.oldest_issued_since(env, kind, now.saturating_sub(millis(age))).await?;
        first = first.max(young.unwrap_or(newest));
    }
    Ok(Some(first.min(newest)))
}

/// Deletes up to [`BATCH`] versions of `env`/`kind` that `policy` no longer keeps, the
/// oldest first. Returns how many, and whether more are due.
pub(crate) async fn prune(
    tx: &mut Tx,
    policy: &Retention,
    env: &str,
    kind: &str,
    now: i64,
) -> Result<(u64, bool), sqlx::Error> {
    if !policy.prunes() {
        return Ok((0, false));
    }
    let Some(first) = first_kept(tx, policy, env, kind, now).await? else { return Ok((0, false)) };
    if tx.version_from_oldest(env, kind, first, 0).await?.is_none() {
        return Ok((0, false));
    }
    let below = tx.version_from_oldest(env, kind, first, BATCH).await?.unwrap_or(first);
    let deleted = tx.prune_snapshots(env, kind, below).await?;
    Ok((deleted, below < first))
}

/// Prunes `envs` inside a write that has just published them. A failed prune does
/// not fail the write: it is rolled back to its savepoint and logged, and the sweep
/// tries again. Only a savepoint that cannot be taken or undone fails the write (the
/// transaction is then unusable, and committing it would drop the write silently).
pub(crate) async fn prune_published<'a>(
    tx: &mut Tx,
    policy: &Retention,
    envs: impl Iterator<Item = &'a str>,
    now: i64,
) -> Result<(), sqlx::Error> {
    if !policy.prunes() {
        return Ok(());
    }
    const NAME: &str = "pennon_prune";
    tx.savepoint(Savepoint::Begin, NAME).await?;
    let mut failure = None;
    'envs: for env in envs {
        for kind in KINDS {
            match prune(tx, policy, env, kind.as_str(), now).await {
                Ok((0, _)) => {}
                Ok((deleted, _)) => tracing::debug!("pruned {deleted} {} snapshots of `{env}`", kind.as_str()),
                Err(e) => {
                    failure = Some(format!("pruning `{env}`: {e}"));
                    break 'envs;
                }
            }
        }
    }
    if let Some(why) = failure {
        tracing::warn!("snapshot retention: {why}; undone, the write goes on and the sweep tries again");
        tx.savepoint(Savepoint::Undo, NAME).await?;
    }
    tx.savepoint(Savepoint::Release, NAME).await
}

/// Whether `history` holds versions `policy` no longer keeps at `now`.
fn due(policy: &Retention, now: i64, history: &HistoryRow) -> bool {
    let too_many = policy.keep.is_some_and(|keep| history.versions > to_i64(keep));
    let too_old = policy.max_age.is_some_and(|age| history.oldest_issued_at < now.saturating_sub(millis(age)));
    history.versions > 1 && (too_many || too_old)
}

/// Prunes every environment and audience (deleted environments too) down to `policy`,
/// one batch per transaction under the environment's lock. Returns how many versions
/// it deleted.
pub(crate) async fn sweep(app: &AppInner) -> Result<u64, sqlx::Error> {
    let policy = app.config.retention;
    if !policy.prunes() {
        return Ok(0);
    }
    let now = crate::clock::now_ms();
    let histories = app.store.read().await?.snapshot_histories().await?;
    let mut total = 0;
    for history in histories.iter().filter(|h| due(&policy, now, h)) {
        let mut deleted = 0;
        loop {
            let mut tx = app.store.write(&Lock::Envs(vec![history.env.clone()])).await?;
            let (count, more) = prune(&mut tx, &policy, &history.env, &history.kind, now).await?;
            tx.commit().await?;
            deleted += count;
            if !more {
                break;
            }
        }
        if deleted > 0 {
            tracing::info!(
                "snapshot retention: deleted {deleted} {} snapshots of `{}` (keeping {})",
                history.kind,
                history.env,
                policy.describe()
            );
        }
        total += deleted;
    }
    Ok(total)
}

/// Sweeps at start and every `resign_interval`.
pub(crate) async fn run_sweeper(app: App) {
    let mut interval = tokio::time::interval(app.config.resign_interval.max(Duration::from_millis(10)));
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        interval.tick().await;
        if let Err(e) = sweep(&app).await {
            tracing::warn!("snapshot retention: {e}; trying again in {:?}", app.config.resign_interval);
        }
    }
}

/// The refusal for version `version` of `env`/`kind`, which is not stored: `410 pruned`
/// naming the oldest version kept when retention deleted it, `404` otherwise. Versions
/// up to `floor` belong to an earlier environment of the same name (404 too).
pub(crate) async fn missing_version(
    tx: &mut Tx,
    policy: &Retention,
    env: &str,
    kind: SdkKind,
    version: u64,
    floor: i64,
) -> Result<ApiError, sqlx::Error> {
    let oldest = tx.oldest_kept(env, kind.as_str(), floor).await?;
    Ok(match oldest {
        Some(oldest) if to_i64(version) > floor && to_i64(version) < oldest => ApiError::new(
            StatusCode::GONE,
            "pruned",
            format!(
                "`{env}` version {version} is no longer kept: snapshot retention deleted it (this server keeps {}); \
                 the oldest {} snapshot kept is version {oldest}",
                policy.describe(),
                kind.as_str()
            ),
        ),
        _ => ApiError::not_found(format!("`{env}` has no {} snapshot version {version}", kind.as_str())),
    })
}
