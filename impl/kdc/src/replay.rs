//! Authenticator replay cache (RFC 4120 §3.2.3), used by the KDC for the
//! AP-REQ in PA-TGS-REQ and by the application server's acceptor: one
//! mechanism for every receiver of authenticators.
//!
//! "The replay cache will store at least the server name, along with the
//! client name, time, and microsecond fields of the recently-seen
//! authenticators, and if a matching tuple is found, the KRB_AP_ERR_REPEAT
//! error is returned." An authenticator is only acceptable while its `ctime`
//! is within the skew window of the KDC's clock, so an entry can be forgotten
//! once `ctime + window` has passed: after that the skew check rejects it.
//!
//! That tuple alone confuses two genuine authenticators a client made in
//! the same microsecond (routine in the deterministic simulation, where
//! clocks step in lockstep, and possible on any fast client): the second
//! would be refused as a replay. Each entry therefore also carries the
//! authenticator's integrity tag, the checksum trailer of its ciphertext,
//! as MIT's replay cache does since krb5 1.18 (`k5_rc_tag_from_ciphertext`
//! in `lib/krb5/rcache/rc_base.c`). A replay is a copy of the ciphertext,
//! so it carries the same tag and is still caught; two authenticators
//! encrypted separately differ in their tags (random confounder, keyed
//! MAC).
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

use kerbside_crypto::EncType;
use kerbside_wire::krb::asn1::EncryptedData;

/// Number of independently locked shards.
const SHARDS: usize = 16;

/// The tuple RFC 4120 §3.2.3 says identifies an authenticator, plus the
/// authenticator's integrity tag (see the module docs).
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
    /// The authenticator ciphertext's integrity tag ([`authenticator_tag`]).
    pub tag: Vec<u8>,
}

impl ReplayKey {
    /// The key of a decrypted authenticator: its `ctime`/`cusec` (Unix
    /// seconds and microseconds), the names, and the tag of the
    /// `EncryptedData` it arrived in.
    pub fn for_authenticator(
        ctime: i64,
        cusec: u32,
        client: String,
        server: String,
        encrypted: &EncryptedData,
    ) -> Self {
        Self {
            ctime,
            cusec,
            client,
            server,
            tag: authenticator_tag(encrypted).to_vec(),
        }
    }
}

/// The integrity tag of an encrypted authenticator: the last
/// `checksum_len` octets of its ciphertext, the HMAC trailer of the
/// RFC 3961 §5.3 / RFC 8009 §5 encryption (MIT
/// `k5_rc_tag_from_ciphertext`: `KRB5_CRYPTO_TYPE_CHECKSUM` octets). For an
/// enctype this crate does not know (callers only get here after the
/// ciphertext decrypted, so never in practice) the last 16 octets.
pub fn authenticator_tag(encrypted: &EncryptedData) -> &[u8] {
    let len = EncType::from_id(encrypted.etype).map_or(16, EncType::checksum_len);
    let cipher = encrypted.cipher.as_slice();
    cipher
        .get(cipher.len().saturating_sub(len)..)
        .unwrap_or(cipher)
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
    eat(&key.tag);
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
            tag: vec![0xaa; 12],
        }
    }

    #[test]
    fn same_microsecond_authenticators_differ_by_tag() {
        let c = ReplayCache::new(Duration::from_secs(300), 1000);
        let mut other = key(1000, 5, "alice");
        other.tag = vec![0xbb; 12];
        assert_eq!(
            c.check_and_insert(key(1000, 5, "alice"), 1000),
            ReplayVerdict::Fresh
        );
        assert_eq!(
            c.check_and_insert(other.clone(), 1000),
            ReplayVerdict::Fresh
        );
        assert_eq!(c.check_and_insert(other, 1000), ReplayVerdict::Replay);
    }

    #[test]
    fn tag_is_the_checksum_trailer_of_the_enctype() {
        let cipher: Vec<u8> = (0u8..60).collect();
        let enc = |etype| EncryptedData::new(etype, None, cipher.clone());
        // aes256-cts-hmac-sha1-96: 12-octet HMAC (RFC 3962 §6).
        assert_eq!(authenticator_tag(&enc(18)), &cipher[48..]);
        // aes256-cts-hmac-sha384-192: 24 octets (RFC 8009 §5).
        assert_eq!(authenticator_tag(&enc(20)), &cipher[36..]);
        // Unknown enctype: the last 16; shorter than that: all of it.
        assert_eq!(authenticator_tag(&enc(99)), &cipher[44..]);
        let short = EncryptedData::new(18, None, vec![1, 2, 3]);
        assert_eq!(authenticator_tag(&short), &[1, 2, 3]);
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
