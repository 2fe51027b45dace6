//! [`AppService`]: what every connection of one application server shares
//! (configuration, keys, accounts, the replay cache).

use std::fmt;

use kerbside_kdc::replay::ReplayCache;

use crate::config::AcceptorConfig;
use crate::keys::ServiceKeys;
use crate::ntlm_accounts::NtlmAccounts;

/// One application server's identity and state. Share it between
/// connections (and worker threads) with an `Arc`: RFC 4120 §3.2.3 wants
/// all services sharing a key to share one replay cache.
pub struct AppService {
    /// Configuration.
    pub config: AcceptorConfig,
    /// Service keys (keytab or principal store).
    pub keys: ServiceKeys,
    /// Local NTLM accounts.
    pub accounts: NtlmAccounts,
    replay: ReplayCache,
}

impl fmt::Debug for AppService {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AppService")
            .field("mode", &self.config.mode)
            .field("principals", &self.keys.principals())
            .field("ntlm_accounts", &self.accounts.len())
            .field("replay_entries", &self.replay.len())
            .finish_non_exhaustive()
    }
}

impl AppService {
    /// A service with a fresh replay cache.
    pub fn new(config: AcceptorConfig, keys: ServiceKeys, accounts: NtlmAccounts) -> Self {
        let replay = ReplayCache::new(config.max_skew, config.replay_capacity);
        Self {
            config,
            keys,
            accounts,
            replay,
        }
    }

    /// The replay cache.
    pub fn replay_cache(&self) -> &ReplayCache {
        &self.replay
    }
}
