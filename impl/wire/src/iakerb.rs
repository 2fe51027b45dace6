//! IAKERB (draft-ietf-kitten-iakerb-03 §3, as MIT implements it, plus
//! Microsoft's `header-flags`).
//!
//! ```asn1
//! IAKERB-HEADER ::= SEQUENCE {
//!     target-realm  [1] UTF8String,
//!     cookie        [2] OCTET STRING OPTIONAL,
//!     header-flags  [3] BIT STRING OPTIONAL,   -- Microsoft
//!     ...
//! }
//! KRB-FINISHED ::= SEQUENCE { gss-mic [1] Checksum, ... }
//! ```
//! An IAKERB_PROXY token is the GSS framing with the IAKERB OID, TOK_ID
//! `05 01`, the DER header, then the raw KDC message with **no** length
//! prefix, or nothing at all for realm discovery (draft §3.1). Every IAKERB
//! token is framed, not only the first (MIT commit 04f9c19c98).

use kerberos_asn1::{Asn1Object, Checksum};

use crate::der::{self, BitString, Reader, Writer, tag};
use crate::error::{ErrorKind, Format, Result, WireError};
use crate::gss::{self, oid, tok_id};
use crate::krb::{self, KrbMessage};

/// The header of an IAKERB_PROXY token.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct IakerbHeader {
    /// `[1]` the realm the KDC message is for; empty for realm discovery;
    /// Windows servers put "." here.
    pub target_realm: String,
    /// `[2]` opaque state, echoed verbatim by the client.
    pub cookie: Option<Vec<u8>>,
    /// `[3]` Microsoft's flags (semantics unpublished; Windows servers send
    /// `03 05 00 01 00 00 00`).
    pub header_flags: Option<BitString>,
    /// Unknown extension fields after `[3]`, kept as raw DER in order.
    pub extensions: Vec<Vec<u8>>,
}

impl IakerbHeader {
    /// A header with only a target realm.
    pub fn new(target_realm: &str) -> Self {
        Self {
            target_realm: target_realm.to_string(),
            ..Self::default()
        }
    }

    /// DER encoding.
    pub fn encode(&self) -> Vec<u8> {
        self.encode_with(false)
    }

    /// DER encoding with target-realm as OCTET STRING when `realm_octets`
    /// (MIT krb5 up to 1.21; see [`TokenForm`]).
    pub fn encode_with(&self, realm_octets: bool) -> Vec<u8> {
        let mut w = Writer::new();
        w.sequence(|w| {
            w.explicit(1, |w| {
                if realm_octets {
                    w.octet_string(self.target_realm.as_bytes());
                } else {
                    w.utf8_string(&self.target_realm);
                }
            });
            if let Some(c) = &self.cookie {
                w.explicit(2, |w| {
                    w.octet_string(c);
                });
            }
            if let Some(f) = &self.header_flags {
                w.explicit(3, |w| {
                    w.bit_string(f);
                });
            }
            for ext in &self.extensions {
                w.raw(ext);
            }
        });
        w.finish()
    }

    /// Decodes one header from the start of `bytes`; returns it and the
    /// number of bytes it took (the KDC message follows).
    pub fn decode_prefix(bytes: &[u8]) -> Result<(Self, usize)> {
        decode_header_at(bytes, 0, false).map(|(h, n, _)| (h, n))
    }
}

/// The form of an IAKERB_PROXY token on the wire. draft-03 (and Windows,
/// and MIT after commit 04f9c19c98) frames every token and encodes
/// target-realm as UTF8String; MIT krb5 up to 1.21 (Debian 12's 1.20.1,
/// observed) frames only the initiator's first token (later ones start
/// with the TOK_ID `05 01`) and encodes target-realm as OCTET STRING.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TokenForm {
    /// RFC 2743 §3.1 framing around TOK_ID, header and message.
    pub framed: bool,
    /// target-realm as OCTET STRING instead of UTF8String.
    pub realm_octets: bool,
}

impl TokenForm {
    /// draft-ietf-kitten-iakerb-03.
    pub const DRAFT_03: TokenForm = TokenForm {
        framed: true,
        realm_octets: false,
    };
    /// MIT krb5 <= 1.21, first initiator token.
    pub const MIT_FIRST: TokenForm = TokenForm {
        framed: true,
        realm_octets: true,
    };
    /// MIT krb5 <= 1.21, every later token (both directions).
    pub const MIT_LATER: TokenForm = TokenForm {
        framed: false,
        realm_octets: true,
    };
}

fn decode_header_at(
    bytes: &[u8],
    base: usize,
    allow_octets: bool,
) -> Result<(IakerbHeader, usize, bool)> {
    let mut top = Reader::with_base(bytes, base, Format::Iakerb, "IAKERB token");
    let seq = top.expect(tag::SEQUENCE, "IAKERB-HEADER (SEQUENCE)")?;
    // Strict DER for the whole header, extensions included.
    der::validate(seq.raw, Format::Iakerb).map_err(|e| e.shifted(seq.offset))?;
    let mut r = seq.reader("IAKERB-HEADER");
    let realm_tlv = r
        .expect(tag::context(1), "[1] target-realm")?
        .explicit_inner("[1] target-realm")?;
    let realm_octets = allow_octets && realm_tlv.tag == tag::OCTET_STRING;
    let target_realm = if realm_octets {
        realm_tlv
            .string(&[tag::OCTET_STRING], "OCTET STRING target-realm")?
            .to_string()
    } else {
        realm_tlv
            .string(&[tag::UTF8_STRING], "UTF8String target-realm")?
            .to_string()
    };
    let cookie = match r.optional(tag::context(2))? {
        Some(t) => Some(t.explicit_inner("[2] cookie")?.octet_string()?.to_vec()),
        None => None,
    };
    let header_flags = match r.optional(tag::context(3))? {
        Some(t) => Some(t.explicit_inner("[3] header-flags")?.bit_string()?),
        None => None,
    };
    // draft-03 `...`: tolerate (and keep) unknown later fields.
    let mut extensions = Vec::new();
    while !r.is_empty() {
        extensions.push(r.read()?.raw.to_vec());
    }
    Ok((
        IakerbHeader {
            target_realm,
            cookie,
            header_flags,
            extensions,
        },
        seq.raw.len(),
        realm_octets,
    ))
}

/// An IAKERB_PROXY token: header plus the raw KDC message (maybe empty).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct IakerbProxy {
    /// The IAKERB-HEADER.
    pub header: IakerbHeader,
    /// AS-REQ/TGS-REQ from the initiator, AS-REP/TGS-REP/KRB-ERROR from the
    /// acceptor, without any length prefix; empty for realm discovery.
    pub message: Vec<u8>,
}

impl IakerbProxy {
    /// A token carrying `message` for `realm`.
    pub fn new(realm: &str, message: Vec<u8>) -> Self {
        Self {
            header: IakerbHeader::new(realm),
            message,
        }
    }

    /// The realm-discovery request: empty target-realm, no message
    /// (draft §3.1; protocols.md §2.5 I1).
    pub fn discovery_request() -> Self {
        Self::default()
    }

    /// True for a discovery request (empty realm and no message).
    pub fn is_realm_discovery(&self) -> bool {
        self.header.target_realm.is_empty() && self.message.is_empty()
    }

    /// The framed token: `60 .. 06 06 2b06 0105 0205 | 05 01 | header | message`.
    pub fn encode(&self) -> Vec<u8> {
        self.encode_as(TokenForm::DRAFT_03)
    }

    /// The token in `form` (unframed: `05 01 | header | message`).
    pub fn encode_as(&self, form: TokenForm) -> Vec<u8> {
        let mut body = self.header.encode_with(form.realm_octets);
        body.extend_from_slice(&self.message);
        if form.framed {
            gss::encode_krb_token(&oid::IAKERB, tok_id::IAKERB_PROXY, &body)
        } else {
            let mut t = Vec::with_capacity(body.len() + 2);
            t.extend_from_slice(&tok_id::IAKERB_PROXY);
            t.extend_from_slice(&body);
            t
        }
    }

    /// Decodes a token in either form of [`TokenForm`] (what an
    /// implementation talking to MIT krb5 <= 1.21 must accept) and says
    /// which it was. Framed tokens must carry the IAKERB OID; an unframed
    /// one starts with TOK_ID `05 01`.
    pub fn decode_any(bytes: &[u8]) -> Result<(Self, TokenForm)> {
        let (body, body_offset, framed) = if bytes.first() == Some(&0x60) {
            let tok = decode_framed(bytes)?;
            (tok.body, tok.body_offset, true)
        } else {
            match bytes.split_first_chunk::<2>() {
                Some((id, body)) if *id == tok_id::IAKERB_PROXY => (body, 2, false),
                _ => {
                    return Err(WireError::new(
                        Format::Iakerb,
                        0,
                        ErrorKind::BadConstant {
                            what: "TOK_ID",
                            expected: "60 (framing) or 05 01 (IAKERB_PROXY)".into(),
                            found: hex::encode(bytes.get(..2).unwrap_or(bytes)),
                        },
                    ));
                }
            }
        };
        let (header, used, realm_octets) = decode_header_at(body, body_offset, true)?;
        let message = body.get(used..).unwrap_or(&[]).to_vec();
        Ok((
            IakerbProxy { header, message },
            TokenForm {
                framed,
                realm_octets,
            },
        ))
    }

    /// Strict decode: IAKERB OID, TOK_ID 05 01, a valid header; the rest
    /// is the message (not decoded here, see [`Self::decode_message`]).
    pub fn decode(bytes: &[u8]) -> Result<Self> {
        Ok(decode_located(bytes)?.0)
    }

    /// The Kerberos message inside, decoded safely (`None` when empty).
    pub fn decode_message(&self) -> Result<Option<KrbMessage>> {
        if self.message.is_empty() {
            Ok(None)
        } else {
            krb::decode(&self.message).map(Some)
        }
    }
}

/// The framed token's body after checking the IAKERB OID and TOK_ID.
fn decode_framed(bytes: &[u8]) -> Result<gss::KrbToken<'_>> {
    let tok = gss::decode_krb_token(bytes).map_err(|e| e.in_format(Format::Iakerb))?;
    if tok.mech != oid::IAKERB {
        return Err(WireError::new(
            Format::Iakerb,
            2,
            ErrorKind::BadConstant {
                what: "mechanism",
                expected: format!("IAKERB ({})", oid::IAKERB),
                found: tok.mech.to_string(),
            },
        ));
    }
    if tok.tok_id != tok_id::IAKERB_PROXY {
        return Err(WireError::new(
            Format::Iakerb,
            tok.body_offset - 2,
            ErrorKind::BadConstant {
                what: "TOK_ID",
                expected: "05 01 (IAKERB_PROXY)".into(),
                found: hex::encode(tok.tok_id),
            },
        ));
    }
    Ok(tok)
}

fn decode_located(bytes: &[u8]) -> Result<(IakerbProxy, usize)> {
    let tok = decode_framed(bytes)?;
    let (header, used, _) = decode_header_at(tok.body, tok.body_offset, false)?;
    let message = tok.body.get(used..).unwrap_or(&[]).to_vec();
    Ok((IakerbProxy { header, message }, tok.body_offset + used))
}

/// Decodes a token and the Kerberos message in it, with absolute offsets.
pub fn decode_with_inner(bytes: &[u8]) -> Result<(IakerbProxy, Option<KrbMessage>)> {
    let (token, msg_offset) = decode_located(bytes)?;
    let inner = token.decode_message().map_err(|e| e.shifted(msg_offset))?;
    Ok((token, inner))
}

/// KRB-FINISHED (MIT "IAKERB-FINISHED"): the checksum over the transcript
/// of IAKERB tokens, key usage 41, sent in GSS extension type 2.
#[derive(Debug, Clone, PartialEq)]
pub struct KrbFinished {
    /// `[1]` gss-mic.
    pub gss_mic: Checksum,
}

impl KrbFinished {
    /// DER encoding.
    pub fn encode(&self) -> Vec<u8> {
        let mut w = Writer::new();
        w.sequence(|w| {
            w.explicit(1, |w| {
                w.raw(&self.gss_mic.build());
            });
        });
        w.finish()
    }

    /// Strict decode; unknown fields after `[1]` are tolerated (`...`).
    pub fn decode(bytes: &[u8]) -> Result<Self> {
        der::validate(bytes, Format::Iakerb)?;
        let mut top = Reader::new(bytes, Format::Iakerb, "input");
        let seq = top.expect(tag::SEQUENCE, "KRB-FINISHED (SEQUENCE)")?;
        let mut r = seq.reader("KRB-FINISHED");
        let mic = r
            .expect(tag::context(1), "[1] gss-mic")?
            .explicit_inner("[1] gss-mic")?;
        let gss_mic = krb::decode_der::<Checksum>(mic.raw).map_err(|e| e.shifted(mic.offset))?;
        r.skip_extensions()?;
        Ok(Self { gss_mic })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unhex(s: &str) -> Vec<u8> {
        hex::decode(s.replace(' ', "")).unwrap()
    }

    #[test]
    fn i1_realm_discovery_request() {
        let t = IakerbProxy::discovery_request();
        assert_eq!(
            hex::encode(t.encode()),
            "601006062b06010502050501300 4a1020c00".replace(' ', "")
        );
        let back = IakerbProxy::decode(&t.encode()).unwrap();
        assert!(back.is_realm_discovery());
        assert_eq!(back.decode_message().unwrap(), None);
    }

    #[test]
    fn i2_mit_reference_encodings() {
        // MIT src/tests/asn.1/reference_encode.out
        let h = IakerbHeader {
            target_realm: "krb5data".into(),
            cookie: Some(b"krb5data".to_vec()),
            ..Default::default()
        };
        let want =
            unhex("30 18 A1 0A 0C 08 6B 72 62 35 64 61 74 61 A2 0A 04 08 6B 72 62 35 64 61 74 61");
        assert_eq!(h.encode(), want);
        assert_eq!(IakerbHeader::decode_prefix(&want).unwrap(), (h, want.len()));
        let f = KrbFinished {
            gss_mic: Checksum {
                cksumtype: 1,
                checksum: b"1234".to_vec(),
            },
        };
        let want = unhex("30 11 A1 0F 30 0D A0 03 02 01 01 A1 06 04 04 31 32 33 34");
        assert_eq!(f.encode(), want);
        assert_eq!(KrbFinished::decode(&want).unwrap(), f);
    }

    #[test]
    fn i3_header_with_cookie() {
        let want = unhex("3014a10c0c0a544553542e5245414c4da20404020102");
        let (h, n) = IakerbHeader::decode_prefix(&want).unwrap();
        assert_eq!(
            (h.target_realm.as_str(), h.cookie.as_deref(), n),
            ("TEST.REALM", Some(&[1u8, 2][..]), 22)
        );
        assert_eq!(h.encode(), want);
    }

    #[test]
    fn windows_server_header_dot_realm_and_flags() {
        // protocols.md §2.5 I5: server tokens start
        // 60 82 LL LL 06 06 2b 06 01 05 02 05 05 01 30 0e a1 03 0c 01 2e a3 07 03 05 00 01 00 00 00
        let h = IakerbHeader {
            target_realm: ".".into(),
            header_flags: Some(BitString::from_bytes(&[0x01, 0, 0, 0])),
            ..Default::default()
        };
        assert_eq!(hex::encode(h.encode()), "300ea1030c012ea30703050001000000");
        let krb_error = crate::krb::KrbErrorBuilder::new(
            25,
            std::time::UNIX_EPOCH,
            "WIN25H2INS",
            crate::krb::principal(2, &["krbtgt", "WIN25H2INS"]),
        )
        .build()
        .build();
        let t = IakerbProxy {
            header: h.clone(),
            message: krb_error.clone(),
        };
        let bytes = t.encode();
        assert_eq!(
            hex::encode(&bytes[2..28]),
            "06062b06010502050501300ea1030c012ea30703050001000000"
        );
        let (back, inner) = decode_with_inner(&bytes).unwrap();
        assert_eq!(back.header, h);
        assert_eq!(inner.unwrap().name(), "KRB-ERROR");
        // the Windows client variant: all-zero flags
        let client = unhex("3017a10c0c0a57494e3235483249 4e53a3070305000000000 0");
        let (h, _) = IakerbHeader::decode_prefix(&client).unwrap();
        assert_eq!(h.target_realm, "WIN25H2INS");
        assert_eq!(h.header_flags, Some(BitString::from_bytes(&[0, 0, 0, 0])));
    }

    #[test]
    fn i4_as_req_rewrapped() {
        // protocols.md §2.5 I4: the AS-REQ of K1 (kdcproxy asreq1) as IAKERB
        let k1 = unhex(
            "3081c4a081b00481ad000000a96a81a63081a3a103020105a20302010aa30e300c300aa10402020095a2020400a48186308183a00703050040000010a1123010a003020101a10930071b0561646d696ea20f1b0d465245454950412e4c4f43414ca3223020a003020102a11930171b066b72627467741b0d465245454950412e4c4f43414ca511180f32303135303531343130343233385aa706020411c863b5a814301202011202011102011002011702011902011aa10f1b0d465245454950412e4c4f43414c",
        );
        let proxy = crate::kkdcp::KdcProxyMessage::decode(&k1).unwrap();
        let as_req = proxy.kerberos_message().unwrap().to_vec();
        let t = IakerbProxy::new("FREEIPA.LOCAL", as_req.clone());
        let b = t.encode();
        // protocols.md gives the outer length as 0xd7, which also counts the
        // 17-byte KKDCP [1] field the text says is excluded; the arithmetic
        // (8 OID + 2 TOK_ID + 19 header + 169 AS-REQ = 198) gives 0xc6.
        assert_eq!(
            hex::encode(&b[..32]),
            "6081c606062b060105020505013011a10f0c0d465245454950412e4c4f43414c"
        );
        assert_eq!(&b[32..], &as_req[..]);
        let (back, inner) = decode_with_inner(&b).unwrap();
        assert_eq!(back, t);
        assert_eq!(inner.unwrap().name(), "AS-REQ");
    }

    #[test]
    fn mit_1_20_tokens_decode_in_either_form() {
        // Captured from MIT 1.20.1 gss-client -iakerb (framed first token,
        // OCTET STRING realm) and gss-server -iakerb (unframed replies).
        let header = unhex("300ca10a040849414b2e54455354");
        let mut unframed = vec![0x05, 0x01];
        unframed.extend_from_slice(&header);
        unframed.extend_from_slice(&[0x6b, 0x00]);
        let (p, form) = IakerbProxy::decode_any(&unframed).unwrap();
        assert_eq!(form, TokenForm::MIT_LATER);
        assert_eq!(p.header.target_realm, "IAK.TEST");
        assert_eq!(p.message, [0x6b, 0x00]);
        assert_eq!(p.encode_as(form), unframed);
        // The strict decoder keeps refusing both.
        assert!(IakerbProxy::decode(&unframed).is_err());
        let framed = p.encode_as(TokenForm::MIT_FIRST);
        assert_eq!(&framed[..12], &unhex("601a06062b06010502050501"));
        assert!(IakerbProxy::decode(&framed).is_err());
        assert_eq!(
            IakerbProxy::decode_any(&framed).unwrap(),
            (p.clone(), TokenForm::MIT_FIRST)
        );
        // draft-03 form.
        let draft = p.encode();
        assert_eq!(
            IakerbProxy::decode_any(&draft).unwrap(),
            (p, TokenForm::DRAFT_03)
        );
        // Anything else is refused with an offset.
        for bad in [&b""[..], &[0x05, 0x02, 0x30, 0x00], &[0x01]] {
            assert!(IakerbProxy::decode_any(bad).is_err());
        }
        let mut wrong_oid = gss::encode_krb_token(&oid::KRB5, tok_id::IAKERB_PROXY, &header);
        assert!(IakerbProxy::decode_any(&wrong_oid).is_err());
        wrong_oid.truncate(5);
        assert!(IakerbProxy::decode_any(&wrong_oid).is_err());
    }

    #[test]
    fn tolerates_unknown_extensions_and_keeps_them() {
        let mut h = IakerbHeader::new("R");
        h.extensions.push(unhex("a4020500"));
        let b = h.encode();
        assert_eq!(IakerbHeader::decode_prefix(&b).unwrap().0, h);
    }

    #[test]
    fn rejects_bad_tokens_with_offsets() {
        // krb5 OID instead of IAKERB
        let t = gss::encode_krb_token(
            &oid::KRB5,
            tok_id::IAKERB_PROXY,
            &IakerbHeader::new("R").encode(),
        );
        let e = IakerbProxy::decode(&t).unwrap_err();
        assert!(
            matches!(
                e.kind,
                ErrorKind::BadConstant {
                    what: "mechanism",
                    ..
                }
            ),
            "{e}"
        );
        // AP-REQ TOK_ID
        let t = gss::encode_krb_token(
            &oid::IAKERB,
            tok_id::AP_REQ,
            &IakerbHeader::new("R").encode(),
        );
        let e = IakerbProxy::decode(&t).unwrap_err();
        assert_eq!(e.offset, 10);
        // target-realm as GeneralString (pre-2013 MIT used OCTET STRING; draft-03 says UTF8String)
        let t = gss::encode_krb_token(&oid::IAKERB, tok_id::IAKERB_PROXY, &unhex("3005a1031b0152"));
        let e = IakerbProxy::decode(&t).unwrap_err();
        assert_eq!(e.offset, 16, "{e}");
        assert_eq!(e.format, Format::Iakerb);
        // missing header
        let t = gss::encode_krb_token(&oid::IAKERB, tok_id::IAKERB_PROXY, &[]);
        assert!(matches!(
            IakerbProxy::decode(&t).unwrap_err().kind,
            ErrorKind::Missing { .. }
        ));
        // header with a bad length inside
        let t = gss::encode_krb_token(&oid::IAKERB, tok_id::IAKERB_PROXY, &unhex("3004a1050c00"));
        assert!(IakerbProxy::decode(&t).is_err());
        // a broken Kerberos message after a good header: offset points into it
        let mut body = IakerbHeader::new("R").encode();
        body.extend_from_slice(&[0x6a, 0x05]);
        let t = gss::encode_krb_token(&oid::IAKERB, tok_id::IAKERB_PROXY, &body);
        let e = decode_with_inner(&t).unwrap_err();
        assert_eq!(e.format, Format::Kerberos);
        assert_eq!(e.offset, t.len() - 1);
    }
}
