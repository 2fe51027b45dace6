//! Typed errors, never panics: wrong key lengths, short / garbage /
//! truncated / modified ciphertexts, bad checksums, for every enctype; and
//! encrypt/decrypt round trips over arbitrary lengths and usages.

use kerbside_crypto::{CryptoError, EncType, Key, KeyCache};
use proptest::prelude::*;
use rand_chacha::ChaCha12Rng;
use rand_chacha::rand_core::SeedableRng;

fn any_etype() -> impl Strategy<Value = EncType> {
    prop::sample::select(EncType::ALL.to_vec())
}

#[test]
fn wrong_key_length_is_a_typed_error_for_every_enctype() {
    for e in EncType::ALL {
        for len in [0, 1, 15, 17, 24, 31, 33, 64] {
            if len == e.key_len() {
                continue;
            }
            assert_eq!(
                Key::new(e, vec![0u8; len]),
                Err(CryptoError::InvalidKeyLength {
                    etype: e.id(),
                    expected: e.key_len(),
                    actual: len
                })
            );
        }
        assert!(Key::new(e, vec![0u8; e.key_len()]).is_ok());
    }
    assert_eq!(
        Key::from_wire(16, &[0; 24]),
        Err(CryptoError::UnsupportedEncType(16))
    );
    assert!(Key::from_wire(18, &[0; 16]).is_err());
}

#[test]
fn short_ciphertexts_are_rejected_with_their_minimum() {
    let mut rng = ChaCha12Rng::seed_from_u64(1);
    for e in EncType::ALL {
        let k = Key::random(e, &mut rng);
        let min = e.min_ciphertext_len();
        for len in 0..min {
            match k.decrypt(1, &vec![0xa5; len]) {
                Err(CryptoError::CiphertextTooShort {
                    minimum, actual, ..
                }) => {
                    assert_eq!((minimum, actual), (min, len), "{e}");
                }
                other => panic!("{e} len {len}: {other:?}"),
            }
        }
        // At the minimum length the input is well-formed but not authentic.
        assert_eq!(
            k.decrypt(1, &vec![0xa5; min]),
            Err(CryptoError::IntegrityCheckFailed)
        );
        // Empty plaintext round-trips at exactly the minimum length.
        let ct = k.encrypt(1, b"", &mut rng);
        assert_eq!(ct.len(), min);
        assert_eq!(k.decrypt(1, &ct).unwrap(), b"");
    }
}

#[test]
fn confounder_length_is_checked() {
    let mut rng = ChaCha12Rng::seed_from_u64(2);
    for e in EncType::ALL {
        let k = Key::random(e, &mut rng);
        assert!(matches!(
            k.encrypt_with_confounder(1, b"x", &[0; 5]),
            Err(CryptoError::InvalidConfounderLength { .. })
        ));
        assert!(
            k.encrypt_with_confounder(1, b"x", &vec![0; e.confounder_len()])
                .is_ok()
        );
    }
}

#[test]
fn checksum_errors_are_typed() {
    let mut rng = ChaCha12Rng::seed_from_u64(3);
    for e in EncType::ALL {
        let k = Key::random(e, &mut rng);
        let ct = e.checksum_type();
        let good = k.checksum(7, b"data");
        assert_eq!(good.len(), e.checksum_len());
        assert!(k.verify_checksum(7, ct, b"data", &good).is_ok());
        assert_eq!(
            k.verify_checksum(8, ct, b"data", &good),
            Err(CryptoError::ChecksumMismatch)
        );
        assert_eq!(
            k.verify_checksum(7, ct, b"datA", &good),
            Err(CryptoError::ChecksumMismatch)
        );
        assert!(matches!(
            k.verify_checksum(7, ct, b"data", &good[..good.len() - 1]),
            Err(CryptoError::InvalidChecksumLength { .. })
        ));
        assert!(matches!(
            k.verify_checksum(7, ct, b"data", &[]),
            Err(CryptoError::InvalidChecksumLength { .. })
        ));
        assert_eq!(
            k.verify_checksum(7, 7, b"data", &good),
            Err(CryptoError::UnsupportedChecksumType(7))
        );
        let foreign = EncType::ALL
            .iter()
            .find(|o| **o != e)
            .unwrap()
            .checksum_type();
        assert!(matches!(
            k.verify_checksum(7, foreign, b"data", &good),
            Err(CryptoError::InappropriateChecksumType { .. })
        ));
    }
}

#[test]
fn error_codes_follow_rfc4120() {
    assert_eq!(CryptoError::IntegrityCheckFailed.krb_error_code(), 31);
    assert_eq!(CryptoError::ChecksumMismatch.krb_error_code(), 41);
    assert_eq!(CryptoError::UnsupportedEncType(1).krb_error_code(), 14);
    assert_eq!(CryptoError::UnsupportedChecksumType(1).krb_error_code(), 15);
    assert_eq!(
        CryptoError::InappropriateChecksumType {
            etype: 18,
            cksumtype: 15
        }
        .krb_error_code(),
        50
    );
}

#[test]
fn debug_never_prints_key_bytes() {
    let k = Key::new(EncType::Aes128CtsHmacSha196, [0xabu8; 16]).unwrap();
    let s = format!("{k:?}");
    assert!(
        !s.to_lowercase().contains("ab, ") && !s.contains("171") && !s.contains("abab"),
        "{s}"
    );
    assert!(s.contains("redacted"));
}

#[test]
fn s2k_params_errors_are_typed() {
    for e in EncType::ALL {
        let r = Key::from_password_params(e, "pw", b"salt", Some(&[1, 2, 3]));
        assert!(
            matches!(r, Err(CryptoError::InvalidS2kParams { .. })),
            "{e}: {r:?}"
        );
    }
    let r = Key::from_password_params(EncType::Aes256CtsHmacSha196, "pw", b"s", Some(&[0xff; 4]));
    assert!(matches!(r, Err(CryptoError::InvalidS2kParams { .. })));
    let cache = KeyCache::new();
    assert!(
        cache
            .from_password_params(EncType::Aes256CtsHmacSha196, "pw", b"s", Some(&[0; 4]))
            .is_err()
    );
    assert!(cache.is_empty(), "errors are not cached");
}

#[test]
fn key_cache_is_bounded_and_deterministic() {
    let cache = KeyCache::with_capacity(2);
    let e = EncType::Rc4Hmac; // cheap string-to-key
    for pw in ["a", "b", "c"] {
        cache.from_password(e, pw, b"").unwrap();
    }
    assert_eq!(cache.len(), 2);
    assert_eq!(
        cache.from_password(e, "a", b"").unwrap(),
        Key::from_password(e, "a", b"").unwrap()
    );
    cache.clear();
    assert!(cache.is_empty());
}

#[test]
fn encryption_is_deterministic_given_the_rng() {
    for e in EncType::ALL {
        let k = Key::random(e, &mut ChaCha12Rng::seed_from_u64(9));
        let a = k.encrypt(11, b"hello", &mut ChaCha12Rng::seed_from_u64(5));
        let b = k.encrypt(11, b"hello", &mut ChaCha12Rng::seed_from_u64(5));
        let c = k.encrypt(11, b"hello", &mut ChaCha12Rng::seed_from_u64(6));
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_eq!(a.len(), e.ciphertext_len(5));
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn round_trip_every_enctype(
        e in any_etype(),
        seed in any::<u64>(),
        usage in any::<u32>(),
        plaintext in prop::collection::vec(any::<u8>(), 0..2048),
    ) {
        let mut rng = ChaCha12Rng::seed_from_u64(seed);
        let k = Key::random(e, &mut rng);
        let ct = k.encrypt(usage, &plaintext, &mut rng);
        prop_assert_eq!(ct.len(), e.ciphertext_len(plaintext.len()));
        prop_assert_eq!(k.decrypt(usage, &ct).unwrap(), plaintext);
        if !matches!(e, EncType::Rc4Hmac) || rc4_usage(usage) != rc4_usage(usage.wrapping_add(1)) {
            prop_assert_eq!(k.decrypt(usage.wrapping_add(1), &ct), Err(CryptoError::IntegrityCheckFailed));
        }
    }

    #[test]
    fn usage_key_matches_key(
        e in any_etype(),
        seed in any::<u64>(),
        usage in any::<u32>(),
        plaintext in prop::collection::vec(any::<u8>(), 0..300),
    ) {
        let mut rng = ChaCha12Rng::seed_from_u64(seed);
        let k = Key::random(e, &mut rng);
        let uk = k.for_usage(usage);
        prop_assert_eq!(uk.usage(), usage);
        let conf = vec![0x5a; e.confounder_len()];
        let a = k.encrypt_with_confounder(usage, &plaintext, &conf).unwrap();
        prop_assert_eq!(&uk.encrypt_with_confounder(&plaintext, &conf).unwrap(), &a);
        prop_assert_eq!(uk.decrypt(&a).unwrap(), plaintext.clone());
        let b = uk.encrypt(&plaintext, &mut rng);
        prop_assert_eq!(k.decrypt(usage, &b).unwrap(), plaintext.clone());
        let c = uk.checksum(&plaintext);
        prop_assert_eq!(&c, &k.checksum(usage, &plaintext));
        prop_assert!(uk.verify_checksum(e.checksum_type(), &plaintext, &c).is_ok());
        prop_assert!(k.for_usage(usage.wrapping_add(1)).verify_checksum(e.checksum_type(), &plaintext, &c).is_err()
            || (e == EncType::Rc4Hmac && rc4_usage(usage) == rc4_usage(usage.wrapping_add(1))));
    }

    #[test]
    fn arbitrary_ciphertexts_never_panic(
        e in any_etype(),
        key_bytes in prop::collection::vec(any::<u8>(), 0..40),
        usage in any::<u32>(),
        ct in prop::collection::vec(any::<u8>(), 0..200),
    ) {
        match Key::new(e, key_bytes) {
            Ok(k) => {
                let r = k.decrypt(usage, &ct);
                let typed = matches!(
                    r,
                    Err(CryptoError::CiphertextTooShort { .. }) | Err(CryptoError::IntegrityCheckFailed)
                );
                prop_assert!(typed, "unexpected {:?}", r);
                let _ = k.verify_checksum(usage, e.checksum_type(), &ct, &ct);
            }
            Err(err) => {
                let typed = matches!(err, CryptoError::InvalidKeyLength { .. });
                prop_assert!(typed, "unexpected {:?}", err);
            }
        }
    }

    #[test]
    fn modified_ciphertexts_are_rejected(
        e in any_etype(),
        seed in any::<u64>(),
        plaintext in prop::collection::vec(any::<u8>(), 0..100),
        flip_at in any::<prop::sample::Index>(),
        flip_bit in 0u8..8,
        cut in any::<prop::sample::Index>(),
    ) {
        let mut rng = ChaCha12Rng::seed_from_u64(seed);
        let k = Key::random(e, &mut rng);
        let ct = k.encrypt(3, &plaintext, &mut rng);
        let mut bad = ct.clone();
        bad[flip_at.index(ct.len())] ^= 1 << flip_bit;
        prop_assert!(k.decrypt(3, &bad).is_err());
        let truncated = &ct[..cut.index(ct.len())];
        prop_assert!(k.decrypt(3, truncated).is_err());
    }
}

/// RFC 4757 §3 usage translation, so the "wrong usage" check above skips
/// the pairs that RC4 deliberately maps to the same number (8 and 9).
fn rc4_usage(u: u32) -> u32 {
    match u {
        3 | 9 => 8,
        23 => 13,
        u => u,
    }
}
