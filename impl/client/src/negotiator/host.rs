//! What a client host remembers between logons: the negative cache, the
//! ticket cache and the Kerberos time correction. One per host, shared by
//! every logon the host makes (a driver keeps it in a `RefCell`; logons take
//! it by `&mut` only while handling an event, so concurrent logons on one
//! single-threaded host see each other's failures and tickets).

use std::time::{Duration, SystemTime};

use super::negative_cache::NegativeCache;
use super::ticket_cache::TicketCache;

/// Per-host negotiator state.
#[derive(Clone, Debug, Default)]
pub struct HostState {
    /// Endpoints that failed recently.
    pub negative: NegativeCache,
    /// TGTs and service tickets.
    pub tickets: TicketCache,
    /// Correction applied to the host clock for Kerberos timestamps after a
    /// KDC reported KRB_AP_ERR_SKEW with its own time (MIT
    /// `kdc_timesync`): the KDC's time minus ours.
    kdc_offset: ClockOffset,
}

/// A signed clock correction.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ClockOffset {
    /// The KDC is ahead of us by this much.
    pub ahead: Duration,
    /// The KDC is behind us by this much (one of the two is zero).
    pub behind: Duration,
}

impl ClockOffset {
    /// The offset that turns `ours` into `theirs`.
    pub fn between(ours: SystemTime, theirs: SystemTime) -> Self {
        match theirs.duration_since(ours) {
            Ok(ahead) => ClockOffset {
                ahead,
                behind: Duration::ZERO,
            },
            Err(e) => ClockOffset {
                ahead: Duration::ZERO,
                behind: e.duration(),
            },
        }
    }

    /// Applies the offset to a reading of our clock.
    pub fn apply(self, ours: SystemTime) -> SystemTime {
        let t = ours.checked_add(self.ahead).unwrap_or(ours);
        t.checked_sub(self.behind).unwrap_or(t)
    }
}

impl HostState {
    /// Fresh state.
    pub fn new() -> Self {
        Self::default()
    }

    /// The time to put in Kerberos messages: the host clock corrected by
    /// the last KDC time sync.
    pub fn kerberos_time(&self, wall: SystemTime) -> SystemTime {
        self.kdc_offset.apply(wall)
    }

    /// Records the KDC's time (from a KRB_AP_ERR_SKEW error) against ours.
    pub fn sync_to_kdc(&mut self, ours: SystemTime, kdc: SystemTime) {
        self.kdc_offset = ClockOffset::between(ours, kdc);
    }

    /// The current correction.
    pub fn kdc_offset(&self) -> ClockOffset {
        self.kdc_offset
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offset_round_trips_both_directions() {
        let ours = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
        let ahead = ours + Duration::from_secs(600);
        let behind = ours - Duration::from_secs(420);
        let mut h = HostState::new();
        assert_eq!(h.kerberos_time(ours), ours);
        h.sync_to_kdc(ours, ahead);
        assert_eq!(h.kerberos_time(ours), ahead);
        assert_eq!(
            h.kerberos_time(ours + Duration::from_secs(5)),
            ahead + Duration::from_secs(5)
        );
        h.sync_to_kdc(ours, behind);
        assert_eq!(h.kerberos_time(ours), behind);
        assert_eq!(h.kdc_offset().behind, Duration::from_secs(420));
    }
}
