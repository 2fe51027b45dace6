//! Durations in policy files: `"250ms"`, `"10s"`, `"5m"`, `"1h30m"`,
//! `"1.5s"`, `"7d"` — the same syntax the scenario files use, so a
//! scenario's `[policy]` table and a stand-alone policy file read alike.
//!
//! A bare number is rejected: "10" could mean seconds or milliseconds, and
//! a policy that silently waits 1000 times longer than meant is the kind of
//! mistake this file format should make impossible.

use std::time::Duration;

use serde::{Deserialize, Deserializer, Serializer};

const UNITS: &[(&str, u128)] = &[
    ("ns", 1),
    ("us", 1_000),
    ("ms", 1_000_000),
    ("s", 1_000_000_000),
    ("m", 60_000_000_000),
    ("h", 3_600_000_000_000),
    ("d", 86_400_000_000_000),
];

/// Why a duration string was rejected.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DurationError {
    /// Not `number unit [number unit ...]`.
    #[error(
        "`{0}`: expected a number with a unit (ns, us, ms, s, m, h, d), e.g. \"250ms\" or \"1h30m\""
    )]
    Syntax(String),
    /// Too large for a `Duration`.
    #[error("`{0}`: duration too large")]
    Overflow(String),
}

/// Parses `"1h30m"`, `"1.5s"`, `"250ms"`.
pub fn parse(text: &str) -> Result<Duration, DurationError> {
    let syntax = || DurationError::Syntax(text.to_owned());
    let overflow = || DurationError::Overflow(text.to_owned());
    let mut rest = text.trim();
    if rest.is_empty() {
        return Err(syntax());
    }
    let mut total: u128 = 0;
    while !rest.is_empty() {
        let num_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .ok_or_else(syntax)?;
        let (num, after) = rest.split_at(num_len);
        if num.is_empty() {
            return Err(syntax());
        }
        let unit_len = after
            .find(|c: char| !c.is_ascii_alphabetic())
            .unwrap_or(after.len());
        let (unit, after) = after.split_at(unit_len);
        let scale = UNITS
            .iter()
            .find(|(u, _)| *u == unit)
            .map(|(_, s)| *s)
            .ok_or_else(syntax)?;
        let (int, frac) = num.split_once('.').unwrap_or((num, ""));
        if int.is_empty() && frac.is_empty() || frac.contains('.') {
            return Err(syntax());
        }
        let int: u128 = if int.is_empty() {
            0
        } else {
            int.parse().map_err(|_| overflow())?
        };
        let mut nanos = int.checked_mul(scale).ok_or_else(overflow)?;
        // Fractions are exact to the nanosecond: digits beyond the unit's
        // resolution are ignored rather than rounded.
        let mut place = scale;
        for d in frac.chars() {
            place /= 10;
            let digit = u128::from(d.to_digit(10).ok_or_else(syntax)?);
            nanos = nanos.checked_add(digit * place).ok_or_else(overflow)?;
        }
        total = total.checked_add(nanos).ok_or_else(overflow)?;
        rest = after;
    }
    let secs = u64::try_from(total / 1_000_000_000).map_err(|_| overflow())?;
    let sub = u32::try_from(total % 1_000_000_000).map_err(|_| overflow())?;
    Ok(Duration::new(secs, sub))
}

/// Formats a duration the way [`parse`] reads it, in the largest units that
/// represent it exactly (`"1h30m"`, `"250ms"`, `"0s"`).
pub fn format(d: Duration) -> String {
    let mut nanos = d.as_nanos();
    if nanos == 0 {
        return "0s".to_owned();
    }
    let mut out = String::new();
    for (unit, scale) in UNITS.iter().rev() {
        if nanos >= *scale {
            let n = nanos / scale;
            out.push_str(&format!("{n}{unit}"));
            nanos -= n * scale;
        }
    }
    out
}

/// `#[serde(with = "duration")]` for `Duration` fields.
pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&format(*d))
}

/// `#[serde(with = "duration")]` for `Duration` fields.
pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
    let text = String::deserialize(d)?;
    parse(&text).map_err(serde::de::Error::custom)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_units_compounds_and_fractions() {
        assert_eq!(parse("250ms").unwrap(), Duration::from_millis(250));
        assert_eq!(parse("10s").unwrap(), Duration::from_secs(10));
        assert_eq!(parse("1h30m").unwrap(), Duration::from_secs(5400));
        assert_eq!(parse("1.5s").unwrap(), Duration::from_millis(1500));
        assert_eq!(parse("7d").unwrap(), Duration::from_secs(7 * 86400));
        assert_eq!(parse(" 2m ").unwrap(), Duration::from_secs(120));
    }

    #[test]
    fn rejects_bare_numbers_unknown_units_and_garbage() {
        for bad in ["", "10", "10 s", "ms", "1.2.3s", "5y", "s10", "-1s", "."] {
            assert!(parse(bad).is_err(), "{bad:?} accepted");
        }
        assert!(matches!(
            parse("99999999999999999999999999999d"),
            Err(DurationError::Overflow(_))
        ));
    }

    #[test]
    fn format_round_trips() {
        for d in [
            Duration::ZERO,
            Duration::from_millis(250),
            Duration::from_millis(1500),
            Duration::from_secs(5400),
            Duration::from_secs(7 * 86400 + 1),
            Duration::from_nanos(1_000_001),
        ] {
            assert_eq!(parse(&format(d)).unwrap(), d, "{}", format(d));
        }
        assert_eq!(format(Duration::from_secs(5400)), "1h30m");
    }
}
