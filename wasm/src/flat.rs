//! Fresh flat context objects without JSON. Most contexts are one level of strings,
//! numbers and booleans; the package's `Engine` wrapper writes such an object straight
//! into two buffers in the module's memory (value records and their UTF-8 bytes),
//! and evaluation reads the attributes from there through [`Attributes`]: no
//! `JSON.stringify`, no string crossing, no `Context` built. The wrapper takes this path
//! only where the object's JSON text would mean exactly what the records say (see
//! `bindings/src/flat.ts`); anything else keeps the JSON path.
//!
//! The wrapper writes only what the flag can read, in the order of [`FlagReads`]: record
//! 0 is the targeting key's (read when `has_key`), and record `1 + i` holds the value
//! of the flag's `i`-th name, so no name is written or compared as bytes.
//! A record is [`RECORD`] `f64`s: the kind, then the number (kind [`INT`] or [`FLOAT`])
//! or a string's offset and length in the byte buffer (kind [`STRING`]).
//!
//! Records are checked as evaluation reads them, once each: a record the flag never
//! reaches costs nothing. A malformed one (which the wrapper never writes) is marked,
//! and the export refuses instead of answering; the wrapper then evaluates the object
//! through the general export.

use std::cell::Cell;

use pennon_core::{AttributeValue, Attributes, Snapshot, ValueRef};

/// `f64` slots per record.
pub(crate) const RECORD: usize = 3;
/// Record kinds, as `bindings/src/flat.ts` writes them.
const NULL: usize = 0;
const FALSE: usize = 1;
const TRUE: usize = 2;
const INT: usize = 3;
const FLOAT: usize = 4;
const STRING: usize = 5;
/// No such attribute (JSON would leave it out).
const ABSENT: usize = 6;

/// The two buffers the wrapper writes; they only grow.
#[derive(Default)]
pub(crate) struct FlatBuffers {
    pub(crate) bytes: Vec<u8>,
    pub(crate) records: Vec<f64>,
}

/// The top-level names each flag reads, without `targetingKey`: the order of its flat
/// records. Filled when the wrapper asks for a flag's names (`attributesRead`), which
/// it does before its first flat write for that flag; emptied with every new snapshot.
#[derive(Default)]
pub(crate) struct FlagReads(Vec<Option<Box<[Box<str>]>>>);

impl FlagReads {
    /// The names flag `position` of `snapshot` reads, `targetingKey` included, and
    /// remembers them (without it) for that flag's flat contexts.
    pub(crate) fn learn(&mut self, snapshot: &Snapshot, position: usize) -> Vec<String> {
        let Some(read) = snapshot.attributes_read(position) else { return Vec::new() };
        if self.0.len() <= position {
            self.0.resize_with(position + 1, || None);
        }
        self.0[position] =
            Some(read.iter().filter(|name| **name != "targetingKey").map(|name| (*name).into()).collect());
        read.into_iter().map(str::to_owned).collect()
    }

    pub(crate) fn of(&self, position: usize) -> Option<&[Box<str>]> {
        self.0.get(position)?.as_deref()
    }

    pub(crate) fn clear(&mut self) {
        self.0.clear();
    }
}

/// A flat context: record 0 holds the targeting key when `has_key`, and record `1 + i`
/// the value of `names[i]`.
pub(crate) struct FlatContext<'a> {
    records: &'a [f64],
    bytes: &'a [u8],
    names: &'a [Box<str>],
    has_key: bool,
    malformed: Cell<bool>,
}

impl<'a> FlatContext<'a> {
    /// The records of a flag reading `names`; `None` when fewer were ever written.
    pub(crate) fn new(buffers: &'a FlatBuffers, names: &'a [Box<str>], has_key: bool) -> Option<FlatContext<'a>> {
        let records = buffers.records.get(..(1 + names.len()) * RECORD)?;
        Some(FlatContext { records, bytes: &buffers.bytes, names, has_key, malformed: Cell::new(false) })
    }

    /// Whether a record read so far was out of bounds, not UTF-8 or of no known kind.
    pub(crate) fn malformed(&self) -> bool {
        self.malformed.get()
    }

    /// Record `index`'s value; `None` when absent, or when malformed (then marked).
    fn value(&self, index: usize) -> Option<FlatValue<'a>> {
        let record = self.records.get(index * RECORD..)?.get(..RECORD)?;
        let value = match index_of(record[0]) {
            Some(ABSENT) => return None,
            Some(NULL) => Some(ValueRef::Null),
            Some(FALSE) => Some(ValueRef::Bool(false)),
            Some(TRUE) => Some(ValueRef::Bool(true)),
            // The wrapper sends integers in [-2^63, 2^63) only, which convert exactly.
            Some(INT)
                if record[1].fract() == 0.0
                    && (-9.223_372_036_854_776e18..9.223_372_036_854_776e18).contains(&record[1]) =>
            {
                #[allow(clippy::cast_possible_truncation)] // whole and in range, checked above
                Some(ValueRef::Int(record[1] as i64))
            }
            Some(FLOAT) => Some(ValueRef::Float(record[1])),
            Some(STRING) => self.text(record[1], record[2]).map(ValueRef::String),
            _ => None,
        };
        if value.is_none() {
            self.malformed.set(true);
        }
        value.map(FlatValue)
    }

    fn text(&self, offset: f64, length: f64) -> Option<&'a str> {
        let (start, length) = (index_of(offset)?, index_of(length)?);
        std::str::from_utf8(self.bytes.get(start..start.checked_add(length)?)?).ok()
    }
}

/// A whole, non-negative `f64` as an index.
fn index_of(value: f64) -> Option<usize> {
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)] // whole, >= 0 and below 2^32
    (value.fract() == 0.0 && (0.0..4_294_967_296.0).contains(&value)).then_some(value as usize)
}

impl Attributes for FlatContext<'_> {
    type Value<'v>
        = FlatValue<'v>
    where
        Self: 'v;

    fn targeting_key(&self) -> Option<FlatValue<'_>> {
        self.has_key.then(|| self.value(0)).flatten()
    }

    fn attribute(&self, name: &str) -> Option<FlatValue<'_>> {
        let index = self.names.iter().position(|read| **read == *name)?;
        self.value(1 + index)
    }
}

/// One scalar attribute of a flat context: never an array or an object.
#[derive(Clone, Copy)]
pub(crate) struct FlatValue<'a>(ValueRef<'a>);

impl AttributeValue for FlatValue<'_> {
    type Items = std::iter::Empty<Self>;

    fn view(&self) -> ValueRef<'_> {
        self.0
    }

    fn items(&self) -> Self::Items {
        std::iter::empty()
    }

    fn member(&self, _name: &str) -> Option<Self> {
        None
    }
}
