//! Arbitrary replies, failures and timer orders into the negotiator never
//! panic, every logon ends (with exactly one decision event), and NTLM
//! never leaves under `deny`.

mod negotiator_harness;

use std::collections::BTreeMap;
use std::time::Duration;

use kerbside_client::audit::ids;
use kerbside_client::negotiator::{
    Action, AppAction, AppEvent, Event, HostState, Logon, Now, NtlmMode, TransportFailure,
};
use kerbside_kdc::{Outcome, Transport};
use negotiator_harness::*;
use proptest::prelude::*;
use rand_chacha::ChaCha12Rng;
use rand_core::SeedableRng;

#[derive(Clone, Debug)]
enum Choice {
    /// These bytes answer the oldest outstanding exchange.
    Bytes(Vec<u8>),
    /// The real KDC's reply, with one byte changed (or not).
    Real { flip: Option<(usize, u8)> },
    /// A transport failure.
    Fail(u8),
    /// Let the earliest timer fire.
    Timer,
    /// An arbitrary token from the application server.
    AppToken(Vec<u8>),
    /// The application connection fails.
    AppFail,
}

fn choice() -> impl Strategy<Value = Choice> {
    prop_oneof![
        2 => proptest::collection::vec(any::<u8>(), 0..200).prop_map(Choice::Bytes),
        4 => proptest::option::of((any::<usize>(), any::<u8>())).prop_map(|flip| Choice::Real { flip }),
        2 => any::<u8>().prop_map(Choice::Fail),
        2 => Just(Choice::Timer),
        1 => proptest::collection::vec(any::<u8>(), 0..120).prop_map(Choice::AppToken),
        1 => Just(Choice::AppFail),
    ]
}

fn failure(k: u8) -> TransportFailure {
    match k % 6 {
        0 => TransportFailure::Refused,
        1 => TransportFailure::Timeout,
        2 => TransportFailure::Reset("rst".into()),
        3 => TransportFailure::Tls("bad certificate".into()),
        4 => TransportFailure::Http { status: 502 },
        _ => TransportFailure::Framing("high bit".into()),
    }
}

/// Runs a logon where `choices` (cycled) decide every answer.
fn run(
    choices: &[Choice],
    mode: NtlmMode,
    racing: bool,
) -> kerbside_client::negotiator::LogonResult {
    let mut policy = policy();
    policy.ntlm.mode = mode;
    policy.racing.enabled = racing;
    policy.racing.delay = ms(100);
    policy.native.udp = true;
    let mut kdc = kdc();
    let mut kdc_rng = ChaCha12Rng::seed_from_u64(1);
    let mut rng = ChaCha12Rng::seed_from_u64(2);
    let mut host = HostState::new();
    let mut logon = Logon::new(
        app_request(1, "app.corp.example"),
        &policy,
        Default::default(),
    );
    let mut mono = Duration::from_secs(1);
    let now = |mono: Duration| Now {
        mono,
        wall: epoch() + mono,
    };
    logon.start(&mut host, now(mono), &mut rng);
    let mut outstanding: BTreeMap<u64, (Vec<u8>, bool)> = BTreeMap::new();
    let mut timers: BTreeMap<(Duration, u64), u64> = BTreeMap::new();
    let mut app_waiting = false;
    let mut ntlm_sent = false;
    let mut step = 0usize;
    loop {
        while let Some(a) = logon.poll_action() {
            match a {
                Action::KdcSend {
                    id, route, message, ..
                } => {
                    let udp = route.to_string().starts_with("native-udp");
                    outstanding.insert(id.0, (message, udp));
                }
                Action::Cancel { id } => {
                    outstanding.remove(&id.0);
                }
                Action::SetTimer { id, at } => {
                    assert!(at >= mono, "timer set in the past");
                    timers.insert((at, id.0), id.0);
                }
                Action::App(AppAction::SendToken {
                    token,
                    expect_reply,
                    ..
                }) => {
                    if token.windows(8).any(|w| w == b"NTLMSSP\0") {
                        ntlm_sent = true;
                    }
                    app_waiting = expect_reply;
                }
                Action::App(AppAction::SendMessage { .. }) => app_waiting = true,
                Action::App(AppAction::Close) => app_waiting = false,
            }
        }
        if let Some(r) = logon.take_result() {
            if mode == NtlmMode::Deny {
                assert!(!ntlm_sent, "NTLM left under deny");
                assert!(!r.ntlm_used);
            }
            return r;
        }
        assert!(step < 10_000, "logon did not end");
        let c = &choices[step % choices.len()];
        step += 1;
        let event = match c {
            Choice::Bytes(b) if !outstanding.is_empty() => {
                let (&id, _) = outstanding.iter().next().unwrap();
                outstanding.remove(&id);
                Event::KdcReply {
                    id: kerbside_client::negotiator::ExchangeId(id),
                    reply: b.clone(),
                }
            }
            Choice::Real { flip } if !outstanding.is_empty() => {
                let (&id, _) = outstanding.iter().next().unwrap();
                let (msg, udp) = outstanding.remove(&id).unwrap();
                let t = if udp { Transport::Udp } else { Transport::Tcp };
                match kdc.handle(&msg, t, epoch() + mono, &mut kdc_rng) {
                    Outcome::Reply(mut reply) => {
                        if let Some((i, x)) = flip
                            && !reply.is_empty()
                        {
                            let i = i % reply.len();
                            reply[i] ^= x | 1;
                        }
                        Event::KdcReply {
                            id: kerbside_client::negotiator::ExchangeId(id),
                            reply,
                        }
                    }
                    Outcome::Drop(_) => continue,
                }
            }
            Choice::Fail(k) if !outstanding.is_empty() => {
                let (&id, _) = outstanding.iter().next().unwrap();
                outstanding.remove(&id);
                Event::KdcFailed {
                    id: kerbside_client::negotiator::ExchangeId(id),
                    failure: failure(*k),
                }
            }
            Choice::AppToken(t) if app_waiting => {
                app_waiting = false;
                Event::App(AppEvent::Token(t.clone()))
            }
            Choice::AppFail if app_waiting => {
                app_waiting = false;
                Event::App(AppEvent::Failed(TransportFailure::Reset("rst".into())))
            }
            _ => {
                // Nothing else applies: time moves to the next timer.
                let Some(((at, _), id)) = timers.pop_first() else {
                    panic!("the logon waits for nothing: it would hang");
                };
                mono = mono.max(at);
                Event::Timer {
                    id: kerbside_client::negotiator::TimerId(id),
                }
            }
        };
        logon.handle(&mut host, event, now(mono), &mut rng);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_answers_never_panic_and_every_logon_ends(
        choices in proptest::collection::vec(choice(), 1..24),
        mode in prop_oneof![Just(NtlmMode::Allow), Just(NtlmMode::Audit), Just(NtlmMode::Deny)],
        racing in any::<bool>(),
    ) {
        let r = run(&choices, mode, racing);
        prop_assert_eq!(r.count(ids::DECISION), 1);
        prop_assert_eq!(r.events.last().map(|e| e.id), Some(ids::DECISION));
        if r.is_success() {
            prop_assert!(r.error.is_none());
        } else {
            prop_assert!(r.error.is_some());
        }
        // Every event belongs to this logon.
        prop_assert!(r.events.iter().all(|e| e.logon == 1));
    }
}

#[test]
fn all_real_answers_give_a_kerberos_ticket_and_a_protocol_error_at_the_server() {
    // Sanity check of the runner: honest KDC answers get a ticket; the
    // "server" answers garbage, so the logon ends in an application error.
    let r = run(
        &[
            Choice::Real { flip: None },
            Choice::AppToken(vec![0xa1, 0x00]),
        ],
        NtlmMode::Deny,
        false,
    );
    assert!(r.time_to_ticket.is_some(), "{:?}", r.error);
    assert!(!r.is_success());
}
