//! Jumping over quiet time.
//!
//! turmoil advances every host one tick per step, so a client waiting out
//! a 3 s timeout with 1 ms ticks costs 3000 steps of every host, although
//! nothing happens in them. When the world is quiet (no message in flight,
//! nothing recorded for two steps) the runner instead *warps*: it moves
//! scenario time (every host's wall clock) and every host's tokio clock
//! forward together, straight to just before the earliest deadline a driver
//! hinted ([`kerbside_net::Clock::timer_hint`]) or the next timeline event,
//! and the timer then fires at its exact time in an ordinary step.
//!
//! The tokio clocks move inside the hosts: each host incarnation runs a
//! follower task ([`Warp::follow`]) that applies the jump with
//! `tokio::time::advance` at the start of the next step. A timer nobody
//! hinted fires late, at the end of the jump (background timers such as an
//! idle connection's; the drivers hint every timer that ends a wait). So
//! that what such a timer sets off (a server closing an idle keep-alive
//! connection) has landed before the next timeline event, a jump towards
//! an event first stops [`SETTLE`] short of it and goes the rest of the way
//! once the world is quiet again.

use std::cell::Cell;
use std::collections::BTreeMap;
use std::rc::Rc;
use std::time::Duration;

use tokio::sync::Notify;

/// How far short of a timeline event a jump first stops.
pub(crate) const SETTLE: Duration = Duration::from_millis(100);

/// One host's pending jump.
#[derive(Debug, Default)]
struct HostWarp {
    notify: Rc<Notify>,
    pending: Cell<Duration>,
}

/// The jumps requested for every host of a run.
#[derive(Debug, Default)]
pub(crate) struct Warp {
    hosts: BTreeMap<String, HostWarp>,
    /// turmoil's tick (see [`Warp::follow`]).
    tick: Cell<Duration>,
}

impl Warp {
    /// A warp for these hosts.
    pub(crate) fn new<'a>(hosts: impl IntoIterator<Item = &'a str>) -> Rc<Self> {
        Rc::new(Warp {
            hosts: hosts
                .into_iter()
                .map(|h| (h.to_owned(), HostWarp::default()))
                .collect(),
            tick: Cell::new(Duration::ZERO),
        })
    }

    /// Sets turmoil's tick.
    pub(crate) fn set_tick(&self, tick: Duration) {
        self.tick.set(tick);
    }

    /// Asks every host to move its tokio clock forward by `by` in its next
    /// step (jumps requested before it runs add up).
    pub(crate) fn request(&self, by: Duration) {
        for h in self.hosts.values() {
            h.pending.set(h.pending.get().saturating_add(by));
            h.notify.notify_one();
        }
    }

    /// The follower task of one host incarnation: applies every jump
    /// requested from now on. A restarted host starts with a fresh tokio
    /// clock, so jumps requested while it was down are dropped.
    pub(crate) async fn follow(self: Rc<Self>, host: String) {
        let Some(h) = self.hosts.get(&host) else {
            return;
        };
        h.pending.set(Duration::ZERO);
        loop {
            h.notify.notified().await;
            let by = h.pending.replace(Duration::ZERO);
            if !by.is_zero() {
                // turmoil steps a host with `sleep(tick)`: a jump of `by`
                // inside that step ends the sleep at once, so the step
                // moves the host's clock `by` instead of `by + tick`.
                // Advancing by the tick too keeps the host's tokio clock
                // on scenario time (without it, each jump left the host
                // one tick behind, and a hinted timer could still be
                // pending when the runner judged it fired and jumped
                // past it).
                tokio::time::advance(by + self.tick.get()).await;
            }
        }
    }
}

/// What the runner knows when deciding whether to jump.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Quiet {
    /// Scenario time now.
    pub(crate) now: Duration,
    /// turmoil's tick.
    pub(crate) tick: Duration,
    /// The earliest hinted deadline after now.
    pub(crate) hint: Option<Duration>,
    /// The next timeline event.
    pub(crate) item: Option<Duration>,
    /// The earliest moment the runner must look at (the end of the
    /// scenario, a running logon's hang deadline).
    pub(crate) limit: Duration,
    /// Whether a logon is running (then only a hinted deadline, a timeline
    /// event or the limit may end a jump: a wait with no hint is ticked).
    pub(crate) logons_running: bool,
}

/// How far to jump, if at all. The target is one tick before a hinted
/// deadline (the timer then fires at its exact time in an ordinary step),
/// or the next timeline event ([`SETTLE`] short of it while that is still
/// ahead), or the limit; jumps shorter than two ticks are not worth a step
/// of their own.
pub(crate) fn jump(q: &Quiet) -> Option<Duration> {
    let hinted = q.hint.map(|h| h.saturating_sub(q.tick));
    let item = q.item.map(|i| {
        if i.saturating_sub(q.now) > SETTLE + q.tick * 2 {
            i - SETTLE
        } else {
            i
        }
    });
    let mut target = match (hinted, item) {
        (Some(h), Some(i)) => h.min(i),
        (Some(h), None) => h,
        (None, Some(i)) if !q.logons_running => i,
        _ => return None,
    };
    target = target.min(q.limit);
    let by = target.checked_sub(q.now)?;
    (by >= q.tick * 2).then_some(by)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    fn quiet() -> Quiet {
        Quiet {
            now: Duration::from_secs(10),
            tick: MS,
            hint: None,
            item: None,
            limit: Duration::from_secs(3600),
            logons_running: false,
        }
    }

    #[test]
    fn jumps_to_just_before_the_earliest_deadline() {
        let q = Quiet {
            hint: Some(Duration::from_secs(13)),
            item: Some(Duration::from_secs(60)),
            logons_running: true,
            ..quiet()
        };
        assert_eq!(jump(&q), Some(Duration::from_secs(3) - MS));
        let q = Quiet {
            item: Some(Duration::from_secs(11)),
            ..q
        };
        assert_eq!(
            jump(&q),
            Some(Duration::from_secs(1) - SETTLE),
            "the timeline comes first, settling short of it"
        );
        let q2 = Quiet {
            now: Duration::from_secs(11) - SETTLE + 2 * MS,
            ..q
        };
        assert_eq!(jump(&q2), Some(SETTLE - 2 * MS), "then the rest of the way");
        let q = Quiet {
            limit: Duration::from_millis(10_500),
            ..q
        };
        assert_eq!(
            jump(&q),
            Some(Duration::from_millis(500)),
            "never past the limit"
        );
    }

    #[test]
    fn an_unhinted_wait_is_ticked() {
        let q = Quiet {
            item: Some(Duration::from_secs(60)),
            logons_running: true,
            ..quiet()
        };
        assert_eq!(
            jump(&q),
            None,
            "a running logon waits on something nobody hinted"
        );
        let q = Quiet {
            logons_running: false,
            ..q
        };
        assert_eq!(
            jump(&q),
            Some(Duration::from_secs(50) - SETTLE),
            "idle: skip to the timeline"
        );
        assert_eq!(jump(&quiet()), None, "nothing ahead");
    }

    #[test]
    fn short_jumps_are_not_taken() {
        let q = Quiet {
            hint: Some(Duration::from_secs(10) + 2 * MS),
            ..quiet()
        };
        assert_eq!(jump(&q), None);
        let q = Quiet {
            hint: Some(Duration::from_secs(10) + 3 * MS),
            ..quiet()
        };
        assert_eq!(jump(&q), Some(2 * MS));
    }
}
