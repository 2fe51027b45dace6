//! The simulated firewall: ordered rules over (source host, destination host,
//! protocol, service port) with the actions `allow`, `drop` and `reject`.
//!
//! turmoil has no per-port filtering (reference crates §4.7), so the rules
//! are enforced in the `Net` seam ([`crate::net`]): at TCP connect time, for
//! every UDP datagram, and, when a rule change asks for it, against TCP
//! connections that are already established.
//!
//! Rules describe *flows*, not packets: a flow is "client host opens
//! protocol/port on server host". A reply travelling back from the server
//! belongs to the same flow, so a rule that drops `laptop -> dc1 udp/88`
//! also drops the DC's answers to a datagram that slipped through before the
//! rule was installed, as a stateful firewall that flushed its connection
//! table would.

use std::collections::BTreeSet;
use std::fmt;

use serde::{Deserialize, Serialize};

/// What a rule does with a matching flow.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    /// Let it through.
    Allow,
    /// Silently discard: a TCP connect never completes, a datagram vanishes,
    /// and the caller's own timeout fires.
    Drop,
    /// Refuse at once: a TCP connect fails with `ConnectionRefused` (the RST
    /// of RFC 9293 §3.10.7.1); a UDP datagram is discarded and the sender's
    /// next receive fails with `ConnectionRefused` (ICMP port unreachable,
    /// which RFC 1122 §4.1.3.3 requires UDP to pass to the application).
    Reject,
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Action::Allow => "allow",
            Action::Drop => "drop",
            Action::Reject => "reject",
        })
    }
}

/// Transport protocol of a flow.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Proto {
    /// TCP.
    Tcp,
    /// UDP.
    Udp,
}

impl fmt::Display for Proto {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Proto::Tcp => "tcp",
            Proto::Udp => "udp",
        })
    }
}

/// Which protocols a rule covers.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum ProtoMatch {
    /// TCP and UDP.
    #[default]
    Any,
    /// TCP only.
    Tcp,
    /// UDP only.
    Udp,
}

impl ProtoMatch {
    fn matches(self, p: Proto) -> bool {
        matches!(
            (self, p),
            (ProtoMatch::Any, _) | (ProtoMatch::Tcp, Proto::Tcp) | (ProtoMatch::Udp, Proto::Udp)
        )
    }
}

/// Which hosts a rule side covers.
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum HostMatch {
    /// Every host.
    #[default]
    Any,
    /// Hosts named here, or having one of the roles named as `role:NAME`.
    Set {
        /// Host names.
        names: BTreeSet<String>,
        /// Role names (without the `role:` prefix).
        roles: BTreeSet<String>,
    },
}

impl HostMatch {
    /// Builds a matcher from scenario strings: `*`, a host name, or `role:R`.
    pub fn from_patterns<'a>(patterns: impl IntoIterator<Item = &'a str>) -> Self {
        let mut names = BTreeSet::new();
        let mut roles = BTreeSet::new();
        for p in patterns {
            if p == "*" {
                return HostMatch::Any;
            }
            match p.strip_prefix("role:") {
                Some(r) => roles.insert(r.to_owned()),
                None => names.insert(p.to_owned()),
            };
        }
        HostMatch::Set { names, roles }
    }

    fn matches(&self, host: &FlowHost<'_>) -> bool {
        match self {
            HostMatch::Any => true,
            HostMatch::Set { names, roles } => {
                names.contains(host.name) || roles.contains(host.role)
            }
        }
    }
}

impl fmt::Display for HostMatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HostMatch::Any => f.write_str("*"),
            HostMatch::Set { names, roles } => {
                let all: Vec<String> = names
                    .iter()
                    .cloned()
                    .chain(roles.iter().map(|r| format!("role:{r}")))
                    .collect();
                f.write_str(&all.join(","))
            }
        }
    }
}

/// Which service ports a rule covers.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum PortMatch {
    /// Every port.
    #[default]
    Any,
    /// An inclusive range (a single port is `lo == hi`).
    Range(u16, u16),
}

impl PortMatch {
    fn matches(self, port: u16) -> bool {
        match self {
            PortMatch::Any => true,
            PortMatch::Range(lo, hi) => (lo..=hi).contains(&port),
        }
    }
}

impl fmt::Display for PortMatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PortMatch::Any => f.write_str("*"),
            PortMatch::Range(lo, hi) if lo == hi => write!(f, "{lo}"),
            PortMatch::Range(lo, hi) => write!(f, "{lo}-{hi}"),
        }
    }
}

/// One firewall rule.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Rule {
    /// Name used to replace or clear the rule later on the timeline.
    pub id: Option<String>,
    /// Initiating side of the flow.
    pub from: HostMatch,
    /// Serving side of the flow.
    pub to: HostMatch,
    /// Protocols covered.
    pub proto: ProtoMatch,
    /// Service ports covered.
    pub port: PortMatch,
    /// What happens to matching flows.
    pub action: Action,
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let proto = match self.proto {
            ProtoMatch::Any => "any",
            ProtoMatch::Tcp => "tcp",
            ProtoMatch::Udp => "udp",
        };
        if let Some(id) = &self.id {
            write!(f, "[{id}] ")?;
        }
        write!(
            f,
            "{} {} -> {} {proto}/{}",
            self.action, self.from, self.to, self.port
        )
    }
}

/// A host as the firewall sees it.
#[derive(Clone, Copy, Debug)]
pub struct FlowHost<'a> {
    /// Host name.
    pub name: &'a str,
    /// Role name (`client`, `kdc`, ...).
    pub role: &'a str,
}

/// A flow to judge: `client` opens `proto/port` on `server`.
#[derive(Clone, Copy, Debug)]
pub struct Flow<'a> {
    /// The initiating host.
    pub client: FlowHost<'a>,
    /// The serving host.
    pub server: FlowHost<'a>,
    /// Protocol.
    pub proto: Proto,
    /// The server's port.
    pub port: u16,
}

/// The verdict for a flow, with the rule that decided it (if any).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verdict {
    /// What to do.
    pub action: Action,
    /// The deciding rule, described; `None` means the default policy (allow).
    pub rule: Option<String>,
}

/// An ordered rule list: the first matching rule decides; no match allows.
#[derive(Clone, Debug, Default)]
pub struct Firewall {
    rules: Vec<Rule>,
}

impl Firewall {
    /// A firewall with no rules (everything allowed).
    pub fn new() -> Self {
        Self::default()
    }

    /// Judges a flow.
    pub fn evaluate(&self, flow: &Flow<'_>) -> Verdict {
        for rule in &self.rules {
            if rule.proto.matches(flow.proto)
                && rule.port.matches(flow.port)
                && rule.from.matches(&flow.client)
                && rule.to.matches(&flow.server)
            {
                return Verdict {
                    action: rule.action,
                    rule: Some(rule.to_string()),
                };
            }
        }
        Verdict {
            action: Action::Allow,
            rule: None,
        }
    }

    /// Installs a rule: a rule with the same `id` is replaced in place,
    /// otherwise the rule is appended (lowest priority).
    pub fn set(&mut self, rule: Rule) {
        if let Some(id) = &rule.id
            && let Some(existing) = self.rules.iter_mut().find(|r| r.id.as_ref() == Some(id))
        {
            *existing = rule;
            return;
        }
        self.rules.push(rule);
    }

    /// Removes the rule with this id (returns whether one existed), or every
    /// rule when `id` is `None`.
    pub fn clear(&mut self, id: Option<&str>) -> bool {
        match id {
            None => {
                let had = !self.rules.is_empty();
                self.rules.clear();
                had
            }
            Some(id) => {
                let before = self.rules.len();
                self.rules.retain(|r| r.id.as_deref() != Some(id));
                before != self.rules.len()
            }
        }
    }

    /// The installed rules in priority order.
    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn host<'a>(name: &'a str, role: &'a str) -> FlowHost<'a> {
        FlowHost { name, role }
    }

    fn flow<'a>(client: &'a str, server: &'a str, proto: Proto, port: u16) -> Flow<'a> {
        Flow {
            client: host(client, "client"),
            server: host(server, "kdc"),
            proto,
            port,
        }
    }

    fn rule(
        id: &str,
        from: &[&str],
        to: &[&str],
        proto: ProtoMatch,
        port: PortMatch,
        action: Action,
    ) -> Rule {
        Rule {
            id: Some(id.to_owned()),
            from: HostMatch::from_patterns(from.iter().copied()),
            to: HostMatch::from_patterns(to.iter().copied()),
            proto,
            port,
            action,
        }
    }

    #[test]
    fn default_allows() {
        let fw = Firewall::new();
        assert_eq!(
            fw.evaluate(&flow("laptop", "dc1", Proto::Tcp, 88)).action,
            Action::Allow
        );
    }

    #[test]
    fn port_and_protocol_scoping() {
        let mut fw = Firewall::new();
        fw.set(rule(
            "vpn",
            &["laptop"],
            &["*"],
            ProtoMatch::Any,
            PortMatch::Range(88, 88),
            Action::Drop,
        ));
        assert_eq!(
            fw.evaluate(&flow("laptop", "dc1", Proto::Tcp, 88)).action,
            Action::Drop
        );
        assert_eq!(
            fw.evaluate(&flow("laptop", "dc1", Proto::Udp, 88)).action,
            Action::Drop
        );
        assert_eq!(
            fw.evaluate(&flow("laptop", "relay", Proto::Tcp, 443))
                .action,
            Action::Allow
        );
        // Another client is not covered.
        assert_eq!(
            fw.evaluate(&flow("desk", "dc1", Proto::Tcp, 88)).action,
            Action::Allow
        );

        let mut fw = Firewall::new();
        fw.set(rule(
            "udp",
            &["*"],
            &["dc1"],
            ProtoMatch::Udp,
            PortMatch::Any,
            Action::Reject,
        ));
        assert_eq!(
            fw.evaluate(&flow("laptop", "dc1", Proto::Udp, 88)).action,
            Action::Reject
        );
        assert_eq!(
            fw.evaluate(&flow("laptop", "dc1", Proto::Tcp, 88)).action,
            Action::Allow
        );
    }

    #[test]
    fn first_match_wins_and_allow_can_punch_holes() {
        let mut fw = Firewall::new();
        fw.set(rule(
            "hole",
            &["laptop"],
            &["relay"],
            ProtoMatch::Tcp,
            PortMatch::Range(443, 443),
            Action::Allow,
        ));
        fw.set(rule(
            "all",
            &["laptop"],
            &["*"],
            ProtoMatch::Any,
            PortMatch::Any,
            Action::Reject,
        ));
        assert_eq!(
            fw.evaluate(&flow("laptop", "relay", Proto::Tcp, 443))
                .action,
            Action::Allow
        );
        let v = fw.evaluate(&flow("laptop", "dc1", Proto::Tcp, 88));
        assert_eq!(v.action, Action::Reject);
        assert_eq!(v.rule.as_deref(), Some("[all] reject laptop -> * any/*"));
    }

    #[test]
    fn roles_and_ranges() {
        let mut fw = Firewall::new();
        fw.set(rule(
            "r",
            &["role:client"],
            &["*"],
            ProtoMatch::Tcp,
            PortMatch::Range(80, 90),
            Action::Drop,
        ));
        assert_eq!(
            fw.evaluate(&flow("anyone", "dc1", Proto::Tcp, 88)).action,
            Action::Drop
        );
        assert_eq!(
            fw.evaluate(&flow("anyone", "dc1", Proto::Tcp, 91)).action,
            Action::Allow
        );
        let f = Flow {
            client: host("dc2", "kdc"),
            server: host("dc1", "kdc"),
            proto: Proto::Tcp,
            port: 88,
        };
        assert_eq!(fw.evaluate(&f).action, Action::Allow);
    }

    #[test]
    fn set_replaces_by_id_and_clear_removes() {
        let mut fw = Firewall::new();
        fw.set(rule(
            "x",
            &["*"],
            &["*"],
            ProtoMatch::Any,
            PortMatch::Any,
            Action::Drop,
        ));
        fw.set(rule(
            "x",
            &["*"],
            &["*"],
            ProtoMatch::Any,
            PortMatch::Any,
            Action::Reject,
        ));
        assert_eq!(fw.rules().len(), 1);
        assert_eq!(
            fw.evaluate(&flow("a", "b", Proto::Tcp, 1)).action,
            Action::Reject
        );
        assert!(!fw.clear(Some("nope")));
        assert!(fw.clear(Some("x")));
        assert_eq!(
            fw.evaluate(&flow("a", "b", Proto::Tcp, 1)).action,
            Action::Allow
        );
        fw.set(rule(
            "y",
            &["*"],
            &["*"],
            ProtoMatch::Any,
            PortMatch::Any,
            Action::Drop,
        ));
        assert!(fw.clear(None));
        assert!(fw.rules().is_empty());
    }
}
