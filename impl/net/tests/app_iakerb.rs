//! IAKERB through the application server on real loopback sockets: our
//! IAKERB client (app_client) → app_server → the KDC driver
//! (kdc_server) over UDP, falling back to TCP after RESPONSE_TOO_BIG,
//! and the same with a KDC inside the server process (LocalKDC on the
//! target). Also: a realm the server has no KDC for (85) and a KDC port
//! nobody answers (86), both reported to the client by the server.

use std::cell::RefCell;
use std::future::Future;
use std::net::SocketAddr;
use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use kerbside_client::gss::Mechanism;
use kerbside_client::iakerb::{IakerbError, IakerbInitiator, IakerbOptions, IakerbRequest};
use kerbside_client::krb::Secret;
use kerbside_crypto::{EncType, Key};
use kerbside_kdc::store::password_keys;
use kerbside_kdc::{Kdc, KdcConfig, PrincipalEntry, PrincipalKind, PrincipalStore, Transport};
use kerbside_net::app_client::{self, AppClientConfig, AppClientError, ClientMechanism};
use kerbside_net::app_kdc_forward::{ForwardTransport, InProcessKdc, NetKdcForwarder};
use kerbside_net::app_server::{AppEvent, AppEventSink, AppOutcome, AppServer, AppServerLimits};
use kerbside_net::kdc_server::{KdcServer, KdcServerLimits, RequestLog, RequestRecord};
use kerbside_net::tokio_driver::TokioNet;
use kerbside_net::{Clock, Net, host_rng};
use kerbside_server::{
    AcceptMode, AcceptorConfig, AppService, IakerbConfig, NtlmAccounts, ServiceKeys,
};
use kerbside_wire::krb::constants::error_code;
use kerbside_wire::krb::{Asn1Object, KrbErrorBuilder};

const REALM: &str = "LAB.TEST";

#[derive(Clone, Copy)]
struct FixedClock(SystemTime);

impl Clock for FixedClock {
    fn now(&self) -> SystemTime {
        self.0
    }
}

fn clock() -> FixedClock {
    FixedClock(UNIX_EPOCH + Duration::from_secs(1_790_000_000))
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

fn kdc() -> Kdc {
    let mut store = PrincipalStore::new(REALM);
    let p = |n: &str| kerbside_kdc::Principal::parse(n, REALM).unwrap();
    let entry = |name: &str, keys: Vec<Key>, salt: Vec<u8>| PrincipalEntry {
        principal: p(name),
        kvno: 2,
        keys,
        salt,
        requires_preauth: true,
        disabled: false,
        expires: None,
        kind: PrincipalKind::infer(&p(name)),
    };
    let (k, salt) = password_keys(
        REALM,
        &p("alice"),
        "pw-alice",
        &[EncType::Aes256CtsHmacSha196],
    )
    .unwrap();
    store.insert(entry("alice", k, salt)).unwrap();
    store
        .insert(entry(
            "krbtgt/LAB.TEST",
            vec![Key::new(EncType::Aes256CtsHmacSha196, vec![7; 32]).unwrap()],
            Vec::new(),
        ))
        .unwrap();
    store
        .insert(entry("host/app.lab.test", vec![service_key()], Vec::new()))
        .unwrap();
    let mut cfg = KdcConfig::new(REALM);
    cfg.enctypes = vec![EncType::Aes256CtsHmacSha196];
    Kdc::new(cfg, store).unwrap()
}

fn service() -> Arc<AppService> {
    let mut keys = ServiceKeys::new();
    keys.insert(REALM, &["host", "app.lab.test"], 2, service_key());
    Arc::new(AppService::new(
        AcceptorConfig {
            mode: AcceptMode::KerberosOnly,
            iakerb: Some(IakerbConfig::for_realm(REALM)),
            ..AcceptorConfig::default()
        },
        keys,
        NtlmAccounts::new(),
    ))
}

/// Which transport each request reached the KDC by.
#[derive(Default)]
struct Transports(RefCell<Vec<Transport>>);

impl RequestLog for Transports {
    fn record(&self, rec: &RequestRecord<'_>) {
        self.0.borrow_mut().push(rec.transport);
    }
}

/// How the KDC's UDP side behaves.
#[derive(Clone, Copy, PartialEq, Eq)]
enum UdpSide {
    /// Bound, never answers.
    Silent,
    /// Answers every datagram with KRB_ERR_RESPONSE_TOO_BIG, as a KDC
    /// does when the reply exceeds its UDP limit (RFC 4120 §7.2.1).
    TooBig,
}

/// The real KDC on TCP of a loopback port whose UDP side is `udp`; returns
/// the address, the transports the KDC saw, and the datagrams received.
async fn start_kdc(kdc: Kdc, udp_side: UdpSide) -> (SocketAddr, Rc<Transports>, Rc<RefCell<u32>>) {
    let net = TokioNet;
    let log = Rc::new(Transports::default());
    let datagrams = Rc::new(RefCell::new(0u32));
    for _ in 0..20 {
        let udp = net.bind_udp("127.0.0.1:0".parse().unwrap()).await.unwrap();
        let addr = udp.local_addr().unwrap();
        let Ok(tcp) = net.bind_tcp(addr).await else {
            continue;
        };
        let server = KdcServer::new(
            net,
            clock(),
            host_rng(1, "kdc"),
            kdc,
            KdcServerLimits::default(),
            log.clone(),
        );
        tokio::task::spawn_local(async move { server.serve_tcp(tcp).await });
        let count = datagrams.clone();
        tokio::task::spawn_local(async move {
            let too_big = KrbErrorBuilder::new(
                error_code::KRB_ERR_RESPONSE_TOO_BIG,
                clock().now(),
                REALM,
                kerbside_wire::krb::principal(2, &["krbtgt", REALM]),
            )
            .build()
            .build();
            let mut buf = vec![0u8; 4096];
            while let Ok((_, peer)) = udp.recv_from(&mut buf).await {
                *count.borrow_mut() += 1;
                if udp_side == UdpSide::TooBig {
                    let _ = udp.send_to(&too_big, peer).await;
                }
            }
        });
        return (addr, log, datagrams);
    }
    panic!("no loopback port for UDP and TCP");
}

#[derive(Default)]
struct Events(RefCell<Vec<AppEvent>>);

impl AppEventSink for Events {
    fn event(&self, e: &AppEvent) {
        self.0.borrow_mut().push(e.clone());
    }
}

async fn start_app(
    forwarder: Option<Rc<dyn kerbside_net::app_kdc_forward::KdcForwarder>>,
) -> (SocketAddr, Rc<Events>) {
    let net = TokioNet;
    let listener = net.bind_tcp("127.0.0.1:0".parse().unwrap()).await.unwrap();
    let addr = kerbside_net::TcpListen::local_addr(&listener).unwrap();
    let events = Rc::new(Events::default());
    let mut server = AppServer::new(
        net,
        clock(),
        host_rng(2, "app"),
        service(),
        None,
        events.clone(),
        AppServerLimits {
            kdc_timeout: Duration::from_millis(600),
            ..AppServerLimits::default()
        },
    );
    if let Some(f) = forwarder {
        server = server.with_forwarder(f);
    }
    tokio::task::spawn_local(async move { server.serve(listener).await });
    (addr, events)
}

fn iakerb_client(realm: Option<&str>) -> ClientMechanism {
    ClientMechanism::Iakerb(Box::new(IakerbInitiator::new(
        IakerbRequest {
            user: vec!["alice".into()],
            realm: realm.map(str::to_owned),
            secret: Secret::Password("pw-alice".into()),
            service: vec!["host".into(), "app.lab.test".into()],
            service_realm: None,
            tgt: None,
        },
        IakerbOptions::default(),
    )))
}

async fn connect(
    addr: SocketAddr,
    mech: ClientMechanism,
) -> Result<app_client::AppClientOutcome, AppClientError> {
    app_client::run(
        &TokioNet,
        &clock(),
        &mut host_rng(3, "client"),
        addr,
        mech,
        &AppClientConfig::default(),
    )
    .await
}

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
fn iakerb_over_udp_falls_back_to_tcp_after_response_too_big_or_silence() {
    run(async {
        for side in [UdpSide::TooBig, UdpSide::Silent] {
            let (kdc_addr, transports, datagrams) = start_kdc(kdc(), side).await;
            let forwarder = NetKdcForwarder::new(
                TokioNet,
                ForwardTransport::UdpThenTcp,
                Duration::from_millis(400),
                64 * 1024,
            )
            .with_realm(REALM, vec![kdc_addr]);
            let (addr, events) = start_app(Some(Rc::new(forwarder))).await;
            let out = connect(addr, iakerb_client(None)).await.unwrap();
            assert_eq!(out.mechanism, Mechanism::Kerberos);
            // discovery, AS (PREAUTH_REQUIRED), AS-REP, TGS-REP, AP-REP
            assert_eq!(out.server_tokens, 5);
            // Each request tried UDP first, then reached the KDC over TCP.
            assert_eq!(*datagrams.borrow(), 3);
            assert_eq!(*transports.0.borrow(), [Transport::Tcp; 3]);
            let ev = events_after(&events, 1).await;
            match &ev[0].outcome {
                AppOutcome::Authenticated {
                    client,
                    iakerb,
                    messages,
                    ..
                } => {
                    assert_eq!(client, "alice@LAB.TEST");
                    assert_eq!(*messages, 1);
                    let s = iakerb.unwrap();
                    assert_eq!((s.kdc_exchanges, s.hops), (3, 4));
                }
                other => panic!("{other:?}"),
            }
            let json = serde_json::to_string(&ev[0]).unwrap();
            assert!(json.contains("\"iakerb\":{\"kdc_exchanges\":3"), "{json}");
        }
    });
}

#[test]
fn iakerb_to_a_kdc_inside_the_server() {
    run(async {
        let local = InProcessKdc::new(kdc(), clock(), host_rng(4, "localkdc"));
        let (addr, events) = start_app(Some(Rc::new(local))).await;
        let out = connect(addr, iakerb_client(Some(REALM))).await.unwrap();
        assert_eq!(out.server_tokens, 4);
        let ev = events_after(&events, 1).await;
        assert!(
            matches!(ev[0].outcome, AppOutcome::Authenticated { .. }),
            "{ev:?}"
        );
    });
}

#[test]
fn no_kdc_gives_85_and_a_silent_kdc_86() {
    run(async {
        // The default forwarder without a KDC: 85.
        let (addr, events) = start_app(None).await;
        let err = connect(addr, iakerb_client(Some(REALM))).await.unwrap_err();
        assert_eq!(
            err.krb_code(),
            Some(error_code::KRB_AP_ERR_IAKERB_KDC_NOT_FOUND),
            "{err}"
        );
        assert!(matches!(err, AppClientError::Iakerb(IakerbError::Proxy(_))));
        // A UDP port nobody answers and a closed TCP port: 86.
        let black_hole = TokioNet
            .bind_udp("127.0.0.1:0".parse().unwrap())
            .await
            .unwrap();
        let hole = black_hole.local_addr().unwrap();
        let forwarder = NetKdcForwarder::new(
            TokioNet,
            ForwardTransport::UdpThenTcp,
            Duration::from_millis(300),
            64 * 1024,
        )
        .with_realm(REALM, vec![hole]);
        let (addr2, events2) = start_app(Some(Rc::new(forwarder))).await;
        let err = connect(addr2, iakerb_client(Some(REALM)))
            .await
            .unwrap_err();
        assert_eq!(
            err.krb_code(),
            Some(error_code::KRB_AP_ERR_IAKERB_KDC_NO_RESPONSE),
            "{err}"
        );
        for ev in [
            events_after(&events, 1).await,
            events_after(&events2, 1).await,
        ] {
            assert!(
                matches!(ev[0].outcome, AppOutcome::Refused { kind: "iakerb", .. }),
                "{ev:?}"
            );
        }
        drop(black_hole);
    });
}
