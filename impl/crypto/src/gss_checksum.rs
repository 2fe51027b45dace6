//! The cryptographic side of the Kerberos GSS-API authenticator checksum,
//! checksum type 0x8003 (RFC 4121 §4.1.1): its flag and extension
//! numbers, the channel-binding hash, and the IAKERB finished value
//! carried in one of its RFC 6542 extensions. The checksum's byte layout
//! is a wire format: `kerbside_wire::gss::GssChecksum` encodes and decodes
//! it (`decode_acceptor` as MIT's acceptor reads it).
//!
//! IAKERB finished comes in two flavours, both seen in the wild: MIT krb5
//! up to 1.21 (Debian bookworm's 1.20.1, verified in
//! tests/mit_gss_sample.rs) sends extension type **1** with a checksum of
//! key usage **42** (the original Zhu draft); draft-ietf-kitten-iakerb-03
//! and MIT after commit 04f9c19c98 use extension type **2** and usage
//! **41**. [`FinishedFlavor`] names them; acceptors should take either.
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

use crate::error::CryptoError;
use crate::key::Key;

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
/// IAKERB finished, draft-ietf-kitten-iakerb-03 numbering (usage 41).
pub const EXT_IAKERB_FINISHED: u32 = 2;
/// IAKERB finished as MIT krb5 <= 1.21 sends it (usage 42).
pub const EXT_IAKERB_FINISHED_LEGACY: u32 = 1;

/// Key usage of the IAKERB finished checksum, draft-03 (extension 2).
pub const KEY_USAGE_IAKERB_FINISHED: u32 = 41;
/// Key usage of the legacy IAKERB finished checksum (extension 1).
pub const KEY_USAGE_IAKERB_FINISHED_LEGACY: u32 = 42;

/// Which IAKERB finished numbering a peer uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FinishedFlavor {
    /// draft-ietf-kitten-iakerb-03: extension type 2, key usage 41.
    Draft03,
    /// MIT krb5 <= 1.21 (Zhu draft): extension type 1, key usage 42.
    MitLegacy,
}

impl FinishedFlavor {
    /// The RFC 6542 extension type carrying it.
    pub fn ext_type(self) -> u32 {
        match self {
            FinishedFlavor::Draft03 => EXT_IAKERB_FINISHED,
            FinishedFlavor::MitLegacy => EXT_IAKERB_FINISHED_LEGACY,
        }
    }

    /// The key usage of its checksum.
    pub fn key_usage(self) -> u32 {
        match self {
            FinishedFlavor::Draft03 => KEY_USAGE_IAKERB_FINISHED,
            FinishedFlavor::MitLegacy => KEY_USAGE_IAKERB_FINISHED_LEGACY,
        }
    }
}

/// What an IAKERB finished value failed on.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum GssChecksumError {
    /// The IAKERB finished value is not the DER `KRB-FINISHED` expected.
    #[error("malformed KRB-FINISHED at byte {offset}: expected {expected}")]
    MalformedFinished {
        /// byte offset
        offset: usize,
        /// what was expected there
        expected: &'static str,
    },
    /// The IAKERB finished checksum did not verify.
    #[error(transparent)]
    Crypto(#[from] CryptoError),
}

impl FinishedFlavor {
    /// The IAKERB finished extension of a checksum, either flavour
    /// (draft-03 first); `extension` looks an extension up by type (e.g.
    /// `kerbside_wire::gss::GssChecksum::extension`).
    pub fn find<'a>(
        extension: impl Fn(u32) -> Option<&'a [u8]>,
    ) -> Option<(FinishedFlavor, &'a [u8])> {
        [FinishedFlavor::Draft03, FinishedFlavor::MitLegacy]
            .into_iter()
            .find_map(|f| extension(f.ext_type()).map(|d| (f, d)))
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

/// The IAKERB finished extension value (MIT `iakerb_make_finished`): the
/// DER encoding of
/// `KRB-FINISHED ::= SEQUENCE { gss-mic [1] Checksum }`, where the checksum
/// is `key`'s mandatory checksum type with the flavour's usage over
/// `conversation`, the concatenation of every IAKERB token sent and
/// received, exactly as on the wire (MIT `iakerb_save_token`: the first
/// token with its RFC 2743 framing). `key` is the Authenticator subkey.
pub fn iakerb_finished(key: &Key, conversation: &[u8], flavor: FinishedFlavor) -> Vec<u8> {
    let cksum = key.checksum(flavor.key_usage(), conversation);
    // Checksum ::= SEQUENCE { cksumtype [0] Int32, checksum [1] OCTET STRING }
    let mut checksum = Vec::with_capacity(cksum.len() + 16);
    der_tlv(
        &mut checksum,
        0xa0,
        &der_tlv_vec(0x02, &der_int(key.etype().checksum_type())),
    );
    der_tlv(&mut checksum, 0xa1, &der_tlv_vec(0x04, &cksum));
    let seq = der_tlv_vec(0x30, &checksum);
    der_tlv_vec(0x30, &der_tlv_vec(0xa1, &seq))
}

/// Acceptor check of an IAKERB finished extension value against the
/// conversation it saw. The checksum type must be `key`'s (RFC 4120
/// KRB_AP_ERR_INAPP_CKSUM otherwise).
pub fn verify_iakerb_finished(
    key: &Key,
    conversation: &[u8],
    finished: &[u8],
    flavor: FinishedFlavor,
) -> Result<(), GssChecksumError> {
    let mut r = Der {
        b: finished,
        pos: 0,
    };
    let outer = r.expect(0x30, "SEQUENCE (KRB-FINISHED)")?;
    r.end("end of KRB-FINISHED")?;
    let mut r = Der {
        b: outer.0,
        pos: outer.1,
    };
    let mic = r.expect(0xa1, "[1] gss-mic")?;
    r.end("end of KRB-FINISHED fields")?;
    let mut r = Der {
        b: mic.0,
        pos: mic.1,
    };
    let seq = r.expect(0x30, "SEQUENCE (Checksum)")?;
    r.end("end of gss-mic")?;
    let mut r = Der {
        b: seq.0,
        pos: seq.1,
    };
    let t = r.expect(0xa0, "[0] cksumtype")?;
    let c = r.expect(0xa1, "[1] checksum")?;
    r.end("end of Checksum")?;
    let mut ti = Der { b: t.0, pos: t.1 };
    let int = ti.expect(0x02, "INTEGER")?;
    ti.end("end of cksumtype")?;
    let cksumtype = parse_int32(int.0).ok_or(GssChecksumError::MalformedFinished {
        offset: int.1,
        expected: "an Int32 checksum type",
    })?;
    let mut co = Der { b: c.0, pos: c.1 };
    let octets = co.expect(0x04, "OCTET STRING")?;
    co.end("end of checksum")?;
    key.verify_checksum(flavor.key_usage(), cksumtype, conversation, octets.0)?;
    Ok(())
}

/// Minimal DER INTEGER contents for an i32.
fn der_int(v: i32) -> Vec<u8> {
    let b = v.to_be_bytes();
    let mut i = 0;
    // Drop leading bytes that only repeat the sign bit.
    while i < 3 && ((b[i] == 0 && b[i + 1] & 0x80 == 0) || (b[i] == 0xff && b[i + 1] & 0x80 != 0)) {
        i += 1;
    }
    b[i..].to_vec()
}

fn parse_int32(c: &[u8]) -> Option<i32> {
    if c.is_empty() || c.len() > 4 {
        return None;
    }
    let fill = if c[0] & 0x80 != 0 { 0xff } else { 0 };
    let mut b = [fill; 4];
    b[4 - c.len()..].copy_from_slice(c);
    Some(i32::from_be_bytes(b))
}

fn der_tlv(out: &mut Vec<u8>, tag: u8, content: &[u8]) {
    out.push(tag);
    let n = content.len();
    if n < 0x80 {
        out.push(n as u8);
    } else {
        let bytes = (n as u32).to_be_bytes();
        let skip = bytes.iter().take_while(|b| **b == 0).count();
        out.push(0x80 | (4 - skip) as u8);
        out.extend_from_slice(&bytes[skip..]);
    }
    out.extend_from_slice(content);
}

fn der_tlv_vec(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut v = Vec::with_capacity(content.len() + 6);
    der_tlv(&mut v, tag, content);
    v
}

/// A strict reader for the few fixed DER shapes above; `pos` is the file
/// offset of `b[0]` for error messages.
struct Der<'a> {
    b: &'a [u8],
    pos: usize,
}

impl<'a> Der<'a> {
    /// The next TLV must have `tag`; returns (content, content offset).
    fn expect(
        &mut self,
        tag: u8,
        expected: &'static str,
    ) -> Result<(&'a [u8], usize), GssChecksumError> {
        let bad = |offset| GssChecksumError::MalformedFinished { offset, expected };
        let start = self.pos;
        let (&t, rest) = self.b.split_first().ok_or(bad(start))?;
        if t != tag {
            return Err(bad(start));
        }
        let (&l0, mut rest) = rest.split_first().ok_or(bad(start + 1))?;
        let mut hdr = 2;
        let len = if l0 < 0x80 {
            usize::from(l0)
        } else {
            let n = usize::from(l0 & 0x7f);
            // DER: long form only for lengths >= 128, at most 4 length bytes.
            if n == 0 || n > 4 || rest.len() < n {
                return Err(bad(start + 1));
            }
            let len = rest[..n]
                .iter()
                .fold(0usize, |a, &x| (a << 8) | usize::from(x));
            if len < 0x80 || rest[0] == 0 {
                return Err(bad(start + 1));
            }
            rest = &rest[n..];
            hdr += n;
            len
        };
        if rest.len() < len {
            return Err(bad(start + hdr));
        }
        let content = &rest[..len];
        self.b = &rest[len..];
        self.pos = start + hdr + len;
        Ok((content, start + hdr))
    }

    fn end(&self, expected: &'static str) -> Result<(), GssChecksumError> {
        if self.b.is_empty() {
            Ok(())
        } else {
            Err(GssChecksumError::MalformedFinished {
                offset: self.pos,
                expected,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::EncType;

    #[test]
    fn iakerb_finished_round_trip_and_errors() {
        for (e, ct) in [
            (EncType::Aes256CtsHmacSha196, [0x02, 0x01, 0x10]),
            (EncType::Aes128CtsHmacSha256128, [0x02, 0x01, 0x13]),
        ] {
            let key = Key::new(e, vec![7u8; e.key_len()]).unwrap();
            let conv = b"token1token2token3";
            let fin = iakerb_finished(&key, conv, FinishedFlavor::Draft03);
            // 30 L a1 L 30 L a0 03 02 01 <type> a1 L 04 L <cksum>
            assert_eq!(fin[0], 0x30);
            assert_eq!(fin[2], 0xa1);
            assert_eq!(&fin[6..8], &[0xa0, 0x03]);
            assert_eq!(&fin[8..11], &ct);
            assert_eq!(fin[11], 0xa1);
            verify_iakerb_finished(&key, conv, &fin, FinishedFlavor::Draft03).unwrap();
            assert!(verify_iakerb_finished(&key, conv, &fin, FinishedFlavor::MitLegacy).is_err());
            let legacy = iakerb_finished(&key, conv, FinishedFlavor::MitLegacy);
            assert_ne!(legacy, fin);
            verify_iakerb_finished(&key, conv, &legacy, FinishedFlavor::MitLegacy).unwrap();
            assert_eq!(
                verify_iakerb_finished(&key, b"token1token2tokenX", &fin, FinishedFlavor::Draft03),
                Err(GssChecksumError::Crypto(CryptoError::ChecksumMismatch))
            );
            for cut in 0..fin.len() {
                assert!(
                    verify_iakerb_finished(&key, conv, &fin[..cut], FinishedFlavor::Draft03)
                        .is_err()
                );
            }
            let mut trailing = fin.clone();
            trailing.push(0);
            assert!(matches!(
                verify_iakerb_finished(&key, conv, &trailing, FinishedFlavor::Draft03),
                Err(GssChecksumError::MalformedFinished { .. })
            ));
        }
        // -138 (hmac-md5) encodes in two bytes and parses back.
        assert_eq!(der_int(-138), vec![0xff, 0x76]);
        assert_eq!(parse_int32(&[0xff, 0x76]), Some(-138));
        assert_eq!(der_int(16), vec![0x10]);
        assert_eq!(der_int(128), vec![0x00, 0x80]);
        assert_eq!(parse_int32(&[0, 0, 0, 0, 1]), None);
        let rc4 = Key::new(EncType::Rc4Hmac, vec![1u8; 16]).unwrap();
        let fin = iakerb_finished(&rc4, b"c", FinishedFlavor::Draft03);
        verify_iakerb_finished(&rc4, b"c", &fin, FinishedFlavor::Draft03).unwrap();
    }

    #[test]
    fn finished_extension_found_in_either_flavour() {
        let exts = [(EXT_IAKERB_FINISHED_LEGACY, &b"legacy"[..]), (7, &b"x"[..])];
        let lookup = |t: u32| exts.iter().find(|(ty, _)| *ty == t).map(|(_, d)| *d);
        assert_eq!(
            FinishedFlavor::find(lookup),
            Some((FinishedFlavor::MitLegacy, &b"legacy"[..]))
        );
        let both = [
            (EXT_IAKERB_FINISHED_LEGACY, &b"l"[..]),
            (EXT_IAKERB_FINISHED, &b"d"[..]),
        ];
        let lookup = |t: u32| both.iter().find(|(ty, _)| *ty == t).map(|(_, d)| *d);
        assert_eq!(
            FinishedFlavor::find(lookup),
            Some((FinishedFlavor::Draft03, &b"d"[..]))
        );
        assert_eq!(FinishedFlavor::find(|_| None), None);
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
