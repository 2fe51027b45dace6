//! A test realm without a KDC: service keys, tickets minted directly with
//! the service key (so tests control every ticket field), accounts, and
//! loops that run an initiator against an [`Acceptor`].
#![allow(dead_code, unreachable_pub)] // each test binary uses a subset

pub mod iakerb;
pub mod mutate;

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use kerbside_client::gss::SecurityContext;
use kerbside_client::krb::{Credentials, Principal};
use kerbside_client::ntlm::{NtlmClient, NtlmClientConfig, NtlmCredentials};
use kerbside_client::spnego::{SpnegoError, SpnegoInitiator, SpnegoStep};
use kerbside_crypto::{EncType, Key};
use kerbside_server::{
    AcceptError, AcceptFailure, AcceptMode, AcceptStep, Acceptor, AcceptorConfig, AppService,
    NtlmAccounts, ServiceKeys, Session,
};
use kerbside_wire::krb::asn1::{
    Asn1Object, EncTicketPart, EncryptedData, EncryptionKey, Ticket, TicketFlags, TransitedEncoding,
};
use kerbside_wire::krb::constants::{key_usage, name_type, ticket_flags};
use kerbside_wire::time::to_kerberos_time;
use rand_chacha::ChaCha12Rng;
use rand_core::SeedableRng;

pub const REALM: &str = "LAB.TEST";
pub const SERVICE: [&str; 2] = ["host", "app.lab.test"];
pub const KVNO: u32 = 3;
pub const USER: &str = "alice";
pub const PASSWORD: &str = "Correct horse 1";

/// A fixed instant (2026-09-21), so tests never read a clock.
pub fn now() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_790_000_000)
}

pub fn rng(seed: u64) -> ChaCha12Rng {
    ChaCha12Rng::seed_from_u64(seed)
}

pub fn service_key() -> Key {
    Key::new(EncType::Aes256CtsHmacSha196, vec![0x42; 32]).unwrap()
}

pub fn keys() -> ServiceKeys {
    let mut k = ServiceKeys::new();
    k.insert(REALM, &SERVICE, KVNO, service_key());
    k
}

pub fn accounts() -> NtlmAccounts {
    let mut a = NtlmAccounts::new();
    a.add_password(USER, PASSWORD);
    a
}

pub fn service(mode: AcceptMode) -> Arc<AppService> {
    service_with(AcceptorConfig {
        mode,
        ..AcceptorConfig::default()
    })
}

pub fn service_with(config: AcceptorConfig) -> Arc<AppService> {
    Arc::new(AppService::new(config, keys(), accounts()))
}

/// What a ticket should look like.
#[derive(Clone)]
pub struct TicketSpec {
    pub realm: String,
    pub service: Vec<String>,
    pub key: Key,
    pub kvno: Option<u32>,
    pub session_etype: EncType,
    pub start: SystemTime,
    pub end: SystemTime,
    pub flags: u32,
    pub client: String,
    /// The client's realm.
    pub crealm: String,
}

impl Default for TicketSpec {
    fn default() -> Self {
        Self {
            realm: REALM.into(),
            service: SERVICE.iter().map(|s| (*s).to_owned()).collect(),
            key: service_key(),
            kvno: Some(KVNO),
            session_etype: EncType::Aes256CtsHmacSha384192,
            start: now() - Duration::from_secs(60),
            end: now() + Duration::from_secs(10 * 3600),
            flags: ticket_flags::INITIAL | ticket_flags::PRE_AUTHENT,
            client: USER.into(),
            crealm: REALM.into(),
        }
    }
}

/// A service ticket encrypted directly with the service key (usage 2), as
/// a KDC would issue it.
pub fn ticket(spec: &TicketSpec, seed: u64) -> Credentials {
    let mut r = rng(seed);
    let session = Key::random(spec.session_etype, &mut r);
    let client = Principal::user(&spec.client, &spec.crealm);
    let comps: Vec<&str> = spec.service.iter().map(String::as_str).collect();
    let server = Principal::service(comps[0], comps.get(1).copied().unwrap_or(""), &spec.realm);
    let part = EncTicketPart {
        flags: TicketFlags::from(spec.flags),
        key: EncryptionKey::new(session.etype().id(), session.bytes().to_vec()),
        crealm: spec.crealm.clone(),
        cname: client.to_asn1(),
        transited: TransitedEncoding {
            tr_type: 1,
            contents: Vec::new(),
        },
        authtime: to_kerberos_time(spec.start),
        starttime: Some(to_kerberos_time(spec.start)),
        endtime: to_kerberos_time(spec.end),
        renew_till: None,
        caddr: None,
        authorization_data: None,
    };
    let cipher = spec
        .key
        .encrypt(key_usage::KDC_REP_TICKET, &part.build(), &mut r);
    let ticket = Ticket {
        tkt_vno: 5,
        realm: spec.realm.clone(),
        sname: kerbside_wire::krb::principal(name_type::NT_SRV_HST, &comps),
        enc_part: EncryptedData::new(spec.key.etype().id(), spec.kvno, cipher),
    };
    Credentials {
        client,
        server,
        ticket,
        session_key: session,
        flags: spec.flags,
        auth_time: spec.start,
        start_time: spec.start,
        end_time: spec.end,
        renew_till: None,
    }
}

pub fn good_ticket() -> Credentials {
    ticket(&TicketSpec::default(), 7)
}

pub fn ntlm_client(password: &str) -> NtlmClient {
    NtlmClient::new(
        NtlmCredentials::password(USER, "LAB", password),
        NtlmClientConfig {
            target_spn: Some("host/app.lab.test".into()),
            ..NtlmClientConfig::default()
        },
    )
}

/// How a run ended on each side.
pub type Outcome = (Result<(), SpnegoError>, Result<Box<Session>, AcceptFailure>);

fn state<T>() -> Result<T, AcceptFailure> {
    Err(AcceptFailure::silent(AcceptError::State))
}

/// Runs a SPNEGO initiator against an acceptor to the end.
pub fn run_spnego(init: &mut SpnegoInitiator, acc: &mut Acceptor, seed: u64) -> Outcome {
    run_spnego_via(init, acc, seed, &mut |_, t| Some(t))
}

/// Like [`run_spnego`] with a man-in-the-middle: `mitm(leg, token)` may
/// rewrite or drop (None) each token; leg 0 is the first initiator token,
/// then acceptor, initiator, ... alternately. A dropped token ends the run
/// with `State` on the side left waiting.
pub fn run_spnego_via(
    init: &mut SpnegoInitiator,
    acc: &mut Acceptor,
    seed: u64,
    mitm: &mut dyn FnMut(usize, Vec<u8>) -> Option<Vec<u8>>,
) -> Outcome {
    let mut r = rng(seed);
    let mut leg = 0;
    let mut token = match init.initial_token(now(), &mut r) {
        Ok(t) => t,
        Err(e) => return (Err(e), state()),
    };
    let mut session: Option<Box<Session>> = None;
    let mut initiator_done = false;
    for _ in 0..10 {
        let Some(t) = mitm(leg, token) else {
            return (Err(SpnegoError::State), state());
        };
        leg += 1;
        let reply = match acc.step(&t, now(), &mut r) {
            Ok(AcceptStep::Continue(reply)) => reply,
            Ok(AcceptStep::Complete { reply, session: s }) => {
                session = Some(s);
                match reply {
                    Some(reply) => reply,
                    None => {
                        let init_result = if initiator_done {
                            Ok(())
                        } else {
                            Err(SpnegoError::State)
                        };
                        return (init_result, Ok(session.take().unwrap()));
                    }
                }
            }
            Ok(AcceptStep::ProxyKdc(_)) => panic!("no IAKERB here"),
            Err(f) => {
                // The acceptor's reject / KRB-ERROR still reaches the
                // initiator, which reports its own view of the failure.
                let init_result = match f.reply.clone().and_then(|t| mitm(leg, t)) {
                    Some(reply) => init.step(&reply, now(), &mut r).map(|_| ()),
                    None => Err(SpnegoError::State),
                };
                return (init_result, Err(f));
            }
        };
        if initiator_done {
            panic!("acceptor kept talking after the initiator completed");
        }
        let Some(reply) = mitm(leg, reply) else {
            return (Err(SpnegoError::State), session.map_or_else(state, Ok));
        };
        leg += 1;
        match init.step(&reply, now(), &mut r) {
            Ok(SpnegoStep::Continue(next)) => token = next,
            Ok(SpnegoStep::Complete(Some(last))) => {
                initiator_done = true;
                token = last;
            }
            Ok(SpnegoStep::Complete(None)) => {
                return (Ok(()), session.map_or_else(state, Ok));
            }
            Err(e) => return (Err(e), session.map_or_else(state, Ok)),
        }
    }
    panic!("negotiation did not finish in 10 round trips")
}

/// Checks that both contexts protect messages for each other.
pub fn check_contexts(client: &mut SecurityContext, server: &mut SecurityContext, seed: u64) {
    let mut r = rng(seed);
    let wrapped = client.wrap(b"hello from the client", true, &mut r).unwrap();
    let u = server.unwrap(&wrapped).unwrap();
    assert_eq!(u.data, b"hello from the client");
    let mic = server.get_mic(&u.data);
    client.verify_mic(b"hello from the client", &mic).unwrap();
    let back = server.wrap(b"reply", true, &mut r).unwrap();
    assert_eq!(client.unwrap(&back).unwrap().data, b"reply");
    // replaying the client's token is refused
    assert!(server.unwrap(&wrapped).is_err());
}
