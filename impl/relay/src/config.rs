//! Relay configuration: the static realm allowlist, limits and policies.
//!
//! Everything the relay may contact is listed here, up front. There is no
//! DNS SRV discovery of any realm (CVE-2025-59088: kdcproxy could be made to
//! connect to whatever `_kerberos._tcp.<target-domain>` named). A configured
//! upstream given by host name is resolved by the driver, but the *set* of
//! upstreams is fixed by the operator.

use std::collections::BTreeMap;
use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::str::FromStr;
use std::time::Duration;

/// kdcproxy's `MAX_LENGTH` (128 KiB): the largest request body, and the
/// largest upstream reply, kdcproxy 1.1.0 accepts (CVE-2025-59089 fix).
pub const DEFAULT_MAX_MESSAGE: usize = 128 * 1024;

/// The URI path MS-KKDCP §2.1 names ("/KdcProxy unless otherwise configured").
pub const DEFAULT_PATH: &str = "/KdcProxy";

/// A configuration that cannot work.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// An upstream URL that does not parse.
    #[error("bad upstream URL {url:?}: {why}")]
    BadUpstream {
        /// The URL as given.
        url: String,
        /// What is wrong with it.
        why: &'static str,
    },
    /// A realm name that cannot be a Kerberos realm.
    #[error("bad realm name {0:?}: must be non-empty printable ASCII without spaces")]
    BadRealm(String),
    /// The same realm listed twice (case-insensitively).
    #[error("realm {0:?} is configured more than once")]
    DuplicateRealm(String),
    /// A realm with no upstream to forward to.
    #[error("realm {0:?} has no upstream KDC")]
    NoUpstream(String),
    /// A `REALM=URL[,URL]` mapping without `=`.
    #[error("bad realm mapping {0:?}: expected REALM=tcp://HOST:PORT[,udp://HOST:PORT...]")]
    BadMapping(String),
    /// A limit or timeout that is zero or otherwise unusable.
    #[error("bad setting {name}: {why}")]
    BadSetting {
        /// The setting's name.
        name: &'static str,
        /// What is wrong with it.
        why: &'static str,
    },
}

/// How the relay reaches a KDC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Transport {
    /// RFC 4120 §7.2.2: 4-byte record mark, then the message.
    Tcp,
    /// RFC 4120 §7.2.1: the bare message in one datagram.
    Udp,
}

impl fmt::Display for Transport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Transport::Tcp => "tcp",
            Transport::Udp => "udp",
        })
    }
}

/// Where an upstream lives: a literal address (no resolution at all) or a
/// configured host name the driver resolves.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum UpstreamHost {
    /// A literal IP address and port.
    Addr(SocketAddr),
    /// A host name and port, resolved by the driver at exchange time.
    Name(String, u16),
}

/// One configured KDC (or kpasswd server) for a realm.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Upstream {
    /// TCP or UDP.
    pub transport: Transport,
    /// Its address.
    pub host: UpstreamHost,
}

impl fmt::Display for Upstream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.host {
            UpstreamHost::Addr(a) => write!(f, "{}://{a}", self.transport),
            UpstreamHost::Name(h, p) => write!(f, "{}://{h}:{p}", self.transport),
        }
    }
}

/// The Kerberos port (RFC 4120 §7.2.3), used when a URL names none.
const KERBEROS_PORT: u16 = 88;

impl FromStr for Upstream {
    type Err = ConfigError;

    /// Parses `tcp://HOST[:PORT]` or `udp://HOST[:PORT]`. kdcproxy's
    /// `kerberos+tcp://` / `kerberos+udp://` spellings (and the `kpasswd+`
    /// ones) are accepted too so its configuration lines carry over. IPv6
    /// literals go in brackets.
    fn from_str(url: &str) -> Result<Self, Self::Err> {
        let bad = |why| ConfigError::BadUpstream {
            url: url.to_owned(),
            why,
        };
        let (scheme, rest) = url
            .split_once("://")
            .ok_or_else(|| bad("missing scheme (tcp:// or udp://)"))?;
        let transport = match scheme.to_ascii_lowercase().as_str() {
            "tcp" | "kerberos+tcp" | "kpasswd+tcp" => Transport::Tcp,
            "udp" | "kerberos+udp" | "kpasswd+udp" => Transport::Udp,
            _ => return Err(bad("unknown scheme (use tcp:// or udp://)")),
        };
        let authority = rest.strip_suffix('/').unwrap_or(rest);
        if authority.is_empty() {
            return Err(bad("missing host"));
        }
        if authority.contains(['/', '?', '#', '@']) {
            return Err(bad("only HOST[:PORT] may follow the scheme"));
        }
        let (host, port) = split_host_port(authority).ok_or_else(|| bad("bad HOST[:PORT]"))?;
        if port == 0 {
            return Err(bad("port 0"));
        }
        let host = match host.parse::<IpAddr>() {
            Ok(ip) => UpstreamHost::Addr(SocketAddr::new(ip, port)),
            Err(_) => {
                let valid = host
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.');
                if !valid {
                    return Err(bad("host is neither an IP address nor a DNS name"));
                }
                UpstreamHost::Name(host.to_owned(), port)
            }
        };
        Ok(Upstream { transport, host })
    }
}

/// Splits `host`, `host:port`, `[v6]` or `[v6]:port`.
fn split_host_port(s: &str) -> Option<(&str, u16)> {
    if let Some(rest) = s.strip_prefix('[') {
        let (host, after) = rest.split_once(']')?;
        let port = match after {
            "" => KERBEROS_PORT,
            p => p.strip_prefix(':')?.parse().ok()?,
        };
        return Some((host, port));
    }
    match s.rsplit_once(':') {
        // A bare IPv6 literal without brackets has several colons: refuse
        // rather than guess where the port starts.
        Some((h, _)) if h.contains(':') => None,
        Some((h, p)) if !h.is_empty() => Some((h, p.parse().ok()?)),
        Some(_) => None,
        None => Some((s, KERBEROS_PORT)),
    }
}

/// A realm the relay serves and where its KDCs are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RealmRoute {
    /// The realm as configured (its canonical spelling, used upstream).
    pub name: String,
    /// KDCs, TCP ones first (kdcproxy and Windows both prefer TCP).
    pub kdcs: Vec<Upstream>,
    /// kpasswd servers (RFC 3244), used only when kpasswd relaying is on.
    pub kpasswd: Vec<Upstream>,
}

impl RealmRoute {
    /// A realm with the given KDCs and no kpasswd servers.
    pub fn new(name: &str, kdcs: Vec<Upstream>) -> Result<Self, ConfigError> {
        check_realm_name(name)?;
        if kdcs.is_empty() {
            return Err(ConfigError::NoUpstream(name.to_owned()));
        }
        Ok(RealmRoute {
            name: name.to_owned(),
            kdcs: tcp_first(kdcs),
            kpasswd: Vec::new(),
        })
    }

    /// Adds kpasswd servers.
    #[must_use]
    pub fn with_kpasswd(mut self, servers: Vec<Upstream>) -> Self {
        self.kpasswd = tcp_first(servers);
        self
    }

    /// Parses the command-line form `REALM=URL[,URL...]`.
    pub fn parse_mapping(s: &str) -> Result<Self, ConfigError> {
        let (realm, urls) = s
            .split_once('=')
            .ok_or_else(|| ConfigError::BadMapping(s.to_owned()))?;
        let kdcs = urls
            .split(',')
            .map(str::trim)
            .filter(|u| !u.is_empty())
            .map(Upstream::from_str)
            .collect::<Result<Vec<_>, _>>()?;
        RealmRoute::new(realm.trim(), kdcs)
    }
}

/// A stable sort keeps the operator's order within each transport.
fn tcp_first(mut v: Vec<Upstream>) -> Vec<Upstream> {
    v.sort_by_key(|u| u.transport);
    v
}

fn check_realm_name(name: &str) -> Result<(), ConfigError> {
    // RFC 4120 §6.1: realm names are KerberosStrings (IA5); we refuse
    // whitespace and control characters, which no deployed realm uses and
    // which would make audit lines and config files ambiguous.
    if name.is_empty() || !name.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(ConfigError::BadRealm(name.to_owned()));
    }
    Ok(())
}

/// What to do with a `kerb-message` that lacks the 4-byte length prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PrefixPolicy {
    /// MS-KKDCP §2.2.2 requires the prefix: answer 400 (kdcproxy's choice).
    #[default]
    Reject,
    /// Apple's Kerberos SSO extension sends the bare message
    /// (latchset/kdcproxy#61). Detect it by its first byte (0x6a AS-REQ,
    /// 0x6c TGS-REQ), add the record mark upstream, and answer in the same
    /// prefix-less framing the client used.
    Accept,
}

impl FromStr for PrefixPolicy {
    type Err = ConfigError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "reject" => Ok(PrefixPolicy::Reject),
            "accept" => Ok(PrefixPolicy::Accept),
            _ => Err(ConfigError::BadSetting {
                name: "length-prefix",
                why: "expected reject or accept",
            }),
        }
    }
}

/// Optional client authentication. With both forms configured, either one
/// admits a request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClientAuth {
    /// Accepted `Authorization: Bearer` tokens.
    pub bearer_tokens: Vec<String>,
    /// Admit clients whose TLS certificate chained to the configured client
    /// CA (the driver verifies the chain; the core sees the identity).
    pub mutual_tls: bool,
}

impl ClientAuth {
    /// Whether any form of authentication is required.
    pub fn required(&self) -> bool {
        !self.bearer_tokens.is_empty() || self.mutual_tls
    }
}

/// A per-client token bucket: `per_second` sustained, `burst` at once.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RateLimit {
    /// Tokens added per second.
    pub per_second: f64,
    /// Bucket size.
    pub burst: u32,
}

impl FromStr for RateLimit {
    type Err = ConfigError;

    /// `N/s` or `N` (per second), burst = max(1, N); or `N/s,burst=B`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = ConfigError::BadSetting {
            name: "rate-limit",
            why: "expected N/s or N/s,burst=B with N > 0",
        };
        let (rate, burst) = match s.split_once(',') {
            Some((r, b)) => (r, Some(b.trim().strip_prefix("burst=").ok_or(bad.clone())?)),
            None => (s, None),
        };
        let rate = rate.trim();
        let rate = rate.strip_suffix("/s").unwrap_or(rate);
        let per_second: f64 = rate.parse().map_err(|_| bad.clone())?;
        if !per_second.is_finite() || per_second <= 0.0 {
            return Err(bad);
        }
        let burst = match burst {
            Some(b) => b.parse::<u32>().ok().filter(|b| *b > 0).ok_or(bad)?,
            // Saturating float-to-int cast: a huge rate gets a huge burst.
            None => (per_second.ceil() as u32).max(1),
        };
        Ok(RateLimit { per_second, burst })
    }
}

/// The whole relay configuration.
#[derive(Debug, Clone)]
pub struct RelayConfig {
    /// Served realms, keyed by the upper-cased name (MS-KKDCP §2.2.2:
    /// target-domain "is not case-sensitive").
    realms: BTreeMap<String, RealmRoute>,
    /// The HTTP path (MS-KKDCP §2.1).
    pub path: String,
    /// Largest accepted request body (bytes).
    pub max_request: usize,
    /// Largest accepted upstream reply, record mark excluded (bytes).
    pub max_reply: usize,
    /// Time allowed for one upstream attempt (connect + send + reply).
    pub upstream_timeout: Duration,
    /// Total time for a request across all upstream attempts. Keep it below
    /// client timeouts (Windows `KdcWaitTime` is 10 s) so the client sees our
    /// answer rather than its own timeout.
    pub request_timeout: Duration,
    /// Missing length prefix policy.
    pub prefix_policy: PrefixPolicy,
    /// Relay RFC 3244 kpasswd requests (to the realm's kpasswd servers).
    pub kpasswd: bool,
    /// Require the inner KDC-REQ `req-body.realm` to equal target-domain.
    pub require_realm_match: bool,
    /// Refuse a request whose Content-Type is present and is not
    /// `application/kerberos` (415). A missing Content-Type is always
    /// accepted: MS-KKDCP mandates none.
    pub strict_content_type: bool,
    /// Client authentication.
    pub auth: ClientAuth,
    /// Per-client rate limit.
    pub rate_limit: Option<RateLimit>,
    /// Most clients the rate limiter remembers at once; when full, idle
    /// (refilled) buckets are dropped first, then the oldest.
    pub rate_limit_clients: usize,
}

impl Default for RelayConfig {
    fn default() -> Self {
        RelayConfig {
            realms: BTreeMap::new(),
            path: DEFAULT_PATH.to_owned(),
            max_request: DEFAULT_MAX_MESSAGE,
            max_reply: DEFAULT_MAX_MESSAGE,
            upstream_timeout: Duration::from_secs(3),
            request_timeout: Duration::from_secs(8),
            prefix_policy: PrefixPolicy::Reject,
            kpasswd: false,
            require_realm_match: true,
            strict_content_type: true,
            auth: ClientAuth::default(),
            rate_limit: None,
            rate_limit_clients: 65_536,
        }
    }
}

impl RelayConfig {
    /// A default configuration serving the given realms.
    pub fn with_realms(routes: impl IntoIterator<Item = RealmRoute>) -> Result<Self, ConfigError> {
        let mut c = RelayConfig::default();
        for r in routes {
            c.add_realm(r)?;
        }
        Ok(c)
    }

    /// Adds a realm; a second spelling of the same realm is an error.
    pub fn add_realm(&mut self, route: RealmRoute) -> Result<(), ConfigError> {
        let key = route.name.to_ascii_uppercase();
        if self.realms.contains_key(&key) {
            return Err(ConfigError::DuplicateRealm(route.name));
        }
        self.realms.insert(key, route);
        Ok(())
    }

    /// The route for a realm, matched case-insensitively.
    pub fn realm(&self, name: &str) -> Option<&RealmRoute> {
        self.realms.get(&name.to_ascii_uppercase())
    }

    /// All configured realms, in name order.
    pub fn realms(&self) -> impl Iterator<Item = &RealmRoute> {
        self.realms.values()
    }

    /// Checks limits and timeouts make sense.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let bad = |name, why| Err(ConfigError::BadSetting { name, why });
        if self.realms.is_empty() {
            return bad("realm", "at least one realm must be configured");
        }
        if !self.path.starts_with('/') {
            return bad("path", "must start with /");
        }
        // A request must at least hold the SEQUENCE, the [0] header and the
        // record mark; a reply limit of a few bytes cannot hold a KRB-ERROR.
        if self.max_request < 16 {
            return bad("max-request", "must be at least 16 bytes");
        }
        if self.max_reply < 16 {
            return bad("max-reply", "must be at least 16 bytes");
        }
        if self.upstream_timeout.is_zero() || self.request_timeout.is_zero() {
            return bad("timeout", "timeouts must be non-zero");
        }
        if self.rate_limit.is_some() && self.rate_limit_clients == 0 {
            return bad("rate-limit-clients", "must be non-zero");
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upstream_urls_parse() {
        let u: Upstream = "tcp://127.0.0.1:88".parse().unwrap();
        assert_eq!(u.transport, Transport::Tcp);
        assert_eq!(u.host, UpstreamHost::Addr("127.0.0.1:88".parse().unwrap()));
        let u: Upstream = "udp://[::1]:750".parse().unwrap();
        assert_eq!(u.host, UpstreamHost::Addr("[::1]:750".parse().unwrap()));
        let u: Upstream = "kerberos+tcp://kdc.lab.test".parse().unwrap();
        assert_eq!(u.host, UpstreamHost::Name("kdc.lab.test".into(), 88));
        assert_eq!(u.to_string(), "tcp://kdc.lab.test:88");
        for bad in [
            "127.0.0.1:88",
            "http://h:1",
            "tcp://",
            "tcp://h:0",
            "tcp://h:99999",
            "tcp://::1:88",
            "tcp://h/x",
            "tcp://u@h",
            "tcp://h h",
        ] {
            assert!(bad.parse::<Upstream>().is_err(), "{bad} should not parse");
        }
    }

    #[test]
    fn mappings_sort_tcp_first_and_reject_garbage() {
        let r = RealmRoute::parse_mapping(
            "LAB.TEST=udp://10.0.0.1:88,tcp://10.0.0.2:88,tcp://10.0.0.3",
        )
        .unwrap();
        let order: Vec<String> = r.kdcs.iter().map(ToString::to_string).collect();
        assert_eq!(
            order,
            [
                "tcp://10.0.0.2:88",
                "tcp://10.0.0.3:88",
                "udp://10.0.0.1:88"
            ]
        );
        assert!(matches!(
            RealmRoute::parse_mapping("LAB.TEST"),
            Err(ConfigError::BadMapping(_))
        ));
        assert!(matches!(
            RealmRoute::parse_mapping("LAB.TEST="),
            Err(ConfigError::NoUpstream(_))
        ));
        assert!(matches!(
            RealmRoute::parse_mapping("=tcp://h:1"),
            Err(ConfigError::BadRealm(_))
        ));
        assert!(matches!(
            RealmRoute::parse_mapping("A B=tcp://h:1"),
            Err(ConfigError::BadRealm(_))
        ));
    }

    #[test]
    fn realms_match_case_insensitively_and_once() {
        let mut c =
            RelayConfig::with_realms([
                RealmRoute::parse_mapping("Lab.Test=tcp://1.2.3.4:88").unwrap()
            ])
            .unwrap();
        assert_eq!(c.realm("lab.test").unwrap().name, "Lab.Test");
        assert_eq!(c.realm("LAB.TEST").unwrap().name, "Lab.Test");
        assert!(c.realm("LAB.TEST2").is_none());
        let dup = RealmRoute::parse_mapping("LAB.TEST=tcp://1.2.3.5:88").unwrap();
        assert!(matches!(
            c.add_realm(dup),
            Err(ConfigError::DuplicateRealm(_))
        ));
        c.validate().unwrap();
    }

    #[test]
    fn rate_limits_parse() {
        assert_eq!(
            "10/s".parse::<RateLimit>().unwrap(),
            RateLimit {
                per_second: 10.0,
                burst: 10
            }
        );
        assert_eq!(
            "0.5/s".parse::<RateLimit>().unwrap(),
            RateLimit {
                per_second: 0.5,
                burst: 1
            }
        );
        assert_eq!(
            "5/s,burst=20".parse::<RateLimit>().unwrap(),
            RateLimit {
                per_second: 5.0,
                burst: 20
            }
        );
        for bad in [
            "",
            "0/s",
            "-1/s",
            "x/s",
            "NaN/s",
            "inf/s",
            "5/s,burst=0",
            "5/s,b=2",
        ] {
            assert!(bad.parse::<RateLimit>().is_err(), "{bad}");
        }
    }

    #[test]
    fn empty_config_is_invalid() {
        assert!(RelayConfig::default().validate().is_err());
    }
}
