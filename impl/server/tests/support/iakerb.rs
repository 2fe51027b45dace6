//! IAKERB fixtures: a real in-process KDC (kerbside-kdc) behind the
//! acceptor's proxy seam, an IAKERB initiator, and a loop that runs them
//! against each other with an optional man-in-the-middle.

use std::sync::Arc;
use std::sync::OnceLock;

use kerbside_client::iakerb::{
    IakerbError, IakerbInitiator, IakerbOptions, IakerbRequest, IakerbStep,
};
use kerbside_client::krb::Secret;
use kerbside_client::spnego::{OfferedMech, SpnegoInitiator, SpnegoOptions, SpnegoStep};
use kerbside_crypto::{EncType, Key};
use kerbside_kdc::store::password_keys;
use kerbside_kdc::{
    Kdc, KdcConfig, Outcome as KdcOutcome, PrincipalEntry, PrincipalKind, PrincipalStore, Transport,
};
use kerbside_server::{
    AcceptFailure, AcceptMode, AcceptStep, Acceptor, AcceptorConfig, AppService, IakerbConfig,
    KdcProxyFailure, KdcProxyRequest, Session,
};

use super::{KVNO, PASSWORD, REALM, USER, accounts, keys, now, rng, service_key};

/// The realm's KDC: alice (pre-authentication required), the service with
/// the acceptor's key, krbtgt. One enctype keeps string-to-key cheap.
pub fn kdc() -> Kdc {
    static STORE: OnceLock<PrincipalStore> = OnceLock::new();
    let store = STORE
        .get_or_init(|| {
            let mut s = PrincipalStore::new(REALM);
            let entry = |name: &str, kvno: u32, keys: Vec<Key>, salt: Vec<u8>| PrincipalEntry {
                principal: kerbside_kdc::Principal::parse(name, REALM).unwrap(),
                kvno,
                keys,
                salt,
                requires_preauth: true,
                disabled: false,
                expires: None,
                kind: PrincipalKind::infer(&kerbside_kdc::Principal::parse(name, REALM).unwrap()),
            };
            let alice = kerbside_kdc::Principal::parse(USER, REALM).unwrap();
            let (k, salt) =
                password_keys(REALM, &alice, PASSWORD, &[EncType::Aes256CtsHmacSha196]).unwrap();
            s.insert(entry(USER, 1, k, salt)).unwrap();
            s.insert(entry(
                &format!("krbtgt/{REALM}"),
                1,
                vec![Key::new(EncType::Aes256CtsHmacSha196, vec![0x17; 32]).unwrap()],
                Vec::new(),
            ))
            .unwrap();
            s.insert(entry(
                "host/app.lab.test",
                KVNO,
                vec![service_key()],
                Vec::new(),
            ))
            .unwrap();
            s
        })
        .clone();
    let mut cfg = KdcConfig::new(REALM);
    cfg.enctypes = vec![EncType::Aes256CtsHmacSha196];
    Kdc::new(cfg, store).unwrap()
}

pub fn iakerb_config() -> IakerbConfig {
    IakerbConfig::for_realm(REALM)
}

pub fn iakerb_service(cfg: IakerbConfig) -> Arc<AppService> {
    Arc::new(AppService::new(
        AcceptorConfig {
            mode: AcceptMode::Negotiate,
            iakerb: Some(cfg),
            ..AcceptorConfig::default()
        },
        keys(),
        accounts(),
    ))
}

pub fn request(realm: Option<&str>) -> IakerbRequest {
    IakerbRequest {
        user: vec![USER.to_owned()],
        realm: realm.map(str::to_owned),
        secret: Secret::Password(PASSWORD.to_owned()),
        service: vec!["host".into(), "app.lab.test".into()],
        service_realm: None,
        tgt: None,
    }
}

pub fn initiator(realm: Option<&str>, options: IakerbOptions) -> IakerbInitiator {
    IakerbInitiator::new(request(realm), options)
}

/// How the KDC side behaves.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Upstream {
    /// The in-process KDC answers.
    Kdc,
    /// Nothing answers (86).
    Silent,
    /// No KDC for the realm (85).
    Unknown,
}

/// What a run produced.
pub struct Run {
    pub client: Result<(), IakerbError>,
    pub server: Result<Box<Session>, AcceptFailure>,
    /// Every request the acceptor asked to have forwarded.
    pub forwarded: Vec<KdcProxyRequest>,
    pub initiator: IakerbInitiator,
}

/// Forwards acceptor requests to `upstream` until the acceptor has a token.
pub fn drive_acceptor(
    acc: &mut Acceptor,
    first: Result<AcceptStep, AcceptFailure>,
    kdc: &mut Kdc,
    upstream: Upstream,
    forwarded: &mut Vec<KdcProxyRequest>,
    seed: u64,
) -> Result<AcceptStep, AcceptFailure> {
    let mut r = rng(seed);
    let mut step = first;
    while let Ok(AcceptStep::ProxyKdc(req)) = &step {
        forwarded.push(req.clone());
        let answer: Result<Vec<u8>, KdcProxyFailure> = match upstream {
            Upstream::Kdc => match kdc.handle(&req.message, Transport::Tcp, now(), &mut r) {
                KdcOutcome::Reply(b) => Ok(b),
                KdcOutcome::Drop(_) => Err(KdcProxyFailure::NoResponse),
            },
            Upstream::Silent => Err(KdcProxyFailure::NoResponse),
            Upstream::Unknown => Err(KdcProxyFailure::KdcNotFound),
        };
        step = acc.kdc_reply(answer.as_deref().map_err(|e| *e), now(), &mut r);
    }
    step
}

/// Runs a raw IAKERB initiator against `acc`; `mitm(leg, token)` may
/// rewrite each token (leg 0: the initiator's first, then alternating).
pub fn run_raw(
    mut ia: IakerbInitiator,
    acc: &mut Acceptor,
    upstream: Upstream,
    mitm: &mut dyn FnMut(usize, Vec<u8>) -> Vec<u8>,
    seed: u64,
) -> Run {
    let mut r = rng(seed);
    let mut kdc = kdc();
    let mut forwarded = Vec::new();
    let mut leg = 0;
    let mut token = match ia.initial_token(now(), &mut r) {
        Ok(t) => t,
        Err(e) => {
            return Run {
                client: Err(e),
                server: Err(AcceptFailure::silent(kerbside_server::AcceptError::State)),
                forwarded,
                initiator: ia,
            };
        }
    };
    let mut client_done = false;
    for _ in 0..40 {
        let t = mitm(leg, token);
        leg += 1;
        let first = acc.step(&t, now(), &mut r);
        let step = drive_acceptor(
            acc,
            first,
            &mut kdc,
            upstream,
            &mut forwarded,
            seed + leg as u64,
        );
        match step {
            Ok(AcceptStep::Continue(reply)) => {
                assert!(
                    !client_done,
                    "acceptor kept talking after the initiator completed"
                );
                let reply = mitm(leg, reply);
                leg += 1;
                match ia.step(&reply, now(), &mut r) {
                    Ok(IakerbStep::Continue(next)) => token = next,
                    Ok(IakerbStep::Complete(Some(last))) => {
                        client_done = true;
                        token = last;
                    }
                    Ok(IakerbStep::Complete(None)) => {
                        panic!("initiator complete before the acceptor")
                    }
                    Err(e) => {
                        return Run {
                            client: Err(e),
                            server: Err(AcceptFailure::silent(kerbside_server::AcceptError::State)),
                            forwarded,
                            initiator: ia,
                        };
                    }
                }
            }
            Ok(AcceptStep::Complete { reply, session }) => {
                let client = match reply {
                    Some(reply) => {
                        let reply = mitm(leg, reply);
                        ia.step(&reply, now(), &mut r).map(|s| {
                            assert_eq!(s, IakerbStep::Complete(None));
                        })
                    }
                    None if client_done => Ok(()),
                    None => Err(IakerbError::State),
                };
                return Run {
                    client,
                    server: Ok(session),
                    forwarded,
                    initiator: ia,
                };
            }
            Ok(AcceptStep::ProxyKdc(_)) => unreachable!("drive_acceptor resolves proxy steps"),
            Err(f) => {
                let client = match f.reply.clone() {
                    Some(reply) => ia.step(&mitm(leg, reply), now(), &mut r).map(|_| ()),
                    None => Err(IakerbError::State),
                };
                return Run {
                    client,
                    server: Err(f),
                    forwarded,
                    initiator: ia,
                };
            }
        }
    }
    panic!("IAKERB did not finish in 40 round trips")
}

/// The initiator (or its error), the session (or the refusal), and what
/// was forwarded to the KDC.
pub type SpnegoRun = (
    Result<SpnegoInitiator, kerbside_client::spnego::SpnegoError>,
    Result<Box<Session>, AcceptFailure>,
    Vec<KdcProxyRequest>,
);

/// Runs SPNEGO (offering `offers`) against `acc`, relaying IAKERB's KDC
/// messages to the in-process KDC.
pub fn run_spnego_iakerb(offers: Vec<OfferedMech>, acc: &mut Acceptor, seed: u64) -> SpnegoRun {
    let mut r = rng(seed);
    let mut kdc = kdc();
    let mut forwarded = Vec::new();
    let mut sp = SpnegoInitiator::new(offers, SpnegoOptions::default()).unwrap();
    let mut token = sp.initial_token(now(), &mut r).unwrap();
    let mut client_done = false;
    for round in 0..40u64 {
        let first = acc.step(&token, now(), &mut r);
        match drive_acceptor(
            acc,
            first,
            &mut kdc,
            Upstream::Kdc,
            &mut forwarded,
            seed + round,
        ) {
            Ok(AcceptStep::Continue(reply)) => match sp.step(&reply, now(), &mut r) {
                Ok(SpnegoStep::Continue(t)) => token = t,
                Ok(SpnegoStep::Complete(Some(t))) => {
                    client_done = true;
                    token = t;
                }
                Ok(SpnegoStep::Complete(None)) => panic!("initiator done, acceptor not"),
                Err(e) => {
                    return (
                        Err(e),
                        Err(AcceptFailure::silent(kerbside_server::AcceptError::State)),
                        forwarded,
                    );
                }
            },
            Ok(AcceptStep::Complete { reply, session }) => {
                if let Some(reply) = reply {
                    match sp.step(&reply, now(), &mut r) {
                        Ok(SpnegoStep::Complete(None)) => {}
                        Ok(other) => panic!("initiator wants more: {other:?}"),
                        Err(e) => return (Err(e), Ok(session), forwarded),
                    }
                } else {
                    assert!(client_done);
                }
                return (Ok(sp), Ok(session), forwarded);
            }
            Ok(AcceptStep::ProxyKdc(_)) => unreachable!(),
            Err(f) => {
                let c = match &f.reply {
                    Some(t) => sp.step(t, now(), &mut r).map(|_| sp),
                    None => Err(kerbside_client::spnego::SpnegoError::State),
                };
                return (c, Err(f), forwarded);
            }
        }
    }
    panic!("SPNEGO/IAKERB did not finish")
}
