//! End-to-end logons: the negotiator's tickets (or NTLM) presented to the
//! real acceptor of `kerbside_server` through SPNEGO or raw NTLM, then the
//! protected application message; a man-in-the-middle stripping Kerberos
//! from SPNEGO; NTLM policy on the way.

mod negotiator_harness;

use std::time::Duration;

use kerbside_client::audit::{AttemptOutcome, AuditDetail, ExchangeKind, SecurityKind, ids};
use kerbside_client::gss::Mechanism;
use kerbside_client::krb::Principal;
use kerbside_client::negotiator::{
    AppProtocol, LogonError, LogonResult, NtlmMode, NtlmVerdict, PathKind, Policy,
};
use kerbside_server::AcceptMode;
use negotiator_harness::*;

fn ntlm(mode: NtlmMode) -> Policy {
    let mut p = policy();
    p.ntlm.mode = mode;
    p
}

fn app_attempt(r: &LogonResult) -> kerbside_client::audit::AttemptRecord {
    r.attempts()
        .find(|a| a.exchange == ExchangeKind::App)
        .cloned()
        .expect("an application attempt")
}

#[test]
fn kerberos_logon_reaches_the_server_and_proves_both_ends() {
    let mut net = Net::new().route(DC1, up(20)).server(
        AcceptMode::Negotiate,
        "app.corp.example",
        ms(30),
        Mitm::None,
    );
    let r = net.logon(app_request(1, "app.corp.example"), &ntlm(NtlmMode::Audit));
    assert!(r.is_success(), "{:?} {:?}", r.error, net.server_log);
    assert_eq!(r.path, PathKind::NativeTcp);
    assert_eq!(r.mechanism, Some(Mechanism::Kerberos));
    assert!(!r.ntlm_used);
    // NTLM was offered as SPNEGO's second choice (policy audit permits it)
    // but never selected: no 8001.
    assert_eq!(r.ntlm_verdict, Some(NtlmVerdict::Audited));
    assert_eq!(r.count(ids::NTLM_CLIENT_BLOCKED_AUDIT), 0);
    assert_eq!(
        net.server_log,
        [
            "accepted alice@CORP.EXAMPLE via kerberos",
            "message \"kerbside logon 1\""
        ]
    );
    // 3 KDC round trips, then AP-REQ/AP-REP and the message/MIC.
    assert_eq!(r.time_to_ticket, Some(ms(60)));
    assert_eq!(r.total, ms(120));
    let a = app_attempt(&r);
    assert_eq!(a.outcome, AttemptOutcome::Ok);
    assert_eq!(a.path, PathKind::NativeTcp);
    assert_eq!(a.endpoint, "app.corp.example:4444");
    assert_eq!(a.duration, ms(60));
}

#[test]
fn second_logon_uses_the_cached_service_ticket() {
    let mut net = Net::new().route(DC1, up(20)).server(
        AcceptMode::Negotiate,
        "app.corp.example",
        ms(30),
        Mitm::None,
    );
    let p = policy();
    assert!(
        net.logon(app_request(1, "app.corp.example"), &p)
            .is_success()
    );
    net.sleep(Duration::from_secs(5));
    let r = net.logon(app_request(2, "app.corp.example"), &p);
    assert!(r.is_success(), "{:?}", r.error);
    assert_eq!(r.path, PathKind::Cache);
    assert_eq!(r.total, ms(60));
    assert_eq!(net.sent.len(), 3, "no KDC traffic the second time");
}

#[test]
fn no_kerberos_path_falls_back_to_ntlm_through_spnego_under_audit() {
    let mut net = Net::new().server(
        AcceptMode::Negotiate,
        "app.corp.example",
        ms(30),
        Mitm::None,
    );
    let r = net.logon(app_request(1, "app.corp.example"), &ntlm(NtlmMode::Audit));
    assert!(r.is_success(), "{:?} {:?}", r.error, net.server_log);
    assert_eq!(r.path, PathKind::Ntlm);
    assert_eq!(r.mechanism, Some(Mechanism::Ntlm));
    assert!(r.ntlm_used);
    assert_eq!(r.count(ids::NTLM_CLIENT_BLOCKED_AUDIT), 1);
    assert_eq!(net.server_log[0], "accepted CORP.EXAMPLE\\alice via ntlm");
    let d = r.events.last().unwrap().decision().unwrap();
    assert_eq!(d.path, PathKind::Ntlm);
    assert!(d.ntlm_used);
    assert_eq!(d.ntlm_verdict, Some(NtlmVerdict::Audited));
    assert_eq!(d.time_to_ticket, None, "no Kerberos ticket");
}

#[test]
fn ntlm_only_printer_under_allow_audit_and_deny() {
    for (mode, protocol) in [
        (NtlmMode::Allow, AppProtocol::Ntlm),
        (NtlmMode::Audit, AppProtocol::Ntlm),
        (NtlmMode::Allow, AppProtocol::Negotiate),
        (NtlmMode::Audit, AppProtocol::Negotiate),
        (NtlmMode::Deny, AppProtocol::Ntlm),
        (NtlmMode::Deny, AppProtocol::Negotiate),
    ] {
        // The KDC is up but has no SPN for the printer.
        let mut net = Net::new().route(DC1, up(10)).server(
            AcceptMode::NtlmOnly,
            "printer.corp.example",
            ms(5),
            Mitm::None,
        );
        let mut req = app_request(1, "printer.corp.example");
        req.service = Some(Principal::service("HTTP", "printer.corp.example", REALM));
        if let Some(s) = req.server.as_mut() {
            s.protocol = protocol;
        }
        let r = net.logon(req, &ntlm(mode));
        let what = format!("{mode:?} {protocol:?}");
        match mode {
            NtlmMode::Deny => {
                assert!(
                    matches!(r.error, Some(LogonError::NtlmDenied { .. })),
                    "{what}"
                );
                assert!(net.app_tokens.is_empty(), "{what}: no NTLM byte");
                assert_eq!(r.count(ids::NTLM_CLIENT_BLOCKED), 1, "{what}");
            }
            _ => {
                assert!(r.is_success(), "{what}: {:?} {:?}", r.error, net.server_log);
                assert_eq!(r.path, PathKind::Ntlm, "{what}");
                let audit = r.count(ids::NTLM_CLIENT_BLOCKED_AUDIT);
                let used = r.count(ids::NTLM_USED);
                match mode {
                    NtlmMode::Audit => assert_eq!((audit, used), (1, 0), "{what}"),
                    _ => assert_eq!((audit, used), (0, 1), "{what}"),
                }
                // Raw NTLM: not even a TGT is asked for.
                if protocol == AppProtocol::Ntlm {
                    assert!(net.sent.is_empty(), "{what}");
                } else {
                    assert_eq!(net.sent.len(), 3, "{what}: AS, AS, TGS");
                }
            }
        }
    }
}

#[test]
fn kerberos_at_an_ntlm_only_server_does_not_silently_become_ntlm_under_deny() {
    // The printer does have an SPN, so Kerberos gets a ticket; the server
    // then only speaks NTLM. Under deny NTLM was never offered: the
    // negotiation fails without an NTLM byte.
    let mut net = Net::new().route(DC1, up(10)).server(
        AcceptMode::NtlmOnly,
        "files.corp.example",
        ms(5),
        Mitm::None,
    );
    let mut req = app_request(1, "files.corp.example");
    req.service = Some(Principal::service("host", "files.corp.example", REALM));
    let r = net.logon(req, &ntlm(NtlmMode::Deny));
    assert!(!r.is_success());
    assert!(!r.ntlm_used);
    assert!(
        !net.app_tokens
            .iter()
            .any(|t| t.windows(8).any(|w| w == b"NTLMSSP\0")),
        "no NTLM message left the client"
    );
}

#[test]
fn stripping_kerberos_from_spnego_is_detected_by_the_mech_list_mic() {
    let mut net = Net::new().route(DC1, up(10)).server(
        AcceptMode::Negotiate,
        "app.corp.example",
        ms(5),
        Mitm::StripKerberos,
    );
    let r = net.logon(app_request(1, "app.corp.example"), &ntlm(NtlmMode::Allow));
    assert!(
        matches!(r.error, Some(LogonError::Downgrade(_))),
        "{:?} {:?}",
        r.error,
        net.server_log
    );
    assert_eq!(r.outcome, kerbside_client::audit::LogonOutcome::Failure);
    let sec: Vec<_> = r.events.iter().filter(|e| e.id == ids::SECURITY).collect();
    assert_eq!(sec.len(), 1);
    assert!(matches!(
        sec[0].detail,
        AuditDetail::Security {
            what: SecurityKind::Downgrade,
            ..
        }
    ));
    // NTLM did leave (SPNEGO checks the list after the mechanism ran),
    // and is on the record.
    assert!(r.ntlm_used);
    assert_eq!(r.count(ids::NTLM_USED), 1);
    assert!(
        net.server_log.iter().any(|l| l.contains("downgrade")),
        "{:?}",
        net.server_log
    );
    assert!(!net.server_log.iter().any(|l| l.starts_with("accepted")));
    let a = app_attempt(&r);
    assert_eq!(a.path, PathKind::Ntlm);
    assert_ne!(a.outcome, AttemptOutcome::Ok);
}

#[test]
fn stripping_kerberos_under_deny_is_refused_without_ntlm() {
    let mut net = Net::new().route(DC1, up(10)).server(
        AcceptMode::Negotiate,
        "app.corp.example",
        ms(5),
        Mitm::StripKerberos,
    );
    let r = net.logon(app_request(1, "app.corp.example"), &ntlm(NtlmMode::Deny));
    assert!(!r.is_success());
    assert!(!r.ntlm_used);
    assert!(
        !net.app_tokens
            .iter()
            .any(|t| t.windows(8).any(|w| w == b"NTLMSSP\0"))
    );
}

#[test]
fn a_server_without_the_service_key_refuses_the_ticket() {
    // The server holds keys for another name: it cannot decrypt the ticket.
    let mut net = Net::new().route(DC1, up(10)).server(
        AcceptMode::Negotiate,
        "files.corp.example",
        ms(5),
        Mitm::None,
    );
    let r = net.logon(app_request(1, "app.corp.example"), &ntlm(NtlmMode::Deny));
    assert!(!r.is_success());
    let code = r.error.as_ref().and_then(LogonError::krb_code);
    assert!(code.is_some(), "{:?} {:?}", r.error, net.server_log);
    let a = app_attempt(&r);
    assert_eq!(a.outcome, AttemptOutcome::Rejected);
    assert_eq!(a.error_code, code);
}

#[test]
fn a_silent_server_times_out_the_application_phase() {
    let mut net = Net::new().route(DC1, up(10));
    net.app = AppBehaviour::Silent;
    let mut p = policy();
    p.app_timeout = Duration::from_secs(4);
    let r = net.logon(app_request(1, "app.corp.example"), &p);
    assert_eq!(
        r.error,
        Some(LogonError::AppTimeout(Duration::from_secs(4)))
    );
    assert_eq!(r.total, ms(30) + Duration::from_secs(4));
    assert_eq!(app_attempt(&r).outcome, AttemptOutcome::Timeout);
}
