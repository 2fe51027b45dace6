//! AUTHENTICATE_MESSAGE (MS-NLMP §2.2.1.3): `Signature | MessageType = 3 |
//! LmChallengeResponseFields | NtChallengeResponseFields | DomainNameFields |
//! UserNameFields | WorkstationFields | EncryptedRandomSessionKeyFields |
//! NegotiateFlags | Version (8) | MIC (16) | Payload`.
//!
//! MIC (§3.1.5.1.2) = HMAC_MD5(ExportedSessionKey, NEGOTIATE || CHALLENGE ||
//! AUTHENTICATE with the MIC field zeroed), computed over the bytes as
//! received: use [`zero_mic`] on the received message, never a re-encoding.

use super::fields::{self, FieldRef, Payload};
use super::flags;
use super::ntlmv2::NtlmV2Response;
use super::text;
use super::version::Version;
use crate::bytes::Cursor;
use crate::error::{ErrorKind, Format, Result, WireError};

/// Fixed part through NegotiateFlags.
const MIN_HEADER: usize = 64;
/// Offset of the Version field.
const VERSION_OFFSET: usize = 64;
/// Offset of the MIC field (after Version).
pub const MIC_OFFSET: usize = 72;
/// Header length with Version and MIC.
const FULL_HEADER: usize = 88;

/// AUTHENTICATE_MESSAGE.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize)]
pub struct AuthenticateMessage {
    /// NegotiateFlags.
    pub flags: u32,
    /// LmChallengeResponse (LMv2, or Z(24) with NTLMv2).
    pub lm_challenge_response: Vec<u8>,
    /// NtChallengeResponse (an NTLMv2_RESPONSE when longer than 24 bytes).
    pub nt_challenge_response: Vec<u8>,
    /// DomainName.
    pub domain: String,
    /// UserName.
    pub user: String,
    /// Workstation.
    pub workstation: String,
    /// EncryptedRandomSessionKey (with NEGOTIATE_KEY_EXCH).
    pub encrypted_random_session_key: Vec<u8>,
    /// Version, present iff `flags` has NEGOTIATE_VERSION.
    pub version: Option<Version>,
    /// MIC, when the header has room for it (the client then also sets
    /// MsvAvFlags MIC_PRESENT in its AV pairs).
    pub mic: Option<[u8; 16]>,
}

fn strings_error(f: &FieldRef, found: String) -> WireError {
    WireError::new(
        Format::Ntlm,
        f.at,
        ErrorKind::InvalidValue {
            what: f.name,
            found,
        },
    )
}

impl AuthenticateMessage {
    pub(crate) fn decode_body(msg: &[u8], c: &mut Cursor<'_>) -> Result<Self> {
        let lm = fields::read(c, "LmChallengeResponseFields")?;
        let nt = fields::read(c, "NtChallengeResponseFields")?;
        let dom = fields::read(c, "DomainNameFields")?;
        let user = fields::read(c, "UserNameFields")?;
        let ws = fields::read(c, "WorkstationFields")?;
        let key = fields::read(c, "EncryptedRandomSessionKeyFields")?;
        let flags_v = c.u32_le("NegotiateFlags")?;
        let end = fields::header_end(msg.len(), &[lm, nt, dom, user, ws, key]);
        let version_bytes = if end >= MIC_OFFSET {
            Some(Version::read(c)?)
        } else {
            None
        };
        let version = version_bytes.filter(|_| flags_v & flags::NEGOTIATE_VERSION != 0);
        let mic = if end >= FULL_HEADER {
            Some(c.array::<16>("MIC")?)
        } else {
            None
        };
        let unicode = flags_v & flags::NEGOTIATE_UNICODE != 0;
        let string = |f: &FieldRef| -> Result<String> {
            text::decode(fields::slice(msg, f, MIN_HEADER)?, unicode)
                .map_err(|found| strings_error(f, found))
        };
        Ok(Self {
            flags: flags_v,
            lm_challenge_response: fields::slice(msg, &lm, MIN_HEADER)?.to_vec(),
            nt_challenge_response: fields::slice(msg, &nt, MIN_HEADER)?.to_vec(),
            domain: string(&dom)?,
            user: string(&user)?,
            workstation: string(&ws)?,
            encrypted_random_session_key: fields::slice(msg, &key, MIN_HEADER)?.to_vec(),
            version,
            mic,
        })
    }

    /// Encodes; the header is 88 bytes with a MIC, 72 with only a Version,
    /// 64 otherwise. The MIC field is written as given (zero it, compute,
    /// then set it).
    pub fn encode(&self) -> Vec<u8> {
        let header_len = if self.mic.is_some() {
            FULL_HEADER
        } else if self.version.is_some() {
            MIC_OFFSET
        } else {
            MIN_HEADER
        };
        let unicode = self.flags & flags::NEGOTIATE_UNICODE != 0;
        let mut p = Payload::new(header_len);
        let lm = p.add(&self.lm_challenge_response);
        let nt = p.add(&self.nt_challenge_response);
        let dom = p.add(&text::encode(&self.domain, unicode));
        let user = p.add(&text::encode(&self.user, unicode));
        let ws = p.add(&text::encode(&self.workstation, unicode));
        let key = p.add(&self.encrypted_random_session_key);
        let mut out = super::header(super::message_type::AUTHENTICATE);
        for d in [lm, nt, dom, user, ws, key] {
            out.extend_from_slice(&d);
        }
        out.extend_from_slice(&self.flags.to_le_bytes());
        if header_len > VERSION_OFFSET {
            out.extend_from_slice(&self.version.unwrap_or_default().encode());
        }
        if let Some(mic) = &self.mic {
            out.extend_from_slice(mic);
        }
        out.extend_from_slice(&p.into_bytes());
        out
    }

    /// The NTLMv2 response inside NtChallengeResponse (None for NTLMv1's
    /// 24-byte response or an empty anonymous one).
    pub fn ntlmv2_response(&self) -> Result<Option<NtlmV2Response>> {
        if self.nt_challenge_response.len() <= 24 {
            Ok(None)
        } else {
            NtlmV2Response::decode(&self.nt_challenge_response).map(Some)
        }
    }

    /// Where the MIC sits in this message's encoding, if it has one.
    pub fn mic_offset(&self) -> Option<usize> {
        self.mic.map(|_| MIC_OFFSET)
    }
}

/// A copy of a received AUTHENTICATE message with its MIC field zeroed
/// (the MIC input, MS-NLMP §3.1.5.1.2); an error if it has no MIC.
pub fn zero_mic(bytes: &[u8]) -> Result<Vec<u8>> {
    let msg = match super::decode(bytes)? {
        super::NtlmMessage::Authenticate(m) => m,
        other => {
            return Err(WireError::new(
                Format::Ntlm,
                8,
                ErrorKind::BadConstant {
                    what: "MessageType",
                    expected: "3 (AUTHENTICATE)".into(),
                    found: other.message_type().to_string(),
                },
            ));
        }
    };
    if msg.mic.is_none() {
        return Err(WireError::new(
            Format::Ntlm,
            MIC_OFFSET,
            ErrorKind::Missing {
                what: "MIC field",
                container: "AUTHENTICATE header",
            },
        ));
    }
    let mut out = bytes.to_vec();
    if let Some(mic) = out.get_mut(MIC_OFFSET..FULL_HEADER) {
        mic.fill(0);
    }
    Ok(out)
}
