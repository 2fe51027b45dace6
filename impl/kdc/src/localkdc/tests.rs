//! LocalKDC policy edges, through real AS/TGS exchanges from
//! `kerbside-client`: the lifetime cap exactly at 15 minutes, a service not
//! on the allowlist, a user instead of the computer account, stale
//! approvals, no renewable or forwardable tickets, and the on-target
//! LocalKDC's Windows-observed realm, salt and 10-hour tickets.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use kerbside_client::krb::{
    AsExchange, AsOptions, AsStep, Credentials, KrbClientError, Principal as ClientPrincipal,
    Secret, TgsExchange, TgsOptions,
};
use kerbside_crypto::{EncType, Key};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

use super::*;
use crate::kdc::{Kdc, Outcome, Transport};
use crate::store::PrincipalKind;

fn t0() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_790_000_000)
}

fn rng(seed: u64) -> ChaCha20Rng {
    ChaCha20Rng::seed_from_u64(seed)
}

fn send(kdc: &mut Kdc, req: &[u8], now: SystemTime) -> Vec<u8> {
    match kdc.handle(req, Transport::Tcp, now, &mut rng(99)) {
        Outcome::Reply(b) => b,
        Outcome::Drop(r) => panic!("dropped: {r:?}"),
    }
}

fn tgt(
    kdc: &mut Kdc,
    realm: &str,
    name: &str,
    password: &str,
    lifetime: Duration,
    now: SystemTime,
) -> Result<Credentials, KrbClientError> {
    let mut ex = AsExchange::new(
        ClientPrincipal::user(name, realm),
        Secret::Password(password.into()),
        AsOptions {
            lifetime,
            etypes: vec![EncType::Aes256CtsHmacSha196],
            renew_lifetime: Some(Duration::from_secs(86_400)),
            forwardable: true,
            ..AsOptions::default()
        },
    );
    let mut req = ex.start(now, &mut rng(1))?;
    loop {
        let reply = send(kdc, &req, now);
        match ex.step(&reply, now, &mut rng(2))? {
            AsStep::Send(next) => req = next,
            AsStep::Done(c) => return Ok(c),
        }
    }
}

fn service_ticket(
    kdc: &mut Kdc,
    tgt: &Credentials,
    service: &[&str],
    lifetime: Option<Duration>,
    now: SystemTime,
) -> Result<Credentials, KrbClientError> {
    let realm = tgt.client.realm.clone();
    let mut ex = TgsExchange::new(
        tgt,
        ClientPrincipal::service(service[0], service[1], &realm),
        TgsOptions {
            lifetime,
            renew_lifetime: Some(Duration::from_secs(86_400)),
            forwardable: true,
            etypes: vec![EncType::Aes256CtsHmacSha196],
            ..TgsOptions::default()
        },
    );
    // A fresh authenticator each time (the KDC's replay cache would
    // refuse an identical one).
    static SEED: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(100);
    let seed = SEED.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    // The KDC's replay cache keys on (ctime, cusec, client, server): move
    // the authenticator's microseconds.
    let req = ex.request(now + Duration::from_micros(seed), &mut rng(seed));
    ex.handle_reply(&send(kdc, &req, now))
}

const APPROVED: [&str; 2] = ["cifs", "files.corp.example"];
const OTHER: [&str; 2] = ["http", "intranet.corp.example"];

fn laptop(cfg: OnClientConfig, fetched_at: SystemTime) -> BuiltLocalKdc {
    let realm = cfg.realm();
    let enrol = Enrolment::new(&realm, &APPROVED, EncType::Aes256CtsHmacSha196, &mut rng(7));
    // A service the laptop knows of but is not approved for: enrolled for
    // another LocalKDC realm, so it must not appear here.
    let foreign = Enrolment::new(
        "WS99.LOCALKDC",
        &OTHER,
        EncType::Aes256CtsHmacSha196,
        &mut rng(8),
    );
    on_client(
        &cfg,
        &OnClientCache {
            fetched_at,
            enrolments: vec![enrol, foreign],
        },
        &mut rng(9),
    )
    .unwrap()
}

fn life(c: &Credentials) -> Duration {
    c.end_time.duration_since(c.start_time).unwrap()
}

fn refusal(e: KrbClientError) -> (i32, String) {
    match e {
        KrbClientError::Krb(i) => (i.code, i.text.unwrap_or_default()),
        other => panic!("expected a KRB-ERROR, got {other}"),
    }
}

#[test]
fn on_client_lifetime_cap_is_exactly_15_minutes() {
    let cfg = OnClientConfig::new("WS01", "machine secret 1");
    assert_eq!(cfg.realm(), "WS01.LOCALKDC");
    let mut l = laptop(cfg, t0());
    let realm = "WS01.LOCALKDC";
    let tgt = tgt(
        &mut l.kdc,
        realm,
        "WS01$",
        "machine secret 1",
        Duration::from_secs(10 * 3600),
        t0(),
    )
    .unwrap();
    assert_eq!(life(&tgt), Duration::from_secs(900), "TGT capped");
    assert_eq!(tgt.renew_till, None, "never renewable");
    assert_eq!(
        tgt.flags & kerbside_wire::krb::constants::ticket_flags::FORWARDABLE,
        0
    );
    for (asked, got) in [
        (Some(Duration::from_secs(3600)), 900),
        (Some(Duration::from_secs(901)), 900),
        (Some(Duration::from_secs(900)), 900),
        (Some(Duration::from_secs(899)), 899),
        (None, 900),
    ] {
        let st = service_ticket(&mut l.kdc, &tgt, &APPROVED, asked, t0()).unwrap();
        assert_eq!(life(&st), Duration::from_secs(got), "asked {asked:?}");
        assert_eq!(st.renew_till, None);
    }
    // Five minutes later, a service ticket still ends with the TGT.
    let later = t0() + Duration::from_secs(300);
    let st = service_ticket(&mut l.kdc, &tgt, &APPROVED, None, later).unwrap();
    assert_eq!(st.end_time, t0() + Duration::from_secs(900));
    let granted = l
        .audit
        .events()
        .iter()
        .filter(|e| {
            matches!(
                e.decision,
                LocalKdcDecision::Granted {
                    max_lifetime_secs: 900
                }
            )
        })
        .count();
    assert_eq!(granted, 7);
}

#[test]
fn a_service_never_enrolled_is_unknown_to_the_localkdc() {
    let mut l = laptop(OnClientConfig::new("WS01", "machine secret 1"), t0());
    let tgt = tgt(
        &mut l.kdc,
        "WS01.LOCALKDC",
        "WS01$",
        "machine secret 1",
        Duration::from_secs(600),
        t0(),
    )
    .unwrap();
    // Enrolled for another laptop's realm only: this LocalKDC has no key.
    let (code, _) = refusal(service_ticket(&mut l.kdc, &tgt, &OTHER, None, t0()).unwrap_err());
    assert_eq!(
        code,
        kerbside_wire::krb::constants::error_code::KDC_ERR_S_PRINCIPAL_UNKNOWN
    );
}

#[test]
fn allowlist_refusal_for_a_stored_but_unapproved_service() {
    // The policy alone (a store holding a service the allowlist does not
    // name, as after an approval was withdrawn but the key kept).
    let cfg = OnClientConfig::new("WS03", "machine secret 3");
    let realm = cfg.realm();
    let approved = Enrolment::new(&realm, &APPROVED, EncType::Aes256CtsHmacSha196, &mut rng(7));
    let withdrawn = Enrolment::new(&realm, &OTHER, EncType::Aes256CtsHmacSha196, &mut rng(8));
    let mut built = on_client(
        &cfg,
        &OnClientCache {
            fetched_at: t0(),
            enrolments: vec![approved.clone()],
        },
        &mut rng(9),
    )
    .unwrap();
    // Rebuild the KDC with the withdrawn service's key in the store but
    // the allowlist unchanged.
    let mut store = built.kdc.store().clone();
    store.insert(withdrawn.principal_entry().unwrap()).unwrap();
    let policy = LocalKdcPolicy {
        placement: Placement::OnClient,
        realm: realm.clone(),
        max_lifetime: ON_CLIENT_LIFETIME,
        allowlist: Some([approved.service.clone()].into_iter().collect()),
        clients: ClientKinds::computers(),
        max_offline: None,
        audit: built.audit.clone(),
    };
    built.kdc = Kdc::with_policy(
        built.kdc.config().clone(),
        store,
        std::sync::Arc::new(policy),
    )
    .unwrap();
    let tgt = tgt(
        &mut built.kdc,
        &realm,
        "WS03$",
        "machine secret 3",
        Duration::from_secs(600),
        t0(),
    )
    .unwrap();
    let (code, text) =
        refusal(service_ticket(&mut built.kdc, &tgt, &OTHER, None, t0()).unwrap_err());
    assert_eq!(
        code,
        kerbside_wire::krb::constants::error_code::KDC_ERR_POLICY
    );
    assert!(text.contains("not on the LocalKDC allowlist"), "{text}");
    let last = built.audit.events().pop().unwrap();
    assert_eq!(last.service, "http/intranet.corp.example");
    assert_eq!(last.exchange, "tgs");
    assert!(matches!(
        last.decision,
        LocalKdcDecision::Refused { code: 12, .. }
    ));
    // The approved one still works.
    service_ticket(&mut built.kdc, &tgt, &APPROVED, None, t0()).unwrap();
}

#[test]
fn a_user_instead_of_the_computer_account_is_refused_unless_configured() {
    let mut cfg = OnClientConfig::new("WS01", "machine secret 1");
    cfg.extra_accounts = vec![LocalAccount::new("alice", "alice password")];
    let mut l = laptop(cfg.clone(), t0());
    let (code, text) = refusal(
        tgt(
            &mut l.kdc,
            "WS01.LOCALKDC",
            "alice",
            "alice password",
            Duration::from_secs(600),
            t0(),
        )
        .unwrap_err(),
    );
    assert_eq!(
        code,
        kerbside_wire::krb::constants::error_code::KDC_ERR_POLICY
    );
    assert!(
        text.contains("computer accounts only, not to user alice"),
        "{text}"
    );
    let e = l.audit.events().pop().unwrap();
    assert_eq!(
        (e.client.as_str(), e.client_kind, e.exchange),
        ("alice", "user", "as")
    );

    cfg.clients = ClientKinds::users_and_computers();
    let mut l = laptop(cfg, t0());
    let t = tgt(
        &mut l.kdc,
        "WS01.LOCALKDC",
        "alice",
        "alice password",
        Duration::from_secs(600),
        t0(),
    )
    .unwrap();
    service_ticket(&mut l.kdc, &t, &APPROVED, None, t0()).unwrap();
}

#[test]
fn stale_approvals_are_refused() {
    let cfg = OnClientConfig::new("WS01", "machine secret 1");
    let fetched = t0() - Duration::from_secs(7 * 24 * 3600);
    let mut l = laptop(cfg, fetched);
    // Exactly at the limit: still fine.
    tgt(
        &mut l.kdc,
        "WS01.LOCALKDC",
        "WS01$",
        "machine secret 1",
        Duration::from_secs(600),
        t0(),
    )
    .unwrap();
    let (code, text) = refusal(
        tgt(
            &mut l.kdc,
            "WS01.LOCALKDC",
            "WS01$",
            "machine secret 1",
            Duration::from_secs(600),
            t0() + Duration::from_secs(1),
        )
        .unwrap_err(),
    );
    assert_eq!(code, 12);
    assert!(text.contains("offline limit"), "{text}");
}

#[test]
fn on_target_matches_the_windows_observation() {
    let cfg = OnTargetConfig::new(
        "win25h2ins",
        vec![LocalAccount::new("Administrator", "Password123!")],
        vec![vec!["cifs".into(), "win25h2ins".into()]],
    );
    assert_eq!(cfg.realm(), "WIN25H2INS");
    let mut l = on_target(&cfg, &mut rng(5)).unwrap();
    assert_eq!(l.kdc.config().realm, "WIN25H2INS");
    assert_eq!(l.service_keys.len(), 2, "one key per enctype");
    let mut ex = AsExchange::new(
        ClientPrincipal::user("Administrator", "WIN25H2INS"),
        Secret::Password("Password123!".into()),
        AsOptions {
            lifetime: Duration::from_secs(24 * 3600),
            ..AsOptions::default()
        },
    );
    let mut req = ex.start(t0(), &mut rng(1)).unwrap();
    let tgt = loop {
        match ex
            .step(&send(&mut l.kdc, &req, t0()), t0(), &mut rng(2))
            .unwrap()
        {
            AsStep::Send(n) => req = n,
            AsStep::Done(c) => break c,
        }
    };
    // protocols.md §3.2: salt WIN25H2INS + Administrator, 4096 iterations.
    let want = Key::from_password(
        EncType::Aes256CtsHmacSha196,
        "Password123!",
        b"WIN25H2INSAdministrator",
    )
    .unwrap();
    assert_eq!(ex.long_term_key().unwrap().bytes(), want.bytes());
    assert_eq!(life(&tgt), Duration::from_secs(36_000), "10-hour TGT");
    let st = service_ticket(&mut l.kdc, &tgt, &["cifs", "win25h2ins"], None, t0()).unwrap();
    assert_eq!(
        life(&st),
        Duration::from_secs(36_000),
        "10-hour service ticket"
    );
    assert_eq!(st.server.realm, "WIN25H2INS");
    assert!(
        l.audit
            .events()
            .iter()
            .all(|e| e.placement == Placement::OnTarget)
    );
    assert_eq!(
        PrincipalKind::User,
        l.kdc
            .store()
            .get(&["Administrator".to_owned()])
            .unwrap()
            .kind
    );
    // Bad machine names are refused up front.
    for bad in ["", "a.b", "way-too-long-machine-name"] {
        let mut c = cfg.clone();
        c.machine = bad.into();
        assert!(
            matches!(
                on_target(&c, &mut rng(1)),
                Err(LocalKdcError::BadMachineName(_))
            ),
            "{bad}"
        );
    }
}

#[test]
fn audit_trail_drains() {
    let mut l = laptop(OnClientConfig::new("WS01", "machine secret 1"), t0());
    tgt(
        &mut l.kdc,
        "WS01.LOCALKDC",
        "WS01$",
        "machine secret 1",
        Duration::from_secs(600),
        t0(),
    )
    .unwrap();
    let events = l.audit.drain();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].realm, "WS01.LOCALKDC");
    assert_eq!(events[0].client, "WS01$");
    assert_eq!(events[0].client_kind, "computer");
    assert_eq!(events[0].service, "krbtgt/WS01.LOCALKDC");
    assert!(l.audit.events().is_empty());
    // Bounded: the oldest go first.
    let small = LocalKdcAudit::with_limit(2);
    for e in events
        .iter()
        .cycle()
        .take(3)
        .cloned()
        .enumerate()
        .map(|(i, mut e)| {
            e.client = format!("c{i}");
            e
        })
    {
        small.record(e);
    }
    let kept: Vec<String> = small.events().into_iter().map(|e| e.client).collect();
    assert_eq!(kept, ["c1", "c2"]);
}

#[test]
fn cached_domain_keys_let_the_computer_account_log_on_unchanged() {
    // The computer account as the domain holds it: keys salted for
    // CORP.EXAMPLE, cached while online.
    let domain_key = Key::from_password(
        EncType::Aes256CtsHmacSha196,
        "machine secret 1",
        b"CORP.EXAMPLEWS01$",
    )
    .unwrap();
    let mut cfg = OnClientConfig::new("WS01", "unused");
    cfg.cached_accounts = vec![crate::store::PrincipalEntry {
        principal: crate::name::Principal::from_components(vec!["WS01$".into()]).unwrap(),
        kvno: 4,
        keys: vec![domain_key.clone()],
        salt: b"CORP.EXAMPLEWS01$".to_vec(),
        requires_preauth: false,
        disabled: false,
        expires: None,
        kind: PrincipalKind::Computer,
    }];
    let mut l = laptop(cfg, t0());
    let entry = l.kdc.store().get(&["WS01$".to_owned()]).unwrap().clone();
    assert!(entry.requires_preauth, "the LocalKDC always wants proof");
    assert_eq!(entry.kvno, 4);
    let mut ex = AsExchange::new(
        ClientPrincipal::user("WS01$", "WS01.LOCALKDC"),
        Secret::Keys(vec![domain_key]),
        AsOptions::default(),
    );
    let mut req = ex.start(t0(), &mut rng(1)).unwrap();
    let t = loop {
        match ex
            .step(&send(&mut l.kdc, &req, t0()), t0(), &mut rng(2))
            .unwrap()
        {
            AsStep::Send(n) => req = n,
            AsStep::Done(c) => break c,
        }
    };
    assert_eq!(life(&t), Duration::from_secs(900));
    // The password account the cached entry replaced is gone.
    assert!(
        tgt(
            &mut l.kdc,
            "WS01.LOCALKDC",
            "WS01$",
            "unused",
            Duration::from_secs(600),
            t0()
        )
        .is_err()
    );
}
