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
//!
//! Drivers hint their timers' deadlines ([`Clock::timer_hint`]); the
//! runner jumps over quiet time to the earliest one ([`crate::warp`]).
//! During such a jump a host's tokio clock moves ahead within one step,
//! so a host's view of sim time is capped at the step's end: everything a
//! step does happens within its one tick, whatever tokio says.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use kerbside_net::Clock;

/// The world's shared time base.
#[derive(Debug)]
pub struct Timebase {
    epoch: SystemTime,
    /// Timeline warps: wall clocks jumped, tokio clocks did not.
    warp_ns: AtomicU64,
    /// Jumps over quiet time: wall clocks and tokio clocks moved together.
    jumped_ns: AtomicU64,
    /// turmoil's elapsed time as of the driver's last step: used when a clock
    /// is read outside a host (by the driver itself).
    driver_elapsed_ns: AtomicU64,
    /// turmoil's tick: a host never sees more than one tick past
    /// `driver_elapsed` (see the module docs).
    tick_ns: AtomicU64,
    /// Deadlines (scenario time) drivers said their timers fire at.
    hints: Mutex<BTreeSet<Duration>>,
    /// Deadlines of timers that only matter while a logon runs (client
    /// hosts: the negotiator's waits). A logon that finished early leaves
    /// its timeout's hint behind; while no logon runs these are ignored,
    /// so a quiet world does not stop at a deadline nobody waits for.
    logon_hints: Mutex<BTreeSet<Duration>>,
}

/// How many ticks a hinted deadline is still honoured after it passed: a
/// host's timer fires in the step its tokio clock reaches the deadline,
/// which can be a tick or two after scenario time did (tokio rounds timer
/// deadlines up to the millisecond), and a jump decided in between would
/// carry it far past its time.
pub const HINT_GRACE_TICKS: u32 = 3;

impl Timebase {
    /// A time base starting at `epoch`.
    pub fn new(epoch: SystemTime) -> Arc<Self> {
        Arc::new(Self {
            epoch,
            warp_ns: AtomicU64::new(0),
            jumped_ns: AtomicU64::new(0),
            driver_elapsed_ns: AtomicU64::new(0),
            tick_ns: AtomicU64::new(u64::MAX),
            hints: Mutex::new(BTreeSet::new()),
            logon_hints: Mutex::new(BTreeSet::new()),
        })
    }

    /// Sets turmoil's tick (the cap on a host's view within a step).
    pub fn set_tick(&self, tick: Duration) {
        self.tick_ns.store(
            u64::try_from(tick.as_nanos()).unwrap_or(u64::MAX),
            Ordering::Relaxed,
        );
    }

    /// Records that a timer fires `wait` from now (scenario time).
    pub fn hint_in(&self, wait: Duration) {
        let at = self.scenario_elapsed().saturating_add(wait);
        if let Ok(mut h) = self.hints.lock() {
            h.insert(at);
        }
    }

    /// Records that a logon's timer fires `wait` from now: honoured only
    /// while logons run (see [`Timebase::next_hint`]).
    pub fn hint_in_logon(&self, wait: Duration) {
        let at = self.scenario_elapsed().saturating_add(wait);
        if let Ok(mut h) = self.logon_hints.lock() {
            h.insert(at);
        }
    }

    /// The earliest hinted deadline after `after`, or one that passed less
    /// than [`HINT_GRACE_TICKS`] ticks ago (the runner then does not jump:
    /// the timer may not have fired in its host yet, and jumping over it
    /// would make it fire late). Older hints (fired or abandoned timers) are
    /// forgotten. Logon hints count only when `logons_running`; without a
    /// running logon they are dropped (no logon waits on them any more).
    pub fn next_hint(&self, after: Duration, logons_running: bool) -> Option<Duration> {
        let grace = match self.tick_ns.load(Ordering::Relaxed) {
            u64::MAX => Duration::ZERO, // no tick set: no host runs
            t => Duration::from_nanos(t).saturating_mul(HINT_GRACE_TICKS),
        };
        let earliest = |set: &Mutex<BTreeSet<Duration>>| -> Option<Duration> {
            let mut h = set.lock().ok()?;
            while let Some(first) = h.first().copied() {
                if first.saturating_add(grace) > after {
                    return Some(first);
                }
                h.pop_first();
            }
            None
        };
        let logon = if logons_running {
            earliest(&self.logon_hints)
        } else {
            if let Ok(mut h) = self.logon_hints.lock() {
                h.clear();
            }
            None
        };
        match (earliest(&self.hints), logon) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// The scenario's epoch (wall time at sim time zero).
    pub fn epoch(&self) -> SystemTime {
        self.epoch
    }

    /// Total timeline warp so far: how far the wall clocks are ahead of
    /// tokio time (sim time plus jumps), so tokio's elapsed time plus this
    /// is scenario time up to a constant.
    pub fn warp(&self) -> Duration {
        Duration::from_nanos(self.warp_ns.load(Ordering::Relaxed))
    }

    /// Total jumps over quiet time so far ([`crate::warp`]).
    pub fn jumped(&self) -> Duration {
        Duration::from_nanos(self.jumped_ns.load(Ordering::Relaxed))
    }

    /// Scenario time minus sim time: warps and jumps.
    pub fn offset(&self) -> Duration {
        self.warp().saturating_add(self.jumped())
    }

    /// Jumps every wall clock forward by `by` (the `warp` action; tokio
    /// timers do not move).
    pub fn add_warp(&self, by: Duration) {
        let by = u64::try_from(by.as_nanos()).unwrap_or(u64::MAX);
        let cur = self.warp_ns.load(Ordering::Relaxed);
        self.warp_ns
            .store(cur.saturating_add(by), Ordering::Relaxed);
    }

    /// Records a jump over quiet time by `by`: wall clocks move here, the
    /// hosts' tokio clocks by [`crate::warp::Warp::request`].
    pub fn add_jump(&self, by: Duration) {
        let by = u64::try_from(by.as_nanos()).unwrap_or(u64::MAX);
        let cur = self.jumped_ns.load(Ordering::Relaxed);
        self.jumped_ns
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
    /// host (at most one tick past the last step), otherwise the driver's
    /// last step.
    pub fn sim_elapsed(&self) -> Duration {
        let base = Duration::from_nanos(self.driver_elapsed_ns.load(Ordering::Relaxed));
        match turmoil::sim_elapsed() {
            Some(host) => {
                let cap =
                    base.saturating_add(Duration::from_nanos(self.tick_ns.load(Ordering::Relaxed)));
                host.min(cap)
            }
            None => base,
        }
    }

    /// Scenario time: sim time plus warp. Timeline `at` values are in this
    /// time.
    pub fn scenario_elapsed(&self) -> Duration {
        self.sim_elapsed() + self.offset()
    }

    /// A clock for one host, starting with no skew.
    pub fn host_clock(self: &Arc<Self>) -> SimClock {
        SimClock {
            base: Arc::clone(self),
            skew_ns: Arc::new(AtomicI64::new(0)),
            logon_scoped: false,
        }
    }
}

/// One host's clock: implements [`kerbside_net::Clock`].
#[derive(Clone, Debug)]
pub struct SimClock {
    base: Arc<Timebase>,
    skew_ns: Arc<AtomicI64>,
    /// Its timers only end a logon's waits (a client host's negotiator).
    logon_scoped: bool,
}

impl SimClock {
    /// This clock's timer hints only matter while a logon runs (a client
    /// host: everything it waits for is part of a logon).
    pub fn scoped_to_logons(mut self) -> Self {
        self.logon_scoped = true;
        self
    }

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
    fn timer_hint(&self, wait: Duration) {
        if self.logon_scoped {
            self.base.hint_in_logon(wait);
        } else {
            self.base.hint_in(wait);
        }
    }

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

    #[test]
    fn hints_give_the_next_deadline_and_forget_past_ones() {
        let tb = Timebase::new(UNIX_EPOCH);
        assert_eq!(tb.next_hint(Duration::ZERO, false), None);
        tb.hint_in(Duration::from_secs(3));
        tb.hint_in(Duration::from_secs(1));
        assert_eq!(
            tb.next_hint(Duration::ZERO, false),
            Some(Duration::from_secs(1))
        );
        assert_eq!(
            tb.next_hint(Duration::from_secs(1), false),
            Some(Duration::from_secs(3)),
            "a deadline at or before `after` has passed"
        );
        assert_eq!(
            tb.next_hint(Duration::from_secs(1), false),
            Some(Duration::from_secs(3))
        );
        tb.add_warp(Duration::from_secs(10));
        tb.host_clock().timer_hint(Duration::from_secs(2));
        assert_eq!(
            tb.next_hint(Duration::from_secs(5), false),
            Some(Duration::from_secs(12))
        );
    }

    #[test]
    fn logon_hints_count_only_while_logons_run() {
        let tb = Timebase::new(UNIX_EPOCH);
        let client = tb.host_clock().scoped_to_logons();
        client.timer_hint(Duration::from_secs(3));
        tb.host_clock().timer_hint(Duration::from_secs(7));
        assert_eq!(
            tb.next_hint(Duration::ZERO, true),
            Some(Duration::from_secs(3)),
            "a running logon's timeout"
        );
        assert_eq!(
            tb.next_hint(Duration::ZERO, false),
            Some(Duration::from_secs(7)),
            "the logon finished early: its timeout no longer stops a jump"
        );
        assert_eq!(
            tb.next_hint(Duration::ZERO, true),
            Some(Duration::from_secs(7)),
            "and is forgotten"
        );
    }
}
