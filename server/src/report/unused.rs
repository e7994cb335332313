//! The `unused` reason: no evaluations reported for `unused_days` where SDKs report.
//!
//! Silence is not evidence: an environment counts only if SDKs that could evaluate the
//! flag report telemetry there (server keys for a server-only flag, either kind for a
//! client-visible one), reported within the period, and had been reporting since before
//! it began; and the flag must be older than the period. One evaluation in any
//! environment within the period clears the flag; no environment with such reports, no
//! reason.

use std::collections::{BTreeMap, HashMap};

use super::{Defined, Found, Scope, DAY_MS};
use crate::clock::rfc3339;
use crate::error::ApiError;
use crate::model::StaleKind;
use crate::store::{EnvRow, Tx};

/// What telemetry says of each environment.
#[derive(Debug, Default)]
pub(crate) struct Evidence {
    envs: BTreeMap<String, EnvEvidence>,
}

/// What telemetry says of one environment, from when it was created.
#[derive(Debug, Default)]
struct EnvEvidence {
    /// Since when and until when SDKs with server keys reported.
    server: Option<(i64, i64)>,
    /// The same for client keys.
    client: Option<(i64, i64)>,
    /// When each flag was last evaluated.
    last_seen: HashMap<String, i64>,
}

/// Reads the evidence of `envs` from the telemetry store.
pub(crate) async fn evidence(telemetry: &mut Tx, envs: &[EnvRow]) -> Result<Evidence, ApiError> {
    let mut evidence = Evidence::default();
    for env in envs {
        let mut these = EnvEvidence::default();
        for (kind, first, last) in telemetry.reporting(&env.name).await? {
            if last < env.created_at {
                continue; // an earlier environment of the same name
            }
            let span = Some((first.max(env.created_at), last));
            match kind.as_str() {
                "server" => these.server = span,
                _ => these.client = span,
            }
        }
        for (flag, _, at) in telemetry.last_seen(&env.name, None).await? {
            if at >= env.created_at {
                let latest = these.last_seen.entry(flag).or_insert(at);
                *latest = (*latest).max(at);
            }
        }
        evidence.envs.insert(env.name.clone(), these);
    }
    Ok(evidence)
}

impl Evidence {
    /// When flag `d` was last evaluated in `env` (not before it was created).
    pub(super) fn last_seen(&self, env: &str, d: &Defined) -> Option<i64> {
        let at = *self.envs.get(env)?.last_seen.get(&d.flag.key)?;
        (at >= d.created_at).then_some(at)
    }

    /// Since when and until when SDKs that could evaluate `d` reported in `env`.
    fn coverage(&self, env: &str, d: &Defined) -> Option<(i64, i64)> {
        let these = self.envs.get(env)?;
        match (these.server, these.client.filter(|_| d.flag.client_visible)) {
            (Some((a, b)), Some((c, e))) => Some((a.min(c), b.max(e))),
            (one, other) => one.or(other),
        }
    }
}

/// `unused` for `d` over `scope`, if it holds at `now`.
pub(super) fn unused(d: &Defined, evidence: &Evidence, scope: &Scope, days: u32, now: i64) -> Option<Found> {
    let start = now.saturating_sub(i64::from(days) * DAY_MS);
    if scope.envs.iter().any(|env| evidence.last_seen(env, d).is_some_and(|at| at >= start)) {
        return None;
    }
    // Environments that show it unused: their name, last evaluation and observation start.
    let mut quiet: Vec<(&str, Option<i64>, i64)> = Vec::new();
    for env in &scope.envs {
        let Some((first, last)) = evidence.coverage(env, d) else { continue };
        let observed_from = first.max(d.created_at);
        if last < start || observed_from > start {
            continue; // reports stopped before the period, or began within it
        }
        quiet.push((env, evidence.last_seen(env, d), observed_from));
    }
    let since = quiet.iter().map(|(_, seen, from)| seen.unwrap_or(*from)).max()?;
    let names: Vec<String> = quiet.iter().map(|(env, _, _)| format!("`{env}`")).collect();
    let latest = quiet.iter().filter_map(|(env, seen, _)| seen.map(|at| (at, *env))).max();
    let when = match latest {
        Some((at, env)) => format!("last evaluated on {} in `{env}`", super::words::date(at)),
        None => format!("not evaluated since reports began on {}", super::words::date(since)),
    };
    let message = format!(
        "no evaluations reported for {} in {} (SDKs report telemetry there): {when}",
        super::words::days(days),
        names.join(", ")
    );
    Some(Found { kind: StaleKind::Unused, since, message })
}

/// The last evaluation of `d` in each of `scope`'s environments that has reports.
pub(super) fn last_evaluated(d: &Defined, evidence: &Evidence, scope: &Scope) -> BTreeMap<String, String> {
    scope.envs.iter().filter_map(|env| evidence.last_seen(env, d).map(|at| (env.clone(), rfc3339(at)))).collect()
}
