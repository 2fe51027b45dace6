//! The negative cache: endpoints that just failed, and until when to skip
//! them, on the host's monotonic clock.
//!
//! A dead DC costs a full timeout (Windows `KdcWaitTime`, 10 s) every time
//! it is asked; remembering the failure for a while means only the first
//! logon after the outage pays it. An endpoint leaves the cache when its
//! entry expires or as soon as it answers again (a probe, or a logon made
//! while every endpoint was cached).
//!
//! Times are monotonic (`Now::mono`), not the Kerberos wall clock: a clock
//! step (skew correction, an administrator) must not resurrect or bury an
//! endpoint.

use std::collections::BTreeMap;
use std::time::Duration;

/// Failed endpoints and when they may be tried again.
#[derive(Clone, Debug, Default)]
pub struct NegativeCache {
    until: BTreeMap<String, Duration>,
}

impl NegativeCache {
    /// An empty cache.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records that `key` failed at `now`: skip it until `now + ttl`. A zero
    /// `ttl` (cache off) records nothing.
    pub fn mark_failed(&mut self, key: &str, now: Duration, ttl: Duration) {
        self.purge(now);
        if ttl.is_zero() {
            return;
        }
        let until = now.saturating_add(ttl);
        let e = self.until.entry(key.to_owned()).or_insert(until);
        // A later failure extends the entry; an earlier one never shortens it.
        if *e < until {
            *e = until;
        }
    }

    /// How long `key` is still to be skipped at `now`, if it is.
    pub fn remaining(&self, key: &str, now: Duration) -> Option<Duration> {
        self.until
            .get(key)
            .and_then(|until| until.checked_sub(now))
            .filter(|d| !d.is_zero())
    }

    /// `key` answered: forget its failure.
    pub fn clear(&mut self, key: &str) {
        self.until.remove(key);
    }

    /// Drops expired entries.
    pub fn purge(&mut self, now: Duration) {
        self.until.retain(|_, until| *until > now);
    }

    /// Entries still live at `now`, in key order (for reports).
    pub fn live(&self, now: Duration) -> Vec<(String, Duration)> {
        self.until
            .iter()
            .filter_map(|(k, u)| {
                u.checked_sub(now)
                    .filter(|d| !d.is_zero())
                    .map(|d| (k.clone(), d))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: fn(u64) -> Duration = Duration::from_secs;

    #[test]
    fn entries_expire_on_the_injected_clock() {
        let mut c = NegativeCache::new();
        c.mark_failed("native-tcp:dc1:88", S(100), S(60));
        assert_eq!(c.remaining("native-tcp:dc1:88", S(100)), Some(S(60)));
        assert_eq!(c.remaining("native-tcp:dc1:88", S(159)), Some(S(1)));
        assert_eq!(c.remaining("native-tcp:dc1:88", S(160)), None);
        assert_eq!(c.remaining("native-tcp:dc2:88", S(100)), None);
        c.purge(S(160));
        assert!(c.live(S(0)).is_empty(), "purged");
    }

    #[test]
    fn later_failures_extend_and_answers_clear() {
        let mut c = NegativeCache::new();
        c.mark_failed("k", S(0), S(60));
        c.mark_failed("k", S(30), S(60));
        assert_eq!(c.remaining("k", S(80)), Some(S(10)));
        c.mark_failed("k", S(31), S(1));
        assert_eq!(c.remaining("k", S(80)), Some(S(10)), "never shortened");
        c.clear("k");
        assert_eq!(c.remaining("k", S(31)), None);
    }

    #[test]
    fn zero_ttl_is_off() {
        let mut c = NegativeCache::new();
        c.mark_failed("k", S(5), Duration::ZERO);
        assert_eq!(c.remaining("k", S(5)), None);
        assert!(c.live(S(5)).is_empty());
    }

    #[test]
    fn live_lists_in_key_order() {
        let mut c = NegativeCache::new();
        c.mark_failed("b", S(0), S(10));
        c.mark_failed("a", S(0), S(20));
        c.mark_failed("c", S(0), S(1));
        assert_eq!(
            c.live(S(5)),
            vec![("a".to_owned(), S(15)), ("b".to_owned(), S(5))]
        );
    }
}
