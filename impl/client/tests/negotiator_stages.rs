//! The negotiator's issue-8 stages against the real acceptor and KDCs:
//! IAKERB through the target server when no DC or relay answers (with
//! realm discovery for a client that knows no realm, and moving on when
//! the server cannot reach a KDC or does not speak IAKERB), and the
//! on-client LocalKDC for approved services with the computer account,
//! refusing others, with its tickets cached until they end.

mod negotiator_harness;

use std::sync::Arc;
use std::time::Duration;

use kerbside_client::audit::{AuditDetail, ExchangeKind, ids};
use kerbside_client::gss::Mechanism;
use kerbside_client::krb::Principal;
use kerbside_client::negotiator::{
    Capabilities, Credential, LogonError, LogonRequest, NtlmMode, PathKind, Policy, Stage,
};
use kerbside_crypto::EncType;
use kerbside_kdc::localkdc::{Enrolment, LocalKdcTrust, OnClientCache, OnClientConfig, on_client};
use kerbside_server::{AcceptMode, AcceptorConfig, AppService};
use kerbside_wire::krb::constants::error_code;
use negotiator_harness::*;
use rand_chacha::ChaCha12Rng;
use rand_core::SeedableRng;

/// DCs silent, the relay refused: only the stages of issue 8 are left.
fn offline(mut net: Net) -> Net {
    net.set(DC1, Behaviour::Silent);
    net.set(DC2, Behaviour::Silent);
    net.set(RELAY, Behaviour::Refused { after: ms(5) });
    net
}

fn stages_policy(order: &[Stage], ntlm: NtlmMode) -> Policy {
    let mut p = policy();
    p.order = order.to_vec();
    p.iakerb.enabled = order.contains(&Stage::Iakerb);
    p.localkdc.enabled = order.contains(&Stage::Localkdc);
    p.ntlm.mode = ntlm;
    p
}

fn caps() -> Capabilities {
    Capabilities {
        iakerb: true,
        localkdc: true,
    }
}

fn iakerb_net() -> Net {
    let mut net = offline(Net::new());
    net.app = AppBehaviour::Server {
        svc: iakerb_service("app.corp.example"),
        rtt: ms(20),
        mitm: Mitm::None,
    };
    net.caps = caps();
    net
}

fn app_attempts(r: &kerbside_client::negotiator::LogonResult) -> Vec<(PathKind, Option<i32>)> {
    r.attempts()
        .filter(|a| a.exchange == ExchangeKind::App)
        .map(|a| (a.path, a.error_code))
        .collect()
}

#[test]
fn iakerb_through_the_server_when_no_dc_answers() {
    let mut net = iakerb_net();
    let p = stages_policy(
        &[Stage::Native, Stage::Kkdcp, Stage::Iakerb],
        NtlmMode::Deny,
    );
    let r = net.logon(app_request(1, "app.corp.example"), &p);
    assert!(r.is_success(), "{:?}", r.error);
    assert_eq!(r.path, PathKind::Iakerb);
    assert_eq!(r.endpoint.as_deref(), Some("app.corp.example:4444"));
    assert_eq!(r.mechanism, Some(Mechanism::Kerberos));
    assert!(!r.ntlm_used);
    // AS (PREAUTH_REQUIRED), AS, TGS relayed by the server, one connection.
    assert_eq!(net.relayed, 3);
    assert_eq!(app_attempts(&r), [(PathKind::Iakerb, None)]);
    assert!(
        net.server_log
            .iter()
            .any(|l| l == "accepted alice@CORP.EXAMPLE via kerberos"),
        "{:?}",
        net.server_log
    );
    let ticket = r.ticket.clone().unwrap();
    assert_eq!(
        ticket.server.to_string(),
        "host/app.corp.example@CORP.EXAMPLE"
    );
    assert!(r.time_to_ticket.is_some());
    // The tickets are cached: the next logon needs no KDC at all.
    let relayed = net.relayed;
    let r2 = net.logon(app_request(2, "app.corp.example"), &p);
    assert!(r2.is_success());
    assert_eq!(r2.path, PathKind::Cache);
    assert_eq!(net.relayed, relayed);
}

#[test]
fn iakerb_discovers_the_realm_of_a_client_that_knows_none() {
    let mut net = iakerb_net();
    let p = stages_policy(&[Stage::Native, Stage::Iakerb], NtlmMode::Deny);
    let mut req = app_request(1, "app.corp.example");
    req.client = Principal {
        realm: String::new(),
        ..alice()
    };
    req.service = Some(Principal::service("host", "app.corp.example", ""));
    let sent_before = net.sent.len();
    let r = net.logon(req, &p);
    assert!(r.is_success(), "{:?}", r.error);
    assert_eq!(r.path, PathKind::Iakerb);
    // No KDC was asked about an empty realm.
    assert_eq!(net.sent.len(), sent_before);
    assert_eq!(r.ticket.unwrap().client.realm, REALM);
}

#[test]
fn a_server_without_a_kdc_answers_86_and_the_logon_moves_on() {
    let mut net = iakerb_net();
    net.server_reaches_kdc = false;
    let p = stages_policy(
        &[Stage::Native, Stage::Kkdcp, Stage::Iakerb],
        NtlmMode::Deny,
    );
    let r = net.logon(app_request(1, "app.corp.example"), &p);
    assert!(!r.is_success());
    // IAKERB failed with 86, then NTLM was denied: fail closed.
    assert_eq!(
        app_attempts(&r),
        [(
            PathKind::Iakerb,
            Some(error_code::KRB_AP_ERR_IAKERB_KDC_NO_RESPONSE)
        )]
    );
    assert!(
        matches!(r.error, Some(LogonError::NtlmDenied { .. })),
        "{:?}",
        r.error
    );
    assert_eq!(r.count(ids::NTLM_CLIENT_BLOCKED), 1);

    // Under `allow`, NTLM to the same server after IAKERB failed.
    let mut net = iakerb_net();
    net.server_reaches_kdc = false;
    let p = stages_policy(&[Stage::Native, Stage::Iakerb], NtlmMode::Allow);
    let r = net.logon(app_request(2, "app.corp.example"), &p);
    assert!(r.is_success(), "{:?}", r.error);
    assert_eq!(r.path, PathKind::Ntlm);
    assert!(r.ntlm_used);
}

#[test]
fn a_server_without_iakerb_is_passed_over() {
    let mut net = offline(Net::new()).server(
        AcceptMode::Negotiate,
        "app.corp.example",
        ms(20),
        Mitm::None,
    );
    net.caps = caps();
    let p = stages_policy(&[Stage::Native, Stage::Iakerb], NtlmMode::Allow);
    let r = net.logon(app_request(1, "app.corp.example"), &p);
    assert!(r.is_success(), "{:?}", r.error);
    assert_eq!(r.path, PathKind::Ntlm);
    assert_eq!(app_attempts(&r)[0].0, PathKind::Iakerb);
    assert_eq!(net.relayed, 0);
}

#[test]
fn a_kdc_refusal_relayed_by_the_server_ends_the_logon() {
    let mut net = iakerb_net();
    let p = stages_policy(&[Stage::Native, Stage::Iakerb], NtlmMode::Allow);
    let mut req = app_request(1, "app.corp.example");
    req.credential = Credential::Password("wrong password".into());
    let r = net.logon(req, &p);
    assert!(!r.is_success());
    assert!(
        !r.ntlm_used,
        "a wrong password is not worked around with NTLM"
    );
    assert_eq!(
        r.error.as_ref().and_then(LogonError::krb_code),
        Some(error_code::KDC_ERR_PREAUTH_FAILED),
        "{:?}",
        r.error
    );
}

const MACHINE_PW: &str = "machine-Secret-1";

/// The laptop's LocalKDC (realm LAPTOP1.LOCALKDC, the harness's
/// workstation) enrolled for host/app.corp.example, and that server holding
/// the enrolment key and the trust rule.
fn localkdc_net() -> Net {
    let cfg = OnClientConfig::new("LAPTOP1", MACHINE_PW);
    let realm = cfg.realm();
    let enrol = Enrolment::new(
        &realm,
        &["host", "app.corp.example"],
        EncType::Aes256CtsHmacSha196,
        &mut ChaCha12Rng::seed_from_u64(1),
    );
    let built = on_client(
        &cfg,
        &OnClientCache {
            fetched_at: epoch(),
            enrolments: vec![enrol.clone()],
        },
        &mut ChaCha12Rng::seed_from_u64(2),
    )
    .unwrap();
    let base = app_service(AcceptMode::Negotiate, "app.corp.example");
    let mut keys = base.keys.clone();
    keys.insert(
        &realm,
        &["host", "app.corp.example"],
        enrol.kvno,
        enrol.key.clone(),
    );
    let svc = Arc::new(AppService::new(
        AcceptorConfig {
            localkdc_trust: vec![LocalKdcTrust::on_client_defaults(&realm)],
            ..base.config.clone()
        },
        keys,
        base.accounts.clone(),
    ));
    let mut net = offline(Net::new());
    net.app = AppBehaviour::Server {
        svc,
        rtt: ms(20),
        mitm: Mitm::None,
    };
    net.localkdc = Some(built.kdc);
    net.caps = caps();
    net
}

fn machine_request(id: u64, service_host: &str) -> LogonRequest {
    let mut req = app_request(id, service_host);
    req.client = Principal::user("LAPTOP1$", REALM);
    req.credential = Credential::Password(MACHINE_PW.into());
    req.service = Some(Principal::service("host", service_host, REALM));
    req
}

#[test]
fn localkdc_serves_approved_services_to_the_computer_account() {
    let mut net = localkdc_net();
    let p = stages_policy(
        &[Stage::Native, Stage::Kkdcp, Stage::Localkdc],
        NtlmMode::Deny,
    );
    let r = net.logon(machine_request(1, "app.corp.example"), &p);
    assert!(r.is_success(), "{:?}", r.error);
    assert_eq!(r.path, PathKind::Localkdc);
    assert_eq!(r.endpoint.as_deref(), Some("localkdc"));
    let t = r.ticket.clone().unwrap();
    assert_eq!(
        t.server.to_string(),
        "host/app.corp.example@LAPTOP1.LOCALKDC"
    );
    assert_eq!(
        t.end_time.duration_since(t.start_time).unwrap(),
        Duration::from_secs(900)
    );
    assert!(
        net.server_log
            .iter()
            .any(|l| l == "accepted LAPTOP1$@LAPTOP1.LOCALKDC via kerberos"),
        "{:?}",
        net.server_log
    );
    // The audit trail names the stage: attempts over the localkdc path.
    let lkdc: Vec<_> = r
        .attempts()
        .filter(|a| a.path == PathKind::Localkdc)
        .collect();
    assert!(lkdc.len() >= 2, "AS and TGS through the LocalKDC");
    // Within its lifetime the ticket is reused from the cache...
    net.sleep(Duration::from_secs(60));
    let r = net.logon(machine_request(2, "app.corp.example"), &p);
    assert!(r.is_success(), "{:?}", r.error);
    assert_eq!(r.path, PathKind::Cache);
    // ...and after it, a new one is issued.
    net.sleep(Duration::from_secs(900));
    let r = net.logon(machine_request(3, "app.corp.example"), &p);
    assert!(r.is_success(), "{:?}", r.error);
    assert_eq!(r.path, PathKind::Localkdc);
}

#[test]
fn localkdc_refuses_unapproved_services_and_users() {
    let mut net = localkdc_net();
    let p = stages_policy(&[Stage::Native, Stage::Localkdc], NtlmMode::Deny);
    // A service it was never enrolled for: unknown to the LocalKDC; NTLM
    // would be next, and is denied.
    let r = net.logon(machine_request(1, "files.corp.example"), &p);
    assert!(!r.is_success());
    assert!(
        matches!(r.error, Some(LogonError::NtlmDenied { .. })),
        "{:?}",
        r.error
    );
    let codes: Vec<Option<i32>> = r
        .attempts()
        .filter(|a| a.path == PathKind::Localkdc)
        .map(|a| a.error_code)
        .collect();
    assert!(
        codes.contains(&Some(error_code::KDC_ERR_S_PRINCIPAL_UNKNOWN)),
        "{codes:?}"
    );
    // A user: not a LocalKDC principal (computer account only).
    let r = net.logon(app_request(2, "app.corp.example"), &p);
    assert!(!r.is_success());
    assert!(!r.ntlm_used);
    assert_eq!(
        r.error.as_ref().and_then(LogonError::krb_code),
        Some(error_code::KDC_ERR_C_PRINCIPAL_UNKNOWN),
        "{:?}",
        r.error
    );
    // The decision names the user, not the LocalKDC alias.
    assert!(r.events.iter().all(|e| e.client == "alice@CORP.EXAMPLE"));
    assert!(
        r.events
            .iter()
            .any(|e| matches!(&e.detail, AuditDetail::Attempt(a) if a.path == PathKind::Localkdc))
    );
}

#[test]
fn back_online_native_kerberos_wins_again() {
    let mut net = localkdc_net();
    let p = stages_policy(&[Stage::Native, Stage::Localkdc], NtlmMode::Deny);
    let r = net.logon(machine_request(1, "app.corp.example"), &p);
    assert_eq!(r.path, PathKind::Localkdc);
    // The DC is back, but still in the negative cache: while later stages
    // can answer, a known-dead DC is skipped (7002), not waited for.
    net.set(DC1, up(10));
    let r = net.logon(machine_request(2, "app.corp.example"), &p);
    assert_eq!(r.path, PathKind::Cache, "{:?}", r.error);
    assert!(r.count(ids::SKIPPED) >= 1);
    // Once the negative cache forgets it, native Kerberos wins again.
    net.sleep(p.negative_cache.ttl + Duration::from_secs(1));
    let mut req = app_request(3, "app.corp.example");
    req.client = alice();
    let r = net.logon(req, &p);
    assert!(r.is_success(), "{:?}", r.error);
    assert_eq!(r.path, PathKind::NativeTcp);
    assert_eq!(r.ticket.unwrap().server.realm, REALM);
}
