//! KDC configuration: realm, enctypes, clock skew, ticket limits, replay
//! window, UDP reply size, lookaside cache size.
//!
//! Everything the core consults at request time that is not a principal.
//! Values are validated once ([`KdcConfig::validate`]) so the request path
//! never has to second-guess them.

use std::time::Duration;

use kerbside_crypto::EncType;

use crate::error::ConfigError;

/// MIT's default `udp_preference_limit` (`sendto_kdc.c`): a client sends over
/// UDP only when the request is at most this size, and a KDC answering a
/// bigger reply over UDP makes the client retry over TCP (RFC 4120 §7.2.1).
pub const DEFAULT_UDP_MAX_REPLY: usize = 1465;

/// Largest datagram a KDC reply can be (UDP payload limit over IPv4).
pub const MAX_UDP_PAYLOAD: usize = 65_507;

/// Static configuration of one KDC.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KdcConfig {
    /// The realm served (case-sensitive, RFC 4120 §6.1).
    pub realm: String,
    /// Enctypes the KDC will use, in the KDC's own preference order. The
    /// client's order wins when choosing (RFC 4120 §3.1.3); this list only
    /// filters. Default: 18, 17, 20, 19.
    pub enctypes: Vec<EncType>,
    /// Maximum clock skew accepted in PA-ENC-TIMESTAMP and authenticators
    /// (RFC 4120 §1.6 "allowable clock skew"; MIT `clockskew` default 300 s).
    pub max_skew: Duration,
    /// Maximum ticket lifetime (MIT `max_life`). Default 10 h: the Windows DC
    /// default (MS-KILE) and what Debian's MIT `kdc.conf` template sets.
    pub ticket_lifetime: Duration,
    /// Maximum renewable lifetime measured from the initial ticket's start
    /// (MIT `max_renewable_life`). Default 7 days (Windows and Debian MIT).
    pub renew_limit: Duration,
    /// How long an authenticator stays in the replay cache. Must cover the
    /// skew window on both sides of `now` (RFC 4120 §3.2.3).
    pub replay_window: Duration,
    /// Maximum number of authenticators remembered. When full, new
    /// authenticators are refused until entries age out, as RFC 4120 §3.2.3
    /// requires of a server that cannot remember every authenticator.
    pub replay_capacity: usize,
    /// Largest reply sent over UDP; above it the KDC answers
    /// KRB_ERR_RESPONSE_TOO_BIG (RFC 4120 §7.2.1).
    pub udp_max_reply: usize,
    /// Bytes of recent requests and their replies the lookaside cache
    /// keeps (`crate::lookaside`), so a retransmitted request gets its
    /// reply again. Default MIT's 10 MiB; 0 turns the cache off.
    pub lookaside_capacity: usize,
}

impl KdcConfig {
    /// The defaults for `realm`.
    pub fn new(realm: impl Into<String>) -> Self {
        Self {
            realm: realm.into(),
            enctypes: vec![
                EncType::Aes256CtsHmacSha196,
                EncType::Aes128CtsHmacSha196,
                EncType::Aes256CtsHmacSha384192,
                EncType::Aes128CtsHmacSha256128,
            ],
            max_skew: Duration::from_secs(300),
            ticket_lifetime: Duration::from_secs(10 * 3600),
            renew_limit: Duration::from_secs(7 * 24 * 3600),
            replay_window: Duration::from_secs(300),
            replay_capacity: 1_000_000,
            udp_max_reply: DEFAULT_UDP_MAX_REPLY,
            lookaside_capacity: crate::lookaside::DEFAULT_CAPACITY,
        }
    }

    /// Checks the values are usable; the request path relies on it.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.realm.is_empty() {
            return Err(ConfigError::EmptyRealm);
        }
        if self.realm.contains(['/', '@', '\0']) {
            return Err(ConfigError::BadRealm(self.realm.clone()));
        }
        if self.enctypes.is_empty() {
            return Err(ConfigError::NoEnctypes);
        }
        if self.enctypes.contains(&EncType::Rc4Hmac) {
            // RC4 is an NTLM-era key type; RFC 8429 deprecates it for Kerberos.
            return Err(ConfigError::WeakEnctype("rc4-hmac"));
        }
        if self.ticket_lifetime < Duration::from_secs(60) {
            return Err(ConfigError::LifetimeTooShort(self.ticket_lifetime));
        }
        if self.replay_window < self.max_skew {
            // An authenticator is acceptable for `max_skew` around now; forgetting
            // it sooner would let a replay through (RFC 4120 §3.2.3).
            return Err(ConfigError::ReplayWindowTooShort {
                window: self.replay_window,
                skew: self.max_skew,
            });
        }
        if self.replay_capacity == 0 {
            return Err(ConfigError::ZeroReplayCapacity);
        }
        if !(256..=MAX_UDP_PAYLOAD).contains(&self.udp_max_reply) {
            return Err(ConfigError::BadUdpLimit(self.udp_max_reply));
        }
        Ok(())
    }
}

/// Parses a duration written as an integer with a unit suffix: `90s`, `15m`,
/// `10h`, `7d`, or a bare number of seconds.
pub fn parse_duration(text: &str) -> Result<Duration, ConfigError> {
    let t = text.trim();
    let (digits, mult) = match t.char_indices().last() {
        Some((i, 's')) => (&t[..i], 1),
        Some((i, 'm')) => (&t[..i], 60),
        Some((i, 'h')) => (&t[..i], 3600),
        Some((i, 'd')) => (&t[..i], 86_400),
        Some(_) => (t, 1),
        None => return Err(ConfigError::BadDuration(text.to_owned())),
    };
    let n: u64 = digits
        .parse()
        .map_err(|_| ConfigError::BadDuration(text.to_owned()))?;
    n.checked_mul(mult)
        .map(Duration::from_secs)
        .ok_or_else(|| ConfigError::BadDuration(text.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_ordered_like_mit() {
        let c = KdcConfig::new("LAB.TEST");
        c.validate().unwrap();
        let ids: Vec<i32> = c.enctypes.iter().map(|e| e.id()).collect();
        assert_eq!(ids, [18, 17, 20, 19]);
        assert_eq!(c.udp_max_reply, 1465);
    }

    #[test]
    fn rejects_unsafe_values() {
        let mut c = KdcConfig::new("LAB.TEST");
        c.replay_window = Duration::from_secs(10);
        assert!(matches!(
            c.validate(),
            Err(ConfigError::ReplayWindowTooShort { .. })
        ));
        let mut c = KdcConfig::new("");
        assert!(matches!(c.validate(), Err(ConfigError::EmptyRealm)));
        c.realm = "A@B".into();
        assert!(matches!(c.validate(), Err(ConfigError::BadRealm(_))));
        let mut c = KdcConfig::new("R");
        c.udp_max_reply = 10;
        assert!(matches!(c.validate(), Err(ConfigError::BadUdpLimit(10))));
        let mut c = KdcConfig::new("R");
        c.enctypes.clear();
        assert!(matches!(c.validate(), Err(ConfigError::NoEnctypes)));
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("90").unwrap(), Duration::from_secs(90));
        assert_eq!(parse_duration("15m").unwrap(), Duration::from_secs(900));
        assert_eq!(parse_duration("10h").unwrap(), Duration::from_secs(36_000));
        assert_eq!(parse_duration("7d").unwrap(), Duration::from_secs(604_800));
        assert!(parse_duration("").is_err());
        assert!(parse_duration("h").is_err());
        assert!(parse_duration("-1s").is_err());
        assert!(parse_duration("99999999999999999999d").is_err());
    }
}
