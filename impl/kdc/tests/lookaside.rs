//! The lookaside cache with kerbside's own client: retransmissions and the
//! TCP retry after KRB_ERR_RESPONSE_TOO_BIG get the reply the first copy
//! got (MIT `src/kdc/replay.c`), while anything that is not the same bytes
//! still meets the replay cache.

mod common;

use std::time::{Duration, SystemTime};

use common::*;
use kerbside_client::krb::{
    AsExchange, AsOptions, AsStep, Credentials, Principal, Secret, TgsExchange, TgsOptions,
};
use kerbside_kdc::{Handled, Kdc, Outcome, Transport};
use kerbside_wire::krb::asn1::{Asn1Object, PaData, TgsReq};
use kerbside_wire::krb::constants::padata_type;
use kerbside_wire::krb::{KrbMessage, decode, decode_der};

fn send(kdc: &mut Kdc, req: &[u8], transport: Transport, at: SystemTime, seed: u64) -> Handled {
    let h = kdc.handle_traced(req, transport, at, &mut rng(seed));
    assert!(matches!(h.outcome, Outcome::Reply(_)), "{:?}", h.outcome);
    h
}

fn bytes(h: &Handled) -> Vec<u8> {
    match &h.outcome {
        Outcome::Reply(b) => b.clone(),
        Outcome::Drop(d) => panic!("dropped: {d:?}"),
    }
}

fn error_code(reply: &[u8]) -> Option<i32> {
    match decode(reply).unwrap() {
        KrbMessage::KrbError(e) => Some(e.error_code),
        _ => None,
    }
}

fn tgt(kdc: &mut Kdc) -> Credentials {
    let now = fixed_now();
    let mut r = rng(11);
    let mut ex = AsExchange::new(
        Principal::user("alice", REALM),
        Secret::Keys(vec![key_of("alice", AES256)]),
        AsOptions {
            preauth_first: true,
            ..AsOptions::default()
        },
    );
    let req = ex.start(now, &mut r).unwrap();
    let rep = bytes(&send(kdc, &req, Transport::Tcp, now, 1));
    let AsStep::Done(c) = ex.step(&rep, now, &mut r).unwrap() else {
        panic!("no TGT")
    };
    c
}

fn tgs(tgt: &Credentials, at: SystemTime, seed: u64) -> (TgsExchange, Vec<u8>) {
    let mut ex = TgsExchange::new(
        tgt,
        Principal::service("host", "app.lab.test", REALM),
        TgsOptions::default(),
    );
    let req = ex.request(at, &mut rng(seed));
    (ex, req)
}

#[test]
fn tcp_retry_after_udp_too_big_gets_the_full_tgs_rep() {
    // Every TGS-REP of this realm is larger than 300 octets.
    let mut kdc = lab_kdc_with(|c| c.udp_max_reply = 300);
    let t = tgt(&mut kdc);
    let now = fixed_now() + Duration::from_secs(1);
    let (ex, req) = tgs(&t, now, 3);
    let udp = send(&mut kdc, &req, Transport::Udp, now, 4);
    assert_eq!(error_code(&bytes(&udp)), Some(52)); // KRB_ERR_RESPONSE_TOO_BIG
    assert!(!udp.summary.from_lookaside);
    // RFC 4120 §7.2.1: the client sends the same bytes over TCP, a moment
    // later.
    let tcp = send(
        &mut kdc,
        &req,
        Transport::Tcp,
        now + Duration::from_millis(5),
        5,
    );
    let rep = bytes(&tcp);
    assert!(rep.len() > 300);
    assert!(tcp.summary.from_lookaside);
    assert_eq!(tcp.summary.error, None);
    assert_eq!(tcp.summary.client.as_deref(), Some("alice@LAB.TEST"));
    let ticket = ex.handle_reply(&rep).expect("the full TGS-REP");
    assert_eq!(ticket.server.to_string(), "host/app.lab.test@LAB.TEST");
}

#[test]
fn without_the_lookaside_the_tcp_retry_was_refused_as_a_replay() {
    // The bug the cache fixes: the UDP attempt recorded the authenticator,
    // so processing the TCP copy finds it in the replay cache.
    let mut kdc = lab_kdc_with(|c| {
        c.udp_max_reply = 300;
        c.lookaside_capacity = 0;
    });
    let t = tgt(&mut kdc);
    let now = fixed_now() + Duration::from_secs(1);
    let (_, req) = tgs(&t, now, 3);
    let udp = send(&mut kdc, &req, Transport::Udp, now, 4);
    assert_eq!(error_code(&bytes(&udp)), Some(52));
    let tcp = send(&mut kdc, &req, Transport::Tcp, now, 5);
    assert_eq!(error_code(&bytes(&tcp)), Some(34)); // KRB_AP_ERR_REPEAT
    assert_eq!(kdc.lookaside_len(), 0);
}

#[test]
fn udp_retransmissions_get_the_identical_reply() {
    let mut kdc = lab_kdc();
    let now = fixed_now();
    // AS-REQ: the retransmission is not processed again (that would issue
    // a second ticket with another session key: different bytes).
    let mut r = rng(21);
    let mut ex = AsExchange::new(
        Principal::user("alice", REALM),
        Secret::Keys(vec![key_of("alice", AES256)]),
        AsOptions {
            preauth_first: true,
            ..AsOptions::default()
        },
    );
    let as_req = ex.start(now, &mut r).unwrap();
    let first = send(&mut kdc, &as_req, Transport::Udp, now, 1);
    let again = send(
        &mut kdc,
        &as_req,
        Transport::Udp,
        now + Duration::from_secs(1),
        2,
    );
    assert_eq!(bytes(&again), bytes(&first));
    assert!(again.summary.from_lookaside && !first.summary.from_lookaside);
    let AsStep::Done(t) = ex.step(&bytes(&again), now, &mut r).unwrap() else {
        panic!("no TGT")
    };
    // TGS-REQ: the retransmission is not refused as a replay.
    let at = now + Duration::from_secs(2);
    let (ex, req) = tgs(&t, at, 6);
    let first = send(&mut kdc, &req, Transport::Udp, at, 7);
    assert_eq!(error_code(&bytes(&first)), None);
    let again = send(
        &mut kdc,
        &req,
        Transport::Udp,
        at + Duration::from_secs(1),
        8,
    );
    assert_eq!(bytes(&again), bytes(&first));
    ex.handle_reply(&bytes(&again)).unwrap();
    assert_eq!(kdc.lookaside_len(), 2);
    // Clones (the real server's worker threads) share the cache.
    let mut worker = kdc.clone();
    let other = send(&mut worker, &req, Transport::Tcp, at, 9);
    assert_eq!(bytes(&other), bytes(&first));
}

#[test]
fn a_different_tgs_req_reusing_an_authenticator_is_still_a_replay() {
    let mut kdc = lab_kdc();
    let t = tgt(&mut kdc);
    let at = fixed_now() + Duration::from_secs(1);
    let (_, req) = tgs(&t, at, 3);
    assert_eq!(
        error_code(&bytes(&send(&mut kdc, &req, Transport::Tcp, at, 4))),
        None
    );
    // An attacker copies the PA-TGS-REQ into a request of its own: any
    // octet outside the checksummed body changed (here one more padata)
    // misses the lookaside and meets the replay cache.
    let mut copy: TgsReq = decode_der(&req).unwrap();
    // KERB-PA-PAC-REQUEST { include-pac FALSE } (MS-KILE §2.2.3).
    copy.padata.as_mut().unwrap().push(PaData::new(
        padata_type::PA_PAC_REQUEST,
        vec![0x30, 0x05, 0xa0, 0x03, 0x01, 0x01, 0x00],
    ));
    let copy = copy.build();
    assert_ne!(copy, req);
    let refused = send(&mut kdc, &copy, Transport::Tcp, at, 5);
    assert_eq!(error_code(&bytes(&refused)), Some(34)); // KRB_AP_ERR_REPEAT
    assert!(!refused.summary.from_lookaside);
    // And again: the refusal is what the lookaside then remembers for it.
    let refused = send(&mut kdc, &copy, Transport::Udp, at, 6);
    assert_eq!(error_code(&bytes(&refused)), Some(34));
}

#[test]
fn two_distinct_tgs_requests_in_the_same_microsecond_both_succeed() {
    let mut kdc = lab_kdc();
    let t = tgt(&mut kdc);
    let at = fixed_now() + Duration::from_secs(1);
    // Same ctime and cusec (one clock reading), each with its own nonce,
    // confounder and so authenticator tag.
    let (ex1, req1) = tgs(&t, at, 3);
    let (ex2, req2) = tgs(&t, at, 4);
    assert_ne!(req1, req2);
    let rep1 = bytes(&send(&mut kdc, &req1, Transport::Udp, at, 5));
    let rep2 = bytes(&send(&mut kdc, &req2, Transport::Udp, at, 6));
    ex1.handle_reply(&rep1).expect("first TGS-REP");
    ex2.handle_reply(&rep2).expect("second TGS-REP");
    assert_eq!(kdc.replay_cache_len(), 2);
}

#[test]
fn entries_expire_with_the_replay_window() {
    let mut kdc = lab_kdc();
    let t = tgt(&mut kdc);
    let at = fixed_now() + Duration::from_secs(1);
    let (_, req) = tgs(&t, at, 3);
    assert_eq!(
        error_code(&bytes(&send(&mut kdc, &req, Transport::Udp, at, 4))),
        None
    );
    // Past the window (300 s) the copy is processed again, and its
    // authenticator is too old by then.
    let late = at + Duration::from_secs(301);
    let h = send(&mut kdc, &req, Transport::Udp, late, 5);
    assert!(!h.summary.from_lookaside);
    assert_eq!(error_code(&bytes(&h)), Some(37)); // KRB_AP_ERR_SKEW
}

#[test]
fn a_full_replay_cache_refusal_is_not_remembered() {
    // KDC_ERR_SVC_UNAVAILABLE means the request was not taken: its
    // retransmission gets a new attempt once there is room.
    let mut kdc = lab_kdc_with(|c| c.replay_capacity = 1);
    let t = tgt(&mut kdc);
    let at = fixed_now() + Duration::from_secs(1);
    let mut refused = None;
    for i in 0..64u64 {
        let (_, req) = tgs(&t, at + Duration::from_micros(i), 100 + i);
        let h = send(&mut kdc, &req, Transport::Tcp, at, i);
        if error_code(&bytes(&h)) == Some(29) {
            refused = Some(req);
            break;
        }
    }
    let req = refused.expect("the replay cache fills");
    let again = send(&mut kdc, &req, Transport::Tcp, at, 1000);
    assert!(!again.summary.from_lookaside);
    assert_eq!(error_code(&bytes(&again)), Some(29));
}
