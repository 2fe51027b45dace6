//! Byte-stable replies: with a fixed clock and a seeded RNG the KDC's
//! output is identical on every run and machine. A change to any of these
//! snapshots is a change to what goes on the wire.

mod common;

use std::fmt::Write as _;

use common::*;
use kerbside_client::krb::{
    AsExchange, AsOptions, AsStep, Principal, Secret, TgsExchange, TgsOptions,
};
use kerbside_kdc::{Kdc, Outcome, Transport};
use kerbside_wire::krb::{KrbMessage, decode};

fn reply(kdc: &mut Kdc, req: &[u8], t: Transport, seed: u64) -> Vec<u8> {
    match kdc.handle(req, t, fixed_now(), &mut rng(seed)) {
        Outcome::Reply(b) => b,
        Outcome::Drop(d) => panic!("{d:?}"),
    }
}

/// Message type, length, and the bytes in 64-hex-digit lines.
fn render(bytes: &[u8]) -> String {
    let msg = decode(bytes).unwrap();
    let mut s = format!("{} ({} bytes)", msg.name(), bytes.len());
    if let KrbMessage::KrbError(e) = &msg {
        write!(
            s,
            " error-code {} e-text {:?}",
            e.error_code,
            e.e_text.as_deref().unwrap_or("")
        )
        .unwrap();
    }
    s.push('\n');
    for chunk in hex::encode(bytes).as_bytes().chunks(64) {
        s.push_str(std::str::from_utf8(chunk).unwrap());
        s.push('\n');
    }
    s
}

#[test]
fn preauth_required() {
    let mut kdc = lab_kdc();
    insta::assert_snapshot!(render(&reply(
        &mut kdc,
        &vector("tcp-as-req-nopreauth"),
        Transport::Tcp,
        1
    )));
}

#[test]
fn as_rep_for_a_preauthenticated_request() {
    let mut kdc = lab_kdc();
    let mut r = rng(2);
    let mut ex = AsExchange::new(
        Principal::user("alice", REALM),
        Secret::Keys(vec![key_of("alice", AES256)]),
        AsOptions {
            preauth_first: true,
            ..AsOptions::default()
        },
    );
    let req = ex.start(fixed_now(), &mut r).unwrap();
    let rep = reply(&mut kdc, &req, Transport::Tcp, 3);
    assert!(matches!(
        ex.step(&rep, fixed_now(), &mut r).unwrap(),
        AsStep::Done(_)
    ));
    insta::assert_snapshot!(render(&rep));
}

#[test]
fn tgs_rep_with_subkey_and_sha384() {
    let mut kdc = lab_kdc();
    let mut r = rng(4);
    let opts = AsOptions {
        preauth_first: true,
        etypes: vec![AES256_SHA384],
        ..AsOptions::default()
    };
    let mut ex = AsExchange::new(
        Principal::user("alice", REALM),
        Secret::Keys(vec![key_of("alice", AES256_SHA384)]),
        opts,
    );
    let req = ex.start(fixed_now(), &mut r).unwrap();
    let AsStep::Done(tgt) = ex
        .step(
            &reply(&mut kdc, &req, Transport::Tcp, 5),
            fixed_now(),
            &mut r,
        )
        .unwrap()
    else {
        panic!()
    };
    let mut tgs = TgsExchange::new(
        &tgt,
        Principal::service("host", "app.lab.test", REALM),
        TgsOptions {
            subkey: true,
            etypes: vec![AES256_SHA384],
            ..TgsOptions::default()
        },
    );
    let rep = reply(
        &mut kdc,
        &tgs.request(fixed_now(), &mut r),
        Transport::Tcp,
        6,
    );
    tgs.handle_reply(&rep).unwrap();
    insta::assert_snapshot!(render(&rep));
}

#[test]
fn response_too_big_over_udp() {
    let mut kdc = lab_kdc_with(|c| c.udp_max_reply = 256);
    insta::assert_snapshot!(render(&reply(
        &mut kdc,
        &vector("udp-as-req-principal-nopreauth"),
        Transport::Udp,
        7
    )));
}

#[test]
fn unknown_client() {
    let mut kdc = lab_kdc();
    let mut req = vector("tcp-as-req-principal-nopreauth");
    // "nopreauth" -> "nopreautx": same length, unknown principal.
    let at = req.windows(9).position(|w| w == b"nopreauth").unwrap();
    req[at + 8] = b'x';
    insta::assert_snapshot!(render(&reply(&mut kdc, &req, Transport::Tcp, 8)));
}
