//! VERSION (MS-NLMP §2.2.2.10): 8 octets, for debugging only.

use crate::bytes::Cursor;
use crate::error::Result;

/// NTLMSSP_REVISION_W2K3, the only current revision.
pub const NTLMSSP_REVISION_W2K3: u8 = 0x0f;

/// The OS version a peer reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
pub struct Version {
    /// ProductMajorVersion.
    pub major: u8,
    /// ProductMinorVersion.
    pub minor: u8,
    /// ProductBuild.
    pub build: u16,
    /// NTLMRevisionCurrent.
    pub revision: u8,
}

impl Version {
    /// Windows 10/11 as seen on the wire (10.0, revision 15).
    pub fn windows_10(build: u16) -> Self {
        Self {
            major: 10,
            minor: 0,
            build,
            revision: NTLMSSP_REVISION_W2K3,
        }
    }

    /// The 8 octets.
    pub fn encode(&self) -> [u8; 8] {
        let b = self.build.to_le_bytes();
        [self.major, self.minor, b[0], b[1], 0, 0, 0, self.revision]
    }

    pub(crate) fn read(c: &mut Cursor<'_>) -> Result<Self> {
        let major = c.u8("ProductMajorVersion")?;
        let minor = c.u8("ProductMinorVersion")?;
        let build = c.u16_le("ProductBuild")?;
        c.take(3, "Version Reserved")?;
        let revision = c.u8("NTLMRevisionCurrent")?;
        Ok(Self {
            major,
            minor,
            build,
            revision,
        })
    }
}
