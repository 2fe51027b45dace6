//! Timed release loop over the sans-IO core: AS without pre-authentication,
//! AS with PA-ENC-TIMESTAMP, and TGS, per request, single thread.
//!
//! ```text
//! cargo run --release -p kerbside-kdc --example core_timing [-- ITERATIONS]
//! ```
//!
//! Requests are built before timing (kerbside's client); only
//! `Kdc::handle` is timed. TGS requests all differ (fresh authenticator
//! each), since the replay cache refuses a repeat.

use std::time::{Duration, Instant, UNIX_EPOCH};

use kerbside_client::krb::{
    AsExchange, AsOptions, AsStep, Principal, Secret, TgsExchange, TgsOptions,
};
use kerbside_crypto::EncType;
use kerbside_kdc::load::{Source, load_store};
use kerbside_kdc::{Kdc, KdcConfig, Outcome, Transport};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

const REALM: &str = "LAB.TEST";

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(20_000);
    let data = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/");
    let flags = std::fs::read_to_string(format!("{data}lab-flags.toml")).unwrap();
    let keytab = std::fs::read(format!("{data}mit/realm.keytab")).unwrap();
    let cfg = KdcConfig::new(REALM);
    let store = load_store(
        REALM,
        &cfg.enctypes,
        Some(Source {
            data: flags.as_str(),
            origin: "lab-flags.toml",
        }),
        Some(Source {
            data: keytab.as_slice(),
            origin: "realm.keytab",
        }),
    )
    .unwrap();
    let now = UNIX_EPOCH + Duration::from_secs(1_790_000_000);
    let mut rng = ChaCha20Rng::seed_from_u64(1);
    for etype in [
        EncType::Aes256CtsHmacSha196,
        EncType::Aes256CtsHmacSha384192,
    ] {
        let mut c = cfg.clone();
        c.replay_capacity = 4 * n + 16;
        let mut kdc = Kdc::new(c, store.clone()).unwrap();
        let key = |name: &str| {
            store
                .get(&[name.to_owned()])
                .unwrap()
                .key(etype)
                .unwrap()
                .clone()
        };
        let opts = |preauth| AsOptions {
            etypes: vec![etype],
            preauth_first: preauth,
            ..AsOptions::default()
        };

        let mut ex = AsExchange::new(
            Principal::user("nopreauth", REALM),
            Secret::Keys(vec![key("nopreauth")]),
            opts(false),
        );
        let as_plain = ex.start(now, &mut rng).unwrap();
        let mut ex = AsExchange::new(
            Principal::user("alice", REALM),
            Secret::Keys(vec![key("alice")]),
            opts(true),
        );
        let as_pre = ex.start(now, &mut rng).unwrap();
        let Outcome::Reply(rep) = kdc.handle(&as_pre, Transport::Tcp, now, &mut rng) else {
            panic!()
        };
        let AsStep::Done(tgt) = ex.step(&rep, now, &mut rng).unwrap() else {
            panic!("no TGT")
        };
        let service = Principal::service("host", "app.lab.test", REALM);
        let tgs_reqs: Vec<Vec<u8>> = (0..n)
            .map(|i| {
                let t = now + Duration::from_micros(i as u64);
                TgsExchange::new(
                    &tgt,
                    service.clone(),
                    TgsOptions {
                        etypes: vec![etype],
                        ..TgsOptions::default()
                    },
                )
                .request(t, &mut rng)
            })
            .collect();

        let _ = (&as_plain, &as_pre);
        // Fresh AS-REQs (new nonce each): identical bytes would be answered
        // from the lookaside cache.
        let mut fresh_as = |user: &str, preauth: bool| {
            let mut ex = AsExchange::new(
                Principal::user(user, REALM),
                Secret::Keys(vec![key(user)]),
                opts(preauth),
            );
            ex.start(now, &mut rng).unwrap()
        };
        let plain: Vec<Vec<u8>> = (0..n).map(|_| fresh_as("nopreauth", false)).collect();
        let pre: Vec<Vec<u8>> = (0..n).map(|_| fresh_as("alice", true)).collect();
        let mut time = |label: &str, reqs: &mut dyn FnMut(usize) -> Vec<u8>| {
            let batch: Vec<Vec<u8>> = (0..n).map(&mut *reqs).collect();
            #[allow(clippy::disallowed_methods)] // wall-time measurement is the point
            let start = Instant::now();
            for r in &batch {
                let out = kdc.handle(r, Transport::Udp, now + Duration::from_secs(1), &mut rng);
                assert!(matches!(out, Outcome::Reply(_)));
            }
            let per = start.elapsed() / n as u32;
            println!(
                "{etype:<27} {label:<22} {:>7.1} us/request  {:>8.0} requests/s (one core)",
                per.as_secs_f64() * 1e6,
                1.0 / per.as_secs_f64()
            );
        };
        time("AS, no pre-auth", &mut |i| plain[i].clone());
        time("AS, PA-ENC-TIMESTAMP", &mut |i| pre[i].clone());
        time("TGS", &mut |i| tgs_reqs[i].clone());

        // The replay cache is shared by every clone of a Kdc (real mode runs
        // one clone per worker thread): TGS on two threads through clones of
        // one Kdc, against two independent Kdcs, shows what sharing costs.
        let fresh: Vec<Vec<u8>> = (0..n)
            .map(|i| {
                let t = now + Duration::from_secs(2) + Duration::from_micros(i as u64);
                TgsExchange::new(
                    &tgt,
                    service.clone(),
                    TgsOptions {
                        etypes: vec![etype],
                        ..TgsOptions::default()
                    },
                )
                .request(t, &mut rng)
            })
            .collect();
        let halves: Vec<Vec<Vec<u8>>> = fresh
            .chunks(n / 2)
            .map(<[Vec<u8>]>::to_vec)
            .take(2)
            .collect();
        for (label, shared) in [
            ("TGS 2 threads, shared cache", true),
            ("TGS 2 threads, separate", false),
        ] {
            let mut c = cfg.clone();
            c.replay_capacity = 4 * n + 16;
            let base = Kdc::new(c.clone(), store.clone()).unwrap();
            #[allow(clippy::disallowed_methods)] // wall-time measurement is the point
            let start = Instant::now();
            std::thread::scope(|sc| {
                for (t, reqs) in halves.iter().enumerate() {
                    let mut kdc = if shared {
                        base.clone()
                    } else {
                        Kdc::new(c.clone(), store.clone()).unwrap()
                    };
                    sc.spawn(move || {
                        let mut rng = ChaCha20Rng::seed_from_u64(100 + t as u64);
                        for r in reqs {
                            let out = kdc.handle(
                                r,
                                Transport::Udp,
                                now + Duration::from_secs(3),
                                &mut rng,
                            );
                            assert!(matches!(out, Outcome::Reply(_)));
                        }
                    });
                }
            });
            let total: usize = halves.iter().map(Vec::len).sum();
            let rate = total as f64 / start.elapsed().as_secs_f64();
            println!("{etype:<27} {label:<27} {rate:>8.0} requests/s (two threads)");
        }
    }
}
