//! GSS-API token framing.
//!
//! * RFC 2743 §3.1 InitialContextToken: `60 len 06 oid-len oid inner`, with a
//!   DER definite length over everything after it;
//! * RFC 4121 §4.1 Kerberos tokens: inner = 2-octet TOK_ID + message
//!   (`01 00` AP-REQ, `02 00` AP-REP, `03 00` KRB-ERROR; IAKERB's `05 01`);
//! * RFC 4121 §4.2.6 per-message MIC (`04 04`) and Wrap (`05 04`) tokens,
//!   which are not framed;
//! * RFC 4121 §4.1.1 authenticator checksum (type 0x8003) with RFC 6542
//!   extensions (IAKERB's FINISHED travels in extension type 2).

use crate::der::{Oid, Reader, encode_length};
use crate::error::{ErrorKind, Format, Result, WireError};

/// Mechanism OIDs (protocols.md §4.3), as DER content octets.
pub mod oid {
    use crate::der::Oid;

    /// SPNEGO 1.3.6.1.5.5.2 (RFC 4178).
    pub const SPNEGO: Oid = Oid::from_static(&[0x2b, 0x06, 0x01, 0x05, 0x05, 0x02]);
    /// Kerberos V5 1.2.840.113554.1.2.2 (RFC 4121).
    pub const KRB5: Oid = Oid::from_static(&[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x12, 0x01, 0x02, 0x02]);
    /// Microsoft's legacy ("wrong") Kerberos OID 1.2.840.48018.1.2.2.
    pub const MS_KRB5: Oid =
        Oid::from_static(&[0x2a, 0x86, 0x48, 0x82, 0xf7, 0x12, 0x01, 0x02, 0x02]);
    /// IAKERB 1.3.6.1.5.2.5 (draft-ietf-kitten-iakerb-03 §3).
    pub const IAKERB: Oid = Oid::from_static(&[0x2b, 0x06, 0x01, 0x05, 0x02, 0x05]);
    /// Kerberos user-to-user 1.2.840.113554.1.2.2.3.
    pub const KRB5_U2U: Oid =
        Oid::from_static(&[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x12, 0x01, 0x02, 0x02, 0x03]);
    /// NTLMSSP 1.3.6.1.4.1.311.2.2.10.
    pub const NTLMSSP: Oid =
        Oid::from_static(&[0x2b, 0x06, 0x01, 0x04, 0x01, 0x82, 0x37, 0x02, 0x02, 0x0a]);
    /// NEGOEX 1.3.6.1.4.1.311.2.2.30.
    pub const NEGOEX: Oid =
        Oid::from_static(&[0x2b, 0x06, 0x01, 0x04, 0x01, 0x82, 0x37, 0x02, 0x02, 0x1e]);
    /// Negotiate Late Fallback 1.3.6.1.4.1.311.2.2.40 (Windows 24H2+).
    pub const NEGOTIATE_LATE_FALLBACK: Oid =
        Oid::from_static(&[0x2b, 0x06, 0x01, 0x04, 0x01, 0x82, 0x37, 0x02, 0x02, 0x28]);

    /// A readable name for a known mechanism.
    pub fn name(oid: &Oid) -> Option<&'static str> {
        [
            (SPNEGO, "SPNEGO"),
            (KRB5, "Kerberos V5"),
            (MS_KRB5, "MS Kerberos (legacy OID)"),
            (IAKERB, "IAKERB"),
            (KRB5_U2U, "Kerberos U2U"),
            (NTLMSSP, "NTLMSSP"),
            (NEGOEX, "NEGOEX"),
            (NEGOTIATE_LATE_FALLBACK, "Negotiate Late Fallback"),
        ]
        .into_iter()
        .find(|(o, _)| o == oid)
        .map(|(_, n)| n)
    }
}

/// RFC 4121 §4.1 / §4.2.6 token identifiers.
pub mod tok_id {
    /// KRB_AP_REQ.
    pub const AP_REQ: [u8; 2] = [0x01, 0x00];
    /// KRB_AP_REP.
    pub const AP_REP: [u8; 2] = [0x02, 0x00];
    /// KRB_ERROR.
    pub const KRB_ERROR: [u8; 2] = [0x03, 0x00];
    /// MIC token.
    pub const MIC: [u8; 2] = [0x04, 0x04];
    /// Wrap token.
    pub const WRAP: [u8; 2] = [0x05, 0x04];
    /// IAKERB_PROXY (MIT `IAKERB_TOK_PROXY` 0x0501).
    pub const IAKERB_PROXY: [u8; 2] = [0x05, 0x01];
}

const APPLICATION_0: u8 = 0x60;

/// Frames `inner` as an InitialContextToken for `mech` (RFC 2743 §3.1).
pub fn wrap(mech: &Oid, inner: &[u8]) -> Vec<u8> {
    let oid = mech.to_der();
    let mut out = Vec::with_capacity(oid.len() + inner.len() + 6);
    out.push(APPLICATION_0);
    encode_length(oid.len() + inner.len(), &mut out);
    out.extend_from_slice(&oid);
    out.extend_from_slice(inner);
    out
}

/// An unframed InitialContextToken.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Framed<'a> {
    /// thisMech.
    pub mech: Oid,
    /// innerContextToken.
    pub inner: &'a [u8],
    /// Absolute offset of `inner` in the input.
    pub inner_offset: usize,
}

/// Removes InitialContextToken framing (RFC 2743 §3.1): the `60` tag with a
/// DER length covering exactly the rest of the input, then the mech OID.
pub fn unwrap(bytes: &[u8]) -> Result<Framed<'_>> {
    let mut top = Reader::new(bytes, Format::Gss, "input");
    let app = top.expect(APPLICATION_0, "InitialContextToken ([APPLICATION 0], 0x60)")?;
    top.finish()?;
    let mut r = app.reader("InitialContextToken");
    let mech = r
        .expect(crate::der::tag::OID, "thisMech (OBJECT IDENTIFIER)")?
        .oid()?;
    let inner_offset = r.offset();
    Ok(Framed {
        mech,
        inner: r.take_rest(),
        inner_offset,
    })
}

/// A framed RFC 4121 token with its TOK_ID split off.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KrbToken<'a> {
    /// The framing mechanism (krb5, IAKERB, or MS krb5).
    pub mech: Oid,
    /// TOK_ID.
    pub tok_id: [u8; 2],
    /// Everything after TOK_ID.
    pub body: &'a [u8],
    /// Absolute offset of `body` in the input.
    pub body_offset: usize,
}

/// `wrap(mech, tok_id || body)`.
pub fn encode_krb_token(mech: &Oid, tok_id: [u8; 2], body: &[u8]) -> Vec<u8> {
    let mut inner = Vec::with_capacity(body.len() + 2);
    inner.extend_from_slice(&tok_id);
    inner.extend_from_slice(body);
    wrap(mech, &inner)
}

/// Unframes and splits the TOK_ID (RFC 4121 §4.1).
pub fn decode_krb_token(bytes: &[u8]) -> Result<KrbToken<'_>> {
    let f = unwrap(bytes)?;
    let Some((id, body)) = f.inner.split_first_chunk::<2>() else {
        return Err(WireError::new(
            Format::Gss,
            f.inner_offset,
            ErrorKind::Truncated {
                what: "TOK_ID",
                needed: 2,
                available: f.inner.len(),
            },
        ));
    };
    Ok(KrbToken {
        mech: f.mech,
        tok_id: *id,
        body,
        body_offset: f.inner_offset + 2,
    })
}

/// RFC 4121 §4.2.2 token flags.
pub mod token_flags {
    /// Sent by the context acceptor.
    pub const SENT_BY_ACCEPTOR: u8 = 0x01;
    /// Wrap token payload is encrypted.
    pub const SEALED: u8 = 0x02;
    /// The acceptor subkey protects the token.
    pub const ACCEPTOR_SUBKEY: u8 = 0x04;
}

/// RFC 4121 §4.2.6.1 MIC token: `04 04 | flags | FF x5 | SND_SEQ (8, BE) |
/// SGN_CKSUM`. The checksum covers the message followed by the 16-octet
/// header ([`MicToken::header`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MicToken {
    /// Flags (§4.2.2).
    pub flags: u8,
    /// Sequence number.
    pub snd_seq: u64,
    /// The checksum octets.
    pub checksum: Vec<u8>,
}

impl MicToken {
    /// The 16-octet header, which is also the checksum's trailing input.
    pub fn header(&self) -> [u8; 16] {
        let mut h = [0xffu8; 16];
        h[0..2].copy_from_slice(&tok_id::MIC);
        h[2] = self.flags;
        h[8..16].copy_from_slice(&self.snd_seq.to_be_bytes());
        h
    }

    /// Header + checksum.
    pub fn encode(&self) -> Vec<u8> {
        let mut v = self.header().to_vec();
        v.extend_from_slice(&self.checksum);
        v
    }

    /// Strict decode: TOK_ID 04 04, filler all FF.
    pub fn decode(bytes: &[u8]) -> Result<Self> {
        let (h, checksum) = split_header(bytes, "MIC token header")?;
        check_tok_id(h, tok_id::MIC)?;
        if h[3..8] != [0xff; 5] {
            return Err(bad_constant(
                3,
                "MIC token filler",
                "ff ff ff ff ff",
                &h[3..8],
            ));
        }
        Ok(Self {
            flags: h[2],
            snd_seq: u64::from_be_bytes(seq_bytes(h)),
            checksum: checksum.to_vec(),
        })
    }
}

/// RFC 4121 §4.2.6.2 Wrap token: `05 04 | flags | FF | EC (2) | RRC (2) |
/// SND_SEQ (8) | data`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WrapToken {
    /// Flags (§4.2.2).
    pub flags: u8,
    /// Extra count (filler length when sealed, checksum length otherwise).
    pub ec: u16,
    /// Right rotation count (§4.2.5).
    pub rrc: u16,
    /// Sequence number.
    pub snd_seq: u64,
    /// Everything after the header (ciphertext or plaintext + checksum).
    pub data: Vec<u8>,
}

impl WrapToken {
    /// The 16-octet header.
    pub fn header(&self) -> [u8; 16] {
        let mut h = [0u8; 16];
        h[0..2].copy_from_slice(&tok_id::WRAP);
        h[2] = self.flags;
        h[3] = 0xff;
        h[4..6].copy_from_slice(&self.ec.to_be_bytes());
        h[6..8].copy_from_slice(&self.rrc.to_be_bytes());
        h[8..16].copy_from_slice(&self.snd_seq.to_be_bytes());
        h
    }

    /// Header + data.
    pub fn encode(&self) -> Vec<u8> {
        let mut v = self.header().to_vec();
        v.extend_from_slice(&self.data);
        v
    }

    /// Strict decode: TOK_ID 05 04, filler FF.
    pub fn decode(bytes: &[u8]) -> Result<Self> {
        let (h, data) = split_header(bytes, "Wrap token header")?;
        check_tok_id(h, tok_id::WRAP)?;
        if h[3] != 0xff {
            return Err(bad_constant(3, "Wrap token filler", "ff", &h[3..4]));
        }
        Ok(Self {
            flags: h[2],
            ec: u16::from_be_bytes([h[4], h[5]]),
            rrc: u16::from_be_bytes([h[6], h[7]]),
            snd_seq: u64::from_be_bytes(seq_bytes(h)),
            data: data.to_vec(),
        })
    }
}

fn split_header<'a>(bytes: &'a [u8], what: &'static str) -> Result<(&'a [u8; 16], &'a [u8])> {
    bytes.split_first_chunk::<16>().ok_or_else(|| {
        WireError::new(
            Format::Gss,
            0,
            ErrorKind::Truncated {
                what,
                needed: 16,
                available: bytes.len(),
            },
        )
    })
}

fn seq_bytes(h: &[u8; 16]) -> [u8; 8] {
    let mut s = [0u8; 8];
    s.copy_from_slice(&h[8..16]);
    s
}

fn check_tok_id(h: &[u8; 16], expected: [u8; 2]) -> Result<()> {
    if h[0..2] == expected {
        Ok(())
    } else {
        Err(bad_constant(0, "TOK_ID", &hex::encode(expected), &h[0..2]))
    }
}

fn bad_constant(offset: usize, what: &'static str, expected: &str, found: &[u8]) -> WireError {
    WireError::new(
        Format::Gss,
        offset,
        ErrorKind::BadConstant {
            what,
            expected: expected.to_string(),
            found: hex::encode(found),
        },
    )
}

/// RFC 4121 §4.1.1 GSS checksum flags.
pub mod checksum_flags {
    /// GSS_C_DELEG_FLAG.
    pub const DELEG: u32 = 1;
    /// GSS_C_MUTUAL_FLAG.
    pub const MUTUAL: u32 = 2;
    /// GSS_C_REPLAY_FLAG.
    pub const REPLAY: u32 = 4;
    /// GSS_C_SEQUENCE_FLAG.
    pub const SEQUENCE: u32 = 8;
    /// GSS_C_CONF_FLAG.
    pub const CONF: u32 = 16;
    /// GSS_C_INTEG_FLAG.
    pub const INTEG: u32 = 32;
    /// GSS_C_DCE_STYLE (MS-KILE).
    pub const DCE_STYLE: u32 = 0x1000;
}

/// RFC 6542 GSS extension type carrying IAKERB's KRB-FINISHED (MIT
/// `KRB5_GSS_EXTS_IAKERB_FINISHED`; the older zhu draft used 1).
pub const GSS_EXTS_FINISHED: u32 = 2;

/// The authenticator checksum of a GSS AP-REQ (cksumtype 0x8003,
/// RFC 4121 §4.1.1): `Lgth (4, LE) = 16 | Bnd (16) | Flags (4, LE) |
/// [DlgOpt (2, LE) | Dlgth (2, LE) | Deleg] | extensions`, each extension
/// `type (4, BE) | length (4, BE) | data` (RFC 6542 §5).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct GssChecksum {
    /// Channel binding hash (MD5 of gss_channel_bindings_struct, or zero).
    pub bindings: [u8; 16],
    /// Context flags.
    pub flags: u32,
    /// (DlgOpt, KRB-CRED) when `flags` has DELEG.
    pub delegation: Option<(u16, Vec<u8>)>,
    /// RFC 6542 extensions, in order.
    pub extensions: Vec<(u32, Vec<u8>)>,
}

impl GssChecksum {
    /// Encodes the checksum value.
    pub fn encode(&self) -> Vec<u8> {
        let mut v = Vec::new();
        v.extend_from_slice(&16u32.to_le_bytes());
        v.extend_from_slice(&self.bindings);
        v.extend_from_slice(&self.flags.to_le_bytes());
        if let Some((opt, cred)) = &self.delegation {
            v.extend_from_slice(&opt.to_le_bytes());
            v.extend_from_slice(&(cred.len() as u16).to_le_bytes());
            v.extend_from_slice(cred);
        }
        for (t, data) in &self.extensions {
            v.extend_from_slice(&t.to_be_bytes());
            v.extend_from_slice(&(data.len() as u32).to_be_bytes());
            v.extend_from_slice(data);
        }
        v
    }

    /// Decodes a checksum value as RFC 4121 §4.1.1 lays it out (the
    /// delegation fields are there whenever GSS_C_DELEG_FLAG is); every
    /// length is bounds-checked.
    pub fn decode(bytes: &[u8]) -> Result<Self> {
        Self::decode_with(bytes, false)
    }

    /// Decodes a checksum value as MIT krb5's acceptor reads it
    /// (`kg_accept_krb5`, accept_sec_context.c): GSS_C_DELEG_FLAG with
    /// fewer than four bytes after the fixed part means no delegation
    /// (MIT tolerates the flag without the field), and a DlgOpt other than
    /// 1 (`KRB5_GSS_FOR_CREDS_OPTION`) is refused. What an acceptor that
    /// interoperates with MIT initiators must accept.
    pub fn decode_acceptor(bytes: &[u8]) -> Result<Self> {
        Self::decode_with(bytes, true)
    }

    fn decode_with(bytes: &[u8], as_mit_acceptor: bool) -> Result<Self> {
        let mut c = crate::bytes::Cursor::new(bytes, Format::Gss);
        let lgth = c.u32_le("Lgth")?;
        if lgth != 16 {
            return Err(c.error_at(
                0,
                ErrorKind::BadConstant {
                    what: "Lgth",
                    expected: "16".into(),
                    found: lgth.to_string(),
                },
            ));
        }
        let mut bindings = [0u8; 16];
        bindings.copy_from_slice(c.take(16, "Bnd")?);
        let flags = c.u32_le("Flags")?;
        let tolerated_without_field = as_mit_acceptor && c.rest().len() < 4;
        let delegation = if flags & checksum_flags::DELEG != 0 && !tolerated_without_field {
            let at = c.offset();
            let opt = c.u16_le("DlgOpt")?;
            if as_mit_acceptor && opt != 1 {
                return Err(c.error_at(
                    at,
                    ErrorKind::BadConstant {
                        what: "DlgOpt",
                        expected: "1".into(),
                        found: opt.to_string(),
                    },
                ));
            }
            let len = c.u16_le("Dlgth")?;
            Some((opt, c.take(usize::from(len), "Deleg")?.to_vec()))
        } else {
            None
        };
        let mut extensions = Vec::new();
        while !c.is_empty() {
            let t = c.u32_be("extension type")?;
            let len = c.u32_be("extension length")?;
            let len = usize::try_from(len).unwrap_or(usize::MAX);
            extensions.push((t, c.take(len, "extension data")?.to_vec()));
        }
        Ok(Self {
            bindings,
            flags,
            delegation,
            extensions,
        })
    }

    /// The data of the first extension of type `t`.
    pub fn extension(&self, t: u32) -> Option<&[u8]> {
        self.extensions
            .iter()
            .find(|(ty, _)| *ty == t)
            .map(|(_, d)| d.as_slice())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn oid_constants_match_protocols_md_4_3() {
        let der = |o: &Oid| hex::encode(o.to_der());
        assert_eq!(der(&oid::SPNEGO), "06062b0601050502");
        assert_eq!(der(&oid::KRB5), "06092a864886f712010202");
        assert_eq!(der(&oid::MS_KRB5), "06092a864882f712010202");
        assert_eq!(der(&oid::IAKERB), "06062b0601050205");
        assert_eq!(der(&oid::KRB5_U2U), "060a2a864886f71201020203");
        assert_eq!(der(&oid::NTLMSSP), "060a2b06010401823702020a");
        assert_eq!(der(&oid::NEGOEX), "060a2b06010401823702021e");
        assert_eq!(
            der(&oid::NEGOTIATE_LATE_FALLBACK),
            "060a2b060104018237020228"
        );
        assert_eq!(oid::SPNEGO.to_string(), "1.3.6.1.5.5.2");
        assert_eq!(oid::KRB5.to_string(), "1.2.840.113554.1.2.2");
        assert_eq!(oid::IAKERB.to_string(), "1.3.6.1.5.2.5");
        assert_eq!(oid::NTLMSSP.to_string(), "1.3.6.1.4.1.311.2.2.10");
        for o in [
            &oid::SPNEGO,
            &oid::KRB5,
            &oid::MS_KRB5,
            &oid::IAKERB,
            &oid::KRB5_U2U,
        ] {
            assert_eq!(Oid::from_content(o.as_bytes()).as_ref(), Ok(o));
            assert!(oid::name(o).is_some());
        }
    }

    #[test]
    fn framing_round_trips_and_uses_long_lengths() {
        let t = encode_krb_token(&oid::KRB5, tok_id::AP_REQ, &[0x6e, 0x00]);
        assert_eq!(hex::encode(&t), "600f06092a864886f71201020201006e00");
        let k = decode_krb_token(&t).unwrap();
        assert_eq!(
            (k.mech, k.tok_id, k.body, k.body_offset),
            (oid::KRB5, tok_id::AP_REQ, &[0x6e, 0][..], 15)
        );
        let big = wrap(&oid::IAKERB, &[0u8; 300]);
        assert_eq!(&big[..4], &[0x60, 0x82, 0x01, 0x34]);
        assert_eq!(unwrap(&big).unwrap().inner.len(), 300);
    }

    #[test]
    fn framing_errors_are_typed() {
        let e = unwrap(&[0x61, 0x00]).unwrap_err();
        assert_eq!(
            e.to_string(),
            "gss: at byte 0: expected InitialContextToken ([APPLICATION 0], 0x60), found tag 0x61"
        );
        let e = unwrap(&[0x60, 0x03, 0x04, 0x01, 0x00]).unwrap_err();
        assert_eq!(e.offset, 2);
        let e = unwrap(&[
            0x60, 0x08, 0x06, 0x06, 0x2b, 0x06, 0x01, 0x05, 0x02, 0x05, 0xff,
        ])
        .unwrap_err();
        assert!(matches!(e.kind, ErrorKind::TrailingBytes { .. }));
        let e = unwrap(&[0x60, 0x05, 0x06, 0x06, 0x2b, 0x06, 0x01]).unwrap_err();
        assert!(matches!(e.kind, ErrorKind::LengthOverrun { .. }));
        let e = decode_krb_token(&wrap(&oid::KRB5, &[0x01])).unwrap_err();
        assert!(matches!(
            e.kind,
            ErrorKind::Truncated { what: "TOK_ID", .. }
        ));
        let e = unwrap(&[0x60, 0x80, 0x06, 0x01, 0x2b, 0, 0]).unwrap_err();
        assert_eq!(e.kind, ErrorKind::IndefiniteLength);
    }

    #[test]
    fn mic_and_wrap_tokens() {
        // protocols.md §2.5 step 4: Windows' mechListMIC starts 04 04 05 ff
        let mic = MicToken {
            flags: 0x05,
            snd_seq: 0x0102,
            checksum: vec![0xaa; 12],
        };
        let b = mic.encode();
        assert_eq!(hex::encode(&b[..16]), "040405ffffffffff0000000000000102");
        assert_eq!(MicToken::decode(&b).unwrap(), mic);
        let mut bad = b.clone();
        bad[4] = 0;
        assert!(matches!(
            MicToken::decode(&bad).unwrap_err().kind,
            ErrorKind::BadConstant { .. }
        ));
        assert!(MicToken::decode(&b[..15]).is_err());
        let w = WrapToken {
            flags: 0x06,
            ec: 16,
            rrc: 28,
            snd_seq: 7,
            data: vec![1, 2, 3],
        };
        let b = w.encode();
        assert_eq!(hex::encode(&b[..16]), "050406ff0010001c0000000000000007");
        assert_eq!(WrapToken::decode(&b).unwrap(), w);
        assert!(WrapToken::decode(&mic.encode()).is_err());
    }

    #[test]
    fn gss_checksum_with_delegation_and_finished_extension() {
        let c = GssChecksum {
            bindings: [0; 16],
            flags: checksum_flags::DELEG | checksum_flags::MUTUAL | checksum_flags::INTEG,
            delegation: Some((1, vec![0x76, 0x00])),
            extensions: vec![(GSS_EXTS_FINISHED, vec![0x30, 0x00])],
        };
        let b = c.encode();
        assert_eq!(b.len(), 24 + 4 + 2 + 8 + 2);
        assert_eq!(GssChecksum::decode(&b).unwrap(), c);
        assert_eq!(
            GssChecksum::decode(&b).unwrap().extension(2),
            Some(&[0x30, 0x00][..])
        );
        // plain 24-byte checksum (no delegation, no extensions)
        let plain = GssChecksum {
            flags: checksum_flags::MUTUAL,
            ..Default::default()
        };
        assert_eq!(plain.encode().len(), 24);
        assert_eq!(GssChecksum::decode(&plain.encode()).unwrap(), plain);
        // extension length past the end
        let mut bad = plain.encode();
        bad.extend_from_slice(&[0, 0, 0, 2, 0, 0, 0, 9, 1]);
        let e = GssChecksum::decode(&bad).unwrap_err();
        assert!(
            matches!(
                e.kind,
                ErrorKind::Truncated {
                    what: "extension data",
                    ..
                }
            ),
            "{e}"
        );
        assert_eq!(e.offset, 32);
        let mut bad = plain.encode();
        bad[0] = 17;
        assert!(GssChecksum::decode(&bad).is_err());
    }

    #[test]
    fn acceptor_decoding_follows_mit() {
        let plain = GssChecksum {
            flags: checksum_flags::MUTUAL,
            ..Default::default()
        };
        // DELEG flag without the delegation field: RFC 4121 layout says
        // truncated, MIT's acceptor reads it as no delegation.
        let mut flag_only = plain.encode();
        flag_only[20] |= checksum_flags::DELEG as u8;
        assert!(matches!(
            GssChecksum::decode(&flag_only).unwrap_err().kind,
            ErrorKind::Truncated { .. }
        ));
        let c = GssChecksum::decode_acceptor(&flag_only).unwrap();
        assert_eq!(c.delegation, None);
        assert_eq!(c.flags & checksum_flags::DELEG, checksum_flags::DELEG);
        // Fewer than four bytes after the fixed part: still no delegation,
        // and the leftover is a truncated extension header.
        let mut short = flag_only.clone();
        short.extend_from_slice(&[1, 0]);
        assert!(GssChecksum::decode_acceptor(&short).is_err());
        // DlgOpt 2: kept by the layout decoder, refused by the acceptor's.
        let deleg = GssChecksum {
            flags: checksum_flags::DELEG,
            delegation: Some((2, vec![0x76, 0x00])),
            ..Default::default()
        };
        assert_eq!(GssChecksum::decode(&deleg.encode()).unwrap(), deleg);
        let e = GssChecksum::decode_acceptor(&deleg.encode()).unwrap_err();
        assert!(
            matches!(e.kind, ErrorKind::BadConstant { what: "DlgOpt", .. }),
            "{e}"
        );
        assert_eq!(e.offset, 24);
        // Well-formed checksums read the same either way.
        let good = GssChecksum {
            delegation: Some((1, vec![0x76, 0x00])),
            extensions: vec![(GSS_EXTS_FINISHED, vec![0x30, 0x00])],
            ..deleg
        };
        assert_eq!(GssChecksum::decode_acceptor(&good.encode()).unwrap(), good);
    }
}
