//! The sans-IO KDC core per request (`Kdc::handle`: decode, checks, ticket
//! and reply encryption, encode), single thread: AS without
//! pre-authentication, AS with PA-ENC-TIMESTAMP (RFC 4120 §5.2.7.2), and
//! TGS (RFC 4120 §3.3), per enctype. Every request is fresh (new nonce;
//! for TGS a new authenticator one millisecond after the last, so the
//! replay cache keeps working as it does under load) and built outside the
//! timed part by kerbside's client. Every reply is checked to be the
//! AS-REP or TGS-REP, not a KRB-ERROR.
//!
//! Then TGS on two threads through clones of one KDC (the shared, sharded
//! replay cache `kerbside serve kdc` workers use) against two independent
//! KDCs: what sharing the cache costs.
//!
//! `cargo bench -p kerbside-benches --bench kdc`

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{BatchSize, BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use kerbside_benches::realm::{
    KDC_ENCTYPES, PLAIN_USER, PREAUTH_USER, Realm, answer, now, tgs_request, tick,
};
use kerbside_kdc::{Kdc, Outcome, Transport};
use rand_chacha::ChaCha12Rng;
use rand_core::SeedableRng;

/// RFC 4120 §5.10: APPLICATION 11 (AS-REP) and 13 (TGS-REP).
const AS_REP: u8 = 0x6b;
const TGS_REP: u8 = 0x6d;

fn reply(kdc: &mut Kdc, req: &[u8], at: std::time::SystemTime, rng: &mut ChaCha12Rng) -> Vec<u8> {
    match kdc.handle(black_box(req), Transport::Udp, at, rng) {
        Outcome::Reply(r) => r,
        Outcome::Drop(why) => panic!("KDC dropped the request: {why:?}"),
    }
}

fn kdc_core(c: &mut Criterion) {
    let realm = Realm::load().expect("realm");
    let mut g = c.benchmark_group("kdc");
    g.throughput(Throughput::Elements(1));
    for etype in KDC_ENCTYPES {
        let mut rng = ChaCha12Rng::seed_from_u64(1);
        let mut client_rng = ChaCha12Rng::seed_from_u64(2);
        let mut kdc = realm.kdc().expect("kdc");
        for (label, user, preauth) in [
            ("AS", PLAIN_USER, false),
            ("AS+PA-ENC-TIMESTAMP", PREAUTH_USER, true),
        ] {
            g.bench_function(BenchmarkId::new(label, etype.name()), |b| {
                b.iter_batched(
                    || {
                        let mut ex = realm.as_exchange(user, etype, preauth).expect("exchange");
                        ex.start(now(), &mut client_rng).expect("AS-REQ")
                    },
                    |req| {
                        let r = reply(&mut kdc, &req, now(), &mut rng);
                        assert_eq!(r.first(), Some(&AS_REP), "{label}: not an AS-REP");
                        r
                    },
                    BatchSize::SmallInput,
                );
            });
        }
        let tgt = realm.tgt(&mut kdc, etype, &mut client_rng).expect("TGT");
        let mut i = 0u64;
        g.bench_function(BenchmarkId::new("TGS", etype.name()), |b| {
            b.iter_batched(
                || {
                    i += 1;
                    (
                        tgs_request(&tgt, etype, tick(i), &mut client_rng).1,
                        tick(i),
                    )
                },
                |(req, at)| {
                    let r = reply(&mut kdc, &req, at, &mut rng);
                    assert_eq!(r.first(), Some(&TGS_REP), "TGS: not a TGS-REP");
                    r
                },
                BatchSize::SmallInput,
            );
        });
    }
    g.finish();
}

/// TGS on two threads: clones of one KDC (shared replay cache) or two
/// KDCs. Throughput is requests over both threads.
fn kdc_two_threads(c: &mut Criterion) {
    let realm = Realm::load().expect("realm");
    let etype = KDC_ENCTYPES[0];
    let mut g = c.benchmark_group("kdc-2-threads");
    g.throughput(Throughput::Elements(1));
    g.sample_size(10);
    g.measurement_time(Duration::from_secs(3));
    let mut client_rng = ChaCha12Rng::seed_from_u64(5);
    let mut base = realm.kdc().expect("kdc");
    let tgt = realm.tgt(&mut base, etype, &mut client_rng).expect("TGT");
    // One clock for every sample: each request is one millisecond after
    // the previous one, whichever KDC sees it.
    let mut clock = 0u64;
    for (label, shared) in [("TGS shared cache", true), ("TGS separate KDCs", false)] {
        g.bench_function(label, |b| {
            b.iter_custom(|iters| {
                let reqs: Vec<_> = (0..iters)
                    .map(|_| {
                        clock += 1;
                        (
                            tgs_request(&tgt, etype, tick(clock), &mut client_rng).1,
                            tick(clock),
                        )
                    })
                    .collect();
                let (a, z) = reqs.split_at(reqs.len() / 2);
                // Wall time of both threads is the measurement.
                #[allow(clippy::disallowed_methods)]
                let start = Instant::now();
                std::thread::scope(|s| {
                    for (t, half) in [a, z].into_iter().enumerate() {
                        let mut kdc = if shared {
                            base.clone()
                        } else {
                            realm.kdc().expect("kdc")
                        };
                        s.spawn(move || {
                            let mut rng = ChaCha12Rng::seed_from_u64(100 + t as u64);
                            for (req, at) in half {
                                let r = reply(&mut kdc, req, *at, &mut rng);
                                assert_eq!(r.first(), Some(&TGS_REP));
                            }
                        });
                    }
                });
                start.elapsed()
            });
        });
    }
    g.finish();
    // The KDC answers what it answered before the bench: nothing above
    // left it refusing (a full replay cache answers KRB_AP_ERR_REPEAT).
    let mut rng = ChaCha12Rng::seed_from_u64(9);
    let (ex, req) = tgs_request(&tgt, etype, tick(clock + 1), &mut client_rng);
    let r = answer(&mut base, &req, tick(clock + 1), &mut rng).expect("reply");
    ex.handle_reply(&r).expect("TGS-REP after the bench");
}

criterion_group!(benches, kdc_core, kdc_two_threads);
criterion_main!(benches);
