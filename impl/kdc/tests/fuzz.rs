//! proptest: arbitrary bytes and mutated valid requests never panic the
//! KDC and always give a KRB-ERROR, a KDC reply, or a drop by the rule the
//! module docs of `kerbside_kdc::kdc` state.

mod common;

use std::sync::OnceLock;

use common::*;
use kerbside_client::krb::{
    AsExchange, AsOptions, AsStep, Principal, Secret, TgsExchange, TgsOptions,
};
use kerbside_kdc::{DropReason, Outcome, Transport};
use kerbside_wire::krb::{KrbMessage, decode};
use proptest::prelude::*;

/// Valid requests: the MIT captures plus a TGS-REQ from kerbside's client.
fn corpus() -> &'static [Vec<u8>] {
    static C: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
    C.get_or_init(|| {
        let mut kdc = lab_kdc();
        let mut r = rng(1);
        let mut ex = AsExchange::new(
            Principal::user("alice", REALM),
            Secret::Keys(vec![key_of("alice", AES256)]),
            AsOptions {
                preauth_first: true,
                renew_lifetime: Some(std::time::Duration::from_secs(86_400 * 2)),
                ..AsOptions::default()
            },
        );
        let as_req = ex.start(fixed_now(), &mut r).unwrap();
        let Outcome::Reply(rep) = kdc.handle(&as_req, Transport::Tcp, fixed_now(), &mut r) else {
            panic!()
        };
        let AsStep::Done(tgt) = ex.step(&rep, fixed_now(), &mut r).unwrap() else {
            panic!()
        };
        let mut tgs = TgsExchange::new(
            &tgt,
            Principal::service("host", "app.lab.test", REALM),
            TgsOptions {
                subkey: true,
                ..TgsOptions::default()
            },
        );
        vec![
            vector("tcp-as-req-nopreauth"),
            vector("tcp-as-req-pa-enc-timestamp"),
            vector("udp-as-req-principal-nopreauth"),
            as_req,
            tgs.request(fixed_now(), &mut r),
            TgsExchange::renew(&tgt, TgsOptions::default())
                .unwrap()
                .request(fixed_now(), &mut r),
        ]
    })
}

/// The outcome obeys the answer-or-drop rules.
fn check(input: &[u8], outcome: Outcome) -> Result<(), TestCaseError> {
    match outcome {
        Outcome::Reply(bytes) => {
            prop_assert!(
                matches!(input.first(), Some(0x6a | 0x6c)),
                "replied to a non-request"
            );
            let msg = decode(&bytes);
            prop_assert!(
                matches!(
                    msg,
                    Ok(KrbMessage::KrbError(_) | KrbMessage::AsRep(_) | KrbMessage::TgsRep(_))
                ),
                "reply is not a KDC reply: {:?}",
                msg.map(|m| m.name())
            );
        }
        Outcome::Drop(DropReason::Empty) => prop_assert!(input.is_empty()),
        Outcome::Drop(DropReason::NotARequest { tag }) => {
            prop_assert_eq!(Some(&tag), input.first());
            prop_assert!(tag != 0x6a && tag != 0x6c);
        }
        Outcome::Drop(DropReason::Malformed(_)) => {
            prop_assert!(matches!(input.first(), Some(0x6a | 0x6c)));
            prop_assert!(kerbside_wire::krb::decode(input).is_err());
        }
        Outcome::Drop(other) => prop_assert!(false, "undocumented drop {other:?}"),
    }
    Ok(())
}

fn run(input: &[u8], udp: bool, seed: u64) -> Result<(), TestCaseError> {
    let mut kdc = lab_kdc();
    let t = if udp { Transport::Udp } else { Transport::Tcp };
    let outcome = kdc.handle(input, t, fixed_now(), &mut rng(seed));
    check(input, outcome)
}

#[derive(Debug, Clone)]
enum Mutation {
    Flip { at: usize, xor: u8 },
    Set { at: usize, value: u8 },
    Truncate { len: usize },
    Insert { at: usize, bytes: Vec<u8> },
    Remove { at: usize, len: usize },
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), 1u8..).prop_map(|(at, xor)| Mutation::Flip { at, xor }),
        (any::<usize>(), any::<u8>()).prop_map(|(at, value)| Mutation::Set { at, value }),
        any::<usize>().prop_map(|len| Mutation::Truncate { len }),
        (any::<usize>(), proptest::collection::vec(any::<u8>(), 1..8))
            .prop_map(|(at, bytes)| Mutation::Insert { at, bytes }),
        (any::<usize>(), 1usize..16).prop_map(|(at, len)| Mutation::Remove { at, len }),
    ]
}

fn apply(mut v: Vec<u8>, muts: &[Mutation]) -> Vec<u8> {
    for m in muts {
        if v.is_empty() {
            break;
        }
        let n = v.len();
        match m {
            Mutation::Flip { at, xor } => v[at % n] ^= xor,
            Mutation::Set { at, value } => v[at % n] = *value,
            Mutation::Truncate { len } => v.truncate(len % n),
            Mutation::Insert { at, bytes } => {
                let at = at % n;
                v.splice(at..at, bytes.iter().copied());
            }
            Mutation::Remove { at, len } => {
                let at = at % n;
                let end = (at + len).min(n);
                v.drain(at..end);
            }
        }
    }
    v
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn arbitrary_bytes(input in proptest::collection::vec(any::<u8>(), 0..400), udp: bool, seed: u64) {
        run(&input, udp, seed)?;
    }

    #[test]
    fn arbitrary_bytes_behind_a_request_tag(tag in prop_oneof![Just(0x6au8), Just(0x6c)], rest in proptest::collection::vec(any::<u8>(), 0..400)) {
        let mut input = vec![tag];
        input.extend(rest);
        run(&input, false, 0)?;
    }

    #[test]
    fn mutated_valid_requests(which in 0usize..6, muts in proptest::collection::vec(mutation(), 1..4), udp: bool, seed: u64) {
        let input = apply(corpus()[which].clone(), &muts);
        run(&input, udp, seed)?;
    }
}

#[test]
fn the_corpus_itself_is_answered_with_replies() {
    let mut kdc = lab_kdc();
    for (i, req) in corpus().iter().enumerate() {
        let out = kdc.handle(req, Transport::Tcp, fixed_now(), &mut rng(i as u64));
        let Outcome::Reply(b) = out else {
            panic!("{i} dropped")
        };
        assert!(decode(&b).is_ok(), "{i}");
    }
}
