//! The lookaside cache: a request identical, octet for octet, to one
//! answered recently gets that reply again without being processed.
//!
//! Clients resend the very same bytes: a UDP retransmission after a lost
//! reply (RFC 4120 §7.2.1), and the retry over TCP after
//! KRB_ERR_RESPONSE_TOO_BIG (§7.2.1). Processing such a TGS-REQ again
//! finds its authenticator in the replay cache and refuses it with
//! KRB_AP_ERR_REPEAT (§3.2.3), and processing an AS-REQ again issues a
//! second ticket. MIT krb5 answers both from its lookaside cache
//! (`src/kdc/replay.c`, consulted by `dispatch.c` before the request is
//! decoded). The reply stored is the real one, from before the KDC
//! substitutes KRB_ERR_RESPONSE_TOO_BIG for a UDP reply that is too large
//! (MIT does that later, in `net-server.c`), so the TCP retry gets the
//! full reply: [`crate::Kdc`] does the substitution after this cache.
//!
//! Answering the same bytes with the same reply gives nothing away: the
//! reply is encrypted for the request's client, and whoever can copy the
//! request has seen the reply go by. A request that differs in any octet
//! (an authenticator replayed inside a new TGS-REQ) misses, and the replay
//! cache refuses it as before.
//!
//! Shape, bounded and deterministic (no `HashMap`, a fixed hash):
//! * sharded like the replay cache, so the KDC's worker threads rarely
//!   meet on one lock; each shard maps a 64-bit hash of the request to its
//!   entry, and the entry keeps the request bytes, compared on every hit:
//!   a hash collision is a miss, never somebody else's reply;
//! * an entry expires `window` (the replay window) after it was stored.
//!   MIT keeps entries two minutes (`STALE_TIME`); the replay window is at
//!   least the clock skew, the longest a client keeps resending one
//!   request with a usable authenticator;
//! * each shard holds at most its share of `capacity` bytes (request,
//!   reply and a fixed per-entry overhead); past it the oldest entries go
//!   first, like MIT's `LOOKASIDE_MAX_SIZE` (10 MB). Losing an entry early
//!   only means a retransmission is processed again.
//!
//! Unlike MIT, a request being processed is not marked: the core answers
//! within one call, so the window in which two workers could process the
//! same bytes is a few microseconds, far shorter than any client's
//! retransmission timer.

use std::collections::BTreeMap;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use crate::kdc::RequestSummary;

/// Number of independently locked shards.
const SHARDS: usize = 16;

/// Bytes an entry costs besides its request, reply and names: the entry,
/// its map nodes and its place in the age index, rounded up.
const ENTRY_OVERHEAD: usize = 160;

/// MIT's `LOOKASIDE_MAX_SIZE`: the default capacity in bytes.
pub const DEFAULT_CAPACITY: usize = 10 * 1024 * 1024;

/// A stored reply, with what the request was.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CachedReply {
    /// The reply as the exchange produced it (before any UDP size check).
    pub reply: Vec<u8>,
    /// The request's summary when it was processed.
    pub summary: RequestSummary,
}

/// The hash of a request, computed once per request ([`digest`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Digest(u64);

#[derive(Debug)]
struct Entry {
    /// Age-index key: when stored (Unix seconds) and an insertion number.
    age: (i64, u64),
    request: Box<[u8]>,
    cached: CachedReply,
}

impl Entry {
    fn cost(&self) -> usize {
        cost(&self.request, &self.cached)
    }
}

fn cost(request: &[u8], cached: &CachedReply) -> usize {
    let names = |s: &Option<String>| s.as_ref().map_or(0, String::len);
    ENTRY_OVERHEAD
        + request.len()
        + cached.reply.len()
        + names(&cached.summary.client)
        + names(&cached.summary.server)
}

#[derive(Debug, Default)]
struct Shard {
    entries: BTreeMap<Digest, Entry>,
    /// Oldest first: `(stored_at, seq)` to the entry's digest.
    ages: BTreeMap<(i64, u64), Digest>,
    bytes: usize,
    next_seq: u64,
}

impl Shard {
    fn remove(&mut self, digest: Digest) {
        if let Some(e) = self.entries.remove(&digest) {
            self.ages.remove(&e.age);
            self.bytes = self.bytes.saturating_sub(e.cost());
        }
    }

    fn evict_oldest(&mut self) -> bool {
        match self.ages.pop_first() {
            Some((_, digest)) => {
                if let Some(e) = self.entries.remove(&digest) {
                    self.bytes = self.bytes.saturating_sub(e.cost());
                }
                true
            }
            None => false,
        }
    }
}

/// The KDC's lookaside cache. See the module docs.
#[derive(Debug)]
pub struct Lookaside {
    shards: Vec<Mutex<Shard>>,
    window_secs: i64,
    per_shard_bytes: usize,
}

impl Lookaside {
    /// A cache keeping replies for `window` after they were stored, in at
    /// most about `capacity` bytes; `capacity` 0 turns it off.
    pub fn new(window: Duration, capacity: usize) -> Self {
        Self {
            shards: (0..SHARDS).map(|_| Mutex::new(Shard::default())).collect(),
            window_secs: i64::try_from(window.as_secs()).unwrap_or(i64::MAX),
            per_shard_bytes: capacity.div_ceil(SHARDS),
        }
    }

    /// False when the capacity is 0: nothing is stored or looked up.
    pub fn is_enabled(&self) -> bool {
        self.per_shard_bytes > 0
    }

    /// The stored reply to exactly `request`, if it is still fresh at
    /// `now_secs` (Unix seconds).
    pub fn get(&self, digest: Digest, request: &[u8], now_secs: i64) -> Option<CachedReply> {
        if !self.is_enabled() {
            return None;
        }
        let mut shard = self.shard(digest)?;
        self.expire(&mut shard, now_secs);
        let entry = shard.entries.get(&digest)?;
        if *entry.request != *request {
            // A collision: not this request's reply.
            return None;
        }
        if self.is_stale(entry.age.0, now_secs) {
            // Stored "in the future" of a clock that stepped back.
            shard.remove(digest);
            return None;
        }
        Some(entry.cached.clone())
    }

    /// Stores the reply to `request`, seen at `now_secs`. A fresh entry
    /// already under that digest stays (the same request answered twice
    /// concurrently, or a collision: the first one keeps its place).
    pub fn insert(&self, digest: Digest, request: &[u8], cached: CachedReply, now_secs: i64) {
        if !self.is_enabled() {
            return;
        }
        let size = cost(request, &cached);
        if size > self.per_shard_bytes {
            return;
        }
        let Some(mut shard) = self.shard(digest) else {
            return;
        };
        self.expire(&mut shard, now_secs);
        if let Some(old) = shard.entries.get(&digest) {
            if !self.is_stale(old.age.0, now_secs) {
                return;
            }
            shard.remove(digest);
        }
        while shard.bytes + size > self.per_shard_bytes {
            if !shard.evict_oldest() {
                break;
            }
        }
        let age = (now_secs, shard.next_seq);
        shard.next_seq = shard.next_seq.wrapping_add(1);
        shard.ages.insert(age, digest);
        shard.bytes += size;
        shard.entries.insert(
            digest,
            Entry {
                age,
                request: request.into(),
                cached,
            },
        );
    }

    /// Number of replies stored.
    pub fn len(&self) -> usize {
        self.shards
            .iter()
            .map(|s| {
                s.lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .entries
                    .len()
            })
            .sum()
    }

    /// True when nothing is stored.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Bytes accounted to the stored entries.
    pub fn bytes(&self) -> usize {
        self.shards
            .iter()
            .map(|s| s.lock().unwrap_or_else(PoisonError::into_inner).bytes)
            .sum()
    }

    fn shard(&self, digest: Digest) -> Option<std::sync::MutexGuard<'_, Shard>> {
        let i = usize::try_from(digest.0 % SHARDS as u64).unwrap_or(0);
        // A poisoned lock only means another thread panicked holding it;
        // every update leaves the maps and the byte count consistent.
        self.shards
            .get(i)
            .map(|m| m.lock().unwrap_or_else(PoisonError::into_inner))
    }

    fn is_stale(&self, stored_at: i64, now_secs: i64) -> bool {
        // Either way: a clock that stepped back must not pin entries.
        now_secs.abs_diff(stored_at) > self.window_secs.unsigned_abs()
    }

    /// Drops entries stored more than the window before `now_secs`,
    /// oldest first.
    fn expire(&self, shard: &mut Shard, now_secs: i64) {
        let horizon = now_secs.saturating_sub(self.window_secs);
        while let Some((&(stored_at, _), _)) = shard.ages.first_key_value() {
            if stored_at >= horizon {
                break;
            }
            shard.evict_oldest();
        }
    }
}

/// A fixed 64-bit hash of a request: eight octets per step
/// (multiply-rotate, FxHash's constant) and a final avalanche (MurmurHash3
/// `fmix64`) so the low bits spread requests over the shards. Not keyed
/// and not collision-resistant: entries are confirmed by comparing the
/// bytes, so a collision only costs a miss.
pub fn digest(request: &[u8]) -> Digest {
    const K: u64 = 0x517c_c1b7_2722_0a95;
    let step = |h: u64, w: u64| (h.rotate_left(5) ^ w).wrapping_mul(K);
    let mut h = step(0, request.len() as u64);
    let mut words = request.chunks_exact(8);
    for w in &mut words {
        h = step(h, u64::from_le_bytes(w.try_into().unwrap_or_default()));
    }
    let mut tail = [0u8; 8];
    for (t, b) in tail.iter_mut().zip(words.remainder()) {
        *t = *b;
    }
    h = step(h, u64::from_le_bytes(tail));
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^= h >> 33;
    h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    h ^= h >> 33;
    Digest(h)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kdc::RequestKind;

    fn reply(bytes: &[u8]) -> CachedReply {
        CachedReply {
            reply: bytes.to_vec(),
            summary: RequestSummary {
                kind: RequestKind::As,
                client: Some("alice@LAB.TEST".into()),
                server: None,
                error: None,
                from_lookaside: false,
            },
        }
    }

    fn put(c: &Lookaside, req: &[u8], rep: &[u8], now: i64) {
        c.insert(digest(req), req, reply(rep), now);
    }

    fn got(c: &Lookaside, req: &[u8], now: i64) -> Option<Vec<u8>> {
        c.get(digest(req), req, now).map(|r| r.reply)
    }

    #[test]
    fn identical_request_gets_the_stored_reply_and_any_other_misses() {
        let c = Lookaside::new(Duration::from_secs(300), DEFAULT_CAPACITY);
        put(&c, b"request one", b"reply one", 1000);
        assert_eq!(
            got(&c, b"request one", 1001).as_deref(),
            Some(&b"reply one"[..])
        );
        assert_eq!(got(&c, b"request onE", 1001), None);
        assert_eq!(got(&c, b"request one ", 1001), None);
        assert_eq!(got(&c, b"", 1001), None);
        // The first reply stays: a second insert of the same request (two
        // workers answering it at once) does not replace it.
        put(&c, b"request one", b"reply two", 1002);
        assert_eq!(
            got(&c, b"request one", 1003).as_deref(),
            Some(&b"reply one"[..])
        );
        assert_eq!(c.len(), 1);
    }

    #[test]
    fn a_colliding_digest_is_a_miss_not_another_reply() {
        let c = Lookaside::new(Duration::from_secs(300), DEFAULT_CAPACITY);
        let d = digest(b"first");
        c.insert(d, b"first", reply(b"for first"), 1000);
        // Another request presented under the same digest.
        assert_eq!(c.get(d, b"second", 1000), None);
        c.insert(d, b"second", reply(b"for second"), 1000);
        assert_eq!(
            c.get(d, b"first", 1000).map(|r| r.reply).as_deref(),
            Some(&b"for first"[..])
        );
    }

    #[test]
    fn entries_expire_with_the_window() {
        let c = Lookaside::new(Duration::from_secs(300), DEFAULT_CAPACITY);
        put(&c, b"req", b"rep", 1000);
        assert!(got(&c, b"req", 1300).is_some());
        assert_eq!(got(&c, b"req", 1301), None);
        assert!(c.is_empty());
        assert_eq!(c.bytes(), 0);
        // A clock that stepped back by more than the window does not see
        // (or keep) an entry from its future.
        put(&c, b"later", b"rep", 5000);
        assert_eq!(got(&c, b"later", 4000), None);
        assert!(c.is_empty());
    }

    #[test]
    fn memory_is_bounded_and_the_oldest_go_first() {
        let per_entry = ENTRY_OVERHEAD + 8 + 100 + "alice@LAB.TEST".len();
        // Room for about four entries per shard.
        let c = Lookaside::new(Duration::from_secs(300), SHARDS * per_entry * 4);
        for i in 0..2000u64 {
            put(&c, &i.to_be_bytes(), &[7; 100], 1000 + (i / 100) as i64);
        }
        assert!(c.bytes() <= SHARDS * per_entry * 4, "{}", c.bytes());
        assert!(c.len() <= SHARDS * 4);
        assert!(c.len() >= SHARDS * 2, "shards fill: {}", c.len());
        // The newest are kept, the first ones are gone.
        assert!(got(&c, &1999u64.to_be_bytes(), 1020).is_some());
        assert_eq!(got(&c, &0u64.to_be_bytes(), 1020), None);
        // An entry larger than a shard's share is not stored at all.
        put(&c, b"huge", &vec![0; SHARDS * per_entry * 4], 1020);
        assert_eq!(got(&c, b"huge", 1020), None);
    }

    #[test]
    fn capacity_zero_turns_it_off() {
        let c = Lookaside::new(Duration::from_secs(300), 0);
        assert!(!c.is_enabled());
        put(&c, b"req", b"rep", 1000);
        assert_eq!(got(&c, b"req", 1000), None);
        assert!(c.is_empty());
    }

    #[test]
    fn digest_is_fixed_and_sees_every_octet() {
        // Stable across runs and platforms: the simulation's determinism
        // does not depend on it, but shard placement is reproducible.
        assert_eq!(digest(b""), digest(b""));
        let base: Vec<u8> = (0u8..=40).collect();
        let d = digest(&base);
        for i in 0..base.len() {
            let mut m = base.clone();
            m[i] ^= 1;
            assert_ne!(digest(&m), d, "octet {i}");
        }
        // Trailing zeros change the length, so the digest.
        assert_ne!(digest(&[1, 0]), digest(&[1]));
    }
}
