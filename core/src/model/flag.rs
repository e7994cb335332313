//! Reading flags and segments: one function per object shape of `docs/SPEC.md` 3.2.

use super::{
    list, nullable, required, sorted_map, Members, RawCondition, RawFlag, RawMetadataValue, RawOp, RawPrerequisite,
    RawRamp, RawRollout, RawRule, RawSchedule, RawSegment, RawSegmentRule, RawServe, RawStep, RawTarget,
    RawWeightedVariant, Text,
};
use crate::json::{JsonError, Reader};
use crate::snapshot::FlagType;

/// An object with two possible members, each read by its own function.
fn two_members<'a, A, B>(
    reader: &mut Reader<'a>,
    names: &'static [&'static str; 2],
    mut first: impl FnMut(&mut Reader<'a>) -> Result<A, JsonError>,
    mut second: impl FnMut(&mut Reader<'a>) -> Result<B, JsonError>,
) -> Result<(Option<A>, Option<B>), JsonError> {
    let (mut a, mut b) = (None, None);
    Members::new(names).read_object(reader, |reader, index| {
        if index == 0 {
            a = Some(first(reader)?);
        } else {
            b = Some(second(reader)?);
        }
        Ok(())
    })?;
    Ok((a, b))
}

fn strings<'a>(reader: &mut Reader<'a>) -> Result<Vec<Text<'a>>, JsonError> {
    list(reader, Reader::string)
}

fn weights(reader: &mut Reader<'_>) -> Result<Vec<u32>, JsonError> {
    list(reader, weight)
}

fn weight(reader: &mut Reader<'_>) -> Result<u32, JsonError> {
    reader.unsigned(u64::from(u32::MAX)).map(|w| u32::try_from(w).unwrap_or(u32::MAX))
}

pub(super) fn flag<'a>(reader: &mut Reader<'a>) -> Result<RawFlag<'a>, JsonError> {
    const NAMES: &[&str] = &[
        "type",
        "enabled",
        "variants",
        "off_variant",
        "fallthrough",
        "targets",
        "rules",
        "prerequisites",
        "description",
        "owner",
        "tags",
        "temporary",
        "expires_at",
        "metadata",
    ];
    let (mut kind, mut enabled, mut variants, mut off_variant, mut fallthrough) = (None, None, None, None, None);
    let (mut targets, mut rules, mut prerequisites, mut tags, mut metadata) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let (mut description, mut owner, mut temporary, mut expires_at) = (None, None, None, None);
    Members::new(NAMES).read_object(reader, |reader, index| {
        match index {
            0 => kind = Some(flag_type(reader)?),
            1 => enabled = Some(reader.bool()?),
            2 => variants = Some(sorted_map(reader, |reader, _| reader.value())?),
            3 => off_variant = Some(reader.string()?),
            4 => fallthrough = Some(serve(reader)?),
            5 => targets = list(reader, target)?,
            6 => rules = list(reader, rule)?,
            7 => prerequisites = list(reader, prerequisite)?,
            8 => description = nullable(reader, Reader::string)?,
            9 => owner = nullable(reader, Reader::string)?,
            10 => tags = strings(reader)?,
            11 => temporary = nullable(reader, Reader::bool)?,
            12 => expires_at = nullable(reader, Reader::string)?,
            _ => metadata = sorted_map(reader, |reader, _| metadata_value(reader))?,
        }
        Ok(())
    })?;
    Ok(RawFlag {
        kind: required(kind, "type")?,
        enabled: required(enabled, "enabled")?,
        variants: required(variants, "variants")?,
        off_variant: required(off_variant, "off_variant")?,
        fallthrough: required(fallthrough, "fallthrough")?,
        targets,
        rules,
        prerequisites,
        description,
        owner,
        tags,
        temporary,
        expires_at,
        metadata,
    })
}

fn flag_type(reader: &mut Reader<'_>) -> Result<FlagType, JsonError> {
    let name = reader.string()?;
    FlagType::parse(&name).ok_or_else(|| {
        JsonError::new(format!("unknown type `{name}`, expected one of boolean, string, integer, float, object"))
    })
}

fn metadata_value<'a>(reader: &mut Reader<'a>) -> Result<RawMetadataValue<'a>, JsonError> {
    match reader.peek() {
        Some(b'"') => reader.string().map(RawMetadataValue::String),
        Some(b't' | b'f') => reader.bool().map(RawMetadataValue::Bool),
        Some(b'-' | b'0'..=b'9') => reader.number().map(RawMetadataValue::Number),
        _ => Err(reader.type_error("a string, number or bool")),
    }
}

fn target<'a>(reader: &mut Reader<'a>) -> Result<RawTarget<'a>, JsonError> {
    let (variant, keys) = two_members(reader, &["variant", "keys"], Reader::string, strings)?;
    Ok(RawTarget { variant: required(variant, "variant")?, keys: required(keys, "keys")? })
}

fn serve<'a>(reader: &mut Reader<'a>) -> Result<RawServe<'a>, JsonError> {
    let (variant, rollout) = two_members(
        reader,
        &["variant", "rollout"],
        |reader| nullable(reader, Reader::string),
        |reader| nullable(reader, self::rollout),
    )?;
    Ok(RawServe { variant: variant.flatten(), rollout: rollout.flatten() })
}

fn rule<'a>(reader: &mut Reader<'a>) -> Result<RawRule<'a>, JsonError> {
    let (mut id, mut conditions, mut serve) = (None, Vec::new(), None);
    Members::new(&["id", "conditions", "serve"]).read_object(reader, |reader, index| {
        match index {
            0 => id = Some(reader.string()?),
            1 => conditions = list(reader, condition)?,
            _ => serve = Some(self::serve(reader)?),
        }
        Ok(())
    })?;
    Ok(RawRule { id: required(id, "id")?, conditions, serve: required(serve, "serve")? })
}

fn condition<'a>(reader: &mut Reader<'a>) -> Result<RawCondition<'a>, JsonError> {
    let (mut attribute, mut op, mut value, mut value_items) = (None, None, None, 0);
    let (mut case_insensitive, mut negate) = (false, false);
    Members::new(&["attribute", "op", "value", "case_insensitive", "negate"]).read_object(
        reader,
        |reader, index| {
            match index {
                0 => attribute = nullable(reader, Reader::string)?,
                1 => op = Some(RawOp::parse(&reader.string()?)?),
                2 if reader.null()? => value = None,
                2 => {
                    reader.peek();
                    let start = reader.offset();
                    value_items = reader.skip_counting()?;
                    value = Some(reader.slice(start, reader.offset()));
                }
                3 => case_insensitive = reader.bool()?,
                _ => negate = reader.bool()?,
            }
            Ok(())
        },
    )?;
    Ok(RawCondition { attribute, op: required(op, "op")?, value, value_items, case_insensitive, negate })
}

fn prerequisite<'a>(reader: &mut Reader<'a>) -> Result<RawPrerequisite<'a>, JsonError> {
    let (flag, variant) = two_members(reader, &["flag", "variant"], Reader::string, Reader::string)?;
    Ok(RawPrerequisite { flag: required(flag, "flag")?, variant: required(variant, "variant")? })
}

fn rollout<'a>(reader: &mut Reader<'a>) -> Result<RawRollout<'a>, JsonError> {
    let (mut variants, mut bucket_by, mut salt, mut schedule) = (None, None, None, None);
    Members::new(&["variants", "bucket_by", "salt", "schedule"]).read_object(reader, |reader, index| {
        match index {
            0 => variants = Some(list(reader, weighted_variant)?),
            1 => bucket_by = nullable(reader, Reader::string)?,
            2 => salt = nullable(reader, Reader::string)?,
            _ => schedule = nullable(reader, self::schedule)?.map(Box::new),
        }
        Ok(())
    })?;
    Ok(RawRollout { variants: required(variants, "variants")?, bucket_by, salt, schedule })
}

fn weighted_variant<'a>(reader: &mut Reader<'a>) -> Result<RawWeightedVariant<'a>, JsonError> {
    let (variant, weight) = two_members(reader, &["variant", "weight"], Reader::string, self::weight)?;
    Ok(RawWeightedVariant { variant: required(variant, "variant")?, weight: required(weight, "weight")? })
}

fn schedule<'a>(reader: &mut Reader<'a>) -> Result<RawSchedule<'a>, JsonError> {
    let (steps, ramp) = two_members(
        reader,
        &["steps", "ramp"],
        |reader| nullable(reader, |reader| list(reader, step)),
        |reader| nullable(reader, self::ramp),
    )?;
    Ok(RawSchedule { steps: steps.flatten(), ramp: ramp.flatten() })
}

fn step<'a>(reader: &mut Reader<'a>) -> Result<RawStep<'a>, JsonError> {
    let (at, step_weights) = two_members(reader, &["at", "weights"], Reader::string, weights)?;
    Ok(RawStep { at: required(at, "at")?, weights: required(step_weights, "weights")? })
}

fn ramp<'a>(reader: &mut Reader<'a>) -> Result<RawRamp<'a>, JsonError> {
    let (mut start, mut end, mut ramp_weights) = (None, None, None);
    Members::new(&["start", "end", "weights"]).read_object(reader, |reader, index| {
        match index {
            0 => start = Some(reader.string()?),
            1 => end = Some(reader.string()?),
            _ => ramp_weights = Some(weights(reader)?),
        }
        Ok(())
    })?;
    Ok(RawRamp {
        start: required(start, "start")?,
        end: required(end, "end")?,
        weights: required(ramp_weights, "weights")?,
    })
}

pub(super) fn segment<'a>(reader: &mut Reader<'a>) -> Result<RawSegment<'a>, JsonError> {
    let mut segment = RawSegment::default();
    Members::new(&["included", "excluded", "rules"]).read_object(reader, |reader, index| {
        match index {
            0 => segment.included = strings(reader)?,
            1 => segment.excluded = strings(reader)?,
            _ => segment.rules = list(reader, segment_rule)?,
        }
        Ok(())
    })?;
    Ok(segment)
}

fn segment_rule<'a>(reader: &mut Reader<'a>) -> Result<RawSegmentRule<'a>, JsonError> {
    let (id, conditions) =
        two_members(reader, &["id", "conditions"], Reader::string, |reader| list(reader, condition))?;
    Ok(RawSegmentRule { id: required(id, "id")?, conditions: conditions.unwrap_or_default() })
}
