//! OBJECT IDENTIFIER values (X.690 §8.19), kept as their DER content octets
//! so that constants are zero-cost and comparison is byte comparison.

use std::borrow::Cow;
use std::fmt;

/// An OBJECT IDENTIFIER, stored as its content octets (no tag or length).
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Oid(Cow<'static, [u8]>);

impl Oid {
    /// An OID from content octets known at compile time (the constants in
    /// `crate::gss::oid`). The bytes must be valid content octets.
    pub const fn from_static(content: &'static [u8]) -> Self {
        Self(Cow::Borrowed(content))
    }

    /// Validates content octets: non-empty, each sub-identifier in minimal
    /// base-128 form (no leading 0x80, §8.19.2), the last octet complete,
    /// each arc within 64 bits.
    pub fn from_content(c: &[u8]) -> Result<Self, &'static str> {
        if c.is_empty() {
            return Err("an empty OBJECT IDENTIFIER");
        }
        if c.last().is_some_and(|b| b & 0x80 != 0) {
            return Err("a truncated sub-identifier");
        }
        let mut start = true;
        let mut acc: u64 = 0;
        for &b in c {
            if start && b == 0x80 {
                return Err("a non-minimal sub-identifier (leading 0x80)");
            }
            if acc > (u64::MAX >> 7) {
                return Err("a sub-identifier over 64 bits");
            }
            acc = (acc << 7) | u64::from(b & 0x7f);
            start = b & 0x80 == 0;
            if start {
                acc = 0;
            }
        }
        Ok(Self(Cow::Owned(c.to_vec())))
    }

    /// Builds an OID from its arcs (at least two; first arc 0..=2, second
    /// below 40 unless the first is 2). Returns None for invalid arcs.
    pub fn from_arcs(arcs: &[u64]) -> Option<Self> {
        let (&a, &b) = (arcs.first()?, arcs.get(1)?);
        if a > 2 || (a < 2 && b >= 40) {
            return None;
        }
        let mut out = Vec::new();
        push_base128(&mut out, (a * 40).checked_add(b)?);
        for &arc in arcs.get(2..).unwrap_or(&[]) {
            push_base128(&mut out, arc);
        }
        Some(Self(Cow::Owned(out)))
    }

    /// The arcs, e.g. `[1, 3, 6, 1, 5, 5, 2]`.
    pub fn arcs(&self) -> Vec<u64> {
        let mut arcs = Vec::new();
        let mut acc: u64 = 0;
        for &b in self.0.iter() {
            acc = (acc << 7) | u64::from(b & 0x7f);
            if b & 0x80 == 0 {
                if arcs.is_empty() {
                    let first = (acc / 40).min(2);
                    arcs.push(first);
                    arcs.push(acc - first * 40);
                } else {
                    arcs.push(acc);
                }
                acc = 0;
            }
        }
        arcs
    }

    /// Content octets.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// Complete DER encoding (`06 len content`).
    pub fn to_der(&self) -> Vec<u8> {
        super::writer::tlv(super::tag::OID, &self.0)
    }
}

fn push_base128(out: &mut Vec<u8>, mut v: u64) {
    let mut tmp = [0u8; 10];
    let mut i = tmp.len();
    loop {
        i -= 1;
        tmp[i] = (v & 0x7f) as u8 | if i == tmp.len() - 1 { 0 } else { 0x80 };
        v >>= 7;
        if v == 0 {
            break;
        }
    }
    out.extend_from_slice(&tmp[i..]);
}

impl fmt::Display for Oid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let arcs = self.arcs();
        for (i, a) in arcs.iter().enumerate() {
            if i > 0 {
                f.write_str(".")?;
            }
            write!(f, "{a}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Oid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Oid({self})")
    }
}

impl serde::Serialize for Oid {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arcs_round_trip_and_display() {
        // RFC 4178: SPNEGO 1.3.6.1.5.5.2 = 2b 06 01 05 05 02
        let spnego = Oid::from_arcs(&[1, 3, 6, 1, 5, 5, 2]).unwrap();
        assert_eq!(spnego.as_bytes(), &[0x2b, 0x06, 0x01, 0x05, 0x05, 0x02]);
        assert_eq!(spnego.to_string(), "1.3.6.1.5.5.2");
        // 1.2.840.113554.1.2.2 = 2a 86 48 86 f7 12 01 02 02
        let krb5 = Oid::from_arcs(&[1, 2, 840, 113_554, 1, 2, 2]).unwrap();
        assert_eq!(
            krb5.as_bytes(),
            &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x12, 0x01, 0x02, 0x02]
        );
        assert_eq!(Oid::from_content(krb5.as_bytes()).unwrap(), krb5);
        let big = Oid::from_arcs(&[2, 999, u64::MAX]).unwrap();
        assert_eq!(big.arcs(), vec![2, 999, u64::MAX]);
        assert!(Oid::from_arcs(&[1, 40]).is_none());
        assert!(Oid::from_arcs(&[3, 1]).is_none());
    }

    #[test]
    fn rejects_malformed_content() {
        assert!(Oid::from_content(&[]).is_err());
        assert!(Oid::from_content(&[0x2b, 0x86]).is_err());
        assert!(Oid::from_content(&[0x2b, 0x80, 0x01]).is_err());
        assert!(
            Oid::from_content(&[
                0x2b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f
            ])
            .is_err()
        );
    }
}
