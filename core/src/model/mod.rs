//! The payload as signed (`docs/SPEC.md` section 3), borrowed from its text before
//! compiling.
//!
//! Every object refuses members it does not name and every map refuses duplicate keys,
//! so two parsers can never read one signed payload two ways. Errors name the JSON
//! path, for example `flags["checkout"].rules[0].conditions[1]: unknown member `colour``.

mod flag;
mod payload;

use std::borrow::Cow;

pub(crate) use payload::{parse_payload, Body, Header};

use crate::json::{Json, JsonError, Num, Reader};

use crate::snapshot::FlagType;

/// Text from the payload: borrowed unless it had escapes.
pub(crate) type Text<'a> = Cow<'a, str>;

/// A map entry plus a fingerprint of its exact JSON text, so that a host can tell which
/// flags a new snapshot changed without comparing compiled structures.
pub(crate) struct Keyed<'a, T> {
    pub(crate) key: Text<'a>,
    pub(crate) value: T,
    pub(crate) fingerprint: u64,
}

pub(crate) struct RawFlag<'a> {
    pub(crate) kind: FlagType,
    pub(crate) enabled: bool,
    /// Sorted by name.
    pub(crate) variants: Vec<(Text<'a>, Json<'a>)>,
    pub(crate) off_variant: Text<'a>,
    pub(crate) fallthrough: RawServe<'a>,
    pub(crate) targets: Vec<RawTarget<'a>>,
    pub(crate) rules: Vec<RawRule<'a>>,
    pub(crate) prerequisites: Vec<RawPrerequisite<'a>>,
    pub(crate) description: Option<Text<'a>>,
    pub(crate) owner: Option<Text<'a>>,
    pub(crate) tags: Vec<Text<'a>>,
    pub(crate) temporary: Option<bool>,
    pub(crate) expires_at: Option<Text<'a>>,
    /// Sorted by key.
    pub(crate) metadata: Vec<(Text<'a>, RawMetadataValue<'a>)>,
}

pub(crate) enum RawMetadataValue<'a> {
    Bool(bool),
    Number(Num),
    String(Text<'a>),
}

pub(crate) struct RawTarget<'a> {
    pub(crate) variant: Text<'a>,
    pub(crate) keys: Vec<Text<'a>>,
}

pub(crate) struct RawServe<'a> {
    pub(crate) variant: Option<Text<'a>>,
    pub(crate) rollout: Option<RawRollout<'a>>,
}

pub(crate) struct RawRule<'a> {
    pub(crate) id: Text<'a>,
    pub(crate) conditions: Vec<RawCondition<'a>>,
    pub(crate) serve: RawServe<'a>,
}

pub(crate) struct RawSegmentRule<'a> {
    pub(crate) id: Text<'a>,
    pub(crate) conditions: Vec<RawCondition<'a>>,
}

/// The operators of `docs/SPEC.md` section 3.2, by their payload names.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum RawOp {
    Equals,
    NotEquals,
    In,
    NotIn,
    Contains,
    StartsWith,
    EndsWith,
    Matches,
    Lt,
    Lte,
    Gt,
    Gte,
    SemverEq,
    SemverLt,
    SemverLte,
    SemverGt,
    SemverGte,
    Before,
    After,
    Exists,
    Missing,
    InSegment,
    NotInSegment,
}

impl RawOp {
    const NAMES: &'static str = "equals, not_equals, in, not_in, contains, starts_with, ends_with, matches, lt, \
        lte, gt, gte, semver_eq, semver_lt, semver_lte, semver_gt, semver_gte, before, after, exists, missing, \
        in_segment, not_in_segment";

    fn parse(name: &str) -> Result<RawOp, JsonError> {
        use RawOp as Op;
        Ok(match name {
            "equals" => Op::Equals,
            "not_equals" => Op::NotEquals,
            "in" => Op::In,
            "not_in" => Op::NotIn,
            "contains" => Op::Contains,
            "starts_with" => Op::StartsWith,
            "ends_with" => Op::EndsWith,
            "matches" => Op::Matches,
            "lt" => Op::Lt,
            "lte" => Op::Lte,
            "gt" => Op::Gt,
            "gte" => Op::Gte,
            "semver_eq" => Op::SemverEq,
            "semver_lt" => Op::SemverLt,
            "semver_lte" => Op::SemverLte,
            "semver_gt" => Op::SemverGt,
            "semver_gte" => Op::SemverGte,
            "before" => Op::Before,
            "after" => Op::After,
            "exists" => Op::Exists,
            "missing" => Op::Missing,
            "in_segment" => Op::InSegment,
            "not_in_segment" => Op::NotInSegment,
            _ => {
                let name = crate::shown::shown(name);
                return Err(JsonError::new(format!("unknown operator `{name}`, expected one of {}", RawOp::NAMES)));
            }
        })
    }
}

pub(crate) struct RawCondition<'a> {
    pub(crate) attribute: Option<Text<'a>>,
    pub(crate) op: RawOp,
    /// The exact text of `value`, read when compiling: identical `in` lists, common
    /// across flags, are then read and compiled once. `None` when absent or null.
    pub(crate) value: Option<&'a str>,
    /// How many items `value` has, if it is an array (for the list limit).
    pub(crate) value_items: usize,
    pub(crate) case_insensitive: bool,
    pub(crate) negate: bool,
}

pub(crate) struct RawPrerequisite<'a> {
    pub(crate) flag: Text<'a>,
    pub(crate) variant: Text<'a>,
}

pub(crate) struct RawRollout<'a> {
    pub(crate) variants: Vec<RawWeightedVariant<'a>>,
    pub(crate) bucket_by: Option<Text<'a>>,
    pub(crate) salt: Option<Text<'a>>,
    /// Boxed: rare, and large next to the rest.
    pub(crate) schedule: Option<Box<RawSchedule<'a>>>,
}

pub(crate) struct RawWeightedVariant<'a> {
    pub(crate) variant: Text<'a>,
    pub(crate) weight: u32,
}

pub(crate) struct RawSchedule<'a> {
    pub(crate) steps: Option<Vec<RawStep<'a>>>,
    pub(crate) ramp: Option<RawRamp<'a>>,
}

pub(crate) struct RawStep<'a> {
    pub(crate) at: Text<'a>,
    pub(crate) weights: Vec<u32>,
}

pub(crate) struct RawRamp<'a> {
    pub(crate) start: Text<'a>,
    pub(crate) end: Text<'a>,
    pub(crate) weights: Vec<u32>,
}

#[derive(Default)]
pub(crate) struct RawSegment<'a> {
    pub(crate) included: Vec<Text<'a>>,
    pub(crate) excluded: Vec<Text<'a>>,
    pub(crate) rules: Vec<RawSegmentRule<'a>>,
}

/// The members one JSON object may have: refuses unknown and repeated ones, and names
/// missing ones.
pub(crate) struct Members {
    names: &'static [&'static str],
    seen: u64,
}

impl Members {
    pub(crate) fn new(names: &'static [&'static str]) -> Members {
        Members { names, seen: 0 }
    }

    /// The index of member `name` in the list, refusing unknown and repeated names.
    pub(crate) fn admit(&mut self, name: &str) -> Result<usize, JsonError> {
        let Some(index) = self.names.iter().position(|known| *known == name) else {
            return Err(crate::json::unknown_member(name, self.names));
        };
        self.admit_index(index)
    }

    /// Member `index` of the list, refusing it the second time.
    fn admit_index(&mut self, index: usize) -> Result<usize, JsonError> {
        let bit = 1u64 << index;
        if self.seen & bit != 0 {
            return Err(JsonError::new(format!("duplicate member `{}`", self.names[index])));
        }
        self.seen |= bit;
        Ok(index)
    }

    /// Reads an object of these members, calling `read` with each member's index; a
    /// failure's path gets `.name` in front.
    #[inline]
    pub(crate) fn read_object<'a>(
        self,
        reader: &mut Reader<'a>,
        mut read: impl FnMut(&mut Reader<'a>, usize) -> Result<(), JsonError>,
    ) -> Result<(), JsonError> {
        #[cfg(target_arch = "wasm32")]
        let read: &mut crate::json::Member<'_, 'a, usize> = &mut read;
        #[cfg(not(target_arch = "wasm32"))]
        let read = &mut read;
        self.read_members(reader, read)
    }

    /// In WebAssembly one copy for every object shape, natively one per shape (see
    /// `Reader::object_of`).
    fn read_members<'a, F>(mut self, reader: &mut Reader<'a>, read: &mut F) -> Result<(), JsonError>
    where
        F: FnMut(&mut Reader<'a>, usize) -> Result<(), JsonError> + ?Sized,
    {
        let names = self.names;
        reader.object_of(names, |reader, index| {
            self.admit_index(index)?;
            read(reader, index).map_err(|e| e.within_member(names[index]))
        })
    }
}

/// A required member, or "missing member `name`".
pub(crate) fn required<T>(value: Option<T>, name: &str) -> Result<T, JsonError> {
    value.ok_or_else(|| JsonError::new(format!("missing member `{name}`")))
}

/// `null` reads as absent, as for every optional member.
pub(crate) fn nullable<'a, T>(
    reader: &mut Reader<'a>,
    read: impl FnOnce(&mut Reader<'a>) -> Result<T, JsonError>,
) -> Result<Option<T>, JsonError> {
    if reader.null()? {
        Ok(None)
    } else {
        read(reader).map(Some)
    }
}

/// An array of items, with the index in the path of a failure.
pub(crate) fn list<'a, T>(
    reader: &mut Reader<'a>,
    mut read: impl FnMut(&mut Reader<'a>) -> Result<T, JsonError>,
) -> Result<Vec<T>, JsonError> {
    let mut items = Vec::new();
    reader.array(|reader, i| {
        items.push(read(reader).map_err(|e| e.within_item(i))?);
        Ok(())
    })?;
    Ok(items)
}

/// An object read as a map sorted by key, refusing duplicate keys. `read` gets the key.
pub(crate) fn sorted_map<'a, T>(
    reader: &mut Reader<'a>,
    mut read: impl FnMut(&mut Reader<'a>, &str) -> Result<T, JsonError>,
) -> Result<Vec<(Text<'a>, T)>, JsonError> {
    let mut entries: Vec<(Text<'a>, T)> = Vec::new();
    reader.object(|reader, key| {
        let value = read(reader, &key).map_err(|e| e.within_key(&key))?;
        entries.push((key, value));
        Ok(())
    })?;
    sort_unique(&mut entries, |(key, _)| key)?;
    Ok(entries)
}

/// Sorts entries by key (payloads usually arrive sorted: then this is one pass) and
/// refuses a key that appears twice.
pub(crate) fn sort_unique<T>(entries: &mut [T], key: impl Fn(&T) -> &str) -> Result<(), JsonError> {
    if !entries.windows(2).all(|pair| key(&pair[0]) < key(&pair[1])) {
        crate::sort::sort_by_name(entries, &key);
        if let Some(pair) = entries.windows(2).find(|pair| key(&pair[0]) == key(&pair[1])) {
            return Err(JsonError::new(format!("duplicate key `{}`", key(&pair[0]))));
        }
    }
    Ok(())
}
