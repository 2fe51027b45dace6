//! Building KRB-ERROR messages correctly (RFC 4120 §5.9.1).
//!
//! `KrbError::default()` in kerberos_asn1 has pvno 0 and msg-type 0; use
//! [`KrbErrorBuilder`], which sets pvno 5, msg-type 30 and stime/susec from
//! the injected `now`.

use std::time::SystemTime;

use kerberos_asn1::{Asn1Object, KrbError, PaData, PrincipalName};

use super::constants::{PVNO, msg_type};
use crate::time::to_kerberos_time_usec;

/// Builder for a KRB-ERROR.
#[derive(Debug, Clone)]
pub struct KrbErrorBuilder {
    err: KrbError,
}

impl KrbErrorBuilder {
    /// The required fields: error-code, the server's time, and the realm and
    /// name of the server the request was for (§5.9.1 realm/sname).
    pub fn new(error_code: i32, now: SystemTime, realm: &str, sname: PrincipalName) -> Self {
        let (stime, susec) = to_kerberos_time_usec(now);
        let err = KrbError {
            pvno: PVNO,
            msg_type: msg_type::KRB_ERROR,
            ctime: None,
            cusec: None,
            stime,
            susec,
            error_code,
            crealm: None,
            cname: None,
            realm: realm.to_string(),
            sname,
            e_text: None,
            e_data: None,
        };
        Self { err }
    }

    /// The client's realm and name (when known from the request).
    pub fn client(mut self, crealm: &str, cname: PrincipalName) -> Self {
        self.err.crealm = Some(crealm.to_string());
        self.err.cname = Some(cname);
        self
    }

    /// Echo the client's time from the request (§5.9.1 ctime/cusec).
    pub fn client_time(mut self, ctime: SystemTime) -> Self {
        let (t, us) = to_kerberos_time_usec(ctime);
        self.err.ctime = Some(t);
        self.err.cusec = Some(us);
        self
    }

    /// Human-readable e-text.
    pub fn e_text(mut self, text: &str) -> Self {
        self.err.e_text = Some(text.to_string());
        self
    }

    /// Raw e-data.
    pub fn e_data(mut self, data: Vec<u8>) -> Self {
        self.err.e_data = Some(data);
        self
    }

    /// e-data as METHOD-DATA (`SEQUENCE OF PA-DATA`), as for
    /// KDC_ERR_PREAUTH_REQUIRED (RFC 4120 §5.2.7, §7.5.9).
    pub fn method_data(self, padata: &[PaData]) -> Self {
        let md: Vec<PaData> = padata.to_vec();
        self.e_data(md.build())
    }

    /// The finished message.
    pub fn build(self) -> KrbError {
        self.err
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::krb::{KrbMessage, decode};
    use std::time::{Duration, UNIX_EPOCH};

    #[test]
    fn builds_a_decodable_error_with_header_and_method_data() {
        let now = UNIX_EPOCH + Duration::from_micros(1_780_000_000_250_000);
        let sname = crate::krb::principal(2, &["krbtgt", "LAB.TEST"]);
        let e = KrbErrorBuilder::new(25, now, "LAB.TEST", sname)
            .client("LAB.TEST", crate::krb::principal(1, &["alice"]))
            .method_data(&[PaData::new(2, vec![]), PaData::new(133, b"MIT".to_vec())])
            .build();
        assert_eq!((e.pvno, e.msg_type, e.susec), (5, 30, 250_000));
        let bytes = e.build();
        let KrbMessage::KrbError(back) = decode(&bytes).unwrap() else {
            panic!("not a KRB-ERROR")
        };
        assert_eq!(back, e);
        let md = crate::krb::decode_method_data(back.e_data.as_deref().unwrap()).unwrap();
        assert_eq!(md.len(), 2);
        assert_eq!(KrbMessage::KrbError(back).header_error(), None);
    }
}
