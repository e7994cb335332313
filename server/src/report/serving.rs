//! What a flag serves in one environment, decided from its configuration as the core
//! evaluates it (`docs/SPEC.md` section 5.3): one variant to every context from some
//! time on, or why that cannot be shown.
//!
//! The analysis is conservative. It never reasons about conditions, segments or
//! bucketing: a rule with conditions may match anyone, so it counts unless it serves
//! what the flag serves anyway, and a rollout counts as one variant only when its
//! effective weights (SPEC 5.7) put everything on that variant. It reasons about time
//! only through schedules and the moments configurations last changed; a malformed
//! context is an error for every flag alike, so it is left out.

use std::collections::BTreeMap;

use crate::model::{FlagConfig, Rollout, Serve};

/// One environment's flag configurations by key, each with when it last changed (Unix
/// milliseconds).
pub(crate) type EnvConfigs = BTreeMap<String, (FlagConfig, i64)>;

/// What a flag serves in one environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Serving {
    /// `variant` to every context, from `since` (Unix milliseconds) on.
    One {
        /// The variant.
        variant: String,
        /// Since when; never before its configuration last changed.
        since: i64,
    },
    /// Not one variant to everyone, or not provably: why, in words.
    Varies(String),
}

/// Prerequisite chains deeper than this are refused when a snapshot compiles (SPEC 3.4).
const MAX_DEPTH: usize = 32;

/// The flags of one environment, each analysed once: a prerequisite shared by many
/// flags is not analysed again for each.
pub(crate) struct EnvAnalysis<'a> {
    configs: &'a EnvConfigs,
    now: i64,
    done: BTreeMap<String, Serving>,
}

impl<'a> EnvAnalysis<'a> {
    /// An analysis of `configs` at time `now` (Unix milliseconds).
    pub(crate) fn new(configs: &'a EnvConfigs, now: i64) -> EnvAnalysis<'a> {
        EnvAnalysis { configs, now, done: BTreeMap::new() }
    }

    /// What flag `key` serves.
    pub(crate) fn serving(&mut self, key: &str) -> Serving {
        self.serving_at(key, 0)
    }

    fn serving_at(&mut self, key: &str, depth: usize) -> Serving {
        if let Some(done) = self.done.get(key) {
            return done.clone();
        }
        // Marked before the prerequisites are followed: a cycle (which compiling refuses,
        // so never in a published state) ends here rather than looping.
        self.done.insert(key.to_owned(), Serving::Varies("its prerequisites form a cycle".into()));
        let serving = self.evaluate(key, depth);
        self.done.insert(key.to_owned(), serving.clone());
        serving
    }

    /// SPEC 5.3 steps 3 to 7 over every context at once.
    fn evaluate(&mut self, key: &str, depth: usize) -> Serving {
        let configs = self.configs;
        let Some((config, changed)) = configs.get(key) else {
            return Serving::Varies(format!("flag `{key}` has no configuration here"));
        };
        if !config.enabled {
            return Serving::One { variant: config.off_variant.clone(), since: *changed };
        }
        let mut since = *changed;
        for prerequisite in &config.prerequisites {
            if depth >= MAX_DEPTH {
                return Serving::Varies(format!("its prerequisites nest deeper than {MAX_DEPTH}"));
            }
            match self.serving_at(&prerequisite.flag, depth + 1) {
                // Passes for everyone: no effect.
                Serving::One { variant, since: from } if variant == prerequisite.variant => since = since.max(from),
                // Fails for everyone: everyone gets the off variant.
                Serving::One { since: from, .. } => {
                    return Serving::One { variant: config.off_variant.clone(), since: since.max(from) };
                }
                // Passes for some and fails for others, or fails to evaluate (an error,
                // not the off variant) for some.
                Serving::Varies(why) => return Serving::Varies(format!("prerequisite `{}`: {why}", prerequisite.flag)),
            }
        }
        match body(config, self.now) {
            Ok((variant, from)) => Serving::One { variant, since: since.max(from) },
            Err(why) => Serving::Varies(why),
        }
    }
}

/// Targets, rules and the fallthrough (SPEC 5.3 steps 5 to 7): the variant they serve
/// everyone and since when (`i64::MIN`: for as long as the configuration is as it is).
fn body(config: &FlagConfig, now: i64) -> Result<(String, i64), String> {
    // A rule without conditions matches everyone: the rules after it and the
    // fallthrough are never reached.
    let last = config.rules.iter().position(|rule| rule.conditions.is_empty());
    let (decider, name) = match last {
        Some(i) => (&config.rules[i].serve, format!("rule `{}` (no conditions)", config.rules[i].id)),
        None => (&config.fallthrough, "the fallthrough".to_owned()),
    };
    let (variant, mut since) = single(decider, now).map_err(|why| format!("{name} {why}"))?;
    if let Some(target) = config.targets.iter().find(|t| t.variant != variant && !t.keys.is_empty()) {
        let keys = match target.keys.len() {
            1 => "1 targeted key gets".to_owned(),
            n => format!("{n} targeted keys get"),
        };
        return Err(format!("{keys} `{}`, the others `{variant}`", target.variant));
    }
    for rule in &config.rules[..last.unwrap_or(config.rules.len())] {
        match single(&rule.serve, now) {
            Ok((served, from)) if served == variant => since = since.max(from),
            Ok((served, _)) => {
                return Err(format!(
                    "rule `{}` serves `{served}` to the contexts it matches, the others get `{variant}`",
                    rule.id
                ));
            }
            Err(why) => return Err(format!("rule `{}` {why}", rule.id)),
        }
    }
    Ok((variant, since))
}

/// The one variant a serve gives everyone, and from when.
fn single(serve: &Serve, now: i64) -> Result<(String, i64), String> {
    match (&serve.variant, &serve.rollout) {
        (Some(variant), None) => Ok((variant.clone(), i64::MIN)),
        (None, Some(rollout)) => single_rollout(rollout, now),
        _ => Err("serves neither a variant nor a rollout".into()),
    }
}

/// A rollout's one variant: its effective weights (SPEC 5.7) put everything on one
/// variant from some time up to `now`, and at every point of its schedule after that.
fn single_rollout(rollout: &Rollout, now: i64) -> Result<(String, i64), String> {
    let names: Vec<&str> = rollout.variants.iter().map(|w| w.variant.as_str()).collect();
    let base: Vec<u32> = rollout.variants.iter().map(|w| w.weight).collect();
    // From when each set of weights holds, in time order: the base weights, then each
    // change.
    let mut points: Vec<(i64, &[u32])> = vec![(i64::MIN, &base)];
    if let Some(schedule) = &rollout.schedule {
        match (&schedule.steps, &schedule.ramp) {
            (Some(steps), None) => {
                for step in steps {
                    points.push((time(&step.at)?, &step.weights));
                }
            }
            (None, Some(ramp)) => {
                time(&ramp.start)?;
                let end = time(&ramp.end)?;
                // Between start and end each weight moves linearly from base to target:
                // with both ends on one variant every other weight is 0 throughout,
                // otherwise the weights are split until the end.
                let (from, to) = (only(&names, &base), only(&names, &ramp.weights));
                if to.is_none() || from != to {
                    points.push((end, &ramp.weights));
                }
            }
            _ => return Err("has a schedule of neither steps nor a ramp".into()),
        }
    }
    let (last_from, last) = points.last().copied().unwrap_or((i64::MIN, &base));
    let variant = only(&names, last).ok_or_else(|| match points.len() {
        1 => format!("splits users: {}", split(&names, last)),
        _ => format!("ends its schedule split: {}", split(&names, last)),
    })?;
    // The run of weights on that variant at the end of the schedule: it holds from
    // the first of them on.
    let mut since = last_from;
    for (from, weights) in points.iter().rev().skip(1) {
        if only(&names, weights) != Some(variant) {
            break;
        }
        since = *from;
    }
    if since > now {
        return Err(format!(
            "follows a schedule: everyone gets `{variant}` only from {}",
            crate::clock::rfc3339(since)
        ));
    }
    Ok((variant.to_owned(), since))
}

/// The variant holding all the weight, if exactly one has any.
fn only<'n>(names: &[&'n str], weights: &[u32]) -> Option<&'n str> {
    if names.len() != weights.len() {
        return None;
    }
    let mut holders = names.iter().zip(weights).filter(|(_, weight)| **weight > 0);
    match (holders.next(), holders.next()) {
        (Some((name, _)), None) => Some(name),
        _ => None,
    }
}

/// `on` 25%, `off` 75%.
fn split(names: &[&str], weights: &[u32]) -> String {
    let total: u64 = weights.iter().map(|w| u64::from(*w)).sum::<u64>().max(1);
    let parts: Vec<String> = names
        .iter()
        .zip(weights)
        .filter(|(_, weight)| **weight > 0)
        .map(|(name, weight)| {
            #[allow(clippy::cast_precision_loss)] // a percentage to show, to 3 decimals
            let percent = format!("{:.3}", *weight as f64 * 100.0 / total as f64);
            format!("`{name}` {}%", percent.trim_end_matches('0').trim_end_matches('.'))
        })
        .collect();
    parts.join(", ")
}

fn time(text: &str) -> Result<i64, String> {
    pennon_core::parse_rfc3339(text).map_err(|e| format!("has a schedule time that does not parse: {e}"))
}
