//! proptest: arbitrary and mutated tokens into the acceptor (SPNEGO, raw
//! Kerberos, NTLM, garbage), arbitrary replies into the initiators and the
//! per-message contexts, arbitrary streams into the gss-sample framing.
//! Nothing panics; every refusal is a typed error.

mod support;

use kerbside_client::gss_krb::{KrbInitiator, KrbInitiatorOptions};
use kerbside_client::spnego::{OfferedMech, SpnegoInitiator, SpnegoOptions};
use kerbside_server::sample_proto::FrameDecoder;
use kerbside_server::{AcceptMode, AcceptStep, Acceptor};
use proptest::prelude::*;
use support::mutate::{edit, mutate};
use support::*;

fn modes() -> impl Strategy<Value = AcceptMode> {
    prop_oneof![
        Just(AcceptMode::Negotiate),
        Just(AcceptMode::KerberosOnly),
        Just(AcceptMode::NtlmOnly)
    ]
}

/// Valid first tokens of every kind.
fn first_tokens() -> Vec<Vec<u8>> {
    let (_, ap_req) = KrbInitiator::start(
        &good_ticket(),
        &KrbInitiatorOptions::default(),
        now(),
        &mut rng(1),
    )
    .unwrap();
    let mut sp = SpnegoInitiator::new(
        vec![
            OfferedMech::kerberos(good_ticket()),
            OfferedMech::ntlm(ntlm_client(PASSWORD)),
        ],
        SpnegoOptions::default(),
    )
    .unwrap();
    let spnego = sp.initial_token(now(), &mut rng(2)).unwrap();
    let mut sp_ntlm = SpnegoInitiator::new(
        vec![OfferedMech::ntlm(ntlm_client(PASSWORD))],
        SpnegoOptions::default(),
    )
    .unwrap();
    let spnego_ntlm = sp_ntlm.initial_token(now(), &mut rng(3)).unwrap();
    let negotiate = ntlm_client(PASSWORD).negotiate().unwrap();
    vec![ap_req, spnego, spnego_ntlm, negotiate]
}

/// A valid AUTHENTICATE for an acceptor that already sent its CHALLENGE.
fn ntlm_second_leg(acc: &mut Acceptor) -> Vec<u8> {
    let mut c = ntlm_client(PASSWORD);
    let neg = c.negotiate().unwrap();
    let AcceptStep::Continue(ch) = acc.step(&neg, now(), &mut rng(4)).unwrap() else {
        panic!()
    };
    c.authenticate(&ch, now(), &mut rng(5)).unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn acceptor_survives_garbage(mode in modes(), bytes in prop::collection::vec(any::<u8>(), 0..600)) {
        let mut acc = Acceptor::new(service(mode));
        let _ = acc.step(&bytes, now(), &mut rng(6));
        // and a second token after whatever happened
        let _ = acc.step(&bytes, now(), &mut rng(7));
    }

    #[test]
    fn acceptor_survives_mutated_first_tokens(
        mode in modes(),
        which in 0usize..4,
        edits in prop::collection::vec(edit(), 1..6),
    ) {
        let tokens = first_tokens();
        let t = mutate(tokens[which].clone(), &edits);
        let mut acc = Acceptor::new(service(mode));
        match acc.step(&t, now(), &mut rng(8)) {
            Ok(_) => {}
            Err(f) => {
                // every refusal is typed and has a stable name
                prop_assert!(!f.error.kind().is_empty());
            }
        }
    }

    #[test]
    fn acceptor_survives_mutated_authenticate(edits in prop::collection::vec(edit(), 1..6)) {
        let mut acc = Acceptor::new(service(AcceptMode::Negotiate));
        let auth = ntlm_second_leg(&mut acc);
        let t = mutate(auth, &edits);
        let _ = acc.step(&t, now(), &mut rng(9));
    }

    #[test]
    fn initiators_survive_arbitrary_replies(reply in prop::collection::vec(any::<u8>(), 0..400)) {
        let (mut k, _) = KrbInitiator::start(&good_ticket(), &KrbInitiatorOptions::default(), now(), &mut rng(10)).unwrap();
        let _ = k.step(&reply);
        let mut n = ntlm_client(PASSWORD);
        n.negotiate().unwrap();
        let _ = n.authenticate(&reply, now(), &mut rng(11));
        let mut s = SpnegoInitiator::new(
            vec![OfferedMech::kerberos(good_ticket()), OfferedMech::ntlm(ntlm_client(PASSWORD))],
            SpnegoOptions::default(),
        ).unwrap();
        s.initial_token(now(), &mut rng(12)).unwrap();
        let _ = s.step(&reply, now(), &mut rng(13));
        let _ = SpnegoInitiator::hinted_mechanisms(&reply);
    }

    #[test]
    fn initiators_survive_mutated_replies(which in 0usize..2, edits in prop::collection::vec(edit(), 1..6)) {
        // the acceptor's genuine first reply, mutated, into the initiator
        let mut s = if which == 0 {
            SpnegoInitiator::new(
                vec![OfferedMech::kerberos(good_ticket()), OfferedMech::ntlm(ntlm_client(PASSWORD))],
                SpnegoOptions::default(),
            ).unwrap()
        } else {
            SpnegoInitiator::new(vec![OfferedMech::ntlm(ntlm_client(PASSWORD))], SpnegoOptions::default()).unwrap()
        };
        let first = s.initial_token(now(), &mut rng(14)).unwrap();
        let mut acc = Acceptor::new(service(AcceptMode::Negotiate));
        let reply = match acc.step(&first, now(), &mut rng(15)) {
            Ok(AcceptStep::Continue(t)) => t,
            Ok(AcceptStep::Complete { reply: Some(t), .. }) => t,
            other => panic!("genuine first step: {other:?}"),
        };
        let _ = s.step(&mutate(reply, &edits), now(), &mut rng(16));
    }

    #[test]
    fn contexts_survive_arbitrary_per_message_tokens(token in prop::collection::vec(any::<u8>(), 0..200)) {
        let (mut init, ap_req) = KrbInitiator::start(&good_ticket(), &KrbInitiatorOptions::default(), now(), &mut rng(17)).unwrap();
        let mut acc = Acceptor::new(service(AcceptMode::Negotiate));
        let AcceptStep::Complete { reply: Some(rep), mut session } = acc.step(&ap_req, now(), &mut rng(18)).unwrap() else { panic!() };
        init.step(&rep).unwrap();
        let mut ctx = init.into_context().unwrap();
        prop_assert!(session.context.unwrap(&token).is_err() || token.len() >= 16);
        let _ = session.context.verify_mic(b"m", &token);
        let _ = ctx.unwrap(&token);
        let _ = ctx.verify_mic(b"m", &token);
        let _ = kerbside_server::app::handle_data(&mut session, 0x24, &token);
    }

    #[test]
    fn framing_survives_arbitrary_streams(chunks in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..40), 0..8)) {
        let mut d = FrameDecoder::new(1000);
        for c in &chunks {
            d.push(c);
            while let Ok(Some(f)) = d.next_frame() {
                prop_assert!(f.token.len() <= 1000);
            }
        }
    }
}
