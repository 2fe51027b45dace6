//! NTLMv2_RESPONSE and NTLMv2_CLIENT_CHALLENGE (MS-NLMP §2.2.2.8, §2.2.2.7).
//!
//! The client challenge is the `temp` of MS-NLMP §3.3.2:
//! `Responserversion (1) = 1 | HiResponserversion (1) = 1 | Z(6) | Time (8) |
//! ClientChallenge (8) | Z(4) | AV pairs | Z(4)`; NTProofStr =
//! HMAC_MD5(NTOWFv2, ServerChallenge || temp), computed by the crypto layer
//! over [`NtlmV2ClientChallenge::encode`].

use super::av_pair::AvPairs;
use crate::bytes::Cursor;
use crate::error::{ErrorKind, Format, Result, WireError};

/// NTLMv2_CLIENT_CHALLENGE.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize)]
pub struct NtlmV2ClientChallenge {
    /// TimeStamp: FILETIME (100 ns since 1601-01-01).
    pub timestamp: u64,
    /// ChallengeFromClient.
    pub challenge_from_client: [u8; 8],
    /// AvPairs (a copy of the server's TargetInfo plus client additions).
    pub av_pairs: AvPairs,
    /// Bytes after MsvAvEOL: Windows sends Z(4) here (§3.3.2 `temp`).
    pub trailing: Vec<u8>,
}

impl NtlmV2ClientChallenge {
    /// The `temp` octets.
    pub fn encode(&self) -> Vec<u8> {
        let mut v = vec![1, 1, 0, 0, 0, 0, 0, 0];
        v.extend_from_slice(&self.timestamp.to_le_bytes());
        v.extend_from_slice(&self.challenge_from_client);
        v.extend_from_slice(&[0, 0, 0, 0]);
        v.extend_from_slice(&self.av_pairs.encode());
        v.extend_from_slice(&self.trailing);
        v
    }

    /// Strict on the two version octets (MUST be 1), lenient on reserved.
    pub fn decode(bytes: &[u8]) -> Result<Self> {
        let mut c = Cursor::new(bytes, Format::Ntlm);
        let resp = c.u8("RespType")?;
        let hi = c.u8("HiRespType")?;
        if (resp, hi) != (1, 1) {
            return Err(WireError::new(
                Format::Ntlm,
                0,
                ErrorKind::BadConstant {
                    what: "NTLMv2 RespType/HiRespType",
                    expected: "01 01".into(),
                    found: format!("{resp:02x} {hi:02x}"),
                },
            ));
        }
        c.take(6, "Reserved1/Reserved2")?;
        let timestamp = c.u64_le("TimeStamp")?;
        let challenge_from_client = c.array::<8>("ChallengeFromClient")?;
        c.take(4, "Reserved3")?;
        let at = c.offset();
        let (av_pairs, used) = AvPairs::decode_prefix(c.rest()).map_err(|e| e.shifted(at))?;
        let trailing = c.rest().get(used..).unwrap_or(&[]).to_vec();
        Ok(Self {
            timestamp,
            challenge_from_client,
            av_pairs,
            trailing,
        })
    }
}

/// NTLMv2_RESPONSE: NTProofStr followed by the client challenge.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize)]
pub struct NtlmV2Response {
    /// NTProofStr.
    pub nt_proof_str: [u8; 16],
    /// The client challenge structure.
    pub client_challenge: NtlmV2ClientChallenge,
}

impl NtlmV2Response {
    /// NtChallengeResponse octets.
    pub fn encode(&self) -> Vec<u8> {
        let mut v = self.nt_proof_str.to_vec();
        v.extend_from_slice(&self.client_challenge.encode());
        v
    }

    /// Decodes NtChallengeResponse octets.
    pub fn decode(bytes: &[u8]) -> Result<Self> {
        let mut c = Cursor::new(bytes, Format::Ntlm);
        let nt_proof_str = c.array::<16>("NTProofStr")?;
        let client_challenge =
            NtlmV2ClientChallenge::decode(c.rest()).map_err(|e| e.shifted(16))?;
        Ok(Self {
            nt_proof_str,
            client_challenge,
        })
    }
}
