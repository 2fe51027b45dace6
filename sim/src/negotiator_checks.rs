//! Invariants and expectations about the negotiator (issue 7).
//!
//! * [`NoNtlmUnderDeny`] (safety): a client whose policy is "Restrict
//!   NTLM: Deny all" never sends an NTLMSSP message to a server that is not
//!   on its exception list. Checked on the bytes of every hop, wire and
//!   TLS-plaintext layers, not on what the client says it did.
//! * [`NegotiatorExpectations`]: the scenario's expectations on the
//!   negotiator's record: fallback order, endpoint, NTLM used, mechanism,
//!   failure kind and audit event counts per logon; audit event totals and
//!   attempt-outcome caps over the run.

use std::collections::BTreeMap;
use std::time::Duration;

use kerbside_client::negotiator::{NtlmMode, NtlmPolicy};

use crate::invariant::{Finding, Invariant};
use crate::results::LogonRecord;
use crate::scenario::{LogonExpectation, Role, Scenario};
use crate::trace::WireRecord;

/// NTLMSSP's signature: the first 8 bytes of every NTLM message (MS-NLMP
/// §2.2.1), raw or inside SPNEGO.
const NTLMSSP: &[u8] = b"NTLMSSP\0";

/// No NTLM byte leaves a client whose policy denies it.
#[derive(Debug)]
pub struct NoNtlmUnderDeny {
    /// Clients under `deny`, with their exception lists.
    deny: BTreeMap<String, NtlmPolicy>,
    /// Every host's names (name and aliases), lower-case.
    names: BTreeMap<String, Vec<String>>,
}

impl NoNtlmUnderDeny {
    /// Reads each client's effective NTLM policy from the scenario.
    pub fn new(s: &Scenario) -> Self {
        let mut deny = BTreeMap::new();
        for h in s.hosts.iter().filter(|h| h.role == Role::Client) {
            let overrides = h.client.as_ref().and_then(|c| c.policy.as_ref());
            // The scenario validated; an unparsable policy has no client.
            if let Ok(p) = s.policy.merged(overrides)
                && p.ntlm.mode == NtlmMode::Deny
            {
                deny.insert(h.name.to_ascii_lowercase(), p.ntlm);
            }
        }
        let names = s
            .hosts
            .iter()
            .map(|h| {
                let mut n = vec![h.name.to_ascii_lowercase()];
                n.extend(h.aliases.iter().map(|a| a.to_ascii_lowercase()));
                (h.name.to_ascii_lowercase(), n)
            })
            .collect();
        Self { deny, names }
    }
}

impl Invariant for NoNtlmUnderDeny {
    fn name(&self) -> &'static str {
        "ntlm-under-deny"
    }

    fn on_wire(&mut self, rec: &WireRecord) -> Vec<Finding> {
        let src = rec.src.host.to_ascii_lowercase();
        let Some(policy) = self.deny.get(&src) else {
            return Vec::new();
        };
        let payload = rec.packet.payload();
        if !payload.windows(NTLMSSP.len()).any(|w| w == NTLMSSP) {
            return Vec::new();
        }
        let dst = rec.dst.host.to_ascii_lowercase();
        let dst_names = self
            .names
            .get(&dst)
            .cloned()
            .unwrap_or_else(|| vec![dst.clone()]);
        if policy
            .verdict(dst_names.iter().map(String::as_str))
            .permits()
        {
            return Vec::new();
        }
        vec![Finding {
            kind: "ntlm-under-deny".into(),
            message: format!(
                "{} sent an NTLM message to {} ({}) although its policy denies NTLM",
                rec.src.host, rec.dst.host, rec.dst.addr
            ),
            at: rec.at,
        }]
    }
}

/// The scenario's expectations on the negotiator's record.
#[derive(Debug)]
pub struct NegotiatorExpectations {
    by_label: BTreeMap<String, Vec<LogonExpectation>>,
    totals: BTreeMap<String, u64>,
    attempts_max: BTreeMap<String, u64>,
    seen_events: BTreeMap<u32, u64>,
    seen_attempts: BTreeMap<String, u64>,
}

impl NegotiatorExpectations {
    /// The expectations of `s`.
    pub fn new(s: &Scenario) -> Self {
        let mut by_label: BTreeMap<String, Vec<LogonExpectation>> = BTreeMap::new();
        for e in &s.expect.logons {
            by_label.entry(e.label.clone()).or_default().push(e.clone());
        }
        Self {
            by_label,
            totals: s.expect.audit.clone(),
            attempts_max: s.expect.attempts_max.clone(),
            seen_events: BTreeMap::new(),
            seen_attempts: BTreeMap::new(),
        }
    }
}

impl Invariant for NegotiatorExpectations {
    fn name(&self) -> &'static str {
        "expectation"
    }

    fn on_logon(&mut self, l: &LogonRecord) -> Vec<Finding> {
        let Some(r) = &l.report else {
            return Vec::new();
        };
        for e in &r.audit {
            *self.seen_events.entry(e.id).or_default() += 1;
        }
        for a in &r.attempts {
            *self
                .seen_attempts
                .entry(a.result.word().to_owned())
                .or_default() += 1;
        }
        let Some(label) = &l.label else {
            return Vec::new();
        };
        let Some(exps) = self.by_label.get(label) else {
            return Vec::new();
        };
        let at = l.finished_at.unwrap_or_default();
        let mut out = Vec::new();
        let mut fail = |msg: String| {
            out.push(Finding {
                kind: "expectation".into(),
                message: format!("label `{label}`: logon {} {msg}", l.id),
                at,
            });
        };
        for e in exps {
            if let Some(order) = &e.order {
                let got = r.order();
                if &got != order {
                    let names = |v: &[crate::scenario::Path]| {
                        v.iter()
                            .map(|p| p.as_str())
                            .collect::<Vec<_>>()
                            .join(" -> ")
                    };
                    fail(format!("tried {}, expected {}", names(&got), names(order)));
                }
            }
            if let Some(want) = &e.endpoint
                && r.endpoint.as_deref() != Some(want.as_str())
            {
                fail(format!(
                    "got its credentials from {}, expected {want}",
                    r.endpoint.as_deref().unwrap_or("nowhere")
                ));
            }
            if let Some(want) = e.ntlm
                && r.ntlm_used != want
            {
                fail(if r.ntlm_used {
                    "used NTLM, expected not to".to_owned()
                } else {
                    "did not use NTLM, expected to".to_owned()
                });
            }
            if let Some(want) = &e.mechanism
                && r.mechanism.as_deref() != Some(want.as_str())
            {
                fail(format!(
                    "authenticated with {}, expected {want}",
                    r.mechanism.as_deref().unwrap_or("nothing")
                ));
            }
            if let Some(want) = &e.error
                && r.error_kind.as_deref() != Some(want.as_str())
            {
                fail(format!(
                    "failed with {}, expected {want}{}",
                    r.error_kind.as_deref().unwrap_or("no error"),
                    r.error
                        .as_deref()
                        .map(|e| format!(" ({e})"))
                        .unwrap_or_default()
                ));
            }
            for (id, want) in &e.audit {
                let Ok(n) = id.parse::<u32>() else { continue };
                let got = r.count(n) as u64;
                if got != *want {
                    fail(format!("has {got} audit event(s) {id}, expected {want}"));
                }
            }
        }
        out
    }

    fn finish(&mut self, at: Duration) -> Vec<Finding> {
        let mut out = Vec::new();
        for (id, want) in &self.totals {
            let Ok(n) = id.parse::<u32>() else { continue };
            let got = self.seen_events.get(&n).copied().unwrap_or(0);
            if got != *want {
                out.push(Finding {
                    kind: "expectation".into(),
                    message: format!("the run has {got} audit event(s) {id}, expected {want}"),
                    at,
                });
            }
        }
        for (outcome, max) in &self.attempts_max {
            let got = self.seen_attempts.get(outcome).copied().unwrap_or(0);
            if got > *max {
                out.push(Finding {
                    kind: "expectation".into(),
                    message: format!(
                        "the run has {got} `{outcome}` attempts, at most {max} expected"
                    ),
                    at,
                });
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use std::net::SocketAddr;

    use bytes::Bytes;

    use super::*;
    use crate::scenario::load_str;
    use crate::trace::{Endpoint, Fate, Layer, Packet};

    fn scenario() -> Scenario {
        load_str(
            r#"
name = "n"
description = "d"
duration = "1m"
[[realm]]
name = "CORP.EXAMPLE"
kdcs = ["dc1"]
[[host]]
name = "dc1"
role = "kdc"
[[host]]
name = "printer"
role = "printer"
aliases = ["printer.corp.example"]
[[host]]
name = "files"
role = "app"
[[host]]
name = "laptop-deny"
role = "client"
[host.client.policy.ntlm]
mode = "deny"
exceptions = ["printer.corp.example"]
[[host]]
name = "laptop-audit"
role = "client"
[policy.ntlm]
mode = "audit"
"#,
            "n.toml",
        )
        .unwrap()
    }

    fn rec(src: &str, dst: &str, payload: &[u8]) -> WireRecord {
        let addr: SocketAddr = "10.0.0.1:4444".parse().unwrap();
        WireRecord {
            at: Duration::from_millis(7),
            conn: Some(1),
            src: Endpoint {
                host: src.into(),
                addr,
            },
            dst: Endpoint {
                host: dst.into(),
                addr,
            },
            layer: Layer::Wire,
            packet: Packet::TcpData(Bytes::copy_from_slice(payload)),
            fate: Fate::Sent,
        }
    }

    #[test]
    fn ntlm_bytes_from_a_denying_client_are_a_violation_unless_excepted() {
        let mut inv = NoNtlmUnderDeny::new(&scenario());
        let mut frame = b"\x02\x00\x00\x00\x28".to_vec();
        frame.extend_from_slice(b"NTLMSSP\0\x01\0\0\0");
        let f = inv.on_wire(&rec("laptop-deny", "files", &frame));
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].kind, "ntlm-under-deny");
        assert!(
            f[0].message
                .contains("laptop-deny sent an NTLM message to files")
        );
        // The printer is on the exception list (by its alias).
        assert!(
            inv.on_wire(&rec("laptop-deny", "printer", &frame))
                .is_empty()
        );
        // Other clients, other bytes: nothing.
        assert!(
            inv.on_wire(&rec("laptop-audit", "files", &frame))
                .is_empty()
        );
        assert!(
            inv.on_wire(&rec("laptop-deny", "files", b"Kerberos only"))
                .is_empty()
        );
    }
}
