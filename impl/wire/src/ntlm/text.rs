//! NTLM string encodings (MS-NLMP §2.2: Unicode = UTF-16LE without BOM or
//! terminator; OEM = a code page, kept here byte-for-char as Latin-1 so any
//! OEM bytes survive a round trip).

/// UTF-16LE encoding.
pub(crate) fn utf16le(s: &str) -> Vec<u8> {
    s.encode_utf16().flat_map(u16::to_le_bytes).collect()
}

/// UTF-16LE decoding; `Err` describes what was wrong.
pub(crate) fn from_utf16le(b: &[u8]) -> Result<String, String> {
    if !b.len().is_multiple_of(2) {
        return Err(format!("{} bytes (UTF-16 needs an even count)", b.len()));
    }
    let units: Vec<u16> = b
        .chunks_exact(2)
        .map(|c| u16::from_le_bytes([c[0], c[1]]))
        .collect();
    String::from_utf16(&units).map_err(|_| "an unpaired UTF-16 surrogate".to_string())
}

/// OEM encoding: chars up to U+00FF map to one byte; others become `?`
/// (OEM strings cannot carry them).
pub(crate) fn oem(s: &str) -> Vec<u8> {
    s.chars()
        .map(|c| u8::try_from(u32::from(c)).unwrap_or(b'?'))
        .collect()
}

/// OEM decoding, byte-for-char.
pub(crate) fn from_oem(b: &[u8]) -> String {
    b.iter().map(|&x| char::from(x)).collect()
}

/// Encodes by the UNICODE flag.
pub(crate) fn encode(s: &str, unicode: bool) -> Vec<u8> {
    if unicode { utf16le(s) } else { oem(s) }
}

/// Decodes by the UNICODE flag.
pub(crate) fn decode(b: &[u8], unicode: bool) -> Result<String, String> {
    if unicode {
        from_utf16le(b)
    } else {
        Ok(from_oem(b))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf16_and_oem() {
        assert_eq!(utf16le("Ab"), [0x41, 0, 0x62, 0]);
        assert_eq!(from_utf16le(&[0x41, 0, 0x62, 0]).unwrap(), "Ab");
        assert!(from_utf16le(&[0x41]).is_err());
        assert!(from_utf16le(&[0x00, 0xd8]).is_err());
        assert_eq!(from_utf16le(&utf16le("Käse😀")).unwrap(), "Käse😀");
        assert_eq!(from_oem(&oem("Käse")), "Käse");
        assert_eq!(oem("€"), b"?");
    }
}
