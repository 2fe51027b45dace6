//! Per enctype: string-to-key (RFC 3962 §4: 4096 PBKDF2 rounds; RFC 8009
//! §4: 32768; RFC 4757: one MD4), the memoised lookup that replaces it
//! where it would dominate ([`KeyCache`]), encrypt and decrypt of 64 B and
//! 1 KiB with the long-term [`Key`] (Ke/Ki derived per call, RFC 3961 §5.3)
//! and with a [`UsageKey`] (derived once), the checksum; the
//! `kerberos_crypto` 0.3.7 baseline for the RFC 3962 enctypes; NTLMv2.
//!
//! `cargo bench -p kerbside-benches --bench crypto`

use std::hint::black_box;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use kerbside_crypto::{EncType, Key, KeyCache, default_salt, ntlm};
use rand_chacha::ChaCha12Rng;
use rand_core::SeedableRng;

/// Key usage 3 (AS-REP enc-part, RFC 4120 §7.5.1): any usage costs the same.
const USAGE: u32 = 3;
const SIZES: [(&str, usize); 2] = [("64B", 64), ("1KiB", 1024)];

fn string_to_key(c: &mut Criterion) {
    let salt = default_salt("LAB.TEST", &["alice"]);
    let mut g = c.benchmark_group("string-to-key");
    g.throughput(Throughput::Elements(1));
    // 32768 rounds of HMAC-SHA-384 take milliseconds: fewer, longer samples.
    g.sample_size(20);
    g.measurement_time(Duration::from_secs(4));
    for e in EncType::ALL {
        g.bench_function(BenchmarkId::from_parameter(e.name()), |b| {
            b.iter(|| Key::from_password(e, black_box("Winter2026!alice"), &salt).expect("s2k"));
        });
    }
    g.finish();
    // What a KDC or simulation that loads principals from passwords pays
    // after the first derivation of each key.
    let cache = KeyCache::new();
    let mut g = c.benchmark_group("string-to-key-cached");
    g.throughput(Throughput::Elements(1));
    for e in EncType::ALL {
        let first = cache
            .from_password(e, "Winter2026!alice", &salt)
            .expect("s2k");
        assert_eq!(
            first,
            Key::from_password(e, "Winter2026!alice", &salt).expect("s2k")
        );
        g.bench_function(BenchmarkId::from_parameter(e.name()), |b| {
            b.iter(|| {
                cache
                    .from_password(e, black_box("Winter2026!alice"), &salt)
                    .expect("cached")
            });
        });
    }
    g.finish();
}

fn encrypt_decrypt(c: &mut Criterion) {
    let mut rng = ChaCha12Rng::seed_from_u64(7);
    for (what, usage_key) in [("key", false), ("usage-key", true)] {
        let mut g = c.benchmark_group(format!("encrypt/{what}"));
        g.throughput(Throughput::Elements(1));
        for e in EncType::ALL {
            let key = Key::random(e, &mut rng);
            let uk = key.for_usage(USAGE);
            for (size, len) in SIZES {
                let plain = vec![0x42u8; len];
                let id = BenchmarkId::new(e.name(), size);
                if usage_key {
                    g.bench_function(id, |b| b.iter(|| uk.encrypt(black_box(&plain), &mut rng)));
                } else {
                    g.bench_function(id, |b| {
                        b.iter(|| key.encrypt(USAGE, black_box(&plain), &mut rng))
                    });
                }
            }
        }
        g.finish();
        let mut g = c.benchmark_group(format!("decrypt/{what}"));
        g.throughput(Throughput::Elements(1));
        for e in EncType::ALL {
            let key = Key::random(e, &mut rng);
            let uk = key.for_usage(USAGE);
            for (size, len) in SIZES {
                let plain = vec![0x42u8; len];
                let sealed = key.encrypt(USAGE, &plain, &mut rng);
                assert_eq!(uk.decrypt(&sealed).expect("decrypt"), plain);
                let id = BenchmarkId::new(e.name(), size);
                if usage_key {
                    g.bench_function(id, |b| {
                        b.iter(|| uk.decrypt(black_box(&sealed)).expect("decrypt"))
                    });
                } else {
                    g.bench_function(id, |b| {
                        b.iter(|| key.decrypt(USAGE, black_box(&sealed)).expect("decrypt"))
                    });
                }
            }
        }
        g.finish();
    }
    let mut g = c.benchmark_group("checksum");
    g.throughput(Throughput::Elements(1));
    for e in EncType::ALL {
        let key = Key::random(e, &mut rng);
        let data = vec![0x42u8; 64];
        g.bench_function(BenchmarkId::new(e.name(), "64B"), |b| {
            b.iter(|| key.checksum(6, black_box(&data)))
        });
    }
    g.finish();
}

/// kerberos_crypto 0.3.7 (the crate kerbside-crypto replaced) on the same
/// inputs: the reference point for the RFC 3962 numbers above.
fn baseline(c: &mut Criterion) {
    use kerberos_crypto::aes_hmac_sha1 as kc;
    let mut g = c.benchmark_group("kerberos_crypto-0.3.7");
    g.throughput(Throughput::Elements(1));
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
        let key = vec![7u8; len];
        let conf = [1u8; 16];
        for (size, n) in SIZES {
            let plain = vec![0x42u8; n];
            let sealed = kc::encrypt(&key, USAGE as i32, &plain, &conf, &sizes);
            g.bench_function(BenchmarkId::new(format!("encrypt/{name}"), size), |b| {
                b.iter(|| kc::encrypt(&key, USAGE as i32, black_box(&plain), &conf, &sizes))
            });
            g.bench_function(BenchmarkId::new(format!("decrypt/{name}"), size), |b| {
                b.iter(|| {
                    kc::decrypt(&key, USAGE as i32, black_box(&sealed), &sizes).expect("decrypt")
                })
            });
        }
    }
    g.finish();
}

fn ntlmv2(c: &mut Criterion) {
    let mut g = c.benchmark_group("ntlm");
    g.throughput(Throughput::Elements(1));
    g.bench_function("NTOWFv2", |b| {
        b.iter(|| ntlm::ntowf_v2(black_box("Password"), "User", "Domain"))
    });
    let k = ntlm::ntowf_v2("Password", "User", "Domain");
    let target_info = vec![0u8; 120];
    g.bench_function("NTLMv2-response(120B target info)", |b| {
        b.iter(|| ntlm::compute_response(&k, &[1; 8], &[2; 8], 0, black_box(&target_info)))
    });
    g.finish();
}

criterion_group!(benches, string_to_key, encrypt_decrypt, baseline, ntlmv2);
criterion_main!(benches);
