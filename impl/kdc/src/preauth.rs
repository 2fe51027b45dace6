//! Pre-authentication: PA-ENC-TIMESTAMP (RFC 4120 §5.2.7.2) and the hints a
//! client needs to produce it (PA-ETYPE-INFO2, §5.2.7.5).
//!
//! Other padata the MIT client sends in an AS-REQ is accepted and ignored:
//! PA-PAC-REQUEST (128, no PAC is issued), PA-AS-FRESHNESS (150, RFC 8070:
//! only PKINIT uses the token), PA-FX-COOKIE (133), PA-FX-FAST (136: FAST is
//! not advertised, so clients do not armor). PA-REQ-ENC-PA-REP (149) is
//! honoured by the AS exchange itself.

use std::time::{Duration, SystemTime};

use kerbside_crypto::{EncType, Key};
use kerbside_wire::krb::asn1::{Asn1Object, EncryptedData, EtypeInfo2Entry, PaData, PaEncTsEnc};
use kerbside_wire::krb::constants::{key_usage, padata_type};
use kerbside_wire::krb::decode_der;
use kerbside_wire::time::from_kerberos_time_usec;

use crate::codes::ErrorCode;
use crate::reject::{Checked, Rejection};
use crate::store::{EntryRef, PrincipalEntry};

/// Outcome of looking at the request's pre-authentication.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PreauthResult {
    /// A valid PA-ENC-TIMESTAMP within the skew window, encrypted with the
    /// client's key of this enctype (which then encrypts the reply: the
    /// client has shown it holds that key).
    Verified(EncType),
    /// No pre-authentication data the KDC verifies.
    Absent,
}

/// Verifies PA-ENC-TIMESTAMP if present. `hint_etype` is the enctype the
/// KDC would advertise in PA-ETYPE-INFO2 (sent back with PREAUTH_FAILED so
/// the client can recompute its key).
pub fn check(
    padata: &[PaData],
    client: &EntryRef<'_>,
    hint_etype: EncType,
    max_skew: Duration,
    now: SystemTime,
) -> Checked<PreauthResult> {
    let Some(pa) = padata
        .iter()
        .find(|p| p.padata_type == padata_type::PA_ENC_TIMESTAMP)
    else {
        return Ok(PreauthResult::Absent);
    };
    let failed = |why: &'static str| {
        Rejection::new(ErrorCode::KDC_ERR_PREAUTH_FAILED, why)
            .with_e_data(method_data(client, hint_etype))
    };
    let ed: EncryptedData =
        decode_der(&pa.padata_value).map_err(|_| failed("malformed PA-ENC-TIMESTAMP"))?;
    let key = EncType::from_id(ed.etype)
        .and_then(|e| client.key(e))
        .ok_or_else(|| failed("PA-ENC-TIMESTAMP enctype has no client key"))?;
    let plain = key
        .usage(key_usage::AS_REQ_PA_ENC_TIMESTAMP)
        .decrypt(&ed.cipher)
        .map_err(|_| failed("PA-ENC-TIMESTAMP does not decrypt with the client key"))?;
    let ts: PaEncTsEnc = decode_der(&plain).map_err(|_| failed("malformed PA-ENC-TS-ENC"))?;
    let client_time = from_kerberos_time_usec(&ts.patimestamp, ts.pausec.unwrap_or(0));
    if !within(client_time, now, max_skew) {
        // RFC 4120 §5.2.7.2: outside the skew window -> KRB_AP_ERR_SKEW; the
        // error's stime/susec let the client correct.
        return Err(Rejection::new(
            ErrorCode::KRB_AP_ERR_SKEW,
            "clock skew too great",
        ));
    }
    Ok(PreauthResult::Verified(key.etype()))
}

/// True when `a` and `b` are at most `skew` apart.
pub fn within(a: SystemTime, b: SystemTime, skew: Duration) -> bool {
    let diff = match a.duration_since(b) {
        Ok(d) => d,
        Err(e) => e.duration(),
    };
    diff <= skew
}

/// PA-ETYPE-INFO2 with one entry: the enctype the client should use and the
/// principal's salt (MIT sends exactly this).
pub fn etype_info2_padata(client: &PrincipalEntry, etype: EncType) -> PaData {
    let entry = EtypeInfo2Entry::new(
        etype.id(),
        Some(String::from_utf8_lossy(&client.salt).into_owned()),
        None,
    );
    PaData::new(padata_type::PA_ETYPE_INFO2, vec![entry].build())
}

/// The METHOD-DATA of KDC_ERR_PREAUTH_REQUIRED (RFC 4120 §5.2.7): how to
/// derive the key, then the methods accepted. PA-FX-FAST is deliberately
/// not listed: advertising it makes MIT clients armor every TGS request.
pub fn method_data(client: &PrincipalEntry, etype: EncType) -> Vec<u8> {
    let md: Vec<PaData> = vec![
        etype_info2_padata(client, etype),
        PaData::new(padata_type::PA_ENC_TIMESTAMP, Vec::new()),
    ];
    md.build()
}

/// A client-side helper for tests and tools: the PA-ENC-TIMESTAMP padata for
/// `now` with `key` (RFC 4120 §5.2.7.2).
pub fn enc_timestamp_padata(
    key: &Key,
    now: SystemTime,
    rng: &mut dyn rand_core::RngCore,
) -> PaData {
    let (t, us) = kerbside_wire::time::to_kerberos_time_usec(now);
    let plain = PaEncTsEnc::new(t, Some(us)).build();
    let cipher = key.encrypt(key_usage::AS_REQ_PA_ENC_TIMESTAMP, &plain, rng);
    PaData::new(
        padata_type::PA_ENC_TIMESTAMP,
        EncryptedData::new(key.etype().id(), None, cipher).build(),
    )
}
