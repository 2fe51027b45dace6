//! The application server and client drivers on real loopback sockets
//! (gss-sample framing): Kerberos raw and through SPNEGO, NTLM through
//! SPNEGO to an NTLM-only printer, raw NTLM, and the failures each side
//! reports (KRB-ERROR codes, silent NTLM refusals, unauthenticated
//! sessions, a client that goes quiet). Each test runs on a current-thread
//! runtime inside a `LocalSet`, as real mode and the simulation do.

use std::cell::RefCell;
use std::future::Future;
use std::net::SocketAddr;
use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use kerbside_client::gss::Mechanism;
use kerbside_client::gss_krb::KrbInitiatorOptions;
use kerbside_client::krb::{Credentials, Principal};
use kerbside_client::ntlm::{NtlmClient, NtlmClientConfig, NtlmCredentials};
use kerbside_client::spnego::{OfferedMech, SpnegoInitiator, SpnegoOptions};
use kerbside_crypto::{EncType, Key};
use kerbside_net::app_client::{self, AppClientConfig, AppClientError, ClientMechanism};
use kerbside_net::app_server::{AppEvent, AppEventSink, AppOutcome, AppServer, AppServerLimits};
use kerbside_net::tokio_driver::TokioNet;
use kerbside_net::{Clock, Net, host_rng};
use kerbside_server::sample_proto::{self, token_flags};
use kerbside_server::{AcceptMode, AcceptorConfig, AppService, NtlmAccounts, ServiceKeys};
use kerbside_wire::krb::asn1::{
    Asn1Object, EncTicketPart, EncryptedData, EncryptionKey, Ticket, TicketFlags, TransitedEncoding,
};
use kerbside_wire::krb::constants::{error_code, key_usage, name_type};
use kerbside_wire::time::to_kerberos_time;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const REALM: &str = "LAB.TEST";

/// A clock at a fixed offset from a fixed instant, so tests never depend
/// on the machine's time (real sockets, simulated clocks).
#[derive(Clone, Copy)]
struct FixedClock(SystemTime);

impl Clock for FixedClock {
    fn now(&self) -> SystemTime {
        self.0
    }
}

fn t0() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_790_000_000)
}

fn run<F: Future>(f: F) -> F::Output {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    tokio::task::LocalSet::new().block_on(&rt, f)
}

fn service_key() -> Key {
    Key::new(EncType::Aes256CtsHmacSha196, vec![0x42; 32]).unwrap()
}

fn service(mode: AcceptMode) -> Arc<AppService> {
    let mut keys = ServiceKeys::new();
    keys.insert(REALM, &["host", "app.lab.test"], 2, service_key());
    let mut accounts = NtlmAccounts::new();
    accounts.add_password("alice", "pw-alice");
    Arc::new(AppService::new(
        AcceptorConfig {
            mode,
            ..AcceptorConfig::default()
        },
        keys,
        accounts,
    ))
}

/// A service ticket as the KDC would issue it.
fn ticket(seed: u64) -> Credentials {
    let mut rng = host_rng(seed, "kdc");
    let session = Key::random(EncType::Aes256CtsHmacSha384192, &mut rng);
    let client = Principal::user("alice", REALM);
    let part = EncTicketPart {
        flags: TicketFlags::from(0),
        key: EncryptionKey::new(session.etype().id(), session.bytes().to_vec()),
        crealm: REALM.into(),
        cname: client.to_asn1(),
        transited: TransitedEncoding {
            tr_type: 1,
            contents: Vec::new(),
        },
        authtime: to_kerberos_time(t0()),
        starttime: None,
        endtime: to_kerberos_time(t0() + Duration::from_secs(36_000)),
        renew_till: None,
        caddr: None,
        authorization_data: None,
    };
    let cipher = service_key().encrypt(key_usage::KDC_REP_TICKET, &part.build(), &mut rng);
    Credentials {
        client,
        server: Principal::service("host", "app.lab.test", REALM),
        ticket: Ticket {
            tkt_vno: 5,
            realm: REALM.into(),
            sname: kerbside_wire::krb::principal(name_type::NT_SRV_HST, &["host", "app.lab.test"]),
            enc_part: EncryptedData::new(service_key().etype().id(), Some(2), cipher),
        },
        session_key: session,
        flags: 0,
        auth_time: t0(),
        start_time: t0(),
        end_time: t0() + Duration::from_secs(36_000),
        renew_till: None,
    }
}

fn ntlm(password: &str) -> Box<NtlmClient> {
    Box::new(NtlmClient::new(
        NtlmCredentials::password("alice", "LAB", password),
        NtlmClientConfig::default(),
    ))
}

#[derive(Default)]
struct Events(RefCell<Vec<AppEvent>>);

impl AppEventSink for Events {
    fn event(&self, e: &AppEvent) {
        self.0.borrow_mut().push(e.clone());
    }
}

/// Starts a server on an ephemeral loopback port; returns its address and
/// the event log.
async fn start_server(mode: AcceptMode, clock: FixedClock) -> (SocketAddr, Rc<Events>) {
    let net = TokioNet;
    let listener = net.bind_tcp("127.0.0.1:0".parse().unwrap()).await.unwrap();
    let addr = kerbside_net::TcpListen::local_addr(&listener).unwrap();
    let events = Rc::new(Events::default());
    let server = AppServer::new(
        net,
        clock,
        host_rng(1, "app"),
        service(mode),
        None,
        events.clone(),
        AppServerLimits {
            io_timeout: Duration::from_millis(500),
            ..AppServerLimits::default()
        },
    );
    tokio::task::spawn_local(async move { server.serve(listener).await });
    (addr, events)
}

async fn client(
    addr: SocketAddr,
    mech: ClientMechanism,
    clock: FixedClock,
) -> Result<app_client::AppClientOutcome, AppClientError> {
    app_client::run(
        &TokioNet,
        &clock,
        &mut host_rng(2, "client"),
        addr,
        mech,
        &AppClientConfig::default(),
    )
    .await
}

/// Waits until the server has logged `n` events.
async fn events_after(events: &Events, n: usize) -> Vec<AppEvent> {
    for _ in 0..200 {
        if events.0.borrow().len() >= n {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    events.0.borrow().clone()
}

#[test]
fn kerberos_raw_and_spnego() {
    run(async {
        let clock = FixedClock(t0());
        let (addr, events) = start_server(AcceptMode::Negotiate, clock).await;
        let raw = client(
            addr,
            ClientMechanism::Kerberos {
                creds: Box::new(ticket(1)),
                options: KrbInitiatorOptions::default(),
            },
            clock,
        )
        .await
        .unwrap();
        assert_eq!((raw.mechanism, raw.server_tokens), (Mechanism::Kerberos, 1));
        let sp = SpnegoInitiator::new(
            vec![
                OfferedMech::kerberos(ticket(2)),
                OfferedMech::Ntlm(ntlm("pw-alice")),
            ],
            SpnegoOptions::default(),
        )
        .unwrap();
        let spnego = client(addr, ClientMechanism::Spnego(Box::new(sp)), clock)
            .await
            .unwrap();
        assert_eq!(spnego.mechanism, Mechanism::Kerberos);
        let ev = events_after(&events, 2).await;
        for (e, via) in ev.iter().zip(["raw", "spnego"]) {
            assert_eq!(
                e.outcome,
                AppOutcome::Authenticated {
                    client: "alice@LAB.TEST".into(),
                    mechanism: "kerberos",
                    via,
                    messages: 1,
                    iakerb: None,
                }
            );
        }
        // the event serialises for audit logs
        let json = serde_json::to_string(&ev[0]).unwrap();
        assert!(json.contains("\"outcome\":\"authenticated\""), "{json}");
    });
}

#[test]
fn ntlm_to_an_ntlm_only_printer() {
    run(async {
        let clock = FixedClock(t0());
        let (addr, events) = start_server(AcceptMode::NtlmOnly, clock).await;
        // Negotiate: Kerberos offered first, the printer picks NTLM.
        let sp = SpnegoInitiator::new(
            vec![
                OfferedMech::kerberos(ticket(3)),
                OfferedMech::Ntlm(ntlm("pw-alice")),
            ],
            SpnegoOptions::default(),
        )
        .unwrap();
        let out = client(addr, ClientMechanism::Spnego(Box::new(sp)), clock)
            .await
            .unwrap();
        assert_eq!(out.mechanism, Mechanism::Ntlm);
        // raw NTLMSSP
        let out = client(addr, ClientMechanism::Ntlm(ntlm("pw-alice")), clock)
            .await
            .unwrap();
        assert_eq!((out.mechanism, out.server_tokens), (Mechanism::Ntlm, 1));
        // raw Kerberos: the printer closes without a word
        let err = client(
            addr,
            ClientMechanism::Kerberos {
                creds: Box::new(ticket(4)),
                options: KrbInitiatorOptions::default(),
            },
            clock,
        )
        .await
        .unwrap_err();
        assert!(matches!(err, AppClientError::RefusedSilently), "{err}");
        // a wrong NTLM password: silence too
        let err = client(addr, ClientMechanism::Ntlm(ntlm("wrong")), clock)
            .await
            .unwrap_err();
        assert!(matches!(err, AppClientError::RefusedSilently), "{err}");
        let ev = events_after(&events, 4).await;
        assert!(
            matches!(&ev[0].outcome, AppOutcome::Authenticated { mechanism: "ntlm", via: "spnego", client, .. } if client == "LAB\\alice")
        );
        assert!(matches!(
            &ev[1].outcome,
            AppOutcome::Authenticated {
                mechanism: "ntlm",
                via: "raw",
                ..
            }
        ));
        assert!(matches!(
            &ev[2].outcome,
            AppOutcome::Refused {
                kind: "mechanism-not-accepted",
                ..
            }
        ));
        assert!(matches!(
            &ev[3].outcome,
            AppOutcome::Refused { kind: "ntlm", .. }
        ));
    });
}

#[test]
fn krb_error_codes_reach_the_client() {
    run(async {
        // The server's clock is 10 minutes ahead of the client's.
        let (addr, events) = start_server(
            AcceptMode::Negotiate,
            FixedClock(t0() + Duration::from_secs(600)),
        )
        .await;
        let client_clock = FixedClock(t0());
        let err = client(
            addr,
            ClientMechanism::Kerberos {
                creds: Box::new(ticket(5)),
                options: KrbInitiatorOptions::default(),
            },
            client_clock,
        )
        .await
        .unwrap_err();
        assert_eq!(err.krb_code(), Some(error_code::KRB_AP_ERR_SKEW), "{err}");
        let sp = SpnegoInitiator::new(
            vec![OfferedMech::kerberos(ticket(6))],
            SpnegoOptions::default(),
        )
        .unwrap();
        let err = client(addr, ClientMechanism::Spnego(Box::new(sp)), client_clock)
            .await
            .unwrap_err();
        assert_eq!(err.krb_code(), Some(error_code::KRB_AP_ERR_SKEW), "{err}");
        let ev = events_after(&events, 2).await;
        for e in &ev {
            assert!(
                matches!(
                    e.outcome,
                    AppOutcome::Refused {
                        kind: "kerberos",
                        krb_code: Some(37),
                        ..
                    }
                ),
                "{e:?}"
            );
        }
    });
}

#[test]
fn unauthenticated_and_silent_clients() {
    run(async {
        let clock = FixedClock(t0());
        let (addr, events) = start_server(AcceptMode::Negotiate, clock).await;
        // gss-client -na: a bare NOOP, then a plain message
        let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
        s.write_all(&sample_proto::encode(token_flags::NOOP, &[]))
            .await
            .unwrap();
        s.write_all(&sample_proto::encode(token_flags::DATA, b"let me in"))
            .await
            .unwrap();
        let mut rest = Vec::new();
        s.read_to_end(&mut rest).await.unwrap();
        assert!(rest.is_empty(), "nothing is granted without a context");
        // a client that connects and says nothing times out
        let _quiet = tokio::net::TcpStream::connect(addr).await.unwrap();
        // a garbage context token
        let mut g = tokio::net::TcpStream::connect(addr).await.unwrap();
        g.write_all(&sample_proto::encode(
            token_flags::NOOP | token_flags::CONTEXT_NEXT,
            &[],
        ))
        .await
        .unwrap();
        g.write_all(&sample_proto::encode(
            token_flags::CONTEXT,
            b"\x60\x03garbage",
        ))
        .await
        .unwrap();
        let mut rest = Vec::new();
        g.read_to_end(&mut rest).await.unwrap();
        let ev = events_after(&events, 3).await;
        let outcomes: Vec<&AppOutcome> = ev.iter().map(|e| &e.outcome).collect();
        assert!(
            outcomes.contains(&&AppOutcome::Unauthenticated),
            "{outcomes:?}"
        );
        assert!(
            outcomes
                .iter()
                .any(|o| matches!(o, AppOutcome::Failed { error } if error.contains("timed out"))),
            "{outcomes:?}"
        );
        assert!(
            outcomes.iter().any(|o| matches!(
                o,
                AppOutcome::Refused {
                    kind: "malformed",
                    ..
                }
            )),
            "{outcomes:?}"
        );
    });
}
