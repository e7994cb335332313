//! Exact comparison of integers and floats: `9007199254740993` is not
//! `9007199254740992.0`, though a cast to `f64` would say it is.

use std::cmp::Ordering;

/// A number from a condition or a context, kept in its exact form.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Number {
    Int(i64),
    Float(f64),
}

/// 2^63 as a float: the first float above every `i64`.
const TWO_POW_63: f64 = 9_223_372_036_854_775_808.0;

impl Number {
    /// Compares by mathematical value; `None` only when a float is NaN.
    pub(crate) fn compare(self, other: Number) -> Option<Ordering> {
        match (self, other) {
            (Number::Int(a), Number::Int(b)) => Some(a.cmp(&b)),
            (Number::Float(a), Number::Float(b)) => a.partial_cmp(&b),
            (Number::Int(a), Number::Float(b)) => compare_int_float(a, b),
            (Number::Float(a), Number::Int(b)) => compare_int_float(b, a).map(Ordering::reverse),
        }
    }

    /// The integer this number equals exactly, if any (so `3.0` is `3`).
    pub(crate) fn as_exact_int(self) -> Option<i64> {
        match self {
            Number::Int(i) => Some(i),
            Number::Float(f) if f.fract() == 0.0 && (-TWO_POW_63..TWO_POW_63).contains(&f) =>
            {
                #[allow(clippy::cast_possible_truncation)]
                Some(f as i64)
            }
            Number::Float(_) => None,
        }
    }
}

fn compare_int_float(int: i64, float: f64) -> Option<Ordering> {
    if float.is_nan() {
        return None;
    }
    if float >= TWO_POW_63 {
        return Some(Ordering::Less);
    }
    if float < -TWO_POW_63 {
        return Some(Ordering::Greater);
    }
    // In range, the truncated float is an exact i64; ties are broken by the fraction.
    #[allow(clippy::cast_possible_truncation)]
    let whole = float.trunc() as i64;
    Some(int.cmp(&whole).then_with(|| 0.0_f64.partial_cmp(&float.fract()).unwrap_or(Ordering::Equal)))
}
