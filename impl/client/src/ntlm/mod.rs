//! The NTLMv2 client (MS-NLMP §3.1): NEGOTIATE, then AUTHENTICATE in
//! answer to the server's CHALLENGE, with the MIC over all three messages
//! and the AV pairs Windows adds (MsvAvFlags, MsvAvTargetName,
//! MsvAvChannelBindings).
//!
//! Only NTLMv2 with extended session security is spoken: NTLMv1 and LM
//! responses are what a fallback study wants to see refused, so a
//! CHALLENGE that does not offer extended session security, or lacks the
//! TargetInfo NTLMv2 needs, fails with a typed error.
//!
//! Message encoding is `kerbside_wire::ntlm`'s job, the cryptography
//! `kerbside_crypto::ntlm`'s; this module is the client's state machine
//! and its choices.

mod client;
mod credentials;

pub use client::{NtlmClient, NtlmClientConfig, NtlmClientError};
pub use credentials::{NtlmCredentials, NtlmSecret};

use std::time::{SystemTime, UNIX_EPOCH};

use kerbside_wire::ntlm::flags;

/// 100-ns intervals between 1601-01-01 and 1970-01-01 (the FILETIME epoch
/// offset).
const FILETIME_UNIX_EPOCH: u64 = 116_444_736_000_000_000;

/// `now` as a Windows FILETIME (100 ns since 1601-01-01, UTC), the clock
/// of MsvAvTimestamp and the NTLMv2 client challenge. Times before 1601
/// clamp to 0; times past year 60056 saturate.
pub fn filetime(now: SystemTime) -> u64 {
    match now.duration_since(UNIX_EPOCH) {
        Ok(d) => {
            let ticks = d.as_nanos() / 100;
            u64::try_from(ticks)
                .unwrap_or(u64::MAX)
                .saturating_add(FILETIME_UNIX_EPOCH)
        }
        Err(e) => {
            let ticks = u64::try_from(e.duration().as_nanos() / 100).unwrap_or(u64::MAX);
            FILETIME_UNIX_EPOCH.saturating_sub(ticks)
        }
    }
}

/// The inverse of [`filetime`].
pub fn from_filetime(ft: u64) -> SystemTime {
    if ft >= FILETIME_UNIX_EPOCH {
        UNIX_EPOCH + std::time::Duration::from_nanos((ft - FILETIME_UNIX_EPOCH).saturating_mul(100))
    } else {
        UNIX_EPOCH - std::time::Duration::from_nanos((FILETIME_UNIX_EPOCH - ft).saturating_mul(100))
    }
}

/// The NegotiateFlags this client asks for (MS-NLMP §2.2.2.5): what
/// Windows 10/11 sends (`0xe2088297`) plus sealing, so GSS_Wrap works:
/// Unicode, target, sign and seal, NTLM, always-sign, extended session
/// security, version, 128-bit, key exchange, 56-bit.
pub const CLIENT_FLAGS: u32 = flags::NEGOTIATE_UNICODE
    | flags::NEGOTIATE_OEM
    | flags::REQUEST_TARGET
    | flags::NEGOTIATE_SIGN
    | flags::NEGOTIATE_SEAL
    | flags::NEGOTIATE_NTLM
    | flags::NEGOTIATE_ALWAYS_SIGN
    | flags::NEGOTIATE_EXTENDED_SESSIONSECURITY
    | flags::NEGOTIATE_VERSION
    | flags::NEGOTIATE_128
    | flags::NEGOTIATE_KEY_EXCH
    | flags::NEGOTIATE_56;

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn filetime_of_known_instants() {
        assert_eq!(filetime(UNIX_EPOCH), FILETIME_UNIX_EPOCH);
        // 2000-01-01T00:00:00Z = 946684800 s = FILETIME 0x01bf53eb256d4000
        let t = UNIX_EPOCH + Duration::from_secs(946_684_800);
        assert_eq!(filetime(t), 0x01bf_53eb_256d_4000);
        assert_eq!(from_filetime(filetime(t)), t);
        assert_eq!(
            filetime(UNIX_EPOCH - Duration::from_secs(20_000_000_000)),
            0
        );
    }
}
