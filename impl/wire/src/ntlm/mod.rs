//! NTLM messages (MS-NLMP §2.2): NEGOTIATE, CHALLENGE, AUTHENTICATE, their
//! NegotiateFlags, AV pairs, VERSION and the NTLMv2 response structures.
//!
//! Every message starts `"NTLMSSP\0" | MessageType (4, LE)`; variable
//! fields are `Len | MaxLen | Offset` descriptors into a payload, each one
//! bounds-checked here. Encoding lays the payload out in field order.

mod authenticate;
pub mod av_pair;
mod challenge;
mod fields;
pub mod flags;
mod negotiate;
mod ntlmv2;
mod text;
mod version;

pub use authenticate::{AuthenticateMessage, MIC_OFFSET, zero_mic};
pub use av_pair::{AvPair, AvPairs};
pub use challenge::ChallengeMessage;
pub use negotiate::NegotiateMessage;
pub use ntlmv2::{NtlmV2ClientChallenge, NtlmV2Response};
pub use version::{NTLMSSP_REVISION_W2K3, Version};

use crate::bytes::Cursor;
use crate::error::{ErrorKind, Format, Result, WireError};

/// `NTLMSSP\0` (MS-NLMP §2.2.1).
pub const SIGNATURE: &[u8; 8] = b"NTLMSSP\0";

/// MessageType values.
pub mod message_type {
    /// NEGOTIATE_MESSAGE.
    pub const NEGOTIATE: u32 = 1;
    /// CHALLENGE_MESSAGE.
    pub const CHALLENGE: u32 = 2;
    /// AUTHENTICATE_MESSAGE.
    pub const AUTHENTICATE: u32 = 3;
}

/// Any NTLM message.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub enum NtlmMessage {
    /// Type 1.
    Negotiate(NegotiateMessage),
    /// Type 2.
    Challenge(ChallengeMessage),
    /// Type 3.
    Authenticate(AuthenticateMessage),
}

impl NtlmMessage {
    /// 1, 2 or 3.
    pub fn message_type(&self) -> u32 {
        match self {
            NtlmMessage::Negotiate(_) => message_type::NEGOTIATE,
            NtlmMessage::Challenge(_) => message_type::CHALLENGE,
            NtlmMessage::Authenticate(_) => message_type::AUTHENTICATE,
        }
    }

    /// `NEGOTIATE`, `CHALLENGE` or `AUTHENTICATE`.
    pub fn name(&self) -> &'static str {
        match self {
            NtlmMessage::Negotiate(_) => "NEGOTIATE",
            NtlmMessage::Challenge(_) => "CHALLENGE",
            NtlmMessage::Authenticate(_) => "AUTHENTICATE",
        }
    }

    /// The encoding.
    pub fn encode(&self) -> Vec<u8> {
        match self {
            NtlmMessage::Negotiate(m) => m.encode(),
            NtlmMessage::Challenge(m) => m.encode(),
            NtlmMessage::Authenticate(m) => m.encode(),
        }
    }
}

/// Signature + MessageType.
pub(crate) fn header(message_type: u32) -> Vec<u8> {
    let mut v = SIGNATURE.to_vec();
    v.extend_from_slice(&message_type.to_le_bytes());
    v
}

/// Decodes any NTLM message; every field is bounds-checked.
pub fn decode(bytes: &[u8]) -> Result<NtlmMessage> {
    let mut c = Cursor::new(bytes, Format::Ntlm);
    let sig = c.take(8, "Signature")?;
    if sig != SIGNATURE {
        return Err(WireError::new(
            Format::Ntlm,
            0,
            ErrorKind::BadConstant {
                what: "Signature",
                expected: "\"NTLMSSP\\0\"".into(),
                found: format!("\"{}\"", sig.escape_ascii()),
            },
        ));
    }
    match c.u32_le("MessageType")? {
        message_type::NEGOTIATE => {
            NegotiateMessage::decode_body(bytes, &mut c).map(NtlmMessage::Negotiate)
        }
        message_type::CHALLENGE => {
            ChallengeMessage::decode_body(bytes, &mut c).map(NtlmMessage::Challenge)
        }
        message_type::AUTHENTICATE => {
            AuthenticateMessage::decode_body(bytes, &mut c).map(NtlmMessage::Authenticate)
        }
        other => Err(WireError::new(
            Format::Ntlm,
            8,
            ErrorKind::BadConstant {
                what: "MessageType",
                expected: "1, 2 or 3".into(),
                found: other.to_string(),
            },
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::av_pair::av_flags;
    use super::*;

    fn unhex(s: &str) -> Vec<u8> {
        hex::decode(s.replace(' ', "")).unwrap()
    }

    /// MS-NLMP §4.2.4.3 CHALLENGE_MESSAGE of the NTLMv2 example.
    const SPEC_CHALLENGE: &str = "4e544c4d53535000 02000000 0c000c0038000000 33828ae2 0123456789abcdef 0000000000000000 2400240044000000 0600701700000 00f 530065007200760065007200 02000c0044006f006d00610069006e00 01000c005300650072007600650072000000 0000";

    #[test]
    fn spec_challenge_message() {
        let b = unhex(SPEC_CHALLENGE);
        let NtlmMessage::Challenge(c) = decode(&b).unwrap() else {
            panic!()
        };
        assert_eq!(c.target_name, "Server");
        assert_eq!(c.flags, 0xe28a_8233);
        assert_eq!(
            c.server_challenge,
            [0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef]
        );
        assert_eq!(
            c.target_info,
            Some(AvPairs(vec![
                AvPair::NbDomainName("Domain".into()),
                AvPair::NbComputerName("Server".into())
            ]))
        );
        assert_eq!(
            c.version,
            Some(Version {
                major: 6,
                minor: 0,
                build: 6000,
                revision: 15
            })
        );
        assert_eq!(c.encode(), b, "our layout matches the spec's");
        assert!(flags::names(c.flags).contains(&"NEGOTIATE_KEY_EXCH".to_string()));
    }

    #[test]
    fn windows_style_negotiate() {
        let b = unhex(
            "4e544c4d5353500001000000978208e2000000000000000000000000000000000a00614a0000000f",
        );
        let NtlmMessage::Negotiate(n) = decode(&b).unwrap() else {
            panic!()
        };
        assert_eq!(n.flags, 0xe208_8297);
        assert_eq!(n.version, Some(Version::windows_10(19041)));
        assert_eq!((n.domain.as_str(), n.workstation.as_str()), ("", ""));
        // the same message from an old client without the Version field
        let NtlmMessage::Negotiate(n) = decode(&b[..32]).unwrap() else {
            panic!()
        };
        assert_eq!(n.version, None);
    }

    #[test]
    fn negotiate_with_oem_names_round_trips() {
        let n = NegotiateMessage {
            flags: flags::NEGOTIATE_UNICODE
                | flags::NEGOTIATE_OEM_DOMAIN_SUPPLIED
                | flags::NEGOTIATE_OEM_WORKSTATION_SUPPLIED
                | flags::NEGOTIATE_VERSION,
            domain: "LAB".into(),
            workstation: "WS01".into(),
            version: Some(Version::windows_10(26100)),
        };
        let b = n.encode();
        assert_eq!(&b[40..], b"LABWS01");
        assert_eq!(decode(&b).unwrap(), NtlmMessage::Negotiate(n));
    }

    fn sample_authenticate(with_mic: bool) -> AuthenticateMessage {
        let v2 = NtlmV2Response {
            nt_proof_str: [0x11; 16],
            client_challenge: NtlmV2ClientChallenge {
                timestamp: 0x01dc_1234_5678_9abc,
                challenge_from_client: [0xaa; 8],
                av_pairs: AvPairs(vec![
                    AvPair::NbDomainName("LAB".into()),
                    AvPair::Flags(if with_mic { av_flags::MIC_PRESENT } else { 0 }),
                    AvPair::TargetName("cifs/app.lab.test".into()),
                    AvPair::ChannelBindings([0; 16]),
                ]),
                trailing: vec![0; 4],
            },
        };
        AuthenticateMessage {
            flags: flags::NEGOTIATE_UNICODE | flags::NEGOTIATE_KEY_EXCH | flags::NEGOTIATE_VERSION,
            lm_challenge_response: vec![0; 24],
            nt_challenge_response: v2.encode(),
            domain: "LAB".into(),
            user: "alice".into(),
            workstation: "WS01".into(),
            encrypted_random_session_key: vec![0x5a; 16],
            version: Some(Version::windows_10(26100)),
            mic: with_mic.then_some([0x77; 16]),
        }
    }

    #[test]
    fn authenticate_with_mic_round_trips_and_zeroes() {
        let a = sample_authenticate(true);
        let b = a.encode();
        assert_eq!(&b[MIC_OFFSET..MIC_OFFSET + 16], &[0x77; 16]);
        assert_eq!(
            u32::from_le_bytes(b[20 + 4..20 + 8].try_into().unwrap()),
            88 + 24,
            "NT response follows LM"
        );
        let NtlmMessage::Authenticate(back) = decode(&b).unwrap() else {
            panic!()
        };
        assert_eq!(back, a);
        assert_eq!(back.mic_offset(), Some(72));
        let v2 = back.ntlmv2_response().unwrap().unwrap();
        assert_eq!(
            v2.client_challenge.av_pairs.flags(),
            Some(av_flags::MIC_PRESENT)
        );
        assert_eq!(v2.client_challenge.trailing, vec![0; 4]);
        assert_eq!(v2.encode(), a.nt_challenge_response);
        let z = zero_mic(&b).unwrap();
        assert_eq!(&z[72..88], &[0; 16]);
        assert_eq!(&z[..72], &b[..72]);
        assert_eq!(&z[88..], &b[88..]);
    }

    #[test]
    fn authenticate_without_mic_or_version() {
        let mut a = sample_authenticate(false);
        a.mic = None;
        assert_eq!(
            decode(&a.encode()).unwrap(),
            NtlmMessage::Authenticate(a.clone())
        );
        assert!(zero_mic(&a.encode()).is_err());
        a.version = None;
        a.flags &= !flags::NEGOTIATE_VERSION;
        let b = a.encode();
        assert_eq!(u32::from_le_bytes(b[16..20].try_into().unwrap()), 64);
        assert_eq!(decode(&b).unwrap(), NtlmMessage::Authenticate(a));
    }

    #[test]
    fn oem_authenticate_strings() {
        let mut a = sample_authenticate(false);
        a.flags = flags::NEGOTIATE_OEM;
        a.version = None;
        a.mic = None;
        let b = a.encode();
        assert!(b.windows(5).any(|w| w == b"alice"));
        assert_eq!(decode(&b).unwrap(), NtlmMessage::Authenticate(a));
    }

    #[test]
    fn bounds_errors_name_the_field() {
        let mut b = sample_authenticate(true).encode();
        // UserName offset far past the end
        b[36 + 4..36 + 8].copy_from_slice(&10_000u32.to_le_bytes());
        let e = decode(&b).unwrap_err();
        assert!(
            matches!(
                e.kind,
                ErrorKind::FieldOutOfBounds {
                    field: "UserNameFields",
                    ..
                }
            ),
            "{e}"
        );
        assert_eq!(e.offset, 36);
        // offset + len overflowing u32 arithmetic
        let mut b = sample_authenticate(true).encode();
        b[36 + 4..36 + 8].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(decode(&b).is_err());
        // a field pointing into the fixed header
        let mut b = sample_authenticate(true).encode();
        b[28 + 4..28 + 8].copy_from_slice(&8u32.to_le_bytes());
        let e = decode(&b).unwrap_err();
        assert!(
            e.to_string().contains("inside the 64-byte fixed header"),
            "{e}"
        );
        // truncated header
        let b = sample_authenticate(true).encode();
        let e = decode(&b[..50]).unwrap_err();
        assert!(matches!(e.kind, ErrorKind::Truncated { .. }), "{e}");
        // odd-length Unicode user name
        let mut b = sample_authenticate(true).encode();
        b[36..38].copy_from_slice(&9u16.to_le_bytes());
        assert!(decode(&b).is_err());
        // bad signature / type
        let e = decode(b"NTLMSSQ\0\x01\0\0\0").unwrap_err();
        assert!(e.to_string().contains("Signature"), "{e}");
        let e = decode(b"NTLMSSP\0\x04\0\0\0").unwrap_err();
        assert_eq!(e.offset, 8);
        assert!(decode(b"NTLM").is_err());
    }

    #[test]
    fn challenge_target_info_errors_are_absolute() {
        let mut b = unhex(SPEC_CHALLENGE);
        // break the MsvAvNbComputerName length inside TargetInfo (at 0x44 + 16 + 2)
        let at = 0x44 + 16 + 2;
        b[at] = 0x0d;
        let e = decode(&b).unwrap_err();
        assert!(e.offset >= 0x44, "{e}");
        // TargetInfo must end exactly at MsvAvEOL
        let mut c = match decode(&unhex(SPEC_CHALLENGE)).unwrap() {
            NtlmMessage::Challenge(c) => c,
            _ => unreachable!(),
        };
        c.target_info = None;
        assert_eq!(decode(&c.encode()).unwrap(), NtlmMessage::Challenge(c));
    }

    #[test]
    fn ntlmv2_client_challenge_checks_versions() {
        let good = sample_authenticate(true)
            .ntlmv2_response()
            .unwrap()
            .unwrap();
        let mut b = good.encode();
        b[16] = 2;
        let e = NtlmV2Response::decode(&b).unwrap_err();
        assert_eq!(e.offset, 16);
        assert!(NtlmV2Response::decode(&good.encode()[..40]).is_err());
    }
}
