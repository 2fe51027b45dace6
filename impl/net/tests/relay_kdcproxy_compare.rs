//! Our relay next to FreeIPA kdcproxy (Debian python3-kdcproxy under
//! gunicorn), both in front of the same MIT krb5kdc, fed the same requests.
//! Where MS-KKDCP or kdcproxy define the answer we must match it; where
//! kdcproxy has a known bug (protocols.md §1.6: 500 on garbage and on a
//! missing target-domain, case-sensitive realms) the test shows the
//! difference. Also: our KKDCP client against kdcproxy (client interop).

use kerbside_testsupport::kdcproxy;
use kerbside_testsupport::mit_lab as mit;
#[path = "support/relay.rs"]
mod relay;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use bytes::Bytes;
use kerbside_client::krb::{AsExchange, AsOptions, Principal, Secret};
use kerbside_net::kkdcp_transport::{ConnectionMode, KkdcpClient};
use kerbside_net::tokio_driver::{SystemClock, TokioNet};
use kerbside_net::{Clock, host_rng};
use kerbside_relay::{RealmRoute, RelayConfig};
use kerbside_wire::kkdcp::KdcProxyMessage;

/// A fresh AS-REQ for `nopreauth@realm_in_body` (answered with an AS-REP).
fn as_req(realm_in_body: &str, seed: u64) -> Vec<u8> {
    let mut ex = AsExchange::new(
        Principal::user("nopreauth", realm_in_body),
        Secret::Password("nopreauthpw".into()),
        AsOptions::default(),
    );
    ex.start(SystemClock.now(), &mut host_rng(seed, "client"))
        .unwrap()
}

/// POSTs `body` with `headers` over a fresh plain-HTTP connection; returns
/// (status, body).
fn post(port: u16, headers: &str, body: &[u8]) -> (u16, Vec<u8>) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let mut req =
        format!("POST /KdcProxy HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n{headers}\r\n")
            .into_bytes();
    req.extend_from_slice(body);
    s.write_all(&req).unwrap();
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    let text = String::from_utf8_lossy(&out);
    let status = text.get(9..12).and_then(|s| s.parse().ok()).unwrap_or(0);
    let split = out
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map_or(out.len(), |i| i + 4);
    (status, out[split..].to_vec())
}

fn post_body(port: u16, body: &[u8]) -> (u16, Vec<u8>) {
    post(
        port,
        &format!(
            "Content-Type: application/kerberos\r\nContent-Length: {}\r\n",
            body.len()
        ),
        body,
    )
}

fn raw(port: u16, request: &str) -> u16 {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    s.write_all(request.as_bytes()).unwrap();
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    String::from_utf8_lossy(&out)
        .get(9..12)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

fn proxy_msg(kerb_message: Vec<u8>, realm: Option<&str>) -> Vec<u8> {
    KdcProxyMessage {
        kerb_message,
        target_domain: realm.map(str::to_owned),
        dclocator_hint: None,
    }
    .encode()
}

fn framed(m: &[u8]) -> Vec<u8> {
    kerbside_wire::record::encode(m).unwrap()
}

#[test]
fn same_requests_to_our_relay_and_kdcproxy() {
    if let Some(why) = mit::missing_peers().or_else(kdcproxy::missing) {
        eprintln!("SKIP: {why}");
        return;
    }
    let realm = mit::MitRealm::start("compare");
    let kp = kdcproxy::KdcProxy::start(
        &realm.dir.join("kdcproxy"),
        mit::free_port(),
        realm.port,
        None,
        1,
        2,
    );
    let config = RelayConfig::with_realms([RealmRoute::parse_mapping(&format!(
        "LAB.TEST=tcp://127.0.0.1:{}",
        realm.port
    ))
    .unwrap()])
    .unwrap();
    let (ours, audit) = relay::start_relay(config, None);
    let ours = ours.port();

    let good = as_req("LAB.TEST", 1);
    let mut trailing = proxy_msg(framed(&good), Some("LAB.TEST"));
    trailing.push(0);
    let mut wrong_prefix = framed(&good);
    wrong_prefix[3] ^= 1;
    let first_reply = {
        let (_, body) = post_body(ours, &proxy_msg(framed(&good), Some("LAB.TEST")));
        KdcProxyMessage::decode(&body)
            .unwrap()
            .kerberos_message()
            .unwrap()
            .to_vec()
    };
    assert_eq!(
        first_reply.first(),
        Some(&0x6b),
        "a no-preauth principal gets an AS-REP"
    );
    let krb_error = vec![0x7e, 0x03, 0x30, 0x01, 0x00];

    // (case, body, our status, kdcproxy statuses accepted)
    let cases: Vec<(&str, Vec<u8>, u16, &[u16])> = vec![
        (
            "valid AS-REQ",
            proxy_msg(framed(&as_req("LAB.TEST", 2)), Some("LAB.TEST")),
            200,
            &[200],
        ),
        ("garbage body", b"hello".to_vec(), 400, &[400, 500]),
        ("trailing byte", trailing, 400, &[400]),
        (
            "no length prefix (Apple)",
            proxy_msg(good.clone(), Some("LAB.TEST")),
            400,
            &[400],
        ),
        (
            "wrong length prefix",
            proxy_msg(wrong_prefix, Some("LAB.TEST")),
            400,
            &[400],
        ),
        // kdcproxy HEAD crashes (500); Debian's 1.0.0 looks up realm None (503).
        (
            "missing target-domain",
            proxy_msg(framed(&good), None),
            400,
            &[400, 500, 503],
        ),
        (
            "undeclared realm",
            proxy_msg(framed(&as_req("EVIL.TEST", 3)), Some("EVIL.TEST")),
            403,
            &[503],
        ),
        (
            "realm in lower case",
            proxy_msg(framed(&as_req("LAB.TEST", 4)), Some("lab.test")),
            200,
            &[200, 503],
        ),
        (
            "KRB-ERROR as request",
            proxy_msg(framed(&krb_error), Some("LAB.TEST")),
            400,
            &[400],
        ),
        (
            "inner realm != target-domain",
            proxy_msg(framed(&as_req("OTHER.TEST", 5)), Some("LAB.TEST")),
            400,
            &[200],
        ),
    ];
    let mut table = String::from("| case | kerbside | kdcproxy |\n|---|---|---|\n");
    for (case, body, want_ours, want_kp) in &cases {
        let (s_ours, b_ours) = post_body(ours, body);
        let (s_kp, b_kp) = post_body(kp.port, body);
        table.push_str(&format!("| {case} | {s_ours} | {s_kp} |\n"));
        assert_eq!(s_ours, *want_ours, "ours: {case}\n{table}");
        assert!(want_kp.contains(&s_kp), "kdcproxy: {case}: {s_kp}\n{table}");
        if s_ours == 200 && s_kp == 200 && *case == "valid AS-REQ" {
            // Same request, same KDC: both return an AS-REP in the same framing.
            let a = KdcProxyMessage::decode(&b_ours).unwrap();
            let b = KdcProxyMessage::decode(&b_kp).unwrap();
            assert_eq!(a.kerberos_message().unwrap()[0], 0x6b);
            assert_eq!(b.kerberos_message().unwrap()[0], 0x6b);
            assert_eq!(
                (a.target_domain, a.dclocator_hint),
                (b.target_domain, b.dclocator_hint)
            );
        }
    }
    // HTTP-level checks.
    for (case, req, want) in [
        (
            "GET",
            "GET /KdcProxy HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
            405,
        ),
        (
            "chunked body",
            "POST /KdcProxy HTTP/1.1\r\nHost: x\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
            411,
        ),
        (
            "Content-Length 131073",
            "POST /KdcProxy HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: 131073\r\n\r\n",
            413,
        ),
    ] {
        let (s_ours, s_kp) = (raw(ours, req), raw(kp.port, req));
        table.push_str(&format!("| {case} | {s_ours} | {s_kp} |\n"));
        assert_eq!((s_ours, s_kp), (want, want), "{case}");
    }
    eprintln!("{table}");
    assert!(
        audit
            .records()
            .iter()
            .filter(|a| a.status == 200)
            .all(|a| a.reply_type == Some("AS-REP"))
    );
}

#[test]
fn our_kkdcp_client_talks_to_kdcproxy() {
    if let Some(why) = mit::missing_peers().or_else(kdcproxy::missing) {
        eprintln!("SKIP: {why}");
        return;
    }
    let realm = mit::MitRealm::start("client");
    let kp = kdcproxy::KdcProxy::start(
        &realm.dir.join("kdcproxy"),
        mit::free_port(),
        realm.port,
        None,
        1,
        2,
    );
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let url = format!("http://127.0.0.1:{}/KdcProxy", kp.port)
            .parse()
            .unwrap();
        let mut client = KkdcpClient::new(
            TokioNet,
            url,
            None,
            ConnectionMode::KeepAlive,
            Duration::from_secs(20),
        )
        .unwrap();
        for seed in 0..3 {
            let reply = client
                .exchange("LAB.TEST", &as_req("LAB.TEST", 10 + seed))
                .await
                .unwrap();
            assert_eq!(reply.first(), Some(&0x6b), "AS-REP through kdcproxy");
        }
        assert_eq!(
            client.connections_opened(),
            1,
            "kdcproxy under gthread keeps the connection alive"
        );
        let resp = client.post(Bytes::from_static(b"hello")).await;
        assert!(resp.is_ok_and(|r| r.status >= 400));
    });
}

/// A KDC that answers any request with a record mark declaring 200 KiB,
/// then 200 KiB of `A`s (CVE-2025-59089: kdcproxy before 1.1.0 buffers and
/// relays whatever the upstream declares).
fn oversized_kdc() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for s in l.incoming() {
            let Ok(mut s) = s else { continue };
            std::thread::spawn(move || {
                let mut mark = [0u8; 4];
                if s.read_exact(&mut mark).is_err() {
                    return;
                }
                let mut req = vec![0u8; u32::from_be_bytes(mark) as usize];
                if s.read_exact(&mut req).is_err() {
                    return;
                }
                let size = 200 * 1024u32;
                let _ = s.write_all(&size.to_be_bytes());
                let _ = s.write_all(&vec![b'A'; size as usize]);
            });
        }
    });
    port
}

#[test]
fn oversized_upstream_reply_is_refused_where_kdcproxy_1_0_relays_it() {
    if let Some(why) = mit::missing_peers().or_else(kdcproxy::missing) {
        eprintln!("SKIP: {why}");
        return;
    }
    let bad = oversized_kdc();
    let dir = std::env::temp_dir().join(format!("kerbside-cve-59089-{}", std::process::id()));
    let kp =
        kdcproxy::KdcProxy::start_realms(&dir, mit::free_port(), &[("LAB.TEST", bad)], None, 1, 2);
    let config = RelayConfig::with_realms([RealmRoute::parse_mapping(&format!(
        "LAB.TEST=tcp://127.0.0.1:{bad}"
    ))
    .unwrap()])
    .unwrap();
    let (ours, audit) = relay::start_relay(config, None);
    let body = proxy_msg(framed(&as_req("LAB.TEST", 20)), Some("LAB.TEST"));
    let (s_ours, b_ours) = post_body(ours.port(), &body);
    assert_eq!(
        s_ours, 502,
        "declared length above the 128 KiB limit: refused"
    );
    assert!(
        b_ours.len() < 200,
        "nothing of the upstream's bytes is passed on"
    );
    assert_eq!(audit.records()[0].reason, Some("upstream_too_large"));
    let (s_kp, b_kp) = post_body(kp.port, &body);
    eprintln!(
        "oversized upstream reply: kerbside {s_ours} ({} B), kdcproxy {s_kp} ({} B)",
        b_ours.len(),
        b_kp.len()
    );
    // Debian's kdcproxy 1.0.0 relays the 200 KiB as a 200; 1.1.0 refuses it.
    assert!(matches!(s_kp, 200 | 503), "{s_kp}");
    let _ = std::fs::remove_dir_all(&dir);
}
