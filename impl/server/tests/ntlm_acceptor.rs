//! The NTLMv2 client (kerbside-client) against the NTLM acceptor: the full
//! NEGOTIATE/CHALLENGE/AUTHENTICATE exchange with MIC, the MS-NLMP §4.2.4
//! example reproduced message by message, and every refusal (wrong
//! password, unknown user, replayed or tampered AUTHENTICATE, tampered
//! CHALLENGE, missing MIC, NTLMv1, relayed target name).

mod support;

use std::time::{Duration, UNIX_EPOCH};

use kerbside_client::gss::{Mechanism, SecurityContext};
use kerbside_client::ntlm::{NtlmClient, NtlmClientConfig, NtlmClientError, NtlmCredentials};
use kerbside_server::ntlm_acceptor::NtlmReject;
use kerbside_server::{
    AcceptError, AcceptMode, AcceptStep, Acceptor, AcceptorConfig, NtlmServerConfig, Via,
};
use kerbside_wire::ntlm::{self, MIC_OFFSET, NtlmMessage, Version, flags};
use rand_core::RngCore;
use support::*;

/// Runs raw NTLM; `mitm(leg, bytes)` may rewrite messages (leg 0
/// NEGOTIATE, 1 CHALLENGE, 2 AUTHENTICATE).
fn run(
    client: &mut NtlmClient,
    acc: &mut Acceptor,
    seed: u64,
    mitm: &mut dyn FnMut(usize, &mut Vec<u8>),
) -> Result<Box<kerbside_server::Session>, AcceptError> {
    let mut r = rng(seed);
    let mut neg = client.negotiate().unwrap();
    mitm(0, &mut neg);
    let AcceptStep::Continue(mut challenge) = acc.step(&neg, now(), &mut r).map_err(|f| f.error)?
    else {
        panic!("NEGOTIATE is answered with a CHALLENGE")
    };
    mitm(1, &mut challenge);
    let mut auth = client.authenticate(&challenge, now(), &mut r).unwrap();
    mitm(2, &mut auth);
    match acc.step(&auth, now(), &mut r).map_err(|f| {
        assert!(f.reply.is_none(), "raw NTLM has no error message");
        f.error
    })? {
        AcceptStep::Complete {
            reply: None,
            session,
        } => Ok(session),
        other => panic!("unexpected {other:?}"),
    }
}

fn no_mitm() -> impl FnMut(usize, &mut Vec<u8>) {
    |_, _| {}
}

fn ntlm_error(e: AcceptError) -> NtlmReject {
    match e {
        AcceptError::Ntlm(n) => n,
        other => panic!("not an NTLM refusal: {other}"),
    }
}

#[test]
fn full_exchange_with_mic_and_sealing() {
    let mut client = ntlm_client(PASSWORD);
    let mut acc = Acceptor::new(service(AcceptMode::Negotiate));
    let mut seen = Vec::new();
    let mut session = run(&mut client, &mut acc, 1, &mut |leg, m| {
        seen.push((leg, m.clone()))
    })
    .unwrap();
    assert_eq!(session.client, "LAB\\alice");
    assert_eq!(
        (session.mechanism, session.via),
        (Mechanism::Ntlm, Via::Raw)
    );
    // What went over the wire is what MS-NLMP describes.
    let NtlmMessage::Challenge(c) = ntlm::decode(&seen[1].1).unwrap() else {
        panic!()
    };
    let info = c.target_info.as_ref().unwrap();
    assert_eq!(
        info.timestamp(),
        Some(kerbside_client::ntlm::filetime(now()))
    );
    assert_ne!(c.flags & flags::NEGOTIATE_EXTENDED_SESSIONSECURITY, 0);
    let NtlmMessage::Authenticate(a) = ntlm::decode(&seen[2].1).unwrap() else {
        panic!()
    };
    assert!(a.mic.is_some_and(|m| m != [0; 16]));
    assert_eq!(
        a.lm_challenge_response,
        vec![0; 24],
        "Z(24) when the server sent a timestamp"
    );
    let v2 = a.ntlmv2_response().unwrap().unwrap();
    let pairs = &v2.client_challenge.av_pairs;
    assert_eq!(pairs.flags(), Some(0x2), "MsvAvFlags: MIC present");
    assert_eq!(pairs.target_name(), Some("host/app.lab.test"));
    assert_eq!(
        pairs.timestamp(),
        info.timestamp(),
        "the server's AV pairs are echoed"
    );
    assert_eq!(a.encrypted_random_session_key.len(), 16, "key exchange");
    let mut ctx = client.into_context().unwrap();
    check_contexts(&mut ctx, &mut session.context, 2);
}

#[test]
fn wrong_password_and_unknown_user_are_refused() {
    let mut acc = Acceptor::new(service(AcceptMode::Negotiate));
    let e = run(&mut ntlm_client("wrong"), &mut acc, 3, &mut no_mitm()).unwrap_err();
    assert_eq!(ntlm_error(e), NtlmReject::BadProof);
    let mut mallory = NtlmClient::new(
        NtlmCredentials::password("mallory", "LAB", PASSWORD),
        NtlmClientConfig::default(),
    );
    let mut acc = Acceptor::new(service(AcceptMode::Negotiate));
    let e = run(&mut mallory, &mut acc, 4, &mut no_mitm()).unwrap_err();
    assert_eq!(ntlm_error(e), NtlmReject::UnknownAccount);
    // user names are case-insensitive; the NT hash alone is enough
    let mut upper = NtlmClient::new(
        NtlmCredentials {
            user: "ALICE".into(),
            domain: "LAB".into(),
            secret: kerbside_client::ntlm::NtlmSecret::NtHash(kerbside_crypto::nt_hash(PASSWORD)),
        },
        NtlmClientConfig::default(),
    );
    let mut acc = Acceptor::new(service(AcceptMode::Negotiate));
    assert_eq!(
        run(&mut upper, &mut acc, 5, &mut no_mitm()).unwrap().client,
        "LAB\\alice"
    );
}

#[test]
fn a_replayed_authenticate_fails_against_a_new_challenge() {
    let svc = service(AcceptMode::Negotiate);
    let mut recorded = Vec::new();
    let mut client = ntlm_client(PASSWORD);
    run(
        &mut client,
        &mut Acceptor::new(svc.clone()),
        6,
        &mut |leg, m| {
            if leg == 2 {
                recorded = m.clone();
            }
        },
    )
    .unwrap();
    // The attacker opens a new connection and replays the AUTHENTICATE.
    let mut acc = Acceptor::new(svc);
    let mut attacker = ntlm_client("unknown to the attacker");
    let neg = attacker.negotiate().unwrap();
    let AcceptStep::Continue(_) = acc.step(&neg, now(), &mut rng(7)).unwrap() else {
        panic!()
    };
    let f = acc.step(&recorded, now(), &mut rng(8)).unwrap_err();
    assert_eq!(ntlm_error(f.error), NtlmReject::BadProof);
    // and the acceptor is finished after a refusal
    assert_eq!(
        acc.step(&recorded, now(), &mut rng(9)).unwrap_err().error,
        AcceptError::State
    );
}

/// Rewrites a message in flight.
type Tamper = Box<dyn Fn(&mut Vec<u8>)>;

#[test]
fn tampered_authenticate_messages() {
    // (what to change, expected refusal)
    let nt_offset = |m: &[u8]| u32::from_le_bytes(m[24..28].try_into().unwrap()) as usize;
    let ws_offset = |m: &[u8]| u32::from_le_bytes(m[48..52].try_into().unwrap()) as usize;
    let cases: Vec<(&str, Tamper, NtlmReject)> = vec![
        (
            "NegotiateFlags lose SEAL",
            Box::new(|m: &mut Vec<u8>| m[60] &= !0x20),
            NtlmReject::MicMismatch,
        ),
        (
            "workstation renamed",
            Box::new(move |m: &mut Vec<u8>| {
                let at = ws_offset(m);
                m[at] ^= 0x01;
            }),
            NtlmReject::MicMismatch,
        ),
        (
            "MIC zeroed",
            Box::new(|m: &mut Vec<u8>| m[MIC_OFFSET..MIC_OFFSET + 16].fill(0)),
            NtlmReject::MicMismatch,
        ),
        (
            "NTProofStr altered",
            Box::new(move |m: &mut Vec<u8>| {
                let at = nt_offset(m);
                m[at] ^= 0x80;
            }),
            NtlmReject::BadProof,
        ),
        (
            "MsvAvFlags MIC bit stripped",
            Box::new(move |m: &mut Vec<u8>| {
                // find the MsvAvFlags pair (06 00 04 00 02 00 00 00) in the blob
                let at = nt_offset(m);
                let pos = m[at..]
                    .windows(8)
                    .position(|w| w == [6, 0, 4, 0, 2, 0, 0, 0])
                    .unwrap();
                m[at + pos + 4] = 0;
            }),
            NtlmReject::BadProof,
        ),
    ];
    for (i, (what, tamper, want)) in cases.into_iter().enumerate() {
        let mut acc = Acceptor::new(service(AcceptMode::Negotiate));
        let e = run(
            &mut ntlm_client(PASSWORD),
            &mut acc,
            10 + i as u64,
            &mut |leg, m| {
                if leg == 2 {
                    tamper(m)
                }
            },
        )
        .unwrap_err();
        assert_eq!(ntlm_error(e), want, "{what}");
    }
}

#[test]
fn a_tampered_challenge_breaks_the_mic() {
    // A man in the middle flips a CHALLENGE flag the client does not act
    // on: only the MIC, which covers the CHALLENGE as the client saw it,
    // can notice.
    let mut acc = Acceptor::new(service(AcceptMode::Negotiate));
    let e = run(&mut ntlm_client(PASSWORD), &mut acc, 20, &mut |leg, m| {
        if leg == 1 {
            m[22] ^= 0x02; // TARGET_TYPE_SERVER (flags at 20..24)
        }
    })
    .unwrap_err();
    assert_eq!(ntlm_error(e), NtlmReject::MicMismatch);
    // and a changed server challenge breaks the proof itself
    let mut acc = Acceptor::new(service(AcceptMode::Negotiate));
    let e = run(&mut ntlm_client(PASSWORD), &mut acc, 21, &mut |leg, m| {
        if leg == 1 {
            m[24] ^= 0xff; // ServerChallenge at 24..32
        }
    })
    .unwrap_err();
    assert_eq!(ntlm_error(e), NtlmReject::BadProof);
}

#[test]
fn mic_required_unless_configured_otherwise() {
    let no_mic = || {
        NtlmClient::new(
            NtlmCredentials::password(USER, "LAB", PASSWORD),
            NtlmClientConfig {
                send_mic: false,
                ..NtlmClientConfig::default()
            },
        )
    };
    let mut acc = Acceptor::new(service(AcceptMode::Negotiate));
    let e = run(&mut no_mic(), &mut acc, 22, &mut no_mitm()).unwrap_err();
    assert_eq!(ntlm_error(e), NtlmReject::MicMissing);
    let lenient = service_with(AcceptorConfig {
        ntlm: NtlmServerConfig {
            require_mic: false,
            ..NtlmServerConfig::default()
        },
        ..AcceptorConfig::default()
    });
    assert!(
        run(
            &mut no_mic(),
            &mut Acceptor::new(lenient),
            23,
            &mut no_mitm()
        )
        .is_ok()
    );
}

#[test]
fn ntlmv1_and_anonymous_are_refused() {
    // a NEGOTIATE without extended session security
    let mut v1 = NtlmClient::new(
        NtlmCredentials::password(USER, "LAB", PASSWORD),
        NtlmClientConfig {
            flags: kerbside_client::ntlm::CLIENT_FLAGS & !flags::NEGOTIATE_EXTENDED_SESSIONSECURITY,
            ..NtlmClientConfig::default()
        },
    );
    let neg = v1.negotiate().unwrap();
    let f = Acceptor::new(service(AcceptMode::Negotiate))
        .step(&neg, now(), &mut rng(24))
        .unwrap_err();
    assert_eq!(ntlm_error(f.error), NtlmReject::NtlmV1Refused);
    // an AUTHENTICATE with a 24-byte (NTLMv1) response
    let mut acc = Acceptor::new(service(AcceptMode::Negotiate));
    let e = run(&mut ntlm_client(PASSWORD), &mut acc, 25, &mut |leg, m| {
        if leg == 2 {
            let NtlmMessage::Authenticate(mut a) = ntlm::decode(m).unwrap() else {
                panic!()
            };
            a.nt_challenge_response.truncate(24);
            *m = a.encode();
        }
    })
    .unwrap_err();
    assert_eq!(ntlm_error(e), NtlmReject::NtlmV1Refused);
    // anonymous: empty user and response
    let mut acc = Acceptor::new(service(AcceptMode::Negotiate));
    let e = run(&mut ntlm_client(PASSWORD), &mut acc, 26, &mut |leg, m| {
        if leg == 2 {
            let NtlmMessage::Authenticate(mut a) = ntlm::decode(m).unwrap() else {
                panic!()
            };
            a.user.clear();
            a.nt_challenge_response.clear();
            *m = a.encode();
        }
    })
    .unwrap_err();
    assert_eq!(ntlm_error(e), NtlmReject::Anonymous);
}

#[test]
fn a_target_name_for_another_server_is_a_relay() {
    let svc = service_with(AcceptorConfig {
        ntlm: NtlmServerConfig {
            accepted_target_names: vec!["HOST/app.lab.test".into()],
            ..NtlmServerConfig::default()
        },
        ..AcceptorConfig::default()
    });
    assert!(
        run(
            &mut ntlm_client(PASSWORD),
            &mut Acceptor::new(svc.clone()),
            27,
            &mut no_mitm()
        )
        .is_ok()
    );
    let mut relayed = NtlmClient::new(
        NtlmCredentials::password(USER, "LAB", PASSWORD),
        NtlmClientConfig {
            target_spn: Some("cifs/fileserver.lab.test".into()),
            ..NtlmClientConfig::default()
        },
    );
    let e = run(&mut relayed, &mut Acceptor::new(svc), 28, &mut no_mitm()).unwrap_err();
    assert_eq!(
        ntlm_error(e),
        NtlmReject::TargetNameMismatch("cifs/fileserver.lab.test".into())
    );
}

#[test]
fn client_refuses_challenges_without_ntlmv2_material() {
    let mut client = ntlm_client(PASSWORD);
    client.negotiate().unwrap();
    let no_info = ntlm::ChallengeMessage {
        target_name: "LAB".into(),
        flags: kerbside_client::ntlm::CLIENT_FLAGS,
        server_challenge: [1; 8],
        target_info: None,
        version: None,
    };
    assert!(matches!(
        client.authenticate(&no_info.encode(), now(), &mut rng(29)),
        Err(NtlmClientError::NoTargetInfo)
    ));
    let mut client = ntlm_client(PASSWORD);
    client.negotiate().unwrap();
    let no_ess = ntlm::ChallengeMessage {
        flags: kerbside_client::ntlm::CLIENT_FLAGS & !flags::NEGOTIATE_EXTENDED_SESSIONSECURITY,
        target_info: Some(ntlm::AvPairs::default()),
        ..no_info
    };
    assert!(matches!(
        client.authenticate(&no_ess.encode(), now(), &mut rng(30)),
        Err(NtlmClientError::ExtendedSessionSecurityRequired)
    ));
    // AUTHENTICATE before NEGOTIATE, and a NEGOTIATE where a CHALLENGE belongs
    let mut client = ntlm_client(PASSWORD);
    assert!(matches!(
        client.authenticate(&[], now(), &mut rng(31)),
        Err(NtlmClientError::State)
    ));
    let neg = client.negotiate().unwrap();
    assert!(matches!(
        client.authenticate(&neg, now(), &mut rng(32)),
        Err(NtlmClientError::UnexpectedMessage("NEGOTIATE"))
    ));
}

/// Hands out fixed bytes, then zeros: the MS-NLMP example's "random"
/// values.
struct Scripted(Vec<u8>);

impl RngCore for Scripted {
    fn next_u32(&mut self) -> u32 {
        let mut b = [0; 4];
        self.fill_bytes(&mut b);
        u32::from_le_bytes(b)
    }
    fn next_u64(&mut self) -> u64 {
        let mut b = [0; 8];
        self.fill_bytes(&mut b);
        u64::from_le_bytes(b)
    }
    fn fill_bytes(&mut self, dst: &mut [u8]) {
        for d in dst {
            *d = if self.0.is_empty() {
                0
            } else {
                self.0.remove(0)
            };
        }
    }
}

fn h(s: &str) -> Vec<u8> {
    hex::decode(s.replace(' ', "")).unwrap()
}

/// MS-NLMP §4.2.4 (NTLMv2): User / Domain / Password, ServerChallenge
/// 0123456789abcdef, ClientChallenge aa*8, RandomSessionKey 55*16, time 0,
/// workstation COMPUTER. The CHALLENGE is the spec's §4.2.4.3 message.
#[test]
fn ms_nlmp_4_2_4_example_message_by_message() {
    const SPEC_CHALLENGE: &str = "4e544c4d53535000 02000000 0c000c0038000000 33828ae2 0123456789abcdef 0000000000000000 2400240044000000 060070170000000f 530065007200760065007200 02000c0044006f006d00610069006e00 01000c005300650072007600650072000000 0000";
    let mut client = NtlmClient::new(
        NtlmCredentials::password("User", "Domain", "Password"),
        NtlmClientConfig {
            workstation: "COMPUTER".into(),
            target_spn: None,
            channel_bindings: None,
            send_mic: false,
            version: Version {
                major: 6,
                minor: 0,
                build: 6000,
                revision: 15,
            },
            ..NtlmClientConfig::default()
        },
    );
    client.negotiate().unwrap();
    // FILETIME 0 is 1601-01-01: the spec's response uses time 0.
    let epoch_1601 = UNIX_EPOCH - Duration::from_secs(11_644_473_600);
    let mut random = Scripted([vec![0xaa; 8], vec![0x55; 16]].concat());
    let auth = client
        .authenticate(&h(SPEC_CHALLENGE), epoch_1601, &mut random)
        .unwrap();
    let NtlmMessage::Authenticate(a) = ntlm::decode(&auth).unwrap() else {
        panic!()
    };
    // §4.2.4.2.1 LMv2, §4.2.4.2.2 NTLMv2 response, §4.2.4.2.3 key
    assert_eq!(
        a.lm_challenge_response,
        h("86c35097ac9cec102554764a57cccc19aaaaaaaaaaaaaaaa")
    );
    assert_eq!(
        a.nt_challenge_response,
        h(
            "68cd0ab851e51c96aabc927bebef6a1c 0101000000000000 0000000000000000 aaaaaaaaaaaaaaaa 00000000 02000c0044006f006d00610069006e00 01000c00530065007200760065007200 00000000 00000000"
        )
    );
    assert_eq!(
        a.encrypted_random_session_key,
        h("c5dad2544fc9799094ce1ce90bc9d03e")
    );
    assert_eq!(
        (a.user.as_str(), a.domain.as_str(), a.workstation.as_str()),
        ("User", "Domain", "COMPUTER")
    );
    assert_eq!(a.mic, None);
    // §4.2.4.4: the client's session seals "Plaintext" to the spec's bytes.
    let mut ctx = client.into_context().unwrap();
    let plaintext: Vec<u8> = "Plaintext"
        .encode_utf16()
        .flat_map(u16::to_le_bytes)
        .collect();
    let wrapped = ctx.wrap(&plaintext, true, &mut rng(0)).unwrap();
    assert_eq!(
        wrapped,
        h("010000007fb38ec5c55d497600000000 54e50165bf1936dc996020c1811b0f06fb5f")
    );

    // The acceptor, holding the account and drawing the same server
    // challenge, accepts the AUTHENTICATE and unseals the message.
    let mut accounts = kerbside_server::NtlmAccounts::new();
    accounts.add_password("User", "Password");
    let svc = std::sync::Arc::new(kerbside_server::AppService::new(
        AcceptorConfig {
            ntlm: NtlmServerConfig {
                require_mic: false,
                ..NtlmServerConfig::default()
            },
            ..AcceptorConfig::default()
        },
        kerbside_server::ServiceKeys::new(),
        accounts,
    ));
    let mut acc = Acceptor::new(svc);
    let mut spec_client = NtlmClient::new(
        NtlmCredentials::password("User", "Domain", "Password"),
        NtlmClientConfig::default(),
    );
    let neg = spec_client.negotiate().unwrap();
    let mut server_random = Scripted(h("0123456789abcdef"));
    let AcceptStep::Continue(_) = acc.step(&neg, now(), &mut server_random).unwrap() else {
        panic!()
    };
    let AcceptStep::Complete { session, .. } = acc.step(&auth, now(), &mut rng(1)).unwrap() else {
        panic!()
    };
    let mut server_ctx: SecurityContext = session.context;
    assert_eq!(server_ctx.unwrap(&wrapped).unwrap().data, plaintext);
    assert_eq!(session.client, "Domain\\User");
}
