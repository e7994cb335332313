//! Decimal text to the nearest `f64` (ties to even), as `str::parse::<f64>` gives it,
//! without its tables: the standard parser carries ~10 KB of powers of five for its
//! fast path, 15 KB of the gzipped wasm module with its code. Numbers of at most 15
//! digits and exponents within ±22, which is what payloads hold, are one exact float
//! operation (Clinger's fast path); the rest divide big integers exactly. Checked
//! against the standard parser by the tests below.

// Limb arithmetic: every narrowing cast here keeps the low bits on purpose or converts
// a value bounded by the checks before it.
#![allow(clippy::cast_possible_truncation)]

/// Powers of ten that `f64` holds exactly.
const EXACT_POWERS: [f64; 23] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20,
    1e21, 1e22,
];

/// Significant digits kept; later ones only mark the value as above the kept part.
/// 768 digits decide any `f64` rounding, so this many keep the result exact.
const MAX_DIGITS: usize = 800;

/// Parses a JSON number (`-?digits[.digits][e[+-]digits]`); `None` for other text.
/// Overflow gives an infinity and underflow a zero, as `str::parse` does.
pub(crate) fn parse_f64(text: &str) -> Option<f64> {
    let (negative, body) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let (mantissa, exponent) = match body.find(['e', 'E']) {
        Some(at) => (&body[..at], Some(&body[at + 1..])),
        None => (body, None),
    };
    let (integral, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    if integral.is_empty() || !integral.bytes().chain(fraction.bytes()).all(|b| b.is_ascii_digit()) {
        return None;
    }
    let mut exponent = match exponent {
        Some(text) => exponent_value(text)?,
        None => 0,
    };
    // The digits without leading zeros, and the power of ten of the last one.
    exponent = exponent.saturating_sub(fraction.len() as i64);
    let all = integral.bytes().chain(fraction.bytes()).skip_while(|&b| b == b'0');
    let mut digits: Vec<u8> = all.map(|b| b - b'0').collect();
    while digits.last() == Some(&0) {
        digits.pop();
        exponent = exponent.saturating_add(1);
    }
    let magnitude = magnitude(&mut digits, exponent);
    Some(if negative { -magnitude } else { magnitude })
}

/// The value of an exponent, saturated far beyond any that matters.
fn exponent_value(text: &str) -> Option<i64> {
    let (negative, digits) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let value = digits.bytes().fold(0i64, |value, b| value.saturating_mul(10).saturating_add(i64::from(b - b'0')));
    let value = value.min(1 << 40);
    Some(if negative { -value } else { value })
}

/// `digits × 10^exponent`, rounded; `digits` has no leading or trailing zeros.
fn magnitude(digits: &mut Vec<u8>, exponent: i64) -> f64 {
    let Some(count) = i64::try_from(digits.len()).ok().filter(|&n| n > 0) else { return 0.0 };
    // Below 10^-330 everything rounds to zero; at 10^310 and above, to infinity.
    if count + exponent < -330 {
        return 0.0;
    }
    if count + exponent > 310 {
        return f64::INFINITY;
    }
    if count <= 15 && (-22..=22).contains(&exponent) {
        let value = digits.iter().fold(0u64, |value, &d| value * 10 + u64::from(d)) as f64;
        let power = EXACT_POWERS[exponent.unsigned_abs() as usize];
        // Both operands are exact, so the one rounding is the correctly rounded result.
        return if exponent < 0 { value / power } else { value * power };
    }
    let mut exponent = exponent;
    let mut sticky = false;
    if digits.len() > MAX_DIGITS {
        sticky = digits[MAX_DIGITS..].iter().any(|&d| d != 0);
        exponent += (digits.len() - MAX_DIGITS) as i64;
        digits.truncate(MAX_DIGITS);
    }
    let mut numerator = Big::from_digits(digits);
    let mut denominator = Big::one();
    // |exponent| <= 330 + MAX_DIGITS here, by the range checks above.
    let ten_power = exponent.unsigned_abs() as usize;
    if exponent >= 0 {
        numerator.mul_pow10(ten_power);
    } else {
        denominator.mul_pow10(ten_power);
    }
    nearest(&numerator, &denominator, sticky)
}

/// The `f64` nearest to `numerator / denominator` (plus a hair when `sticky`).
fn nearest(numerator: &Big, denominator: &Big, mut sticky: bool) -> f64 {
    // Scale by 2^shift so that the quotient has 64 or 65 bits.
    let shift = 64 - (numerator.bits() as i64 - denominator.bits() as i64);
    let (mut remainder, mut divisor) = (numerator.clone(), denominator.clone());
    if shift >= 0 {
        remainder.shl(shift as usize);
    } else {
        divisor.shl(shift.unsigned_abs() as usize);
    }
    // Long division, one quotient bit at a time, from bit 64 down.
    divisor.shl(64);
    let mut quotient: u128 = 0;
    for bit in (0..=64).rev() {
        if remainder.at_least(&divisor) {
            remainder.sub(&divisor);
            quotient |= 1 << bit;
        }
        divisor.shr1();
    }
    sticky |= !remainder.is_zero();
    let mut shift = shift;
    if quotient >> 64 != 0 {
        sticky |= quotient & 1 != 0;
        quotient >>= 1;
        shift -= 1;
    }
    // Now value = quotient × 2^-shift with 2^63 <= quotient < 2^64.
    let top = 63 - shift; // the binary exponent of the value
    let keep = if top >= -1022 { 53 } else { 53 - (-1022 - top) };
    if keep < 0 {
        return 0.0; // below half the smallest subnormal
    }
    let drop = 64 - keep as u32;
    let mut mantissa = (quotient >> drop) as u64;
    let rest = quotient & ((1u128 << drop) - 1);
    let half = 1u128 << (drop - 1);
    if rest > half || (rest == half && (sticky || mantissa & 1 == 1)) {
        mantissa += 1;
    }
    if keep < 53 {
        // Subnormal: the bits are the mantissa itself (a carry into 2^52 is the
        // smallest normal, which the same bits encode).
        return f64::from_bits(mantissa);
    }
    let mut biased = top + 1023;
    if mantissa == 1 << 53 {
        mantissa >>= 1;
        biased += 1;
    }
    if biased >= 2047 {
        return f64::INFINITY;
    }
    f64::from_bits((biased as u64) << 52 | (mantissa & ((1 << 52) - 1)))
}

/// A non-negative big integer, 32-bit limbs, least significant first.
#[derive(Clone)]
struct Big(Vec<u32>);

impl Big {
    fn one() -> Big {
        Big(vec![1])
    }

    fn from_digits(digits: &[u8]) -> Big {
        let mut big = Big(vec![0]);
        for chunk in digits.chunks(9) {
            let value = chunk.iter().fold(0u32, |value, &d| value * 10 + u32::from(d));
            big.mul_add(10u32.pow(chunk.len() as u32), value);
        }
        big
    }

    fn mul_add(&mut self, factor: u32, add: u32) {
        let mut carry = u64::from(add);
        for limb in &mut self.0 {
            let product = u64::from(*limb) * u64::from(factor) + carry;
            *limb = product as u32;
            carry = product >> 32;
        }
        if carry != 0 {
            self.0.push(carry as u32);
        }
    }

    fn mul_pow10(&mut self, mut power: usize) {
        while power > 0 {
            let step = power.min(9);
            self.mul_add(10u32.pow(step as u32), 0);
            power -= step;
        }
    }

    fn bits(&self) -> usize {
        let top = self.0.iter().rposition(|&limb| limb != 0).unwrap_or(0);
        top * 32 + (32 - self.0.get(top).map_or(32, |limb| limb.leading_zeros() as usize))
    }

    fn is_zero(&self) -> bool {
        self.0.iter().all(|&limb| limb == 0)
    }

    fn shl(&mut self, bits: usize) {
        let (limbs, bits) = (bits / 32, bits % 32);
        if bits > 0 {
            let mut carry = 0;
            for limb in &mut self.0 {
                let next = *limb >> (32 - bits);
                *limb = *limb << bits | carry;
                carry = next;
            }
            if carry != 0 {
                self.0.push(carry);
            }
        }
        self.0.splice(0..0, std::iter::repeat_n(0, limbs));
    }

    fn shr1(&mut self) {
        let mut carry = 0;
        for limb in self.0.iter_mut().rev() {
            let next = *limb & 1;
            *limb = *limb >> 1 | carry << 31;
            carry = next;
        }
    }

    /// `self >= other`.
    fn at_least(&self, other: &Big) -> bool {
        let len = self.0.len().max(other.0.len());
        for i in (0..len).rev() {
            let (a, b) = (self.0.get(i).copied().unwrap_or(0), other.0.get(i).copied().unwrap_or(0));
            if a != b {
                return a > b;
            }
        }
        true
    }

    /// `self -= other`, for `self >= other`.
    fn sub(&mut self, other: &Big) {
        let mut borrow = 0i64;
        for (i, limb) in self.0.iter_mut().enumerate() {
            let value = i64::from(*limb) - i64::from(other.0.get(i).copied().unwrap_or(0)) - borrow;
            borrow = i64::from(value < 0);
            *limb = (value + (borrow << 32)) as u32;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::parse_f64;
    use proptest::prelude::*;

    fn same_as_std(text: &str) -> Result<(), TestCaseError> {
        let expected: f64 = text.parse().unwrap();
        let got = parse_f64(text).unwrap();
        prop_assert_eq!(got.to_bits(), expected.to_bits(), "{}: got {:e}, std {:e}", text, got, expected);
        Ok(())
    }

    #[test]
    fn edge_cases_round_as_std_does() {
        let long = format!("{}e-700", "7".repeat(1000));
        let half_subnormal = format!("2.{}e-324", "4703282292062327208828439643411068618252990130716238221279284125033775363510437593264991818081799618989828234772285886546332835517796989819938739800539093906315035659515570226392290858392449105184435931802849936536152500319370457678249219365623669863658480757001585769269903706311928279558551332927834338409351978015531246597263579574622766465272827220056374006485499977096599470454020828166226237857393450736339007967761930577506740176324673600968951340535537458516661134223766678604162159680461914467291840300530057530849048765391711386591646239524912623653881879636239373280423891018672348497668235089863388587925628302755995657524455507255189313690836254779186948667994968324049705821028513185451396213837722826145437693412532098591327667236328125");
        for text in [
            "0",
            "0.0",
            "0.000",
            "1",
            "0.1",
            "0.3",
            "1e23",
            "1e22",
            "1e-22",
            "123456789012345",
            "1234567890123456",
            "9007199254740993",
            "9007199254740995",
            "18446744073709551616",
            "0.30000000000000004",
            "2.2250738585072011e-308",
            "2.2250738585072012e-308",
            "2.2250738585072014e-308",
            "4.9406564584124654e-324",
            "2.4703282292062327e-324",
            "2.4703282292062328e-324",
            "5e-324",
            "1e-400",
            "1.7976931348623157e308",
            "1.7976931348623158e308",
            "1.7976931348623159e308",
            "1e308",
            "1e309",
            "1e400",
            "8.98846567431158e307",
            "123456789012345678901234567890e-30",
            "0.000000000000000000000000000001e30",
            "1e+5",
            "1E-5",
            "100000000000000000000000000000000000000e-38",
            "1e99999999999999999999",
            "1e-99999999999999999999",
            &long,
            &half_subnormal,
        ] {
            same_as_std(text).unwrap();
            same_as_std(&format!("-{text}")).unwrap();
        }
    }

    #[test]
    fn refuses_what_is_not_a_number() {
        for text in ["", "-", "e5", ".5", "1e", "1e+", "1.2.3", "1x", "0x10", "inf", "NaN"] {
            assert_eq!(parse_f64(text), None, "{text:?}");
        }
    }

    proptest! {
        #[test]
        fn every_float_reads_back_from_its_shortest_forms(bits in any::<u64>()) {
            let value = f64::from_bits(bits);
            prop_assume!(value.is_finite());
            for text in [format!("{value:e}"), format!("{value}"), format!("{value:.20e}"), format!("{value:.40e}")] {
                same_as_std(&text)?;
            }
        }

        #[test]
        fn digit_strings_round_as_std_does(
            integral in "[0-9]{1,30}",
            fraction in proptest::option::of("[0-9]{1,30}"),
            exponent in proptest::option::of(-400i32..400),
        ) {
            let mut text = integral;
            if let Some(fraction) = fraction {
                text = format!("{text}.{fraction}");
            }
            if let Some(exponent) = exponent {
                text = format!("{text}e{exponent}");
            }
            same_as_std(&text)?;
        }

        #[test]
        fn exact_expansions_read_back(bits in any::<u64>()) {
            // The full decimal expansion of a float: more digits than are kept.
            let value = f64::from_bits(bits >> 1);
            prop_assume!(value.is_finite());
            same_as_std(&format!("{value:.1100e}"))?;
        }

        #[test]
        fn halfway_points_round_to_even(mantissa in (1u128 << 52)..(1u128 << 53), power in -27i32..=70, nudge in -1i128..=1) {
            // (2m + 1) × 2^power lies halfway between two adjacent floats; written
            // exactly as an integer times a power of ten, then nudged by one unit of
            // its last digit to either side.
            let odd = 2 * mantissa + 1;
            let (digits, exponent) = if power >= 0 {
                (odd << power, 0)
            } else {
                (odd * 5u128.pow(power.unsigned_abs()), power)
            };
            let digits = i128::try_from(digits).unwrap() + nudge;
            same_as_std(&format!("{digits}e{exponent}"))?;
        }
    }
}
