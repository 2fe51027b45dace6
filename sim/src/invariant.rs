//! Invariants: properties checked while a scenario runs.
//!
//! * **Safety** ("always") properties look at every captured message, every
//!   event and every finished logon as they happen: no secret on the wire,
//!   an audit record for every authentication, the relay never forwards to
//!   a realm it was not given.
//! * **Liveness** ("eventually") properties are checked at the end, after
//!   faults heal: no logon hangs (the runner's own check), and the
//!   scenario's per-label expectations.
//! * **Sometimes** properties are coverage: counters an invariant reports
//!   (`path:kkdcp`, `firewall:drop`) that a seed sweep aggregates, so CI can
//!   show a fallback tier really was exercised.
//!
//! Parties add their own by implementing [`Invariant`] and listing it in
//! [`registry`]; every hook has a default, so an invariant implements only
//! what it looks at.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use serde::Serialize;

use crate::canary::{CanaryScanner, SecretSet};
use crate::results::LogonRecord;
use crate::scenario::{Outcome, Role, Scenario};
use crate::trace::{EventRecord, Fate, WireRecord};

/// A broken property.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// The invariant's name, used as the violation kind (`canary`, ...).
    pub kind: String,
    /// What happened, for people.
    pub message: String,
    /// Sim time.
    #[serde(serialize_with = "crate::logon::ser_micros")]
    pub at: Duration,
}

/// A property checked during a run.
pub trait Invariant {
    /// Name, and the violation kind of its findings.
    fn name(&self) -> &'static str;
    /// Every captured message (wire and TLS-plaintext layers).
    fn on_wire(&mut self, _rec: &WireRecord) -> Vec<Finding> {
        Vec::new()
    }
    /// Every event (timeline actions, host starts, relay audit lines...).
    fn on_event(&mut self, _ev: &EventRecord) -> Vec<Finding> {
        Vec::new()
    }
    /// Every finished logon.
    fn on_logon(&mut self, _logon: &LogonRecord) -> Vec<Finding> {
        Vec::new()
    }
    /// After the run.
    fn finish(&mut self, _at: Duration) -> Vec<Finding> {
        Vec::new()
    }
    /// Coverage counters (`sometimes` properties).
    fn coverage(&self) -> Vec<(String, u64)> {
        Vec::new()
    }
}

/// The invariants every run checks.
pub fn registry(scenario: &Scenario, secrets: &SecretSet) -> Vec<Box<dyn Invariant>> {
    vec![
        Box::new(NoSecretOnTheWire::new(secrets)),
        Box::new(AuditPerLogon),
        Box::new(RelayDeclaredRealms::new(scenario)),
        Box::new(crate::negotiator_checks::NoNtlmUnderDeny::new(scenario)),
        Box::new(crate::negotiator_checks::NegotiatorExpectations::new(
            scenario,
        )),
        Box::new(crate::localkdc_checks::LocalKdcLimits::default()),
        Box::new(crate::localkdc_checks::ReplayRefused::default()),
        Box::new(crate::abuse_checks::RelayUpstream::new(scenario)),
        Box::new(crate::abuse_checks::AbuseCounters::default()),
        Box::new(Coverage::default()),
    ]
}

/// No password, NT hash or long-term key on any hop, in any layer.
#[derive(Debug)]
pub struct NoSecretOnTheWire {
    scanner: CanaryScanner,
}

impl NoSecretOnTheWire {
    /// Watches for `secrets`.
    pub fn new(secrets: &SecretSet) -> Self {
        Self {
            scanner: CanaryScanner::new(secrets),
        }
    }
}

impl Invariant for NoSecretOnTheWire {
    fn name(&self) -> &'static str {
        "canary"
    }

    fn on_wire(&mut self, rec: &WireRecord) -> Vec<Finding> {
        self.scanner
            .scan(rec)
            .into_iter()
            .map(|h| Finding {
                kind: "canary".into(),
                message: h.to_string(),
                at: h.at,
            })
            .collect()
    }
}

/// Every logon leaves an audit trail: one event per attempt and a decision
/// (DESIGN §4: "an audit event for every authentication").
#[derive(Debug, Default)]
pub struct AuditPerLogon;

impl Invariant for AuditPerLogon {
    fn name(&self) -> &'static str {
        "audit"
    }

    fn on_logon(&mut self, l: &LogonRecord) -> Vec<Finding> {
        let Some(report) = &l.report else {
            return Vec::new();
        };
        // The agent's own failures to start (no credentials) never reached
        // the negotiator: nothing was attempted, nothing to audit.
        if report.error_kind.as_deref() == Some("setup") {
            return Vec::new();
        }
        let decisions = report.count(kerbside_client::audit::ids::DECISION);
        let attempts = report.count(kerbside_client::audit::ids::ATTEMPT);
        if decisions != 1 || attempts != report.attempts.len() {
            return vec![Finding {
                kind: "audit".into(),
                message: format!(
                    "logon {} has {decisions} decision and {attempts} attempt audit events for {} attempts",
                    l.id,
                    report.attempts.len()
                ),
                at: l.finished_at.unwrap_or_default(),
            }];
        }
        Vec::new()
    }
}

/// A relay forwards only for the realms it was configured with
/// (CVE-2025-59088: never discover an undeclared realm's KDC).
#[derive(Debug)]
pub struct RelayDeclaredRealms {
    declared: BTreeMap<String, BTreeSet<String>>,
}

impl RelayDeclaredRealms {
    /// Reads each relay's declared realms from the scenario.
    pub fn new(s: &Scenario) -> Self {
        let declared = s
            .hosts
            .iter()
            .filter(|h| h.role == Role::Relay)
            .map(|h| {
                let realms = h
                    .relay
                    .as_ref()
                    .map(|r| r.realms.clone())
                    .unwrap_or_default();
                let realms = if realms.is_empty() {
                    s.realms.iter().map(|r| r.name.clone()).collect()
                } else {
                    realms
                };
                (
                    h.name.clone(),
                    realms.into_iter().map(|r| r.to_ascii_uppercase()).collect(),
                )
            })
            .collect();
        Self { declared }
    }
}

impl Invariant for RelayDeclaredRealms {
    fn name(&self) -> &'static str {
        "relay-realm"
    }

    fn on_event(&mut self, ev: &EventRecord) -> Vec<Finding> {
        if ev.kind != "relay-audit" {
            return Vec::new();
        }
        // Detail: `<relay host> <audit JSON line>`.
        let Some((host, json)) = ev.detail.split_once(' ') else {
            return Vec::new();
        };
        let Ok(v) = serde_json::from_str::<serde_json::Value>(json) else {
            return Vec::new();
        };
        if v.get("outcome").and_then(|o| o.as_str()) != Some("relayed") {
            return Vec::new();
        }
        let realm = v
            .get("realm")
            .and_then(|r| r.as_str())
            .unwrap_or("")
            .to_ascii_uppercase();
        match self.declared.get(host) {
            Some(set) if set.contains(&realm) => Vec::new(),
            _ => vec![Finding {
                kind: "relay-realm".into(),
                message: format!("relay {host} forwarded a request for undeclared realm `{realm}`"),
                at: ev.at,
            }],
        }
    }
}

/// Counters for `sometimes` properties: paths taken, outcomes, firewall
/// verdicts and faults applied.
#[derive(Debug, Default)]
pub struct Coverage {
    counts: BTreeMap<String, u64>,
}

impl Coverage {
    fn bump(&mut self, key: String) {
        *self.counts.entry(key).or_default() += 1;
    }
}

impl Invariant for Coverage {
    fn name(&self) -> &'static str {
        "coverage"
    }

    fn on_wire(&mut self, rec: &WireRecord) -> Vec<Finding> {
        match &rec.fate {
            Fate::Dropped { .. } => self.bump("firewall:drop".into()),
            Fate::Rejected { .. } => self.bump("firewall:reject".into()),
            Fate::Lost => self.bump("net:loss".into()),
            Fate::Sent => {}
        }
        Vec::new()
    }

    fn on_event(&mut self, ev: &EventRecord) -> Vec<Finding> {
        if ev.kind == "kdc" {
            self.bump("kdc:requests".into());
        }
        if ev.kind == "timeline" {
            let action = ev.detail.split_whitespace().next().unwrap_or("");
            if !action.starts_with("logon") {
                self.bump(format!("fault:{action}"));
            }
        }
        Vec::new()
    }

    fn on_logon(&mut self, l: &LogonRecord) -> Vec<Finding> {
        if let Some(r) = &l.report {
            self.bump(format!("path:{}", r.path));
            if r.outcome == Outcome::Failure {
                self.bump("logon:failure".into());
            }
            for a in &r.attempts {
                self.bump(format!("attempt:{}:{}", a.stage, a.result.word()));
            }
        }
        Vec::new()
    }

    fn coverage(&self) -> Vec<(String, u64)> {
        self.counts.iter().map(|(k, v)| (k.clone(), *v)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::logon::tests::report;
    use crate::logon::{AttemptResult, LogonReport};
    use crate::results::LogonStatus;
    use crate::scenario::{Path, load_str};

    fn ev(kind: &str, detail: &str) -> EventRecord {
        EventRecord {
            at: Duration::from_millis(3),
            scenario_at: Duration::ZERO,
            kind: kind.into(),
            detail: detail.into(),
        }
    }

    #[test]
    fn relay_forwarding_for_an_undeclared_realm_is_a_violation() {
        let s = load_str(
            r#"
name = "r"
description = "d"
duration = "1m"
[[realm]]
name = "CORP.EXAMPLE"
kdcs = ["dc1"]
[[realm]]
name = "LAB.TEST"
kdcs = ["dc2"]
[[host]]
name = "dc1"
role = "kdc"
[[host]]
name = "dc2"
role = "kdc"
[[host]]
name = "relay"
role = "relay"
relay = { realms = ["CORP.EXAMPLE"] }
"#,
            "r.toml",
        )
        .unwrap();
        let mut inv = RelayDeclaredRealms::new(&s);
        assert!(
            inv.on_event(&ev(
                "relay-audit",
                r#"relay {"realm":"corp.example","outcome":"relayed"}"#
            ))
            .is_empty()
        );
        assert!(
            inv.on_event(&ev(
                "relay-audit",
                r#"relay {"realm":"LAB.TEST","outcome":"rejected"}"#
            ))
            .is_empty()
        );
        let f = inv.on_event(&ev(
            "relay-audit",
            r#"relay {"realm":"LAB.TEST","outcome":"relayed"}"#,
        ));
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].kind, "relay-realm");
        assert!(inv.on_event(&ev("kdc", "anything")).is_empty());
    }

    fn logon(report: LogonReport) -> LogonRecord {
        LogonRecord {
            id: 1,
            label: None,
            client: "laptop".into(),
            user: "alice@CORP.EXAMPLE".into(),
            service: None,
            scheduled_at: Duration::ZERO,
            started_at: Duration::ZERO,
            finished_at: Some(Duration::from_millis(5)),
            latency: Some(Duration::from_millis(5)),
            status: LogonStatus::Done,
            report: Some(report),
        }
    }

    #[test]
    fn every_logon_needs_its_audit_trail() {
        let good = report(vec![(Path::NativeTcp, AttemptResult::Ok)], Outcome::Success);
        assert!(AuditPerLogon.on_logon(&logon(good.clone())).is_empty());
        let mut bad = good.clone();
        bad.audit
            .retain(|a| a.id != kerbside_client::audit::ids::DECISION);
        assert_eq!(AuditPerLogon.on_logon(&logon(bad))[0].kind, "audit");
        let mut missing_attempt = good;
        missing_attempt.audit.remove(0);
        assert_eq!(
            AuditPerLogon.on_logon(&logon(missing_attempt))[0].kind,
            "audit"
        );
    }

    #[test]
    fn coverage_counts_paths_and_faults() {
        let mut c = Coverage::default();
        c.on_event(&ev("timeline", "crash relay"));
        c.on_event(&ev("timeline", "logon_many x"));
        c.on_event(&ev("kdc", "dc1 ..."));
        c.on_logon(&logon(report(
            vec![(Path::Kkdcp, AttemptResult::Ok)],
            Outcome::Success,
        )));
        let cov: BTreeMap<String, u64> = c.coverage().into_iter().collect();
        assert_eq!(cov.get("fault:crash"), Some(&1));
        assert_eq!(cov.get("kdc:requests"), Some(&1));
        assert_eq!(cov.get("path:kkdcp"), Some(&1));
        assert!(!cov.contains_key("fault:logon_many"));
    }
}
