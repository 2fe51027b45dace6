//! Quick wall-clock timings of the crypto hot paths (the benches crate has
//! the criterion versions). Run with
//! `cargo run --release -p kerbside-crypto --example timing`.

use std::hint::black_box;
use std::time::{Duration, Instant};

use kerbside_crypto::ntlm;
use kerbside_crypto::{EncType, Key};
use rand_chacha::ChaCha12Rng;
use rand_chacha::rand_core::SeedableRng;

/// Median of `rounds` runs of `iters` calls, per call.
// Wall-clock measurement is this example's whole purpose.
#[allow(clippy::disallowed_methods)]
fn time<F: FnMut()>(iters: u32, mut f: F) -> Duration {
    let mut samples: Vec<Duration> = (0..7)
        .map(|_| {
            let t = Instant::now();
            for _ in 0..iters {
                f();
            }
            t.elapsed() / iters
        })
        .collect();
    samples.sort();
    samples[samples.len() / 2]
}

fn main() {
    let mut rng = ChaCha12Rng::seed_from_u64(7);
    println!(
        "{:<28} {:>12} {:>10} {:>10} {:>10} {:>10} {:>10}",
        "enctype", "s2k", "enc 64B", "dec 64B", "enc 1KiB", "dec 1KiB", "cksum 64B"
    );
    for e in EncType::ALL {
        let s2k_iters = if e == EncType::Rc4Hmac { 20_000 } else { 5 };
        let s2k = time(s2k_iters, || {
            black_box(Key::from_password(e, black_box("password"), b"LAB.TESTalice").unwrap());
        });
        let key = Key::random(e, &mut rng);
        let p64 = vec![0x42u8; 64];
        let p1k = vec![0x42u8; 1024];
        let c64 = key.encrypt(3, &p64, &mut rng);
        let c1k = key.encrypt(3, &p1k, &mut rng);
        let enc64 = time(20_000, || {
            black_box(key.encrypt(3, black_box(&p64), &mut rng));
        });
        let dec64 = time(20_000, || {
            black_box(key.decrypt(3, black_box(&c64)).unwrap());
        });
        let enc1k = time(5_000, || {
            black_box(key.encrypt(3, black_box(&p1k), &mut rng));
        });
        let dec1k = time(5_000, || {
            black_box(key.decrypt(3, black_box(&c1k)).unwrap());
        });
        let ck = time(20_000, || {
            black_box(key.checksum(6, black_box(&p64)));
        });
        println!(
            "{:<28} {:>12.1?} {:>10.2?} {:>10.2?} {:>10.2?} {:>10.2?} {:>10.2?}",
            e.name(),
            s2k,
            enc64,
            dec64,
            enc1k,
            dec1k,
            ck
        );
    }
    // Same operations with the keys derived once (Key::for_usage).
    println!("\nwith UsageKey (Ke/Ki/Kc derived once):");
    for e in EncType::ALL {
        let key = Key::random(e, &mut rng).for_usage(2);
        let p64 = vec![0x42u8; 64];
        let p1k = vec![0x42u8; 1024];
        let c64 = key.encrypt(&p64, &mut rng);
        let c1k = key.encrypt(&p1k, &mut rng);
        let enc64 = time(20_000, || {
            black_box(key.encrypt(black_box(&p64), &mut rng));
        });
        let dec64 = time(20_000, || {
            black_box(key.decrypt(black_box(&c64)).unwrap());
        });
        let enc1k = time(5_000, || {
            black_box(key.encrypt(black_box(&p1k), &mut rng));
        });
        let dec1k = time(5_000, || {
            black_box(key.decrypt(black_box(&c1k)).unwrap());
        });
        println!(
            "{:<28} {:>12} {:>10.2?} {:>10.2?} {:>10.2?} {:>10.2?}",
            e.name(),
            "",
            enc64,
            dec64,
            enc1k,
            dec1k
        );
    }
    // Baseline: kerberos_crypto 0.3.7 on the same machine and load.
    println!("\nkerberos_crypto 0.3.7 baseline:");
    for (name, sizes, len) in [
        (
            "aes256-cts-hmac-sha1-96",
            kerberos_crypto::AesSizes::Aes256,
            32,
        ),
        (
            "aes128-cts-hmac-sha1-96",
            kerberos_crypto::AesSizes::Aes128,
            16,
        ),
    ] {
        use kerberos_crypto::aes_hmac_sha1 as kc;
        let key = vec![7u8; len];
        let conf = [1u8; 16];
        let p64 = vec![0x42u8; 64];
        let p1k = vec![0x42u8; 1024];
        let c64 = kc::encrypt(&key, 3, &p64, &conf, &sizes);
        let c1k = kc::encrypt(&key, 3, &p1k, &conf, &sizes);
        let s2k = time(5, || {
            black_box(kc::generate_key(
                black_box(b"password"),
                b"LAB.TESTalice",
                &sizes,
            ));
        });
        let enc64 = time(20_000, || {
            black_box(kc::encrypt(&key, 3, black_box(&p64), &conf, &sizes));
        });
        let dec64 = time(20_000, || {
            black_box(kc::decrypt(&key, 3, black_box(&c64), &sizes).unwrap());
        });
        let enc1k = time(5_000, || {
            black_box(kc::encrypt(&key, 3, black_box(&p1k), &conf, &sizes));
        });
        let dec1k = time(5_000, || {
            black_box(kc::decrypt(&key, 3, black_box(&c1k), &sizes).unwrap());
        });
        println!(
            "{:<28} {:>12.1?} {:>10.2?} {:>10.2?} {:>10.2?} {:>10.2?}",
            name, s2k, enc64, dec64, enc1k, dec1k
        );
    }

    let k = ntlm::ntowf_v2("Password", "User", "Domain");
    let ti = vec![0u8; 120];
    let r = time(50_000, || {
        black_box(ntlm::compute_response(
            &k,
            &[1; 8],
            &[2; 8],
            0,
            black_box(&ti),
        ));
    });
    println!("ntlmv2 compute_response (120 B target info): {r:.2?}");
}
