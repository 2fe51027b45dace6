//! Simulated wall clocks.
//!
//! Every host's Kerberos clock is
//!
//! ```text
//! epoch  +  turmoil sim time  +  warp  +  host skew
//! ```
//!
//! * `epoch` is fixed by the scenario (turmoil's default is the real
//!   `SystemTime::now()`, which would make every timestamp differ per run);
//! * turmoil sim time advances one tick per step;
//! * `warp` is a world-wide offset that the `warp` timeline action and idle
//!   skipping add to, so hours of quiet simulated time cost no ticks: only
//!   the wall clocks jump, tokio timers (timeouts, sleeps) do not;
//! * skew is per host (`skew` action), the knob behind KRB_AP_ERR_SKEW
//!   (RFC 4120 §5.2.3: the default acceptable skew is five minutes).
//!
//! The state is atomic and `Arc`-shared so the same clock can serve as
//! rustls' `TimeProvider` (which must be `Send + Sync`).

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use kerbside_net::Clock;

/// The world's shared time base.
#[derive(Debug)]
pub struct Timebase {
    epoch: SystemTime,
    warp_ns: AtomicU64,
    /// turmoil's elapsed time as of the driver's last step: used when a clock
    /// is read outside a host (by the driver itself).
    driver_elapsed_ns: AtomicU64,
}

impl Timebase {
    /// A time base starting at `epoch`.
    pub fn new(epoch: SystemTime) -> Arc<Self> {
        Arc::new(Self {
            epoch,
            warp_ns: AtomicU64::new(0),
            driver_elapsed_ns: AtomicU64::new(0),
        })
    }

    /// The scenario's epoch (wall time at sim time zero).
    pub fn epoch(&self) -> SystemTime {
        self.epoch
    }

    /// Total warp so far.
    pub fn warp(&self) -> Duration {
        Duration::from_nanos(self.warp_ns.load(Ordering::Relaxed))
    }

    /// Jumps every clock forward by `by`.
    pub fn add_warp(&self, by: Duration) {
        let by = u64::try_from(by.as_nanos()).unwrap_or(u64::MAX);
        let cur = self.warp_ns.load(Ordering::Relaxed);
        self.warp_ns
            .store(cur.saturating_add(by), Ordering::Relaxed);
    }

    /// Records turmoil's elapsed time after a driver step.
    pub fn set_driver_elapsed(&self, elapsed: Duration) {
        self.driver_elapsed_ns.store(
            u64::try_from(elapsed.as_nanos()).unwrap_or(u64::MAX),
            Ordering::Relaxed,
        );
    }

    /// turmoil's sim time: the executing host's view when called from a
    /// host, otherwise the driver's last step.
    pub fn sim_elapsed(&self) -> Duration {
        turmoil::sim_elapsed()
            .unwrap_or_else(|| Duration::from_nanos(self.driver_elapsed_ns.load(Ordering::Relaxed)))
    }

    /// Scenario time: sim time plus warp. Timeline `at` values are in this
    /// time.
    pub fn scenario_elapsed(&self) -> Duration {
        self.sim_elapsed() + self.warp()
    }

    /// A clock for one host, starting with no skew.
    pub fn host_clock(self: &Arc<Self>) -> SimClock {
        SimClock {
            base: Arc::clone(self),
            skew_ns: Arc::new(AtomicI64::new(0)),
        }
    }
}

/// One host's clock: implements [`kerbside_net::Clock`].
#[derive(Clone, Debug)]
pub struct SimClock {
    base: Arc<Timebase>,
    skew_ns: Arc<AtomicI64>,
}

impl SimClock {
    /// Sets this host's skew (positive: the host's clock is ahead).
    pub fn set_skew(&self, nanos: i64) {
        self.skew_ns.store(nanos, Ordering::Relaxed);
    }

    /// Moves this host's skew by `delta` nanoseconds.
    pub fn step_skew(&self, delta: i64) {
        let cur = self.skew_ns.load(Ordering::Relaxed);
        self.skew_ns
            .store(cur.saturating_add(delta), Ordering::Relaxed);
    }

    /// Current skew in nanoseconds.
    pub fn skew_nanos(&self) -> i64 {
        self.skew_ns.load(Ordering::Relaxed)
    }

    /// The shared time base.
    pub fn timebase(&self) -> &Arc<Timebase> {
        &self.base
    }
}

impl Clock for SimClock {
    fn now(&self) -> SystemTime {
        let unskewed = self.base.epoch + self.base.scenario_elapsed();
        let skew = self.skew_nanos();
        let mag = Duration::from_nanos(skew.unsigned_abs());
        if skew >= 0 {
            unskewed.checked_add(mag).unwrap_or(unskewed)
        } else {
            unskewed.checked_sub(mag).unwrap_or(unskewed)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::UNIX_EPOCH;

    #[test]
    fn epoch_warp_and_skew_compose() {
        let epoch = UNIX_EPOCH + Duration::from_secs(1_772_438_400);
        let tb = Timebase::new(epoch);
        let a = tb.host_clock();
        let b = tb.host_clock();
        assert_eq!(a.now(), epoch);
        tb.set_driver_elapsed(Duration::from_secs(2));
        assert_eq!(a.now(), epoch + Duration::from_secs(2));
        tb.add_warp(Duration::from_secs(3600));
        assert_eq!(b.now(), epoch + Duration::from_secs(3602));
        a.set_skew(-360_000_000_000);
        assert_eq!(a.now(), epoch + Duration::from_secs(3602 - 360));
        assert_eq!(
            b.now(),
            epoch + Duration::from_secs(3602),
            "skew is per host"
        );
        a.step_skew(60_000_000_000);
        assert_eq!(a.now(), epoch + Duration::from_secs(3602 - 300));
        assert_eq!(tb.scenario_elapsed(), Duration::from_secs(3602));
    }
}
