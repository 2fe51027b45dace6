//! Wall-clock cost of one context establishment per mechanism, both ends
//! in one process (no network): what the acceptor and the initiators cost
//! in CPU. Run with
//! `cargo run --release -p kerbside-server --example handshake_timing`.

#[path = "../tests/support/mod.rs"]
mod support;

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use kerbside_client::gss_krb::{KrbInitiator, KrbInitiatorOptions};
use kerbside_client::spnego::{OfferedMech, SpnegoInitiator, SpnegoOptions};
use kerbside_server::{AcceptMode, AcceptStep, Acceptor, AcceptorConfig, AppService};
use support::*;

/// Median of 7 rounds of `iters` calls, per call.
// Wall-clock measurement is this example's whole purpose.
#[allow(clippy::disallowed_methods)]
fn time<F: FnMut(u64)>(iters: u64, mut f: F) -> Duration {
    let mut n = 0;
    let mut samples: Vec<Duration> = (0..7)
        .map(|_| {
            let t = Instant::now();
            for _ in 0..iters {
                n += 1;
                f(n);
            }
            t.elapsed() / u32::try_from(iters).unwrap_or(1)
        })
        .collect();
    samples.sort();
    samples[samples.len() / 2]
}

fn svc(mode: AcceptMode) -> Arc<AppService> {
    // A replay cache big enough for every authenticator of the run.
    service_with(AcceptorConfig {
        mode,
        replay_capacity: 10_000_000,
        ..AcceptorConfig::default()
    })
}

fn main() {
    let ticket = good_ticket();
    // alice's key, derived once (string-to-key would dominate otherwise).
    let alice_key = {
        let p = kerbside_kdc::Principal::parse(USER, REALM).unwrap();
        kerbside_kdc::store::password_keys(
            REALM,
            &p,
            PASSWORD,
            &[kerbside_crypto::EncType::Aes256CtsHmacSha196],
        )
        .unwrap()
        .0
    };
    // One service per row: the same seeds give the same authenticators,
    // which a shared replay cache would rightly refuse.
    let (kerberos, kerberos2) = (svc(AcceptMode::Negotiate), svc(AcceptMode::Negotiate));
    let printer = svc(AcceptMode::NtlmOnly);
    let rows: Vec<(&str, Duration)> = vec![
        (
            "krb AP-REQ build (initiator)",
            time(2000, |n| {
                black_box(
                    KrbInitiator::start(
                        &ticket,
                        &KrbInitiatorOptions::default(),
                        now(),
                        &mut rng(n),
                    )
                    .unwrap(),
                );
            }),
        ),
        (
            "krb raw context (both ends)",
            time(2000, |n| {
                let mut r = rng(n);
                let (mut init, t) =
                    KrbInitiator::start(&ticket, &KrbInitiatorOptions::default(), now(), &mut r)
                        .unwrap();
                let mut acc = Acceptor::new(kerberos.clone());
                let AcceptStep::Complete {
                    reply: Some(rep), ..
                } = acc.step(&t, now(), &mut r).unwrap()
                else {
                    panic!()
                };
                init.step(&rep).unwrap();
            }),
        ),
        (
            "krb via SPNEGO (both ends)",
            time(2000, |n| {
                let mut init = SpnegoInitiator::new(
                    vec![OfferedMech::kerberos(ticket.clone())],
                    SpnegoOptions::default(),
                )
                .unwrap();
                let (i, a) = run_spnego(&mut init, &mut Acceptor::new(kerberos2.clone()), n);
                i.unwrap();
                a.unwrap();
            }),
        ),
        (
            "NTLM via SPNEGO + MICs",
            time(2000, |n| {
                let mut init = SpnegoInitiator::new(
                    vec![
                        OfferedMech::kerberos(ticket.clone()),
                        OfferedMech::ntlm(ntlm_client(PASSWORD)),
                    ],
                    SpnegoOptions::default(),
                )
                .unwrap();
                let (i, a) = run_spnego(&mut init, &mut Acceptor::new(printer.clone()), n);
                i.unwrap();
                a.unwrap();
            }),
        ),
        (
            "IAKERB raw: AS x2 + TGS + AP",
            time(200, |n| {
                let mut req = support::iakerb::request(Some(REALM));
                req.secret = kerbside_client::krb::Secret::Keys(alice_key.clone());
                let ia = kerbside_client::iakerb::IakerbInitiator::new(
                    req,
                    kerbside_client::iakerb::IakerbOptions::default(),
                );
                let mut acc = Acceptor::new(support::iakerb::iakerb_service(
                    support::iakerb::iakerb_config(),
                ));
                let r = support::iakerb::run_raw(
                    ia,
                    &mut acc,
                    support::iakerb::Upstream::Kdc,
                    &mut |_, t| t,
                    n,
                );
                r.server.unwrap();
            }),
        ),
        (
            "raw NTLM (both ends)",
            time(2000, |n| {
                let mut r = rng(n);
                let mut c = ntlm_client(PASSWORD);
                let mut acc = Acceptor::new(printer.clone());
                let AcceptStep::Continue(ch) =
                    acc.step(&c.negotiate().unwrap(), now(), &mut r).unwrap()
                else {
                    panic!()
                };
                let auth = c.authenticate(&ch, now(), &mut r).unwrap();
                black_box(acc.step(&auth, now(), &mut r).unwrap());
            }),
        ),
    ];
    println!(
        "{:<32} {:>12} {:>12}",
        "operation", "per call", "per second"
    );
    for (name, d) in rows {
        println!(
            "{name:<32} {:>9.1} µs {:>12.0}",
            d.as_secs_f64() * 1e6,
            1.0 / d.as_secs_f64()
        );
    }
}
