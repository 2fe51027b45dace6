//! The negotiator driver on real loopback sockets: our KDC server over TCP
//! and UDP, our KKDCP relay over HTTPS (kept-alive or one connection per
//! message), an application server running the `kerbside_server` acceptor
//! with gss-sample framing, and dead endpoints (refused, black hole).

use std::cell::RefCell;
use std::net::SocketAddr;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use kerbside_client::audit::{AttemptOutcome, ids};
use kerbside_client::gss::Mechanism;
use kerbside_client::krb::Principal;
use kerbside_client::negotiator::{
    AppProtocol, AppServer as Target, Credential, LogonError, LogonRequest, NtlmMode, PathKind,
    Policy,
};
use kerbside_kdc::load::{Source, load_store};
use kerbside_kdc::{Kdc, KdcConfig};
use kerbside_net::app_server::{AppEvent, AppEventSink, AppOutcome, AppServer, AppServerLimits};
use kerbside_net::https::{ClientCertPolicy, TestCa, client_config, server_config};
use kerbside_net::kdc_server::{KdcServer, KdcServerLimits, NoLog};
use kerbside_net::negotiator_driver::NegotiatorDriver;
use kerbside_net::relay_server::{RelayServer, ServerLimits};
use kerbside_net::tokio_driver::{SystemClock, TokioNet};
use kerbside_net::{Net, host_rng};
use kerbside_relay::{MemoryAudit, RealmRoute, Relay, RelayConfig};
use kerbside_server::{AcceptMode, AcceptorConfig, AppService, NtlmAccounts, ServiceKeys};
use tokio::net::TcpListener;

const REALM: &str = "CORP.EXAMPLE";
const ALICE_PW: &str = "alice-Secret-1";
const PRINCIPALS: &str = r#"
[[principal]]
name = "krbtgt/CORP.EXAMPLE"
password = "krbtgt-secret"
enctypes = ["aes256-cts-hmac-sha1-96"]

[[principal]]
name = "alice"
password = "alice-Secret-1"
requires_preauth = true
enctypes = ["aes256-cts-hmac-sha1-96"]

[[principal]]
name = "host/localhost"
password = "app-secret"
enctypes = ["aes256-cts-hmac-sha1-96"]
"#;

fn kdc() -> Kdc {
    let cfg = KdcConfig::new(REALM);
    let store = load_store(
        REALM,
        &cfg.enctypes,
        Some(Source {
            data: PRINCIPALS,
            origin: "test",
        }),
        None,
    )
    .unwrap();
    Kdc::new(cfg, store).unwrap()
}

fn run<F: std::future::Future>(f: F) -> F::Output {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    tokio::task::LocalSet::new().block_on(&rt, f)
}

/// Our KDC on UDP and TCP of one ephemeral loopback port.
async fn start_kdc() -> SocketAddr {
    let net = TokioNet;
    // UDP picks the port; TCP on the same number may be taken by another
    // test's listener, then try another.
    let (udp, tcp, addr) = 'bind: {
        for _ in 0..50 {
            let udp = net.bind_udp("127.0.0.1:0".parse().unwrap()).await.unwrap();
            let addr = kerbside_net::UdpSock::local_addr(&udp).unwrap();
            if let Ok(tcp) = net.bind_tcp(addr).await {
                break 'bind (udp, tcp, addr);
            }
        }
        panic!("no port free for both UDP and TCP");
    };
    let server = KdcServer::new(
        net,
        SystemClock,
        host_rng(1, "kdc"),
        kdc(),
        KdcServerLimits::default(),
        Rc::new(NoLog),
    );
    let s2 = server.clone();
    tokio::task::spawn_local(async move { server.serve_udp(udp).await });
    tokio::task::spawn_local(async move { s2.serve_tcp(tcp).await });
    addr
}

/// A port where nothing listens (connect is refused).
async fn dead_addr() -> SocketAddr {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    l.local_addr().unwrap()
}

/// A listener that accepts and never answers (a black hole after connect).
async fn black_hole() -> SocketAddr {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    tokio::task::spawn_local(async move {
        let mut held = Vec::new();
        while let Ok((s, _)) = l.accept().await {
            held.push(s);
        }
    });
    addr
}

/// Our relay over HTTPS in front of `kdc`; returns its URL and the client
/// TLS configuration that trusts it.
async fn start_relay(kdc: SocketAddr) -> (String, Arc<rustls::ClientConfig>) {
    let config =
        RelayConfig::with_realms([
            RealmRoute::parse_mapping(&format!("{REALM}=tcp://{kdc}")).unwrap()
        ])
        .unwrap();
    let relay = Arc::new(Relay::new(config).unwrap());
    let ca = TestCa::generate("test CA").unwrap();
    let cert = ca.issue_server(&["127.0.0.1", "localhost"]).unwrap();
    let tls = server_config(
        vec![cert.cert.clone()],
        cert.key_der(),
        &ClientCertPolicy::None,
    )
    .unwrap();
    let listener = TokioNet
        .bind_tcp("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let addr = listener.local_addr().unwrap();
    let server = RelayServer::new(
        TokioNet,
        SystemClock,
        relay,
        Some(tls),
        Arc::new(MemoryAudit::default()),
        ServerLimits::default(),
    );
    tokio::task::spawn_local(async move { server.serve(listener).await });
    let client = client_config(std::slice::from_ref(&ca.cert.cert), None).unwrap();
    (
        format!("https://127.0.0.1:{}/KdcProxy", addr.port()),
        client,
    )
}

/// What the application server recorded, one line per connection.
#[derive(Default)]
struct Seen(RefCell<Vec<String>>);

impl AppEventSink for Seen {
    fn event(&self, e: &AppEvent) {
        let line = match &e.outcome {
            AppOutcome::Authenticated {
                client,
                mechanism,
                messages,
                ..
            } => format!("{client} {mechanism} messages={messages}"),
            other => format!("{other:?}"),
        };
        self.0.borrow_mut().push(line);
    }
}

/// The application server (`kerbside_net::app_server`, the acceptor behind
/// gss-sample framing).
async fn start_app(mode: AcceptMode) -> (SocketAddr, Rc<Seen>) {
    let k = kdc();
    let entry = k
        .store()
        .get(&["host".to_owned(), "localhost".to_owned()])
        .unwrap();
    let mut accounts = NtlmAccounts::new();
    accounts.add_password("alice", ALICE_PW);
    let svc = Arc::new(AppService::new(
        AcceptorConfig {
            mode,
            ..AcceptorConfig::default()
        },
        ServiceKeys::from_principal(REALM, entry),
        accounts,
    ));
    let listener = TokioNet
        .bind_tcp("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let addr = listener.local_addr().unwrap();
    let seen = Rc::new(Seen::default());
    let server = AppServer::new(
        TokioNet,
        SystemClock,
        host_rng(3, "app"),
        svc,
        None,
        seen.clone(),
        AppServerLimits::default(),
    );
    tokio::task::spawn_local(async move { server.serve(listener).await });
    (addr, seen)
}

/// Lets the server task record the end of the last connection.
async fn settle() {
    for _ in 0..50 {
        tokio::task::yield_now().await;
    }
    tokio::time::sleep(Duration::from_millis(20)).await;
}

fn request(id: u64, app: SocketAddr) -> LogonRequest {
    LogonRequest {
        id,
        client: Principal::user("alice", REALM),
        credential: Credential::Password(ALICE_PW.into()),
        service: Some(Principal::service("host", "localhost", REALM)),
        server: Some(Target {
            host: "127.0.0.1".into(),
            port: app.port(),
            aliases: vec!["localhost".into()],
            protocol: AppProtocol::Negotiate,
        }),
        workstation: "LAPTOP1".into(),
    }
}

fn policy(kdcs: &[SocketAddr]) -> Policy {
    let mut p = Policy::default();
    p.native.kdcs = kdcs.iter().map(ToString::to_string).collect();
    p.native.timeout = Duration::from_millis(400);
    p.kkdcp.timeout = Duration::from_secs(3);
    p.app_timeout = Duration::from_secs(3);
    p
}

fn driver(
    p: Policy,
    tls: Option<Arc<rustls::ClientConfig>>,
) -> NegotiatorDriver<TokioNet, SystemClock> {
    NegotiatorDriver::new(TokioNet, SystemClock, host_rng(9, "client"), p, tls)
}

#[test]
fn native_kerberos_then_the_application_server_over_real_sockets() {
    run(async {
        let kdc = start_kdc().await;
        let (app, seen) = start_app(AcceptMode::Negotiate).await;
        let d = driver(policy(&[kdc]), None);
        let r = d.logon(request(1, app)).await;
        assert!(r.is_success(), "{:?}", r.error);
        assert_eq!(r.path, PathKind::NativeTcp);
        assert_eq!(r.mechanism, Some(Mechanism::Kerberos));
        let s = d.stats();
        assert_eq!((s.kdc_sends, s.app_connections), (3, 1));
        settle().await;
        // The server saw a clean session: context, one message, goodbye.
        assert_eq!(*seen.0.borrow(), ["alice@CORP.EXAMPLE kerberos messages=1"]);
        // Second logon: the service ticket is cached.
        let r = d.logon(request(2, app)).await;
        assert!(r.is_success(), "{:?}", r.error);
        assert_eq!(r.path, PathKind::Cache);
        assert_eq!(d.stats().kdc_sends, 3);
    });
}

#[test]
fn refused_dc_fails_over_and_udp_works_too() {
    run(async {
        let kdc = start_kdc().await;
        let dead = dead_addr().await;
        let (app, _) = start_app(AcceptMode::Negotiate).await;
        let d = driver(policy(&[dead, kdc]), None);
        let r = d.logon(request(1, app)).await;
        assert!(r.is_success(), "{:?}", r.error);
        let first = r.attempts().next().unwrap();
        assert_eq!(first.outcome, AttemptOutcome::Refused);
        assert_eq!(r.endpoint, Some(kdc.to_string()));

        let mut p = policy(&[kdc]);
        p.native.tcp = false;
        p.native.udp = true;
        let d = driver(p, None);
        let r = d.logon(request(2, app)).await;
        assert!(r.is_success(), "{:?}", r.error);
        assert_eq!(r.path, PathKind::NativeUdp);
    });
}

#[test]
fn black_hole_dc_times_out_and_the_https_relay_carries_the_logon() {
    run(async {
        let kdc = start_kdc().await;
        let hole = black_hole().await;
        let (app, _) = start_app(AcceptMode::Negotiate).await;
        let (url, tls) = start_relay(kdc).await;
        for keep_alive in [true, false] {
            let mut p = policy(&[hole]);
            p.kkdcp.relays = vec![url.clone()];
            p.kkdcp.keep_alive = keep_alive;
            let d = driver(p, Some(tls.clone()));
            let r = d.logon(request(1, app)).await;
            assert!(r.is_success(), "{:?}", r.error);
            assert_eq!(r.path, PathKind::Kkdcp);
            let a: Vec<_> = r.attempts().collect();
            assert_eq!(a[0].outcome, AttemptOutcome::Timeout);
            assert!(a[0].duration >= Duration::from_millis(400));
            // Three KDC messages through the relay: one connection when
            // kept alive, one each otherwise.
            let expected = if keep_alive { 1 } else { 3 };
            assert_eq!(
                d.stats().relay_connections,
                expected,
                "keep_alive={keep_alive}"
            );
        }
    });
}

#[test]
fn racing_over_real_sockets_cancels_the_black_hole() {
    run(async {
        let kdc = start_kdc().await;
        let hole = black_hole().await;
        let (app, _) = start_app(AcceptMode::Negotiate).await;
        let (url, tls) = start_relay(kdc).await;
        let mut p = policy(&[hole]);
        p.native.timeout = Duration::from_secs(5);
        p.kkdcp.relays = vec![url];
        p.racing.enabled = true;
        p.racing.delay = Duration::from_millis(50);
        let d = driver(p, Some(tls));
        let r = d.logon(request(1, app)).await;
        assert!(r.is_success(), "{:?}", r.error);
        assert_eq!(r.path, PathKind::Kkdcp);
        assert!(
            r.attempts()
                .any(|a| a.path == PathKind::NativeTcp && a.outcome == AttemptOutcome::Cancelled)
        );
        assert!(r.total < Duration::from_secs(5), "{:?}", r.total);
    });
}

#[test]
fn ntlm_policy_decides_when_no_kerberos_path_exists() {
    run(async {
        let dead = dead_addr().await;
        let (app, _) = start_app(AcceptMode::Negotiate).await;
        let mut p = policy(&[dead]);
        p.ntlm.mode = NtlmMode::Deny;
        let d = driver(p.clone(), None);
        let r = d.logon(request(1, app)).await;
        assert!(
            matches!(r.error, Some(LogonError::NtlmDenied { .. })),
            "{:?}",
            r.error
        );
        assert_eq!(r.count(ids::NTLM_CLIENT_BLOCKED), 1);
        assert_eq!(d.stats().app_connections, 0, "no connection, no NTLM byte");

        p.ntlm.mode = NtlmMode::Audit;
        let d = driver(p, None);
        let r = d.logon(request(2, app)).await;
        assert!(r.is_success(), "{:?}", r.error);
        assert_eq!(r.path, PathKind::Ntlm);
        assert_eq!(r.mechanism, Some(Mechanism::Ntlm));
        assert_eq!(r.count(ids::NTLM_CLIENT_BLOCKED_AUDIT), 1);
    });
}

#[test]
fn raw_ntlm_to_an_ntlm_only_device() {
    run(async {
        let (app, seen) = start_app(AcceptMode::NtlmOnly).await;
        let d = driver(policy(&[]), None);
        let mut req = request(1, app);
        if let Some(s) = req.server.as_mut() {
            s.protocol = AppProtocol::Ntlm;
        }
        let r = d.logon(req).await;
        assert!(r.is_success(), "{:?}", r.error);
        assert_eq!(r.path, PathKind::Ntlm);
        assert_eq!(d.stats().kdc_sends, 0);
        assert_eq!(r.count(ids::NTLM_USED), 1);
        settle().await;
        assert_eq!(*seen.0.borrow(), ["CORP.EXAMPLE\\alice ntlm messages=1"]);
    });
}

#[test]
fn an_injected_monotonic_clock_expires_the_negative_cache_across_skipped_time() {
    use std::cell::Cell;
    run(async {
        let kdc = start_kdc().await;
        let dead = dead_addr().await;
        let (app, _) = start_app(AcceptMode::Negotiate).await;
        let mut p = policy(&[dead, kdc]);
        p.negative_cache.ttl = Duration::from_secs(600);
        p.tickets.cache = false;
        // Scenario time = tokio time + whatever the test skips.
        let skipped = Rc::new(Cell::new(Duration::ZERO));
        let origin = tokio::time::Instant::now();
        let s2 = skipped.clone();
        let d = driver(p, None).with_monotonic(Rc::new(move || {
            tokio::time::Instant::now().saturating_duration_since(origin) + s2.get()
        }));
        let r = d.logon(request(1, app)).await;
        assert!(r.is_success(), "{:?}", r.error);
        assert_eq!(r.count(ids::SKIPPED), 0);
        // Five minutes later (skipped, not slept): still cached.
        skipped.set(Duration::from_secs(300));
        let r = d.logon(request(2, app)).await;
        assert_eq!(r.count(ids::SKIPPED), 1);
        // Eleven minutes: expired, the dead DC is asked (and refuses) again.
        skipped.set(Duration::from_secs(660));
        let r = d.logon(request(3, app)).await;
        assert!(r.is_success(), "{:?}", r.error);
        assert_eq!(r.count(ids::SKIPPED), 0);
        assert_eq!(
            r.attempts().next().map(|a| a.outcome),
            Some(AttemptOutcome::Refused)
        );
    });
}
