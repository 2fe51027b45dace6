//! Kerberos numbers with their names: message types, error codes, PA-DATA
//! types, key usages, flag bits, encryption/checksum/name types.
//!
//! Flag bits follow the ASN.1 BIT STRING numbering of RFC 4120: bit 0 is the
//! most significant bit of the 32-bit value `KerberosFlags::flags`, so bit
//! `n` is the mask `0x8000_0000 >> n`.

/// The mask of KerberosFlags bit `n` (RFC 4120 §5.2.8: bit 0 is the MSB).
pub const fn flag_bit(n: u32) -> u32 {
    0x8000_0000 >> n
}

/// Protocol version number (RFC 4120 §5.1: pvno 5).
pub const PVNO: i32 = 5;

/// Message types (RFC 4120 §7.5.7); each equals its APPLICATION tag.
pub mod msg_type {
    pub const AS_REQ: i32 = 10;
    pub const AS_REP: i32 = 11;
    pub const TGS_REQ: i32 = 12;
    pub const TGS_REP: i32 = 13;
    pub const AP_REQ: i32 = 14;
    pub const AP_REP: i32 = 15;
    pub const KRB_SAFE: i32 = 20;
    pub const KRB_PRIV: i32 = 21;
    pub const KRB_CRED: i32 = 22;
    pub const KRB_ERROR: i32 = 30;
}

/// Error codes (RFC 4120 §7.5.9; RFC 4556 PKINIT 62-66/70-76; RFC 6113
/// FAST 90-93; draft-ietf-kitten-iakerb-03 / MIT 85-86).
pub mod error_code {
    pub const KDC_ERR_NONE: i32 = 0;
    pub const KDC_ERR_NAME_EXP: i32 = 1;
    pub const KDC_ERR_SERVICE_EXP: i32 = 2;
    pub const KDC_ERR_BAD_PVNO: i32 = 3;
    pub const KDC_ERR_C_OLD_MAST_KVNO: i32 = 4;
    pub const KDC_ERR_S_OLD_MAST_KVNO: i32 = 5;
    pub const KDC_ERR_C_PRINCIPAL_UNKNOWN: i32 = 6;
    pub const KDC_ERR_S_PRINCIPAL_UNKNOWN: i32 = 7;
    pub const KDC_ERR_PRINCIPAL_NOT_UNIQUE: i32 = 8;
    pub const KDC_ERR_NULL_KEY: i32 = 9;
    pub const KDC_ERR_CANNOT_POSTDATE: i32 = 10;
    pub const KDC_ERR_NEVER_VALID: i32 = 11;
    pub const KDC_ERR_POLICY: i32 = 12;
    pub const KDC_ERR_BADOPTION: i32 = 13;
    pub const KDC_ERR_ETYPE_NOSUPP: i32 = 14;
    pub const KDC_ERR_SUMTYPE_NOSUPP: i32 = 15;
    pub const KDC_ERR_PADATA_TYPE_NOSUPP: i32 = 16;
    pub const KDC_ERR_TRTYPE_NOSUPP: i32 = 17;
    pub const KDC_ERR_CLIENT_REVOKED: i32 = 18;
    pub const KDC_ERR_SERVICE_REVOKED: i32 = 19;
    pub const KDC_ERR_TGT_REVOKED: i32 = 20;
    pub const KDC_ERR_CLIENT_NOTYET: i32 = 21;
    pub const KDC_ERR_SERVICE_NOTYET: i32 = 22;
    pub const KDC_ERR_KEY_EXPIRED: i32 = 23;
    pub const KDC_ERR_PREAUTH_FAILED: i32 = 24;
    pub const KDC_ERR_PREAUTH_REQUIRED: i32 = 25;
    pub const KDC_ERR_SERVER_NOMATCH: i32 = 26;
    pub const KDC_ERR_MUST_USE_USER2USER: i32 = 27;
    pub const KDC_ERR_PATH_NOT_ACCEPTED: i32 = 28;
    pub const KDC_ERR_SVC_UNAVAILABLE: i32 = 29;
    pub const KRB_AP_ERR_BAD_INTEGRITY: i32 = 31;
    pub const KRB_AP_ERR_TKT_EXPIRED: i32 = 32;
    pub const KRB_AP_ERR_TKT_NYV: i32 = 33;
    pub const KRB_AP_ERR_REPEAT: i32 = 34;
    pub const KRB_AP_ERR_NOT_US: i32 = 35;
    pub const KRB_AP_ERR_BADMATCH: i32 = 36;
    pub const KRB_AP_ERR_SKEW: i32 = 37;
    pub const KRB_AP_ERR_BADADDR: i32 = 38;
    pub const KRB_AP_ERR_BADVERSION: i32 = 39;
    pub const KRB_AP_ERR_MSG_TYPE: i32 = 40;
    pub const KRB_AP_ERR_MODIFIED: i32 = 41;
    pub const KRB_AP_ERR_BADORDER: i32 = 42;
    pub const KRB_AP_ERR_BADKEYVER: i32 = 44;
    pub const KRB_AP_ERR_NOKEY: i32 = 45;
    pub const KRB_AP_ERR_MUT_FAIL: i32 = 46;
    pub const KRB_AP_ERR_BADDIRECTION: i32 = 47;
    pub const KRB_AP_ERR_METHOD: i32 = 48;
    pub const KRB_AP_ERR_BADSEQ: i32 = 49;
    pub const KRB_AP_ERR_INAPP_CKSUM: i32 = 50;
    pub const KRB_AP_PATH_NOT_ACCEPTED: i32 = 51;
    pub const KRB_ERR_RESPONSE_TOO_BIG: i32 = 52;
    pub const KRB_ERR_GENERIC: i32 = 60;
    pub const KRB_ERR_FIELD_TOOLONG: i32 = 61;
    pub const KDC_ERR_CLIENT_NOT_TRUSTED: i32 = 62;
    pub const KDC_ERR_KDC_NOT_TRUSTED: i32 = 63;
    pub const KDC_ERR_INVALID_SIG: i32 = 64;
    pub const KDC_ERR_KEY_TOO_WEAK: i32 = 65;
    pub const KDC_ERR_CERTIFICATE_MISMATCH: i32 = 66;
    pub const KRB_AP_ERR_NO_TGT: i32 = 67;
    pub const KDC_ERR_WRONG_REALM: i32 = 68;
    pub const KRB_AP_ERR_USER_TO_USER_REQUIRED: i32 = 69;
    pub const KDC_ERR_CANT_VERIFY_CERTIFICATE: i32 = 70;
    pub const KDC_ERR_INVALID_CERTIFICATE: i32 = 71;
    pub const KDC_ERR_REVOKED_CERTIFICATE: i32 = 72;
    pub const KDC_ERR_REVOCATION_STATUS_UNKNOWN: i32 = 73;
    pub const KDC_ERR_REVOCATION_STATUS_UNAVAILABLE: i32 = 74;
    pub const KDC_ERR_CLIENT_NAME_MISMATCH: i32 = 75;
    pub const KDC_ERR_KDC_NAME_MISMATCH: i32 = 76;
    pub const KRB_AP_ERR_IAKERB_KDC_NOT_FOUND: i32 = 85;
    pub const KRB_AP_ERR_IAKERB_KDC_NO_RESPONSE: i32 = 86;
    pub const KDC_ERR_PREAUTH_EXPIRED: i32 = 90;
    pub const KDC_ERR_MORE_PREAUTH_DATA_REQUIRED: i32 = 91;
    pub const KDC_ERR_PREAUTH_BAD_AUTHENTICATION_SET: i32 = 92;
    pub const KDC_ERR_UNKNOWN_CRITICAL_FAST_OPTIONS: i32 = 93;
}

/// PA-DATA types (RFC 4120 §7.5.2, RFC 6113, RFC 6806, RFC 8070, MS-KILE,
/// MS-SFU, RFC 4556).
pub mod padata_type {
    pub const PA_TGS_REQ: i32 = 1;
    pub const PA_ENC_TIMESTAMP: i32 = 2;
    pub const PA_PW_SALT: i32 = 3;
    pub const PA_ETYPE_INFO: i32 = 11;
    pub const PA_PK_AS_REP_OLD: i32 = 15;
    pub const PA_PK_AS_REQ: i32 = 16;
    pub const PA_PK_AS_REP: i32 = 17;
    pub const PA_ETYPE_INFO2: i32 = 19;
    pub const PA_SVR_REFERRAL_INFO: i32 = 20;
    pub const TD_CMS_DIGEST_ALGORITHMS: i32 = 111;
    pub const PA_PAC_REQUEST: i32 = 128;
    pub const PA_FOR_USER: i32 = 129;
    pub const PA_FOR_X509_USER: i32 = 130;
    pub const PA_FX_COOKIE: i32 = 133;
    pub const PA_AUTHENTICATION_SET: i32 = 134;
    pub const PA_AUTH_SET_SELECTED: i32 = 135;
    pub const PA_FX_FAST: i32 = 136;
    pub const PA_FX_ERROR: i32 = 137;
    pub const PA_ENCRYPTED_CHALLENGE: i32 = 138;
    pub const PA_PKINIT_KX: i32 = 147;
    pub const PA_REQ_ENC_PA_REP: i32 = 149;
    pub const PA_AS_FRESHNESS: i32 = 150;
    pub const PA_SPAKE: i32 = 151;
    pub const PA_SUPPORTED_ENCTYPES: i32 = 165;
    pub const PA_PAC_OPTIONS: i32 = 167;
}

/// Key usage numbers (RFC 4120 §7.5.1, RFC 4121 §2, RFC 6113 §5.4,
/// draft-ietf-kitten-iakerb-03 / MIT for FINISHED).
pub mod key_usage {
    pub const AS_REQ_PA_ENC_TIMESTAMP: u32 = 1;
    pub const KDC_REP_TICKET: u32 = 2;
    pub const AS_REP_ENC_PART: u32 = 3;
    pub const TGS_REQ_AD_SESSKEY: u32 = 4;
    pub const TGS_REQ_AD_SUBKEY: u32 = 5;
    pub const TGS_REQ_AUTH_CKSUM: u32 = 6;
    pub const TGS_REQ_AUTH: u32 = 7;
    pub const TGS_REP_ENC_PART_SESSKEY: u32 = 8;
    pub const TGS_REP_ENC_PART_SUBKEY: u32 = 9;
    pub const AP_REQ_AUTH_CKSUM: u32 = 10;
    pub const AP_REQ_AUTH: u32 = 11;
    pub const AP_REP_ENC_PART: u32 = 12;
    pub const KRB_PRIV_ENC_PART: u32 = 13;
    pub const KRB_CRED_ENC_PART: u32 = 14;
    pub const KRB_SAFE_CKSUM: u32 = 15;
    pub const AD_KDC_ISSUED_CKSUM: u32 = 19;
    pub const GSS_ACCEPTOR_SEAL: u32 = 22;
    pub const GSS_ACCEPTOR_SIGN: u32 = 23;
    pub const GSS_INITIATOR_SEAL: u32 = 24;
    pub const GSS_INITIATOR_SIGN: u32 = 25;
    pub const IAKERB_FINISHED: u32 = 41;
    pub const FAST_REQ_CHKSUM: u32 = 50;
    pub const FAST_ENC: u32 = 51;
    pub const FAST_REP: u32 = 52;
    pub const FAST_FINISHED: u32 = 53;
    pub const ENC_CHALLENGE_CLIENT: u32 = 54;
    pub const ENC_CHALLENGE_KDC: u32 = 55;
}

/// KDCOptions bit masks (RFC 4120 §5.4.1; canonicalize RFC 6806 §11;
/// cname-in-addl-tkt MS-SFU §2.2.3; request-anonymous RFC 8062).
pub mod kdc_options {
    use super::flag_bit;
    pub const RESERVED: u32 = flag_bit(0);
    pub const FORWARDABLE: u32 = flag_bit(1);
    pub const FORWARDED: u32 = flag_bit(2);
    pub const PROXIABLE: u32 = flag_bit(3);
    pub const PROXY: u32 = flag_bit(4);
    pub const ALLOW_POSTDATE: u32 = flag_bit(5);
    pub const POSTDATED: u32 = flag_bit(6);
    pub const RENEWABLE: u32 = flag_bit(8);
    pub const OPT_HARDWARE_AUTH: u32 = flag_bit(11);
    pub const CNAME_IN_ADDL_TKT: u32 = flag_bit(14);
    pub const CANONICALIZE: u32 = flag_bit(15);
    pub const REQUEST_ANONYMOUS: u32 = flag_bit(16);
    pub const DISABLE_TRANSITED_CHECK: u32 = flag_bit(26);
    pub const RENEWABLE_OK: u32 = flag_bit(27);
    pub const ENC_TKT_IN_SKEY: u32 = flag_bit(28);
    pub const RENEW: u32 = flag_bit(30);
    pub const VALIDATE: u32 = flag_bit(31);
}

/// TicketFlags bit masks (RFC 4120 §5.3; enc-pa-rep RFC 6806 §11;
/// anonymous RFC 8062).
pub mod ticket_flags {
    use super::flag_bit;
    pub const RESERVED: u32 = flag_bit(0);
    pub const FORWARDABLE: u32 = flag_bit(1);
    pub const FORWARDED: u32 = flag_bit(2);
    pub const PROXIABLE: u32 = flag_bit(3);
    pub const PROXY: u32 = flag_bit(4);
    pub const MAY_POSTDATE: u32 = flag_bit(5);
    pub const POSTDATED: u32 = flag_bit(6);
    pub const INVALID: u32 = flag_bit(7);
    pub const RENEWABLE: u32 = flag_bit(8);
    pub const INITIAL: u32 = flag_bit(9);
    pub const PRE_AUTHENT: u32 = flag_bit(10);
    pub const HW_AUTHENT: u32 = flag_bit(11);
    pub const TRANSITED_POLICY_CHECKED: u32 = flag_bit(12);
    pub const OK_AS_DELEGATE: u32 = flag_bit(13);
    pub const ENC_PA_REP: u32 = flag_bit(15);
    pub const ANONYMOUS: u32 = flag_bit(16);
}

/// APOptions bit masks (RFC 4120 §5.5.1).
pub mod ap_options {
    use super::flag_bit;
    pub const RESERVED: u32 = flag_bit(0);
    pub const USE_SESSION_KEY: u32 = flag_bit(1);
    pub const MUTUAL_REQUIRED: u32 = flag_bit(2);
}

/// Encryption types (RFC 3961 §8, RFC 3962, RFC 8009, RFC 4757, RFC 6803).
pub mod etype {
    pub const DES_CBC_CRC: i32 = 1;
    pub const DES_CBC_MD5: i32 = 3;
    pub const DES3_CBC_SHA1_KD: i32 = 16;
    pub const AES128_CTS_HMAC_SHA1_96: i32 = 17;
    pub const AES256_CTS_HMAC_SHA1_96: i32 = 18;
    pub const AES128_CTS_HMAC_SHA256_128: i32 = 19;
    pub const AES256_CTS_HMAC_SHA384_192: i32 = 20;
    pub const RC4_HMAC: i32 = 23;
    pub const RC4_HMAC_EXP: i32 = 24;
    pub const CAMELLIA128_CTS_CMAC: i32 = 25;
    pub const CAMELLIA256_CTS_CMAC: i32 = 26;
}

/// Principal name types (RFC 4120 §6.2, RFC 6111, MS-KILE).
pub mod name_type {
    pub const NT_UNKNOWN: i32 = 0;
    pub const NT_PRINCIPAL: i32 = 1;
    pub const NT_SRV_INST: i32 = 2;
    pub const NT_SRV_HST: i32 = 3;
    pub const NT_SRV_XHST: i32 = 4;
    pub const NT_UID: i32 = 5;
    pub const NT_X500_PRINCIPAL: i32 = 6;
    pub const NT_SMTP_NAME: i32 = 7;
    pub const NT_ENTERPRISE: i32 = 10;
    pub const NT_WELLKNOWN: i32 = 11;
}

/// Checksum types (RFC 3961 §8, RFC 3962, RFC 8009, RFC 4757, RFC 4121 §4.1.1).
pub mod cksum_type {
    pub const CRC32: i32 = 1;
    pub const RSA_MD5: i32 = 7;
    pub const HMAC_SHA1_96_AES128: i32 = 15;
    pub const HMAC_SHA1_96_AES256: i32 = 16;
    pub const HMAC_SHA256_128_AES128: i32 = 19;
    pub const HMAC_SHA384_192_AES256: i32 = 20;
    pub const HMAC_MD5: i32 = -138;
    pub const GSSAPI: i32 = 0x8003;
}

/// Authorization data types (RFC 4120 §7.5.4, MS-PAC, MS-KILE, RFC 6113).
pub mod ad_type {
    pub const AD_IF_RELEVANT: i32 = 1;
    pub const AD_KDC_ISSUED: i32 = 4;
    pub const AD_AND_OR: i32 = 5;
    pub const AD_MANDATORY_FOR_KDC: i32 = 8;
    pub const AD_FX_FAST_ARMOR: i32 = 71;
    pub const AD_FX_FAST_USED: i32 = 72;
    pub const AD_WIN2K_PAC: i32 = 128;
    pub const KERB_AUTH_DATA_TOKEN_RESTRICTIONS: i32 = 141;
    pub const KERB_LOCAL: i32 = 142;
    pub const AD_AUTH_DATA_AP_OPTIONS: i32 = 143;
}

/// Host address types (RFC 4120 §7.5.3).
pub mod addr_type {
    pub const IPV4: i32 = 2;
    pub const DIRECTIONAL: i32 = 3;
    pub const CHAOSNET: i32 = 5;
    pub const XNS: i32 = 6;
    pub const ISO: i32 = 7;
    pub const DECNET_PHASE_IV: i32 = 12;
    pub const APPLETALK_DDP: i32 = 16;
    pub const NETBIOS: i32 = 20;
    pub const IPV6: i32 = 24;
}

macro_rules! name_table {
    ($fn_name:ident, $ty:ty, $doc:literal, { $($value:path => $name:literal),* $(,)? }) => {
        #[doc = $doc]
        pub fn $fn_name(v: $ty) -> Option<&'static str> {
            match v {
                $(x if x == $value => Some($name),)*
                _ => None,
            }
        }
    };
}

name_table!(msg_type_name, i32, "Name of a message type, e.g. `AS-REQ`.", {
    msg_type::AS_REQ => "AS-REQ", msg_type::AS_REP => "AS-REP",
    msg_type::TGS_REQ => "TGS-REQ", msg_type::TGS_REP => "TGS-REP",
    msg_type::AP_REQ => "AP-REQ", msg_type::AP_REP => "AP-REP",
    msg_type::KRB_SAFE => "KRB-SAFE", msg_type::KRB_PRIV => "KRB-PRIV",
    msg_type::KRB_CRED => "KRB-CRED", msg_type::KRB_ERROR => "KRB-ERROR",
});

name_table!(error_code_name, i32, "Name of an error code, e.g. `KDC_ERR_PREAUTH_REQUIRED`.", {
    error_code::KDC_ERR_NONE => "KDC_ERR_NONE",
    error_code::KDC_ERR_NAME_EXP => "KDC_ERR_NAME_EXP",
    error_code::KDC_ERR_SERVICE_EXP => "KDC_ERR_SERVICE_EXP",
    error_code::KDC_ERR_BAD_PVNO => "KDC_ERR_BAD_PVNO",
    error_code::KDC_ERR_C_OLD_MAST_KVNO => "KDC_ERR_C_OLD_MAST_KVNO",
    error_code::KDC_ERR_S_OLD_MAST_KVNO => "KDC_ERR_S_OLD_MAST_KVNO",
    error_code::KDC_ERR_C_PRINCIPAL_UNKNOWN => "KDC_ERR_C_PRINCIPAL_UNKNOWN",
    error_code::KDC_ERR_S_PRINCIPAL_UNKNOWN => "KDC_ERR_S_PRINCIPAL_UNKNOWN",
    error_code::KDC_ERR_PRINCIPAL_NOT_UNIQUE => "KDC_ERR_PRINCIPAL_NOT_UNIQUE",
    error_code::KDC_ERR_NULL_KEY => "KDC_ERR_NULL_KEY",
    error_code::KDC_ERR_CANNOT_POSTDATE => "KDC_ERR_CANNOT_POSTDATE",
    error_code::KDC_ERR_NEVER_VALID => "KDC_ERR_NEVER_VALID",
    error_code::KDC_ERR_POLICY => "KDC_ERR_POLICY",
    error_code::KDC_ERR_BADOPTION => "KDC_ERR_BADOPTION",
    error_code::KDC_ERR_ETYPE_NOSUPP => "KDC_ERR_ETYPE_NOSUPP",
    error_code::KDC_ERR_SUMTYPE_NOSUPP => "KDC_ERR_SUMTYPE_NOSUPP",
    error_code::KDC_ERR_PADATA_TYPE_NOSUPP => "KDC_ERR_PADATA_TYPE_NOSUPP",
    error_code::KDC_ERR_TRTYPE_NOSUPP => "KDC_ERR_TRTYPE_NOSUPP",
    error_code::KDC_ERR_CLIENT_REVOKED => "KDC_ERR_CLIENT_REVOKED",
    error_code::KDC_ERR_SERVICE_REVOKED => "KDC_ERR_SERVICE_REVOKED",
    error_code::KDC_ERR_TGT_REVOKED => "KDC_ERR_TGT_REVOKED",
    error_code::KDC_ERR_CLIENT_NOTYET => "KDC_ERR_CLIENT_NOTYET",
    error_code::KDC_ERR_SERVICE_NOTYET => "KDC_ERR_SERVICE_NOTYET",
    error_code::KDC_ERR_KEY_EXPIRED => "KDC_ERR_KEY_EXPIRED",
    error_code::KDC_ERR_PREAUTH_FAILED => "KDC_ERR_PREAUTH_FAILED",
    error_code::KDC_ERR_PREAUTH_REQUIRED => "KDC_ERR_PREAUTH_REQUIRED",
    error_code::KDC_ERR_SERVER_NOMATCH => "KDC_ERR_SERVER_NOMATCH",
    error_code::KDC_ERR_MUST_USE_USER2USER => "KDC_ERR_MUST_USE_USER2USER",
    error_code::KDC_ERR_PATH_NOT_ACCEPTED => "KDC_ERR_PATH_NOT_ACCEPTED",
    error_code::KDC_ERR_SVC_UNAVAILABLE => "KDC_ERR_SVC_UNAVAILABLE",
    error_code::KRB_AP_ERR_BAD_INTEGRITY => "KRB_AP_ERR_BAD_INTEGRITY",
    error_code::KRB_AP_ERR_TKT_EXPIRED => "KRB_AP_ERR_TKT_EXPIRED",
    error_code::KRB_AP_ERR_TKT_NYV => "KRB_AP_ERR_TKT_NYV",
    error_code::KRB_AP_ERR_REPEAT => "KRB_AP_ERR_REPEAT",
    error_code::KRB_AP_ERR_NOT_US => "KRB_AP_ERR_NOT_US",
    error_code::KRB_AP_ERR_BADMATCH => "KRB_AP_ERR_BADMATCH",
    error_code::KRB_AP_ERR_SKEW => "KRB_AP_ERR_SKEW",
    error_code::KRB_AP_ERR_BADADDR => "KRB_AP_ERR_BADADDR",
    error_code::KRB_AP_ERR_BADVERSION => "KRB_AP_ERR_BADVERSION",
    error_code::KRB_AP_ERR_MSG_TYPE => "KRB_AP_ERR_MSG_TYPE",
    error_code::KRB_AP_ERR_MODIFIED => "KRB_AP_ERR_MODIFIED",
    error_code::KRB_AP_ERR_BADORDER => "KRB_AP_ERR_BADORDER",
    error_code::KRB_AP_ERR_BADKEYVER => "KRB_AP_ERR_BADKEYVER",
    error_code::KRB_AP_ERR_NOKEY => "KRB_AP_ERR_NOKEY",
    error_code::KRB_AP_ERR_MUT_FAIL => "KRB_AP_ERR_MUT_FAIL",
    error_code::KRB_AP_ERR_BADDIRECTION => "KRB_AP_ERR_BADDIRECTION",
    error_code::KRB_AP_ERR_METHOD => "KRB_AP_ERR_METHOD",
    error_code::KRB_AP_ERR_BADSEQ => "KRB_AP_ERR_BADSEQ",
    error_code::KRB_AP_ERR_INAPP_CKSUM => "KRB_AP_ERR_INAPP_CKSUM",
    error_code::KRB_AP_PATH_NOT_ACCEPTED => "KRB_AP_PATH_NOT_ACCEPTED",
    error_code::KRB_ERR_RESPONSE_TOO_BIG => "KRB_ERR_RESPONSE_TOO_BIG",
    error_code::KRB_ERR_GENERIC => "KRB_ERR_GENERIC",
    error_code::KRB_ERR_FIELD_TOOLONG => "KRB_ERR_FIELD_TOOLONG",
    error_code::KDC_ERR_CLIENT_NOT_TRUSTED => "KDC_ERR_CLIENT_NOT_TRUSTED",
    error_code::KDC_ERR_KDC_NOT_TRUSTED => "KDC_ERR_KDC_NOT_TRUSTED",
    error_code::KDC_ERR_INVALID_SIG => "KDC_ERR_INVALID_SIG",
    error_code::KDC_ERR_KEY_TOO_WEAK => "KDC_ERR_KEY_TOO_WEAK",
    error_code::KDC_ERR_CERTIFICATE_MISMATCH => "KDC_ERR_CERTIFICATE_MISMATCH",
    error_code::KRB_AP_ERR_NO_TGT => "KRB_AP_ERR_NO_TGT",
    error_code::KDC_ERR_WRONG_REALM => "KDC_ERR_WRONG_REALM",
    error_code::KRB_AP_ERR_USER_TO_USER_REQUIRED => "KRB_AP_ERR_USER_TO_USER_REQUIRED",
    error_code::KDC_ERR_CANT_VERIFY_CERTIFICATE => "KDC_ERR_CANT_VERIFY_CERTIFICATE",
    error_code::KDC_ERR_INVALID_CERTIFICATE => "KDC_ERR_INVALID_CERTIFICATE",
    error_code::KDC_ERR_REVOKED_CERTIFICATE => "KDC_ERR_REVOKED_CERTIFICATE",
    error_code::KDC_ERR_REVOCATION_STATUS_UNKNOWN => "KDC_ERR_REVOCATION_STATUS_UNKNOWN",
    error_code::KDC_ERR_REVOCATION_STATUS_UNAVAILABLE => "KDC_ERR_REVOCATION_STATUS_UNAVAILABLE",
    error_code::KDC_ERR_CLIENT_NAME_MISMATCH => "KDC_ERR_CLIENT_NAME_MISMATCH",
    error_code::KDC_ERR_KDC_NAME_MISMATCH => "KDC_ERR_KDC_NAME_MISMATCH",
    error_code::KRB_AP_ERR_IAKERB_KDC_NOT_FOUND => "KRB_AP_ERR_IAKERB_KDC_NOT_FOUND",
    error_code::KRB_AP_ERR_IAKERB_KDC_NO_RESPONSE => "KRB_AP_ERR_IAKERB_KDC_NO_RESPONSE",
    error_code::KDC_ERR_PREAUTH_EXPIRED => "KDC_ERR_PREAUTH_EXPIRED",
    error_code::KDC_ERR_MORE_PREAUTH_DATA_REQUIRED => "KDC_ERR_MORE_PREAUTH_DATA_REQUIRED",
    error_code::KDC_ERR_PREAUTH_BAD_AUTHENTICATION_SET => "KDC_ERR_PREAUTH_BAD_AUTHENTICATION_SET",
    error_code::KDC_ERR_UNKNOWN_CRITICAL_FAST_OPTIONS => "KDC_ERR_UNKNOWN_CRITICAL_FAST_OPTIONS",
});

name_table!(padata_type_name, i32, "Name of a PA-DATA type, e.g. `PA-ENC-TIMESTAMP`.", {
    padata_type::PA_TGS_REQ => "PA-TGS-REQ",
    padata_type::PA_ENC_TIMESTAMP => "PA-ENC-TIMESTAMP",
    padata_type::PA_PW_SALT => "PA-PW-SALT",
    padata_type::PA_ETYPE_INFO => "PA-ETYPE-INFO",
    padata_type::PA_PK_AS_REP_OLD => "PA-PK-AS-REP_OLD",
    padata_type::PA_PK_AS_REQ => "PA-PK-AS-REQ",
    padata_type::PA_PK_AS_REP => "PA-PK-AS-REP",
    padata_type::PA_ETYPE_INFO2 => "PA-ETYPE-INFO2",
    padata_type::PA_SVR_REFERRAL_INFO => "PA-SVR-REFERRAL-INFO",
    padata_type::TD_CMS_DIGEST_ALGORITHMS => "TD-CMS-DIGEST-ALGORITHMS",
    padata_type::PA_PAC_REQUEST => "PA-PAC-REQUEST",
    padata_type::PA_FOR_USER => "PA-FOR-USER",
    padata_type::PA_FOR_X509_USER => "PA-FOR-X509-USER",
    padata_type::PA_FX_COOKIE => "PA-FX-COOKIE",
    padata_type::PA_AUTHENTICATION_SET => "PA-AUTHENTICATION-SET",
    padata_type::PA_AUTH_SET_SELECTED => "PA-AUTH-SET-SELECTED",
    padata_type::PA_FX_FAST => "PA-FX-FAST",
    padata_type::PA_FX_ERROR => "PA-FX-ERROR",
    padata_type::PA_ENCRYPTED_CHALLENGE => "PA-ENCRYPTED-CHALLENGE",
    padata_type::PA_PKINIT_KX => "PA-PKINIT-KX",
    padata_type::PA_REQ_ENC_PA_REP => "PA-REQ-ENC-PA-REP",
    padata_type::PA_AS_FRESHNESS => "PA-AS-FRESHNESS",
    padata_type::PA_SPAKE => "PA-SPAKE",
    padata_type::PA_SUPPORTED_ENCTYPES => "PA-SUPPORTED-ENCTYPES",
    padata_type::PA_PAC_OPTIONS => "PA-PAC-OPTIONS",
});

name_table!(etype_name, i32, "Name of an encryption type, e.g. `aes256-cts-hmac-sha1-96`.", {
    etype::DES_CBC_CRC => "des-cbc-crc",
    etype::DES_CBC_MD5 => "des-cbc-md5",
    etype::DES3_CBC_SHA1_KD => "des3-cbc-sha1-kd",
    etype::AES128_CTS_HMAC_SHA1_96 => "aes128-cts-hmac-sha1-96",
    etype::AES256_CTS_HMAC_SHA1_96 => "aes256-cts-hmac-sha1-96",
    etype::AES128_CTS_HMAC_SHA256_128 => "aes128-cts-hmac-sha256-128",
    etype::AES256_CTS_HMAC_SHA384_192 => "aes256-cts-hmac-sha384-192",
    etype::RC4_HMAC => "rc4-hmac",
    etype::RC4_HMAC_EXP => "rc4-hmac-exp",
    etype::CAMELLIA128_CTS_CMAC => "camellia128-cts-cmac",
    etype::CAMELLIA256_CTS_CMAC => "camellia256-cts-cmac",
});

name_table!(name_type_name, i32, "Name of a principal name type, e.g. `NT-PRINCIPAL`.", {
    name_type::NT_UNKNOWN => "NT-UNKNOWN",
    name_type::NT_PRINCIPAL => "NT-PRINCIPAL",
    name_type::NT_SRV_INST => "NT-SRV-INST",
    name_type::NT_SRV_HST => "NT-SRV-HST",
    name_type::NT_SRV_XHST => "NT-SRV-XHST",
    name_type::NT_UID => "NT-UID",
    name_type::NT_X500_PRINCIPAL => "NT-X500-PRINCIPAL",
    name_type::NT_SMTP_NAME => "NT-SMTP-NAME",
    name_type::NT_ENTERPRISE => "NT-ENTERPRISE",
    name_type::NT_WELLKNOWN => "NT-WELLKNOWN",
});

name_table!(cksum_type_name, i32, "Name of a checksum type, e.g. `hmac-sha1-96-aes256`.", {
    cksum_type::CRC32 => "crc32",
    cksum_type::RSA_MD5 => "rsa-md5",
    cksum_type::HMAC_SHA1_96_AES128 => "hmac-sha1-96-aes128",
    cksum_type::HMAC_SHA1_96_AES256 => "hmac-sha1-96-aes256",
    cksum_type::HMAC_SHA256_128_AES128 => "hmac-sha256-128-aes128",
    cksum_type::HMAC_SHA384_192_AES256 => "hmac-sha384-192-aes256",
    cksum_type::HMAC_MD5 => "hmac-md5",
    cksum_type::GSSAPI => "gssapi (RFC 4121 0x8003)",
});

name_table!(ad_type_name, i32, "Name of an authorization-data type, e.g. `AD-WIN2K-PAC`.", {
    ad_type::AD_IF_RELEVANT => "AD-IF-RELEVANT",
    ad_type::AD_KDC_ISSUED => "AD-KDC-ISSUED",
    ad_type::AD_AND_OR => "AD-AND-OR",
    ad_type::AD_MANDATORY_FOR_KDC => "AD-MANDATORY-FOR-KDC",
    ad_type::AD_FX_FAST_ARMOR => "AD-fx-fast-armor",
    ad_type::AD_FX_FAST_USED => "AD-fx-fast-used",
    ad_type::AD_WIN2K_PAC => "AD-WIN2K-PAC",
    ad_type::KERB_AUTH_DATA_TOKEN_RESTRICTIONS => "KERB-AUTH-DATA-TOKEN-RESTRICTIONS",
    ad_type::KERB_LOCAL => "KERB-LOCAL",
    ad_type::AD_AUTH_DATA_AP_OPTIONS => "AD-AUTH-DATA-AP-OPTIONS",
});

name_table!(addr_type_name, i32, "Name of a host address type, e.g. `IPv4`.", {
    addr_type::IPV4 => "IPv4",
    addr_type::DIRECTIONAL => "directional",
    addr_type::CHAOSNET => "ChaosNet",
    addr_type::XNS => "XNS",
    addr_type::ISO => "ISO",
    addr_type::DECNET_PHASE_IV => "DECNET Phase IV",
    addr_type::APPLETALK_DDP => "AppleTalk DDP",
    addr_type::NETBIOS => "NetBIOS",
    addr_type::IPV6 => "IPv6",
});

/// (bit number, name) of every named KDCOptions bit.
pub const KDC_OPTION_NAMES: &[(u32, &str)] = &[
    (0, "reserved"),
    (1, "forwardable"),
    (2, "forwarded"),
    (3, "proxiable"),
    (4, "proxy"),
    (5, "allow-postdate"),
    (6, "postdated"),
    (8, "renewable"),
    (11, "opt-hardware-auth"),
    (14, "cname-in-addl-tkt"),
    (15, "canonicalize"),
    (16, "request-anonymous"),
    (26, "disable-transited-check"),
    (27, "renewable-ok"),
    (28, "enc-tkt-in-skey"),
    (30, "renew"),
    (31, "validate"),
];

/// (bit number, name) of every named TicketFlags bit.
pub const TICKET_FLAG_NAMES: &[(u32, &str)] = &[
    (0, "reserved"),
    (1, "forwardable"),
    (2, "forwarded"),
    (3, "proxiable"),
    (4, "proxy"),
    (5, "may-postdate"),
    (6, "postdated"),
    (7, "invalid"),
    (8, "renewable"),
    (9, "initial"),
    (10, "pre-authent"),
    (11, "hw-authent"),
    (12, "transited-policy-checked"),
    (13, "ok-as-delegate"),
    (15, "enc-pa-rep"),
    (16, "anonymous"),
];

/// (bit number, name) of every named APOptions bit.
pub const AP_OPTION_NAMES: &[(u32, &str)] = &[
    (0, "reserved"),
    (1, "use-session-key"),
    (2, "mutual-required"),
];

/// Names of the set bits of `flags` (unnamed bits as `bit-N`).
pub fn flag_names(flags: u32, table: &[(u32, &'static str)]) -> Vec<String> {
    (0..32)
        .filter(|&n| flags & flag_bit(n) != 0)
        .map(|n| {
            table
                .iter()
                .find(|(b, _)| *b == n)
                .map(|(_, name)| (*name).to_string())
                .unwrap_or_else(|| format!("bit-{n}"))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flag_bits_count_from_the_msb() {
        // MIT's AS-REQ kdc-options 0x40000010 (protocols.md §1.2 K1):
        // forwardable (bit 1) + renewable-ok (bit 27).
        assert_eq!(
            kdc_options::FORWARDABLE | kdc_options::RENEWABLE_OK,
            0x4000_0010
        );
        assert_eq!(
            flag_names(0x4000_0010, KDC_OPTION_NAMES),
            ["forwardable", "renewable-ok"]
        );
        assert_eq!(flag_names(0x0000_0200, KDC_OPTION_NAMES), ["bit-22"]);
        assert_eq!(
            ticket_flags::INITIAL | ticket_flags::PRE_AUTHENT,
            0x0060_0000
        );
    }

    #[test]
    fn names_resolve() {
        assert_eq!(error_code_name(25), Some("KDC_ERR_PREAUTH_REQUIRED"));
        assert_eq!(error_code_name(85), Some("KRB_AP_ERR_IAKERB_KDC_NOT_FOUND"));
        assert_eq!(error_code_name(43), None);
        assert_eq!(padata_type_name(150), Some("PA-AS-FRESHNESS"));
        assert_eq!(etype_name(18), Some("aes256-cts-hmac-sha1-96"));
        assert_eq!(msg_type_name(30), Some("KRB-ERROR"));
    }
}
