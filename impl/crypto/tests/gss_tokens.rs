//! RFC 4121 per-message tokens: initiator/acceptor round trips for every
//! AES enctype, with and without an acceptor subkey; reflection, tampering,
//! RRC rotation; arbitrary tokens never panic.

use kerbside_crypto::gss::{self, GssError, PerMessage, Role};
use kerbside_crypto::gss_checksum::{FinishedFlavor, verify_iakerb_finished};
use kerbside_crypto::{EncType, Key};
use proptest::prelude::*;
use rand_chacha::ChaCha12Rng;
use rand_chacha::rand_core::SeedableRng;

const AES: [EncType; 4] = [
    EncType::Aes128CtsHmacSha196,
    EncType::Aes256CtsHmacSha196,
    EncType::Aes128CtsHmacSha256128,
    EncType::Aes256CtsHmacSha384192,
];

fn pair(e: EncType, subkey: bool, rng: &mut ChaCha12Rng) -> (PerMessage, PerMessage) {
    let k = Key::random(e, rng);
    let sub = subkey.then(|| Key::random(e, rng));
    (
        PerMessage::new(Role::Initiator, k.clone(), sub.clone(), 100).unwrap(),
        PerMessage::new(Role::Acceptor, k, sub, 500).unwrap(),
    )
}

/// Rotate the token body right by `rrc` and record it, as Windows does.
fn rotate(token: &[u8], rrc: u16) -> Vec<u8> {
    let mut t = token.to_vec();
    let body = &mut t[16..];
    let n = body.len();
    body.rotate_right(usize::from(rrc) % n);
    t[6..8].copy_from_slice(&rrc.to_be_bytes());
    t
}

#[test]
fn mic_and_wrap_round_trip_both_directions() {
    let mut rng = ChaCha12Rng::seed_from_u64(1);
    for e in AES {
        for subkey in [false, true] {
            let (mut ini, mut acc) = pair(e, subkey, &mut rng);
            let mic = ini.get_mic(b"mechList");
            assert_eq!(&mic[..2], &[4, 4]);
            assert_eq!(mic[2], if subkey { 0x04 } else { 0 });
            assert_eq!(mic.len(), 16 + e.checksum_len());
            assert_eq!(acc.verify_mic(b"mechList", &mic), Ok(100));
            assert_eq!(
                acc.verify_mic(b"mechLisT", &mic),
                Err(GssError::BadSignature)
            );
            // Reflection: the initiator must not accept its own token.
            assert_eq!(
                ini.verify_mic(b"mechList", &mic),
                Err(GssError::WrongDirection)
            );

            let reply = acc.get_mic(b"mechList");
            assert_eq!(
                reply[2] & gss::FLAG_SENT_BY_ACCEPTOR,
                gss::FLAG_SENT_BY_ACCEPTOR
            );
            assert_eq!(ini.verify_mic(b"mechList", &reply), Ok(500));

            for conf in [true, false] {
                for msg in [&b""[..], b"x", b"hello gss world, a longer message of 40b"] {
                    let t = ini.wrap(msg, conf, &mut rng);
                    let u = acc.unwrap(&t).unwrap();
                    assert_eq!((u.data.as_slice(), u.confidential), (msg, conf));
                    // Any RRC is undone on receipt.
                    for rrc in [1u16, 16, 28, 1000] {
                        assert_eq!(acc.unwrap(&rotate(&t, rrc)).unwrap().data, msg);
                    }
                    let t = acc.wrap(msg, conf, &mut rng);
                    assert_eq!(ini.unwrap(&t).unwrap().data, msg);
                    assert!(acc.unwrap(&t).is_err(), "reflected wrap token");
                }
            }
            assert_eq!(ini.send_seq(), 100 + 1 + 6);
        }
    }
}

#[test]
fn header_fields_are_as_mit_sends_them() {
    let mut rng = ChaCha12Rng::seed_from_u64(2);
    let key = Key::random(EncType::Aes256CtsHmacSha196, &mut rng);
    let mut ini = PerMessage::new(Role::Initiator, key.clone(), None, 100).unwrap();
    let sealed = ini.wrap(b"abc", true, &mut rng);
    assert_eq!(&sealed[..8], &[0x05, 0x04, 0x02, 0xff, 0, 0, 0, 0]);
    assert_eq!(&sealed[8..16], &100u64.to_be_bytes());
    // 16 header + E(3 + 16 header copy) = 16 + 16 conf + 19 + 12 mac.
    assert_eq!(sealed.len(), 16 + 16 + 19 + 12);
    let integ = ini.wrap(b"abc", false, &mut rng);
    assert_eq!(&integ[..8], &[0x05, 0x04, 0x00, 0xff, 0, 12, 0, 0]);
    assert_eq!(&integ[16..19], b"abc");
    // Integrity-only Wrap tokens are checksummed with the SEAL usage (24
    // for the initiator), over data | header with EC and RRC zeroed, as
    // MIT does (found against gss-client, see mit_gss_sample.rs).
    let mut signed = b"abc".to_vec();
    signed.extend_from_slice(&integ[..16]);
    signed[3 + 4..3 + 8].fill(0);
    assert_eq!(
        key.checksum(gss::KG_USAGE_INITIATOR_SEAL, &signed),
        &integ[19..]
    );
    let mic = ini.get_mic(b"abc");
    assert_eq!(&mic[..8], &[0x04, 0x04, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff]);
}

#[test]
fn malformed_tokens_are_typed_errors() {
    let mut rng = ChaCha12Rng::seed_from_u64(3);
    let (mut ini, acc) = pair(EncType::Aes128CtsHmacSha256128, false, &mut rng);
    assert_eq!(acc.unwrap(&[5, 4, 0]), Err(GssError::TooShort(3)));
    let t = ini.wrap(b"data", true, &mut rng);
    let mut bad = t.clone();
    bad[0] = 4;
    assert!(matches!(acc.unwrap(&bad), Err(GssError::BadTokenId(..))));
    let mut bad = t.clone();
    bad[3] = 0;
    assert_eq!(acc.unwrap(&bad), Err(GssError::BadFiller));
    let mut bad = t.clone();
    bad[2] |= gss::FLAG_ACCEPTOR_SUBKEY;
    assert_eq!(acc.unwrap(&bad), Err(GssError::NoAcceptorSubkey));
    let mut bad = t.clone();
    bad[9] ^= 1; // sequence number no longer matches the encrypted copy
    assert_eq!(acc.unwrap(&bad), Err(GssError::HeaderMismatch));
    let mut bad = t.clone();
    bad[5] = 200; // EC larger than the plaintext
    assert!(matches!(
        acc.unwrap(&bad),
        Err(GssError::BadExtraCount { .. })
    ));
    let mut bad = t.clone();
    let n = bad.len();
    bad[n - 1] ^= 1;
    assert_eq!(acc.unwrap(&bad), Err(GssError::BadSignature));
    let integ = ini.wrap(b"data", false, &mut rng);
    let mut bad = integ.clone();
    bad[5] = 0xff;
    assert!(matches!(
        acc.unwrap(&bad),
        Err(GssError::BadExtraCount { .. })
    ));
    let mic = ini.get_mic(b"m");
    let mut bad = mic.clone();
    bad[6] = 0;
    assert_eq!(acc.verify_mic(b"m", &bad), Err(GssError::BadFiller));
    assert_eq!(
        acc.verify_mic(b"m", &mic[..20]),
        Err(GssError::BadSignature)
    );
    let rc4 = Key::random(EncType::Rc4Hmac, &mut rng);
    assert!(matches!(
        PerMessage::new(Role::Initiator, rc4, None, 0),
        Err(GssError::UnsupportedEncType(23))
    ));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    // The checksum's layout is kerbside-wire's (gss::GssChecksum, with its
    // own round-trip and never-panics properties); here, the finished value.
    #[test]
    fn arbitrary_finished_values_never_verify(
        bytes in prop::collection::vec(any::<u8>(), 0..120),
    ) {
        let key = Key::new(EncType::Aes128CtsHmacSha196, [3u8; 16]).unwrap();
        prop_assert!(verify_iakerb_finished(&key, b"conv", &bytes, FinishedFlavor::Draft03).is_err());
    }

    #[test]
    fn arbitrary_tokens_never_panic(
        seed in any::<u64>(),
        e in prop::sample::select(AES.to_vec()),
        token in prop::collection::vec(any::<u8>(), 0..120),
        prefix in prop::sample::select(vec![[4u8, 4], [5, 4], [0, 0]]),
        flags in any::<u8>(),
    ) {
        let mut rng = ChaCha12Rng::seed_from_u64(seed);
        let (_, acc) = pair(e, true, &mut rng);
        let mut t = token;
        if t.len() >= 3 {
            t[..2].copy_from_slice(&prefix);
            t[2] = flags;
        }
        prop_assert!(acc.unwrap(&t).is_err());
        prop_assert!(acc.verify_mic(b"msg", &t).is_err());
    }

    #[test]
    fn wrap_round_trip_any_message(
        seed in any::<u64>(),
        e in prop::sample::select(AES.to_vec()),
        msg in prop::collection::vec(any::<u8>(), 0..600),
        conf in any::<bool>(),
        rrc in any::<u16>(),
    ) {
        let mut rng = ChaCha12Rng::seed_from_u64(seed);
        let (mut ini, acc) = pair(e, seed % 2 == 0, &mut rng);
        let t = ini.wrap(&msg, conf, &mut rng);
        prop_assert_eq!(&acc.unwrap(&t).unwrap().data, &msg);
        prop_assert_eq!(&acc.unwrap(&rotate(&t, rrc)).unwrap().data, &msg);
    }
}
