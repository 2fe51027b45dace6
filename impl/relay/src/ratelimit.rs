//! Per-client token buckets, driven by the injected `now`.
//!
//! A KKDCP endpoint faces the internet and is an account-enumeration and
//! Kerberoasting surface (GhostPack/Rubeus#100); kdcproxy has no limit at all.
//! Each client (its authenticated identity, else its address) gets a bucket of
//! `burst` tokens refilled at `per_second`; a request takes one token or is
//! refused with 429.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use crate::config::RateLimit;

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    last: SystemTime,
}

/// The buckets of every recently seen client.
#[derive(Debug)]
pub struct RateLimiter {
    limit: RateLimit,
    capacity: usize,
    buckets: BTreeMap<String, Bucket>,
}

impl RateLimiter {
    /// A limiter remembering at most `capacity` clients.
    pub fn new(limit: RateLimit, capacity: usize) -> Self {
        RateLimiter {
            limit,
            capacity: capacity.max(1),
            buckets: BTreeMap::new(),
        }
    }

    /// Takes one token for `client`. On refusal returns how long until a
    /// token is available (for `Retry-After`).
    pub fn admit(&mut self, client: &str, now: SystemTime) -> Result<(), Duration> {
        let burst = f64::from(self.limit.burst);
        if !self.buckets.contains_key(client) && self.buckets.len() >= self.capacity {
            self.evict(now);
        }
        let rate = self.limit.per_second;
        let bucket = self.buckets.entry(client.to_owned()).or_insert(Bucket {
            tokens: burst,
            last: now,
        });
        // A clock that steps backwards refills nothing (and takes nothing).
        let elapsed = now.duration_since(bucket.last).unwrap_or_default();
        bucket.tokens = (bucket.tokens + elapsed.as_secs_f64() * rate).min(burst);
        bucket.last = bucket.last.max(now);
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            let wait = (1.0 - bucket.tokens) / rate;
            Err(Duration::try_from_secs_f64(wait).unwrap_or(Duration::MAX))
        }
    }

    /// Number of clients currently tracked.
    pub fn tracked(&self) -> usize {
        self.buckets.len()
    }

    /// Makes room: first forget every client whose bucket would be full by
    /// now (forgetting it changes nothing), then, if still full, the one
    /// seen longest ago. Bounded memory whatever the number of addresses.
    fn evict(&mut self, now: SystemTime) {
        let burst = f64::from(self.limit.burst);
        let rate = self.limit.per_second;
        self.buckets.retain(|_, b| {
            let elapsed = now.duration_since(b.last).unwrap_or_default();
            b.tokens + elapsed.as_secs_f64() * rate < burst
        });
        if self.buckets.len() >= self.capacity {
            let oldest = self
                .buckets
                .iter()
                .min_by_key(|(_, b)| b.last)
                .map(|(k, _)| k.clone());
            if let Some(k) = oldest {
                self.buckets.remove(&k);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(ms: u64) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000) + Duration::from_millis(ms)
    }

    #[test]
    fn burst_then_refill() {
        let mut rl = RateLimiter::new(
            RateLimit {
                per_second: 2.0,
                burst: 3,
            },
            10,
        );
        for _ in 0..3 {
            rl.admit("a", t(0)).unwrap();
        }
        let wait = rl.admit("a", t(0)).unwrap_err();
        assert_eq!(wait, Duration::from_millis(500));
        // Another client is independent.
        rl.admit("b", t(0)).unwrap();
        // 500 ms later one token is back, and only one.
        rl.admit("a", t(500)).unwrap();
        assert!(rl.admit("a", t(500)).is_err());
        // The bucket never holds more than `burst`.
        for _ in 0..3 {
            rl.admit("a", t(100_000)).unwrap();
        }
        assert!(rl.admit("a", t(100_000)).is_err());
    }

    #[test]
    fn clock_going_backwards_grants_nothing() {
        let mut rl = RateLimiter::new(
            RateLimit {
                per_second: 1.0,
                burst: 1,
            },
            10,
        );
        rl.admit("a", t(10_000)).unwrap();
        assert!(rl.admit("a", t(0)).is_err());
        assert!(rl.admit("a", t(10_500)).is_err());
        rl.admit("a", t(11_000)).unwrap();
    }

    #[test]
    fn memory_is_bounded() {
        let mut rl = RateLimiter::new(
            RateLimit {
                per_second: 1.0,
                burst: 2,
            },
            4,
        );
        for i in 0..100 {
            let _ = rl.admit(&format!("10.0.0.{i}"), t(i));
            assert!(rl.tracked() <= 4);
        }
        // A client that exhausted its bucket and is still tracked stays limited.
        let mut rl = RateLimiter::new(
            RateLimit {
                per_second: 1.0,
                burst: 1,
            },
            2,
        );
        rl.admit("x", t(0)).unwrap();
        rl.admit("y", t(1)).unwrap();
        assert!(rl.admit("y", t(2)).is_err());
        // Room for z: x is the oldest and goes, y stays limited.
        rl.admit("z", t(3)).unwrap();
        assert!(rl.admit("y", t(4)).is_err());
    }
}
