//! The scenario file format (documented for users in `scenarios/README.md`).
//!
//! Every table denies unknown fields, so a typo is an error rather than a
//! silently ignored setting. Sections other engineers extend (host role
//! options, `[policy]`, timeline actions) are separate types with their own
//! `deny_unknown_fields`, so adding a field is adding a line here.

use std::fmt;
use std::net::Ipv4Addr;

use serde::de::{self, Deserializer};
use serde::{Deserialize, Serialize};

use crate::duration::{Offset, SimDuration};

use crate::firewall::{Action as FwAction, ProtoMatch};
use crate::tls::CertFault;
/// The application protocol's authentication (SPNEGO or raw NTLM).
pub use kerbside_client::negotiator::AppProtocol;

/// A whole scenario file.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// Short identifier (`office-baseline`); the file stem by convention.
    pub name: String,
    /// One paragraph a person can read: what situation, what must hold.
    pub description: String,
    /// Which suite runs it by default.
    #[serde(default)]
    pub tier: Tier,
    /// How many seeds a sweep runs when `--seeds` is not given.
    #[serde(default = "default_seeds")]
    pub seeds: u64,
    /// Wall time at sim time zero, RFC 3339 (`2026-03-02T08:00:00Z`).
    #[serde(default = "default_epoch")]
    pub epoch: String,
    /// turmoil tick: the resolution of simulated time.
    #[serde(default = "default_tick")]
    pub tick: SimDuration,
    /// Scenario time after which the run stops (logons still running are
    /// reported as hung).
    pub duration: SimDuration,
    /// Skip quiet stretches (nothing in flight, no logon running) by
    /// warping the clocks to the next timeline event.
    #[serde(default = "yes")]
    pub idle_skip: bool,
    /// Realms, their KDC hosts and principals.
    #[serde(default, rename = "realm")]
    pub realms: Vec<Realm>,
    /// Hosts.
    #[serde(rename = "host")]
    pub hosts: Vec<Host>,
    /// Defaults for every link.
    #[serde(default)]
    pub network: Network,
    /// Per-link settings.
    #[serde(default, rename = "link")]
    pub links: Vec<Link>,
    /// Firewall rules in force at time zero.
    #[serde(default, rename = "firewall")]
    pub firewall: Vec<RuleSpec>,
    /// Client authentication policy.
    #[serde(default)]
    pub policy: Policy,
    /// What happens when.
    #[serde(default, rename = "timeline")]
    pub timeline: Vec<Event>,
    /// What must hold.
    #[serde(default)]
    pub expect: Expectations,
}

fn default_seeds() -> u64 {
    16
}
fn default_epoch() -> String {
    "2026-03-02T08:00:00Z".to_owned()
}
fn default_tick() -> SimDuration {
    SimDuration(std::time::Duration::from_millis(1))
}
fn yes() -> bool {
    true
}

/// Suite tier.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Tier {
    /// Runs in a plain `kerbside run`.
    #[default]
    Default,
    /// Heavy: only with `--tier load`.
    Load,
}

impl fmt::Display for Tier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Tier::Default => "default",
            Tier::Load => "load",
        })
    }
}

/// A realm.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Realm {
    /// Realm name (`CORP.EXAMPLE`).
    pub name: String,
    /// Hosts (role `kdc`) serving it, in the order clients try them.
    #[serde(default)]
    pub kdcs: Vec<String>,
    /// Principals, in the KDC principals-file shape.
    #[serde(default, rename = "principal")]
    pub principals: Vec<PrincipalSpec>,
}

/// A principal (same fields as the KDC's principals file).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PrincipalSpec {
    /// Name without realm (`alice`, `host/app.corp.example`, `krbtgt/CORP.EXAMPLE`).
    pub name: String,
    /// Password (its keys, NT hash and the password itself are canaries).
    pub password: String,
    /// Whether the KDC demands PA-ENC-TIMESTAMP (RFC 4120 §5.2.7.2).
    #[serde(default)]
    pub requires_preauth: Option<bool>,
    /// Key version number.
    #[serde(default)]
    pub kvno: Option<u32>,
    /// Enctypes (names or numbers), default: the KDC's.
    #[serde(default)]
    pub enctypes: Option<Vec<toml::Value>>,
    /// `user | service | computer | tgs`, inferred when absent.
    #[serde(default)]
    pub kind: Option<String>,
    /// Disabled accounts are refused (KDC_ERR_CLIENT_REVOKED).
    #[serde(default)]
    pub disabled: Option<bool>,
}

/// What a host does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Role {
    /// A workstation that logs users on.
    Client,
    /// A KDC (domain controller).
    Kdc,
    /// An MS-KKDCP relay (KDC proxy).
    Relay,
    /// An application server (SPNEGO/Kerberos/IAKERB/NTLM acceptor).
    App,
    /// A LocalKDC.
    Localkdc,
    /// An NTLM-only device (printer).
    Printer,
    /// A hostile host.
    Attacker,
    /// Test only: TCP and UDP echo on the ports listed.
    Echo,
    /// Test only: sends a user's password in clear to a peer, so the canary
    /// check has something to catch.
    Leaker,
    /// A hostile client: malformed and truncated messages, or requests a
    /// relay must refuse (open-proxy abuse).
    Hostile,
    /// A TCP load balancer in front of several relays.
    Balancer,
}

impl Role {
    /// The role's name as written in scenario files.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Client => "client",
            Role::Kdc => "kdc",
            Role::Relay => "relay",
            Role::App => "app",
            Role::Localkdc => "localkdc",
            Role::Printer => "printer",
            Role::Attacker => "attacker",
            Role::Echo => "echo",
            Role::Leaker => "leaker",
            Role::Hostile => "hostile",
            Role::Balancer => "balancer",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A host.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Host {
    /// Name (also its DNS name inside the simulation).
    pub name: String,
    /// Role.
    pub role: Role,
    /// IPv4 address; assigned from 10.0.0.0/16 in order when absent.
    #[serde(default)]
    pub address: Option<Ipv4Addr>,
    /// Other names that resolve to this host (`relay.corp.example`).
    #[serde(default)]
    pub aliases: Vec<String>,
    /// Delay added before everything the host sends (a slow upstream).
    #[serde(default)]
    pub delay: Option<SimDuration>,
    /// Clock skew at start (`"-6m"`: six minutes behind).
    #[serde(default)]
    pub skew: Option<Offset>,
    /// KDC options (role `kdc`).
    #[serde(default)]
    pub kdc: Option<KdcOptions>,
    /// Relay options (role `relay`).
    #[serde(default)]
    pub relay: Option<RelayOptions>,
    /// Client options (role `client`).
    #[serde(default)]
    pub client: Option<ClientOptions>,
    /// Echo options (role `echo`).
    #[serde(default)]
    pub echo: Option<EchoOptions>,
    /// Leaker options (role `leaker`).
    #[serde(default)]
    pub leaker: Option<LeakerOptions>,
    /// Application server options (roles `app` and `printer`).
    #[serde(default)]
    pub app: Option<AppOptions>,
    /// Attacker options (role `attacker`).
    #[serde(default)]
    pub attacker: Option<AttackerOptions>,
    /// Hostile-client options (role `hostile`).
    #[serde(default)]
    pub hostile: Option<HostileOptions>,
    /// Load-balancer options (role `balancer`).
    #[serde(default)]
    pub balancer: Option<BalancerOptions>,
}

/// Load-balancer options (role `balancer`): a layer-4 (TCP) balancer that
/// passes connections through to healthy backends in turn.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BalancerOptions {
    /// Backend hosts, in order.
    pub backends: Vec<String>,
    /// Port it listens on and connects to (443).
    #[serde(default)]
    pub port: Option<u16>,
    /// Active health check interval (a TCP connect to each backend).
    #[serde(default)]
    pub health_every: Option<SimDuration>,
    /// How long a connect to a backend may take before it counts as down.
    #[serde(default)]
    pub connect_timeout: Option<SimDuration>,
}

/// What a hostile client does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum HostileMode {
    /// Garbage, truncated and mangled messages to every target (KDCs over
    /// TCP and UDP, relays over HTTPS and raw TLS, app servers in the
    /// gss-sample framing).
    Malformed,
    /// Well-formed KKDCP requests for realms the relay was not given and
    /// for internal host names and addresses: every one must be refused.
    OpenProxy,
}

/// Hostile-client options (role `hostile`).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HostileOptions {
    /// What it does.
    pub mode: HostileMode,
    /// Hosts it sends to (KDCs, relays, app servers), in turn.
    pub targets: Vec<String>,
    /// Scenario time of the first message.
    #[serde(default)]
    pub start: Option<SimDuration>,
    /// Spacing between messages.
    #[serde(default)]
    pub every: Option<SimDuration>,
    /// How many messages.
    #[serde(default)]
    pub count: Option<u32>,
    /// `open-proxy`: the `target-domain`s to ask relays for (default: a
    /// list of undeclared realms, internal names and addresses).
    #[serde(default)]
    pub domains: Vec<String>,
}

/// KDC host options.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KdcOptions {
    /// Realm served (default: the realm listing this host in `kdcs`).
    #[serde(default)]
    pub realm: Option<String>,
    /// Port (88).
    #[serde(default)]
    pub port: Option<u16>,
    /// Serve TCP (RFC 4120 §7.2.2).
    #[serde(default)]
    pub tcp: Option<bool>,
    /// Serve UDP (RFC 4120 §7.2.1).
    #[serde(default)]
    pub udp: Option<bool>,
}

/// Relay host options.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RelayOptions {
    /// Realms the relay forwards for (MS-KKDCP §3.2.5.1 target-domain).
    #[serde(default)]
    pub realms: Vec<String>,
    /// HTTPS port (443).
    #[serde(default)]
    pub port: Option<u16>,
    /// Serve HTTPS (true) or plain HTTP (false).
    #[serde(default)]
    pub tls: Option<bool>,
    /// Certificate fault.
    #[serde(default)]
    pub cert: CertFault,
    /// More names for the certificate only (not for DNS): the name of a
    /// load balancer in front of the relay.
    #[serde(default)]
    pub cert_names: Vec<String>,
}

/// Client host options.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientOptions {
    /// The realm users log on to (default: the only realm).
    #[serde(default)]
    pub realm: Option<String>,
    /// This client's policy, merged over the scenario's `[policy]` key by
    /// key (`[host.client.policy.ntlm] mode = "deny"` changes only that).
    #[serde(default)]
    pub policy: Option<toml::Table>,
    /// An on-client LocalKDC on this host (issue 8): realm
    /// `<HOST>.LOCALKDC`, the computer account `<HOST>$` with the keys the
    /// client realm holds for it (cached while online).
    #[serde(default)]
    pub localkdc: Option<ClientLocalKdc>,
    /// Logons from this host do not know their realm: IAKERB asks the
    /// server (realm discovery, draft-ietf-kitten-iakerb-03 §3.1).
    #[serde(default)]
    pub discover_realm: bool,
}

/// An on-client LocalKDC (`[host.client.localkdc]`).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientLocalKdc {
    /// Approved services (`cifs/files.corp.example`): the servers holding
    /// them must list this client in `app.trust_localkdc_of` (enrolment).
    #[serde(default)]
    pub services: Vec<String>,
    /// Ticket lifetime cap (15 minutes).
    #[serde(default)]
    pub lifetime: Option<SimDuration>,
    /// Also serve the client realm's users, not only the computer account.
    #[serde(default)]
    pub users: bool,
    /// How long the approvals fetched at start stay usable (7 days).
    #[serde(default)]
    pub max_offline: Option<SimDuration>,
}

/// Application server options (roles `app` and `printer`).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppOptions {
    /// TCP port (gss-server's 4444).
    #[serde(default)]
    pub port: Option<u16>,
    /// The realm its service keys come from (default: the only realm).
    #[serde(default)]
    pub realm: Option<String>,
    /// Service principals it holds keys for (`cifs/files.corp.example`);
    /// default: every two-component principal whose host part is the
    /// host's name or one of its aliases.
    #[serde(default)]
    pub spns: Vec<String>,
    /// Accept Kerberos (default: yes for `app`, no for `printer`).
    #[serde(default)]
    pub kerberos: Option<bool>,
    /// Accept NTLM against local accounts (default: yes).
    #[serde(default)]
    pub ntlm: Option<bool>,
    /// Accept IAKERB and relay its KDC messages to the KDCs of `realm`
    /// (and to `local_kdc`): draft-ietf-kitten-iakerb-03.
    #[serde(default)]
    pub iakerb: bool,
    /// Run an on-target LocalKDC for this realm inside the server (its
    /// principals are the machine's local accounts and services; the realm
    /// lists no KDC hosts): reached only through IAKERB, 10-hour tickets.
    #[serde(default)]
    pub local_kdc: Option<String>,
    /// Client hosts whose on-client LocalKDC this server was enrolled with:
    /// it holds the enrolment key of each for its services and enforces
    /// the LocalKDC limits on their tickets.
    #[serde(default)]
    pub trust_localkdc_of: Vec<String>,
}

/// Attacker options (role `attacker`): a man-in-the-middle in front of an
/// application server whose name it answers for (give it the server's
/// name as an alias).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AttackerOptions {
    /// The real server every connection is forwarded to.
    pub target: String,
    /// Port it listens on and forwards to (4444).
    #[serde(default)]
    pub port: Option<u16>,
    /// Remove Kerberos from the client's SPNEGO mechanism list (RFC 4178
    /// downgrade) on the way through.
    #[serde(default)]
    pub strip_kerberos: bool,
    /// Capture each client's first context token (the AP-REQ and its
    /// ticket) and replay it to these servers (host names) at once.
    #[serde(default)]
    pub replay_to: Vec<String>,
    /// Also replay it to the real target this long after capturing it
    /// (after the ticket's end, typically).
    #[serde(default)]
    pub replay_after: Option<SimDuration>,
}

/// Echo host options (test role).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EchoOptions {
    /// Ports echoed on both TCP and UDP.
    #[serde(default)]
    pub ports: Vec<u16>,
    /// Test knob: a task the host spawns panics this long after the host
    /// starts (proves a panic in any simulated task fails the run).
    #[serde(default)]
    pub panic_after: Option<SimDuration>,
}

/// Leaker options (test role).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LeakerOptions {
    /// Whose password to leak (`alice@CORP.EXAMPLE` or `alice`).
    pub user: String,
    /// The host it is sent to.
    pub to: String,
    /// TCP port.
    pub port: u16,
    /// Scenario time at which it is sent.
    pub at: SimDuration,
    /// Send it inside TLS (to a relay, trusting the relays' anchors): only
    /// the plaintext layer of the tap can see it then.
    #[serde(default)]
    pub tls: bool,
}

/// Defaults for every link.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Network {
    /// One-way latency.
    #[serde(default)]
    pub latency: Option<SimDuration>,
    /// Extra random latency, up to this much.
    #[serde(default)]
    pub jitter: Option<SimDuration>,
    /// UDP loss probability.
    #[serde(default)]
    pub udp_loss: Option<f64>,
    /// TCP segment loss probability (costs a retransmission timeout).
    #[serde(default)]
    pub tcp_loss: Option<f64>,
}

/// A link between two hosts.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Link {
    /// The two hosts.
    pub between: [String; 2],
    /// One-way latency.
    #[serde(default)]
    pub latency: Option<SimDuration>,
    /// Extra random latency, up to this much.
    #[serde(default)]
    pub jitter: Option<SimDuration>,
    /// UDP loss probability.
    #[serde(default)]
    pub udp_loss: Option<f64>,
    /// TCP segment loss probability.
    #[serde(default)]
    pub tcp_loss: Option<f64>,
}

/// One name or a list of names.
#[derive(Clone, Debug, Deserialize)]
#[serde(untagged)]
pub enum OneOrMany {
    /// A single name.
    One(String),
    /// Several names.
    Many(Vec<String>),
}

impl OneOrMany {
    /// The names.
    pub fn names(&self) -> Vec<&str> {
        match self {
            OneOrMany::One(s) => vec![s.as_str()],
            OneOrMany::Many(v) => v.iter().map(String::as_str).collect(),
        }
    }
}

impl Default for OneOrMany {
    fn default() -> Self {
        OneOrMany::One("*".to_owned())
    }
}

/// A port: a number, `"80-90"`, or `"*"`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PortSpec(pub Option<(u16, u16)>);

impl<'de> Deserialize<'de> for PortSpec {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            N(i64),
            S(String),
        }
        let bad = || de::Error::custom("expected a port (1-65535), a range \"lo-hi\", or \"*\"");
        let port = |n: i64| u16::try_from(n).ok().filter(|p| *p > 0).ok_or_else(bad);
        match Raw::deserialize(d)? {
            Raw::N(n) => {
                let p = port(n)?;
                Ok(PortSpec(Some((p, p))))
            }
            Raw::S(s) if s.trim() == "*" => Ok(PortSpec(None)),
            Raw::S(s) => {
                let (lo, hi) = s.split_once('-').ok_or_else(bad)?;
                let lo = port(lo.trim().parse().map_err(|_| bad())?)?;
                let hi = port(hi.trim().parse().map_err(|_| bad())?)?;
                if lo > hi {
                    return Err(bad());
                }
                Ok(PortSpec(Some((lo, hi))))
            }
        }
    }
}

/// A firewall rule as written in a scenario.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleSpec {
    /// Name for replacing/clearing it later.
    #[serde(default)]
    pub id: Option<String>,
    /// Initiating hosts: names, `role:NAME`, or `*`.
    #[serde(default)]
    pub from: OneOrMany,
    /// Serving hosts.
    #[serde(default)]
    pub to: OneOrMany,
    /// `tcp`, `udp` or `any`.
    #[serde(default)]
    pub proto: ProtoMatch,
    /// Service port(s).
    #[serde(default)]
    pub port: PortSpec,
    /// `allow`, `drop` or `reject`.
    pub action: FwAction,
}

/// The client's authentication policy: the negotiator's
/// ([`kerbside_client::negotiator::Policy`]) in its own sections
/// (`[policy.native]`, `[policy.kkdcp]`, `[policy.ntlm]`,
/// `[policy.negative_cache]`, `[policy.racing]`, `[policy.tickets]`, ...),
/// plus the shorthands of the first scenario format (`native_tcp`,
/// `native_udp`, `kdc_timeout`, `relays`, `relay_timeout`). The native KDC
/// list defaults to the client realm's `kdcs`.
#[derive(Clone, Debug, Default)]
pub struct Policy {
    /// The table as written: clients' `[host.client.policy]` merge over it.
    pub raw: toml::Table,
    /// The parsed policy (without any client's overrides).
    pub negotiator: NegotiatorPolicy,
}

/// The negotiator's policy type.
pub use kerbside_client::negotiator::Policy as NegotiatorPolicy;

/// The shorthand keys, and the section key each stands for.
const POLICY_SHORTHANDS: &[(&str, &str, &str)] = &[
    ("native_tcp", "native", "tcp"),
    ("native_udp", "native", "udp"),
    ("kdc_timeout", "native", "timeout"),
    ("relays", "kkdcp", "relays"),
    ("relay_timeout", "kkdcp", "timeout"),
];

impl Policy {
    /// Parses a `[policy]` table.
    pub fn from_table(raw: toml::Table) -> Result<Self, String> {
        let negotiator = parse_policy(&raw)?;
        Ok(Policy { raw, negotiator })
    }

    /// The policy of a client with `overrides` merged over this one.
    pub fn merged(&self, overrides: Option<&toml::Table>) -> Result<NegotiatorPolicy, String> {
        match overrides {
            None => Ok(self.negotiator.clone()),
            Some(o) => {
                let mut t = self.raw.clone();
                merge_tables(&mut t, o);
                parse_policy(&t)
            }
        }
    }
}

impl<'de> Deserialize<'de> for Policy {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = toml::Table::deserialize(d)?;
        Policy::from_table(raw).map_err(de::Error::custom)
    }
}

/// Merges `over` into `base`: tables recursively, anything else replaced.
fn merge_tables(base: &mut toml::Table, over: &toml::Table) {
    for (k, v) in over {
        match (base.get_mut(k), v) {
            (Some(toml::Value::Table(b)), toml::Value::Table(o)) => merge_tables(b, o),
            _ => {
                base.insert(k.clone(), v.clone());
            }
        }
    }
}

/// Reads a policy table: shorthands first moved into their sections, then
/// the negotiator's own (strict) deserializer and validation.
fn parse_policy(raw: &toml::Table) -> Result<NegotiatorPolicy, String> {
    let mut t = raw.clone();
    for (short, section, key) in POLICY_SHORTHANDS {
        let Some(v) = t.remove(*short) else { continue };
        let sec = t
            .entry((*section).to_owned())
            .or_insert_with(|| toml::Value::Table(toml::Table::new()));
        let toml::Value::Table(sec) = sec else {
            return Err(format!("`{section}` must be a table"));
        };
        if sec.contains_key(*key) {
            return Err(format!(
                "`{short}` and `{section}.{key}` say the same thing: give one"
            ));
        }
        sec.insert((*key).to_owned(), v);
    }
    let p: NegotiatorPolicy = toml::Value::Table(t)
        .try_into()
        .map_err(|e: toml::de::Error| e.message().to_owned())?;
    p.validate().map_err(|e| e.to_string())?;
    Ok(p)
}

/// A timeline entry: when, and what.
#[derive(Clone, Debug)]
pub struct Event {
    /// Scenario time.
    pub at: SimDuration,
    /// The action.
    pub action: Action,
}

/// Timeline actions.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum Action {
    /// One logon.
    Logon(LogonAction),
    /// Many logons, evenly spaced.
    LogonMany(LogonManyAction),
    /// Install or replace a firewall rule.
    FirewallSet(FirewallSetAction),
    /// Remove firewall rules.
    FirewallClear(FirewallClearAction),
    /// Cut the links between two host sets.
    Partition(PartitionAction),
    /// Restore links cut by `partition` (all, or between two sets).
    Heal(HealAction),
    /// Stop a host's software.
    Crash(HostAction),
    /// Start a crashed host's software again (a running one is restarted).
    Restart(HostAction),
    /// Set or step a host's clock skew.
    Skew(SkewAction),
    /// Jump every clock forward.
    Warp(WarpAction),
    /// Change a host's send delay.
    Delay(DelayAction),
    /// Make a KDC answer every authenticated request with a KRB-ERROR (or
    /// stop doing so).
    Errors(ErrorsAction),
}

impl Action {
    /// The action's name as written in scenario files.
    pub fn name(&self) -> &'static str {
        match self {
            Action::Logon(_) => "logon",
            Action::LogonMany(_) => "logon_many",
            Action::FirewallSet(_) => "firewall.set",
            Action::FirewallClear(_) => "firewall.clear",
            Action::Partition(_) => "partition",
            Action::Heal(_) => "heal",
            Action::Crash(_) => "crash",
            Action::Restart(_) => "restart",
            Action::Skew(_) => "skew",
            Action::Warp(_) => "warp",
            Action::Delay(_) => "delay",
            Action::Errors(_) => "errors",
        }
    }
}

/// Every action name, for error messages.
pub const ACTION_NAMES: &[&str] = &[
    "logon",
    "logon_many",
    "firewall.set",
    "firewall.clear",
    "partition",
    "heal",
    "crash",
    "restart",
    "skew",
    "warp",
    "delay",
    "errors",
];

/// `logon`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogonAction {
    /// Client host.
    pub client: String,
    /// User principal (`alice` or `alice@REALM`).
    pub user: String,
    /// Service to get a ticket for after the TGT (`host/app.corp.example`).
    #[serde(default)]
    pub service: Option<String>,
    /// Application server to authenticate to (a host name or alias of an
    /// `app`, `printer` or `attacker` host).
    #[serde(default)]
    pub server: Option<String>,
    /// How the application authenticates: `negotiate` (SPNEGO) or `ntlm`
    /// (raw NTLMSSP); default `ntlm` for a printer, else `negotiate`.
    #[serde(default)]
    pub protocol: Option<AppProtocol>,
    /// Group name for expectations.
    #[serde(default)]
    pub label: Option<String>,
}

/// `logon_many`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogonManyAction {
    /// Client host(s): logons rotate over them.
    pub client: OneOrMany,
    /// User principal(s): logons rotate over them (logon `i` is user
    /// `i % n`), independently of the clients.
    pub user: OneOrMany,
    /// Service ticket to request.
    #[serde(default)]
    pub service: Option<String>,
    /// Application server to authenticate to.
    #[serde(default)]
    pub server: Option<String>,
    /// `negotiate` or `ntlm` (see [`LogonAction::protocol`]).
    #[serde(default)]
    pub protocol: Option<AppProtocol>,
    /// How many.
    pub count: u32,
    /// Spacing between starts (between waves when `batch` is set).
    #[serde(default)]
    pub every: Option<SimDuration>,
    /// Logons started together per wave (default 1): a Monday morning's
    /// arrivals come in bursts, and a load scenario of thousands of logons
    /// costs simulation steps per wave, not per logon.
    #[serde(default)]
    pub batch: Option<u32>,
    /// Group name for expectations.
    #[serde(default)]
    pub label: Option<String>,
}

/// `firewall.set`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FirewallSetAction {
    /// The rule.
    pub rule: RuleSpec,
    /// Also cut established TCP connections the new rules forbid.
    #[serde(default)]
    pub cut_established: bool,
}

/// `firewall.clear`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FirewallClearAction {
    /// Rule id; all rules when absent.
    #[serde(default)]
    pub id: Option<String>,
}

/// `partition`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PartitionAction {
    /// One side.
    pub a: OneOrMany,
    /// The other side.
    pub b: OneOrMany,
    /// Only `a -> b` is cut.
    #[serde(default)]
    pub oneway: bool,
}

/// `heal`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HealAction {
    /// One side (all partitions when both are absent).
    #[serde(default)]
    pub a: Option<OneOrMany>,
    /// The other side.
    #[serde(default)]
    pub b: Option<OneOrMany>,
}

/// `crash` / `restart`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HostAction {
    /// The host.
    pub host: String,
}

/// `skew`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SkewAction {
    /// The host.
    pub host: String,
    /// New skew.
    #[serde(default)]
    pub set: Option<Offset>,
    /// Change to the current skew.
    #[serde(default)]
    pub step: Option<Offset>,
}

/// `warp`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WarpAction {
    /// How far every clock jumps.
    pub by: SimDuration,
}

/// `delay`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DelayAction {
    /// The host.
    pub host: String,
    /// New send delay (`"0s"` to remove).
    pub delay: SimDuration,
}

/// `errors`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ErrorsAction {
    /// The KDC host.
    pub host: String,
    /// RFC 4120 §7.5.9 error code to answer with (e.g. 29,
    /// KDC_ERR_SVC_UNAVAILABLE); absent: answer normally again.
    #[serde(default)]
    pub code: Option<i32>,
}

impl<'de> Deserialize<'de> for Event {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let mut table = toml::Table::deserialize(d)?;
        let at = table
            .remove("at")
            .ok_or_else(|| de::Error::missing_field("at"))?;
        let at: SimDuration = at.try_into().map_err(|e: toml::de::Error| {
            de::Error::custom(format!("invalid `at`: {}", e.message()))
        })?;
        let action = match table.remove("action") {
            Some(toml::Value::String(s)) => s,
            Some(_) => return Err(de::Error::custom("`action` must be a string")),
            None => return Err(de::Error::missing_field("action")),
        };
        fn body<T: serde::de::DeserializeOwned, E: de::Error>(t: toml::Table) -> Result<T, E> {
            toml::Value::Table(t)
                .try_into()
                .map_err(|e: toml::de::Error| E::custom(e.message()))
        }
        let action = match action.as_str() {
            "logon" => Action::Logon(body(table)?),
            "logon_many" => Action::LogonMany(body(table)?),
            "firewall.set" => Action::FirewallSet(body(table)?),
            "firewall.clear" => Action::FirewallClear(body(table)?),
            "partition" => Action::Partition(body(table)?),
            "heal" => Action::Heal(body(table)?),
            "crash" => Action::Crash(body(table)?),
            "restart" => Action::Restart(body(table)?),
            "skew" => Action::Skew(body(table)?),
            "warp" => Action::Warp(body(table)?),
            "delay" => Action::Delay(body(table)?),
            "errors" => Action::Errors(body(table)?),
            other => return Err(de::Error::unknown_variant(other, ACTION_NAMES)),
        };
        Ok(Event { at, action })
    }
}

/// The path a logon took.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Path {
    /// Kerberos over TCP to a KDC.
    NativeTcp,
    /// Kerberos over UDP to a KDC.
    NativeUdp,
    /// Kerberos through an MS-KKDCP relay.
    Kkdcp,
    /// Kerberos through the target server (IAKERB).
    Iakerb,
    /// A LocalKDC.
    Localkdc,
    /// NTLM.
    Ntlm,
    /// Tickets from the client's ticket cache: no KDC was asked.
    Cache,
    /// No path worked.
    None,
}

impl Path {
    /// The name used in files and tables.
    pub fn as_str(self) -> &'static str {
        match self {
            Path::NativeTcp => "native-tcp",
            Path::NativeUdp => "native-udp",
            Path::Kkdcp => "kkdcp",
            Path::Iakerb => "iakerb",
            Path::Localkdc => "localkdc",
            Path::Ntlm => "ntlm",
            Path::Cache => "cache",
            Path::None => "none",
        }
    }
}

impl fmt::Display for Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Success or failure.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// The logon obtained its tickets.
    Success,
    /// It did not.
    Failure,
}

/// One path or several acceptable ones.
#[derive(Clone, Debug, Deserialize)]
#[serde(untagged)]
pub enum PathSet {
    /// Exactly this path.
    One(Path),
    /// Any of these.
    Any(Vec<Path>),
}

impl PathSet {
    /// Whether `p` is acceptable.
    pub fn contains(&self, p: Path) -> bool {
        match self {
            PathSet::One(x) => *x == p,
            PathSet::Any(v) => v.contains(&p),
        }
    }
}

impl fmt::Display for PathSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PathSet::One(p) => write!(f, "{p}"),
            PathSet::Any(v) => {
                let names: Vec<&str> = v.iter().map(|p| p.as_str()).collect();
                write!(f, "one of {}", names.join(", "))
            }
        }
    }
}

/// Expectations.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expectations {
    /// Violation kinds this scenario is *meant* to produce (negative tests);
    /// anything else, or one of these missing, fails the run.
    #[serde(default)]
    pub violations: Vec<String>,
    /// A logon still running at the end, or running longer than this, is a
    /// hang (a liveness violation).
    #[serde(default = "default_max_logon")]
    pub max_logon_time: SimDuration,
    /// Per-label logon expectations.
    #[serde(default, rename = "logon")]
    pub logons: Vec<LogonExpectation>,
    /// Audit events over the whole run, by event id (`{ "8001" = 6 }`):
    /// exactly this many.
    #[serde(default)]
    pub audit: std::collections::BTreeMap<String, u64>,
    /// Upper bounds on attempts over the whole run, by outcome
    /// (`{ "timeout" = 12 }`): what the negative cache must keep down.
    #[serde(default)]
    pub attempts_max: std::collections::BTreeMap<String, u64>,
    /// Coverage counters that must be reached at least once in the run
    /// (`sometimes` properties: `relay:rejected`, `path:kkdcp`, ...).
    #[serde(default)]
    pub sometimes: Vec<String>,
}

fn default_max_logon() -> SimDuration {
    SimDuration(std::time::Duration::from_secs(120))
}

impl Default for Expectations {
    fn default() -> Self {
        Expectations {
            violations: Vec::new(),
            max_logon_time: default_max_logon(),
            logons: Vec::new(),
            audit: std::collections::BTreeMap::new(),
            attempts_max: std::collections::BTreeMap::new(),
            sometimes: Vec::new(),
        }
    }
}

/// What must be true of every logon with a label.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogonExpectation {
    /// The label (from `logon`/`logon_many`).
    pub label: String,
    /// Path every one of them takes.
    #[serde(default)]
    pub path: Option<PathSet>,
    /// Success or failure.
    #[serde(default)]
    pub outcome: Option<Outcome>,
    /// Latency bound for each.
    #[serde(default)]
    pub max_latency: Option<SimDuration>,
    /// How many logons carry the label.
    #[serde(default)]
    pub count: Option<u32>,
    /// The paths each one tried, in order, repeats folded
    /// (`["native-tcp", "kkdcp"]`: the fallback order).
    #[serde(default)]
    pub order: Option<Vec<Path>>,
    /// The endpoint that produced the credentials (`dc2:88`).
    #[serde(default)]
    pub endpoint: Option<String>,
    /// Whether NTLM was used (any NTLM byte sent).
    #[serde(default)]
    pub ntlm: Option<bool>,
    /// The mechanism the application server accepted (`kerberos`, `ntlm`).
    #[serde(default)]
    pub mechanism: Option<String>,
    /// The kind of failure (`ntlm-denied`, `downgrade`, `unreachable`, ...).
    #[serde(default)]
    pub error: Option<String>,
    /// Audit events each one carries, by event id (`{ "8001" = 1 }`):
    /// exactly this many per logon.
    #[serde(default)]
    pub audit: std::collections::BTreeMap<String, u64>,
}
