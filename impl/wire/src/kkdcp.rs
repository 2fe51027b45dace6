//! MS-KKDCP §2.2.2 KDC-PROXY-MESSAGE, the body of a KKDCP HTTP POST.
//!
//! ```asn1
//! KDC-PROXY-MESSAGE ::= SEQUENCE {
//!     kerb-message   [0] OCTET STRING,
//!     target-domain  [1] KERB-REALM OPTIONAL,
//!     dclocator-hint [2] INTEGER OPTIONAL
//! }
//! ```
//! `kerb-message` carries the Kerberos message *including* the RFC 4120
//! §7.2.2 four-octet length. `target-domain` is required in requests and
//! unused in replies (§3.2.5.2). Decoding is strict DER with no trailing
//! bytes; `[1]` is accepted as GeneralString (MIT, kdcproxy), IA5String or
//! UTF8String and always encoded as GeneralString.

use crate::der::{Reader, Writer, tag};
use crate::error::{ErrorKind, Format, Result, WireError};
use crate::krb::{self, KrbMessage};

/// The decoded message.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize)]
pub struct KdcProxyMessage {
    /// `[0]`: length prefix + Kerberos message, exactly as carried.
    pub kerb_message: Vec<u8>,
    /// `[1]`: the realm (not case-sensitive, MS-KKDCP §2.2.2).
    pub target_domain: Option<String>,
    /// `[2]`: DC locator flags (MS-NRPC §3.5.4.3.1).
    pub dclocator_hint: Option<i64>,
}

/// How the Kerberos message sat inside `kerb-message`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum Framing {
    /// With the four-octet length, as MS-KKDCP requires.
    Prefixed,
    /// Without it (Apple's Kerberos SSO extension, kdcproxy#61).
    Bare,
}

const REALM_TAGS: [u8; 3] = [tag::GENERAL_STRING, tag::IA5_STRING, tag::UTF8_STRING];

impl KdcProxyMessage {
    /// A client request: `msg` gets its length prefix, `realm` goes in
    /// target-domain (MIT `make_proxy_request()` omits dclocator-hint).
    pub fn request(msg: &[u8], realm: &str) -> Result<Self> {
        Ok(Self {
            kerb_message: crate::record::encode(msg)?,
            target_domain: Some(realm.to_string()),
            dclocator_hint: None,
        })
    }

    /// A proxy reply: only kerb-message (MS-KKDCP §3.2.5.2).
    pub fn response(msg: &[u8]) -> Result<Self> {
        Ok(Self {
            kerb_message: crate::record::encode(msg)?,
            target_domain: None,
            dclocator_hint: None,
        })
    }

    /// Strict decode of a KDC-PROXY-MESSAGE body.
    pub fn decode(bytes: &[u8]) -> Result<Self> {
        Ok(decode_located(bytes)?.0)
    }

    /// DER encoding.
    pub fn encode(&self) -> Vec<u8> {
        let mut w = Writer::new();
        w.sequence(|w| {
            w.explicit(0, |w| {
                w.octet_string(&self.kerb_message);
            });
            if let Some(realm) = &self.target_domain {
                w.explicit(1, |w| {
                    w.general_string(realm);
                });
            }
            if let Some(hint) = self.dclocator_hint {
                w.explicit(2, |w| {
                    w.integer(hint);
                });
            }
        });
        w.finish()
    }

    /// The Kerberos message inside `kerb-message`, prefix checked and
    /// removed. Offsets in errors are relative to `kerb-message`.
    pub fn kerberos_message(&self) -> Result<&[u8]> {
        strip_length_prefix(&self.kerb_message)
    }

    /// Like [`Self::kerberos_message`], but also accepts a bare message
    /// (no prefix) when its first octet is a Kerberos APPLICATION tag, for
    /// relays that choose to tolerate Apple's client.
    pub fn kerberos_message_lenient(&self) -> Result<(&[u8], Framing)> {
        match strip_length_prefix(&self.kerb_message) {
            Ok(m) => Ok((m, Framing::Prefixed)),
            Err(WireError {
                kind: ErrorKind::MissingLengthPrefix { .. },
                ..
            }) => Ok((&self.kerb_message, Framing::Bare)),
            Err(e) => Err(e),
        }
    }
}

/// Checks and removes the four-octet length prefix (MS-KKDCP §2.2.2,
/// RFC 4120 §7.2.2) from a `kerb-message` value.
pub fn strip_length_prefix(kerb_message: &[u8]) -> Result<&[u8]> {
    let err = |offset, kind| WireError::new(Format::Kkdcp, offset, kind);
    // A bare Kerberos message: the first octet is an APPLICATION tag, which
    // no valid prefix (< 2^31, so first octet < 0x80) could start with.
    if let Some(&first) = kerb_message.first()
        && krb::is_message_tag(first)
    {
        return Err(err(0, ErrorKind::MissingLengthPrefix { tag: first }));
    }
    let Some((mark, body)) = kerb_message.split_first_chunk::<4>() else {
        return Err(err(
            0,
            ErrorKind::Truncated {
                what: "the 4-byte length prefix",
                needed: 4,
                available: kerb_message.len(),
            },
        ));
    };
    let declared = u32::from_be_bytes(*mark);
    let declared = usize::try_from(declared).unwrap_or(usize::MAX);
    if declared != body.len() {
        return Err(err(
            0,
            ErrorKind::LengthMismatch {
                what: "kerb-message (per its length prefix)",
                declared,
                actual: body.len(),
            },
        ));
    }
    Ok(body)
}

/// Decodes and also returns the absolute offset of kerb-message's content.
fn decode_located(bytes: &[u8]) -> Result<(KdcProxyMessage, usize)> {
    let mut top = Reader::new(bytes, Format::Kkdcp, "input");
    let seq = top.expect(tag::SEQUENCE, "KDC-PROXY-MESSAGE (SEQUENCE)")?;
    top.finish()?;
    let mut r = seq.reader("KDC-PROXY-MESSAGE");

    let km = r
        .expect(tag::context(0), "[0] kerb-message")?
        .explicit_inner("[0] kerb-message")?;
    let kerb_message = km.octet_string()?.to_vec();
    let km_offset = km.value_offset();

    let target_domain = match r.optional(tag::context(1))? {
        Some(t) => {
            let s = t.explicit_inner("[1] target-domain")?;
            Some(
                s.string(
                    &REALM_TAGS,
                    "KERB-REALM (GeneralString, IA5String or UTF8String)",
                )?
                .to_string(),
            )
        }
        None => None,
    };
    let dclocator_hint = match r.optional(tag::context(2))? {
        Some(t) => Some(t.explicit_inner("[2] dclocator-hint")?.integer()?),
        None => None,
    };
    if let Some(t) = r.peek_tag() {
        return Err(r.error(ErrorKind::UnexpectedTag {
            expected: "end of KDC-PROXY-MESSAGE (no fields after [2])",
            found: t,
        }));
    }
    Ok((
        KdcProxyMessage {
            kerb_message,
            target_domain,
            dclocator_hint,
        },
        km_offset,
    ))
}

/// Decodes a KDC-PROXY-MESSAGE down to the Kerberos message inside, with
/// error offsets relative to `bytes` (what `kerbside decode` and the relay
/// report).
pub fn decode_with_inner(bytes: &[u8]) -> Result<(KdcProxyMessage, KrbMessage)> {
    let (msg, km_offset) = decode_located(bytes)?;
    let inner = msg.kerberos_message().map_err(|e| e.shifted(km_offset))?;
    let krb = krb::decode(inner).map_err(|e| e.shifted(km_offset + 4))?;
    Ok((msg, krb))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// protocols.md §1.2 K1: kdcproxy's `asreq1` (MIT AS-REQ, FREEIPA.LOCAL).
    const K1: &str = "3081c4a081b00481ad000000a96a81a63081a3a103020105a20302010aa30e300c300aa10402020095a2020400a48186308183a00703050040000010a1123010a003020101a10930071b0561646d696ea20f1b0d465245454950412e4c4f43414ca3223020a003020102a11930171b066b72627467741b0d465245454950412e4c4f43414ca511180f32303135303531343130343233385aa706020411c863b5a814301202011202011102011002011702011902011aa10f1b0d465245454950412e4c4f43414c";

    fn unhex(s: &str) -> Vec<u8> {
        hex::decode(s).unwrap()
    }

    #[test]
    fn k1_decodes_to_its_as_req_and_round_trips() {
        let b = unhex(K1);
        let (m, inner) = decode_with_inner(&b).unwrap();
        assert_eq!(m.target_domain.as_deref(), Some("FREEIPA.LOCAL"));
        assert_eq!(m.dclocator_hint, None);
        assert_eq!(m.kerb_message.len(), 173);
        assert_eq!(inner.name(), "AS-REQ");
        assert_eq!(m.kerberos_message().unwrap().len(), 169);
        assert_eq!(m.encode(), b);
    }

    #[test]
    fn k2_response_framing() {
        // protocols.md §1.2 K2: SEQ{[0] OCTET STRING "RESPONSE"}
        let m = KdcProxyMessage::decode(&unhex("300ca00a0408524553504f4e5345")).unwrap();
        assert_eq!(m.kerb_message, b"RESPONSE");
        assert_eq!((m.target_domain, m.dclocator_hint), (None, None));
    }

    #[test]
    fn request_and_response_builders_add_the_prefix() {
        let req = KdcProxyMessage::request(&[0x6a, 0x00], "LAB.TEST").unwrap();
        assert_eq!(req.kerb_message, [0, 0, 0, 2, 0x6a, 0]);
        assert_eq!(
            hex::encode(req.encode()),
            "3016a0080406000000026a00a10a1b084c41422e54455354"
        );
        let back = KdcProxyMessage::decode(&req.encode()).unwrap();
        assert_eq!(back, req);
        assert_eq!(back.kerberos_message().unwrap(), [0x6a, 0x00]);
        let rep = KdcProxyMessage::response(&[0x7e, 0x00]).unwrap();
        assert_eq!(hex::encode(rep.encode()), "300aa0080406000000027e00");
    }

    #[test]
    fn dclocator_hint_round_trips() {
        for hint in [0i64, 1, 0x4000_0000, 0x8000_0000, -1] {
            let m = KdcProxyMessage {
                kerb_message: vec![0, 0, 0, 0],
                target_domain: Some("EXAMPLE.COM".into()),
                dclocator_hint: Some(hint),
            };
            assert_eq!(KdcProxyMessage::decode(&m.encode()).unwrap(), m);
        }
    }

    #[test]
    fn target_domain_accepts_three_string_types_and_rejects_others() {
        for (t, ok) in [
            (0x1b, true),
            (0x16, true),
            (0x0c, true),
            (0x04, false),
            (0x13, false),
        ] {
            let b = [
                0x30, 0x0d, 0xa0, 0x06, 0x04, 0x04, 0, 0, 0, 0, 0xa1, 0x03, t, 0x01, b'R',
            ];
            let r = KdcProxyMessage::decode(&b);
            assert_eq!(r.is_ok(), ok, "{t:#x}: {r:?}");
            if ok {
                assert_eq!(r.unwrap().target_domain.as_deref(), Some("R"));
            } else {
                let e = r.unwrap_err();
                assert_eq!(e.offset, 12);
                assert!(e.to_string().contains("KERB-REALM"), "{e}");
            }
        }
    }

    #[test]
    fn missing_target_domain_is_fine_for_the_codec() {
        // the relay, not the codec, turns this into HTTP 400 (MS-KKDCP §3.2.5.1)
        let m = KdcProxyMessage::decode(&unhex("300aa0080406000000026a00")).unwrap();
        assert_eq!(m.target_domain, None);
    }

    #[test]
    fn rejects_trailing_bytes_bad_order_and_extra_fields() {
        let mut b = unhex(K1);
        b.push(0);
        let e = KdcProxyMessage::decode(&b).unwrap_err();
        assert_eq!(
            e.kind,
            ErrorKind::TrailingBytes {
                what: "input",
                count: 1
            }
        );
        assert_eq!(e.offset, 199);
        // [1] before [0]
        let e = KdcProxyMessage::decode(&unhex("3005a1031b0152")).unwrap_err();
        assert_eq!(
            e.to_string(),
            "kkdcp: at byte 2: expected [0] kerb-message, found tag 0xa1"
        );
        // [3] after [0]
        let e = KdcProxyMessage::decode(&unhex("300ba006040400000000a30105")).unwrap_err();
        assert_eq!(
            e.to_string(),
            "kkdcp: at byte 10: expected end of KDC-PROXY-MESSAGE (no fields after [2]), found tag 0xa3"
        );
        // junk inside [0] after the OCTET STRING
        let e = KdcProxyMessage::decode(&unhex("300aa0080404000000000500")).unwrap_err();
        assert_eq!(
            e.kind,
            ErrorKind::TrailingBytes {
                what: "[0] kerb-message",
                count: 2
            }
        );
        assert_eq!(e.offset, 10);
        // empty input, wrong outer tag
        assert!(KdcProxyMessage::decode(&[]).is_err());
        assert!(KdcProxyMessage::decode(&unhex("3100")).is_err());
    }

    #[test]
    fn length_prefix_errors_are_typed() {
        // short
        let e = strip_length_prefix(&[0, 0, 1]).unwrap_err();
        assert!(matches!(
            e.kind,
            ErrorKind::Truncated {
                needed: 4,
                available: 3,
                ..
            }
        ));
        // mismatch
        let e = strip_length_prefix(&[0, 0, 0, 5, 1, 2]).unwrap_err();
        assert_eq!(
            e.kind,
            ErrorKind::LengthMismatch {
                what: "kerb-message (per its length prefix)",
                declared: 5,
                actual: 2
            }
        );
        // missing (Apple): bare AS-REQ
        let bare = KdcProxyMessage {
            kerb_message: vec![0x6a, 0x02, 0x30, 0x00],
            ..Default::default()
        };
        let e = bare.kerberos_message().unwrap_err();
        assert_eq!(e.kind, ErrorKind::MissingLengthPrefix { tag: 0x6a });
        assert_eq!(
            bare.kerberos_message_lenient().unwrap(),
            (&bare.kerb_message[..], Framing::Bare)
        );
        let ok = KdcProxyMessage::response(&[0x6b, 0]).unwrap();
        assert_eq!(
            ok.kerberos_message_lenient().unwrap(),
            (&[0x6b, 0][..], Framing::Prefixed)
        );
        // empty kerb-message
        assert!(strip_length_prefix(&[]).is_err());
        assert_eq!(strip_length_prefix(&[0, 0, 0, 0]).unwrap(), b"");
    }

    #[test]
    fn inner_errors_are_reported_at_absolute_offsets() {
        // prefix says 2 bytes, AS-REQ tag then junk: inner decode fails at byte 4 of the message
        let m = KdcProxyMessage::request(&[0x6a, 0x05], "R").unwrap();
        let e = decode_with_inner(&m.encode()).unwrap_err();
        assert_eq!(e.format, Format::Kerberos);
        assert_eq!(e.offset, 6 + 4 + 1, "{e}");
    }
}
