//! The IAKERB acceptor against our IAKERB initiator and a real in-process
//! KDC (kerbside-kdc) behind the proxy seam: complete contexts (raw and
//! inside SPNEGO, both finished flavours, realm discovery, Windows-style
//! headers), and every refusal: unknown realm (85), silent KDC (86),
//! cookies, hop limit, defective tokens, missing or wrong finished
//! checksum. Refused tokens never reach the KDC.

mod support;

use kerbside_client::gss::Mechanism;
use kerbside_client::iakerb::{ApFraming, IakerbError, IakerbOptions};
use kerbside_client::spnego::OfferedMech;
use kerbside_crypto::gss_checksum::FinishedFlavor;
use kerbside_server::{
    AcceptError, AcceptMode, AcceptStep, Acceptor, AcceptorConfig, AppService, IakerbReject,
    IakerbReplyStyle, Via,
};
use kerbside_wire::der::BitString;
use kerbside_wire::gss::{self, oid, tok_id};
use kerbside_wire::iakerb::{IakerbHeader, IakerbProxy, TokenForm};
use kerbside_wire::krb::constants::error_code as code;
use kerbside_wire::spnego::NegotiationToken;
use std::sync::Arc;
use support::iakerb::*;
use support::*;

fn pass(_: usize, t: Vec<u8>) -> Vec<u8> {
    t
}

fn run(cfg: kerbside_server::IakerbConfig, opts: IakerbOptions, realm: Option<&str>) -> Run {
    let mut acc = Acceptor::new(iakerb_service(cfg));
    run_raw(
        initiator(realm, opts),
        &mut acc,
        Upstream::Kdc,
        &mut pass,
        1,
    )
}

#[test]
fn raw_iakerb_completes_through_the_kdc_with_either_finished_flavour() {
    for flavor in [FinishedFlavor::MitLegacy, FinishedFlavor::Draft03] {
        let r = run(
            iakerb_config(),
            IakerbOptions {
                finished: flavor,
                ..IakerbOptions::default()
            },
            Some(REALM),
        );
        r.client.unwrap();
        let mut session = r.server.unwrap();
        assert_eq!(session.client, "alice@LAB.TEST");
        assert_eq!(session.mechanism, Mechanism::Kerberos);
        assert_eq!(session.via, Via::Raw);
        let summary = session.iakerb.unwrap();
        // AS (PREAUTH_REQUIRED), pre-authenticated AS, TGS.
        assert_eq!(summary.kdc_exchanges, 3);
        assert_eq!(summary.hops, 3);
        assert_eq!(summary.finished, Some(flavor));
        let kinds: Vec<u8> = r.forwarded.iter().map(|f| f.message[0]).collect();
        assert_eq!(kinds, [0x6a, 0x6a, 0x6c]);
        assert!(r.forwarded.iter().all(|f| f.realm == REALM));
        // The transcript holds six framed IAKERB tokens.
        let ia = r.initiator;
        assert!(ia.tgt().is_some() && ia.service_ticket().is_some());
        let mut client = ia.into_context().unwrap();
        check_contexts(&mut client, &mut session.context, 3);
    }
}

#[test]
fn mit_1_20_dialect_completes_and_is_answered_in_kind() {
    // MIT <= 1.21: first token framed, the rest unframed, OCTET STRING
    // realm, finished extension 1 / usage 42; the acceptor answers the same
    // way (unframed, OCTET STRING) as MIT's acceptor does.
    let mut acc = Acceptor::new(iakerb_service(iakerb_config()));
    let mut forms = Vec::new();
    let mut watch = |leg: usize, t: Vec<u8>| {
        if let Ok((_, form)) = IakerbProxy::decode_any(&t) {
            forms.push((leg, form));
        }
        t
    };
    let r = run_raw(
        initiator(None, IakerbOptions::mit()),
        &mut acc,
        Upstream::Kdc,
        &mut watch,
        12,
    );
    r.client.unwrap();
    let s = r.server.unwrap();
    assert_eq!(s.iakerb.unwrap().finished, Some(FinishedFlavor::MitLegacy));
    assert_eq!(forms[0], (0, TokenForm::MIT_FIRST));
    assert!(
        forms[1..].iter().all(|(_, f)| *f == TokenForm::MIT_LATER),
        "{forms:?}"
    );
    assert_eq!(forms.len(), 8, "discovery + 3 KDC exchanges, both ways");
}

#[test]
fn an_unframed_first_token_is_refused() {
    let t = IakerbProxy::new(REALM, as_req(REALM)).encode_as(TokenForm::MIT_LATER);
    let f = first_token(&t).unwrap_err();
    assert!(matches!(f.error, AcceptError::Malformed(_)), "{}", f.error);
}

#[test]
fn realm_discovery_learns_the_acceptors_realm() {
    let r = run(iakerb_config(), IakerbOptions::default(), None);
    r.client.unwrap();
    let s = r.server.unwrap();
    assert_eq!(s.client, "alice@LAB.TEST");
    // Discovery is a hop but no KDC exchange.
    let summary = s.iakerb.unwrap();
    assert_eq!((summary.hops, summary.kdc_exchanges), (4, 3));
    assert_eq!(r.initiator.realm(), Some(REALM));
    // I1: the discovery request is 60 10 ... a1 02 0c 00.
    assert_eq!(
        hex::encode(&r.initiator.transcript()[..18]),
        "601006062b06010502050501300".to_owned() + "4a1020c00"
    );
}

#[test]
fn iakerb_inside_spnego_completes_with_mech_list_mic() {
    let mut acc = Acceptor::new(iakerb_service(iakerb_config()));
    let ia = initiator(Some(REALM), IakerbOptions::default());
    let (client, server, forwarded) = run_spnego_iakerb(vec![OfferedMech::iakerb(ia)], &mut acc, 5);
    let sp = client.unwrap();
    assert_eq!(sp.selected_oid(), Some(oid::IAKERB));
    assert!(sp.mic_required(), "IAKERB always exchanges mechListMICs");
    let mut session = server.unwrap();
    assert_eq!(session.via, Via::Spnego);
    assert_eq!(session.iakerb.unwrap().kdc_exchanges, 3);
    assert_eq!(forwarded.len(), 3);
    let mut ctx = sp.into_context().unwrap();
    check_contexts(&mut ctx, &mut session.context, 4);
}

#[test]
fn spnego_prefers_the_initiators_order_between_kerberos_and_iakerb() {
    // NTLM first, IAKERB second: the acceptor takes NTLM (the initiator's
    // order decides, RFC 4178 §5); IAKERB is not started.
    let mut acc = Acceptor::new(iakerb_service(iakerb_config()));
    let ia = initiator(Some(REALM), IakerbOptions::default());
    let (client, server, forwarded) = run_spnego_iakerb(
        vec![
            OfferedMech::ntlm(ntlm_client(PASSWORD)),
            OfferedMech::iakerb(ia),
        ],
        &mut acc,
        6,
    );
    client.unwrap();
    assert_eq!(server.unwrap().mechanism, Mechanism::Ntlm);
    assert!(forwarded.is_empty());
}

#[test]
fn missing_finished_is_refused_unless_the_compatibility_switch_is_on() {
    let omit = IakerbOptions {
        omit_finished: true,
        ..IakerbOptions::default()
    };
    let r = run(iakerb_config(), omit.clone(), Some(REALM));
    let f = r.server.unwrap_err();
    assert_eq!(f.error.krb_code(), Some(code::KRB_AP_ERR_MODIFIED));
    assert!(
        f.error.to_string().contains("finished checksum missing"),
        "{}",
        f.error
    );
    // The initiator learns it from the KRB-ERROR token.
    assert_eq!(
        r.client.unwrap_err().krb_code(),
        Some(code::KRB_AP_ERR_MODIFIED)
    );

    let mut cfg = iakerb_config();
    cfg.require_finished = false;
    let r = run(cfg, omit, Some(REALM));
    r.client.unwrap();
    assert_eq!(r.server.unwrap().iakerb.unwrap().finished, None);
}

#[test]
fn a_token_changed_on_the_way_breaks_the_finished_checksum() {
    // A man in the middle rewrites the acceptor's first reply header
    // (target-realm spelled in lower case): the initiator does not care,
    // but the transcripts differ, so the finished checksum fails.
    let mut acc = Acceptor::new(iakerb_service(iakerb_config()));
    let mut mitm = |leg: usize, t: Vec<u8>| {
        if leg != 1 {
            return t;
        }
        let mut p = IakerbProxy::decode(&t).unwrap();
        p.header.target_realm = p.header.target_realm.to_lowercase();
        p.encode()
    };
    let r = run_raw(
        initiator(Some(REALM), IakerbOptions::default()),
        &mut acc,
        Upstream::Kdc,
        &mut mitm,
        2,
    );
    let f = r.server.unwrap_err();
    assert_eq!(f.error.krb_code(), Some(code::KRB_AP_ERR_MODIFIED));
    assert!(
        f.error.to_string().contains("does not verify"),
        "{}",
        f.error
    );
}

#[test]
fn ap_req_under_the_krb5_oid_is_accepted_and_answered_under_it() {
    let r = run(
        iakerb_config(),
        IakerbOptions {
            ap_framing: ApFraming::Krb5,
            ..IakerbOptions::default()
        },
        Some(REALM),
    );
    r.client.unwrap();
    r.server.unwrap();
}

#[test]
fn windows_style_replies_use_dot_realm_and_header_flags() {
    let mut cfg = iakerb_config();
    cfg.reply_style = IakerbReplyStyle::Windows;
    let mut acc = Acceptor::new(iakerb_service(cfg));
    let mut seen = Vec::new();
    let mut mitm = |leg: usize, t: Vec<u8>| {
        if leg % 2 == 1
            && let Ok(p) = IakerbProxy::decode(&t)
        {
            seen.push(p.header);
        }
        t
    };
    // Windows clients send all-zero header-flags (protocols.md §2.5).
    let opts = IakerbOptions {
        header_flags: Some(BitString::from_bytes(&[0, 0, 0, 0])),
        ..IakerbOptions::default()
    };
    let r = run_raw(
        initiator(Some(REALM), opts),
        &mut acc,
        Upstream::Kdc,
        &mut mitm,
        3,
    );
    r.client.unwrap();
    r.server.unwrap();
    assert_eq!(seen.len(), 3);
    for h in seen {
        assert_eq!(h.target_realm, ".");
        assert_eq!(h.header_flags, Some(BitString::from_bytes(&[1, 0, 0, 0])));
        // Server tokens begin as Windows' do (I5).
        assert_eq!(hex::encode(h.encode()), "300ea1030c012ea30703050001000000");
    }
}

#[test]
fn unknown_realm_gets_85_without_contacting_a_kdc() {
    let r = run(
        iakerb_config(),
        IakerbOptions::default(),
        Some("OTHER.TEST"),
    );
    assert!(r.forwarded.is_empty());
    let f = r.server.unwrap_err();
    assert_eq!(
        f.error,
        AcceptError::Iakerb(IakerbReject::KdcNotFound("OTHER.TEST".into()))
    );
    let e = r.client.unwrap_err();
    assert!(e.is_proxy_failure(), "{e}");
    assert_eq!(e.krb_code(), Some(code::KRB_AP_ERR_IAKERB_KDC_NOT_FOUND));
}

#[test]
fn silent_kdc_gives_86_and_missing_kdc_85() {
    for (upstream, want) in [
        (Upstream::Silent, code::KRB_AP_ERR_IAKERB_KDC_NO_RESPONSE),
        (Upstream::Unknown, code::KRB_AP_ERR_IAKERB_KDC_NOT_FOUND),
    ] {
        let mut acc = Acceptor::new(iakerb_service(iakerb_config()));
        let r = run_raw(
            initiator(Some(REALM), IakerbOptions::default()),
            &mut acc,
            upstream,
            &mut pass,
            4,
        );
        assert_eq!(r.forwarded.len(), 1);
        assert_eq!(r.server.unwrap_err().error.krb_code(), Some(want));
        let e = r.client.unwrap_err();
        assert!(
            matches!(e, IakerbError::Proxy(ref i) if i.code == want),
            "{e}"
        );
    }
}

#[test]
fn kdc_errors_pass_through_to_the_initiator() {
    // A wrong password: the KDC's PREAUTH_FAILED reaches the initiator
    // through the proxy, and the acceptor relayed it like any reply.
    let mut acc = Acceptor::new(iakerb_service(iakerb_config()));
    let mut req = request(Some(REALM));
    req.secret = kerbside_client::krb::Secret::Password("wrong password".into());
    let ia = kerbside_client::iakerb::IakerbInitiator::new(req, IakerbOptions::default());
    let r = run_raw(ia, &mut acc, Upstream::Kdc, &mut pass, 5);
    let e = r.client.unwrap_err();
    assert_eq!(e.krb_code(), Some(code::KDC_ERR_PREAUTH_FAILED), "{e}");
    assert!(!e.is_proxy_failure());
    assert_eq!(r.forwarded.len(), 2);
}

#[test]
fn issued_cookies_are_echoed_and_checked() {
    let mut cfg = iakerb_config();
    cfg.issue_cookie = true;
    // Echoed verbatim: completes.
    let mut cookies = Vec::new();
    let mut acc = Acceptor::new(iakerb_service(cfg.clone()));
    let mut watch = |leg: usize, t: Vec<u8>| {
        if let Ok(p) = IakerbProxy::decode(&t) {
            cookies.push((leg, p.header.cookie));
        }
        t
    };
    let r = run_raw(
        initiator(Some(REALM), IakerbOptions::default()),
        &mut acc,
        Upstream::Kdc,
        &mut watch,
        6,
    );
    r.client.unwrap();
    r.server.unwrap();
    // leg 0: none yet; each reply's cookie comes back in the next request.
    assert_eq!(cookies[0], (0, None));
    for w in cookies.windows(2).skip(1).step_by(2) {
        let (reply, next) = (&w[0], &w[1]);
        assert_eq!(reply.0 % 2, 1);
        assert!(reply.1.as_ref().is_some_and(|c| c.len() == 16));
        assert_eq!(reply.1, next.1, "cookie echoed verbatim");
    }

    // Altered, dropped: refused before the KDC sees the request.
    for (name, edit) in [("altered", Some(vec![0u8; 16])), ("dropped", None)] {
        let mut acc = Acceptor::new(iakerb_service(cfg.clone()));
        let mut tamper = |leg: usize, t: Vec<u8>| {
            if leg == 2 {
                let mut p = IakerbProxy::decode(&t).unwrap();
                p.header.cookie = edit.clone();
                return p.encode();
            }
            t
        };
        let r = run_raw(
            initiator(Some(REALM), IakerbOptions::default()),
            &mut acc,
            Upstream::Kdc,
            &mut tamper,
            7,
        );
        assert_eq!(
            r.forwarded.len(),
            1,
            "{name}: only the first request went out"
        );
        assert!(
            matches!(
                r.server.unwrap_err().error,
                AcceptError::Iakerb(IakerbReject::Cookie(_))
            ),
            "{name}"
        );
    }

    // A cookie the acceptor never issued.
    let mut acc = Acceptor::new(iakerb_service(iakerb_config()));
    let mut forge = |leg: usize, t: Vec<u8>| {
        if leg == 0 {
            let mut p = IakerbProxy::decode(&t).unwrap();
            p.header.cookie = Some(b"forged".to_vec());
            return p.encode();
        }
        t
    };
    let r = run_raw(
        initiator(Some(REALM), IakerbOptions::default()),
        &mut acc,
        Upstream::Kdc,
        &mut forge,
        8,
    );
    assert!(r.forwarded.is_empty());
    assert_eq!(
        r.server.unwrap_err().error,
        AcceptError::Iakerb(IakerbReject::Cookie("never issued"))
    );
}

#[test]
fn hop_limit_stops_forwarding() {
    let mut cfg = iakerb_config();
    cfg.max_hops = 2;
    let r = run(cfg, IakerbOptions::default(), Some(REALM));
    assert_eq!(r.forwarded.len(), 2, "the third request never left");
    assert_eq!(
        r.server.unwrap_err().error,
        AcceptError::Iakerb(IakerbReject::TooManyHops(2))
    );
    // The initiator has its own limit too.
    let r = run(
        iakerb_config(),
        IakerbOptions {
            max_hops: 1,
            ..IakerbOptions::default()
        },
        Some(REALM),
    );
    assert!(matches!(r.client, Err(IakerbError::TooManyHops(1))));
}

/// One token into a fresh acceptor: what it did.
fn first_token(token: &[u8]) -> Result<AcceptStep, kerbside_server::AcceptFailure> {
    let mut acc = Acceptor::new(iakerb_service(iakerb_config()));
    acc.step(token, now(), &mut rng(9))
}

fn proxy_token(realm: &str, message: Vec<u8>) -> Vec<u8> {
    IakerbProxy::new(realm, message).encode()
}

fn as_req(realm: &str) -> Vec<u8> {
    let mut ia = kerbside_client::iakerb::IakerbInitiator::new(
        request(Some(realm)),
        IakerbOptions::default(),
    );
    let t = ia.initial_token(now(), &mut rng(1)).unwrap();
    IakerbProxy::decode(&t).unwrap().message
}

/// What a refusal must look like.
type ErrorCheck = fn(&AcceptError) -> bool;

#[test]
fn defective_tokens_never_reach_the_kdc() {
    let good = as_req(REALM);
    assert!(
        matches!(first_token(&proxy_token(REALM, good.clone())), Ok(AcceptStep::ProxyKdc(ref r)) if r.message == good)
    );
    // Microsoft's client header (all-zero header-flags) is fine too.
    let win = IakerbProxy {
        header: IakerbHeader {
            target_realm: REALM.into(),
            header_flags: Some(BitString::from_bytes(&[0, 0, 0, 0])),
            ..IakerbHeader::default()
        },
        message: good.clone(),
    };
    assert!(matches!(
        first_token(&win.encode()),
        Ok(AcceptStep::ProxyKdc(_))
    ));
    // The realm in lower case routes to the configured spelling.
    assert!(
        matches!(first_token(&proxy_token("lab.test", good.clone())), Ok(AcceptStep::ProxyKdc(ref r)) if r.realm == REALM)
    );

    let cases: Vec<(&str, Vec<u8>, ErrorCheck)> = vec![
        (
            "realm without message",
            proxy_token(REALM, Vec::new()),
            |e| *e == AcceptError::Iakerb(IakerbReject::RealmMessageMismatch),
        ),
        (
            "message without realm",
            proxy_token("", good.clone()),
            |e| *e == AcceptError::Iakerb(IakerbReject::RealmMessageMismatch),
        ),
        (
            "AP-REQ inside a proxy token",
            proxy_token(REALM, vec![0x6e, 0x03, 0x30, 0x01, 0x00]),
            |e| matches!(e, AcceptError::Iakerb(IakerbReject::NotAKdcRequest(_))),
        ),
        (
            "KRB-ERROR inside a proxy token",
            {
                let err = kerbside_wire::krb::KrbErrorBuilder::new(
                    25,
                    now(),
                    REALM,
                    kerbside_wire::krb::principal(2, &["krbtgt", REALM]),
                )
                .build();
                use kerbside_wire::krb::Asn1Object;
                proxy_token(REALM, err.build())
            },
            |e| matches!(e, AcceptError::Iakerb(IakerbReject::NotAKdcRequest(_))),
        ),
        (
            "header realm disagrees with the request",
            proxy_token("LAB.TEST", as_req("EVIL.TEST")),
            |e| matches!(e, AcceptError::Iakerb(IakerbReject::RealmDisagrees { .. })),
        ),
        (
            "truncated request",
            proxy_token(REALM, good[..good.len() - 3].to_vec()),
            |e| matches!(e, AcceptError::Iakerb(IakerbReject::NotAKdcRequest(_))),
        ),
        (
            "wrong TOK_ID",
            gss::encode_krb_token(
                &oid::IAKERB,
                [0x05, 0x02],
                &IakerbHeader::new(REALM).encode(),
            ),
            |e| matches!(e, AcceptError::Iakerb(IakerbReject::Defective(_))),
        ),
        (
            "proxy TOK_ID under the krb5 OID",
            gss::encode_krb_token(
                &oid::KRB5,
                tok_id::IAKERB_PROXY,
                &IakerbHeader::new(REALM).encode(),
            ),
            |e| {
                // Under krb5's OID the token is routed to the Kerberos acceptor.
                matches!(e, AcceptError::UnexpectedToken(_))
            },
        ),
        (
            "no header",
            gss::encode_krb_token(&oid::IAKERB, tok_id::IAKERB_PROXY, &[]),
            |e| matches!(e, AcceptError::Iakerb(IakerbReject::Defective(_))),
        ),
    ];
    for (name, token, want) in cases {
        match first_token(&token) {
            Err(f) => assert!(want(&f.error), "{name}: {}", f.error),
            Ok(other) => panic!("{name}: accepted as {other:?}"),
        }
    }
}

#[test]
fn unknown_realm_answer_carries_a_krb_error_85_in_an_iakerb_token() {
    let f = first_token(&proxy_token("ELSEWHERE.TEST", as_req("ELSEWHERE.TEST"))).unwrap_err();
    let (token, inner) = kerbside_wire::iakerb::decode_with_inner(&f.reply.unwrap()).unwrap();
    assert_eq!(token.header.target_realm, "ELSEWHERE.TEST");
    match inner.unwrap() {
        kerbside_wire::krb::KrbMessage::KrbError(e) => {
            assert_eq!(e.error_code, code::KRB_AP_ERR_IAKERB_KDC_NOT_FOUND)
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn iakerb_is_refused_when_not_configured_and_kdc_reply_out_of_order() {
    let svc = Arc::new(AppService::new(
        AcceptorConfig {
            mode: AcceptMode::Negotiate,
            ..AcceptorConfig::default()
        },
        keys(),
        accounts(),
    ));
    let mut acc = Acceptor::new(svc.clone());
    let f = acc
        .step(&proxy_token(REALM, as_req(REALM)), now(), &mut rng(1))
        .unwrap_err();
    assert!(matches!(f.error, AcceptError::MechanismNotAccepted(_)));
    // SPNEGO offering only IAKERB: no common mechanism.
    let ia = initiator(Some(REALM), IakerbOptions::default());
    let mut acc = Acceptor::new(svc);
    let (_, server, forwarded) = run_spnego_iakerb(vec![OfferedMech::iakerb(ia)], &mut acc, 2);
    assert_eq!(server.unwrap_err().error, AcceptError::NoCommonMechanism);
    assert!(forwarded.is_empty());
    // A KDC answer nobody asked for.
    let mut acc = Acceptor::new(iakerb_service(iakerb_config()));
    assert_eq!(
        acc.kdc_reply(Ok(&[0x6b, 0x00]), now(), &mut rng(1))
            .unwrap_err()
            .error,
        AcceptError::State
    );
    // A second token while the KDC request is out.
    let mut acc = Acceptor::new(iakerb_service(iakerb_config()));
    let t = proxy_token(REALM, as_req(REALM));
    assert!(matches!(
        acc.step(&t, now(), &mut rng(1)),
        Ok(AcceptStep::ProxyKdc(_))
    ));
    assert_eq!(
        acc.step(&t, now(), &mut rng(1)).unwrap_err().error,
        AcceptError::State
    );
}

#[test]
fn a_kdc_answer_that_is_not_a_reply_becomes_86() {
    let mut acc = Acceptor::new(iakerb_service(iakerb_config()));
    let t = proxy_token(REALM, as_req(REALM));
    assert!(matches!(
        acc.step(&t, now(), &mut rng(1)),
        Ok(AcceptStep::ProxyKdc(_))
    ));
    // An AS-REQ echoed back is not a reply.
    let f = acc
        .kdc_reply(Ok(&as_req(REALM)), now(), &mut rng(1))
        .unwrap_err();
    assert_eq!(
        f.error.krb_code(),
        Some(code::KRB_AP_ERR_IAKERB_KDC_NO_RESPONSE)
    );
    assert!(f.reply.is_some());
}

#[test]
fn spnego_hint_lists_iakerb_after_kerberos() {
    let acc = Acceptor::new(iakerb_service(iakerb_config()));
    match NegotiationToken::decode(&acc.negotiate_hint()).unwrap() {
        NegotiationToken::Init2(t) => {
            assert_eq!(
                t.mech_types.unwrap(),
                vec![oid::KRB5, oid::IAKERB, oid::NTLMSSP]
            );
        }
        other => panic!("{other:?}"),
    }
}
