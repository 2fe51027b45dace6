//! The KDC driver and the KDC client transports on real loopback sockets:
//! UDP and TCP on one port, several requests per TCP connection, the record
//! mark rules, idle timeout, RESPONSE_TOO_BIG then TCP, and the typed
//! transport errors.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::rc::Rc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use kerbside_kdc::load::{Source, load_store};
use kerbside_kdc::{Kdc, KdcConfig};
use kerbside_net::kdc_server::{KdcServer, KdcServerLimits, NoLog};
use kerbside_net::kdc_transport::{TransportError, exchange_tcp, send_tcp, send_udp};
use kerbside_net::tokio_driver::TokioNet;
use kerbside_net::{Clock, Net, host_rng};
use kerbside_wire::krb::{KrbMessage, decode};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const REALM: &str = "LAB.TEST";
const T: Duration = Duration::from_secs(5);

/// The MIT captures' moment, so their PA-ENC-TIMESTAMP is fresh.
#[derive(Clone, Copy, Debug)]
struct CaptureClock;
impl Clock for CaptureClock {
    fn now(&self) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(1_795_543_236)
    }
}

fn kdc_data(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../kdc/tests/data")
        .join(name)
}

fn vector(name: &str) -> Vec<u8> {
    hex::decode(
        std::fs::read_to_string(kdc_data(&format!("mit/{name}.hex")))
            .unwrap()
            .trim(),
    )
    .unwrap()
}

fn kdc(f: impl FnOnce(&mut KdcConfig)) -> Kdc {
    let mut cfg = KdcConfig::new(REALM);
    f(&mut cfg);
    let flags = std::fs::read_to_string(kdc_data("lab-flags.toml")).unwrap();
    let keytab = std::fs::read(kdc_data("mit/realm.keytab")).unwrap();
    let store = load_store(
        REALM,
        &cfg.enctypes,
        Some(Source {
            data: flags.as_str(),
            origin: "lab-flags.toml",
        }),
        Some(Source {
            data: keytab.as_slice(),
            origin: "realm.keytab",
        }),
    )
    .unwrap();
    Kdc::new(cfg, store).unwrap()
}

/// Runs `body` against a KDC server on an ephemeral loopback port.
fn with_server<F, Fut>(kdc: Kdc, limits: KdcServerLimits, body: F)
where
    F: FnOnce(SocketAddr) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let local = tokio::task::LocalSet::new();
    local.block_on(&rt, async move {
        let net = TokioNet;
        // UDP's ephemeral port may be taken for TCP by someone else: retry.
        let mut bound = None;
        for _ in 0..50 {
            let udp = net.bind_udp("127.0.0.1:0".parse().unwrap()).await.unwrap();
            let addr = kerbside_net::UdpSock::local_addr(&udp).unwrap();
            if let Ok(tcp) = net.bind_tcp(addr).await {
                bound = Some((udp, tcp, addr));
                break;
            }
        }
        let (udp, tcp, addr) = bound.expect("a port free for UDP and TCP");
        let server = KdcServer::new(
            net,
            CaptureClock,
            host_rng(1, "dc"),
            kdc,
            limits,
            Rc::new(NoLog),
        );
        let s1 = server.clone();
        tokio::task::spawn_local(async move { s1.serve_udp(udp).await });
        tokio::task::spawn_local(async move { server.serve_tcp(tcp).await });
        body(addr).await;
    });
}

fn error_code(reply: &[u8]) -> Option<i32> {
    match decode(reply).unwrap() {
        KrbMessage::KrbError(e) => Some(e.error_code),
        _ => None,
    }
}

#[test]
fn udp_and_tcp_on_one_port_answer_the_mit_requests() {
    with_server(kdc(|_| {}), KdcServerLimits::default(), |addr| async move {
        let net = TokioNet;
        let r = send_udp(&net, addr, &vector("udp-as-req-nopreauth"), T)
            .await
            .unwrap();
        assert_eq!(error_code(&r), Some(25));
        let r = send_udp(&net, addr, &vector("udp-as-req-pa-enc-timestamp"), T)
            .await
            .unwrap();
        assert!(matches!(decode(&r).unwrap(), KrbMessage::AsRep(_)));
        let r = send_tcp(
            &net,
            addr,
            &vector("tcp-as-req-pa-enc-timestamp"),
            T,
            65_536,
        )
        .await
        .unwrap();
        assert!(matches!(decode(&r).unwrap(), KrbMessage::AsRep(_)));
    });
}

#[test]
fn several_requests_on_one_tcp_connection() {
    with_server(kdc(|_| {}), KdcServerLimits::default(), |addr| async move {
        let mut s = TokioNet.connect(addr).await.unwrap();
        for name in [
            "tcp-as-req-nopreauth",
            "tcp-as-req-principal-nopreauth",
            "tcp-as-req-pa-enc-timestamp",
        ] {
            let r = exchange_tcp(&mut s, &vector(name), T, 65_536)
                .await
                .unwrap();
            assert!(decode(&r).is_ok(), "{name}");
        }
    });
}

#[test]
fn pipelined_requests_in_one_write_are_all_answered_in_order() {
    with_server(kdc(|_| {}), KdcServerLimits::default(), |addr| async move {
        let mut s = TokioNet.connect(addr).await.unwrap();
        let mut both = kerbside_wire::record::encode(&vector("tcp-as-req-nopreauth")).unwrap();
        both.extend(
            kerbside_wire::record::encode(&vector("tcp-as-req-principal-nopreauth")).unwrap(),
        );
        s.write_all(&both).await.unwrap();
        for want in [Some(25), None] {
            let mut len = [0u8; 4];
            s.read_exact(&mut len).await.unwrap();
            let mut body = vec![0u8; u32::from_be_bytes(len) as usize];
            s.read_exact(&mut body).await.unwrap();
            assert_eq!(error_code(&body), want);
        }
    });
}

#[test]
fn a_record_dribbled_out_past_the_idle_timeout_is_cut_off() {
    let limits = KdcServerLimits {
        idle_timeout: Duration::from_millis(300),
        ..KdcServerLimits::default()
    };
    with_server(kdc(|_| {}), limits, |addr| async move {
        let framed = kerbside_wire::record::encode(&vector("tcp-as-req-nopreauth")).unwrap();
        let mut s = TokioNet.connect(addr).await.unwrap();
        // One byte every 100 ms: each read is within the timeout, the record is not.
        let mut closed = false;
        for b in framed.iter().take(10) {
            if s.write_all(&[*b]).await.is_err() {
                closed = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let mut rest = Vec::new();
        let n = tokio::time::timeout(Duration::from_secs(3), s.read_to_end(&mut rest)).await;
        assert!(
            closed || matches!(n, Ok(Ok(0)) | Ok(Err(_))),
            "still open: {n:?}"
        );
    });
}

#[test]
fn udp_too_big_then_tcp() {
    with_server(
        kdc(|c| c.udp_max_reply = 300),
        KdcServerLimits::default(),
        |addr| async move {
            let net = TokioNet;
            let req = vector("udp-as-req-pa-enc-timestamp");
            let r = send_udp(&net, addr, &req, T).await.unwrap();
            assert_eq!(error_code(&r), Some(52)); // KRB_ERR_RESPONSE_TOO_BIG
            let r = send_tcp(&net, addr, &req, T, 65_536).await.unwrap();
            assert_eq!(error_code(&r), None);
        },
    );
}

#[test]
fn record_mark_rules() {
    with_server(
        kdc(|_| {}),
        KdcServerLimits {
            max_record: 1000,
            ..KdcServerLimits::default()
        },
        |addr| async move {
            for mark in [[0x80, 0, 0, 10], [0, 0, 0x10, 0]] {
                // High bit set, or longer than the cap: FIELD_TOOLONG, then close.
                let mut s = TokioNet.connect(addr).await.unwrap();
                s.write_all(&mark).await.unwrap();
                let mut len = [0u8; 4];
                s.read_exact(&mut len).await.unwrap();
                let mut body = vec![0u8; u32::from_be_bytes(len) as usize];
                s.read_exact(&mut body).await.unwrap();
                assert_eq!(error_code(&body), Some(61));
                let mut rest = Vec::new();
                assert_eq!(
                    tokio::time::timeout(T, s.read_to_end(&mut rest))
                        .await
                        .unwrap()
                        .unwrap(),
                    0
                );
            }
            // Not Kerberos: closed without a reply.
            let mut s = TokioNet.connect(addr).await.unwrap();
            s.write_all(&[0, 0, 0, 3, b'G', b'E', b'T']).await.unwrap();
            let mut rest = Vec::new();
            assert_eq!(
                tokio::time::timeout(T, s.read_to_end(&mut rest))
                    .await
                    .unwrap()
                    .unwrap(),
                0
            );
        },
    );
}

#[test]
fn idle_connections_are_closed() {
    let limits = KdcServerLimits {
        idle_timeout: Duration::from_millis(200),
        ..KdcServerLimits::default()
    };
    with_server(kdc(|_| {}), limits, |addr| async move {
        let mut s = TokioNet.connect(addr).await.unwrap();
        // Half a record mark, then silence.
        s.write_all(&[0, 0]).await.unwrap();
        let mut rest = Vec::new();
        let n = tokio::time::timeout(Duration::from_secs(3), s.read_to_end(&mut rest)).await;
        assert!(
            matches!(n, Ok(Ok(0)) | Ok(Err(_))),
            "connection should be closed: {n:?}"
        );
    });
}

#[test]
fn transport_errors_are_typed() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let net = TokioNet;
        // A UDP port nobody listens on: the socket is unconnected (the Net
        // seam has no UDP connect), so Linux does not report the ICMP
        // port-unreachable and the wait ends by timeout.
        let free = std::net::UdpSocket::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap();
        let e = send_udp(&net, free, b"\x6a\x00", Duration::from_millis(100))
            .await
            .unwrap_err();
        assert!(matches!(e, TransportError::Timeout), "{e}");
        let free_tcp = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap();
        let e = send_tcp(&net, free_tcp, b"\x6a\x00", T, 65_536)
            .await
            .unwrap_err();
        assert!(matches!(e, TransportError::Refused), "{e}");
        // A UDP socket that never answers.
        let silent = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let e = send_udp(
            &net,
            silent.local_addr().unwrap(),
            b"\x6a\x00",
            Duration::from_millis(100),
        )
        .await
        .unwrap_err();
        assert!(matches!(e, TransportError::Timeout), "{e}");
        // A TCP peer that accepts and closes.
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let a = l.local_addr().unwrap();
        tokio::spawn(async move {
            let (s, _) = l.accept().await.unwrap();
            drop(s);
        });
        let e = send_tcp(&net, a, b"\x6a\x00", T, 65_536).await.unwrap_err();
        assert!(matches!(e, TransportError::Reset), "{e}");
        // A TCP peer announcing a reply above the cap.
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let a = l.local_addr().unwrap();
        tokio::spawn(async move {
            let (mut s, _) = l.accept().await.unwrap();
            let mut b = [0u8; 6];
            s.read_exact(&mut b).await.unwrap();
            s.write_all(&[0, 1, 0, 0]).await.unwrap();
            tokio::time::sleep(Duration::from_secs(1)).await;
        });
        let e = send_tcp(&net, a, b"\x6a\x00", T, 1000).await.unwrap_err();
        assert!(
            matches!(
                e,
                TransportError::TooBig {
                    size: 65_536,
                    limit: 1000
                }
            ),
            "{e}"
        );
    });
}
