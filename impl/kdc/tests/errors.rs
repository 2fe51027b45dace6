//! One negative test per refusal: each malformed, unauthorised or
//! out-of-policy request gets a KRB-ERROR with its RFC 4120 code (or the
//! documented drop), never a ticket and never a panic.

mod common;

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use common::*;
use kerbside_client::krb::{AsExchange, AsOptions, AsStep, Credentials, Principal, Secret};
use kerbside_crypto::Key;
use kerbside_kdc::{
    DropReason, IssueContext, IssueLimits, IssuePolicy, Kdc, KdcConfig, Outcome, PolicyDenial,
    PrincipalStore, Transport,
};
use kerbside_wire::krb::asn1::{
    ApReq, AsReq, Asn1Object, Authenticator, Checksum, EncryptedData, KdcOptions, KdcReqBody,
    PaData, TgsReq,
};
use kerbside_wire::krb::constants::{kdc_options as opt, key_usage, padata_type};
use kerbside_wire::krb::{KrbMessage, decode, principal};
use kerbside_wire::time::{to_kerberos_time, to_kerberos_time_usec};

fn now() -> SystemTime {
    fixed_now()
}

fn handle(kdc: &mut Kdc, req: &[u8], transport: Transport, at: SystemTime) -> Outcome {
    kdc.handle(req, transport, at, &mut rng(5))
}

/// The error code of the reply (panics if it is not a KRB-ERROR).
fn code_at(kdc: &mut Kdc, req: &[u8], at: SystemTime) -> i32 {
    match handle(kdc, req, Transport::Tcp, at) {
        Outcome::Reply(b) => match decode(&b).unwrap() {
            KrbMessage::KrbError(e) => {
                assert_eq!((e.pvno, e.msg_type, e.realm.as_str()), (5, 30, REALM));
                e.error_code
            }
            other => panic!("expected KRB-ERROR, got {}", other.name()),
        },
        Outcome::Drop(r) => panic!("dropped: {r:?}"),
    }
}

fn code(kdc: &mut Kdc, req: &[u8]) -> i32 {
    code_at(kdc, req, now())
}

fn body(user: &str) -> KdcReqBody {
    KdcReqBody {
        kdc_options: KdcOptions::from(0),
        cname: Some(principal(1, &[user])),
        realm: REALM.into(),
        sname: Some(principal(2, &["krbtgt", REALM])),
        from: None,
        till: to_kerberos_time(now() + Duration::from_secs(3600)),
        rtime: None,
        nonce: 12345,
        etypes: vec![18, 17],
        addresses: None,
        enc_authorization_data: None,
        additional_tickets: None,
    }
}

fn as_req(f: impl FnOnce(&mut AsReq)) -> Vec<u8> {
    let mut r = AsReq {
        req_body: body("nopreauth"),
        ..AsReq::default()
    };
    f(&mut r);
    r.build()
}

fn enc_ts(key: &Key, at: SystemTime) -> PaData {
    kerbside_kdc::preauth::enc_timestamp_padata(key, at, &mut rng(8))
}

#[test]
fn as_header_errors() {
    let mut kdc = lab_kdc();
    assert_eq!(code(&mut kdc, &as_req(|r| r.pvno = 4)), 3); // KDC_ERR_BAD_PVNO
    assert_eq!(code(&mut kdc, &as_req(|r| r.msg_type = 12)), 40); // KRB_AP_ERR_MSG_TYPE
}

#[test]
fn as_name_and_realm_errors() {
    let mut kdc = lab_kdc();
    assert_eq!(
        code(
            &mut kdc,
            &as_req(|r| r.req_body.realm = "OTHER.TEST".into())
        ),
        68
    ); // WRONG_REALM
    assert_eq!(
        code(
            &mut kdc,
            &as_req(|r| r.req_body.cname = Some(principal(1, &["nobody"])))
        ),
        6
    );
    assert_eq!(code(&mut kdc, &as_req(|r| r.req_body.cname = None)), 6);
    assert_eq!(
        code(
            &mut kdc,
            &as_req(|r| r.req_body.cname = Some(principal(1, &[])))
        ),
        6
    );
    // Lookups are case-sensitive (RFC 4120 §6.2 names are).
    assert_eq!(
        code(
            &mut kdc,
            &as_req(|r| r.req_body.cname = Some(principal(1, &["NOPREAUTH"])))
        ),
        6
    );
    assert_eq!(
        code(
            &mut kdc,
            &as_req(|r| r.req_body.sname = Some(principal(2, &["nfs", "x"])))
        ),
        7
    );
    assert_eq!(code(&mut kdc, &as_req(|r| r.req_body.sname = None)), 7);
}

#[test]
fn as_option_errors() {
    let mut kdc = lab_kdc();
    for bad in [
        opt::VALIDATE,
        opt::RENEW,
        opt::FORWARDED,
        opt::PROXY,
        opt::ENC_TKT_IN_SKEY,
    ] {
        assert_eq!(
            code(
                &mut kdc,
                &as_req(|r| r.req_body.kdc_options = KdcOptions::from(bad))
            ),
            13,
            "{bad:#x}"
        );
    }
    assert_eq!(
        code(
            &mut kdc,
            &as_req(|r| r.req_body.kdc_options = KdcOptions::from(opt::POSTDATED))
        ),
        10
    );
    // A start time an hour ahead without POSTDATED is still postdating.
    assert_eq!(
        code(
            &mut kdc,
            &as_req(|r| r.req_body.from = Some(to_kerberos_time(now() + Duration::from_secs(3600))))
        ),
        10
    );
    // A start time within the skew window is just "now".
    assert!(matches!(
        handle(&mut kdc, &as_req(|r| r.req_body.from = Some(to_kerberos_time(now() + Duration::from_secs(60)))), Transport::Tcp, now()),
        Outcome::Reply(ref b) if matches!(decode(b).unwrap(), KrbMessage::AsRep(_))
    ));
    // till before now: never valid.
    assert_eq!(
        code(
            &mut kdc,
            &as_req(|r| r.req_body.till = to_kerberos_time(now() - Duration::from_secs(10)))
        ),
        11
    );
}

#[test]
fn as_etype_errors() {
    let mut kdc = lab_kdc();
    // Only DES and RC4 offered.
    assert_eq!(
        code(&mut kdc, &as_req(|r| r.req_body.etypes = vec![3, 23])),
        14
    );
    assert_eq!(code(&mut kdc, &as_req(|r| r.req_body.etypes = vec![])), 14);
    // The KDC has 17 disabled; a client offering only 17 gets ETYPE_NOSUPP.
    let mut only18 = lab_kdc_with(|c| c.enctypes = vec![AES256]);
    assert_eq!(
        code(&mut only18, &as_req(|r| r.req_body.etypes = vec![17])),
        14
    );
}

#[test]
fn preauth_errors() {
    let mut kdc = lab_kdc();
    let alice = |pa: Vec<PaData>| {
        as_req(|r| {
            r.req_body.cname = Some(principal(1, &["alice"]));
            r.padata = Some(pa);
        })
    };
    assert_eq!(code(&mut kdc, &alice(vec![])), 25); // PREAUTH_REQUIRED
    // Encrypted with another principal's key.
    assert_eq!(
        code(
            &mut kdc,
            &alice(vec![enc_ts(&key_of("nopreauth", AES256), now())])
        ),
        24
    );
    // Not an EncryptedData at all.
    assert_eq!(
        code(&mut kdc, &alice(vec![PaData::new(2, vec![0x30, 0x00])])),
        24
    );
    // An enctype alice has no key for.
    let rc4 = Key::new(kerbside_crypto::EncType::Rc4Hmac, vec![0; 16]).unwrap();
    assert_eq!(code(&mut kdc, &alice(vec![enc_ts(&rc4, now())])), 24);
    // Right key, timestamp six minutes off: KRB_AP_ERR_SKEW.
    let alice_key = key_of("alice", AES256);
    assert_eq!(
        code(
            &mut kdc,
            &alice(vec![enc_ts(&alice_key, now() + Duration::from_secs(360))])
        ),
        37
    );
    assert_eq!(
        code(
            &mut kdc,
            &alice(vec![enc_ts(&alice_key, now() - Duration::from_secs(360))])
        ),
        37
    );
    // The reply is encrypted with the key the timestamp proved, here 17,
    // although the request lists 18 first.
    let aes128 = key_of("alice", kerbside_crypto::EncType::Aes128CtsHmacSha196);
    let Outcome::Reply(b) = handle(
        &mut kdc,
        &alice(vec![enc_ts(&aes128, now())]),
        Transport::Tcp,
        now(),
    ) else {
        panic!()
    };
    let KrbMessage::AsRep(rep) = decode(&b).unwrap() else {
        panic!()
    };
    assert_eq!(rep.enc_part.etype, 17);
    aes128.decrypt(3, &rep.enc_part.cipher).unwrap();
    // Within skew it works: an AS-REP.
    let Outcome::Reply(ok) = handle(
        &mut kdc,
        &alice(vec![enc_ts(&alice_key, now() + Duration::from_secs(250))]),
        Transport::Tcp,
        now(),
    ) else {
        panic!()
    };
    assert!(matches!(decode(&ok).unwrap(), KrbMessage::AsRep(_)));
}

fn store_with(f: impl FnOnce(&mut PrincipalStore)) -> PrincipalStore {
    let mut s = lab_store();
    f(&mut s);
    s
}

fn set(store: &mut PrincipalStore, name: &str, f: impl FnOnce(&mut kerbside_kdc::PrincipalEntry)) {
    let comps: Vec<String> = name.split('/').map(str::to_owned).collect();
    f(store.get_mut(&comps).unwrap());
}

#[test]
fn account_state_errors() {
    type Case = (&'static str, fn(&mut kerbside_kdc::PrincipalEntry), i32);
    let cases: [Case; 4] = [
        ("nopreauth", |e| e.disabled = true, 18), // CLIENT_REVOKED
        ("nopreauth", |e| e.expires = Some(SystemTime::UNIX_EPOCH), 1), // NAME_EXP
        ("krbtgt/LAB.TEST", |e| e.disabled = true, 19), // SERVICE_REVOKED
        (
            "krbtgt/LAB.TEST",
            |e| e.expires = Some(SystemTime::UNIX_EPOCH),
            2,
        ), // SERVICE_EXP
    ];
    for (name, f, want) in cases {
        let store = store_with(|s| set(s, name, f));
        let mut kdc = Kdc::new(KdcConfig::new(REALM), store).unwrap();
        assert_eq!(code(&mut kdc, &as_req(|_| {})), want, "{name}");
    }
}

#[derive(Debug)]
struct DenyUsers;
impl IssuePolicy for DenyUsers {
    fn limits(&self, ctx: &IssueContext<'_>) -> Result<IssueLimits, PolicyDenial> {
        if ctx.client_entry.kind == kerbside_kdc::PrincipalKind::User {
            return Err(PolicyDenial::policy("users may not log on here"));
        }
        Ok(IssueLimits {
            max_lifetime: Duration::from_secs(900),
            max_renewable: Duration::ZERO,
            allow_forwardable: false,
        })
    }
}

#[test]
fn policy_refusal_is_kdc_err_policy() {
    let mut kdc =
        Kdc::with_policy(KdcConfig::new(REALM), lab_store(), Arc::new(DenyUsers)).unwrap();
    assert_eq!(code(&mut kdc, &as_req(|_| {})), 12);
    // A computer account passes, with the policy's 15-minute cap.
    let Outcome::Reply(b) = handle(
        &mut kdc,
        &as_req(|r| r.req_body.cname = Some(principal(1, &["WS01$"]))),
        Transport::Tcp,
        now(),
    ) else {
        panic!()
    };
    let KrbMessage::AsRep(rep) = decode(&b).unwrap() else {
        panic!()
    };
    let k = key_of("WS01$", AES256);
    let part =
        kerbside_wire::krb::decode_enc_rep_part(&k.decrypt(3, &rep.enc_part.cipher).unwrap())
            .unwrap()
            .part;
    let life = kerbside_wire::time::unix_seconds(&part.endtime)
        - kerbside_wire::time::unix_seconds(&part.authtime);
    assert_eq!(life, 900);
}

#[test]
fn udp_reply_over_the_limit_is_response_too_big_and_tcp_is_not() {
    let mut kdc = lab_kdc_with(|c| c.udp_max_reply = 256);
    let req = as_req(|_| {});
    let Outcome::Reply(b) = handle(&mut kdc, &req, Transport::Udp, now()) else {
        panic!()
    };
    let KrbMessage::KrbError(e) = decode(&b).unwrap() else {
        panic!()
    };
    assert_eq!(e.error_code, 52);
    assert!(e.e_data.is_none(), "naked error, nothing FAST-wrapped");
    let Outcome::Reply(b) = handle(&mut kdc, &req, Transport::Tcp, now()) else {
        panic!()
    };
    assert!(b.len() > 256);
    assert!(matches!(decode(&b).unwrap(), KrbMessage::AsRep(_)));
}

#[test]
fn drops_follow_the_documented_rules() {
    let mut kdc = lab_kdc();
    assert_eq!(
        handle(&mut kdc, &[], Transport::Udp, now()),
        Outcome::Drop(DropReason::Empty)
    );
    // A KRB-ERROR sent to the KDC is not answered (no error ping-pong).
    let Outcome::Reply(err) = handle(&mut kdc, &as_req(|r| r.pvno = 4), Transport::Udp, now())
    else {
        panic!()
    };
    assert_eq!(
        handle(&mut kdc, &err, Transport::Udp, now()),
        Outcome::Drop(DropReason::NotARequest { tag: 0x7e })
    );
    assert_eq!(
        handle(&mut kdc, b"GET / HTTP/1.1\r\n", Transport::Tcp, now()),
        Outcome::Drop(DropReason::NotARequest { tag: b'G' })
    );
    let mut truncated = as_req(|_| {});
    truncated.truncate(40);
    assert!(matches!(
        handle(&mut kdc, &truncated, Transport::Udp, now()),
        Outcome::Drop(DropReason::Malformed(_))
    ));
}

// ---------------------------------------------------------------- TGS

fn tgt(kdc: &mut Kdc, opts: AsOptions) -> Credentials {
    let mut r = rng(21);
    let secret = Secret::Keys(vec![key_of("alice", AES256)]);
    let mut ex = AsExchange::new(
        Principal::user("alice", REALM),
        secret,
        AsOptions {
            preauth_first: true,
            ..opts
        },
    );
    let req = ex.start(now(), &mut r).unwrap();
    let Outcome::Reply(b) = handle(kdc, &req, Transport::Tcp, now()) else {
        panic!()
    };
    let AsStep::Done(c) = ex.step(&b, now(), &mut r).unwrap() else {
        panic!()
    };
    c
}

fn tgs_body(service: &[&str], options: u32) -> KdcReqBody {
    KdcReqBody {
        kdc_options: KdcOptions::from(options),
        cname: None,
        sname: Some(principal(3, service)),
        ..body("alice")
    }
}

/// A TGS-REQ built by hand from `creds`, with hooks to break it.
struct TgsBuild<'a> {
    creds: &'a Credentials,
    body: KdcReqBody,
    at: SystemTime,
    auth: Box<dyn FnOnce(&mut Authenticator) + 'a>,
    ap: Box<dyn FnOnce(&mut ApReq) + 'a>,
    after_checksum: Box<dyn FnOnce(&mut KdcReqBody) + 'a>,
}

impl<'a> TgsBuild<'a> {
    fn new(creds: &'a Credentials, body: KdcReqBody) -> Self {
        Self {
            creds,
            body,
            at: now(),
            auth: Box::new(|_| {}),
            ap: Box::new(|_| {}),
            after_checksum: Box::new(|_| {}),
        }
    }
    fn bytes(self) -> Vec<u8> {
        let k = &self.creds.session_key;
        let ck = Checksum {
            cksumtype: k.etype().checksum_type(),
            checksum: k.checksum(key_usage::TGS_REQ_AUTH_CKSUM, &self.body.build()),
        };
        let (ctime, cusec) = to_kerberos_time_usec(self.at);
        let mut a = Authenticator {
            authenticator_vno: 5,
            crealm: REALM.into(),
            cname: principal(1, &["alice"]),
            cksum: Some(ck),
            cusec,
            ctime,
            subkey: None,
            seq_number: None,
            authorization_data: None,
        };
        (self.auth)(&mut a);
        let mut ap = ApReq {
            ticket: self.creds.ticket.clone(),
            authenticator: EncryptedData::new(
                k.etype().id(),
                None,
                k.encrypt(key_usage::TGS_REQ_AUTH, &a.build(), &mut rng(30)),
            ),
            ..ApReq::default()
        };
        (self.ap)(&mut ap);
        let mut body = self.body;
        (self.after_checksum)(&mut body);
        TgsReq {
            padata: Some(vec![PaData::new(padata_type::PA_TGS_REQ, ap.build())]),
            req_body: body,
            ..TgsReq::default()
        }
        .build()
    }
}

const APP: [&str; 2] = ["host", "app.lab.test"];

#[test]
fn well_formed_hand_built_tgs_request_succeeds() {
    let mut kdc = lab_kdc();
    let t = tgt(&mut kdc, AsOptions::default());
    let req = TgsBuild::new(&t, tgs_body(&APP, 0)).bytes();
    let Outcome::Reply(b) = handle(&mut kdc, &req, Transport::Tcp, now()) else {
        panic!()
    };
    assert!(matches!(decode(&b).unwrap(), KrbMessage::TgsRep(_)));
    // The very same bytes again are a retransmission: the lookaside cache
    // answers with the same reply (MIT does too).
    let Outcome::Reply(again) = handle(&mut kdc, &req, Transport::Tcp, now()) else {
        panic!()
    };
    assert_eq!(again, b);
    // The same authenticator in a request that differs (here one more
    // padata) is a replay.
    let mut other: TgsReq = kerbside_wire::krb::decode_der(&req).unwrap();
    // KERB-PA-PAC-REQUEST { include-pac FALSE } (MS-KILE §2.2.3).
    other.padata.as_mut().unwrap().push(PaData::new(
        padata_type::PA_PAC_REQUEST,
        vec![0x30, 0x05, 0xa0, 0x03, 0x01, 0x01, 0x00],
    ));
    assert_eq!(code(&mut kdc, &other.build()), 34); // KRB_AP_ERR_REPEAT
}

#[test]
fn two_tgs_requests_in_the_same_microsecond_both_succeed() {
    // The simulation's clocks step in lockstep, so a client can make two
    // authenticators with the same (ctime, cusec) for different requests:
    // their ciphertexts (and so their replay tags) differ, neither is a
    // replay of the other.
    let mut kdc = lab_kdc();
    let t = tgt(&mut kdc, AsOptions::default());
    let first = TgsBuild::new(&t, tgs_body(&APP, 0)).bytes();
    let mut body = tgs_body(&APP, 0);
    body.nonce += 1;
    let second = TgsBuild::new(&t, body).bytes();
    assert_ne!(first, second);
    for req in [&first, &second] {
        let Outcome::Reply(b) = handle(&mut kdc, req, Transport::Tcp, now()) else {
            panic!()
        };
        assert!(
            matches!(decode(&b).unwrap(), KrbMessage::TgsRep(_)),
            "{:?}",
            decode(&b).map(|m| m.name())
        );
    }
    assert_eq!(kdc.replay_cache_len(), 2);
}

#[test]
fn tgs_padata_and_ap_req_errors() {
    let mut kdc = lab_kdc();
    let t = tgt(&mut kdc, AsOptions::default());
    let no_pa = TgsReq {
        padata: None,
        req_body: tgs_body(&APP, 0),
        ..TgsReq::default()
    }
    .build();
    assert_eq!(code(&mut kdc, &no_pa), 16); // PADATA_TYPE_NOSUPP
    let junk = TgsReq {
        padata: Some(vec![PaData::new(1, vec![1, 2, 3])]),
        req_body: tgs_body(&APP, 0),
        ..TgsReq::default()
    }
    .build();
    assert_eq!(code(&mut kdc, &junk), 40); // not an AP-REQ
    let mut b = TgsBuild::new(&t, tgs_body(&APP, 0));
    b.ap = Box::new(|ap| ap.pvno = 4);
    assert_eq!(code(&mut kdc, &b.bytes()), 39); // BADVERSION
    let mut b = TgsBuild::new(&t, tgs_body(&APP, 0));
    b.ap = Box::new(|ap| ap.msg_type = 15);
    assert_eq!(code(&mut kdc, &b.bytes()), 40);
    let req = TgsReq {
        pvno: 4,
        ..kerbside_wire::krb::decode_der::<TgsReq>(&TgsBuild::new(&t, tgs_body(&APP, 0)).bytes())
            .unwrap()
    }
    .build();
    assert_eq!(code(&mut kdc, &req), 3);
}

#[test]
fn tgs_ticket_errors() {
    let mut kdc = lab_kdc();
    let t = tgt(&mut kdc, AsOptions::default());
    let broken = |f: fn(&mut ApReq)| {
        let mut b = TgsBuild::new(&t, tgs_body(&APP, 0));
        b.ap = Box::new(f);
        b.bytes()
    };
    assert_eq!(
        code(&mut kdc, &broken(|ap| ap.ticket.realm = "OTHER".into())),
        35
    ); // NOT_US
    assert_eq!(
        code(
            &mut kdc,
            &broken(|ap| ap.ticket.sname = principal(2, &["krbtgt", "OTHER"]))
        ),
        35
    );
    assert_eq!(
        code(&mut kdc, &broken(|ap| ap.ticket.enc_part.kvno = Some(3))),
        44
    ); // BADKEYVER
    assert_eq!(
        code(&mut kdc, &broken(|ap| ap.ticket.enc_part.etype = 23)),
        45
    ); // NOKEY
    assert_eq!(
        code(&mut kdc, &broken(|ap| ap.ticket.enc_part.cipher[20] ^= 1)),
        31
    ); // BAD_INTEGRITY
    assert_eq!(
        code(&mut kdc, &broken(|ap| ap.authenticator.cipher[20] ^= 1)),
        31
    );
    // A service ticket is not a TGT.
    let st = {
        let mut ex = kerbside_client::krb::TgsExchange::new(
            &t,
            Principal::service("host", "app.lab.test", REALM),
            Default::default(),
        );
        let req = ex.request(now() + Duration::from_secs(1), &mut rng(40));
        let Outcome::Reply(b) = handle(&mut kdc, &req, Transport::Tcp, now()) else {
            panic!()
        };
        ex.handle_reply(&b).unwrap()
    };
    assert_eq!(
        code(&mut kdc, &TgsBuild::new(&st, tgs_body(&APP, 0)).bytes()),
        35
    );
}

#[test]
fn tgs_authenticator_errors() {
    let mut kdc = lab_kdc();
    let t = tgt(&mut kdc, AsOptions::default());
    let with_auth = |f: fn(&mut Authenticator)| {
        let mut b = TgsBuild::new(&t, tgs_body(&APP, 0));
        b.auth = Box::new(f);
        b.bytes()
    };
    assert_eq!(
        code(&mut kdc, &with_auth(|a| a.cname = principal(1, &["bob"]))),
        36
    ); // BADMATCH
    assert_eq!(
        code(&mut kdc, &with_auth(|a| a.crealm = "OTHER".into())),
        36
    );
    assert_eq!(code(&mut kdc, &with_auth(|a| a.cksum = None)), 50); // INAPP_CKSUM
    assert_eq!(
        code(
            &mut kdc,
            &with_auth(|a| a.cksum.as_mut().unwrap().cksumtype = 7)
        ),
        50
    );
    assert_eq!(
        code(
            &mut kdc,
            &with_auth(|a| a.cksum.as_mut().unwrap().checksum[0] ^= 1)
        ),
        41
    ); // MODIFIED
    assert_eq!(code(&mut kdc, &with_auth(|a| a.authenticator_vno = 4)), 39);
    // Body changed after the checksum was computed: KRB_AP_ERR_MODIFIED.
    let mut b = TgsBuild::new(&t, tgs_body(&APP, 0));
    b.after_checksum =
        Box::new(|body| body.till = to_kerberos_time(now() + Duration::from_secs(99_999)));
    assert_eq!(code(&mut kdc, &b.bytes()), 41);
    // Authenticator six minutes from the KDC's clock.
    let mut b = TgsBuild::new(&t, tgs_body(&APP, 0));
    b.at = now() + Duration::from_secs(360);
    let req = b.bytes();
    let Outcome::Reply(e) = handle(&mut kdc, &req, Transport::Tcp, now()) else {
        panic!()
    };
    let KrbMessage::KrbError(e) = decode(&e).unwrap() else {
        panic!()
    };
    assert_eq!(e.error_code, 37);
    assert_eq!(
        e.cname.unwrap().name_string,
        ["alice"],
        "the error names the TGT's client"
    );
}

#[test]
fn tgs_ticket_time_errors() {
    let mut kdc = lab_kdc();
    let t = tgt(&mut kdc, AsOptions::default());
    // After the TGT's end plus skew, with an authenticator of that time.
    let late = t.end_time + Duration::from_secs(301);
    let mut b = TgsBuild::new(&t, tgs_body(&APP, 0));
    b.at = late;
    b.body.till = to_kerberos_time(late + Duration::from_secs(3600));
    assert_eq!(code_at(&mut kdc, &b.bytes(), late), 32); // TKT_EXPIRED
    // Before the TGT's start minus skew.
    let early = t.start_time - Duration::from_secs(400);
    let mut b = TgsBuild::new(&t, tgs_body(&APP, 0));
    b.at = early;
    assert_eq!(code_at(&mut kdc, &b.bytes(), early), 33); // TKT_NYV
}

#[test]
fn tgs_option_and_service_errors() {
    let mut kdc = lab_kdc();
    let t = tgt(&mut kdc, AsOptions::default());
    let at = |i: u64| now() + Duration::from_secs(i);
    let mut n = 0;
    let mut req = |service: &[&str], options: u32, f: &dyn Fn(&mut KdcReqBody)| {
        n += 1;
        let mut b = TgsBuild::new(&t, tgs_body(service, options));
        f(&mut b.body);
        b.at = at(n);
        b.bytes()
    };
    let none = |_: &mut KdcReqBody| {};
    let r = req(&["nfs", "x"], 0, &none);
    assert_eq!(code_at(&mut kdc, &r, at(0)), 7); // S_PRINCIPAL_UNKNOWN
    let r = req(&APP, 0, &|b| b.realm = "OTHER".into());
    assert_eq!(code_at(&mut kdc, &r, at(0)), 7); // no cross-realm
    let r = req(&APP, opt::ENC_TKT_IN_SKEY, &none);
    assert_eq!(code_at(&mut kdc, &r, at(0)), 13);
    let r = req(&APP, opt::FORWARDED, &none);
    assert_eq!(code_at(&mut kdc, &r, at(0)), 13, "TGT is not forwardable");
    let r = req(&APP, opt::POSTDATED, &none);
    assert_eq!(code_at(&mut kdc, &r, at(0)), 10);
    let r = req(&["krbtgt", REALM], opt::RENEW, &none);
    assert_eq!(code_at(&mut kdc, &r, at(0)), 13, "TGT is not renewable");
    let r = req(&APP, 0, &|b| b.etypes = vec![23]);
    assert_eq!(code_at(&mut kdc, &r, at(0)), 14);
    let r = req(&APP, 0, &|b| {
        b.till = to_kerberos_time(now() - Duration::from_secs(100))
    });
    assert_eq!(code_at(&mut kdc, &r, at(0)), 11);
}

#[test]
fn renewal_errors() {
    let mut kdc = lab_kdc();
    let t = tgt(
        &mut kdc,
        AsOptions {
            lifetime: Duration::from_secs(3600),
            renew_lifetime: Some(Duration::from_secs(3 * 3600)),
            ..AsOptions::default()
        },
    );
    // RENEW naming another service than the ticket's.
    let b = TgsBuild::new(&t, tgs_body(&APP, opt::RENEW));
    assert_eq!(code(&mut kdc, &b.bytes()), 26); // SERVER_NOMATCH
    // After the renew-till (the ticket itself is still within skew of its end).
    let renew_till = t.renew_till.unwrap();
    let mut b = TgsBuild::new(&t, tgs_body(&["krbtgt", REALM], opt::RENEW));
    b.at = renew_till + Duration::from_secs(1);
    let kdc_now = b.at;
    // Keep the TGT unexpired at that moment by giving the KDC a long skew.
    let mut lenient = lab_kdc_with(|c| {
        c.max_skew = Duration::from_secs(10 * 3600);
        c.replay_window = c.max_skew;
    });
    assert_eq!(code_at(&mut lenient, &b.bytes(), kdc_now), 32);
}

#[test]
fn client_gone_since_the_tgt_was_issued_is_tgt_revoked() {
    let mut kdc = lab_kdc();
    let t = tgt(&mut kdc, AsOptions::default());
    let store = store_with(|s| set(s, "alice", |e| e.disabled = true));
    let mut disabled = Kdc::new(KdcConfig::new(REALM), store).unwrap();
    assert_eq!(
        code(&mut disabled, &TgsBuild::new(&t, tgs_body(&APP, 0)).bytes()),
        18
    );
    let mut without = PrincipalStore::new(REALM);
    for e in lab_store()
        .iter()
        .filter(|e| e.principal.components() != ["alice"])
    {
        without.insert(e.clone()).unwrap();
    }
    let mut gone = Kdc::new(KdcConfig::new(REALM), without).unwrap();
    assert_eq!(
        code(&mut gone, &TgsBuild::new(&t, tgs_body(&APP, 0)).bytes()),
        20
    );
}

#[test]
fn full_replay_cache_refuses_with_svc_unavailable() {
    let mut kdc = lab_kdc_with(|c| c.replay_capacity = 1);
    let t = tgt(&mut kdc, AsOptions::default());
    let mut codes = Vec::new();
    for i in 0..40u64 {
        let mut b = TgsBuild::new(&t, tgs_body(&APP, 0));
        b.at = now() + Duration::from_micros(i);
        match handle(&mut kdc, &b.bytes(), Transport::Tcp, now()) {
            Outcome::Reply(r) => codes.push(match decode(&r).unwrap() {
                KrbMessage::KrbError(e) => e.error_code,
                _ => 0,
            }),
            Outcome::Drop(d) => panic!("{d:?}"),
        }
    }
    assert!(codes.contains(&0) && codes.contains(&29), "{codes:?}");
    assert!(kdc.replay_cache_len() <= 16);
}

#[test]
fn tgs_reply_over_udp_limit_is_response_too_big() {
    let mut kdc = lab_kdc_with(|c| c.udp_max_reply = 300);
    let t = tgt(&mut kdc, AsOptions::default());
    let req = TgsBuild::new(&t, tgs_body(&APP, 0)).bytes();
    let Outcome::Reply(b) = handle(&mut kdc, &req, Transport::Udp, now()) else {
        panic!()
    };
    let KrbMessage::KrbError(e) = decode(&b).unwrap() else {
        panic!()
    };
    assert_eq!(e.error_code, 52);
}
