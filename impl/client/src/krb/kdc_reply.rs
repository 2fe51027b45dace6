//! What AS and TGS replies have in common: telling a reply from a
//! KRB-ERROR, and the checks on the decrypted enc-part (RFC 4120 §3.1.5,
//! §3.3.4).

use kerbside_crypto::Key;
use kerbside_wire::krb::asn1::{EncKdcRepPart, EncryptedData, KrbError};
use kerbside_wire::krb::{KrbMessage, decode, decode_enc_rep_part};
use kerbside_wire::time::from_kerberos_time_usec;

use super::error::{KrbClientError, KrbErrorInfo};
use super::principal::Principal;

/// A KRB-ERROR as an error.
pub(crate) fn krb_error(e: &KrbError) -> KrbClientError {
    KrbClientError::Krb(KrbErrorInfo {
        code: e.error_code,
        text: e.e_text.clone(),
        e_data: e.e_data.clone(),
        server_time: from_kerberos_time_usec(&e.stime, e.susec),
    })
}

/// Decodes a reply from a KDC; KRB-ERRORs come back as [`KrbClientError::Krb`].
pub(crate) fn decode_reply(bytes: &[u8]) -> Result<KrbMessage, KrbClientError> {
    match decode(bytes)? {
        KrbMessage::KrbError(e) => Err(krb_error(&e)),
        other => Ok(other),
    }
}

/// Decrypts a KDC-REP enc-part with `key` and `usage`, accepting tag 25 or
/// 26 (MIT sends 26 for both), and checks nonce and service (§3.1.5).
pub(crate) fn open_enc_part(
    enc: &EncryptedData,
    key: &Key,
    usage: u32,
    nonce: u32,
    service: &Principal,
) -> Result<EncKdcRepPart, KrbClientError> {
    if enc.etype != key.etype().id() {
        return Err(KrbClientError::NoUsableEtype);
    }
    let plain = key.decrypt(usage, &enc.cipher)?;
    let part = decode_enc_rep_part(&plain)?.part;
    if part.nonce != nonce {
        return Err(KrbClientError::NonceMismatch {
            sent: nonce,
            received: part.nonce,
        });
    }
    if !service.same_as(&part.sname, &part.srealm) {
        return Err(KrbClientError::WrongService {
            expected: service.to_string(),
            found: Principal::from_asn1(&part.sname, &part.srealm).to_string(),
        });
    }
    Ok(part)
}

/// The session key a reply carries.
pub(crate) fn session_key(part: &EncKdcRepPart) -> Result<Key, KrbClientError> {
    Ok(Key::from_wire(part.key.keytype, &part.key.keyvalue)?)
}

/// A nonce for a request: 31 bits, as MIT sends (some decoders treat UInt32
/// as signed).
pub(crate) fn nonce(rng: &mut dyn rand_core::RngCore) -> u32 {
    rng.next_u32() & 0x7fff_ffff
}
