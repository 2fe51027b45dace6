//! proptest: arbitrary and mutated IAKERB tokens into the acceptor never
//! panic, and a token reaches the KDC (`AcceptStep::ProxyKdc`) only when an
//! independent check says it is valid: IAKERB framing and header, realm
//! and message both present, the message an AS-REQ or TGS-REQ for the
//! header's realm, a realm the server reaches, and the cookie it issued.
//! Arbitrary KDC answers never panic and only Kerberos replies are passed
//! back to the initiator.

mod support;

use kerbside_client::iakerb::IakerbOptions;
use kerbside_server::{AcceptStep, Acceptor, KdcProxyFailure};
use kerbside_wire::der::BitString;
use kerbside_wire::iakerb::{IakerbHeader, IakerbProxy, TokenForm};
use kerbside_wire::krb::{self, KrbMessage};
use proptest::prelude::*;
use support::iakerb::*;
use support::mutate::{edit, mutate};
use support::*;

/// A valid AS-REQ and TGS-REQ of the realm, made once.
fn requests() -> &'static (Vec<u8>, Vec<u8>) {
    static R: std::sync::OnceLock<(Vec<u8>, Vec<u8>)> = std::sync::OnceLock::new();
    R.get_or_init(|| {
        let mut acc = Acceptor::new(iakerb_service(iakerb_config()));
        let mut seen = Vec::new();
        let mut rec = |leg: usize, t: Vec<u8>| {
            if leg.is_multiple_of(2)
                && let Ok(p) = IakerbProxy::decode(&t)
            {
                seen.push(p.message);
            }
            t
        };
        let r = run_raw(
            initiator(Some(REALM), IakerbOptions::default()),
            &mut acc,
            Upstream::Kdc,
            &mut rec,
            11,
        );
        r.server.unwrap();
        (seen[0].clone(), seen[2].clone())
    })
}

/// The independent validity check of a first token.
fn valid_first_token(token: &[u8]) -> Option<Vec<u8>> {
    // Framed (a first token always is), UTF8String or (MIT <= 1.21) OCTET
    // STRING realm.
    let (p, form) = IakerbProxy::decode_any(token).ok()?;
    if !form.framed {
        return None;
    }
    if p.header.cookie.is_some() || p.header.target_realm.is_empty() || p.message.is_empty() {
        return None;
    }
    let body_realm = match krb::decode(&p.message).ok()? {
        KrbMessage::AsReq(r) => r.req_body.realm,
        KrbMessage::TgsReq(r) => r.req_body.realm,
        _ => return None,
    };
    let header = if p.header.target_realm == "." {
        REALM.to_owned()
    } else {
        p.header.target_realm.clone()
    };
    (header.eq_ignore_ascii_case(&body_realm) && header.eq_ignore_ascii_case(REALM))
        .then_some(p.message)
}

/// Well-formed tokens with every header and message combination.
fn token() -> impl Strategy<Value = Vec<u8>> {
    let realm = prop_oneof![
        Just(REALM.to_owned()),
        Just("lab.test".to_owned()),
        Just(".".to_owned()),
        Just(String::new()),
        Just("OTHER.TEST".to_owned()),
        "[A-Za-z.]{0,12}",
    ];
    let message = prop_oneof![
        Just(requests().0.clone()),
        Just(requests().1.clone()),
        Just(Vec::new()),
        prop::collection::vec(any::<u8>(), 0..64),
    ];
    let cookie = prop::option::of(prop::collection::vec(any::<u8>(), 0..20));
    let flags = prop::option::of(prop::collection::vec(any::<u8>(), 0..5));
    let form = prop_oneof![
        Just(TokenForm::DRAFT_03),
        Just(TokenForm::MIT_FIRST),
        Just(TokenForm::MIT_LATER),
    ];
    (realm, message, cookie, flags, form).prop_map(|(realm, message, cookie, flags, form)| {
        IakerbProxy {
            header: IakerbHeader {
                target_realm: realm,
                cookie,
                header_flags: flags.map(|f| BitString::from_bytes(&f)),
                extensions: Vec::new(),
            },
            message,
        }
        .encode_as(form)
    })
}

fn check_first(token: &[u8]) {
    let mut acc = Acceptor::new(iakerb_service(iakerb_config()));
    match acc.step(token, now(), &mut rng(1)) {
        Ok(AcceptStep::ProxyKdc(req)) => {
            let want = valid_first_token(token);
            assert_eq!(
                Some(&req.message),
                want.as_ref(),
                "forwarded an invalid token"
            );
            assert_eq!(req.realm, REALM);
        }
        // Realm discovery answers at once and forwards nothing.
        Ok(AcceptStep::Continue(t)) => {
            let (p, _) = IakerbProxy::decode_any(token).unwrap();
            assert!(p.is_realm_discovery());
            assert_eq!(
                IakerbProxy::decode_any(&t).unwrap().0.header.target_realm,
                REALM
            );
        }
        Ok(AcceptStep::Complete { .. }) => panic!("a context from one arbitrary token"),
        Err(_) => assert!(valid_first_token(token).is_none() || token.is_empty()),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn arbitrary_bytes_never_reach_the_kdc(bytes in prop::collection::vec(any::<u8>(), 0..300)) {
        check_first(&bytes);
    }

    #[test]
    fn generated_tokens_reach_the_kdc_only_when_valid(t in token()) {
        check_first(&t);
    }

    #[test]
    fn mutated_tokens_reach_the_kdc_only_when_valid(
        t in token(),
        edits in prop::collection::vec(edit(), 1..4),
    ) {
        check_first(&mutate(t, &edits));
    }

    #[test]
    fn mutated_real_first_tokens(edits in prop::collection::vec(edit(), 1..4), which in 0usize..2) {
        let msg = if which == 0 { requests().0.clone() } else { requests().1.clone() };
        check_first(&mutate(IakerbProxy::new(REALM, msg).encode(), &edits));
    }

    /// After a cookie was issued, a second token reaches the KDC only with
    /// that cookie, whatever else it carries.
    #[test]
    fn second_tokens_need_the_issued_cookie(
        cookie in prop::option::of(prop::collection::vec(any::<u8>(), 0..20)),
        keep_cookie in any::<bool>(),
        edits in prop::collection::vec(edit(), 0..3),
    ) {
        let mut cfg = iakerb_config();
        cfg.issue_cookie = true;
        let mut acc = Acceptor::new(iakerb_service(cfg));
        let first = IakerbProxy::new(REALM, requests().0.clone()).encode();
        prop_assert!(matches!(acc.step(&first, now(), &mut rng(2)), Ok(AcceptStep::ProxyKdc(_))));
        // The KDC's PREAUTH_REQUIRED goes back with a fresh cookie.
        let mut kdc = kdc();
        let reply = match kdc.handle(&requests().0, kerbside_kdc::Transport::Tcp, now(), &mut rng(3)) {
            kerbside_kdc::Outcome::Reply(b) => b,
            other => panic!("{other:?}"),
        };
        let back = match acc.kdc_reply(Ok(&reply), now(), &mut rng(4)) {
            Ok(AcceptStep::Continue(t)) => t,
            other => panic!("{other:?}"),
        };
        let issued = IakerbProxy::decode(&back).unwrap().header.cookie.unwrap();
        let mut next = IakerbProxy::new(REALM, requests().0.clone());
        next.header.cookie = if keep_cookie { Some(issued.clone()) } else { cookie };
        let token = mutate(next.encode(), &edits);
        if let Ok(AcceptStep::ProxyKdc(_)) = acc.step(&token, now(), &mut rng(5)) {
            let (p, _) = IakerbProxy::decode_any(&token).unwrap();
            prop_assert_eq!(p.header.cookie, Some(issued));
        }
    }

    /// Whatever the KDC answers, nothing panics, and only a Kerberos reply
    /// (AS-REP, TGS-REP, KRB-ERROR) is passed back.
    #[test]
    fn arbitrary_kdc_answers(answer in prop::collection::vec(any::<u8>(), 0..200), fail in any::<bool>()) {
        let mut acc = Acceptor::new(iakerb_service(iakerb_config()));
        let first = IakerbProxy::new(REALM, requests().0.clone()).encode();
        prop_assert!(matches!(acc.step(&first, now(), &mut rng(2)), Ok(AcceptStep::ProxyKdc(_))));
        let r = if fail { Err(KdcProxyFailure::NoResponse) } else { Ok(answer.as_slice()) };
        match acc.kdc_reply(r, now(), &mut rng(3)) {
            Ok(AcceptStep::Continue(t)) => {
                prop_assert!(!fail);
                let p = IakerbProxy::decode(&t).unwrap();
                prop_assert_eq!(&p.message, &answer);
                prop_assert!(matches!(
                    krb::decode(&answer),
                    Ok(KrbMessage::AsRep(_) | KrbMessage::TgsRep(_) | KrbMessage::KrbError(_))
                ));
            }
            Ok(other) => panic!("{other:?}"),
            Err(f) => prop_assert!(f.error.krb_code() == Some(86)),
        }
    }
}
