//! The Kerberos GSS initiator (kerbside-client) against the acceptor:
//! mutual and non-mutual contexts, raw and inside SPNEGO, per-message
//! protection afterwards, and one test per refusal with the KRB-ERROR
//! token the initiator receives (RFC 4120 §3.2.3, RFC 4121 §4.1).

mod support;

use std::time::Duration;

use kerbside_client::gss::Mechanism;
use kerbside_client::gss_krb::{
    DEFAULT_FLAGS, GssKrbError, KrbInitiator, KrbInitiatorOptions, KrbStep,
};
use kerbside_client::krb::{ApOptions, ApRequest, AuthenticatorChecksum, Credentials};
use kerbside_client::spnego::{OfferedMech, SpnegoError, SpnegoInitiator, SpnegoOptions};
use kerbside_crypto::gss_checksum::GSS_C_MUTUAL_FLAG;
use kerbside_crypto::{EncType, Key};
use kerbside_server::{AcceptError, AcceptMode, AcceptStep, Acceptor, AcceptorConfig, Via};
use kerbside_wire::gss::{self, oid, tok_id};
use kerbside_wire::krb::constants::error_code as code;
use kerbside_wire::krb::{KrbMessage, decode};
use kerbside_wire::spnego::NegotiationToken;
use support::*;

fn start(creds: &Credentials, flags: u32, seed: u64) -> (KrbInitiator, Vec<u8>) {
    KrbInitiator::start(
        creds,
        &KrbInitiatorOptions {
            flags,
            ..KrbInitiatorOptions::default()
        },
        now(),
        &mut rng(seed),
    )
    .unwrap()
}

#[test]
fn raw_kerberos_with_mutual_authentication() {
    let (mut init, token) = start(&good_ticket(), DEFAULT_FLAGS, 1);
    assert_eq!(&token[..2], &[0x60, token[1]]);
    let mut acc = Acceptor::new(service(AcceptMode::Negotiate));
    let AcceptStep::Complete { reply, session } = acc.step(&token, now(), &mut rng(2)).unwrap()
    else {
        panic!("one AP-REQ completes the acceptor")
    };
    let mut session = session;
    assert_eq!(session.client, "alice@LAB.TEST");
    assert_eq!(
        (session.mechanism, session.via),
        (Mechanism::Kerberos, Via::Raw)
    );
    let reply = reply.expect("mutual authentication sends an AP-REP");
    let t = gss::decode_krb_token(&reply).unwrap();
    assert_eq!((t.mech, t.tok_id), (oid::KRB5, tok_id::AP_REP));
    assert_eq!(init.step(&reply).unwrap(), KrbStep::Complete);
    let mut ctx = init.into_context().unwrap();
    check_contexts(&mut ctx, &mut session.context, 3);
}

#[test]
fn raw_kerberos_without_mutual_authentication() {
    let (init, token) = start(&good_ticket(), DEFAULT_FLAGS & !GSS_C_MUTUAL_FLAG, 4);
    assert!(init.is_complete(), "no AP-REP to wait for");
    let mut acc = Acceptor::new(service(AcceptMode::KerberosOnly));
    let AcceptStep::Complete { reply, mut session } = acc.step(&token, now(), &mut rng(5)).unwrap()
    else {
        panic!()
    };
    assert!(reply.is_none());
    let mut ctx = init.into_context().unwrap();
    check_contexts(&mut ctx, &mut session.context, 6);
}

#[test]
fn a_tampered_ap_rep_fails_mutual_authentication() {
    let (mut init, token) = start(&good_ticket(), DEFAULT_FLAGS, 7);
    let mut acc = Acceptor::new(service(AcceptMode::Negotiate));
    let AcceptStep::Complete { reply, .. } = acc.step(&token, now(), &mut rng(8)).unwrap() else {
        panic!()
    };
    let mut reply = reply.unwrap();
    let last = reply.len() - 1;
    reply[last] ^= 1;
    assert!(matches!(init.step(&reply), Err(GssKrbError::MutualAuth(_))));
    assert!(init.into_context().is_err());
}

#[test]
fn spnego_kerberos_first_choice_needs_no_mic() {
    let mut init = SpnegoInitiator::new(
        vec![
            OfferedMech::kerberos(good_ticket()),
            OfferedMech::ntlm(ntlm_client(PASSWORD)),
        ],
        SpnegoOptions::default(),
    )
    .unwrap();
    let mut acc = Acceptor::new(service(AcceptMode::Negotiate));
    let (i, a) = run_spnego(&mut init, &mut acc, 9);
    i.unwrap();
    let mut session = a.unwrap();
    assert_eq!(
        (session.mechanism, session.via),
        (Mechanism::Kerberos, Via::Spnego)
    );
    assert!(!init.mic_required());
    assert_eq!(init.selected_mechanism(), Some(Mechanism::Kerberos));
    let mut ctx = init.into_context().unwrap();
    check_contexts(&mut ctx, &mut session.context, 10);
}

#[test]
fn legacy_ms_kerberos_oid_is_kerberos_and_echoed() {
    let mut init = SpnegoInitiator::new(
        vec![OfferedMech::kerberos(good_ticket())],
        SpnegoOptions {
            legacy_ms_krb5: true,
        },
    )
    .unwrap();
    assert_eq!(init.mech_types(), vec![oid::MS_KRB5, oid::KRB5]);
    let first = init.initial_token(now(), &mut rng(11)).unwrap();
    let mut acc = Acceptor::new(service(AcceptMode::Negotiate));
    let AcceptStep::Complete { reply, mut session } =
        acc.step(&first, now(), &mut rng(12)).unwrap()
    else {
        panic!()
    };
    let reply = reply.unwrap();
    let NegotiationToken::Resp(r) = NegotiationToken::decode(&reply).unwrap() else {
        panic!()
    };
    assert_eq!(
        r.supported_mech,
        Some(oid::MS_KRB5),
        "MIT/Windows echo the OID offered"
    );
    assert!(r.mech_list_mic.is_none());
    assert_eq!(
        init.step(&reply, now(), &mut rng(13)).unwrap(),
        kerbside_client::spnego::SpnegoStep::Complete(None)
    );
    let mut ctx = init.into_context().unwrap();
    check_contexts(&mut ctx, &mut session.context, 14);
}

/// Runs `creds` against a fresh acceptor whose clock is
/// `acceptor_now_offset` seconds from the initiator's, expecting refusal
/// `want`; returns the KRB-ERROR the initiator received.
fn refused(
    creds: &Credentials,
    flags: u32,
    acceptor_now_offset: i64,
    want: i32,
) -> kerbside_wire::krb::asn1::KrbError {
    let (mut init, token) = start(creds, flags, 20);
    let acceptor_now = if acceptor_now_offset >= 0 {
        now() + Duration::from_secs(acceptor_now_offset.unsigned_abs())
    } else {
        now() - Duration::from_secs(acceptor_now_offset.unsigned_abs())
    };
    let mut acc = Acceptor::new(service(AcceptMode::Negotiate));
    let f = acc.step(&token, acceptor_now, &mut rng(21)).unwrap_err();
    assert_eq!(f.error.krb_code(), Some(want), "{}", f.error);
    let reply = f.reply.expect("a KRB-ERROR token");
    let t = gss::decode_krb_token(&reply).unwrap();
    assert_eq!((t.mech, t.tok_id), (oid::KRB5, tok_id::KRB_ERROR));
    let Ok(KrbMessage::KrbError(e)) = decode(t.body) else {
        panic!("KRB-ERROR inside")
    };
    assert_eq!(e.error_code, want);
    assert_eq!(e.realm, REALM);
    // The initiator surfaces the same code (when it waits for a reply).
    if flags & GSS_C_MUTUAL_FLAG != 0 {
        let err = init.step(&reply).unwrap_err();
        assert_eq!(err.krb_code(), Some(want), "{err}");
    }
    e
}

#[test]
fn clock_skew_is_refused_with_the_server_time() {
    let e = refused(&good_ticket(), DEFAULT_FLAGS, 301, code::KRB_AP_ERR_SKEW);
    // stime/susec tell the client how far off it is (RFC 4120 §5.9.1).
    let stime = kerbside_wire::time::from_kerberos_time(&e.stime);
    assert_eq!(stime, now() + Duration::from_secs(301));
    assert!(e.cname.is_some() && e.ctime.is_some(), "client identified");
    // 299 s is within the default 5 minutes
    let (_, token) = start(&good_ticket(), DEFAULT_FLAGS, 22);
    let mut acc = Acceptor::new(service(AcceptMode::Negotiate));
    assert!(
        acc.step(&token, now() + Duration::from_secs(299), &mut rng(1))
            .is_ok()
    );
}

#[test]
fn a_replayed_ap_req_is_refused() {
    let svc = service(AcceptMode::Negotiate);
    let (_, token) = start(&good_ticket(), DEFAULT_FLAGS, 23);
    let mut first = Acceptor::new(svc.clone());
    assert!(first.step(&token, now(), &mut rng(24)).is_ok());
    // the same bytes on another connection to the same service
    let mut second = Acceptor::new(svc.clone());
    let f = second
        .step(&token, now() + Duration::from_secs(5), &mut rng(25))
        .unwrap_err();
    assert_eq!(f.error.krb_code(), Some(code::KRB_AP_ERR_REPEAT));
    assert_eq!(svc.replay_cache().len(), 1);
    // a fresh authenticator for the same ticket is fine
    let (_, token2) = start(&good_ticket(), DEFAULT_FLAGS, 26);
    assert!(
        Acceptor::new(svc)
            .step(&token2, now(), &mut rng(27))
            .is_ok()
    );
}

#[test]
fn ticket_under_another_key_is_modified() {
    let spec = TicketSpec {
        key: Key::new(EncType::Aes256CtsHmacSha196, vec![0x43; 32]).unwrap(),
        ..TicketSpec::default()
    };
    refused(
        &ticket(&spec, 30),
        DEFAULT_FLAGS,
        0,
        code::KRB_AP_ERR_MODIFIED,
    );
}

#[test]
fn expired_and_future_tickets() {
    let expired = TicketSpec {
        start: now() - Duration::from_secs(20 * 3600),
        end: now() - Duration::from_secs(3600),
        ..TicketSpec::default()
    };
    refused(
        &ticket(&expired, 31),
        DEFAULT_FLAGS,
        0,
        code::KRB_AP_ERR_TKT_EXPIRED,
    );
    let future = TicketSpec {
        start: now() + Duration::from_secs(3600),
        ..TicketSpec::default()
    };
    refused(
        &ticket(&future, 32),
        DEFAULT_FLAGS,
        0,
        code::KRB_AP_ERR_TKT_NYV,
    );
    let invalid = TicketSpec {
        flags: kerbside_wire::krb::constants::ticket_flags::INVALID,
        ..TicketSpec::default()
    };
    refused(
        &ticket(&invalid, 33),
        DEFAULT_FLAGS,
        0,
        code::KRB_AP_ERR_TKT_NYV,
    );
}

#[test]
fn ticket_for_someone_else_or_another_key_version() {
    let other = TicketSpec {
        service: vec!["cifs".into(), "files.lab.test".into()],
        ..TicketSpec::default()
    };
    refused(
        &ticket(&other, 34),
        DEFAULT_FLAGS,
        0,
        code::KRB_AP_ERR_NOT_US,
    );
    let kvno = TicketSpec {
        kvno: Some(KVNO + 1),
        ..TicketSpec::default()
    };
    refused(
        &ticket(&kvno, 35),
        DEFAULT_FLAGS,
        0,
        code::KRB_AP_ERR_BADKEYVER,
    );
    let etype = TicketSpec {
        key: Key::new(EncType::Aes128CtsHmacSha196, vec![0x42; 16]).unwrap(),
        ..TicketSpec::default()
    };
    refused(
        &ticket(&etype, 36),
        DEFAULT_FLAGS,
        0,
        code::KRB_AP_ERR_NOKEY,
    );
}

#[test]
fn authenticator_problems() {
    // the authenticator names another client than the ticket
    let mut c = good_ticket();
    c.client = kerbside_client::krb::Principal::user("mallory", REALM);
    refused(&c, DEFAULT_FLAGS, 0, code::KRB_AP_ERR_BADMATCH);
    // encrypted with a key that is not the ticket's session key
    let mut c = good_ticket();
    c.session_key = Key::random(c.session_key.etype(), &mut rng(37));
    refused(&c, DEFAULT_FLAGS, 0, code::KRB_AP_ERR_BAD_INTEGRITY);
}

fn raw_ap_req(checksum: AuthenticatorChecksum) -> Vec<u8> {
    let ap = ApRequest::build(
        &good_ticket(),
        &ApOptions {
            mutual: true,
            subkey: true,
            checksum,
            seq_number: Some(5),
        },
        now(),
        &mut rng(40),
    );
    gss::encode_krb_token(&oid::KRB5, tok_id::AP_REQ, &ap.bytes)
}

#[test]
fn authenticator_without_the_gss_checksum_is_inappropriate() {
    for ck in [
        AuthenticatorChecksum::None,
        AuthenticatorChecksum::Keyed(b"not a GSS checksum".to_vec()),
    ] {
        let mut acc = Acceptor::new(service(AcceptMode::Negotiate));
        let f = acc.step(&raw_ap_req(ck), now(), &mut rng(41)).unwrap_err();
        assert_eq!(f.error.krb_code(), Some(code::KRB_AP_ERR_INAPP_CKSUM));
    }
    // a 0x8003 checksum with a bad Bnd length
    let mut acc = Acceptor::new(service(AcceptMode::Negotiate));
    let bad = raw_ap_req(AuthenticatorChecksum::Raw(
        kerbside_wire::krb::asn1::Checksum {
            cksumtype: 0x8003,
            checksum: vec![15, 0, 0, 0],
        },
    ));
    let f = acc.step(&bad, now(), &mut rng(42)).unwrap_err();
    assert_eq!(f.error.krb_code(), Some(code::KRB_AP_ERR_MODIFIED));
}

#[test]
fn channel_bindings_are_checked_when_configured() {
    let svc = service_with(AcceptorConfig {
        channel_bindings: Some([9; 16]),
        ..AcceptorConfig::default()
    });
    let token_with = |cb: [u8; 16], seed| {
        KrbInitiator::start(
            &good_ticket(),
            &KrbInitiatorOptions {
                flags: DEFAULT_FLAGS,
                channel_bindings: cb,
            },
            now(),
            &mut rng(seed),
        )
        .unwrap()
        .1
    };
    assert!(
        Acceptor::new(svc.clone())
            .step(&token_with([9; 16], 43), now(), &mut rng(1))
            .is_ok()
    );
    // an initiator without bindings (zeros) is accepted, as MIT does
    assert!(
        Acceptor::new(svc.clone())
            .step(&token_with([0; 16], 44), now(), &mut rng(1))
            .is_ok()
    );
    let f = Acceptor::new(svc)
        .step(&token_with([8; 16], 45), now(), &mut rng(1))
        .unwrap_err();
    assert_eq!(f.error.krb_code(), Some(code::KRB_AP_ERR_MODIFIED));
}

#[test]
fn spnego_carries_the_krb_error_to_the_initiator() {
    let mut init = SpnegoInitiator::new(
        vec![OfferedMech::kerberos(good_ticket())],
        SpnegoOptions::default(),
    )
    .unwrap();
    let first = init.initial_token(now(), &mut rng(50)).unwrap();
    let mut acc = Acceptor::new(service(AcceptMode::Negotiate));
    let f = acc
        .step(&first, now() + Duration::from_secs(3600), &mut rng(51))
        .unwrap_err();
    assert_eq!(f.error.krb_code(), Some(code::KRB_AP_ERR_SKEW));
    let reply = f.reply.unwrap();
    let NegotiationToken::Resp(r) = NegotiationToken::decode(&reply).unwrap() else {
        panic!()
    };
    assert_eq!(r.neg_state, Some(kerbside_wire::spnego::NegState::Reject));
    assert_eq!(r.supported_mech, Some(oid::KRB5));
    let err = init.step(&reply, now(), &mut rng(52)).unwrap_err();
    assert_eq!(err.krb_code(), Some(code::KRB_AP_ERR_SKEW), "{err}");
    assert!(!err.is_downgrade());
}

#[test]
fn ntlm_only_server_refuses_kerberos() {
    let svc = service(AcceptMode::NtlmOnly);
    let (_, token) = start(&good_ticket(), DEFAULT_FLAGS, 60);
    let f = Acceptor::new(svc.clone())
        .step(&token, now(), &mut rng(61))
        .unwrap_err();
    assert!(
        matches!(f.error, AcceptError::MechanismNotAccepted(_)),
        "{}",
        f.error
    );
    assert!(
        f.reply.is_none(),
        "a printer says nothing a Kerberos client could use"
    );
    // SPNEGO offering only Kerberos: no common mechanism, reject
    let mut init = SpnegoInitiator::new(
        vec![OfferedMech::kerberos(good_ticket())],
        SpnegoOptions::default(),
    )
    .unwrap();
    let (i, a) = run_spnego(&mut init, &mut Acceptor::new(svc.clone()), 62);
    assert_eq!(a.unwrap_err().error, AcceptError::NoCommonMechanism);
    assert!(
        matches!(i, Err(SpnegoError::Rejected { after_mic: false })),
        "{i:?}"
    );
    // offering Kerberos then NTLM: NTLM is chosen, with the MIC exchange
    let mut init = SpnegoInitiator::new(
        vec![
            OfferedMech::kerberos(good_ticket()),
            OfferedMech::ntlm(ntlm_client(PASSWORD)),
        ],
        SpnegoOptions::default(),
    )
    .unwrap();
    let (i, a) = run_spnego(&mut init, &mut Acceptor::new(svc), 63);
    i.unwrap();
    let mut session = a.unwrap();
    assert_eq!(session.mechanism, Mechanism::Ntlm);
    assert_eq!(session.client, "LAB\\alice");
    assert!(init.mic_required());
    let mut ctx = init.into_context().unwrap();
    check_contexts(&mut ctx, &mut session.context, 64);
}

#[test]
fn hints_name_the_servers_mechanisms() {
    let acc = Acceptor::new(service(AcceptMode::Negotiate));
    let hint = acc.negotiate_hint();
    assert_eq!(
        SpnegoInitiator::hinted_mechanisms(&hint).unwrap(),
        vec![oid::KRB5, oid::NTLMSSP]
    );
    let printer = Acceptor::new(service(AcceptMode::NtlmOnly));
    assert_eq!(
        SpnegoInitiator::hinted_mechanisms(&printer.negotiate_hint()).unwrap(),
        vec![oid::NTLMSSP]
    );
}
