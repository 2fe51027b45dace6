//! The Kerberos GSS-API authenticator checksum, checksum type 0x8003
//! (RFC 4121 §4.1.1), with the RFC 6542 extensions MIT appends (channel
//! binding hash agility, and type 2 `IAKERB finished` used by IAKERB).
//!
//! ```text
//! 0..3    Lgth    16, little-endian: length of Bnd
//! 4..19   Bnd     MD5 of the channel bindings (RFC 4121 §4.1.1.2) or zeros
//! 20..23  Flags   GSS context flags, little-endian
//! 24..25  DlgOpt  1, little-endian          } only with GSS_C_DELEG_FLAG
//! 26..27  Dlgth   length of Deleg, LE        }
//! 28..    Deleg   KRB-CRED                   }
//! then    Exts    { type: u32 BE, length: u32 BE, data }*   (RFC 6542 §3)
//! ```

use md5::{Digest, Md5};
use thiserror::Error;

/// Authenticator checksum type for the GSS-API Kerberos mechanism.
pub const CKSUMTYPE_GSSAPI: i32 = 0x8003;

/// GSS_C_DELEG_FLAG: a KRB-CRED with a forwarded TGT follows.
pub const GSS_C_DELEG_FLAG: u32 = 1;
/// GSS_C_MUTUAL_FLAG: the initiator wants an AP-REP.
pub const GSS_C_MUTUAL_FLAG: u32 = 2;
/// GSS_C_REPLAY_FLAG.
pub const GSS_C_REPLAY_FLAG: u32 = 4;
/// GSS_C_SEQUENCE_FLAG.
pub const GSS_C_SEQUENCE_FLAG: u32 = 8;
/// GSS_C_CONF_FLAG.
pub const GSS_C_CONF_FLAG: u32 = 16;
/// GSS_C_INTEG_FLAG.
pub const GSS_C_INTEG_FLAG: u32 = 32;
/// GSS_C_DCE_STYLE (Microsoft, RFC 4757 §7.1).
pub const GSS_C_DCE_STYLE: u32 = 0x1000;

/// RFC 6542 §3 extension: channel binding data for hash agility.
pub const EXT_CHANNEL_BINDING: u32 = 0;
/// IAKERB finished message (draft-ietf-kitten-iakerb §3; MIT
/// `KRB5_GSS_EXTS_IAKERB_FINISHED`): the DER `KRB-FINISHED` carrying a
/// checksum over the IAKERB conversation with key usage 41.
pub const EXT_IAKERB_FINISHED: u32 = 2;

/// Fixed part before the optional delegation field.
const FIXED_LEN: usize = 24;

/// A malformed 0x8003 checksum value.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum GssChecksumError {
    /// Shorter than the 24 fixed bytes.
    #[error("GSS checksum of {0} bytes is shorter than 24")]
    TooShort(usize),
    /// Lgth is not 16 (MIT rejects anything else).
    #[error("GSS checksum Bnd length {0} is not 16")]
    BadBindingLength(u32),
    /// DELEG flag set but the delegation option is not 1.
    #[error("GSS checksum delegation option {0} is not 1")]
    BadDelegationOption(u16),
    /// A length field runs past the end.
    #[error("GSS checksum truncated at byte {offset}: {what}")]
    Truncated {
        /// byte offset
        offset: usize,
        /// field
        what: &'static str,
    },
}

/// One RFC 6542 extension.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GssExtension {
    /// Extension type.
    pub ext_type: u32,
    /// Extension data.
    pub data: Vec<u8>,
}

/// The decoded 0x8003 checksum.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct GssChecksum {
    /// MD5 of the channel bindings, or zeros when there are none.
    pub bindings_hash: [u8; 16],
    /// GSS context flags.
    pub flags: u32,
    /// KRB-CRED with delegated credentials (present iff the DELEG flag is
    /// set and the field was sent).
    pub delegation: Option<Vec<u8>>,
    /// RFC 6542 extensions, in order.
    pub extensions: Vec<GssExtension>,
}

impl GssChecksum {
    /// The extension of `ext_type`, if present.
    pub fn extension(&self, ext_type: u32) -> Option<&[u8]> {
        self.extensions
            .iter()
            .find(|e| e.ext_type == ext_type)
            .map(|e| e.data.as_slice())
    }

    /// Encode the checksum value. The delegation field is written when
    /// `delegation` is `Some` (callers set GSS_C_DELEG_FLAG with it).
    /// Lengths above the 16/32-bit fields are truncated to fit.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(FIXED_LEN + 64);
        out.extend_from_slice(&16u32.to_le_bytes());
        out.extend_from_slice(&self.bindings_hash);
        out.extend_from_slice(&self.flags.to_le_bytes());
        if let Some(d) = &self.delegation {
            let n = u16::try_from(d.len()).unwrap_or(u16::MAX);
            out.extend_from_slice(&1u16.to_le_bytes());
            out.extend_from_slice(&n.to_le_bytes());
            out.extend_from_slice(&d[..usize::from(n)]);
        }
        for e in &self.extensions {
            let n = u32::try_from(e.data.len()).unwrap_or(u32::MAX);
            out.extend_from_slice(&e.ext_type.to_be_bytes());
            out.extend_from_slice(&n.to_be_bytes());
            out.extend_from_slice(&e.data[..n as usize]);
        }
        out
    }

    /// Decode a checksum value (the `checksum` octets of an Authenticator
    /// `cksum` with type 0x8003). Never panics.
    pub fn decode(b: &[u8]) -> Result<GssChecksum, GssChecksumError> {
        let Some(fixed) = b.first_chunk::<FIXED_LEN>() else {
            return Err(GssChecksumError::TooShort(b.len()));
        };
        let lgth = u32::from_le_bytes([fixed[0], fixed[1], fixed[2], fixed[3]]);
        if lgth != 16 {
            return Err(GssChecksumError::BadBindingLength(lgth));
        }
        let mut bindings_hash = [0u8; 16];
        bindings_hash.copy_from_slice(&fixed[4..20]);
        let flags = u32::from_le_bytes([fixed[20], fixed[21], fixed[22], fixed[23]]);
        let mut pos = FIXED_LEN;
        let mut delegation = None;
        // RFC 4121 §4.1.1: DlgOpt/Dlgth/Deleg follow only with the DELEG
        // flag. MIT also tolerates the flag without the field.
        if flags & GSS_C_DELEG_FLAG != 0 && b.len() >= pos + 4 {
            let opt = u16::from_le_bytes([b[pos], b[pos + 1]]);
            if opt != 1 {
                return Err(GssChecksumError::BadDelegationOption(opt));
            }
            let n = usize::from(u16::from_le_bytes([b[pos + 2], b[pos + 3]]));
            let start = pos + 4;
            let d = b.get(start..start + n).ok_or(GssChecksumError::Truncated {
                offset: start,
                what: "Deleg",
            })?;
            delegation = Some(d.to_vec());
            pos = start + n;
        }
        let mut extensions = Vec::new();
        while pos < b.len() {
            let hdr = b.get(pos..pos + 8).ok_or(GssChecksumError::Truncated {
                offset: pos,
                what: "extension header",
            })?;
            let ext_type = u32::from_be_bytes([hdr[0], hdr[1], hdr[2], hdr[3]]);
            let n = u32::from_be_bytes([hdr[4], hdr[5], hdr[6], hdr[7]]) as usize;
            let start = pos + 8;
            let data = start
                .checked_add(n)
                .and_then(|end| b.get(start..end))
                .ok_or(GssChecksumError::Truncated {
                    offset: start,
                    what: "extension data",
                })?;
            extensions.push(GssExtension {
                ext_type,
                data: data.to_vec(),
            });
            pos = start + n;
        }
        Ok(GssChecksum {
            bindings_hash,
            flags,
            delegation,
            extensions,
        })
    }
}

/// Channel bindings as GSS-API passes them (RFC 2744 §3.11).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ChannelBindings {
    /// initiator address type
    pub initiator_addrtype: u32,
    /// initiator address
    pub initiator_address: Vec<u8>,
    /// acceptor address type
    pub acceptor_addrtype: u32,
    /// acceptor address
    pub acceptor_address: Vec<u8>,
    /// application data (e.g. `tls-server-end-point:` + certificate hash)
    pub application_data: Vec<u8>,
}

impl ChannelBindings {
    /// Bnd (RFC 4121 §4.1.1.2): MD5 over each address type as a 4-byte
    /// little-endian number and each octet string as a 4-byte little-endian
    /// length followed by its bytes, in struct order.
    pub fn hash(&self) -> [u8; 16] {
        let mut h = Md5::new();
        let field = |h: &mut Md5, v: &[u8]| {
            h.update((v.len() as u32).to_le_bytes());
            h.update(v);
        };
        h.update(self.initiator_addrtype.to_le_bytes());
        field(&mut h, &self.initiator_address);
        h.update(self.acceptor_addrtype.to_le_bytes());
        field(&mut h, &self.acceptor_address);
        field(&mut h, &self.application_data);
        h.finalize().into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_with_delegation_and_extensions() {
        let c = GssChecksum {
            bindings_hash: [3; 16],
            flags: GSS_C_DELEG_FLAG | GSS_C_MUTUAL_FLAG | GSS_C_INTEG_FLAG,
            delegation: Some(b"KRB-CRED".to_vec()),
            extensions: vec![GssExtension {
                ext_type: EXT_IAKERB_FINISHED,
                data: vec![0x30, 0x00],
            }],
        };
        let bytes = c.encode();
        assert_eq!(&bytes[..4], &[16, 0, 0, 0]);
        assert_eq!(&bytes[24..28], &[1, 0, 8, 0]);
        assert_eq!(GssChecksum::decode(&bytes).unwrap(), c);
        assert_eq!(c.extension(EXT_IAKERB_FINISHED), Some(&[0x30, 0x00][..]));
        assert_eq!(c.extension(EXT_CHANNEL_BINDING), None);
    }

    #[test]
    fn minimal_checksum_is_24_bytes() {
        let c = GssChecksum {
            flags: GSS_C_MUTUAL_FLAG,
            ..GssChecksum::default()
        };
        let b = c.encode();
        assert_eq!(b.len(), 24);
        assert_eq!(GssChecksum::decode(&b).unwrap(), c);
    }

    #[test]
    fn malformed_values_are_typed_errors() {
        assert_eq!(
            GssChecksum::decode(&[0; 23]),
            Err(GssChecksumError::TooShort(23))
        );
        let mut b = GssChecksum::default().encode();
        b[0] = 15;
        assert_eq!(
            GssChecksum::decode(&b),
            Err(GssChecksumError::BadBindingLength(15))
        );
        let mut b = GssChecksum {
            flags: GSS_C_DELEG_FLAG,
            delegation: Some(vec![1, 2, 3]),
            ..Default::default()
        }
        .encode();
        b.truncate(b.len() - 1);
        assert!(matches!(
            GssChecksum::decode(&b),
            Err(GssChecksumError::Truncated { what: "Deleg", .. })
        ));
        b[24] = 2;
        assert_eq!(
            GssChecksum::decode(&b),
            Err(GssChecksumError::BadDelegationOption(2))
        );
        let mut b = GssChecksum::default().encode();
        b.extend_from_slice(&[0, 0, 0, 2, 0xff, 0xff, 0xff, 0xff, 1]);
        assert!(matches!(
            GssChecksum::decode(&b),
            Err(GssChecksumError::Truncated { .. })
        ));
        let mut b = GssChecksum::default().encode();
        b.extend_from_slice(&[0, 0, 0]);
        assert!(matches!(
            GssChecksum::decode(&b),
            Err(GssChecksumError::Truncated {
                what: "extension header",
                ..
            })
        ));
    }

    #[test]
    fn channel_binding_hash_of_empty_bindings() {
        // Five zero 32-bit fields: MD5 of 20 zero bytes.
        let h = ChannelBindings::default().hash();
        let want: [u8; 16] = Md5::digest([0u8; 20]).into();
        assert_eq!(h, want);
        let tls = ChannelBindings {
            application_data: b"tls-server-end-point:abc".to_vec(),
            ..Default::default()
        };
        assert_ne!(tls.hash(), h);
    }
}
