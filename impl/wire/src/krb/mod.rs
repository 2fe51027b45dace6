//! Kerberos V5 messages (RFC 4120) through `kerberos_asn1`, decoded safely.
//!
//! * [`decode`]: any top-level message by APPLICATION tag;
//! * [`decode_der`]: THE safe entry point for any `kerberos_asn1` type
//!   (EncTicketPart, Authenticator, PaEncTsEnc, EtypeInfo2, MethodData, ...);
//! * [`decode_enc_rep_part`]: EncASRepPart/EncTGSRepPart under tag 25 or 26;
//! * [`decode_padata`] / [`PaValue`]: typed PA-DATA;
//! * [`KrbErrorBuilder`]: a KRB-ERROR with pvno/msg-type/stime set;
//! * [`constants`]: numbers and names.
//!
//! Pitfalls of `kerberos_asn1` types that callers must know:
//! * `PrincipalName::to_string()`, `Display` and `main_name()` panic on an
//!   empty name-string (which decodes fine): use [`principal_to_string`].
//! * `PrincipalName`'s `PartialEq` ignores case: compare `name_string`
//!   vectors when case matters.
//! * `UInt32` fields (nonce, kvno, seq-number) only decode from at most 4
//!   content octets, so a value >= 2^31 must arrive in the 4-octet negative
//!   form MIT and Windows use; the 5-octet DER form of a large unsigned
//!   value is rejected.
//! * Never call `Asn1Object::parse` on network bytes directly.

pub mod constants;
mod decode;
mod krb_error;
mod message;
mod padata;

pub use kerberos_asn1 as asn1;
pub use kerberos_asn1::Asn1Object;

pub use decode::decode_der;
pub use krb_error::KrbErrorBuilder;
pub use message::{EncRepPart, KrbMessage, decode, decode_enc_rep_part, is_message_tag};
pub use padata::{PaValue, decode_method_data, decode_padata};

use kerberos_asn1::PrincipalName;

/// A PrincipalName from its type and components.
pub fn principal(name_type: i32, components: &[&str]) -> PrincipalName {
    PrincipalName {
        name_type,
        name_string: components.iter().map(|c| (*c).to_string()).collect(),
    }
}

/// `a/b/c`, never panicking (unlike `PrincipalName::to_string`).
pub fn principal_to_string(p: &PrincipalName) -> String {
    p.name_string.join("/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn principal_helpers_cope_with_empty_names() {
        let p = principal(2, &["krbtgt", "LAB.TEST"]);
        assert_eq!(principal_to_string(&p), "krbtgt/LAB.TEST");
        assert_eq!(principal_to_string(&principal(1, &[])), "");
    }
}
