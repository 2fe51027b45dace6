//! Top-level Kerberos messages, dispatched by APPLICATION tag (RFC 4120
//! §5.10 / §7.5.7).

use kerberos_asn1::{
    ApRep, ApReq, AsRep, AsReq, Asn1Object, EncAsRepPart, EncKdcRepPart, EncTgsRepPart, KrbCred,
    KrbError, KrbPriv, KrbSafe, TgsRep, TgsReq,
};

use super::constants::{PVNO, error_code, msg_type};
use super::decode::decode_der;
use crate::error::{ErrorKind, Format, Result, WireError};

/// Any top-level Kerberos message.
#[derive(Debug, Clone, PartialEq)]
#[allow(clippy::large_enum_variant)]
pub enum KrbMessage {
    /// `[APPLICATION 10]` AS-REQ.
    AsReq(AsReq),
    /// `[APPLICATION 11]` AS-REP.
    AsRep(AsRep),
    /// `[APPLICATION 12]` TGS-REQ.
    TgsReq(TgsReq),
    /// `[APPLICATION 13]` TGS-REP.
    TgsRep(TgsRep),
    /// `[APPLICATION 14]` AP-REQ.
    ApReq(ApReq),
    /// `[APPLICATION 15]` AP-REP.
    ApRep(ApRep),
    /// `[APPLICATION 20]` KRB-SAFE.
    KrbSafe(KrbSafe),
    /// `[APPLICATION 21]` KRB-PRIV.
    KrbPriv(KrbPriv),
    /// `[APPLICATION 22]` KRB-CRED.
    KrbCred(KrbCred),
    /// `[APPLICATION 30]` KRB-ERROR.
    KrbError(KrbError),
}

/// What `decode` says it expected when the first octet is unknown.
const EXPECTED_TAG: &str = "a Kerberos message tag (6a-6f, 74-76 or 7e)";

/// Decodes any top-level Kerberos message (strict DER, see `decode_der`).
pub fn decode(bytes: &[u8]) -> Result<KrbMessage> {
    let Some(&first) = bytes.first() else {
        return Err(WireError::new(
            Format::Kerberos,
            0,
            ErrorKind::Missing {
                what: "a Kerberos message",
                container: "input",
            },
        ));
    };
    let msg = match application_number(first) {
        Some(10) => KrbMessage::AsReq(decode_der(bytes)?),
        Some(11) => KrbMessage::AsRep(decode_der(bytes)?),
        Some(12) => KrbMessage::TgsReq(decode_der(bytes)?),
        Some(13) => KrbMessage::TgsRep(decode_der(bytes)?),
        Some(14) => KrbMessage::ApReq(decode_der(bytes)?),
        Some(15) => KrbMessage::ApRep(decode_der(bytes)?),
        Some(20) => KrbMessage::KrbSafe(decode_der(bytes)?),
        Some(21) => KrbMessage::KrbPriv(decode_der(bytes)?),
        Some(22) => KrbMessage::KrbCred(decode_der(bytes)?),
        Some(30) => KrbMessage::KrbError(decode_der(bytes)?),
        _ => {
            return Err(WireError::new(
                Format::Kerberos,
                0,
                ErrorKind::UnexpectedTag {
                    expected: EXPECTED_TAG,
                    found: first,
                },
            ));
        }
    };
    Ok(msg)
}

/// The APPLICATION number of a constructed application tag octet.
pub(crate) fn application_number(tag: u8) -> Option<u8> {
    (tag & 0xe0 == 0x60 && tag & 0x1f != 0x1f).then_some(tag & 0x1f)
}

/// True when `tag` starts one of the messages [`decode`] accepts.
pub fn is_message_tag(tag: u8) -> bool {
    matches!(application_number(tag), Some(10..=15 | 20..=22 | 30))
}

impl KrbMessage {
    /// The message type this variant is (its APPLICATION tag number).
    pub fn msg_type(&self) -> i32 {
        match self {
            KrbMessage::AsReq(_) => msg_type::AS_REQ,
            KrbMessage::AsRep(_) => msg_type::AS_REP,
            KrbMessage::TgsReq(_) => msg_type::TGS_REQ,
            KrbMessage::TgsRep(_) => msg_type::TGS_REP,
            KrbMessage::ApReq(_) => msg_type::AP_REQ,
            KrbMessage::ApRep(_) => msg_type::AP_REP,
            KrbMessage::KrbSafe(_) => msg_type::KRB_SAFE,
            KrbMessage::KrbPriv(_) => msg_type::KRB_PRIV,
            KrbMessage::KrbCred(_) => msg_type::KRB_CRED,
            KrbMessage::KrbError(_) => msg_type::KRB_ERROR,
        }
    }

    /// `AS-REQ`, `KRB-ERROR`, ...
    pub fn name(&self) -> &'static str {
        super::constants::msg_type_name(self.msg_type()).unwrap_or("?")
    }

    /// DER encoding.
    pub fn encode(&self) -> Vec<u8> {
        match self {
            KrbMessage::AsReq(m) => m.build(),
            KrbMessage::AsRep(m) => m.build(),
            KrbMessage::TgsReq(m) => m.build(),
            KrbMessage::TgsRep(m) => m.build(),
            KrbMessage::ApReq(m) => m.build(),
            KrbMessage::ApRep(m) => m.build(),
            KrbMessage::KrbSafe(m) => m.build(),
            KrbMessage::KrbPriv(m) => m.build(),
            KrbMessage::KrbCred(m) => m.build(),
            KrbMessage::KrbError(m) => m.build(),
        }
    }

    /// The `pvno` and `msg-type` fields as received.
    pub fn header_fields(&self) -> (i32, i32) {
        match self {
            KrbMessage::AsReq(m) => (m.pvno, m.msg_type),
            KrbMessage::AsRep(m) => (m.pvno, m.msg_type),
            KrbMessage::TgsReq(m) => (m.pvno, m.msg_type),
            KrbMessage::TgsRep(m) => (m.pvno, m.msg_type),
            KrbMessage::ApReq(m) => (m.pvno, m.msg_type),
            KrbMessage::ApRep(m) => (m.pvno, m.msg_type),
            KrbMessage::KrbSafe(m) => (m.pvno, m.msg_type),
            KrbMessage::KrbPriv(m) => (m.pvno, m.msg_type),
            KrbMessage::KrbCred(m) => (m.pvno, m.msg_type),
            KrbMessage::KrbError(m) => (m.pvno, m.msg_type),
        }
    }

    /// The RFC 4120 error code a receiver returns for a bad header, if any:
    /// `KRB_AP_ERR_BADVERSION` when pvno is not 5 (§3.1.3, §3.2.3) and
    /// `KRB_AP_ERR_MSG_TYPE` when msg-type disagrees with the APPLICATION tag.
    /// The decoder does not enforce these, so receivers can answer them.
    pub fn header_error(&self) -> Option<i32> {
        let (pvno, mt) = self.header_fields();
        if pvno != PVNO {
            Some(error_code::KRB_AP_ERR_BADVERSION)
        } else if mt != self.msg_type() {
            Some(error_code::KRB_AP_ERR_MSG_TYPE)
        } else {
            None
        }
    }
}

/// A decrypted EncASRepPart / EncTGSRepPart with the tag it came with.
#[derive(Debug, Clone, PartialEq)]
pub struct EncRepPart {
    /// 25 (EncASRepPart) or 26 (EncTGSRepPart).
    pub application_tag: u8,
    /// The fields (identical for both).
    pub part: EncKdcRepPart,
}

impl EncRepPart {
    /// DER encoding under the recorded tag.
    pub fn encode(&self) -> Vec<u8> {
        if self.application_tag == 25 {
            EncAsRepPart::from(self.part.clone()).build()
        } else {
            EncTgsRepPart::from(self.part.clone()).build()
        }
    }
}

/// Decodes a decrypted KDC-REP enc-part. RFC 4120 §5.4.2 says AS replies
/// use `[APPLICATION 25]`, but MIT encodes both with 26 and accepts either
/// (protocols.md §5.1); so do we.
pub fn decode_enc_rep_part(bytes: &[u8]) -> Result<EncRepPart> {
    let Some(&first) = bytes.first() else {
        return Err(WireError::new(
            Format::Kerberos,
            0,
            ErrorKind::Missing {
                what: "EncASRepPart or EncTGSRepPart",
                container: "input",
            },
        ));
    };
    match application_number(first) {
        Some(25) => Ok(EncRepPart {
            application_tag: 25,
            part: decode_der::<EncAsRepPart>(bytes)?.into(),
        }),
        Some(26) => Ok(EncRepPart {
            application_tag: 26,
            part: decode_der::<EncTgsRepPart>(bytes)?.into(),
        }),
        _ => Err(WireError::new(
            Format::Kerberos,
            0,
            ErrorKind::UnexpectedTag {
                expected: "EncASRepPart (79) or EncTGSRepPart (7a)",
                found: first,
            },
        )),
    }
}
