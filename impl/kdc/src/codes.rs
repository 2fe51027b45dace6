//! The typed KRB-ERROR code the KDC's decisions carry. The numbers and
//! names themselves live in `kerbside_wire::krb::constants`.

use std::fmt;

use kerbside_wire::krb::constants::{error_code as ec, error_code_name};

/// A KRB-ERROR `error-code` (RFC 4120 §7.5.9, RFC 6113 §7.5).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ErrorCode(pub i32);

#[allow(missing_docs)] // the names are the RFC's
impl ErrorCode {
    pub const KDC_ERR_NAME_EXP: ErrorCode = ErrorCode(ec::KDC_ERR_NAME_EXP);
    pub const KDC_ERR_SERVICE_EXP: ErrorCode = ErrorCode(ec::KDC_ERR_SERVICE_EXP);
    pub const KDC_ERR_BAD_PVNO: ErrorCode = ErrorCode(ec::KDC_ERR_BAD_PVNO);
    pub const KDC_ERR_C_PRINCIPAL_UNKNOWN: ErrorCode = ErrorCode(ec::KDC_ERR_C_PRINCIPAL_UNKNOWN);
    pub const KDC_ERR_S_PRINCIPAL_UNKNOWN: ErrorCode = ErrorCode(ec::KDC_ERR_S_PRINCIPAL_UNKNOWN);
    pub const KDC_ERR_CANNOT_POSTDATE: ErrorCode = ErrorCode(ec::KDC_ERR_CANNOT_POSTDATE);
    pub const KDC_ERR_NEVER_VALID: ErrorCode = ErrorCode(ec::KDC_ERR_NEVER_VALID);
    pub const KDC_ERR_POLICY: ErrorCode = ErrorCode(ec::KDC_ERR_POLICY);
    pub const KDC_ERR_BADOPTION: ErrorCode = ErrorCode(ec::KDC_ERR_BADOPTION);
    pub const KDC_ERR_ETYPE_NOSUPP: ErrorCode = ErrorCode(ec::KDC_ERR_ETYPE_NOSUPP);
    pub const KDC_ERR_PADATA_TYPE_NOSUPP: ErrorCode = ErrorCode(ec::KDC_ERR_PADATA_TYPE_NOSUPP);
    pub const KDC_ERR_CLIENT_REVOKED: ErrorCode = ErrorCode(ec::KDC_ERR_CLIENT_REVOKED);
    pub const KDC_ERR_SERVICE_REVOKED: ErrorCode = ErrorCode(ec::KDC_ERR_SERVICE_REVOKED);
    pub const KDC_ERR_TGT_REVOKED: ErrorCode = ErrorCode(ec::KDC_ERR_TGT_REVOKED);
    pub const KDC_ERR_SERVER_NOMATCH: ErrorCode = ErrorCode(ec::KDC_ERR_SERVER_NOMATCH);
    pub const KDC_ERR_PREAUTH_FAILED: ErrorCode = ErrorCode(ec::KDC_ERR_PREAUTH_FAILED);
    pub const KDC_ERR_PREAUTH_REQUIRED: ErrorCode = ErrorCode(ec::KDC_ERR_PREAUTH_REQUIRED);
    pub const KDC_ERR_SVC_UNAVAILABLE: ErrorCode = ErrorCode(ec::KDC_ERR_SVC_UNAVAILABLE);
    pub const KRB_AP_ERR_BAD_INTEGRITY: ErrorCode = ErrorCode(ec::KRB_AP_ERR_BAD_INTEGRITY);
    pub const KRB_AP_ERR_TKT_EXPIRED: ErrorCode = ErrorCode(ec::KRB_AP_ERR_TKT_EXPIRED);
    pub const KRB_AP_ERR_TKT_NYV: ErrorCode = ErrorCode(ec::KRB_AP_ERR_TKT_NYV);
    pub const KRB_AP_ERR_REPEAT: ErrorCode = ErrorCode(ec::KRB_AP_ERR_REPEAT);
    pub const KRB_AP_ERR_NOT_US: ErrorCode = ErrorCode(ec::KRB_AP_ERR_NOT_US);
    pub const KRB_AP_ERR_BADMATCH: ErrorCode = ErrorCode(ec::KRB_AP_ERR_BADMATCH);
    pub const KRB_AP_ERR_SKEW: ErrorCode = ErrorCode(ec::KRB_AP_ERR_SKEW);
    pub const KRB_AP_ERR_BADVERSION: ErrorCode = ErrorCode(ec::KRB_AP_ERR_BADVERSION);
    pub const KRB_AP_ERR_MSG_TYPE: ErrorCode = ErrorCode(ec::KRB_AP_ERR_MSG_TYPE);
    pub const KRB_AP_ERR_MODIFIED: ErrorCode = ErrorCode(ec::KRB_AP_ERR_MODIFIED);
    pub const KRB_AP_ERR_BADKEYVER: ErrorCode = ErrorCode(ec::KRB_AP_ERR_BADKEYVER);
    pub const KRB_AP_ERR_NOKEY: ErrorCode = ErrorCode(ec::KRB_AP_ERR_NOKEY);
    pub const KRB_AP_ERR_INAPP_CKSUM: ErrorCode = ErrorCode(ec::KRB_AP_ERR_INAPP_CKSUM);
    pub const KRB_ERR_RESPONSE_TOO_BIG: ErrorCode = ErrorCode(ec::KRB_ERR_RESPONSE_TOO_BIG);
    pub const KRB_ERR_GENERIC: ErrorCode = ErrorCode(ec::KRB_ERR_GENERIC);
    pub const KRB_ERR_FIELD_TOOLONG: ErrorCode = ErrorCode(ec::KRB_ERR_FIELD_TOOLONG);
    pub const KDC_ERR_WRONG_REALM: ErrorCode = ErrorCode(ec::KDC_ERR_WRONG_REALM);

    /// The RFC's name, for logs (`KRB_ERR_OTHER` for unknown numbers).
    pub fn name(self) -> &'static str {
        error_code_name(self.0).unwrap_or("KRB_ERR_OTHER")
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}({})", self.name(), self.0)
    }
}

/// RFC 6806 §11 / MIT `KRB5_KEYUSAGE_AS_REQ`: the key usage of the checksum
/// over the AS-REQ carried in PA-REQ-ENC-PA-REP.
pub const USAGE_AS_REQ_CKSUM: u32 = 56;
