//! Compiling rollouts and their schedules (`docs/SPEC.md` sections 3.2 and 5.7).

use super::flag::{lookup_variant, VariantIndex};
use super::At;
use crate::eval::bucket::SaltBlock;
use crate::model::{RawRollout, RawSchedule};
use crate::snapshot::{Rollout, Schedule, WeightSet};

const MAX_STEPS: usize = 1_000;
const MAX_VARIANTS: usize = 1_000;

pub(super) fn compile_rollout(flag_key: &str, raw: &RawRollout<'_>, index: &VariantIndex<'_>) -> Result<Rollout, At> {
    if raw.variants.is_empty() || raw.variants.len() > MAX_VARIANTS {
        return Err(At::new(".variants", format!("a rollout needs 1 to {MAX_VARIANTS} variants")));
    }
    let mut variants = Vec::with_capacity(raw.variants.len());
    for (i, entry) in raw.variants.iter().enumerate() {
        let variant =
            lookup_variant(index, &entry.variant).map_err(|e| e.within(&format!(".variants[{i}].variant")))?;
        if variants.contains(&variant) {
            return Err(At::new(
                format!(".variants[{i}].variant"),
                format!("variant `{}` appears twice", entry.variant),
            ));
        }
        variants.push(variant);
    }
    let weights: Vec<u32> = raw.variants.iter().map(|entry| entry.weight).collect();
    let total = checked_total(&weights).map_err(|e| e.within(".variants"))?;
    let bucket_by = match &raw.bucket_by {
        Some(name) => Some(super::condition::attribute_path(name).map_err(|e| e.within(".bucket_by"))?),
        None => None,
    };
    let schedule = match &raw.schedule {
        Some(schedule) => Some(compile_schedule(schedule, weights.len(), total).map_err(|e| e.within(".schedule"))?),
        None => None,
    };
    let salt = raw.salt.as_deref().unwrap_or(flag_key);
    Ok(Rollout {
        variants,
        weights: WeightSet::new(weights),
        bucket_by,
        salt: super::name(salt),
        salt_block: SaltBlock::new(salt),
        schedule,
    })
}

/// The sum of the weights, which must be 1 to `u32::MAX`.
fn checked_total(weights: &[u32]) -> Result<u64, At> {
    let total: u64 = weights.iter().map(|&w| u64::from(w)).sum();
    if total == 0 || total > u64::from(u32::MAX) {
        return Err(At::new("", format!("weights must add up to 1 to {}, they add up to {total}", u32::MAX)));
    }
    Ok(total)
}

fn compile_schedule(raw: &RawSchedule<'_>, count: usize, base_total: u64) -> Result<Schedule, At> {
    let same_length = |weights: &[u32], at: &str| {
        if weights.len() == count {
            Ok(())
        } else {
            Err(At::new(at, format!("needs one weight per rollout variant ({count}), found {}", weights.len())))
        }
    };
    match (&raw.steps, &raw.ramp) {
        (Some(steps), None) => {
            if steps.is_empty() || steps.len() > MAX_STEPS {
                return Err(At::new(".steps", format!("a schedule needs 1 to {MAX_STEPS} steps")));
            }
            let mut compiled: Vec<(i64, WeightSet)> = Vec::with_capacity(steps.len());
            for (i, step) in steps.iter().enumerate() {
                let at = format!(".steps[{i}]");
                let time = crate::parse_rfc3339(&step.at).map_err(|e| At::new(format!("{at}.at"), e.to_string()))?;
                if compiled.last().is_some_and(|(previous, _)| *previous >= time) {
                    return Err(At::new(format!("{at}.at"), "steps must be in strictly increasing time order"));
                }
                same_length(&step.weights, &format!("{at}.weights"))?;
                checked_total(&step.weights).map_err(|e| e.within(&format!("{at}.weights")))?;
                compiled.push((time, WeightSet::new(step.weights.clone())));
            }
            Ok(Schedule::Steps(compiled))
        }
        (None, Some(ramp)) => {
            let start = crate::parse_rfc3339(&ramp.start).map_err(|e| At::new(".ramp.start", e.to_string()))?;
            let end = crate::parse_rfc3339(&ramp.end).map_err(|e| At::new(".ramp.end", e.to_string()))?;
            if end <= start {
                return Err(At::new(".ramp.end", "must be later than start"));
            }
            same_length(&ramp.weights, ".ramp.weights")?;
            let total = checked_total(&ramp.weights).map_err(|e| e.within(".ramp.weights"))?;
            if total != base_total {
                let message = format!("must add up to the rollout's total ({base_total}), they add up to {total}");
                return Err(At::new(".ramp.weights", message));
            }
            Ok(Schedule::Ramp { start, end, weights: WeightSet::new(ramp.weights.clone()) })
        }
        _ => Err(At::new("", "a schedule needs exactly one of `steps` and `ramp`")),
    }
}
