//! Content-octet rules for the primitive universal types.
//!
//! Each function takes the content octets and returns the value or a short
//! description of what was found instead (the caller adds format and offset).

type ValueResult<T> = std::result::Result<T, String>;

/// INTEGER / ENUMERATED content (X.690 §8.3.2: at least one octet, and the
/// first nine bits are not all zero or all one, i.e. minimal).
pub(crate) fn integer(c: &[u8]) -> ValueResult<i64> {
    check_integer(c)?;
    if c.len() > 8 {
        return Err(format!("{} content octets (more than 64 bits)", c.len()));
    }
    let negative = c.first().is_some_and(|b| b & 0x80 != 0);
    let init: i64 = if negative { -1 } else { 0 };
    Ok(c.iter().fold(init, |acc, &b| (acc << 8) | i64::from(b)))
}

/// Minimal-encoding check shared by INTEGER and ENUMERATED, any width.
pub(crate) fn check_integer(c: &[u8]) -> ValueResult<()> {
    match c {
        [] => Err("no content octets".into()),
        [0x00, b, ..] if b & 0x80 == 0 => Err("a non-minimal encoding (leading 0x00)".into()),
        [0xff, b, ..] if b & 0x80 != 0 => Err("a non-minimal encoding (leading 0xff)".into()),
        _ => Ok(()),
    }
}

/// BOOLEAN content (X.690 §8.2, §11.1: one octet, FALSE 00, TRUE FF).
pub(crate) fn boolean(c: &[u8]) -> ValueResult<bool> {
    match c {
        [0x00] => Ok(false),
        [0xff] => Ok(true),
        [b] => Err(format!("0x{b:02x} (DER TRUE is 0xff)")),
        _ => Err(format!("{} content octets (BOOLEAN has 1)", c.len())),
    }
}

/// NULL content (X.690 §8.8: empty).
pub(crate) fn null(c: &[u8]) -> ValueResult<()> {
    if c.is_empty() {
        Ok(())
    } else {
        Err(format!("{} content octets (NULL has none)", c.len()))
    }
}

/// A decoded BIT STRING: the unused-bit count and the octets.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct BitString {
    /// Number of unused bits in the last octet (0..=7).
    pub unused: u8,
    /// The octets, padding bits zero.
    pub bytes: Vec<u8>,
}

impl BitString {
    /// A bit string of whole octets (no unused bits).
    pub fn from_bytes(bytes: &[u8]) -> Self {
        Self {
            unused: 0,
            bytes: bytes.to_vec(),
        }
    }

    /// Parses content octets (X.690 §8.6.2, §11.2.1-§11.2.2): an initial
    /// octet 0..=7, 0 when there are no further octets, and zero padding bits.
    pub fn from_content(c: &[u8]) -> ValueResult<Self> {
        let Some((&unused, bytes)) = c.split_first() else {
            return Err("no initial octet".into());
        };
        if unused > 7 {
            return Err(format!("{unused} unused bits (at most 7)"));
        }
        match bytes.last() {
            None if unused != 0 => Err(format!("{unused} unused bits in an empty bit string")),
            Some(&last) if last & ((1u8 << unused) - 1) != 0 => {
                Err("non-zero padding bits (DER requires zero)".into())
            }
            _ => Ok(Self {
                unused,
                bytes: bytes.to_vec(),
            }),
        }
    }

    /// Content octets for encoding.
    pub fn to_content(&self) -> Vec<u8> {
        let mut v = Vec::with_capacity(self.bytes.len() + 1);
        v.push(self.unused);
        v.extend_from_slice(&self.bytes);
        v
    }

    /// Bit `n` in ASN.1 numbering (bit 0 is the most significant bit of the
    /// first octet).
    pub fn bit(&self, n: usize) -> bool {
        self.bytes
            .get(n / 8)
            .is_some_and(|b| b & (0x80 >> (n % 8)) != 0)
    }
}

/// KerberosTime content (RFC 4120 §5.2.3): exactly `YYYYMMDDHHMMSSZ`, with
/// no fractional seconds, denoting a real calendar date and time (no leap
/// second: RFC 4120 times are POSIX seconds).
pub(crate) fn kerberos_time(c: &[u8]) -> ValueResult<()> {
    let shown = || String::from_utf8_lossy(c).escape_debug().to_string();
    if c.len() != 15 || c.last() != Some(&b'Z') {
        return Err(format!("\"{}\" (KerberosTime is YYYYMMDDHHMMSSZ)", shown()));
    }
    let digits = c.get(..14).unwrap_or(&[]);
    if !digits.iter().all(u8::is_ascii_digit) {
        return Err(format!("\"{}\" (non-digit in KerberosTime)", shown()));
    }
    let num = |r: std::ops::Range<usize>| -> u32 {
        digits
            .get(r)
            .unwrap_or(&[])
            .iter()
            .fold(0u32, |acc, d| acc * 10 + u32::from(d - b'0'))
    };
    let (year, month, day) = (num(0..4), num(4..6), num(6..8));
    let (hour, minute, second) = (num(8..10), num(10..12), num(12..14));
    let leap = (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400);
    let days_in_month = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => 0,
    };
    if days_in_month == 0 || day == 0 || day > days_in_month {
        return Err(format!("\"{}\" (no such date)", shown()));
    }
    if hour > 23 || minute > 59 || second > 59 {
        return Err(format!("\"{}\" (no such time of day)", shown()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_are_minimal_twos_complement() {
        assert_eq!(integer(&[0x05]), Ok(5));
        assert_eq!(integer(&[0x00, 0x80]), Ok(128));
        assert_eq!(integer(&[0xff]), Ok(-1));
        assert_eq!(integer(&[0x80]), Ok(-128));
        assert_eq!(integer(&[0x00, 0xff, 0xff, 0xff, 0xff]), Ok(0xffff_ffff));
        assert!(integer(&[]).is_err());
        assert!(integer(&[0x00, 0x05]).is_err());
        assert!(integer(&[0xff, 0x80]).is_err());
        assert!(integer(&[1; 9]).is_err());
    }

    #[test]
    fn booleans_and_null() {
        assert_eq!(boolean(&[0xff]), Ok(true));
        assert_eq!(boolean(&[0x00]), Ok(false));
        assert!(boolean(&[0x01]).is_err());
        assert!(boolean(&[]).is_err());
        assert!(null(&[]).is_ok());
        assert!(null(&[0]).is_err());
    }

    #[test]
    fn bit_strings_follow_der_padding_rules() {
        let b = BitString::from_content(&[0x00, 0x40, 0x81, 0x00, 0x10]).unwrap();
        assert!(b.bit(1) && b.bit(8) && b.bit(15) && b.bit(27));
        assert!(!b.bit(0) && !b.bit(100));
        assert!(BitString::from_content(&[0x08, 0x00]).is_err());
        assert!(BitString::from_content(&[0x01]).is_err());
        assert!(BitString::from_content(&[]).is_err());
        assert!(BitString::from_content(&[0x01, 0x01]).is_err());
        assert_eq!(
            BitString::from_content(&[0x01, 0x02]).unwrap().bytes,
            vec![0x02]
        );
        assert_eq!(
            BitString::from_content(&[0x00]).unwrap(),
            BitString::default()
        );
    }

    #[test]
    fn kerberos_time_accepts_only_real_utc_seconds() {
        assert!(kerberos_time(b"20260102030405Z").is_ok());
        assert!(kerberos_time(b"20240229235959Z").is_ok());
        assert!(kerberos_time(b"20000229000000Z").is_ok());
        for bad in [
            &b"20230229000000Z"[..],
            b"19000229000000Z",
            b"20261302030405Z",
            b"20260230030405Z",
            b"20260100030405Z",
            b"20260102250405Z",
            b"20260102036005Z",
            b"20260102030460Z",
            b"20260102030405",
            b"202601020304059",
            b"20260102030405.5Z",
            b"2026010203040+Z",
            b" 0260102030405Z",
        ] {
            assert!(
                kerberos_time(bad).is_err(),
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
    }
}
