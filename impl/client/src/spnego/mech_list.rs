//! The mechListMIC (RFC 4178 §5) and mechanism-OID equivalences, shared by
//! the initiator here and the acceptor in `kerbside-server`.
//!
//! MIC = GSS_GetMIC(context, qop 0, DER(MechTypeList)), where the input is
//! the `SEQUENCE OF OBJECT IDENTIFIER` exactly as the initiator sent it
//! (`kerbside_wire::spnego::mech_type_list_der`), not the `[0]` wrapper.
//! Over NTLM the context must have negotiated signing; afterwards each side
//! restarts its RC4 handle (MS-SPNG §3.3.5.1).

use kerbside_wire::der::Oid;
use kerbside_wire::gss::oid;

use crate::gss::{Mechanism, ProtectionError, SecurityContext};

/// The mechanism an OID names, treating Microsoft's legacy Kerberos OID
/// 1.2.840.48018.1.2.2 as Kerberos (RFC 4178 Appendix C; MIT's
/// `negotiate_mech` does the same).
pub fn mechanism_of(mech: &Oid) -> Option<Mechanism> {
    if *mech == oid::KRB5 || *mech == oid::MS_KRB5 {
        Some(Mechanism::Kerberos)
    } else if *mech == oid::NTLMSSP {
        Some(Mechanism::Ntlm)
    } else {
        None
    }
}

/// Signs `mech_types_der` with the established context.
pub fn sign(ctx: &mut SecurityContext, mech_types_der: &[u8]) -> Result<Vec<u8>, ProtectionError> {
    match ctx {
        SecurityContext::Kerberos(k) => Ok(k.get_mic(mech_types_der)),
        SecurityContext::Ntlm(n) => {
            if !n.can_sign() {
                return Err(ProtectionError::NotNegotiated(
                    "NTLM signing (NTLMSSP_NEGOTIATE_SIGN) for the mechListMIC",
                ));
            }
            let mic = n.get_mic(mech_types_der);
            n.reset_send_cipher();
            Ok(mic)
        }
    }
}

/// Verifies the peer's MIC over `mech_types_der`.
pub fn verify(
    ctx: &mut SecurityContext,
    mech_types_der: &[u8],
    mic: &[u8],
) -> Result<(), ProtectionError> {
    match ctx {
        SecurityContext::Kerberos(k) => k.verify_mic(mech_types_der, mic),
        SecurityContext::Ntlm(n) => {
            n.verify_mic(mech_types_der, mic)?;
            n.reset_recv_cipher();
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ms_krb5_is_kerberos() {
        assert_eq!(mechanism_of(&oid::MS_KRB5), Some(Mechanism::Kerberos));
        assert_eq!(mechanism_of(&oid::KRB5), Some(Mechanism::Kerberos));
        assert_eq!(mechanism_of(&oid::NTLMSSP), Some(Mechanism::Ntlm));
        assert_eq!(mechanism_of(&oid::IAKERB), None);
        assert_eq!(mechanism_of(&oid::NEGOEX), None);
    }
}
