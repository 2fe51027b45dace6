//! AV_PAIR lists (MS-NLMP §2.2.2.1): `AvId (2, LE) | AvLen (2, LE) |
//! Value`, terminated by MsvAvEOL. Carried in the CHALLENGE's TargetInfo
//! and inside the client's NTLMv2_CLIENT_CHALLENGE.

use super::text;
use crate::bytes::Cursor;
use crate::error::{ErrorKind, Format, Result, WireError};

/// AvId values.
pub mod av_id {
    pub const EOL: u16 = 0;
    pub const NB_COMPUTER_NAME: u16 = 1;
    pub const NB_DOMAIN_NAME: u16 = 2;
    pub const DNS_COMPUTER_NAME: u16 = 3;
    pub const DNS_DOMAIN_NAME: u16 = 4;
    pub const DNS_TREE_NAME: u16 = 5;
    pub const FLAGS: u16 = 6;
    pub const TIMESTAMP: u16 = 7;
    pub const SINGLE_HOST: u16 = 8;
    pub const TARGET_NAME: u16 = 9;
    pub const CHANNEL_BINDINGS: u16 = 10;
}

/// MsvAvFlags bits (MS-NLMP §2.2.2.1).
pub mod av_flags {
    /// The client's account authentication is constrained.
    pub const CONSTRAINED: u32 = 0x1;
    /// The AUTHENTICATE message carries a MIC.
    pub const MIC_PRESENT: u32 = 0x2;
    /// The SPN came from an untrusted source.
    pub const TARGET_SPN_UNTRUSTED: u32 = 0x4;
}

/// One AV pair (MsvAvEOL is implicit: it ends every encoded list).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[non_exhaustive]
pub enum AvPair {
    /// MsvAvNbComputerName (1).
    NbComputerName(String),
    /// MsvAvNbDomainName (2).
    NbDomainName(String),
    /// MsvAvDnsComputerName (3).
    DnsComputerName(String),
    /// MsvAvDnsDomainName (4).
    DnsDomainName(String),
    /// MsvAvDnsTreeName (5).
    DnsTreeName(String),
    /// MsvAvFlags (6).
    Flags(u32),
    /// MsvAvTimestamp (7): FILETIME (100 ns since 1601-01-01).
    Timestamp(u64),
    /// MsvAvSingleHost (8): Single_Host_Data, kept raw.
    SingleHost(Vec<u8>),
    /// MsvAvTargetName (9): the SPN the client used.
    TargetName(String),
    /// MsvAvChannelBindings (10): MD5 of gss_channel_bindings_struct.
    ChannelBindings([u8; 16]),
    /// An unknown AvId.
    Other {
        /// AvId.
        id: u16,
        /// Value.
        value: Vec<u8>,
    },
}

impl AvPair {
    /// The AvId.
    pub fn id(&self) -> u16 {
        match self {
            AvPair::NbComputerName(_) => av_id::NB_COMPUTER_NAME,
            AvPair::NbDomainName(_) => av_id::NB_DOMAIN_NAME,
            AvPair::DnsComputerName(_) => av_id::DNS_COMPUTER_NAME,
            AvPair::DnsDomainName(_) => av_id::DNS_DOMAIN_NAME,
            AvPair::DnsTreeName(_) => av_id::DNS_TREE_NAME,
            AvPair::Flags(_) => av_id::FLAGS,
            AvPair::Timestamp(_) => av_id::TIMESTAMP,
            AvPair::SingleHost(_) => av_id::SINGLE_HOST,
            AvPair::TargetName(_) => av_id::TARGET_NAME,
            AvPair::ChannelBindings(_) => av_id::CHANNEL_BINDINGS,
            AvPair::Other { id, .. } => *id,
        }
    }

    /// `MsvAvDnsComputerName`, ...
    pub fn name(&self) -> &'static str {
        match self {
            AvPair::NbComputerName(_) => "MsvAvNbComputerName",
            AvPair::NbDomainName(_) => "MsvAvNbDomainName",
            AvPair::DnsComputerName(_) => "MsvAvDnsComputerName",
            AvPair::DnsDomainName(_) => "MsvAvDnsDomainName",
            AvPair::DnsTreeName(_) => "MsvAvDnsTreeName",
            AvPair::Flags(_) => "MsvAvFlags",
            AvPair::Timestamp(_) => "MsvAvTimestamp",
            AvPair::SingleHost(_) => "MsvAvSingleHost",
            AvPair::TargetName(_) => "MsvAvTargetName",
            AvPair::ChannelBindings(_) => "MsvAvChannelBindings",
            AvPair::Other { .. } => "unknown AV pair",
        }
    }

    fn value_bytes(&self) -> Vec<u8> {
        match self {
            AvPair::NbComputerName(s)
            | AvPair::NbDomainName(s)
            | AvPair::DnsComputerName(s)
            | AvPair::DnsDomainName(s)
            | AvPair::DnsTreeName(s)
            | AvPair::TargetName(s) => text::utf16le(s),
            AvPair::Flags(f) => f.to_le_bytes().to_vec(),
            AvPair::Timestamp(t) => t.to_le_bytes().to_vec(),
            AvPair::SingleHost(v) => v.clone(),
            AvPair::ChannelBindings(h) => h.to_vec(),
            AvPair::Other { value, .. } => value.clone(),
        }
    }
}

/// An ordered AV pair list.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize)]
pub struct AvPairs(pub Vec<AvPair>);

impl AvPairs {
    /// Encodes the pairs followed by MsvAvEOL.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        for p in &self.0 {
            let v = p.value_bytes();
            out.extend_from_slice(&p.id().to_le_bytes());
            out.extend_from_slice(&(v.len() as u16).to_le_bytes());
            out.extend_from_slice(&v);
        }
        out.extend_from_slice(&[0, 0, 0, 0]);
        out
    }

    /// Decodes up to and including MsvAvEOL; returns the pairs and the
    /// bytes consumed (anything after EOL is the caller's business).
    /// Offsets in errors are relative to `bytes`.
    pub fn decode_prefix(bytes: &[u8]) -> Result<(Self, usize)> {
        let mut c = Cursor::new(bytes, Format::Ntlm);
        let mut pairs = Vec::new();
        loop {
            let start = c.offset();
            let id = c.u16_le("AvId")?;
            let len = c.u16_le("AvLen")?;
            let value_at = c.offset();
            let v = c.take(usize::from(len), "AV pair value")?;
            let bad = |what: &'static str, found: String| {
                WireError::new(
                    Format::Ntlm,
                    value_at,
                    ErrorKind::InvalidValue { what, found },
                )
            };
            let fixed = |n: usize, what: &'static str| {
                if v.len() == n {
                    Ok(())
                } else {
                    Err(bad(what, format!("{} value bytes (expected {n})", v.len())))
                }
            };
            let string = || text::from_utf16le(v).map_err(|f| bad("UTF-16LE AV pair value", f));
            let pair = match id {
                av_id::EOL => {
                    if len != 0 {
                        return Err(WireError::new(
                            Format::Ntlm,
                            start + 2,
                            ErrorKind::BadConstant {
                                what: "MsvAvEOL length",
                                expected: "0".into(),
                                found: len.to_string(),
                            },
                        ));
                    }
                    return Ok((Self(pairs), c.offset()));
                }
                av_id::NB_COMPUTER_NAME => AvPair::NbComputerName(string()?),
                av_id::NB_DOMAIN_NAME => AvPair::NbDomainName(string()?),
                av_id::DNS_COMPUTER_NAME => AvPair::DnsComputerName(string()?),
                av_id::DNS_DOMAIN_NAME => AvPair::DnsDomainName(string()?),
                av_id::DNS_TREE_NAME => AvPair::DnsTreeName(string()?),
                av_id::TARGET_NAME => AvPair::TargetName(string()?),
                av_id::FLAGS => {
                    fixed(4, "MsvAvFlags")?;
                    AvPair::Flags(u32::from_le_bytes(arr(v)))
                }
                av_id::TIMESTAMP => {
                    fixed(8, "MsvAvTimestamp")?;
                    AvPair::Timestamp(u64::from_le_bytes(arr(v)))
                }
                av_id::CHANNEL_BINDINGS => {
                    fixed(16, "MsvAvChannelBindings")?;
                    AvPair::ChannelBindings(arr(v))
                }
                av_id::SINGLE_HOST => AvPair::SingleHost(v.to_vec()),
                other => AvPair::Other {
                    id: other,
                    value: v.to_vec(),
                },
            };
            pairs.push(pair);
        }
    }

    /// Decodes a list that must end exactly at MsvAvEOL.
    pub fn decode(bytes: &[u8]) -> Result<Self> {
        let (pairs, used) = Self::decode_prefix(bytes)?;
        if used != bytes.len() {
            return Err(WireError::new(
                Format::Ntlm,
                used,
                ErrorKind::TrailingBytes {
                    what: "AV pair list (after MsvAvEOL)",
                    count: bytes.len() - used,
                },
            ));
        }
        Ok(pairs)
    }

    /// MsvAvFlags, if present.
    pub fn flags(&self) -> Option<u32> {
        self.0.iter().find_map(|p| match p {
            AvPair::Flags(f) => Some(*f),
            _ => None,
        })
    }

    /// MsvAvTimestamp, if present.
    pub fn timestamp(&self) -> Option<u64> {
        self.0.iter().find_map(|p| match p {
            AvPair::Timestamp(t) => Some(*t),
            _ => None,
        })
    }

    /// MsvAvTargetName, if present.
    pub fn target_name(&self) -> Option<&str> {
        self.0.iter().find_map(|p| match p {
            AvPair::TargetName(s) => Some(s.as_str()),
            _ => None,
        })
    }

    /// MsvAvChannelBindings, if present.
    pub fn channel_bindings(&self) -> Option<[u8; 16]> {
        self.0.iter().find_map(|p| match p {
            AvPair::ChannelBindings(h) => Some(*h),
            _ => None,
        })
    }
}

/// Copies a slice already length-checked by the caller into an array.
fn arr<const N: usize>(v: &[u8]) -> [u8; N] {
    let mut a = [0u8; N];
    for (d, s) in a.iter_mut().zip(v) {
        *d = *s;
    }
    a
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> AvPairs {
        AvPairs(vec![
            AvPair::NbDomainName("LAB".into()),
            AvPair::NbComputerName("APP".into()),
            AvPair::DnsDomainName("lab.test".into()),
            AvPair::DnsComputerName("app.lab.test".into()),
            AvPair::DnsTreeName("lab.test".into()),
            AvPair::Timestamp(0x01dc_0000_0000_0000),
            AvPair::Flags(av_flags::MIC_PRESENT),
            AvPair::SingleHost(vec![0; 48]),
            AvPair::TargetName("cifs/app.lab.test".into()),
            AvPair::ChannelBindings([7; 16]),
            AvPair::Other {
                id: 0x42,
                value: vec![1],
            },
        ])
    }

    #[test]
    fn every_pair_round_trips() {
        let p = sample();
        let b = p.encode();
        assert_eq!(&b[b.len() - 4..], &[0, 0, 0, 0]);
        assert_eq!(AvPairs::decode(&b).unwrap(), p);
        assert_eq!(p.flags(), Some(2));
        assert_eq!(p.timestamp(), Some(0x01dc_0000_0000_0000));
        assert_eq!(p.target_name(), Some("cifs/app.lab.test"));
        assert_eq!(p.channel_bindings(), Some([7; 16]));
        assert_eq!(AvPairs::default().encode(), [0, 0, 0, 0]);
    }

    #[test]
    fn known_bytes_of_a_domain_name_pair() {
        let b = AvPairs(vec![AvPair::NbDomainName("AB".into())]).encode();
        assert_eq!(hex::encode(b), "0200040041004200 00000000".replace(' ', ""));
    }

    #[test]
    fn bounds_and_shape_errors() {
        // no EOL
        let e = AvPairs::decode(&[2, 0, 2, 0, 0x41, 0]).unwrap_err();
        assert!(
            matches!(e.kind, ErrorKind::Truncated { what: "AvId", .. }),
            "{e}"
        );
        // length past the end
        let e = AvPairs::decode(&[2, 0, 9, 0, 0x41, 0]).unwrap_err();
        assert_eq!(e.offset, 4);
        assert!(matches!(
            e.kind,
            ErrorKind::Truncated {
                what: "AV pair value",
                needed: 9,
                available: 2
            }
        ));
        // MsvAvFlags with 2 bytes
        let e = AvPairs::decode(&[6, 0, 2, 0, 1, 0, 0, 0, 0, 0]).unwrap_err();
        assert!(e.to_string().contains("MsvAvFlags"), "{e}");
        // odd-length UTF-16
        assert!(AvPairs::decode(&[1, 0, 1, 0, 0x41, 0, 0, 0, 0]).is_err());
        // EOL with a length
        assert!(AvPairs::decode(&[0, 0, 1, 0, 0]).is_err());
        // trailing after EOL
        let e = AvPairs::decode(&[0, 0, 0, 0, 9]).unwrap_err();
        assert_eq!(e.offset, 4);
        assert_eq!(AvPairs::decode_prefix(&[0, 0, 0, 0, 9]).unwrap().1, 4);
    }
}
