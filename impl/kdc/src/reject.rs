//! Refusals and the KRB-ERROR replies they become (RFC 4120 §3.1.6,
//! §3.3.4, §5.9.1).
//!
//! Every check in the exchanges returns a [`Rejection`] carrying its RFC
//! 4120 code; the dispatcher turns it into a KRB-ERROR naming the KDC's
//! realm, the service the request was for, the client when known, and the
//! KDC's time (`stime`/`susec`, which is what lets a client correct its
//! clock after KRB_AP_ERR_SKEW).

use std::borrow::Cow;
use std::time::SystemTime;

use kerbside_wire::krb::KrbErrorBuilder;
use kerbside_wire::krb::asn1::{Asn1Object, PrincipalName};

use crate::codes::ErrorCode;

/// A request the KDC refuses, with what the KRB-ERROR should say.
#[derive(Clone, Debug, PartialEq)]
pub struct Rejection {
    /// The error code.
    pub code: ErrorCode,
    /// e-text: a short reason for people reading captures and logs. Never
    /// secret material.
    pub text: Cow<'static, str>,
    /// e-data (METHOD-DATA for PREAUTH_REQUIRED / PREAUTH_FAILED).
    pub e_data: Option<Vec<u8>>,
    /// Client realm and name, when the KDC knows who is asking.
    pub client: Option<(String, PrincipalName)>,
}

impl Rejection {
    /// A refusal with `code` and a reason.
    pub fn new(code: ErrorCode, text: impl Into<Cow<'static, str>>) -> Self {
        Self {
            code,
            text: text.into(),
            e_data: None,
            client: None,
        }
    }

    /// Names the client in the error (§5.9.1 crealm/cname).
    #[must_use]
    pub fn with_client(mut self, crealm: &str, cname: &PrincipalName) -> Self {
        self.client = Some((crealm.to_owned(), cname.clone()));
        self
    }

    /// Attaches e-data.
    #[must_use]
    pub fn with_e_data(mut self, e_data: Vec<u8>) -> Self {
        self.e_data = Some(e_data);
        self
    }

    /// The KRB-ERROR bytes. `realm`/`sname` identify the service the request
    /// was addressed to (§5.9.1: "realm and sname of the server").
    pub fn to_krb_error(&self, realm: &str, sname: PrincipalName, now: SystemTime) -> Vec<u8> {
        let mut b = KrbErrorBuilder::new(self.code.0, now, realm, sname);
        if let Some((crealm, cname)) = &self.client {
            b = b.client(crealm, cname.clone());
        }
        if !self.text.is_empty() {
            b = b.e_text(&self.text);
        }
        if let Some(d) = &self.e_data {
            b = b.e_data(d.clone());
        }
        b.build().build()
    }
}

/// Shorthand for the exchanges' result type.
pub type Checked<T> = Result<T, Rejection>;
