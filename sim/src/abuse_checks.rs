//! Invariants and counters for the abuse scenarios (issue 11).
//!
//! * [`RelayUpstream`] (safety): a relay opens connections and sends
//!   datagrams only to the KDCs of the realms it was given. Whatever a
//!   client asks for (an undeclared realm, an internal host name, an
//!   address), nothing else is contacted: the relay is not an open proxy
//!   (MS-KKDCP §3.2.5.1 leaves realm-to-KDC mapping to configuration;
//!   CVE-2025-59088 was kdcproxy resolving undeclared realms through DNS).
//!   Checked on the bytes of the wire, not on the relay's own audit lines.
//! * [`AbuseCounters`]: coverage counters for `sometimes` properties:
//!   relay outcomes (`relay:requests`, `relay:relayed`, `relay:rejected`,
//!   ...) from the relay's audit lines, and what the hostile client's
//!   messages got back (`hostile:messages`, `hostile:reply`,
//!   `hostile:closed`, `hostile:refused`, ...), and the load balancer's
//!   decisions (`balancer:chose:<backend>`, `balancer:down:<backend>`,
//!   `balancer:up:<backend>`).

use std::collections::{BTreeMap, BTreeSet};

use crate::invariant::{Finding, Invariant};
use crate::scenario::{Role, Scenario};
use crate::trace::{EventRecord, Fate, Packet, WireRecord};

/// A relay talks only to its declared realms' KDCs.
#[derive(Debug)]
pub struct RelayUpstream {
    /// Relay host (lower-case) -> the KDC hosts it may contact.
    allowed: BTreeMap<String, BTreeSet<String>>,
}

impl RelayUpstream {
    /// Reads each relay's declared realms and their KDCs from the scenario.
    pub fn new(s: &Scenario) -> Self {
        let mut allowed = BTreeMap::new();
        for h in s.hosts.iter().filter(|h| h.role == Role::Relay) {
            let declared: Vec<String> = match h.relay.as_ref().map(|r| &r.realms) {
                Some(r) if !r.is_empty() => r.clone(),
                _ => s.realms.iter().map(|r| r.name.clone()).collect(),
            };
            let kdcs: BTreeSet<String> = s
                .realms
                .iter()
                .filter(|r| declared.iter().any(|d| d.eq_ignore_ascii_case(&r.name)))
                .flat_map(|r| r.kdcs.iter().map(|k| k.to_ascii_lowercase()))
                .collect();
            allowed.insert(h.name.to_ascii_lowercase(), kdcs);
        }
        Self { allowed }
    }
}

impl Invariant for RelayUpstream {
    fn name(&self) -> &'static str {
        "relay-upstream"
    }

    fn on_wire(&mut self, rec: &WireRecord) -> Vec<Finding> {
        // Outbound traffic of a relay: connection attempts, and datagrams
        // (a relay serves only TCP, so every datagram it sends is its own).
        if !matches!(rec.packet, Packet::TcpSyn | Packet::Udp(_)) {
            return Vec::new();
        }
        let Some(kdcs) = self.allowed.get(&rec.src.host.to_ascii_lowercase()) else {
            return Vec::new();
        };
        let dst = rec.dst.host.to_ascii_lowercase();
        if kdcs.contains(&dst) {
            return Vec::new();
        }
        let what = match rec.packet {
            Packet::TcpSyn => "connected to",
            _ => "sent a datagram to",
        };
        let fate = match &rec.fate {
            Fate::Sent => String::new(),
            other => format!(" ({other:?})"),
        };
        vec![Finding {
            kind: "relay-upstream".into(),
            message: format!(
                "relay {} {what} {} ({}), which is not a KDC of its declared realms{fate}",
                rec.src.host, rec.dst.host, rec.dst.addr
            ),
            at: rec.at,
        }]
    }
}

/// Counters of relay outcomes and of what the hostile client's messages
/// got back.
#[derive(Debug, Default)]
pub struct AbuseCounters {
    counts: BTreeMap<String, u64>,
}

impl AbuseCounters {
    fn bump(&mut self, key: String) {
        *self.counts.entry(key).or_default() += 1;
    }
}

impl Invariant for AbuseCounters {
    fn name(&self) -> &'static str {
        "abuse-counters"
    }

    fn on_event(&mut self, ev: &EventRecord) -> Vec<Finding> {
        match ev.kind.as_str() {
            "relay-audit" => {
                self.bump("relay:requests".into());
                // Detail: `<relay host> <audit JSON line>`.
                let outcome = ev
                    .detail
                    .split_once(' ')
                    .and_then(|(_, json)| serde_json::from_str::<serde_json::Value>(json).ok())
                    .and_then(|v| v.get("outcome").and_then(|o| o.as_str()).map(str::to_owned));
                if let Some(o) = outcome {
                    self.bump(format!("relay:{o}"));
                }
            }
            "balancer" => {
                // Detail: `<host> <what> <backend> ...`.
                let mut words = ev.detail.split_whitespace().skip(1);
                if let (Some(what), Some(backend)) = (words.next(), words.next()) {
                    self.bump(format!("balancer:{what}:{backend}"));
                }
            }
            "hostile" => {
                self.bump("hostile:messages".into());
                // Detail: `<host> -> <target> <what>: <result>`.
                let word = ev
                    .detail
                    .rsplit_once(": ")
                    .and_then(|(_, r)| r.split_whitespace().next())
                    .unwrap_or("unknown")
                    .to_ascii_lowercase();
                self.bump(format!("hostile:{word}"));
            }
            _ => {}
        }
        Vec::new()
    }

    fn coverage(&self) -> Vec<(String, u64)> {
        self.counts.iter().map(|(k, v)| (k.clone(), *v)).collect()
    }
}

#[cfg(test)]
mod tests {
    use std::net::SocketAddr;
    use std::time::Duration;

    use super::*;
    use crate::scenario::load_str;
    use crate::trace::{Endpoint, Layer};

    fn scenario() -> Scenario {
        load_str(
            r#"
name = "r"
description = "d"
duration = "1m"
[[realm]]
name = "CORP.EXAMPLE"
kdcs = ["dc1"]
[[realm]]
name = "LAB.TEST"
kdcs = ["dclab"]
[[host]]
name = "dc1"
role = "kdc"
[[host]]
name = "dclab"
role = "kdc"
[[host]]
name = "relay"
role = "relay"
relay = { realms = ["CORP.EXAMPLE"] }
"#,
            "r.toml",
        )
        .unwrap()
    }

    fn syn(from: &str, to: &str, packet: Packet) -> WireRecord {
        let addr: SocketAddr = "10.0.0.1:88".parse().unwrap();
        WireRecord {
            at: Duration::ZERO,
            conn: None,
            src: Endpoint {
                host: from.into(),
                addr,
            },
            dst: Endpoint {
                host: to.into(),
                addr,
            },
            layer: Layer::Wire,
            packet,
            fate: Fate::Sent,
        }
    }

    #[test]
    fn a_relay_contacts_only_its_declared_realms_kdcs() {
        let mut inv = RelayUpstream::new(&scenario());
        assert!(inv.on_wire(&syn("relay", "dc1", Packet::TcpSyn)).is_empty());
        assert!(
            inv.on_wire(&syn("relay", "dclab", Packet::TcpData(vec![1].into())))
                .is_empty(),
            "data on an established connection is judged at its SYN"
        );
        let f = inv.on_wire(&syn("relay", "dclab", Packet::TcpSyn));
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].kind, "relay-upstream");
        assert_eq!(
            inv.on_wire(&syn("relay", "10.0.0.99", Packet::Udp(vec![0].into())))
                .len(),
            1
        );
        assert!(
            inv.on_wire(&syn("dc1", "dclab", Packet::TcpSyn)).is_empty(),
            "other hosts are not relays"
        );
    }

    #[test]
    fn counters_read_relay_outcomes_and_hostile_results() {
        let mut c = AbuseCounters::default();
        let ev = |kind: &str, detail: &str| EventRecord {
            at: Duration::ZERO,
            scenario_at: Duration::ZERO,
            kind: kind.into(),
            detail: detail.into(),
        };
        c.on_event(&ev("relay-audit", r#"relay {"outcome":"rejected"}"#));
        c.on_event(&ev("relay-audit", r#"relay {"outcome":"relayed"}"#));
        c.on_event(&ev(
            "hostile",
            "mallory -> dc1 88/udp random datagram (12 bytes): reply 120 bytes",
        ));
        c.on_event(&ev(
            "hostile",
            "mallory -> relay open-proxy target-domain `a: b`: refused (HTTP 400)",
        ));
        let cov: BTreeMap<String, u64> = c.coverage().into_iter().collect();
        assert_eq!(cov.get("relay:requests"), Some(&2));
        assert_eq!(cov.get("relay:rejected"), Some(&1));
        assert_eq!(cov.get("hostile:messages"), Some(&2));
        assert_eq!(cov.get("hostile:reply"), Some(&1));
        assert_eq!(cov.get("hostile:refused"), Some(&1));
    }
}
