//! Issue-8 safety invariants.
//!
//! * `localkdc-limit`: an on-client LocalKDC never issues a ticket beyond
//!   its lifetime cap, for a service it was not approved for, or a
//!   renewable one. Checked on every ticket it issued, opened with its own
//!   keys (the `localkdc-ticket` events of `programs::localkdc`), so a
//!   policy bug cannot hide behind the policy's own audit trail.
//! * `replay-accepted`: a ticket captured on the path and presented again
//!   (to another service, or after its end) is never accepted (the
//!   attacker's `attack ... replay` events).

use crate::invariant::{Finding, Invariant};
use crate::trace::EventRecord;

/// LocalKDC lifetime, allowlist and renewability, per issued ticket.
#[derive(Debug, Default)]
pub struct LocalKdcLimits {
    tickets: u64,
}

impl Invariant for LocalKdcLimits {
    fn name(&self) -> &'static str {
        "localkdc-limit"
    }

    fn on_event(&mut self, ev: &EventRecord) -> Vec<Finding> {
        if ev.kind != "localkdc-ticket" {
            return Vec::new();
        }
        self.tickets += 1;
        let finding = |message: String| Finding {
            kind: "localkdc-limit".into(),
            message,
            at: ev.at,
        };
        let Ok(v) = serde_json::from_str::<serde_json::Value>(&ev.detail) else {
            return vec![finding(format!(
                "unreadable LocalKDC ticket record: {}",
                ev.detail
            ))];
        };
        let host = v["host"].as_str().unwrap_or("?");
        let service = v["service"].as_str().unwrap_or("?");
        if v["opened"] == false {
            return vec![finding(format!(
                "{host}'s LocalKDC issued a ticket for {service} its own keys do not open"
            ))];
        }
        let mut out = Vec::new();
        let life = v["lifetime_secs"].as_i64().unwrap_or(i64::MAX);
        let cap = v["cap_secs"].as_i64().unwrap_or(0);
        if life > cap {
            out.push(finding(format!(
                "{host}'s LocalKDC issued a {life}s ticket for {service} (cap {cap}s)"
            )));
        }
        if v["approved"] != true {
            out.push(finding(format!(
                "{host}'s LocalKDC issued a ticket for {service}, which is not on its allowlist"
            )));
        }
        if v["renewable"] == true {
            out.push(finding(format!(
                "{host}'s LocalKDC issued a renewable ticket for {service}"
            )));
        }
        out
    }

    fn coverage(&self) -> Vec<(String, u64)> {
        vec![("localkdc:tickets".into(), self.tickets)]
    }
}

/// No replayed ticket is ever accepted.
#[derive(Debug, Default)]
pub struct ReplayRefused {
    refused: u64,
}

impl Invariant for ReplayRefused {
    fn name(&self) -> &'static str {
        "replay-accepted"
    }

    fn on_event(&mut self, ev: &EventRecord) -> Vec<Finding> {
        if ev.kind != "attack" || !ev.detail.contains(" replay of ") {
            return Vec::new();
        }
        if ev.detail.contains("): accepted") {
            return vec![Finding {
                kind: "replay-accepted".into(),
                message: format!("a captured ticket was accepted again: {}", ev.detail),
                at: ev.at,
            }];
        }
        self.refused += 1;
        Vec::new()
    }

    fn coverage(&self) -> Vec<(String, u64)> {
        vec![("replay:refused".into(), self.refused)]
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn ev(kind: &str, detail: &str) -> EventRecord {
        EventRecord {
            at: Duration::from_millis(1),
            scenario_at: Duration::ZERO,
            kind: kind.into(),
            detail: detail.into(),
        }
    }

    #[test]
    fn tickets_beyond_the_cap_or_allowlist_are_violations() {
        let mut inv = LocalKdcLimits::default();
        let ok = r#"{"host":"laptop","service":"cifs/files","lifetime_secs":900,"cap_secs":900,"approved":true,"renewable":false}"#;
        assert!(inv.on_event(&ev("localkdc-ticket", ok)).is_empty());
        let long = ok.replace("\"lifetime_secs\":900", "\"lifetime_secs\":901");
        assert_eq!(
            inv.on_event(&ev("localkdc-ticket", &long))[0].kind,
            "localkdc-limit"
        );
        let unapproved = ok.replace("\"approved\":true", "\"approved\":false");
        assert_eq!(inv.on_event(&ev("localkdc-ticket", &unapproved)).len(), 1);
        let renewable = ok.replace("\"renewable\":false", "\"renewable\":true");
        assert_eq!(inv.on_event(&ev("localkdc-ticket", &renewable)).len(), 1);
        assert_eq!(
            inv.on_event(&ev(
                "localkdc-ticket",
                r#"{"host":"h","service":"s","opened":false}"#
            ))
            .len(),
            1
        );
        assert_eq!(inv.on_event(&ev("localkdc-ticket", "not json")).len(), 1);
        assert!(inv.on_event(&ev("kdc", ok)).is_empty());
        assert_eq!(inv.coverage(), vec![("localkdc:tickets".to_owned(), 6)]);
    }

    #[test]
    fn an_accepted_replay_is_a_violation() {
        let mut inv = ReplayRefused::default();
        assert!(
            inv.on_event(&ev(
                "attack",
                "mitm replay of 10.0.0.5:4000's ticket to intranet (elsewhere): refused code=35"
            ))
            .is_empty()
        );
        let f = inv.on_event(&ev(
            "attack",
            "mitm replay of 10.0.0.5:4000's ticket to files (late): accepted",
        ));
        assert_eq!(f[0].kind, "replay-accepted");
        assert!(
            inv.on_event(&ev("attack", "mitm stripped Kerberos"))
                .is_empty()
        );
        assert_eq!(inv.coverage(), vec![("replay:refused".to_owned(), 1)]);
    }
}
