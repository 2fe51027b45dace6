//! Authenticator replay cache (RFC 4120 §3.2.3).
//!
//! "The replay cache will store at least the server name, along with the
//! client name, time, and microsecond fields of the recently-seen
//! authenticators, and if a matching tuple is found, the KRB_AP_ERR_REPEAT
//! error is returned." An authenticator is only acceptable while its `ctime`
//! is within the skew window of the KDC's clock, so an entry can be forgotten
//! once `ctime + window` has passed: after that the skew check rejects it.
//!
//! The cache is shared by every clone of a [`crate::Kdc`] (real mode runs one
//! KDC per worker thread) and sharded so workers rarely contend on one lock.
//! Entries are kept in `BTreeSet`s ordered by `ctime`, which makes expiry a
//! walk from the front. The capacity is bounded: when a shard is full the
//! cache refuses new authenticators ([`ReplayVerdict::Full`]) instead of
//! forgetting live ones, as §3.2.3 requires of a server that "loses track".

use std::collections::BTreeSet;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

/// Number of independently locked shards.
const SHARDS: usize = 16;

/// The tuple RFC 4120 §3.2.3 says identifies an authenticator.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct ReplayKey {
    /// Authenticator `ctime`, seconds since the Unix epoch. First so the set
    /// is ordered by age.
    pub ctime: i64,
    /// Authenticator `cusec`.
    pub cusec: u32,
    /// Client principal, `name@REALM`.
    pub client: String,
    /// Server principal the authenticator was presented to, `name@REALM`.
    pub server: String,
}

/// What the cache says about an authenticator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReplayVerdict {
    /// First sighting: recorded.
    Fresh,
    /// Already seen within the window: KRB_AP_ERR_REPEAT.
    Replay,
    /// The cache is at capacity and cannot remember this one: refuse.
    Full,
}

/// A bounded, sharded, time-ordered replay cache.
#[derive(Debug)]
pub struct ReplayCache {
    shards: Vec<Mutex<BTreeSet<ReplayKey>>>,
    window_secs: i64,
    per_shard_capacity: usize,
}

impl ReplayCache {
    /// A cache remembering authenticators for `window` after their `ctime`,
    /// holding at most about `capacity` entries.
    pub fn new(window: Duration, capacity: usize) -> Self {
        let window_secs = i64::try_from(window.as_secs()).unwrap_or(i64::MAX);
        Self {
            shards: (0..SHARDS).map(|_| Mutex::new(BTreeSet::new())).collect(),
            window_secs,
            per_shard_capacity: capacity.div_ceil(SHARDS).max(1),
        }
    }

    /// Records `key` seen at `now_secs` (Unix seconds) unless it is a replay.
    pub fn check_and_insert(&self, key: ReplayKey, now_secs: i64) -> ReplayVerdict {
        let Some(shard) = self.shards.get(shard_of(&key)) else {
            return ReplayVerdict::Full;
        };
        // A poisoned lock only means another thread panicked while holding it;
        // the set itself is still consistent (inserts and removes are atomic).
        let mut set = shard.lock().unwrap_or_else(PoisonError::into_inner);
        let horizon = now_secs.saturating_sub(self.window_secs);
        while let Some(first) = set.first() {
            if first.ctime >= horizon {
                break;
            }
            set.pop_first();
        }
        if set.contains(&key) {
            return ReplayVerdict::Replay;
        }
        if set.len() >= self.per_shard_capacity {
            return ReplayVerdict::Full;
        }
        set.insert(key);
        ReplayVerdict::Fresh
    }

    /// Number of authenticators currently remembered.
    pub fn len(&self) -> usize {
        self.shards
            .iter()
            .map(|s| s.lock().unwrap_or_else(PoisonError::into_inner).len())
            .sum()
    }

    /// True when nothing is remembered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// FNV-1a over the tuple: stable across runs and platforms, so a simulation
/// is reproducible whatever shard an entry lands in.
fn shard_of(key: &ReplayKey) -> usize {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut eat = |bytes: &[u8]| {
        for b in bytes {
            h ^= u64::from(*b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
    };
    eat(&key.ctime.to_le_bytes());
    eat(&key.cusec.to_le_bytes());
    eat(key.client.as_bytes());
    eat(key.server.as_bytes());
    (h % SHARDS as u64) as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(ctime: i64, cusec: u32, client: &str) -> ReplayKey {
        ReplayKey {
            ctime,
            cusec,
            client: client.into(),
            server: "krbtgt/LAB.TEST@LAB.TEST".into(),
        }
    }

    #[test]
    fn second_sighting_is_a_replay() {
        let c = ReplayCache::new(Duration::from_secs(300), 1000);
        assert_eq!(
            c.check_and_insert(key(1000, 5, "alice"), 1000),
            ReplayVerdict::Fresh
        );
        assert_eq!(
            c.check_and_insert(key(1000, 5, "alice"), 1001),
            ReplayVerdict::Replay
        );
        // Any field differing makes it a different authenticator.
        assert_eq!(
            c.check_and_insert(key(1000, 6, "alice"), 1001),
            ReplayVerdict::Fresh
        );
        assert_eq!(
            c.check_and_insert(key(1000, 5, "bob"), 1001),
            ReplayVerdict::Fresh
        );
        assert_eq!(c.len(), 3);
    }

    #[test]
    fn entries_expire_after_the_window_only() {
        let c = ReplayCache::new(Duration::from_secs(300), 1000);
        c.check_and_insert(key(1000, 1, "alice"), 1000);
        // Still remembered at the edge of the window.
        assert_eq!(
            c.check_and_insert(key(1000, 1, "alice"), 1300),
            ReplayVerdict::Replay
        );
        // Past it the entry is forgotten (the skew check rejects it by then):
        // the same tuple is new again.
        assert_eq!(
            c.check_and_insert(key(1000, 1, "alice"), 1301),
            ReplayVerdict::Fresh
        );
        assert_eq!(c.len(), 1);
    }

    #[test]
    fn full_cache_refuses_rather_than_forgets() {
        let c = ReplayCache::new(Duration::from_secs(300), SHARDS);
        let mut verdicts = Vec::new();
        for i in 0..(SHARDS as u32 * 4) {
            verdicts.push(c.check_and_insert(key(1000, i, "alice"), 1000));
        }
        assert!(verdicts.contains(&ReplayVerdict::Full));
        assert!(c.len() <= SHARDS);
        // Once the window has passed, room is made again.
        assert_eq!(
            c.check_and_insert(key(2000, 0, "alice"), 2000),
            ReplayVerdict::Fresh
        );
    }
}
