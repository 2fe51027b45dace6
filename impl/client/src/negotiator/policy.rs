//! The negotiator's policy: which paths, in which order, how long to wait
//! for each, how often to retry, whether to race, how long a failure is
//! remembered, what to do about NTLM, how tickets are cached.
//!
//! It is plain data (serde), so a scenario file's `[policy]` table or a
//! stand-alone TOML file carries it; every section is
//! `deny_unknown_fields` so a typo is an error, and every field has a
//! default so a file names only what it changes. [`Policy::validate`]
//! checks what serde cannot (non-zero timeouts, URL shapes, duplicate
//! stages, wildcard syntax).
//!
//! Defaults follow a Windows 11 domain member (reference/protocols.md
//! §5.6): Kerberos over TCP first (`MaxPacketSize` = 0 since Vista), UDP
//! off, `KdcWaitTime` 10 s per KDC, ticket skew 5 min, TGT 10 h renewable
//! 7 days, NTLM allowed ("Restrict NTLM: Outgoing NTLM traffic to remote
//! servers" = Allow all). Racing is off (Windows does not race paths).

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::duration;
use super::ntlm_policy::NtlmPolicy;

/// The Kerberos stages, in the order the negotiator may try them. NTLM is
/// not a stage here: it is always last and governed by [`NtlmPolicy`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Stage {
    /// Kerberos to the DCs over TCP/UDP 88 (RFC 4120 §7.2).
    Native,
    /// Kerberos through the configured KKDCP relays (MS-KKDCP).
    Kkdcp,
    /// Kerberos through the target server (IAKERB, draft-ietf-kitten-iakerb-03).
    Iakerb,
    /// A LocalKDC.
    Localkdc,
}

impl Stage {
    /// The name used in files.
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Native => "native",
            Stage::Kkdcp => "kkdcp",
            Stage::Iakerb => "iakerb",
            Stage::Localkdc => "localkdc",
        }
    }
}

/// Everything the negotiator is configured by.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Policy {
    /// Kerberos stages in order (DESIGN §3: native, relay, IAKERB,
    /// LocalKDC). A stage left out is never tried.
    pub order: Vec<Stage>,
    /// Native Kerberos to the DC list.
    pub native: NativePolicy,
    /// KKDCP relays.
    pub kkdcp: KkdcpPolicy,
    /// IAKERB through the target server.
    pub iakerb: ProxyStagePolicy,
    /// LocalKDC.
    pub localkdc: ProxyStagePolicy,
    /// NTLM: allow, audit or deny, with exceptions.
    pub ntlm: NtlmPolicy,
    /// How long a failed endpoint is skipped.
    pub negative_cache: NegativeCachePolicy,
    /// Happy-eyeballs racing of the next path.
    pub racing: RacingPolicy,
    /// Ticket cache and lifetimes.
    pub tickets: TicketPolicy,
    /// Upper bound on one whole logon: when it passes, everything in flight
    /// is cancelled and the logon fails (no logon hangs, whatever the
    /// network does).
    #[serde(with = "duration")]
    pub logon_timeout: Duration,
    /// How long to wait for each answer of the application server.
    #[serde(with = "duration")]
    pub app_timeout: Duration,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            order: vec![Stage::Native, Stage::Kkdcp, Stage::Iakerb, Stage::Localkdc],
            native: NativePolicy::default(),
            kkdcp: KkdcpPolicy::default(),
            iakerb: ProxyStagePolicy::default(),
            localkdc: ProxyStagePolicy::default(),
            ntlm: NtlmPolicy::default(),
            negative_cache: NegativeCachePolicy::default(),
            racing: RacingPolicy::default(),
            tickets: TicketPolicy::default(),
            logon_timeout: Duration::from_secs(90),
            app_timeout: Duration::from_secs(10),
        }
    }
}

/// Native Kerberos (RFC 4120 §7.2.1 UDP, §7.2.2 TCP).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NativePolicy {
    /// DCs in preference order: `host` or `host:port` (port 88 when
    /// omitted).
    pub kdcs: Vec<String>,
    /// Use TCP (Windows: always, since Vista).
    pub tcp: bool,
    /// Use UDP as well.
    pub udp: bool,
    /// Try UDP before TCP (MIT's order for small messages); default TCP
    /// first like Windows.
    pub udp_first: bool,
    /// How long to wait for one reply (Windows `KdcWaitTime`, 10 s).
    #[serde(with = "duration")]
    pub timeout: Duration,
    /// Sends per DC over TCP (a timed-out connection is retried this many
    /// times in total; a refused one is not retried).
    pub tcp_tries: u32,
    /// Sends per DC over UDP (Windows `KdcSendRetries`, 3).
    pub udp_tries: u32,
}

impl Default for NativePolicy {
    fn default() -> Self {
        NativePolicy {
            kdcs: Vec::new(),
            tcp: true,
            udp: false,
            udp_first: false,
            timeout: Duration::from_secs(10),
            tcp_tries: 1,
            udp_tries: 3,
        }
    }
}

/// MS-KKDCP relays.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct KkdcpPolicy {
    /// Relay URLs in order (`https://relay.example/KdcProxy`).
    pub relays: Vec<String>,
    /// How long to wait for one proxied reply.
    #[serde(with = "duration")]
    pub timeout: Duration,
    /// Sends per relay.
    pub tries: u32,
    /// Keep the HTTPS connection to a relay open between exchanges
    /// (HTTP/1.1 keep-alive) instead of a new TLS connection per message
    /// as MIT's client does (reference §7: the handshakes are the cost).
    pub keep_alive: bool,
}

impl Default for KkdcpPolicy {
    fn default() -> Self {
        KkdcpPolicy {
            relays: Vec::new(),
            timeout: Duration::from_secs(10),
            tries: 1,
            keep_alive: true,
        }
    }
}

/// IAKERB or LocalKDC: stages implemented by a pluggable handler (issue 8).
/// When enabled but the driver has no handler, the negotiator records the
/// stage as not available and moves on; it never pretends.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ProxyStagePolicy {
    /// Try this stage.
    pub enabled: bool,
    /// How long to wait for one reply.
    #[serde(with = "duration")]
    pub timeout: Duration,
    /// Sends per endpoint.
    pub tries: u32,
    /// LocalKDC only: its realm (default `<WORKSTATION>.LOCALKDC`, what an
    /// on-client LocalKDC named after the computer uses). Logons through
    /// the LocalKDC authenticate the same account name in this realm, to
    /// the same service name in this realm (kerbside_kdc::localkdc).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub realm: Option<String>,
}

impl Default for ProxyStagePolicy {
    fn default() -> Self {
        ProxyStagePolicy {
            enabled: false,
            timeout: Duration::from_secs(10),
            tries: 1,
            realm: None,
        }
    }
}

/// What to do when every Kerberos endpoint is in the negative cache.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum WhenAllCached {
    /// Try the cached endpoints anyway, after every fresh one: a cached
    /// failure never fails a logon that a retry could have saved.
    Probe,
    /// Skip them: fail fast (a circuit breaker) until the entries expire.
    Skip,
}

/// The negative cache: an endpoint that just failed is skipped for a while,
/// so a dead DC does not cost every logon a timeout (Windows keeps a
/// similar cache of unreachable DCs).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NegativeCachePolicy {
    /// How long a failed endpoint is skipped; zero turns the cache off.
    #[serde(with = "duration")]
    pub ttl: Duration,
    /// When every endpoint of every stage is cached.
    pub when_all_cached: WhenAllCached,
}

impl Default for NegativeCachePolicy {
    fn default() -> Self {
        NegativeCachePolicy {
            ttl: Duration::from_secs(60),
            when_all_cached: WhenAllCached::Probe,
        }
    }
}

/// Happy-eyeballs racing (RFC 8305's idea applied to paths): when the
/// current endpoint has not answered after `delay`, start the next one as
/// well; the first answer wins and the others are cancelled.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RacingPolicy {
    /// Race at all.
    pub enabled: bool,
    /// Head start of each endpoint before the next joins (RFC 8305 §5
    /// recommends 250 ms for connection attempts).
    #[serde(with = "duration")]
    pub delay: Duration,
    /// Endpoints in flight at once.
    pub max_in_flight: u32,
}

impl Default for RacingPolicy {
    fn default() -> Self {
        RacingPolicy {
            enabled: false,
            delay: Duration::from_millis(250),
            max_in_flight: 2,
        }
    }
}

/// Ticket cache and requested lifetimes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TicketPolicy {
    /// Keep TGTs and service tickets between logons.
    pub cache: bool,
    /// Tolerated clock difference to the KDC and servers (RFC 4120 §1.6
    /// "allowable clock skew"; Windows `SkewTime` / MIT `clockskew`: 5 min).
    #[serde(with = "duration")]
    pub skew: Duration,
    /// A cached ticket with less than this left is renewed (if renewable)
    /// or replaced instead of used.
    #[serde(with = "duration")]
    pub refresh_before: Duration,
    /// Renew renewable TGTs instead of asking for new ones.
    pub renew: bool,
    /// Requested TGT lifetime (Windows default 10 h).
    #[serde(with = "duration")]
    pub tgt_lifetime: Duration,
    /// Requested renewable life (Windows default 7 days); zero: do not ask
    /// for renewable tickets.
    #[serde(with = "duration")]
    pub renew_lifetime: Duration,
    /// After KRB_AP_ERR_SKEW from a KDC, correct this host's Kerberos time
    /// by the KDC's and retry once (MIT `kdc_timesync`, on by default).
    pub kdc_timesync: bool,
}

impl Default for TicketPolicy {
    fn default() -> Self {
        TicketPolicy {
            cache: true,
            skew: Duration::from_secs(300),
            refresh_before: Duration::from_secs(300),
            renew: true,
            tgt_lifetime: Duration::from_secs(10 * 3600),
            renew_lifetime: Duration::from_secs(7 * 86400),
            kdc_timesync: true,
        }
    }
}

/// A policy that does not make sense.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PolicyError {
    /// A stage appears twice in `order`.
    #[error("policy.order lists `{0}` twice")]
    DuplicateStage(&'static str),
    /// A zero timeout or try count.
    #[error("policy.{field} must be greater than zero")]
    Zero {
        /// The field.
        field: &'static str,
    },
    /// Native Kerberos with neither TCP nor UDP.
    #[error("policy.native: neither tcp nor udp is enabled")]
    NoTransport,
    /// A KDC entry that is not `host` or `host:port`.
    #[error("policy.native.kdcs: `{0}` is not host or host:port")]
    BadKdc(String),
    /// A relay that is not an http(s) URL.
    #[error("policy.kkdcp.relays: `{0}` is not an http:// or https:// URL with a host")]
    BadRelay(String),
    /// An NTLM exception entry that cannot match anything.
    #[error("policy.ntlm.exceptions: `{0}` is empty or has whitespace")]
    BadException(String),
    /// A racing delay not shorter than the timeout it races against.
    #[error(
        "policy.racing.delay ({delay:?}) must be shorter than the shortest stage timeout ({timeout:?})"
    )]
    RaceDelay {
        /// The delay.
        delay: Duration,
        /// The shortest timeout.
        timeout: Duration,
    },
}

impl Policy {
    /// Checks what the types cannot.
    pub fn validate(&self) -> Result<(), PolicyError> {
        let mut seen = Vec::new();
        for s in &self.order {
            if seen.contains(s) {
                return Err(PolicyError::DuplicateStage(s.as_str()));
            }
            seen.push(*s);
        }
        let nonzero = |d: Duration, field| {
            if d.is_zero() {
                Err(PolicyError::Zero { field })
            } else {
                Ok(())
            }
        };
        let nonzero_n = |n: u32, field| {
            if n == 0 {
                Err(PolicyError::Zero { field })
            } else {
                Ok(())
            }
        };
        nonzero(self.native.timeout, "native.timeout")?;
        nonzero(self.kkdcp.timeout, "kkdcp.timeout")?;
        nonzero(self.iakerb.timeout, "iakerb.timeout")?;
        nonzero(self.localkdc.timeout, "localkdc.timeout")?;
        nonzero(self.logon_timeout, "logon_timeout")?;
        nonzero(self.app_timeout, "app_timeout")?;
        nonzero_n(self.native.tcp_tries, "native.tcp_tries")?;
        nonzero_n(self.native.udp_tries, "native.udp_tries")?;
        nonzero_n(self.kkdcp.tries, "kkdcp.tries")?;
        nonzero_n(self.iakerb.tries, "iakerb.tries")?;
        nonzero_n(self.localkdc.tries, "localkdc.tries")?;
        if self.order.contains(&Stage::Native) && !self.native.tcp && !self.native.udp {
            return Err(PolicyError::NoTransport);
        }
        for k in &self.native.kdcs {
            if parse_host_port(k, 88).is_none() {
                return Err(PolicyError::BadKdc(k.clone()));
            }
        }
        for r in &self.kkdcp.relays {
            if !relay_url_ok(r) {
                return Err(PolicyError::BadRelay(r.clone()));
            }
        }
        for e in &self.ntlm.exceptions {
            if e.trim().is_empty() || e.chars().any(char::is_whitespace) {
                return Err(PolicyError::BadException(e.clone()));
            }
        }
        if self.racing.enabled {
            nonzero(self.racing.delay, "racing.delay")?;
            nonzero_n(self.racing.max_in_flight, "racing.max_in_flight")?;
            let timeout = self.shortest_timeout();
            if self.racing.delay >= timeout {
                return Err(PolicyError::RaceDelay {
                    delay: self.racing.delay,
                    timeout,
                });
            }
        }
        Ok(())
    }

    /// The shortest timeout of the stages in `order`.
    fn shortest_timeout(&self) -> Duration {
        self.order
            .iter()
            .map(|s| match s {
                Stage::Native => self.native.timeout,
                Stage::Kkdcp => self.kkdcp.timeout,
                Stage::Iakerb => self.iakerb.timeout,
                Stage::Localkdc => self.localkdc.timeout,
            })
            .min()
            .unwrap_or(self.logon_timeout)
    }
}

/// `host`, `host:port` or `[v6]:port`; `None` when malformed.
pub(crate) fn parse_host_port(text: &str, default_port: u16) -> Option<(String, u16)> {
    let text = text.trim();
    if text.is_empty() || text.chars().any(char::is_whitespace) {
        return None;
    }
    if let Some(rest) = text.strip_prefix('[') {
        let (host, after) = rest.split_once(']')?;
        let port = match after.strip_prefix(':') {
            Some(p) => p.parse().ok()?,
            None if after.is_empty() => default_port,
            None => return None,
        };
        return (!host.is_empty()).then(|| (host.to_owned(), port));
    }
    match text.rsplit_once(':') {
        // More than one colon without brackets: a bare IPv6 address.
        Some((h, _)) if h.contains(':') => Some((text.to_owned(), default_port)),
        Some((h, p)) => {
            let port = p.parse().ok()?;
            (!h.is_empty()).then(|| (h.to_owned(), port))
        }
        None => Some((text.to_owned(), default_port)),
    }
}

fn relay_url_ok(url: &str) -> bool {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"));
    match rest {
        Some(r) => {
            let authority = r.split('/').next().unwrap_or("");
            parse_host_port(authority, 443).is_some()
        }
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::negotiator::ntlm_policy::NtlmMode;

    #[test]
    fn defaults_are_windows_like_and_valid() {
        let p = Policy::default();
        p.validate().unwrap();
        assert!(p.native.tcp && !p.native.udp);
        assert_eq!(p.native.timeout, Duration::from_secs(10));
        assert_eq!(p.native.udp_tries, 3);
        assert_eq!(p.tickets.skew, Duration::from_secs(300));
        assert_eq!(p.ntlm.mode, NtlmMode::Allow);
        assert!(!p.racing.enabled);
        assert_eq!(p.order.first(), Some(&Stage::Native));
    }

    #[test]
    fn toml_names_only_what_changes() {
        let p: Policy = toml::from_str(
            r#"
            order = ["kkdcp", "native"]
            logon_timeout = "30s"
            [native]
            kdcs = ["dc1", "dc2:1088"]
            udp = true
            timeout = "3s"
            [kkdcp]
            relays = ["https://relay.corp.example/KdcProxy"]
            keep_alive = false
            [ntlm]
            mode = "deny"
            exceptions = ["printer*.corp.example"]
            [racing]
            enabled = true
            delay = "200ms"
            [negative_cache]
            ttl = "2m"
            when_all_cached = "skip"
            "#,
        )
        .unwrap();
        p.validate().unwrap();
        assert_eq!(p.order, vec![Stage::Kkdcp, Stage::Native]);
        assert_eq!(p.native.kdcs, vec!["dc1", "dc2:1088"]);
        assert!(p.native.tcp, "untouched field keeps its default");
        assert_eq!(p.native.timeout, Duration::from_secs(3));
        assert!(!p.kkdcp.keep_alive);
        assert_eq!(p.ntlm.mode, NtlmMode::Deny);
        assert_eq!(p.racing.delay, Duration::from_millis(200));
        assert_eq!(p.negative_cache.when_all_cached, WhenAllCached::Skip);
        assert_eq!(p.logon_timeout, Duration::from_secs(30));
        // Serialises back to something that reads the same.
        let text = toml::to_string(&p).unwrap();
        let again: Policy = toml::from_str(&text).unwrap();
        assert_eq!(again, p);
    }

    #[test]
    fn typos_and_bare_numbers_are_errors() {
        let e = toml::from_str::<Policy>("[native]\ntimout = \"3s\"\n").unwrap_err();
        assert!(e.to_string().contains("timout"), "{e}");
        let e = toml::from_str::<Policy>("[native]\ntimeout = \"3\"\n").unwrap_err();
        assert!(e.to_string().contains("unit"), "{e}");
        let e = toml::from_str::<Policy>("[ntlm]\nmode = \"audit-all\"\n").unwrap_err();
        assert!(e.to_string().contains("audit-all"), "{e}");
    }

    #[test]
    fn validate_catches_what_serde_cannot() {
        let p = Policy {
            order: vec![Stage::Native, Stage::Native],
            ..Policy::default()
        };
        assert_eq!(p.validate(), Err(PolicyError::DuplicateStage("native")));

        let mut p = Policy::default();
        p.native.timeout = Duration::ZERO;
        assert_eq!(
            p.validate(),
            Err(PolicyError::Zero {
                field: "native.timeout"
            })
        );

        let mut p = Policy::default();
        p.native.tcp = false;
        assert_eq!(p.validate(), Err(PolicyError::NoTransport));

        let mut p = Policy::default();
        p.native.kdcs = vec!["dc1:eighty-eight".into()];
        assert!(matches!(p.validate(), Err(PolicyError::BadKdc(_))));

        let mut p = Policy::default();
        p.kkdcp.relays = vec!["relay.example/KdcProxy".into()];
        assert!(matches!(p.validate(), Err(PolicyError::BadRelay(_))));

        let mut p = Policy::default();
        p.ntlm.exceptions = vec!["".into()];
        assert!(matches!(p.validate(), Err(PolicyError::BadException(_))));

        let mut p = Policy::default();
        p.racing.enabled = true;
        p.racing.delay = Duration::from_secs(10);
        assert!(matches!(p.validate(), Err(PolicyError::RaceDelay { .. })));
    }

    #[test]
    fn host_port_forms() {
        assert_eq!(parse_host_port("dc1", 88), Some(("dc1".into(), 88)));
        assert_eq!(parse_host_port("dc1:750", 88), Some(("dc1".into(), 750)));
        assert_eq!(parse_host_port("[::1]:88", 0), Some(("::1".into(), 88)));
        assert_eq!(parse_host_port("::1", 88), Some(("::1".into(), 88)));
        assert_eq!(parse_host_port(":88", 88), None);
        assert_eq!(parse_host_port("dc1:", 88), None);
        assert_eq!(parse_host_port("d c", 88), None);
    }
}
