//! [`KeyCache`]: memoised string-to-key.
//!
//! PBKDF2 runs 4096 (17/18) to 32768 (19/20) HMAC rounds per key; a KDC that
//! loads principals from passwords, and tests that derive the same keys over
//! and over, look them up here instead.

use std::collections::BTreeMap;
use std::sync::{Mutex, OnceLock};

use crate::error::CryptoError;
use crate::etype::EncType;
use crate::key::Key;

/// (enctype, password, salt, s2kparams) identifying one derivation.
type CacheKey = (i32, String, Vec<u8>, Option<Vec<u8>>);

/// A thread-safe memo of `(enctype, password, salt, s2kparams) -> Key`.
///
/// Holds passwords in memory: meant for test realms and simulations, which
/// is what kerbside is. Bounded: when `capacity` entries are held, the
/// smallest entry (in key order, so deterministically) is evicted.
#[derive(Debug)]
pub struct KeyCache {
    map: Mutex<BTreeMap<CacheKey, Key>>,
    capacity: usize,
}

impl Default for KeyCache {
    fn default() -> Self {
        KeyCache::new()
    }
}

impl KeyCache {
    /// Default bound on the number of cached keys.
    pub const DEFAULT_CAPACITY: usize = 65_536;

    /// An empty cache with [`KeyCache::DEFAULT_CAPACITY`].
    pub fn new() -> KeyCache {
        KeyCache::with_capacity(KeyCache::DEFAULT_CAPACITY)
    }

    /// An empty cache holding at most `capacity` keys (at least one).
    pub fn with_capacity(capacity: usize) -> KeyCache {
        KeyCache {
            map: Mutex::new(BTreeMap::new()),
            capacity: capacity.max(1),
        }
    }

    /// The process-wide cache.
    pub fn global() -> &'static KeyCache {
        static GLOBAL: OnceLock<KeyCache> = OnceLock::new();
        GLOBAL.get_or_init(KeyCache::new)
    }

    /// [`Key::from_password`] through the cache.
    pub fn from_password(
        &self,
        etype: EncType,
        password: &str,
        salt: &[u8],
    ) -> Result<Key, CryptoError> {
        self.from_password_params(etype, password, salt, None)
    }

    /// [`Key::from_password_params`] through the cache. Errors are not
    /// cached. The derivation runs outside the lock, so two threads asking
    /// for the same new key may both derive it (same result).
    pub fn from_password_params(
        &self,
        etype: EncType,
        password: &str,
        salt: &[u8],
        s2kparams: Option<&[u8]>,
    ) -> Result<Key, CryptoError> {
        let k: CacheKey = (
            etype.id(),
            password.to_owned(),
            salt.to_vec(),
            s2kparams.map(<[u8]>::to_vec),
        );
        if let Some(hit) = self.lock().get(&k) {
            return Ok(hit.clone());
        }
        let key = Key::from_password_params(etype, password, salt, s2kparams)?;
        let mut map = self.lock();
        if map.len() >= self.capacity && !map.contains_key(&k) {
            map.pop_first();
        }
        map.insert(k, key.clone());
        Ok(key)
    }

    /// Number of cached keys.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether nothing is cached.
    pub fn is_empty(&self) -> bool {
        self.lock().is_empty()
    }

    /// Drop every cached key.
    pub fn clear(&self) {
        self.lock().clear();
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<CacheKey, Key>> {
        // A panic while holding the lock cannot leave the map inconsistent
        // (inserts are single calls), so a poisoned lock is still usable.
        self.map.lock().unwrap_or_else(|e| e.into_inner())
    }
}
