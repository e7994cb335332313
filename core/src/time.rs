//! A strict RFC 3339 reader and writer, in Unix milliseconds.
//!
//! Written here rather than pulled from a date crate: the core needs two functions,
//! and every byte counts in the WASM module (`docs/SPEC.md` section 6).

use crate::Error;

const MS_PER_DAY: i64 = 86_400_000;

/// Parses an RFC 3339 `date-time` into Unix milliseconds, truncating sub-millisecond
/// digits.
///
/// ```
/// assert_eq!(pennon_core::parse_rfc3339("1970-01-01T00:00:01.5Z"), Ok(1500));
/// assert!(pennon_core::parse_rfc3339("2026-02-30T00:00:00Z").is_err());
/// ```
pub fn parse_rfc3339(text: &str) -> Result<i64, Error> {
    let fail = |reason| Error::InvalidTime { text: text.to_owned(), reason };
    let b = text.as_bytes();
    if b.len() < 20 {
        return Err(fail("too short for YYYY-MM-DDThh:mm:ssZ"));
    }
    let digits = |range: std::ops::Range<usize>| -> Result<i64, Error> {
        let part = &b[range];
        if part.iter().all(u8::is_ascii_digit) {
            Ok(part.iter().fold(0, |acc, d| acc * 10 + i64::from(d - b'0')))
        } else {
            Err(fail("expected digits"))
        }
    };
    let separators_ok = b[4] == b'-' && b[7] == b'-' && matches!(b[10], b'T' | b't') && b[13] == b':' && b[16] == b':';
    if !separators_ok {
        return Err(fail("expected YYYY-MM-DDThh:mm:ss"));
    }
    let (year, month, day) = (digits(0..4)?, digits(5..7)?, digits(8..10)?);
    let (hour, minute, second) = (digits(11..13)?, digits(14..16)?, digits(17..19)?);
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return Err(fail("no such date"));
    }
    if hour > 23 || minute > 59 || second > 59 {
        return Err(fail("no such time of day (leap seconds are refused)"));
    }
    let mut at = 19;
    let mut millis = 0;
    if b[at] == b'.' {
        let start = at + 1;
        let end = start + b[start..].iter().take_while(|c| c.is_ascii_digit()).count();
        if end == start || end - start > 9 {
            return Err(fail("a fraction needs 1 to 9 digits"));
        }
        for (i, d) in b[start..end].iter().take(3).enumerate() {
            millis += i64::from(d - b'0') * [100, 10, 1][i];
        }
        at = end;
    }
    let offset_minutes = match &b[at..] {
        [b'Z' | b'z'] => 0,
        [sign @ (b'+' | b'-'), _, _, b':', _, _] => {
            let (oh, om) = (digits(at + 1..at + 3)?, digits(at + 4..at + 6)?);
            if oh > 23 || om > 59 {
                return Err(fail("no such offset"));
            }
            if *sign == b'+' {
                oh * 60 + om
            } else {
                -(oh * 60 + om)
            }
        }
        _ => return Err(fail("expected Z or an offset like +01:00 at the end")),
    };
    let days = days_from_civil(year, month, day);
    let seconds = days * 86_400 + hour * 3_600 + minute * 60 + second - offset_minutes * 60;
    Ok(seconds * 1_000 + millis)
}

/// Formats Unix milliseconds as RFC 3339 in UTC, with milliseconds only when non-zero.
///
/// ```
/// assert_eq!(pennon_core::format_rfc3339(1500), "1970-01-01T00:00:01.500Z");
/// ```
pub fn format_rfc3339(millis: i64) -> String {
    let days = millis.div_euclid(MS_PER_DAY);
    let in_day = millis.rem_euclid(MS_PER_DAY);
    let (year, month, day) = civil_from_days(days);
    let (h, m, s, ms) = (in_day / 3_600_000, in_day / 60_000 % 60, in_day / 1_000 % 60, in_day % 1_000);
    if ms == 0 {
        format!("{year:04}-{month:02}-{day:02}T{h:02}:{m:02}:{s:02}Z")
    } else {
        format!("{year:04}-{month:02}-{day:02}T{h:02}:{m:02}:{s:02}.{ms:03}Z")
    }
}

fn is_leap(year: i64) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}
