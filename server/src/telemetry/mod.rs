//! Evaluation telemetry: what SDKs report (`POST /v1/telemetry/{env}`, the format in
//! `wire.rs` and docs/OPERATIONS.md, "Telemetry"), checked, resolved against the
//! environment's flags and added to aggregates, and the bounds that keep it small.
//!
//! Why it is built this way:
//!
//! - **Aggregated as it arrives.** Counts are added to one row per environment, flag,
//!   outcome and hour, not stored per report, so storage grows with flags and time,
//!   not with traffic. Last-seen times, reporters and the not-found tally are rows
//!   updated in place.
//! - **Apart from flag writes.** Reports never take the locks that publish snapshots
//!   (`crate::store::telemetry`), and the flags a report may count are read from the
//!   snapshot in memory, not the database.
//! - **Bounded against anyone.** Client keys are public, so every table has a bound a
//!   poster cannot raise: distinct SDK names, instances, unknown keys and exposures
//!   are capped per environment as writes go, each key's posts are rate-limited, and
//!   a sweep deletes what has aged out.
//! - **All or nothing.** A report is checked whole before anything is written, and is
//!   written in one transaction.
//! - **Once per batch.** SDKs give each report an id (`batch`) and send a batch whose
//!   post failed again unchanged, so a post the server stored but whose answer never
//!   arrived (a timeout, a dropped connection) is not counted twice: ids stored are
//!   remembered for [`BATCH_IDS_KEPT_MS`], and a repeat is answered as accepted.

mod catalog;
mod limit;
mod resolve;
mod wire;

use std::time::Duration;

pub(crate) use catalog::Catalogs;
pub(crate) use limit::{retry_after_seconds, RateLimiter};
pub(crate) use resolve::resolve;
pub(crate) use wire::Report;

use crate::app::App;
use crate::error::ApiError;
use crate::store::telemetry::{Batch, Bounds, Cutoffs, TelemetryStore};
use crate::Config;

/// Milliseconds in a day.
const DAY_MS: i64 = 86_400_000;
/// Distinct SDK names kept per environment; reports of more are kept under no name.
pub(crate) const SDK_NAMES_KEPT: i64 = 64;
/// Reporting instances kept per environment, the most recent.
pub(crate) const INSTANCES_KEPT: i64 = 10_000;
/// Distinct unknown keys kept per environment in the not-found tally.
pub(crate) const NOT_FOUND_KEYS_KEPT: i64 = 1_000;
/// Days hourly counts are kept.
pub(crate) const USAGE_DAYS: i64 = 30;
/// Days a flag's last-seen time by one SDK is kept after it.
const SEEN_DAYS: i64 = 365;
/// Days an unknown key stays in the tally after it was last asked for.
const NOT_FOUND_DAYS: i64 = 30;
/// Days an SDK name stays listed after its last report.
const SOURCES_DAYS: i64 = 30;
/// Days an instance stays listed after its last report.
const INSTANCES_DAYS: i64 = 7;
/// Instances count as running when they reported within this.
pub(crate) const INSTANCES_ACTIVE_MS: i64 = DAY_MS;
/// How long the ids of stored batches are kept: twice the 24 hours an SDK resends one
/// batch unchanged (then it sends its counts afresh, under a new id), so that a batch
/// stored long after its first post, or by a server whose clock jumped, is still known.
pub(crate) const BATCH_IDS_KEPT_MS: i64 = 2 * DAY_MS;
/// How often the sweep deletes what has aged out.
const SWEEP_EVERY: Duration = Duration::from_secs(600);

/// What became of a report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Recorded {
    /// Its counts were added.
    Stored,
    /// A batch of its id had been stored already: nothing was added.
    Duplicate,
}

/// Telemetry's state in a running server.
pub(crate) struct Telemetry {
    pub(crate) store: TelemetryStore,
    pub(crate) limiter: RateLimiter,
    pub(crate) catalogs: Catalogs,
    /// Exposures kept per environment.
    pub(crate) exposures_kept: u32,
    /// How long exposures are kept, milliseconds.
    pub(crate) exposures_max_age_ms: i64,
}

impl Telemetry {
    /// Opens the telemetry store beside the (migrated) database of `config`.
    pub(crate) async fn open(config: &Config) -> Result<Telemetry, String> {
        Ok(Telemetry {
            store: TelemetryStore::open(&config.database_url()).await?,
            limiter: RateLimiter::new(config.telemetry_per_minute),
            catalogs: Catalogs::default(),
            exposures_kept: config.exposures_kept,
            exposures_max_age_ms: i64::try_from(config.exposures_max_age.as_millis()).unwrap_or(i64::MAX),
        })
    }

    /// The oldest receipt time of an exposure still kept at `now`.
    pub(crate) fn exposures_since(&self, now: i64) -> i64 {
        now.saturating_sub(self.exposures_max_age_ms)
    }

    /// Adds `batch` in one transaction of its own, unless a batch of its id was added
    /// already.
    pub(crate) async fn record(&self, batch: &Batch) -> Result<Recorded, ApiError> {
        let bounds = Bounds {
            sdk_names: SDK_NAMES_KEPT,
            instances: INSTANCES_KEPT,
            not_found_keys: NOT_FOUND_KEYS_KEPT,
            exposures: i64::from(self.exposures_kept),
            exposures_since: self.exposures_since(batch.now),
        };
        let mut tx = self.store.write(&batch.env).await?;
        if let Some(id) = &batch.id {
            if !tx.claim_batch(&batch.env, id, batch.now).await? {
                tx.commit().await?;
                return Ok(Recorded::Duplicate);
            }
        }
        tx.add_report(batch, &bounds).await?;
        tx.commit().await?;
        Ok(Recorded::Stored)
    }

    /// Forgets the telemetry of flag `key` in `envs`, just deleted: one created again
    /// under its key starts afresh. A failure is logged, not returned: the flag is
    /// deleted, and the reports leave out rows from before the new one's creation hour.
    pub(crate) async fn forget_flag(&self, envs: &[String], key: &str) {
        let forgotten = async {
            let mut tx = self.store.sweeper().await?;
            tx.forget_flag(envs, key).await?;
            tx.commit().await
        };
        if let Err(error) = forgotten.await {
            tracing::warn!("telemetry of the deleted flag `{key}` was not deleted: {error}");
        }
    }

    /// Forgets the telemetry of environment `env`, just deleted, as
    /// [`Telemetry::forget_flag`] does a flag's.
    pub(crate) async fn forget_env(&self, env: &str) {
        let forgotten = async {
            let mut tx = self.store.sweeper().await?;
            tx.forget_env(env).await?;
            tx.commit().await
        };
        if let Err(error) = forgotten.await {
            tracing::warn!("telemetry of the deleted environment `{env}` was not deleted: {error}");
        }
    }

    /// Deletes what has aged out at `now`, in every environment; returns the rows
    /// deleted.
    pub(crate) async fn sweep(&self, now: i64) -> Result<u64, sqlx::Error> {
        let days = |n: i64| now.saturating_sub(n * DAY_MS);
        let cutoffs = Cutoffs {
            usage: days(USAGE_DAYS),
            seen: days(SEEN_DAYS),
            not_found: days(NOT_FOUND_DAYS),
            sources: days(SOURCES_DAYS),
            instances: days(INSTANCES_DAYS),
            exposures: self.exposures_since(now),
            batches: now.saturating_sub(BATCH_IDS_KEPT_MS),
        };
        let mut deleted = 0;
        for step in 0.. {
            let mut tx = self.store.sweeper().await?;
            let Some(rows) = tx.sweep(step, &cutoffs).await? else { break };
            tx.commit().await?;
            deleted += rows;
        }
        Ok(deleted)
    }
}

/// Sweeps every [`SWEEP_EVERY`] until the server stops (the task is aborted then); the
/// start sweeps once before it serves.
pub(crate) async fn run_sweeper(app: App) {
    let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + SWEEP_EVERY, SWEEP_EVERY);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        match app.telemetry.sweep(crate::clock::now_ms()).await {
            Ok(0) => {}
            Ok(rows) => tracing::debug!("telemetry sweep deleted {rows} rows that aged out"),
            Err(error) => tracing::warn!("telemetry sweep: {error}"),
        }
    }
}
