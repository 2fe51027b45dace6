//! An approved service accepting tickets from a laptop's on-client
//! LocalKDC (kerbside_kdc::localkdc): the enrolment key decrypts them, the
//! service's own trust rule caps their lifetime and restricts them to
//! computer accounts, its own clock expires them, and a captured ticket
//! replayed to a service that was not enrolled, or again to the same one,
//! is refused.

mod support;

use std::sync::Arc;
use std::time::Duration;

use kerbside_client::gss_krb::{KrbInitiator, KrbInitiatorOptions};
use kerbside_client::krb::{
    AsExchange, AsOptions, AsStep, Credentials, Principal, Secret, TgsExchange, TgsOptions,
};
use kerbside_crypto::EncType;
use kerbside_kdc::localkdc::{
    ClientKinds, Enrolment, LocalAccount, LocalKdcTrust, OnClientCache, OnClientConfig, on_client,
};
use kerbside_kdc::{Kdc, Outcome, Transport};
use kerbside_server::{AcceptMode, AcceptStep, Acceptor, AcceptorConfig, AppService};
use kerbside_wire::krb::constants::error_code as code;
use support::*;

const LKDC: &str = "WS01.LOCALKDC";

fn send(kdc: &mut Kdc, req: &[u8]) -> Vec<u8> {
    match kdc.handle(req, Transport::Tcp, now(), &mut rng(50)) {
        Outcome::Reply(b) => b,
        Outcome::Drop(r) => panic!("{r:?}"),
    }
}

/// The laptop: its LocalKDC enrolled for host/app.lab.test; returns the
/// LocalKDC and the enrolment the service got.
fn laptop(clients: ClientKinds) -> (Kdc, Enrolment) {
    let enrol = Enrolment::new(LKDC, &SERVICE, EncType::Aes256CtsHmacSha196, &mut rng(3));
    let mut cfg = OnClientConfig::new("WS01", "machine secret");
    cfg.clients = clients;
    cfg.extra_accounts = vec![LocalAccount::new("alice", "alice secret")];
    let built = on_client(
        &cfg,
        &OnClientCache {
            fetched_at: now(),
            enrolments: vec![enrol.clone()],
        },
        &mut rng(4),
    )
    .unwrap();
    (built.kdc, enrol)
}

fn ticket_from(kdc: &mut Kdc, name: &str, password: &str) -> Credentials {
    let mut ex = AsExchange::new(
        Principal::user(name, LKDC),
        Secret::Password(password.into()),
        AsOptions {
            etypes: vec![EncType::Aes256CtsHmacSha196],
            ..AsOptions::default()
        },
    );
    let mut req = ex.start(now(), &mut rng(5)).unwrap();
    let tgt = loop {
        match ex.step(&send(kdc, &req), now(), &mut rng(6)).unwrap() {
            AsStep::Send(n) => req = n,
            AsStep::Done(c) => break c,
        }
    };
    let mut tgs = TgsExchange::new(
        &tgt,
        Principal::service(SERVICE[0], SERVICE[1], LKDC),
        TgsOptions::default(),
    );
    let req = tgs.request(now(), &mut rng(7));
    tgs.handle_reply(&send(kdc, &req)).unwrap()
}

/// The approved service: its own realm's key plus the enrolment key, and
/// the trust rule for the laptop's realm.
fn service_for(enrol: &Enrolment, trust: LocalKdcTrust) -> Arc<AppService> {
    let mut k = keys();
    let comps: Vec<&str> = enrol.service.iter().map(String::as_str).collect();
    k.insert(&enrol.realm, &comps, enrol.kvno, enrol.key.clone());
    Arc::new(AppService::new(
        AcceptorConfig {
            mode: AcceptMode::KerberosOnly,
            localkdc_trust: vec![trust],
            ..AcceptorConfig::default()
        },
        k,
        accounts(),
    ))
}

fn present(
    svc: &Arc<AppService>,
    creds: &Credentials,
    at: std::time::SystemTime,
    seed: u64,
) -> (Vec<u8>, Result<String, (i32, String)>) {
    let (_, token) =
        KrbInitiator::start(creds, &KrbInitiatorOptions::default(), at, &mut rng(seed)).unwrap();
    (token.clone(), accept(svc, &token, at))
}

fn accept(
    svc: &Arc<AppService>,
    token: &[u8],
    at: std::time::SystemTime,
) -> Result<String, (i32, String)> {
    match Acceptor::new(svc.clone()).step(token, at, &mut rng(8)) {
        Ok(AcceptStep::Complete { session, .. }) => Ok(session.client),
        Ok(other) => panic!("{other:?}"),
        Err(f) => Err((f.error.krb_code().unwrap_or(0), f.error.to_string())),
    }
}

#[test]
fn enrolled_service_accepts_the_computer_accounts_ticket_until_it_expires() {
    let (mut lkdc, enrol) = laptop(ClientKinds::computers());
    let t = ticket_from(&mut lkdc, "WS01$", "machine secret");
    assert_eq!(
        t.end_time.duration_since(t.start_time).unwrap(),
        Duration::from_secs(900)
    );
    let svc = service_for(&enrol, LocalKdcTrust::on_client_defaults(LKDC));
    let (_, r) = present(&svc, &t, now(), 10);
    assert_eq!(r.unwrap(), "WS01$@WS01.LOCALKDC");
    // Within the 5-minute skew allowance after the end: still accepted.
    let (_, r) = present(&svc, &t, t.end_time + Duration::from_secs(299), 11);
    assert!(r.is_ok(), "{r:?}");
    // Beyond it: expired at the service's clock.
    let (_, r) = present(&svc, &t, t.end_time + Duration::from_secs(301), 12);
    assert_eq!(r.unwrap_err().0, code::KRB_AP_ERR_TKT_EXPIRED);
}

#[test]
fn a_captured_ticket_replayed_elsewhere_or_again_is_refused() {
    let (mut lkdc, enrol) = laptop(ClientKinds::computers());
    let t = ticket_from(&mut lkdc, "WS01$", "machine secret");
    let svc = service_for(&enrol, LocalKdcTrust::on_client_defaults(LKDC));
    let (token, r) = present(&svc, &t, now(), 20);
    r.unwrap();
    // The same AP-REQ again: the replay cache.
    assert_eq!(
        accept(&svc, &token, now()).unwrap_err().0,
        code::KRB_AP_ERR_REPEAT
    );
    // To another service enrolled with the same LocalKDC under its own
    // key: the ticket names host/app.lab.test, which it is not.
    let other = Enrolment::new(
        LKDC,
        &["http", "intranet.lab.test"],
        EncType::Aes256CtsHmacSha196,
        &mut rng(30),
    );
    let svc2 = service_for(&other, LocalKdcTrust::on_client_defaults(LKDC));
    assert_eq!(
        accept(&svc2, &token, now()).unwrap_err().0,
        code::KRB_AP_ERR_NOT_US
    );
    // To a service of the same name that was never enrolled with this
    // laptop (no key for the LocalKDC realm).
    let plain = Arc::new(AppService::new(
        AcceptorConfig {
            mode: AcceptMode::KerberosOnly,
            ..AcceptorConfig::default()
        },
        keys(),
        accounts(),
    ));
    assert_eq!(
        accept(&plain, &token, now()).unwrap_err().0,
        code::KRB_AP_ERR_NOT_US
    );
    // A service enrolled under a different key for the same name (a
    // re-enrolment): the ticket does not decrypt.
    let rekeyed = Enrolment::new(LKDC, &SERVICE, EncType::Aes256CtsHmacSha196, &mut rng(31));
    let svc3 = service_for(&rekeyed, LocalKdcTrust::on_client_defaults(LKDC));
    assert_eq!(
        accept(&svc3, &token, now()).unwrap_err().0,
        code::KRB_AP_ERR_MODIFIED
    );
}

#[test]
fn the_service_enforces_lifetime_and_account_kind_itself() {
    // A LocalKDC configured to serve users: the service still refuses.
    let (mut lkdc, enrol) = laptop(ClientKinds::users_and_computers());
    let user = ticket_from(&mut lkdc, "alice", "alice secret");
    let svc = service_for(&enrol, LocalKdcTrust::on_client_defaults(LKDC));
    let (_, r) = present(&svc, &user, now(), 40);
    let (c, why) = r.unwrap_err();
    assert_eq!(c, code::KDC_ERR_POLICY);
    assert!(why.contains("computer accounts only"), "{why}");
    // Unless the service trusts users from it too.
    let svc_users = service_for(
        &enrol,
        LocalKdcTrust {
            computer_accounts_only: false,
            ..LocalKdcTrust::on_client_defaults(LKDC)
        },
    );
    assert_eq!(
        present(&svc_users, &user, now(), 41).1.unwrap(),
        "alice@WS01.LOCALKDC"
    );

    // A ticket encrypted with the enrolment key but living an hour (a
    // tampered LocalKDC): refused, whatever its validity window says.
    let long = ticket(
        &TicketSpec {
            realm: LKDC.into(),
            crealm: LKDC.into(),
            client: "WS01$".into(),
            key: enrol.key.clone(),
            kvno: Some(enrol.kvno),
            start: now(),
            end: now() + Duration::from_secs(3600),
            ..TicketSpec::default()
        },
        42,
    );
    let (c, why) = present(&svc, &long, now(), 43).1.unwrap_err();
    assert_eq!(c, code::KDC_ERR_POLICY);
    assert!(why.contains("lifetime cap"), "{why}");
    // Exactly at the cap: accepted.
    let at_cap = ticket(
        &TicketSpec {
            realm: LKDC.into(),
            crealm: LKDC.into(),
            client: "WS01$".into(),
            key: enrol.key.clone(),
            kvno: Some(enrol.kvno),
            start: now(),
            end: now() + Duration::from_secs(900),
            ..TicketSpec::default()
        },
        44,
    );
    assert!(present(&svc, &at_cap, now(), 45).1.is_ok());
    // A client of another realm in a LocalKDC-realm ticket.
    let foreign = ticket(
        &TicketSpec {
            realm: LKDC.into(),
            crealm: REALM.into(),
            client: "WS01$".into(),
            key: enrol.key.clone(),
            kvno: Some(enrol.kvno),
            start: now(),
            end: now() + Duration::from_secs(600),
            ..TicketSpec::default()
        },
        46,
    );
    let (c, why) = present(&svc, &foreign, now(), 47).1.unwrap_err();
    assert_eq!(c, code::KDC_ERR_POLICY);
    assert!(why.contains("another realm"), "{why}");
    // Tickets of the service's own realm are untouched by the rule.
    assert!(present(&svc, &good_ticket(), now(), 48).1.is_ok());
}
