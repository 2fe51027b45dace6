//! The MIT krb5 1.20 captures (LAB.TEST, `/work/shared/vectors/mit`), from
//! kerbside-wire's test-data copy so the benches time the same bytes the
//! wire tests check.

use crate::error::FixtureError;

/// The directory holding `*.hex`.
pub fn dir() -> String {
    format!("{}/../impl/wire/tests/data/mit", env!("CARGO_MANIFEST_DIR"))
}

/// The bytes of capture `name` (file stem, e.g. `udp-as-req-nopreauth`).
pub fn mit(name: &str) -> Result<Vec<u8>, FixtureError> {
    let path = format!("{}/{name}.hex", dir());
    let text = std::fs::read_to_string(&path).map_err(|source| FixtureError::Io {
        path: path.clone(),
        source,
    })?;
    hex::decode(text.trim()).map_err(|e| FixtureError::Data {
        path,
        what: e.to_string(),
    })
}

/// The top-level Kerberos messages of one exchange kind, as a UDP capture
/// (RFC 4120 §7.2.1: no record mark), with the name criterion prints.
pub const KERBEROS_MESSAGES: [(&str, &str); 6] = [
    ("AS-REQ", "udp-as-req-nopreauth"),
    ("AS-REQ+PA-ENC-TIMESTAMP", "udp-as-req-pa-enc-timestamp"),
    ("AS-REP", "udp-as-rep"),
    ("TGS-REQ", "udp-tgs-req"),
    ("TGS-REP", "udp-tgs-rep"),
    ("KRB-ERROR", "udp-krb-error-preauth-required"),
];

/// The KKDCP captures (MS-KKDCP §2.2.2 KDC-PROXY-MESSAGE bodies).
pub const KKDCP_MESSAGES: [(&str, &str); 2] = [
    ("KDC-PROXY-MESSAGE(AS-REQ)", "kkdcp-as-req-nopreauth"),
    ("KDC-PROXY-MESSAGE(AS-REP)", "kkdcp-as-rep"),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_named_capture_decodes_as_what_it_is_named() {
        for (label, name) in KERBEROS_MESSAGES {
            let bytes = mit(name).unwrap();
            let m = kerbside_wire::krb::decode(&bytes).unwrap();
            assert!(label.starts_with(m.name()), "{label}: {}", m.name());
        }
        for (_, name) in KKDCP_MESSAGES {
            let m = kerbside_wire::kkdcp::KdcProxyMessage::decode(&mit(name).unwrap()).unwrap();
            assert!(m.kerberos_message().is_ok());
        }
        assert!(matches!(
            mit("no-such-capture"),
            Err(FixtureError::Io { .. })
        ));
    }
}
