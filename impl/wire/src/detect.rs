//! Format detection for `kerbside decode`: a guess from the first bytes.
//! The chosen decoder then either succeeds or names the byte offset where
//! the input stopped being that format.

use crate::error::{ErrorKind, Format, Result, WireError};
use crate::gss::{self, oid, tok_id};
use crate::krb;
use crate::ntlm;

/// What the input looks like.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[non_exhaustive]
pub enum Detected {
    /// A bare Kerberos message (APPLICATION tag first).
    Kerberos,
    /// A Kerberos message behind an RFC 4120 §7.2.2 record mark.
    KerberosRecordMark,
    /// An MS-KKDCP KDC-PROXY-MESSAGE.
    Kkdcp,
    /// An IAKERB_PROXY token.
    Iakerb,
    /// A GSS-framed RFC 4121 Kerberos token (AP-REQ, AP-REP, KRB-ERROR).
    GssKrb5,
    /// A SPNEGO token (framed initial or bare).
    Spnego,
    /// An NTLM message.
    Ntlm,
}

impl Detected {
    /// Short description.
    pub fn name(self) -> &'static str {
        match self {
            Detected::Kerberos => "Kerberos message",
            Detected::KerberosRecordMark => "Kerberos message with TCP record mark",
            Detected::Kkdcp => "KDC-PROXY-MESSAGE (MS-KKDCP)",
            Detected::Iakerb => "IAKERB token",
            Detected::GssKrb5 => "GSS Kerberos token (RFC 4121)",
            Detected::Spnego => "SPNEGO token",
            Detected::Ntlm => "NTLM message",
        }
    }
}

/// Guesses the format of `bytes`.
pub fn detect(bytes: &[u8]) -> Result<Detected> {
    let Some(&first) = bytes.first() else {
        return Err(WireError::new(
            Format::Der,
            0,
            ErrorKind::Missing {
                what: "a message",
                container: "input (it is empty)",
            },
        ));
    };
    if bytes.starts_with(ntlm::SIGNATURE) {
        return Ok(Detected::Ntlm);
    }
    if krb::is_message_tag(first) {
        return Ok(Detected::Kerberos);
    }
    // A record mark: lengths here are far below 16 MiB, so the first octet
    // is zero, and the message after it starts with a Kerberos tag.
    if first == 0 && bytes.get(4).copied().is_some_and(krb::is_message_tag) {
        return Ok(Detected::KerberosRecordMark);
    }
    match first {
        0x60 => {
            let f = gss::unwrap(bytes)?;
            if f.mech == oid::SPNEGO {
                Ok(Detected::Spnego)
            } else if f.mech == oid::IAKERB && f.inner.starts_with(&tok_id::IAKERB_PROXY) {
                Ok(Detected::Iakerb)
            } else if [oid::KRB5, oid::MS_KRB5, oid::IAKERB, oid::KRB5_U2U].contains(&f.mech) {
                Ok(Detected::GssKrb5)
            } else {
                Err(WireError::new(
                    Format::Gss,
                    2,
                    ErrorKind::BadConstant {
                        what: "mechanism",
                        expected: "SPNEGO, Kerberos or IAKERB".into(),
                        found: f.mech.to_string(),
                    },
                ))
            }
        }
        0xa0 | 0xa1 => Ok(Detected::Spnego),
        0x30 => Ok(Detected::Kkdcp),
        _ => Err(WireError::new(
            Format::Der,
            0,
            ErrorKind::UnknownFormat {
                found: format!(
                    "first bytes {}",
                    hex::encode(bytes.get(..bytes.len().min(8)).unwrap_or(&[]))
                ),
            },
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_each_format_by_its_first_bytes() {
        let as_req = kerberos_asn1::Asn1Object::build(&kerberos_asn1::AsReq::default());
        assert_eq!(detect(&as_req).unwrap(), Detected::Kerberos);
        assert_eq!(
            detect(&crate::record::encode(&as_req).unwrap()).unwrap(),
            Detected::KerberosRecordMark
        );
        let kkdcp = crate::kkdcp::KdcProxyMessage::request(&as_req, "R")
            .unwrap()
            .encode();
        assert_eq!(detect(&kkdcp).unwrap(), Detected::Kkdcp);
        assert_eq!(
            detect(&crate::iakerb::IakerbProxy::discovery_request().encode()).unwrap(),
            Detected::Iakerb
        );
        let ap = gss::encode_krb_token(&oid::KRB5, tok_id::AP_REQ, &[0x6e, 0]);
        assert_eq!(detect(&ap).unwrap(), Detected::GssKrb5);
        assert_eq!(detect(&[0xa1, 0x02, 0x30, 0x00]).unwrap(), Detected::Spnego);
        assert_eq!(
            detect(&gss::wrap(&oid::SPNEGO, &[0xa0, 0x00])).unwrap(),
            Detected::Spnego
        );
        assert_eq!(detect(b"NTLMSSP\0\x01\0\0\0").unwrap(), Detected::Ntlm);
    }

    #[test]
    fn unknown_and_empty_inputs_are_errors() {
        let e = detect(b"hello").unwrap_err();
        assert_eq!(
            e.to_string(),
            "der: at byte 0: expected a Kerberos, KKDCP, GSS/IAKERB, SPNEGO or NTLM message, found first bytes 68656c6c6f"
        );
        assert!(detect(&[]).is_err());
        let e = detect(&gss::wrap(&oid::NTLMSSP, &[1])).unwrap_err();
        assert!(matches!(e.kind, ErrorKind::BadConstant { .. }));
    }
}
