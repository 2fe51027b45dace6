//! SPNEGO mechListMIC (RFC 4178 §5) between our initiator and acceptor:
//! the honest paths that need the MIC exchange, and a man-in-the-middle
//! who edits the mechanism list. Stripping or reordering Kerberos to force
//! NTLM is detected by the acceptor (its MIC check fails, the initiator
//! sees `reject` right after its MIC); a lenient acceptor that does not ask
//! for the MIC still cannot hide it from the initiator, which refuses to
//! complete without the acceptor's MIC; a list edited the other way is
//! caught by the initiator verifying the acceptor's MIC.

mod support;

use kerbside_client::gss::Mechanism;
use kerbside_client::spnego::{
    Downgrade, OfferedMech, SpnegoError, SpnegoInitiator, SpnegoOptions,
};
use kerbside_server::{AcceptError, AcceptMode, Acceptor};
use kerbside_wire::der::Oid;
use kerbside_wire::gss::oid;
use kerbside_wire::spnego::{NegState, NegotiationToken};
use support::*;

fn krb_then_ntlm() -> SpnegoInitiator {
    SpnegoInitiator::new(
        vec![
            OfferedMech::kerberos(good_ticket()),
            OfferedMech::ntlm(ntlm_client(PASSWORD)),
        ],
        SpnegoOptions::default(),
    )
    .unwrap()
}

fn ntlm_then_krb() -> SpnegoInitiator {
    SpnegoInitiator::new(
        vec![
            OfferedMech::ntlm(ntlm_client(PASSWORD)),
            OfferedMech::kerberos(good_ticket()),
        ],
        SpnegoOptions::default(),
    )
    .unwrap()
}

/// Rewrites the NegTokenInit's mechTypes (and drops the optimistic token,
/// which no longer matches the first mechanism).
fn rewrite_list(token: Vec<u8>, list: &[Oid]) -> Vec<u8> {
    let NegotiationToken::Init(mut init) = NegotiationToken::decode(&token).unwrap() else {
        panic!("leg 0 is the NegTokenInit")
    };
    init.mech_types = list.to_vec();
    init.mech_token = None;
    NegotiationToken::Init(init).encode_initial()
}

/// Removes the mechListMIC from a NegTokenResp.
fn strip_mic(token: Vec<u8>) -> Vec<u8> {
    let NegotiationToken::Resp(mut r) = NegotiationToken::decode(&token).unwrap() else {
        panic!()
    };
    assert!(r.mech_list_mic.take().is_some(), "there was a MIC to strip");
    NegotiationToken::Resp(r).encode()
}

#[test]
fn stripping_kerberos_from_the_list_is_detected() {
    let mut init = krb_then_ntlm();
    let mut acc = Acceptor::new(service(AcceptMode::Negotiate));
    let (i, a) = run_spnego_via(&mut init, &mut acc, 1, &mut |leg, t| {
        Some(if leg == 0 {
            rewrite_list(t, &[oid::NTLMSSP])
        } else {
            t
        })
    });
    let f = a.unwrap_err();
    assert_eq!(
        f.error,
        AcceptError::DowngradeDetected(Downgrade::MicMismatch)
    );
    assert!(f.error.is_downgrade());
    let e = i.unwrap_err();
    assert!(
        matches!(e, SpnegoError::Rejected { after_mic: true }),
        "{e}"
    );
    assert!(e.is_downgrade());
    assert_eq!(init.selected_mechanism(), Some(Mechanism::Ntlm));
}

#[test]
fn reordering_the_list_is_detected() {
    let mut init = krb_then_ntlm();
    let mut acc = Acceptor::new(service(AcceptMode::Negotiate));
    let (i, a) = run_spnego_via(&mut init, &mut acc, 2, &mut |leg, t| {
        Some(if leg == 0 {
            rewrite_list(t, &[oid::NTLMSSP, oid::KRB5])
        } else {
            t
        })
    });
    assert_eq!(
        a.unwrap_err().error,
        AcceptError::DowngradeDetected(Downgrade::MicMismatch)
    );
    assert!(i.unwrap_err().is_downgrade());
}

#[test]
fn stripping_kerberos_and_the_mic_is_detected() {
    let mut init = krb_then_ntlm();
    let mut acc = Acceptor::new(service(AcceptMode::Negotiate));
    // legs: 0 Init, 1 request-mic + supportedMech, 2 NEGOTIATE,
    // 3 CHALLENGE, 4 AUTHENTICATE + MIC
    let (i, a) = run_spnego_via(&mut init, &mut acc, 3, &mut |leg, t| {
        Some(match leg {
            0 => rewrite_list(t, &[oid::NTLMSSP]),
            4 => strip_mic(t),
            _ => t,
        })
    });
    assert_eq!(
        a.unwrap_err().error,
        AcceptError::DowngradeDetected(Downgrade::MicMissing)
    );
    assert!(
        matches!(i, Err(SpnegoError::Rejected { after_mic: true })),
        "{i:?}"
    );
}

#[test]
fn a_lenient_acceptor_cannot_hide_the_downgrade_from_the_initiator() {
    // An acceptor that prefers NTLM (like MIT's, which only asks for the
    // MIC when the initiator's first choice was not taken) sees [NTLM] and
    // asks for nothing; the attacker also strips the initiator's MIC. The
    // acceptor completes, but the initiator, whose first choice was
    // Kerberos, refuses to finish without the acceptor's MIC.
    let mut init = krb_then_ntlm();
    let mut acc = Acceptor::new(service(AcceptMode::NtlmOnly));
    let mut first_reply_state = None;
    let (i, a) = run_spnego_via(&mut init, &mut acc, 4, &mut |leg, t| {
        Some(match leg {
            0 => rewrite_list(t, &[oid::NTLMSSP]),
            1 => {
                if let Ok(NegotiationToken::Resp(r)) = NegotiationToken::decode(&t) {
                    first_reply_state = r.neg_state;
                }
                t
            }
            4 => strip_mic(t),
            _ => t,
        })
    });
    assert_eq!(
        first_reply_state,
        Some(NegState::AcceptIncomplete),
        "no request-mic"
    );
    assert!(a.is_ok(), "the acceptor was fooled");
    assert!(
        matches!(
            i,
            Err(SpnegoError::DowngradeDetected(Downgrade::MicMissing))
        ),
        "{i:?}"
    );
}

#[test]
fn a_list_edited_the_other_way_is_caught_by_the_initiator() {
    // The initiator prefers NTLM (say, a legacy configuration), the server
    // only does Kerberos. The attacker replaces NTLM by another OID; the
    // acceptor's MIC (sent with the AP-REP) covers the edited list and does
    // not verify at the initiator.
    let mut init = ntlm_then_krb();
    let mut acc = Acceptor::new(service(AcceptMode::KerberosOnly));
    let (i, _a) = run_spnego_via(&mut init, &mut acc, 5, &mut |leg, t| {
        Some(if leg == 0 {
            rewrite_list(t, &[oid::NEGOEX, oid::KRB5])
        } else {
            t
        })
    });
    assert!(
        matches!(
            i,
            Err(SpnegoError::DowngradeDetected(Downgrade::MicMismatch))
        ),
        "{i:?}"
    );
}

#[test]
fn a_forged_acceptor_mic_is_refused() {
    let mut init = ntlm_then_krb();
    let mut acc = Acceptor::new(service(AcceptMode::KerberosOnly));
    let (i, _a) = run_spnego_via(&mut init, &mut acc, 6, &mut |leg, t| {
        Some(if leg == 3 {
            let NegotiationToken::Resp(mut r) = NegotiationToken::decode(&t).unwrap() else {
                panic!()
            };
            let mic = r.mech_list_mic.as_mut().expect("MIC with the AP-REP");
            let n = mic.len() - 1;
            mic[n] ^= 1;
            NegotiationToken::Resp(r).encode()
        } else {
            t
        })
    });
    assert!(
        matches!(
            i,
            Err(SpnegoError::DowngradeDetected(Downgrade::MicMismatch))
        ),
        "{i:?}"
    );
}

#[test]
fn kerberos_as_second_choice_exchanges_mics_both_ways() {
    // Even number of Kerberos tokens: the acceptor sends its MIC with the
    // AP-REP, the initiator answers with its own and both complete.
    let mut init = ntlm_then_krb();
    let mut acc = Acceptor::new(service(AcceptMode::KerberosOnly));
    let mut legs = Vec::new();
    let (i, a) = run_spnego_via(&mut init, &mut acc, 7, &mut |_, t| {
        legs.push(NegotiationToken::decode(&t).unwrap());
        Some(t)
    });
    i.unwrap();
    let mut session = a.unwrap();
    assert_eq!(session.mechanism, Mechanism::Kerberos);
    assert!(init.mic_required());
    // 0 Init (NTLM optimistic), 1 request-mic + supportedMech, 2 AP-REQ,
    // 3 AP-REP + acceptor MIC (accept-incomplete), 4 initiator MIC.
    assert_eq!(legs.len(), 5);
    let NegotiationToken::Resp(r1) = &legs[1] else {
        panic!()
    };
    assert_eq!(r1.neg_state, Some(NegState::RequestMic));
    assert_eq!(r1.supported_mech, Some(oid::KRB5));
    let NegotiationToken::Resp(r3) = &legs[3] else {
        panic!()
    };
    assert!(r3.response_token.is_some() && r3.mech_list_mic.is_some());
    let NegotiationToken::Resp(r4) = &legs[4] else {
        panic!()
    };
    assert!(r4.response_token.is_none() && r4.mech_list_mic.is_some());
    let mut ctx = init.into_context().unwrap();
    check_contexts(&mut ctx, &mut session.context, 8);
}

#[test]
fn ntlm_only_initiator_against_a_kerberos_preferring_acceptor() {
    // The acceptor's first choice is Kerberos, so NTLM needs the MIC even
    // though it is the initiator's only mechanism: request-mic says so.
    let mut init = SpnegoInitiator::new(
        vec![OfferedMech::ntlm(ntlm_client(PASSWORD))],
        SpnegoOptions::default(),
    )
    .unwrap();
    let mut acc = Acceptor::new(service(AcceptMode::Negotiate));
    let (i, a) = run_spnego(&mut init, &mut acc, 9);
    i.unwrap();
    let mut session = a.unwrap();
    assert!(init.mic_required());
    let mut ctx = init.into_context().unwrap();
    check_contexts(&mut ctx, &mut session.context, 10);
    // with a wrong password the acceptor rejects (no MIC involved yet)
    let mut init = SpnegoInitiator::new(
        vec![OfferedMech::ntlm(ntlm_client("nope"))],
        SpnegoOptions::default(),
    )
    .unwrap();
    let (i, a) = run_spnego(
        &mut init,
        &mut Acceptor::new(service(AcceptMode::Negotiate)),
        11,
    );
    assert!(matches!(a.unwrap_err().error, AcceptError::Ntlm(_)));
    // the initiator sent its MIC with the AUTHENTICATE, so `after_mic` is set:
    // a wrong password and a tampered list look alike from the client side
    assert!(matches!(i, Err(SpnegoError::Rejected { .. })), "{i:?}");
}

#[test]
fn every_spnego_refusal_answers_reject() {
    use kerbside_wire::gss;
    let reject_of = |reply: Option<Vec<u8>>| {
        let reply = reply.expect("a SPNEGO refusal has a reply");
        match NegotiationToken::decode(&reply).unwrap() {
            NegotiationToken::Resp(r) => r.neg_state,
            other => panic!("{other:?}"),
        }
    };
    // a framed SPNEGO token whose body is not a NegotiationToken
    let garbage = gss::wrap(&oid::SPNEGO, &[0x30, 0x00]);
    // a NegTokenResp where the NegTokenInit belongs
    let resp_first = gss::wrap(&oid::SPNEGO, &hex::decode("a1073005a0030a0101").unwrap());
    // only mechanisms the server does not speak
    let unknown = NegotiationToken::Init(kerbside_wire::spnego::NegTokenInit {
        mech_types: vec![oid::NEGOEX, oid::KRB5_U2U],
        ..Default::default()
    })
    .encode_initial();
    for (what, token, kind) in [
        ("garbage", garbage, "malformed"),
        ("resp first", resp_first, "unexpected-token"),
        ("unknown mechs", unknown, "no-common-mechanism"),
    ] {
        let f = Acceptor::new(service(AcceptMode::Negotiate))
            .step(&token, now(), &mut rng(1))
            .unwrap_err();
        assert_eq!(f.error.kind(), kind, "{what}");
        assert_eq!(reject_of(f.reply), Some(NegState::Reject), "{what}");
    }
    // and a refusal in the middle of the exchange (wrong NTLM password)
    let mut init = SpnegoInitiator::new(
        vec![OfferedMech::ntlm(ntlm_client("wrong"))],
        SpnegoOptions::default(),
    )
    .unwrap();
    let mut rejected = None;
    let (_, a) = run_spnego_via(
        &mut init,
        &mut Acceptor::new(service(AcceptMode::Negotiate)),
        12,
        &mut |leg, t| {
            // 0 NegTokenInit(NEGOTIATE), 1 CHALLENGE, 2 AUTHENTICATE + MIC,
            // 3 the acceptor's answer
            if leg == 3 {
                rejected = Some(t.clone());
            }
            Some(t)
        },
    );
    assert!(matches!(a.unwrap_err().error, AcceptError::Ntlm(_)));
    assert_eq!(reject_of(rejected), Some(NegState::Reject));
}
