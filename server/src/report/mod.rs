//! The stale-flag report: which temporary flags are due for removal, why, since when,
//! and what to do about each.
//!
//! It works from what the control plane knows: flag definitions, each environment's
//! configuration and when it last changed, the audit log, and what SDKs that report
//! telemetry evaluated (`unused` only: SDKs report only when told to, so everything
//! else stands without it). Permanent flags (kill switches, entitlements) are meant to
//! stay and are never reported.
//!
//! A temporary flag is reported for one or more of these reasons:
//!
//! - `expired`: its `expires_at` has passed;
//! - `past_lifetime`: it has no `expires_at` and was created more than `lifetime_days`
//!   ago (Unleash's 40 days for release and experiment toggles by default);
//! - `settled`: in every environment covered it has served one and the same value to
//!   every context for at least `settled_days` (LaunchDarkly's 7 by default), as
//!   [`serving`] decides from the configuration;
//! - `diverged`: likewise settled in each environment, but on different values (off in
//!   production, on in staging): not a constant to inline, a decision to make;
//! - `never_configured`: instead of `settled` when no covered environment's
//!   configuration was changed since the flag was created: it serves its off value
//!   everywhere because nobody turned it on, which calls for another action;
//! - `unused`: no evaluations reported for `unused_days` in the environments where
//!   SDKs report telemetry, and none elsewhere (see [`unused`]).
//!
//! "Since" an environment serves what it serves is never before its configuration last
//! changed (any change counts, so it errs late), nor before the values of the flag's
//! variants last changed (a `flag.update` of its type or variants, from the audit log).

mod serving;
mod unused;
mod usage;
mod words;

pub(crate) use unused::{evidence, Evidence};
pub(crate) use usage::{not_found, usage, UsageQuery};

use std::collections::BTreeMap;

use serde_json::Value as Json;

use self::serving::{EnvAnalysis, EnvConfigs, Serving};
use crate::clock::rfc3339;
use crate::error::ApiError;
use crate::model::{EnvServing, Flag, FlagConfig, StaleFlag, StaleKind, StaleReason, StaleReport};
use crate::snapshot::{default_config, flag_from_row};
use crate::store::{AuditFilter, Tx};

/// Milliseconds in a day.
const DAY_MS: i64 = 86_400_000;

/// The most days either setting takes: ten years.
pub(crate) const MAX_DAYS: u32 = 3650;

/// The report's settings.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Settings {
    /// How long each environment must have served one value.
    pub(crate) settled_days: u32,
    /// How long a temporary flag without `expires_at` may live.
    pub(crate) lifetime_days: u32,
    /// How long no evaluation may be reported for `unused`.
    pub(crate) unused_days: u32,
}

/// A flag definition with its variants (defaults filled in) and creation time.
struct Defined {
    flag: Flag,
    variants: BTreeMap<String, Json>,
    created_at: i64,
}

/// The report over every environment, or over `only` (which the caller has checked
/// exists), at time `now` (Unix milliseconds), with what telemetry says in `evidence`.
pub(crate) async fn stale_flags(
    tx: &mut Tx,
    only: Option<&str>,
    settings: Settings,
    evidence: &Evidence,
    now: i64,
) -> Result<StaleReport, ApiError> {
    let mut defined = Vec::new();
    for row in tx.flags().await? {
        let flag = flag_from_row(&row)?;
        let variants = flag.variants_or_default().unwrap_or_default();
        defined.push(Defined { flag, variants, created_at: row.created_at });
    }
    let envs: Vec<_> = tx.envs().await?.into_iter().filter(|e| only.is_none_or(|name| name == e.name)).collect();
    let mut configs: Vec<(String, EnvConfigs)> = Vec::new();
    for env in &envs {
        let mut these = EnvConfigs::new();
        for row in tx.configs(&env.name).await? {
            let config: FlagConfig = serde_json::from_str(&row.config)
                .map_err(|e| ApiError::internal(format!("stored config of {} in {}: {e}", row.flag, env.name)))?;
            these.insert(row.flag, (config, row.updated_at));
        }
        // Every flag has a configuration in every environment (creating either writes
        // them); one missing would be served as the API shows it, the default.
        for d in &defined {
            these
                .entry(d.flag.key.clone())
                .or_insert_with(|| (default_config(&d.variants), d.created_at.max(env.created_at)));
        }
        configs.push((env.name.clone(), these));
    }
    let mut analyses: Vec<(&str, EnvAnalysis<'_>)> =
        configs.iter().map(|(name, these)| (name.as_str(), EnvAnalysis::new(these, now))).collect();
    let scope = Scope { envs: envs.iter().map(|e| e.name.clone()).collect(), whole: only.is_none() };
    let mut flags = Vec::new();
    for d in defined.iter().filter(|d| d.flag.temporary) {
        let servings: Vec<(&str, Serving)> =
            analyses.iter_mut().map(|(name, analysis)| (*name, analysis.serving(&d.flag.key))).collect();
        if let Some(stale) = assess(tx, d, servings, &scope, settings, evidence, now).await? {
            flags.push(stale);
        }
    }
    flags.sort_by(|a, b| (&a.stale_since, &a.key).cmp(&(&b.stale_since, &b.key)));
    Ok(StaleReport {
        generated_at: rfc3339(now),
        settled_days: settings.settled_days,
        lifetime_days: settings.lifetime_days,
        unused_days: settings.unused_days,
        environments: scope.envs,
        flags,
    })
}

/// The environments a report covers.
pub(crate) struct Scope {
    /// Their names.
    pub(crate) envs: Vec<String>,
    /// Whether they are all there are (no `environment=` filter).
    pub(crate) whole: bool,
}

/// What one environment serves, with "since" moved to the last change of the values.
pub(crate) struct Served<'a> {
    pub(crate) env: &'a str,
    pub(crate) serving: Serving,
}

/// A reason found, before it is put into words.
pub(crate) struct Found {
    pub(crate) kind: StaleKind,
    pub(crate) since: i64,
    pub(crate) message: String,
}

/// Whether `d` is stale, and if so its entry in the report.
async fn assess(
    tx: &mut Tx,
    d: &Defined,
    servings: Vec<(&str, Serving)>,
    scope: &Scope,
    settings: Settings,
    evidence: &Evidence,
    now: i64,
) -> Result<Option<StaleFlag>, ApiError> {
    let mut found = Vec::new();
    found.extend(unused::unused(d, evidence, scope, settings.unused_days, now));
    let expires_at = d.flag.expires_at.as_deref().and_then(|text| pennon_core::parse_rfc3339(text).ok());
    match expires_at {
        Some(expiry) if expiry <= now => found.push(words::expired(expiry)),
        Some(_) => {}
        None => {
            let end = d.created_at.saturating_add(i64::from(settings.lifetime_days) * DAY_MS);
            if end <= now {
                found.push(words::past_lifetime(d.created_at, end, settings.lifetime_days));
            }
        }
    }
    let all_one = !servings.is_empty() && servings.iter().all(|(_, s)| matches!(s, Serving::One { .. }));
    if !all_one && found.is_empty() {
        return Ok(None);
    }
    // The values served changed when the variants did: no "since" is earlier.
    let values_changed = values_changed_at(tx, &d.flag.key, d.created_at).await?;
    let served: Vec<Served<'_>> = servings
        .into_iter()
        .map(|(env, serving)| Served {
            env,
            serving: match serving {
                Serving::One { variant, since } => Serving::One { variant, since: since.max(values_changed) },
                varies => varies,
            },
        })
        .collect();
    let latest = served.iter().filter_map(|s| one(&s.serving).map(|(_, since)| since)).max();
    let settled_by = now.saturating_sub(i64::from(settings.settled_days) * DAY_MS);
    if let (true, Some(latest)) = (all_one, latest.filter(|latest| *latest <= settled_by)) {
        let never = !configured_since(tx, &d.flag.key, d.created_at, &scope.envs).await?;
        found.push(words::settled(d, &served, latest, never, scope));
    }
    if found.is_empty() {
        return Ok(None);
    }
    found.sort_by_key(|f| (f.since, f.kind));
    let action = words::action(d, &found, &served, scope, settings);
    let mut evaluated = unused::last_evaluated(d, evidence, scope);
    let environments = served
        .iter()
        .map(|s| match &s.serving {
            Serving::One { variant, since } => EnvServing {
                environment: s.env.to_owned(),
                variant: Some(variant.clone()),
                value: d.variants.get(variant).cloned(),
                since: Some(rfc3339(*since)),
                varies: None,
                last_evaluated: evaluated.remove(s.env),
            },
            Serving::Varies(why) => EnvServing {
                environment: s.env.to_owned(),
                variant: None,
                value: None,
                since: None,
                varies: Some(why.clone()),
                last_evaluated: evaluated.remove(s.env),
            },
        })
        .collect();
    Ok(Some(StaleFlag {
        key: d.flag.key.clone(),
        owner: d.flag.owner.clone(),
        kind: d.flag.kind,
        created_at: rfc3339(d.created_at),
        expires_at: expires_at.map(rfc3339),
        stale_since: rfc3339(found[0].since),
        reasons: found
            .into_iter()
            .map(|f| StaleReason { reason: f.kind, since: rfc3339(f.since), message: f.message })
            .collect(),
        environments,
        action,
    }))
}

/// The variant and "since" of a [`Serving::One`].
pub(crate) fn one(serving: &Serving) -> Option<(&str, i64)> {
    match serving {
        Serving::One { variant, since } => Some((variant, *since)),
        Serving::Varies(_) => None,
    }
}

/// Audit entries, newest first, read a page at a time.
const PAGE: i64 = 500;

/// When the type or variants of flag `key` last changed: the newest `flag.update` since
/// its creation whose before and after differ in them, or its creation.
async fn values_changed_at(tx: &mut Tx, key: &str, created_at: i64) -> Result<i64, ApiError> {
    let mut filter = AuditFilter {
        resource: Some(key.to_owned()),
        resource_type: Some("flag".into()),
        action: Some("flag.update".into()),
        since: Some(created_at),
        limit: PAGE,
        ..AuditFilter::default()
    };
    loop {
        let rows = tx.audit(&filter).await?;
        for row in &rows {
            let read = |text: &Option<String>| text.as_deref().and_then(|t| serde_json::from_str::<Json>(t).ok());
            let (before, after) = (read(&row.before_json), read(&row.after_json));
            let values =
                |flag: &Option<Json>| flag.as_ref().map(|f| (f.get("type").cloned(), f.get("variants").cloned()));
            if values(&before) != values(&after) {
                return Ok(row.at);
            }
        }
        match rows.last() {
            Some(last) if rows.len() as i64 == PAGE => filter.before_id = Some(last.id),
            _ => return Ok(created_at),
        }
    }
}

/// Whether the configuration of flag `key` was changed in any of `envs` since it was
/// created: by a `config.*` write (directly or through an approved change request; a
/// rollback only restores what such writes made).
async fn configured_since(tx: &mut Tx, key: &str, created_at: i64, envs: &[String]) -> Result<bool, ApiError> {
    for env in envs {
        for action in ["config.update", "config.toggle", "config.rollout"] {
            let filter = AuditFilter {
                env: Some(env.clone()),
                resource: Some(key.to_owned()),
                resource_type: Some("flag".into()),
                action: Some(action.into()),
                since: Some(created_at),
                limit: 1,
                ..AuditFilter::default()
            };
            if !tx.audit(&filter).await?.is_empty() {
                return Ok(true);
            }
        }
    }
    Ok(false)
}
