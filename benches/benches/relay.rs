//! The sans-IO KKDCP relay core per request (MS-KKDCP §3.2.5): the head
//! and body checks on a captured KDC-PROXY-MESSAGE, routing, validating
//! the KDC's captured reply against the request, building the response
//! and the JSON audit line — everything `kerbside serve relay` does per
//! request except HTTP, TLS and the sockets. And the cheapest refusal (a
//! realm the relay does not serve: 403).
//!
//! `cargo bench -p kerbside-benches --bench relay`

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use kerbside_benches::realm::now;
use kerbside_benches::vectors::mit;
use kerbside_relay::{Decision, RealmRoute, Relay, RelayConfig, RequestHead};
use kerbside_wire::kkdcp::KdcProxyMessage;

fn relay() -> Relay {
    let route = RealmRoute::parse_mapping("LAB.TEST=tcp://127.0.0.1:88").expect("route");
    Relay::new(RelayConfig::with_realms([route]).expect("config")).expect("relay")
}

fn head(body: &[u8]) -> RequestHead {
    let mut h = RequestHead::post("/KdcProxy", body.len());
    h.client.addr = Some("127.0.0.1:50000".parse().expect("addr"));
    h
}

/// One request through the core; the response body and the audit line.
fn one(relay: &Relay, body: &[u8], kdc_reply: &[u8]) -> (Vec<u8>, String) {
    let Decision::Forward(mut fwd) = relay.handle(&head(body), body, now()) else {
        panic!("relay refused the captured request");
    };
    let attempt = fwd.next_attempt(now()).expect("an upstream");
    fwd.record_reply(&attempt.upstream, kdc_reply.to_vec())
        .expect("the captured AS-REP answers the captured AS-REQ");
    let done = relay.finish(fwd, now());
    (done.response.body, done.audit.to_json_line())
}

fn relay_core(c: &mut Criterion) {
    let relay = relay();
    // The captured pre-authenticated AS-REQ and the KDC's AS-REP to it (as
    // the KDC sent it over TCP: with its record mark).
    let body = mit("kkdcp-as-req-pa-enc-timestamp").expect("capture");
    let rep = KdcProxyMessage::decode(&mit("kkdcp-as-rep").expect("capture"))
        .expect("kkdcp")
        .kerb_message;
    let (response, audit) = one(&relay, &body, &rep);
    assert_eq!(
        KdcProxyMessage::decode(&response)
            .expect("response")
            .kerb_message,
        rep
    );
    assert!(audit.contains("\"relayed\""), "{audit}");

    let mut g = c.benchmark_group("relay");
    g.throughput(Throughput::Elements(1));
    g.bench_function(BenchmarkId::from_parameter("AS-REQ relayed"), |b| {
        b.iter(|| one(&relay, black_box(&body), &rep));
    });
    let other = KdcProxyMessage::request(
        KdcProxyMessage::decode(&body)
            .expect("kkdcp")
            .kerberos_message()
            .expect("inner"),
        "OTHER.TEST",
    )
    .expect("request")
    .encode();
    g.bench_function(BenchmarkId::from_parameter("unknown realm (403)"), |b| {
        b.iter(
            || match relay.handle(&head(&other), black_box(&other), now()) {
                Decision::Reject(r) => {
                    assert_eq!(r.response.status, 403);
                    r.audit.to_json_line()
                }
                Decision::Forward(_) => panic!("forwarded an unknown realm"),
            },
        );
    });
    g.finish();
}

criterion_group!(benches, relay_core);
criterion_main!(benches);
