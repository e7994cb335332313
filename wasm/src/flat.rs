//! Fresh flat context objects without JSON. Most contexts are one level of strings,
//! numbers and booleans; the package's `Engine` wrapper writes such an object straight
//! into two buffers in the module's memory (attribute records and their UTF-8 bytes),
//! and evaluation reads the attributes from there through [`Attributes`]: no
//! `JSON.stringify`, no string crossing, no `Context` built. The wrapper takes this path
//! only where the object's JSON text would mean exactly what the records say (see
//! `bindings/src/flat.ts`); anything else keeps the JSON path. The wrapper writes only
//! the attributes the flag can read (`attributesRead`).
//!
//! Record 0 is the targeting key's (when `has_key`); attributes follow it.
//! A record is [`RECORD`] `f64`s: name offset, name length, kind, and two payload
//! slots: the number (kind [`INT`] or [`FLOAT`]) or a string's offset and length
//! (kind [`STRING`]). Offsets are into the byte buffer.

use pennon_core::{AttributeValue, Attributes, ValueRef};

/// `f64` slots per record.
pub(crate) const RECORD: usize = 5;
/// Record kinds, as `bindings/src/flat.ts` writes them.
const NULL: usize = 0;
const FALSE: usize = 1;
const TRUE: usize = 2;
const INT: usize = 3;
const FLOAT: usize = 4;
const STRING: usize = 5;

/// The two buffers the wrapper writes; they only grow.
#[derive(Default)]
pub(crate) struct FlatBuffers {
    pub(crate) bytes: Vec<u8>,
    pub(crate) records: Vec<f64>,
}

/// A flat context as records over bytes: record 0 holds the targeting key when
/// `has_key`, and is unused otherwise; the attributes follow.
pub(crate) struct FlatContext<'a> {
    records: &'a [f64],
    bytes: &'a [u8],
    has_key: bool,
}

impl<'a> FlatContext<'a> {
    /// The first `count` records of `buffers`, checked: every span in bounds, every
    /// string UTF-8, every kind known and every integer whole and in range.
    pub(crate) fn read(buffers: &'a FlatBuffers, count: usize, has_key: bool) -> Result<FlatContext<'a>, String> {
        let records = buffers.records.get(..count.max(1) * RECORD).ok_or("more records than were written")?;
        let context = FlatContext { records, bytes: &buffers.bytes, has_key };
        if has_key {
            context.value(&records[..RECORD]).ok_or("the targeting key out of bounds or of no known kind")?;
        }
        for record in context.attributes() {
            context.text(record[0], record[1]).ok_or("an attribute name out of bounds or not UTF-8")?;
            context.value(record).ok_or("an attribute value out of bounds or of no known kind")?;
        }
        Ok(context)
    }

    fn span(&self, offset: f64, length: f64) -> Option<&'a [u8]> {
        let (start, length) = (index(offset)?, index(length)?);
        self.bytes.get(start..start.checked_add(length)?)
    }

    fn text(&self, offset: f64, length: f64) -> Option<&'a str> {
        std::str::from_utf8(self.span(offset, length)?).ok()
    }

    fn value(&self, record: &[f64]) -> Option<FlatValue<'a>> {
        Some(FlatValue(match index(record[2])? {
            NULL => ValueRef::Null,
            FALSE => ValueRef::Bool(false),
            TRUE => ValueRef::Bool(true),
            // The wrapper sends integers in [-2^63, 2^63) only, which convert exactly.
            INT if record[3].fract() == 0.0
                && (-9.223_372_036_854_776e18..9.223_372_036_854_776e18).contains(&record[3]) =>
            {
                #[allow(clippy::cast_possible_truncation)] // whole and in range, checked above
                ValueRef::Int(record[3] as i64)
            }
            FLOAT => ValueRef::Float(record[3]),
            STRING => ValueRef::String(self.text(record[3], record[4])?),
            _ => return None,
        }))
    }

    fn attributes(&self) -> std::slice::ChunksExact<'a, f64> {
        self.records[RECORD..].chunks_exact(RECORD)
    }
}

/// A whole, non-negative `f64` as an index.
fn index(value: f64) -> Option<usize> {
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)] // whole, >= 0 and below 2^32
    (value.fract() == 0.0 && (0.0..4_294_967_296.0).contains(&value)).then_some(value as usize)
}

impl Attributes for FlatContext<'_> {
    type Value<'v>
        = FlatValue<'v>
    where
        Self: 'v;

    fn targeting_key(&self) -> Option<FlatValue<'_>> {
        self.has_key.then(|| self.records.get(..RECORD).and_then(|record| self.value(record))).flatten()
    }

    fn attribute(&self, name: &str) -> Option<FlatValue<'_>> {
        let wanted = Some(name.as_bytes());
        let record = self.attributes().find(|record| self.span(record[0], record[1]) == wanted)?;
        self.value(record)
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
