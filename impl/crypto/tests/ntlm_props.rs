//! NTLM crypto on arbitrary input: typed errors, never panics; responses,
//! MICs and sealed messages round-trip for arbitrary keys and data.

use kerbside_crypto::ntlm::{self, NtlmError, SessionSecurity};
use proptest::prelude::*;

const FLAGS: u32 =
    ntlm::NEGOTIATE_EXTENDED_SESSIONSECURITY | ntlm::NEGOTIATE_128 | ntlm::NEGOTIATE_KEY_EXCH;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn response_round_trip_and_garbage(
        key in any::<[u8; 16]>(),
        server in any::<[u8; 8]>(),
        client in any::<[u8; 8]>(),
        time in any::<u64>(),
        target_info in prop::collection::vec(any::<u8>(), 0..200),
        garbage in prop::collection::vec(any::<u8>(), 0..200),
    ) {
        let r = ntlm::compute_response(&key, &server, &client, time, &target_info);
        prop_assert_eq!(r.nt_challenge_response.len(), 16 + 28 + target_info.len() + 4);
        prop_assert_eq!(ntlm::verify_response(&key, &server, &r.nt_challenge_response), Ok(r.session_base_key));
        let mut other = server;
        other[0] ^= 1;
        prop_assert_eq!(
            ntlm::verify_response(&key, &other, &r.nt_challenge_response),
            Err(NtlmError::ProofMismatch)
        );
        // Arbitrary bytes: an error, never a panic.
        prop_assert!(ntlm::verify_response(&key, &server, &garbage).is_err());
    }

    #[test]
    fn mic_any_offset(
        key in any::<[u8; 16]>(),
        auth in prop::collection::vec(any::<u8>(), 0..200),
        offset in any::<usize>(),
    ) {
        match ntlm::mic_over_message(&key, b"n", b"c", &auth, offset) {
            Ok(m) => {
                let mut a = auth.clone();
                a[offset..offset + 16].copy_from_slice(&m);
                prop_assert_eq!(ntlm::verify_mic(&key, b"n", b"c", &a, offset), Ok(()));
            }
            Err(e) => {
                let out_of_range = matches!(e, NtlmError::MicOutOfRange { .. });
                prop_assert!(out_of_range, "unexpected {:?}", e);
            }
        }
    }

    #[test]
    fn sealing_round_trip_and_garbage(
        key in any::<[u8; 16]>(),
        msgs in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..100), 1..5),
        sig in prop::collection::vec(any::<u8>(), 0..20),
        junk in prop::collection::vec(any::<u8>(), 0..50),
    ) {
        let mut c = SessionSecurity::client(&key, FLAGS).unwrap();
        let mut s = SessionSecurity::server(&key, FLAGS).unwrap();
        for m in &msgs {
            let (sealed, sig) = c.seal(m);
            prop_assert_eq!(&s.unseal(&sealed, &sig).unwrap(), m);
        }
        // A fresh receiver rejects garbage signatures without panicking.
        let mut fresh = SessionSecurity::server(&key, FLAGS).unwrap();
        prop_assert!(fresh.verify(&junk, &sig).is_err());
        prop_assert!(fresh.unseal(&junk, &sig).is_err());
    }
}
