//! Typed PA-DATA values (RFC 4120 §5.2.7, RFC 6113, RFC 6806, RFC 8070,
//! MS-KILE §2.2.3).

use kerberos_asn1::{
    ApReq, Asn1Object, Checksum, EncryptedData, EtypeInfo2, KerbPaPacRequest, PaData,
};

use super::constants::padata_type as pt;
use super::decode::decode_der;
use crate::error::Result;

/// A PA-DATA value decoded according to its type.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum PaValue {
    /// PA-TGS-REQ (1): the AP-REQ carrying the TGT (RFC 4120 §5.2.7.1).
    TgsReq(ApReq),
    /// PA-ENC-TIMESTAMP (2): EncryptedData of PA-ENC-TS-ENC, key usage 1
    /// (RFC 4120 §5.2.7.2). Empty value in a KRB-ERROR's METHOD-DATA means
    /// "this method is supported": see `EncTimestampHint`.
    EncTimestamp(EncryptedData),
    /// PA-ENC-TIMESTAMP (2) with an empty value, as KDCs list it in the
    /// PREAUTH_REQUIRED METHOD-DATA.
    EncTimestampHint,
    /// PA-ETYPE-INFO2 (19): salts and s2kparams (RFC 4120 §5.2.7.5).
    EtypeInfo2(EtypeInfo2),
    /// PA-FX-COOKIE (133): opaque, echoed by the client (RFC 6113 §5.2).
    FxCookie(Vec<u8>),
    /// PA-REQ-ENC-PA-REP (149, RFC 6806 §11): empty in the AS-REQ; in the
    /// reply's encrypted-pa-data it is a Checksum over the AS-REQ.
    ReqEncPaRep(Option<Checksum>),
    /// PA-AS-FRESHNESS (150, RFC 8070): an opaque token, empty in the request.
    AsFreshness(Vec<u8>),
    /// PA-PAC-REQUEST (128, MS-KILE §2.2.3): KERB-PA-PAC-REQUEST include-pac.
    PacRequest(bool),
    /// PA-FX-FAST (136, RFC 6113 §5.4): kept opaque (empty in KDC hints).
    FxFast(Vec<u8>),
    /// Any other type, undecoded.
    Other {
        /// padata-type.
        padata_type: i32,
        /// padata-value.
        value: Vec<u8>,
    },
}

/// Decodes a PA-DATA value by its type. Errors carry offsets relative to
/// the padata-value octets.
pub fn decode_padata(pa: &PaData) -> Result<PaValue> {
    let v = pa.padata_value.as_slice();
    Ok(match pa.padata_type {
        pt::PA_TGS_REQ => PaValue::TgsReq(decode_der(v)?),
        pt::PA_ENC_TIMESTAMP if v.is_empty() => PaValue::EncTimestampHint,
        pt::PA_ENC_TIMESTAMP => PaValue::EncTimestamp(decode_der(v)?),
        pt::PA_ETYPE_INFO2 => PaValue::EtypeInfo2(decode_der(v)?),
        pt::PA_FX_COOKIE => PaValue::FxCookie(v.to_vec()),
        pt::PA_REQ_ENC_PA_REP if v.is_empty() => PaValue::ReqEncPaRep(None),
        pt::PA_REQ_ENC_PA_REP => PaValue::ReqEncPaRep(Some(decode_der(v)?)),
        pt::PA_AS_FRESHNESS => PaValue::AsFreshness(v.to_vec()),
        pt::PA_PAC_REQUEST => PaValue::PacRequest(decode_der::<KerbPaPacRequest>(v)?.include_pac),
        pt::PA_FX_FAST => PaValue::FxFast(v.to_vec()),
        other => PaValue::Other {
            padata_type: other,
            value: v.to_vec(),
        },
    })
}

impl PaValue {
    /// The padata-type this value is sent under.
    pub fn padata_type(&self) -> i32 {
        match self {
            PaValue::TgsReq(_) => pt::PA_TGS_REQ,
            PaValue::EncTimestamp(_) | PaValue::EncTimestampHint => pt::PA_ENC_TIMESTAMP,
            PaValue::EtypeInfo2(_) => pt::PA_ETYPE_INFO2,
            PaValue::FxCookie(_) => pt::PA_FX_COOKIE,
            PaValue::ReqEncPaRep(_) => pt::PA_REQ_ENC_PA_REP,
            PaValue::AsFreshness(_) => pt::PA_AS_FRESHNESS,
            PaValue::PacRequest(_) => pt::PA_PAC_REQUEST,
            PaValue::FxFast(_) => pt::PA_FX_FAST,
            PaValue::Other { padata_type, .. } => *padata_type,
        }
    }

    /// Encodes back into a PA-DATA.
    pub fn to_padata(&self) -> PaData {
        let value = match self {
            PaValue::TgsReq(ap) => ap.build(),
            PaValue::EncTimestamp(ed) => ed.build(),
            PaValue::EtypeInfo2(info) => info.build(),
            PaValue::ReqEncPaRep(Some(ck)) => ck.build(),
            PaValue::PacRequest(include) => KerbPaPacRequest::new(*include).build(),
            PaValue::FxCookie(v) | PaValue::AsFreshness(v) | PaValue::FxFast(v) => v.clone(),
            PaValue::Other { value, .. } => value.clone(),
            PaValue::EncTimestampHint | PaValue::ReqEncPaRep(None) => Vec::new(),
        };
        PaData::new(self.padata_type(), value)
    }
}

/// Decodes a METHOD-DATA (`SEQUENCE OF PA-DATA`, RFC 4120 §5.9.1), the
/// e-data of KDC_ERR_PREAUTH_REQUIRED.
pub fn decode_method_data(bytes: &[u8]) -> Result<Vec<PaData>> {
    decode_der::<kerberos_asn1::MethodData>(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use kerberos_asn1::EtypeInfo2Entry;

    #[test]
    fn round_trips_every_typed_variant() {
        let values = [
            PaValue::EncTimestamp(EncryptedData::new(18, None, vec![1, 2, 3])),
            PaValue::EncTimestampHint,
            PaValue::EtypeInfo2(vec![EtypeInfo2Entry::new(
                18,
                Some("LAB.TESTalice".into()),
                None,
            )]),
            PaValue::FxCookie(b"MIT".to_vec()),
            PaValue::ReqEncPaRep(None),
            PaValue::ReqEncPaRep(Some(Checksum {
                cksumtype: 16,
                checksum: vec![9; 12],
            })),
            PaValue::AsFreshness(Vec::new()),
            PaValue::PacRequest(true),
            PaValue::PacRequest(false),
            PaValue::FxFast(Vec::new()),
            PaValue::Other {
                padata_type: 165,
                value: vec![0x1c, 0, 0, 0],
            },
        ];
        for v in values {
            let pa = v.to_padata();
            assert_eq!(decode_padata(&pa).unwrap(), v);
        }
    }

    #[test]
    fn malformed_values_are_errors() {
        let pa = PaData::new(pt::PA_ETYPE_INFO2, vec![0x30, 0x05, 0x30]);
        assert!(decode_padata(&pa).is_err());
        let pa = PaData::new(
            pt::PA_PAC_REQUEST,
            vec![0x30, 0x05, 0xa0, 0x03, 0x01, 0x01, 0x01],
        );
        assert!(decode_padata(&pa).is_err(), "BOOLEAN 0x01 is not DER");
    }
}
