//! The upstream half: reply validation, byte equality of what is returned,
//! failover order, deadlines, and the status each failure gives.

mod common;

use std::time::Duration;

use common::*;
use kerbside_relay::{
    Decision, Forward, Outcome, PrefixPolicy, Relay, RelayConfig, TcpReplyReader, Transport,
    Upstream, UpstreamError,
};
use kerbside_wire::kkdcp::KdcProxyMessage;

fn forward_for(relay: &Relay, body: &[u8]) -> Forward {
    match relay.handle(&head(body), body, t0()) {
        Decision::Forward(f) => f,
        Decision::Reject(r) => panic!("rejected: {:?}", r.reason),
    }
}

fn up(s: &str) -> Upstream {
    s.parse().unwrap()
}

#[test]
fn captured_replies_come_back_exactly_as_kdcproxy_returned_them() {
    // The KDC's TCP bytes in, kdcproxy's HTTP body out, byte for byte. The
    // capture's inner messages are exactly what kdcproxy read from the KDC
    // (vectors README), so the KDC's reply is the inner message of each
    // kdcproxy response.
    let relay = Relay::new(config()).unwrap();
    for (req, proxy_reply) in [
        ("kkdcp-as-req-nopreauth", "kkdcp-krb-error-preauth-required"),
        ("kkdcp-as-req-pa-enc-timestamp", "kkdcp-as-rep"),
        ("kkdcp-tgs-req", "kkdcp-tgs-rep"),
    ] {
        let mut fwd = forward_for(&relay, &vector(req));
        let plan = fwd.next_attempt(t0()).unwrap();
        assert_eq!(plan.upstream, up("tcp://127.0.0.1:88"));
        assert_eq!(plan.until, t0() + relay.config().upstream_timeout);
        // Feed the reply through the bounded reader in awkward pieces.
        let wire = framed(&inner_of(proxy_reply));
        let mut reader = TcpReplyReader::new(fwd.max_reply());
        let mut rest = &wire[..];
        while !reader.is_complete() {
            let n = reader.wanted().min(7).min(rest.len());
            reader.feed(&rest[..n]).unwrap();
            rest = &rest[n..];
        }
        fwd.record_reply(&plan.upstream, reader.into_framed())
            .unwrap();
        assert!(
            fwd.next_attempt(t0()).is_none(),
            "{req}: a reply ends the attempts"
        );
        let done = relay.finish(fwd, at(2));
        assert_eq!(done.response.status, 200);
        assert_eq!(done.response.content_type, "application/kerberos");
        assert!(done.response.headers.is_empty());
        assert_eq!(
            hex::encode(&done.response.body),
            hex::encode(vector(proxy_reply)),
            "{req}"
        );
        assert_eq!(done.audit.outcome, Outcome::Relayed);
        assert_eq!(done.audit.upstream.as_deref(), Some("tcp://127.0.0.1:88"));
        assert_eq!(done.audit.attempts, 1);
    }
    let mut fwd = forward_for(&relay, &vector("kkdcp-as-req-nopreauth"));
    let plan = fwd.next_attempt(t0()).unwrap();
    fwd.record_reply(
        &plan.upstream,
        framed(&vector("tcp-krb-error-preauth-required")),
    )
    .unwrap();
    let audit = relay.finish(fwd, t0()).audit;
    assert_eq!(
        (audit.reply_type, audit.error_code),
        (Some("KRB-ERROR"), Some(25))
    );
}

#[test]
fn failover_walks_tcp_then_udp_and_stops_at_the_first_good_reply() {
    let relay = Relay::new(config()).unwrap();
    let mut fwd = forward_for(&relay, &vector("kkdcp-as-req-pa-enc-timestamp"));
    let p1 = fwd.next_attempt(t0()).unwrap();
    fwd.record_failure(&p1.upstream, UpstreamError::Connect("refused".into()));
    let p2 = fwd.next_attempt(at(10)).unwrap();
    assert_eq!(p2.upstream, up("tcp://127.0.0.2:88"));
    fwd.record_failure(&p2.upstream, UpstreamError::Timeout);
    let p3 = fwd.next_attempt(at(3010)).unwrap();
    assert_eq!(p3.upstream, up("udp://127.0.0.3:88"));
    // UDP gets the bare message and answers with a bare datagram.
    assert_eq!(fwd.bytes_for(Transport::Udp), &fwd.payload[4..]);
    fwd.record_reply(&p3.upstream, inner_of("kkdcp-as-rep"))
        .unwrap();
    let done = relay.finish(fwd, at(3020));
    assert_eq!(done.response.status, 200);
    assert_eq!(
        hex::encode(done.response.body),
        hex::encode(vector("kkdcp-as-rep")),
        "prefix re-added"
    );
    assert_eq!(done.audit.upstream.as_deref(), Some("udp://127.0.0.3:88"));
    assert_eq!(done.audit.attempts, 3);
}

#[test]
fn every_upstream_refusing_is_503() {
    let relay = Relay::new(config()).unwrap();
    let mut fwd = forward_for(&relay, &vector("kkdcp-as-req-nopreauth"));
    while let Some(p) = fwd.next_attempt(t0()) {
        fwd.record_failure(
            &p.upstream,
            UpstreamError::Connect("connection refused".into()),
        );
    }
    let done = relay.finish(fwd, at(5));
    assert_eq!(done.response.status, 503);
    assert_eq!(done.response.body, b"Remote unavailable.");
    assert_eq!(done.audit.outcome, Outcome::UpstreamFailed);
    assert_eq!(
        (done.audit.reason, done.audit.attempts),
        (Some("upstream_connect"), 3)
    );
}

#[test]
fn slow_upstreams_give_504_and_the_deadline_caps_the_walk() {
    let mut c = config();
    c.upstream_timeout = Duration::from_secs(2);
    c.request_timeout = Duration::from_secs(3);
    let relay = Relay::new(c).unwrap();
    let mut fwd = forward_for(&relay, &vector("kkdcp-as-req-nopreauth"));
    let p1 = fwd.next_attempt(t0()).unwrap();
    assert_eq!(p1.until, at(2000));
    fwd.record_failure(&p1.upstream, UpstreamError::Timeout);
    // The second attempt only gets what is left of the request's budget.
    let p2 = fwd.next_attempt(at(2000)).unwrap();
    assert_eq!(p2.until, at(3000));
    fwd.record_failure(&p2.upstream, UpstreamError::Timeout);
    // Budget spent: the UDP upstream is never tried.
    assert!(fwd.next_attempt(at(3000)).is_none());
    let done = relay.finish(fwd, at(3000));
    assert_eq!(done.response.status, 504);
    assert_eq!(done.audit.attempts, 2);
}

#[test]
fn replies_that_are_not_kerberos_replies_to_the_request_are_502() {
    let relay = Relay::new(config()).unwrap();
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "HTTP text",
            framed(b"HTTP/1.0 200 OK\r\n\r\n"),
            "upstream_not_kerberos",
        ),
        (
            "TGS-REP to an AS-REQ",
            framed(&vector("tcp-tgs-rep")),
            "upstream_not_kerberos",
        ),
        (
            "AS-REQ echoed",
            framed(&inner_of("kkdcp-as-req-nopreauth")),
            "upstream_not_kerberos",
        ),
        (
            "AS-REP cut short",
            {
                let r = vector("tcp-as-rep");
                framed(&r[..r.len() - 1])
            },
            "upstream_not_kerberos",
        ),
        (
            "AS-REP + junk",
            {
                let mut r = vector("tcp-as-rep");
                r.push(0);
                framed(&r)
            },
            "upstream_not_kerberos",
        ),
        ("empty reply", framed(&[]), "upstream_not_kerberos"),
        ("short frame", vec![0, 0, 1], "upstream_truncated"),
        (
            "mark says more",
            {
                let mut f = framed(&vector("tcp-as-rep"));
                f.truncate(100);
                f
            },
            "upstream_truncated",
        ),
        (
            "mark says less",
            {
                let mut f = framed(&vector("tcp-as-rep"));
                f.push(0);
                f
            },
            "upstream_trailing_bytes",
        ),
        (
            "reserved bit",
            {
                let mut f = framed(&vector("tcp-as-rep"));
                f[0] |= 0x80;
                f
            },
            "upstream_reserved_bit",
        ),
    ];
    for (what, reply, code) in cases {
        let mut fwd = forward_for(&relay, &vector("kkdcp-as-req-nopreauth"));
        let p = fwd.next_attempt(t0()).unwrap();
        let e = fwd.record_reply(&p.upstream, reply).unwrap_err();
        assert_eq!(e.code(), code, "{what}: {e}");
        // The next upstream is tried after a bad reply.
        assert_eq!(
            fwd.next_attempt(t0()).unwrap().upstream,
            up("tcp://127.0.0.2:88"),
            "{what}"
        );
        let done = relay.finish(fwd, t0());
        assert_eq!(done.response.status, 502, "{what}");
        assert_eq!(done.audit.reason, Some(code), "{what}");
    }
}

#[test]
fn oversize_replies_are_refused_declared_or_actual() {
    // CVE-2025-59089: a reply's declared length above the limit is refused
    // without reading it, by the streaming reader and by record_reply.
    let relay = Relay::new(config()).unwrap();
    let limit = relay.config().max_reply;
    let mut reader = TcpReplyReader::new(limit);
    let mark = u32::try_from(limit + 1).unwrap().to_be_bytes();
    assert_eq!(
        reader.feed(&mark).unwrap_err(),
        UpstreamError::TooLarge {
            size: limit + 1,
            limit
        }
    );
    let mut fwd = forward_for(&relay, &vector("kkdcp-as-req-nopreauth"));
    let p = fwd.next_attempt(t0()).unwrap();
    let mut big = mark.to_vec();
    big.resize(4 + limit + 1, 0x7e);
    assert_eq!(
        fwd.record_reply(&p.upstream, big).unwrap_err().code(),
        "upstream_too_large"
    );
    // A UDP datagram over the limit too.
    let mut c = config();
    c.max_reply = 1000;
    let relay = Relay::new(c).unwrap();
    let mut fwd = forward_for(&relay, &vector("kkdcp-as-req-nopreauth"));
    let udp = up("udp://127.0.0.3:88");
    assert_eq!(
        fwd.record_reply(&udp, vec![0x7e; 1001]).unwrap_err().code(),
        "upstream_too_large"
    );
    assert_eq!(relay.finish(fwd, t0()).response.status, 502);
}

#[test]
fn endless_reply_is_cut_at_the_declared_length() {
    // An upstream that never stops sending: the reader asks for exactly the
    // declared bytes, so nothing beyond them is ever read or buffered.
    let limit = 128 * 1024;
    let mut reader = TcpReplyReader::new(limit);
    reader
        .feed(&u32::try_from(limit).unwrap().to_be_bytes())
        .unwrap();
    let chunk = [0x41u8; 16 * 1024];
    let mut fed = 0;
    while !reader.is_complete() {
        let n = reader.wanted().min(chunk.len());
        reader.feed(&chunk[..n]).unwrap();
        fed += n;
    }
    assert_eq!(fed, limit);
    // Being handed more than asked for is an error, not a bigger buffer.
    assert_eq!(
        reader.feed(&chunk[..1]).unwrap_err(),
        UpstreamError::TrailingBytes(1)
    );
}

#[test]
fn svc_unavailable_moves_on_but_is_returned_if_nothing_better_answers() {
    let relay = Relay::new(config()).unwrap();
    let unavailable = framed(&krb_error_with_code(29));
    let mut fwd = forward_for(&relay, &vector("kkdcp-as-req-pa-enc-timestamp"));
    let p1 = fwd.next_attempt(t0()).unwrap();
    fwd.record_reply(&p1.upstream, unavailable.clone()).unwrap();
    let p2 = fwd
        .next_attempt(t0())
        .expect("MIT-style: try the next KDC on SVC_UNAVAILABLE");
    fwd.record_reply(&p2.upstream, framed(&inner_of("kkdcp-as-rep")))
        .unwrap();
    let done = relay.finish(fwd, t0());
    assert_eq!(
        hex::encode(done.response.body),
        hex::encode(vector("kkdcp-as-rep"))
    );
    // Only unavailable answers: the last one goes back to the client as is.
    let mut fwd = forward_for(&relay, &vector("kkdcp-as-req-pa-enc-timestamp"));
    while let Some(p) = fwd.next_attempt(t0()) {
        let reply = if p.upstream.transport == Transport::Udp {
            krb_error_with_code(29)
        } else {
            unavailable.clone()
        };
        fwd.record_reply(&p.upstream, reply).unwrap();
    }
    let done = relay.finish(fwd, t0());
    assert_eq!(done.response.status, 200);
    assert_eq!(done.audit.error_code, Some(29));
    assert_eq!(done.audit.attempts, 3);
}

#[test]
fn response_too_big_over_udp_retries_the_same_kdc_over_tcp() {
    let c = RelayConfig::with_realms([kerbside_relay::RealmRoute::parse_mapping(
        "LAB.TEST=udp://127.0.0.3:88,udp://127.0.0.4:88",
    )
    .unwrap()])
    .unwrap();
    let relay = Relay::new(c).unwrap();
    let mut fwd = forward_for(&relay, &vector("kkdcp-as-req-nopreauth"));
    let p1 = fwd.next_attempt(t0()).unwrap();
    assert_eq!(p1.upstream, up("udp://127.0.0.3:88"));
    let e = fwd
        .record_reply(&p1.upstream, krb_error_with_code(52))
        .unwrap_err();
    assert_eq!(e, UpstreamError::ResponseTooBig);
    // RFC 4120 §7.2.1: the client (here, the relay) retries over TCP.
    let p2 = fwd.next_attempt(t0()).unwrap();
    assert_eq!(p2.upstream, up("tcp://127.0.0.3:88"));
    fwd.record_reply(
        &p2.upstream,
        framed(&vector("tcp-krb-error-preauth-required")),
    )
    .unwrap();
    assert_eq!(relay.finish(fwd, t0()).response.status, 200);
    // Over TCP a RESPONSE_TOO_BIG is just an answer.
    let mut fwd = forward_for(&relay, &vector("kkdcp-as-req-nopreauth"));
    fwd.record_reply(&up("tcp://127.0.0.3:88"), framed(&krb_error_with_code(52)))
        .unwrap();
    assert_eq!(relay.finish(fwd, t0()).audit.error_code, Some(52));
}

#[test]
fn prefixless_client_gets_a_prefixless_reply() {
    let mut c = config();
    c.prefix_policy = PrefixPolicy::Accept;
    let relay = Relay::new(c).unwrap();
    let inner = inner_of("kkdcp-as-req-nopreauth");
    let body = KdcProxyMessage {
        kerb_message: inner,
        target_domain: Some("LAB.TEST".into()),
        dclocator_hint: None,
    }
    .encode();
    let mut fwd = forward_for(&relay, &body);
    let p = fwd.next_attempt(t0()).unwrap();
    let reply = vector("tcp-krb-error-preauth-required");
    fwd.record_reply(&p.upstream, framed(&reply)).unwrap();
    let done = relay.finish(fwd, t0());
    let m = KdcProxyMessage::decode(&done.response.body).unwrap();
    assert_eq!(
        m.kerb_message, reply,
        "answered in the framing the client used"
    );
    assert_eq!((m.target_domain, m.dclocator_hint), (None, None));
}
