//! `SystemTime` <-> KerberosTime (RFC 4120 §5.2.3).
//!
//! KerberosTime is `YYYYMMDDHHMMSSZ`: whole seconds, UTC, no fraction. The
//! sub-second part travels separately as Microseconds (`cusec`, `susec`,
//! `pausec`, RFC 4120 §5.2.4). Conversions saturate at the representable
//! range (years 0000-9999) instead of failing: the simulation's clocks never
//! get near it, and a saturated time is still a valid encoding.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use chrono::{DateTime, Utc};
use kerberos_asn1::{KerberosTime, Microseconds};

/// 0000-01-01T00:00:00Z as Unix seconds.
const MIN_UNIX: i64 = -62_167_219_200;
/// 9999-12-31T23:59:59Z as Unix seconds.
const MAX_UNIX: i64 = 253_402_300_799;

/// Unix seconds (floor) and the microseconds within that second.
fn unix_parts(t: SystemTime) -> (i64, u32) {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => (
            i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
            d.subsec_micros(),
        ),
        Err(e) => {
            let d = e.duration();
            let secs = i64::try_from(d.as_secs()).unwrap_or(i64::MAX);
            let micros = d.subsec_micros();
            if d.subsec_nanos() == 0 {
                (-secs, 0)
            } else {
                // floor towards minus infinity; microseconds count up from there
                (-secs - 1, (1_000_000 - micros) % 1_000_000)
            }
        }
    }
}

fn from_unix(secs: i64) -> KerberosTime {
    let secs = secs.clamp(MIN_UNIX, MAX_UNIX);
    let dt = DateTime::<Utc>::from_timestamp(secs, 0).unwrap_or_default();
    KerberosTime::from(dt)
}

/// The KerberosTime for `t`, sub-second part dropped.
pub fn to_kerberos_time(t: SystemTime) -> KerberosTime {
    from_unix(unix_parts(t).0)
}

/// The KerberosTime and Microseconds pair for `t` (as in `ctime`/`cusec`).
pub fn to_kerberos_time_usec(t: SystemTime) -> (KerberosTime, Microseconds) {
    let (secs, micros) = unix_parts(t);
    let clamped = secs.clamp(MIN_UNIX, MAX_UNIX);
    let micros = if clamped == secs { micros } else { 0 };
    (from_unix(clamped), i32::try_from(micros).unwrap_or(0))
}

/// Unix seconds of a KerberosTime.
pub fn unix_seconds(kt: &KerberosTime) -> i64 {
    kt.time.time.timestamp()
}

/// The instant a KerberosTime denotes.
pub fn from_kerberos_time(kt: &KerberosTime) -> SystemTime {
    from_unix_secs(unix_seconds(kt))
}

/// The instant a KerberosTime plus Microseconds denotes (microseconds
/// outside 0..=999999 are clamped: RFC 4120 §5.2.4 range).
pub fn from_kerberos_time_usec(kt: &KerberosTime, usec: Microseconds) -> SystemTime {
    let micros = u64::try_from(usec.clamp(0, 999_999)).unwrap_or(0);
    from_kerberos_time(kt) + Duration::from_micros(micros)
}

fn from_unix_secs(secs: i64) -> SystemTime {
    if secs >= 0 {
        UNIX_EPOCH + Duration::from_secs(secs.unsigned_abs())
    } else {
        UNIX_EPOCH - Duration::from_secs(secs.unsigned_abs())
    }
}

/// `YYYYMMDDHHMMSSZ`, the wire text of a KerberosTime.
pub fn format(kt: &KerberosTime) -> String {
    kt.time.time.format("%Y%m%d%H%M%SZ").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use kerberos_asn1::Asn1Object;

    #[test]
    fn round_trips_whole_seconds_and_splits_micros() {
        let t = UNIX_EPOCH + Duration::from_micros(1_790_000_000_123_456);
        let (kt, us) = to_kerberos_time_usec(t);
        assert_eq!(format(&kt), "20260921141320Z");
        assert_eq!(us, 123_456);
        assert_eq!(from_kerberos_time_usec(&kt, us), t);
        assert_eq!(to_kerberos_time(t), kt);
        assert_eq!(kt.build(), b"\x18\x0f20260921141320Z".to_vec());
    }

    #[test]
    fn floors_times_before_the_epoch() {
        let t = UNIX_EPOCH - Duration::from_micros(1_500_000);
        let (kt, us) = to_kerberos_time_usec(t);
        assert_eq!(format(&kt), "19691231235958Z");
        assert_eq!(us, 500_000);
        assert_eq!(from_kerberos_time_usec(&kt, us), t);
    }

    #[test]
    fn saturates_outside_the_four_digit_years() {
        let far = UNIX_EPOCH + Duration::from_secs(400_000_000_000);
        assert_eq!(format(&to_kerberos_time(far)), "99991231235959Z");
        let (_, us) = to_kerberos_time_usec(far);
        assert_eq!(us, 0);
        let early = UNIX_EPOCH - Duration::from_secs(100_000_000_000);
        assert_eq!(format(&to_kerberos_time(early)), "00000101000000Z");
    }
}
