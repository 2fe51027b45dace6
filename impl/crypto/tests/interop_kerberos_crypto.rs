//! Differential check against `kerberos_crypto` 0.3.7 (an independent
//! implementation of 17/18 and 23): byte-identical ciphertexts for the same
//! confounder, mutual decryption, identical checksums and 4096-iteration
//! string-to-key. Our 17/18 code is native (see src/aes_sha1.rs for why).

use kerberos_crypto::{AesSizes, aes_hmac_sha1, checksum_hmac_md5, checksum_sha_aes, rc4_hmac_md5};
use kerbside_crypto::{EncType, Key};
use proptest::prelude::*;
use rand_chacha::ChaCha12Rng;
use rand_chacha::rand_core::{RngCore, SeedableRng};

fn sizes(e: EncType) -> AesSizes {
    if e == EncType::Aes256CtsHmacSha196 {
        AesSizes::Aes256
    } else {
        AesSizes::Aes128
    }
}

fn i32u(u: u32) -> i32 {
    i32::from_be_bytes(u.to_be_bytes())
}

#[test]
fn string_to_key_agrees_at_4096_iterations() {
    for e in [EncType::Aes128CtsHmacSha196, EncType::Aes256CtsHmacSha196] {
        for (pw, salt) in [
            ("password", "ATHENA.MIT.EDUraeburn"),
            ("alicepw", "LAB.TESTalice"),
            ("", ""),
            ("\u{1D11E}", "EXAMPLE.COMpianist"),
        ] {
            let ours = Key::from_password(e, pw, salt.as_bytes()).unwrap();
            let theirs = aes_hmac_sha1::generate_key(pw.as_bytes(), salt.as_bytes(), &sizes(e));
            assert_eq!(ours.bytes(), &theirs[..], "{e} {pw:?}");
        }
    }
    for pw in ["", "password", "Pässwörd"] {
        let ours = Key::from_password(EncType::Rc4Hmac, pw, b"").unwrap();
        assert_eq!(
            ours.bytes(),
            &rc4_hmac_md5::generate_key_from_string(pw)[..]
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn aes_sha1_byte_identical(
        aes256 in any::<bool>(),
        seed in any::<u64>(),
        usage in any::<u32>(),
        plaintext in prop::collection::vec(any::<u8>(), 0..600),
    ) {
        let e = if aes256 { EncType::Aes256CtsHmacSha196 } else { EncType::Aes128CtsHmacSha196 };
        let mut rng = ChaCha12Rng::seed_from_u64(seed);
        let key = Key::random(e, &mut rng);
        let mut conf = [0u8; 16];
        rng.fill_bytes(&mut conf);
        let ours = key.encrypt_with_confounder(usage, &plaintext, &conf).unwrap();
        let theirs = aes_hmac_sha1::encrypt(key.bytes(), i32u(usage), &plaintext, &conf, &sizes(e));
        prop_assert_eq!(&ours, &theirs);
        prop_assert_eq!(
            aes_hmac_sha1::decrypt(key.bytes(), i32u(usage), &ours, &sizes(e)).unwrap(),
            plaintext.clone()
        );
        prop_assert_eq!(
            key.checksum(usage, &plaintext),
            checksum_sha_aes(key.bytes(), i32u(usage), &plaintext, &sizes(e))
        );
    }

    /// kerberos_crypto's RC4 does not translate usages (RFC 4757 §3), so
    /// compare on usages the translation leaves alone.
    #[test]
    fn rc4_byte_identical(
        seed in any::<u64>(),
        usage in prop::sample::select(vec![1u32, 2, 7, 11, 12, 14, 1024]),
        plaintext in prop::collection::vec(any::<u8>(), 0..300),
    ) {
        let mut rng = ChaCha12Rng::seed_from_u64(seed);
        let key = Key::random(EncType::Rc4Hmac, &mut rng);
        let mut conf = [0u8; 8];
        rng.fill_bytes(&mut conf);
        let ours = key.encrypt_with_confounder(usage, &plaintext, &conf).unwrap();
        let theirs = rc4_hmac_md5::encrypt(key.bytes(), i32u(usage), &plaintext, &conf);
        prop_assert_eq!(&ours, &theirs);
        prop_assert_eq!(rc4_hmac_md5::decrypt(key.bytes(), i32u(usage), &ours).unwrap(), plaintext.clone());
        prop_assert_eq!(
            key.checksum(usage, &plaintext),
            checksum_hmac_md5(key.bytes(), i32u(usage), &plaintext)
        );
    }
}
