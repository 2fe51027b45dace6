//! Arbitrary and mutated request bodies never panic the relay and never
//! reach an upstream unless they are valid; arbitrary upstream replies
//! never panic it and are only returned when they are Kerberos replies.

mod common;

use common::*;
use kerbside_relay::{Decision, Relay, Transport, UpstreamError};
use kerbside_wire::der;
use kerbside_wire::error::Format;
use kerbside_wire::kkdcp::KdcProxyMessage;
use proptest::prelude::*;

/// What "valid" means, checked independently of the relay's own code path:
/// a strict KDC-PROXY-MESSAGE, correct prefix, a DER AS-REQ/TGS-REQ inside,
/// for the one configured realm (any case).
fn assert_valid_forward(relay: &Relay, body: &[u8]) {
    let Decision::Forward(fwd) = relay.handle(&head(body), body, t0()) else {
        return;
    };
    let m = KdcProxyMessage::decode(body).expect("forwarded body must decode");
    let inner = m
        .kerberos_message()
        .expect("forwarded kerb-message must carry a correct prefix");
    assert!(
        matches!(inner.first(), Some(0x6a | 0x6c)),
        "only AS-REQ/TGS-REQ are forwarded"
    );
    der::validate(inner, Format::Kerberos).expect("forwarded message must be strict DER");
    assert!(
        m.target_domain
            .as_deref()
            .is_some_and(|r| r.eq_ignore_ascii_case("LAB.TEST"))
    );
    assert_eq!(
        fwd.payload, m.kerb_message,
        "forwarded bytes are the received bytes"
    );
    assert_eq!(fwd.realm, "LAB.TEST");
    assert!(
        fwd.upstreams
            .iter()
            .all(|u| u.to_string().starts_with("tcp://127.0.0.") || u.transport == Transport::Udp)
    );
}

fn seeds() -> Vec<Vec<u8>> {
    [
        "kkdcp-as-req-nopreauth",
        "kkdcp-as-req-pa-enc-timestamp",
        "kkdcp-tgs-req",
    ]
    .iter()
    .map(|n| vector(n))
    .collect()
}

/// One mutation of a valid body: flip, set, insert, delete or truncate.
#[derive(Debug, Clone)]
enum Mutation {
    Flip(usize, u8),
    Set(usize, u8),
    Insert(usize, u8),
    Delete(usize),
    Truncate(usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), 1u8..=255).prop_map(|(i, b)| Mutation::Flip(i, b)),
        (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Mutation::Set(i, b)),
        (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Mutation::Insert(i, b)),
        any::<usize>().prop_map(Mutation::Delete),
        any::<usize>().prop_map(Mutation::Truncate),
    ]
}

fn apply(body: &mut Vec<u8>, m: &Mutation) {
    if body.is_empty() {
        return;
    }
    let n = body.len();
    match *m {
        Mutation::Flip(i, b) => body[i % n] ^= b,
        Mutation::Set(i, b) => body[i % n] = b,
        Mutation::Insert(i, b) => body.insert(i % (n + 1), b),
        Mutation::Delete(i) => {
            body.remove(i % n);
        }
        Mutation::Truncate(i) => body.truncate(i % n),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bodies_never_panic_or_forward_invalid(body in proptest::collection::vec(any::<u8>(), 0..600)) {
        let relay = Relay::new(config()).unwrap();
        assert_valid_forward(&relay, &body);
    }

    #[test]
    fn mutated_mit_requests_never_panic_or_forward_invalid(
        seed in 0usize..3,
        muts in proptest::collection::vec(mutation(), 1..6),
    ) {
        let relay = Relay::new(config()).unwrap();
        let mut body = seeds()[seed].clone();
        for m in &muts {
            apply(&mut body, m);
        }
        assert_valid_forward(&relay, &body);
    }

    #[test]
    fn structured_requests_forward_exactly_when_valid(
        inner_seed in 0usize..3,
        realm in prop_oneof![Just("LAB.TEST".to_owned()), Just("lab.test".to_owned()), "[A-Za-z.]{0,12}"],
        prefix_delta in prop_oneof![Just(0i64), -3i64..3],
        hint in proptest::option::of(any::<i32>()),
        drop_realm in any::<bool>(),
    ) {
        let relay = Relay::new(config()).unwrap();
        let inner = KdcProxyMessage::decode(&seeds()[inner_seed]).unwrap().kerberos_message().unwrap().to_vec();
        let mut km = framed(&inner);
        let declared = (inner.len() as i64 + prefix_delta).max(0) as u32;
        km[..4].copy_from_slice(&declared.to_be_bytes());
        let target = (!drop_realm).then(|| realm.clone());
        let body = KdcProxyMessage { kerb_message: km, target_domain: target, dclocator_hint: hint.map(i64::from) }.encode();
        let should_forward = prefix_delta == 0 && !drop_realm && realm.eq_ignore_ascii_case("LAB.TEST");
        let forwarded = matches!(relay.handle(&head(&body), &body, t0()), Decision::Forward(_));
        prop_assert_eq!(forwarded, should_forward);
        assert_valid_forward(&relay, &body);
    }

    #[test]
    fn arbitrary_upstream_replies_never_panic_and_only_kerberos_replies_return(
        reply in prop_oneof![
            proptest::collection::vec(any::<u8>(), 0..400),
            (0usize..3, proptest::collection::vec(mutation(), 0..4)).prop_map(|(i, muts)| {
                let mut r = ["kkdcp-as-rep", "kkdcp-krb-error-preauth-required", "kkdcp-tgs-rep"]
                    .map(inner_of)[i].clone();
                for m in &muts { apply(&mut r, m); }
                r
            }),
        ],
        udp in any::<bool>(),
    ) {
        let relay = Relay::new(config()).unwrap();
        let body = vector("kkdcp-as-req-pa-enc-timestamp");
        let Decision::Forward(mut fwd) = relay.handle(&head(&body), &body, t0()) else { panic!("valid request") };
        let up = if udp { "udp://127.0.0.3:88" } else { "tcp://127.0.0.1:88" }.parse().unwrap();
        let bytes = if udp { reply.clone() } else { framed(&reply) };
        let accepted = fwd.record_reply(&up, bytes);
        let done = relay.finish(fwd, t0());
        match accepted {
            Ok(()) => {
                prop_assert_eq!(done.response.status, 200);
                let m = KdcProxyMessage::decode(&done.response.body).unwrap();
                prop_assert_eq!(m.kerberos_message().unwrap(), &reply[..]);
                prop_assert!(matches!(reply.first(), Some(0x6b | 0x7e)));
                der::validate(&reply, Format::Kerberos).unwrap();
            }
            Err(e) => {
                prop_assert_ne!(done.response.status, 200);
                prop_assert!(e.is_bad_reply() || e == UpstreamError::ResponseTooBig, "{e}");
            }
        }
    }
}
