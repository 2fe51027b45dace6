//! Human-readable durations for scenario files: `"250ms"`, `"3s"`, `"1h30m"`,
//! `"1.5s"`, and signed offsets (`"-6m"`, `"+30s"`) for clock skew.
//!
//! Scenario time is always written with a unit: a bare number is ambiguous
//! (seconds? ticks?) and is rejected.

use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Deserializer};

/// A non-negative duration read from a scenario file.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SimDuration(pub Duration);

/// A signed offset (clock skew), in nanoseconds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Offset(pub i128);

/// Why a duration string was rejected.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DurationError {
    /// Empty string.
    #[error("empty duration")]
    Empty,
    /// A number without a unit, or an unknown unit.
    #[error(
        "`{0}`: expected a number with a unit (ns, us, ms, s, m, h, d), e.g. \"250ms\" or \"1h30m\""
    )]
    Syntax(String),
    /// Larger than the simulation can represent.
    #[error("`{0}`: duration too large")]
    Overflow(String),
}

const UNITS: &[(&str, u128)] = &[
    ("ns", 1),
    ("us", 1_000),
    ("ms", 1_000_000),
    ("s", 1_000_000_000),
    ("m", 60_000_000_000),
    ("h", 3_600_000_000_000),
    ("d", 86_400_000_000_000),
];

/// Parses an unsigned duration such as `"1h30m"` or `"1.5s"`.
pub fn parse_duration(text: &str) -> Result<Duration, DurationError> {
    let nanos = parse_nanos(text)?;
    let secs = u64::try_from(nanos / 1_000_000_000)
        .map_err(|_| DurationError::Overflow(text.to_owned()))?;
    // The remainder is < 1e9 and fits in u32.
    let sub = u32::try_from(nanos % 1_000_000_000)
        .map_err(|_| DurationError::Overflow(text.to_owned()))?;
    Ok(Duration::new(secs, sub))
}

/// Parses a signed offset such as `"-6m"` or `"+30s"` (no sign = positive).
pub fn parse_offset(text: &str) -> Result<Offset, DurationError> {
    let t = text.trim();
    let (neg, rest) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    let n =
        i128::try_from(parse_nanos(rest)?).map_err(|_| DurationError::Overflow(text.to_owned()))?;
    Ok(Offset(if neg { -n } else { n }))
}

fn parse_nanos(text: &str) -> Result<u128, DurationError> {
    let t = text.trim();
    if t.is_empty() {
        return Err(DurationError::Empty);
    }
    let syntax = || DurationError::Syntax(text.to_owned());
    let overflow = || DurationError::Overflow(text.to_owned());
    let mut total: u128 = 0;
    let mut rest = t;
    while !rest.is_empty() {
        let num_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .ok_or_else(syntax)?;
        if num_len == 0 {
            return Err(syntax());
        }
        let (num, after) = rest.split_at(num_len);
        let unit_len = after
            .find(|c: char| !c.is_ascii_alphabetic())
            .unwrap_or(after.len());
        let (unit, after) = after.split_at(unit_len);
        let scale = UNITS
            .iter()
            .find(|(u, _)| *u == unit)
            .map(|(_, s)| *s)
            .ok_or_else(syntax)?;
        total = total
            .checked_add(scale_decimal(num, scale).ok_or_else(syntax)?)
            .ok_or_else(overflow)?;
        rest = after;
    }
    // Beyond ~584 years Duration arithmetic in the simulation overflows.
    if total > u128::from(u64::MAX) {
        return Err(overflow());
    }
    Ok(total)
}

/// `num` (digits with at most one '.') times `scale` nanoseconds, exactly:
/// fractions below a nanosecond are truncated.
fn scale_decimal(num: &str, scale: u128) -> Option<u128> {
    let (int, frac) = match num.split_once('.') {
        Some((i, f)) => (i, f),
        None => (num, ""),
    };
    if frac.contains('.') || (int.is_empty() && frac.is_empty()) {
        return None;
    }
    let int_v: u128 = if int.is_empty() { 0 } else { int.parse().ok()? };
    let mut value = int_v.checked_mul(scale)?;
    let mut place = scale;
    for d in frac.bytes() {
        place /= 10;
        if place == 0 {
            break;
        }
        value = value.checked_add(u128::from(d - b'0') * place)?;
    }
    Some(value)
}

/// Formats a duration compactly and exactly (`1h30m`, `250ms`, `1.5s`).
pub fn format_duration(d: Duration) -> String {
    let nanos = d.as_nanos();
    if nanos == 0 {
        return "0s".to_owned();
    }
    if nanos.is_multiple_of(1_000_000_000) {
        let mut secs = nanos / 1_000_000_000;
        let mut out = String::new();
        for (unit, size) in [("d", 86_400u128), ("h", 3_600), ("m", 60), ("s", 1)] {
            if secs >= size {
                out.push_str(&format!("{}{unit}", secs / size));
                secs %= size;
            }
        }
        return out;
    }
    if nanos.is_multiple_of(1_000_000) {
        return format!("{}ms", nanos / 1_000_000);
    }
    if nanos.is_multiple_of(1_000) {
        return format!("{}us", nanos / 1_000);
    }
    format!("{nanos}ns")
}

impl fmt::Display for SimDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&format_duration(self.0))
    }
}

impl fmt::Display for Offset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "+" };
        let mag = u64::try_from(self.0.unsigned_abs()).unwrap_or(u64::MAX);
        write!(f, "{sign}{}", format_duration(Duration::from_nanos(mag)))
    }
}

impl Offset {
    /// The offset in nanoseconds, saturated to `i64`.
    pub fn as_nanos_i64(self) -> i64 {
        i64::try_from(self.0).unwrap_or(if self.0 < 0 { i64::MIN } else { i64::MAX })
    }
}

impl<'de> Deserialize<'de> for SimDuration {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        parse_duration(&s)
            .map(SimDuration)
            .map_err(serde::de::Error::custom)
    }
}

impl<'de> Deserialize<'de> for Offset {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        parse_offset(&s).map_err(serde::de::Error::custom)
    }
}

impl serde::Serialize for SimDuration {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

impl serde::Serialize for Offset {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_units_and_compounds() {
        assert_eq!(parse_duration("250ms").unwrap(), Duration::from_millis(250));
        assert_eq!(parse_duration("1h30m").unwrap(), Duration::from_secs(5400));
        assert_eq!(parse_duration("1.5s").unwrap(), Duration::from_millis(1500));
        assert_eq!(parse_duration("2d").unwrap(), Duration::from_secs(172_800));
        assert_eq!(parse_duration("0s").unwrap(), Duration::ZERO);
        assert_eq!(parse_duration("10us").unwrap(), Duration::from_micros(10));
    }

    #[test]
    fn rejects_bare_numbers_and_unknown_units() {
        assert!(matches!(parse_duration("5"), Err(DurationError::Syntax(_))));
        assert!(matches!(
            parse_duration("5 parsecs"),
            Err(DurationError::Syntax(_))
        ));
        assert!(matches!(
            parse_duration("ms"),
            Err(DurationError::Syntax(_))
        ));
        assert!(matches!(
            parse_duration("1.2.3s"),
            Err(DurationError::Syntax(_))
        ));
        assert_eq!(parse_duration(""), Err(DurationError::Empty));
        assert!(matches!(
            parse_duration("99999999999999d"),
            Err(DurationError::Overflow(_))
        ));
    }

    #[test]
    fn offsets_carry_sign() {
        assert_eq!(parse_offset("-6m").unwrap(), Offset(-360_000_000_000));
        assert_eq!(parse_offset("+30s").unwrap(), Offset(30_000_000_000));
        assert_eq!(parse_offset("30s").unwrap(), Offset(30_000_000_000));
        assert_eq!(Offset(-360_000_000_000).to_string(), "-6m");
    }

    #[test]
    fn format_round_trips() {
        for s in ["1h30m", "250ms", "1d2h3m4s", "15us", "7ns"] {
            assert_eq!(format_duration(parse_duration(s).unwrap()), s);
        }
    }
}
