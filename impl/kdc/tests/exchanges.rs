//! kerbside's own client (kerbside-client::krb) against the core: AS with
//! the PREAUTH_REQUIRED round trip, TGS with and without subkey, renewal,
//! every enctype, and the AP-REQ a service would receive.

mod common;

use std::time::Duration;

use common::*;
use kerbside_client::krb::{
    ApOptions, ApRequest, AsExchange, AsOptions, AsStep, Credentials, KrbClientError, Principal,
    Secret, TgsExchange, TgsOptions,
};
use kerbside_crypto::EncType;
use kerbside_kdc::{Kdc, Outcome, Transport};
use kerbside_wire::krb::asn1::{Authenticator, EncTicketPart};
use kerbside_wire::krb::constants::{key_usage, ticket_flags as tf};
use kerbside_wire::krb::{KrbMessage, decode, decode_der};

pub fn send(kdc: &mut Kdc, req: &[u8], now: std::time::SystemTime, seed: u64) -> Vec<u8> {
    match kdc.handle(req, Transport::Tcp, now, &mut rng(seed)) {
        Outcome::Reply(b) => b,
        Outcome::Drop(r) => panic!("dropped: {r:?}"),
    }
}

fn kinit(
    kdc: &mut Kdc,
    user: &str,
    password: &str,
    options: AsOptions,
) -> Result<(Credentials, usize), KrbClientError> {
    let now = fixed_now();
    let mut r = rng(7);
    let mut ex = AsExchange::new(
        Principal::user(user, REALM),
        Secret::Password(password.into()),
        options,
    );
    let mut msg = ex.start(now, &mut r)?;
    for round in 1..=3 {
        match ex.step(&send(kdc, &msg, now, round as u64), now, &mut r)? {
            AsStep::Send(next) => msg = next,
            AsStep::Done(c) => return Ok((c, round)),
        }
    }
    panic!("no AS-REP after 3 rounds")
}

fn only(etype: EncType) -> AsOptions {
    AsOptions {
        etypes: vec![etype],
        ..AsOptions::default()
    }
}

#[test]
fn kinit_with_password_takes_the_preauth_round_trip_for_every_enctype() {
    let mut kdc = lab_kdc();
    for etype in [
        EncType::Aes256CtsHmacSha196,
        EncType::Aes128CtsHmacSha196,
        EncType::Aes256CtsHmacSha384192,
        EncType::Aes128CtsHmacSha256128,
    ] {
        let (tgt, rounds) = kinit(&mut kdc, "alice", "alicepw", only(etype)).unwrap();
        assert_eq!(rounds, 2, "{etype}");
        assert!(tgt.is_tgt());
        assert_eq!(tgt.session_key.etype(), etype);
        assert!(tgt.has_flag(tf::INITIAL) && tgt.has_flag(tf::PRE_AUTHENT));
        assert_eq!(
            tgt.end_time.duration_since(tgt.start_time).unwrap(),
            Duration::from_secs(10 * 3600)
        );
        // The ticket is sealed with the krbtgt key of the KDC's preferred enctype.
        assert_eq!(tgt.ticket.enc_part.etype, 18);
    }
}

#[test]
fn wrong_password_fails_with_preauth_failed() {
    let mut kdc = lab_kdc();
    let e = kinit(&mut kdc, "alice", "wrong", AsOptions::default()).unwrap_err();
    assert_eq!(e.krb_code(), Some(24), "{e}");
}

#[test]
fn no_preauth_principal_in_one_round_and_wrong_password_does_not_decrypt() {
    let mut kdc = lab_kdc();
    let (c, rounds) = kinit(&mut kdc, "nopreauth", "nopreauthpw", AsOptions::default()).unwrap();
    assert_eq!(rounds, 1);
    assert!(!c.has_flag(tf::PRE_AUTHENT));
    let e = kinit(&mut kdc, "nopreauth", "bad", AsOptions::default()).unwrap_err();
    assert!(matches!(e, KrbClientError::Crypto(_)), "{e}");
}

#[test]
fn preauth_first_with_derived_keys_takes_one_round() {
    let mut kdc = lab_kdc();
    let opts = AsOptions {
        preauth_first: true,
        ..AsOptions::default()
    };
    let now = fixed_now();
    let mut r = rng(3);
    let mut ex = AsExchange::new(
        Principal::user("alice", REALM),
        Secret::Keys(vec![key_of("alice", AES256)]),
        opts,
    );
    let req = ex.start(now, &mut r).unwrap();
    let AsStep::Done(c) = ex.step(&send(&mut kdc, &req, now, 1), now, &mut r).unwrap() else {
        panic!()
    };
    assert!(c.has_flag(tf::PRE_AUTHENT));
}

#[test]
fn service_ticket_decrypts_with_the_service_key_and_ap_req_verifies() {
    let mut kdc = lab_kdc();
    for (i, (etype, subkey)) in [
        (EncType::Aes256CtsHmacSha196, false),
        (EncType::Aes256CtsHmacSha384192, true),
    ]
    .into_iter()
    .enumerate()
    {
        let (tgt, _) = kinit(&mut kdc, "alice", "alicepw", only(etype)).unwrap();
        let service = Principal::service("host", "app.lab.test", REALM);
        let mut ex = TgsExchange::new(
            &tgt,
            service.clone(),
            TgsOptions {
                subkey,
                etypes: vec![etype],
                ..TgsOptions::default()
            },
        );
        // A different authenticator time per round: the same (client, server,
        // ctime, cusec) twice is a replay (RFC 4120 §3.2.3).
        let now = fixed_now() + Duration::from_secs(5 + i as u64);
        let st = {
            let req = ex.request(now, &mut rng(9));
            ex.handle_reply(&send(&mut kdc, &req, now, 2))
        }
        .unwrap();
        assert_eq!(st.server, service);
        assert_eq!(st.session_key.etype(), etype);
        assert!(!st.has_flag(tf::INITIAL));
        assert!(st.has_flag(tf::PRE_AUTHENT), "inherited from the TGT");
        assert!(st.end_time <= tgt.end_time);
        // What host/app.lab.test does with an AP-REQ: ticket with its key
        // (usage 2), authenticator with the session key (usage 11).
        let ap = ApRequest::build(
            &st,
            &ApOptions {
                mutual: true,
                ..ApOptions::default()
            },
            now,
            &mut rng(4),
        );
        let KrbMessage::ApReq(ap_req) = decode(&ap.bytes).unwrap() else {
            panic!()
        };
        let svc_key = key_of(
            "host/app.lab.test",
            EncType::from_id(ap_req.ticket.enc_part.etype).unwrap(),
        );
        assert_eq!(ap_req.ticket.enc_part.kvno, Some(1));
        let t: EncTicketPart = decode_der(
            &svc_key
                .decrypt(key_usage::KDC_REP_TICKET, &ap_req.ticket.enc_part.cipher)
                .unwrap(),
        )
        .unwrap();
        assert_eq!(t.cname.name_string, ["alice"]);
        assert_eq!(t.key.keyvalue, st.session_key.bytes());
        let a: Authenticator = decode_der(
            &st.session_key
                .decrypt(key_usage::AP_REQ_AUTH, &ap_req.authenticator.cipher)
                .unwrap(),
        )
        .unwrap();
        assert_eq!(a.cname.name_string, ["alice"]);
    }
}

#[test]
fn renewable_tgt_renews_and_keeps_its_renew_till() {
    let mut kdc = lab_kdc();
    let opts = AsOptions {
        renew_lifetime: Some(Duration::from_secs(2 * 86_400)),
        ..AsOptions::default()
    };
    let (tgt, _) = kinit(&mut kdc, "alice", "alicepw", opts).unwrap();
    assert!(tgt.has_flag(tf::RENEWABLE));
    assert_eq!(
        tgt.renew_till,
        Some(tgt.start_time + Duration::from_secs(2 * 86_400))
    );
    let later = fixed_now() + Duration::from_secs(3600);
    let mut ex = TgsExchange::renew(&tgt, TgsOptions::default()).unwrap();
    let renewed = {
        let req = ex.request(later, &mut rng(11));
        ex.handle_reply(&send(&mut kdc, &req, later, 3))
    }
    .unwrap();
    assert!(renewed.is_tgt());
    assert_eq!(renewed.renew_till, tgt.renew_till);
    assert_eq!(renewed.auth_time, tgt.auth_time);
    assert!(renewed.end_time > tgt.end_time);
    assert!(renewed.has_flag(tf::INITIAL | tf::RENEWABLE));
    // A non-renewable TGT cannot be renewed: the client refuses up front.
    let (plain, _) = kinit(&mut kdc, "alice", "alicepw", AsOptions::default()).unwrap();
    assert!(matches!(
        TgsExchange::renew(&plain, TgsOptions::default()),
        Err(KrbClientError::NotRenewable)
    ));
}

#[test]
fn forwardable_is_granted_when_asked_and_inherited() {
    let mut kdc = lab_kdc();
    let (tgt, _) = kinit(
        &mut kdc,
        "alice",
        "alicepw",
        AsOptions {
            forwardable: true,
            ..AsOptions::default()
        },
    )
    .unwrap();
    assert!(tgt.has_flag(tf::FORWARDABLE));
    let now = fixed_now();
    let mut ex = TgsExchange::new(
        &tgt,
        Principal::service("host", "app.lab.test", REALM),
        TgsOptions {
            forwardable: true,
            ..TgsOptions::default()
        },
    );
    let st = {
        let req = ex.request(now, &mut rng(12));
        ex.handle_reply(&send(&mut kdc, &req, now, 4))
    }
    .unwrap();
    assert!(st.has_flag(tf::FORWARDABLE));
}

#[test]
fn a_client_clock_off_by_ten_minutes_corrects_once_from_the_kdc_time() {
    let mut kdc = lab_kdc();
    let kdc_now = fixed_now();
    let client_now = kdc_now - Duration::from_secs(600);
    let mut r = rng(31);
    let opts = AsOptions {
        preauth_first: true,
        ..AsOptions::default()
    };
    let mut ex = AsExchange::new(
        Principal::user("alice", REALM),
        Secret::Keys(vec![key_of("alice", AES256)]),
        opts,
    );
    let req = ex.start(client_now, &mut r).unwrap();
    // KRB_AP_ERR_SKEW, then the retry with the KDC's time is accepted.
    let AsStep::Send(retry) = ex
        .step(&send(&mut kdc, &req, kdc_now, 1), client_now, &mut r)
        .unwrap()
    else {
        panic!("expected a corrected retry")
    };
    let AsStep::Done(c) = ex
        .step(&send(&mut kdc, &retry, kdc_now, 2), client_now, &mut r)
        .unwrap()
    else {
        panic!()
    };
    assert!(c.has_flag(tf::PRE_AUTHENT));
    // Only once: with the correction turned off the error surfaces.
    let opts = AsOptions {
        preauth_first: true,
        correct_skew: false,
        ..AsOptions::default()
    };
    let mut ex = AsExchange::new(
        Principal::user("alice", REALM),
        Secret::Keys(vec![key_of("alice", AES256)]),
        opts,
    );
    let req = ex.start(client_now, &mut r).unwrap();
    let e = ex
        .step(&send(&mut kdc, &req, kdc_now, 3), client_now, &mut r)
        .unwrap_err();
    assert_eq!(e.krb_code(), Some(37));
}
