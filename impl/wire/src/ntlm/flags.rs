//! NegotiateFlags (MS-NLMP §2.2.2.5). Bit letters in comments are the
//! spec's names for each flag.

/// A: Unicode strings.
pub const NEGOTIATE_UNICODE: u32 = 0x0000_0001;
/// B: OEM strings.
pub const NEGOTIATE_OEM: u32 = 0x0000_0002;
/// C: TargetName must be supplied in the CHALLENGE.
pub const REQUEST_TARGET: u32 = 0x0000_0004;
/// D: session-key signing.
pub const NEGOTIATE_SIGN: u32 = 0x0000_0010;
/// E: session-key sealing.
pub const NEGOTIATE_SEAL: u32 = 0x0000_0020;
/// F: connectionless authentication.
pub const NEGOTIATE_DATAGRAM: u32 = 0x0000_0040;
/// G: LAN Manager session key.
pub const NEGOTIATE_LM_KEY: u32 = 0x0000_0080;
/// H: NTLM v1 session security.
pub const NEGOTIATE_NTLM: u32 = 0x0000_0200;
/// J: anonymous connection.
pub const ANONYMOUS: u32 = 0x0000_0800;
/// K: the NEGOTIATE carries a domain name.
pub const NEGOTIATE_OEM_DOMAIN_SUPPLIED: u32 = 0x0000_1000;
/// L: the NEGOTIATE carries a workstation name.
pub const NEGOTIATE_OEM_WORKSTATION_SUPPLIED: u32 = 0x0000_2000;
/// M: always sign (dummy signature).
pub const NEGOTIATE_ALWAYS_SIGN: u32 = 0x0000_8000;
/// N: TargetName is a domain.
pub const TARGET_TYPE_DOMAIN: u32 = 0x0001_0000;
/// O: TargetName is a server.
pub const TARGET_TYPE_SERVER: u32 = 0x0002_0000;
/// P: NTLM v2 session security (extended session security).
pub const NEGOTIATE_EXTENDED_SESSIONSECURITY: u32 = 0x0008_0000;
/// Q: identify-level token.
pub const NEGOTIATE_IDENTIFY: u32 = 0x0010_0000;
/// R: LMOWF session key.
pub const REQUEST_NON_NT_SESSION_KEY: u32 = 0x0040_0000;
/// S: TargetInfo is present.
pub const NEGOTIATE_TARGET_INFO: u32 = 0x0080_0000;
/// T: the Version field is populated.
pub const NEGOTIATE_VERSION: u32 = 0x0200_0000;
/// U: 128-bit session key.
pub const NEGOTIATE_128: u32 = 0x2000_0000;
/// V: explicit key exchange (EncryptedRandomSessionKey).
pub const NEGOTIATE_KEY_EXCH: u32 = 0x4000_0000;
/// W: 56-bit encryption.
pub const NEGOTIATE_56: u32 = 0x8000_0000;

const NAMES: &[(u32, &str)] = &[
    (NEGOTIATE_UNICODE, "NEGOTIATE_UNICODE"),
    (NEGOTIATE_OEM, "NEGOTIATE_OEM"),
    (REQUEST_TARGET, "REQUEST_TARGET"),
    (NEGOTIATE_SIGN, "NEGOTIATE_SIGN"),
    (NEGOTIATE_SEAL, "NEGOTIATE_SEAL"),
    (NEGOTIATE_DATAGRAM, "NEGOTIATE_DATAGRAM"),
    (NEGOTIATE_LM_KEY, "NEGOTIATE_LM_KEY"),
    (NEGOTIATE_NTLM, "NEGOTIATE_NTLM"),
    (ANONYMOUS, "ANONYMOUS"),
    (
        NEGOTIATE_OEM_DOMAIN_SUPPLIED,
        "NEGOTIATE_OEM_DOMAIN_SUPPLIED",
    ),
    (
        NEGOTIATE_OEM_WORKSTATION_SUPPLIED,
        "NEGOTIATE_OEM_WORKSTATION_SUPPLIED",
    ),
    (NEGOTIATE_ALWAYS_SIGN, "NEGOTIATE_ALWAYS_SIGN"),
    (TARGET_TYPE_DOMAIN, "TARGET_TYPE_DOMAIN"),
    (TARGET_TYPE_SERVER, "TARGET_TYPE_SERVER"),
    (
        NEGOTIATE_EXTENDED_SESSIONSECURITY,
        "NEGOTIATE_EXTENDED_SESSIONSECURITY",
    ),
    (NEGOTIATE_IDENTIFY, "NEGOTIATE_IDENTIFY"),
    (REQUEST_NON_NT_SESSION_KEY, "REQUEST_NON_NT_SESSION_KEY"),
    (NEGOTIATE_TARGET_INFO, "NEGOTIATE_TARGET_INFO"),
    (NEGOTIATE_VERSION, "NEGOTIATE_VERSION"),
    (NEGOTIATE_128, "NEGOTIATE_128"),
    (NEGOTIATE_KEY_EXCH, "NEGOTIATE_KEY_EXCH"),
    (NEGOTIATE_56, "NEGOTIATE_56"),
];

/// Names of the set flags (reserved bits as `0x...`).
pub fn names(flags: u32) -> Vec<String> {
    (0..32)
        .map(|i| 1u32 << i)
        .filter(|b| flags & b != 0)
        .map(|b| {
            NAMES
                .iter()
                .find(|(v, _)| *v == b)
                .map(|(_, n)| (*n).to_string())
                .unwrap_or_else(|| format!("0x{b:08x}"))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_cover_set_bits() {
        assert_eq!(
            names(NEGOTIATE_UNICODE | NEGOTIATE_56),
            ["NEGOTIATE_UNICODE", "NEGOTIATE_56"]
        );
        assert_eq!(names(0x0000_0100), ["0x00000100"]);
    }
}
