//! The relay's certificate in the simulation: Ed25519 (RFC 8032 signatures
//! are deterministic, unlike ECDSA's), a key expanded from a seed, a fixed
//! serial and validity dates taken from the scenario's epoch, so the
//! certificate, and every handshake that carries it, is the same bytes in
//! every run. The certificate faults the scenarios exercise (expired, not
//! yet valid, wrong name, untrusted issuer) are variations of the same
//! recipe.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rcgen::{
    CertificateParams, DnType, ExtendedKeyUsagePurpose, KeyPair, KeyUsagePurpose, PKCS_ED25519,
    SerialNumber,
};
use rustls_pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::TlsError;

/// What is wrong with the relay's certificate, if anything.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CertFault {
    /// A good certificate for the relay's name, trusted by clients.
    #[default]
    Valid,
    /// Its validity ended a day before the epoch.
    Expired,
    /// Its validity starts a month after the epoch.
    NotYetValid,
    /// Issued for another name.
    WrongName,
    /// Signed by a key clients do not trust.
    Untrusted,
}

/// The relay's certificate and key, and the anchor clients trust.
#[derive(Debug)]
pub struct RelayIdentity {
    /// The relay's certificate.
    pub cert: CertificateDer<'static>,
    /// Its private key (PKCS#8).
    pub key: PrivatePkcs8KeyDer<'static>,
    /// The certificate clients put in their root store.
    pub anchor: CertificateDer<'static>,
}

impl RelayIdentity {
    /// The key as rustls wants it.
    pub fn key_der(&self) -> PrivateKeyDer<'static> {
        PrivateKeyDer::Pkcs8(self.key.clone_key())
    }
}

/// RFC 8410 §7 PKCS#8 v1 wrapping of a 32-byte Ed25519 seed:
/// `SEQUENCE { INTEGER 0, SEQUENCE { OID 1.3.101.112 }, OCTET STRING { OCTET STRING seed } }`.
fn ed25519_pkcs8(seed: &[u8; 32]) -> Vec<u8> {
    let mut der = vec![
        0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04,
        0x20,
    ];
    der.extend_from_slice(seed);
    der
}

fn odt(t: SystemTime) -> Result<OffsetDateTime, TlsError> {
    let secs = t
        .duration_since(UNIX_EPOCH)
        .map_err(|_| TlsError::Epoch)?
        .as_secs();
    OffsetDateTime::from_unix_timestamp(i64::try_from(secs).map_err(|_| TlsError::Epoch)?)
        .map_err(|_| TlsError::Epoch)
}

const DAY: Duration = Duration::from_secs(86_400);

fn self_signed(
    names: &[String],
    seed: &[u8; 32],
    not_before: SystemTime,
    not_after: SystemTime,
    serial: u64,
) -> Result<(CertificateDer<'static>, PrivatePkcs8KeyDer<'static>), TlsError> {
    let pkcs8 = PrivatePkcs8KeyDer::from(ed25519_pkcs8(seed));
    let key = KeyPair::from_pkcs8_der_and_sign_algo(&pkcs8, &PKCS_ED25519)?;
    let mut params = CertificateParams::new(names.to_vec())?;
    if let Some(first) = names.first() {
        params
            .distinguished_name
            .push(DnType::CommonName, first.as_str());
    }
    params.serial_number = Some(SerialNumber::from(serial));
    params.not_before = odt(not_before)?;
    params.not_after = odt(not_after)?;
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    let cert = params.self_signed(&key)?;
    Ok((cert.der().clone(), pkcs8))
}

/// Builds the relay identity for `names` (the names clients connect to),
/// with validity around `epoch`, keys from `seed`, and `fault` applied.
pub fn relay_identity(
    names: &[String],
    epoch: SystemTime,
    seed: [u8; 32],
    fault: CertFault,
) -> Result<RelayIdentity, TlsError> {
    let (not_before, not_after) = match fault {
        CertFault::Expired => (epoch - 400 * DAY, epoch - DAY),
        CertFault::NotYetValid => (epoch + 30 * DAY, epoch + 400 * DAY),
        _ => (epoch - DAY, epoch + 365 * DAY),
    };
    let wrong = ["wrong-name.invalid".to_owned()];
    let cert_names = if fault == CertFault::WrongName {
        &wrong[..]
    } else {
        names
    };
    let (cert, key) = self_signed(cert_names, &seed, not_before, not_after, 1)?;
    let anchor = if fault == CertFault::Untrusted {
        // Clients trust a different key that happens to claim the same name.
        let mut other = seed;
        other[0] ^= 0xff;
        self_signed(names, &other, not_before, not_after, 2)?.0
    } else {
        cert.clone()
    };
    Ok(RelayIdentity { cert, key, anchor })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identity_is_reproducible_and_seed_dependent() {
        let epoch = UNIX_EPOCH + Duration::from_secs(1_772_438_400);
        let names = vec!["relay.corp.example".to_owned()];
        let a = relay_identity(&names, epoch, [3; 32], CertFault::Valid).unwrap();
        let b = relay_identity(&names, epoch, [3; 32], CertFault::Valid).unwrap();
        let c = relay_identity(&names, epoch, [4; 32], CertFault::Valid).unwrap();
        assert_eq!(a.cert, b.cert);
        assert_eq!(a.key.secret_pkcs8_der(), b.key.secret_pkcs8_der());
        assert_ne!(a.cert, c.cert);
        assert_eq!(a.anchor, a.cert);
        let u = relay_identity(&names, epoch, [3; 32], CertFault::Untrusted).unwrap();
        assert_eq!(u.cert, a.cert);
        assert_ne!(u.anchor, u.cert);
    }
}
