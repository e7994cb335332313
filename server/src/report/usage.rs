//! The usage report and the not-found report, from what SDKs reported (see
//! `crate::telemetry`) and what the control plane knows of flags and environments.
//!
//! Telemetry rows are keyed by names, not by the rows of flags and environments (which
//! may live in another database file), so a flag or environment deleted and created
//! again under the same name would inherit its predecessor's counts. Each is therefore
//! read only from when it was created: counts of whole hours or days before, and
//! last-seen times before, belong to the earlier one.

use std::collections::BTreeMap;

use crate::clock::rfc3339;
use crate::error::ApiError;
use crate::model::{
    EnvNotFound, EnvUsage, FlagUsage, Granularity, NotFoundKey, NotFoundReport, SdkKind, SdkReporting, SdkSeen,
    UsagePoint, UsageReport,
};
use crate::store::{to_u64, EnvRow, Tx};
use crate::telemetry::{INSTANCES_ACTIVE_MS, NOT_FOUND_KEYS_KEPT, USAGE_DAYS};

const HOUR_MS: i64 = 3_600_000;

/// What a usage report covers.
#[derive(Debug, Clone)]
pub(crate) struct UsageQuery {
    /// The environments (which exist and the caller may read).
    pub(crate) envs: Vec<EnvRow>,
    /// One flag (which exists), or every one.
    pub(crate) flag: Option<String>,
    /// From (Unix milliseconds; rounded down to the hour).
    pub(crate) since: i64,
    /// To (exclusive).
    pub(crate) until: i64,
    pub(crate) granularity: Granularity,
}

/// A flag as the report needs it.
struct Known {
    key: String,
    created_at: i64,
}

/// The usage report: `main` reads flags, `telemetry` the counts.
pub(crate) async fn usage(
    main: &mut Tx,
    telemetry: &mut Tx,
    query: &UsageQuery,
    now: i64,
) -> Result<UsageReport, ApiError> {
    let flags: Vec<Known> = main
        .flags()
        .await?
        .into_iter()
        .filter(|row| query.flag.as_ref().is_none_or(|key| *key == row.key))
        .map(|row| Known { key: row.key, created_at: row.created_at })
        .collect();
    let since = query.since - query.since.rem_euclid(HOUR_MS);
    let mut environments = Vec::with_capacity(query.envs.len());
    for env in &query.envs {
        environments.push(env_usage(telemetry, env, &flags, query, since, now).await?);
    }
    Ok(UsageReport {
        generated_at: rfc3339(now),
        since: rfc3339(since),
        until: rfc3339(query.until),
        granularity: query.granularity,
        kept_since: rfc3339(now - USAGE_DAYS * 86_400_000),
        environments,
    })
}

async fn env_usage(
    telemetry: &mut Tx,
    env: &EnvRow,
    flags: &[Known],
    query: &UsageQuery,
    since: i64,
    now: i64,
) -> Result<EnvUsage, ApiError> {
    let bucket = query.granularity.millis();
    let from = since.max(env.created_at - env.created_at.rem_euclid(HOUR_MS));
    let rows = telemetry.usage(&env.name, query.flag.as_deref(), from, query.until, bucket).await?;
    let mut series: BTreeMap<&str, BTreeMap<i64, UsagePoint>> = BTreeMap::new();
    let created: BTreeMap<&str, i64> = flags.iter().map(|f| (f.key.as_str(), f.created_at)).collect();
    for row in &rows {
        let Some((key, created_at)) = created.get_key_value(row.flag.as_str()) else { continue };
        if row.start + bucket <= *created_at {
            continue; // all of it before this flag existed
        }
        let point = series.entry(key).or_default().entry(row.start).or_insert_with(|| UsagePoint {
            start: rfc3339(row.start),
            evaluations: 0,
            variants: BTreeMap::new(),
            errors: 0,
            unknown_variants: 0,
        });
        let count = to_u64(row.evaluations);
        point.evaluations = point.evaluations.saturating_add(count);
        match row.outcome.as_str() {
            "variant" => {
                let sum = point.variants.entry(row.variant.clone()).or_default();
                *sum = sum.saturating_add(count);
            }
            "error" => point.errors = point.errors.saturating_add(count),
            _ => point.unknown_variants = point.unknown_variants.saturating_add(count),
        }
    }
    let mut seen: BTreeMap<&str, Vec<SdkSeen>> = BTreeMap::new();
    let mut last: BTreeMap<&str, i64> = BTreeMap::new();
    for (flag, sdk, at) in telemetry.last_seen(&env.name, query.flag.as_deref()).await? {
        let Some((key, created_at)) = created.get_key_value(flag.as_str()) else { continue };
        if at < (*created_at).max(env.created_at) {
            continue;
        }
        seen.entry(key).or_default().push(SdkSeen { sdk: named(sdk), last_seen: rfc3339(at) });
        let latest = last.entry(key).or_insert(at);
        *latest = (*latest).max(at);
    }
    let flags = flags
        .iter()
        .map(|flag| {
            let points: Vec<UsagePoint> =
                series.remove(flag.key.as_str()).map(|points| points.into_values().collect()).unwrap_or_default();
            let mut sdks = seen.remove(flag.key.as_str()).unwrap_or_default();
            sdks.sort_by(|a, b| (&b.last_seen, &a.sdk).cmp(&(&a.last_seen, &b.sdk)));
            totals(flag.key.clone(), points, sdks, last.get(flag.key.as_str()).copied())
        })
        .collect();
    Ok(EnvUsage { environment: env.name.clone(), sdks: reporting(telemetry, env, now).await?, flags })
}

/// A flag's entry: its series summed up.
fn totals(flag: String, series: Vec<UsagePoint>, sdks: Vec<SdkSeen>, last_seen: Option<i64>) -> FlagUsage {
    let mut usage = FlagUsage {
        flag,
        evaluations: 0,
        variants: BTreeMap::new(),
        errors: 0,
        unknown_variants: 0,
        last_seen: last_seen.map(rfc3339),
        sdks,
        series: Vec::new(),
    };
    for point in &series {
        usage.evaluations = usage.evaluations.saturating_add(point.evaluations);
        usage.errors = usage.errors.saturating_add(point.errors);
        usage.unknown_variants = usage.unknown_variants.saturating_add(point.unknown_variants);
        for (variant, count) in &point.variants {
            let sum = usage.variants.entry(variant.clone()).or_default();
            *sum = sum.saturating_add(*count);
        }
    }
    usage.series = series;
    usage
}

/// The SDKs that report in `env` since it was created, with their instances.
async fn reporting(telemetry: &mut Tx, env: &EnvRow, now: i64) -> Result<Vec<SdkReporting>, ApiError> {
    let active = now - INSTANCES_ACTIVE_MS;
    let instances: BTreeMap<(String, String), i64> = telemetry
        .instances(&env.name, active.max(env.created_at))
        .await?
        .into_iter()
        .map(|(kind, sdk, count)| ((kind, sdk), count))
        .collect();
    let sources = telemetry.sources(&env.name).await?;
    Ok(sources
        .into_iter()
        .filter(|s| s.last_report >= env.created_at)
        .map(|s| SdkReporting {
            instances: to_u64(instances.get(&(s.kind.clone(), s.sdk.clone())).copied().unwrap_or(0)),
            kind: SdkKind::parse(&s.kind).unwrap_or(SdkKind::Server),
            sdk: named(s.sdk),
            first_report: rfc3339(s.first_report.max(env.created_at)),
            last_report: rfc3339(s.last_report),
            reports: to_u64(s.reports),
            exposures_dropped: to_u64(s.exposures_dropped),
        })
        .collect())
}

/// A stored SDK name: empty is the names past the bound.
fn named(sdk: String) -> Option<String> {
    Some(sdk).filter(|s| !s.is_empty())
}

/// The not-found report over `envs`: `main` reads which keys exist now.
pub(crate) async fn not_found(
    main: &mut Tx,
    telemetry: &mut Tx,
    envs: &[EnvRow],
    now: i64,
) -> Result<NotFoundReport, ApiError> {
    // Each flag that exists, and whether it is client-visible.
    let existing: BTreeMap<String, bool> =
        main.flags().await?.into_iter().map(|row| (row.key, row.client_visible)).collect();
    let mut environments = Vec::with_capacity(envs.len());
    for env in envs {
        let mut keys: Vec<NotFoundKey> = telemetry
            .not_found(&env.name)
            .await?
            .into_iter()
            .filter(|row| row.last_seen >= env.created_at)
            .map(|row| NotFoundKey {
                exists: existing.contains_key(&row.flag),
                client_visible: existing.get(&row.flag).copied(),
                flag: Some(row.flag).filter(|f| !f.is_empty()),
                evaluations: to_u64(row.evaluations),
                client_evaluations: to_u64(row.client_evaluations),
                first_seen: rfc3339(row.first_seen.max(env.created_at)),
                last_seen: rfc3339(row.last_seen),
            })
            .collect();
        // Stable: most recent first stays so within each group.
        keys.sort_by_key(|key| key.flag.is_none());
        environments.push(EnvNotFound { environment: env.name.clone(), keys });
    }
    Ok(NotFoundReport {
        generated_at: rfc3339(now),
        keys_kept: u32::try_from(NOT_FOUND_KEYS_KEPT).unwrap_or(u32::MAX),
        environments,
    })
}
