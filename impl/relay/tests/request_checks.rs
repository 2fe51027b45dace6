//! Every request check, with the exact status and reason it produces, and
//! byte equality of what is forwarded.

mod common;

use common::*;
use kerbside_relay::{
    ClientAuth, Decision, Forward, PrefixPolicy, RateLimit, RealmRoute, Rejection, Relay,
    RelayConfig, RequestHead,
};
use kerbside_wire::kkdcp::KdcProxyMessage;

fn relay() -> Relay {
    Relay::new(config()).unwrap()
}

fn forward(relay: &Relay, head: &RequestHead, body: &[u8]) -> Forward {
    match relay.handle(head, body, t0()) {
        Decision::Forward(f) => f,
        Decision::Reject(r) => panic!("rejected: {} {:?}", r.response.status, r.reason),
    }
}

fn reject(relay: &Relay, head: &RequestHead, body: &[u8]) -> Rejection {
    match relay.handle(head, body, t0()) {
        Decision::Reject(r) => r,
        Decision::Forward(f) => panic!("forwarded to {:?}", f.upstreams),
    }
}

/// (status, reason code) of a rejected body sent with a normal head.
fn refused(relay: &Relay, body: &[u8]) -> (u16, &'static str) {
    let r = reject(relay, &head(body), body);
    assert_eq!(r.response.status, r.reason.status());
    assert_eq!(r.audit.status, r.response.status);
    (r.response.status, r.reason.code())
}

#[test]
fn captured_mit_requests_are_forwarded_byte_for_byte() {
    let relay = relay();
    for name in [
        "kkdcp-as-req-nopreauth",
        "kkdcp-as-req-pa-enc-timestamp",
        "kkdcp-tgs-req",
    ] {
        let body = vector(name);
        let fwd = forward(&relay, &head(&body), &body);
        let sent = KdcProxyMessage::decode(&body).unwrap();
        // The TCP upstream gets kerb-message exactly as the client sent it.
        assert_eq!(fwd.payload, sent.kerb_message, "{name}");
        assert_eq!(fwd.message(), sent.kerberos_message().unwrap(), "{name}");
        assert_eq!(fwd.realm, "LAB.TEST");
        assert_eq!(fwd.deadline, t0() + relay.config().request_timeout);
        // TCP first, then UDP, operator order within each.
        let order: Vec<String> = fwd.upstreams.iter().map(ToString::to_string).collect();
        assert_eq!(
            order,
            [
                "tcp://127.0.0.1:88",
                "tcp://127.0.0.2:88",
                "udp://127.0.0.3:88"
            ]
        );
    }
}

#[test]
fn wrong_path_is_404() {
    let body = vector("kkdcp-as-req-nopreauth");
    let mut h = head(&body);
    h.path = "/kdcproxy".into();
    let r = reject(&relay(), &h, &body);
    assert_eq!((r.response.status, r.reason.code()), (404, "not_found"));
}

#[test]
fn get_and_other_methods_are_405_with_allow() {
    let body = vector("kkdcp-as-req-nopreauth");
    for m in ["GET", "PUT", "HEAD", "post"] {
        let mut h = head(&body);
        h.method = m.into();
        let r = reject(&relay(), &h, &body);
        assert_eq!(r.response.status, 405, "{m}");
        assert_eq!(r.response.headers, [("allow", "POST".to_owned())]);
        assert_eq!(
            String::from_utf8(r.response.body).unwrap(),
            format!("Method not allowed ({m}).")
        );
    }
}

#[test]
fn missing_content_length_is_411_and_closes() {
    let body = vector("kkdcp-as-req-nopreauth");
    let mut h = head(&body);
    h.content_length = None;
    let r = reject(&relay(), &h, &body);
    assert_eq!(
        (r.response.status, r.reason.code()),
        (411, "length_required")
    );
    assert!(r.response.close);
}

#[test]
fn oversize_body_is_413_before_reading_it() {
    let relay = relay();
    let mut h = head(&[]);
    h.content_length = Some(128 * 1024 + 1);
    let err = relay.check_head(&h, t0()).unwrap_err();
    assert_eq!((err.response.status, err.reason.code()), (413, "too_large"));
    assert!(err.response.close);
    // Exactly the limit is admitted (and the driver may read that much).
    h.content_length = Some(128 * 1024);
    assert_eq!(relay.check_head(&h, t0()).unwrap().max_body, 128 * 1024);
    // A driver that ignores the head check still cannot get past the limit.
    let big = vec![0u8; 128 * 1024 + 1];
    assert_eq!(refused(&relay, &big), (413, "too_large"));
}

#[test]
fn content_type_other_than_kerberos_is_415_absent_is_fine() {
    let relay = relay();
    let body = vector("kkdcp-as-req-nopreauth");
    let mut h = head(&body);
    h.content_type = Some("text/plain".into());
    let r = reject(&relay, &h, &body);
    assert_eq!(
        (r.response.status, r.reason.code()),
        (415, "unsupported_media_type")
    );
    for ok in [
        None,
        Some("application/kerberos"),
        Some("Application/Kerberos; charset=binary"),
    ] {
        h.content_type = ok.map(str::to_owned);
        forward(&relay, &h, &body);
    }
    // Lenient mode accepts anything.
    let mut c = config();
    c.strict_content_type = false;
    h.content_type = Some("application/octet-stream".into());
    forward(&Relay::new(c).unwrap(), &h, &body);
}

#[test]
fn garbage_and_truncated_der_are_400_and_close() {
    let relay = relay();
    let body = vector("kkdcp-as-req-nopreauth");
    for bad in [
        b"hello".to_vec(),
        Vec::new(),
        body[..body.len() - 1].to_vec(),
        body[..10].to_vec(),
    ] {
        let r = reject(&relay, &head(&bad), &bad);
        assert_eq!(
            (r.response.status, r.reason.code()),
            (400, "malformed_message")
        );
        assert!(r.response.close, "MS-KKDCP §3.2.5.1: drop the connection");
        assert_eq!(r.response.body, b"Invalid request.");
    }
}

#[test]
fn trailing_bytes_after_the_message_are_400() {
    let mut body = vector("kkdcp-as-req-nopreauth");
    body.push(0);
    assert_eq!(refused(&relay(), &body), (400, "malformed_message"));
}

#[test]
fn missing_length_prefix_is_400_under_reject() {
    let inner = inner_of("kkdcp-as-req-nopreauth");
    let bare = KdcProxyMessage {
        kerb_message: inner,
        target_domain: Some("LAB.TEST".into()),
        dclocator_hint: None,
    };
    let body = bare.encode();
    let r = reject(&relay(), &head(&body), &body);
    assert_eq!(
        (r.response.status, r.reason.code()),
        (400, "missing_length_prefix")
    );
    assert_eq!(r.response.body, b"Invalid request length.");
}

#[test]
fn missing_length_prefix_is_forwarded_with_one_under_accept() {
    let mut c = config();
    c.prefix_policy = PrefixPolicy::Accept;
    let relay = Relay::new(c).unwrap();
    for name in ["kkdcp-as-req-nopreauth", "kkdcp-tgs-req"] {
        let inner = inner_of(name);
        let bare = KdcProxyMessage {
            kerb_message: inner.clone(),
            target_domain: Some("LAB.TEST".into()),
            dclocator_hint: None,
        };
        let body = bare.encode();
        let fwd = forward(&relay, &head(&body), &body);
        assert_eq!(
            fwd.payload,
            framed(&inner),
            "{name}: upstream gets the record mark"
        );
        // A prefixed request still works the same under `accept`.
        let body = vector(name);
        let fwd = forward(&relay, &head(&body), &body);
        assert_eq!(
            fwd.payload,
            KdcProxyMessage::decode(&body).unwrap().kerb_message
        );
    }
}

#[test]
fn wrong_length_prefix_is_400_under_both_policies() {
    let inner = inner_of("kkdcp-as-req-nopreauth");
    for policy in [PrefixPolicy::Reject, PrefixPolicy::Accept] {
        let mut c = config();
        c.prefix_policy = policy;
        let relay = Relay::new(c).unwrap();
        for delta in [-1i64, 1, 1000] {
            let mut km = framed(&inner);
            let declared = u32::try_from(inner.len() as i64 + delta).unwrap();
            km[..4].copy_from_slice(&declared.to_be_bytes());
            let body = KdcProxyMessage {
                kerb_message: km,
                target_domain: Some("LAB.TEST".into()),
                dclocator_hint: None,
            }
            .encode();
            assert_eq!(
                refused(&relay, &body),
                (400, "bad_length_prefix"),
                "{policy:?} {delta}"
            );
        }
        // kerb-message shorter than a prefix
        let body = KdcProxyMessage {
            kerb_message: vec![0, 0],
            target_domain: Some("LAB.TEST".into()),
            dclocator_hint: None,
        }
        .encode();
        assert_eq!(refused(&relay, &body), (400, "bad_length_prefix"));
    }
}

#[test]
fn inner_messages_other_than_as_and_tgs_requests_are_400() {
    let relay = relay();
    let mut ap_req = kpasswd_request("LAB.TEST", 1);
    let ap_len = usize::from(u16::from_be_bytes([ap_req[4], ap_req[5]]));
    ap_req = ap_req[6..6 + ap_len].to_vec();
    for (what, msg) in [
        ("KRB-ERROR", vector("tcp-krb-error-preauth-required")),
        ("AS-REP", vector("tcp-as-rep")),
        ("TGS-REP", vector("tcp-tgs-rep")),
        ("AP-REQ", ap_req),
        ("kpasswd (disabled)", kpasswd_request("LAB.TEST", 1)),
        ("empty", Vec::new()),
        ("AS-REQ tag, junk", vec![0x6a, 0x03, 0x30, 0x01, 0x00]),
        (
            "AS-REQ without req-body",
            hex::decode("6a0e300ca103020105a20302010a").unwrap(),
        ),
    ] {
        let body = proxy_request(&msg, "LAB.TEST");
        assert_eq!(refused(&relay, &body), (400, "not_a_kdc_request"), "{what}");
    }
}

#[test]
fn missing_target_domain_is_400_not_500() {
    let inner = inner_of("kkdcp-as-req-nopreauth");
    let body = KdcProxyMessage {
        kerb_message: framed(&inner),
        target_domain: None,
        dclocator_hint: None,
    }
    .encode();
    let r = reject(&relay(), &head(&body), &body);
    assert_eq!(
        (r.response.status, r.reason.code()),
        (400, "missing_target_domain")
    );
    // The audit line still says what the request was.
    assert_eq!(r.audit.msg_type, Some("AS-REQ"));
    assert_eq!(r.audit.cname.as_deref(), Some("alice@LAB.TEST"));
}

#[test]
fn undeclared_realm_is_403_and_never_forwarded() {
    // CVE-2025-59088: kdcproxy would look up _kerberos._tcp.EVIL.TEST in DNS.
    let relay = relay();
    let inner = inner_of("kkdcp-as-req-nopreauth");
    let body = proxy_request(&inner, "EVIL.TEST");
    let r = reject(&relay, &head(&body), &body);
    assert_eq!((r.response.status, r.reason.code()), (403, "unknown_realm"));
    assert_eq!(r.audit.realm.as_deref(), Some("EVIL.TEST"));
    // A realm that is a suffix/prefix of a served one is just as unknown.
    for realm in ["LAB.TEST.", "LAB", "SUB.LAB.TEST", "LAB.TEST\u{0}"] {
        let body = proxy_request(&inner, realm);
        assert_eq!(refused(&relay, &body).0, 403, "{realm:?}");
    }
}

#[test]
fn realm_matching_ignores_case() {
    let relay = relay();
    // MIT's request for LAB.TEST, target-domain spelled in lower case.
    let inner = inner_of("kkdcp-as-req-nopreauth");
    let body = proxy_request(&inner, "lab.test");
    let fwd = forward(&relay, &head(&body), &body);
    assert_eq!(fwd.realm, "LAB.TEST");
    assert_eq!(fwd.payload, framed(&inner));
}

#[test]
fn inner_realm_must_match_target_domain() {
    let mut c = config();
    c.add_realm(RealmRoute::parse_mapping("OTHER.TEST=tcp://127.0.0.9:88").unwrap())
        .unwrap();
    let relay = Relay::new(c.clone()).unwrap();
    // An AS-REQ for LAB.TEST sent to OTHER.TEST's KDCs.
    let inner = inner_of("kkdcp-as-req-nopreauth");
    let body = proxy_request(&inner, "OTHER.TEST");
    let r = reject(&relay, &head(&body), &body);
    assert_eq!(
        (r.response.status, r.reason.code()),
        (400, "realm_mismatch")
    );
    // The check can be switched off (it is on by default).
    c.require_realm_match = false;
    let fwd = forward(&Relay::new(c).unwrap(), &head(&body), &body);
    assert_eq!(fwd.realm, "OTHER.TEST");
}

#[test]
fn kpasswd_is_relayed_only_when_enabled_and_configured() {
    let mut c =
        RelayConfig::with_realms([RealmRoute::parse_mapping("LAB.TEST=tcp://127.0.0.1:88")
            .unwrap()
            .with_kpasswd(vec!["tcp://127.0.0.1:464".parse().unwrap()])])
        .unwrap();
    c.kpasswd = true;
    let relay = Relay::new(c.clone()).unwrap();
    for version in [0x0001, 0xff80] {
        let msg = kpasswd_request("LAB.TEST", version);
        let body = proxy_request(&msg, "LAB.TEST");
        let fwd = forward(&relay, &head(&body), &body);
        assert_eq!(fwd.upstreams, vec!["tcp://127.0.0.1:464".parse().unwrap()]);
        assert_eq!(fwd.payload, framed(&msg));
    }
    // Wrong version, wrong ticket realm.
    let mut msg = kpasswd_request("LAB.TEST", 1);
    msg[3] = 2;
    assert_eq!(
        refused(&relay, &proxy_request(&msg, "LAB.TEST")),
        (400, "not_a_kdc_request")
    );
    let msg = kpasswd_request("OTHER.TEST", 1);
    assert_eq!(
        refused(&relay, &proxy_request(&msg, "LAB.TEST")),
        (400, "realm_mismatch")
    );
    // A realm without kpasswd servers.
    let mut c = config();
    c.kpasswd = true;
    let msg = kpasswd_request("LAB.TEST", 1);
    assert_eq!(
        refused(&Relay::new(c).unwrap(), &proxy_request(&msg, "LAB.TEST")),
        (403, "no_kpasswd_server")
    );
}

#[test]
fn bearer_token_authentication() {
    let mut c = config();
    c.auth = ClientAuth {
        bearer_tokens: vec!["s3cret-one".into(), "s3cret-two".into()],
        mutual_tls: false,
    };
    let relay = Relay::new(c).unwrap();
    let body = vector("kkdcp-as-req-nopreauth");
    let mut h = head(&body);
    for bad in [
        None,
        Some("Bearer nope"),
        Some("Basic s3cret-one"),
        Some("Bearer"),
        Some("Bearer s3cret-on"),
    ] {
        h.authorization = bad.map(str::to_owned);
        let r = reject(&relay, &h, &body);
        assert_eq!(
            (r.response.status, r.reason.code()),
            (401, "unauthorized"),
            "{bad:?}"
        );
        assert_eq!(
            r.response.headers,
            [("www-authenticate", "Bearer realm=\"kdcproxy\"".to_owned())]
        );
    }
    h.authorization = Some("bearer s3cret-two".into());
    let fwd = forward(&relay, &h, &body);
    let done = relay.finish(fwd, t0());
    assert_eq!(
        done.audit.identity.as_deref(),
        Some("token#1"),
        "the token itself never reaches the audit line"
    );
}

#[test]
fn mutual_tls_identity_authentication() {
    let mut c = config();
    c.auth = ClientAuth {
        bearer_tokens: Vec::new(),
        mutual_tls: true,
    };
    let relay = Relay::new(c).unwrap();
    let body = vector("kkdcp-as-req-nopreauth");
    let mut h = head(&body);
    assert_eq!(reject(&relay, &h, &body).response.status, 401);
    h.client.tls_identity = Some("sha256:abcd".into());
    forward(&relay, &h, &body);
}

#[test]
fn rate_limit_is_per_client_and_refills_with_injected_time() {
    let mut c = config();
    c.rate_limit = Some(RateLimit {
        per_second: 2.0,
        burst: 2,
    });
    let relay = Relay::new(c).unwrap();
    let body = vector("kkdcp-as-req-nopreauth");
    let h = head(&body);
    let status = |h: &RequestHead, ms| match relay.handle(h, &body, at(ms)) {
        Decision::Forward(_) => 200,
        Decision::Reject(r) => r.response.status,
    };
    assert_eq!((status(&h, 0), status(&h, 0)), (200, 200));
    let r = match relay.handle(&h, &body, at(0)) {
        Decision::Reject(r) => r,
        Decision::Forward(_) => panic!("third request in the same instant must be limited"),
    };
    assert_eq!((r.response.status, r.reason.code()), (429, "rate_limited"));
    assert_eq!(r.response.headers, [("retry-after", "1".to_owned())]);
    // Another address is not affected.
    let mut other = h.clone();
    other.client.addr = Some("192.0.2.8:1".parse().unwrap());
    assert_eq!(status(&other, 0), 200);
    // 500 ms of simulated time later one token is back.
    assert_eq!((status(&h, 500), status(&h, 500)), (200, 429));
    // Even requests that would be rejected later count (the limiter runs first).
    let mut get = h.clone();
    get.method = "GET".into();
    assert_eq!(status(&get, 10_000), 405);
    assert_eq!(status(&get, 10_000), 405);
    assert_eq!(status(&get, 10_000), 429);
}

#[test]
fn audit_line_names_the_transaction() {
    let relay = relay();
    let body = vector("kkdcp-tgs-req");
    let fwd = forward(&relay, &head(&body), &body);
    let done = relay.finish(fwd, at(3));
    let line = done.audit.to_json_line();
    let v: serde_json::Value = serde_json::from_str(&line).unwrap();
    assert_eq!(v["time"], "2025-11-25T18:00:38.000Z");
    assert_eq!(v["client"], "192.0.2.7:50000");
    assert_eq!(v["realm"], "LAB.TEST");
    assert_eq!(v["msg_type"], "TGS-REQ");
    assert_eq!(
        v["cname"],
        serde_json::Value::Null,
        "a TGS-REQ shows no client name"
    );
    assert_eq!(v["sname"], "host/app.lab.test@LAB.TEST");
    assert_eq!(v["outcome"], "upstream_failed");
    assert_eq!(v["status"], 503, "no attempt made: nothing answered");
    assert_eq!(v["latency_ms"], 3.0);
    assert!(!line.contains('\n'));
    let as_req = vector("kkdcp-as-req-nopreauth");
    let fwd = forward(&relay, &head(&as_req), &as_req);
    let rec = relay.finish(fwd, t0()).audit;
    assert_eq!(rec.cname.as_deref(), Some("alice@LAB.TEST"));
    assert_eq!(rec.sname.as_deref(), Some("krbtgt/LAB.TEST@LAB.TEST"));
}
