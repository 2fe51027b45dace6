//! Cross-implementation checks for enctypes 17/18 against picky-krb
//! (Devolutions, an independent Rust implementation): our ciphertexts
//! decrypt with picky and picky's with ours, checksums and string-to-key
//! agree. picky-krb has no RFC 8009 or RC4; those are covered by the RFC
//! vectors, MIT t_decrypt.c and real MIT output.

use kerbside_crypto::{EncType, Key};
use picky_krb::crypto::{ChecksumSuite, CipherSuite};
use proptest::prelude::*;
use rand_chacha::ChaCha12Rng;
use rand_chacha::rand_core::SeedableRng;

fn suites(e: EncType) -> (CipherSuite, ChecksumSuite) {
    match e {
        EncType::Aes128CtsHmacSha196 => (
            CipherSuite::Aes128CtsHmacSha196,
            ChecksumSuite::HmacSha196Aes128,
        ),
        _ => (
            CipherSuite::Aes256CtsHmacSha196,
            ChecksumSuite::HmacSha196Aes256,
        ),
    }
}

const AES_SHA1: [EncType; 2] = [EncType::Aes128CtsHmacSha196, EncType::Aes256CtsHmacSha196];

#[test]
fn string_to_key_agrees() {
    for e in AES_SHA1 {
        let (cs, _) = suites(e);
        for (pw, salt) in [
            ("alicepw", "LAB.TESTalice"),
            ("password", "ATHENA.MIT.EDUraeburn"),
        ] {
            let ours = Key::from_password(e, pw, salt.as_bytes()).unwrap();
            let theirs = cs
                .cipher()
                .generate_key_from_password(pw.as_bytes(), salt.as_bytes())
                .unwrap();
            assert_eq!(ours.bytes(), &theirs[..], "{e}");
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn ciphertexts_interoperate_both_ways(
        etype in prop::sample::select(AES_SHA1.to_vec()),
        seed in any::<u64>(),
        usage in 0u32..2048,
        plaintext in prop::collection::vec(any::<u8>(), 0..300),
    ) {
        let mut rng = ChaCha12Rng::seed_from_u64(seed);
        let key = Key::random(etype, &mut rng);
        let (cs, ck) = suites(etype);
        let cipher = cs.cipher();
        let u = usage as i32;

        let ours = key.encrypt(usage, &plaintext, &mut rng);
        prop_assert_eq!(cipher.decrypt(key.bytes(), u, &ours).unwrap(), plaintext.clone());

        let theirs = cipher.encrypt(key.bytes(), u, &plaintext).unwrap();
        prop_assert_eq!(key.decrypt(usage, &theirs).unwrap(), plaintext.clone());

        let sum = ck.hasher().checksum(key.bytes(), u, &plaintext).unwrap();
        prop_assert_eq!(key.checksum(usage, &plaintext), sum.clone());
        prop_assert!(key.verify_checksum(usage, etype.checksum_type(), &plaintext, &sum).is_ok());
    }
}
