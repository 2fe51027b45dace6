//! NEGOTIATE_MESSAGE (MS-NLMP §2.2.1.1): `Signature | MessageType = 1 |
//! NegotiateFlags | DomainNameFields | WorkstationFields | Version | Payload`.
//! Domain and workstation are OEM strings.

use super::fields::{self, Payload};
use super::flags;
use super::text;
use super::version::Version;
use crate::bytes::Cursor;
use crate::error::Result;

/// Fixed part before Version.
const MIN_HEADER: usize = 32;
/// With Version.
const FULL_HEADER: usize = 40;

/// NEGOTIATE_MESSAGE.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize)]
pub struct NegotiateMessage {
    /// NegotiateFlags.
    pub flags: u32,
    /// DomainName (OEM), when NEGOTIATE_OEM_DOMAIN_SUPPLIED.
    pub domain: String,
    /// Workstation (OEM), when NEGOTIATE_OEM_WORKSTATION_SUPPLIED.
    pub workstation: String,
    /// Version, present iff `flags` has NEGOTIATE_VERSION.
    pub version: Option<Version>,
}

impl NegotiateMessage {
    pub(crate) fn decode_body(msg: &[u8], c: &mut Cursor<'_>) -> Result<Self> {
        let flags_v = c.u32_le("NegotiateFlags")?;
        let d = fields::read(c, "DomainNameFields")?;
        let w = fields::read(c, "WorkstationFields")?;
        let end = fields::header_end(msg.len(), &[d, w]);
        let version = if flags_v & flags::NEGOTIATE_VERSION != 0 && end >= FULL_HEADER {
            Some(Version::read(c)?)
        } else {
            None
        };
        Ok(Self {
            flags: flags_v,
            domain: text::from_oem(fields::slice(msg, &d, MIN_HEADER)?),
            workstation: text::from_oem(fields::slice(msg, &w, MIN_HEADER)?),
            version,
        })
    }

    /// Encodes with a 40-byte header (Version zero when absent).
    pub fn encode(&self) -> Vec<u8> {
        let mut p = Payload::new(FULL_HEADER);
        let d = p.add(&text::oem(&self.domain));
        let w = p.add(&text::oem(&self.workstation));
        let mut out = super::header(super::message_type::NEGOTIATE);
        out.extend_from_slice(&self.flags.to_le_bytes());
        out.extend_from_slice(&d);
        out.extend_from_slice(&w);
        out.extend_from_slice(&self.version.unwrap_or_default().encode());
        out.extend_from_slice(&p.into_bytes());
        out
    }
}
