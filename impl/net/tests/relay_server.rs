//! The relay driver on real loopback sockets: hyper + rustls in front, fake
//! KDCs behind (answering, silent, dead, oversize, endless, UDP), the KKDCP
//! client transport as the client. Each test runs on a current-thread
//! runtime inside a `LocalSet`, as real mode and the simulation do.

use std::cell::RefCell;
use std::future::Future;
use std::net::SocketAddr;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use kerbside_net::Net;
use kerbside_net::https::{ClientCertPolicy, TestCa, client_config, server_config};
use kerbside_net::kkdcp_transport::{ConnectionMode, KkdcpClient, KkdcpError, KkdcpUrl};
use kerbside_net::relay_server::{RelayServer, ServerLimits};
use kerbside_net::tokio_driver::{SystemClock, TokioNet};
use kerbside_relay::{ClientAuth, MemoryAudit, Outcome, RateLimit, RealmRoute, Relay, RelayConfig};
use kerbside_wire::kkdcp::KdcProxyMessage;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream, UdpSocket};

fn vector(name: &str) -> Vec<u8> {
    let path = format!(
        "{}/../wire/tests/data/mit/{name}.hex",
        env!("CARGO_MANIFEST_DIR")
    );
    hex::decode(std::fs::read_to_string(&path).unwrap().trim()).unwrap()
}

fn inner_of(name: &str) -> Vec<u8> {
    KdcProxyMessage::decode(&vector(name))
        .unwrap()
        .kerberos_message()
        .unwrap()
        .to_vec()
}

fn run<F: Future>(f: F) -> F::Output {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    tokio::task::LocalSet::new().block_on(&rt, f)
}

/// The three captured exchanges: (KKDCP request body, KDC reply, kdcproxy's response body).
fn exchanges() -> Vec<(Vec<u8>, Vec<u8>, Vec<u8>)> {
    [
        ("kkdcp-as-req-nopreauth", "kkdcp-krb-error-preauth-required"),
        ("kkdcp-as-req-pa-enc-timestamp", "kkdcp-as-rep"),
        ("kkdcp-tgs-req", "kkdcp-tgs-rep"),
    ]
    .iter()
    .map(|(q, r)| (vector(q), inner_of(r), vector(r)))
    .collect()
}

/// What a fake TCP KDC does with each connection.
#[derive(Clone)]
enum Behaviour {
    /// Answers each captured request with its captured reply.
    Captured,
    /// Reads the request and never answers.
    Silent,
    /// Declares this many bytes, then sends `A`s forever.
    Endless(u32),
}

type Seen = Rc<RefCell<Vec<Vec<u8>>>>;

/// A fake KDC; returns its address and the framed requests it received.
async fn tcp_kdc(behaviour: Behaviour) -> (SocketAddr, Seen) {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    let seen: Seen = Rc::default();
    let seen2 = seen.clone();
    tokio::task::spawn_local(async move {
        loop {
            let (mut s, _) = l.accept().await.unwrap();
            let seen = seen2.clone();
            let behaviour = behaviour.clone();
            tokio::task::spawn_local(async move {
                let mut mark = [0u8; 4];
                if s.read_exact(&mut mark).await.is_err() {
                    return;
                }
                let mut msg = vec![0u8; u32::from_be_bytes(mark) as usize];
                s.read_exact(&mut msg).await.unwrap();
                let mut framed = mark.to_vec();
                framed.extend_from_slice(&msg);
                seen.borrow_mut().push(framed);
                match behaviour {
                    Behaviour::Captured => {
                        let reply = exchanges()
                            .into_iter()
                            .find(|(q, _, _)| {
                                KdcProxyMessage::decode(q)
                                    .unwrap()
                                    .kerberos_message()
                                    .unwrap()
                                    == msg
                            })
                            .map(|(_, r, _)| r)
                            .expect("a captured request");
                        s.write_all(&kerbside_wire::record::encode(&reply).unwrap())
                            .await
                            .unwrap();
                    }
                    Behaviour::Silent => {
                        tokio::time::sleep(Duration::from_secs(60)).await;
                    }
                    Behaviour::Endless(declared) => {
                        s.write_all(&declared.to_be_bytes()).await.unwrap();
                        let chunk = [b'A'; 8192];
                        while s.write_all(&chunk).await.is_ok() {}
                    }
                }
            });
        }
    });
    (addr, seen)
}

/// An address where nothing listens.
async fn dead_addr() -> SocketAddr {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    l.local_addr().unwrap()
}

struct Running {
    url: KkdcpUrl,
    audit: Arc<MemoryAudit>,
    ca: Option<TestCa>,
}

impl Running {
    fn client(&self, mode: ConnectionMode) -> KkdcpClient<TokioNet> {
        let tls = self
            .ca
            .as_ref()
            .map(|ca| client_config(std::slice::from_ref(&ca.cert.cert), None).unwrap());
        KkdcpClient::new(
            TokioNet,
            self.url.clone(),
            tls,
            mode,
            Duration::from_secs(10),
        )
        .unwrap()
    }
}

/// Starts a relay (TLS when `tls`) for LAB.TEST with the given upstreams.
async fn relay(upstreams: &str, tls: bool, tweak: impl FnOnce(&mut RelayConfig)) -> Running {
    relay_with(
        upstreams,
        tls.then_some(ClientCertPolicy::None),
        ServerLimits::default(),
        tweak,
    )
    .await
}

async fn relay_with(
    upstreams: &str,
    tls: Option<ClientCertPolicy>,
    limits: ServerLimits,
    tweak: impl FnOnce(&mut RelayConfig),
) -> Running {
    let mut config =
        RelayConfig::with_realms([
            RealmRoute::parse_mapping(&format!("LAB.TEST={upstreams}")).unwrap()
        ])
        .unwrap();
    config.upstream_timeout = Duration::from_millis(400);
    config.request_timeout = Duration::from_millis(1500);
    tweak(&mut config);
    let relay = Arc::new(Relay::new(config).unwrap());
    let (ca, server_tls) = match tls {
        Some(policy) => {
            let ca = TestCa::generate("test CA").unwrap();
            let cert = ca.issue_server(&["127.0.0.1", "localhost"]).unwrap();
            let policy = match policy {
                ClientCertPolicy::None => ClientCertPolicy::None,
                ClientCertPolicy::Optional(_) => {
                    ClientCertPolicy::Optional(vec![ca.cert.cert.clone()])
                }
                ClientCertPolicy::Required(_) => {
                    ClientCertPolicy::Required(vec![ca.cert.cert.clone()])
                }
            };
            let cfg = server_config(vec![cert.cert.clone()], cert.key_der(), &policy).unwrap();
            (Some(ca), Some(cfg))
        }
        None => (None, None),
    };
    let audit = Arc::new(MemoryAudit::default());
    let listener = TokioNet
        .bind_tcp("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let addr = listener.local_addr().unwrap();
    let server = RelayServer::new(
        TokioNet,
        SystemClock,
        relay,
        server_tls,
        audit.clone(),
        limits,
    );
    tokio::task::spawn_local(async move { server.serve(listener).await });
    let scheme = if ca.is_some() { "https" } else { "http" };
    let url = format!("{scheme}://127.0.0.1:{}/KdcProxy", addr.port())
        .parse()
        .unwrap();
    Running { url, audit, ca }
}

/// Writes a raw HTTP request and reads the response until the server closes.
async fn raw(addr: &KkdcpUrl, request: &[u8]) -> String {
    let mut s = TcpStream::connect((addr.host.as_str(), addr.port))
        .await
        .unwrap();
    s.write_all(request).await.unwrap();
    let mut out = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), s.read_to_end(&mut out))
        .await
        .expect("server closes");
    String::from_utf8_lossy(&out).into_owned()
}

#[test]
fn https_keep_alive_relays_captured_exchanges_byte_for_byte() {
    run(async {
        let (kdc, seen) = tcp_kdc(Behaviour::Captured).await;
        let r = relay(&format!("tcp://{kdc}"), true, |_| {}).await;
        let mut client = r.client(ConnectionMode::KeepAlive);
        for (req, _, proxy_reply) in exchanges() {
            let resp = client.post(Bytes::from(req.clone())).await.unwrap();
            assert_eq!(resp.status, 200);
            assert_eq!(resp.content_type.as_deref(), Some("application/kerberos"));
            assert_eq!(
                hex::encode(&resp.body),
                hex::encode(&proxy_reply),
                "same bytes kdcproxy returned"
            );
        }
        assert_eq!(
            client.connections_opened(),
            1,
            "one kept-alive TLS connection"
        );
        let sent: Vec<Vec<u8>> = exchanges()
            .iter()
            .map(|(q, _, _)| KdcProxyMessage::decode(q).unwrap().kerb_message)
            .collect();
        assert_eq!(
            *seen.borrow(),
            sent,
            "the KDC received exactly kerb-message"
        );
        let audit = r.audit.records();
        assert_eq!(audit.len(), 3);
        assert!(
            audit
                .iter()
                .all(|a| a.status == 200 && a.outcome == Outcome::Relayed)
        );
        assert_eq!(audit[0].error_code, Some(25));
        // exchange() frames and unframes like MIT.
        let inner = inner_of("kkdcp-as-req-nopreauth");
        let reply = client.exchange("LAB.TEST", &inner).await.unwrap();
        assert_eq!(reply, inner_of("kkdcp-krb-error-preauth-required"));
    });
}

#[test]
fn new_connection_per_request_and_mit_style_http_1_0() {
    run(async {
        let (kdc, _) = tcp_kdc(Behaviour::Captured).await;
        let r = relay(&format!("tcp://{kdc}"), true, |_| {}).await;
        let mut client = r.client(ConnectionMode::NewConnection);
        for (req, _, proxy_reply) in exchanges() {
            let resp = client.post(Bytes::from(req)).await.unwrap();
            assert_eq!(resp.body.as_ref(), &proxy_reply[..]);
        }
        assert_eq!(client.connections_opened(), 3);
        // MIT's exact request shape (sendto_kdc.c make_proxy_request), over plain HTTP.
        let plain = relay(&format!("tcp://{kdc}"), false, |_| {}).await;
        let (req, _, proxy_reply) = exchanges().remove(0);
        let mut http = format!(
            "POST /KdcProxy HTTP/1.0\r\nHost: 127.0.0.1:{}\r\nCache-Control: no-cache\r\nPragma: no-cache\r\n\
             User-Agent: kerberos/1.0\r\nContent-type: application/kerberos\r\nContent-Length: {}\r\n\r\n",
            plain.url.port,
            req.len()
        )
        .into_bytes();
        http.extend_from_slice(&req);
        let mut s = TcpStream::connect((plain.url.host.as_str(), plain.url.port))
            .await
            .unwrap();
        s.write_all(&http).await.unwrap();
        let mut out = Vec::new();
        tokio::time::timeout(Duration::from_secs(5), s.read_to_end(&mut out))
            .await
            .unwrap()
            .unwrap();
        // MIT finds the first blank line and decodes the rest (service_https_read).
        let split = out.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
        assert!(out.starts_with(b"HTTP/1.0 200 OK\r\n") || out.starts_with(b"HTTP/1.1 200 OK\r\n"));
        assert_eq!(&out[split..], &proxy_reply[..], "HTTP/1.0: body then close");
    });
}

#[test]
fn dead_upstream_fails_over_to_the_next() {
    run(async {
        let dead = dead_addr().await;
        let (kdc, seen) = tcp_kdc(Behaviour::Captured).await;
        let r = relay(&format!("tcp://{dead},tcp://{kdc}"), false, |_| {}).await;
        let (req, _, proxy_reply) = exchanges().remove(0);
        let resp = r
            .client(ConnectionMode::KeepAlive)
            .post(Bytes::from(req))
            .await
            .unwrap();
        assert_eq!((resp.status, resp.body.as_ref()), (200, &proxy_reply[..]));
        assert_eq!(seen.borrow().len(), 1);
        let a = &r.audit.records()[0];
        assert_eq!(
            (a.attempts, a.upstream.clone()),
            (2, Some(format!("tcp://{kdc}")))
        );
        // Nothing alive: 503.
        let r = relay(&format!("tcp://{dead}"), false, |_| {}).await;
        let (req, _, _) = exchanges().remove(0);
        let resp = r
            .client(ConnectionMode::KeepAlive)
            .post(Bytes::from(req))
            .await
            .unwrap();
        assert_eq!(resp.status, 503);
        assert_eq!(r.audit.records()[0].reason, Some("upstream_connect"));
    });
}

#[test]
fn slow_upstream_times_out_and_fails_over_within_budget() {
    run(async {
        let (silent, _) = tcp_kdc(Behaviour::Silent).await;
        let (kdc, _) = tcp_kdc(Behaviour::Captured).await;
        let r = relay(&format!("tcp://{silent},tcp://{kdc}"), false, |_| {}).await;
        let (req, _, proxy_reply) = exchanges().remove(1);
        let mut client = r.client(ConnectionMode::KeepAlive);
        let started = tokio::time::Instant::now();
        let resp = client.post(Bytes::from(req.clone())).await.unwrap();
        let took = started.elapsed();
        assert_eq!((resp.status, resp.body.as_ref()), (200, &proxy_reply[..]));
        assert!(
            took >= Duration::from_millis(400) && took < Duration::from_millis(1400),
            "{took:?}"
        );
        // Only silent KDCs: 504 once the request budget (1.5 s) is spent,
        // not after each upstream's full timeout.
        let r = relay(
            &format!("tcp://{silent},tcp://{silent},tcp://{silent},tcp://{silent}"),
            false,
            |_| {},
        )
        .await;
        let started = tokio::time::Instant::now();
        let resp = r
            .client(ConnectionMode::KeepAlive)
            .post(Bytes::from(req))
            .await
            .unwrap();
        let took = started.elapsed();
        assert_eq!(resp.status, 504);
        assert!(
            took >= Duration::from_millis(1500) && took < Duration::from_millis(2500),
            "{took:?}"
        );
        assert_eq!(r.audit.records()[0].attempts, 4);
    });
}

#[test]
fn oversize_and_endless_upstream_replies_are_502_and_bounded() {
    run(async {
        // Declares more than 128 KiB: refused after 4 bytes.
        let (big, _) = tcp_kdc(Behaviour::Endless(200 * 1024)).await;
        let r = relay(&format!("tcp://{big}"), false, |_| {}).await;
        let (req, _, _) = exchanges().remove(0);
        let started = tokio::time::Instant::now();
        let resp = r
            .client(ConnectionMode::KeepAlive)
            .post(Bytes::from(req.clone()))
            .await
            .unwrap();
        assert_eq!(resp.status, 502);
        assert!(started.elapsed() < Duration::from_millis(300));
        assert_eq!(r.audit.records()[0].reason, Some("upstream_too_large"));
        // Declares exactly the limit and never stops sending: the relay reads
        // the declared 128 KiB, stops, and finds it is not Kerberos.
        let (endless, _) = tcp_kdc(Behaviour::Endless(128 * 1024)).await;
        let r = relay(&format!("tcp://{endless}"), false, |_| {}).await;
        let resp = r
            .client(ConnectionMode::KeepAlive)
            .post(Bytes::from(req))
            .await
            .unwrap();
        assert_eq!(resp.status, 502);
        assert_eq!(r.audit.records()[0].reason, Some("upstream_not_kerberos"));
    });
}

#[test]
fn udp_upstream_gets_the_bare_message_and_the_prefix_comes_back() {
    run(async {
        let sock = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let addr = sock.local_addr().unwrap();
        let received: Seen = Rc::default();
        let rec = received.clone();
        tokio::task::spawn_local(async move {
            let mut buf = vec![0u8; 65536];
            loop {
                let (n, from) = sock.recv_from(&mut buf).await.unwrap();
                rec.borrow_mut().push(buf[..n].to_vec());
                sock.send_to(&inner_of("kkdcp-as-rep"), from).await.unwrap();
            }
        });
        let r = relay(&format!("udp://{addr}"), false, |_| {}).await;
        let (req, _, proxy_reply) = exchanges().remove(1);
        let resp = r
            .client(ConnectionMode::KeepAlive)
            .post(Bytes::from(req))
            .await
            .unwrap();
        assert_eq!((resp.status, resp.body.as_ref()), (200, &proxy_reply[..]));
        assert_eq!(
            received.borrow()[0],
            inner_of("kkdcp-as-req-pa-enc-timestamp"),
            "RFC 4120 §7.2.1: no record mark"
        );
    });
}

#[test]
fn http_level_rejections_have_exact_statuses() {
    run(async {
        let (kdc, seen) = tcp_kdc(Behaviour::Captured).await;
        let r = relay(&format!("tcp://{kdc}"), false, |_| {}).await;
        let get = raw(
            &r.url,
            b"GET /KdcProxy HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        )
        .await;
        assert!(get.starts_with("HTTP/1.1 405 "), "{get}");
        assert!(
            get.to_ascii_lowercase().contains("\r\nallow: post\r\n"),
            "{get}"
        );
        let chunked = raw(
            &r.url,
            b"POST /KdcProxy HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
        )
        .await;
        assert!(chunked.starts_with("HTTP/1.1 411 "), "{chunked}");
        // 413 is answered without waiting for the 200 KB the client announced.
        let big = raw(
            &r.url,
            b"POST /KdcProxy HTTP/1.1\r\nHost: x\r\nContent-Length: 200000\r\n\r\n",
        )
        .await;
        assert!(big.starts_with("HTTP/1.1 413 "), "{big}");
        let ct = raw(
            &r.url,
            b"POST /KdcProxy HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello",
        )
        .await;
        assert!(ct.starts_with("HTTP/1.1 415 "), "{ct}");
        // Garbage: 400 and the connection is closed even though the client asked to keep it.
        let bad = raw(
            &r.url,
            b"POST /KdcProxy HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello",
        )
        .await;
        assert!(bad.starts_with("HTTP/1.1 400 "), "{bad}");
        assert!(bad.ends_with("Invalid request."), "{bad}");
        let nf = raw(
            &r.url,
            b"POST /other HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
        )
        .await;
        assert!(nf.starts_with("HTTP/1.1 404 "), "{nf}");
        assert!(seen.borrow().is_empty(), "nothing reached the KDC");
        let statuses: Vec<u16> = r.audit.records().iter().map(|a| a.status).collect();
        assert_eq!(statuses, [405, 411, 413, 415, 400, 404]);
        // An undeclared realm: 403 and no upstream contact (CVE-2025-59088).
        let inner = inner_of("kkdcp-as-req-nopreauth");
        let body = KdcProxyMessage::request(&inner, "EVIL.TEST")
            .unwrap()
            .encode();
        let resp = r
            .client(ConnectionMode::KeepAlive)
            .post(Bytes::from(body))
            .await
            .unwrap();
        assert_eq!(resp.status, 403);
        assert!(seen.borrow().is_empty());
    });
}

#[test]
fn mutual_tls_required_refuses_clients_without_a_certificate() {
    run(async {
        let (kdc, _) = tcp_kdc(Behaviour::Captured).await;
        let r = relay_with(
            &format!("tcp://{kdc}"),
            Some(ClientCertPolicy::Required(Vec::new())),
            ServerLimits::default(),
            |c| {
                c.auth = ClientAuth {
                    bearer_tokens: Vec::new(),
                    mutual_tls: true,
                };
            },
        )
        .await;
        let (req, _, proxy_reply) = exchanges().remove(0);
        let err = r
            .client(ConnectionMode::KeepAlive)
            .post(Bytes::from(req.clone()))
            .await
            .unwrap_err();
        assert!(
            matches!(err, KkdcpError::Tls { .. } | KkdcpError::Http(_)),
            "{err}"
        );
        let ca = r.ca.as_ref().unwrap();
        let me = ca.issue_client("ws01").unwrap();
        let tls = client_config(
            std::slice::from_ref(&ca.cert.cert),
            Some((vec![me.cert.clone()], me.key_der())),
        )
        .unwrap();
        let mut client = KkdcpClient::new(
            TokioNet,
            r.url.clone(),
            Some(tls),
            ConnectionMode::KeepAlive,
            Duration::from_secs(5),
        )
        .unwrap();
        let resp = client.post(Bytes::from(req)).await.unwrap();
        assert_eq!((resp.status, resp.body.as_ref()), (200, &proxy_reply[..]));
        let id = r.audit.records().last().unwrap().identity.clone().unwrap();
        assert_eq!(id, kerbside_net::https::cert_identity(&me.cert));
    });
}

#[test]
fn bearer_token_and_rate_limit() {
    run(async {
        let (kdc, _) = tcp_kdc(Behaviour::Captured).await;
        let r = relay(&format!("tcp://{kdc}"), true, |c| {
            c.auth = ClientAuth {
                bearer_tokens: vec!["tok-123".into()],
                mutual_tls: false,
            };
            c.rate_limit = Some(RateLimit {
                per_second: 0.01,
                burst: 2,
            });
        })
        .await;
        let (req, _, proxy_reply) = exchanges().remove(0);
        let resp = r
            .client(ConnectionMode::KeepAlive)
            .post(Bytes::from(req.clone()))
            .await
            .unwrap();
        assert_eq!(resp.status, 401);
        let mut client = r
            .client(ConnectionMode::KeepAlive)
            .with_bearer_token("tok-123");
        for _ in 0..2 {
            let resp = client.post(Bytes::from(req.clone())).await.unwrap();
            assert_eq!((resp.status, resp.body.as_ref()), (200, &proxy_reply[..]));
        }
        let resp = client.post(Bytes::from(req)).await.unwrap();
        assert_eq!(resp.status, 429);
    });
}

#[test]
fn idle_keep_alive_connections_close_and_the_client_reconnects() {
    run(async {
        let (kdc, _) = tcp_kdc(Behaviour::Captured).await;
        let limits = ServerLimits {
            header_timeout: Duration::from_millis(200),
            ..ServerLimits::default()
        };
        let r = relay_with(
            &format!("tcp://{kdc}"),
            Some(ClientCertPolicy::None),
            limits,
            |_| {},
        )
        .await;
        let mut client = r.client(ConnectionMode::KeepAlive);
        let (req, _, proxy_reply) = exchanges().remove(0);
        let resp = client.post(Bytes::from(req.clone())).await.unwrap();
        assert_eq!(resp.body.as_ref(), &proxy_reply[..]);
        let resp = client.post(Bytes::from(req.clone())).await.unwrap();
        assert_eq!(resp.body.as_ref(), &proxy_reply[..]);
        assert_eq!(client.connections_opened(), 1);
        // Idle past the server's header timeout: the server closes, the
        // client notices before its next request and opens a new connection.
        tokio::time::sleep(Duration::from_millis(500)).await;
        let resp = client.post(Bytes::from(req)).await.unwrap();
        assert_eq!(resp.body.as_ref(), &proxy_reply[..]);
        assert_eq!(client.connections_opened(), 2);
    });
}

#[test]
fn slow_client_body_is_cut_off_with_400() {
    run(async {
        let (kdc, seen) = tcp_kdc(Behaviour::Captured).await;
        let limits = ServerLimits {
            body_timeout: Duration::from_millis(300),
            ..ServerLimits::default()
        };
        let r = relay_with(&format!("tcp://{kdc}"), None, limits, |_| {}).await;
        // Announce 100 bytes, send 10, stall (slowloris on the body).
        let mut s = TcpStream::connect((r.url.host.as_str(), r.url.port))
            .await
            .unwrap();
        s.write_all(b"POST /KdcProxy HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n0123456789")
            .await
            .unwrap();
        let mut out = Vec::new();
        tokio::time::timeout(Duration::from_secs(5), s.read_to_end(&mut out))
            .await
            .unwrap()
            .unwrap();
        let text = String::from_utf8_lossy(&out);
        assert!(text.starts_with("HTTP/1.1 400 "), "{text}");
        assert!(text.ends_with("Incomplete request body."), "{text}");
        assert_eq!(r.audit.records()[0].reason, Some("incomplete_body"));
        assert!(seen.borrow().is_empty());
    });
}

/// Reads one HTTP request (head + Content-Length body); false on EOF.
async fn read_request(s: &mut TcpStream) -> bool {
    let mut buf = Vec::new();
    let mut byte = [0u8; 1];
    while !buf.ends_with(b"\r\n\r\n") {
        match s.read(&mut byte).await {
            Ok(1) => buf.push(byte[0]),
            _ => return false,
        }
    }
    let head = String::from_utf8_lossy(&buf).to_ascii_lowercase();
    let len: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .map_or(0, |v| v.trim().parse().unwrap());
    let mut body = vec![0u8; len];
    s.read_exact(&mut body).await.is_ok()
}

#[test]
fn client_resends_once_when_a_kept_alive_connection_dies_under_a_request() {
    run(async {
        let reply = vector("kkdcp-krb-error-preauth-required");
        let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = l.local_addr().unwrap().port();
        let answer = format!(
            "HTTP/1.1 200 OK\r\nContent-Type: application/kerberos\r\nContent-Length: {}\r\n\r\n",
            reply.len()
        );
        let mut resp = answer.into_bytes();
        resp.extend_from_slice(&reply);
        tokio::task::spawn_local(async move {
            // First connection: answer one request, then take the next and
            // close without answering (a server-side idle close racing it).
            let (mut s, _) = l.accept().await.unwrap();
            assert!(read_request(&mut s).await);
            s.write_all(&resp).await.unwrap();
            assert!(read_request(&mut s).await);
            drop(s);
            // Second connection: answers.
            let (mut s, _) = l.accept().await.unwrap();
            while read_request(&mut s).await {
                s.write_all(&resp).await.unwrap();
            }
        });
        let url: KkdcpUrl = format!("http://127.0.0.1:{port}/KdcProxy").parse().unwrap();
        let mut client = KkdcpClient::new(
            TokioNet,
            url,
            None,
            ConnectionMode::KeepAlive,
            Duration::from_secs(5),
        )
        .unwrap();
        let body = Bytes::from(vector("kkdcp-as-req-nopreauth"));
        for _ in 0..2 {
            let r = client.post(body.clone()).await.unwrap();
            assert_eq!(r.body.as_ref(), &reply[..]);
        }
        assert_eq!(client.connections_opened(), 2);
    });
}
