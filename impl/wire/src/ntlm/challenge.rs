//! CHALLENGE_MESSAGE (MS-NLMP §2.2.1.2): `Signature | MessageType = 2 |
//! TargetNameFields | NegotiateFlags | ServerChallenge (8) | Reserved (8) |
//! TargetInfoFields | Version | Payload`.

use super::av_pair::AvPairs;
use super::fields::{self, Payload};
use super::flags;
use super::text;
use super::version::Version;
use crate::bytes::Cursor;
use crate::error::{ErrorKind, Format, Result, WireError};

/// Fixed part before Version (NTLMv2 servers always send TargetInfo).
const MIN_HEADER: usize = 48;
/// With Version.
const FULL_HEADER: usize = 56;

/// CHALLENGE_MESSAGE.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize)]
pub struct ChallengeMessage {
    /// TargetName (Unicode or OEM per NEGOTIATE_UNICODE).
    pub target_name: String,
    /// NegotiateFlags.
    pub flags: u32,
    /// ServerChallenge.
    pub server_challenge: [u8; 8],
    /// TargetInfo AV pairs (`None` when the field is empty).
    pub target_info: Option<AvPairs>,
    /// Version, present iff `flags` has NEGOTIATE_VERSION.
    pub version: Option<Version>,
}

impl ChallengeMessage {
    pub(crate) fn decode_body(msg: &[u8], c: &mut Cursor<'_>) -> Result<Self> {
        let tn = fields::read(c, "TargetNameFields")?;
        let flags_v = c.u32_le("NegotiateFlags")?;
        let server_challenge = c.array::<8>("ServerChallenge")?;
        c.take(8, "Reserved")?;
        let ti = fields::read(c, "TargetInfoFields")?;
        let end = fields::header_end(msg.len(), &[tn, ti]);
        let version = if flags_v & flags::NEGOTIATE_VERSION != 0 && end >= FULL_HEADER {
            Some(Version::read(c)?)
        } else {
            None
        };
        let unicode = flags_v & flags::NEGOTIATE_UNICODE != 0;
        let name_bytes = fields::slice(msg, &tn, MIN_HEADER)?;
        let target_name = text::decode(name_bytes, unicode).map_err(|found| {
            WireError::new(
                Format::Ntlm,
                tn.at,
                ErrorKind::InvalidValue {
                    what: "TargetName",
                    found,
                },
            )
        })?;
        let info_bytes = fields::slice(msg, &ti, MIN_HEADER)?;
        let target_info = if info_bytes.is_empty() {
            None
        } else {
            let base = usize::try_from(ti.offset).unwrap_or(0);
            Some(AvPairs::decode(info_bytes).map_err(|e| e.shifted(base))?)
        };
        Ok(Self {
            target_name,
            flags: flags_v,
            server_challenge,
            target_info,
            version,
        })
    }

    /// Encodes with a 56-byte header.
    pub fn encode(&self) -> Vec<u8> {
        let unicode = self.flags & flags::NEGOTIATE_UNICODE != 0;
        let mut p = Payload::new(FULL_HEADER);
        let tn = p.add(&text::encode(&self.target_name, unicode));
        let ti = p.add(
            &self
                .target_info
                .as_ref()
                .map(AvPairs::encode)
                .unwrap_or_default(),
        );
        let mut out = super::header(super::message_type::CHALLENGE);
        out.extend_from_slice(&tn);
        out.extend_from_slice(&self.flags.to_le_bytes());
        out.extend_from_slice(&self.server_challenge);
        out.extend_from_slice(&[0; 8]);
        out.extend_from_slice(&ti);
        out.extend_from_slice(&self.version.unwrap_or_default().encode());
        out.extend_from_slice(&p.into_bytes());
        out
    }
}
