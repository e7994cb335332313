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

mod history;
mod serving;
mod unused;
mod usage;
mod words;

pub(crate) use unused::{evidence, Evidence};
pub(crate) use usage::{not_found, usage, UsageQuery};
pub use words::{days, for_days};

use std::collections::BTreeMap;

use serde_json::Value as Json;

use self::serving::{EnvAnalysis, EnvConfigs, Serving};
use crate::clock::rfc3339;
use crate::error::ApiError;
use crate::model::{EnvServing, Flag, FlagConfig, StaleFlag, StaleKind, StaleReason, StaleReport};
use crate::snapshot::{default_config, flag_from_row};
use crate::store::Tx;

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
    let mut looks = Vec::new();
    for d in defined.iter().filter(|d| d.flag.temporary) {
        let servings: Vec<(&str, Serving)> =
            analyses.iter_mut().map(|(name, analysis)| (*name, analysis.serving(&d.flag.key))).collect();
        looks.extend(first_look(d, servings, &scope, settings, evidence, now));
    }
    // The audit log is read twice for all the flags at once, not once or more per flag.
    let created: BTreeMap<&str, i64> = looks.iter().map(|l| (l.d.flag.key.as_str(), l.d.created_at)).collect();
    let values_changed = history::values_changed(tx, &created).await?;
    let settled_by = now.saturating_sub(i64::from(settings.settled_days) * DAY_MS);
    let looks: Vec<_> = looks
        .into_iter()
        .map(|l| {
            let changed = values_changed.get(l.d.flag.key.as_str()).copied();
            l.served(changed, settled_by)
        })
        .collect();
    let settled: BTreeMap<&str, i64> =
        looks.iter().filter(|l| l.settled_at.is_some()).map(|l| (l.d.flag.key.as_str(), l.d.created_at)).collect();
    let configured = history::configured(tx, &settled, &scope.envs).await?;
    let mut flags = Vec::new();
    for look in looks {
        let never = !configured.contains(look.d.flag.key.as_str());
        flags.extend(assess(look, never, &scope, settings, evidence));
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

/// A temporary flag that may be stale, with what it serves and the reasons found
/// without the audit log.
struct Look<'a> {
    d: &'a Defined,
    servings: Vec<(&'a str, Serving)>,
    found: Vec<Found>,
    all_one: bool,
    expires_at: Option<i64>,
}

/// `d` with what the audit log adds: "since" no earlier than its values last changed,
/// and when it settled everywhere, if it has (for at least the settled days).
struct Seen<'a> {
    d: &'a Defined,
    served: Vec<Served<'a>>,
    found: Vec<Found>,
    settled_at: Option<i64>,
    expires_at: Option<i64>,
}

/// `d`, unless neither the audit log nor anything else could make it stale: it does
/// not serve one value everywhere and has no other reason.
fn first_look<'a>(
    d: &'a Defined,
    servings: Vec<(&'a str, Serving)>,
    scope: &Scope,
    settings: Settings,
    evidence: &Evidence,
    now: i64,
) -> Option<Look<'a>> {
    let mut found: Vec<Found> = unused::unused(d, evidence, scope, settings.unused_days, now).into_iter().collect();
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
    (all_one || !found.is_empty()).then_some(Look { d, servings, found, all_one, expires_at })
}

impl<'a> Look<'a> {
    /// With the time its values last changed (`None`: not since its creation) and the
    /// time by which it must have settled.
    fn served(self, values_changed: Option<i64>, settled_by: i64) -> Seen<'a> {
        // The values served changed when the variants did: no "since" is earlier.
        let values_changed = values_changed.unwrap_or(self.d.created_at);
        let served: Vec<Served<'_>> = self
            .servings
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
        let settled_at = latest.filter(|latest| self.all_one && *latest <= settled_by);
        Seen { d: self.d, served, found: self.found, settled_at, expires_at: self.expires_at }
    }
}

/// `seen`'s entry in the report, if it is stale; `never` says no covered environment's
/// configuration changed since it was created.
fn assess(seen: Seen<'_>, never: bool, scope: &Scope, settings: Settings, evidence: &Evidence) -> Option<StaleFlag> {
    let Seen { d, served, mut found, settled_at, expires_at } = seen;
    if let Some(latest) = settled_at {
        found.push(words::settled(d, &served, latest, never, scope));
    }
    if found.is_empty() {
        return None;
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
    Some(StaleFlag {
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
    })
}

/// The variant and "since" of a [`Serving::One`].
pub(crate) fn one(serving: &Serving) -> Option<(&str, i64)> {
    match serving {
        Serving::One { variant, since } => Some((variant, *since)),
        Serving::Varies(_) => None,
    }
}
