//! MIT keytab files (the `FILE:` keytab type): parse and write.
//!
//! Format (MIT krb5 `lib/krb5/keytab/kt_file.c`, documented in MIT's
//! "keytab file format" notes):
//!
//! ```text
//! keytab  = version:u16 (0x0502, or 0x0501) entry*
//! entry   = size:i32  (negative: a hole of -size bytes; 0: end of keytab)
//!           num_components:u16   (0x0501: counts the realm too)
//!           realm:counted  component:counted*
//!           name_type:u32        (absent in 0x0501)
//!           timestamp:u32  vno8:u8
//!           keytype:u16  key:counted
//!           [vno32:u32]          (if >= 4 bytes remain; non-zero overrides vno8)
//! counted = length:u16 bytes
//! ```
//!
//! Version 0x0502 is big-endian. Version 0x0501 used the writer's native
//! byte order; the only such files in practice come from little-endian
//! hosts, so 0x0501 is read as little-endian. [`write()`] always produces
//! 0x0502. Parsing never panics: every length is checked against the bytes
//! that remain, and failures name the byte offset.

use std::fmt;

use thiserror::Error;

use crate::error::CryptoError;
use crate::key::Key;

/// Keytab format version 2 (big-endian, with name types), what MIT writes.
pub const VERSION_2: u16 = 0x0502;
/// Keytab format version 1 (native byte order, no name types).
pub const VERSION_1: u16 = 0x0501;
/// KRB5_NT_PRINCIPAL, the name type assumed for version 1 entries.
pub const NT_PRINCIPAL: i32 = 1;
/// KRB5_NT_SRV_HST, the name type MIT gives `host/...` service keys.
pub const NT_SRV_HST: i32 = 3;

/// A malformed keytab file.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum KeytabError {
    /// Fewer than two bytes: no version number.
    #[error("keytab too short for its version number ({0} bytes)")]
    MissingVersion(usize),
    /// The version is not 0x0501 or 0x0502 (the first byte of every MIT
    /// keytab is 5).
    #[error("unsupported keytab version {0:#06x} (expected 0x0502 or 0x0501)")]
    UnsupportedVersion(u16),
    /// A field runs past the end of the file or of its entry.
    #[error("truncated keytab at byte {offset}: {what} needs {needed} bytes, {available} left")]
    Truncated {
        /// byte offset in the file where the field starts
        offset: usize,
        /// the field being read
        what: &'static str,
        /// bytes the field needs
        needed: usize,
        /// bytes that remain (in the file or the entry)
        available: usize,
    },
    /// A realm or name component is not UTF-8.
    #[error("keytab byte {offset}: {what} is not UTF-8")]
    NotUtf8 {
        /// byte offset of the string
        offset: usize,
        /// which string
        what: &'static str,
    },
    /// A version 1 entry claims zero components (the count includes the realm).
    #[error("keytab byte {offset}: version 0x0501 entry with no realm")]
    NoRealm {
        /// byte offset of the count
        offset: usize,
    },
}

/// One keytab entry: a principal's key of one enctype and version.
#[derive(Clone, PartialEq, Eq)]
pub struct KeytabEntry {
    /// Realm, e.g. `LAB.TEST`.
    pub realm: String,
    /// Name components, e.g. `["host", "app.lab.test"]`.
    pub components: Vec<String>,
    /// Principal name type (RFC 4120 §6.2), 1 = NT-PRINCIPAL.
    pub name_type: i32,
    /// When the key was written, seconds since the Unix epoch.
    pub timestamp: u32,
    /// Key version number.
    pub kvno: u32,
    /// Enctype number as stored (may be one this crate does not implement).
    pub etype: i32,
    /// Key bytes.
    pub key_bytes: Vec<u8>,
}

impl KeytabEntry {
    /// An entry for `key`.
    pub fn new(
        realm: &str,
        components: &[&str],
        name_type: i32,
        timestamp: u32,
        kvno: u32,
        key: &Key,
    ) -> KeytabEntry {
        KeytabEntry {
            realm: realm.to_owned(),
            components: components.iter().map(|c| (*c).to_owned()).collect(),
            name_type,
            timestamp,
            kvno,
            etype: key.etype().id(),
            key_bytes: key.bytes().to_vec(),
        }
    }

    /// The key, if the enctype is implemented and the length right.
    pub fn key(&self) -> Result<Key, CryptoError> {
        Key::from_wire(self.etype, &self.key_bytes)
    }

    /// `comp1/comp2@REALM`, as `klist -k` prints it.
    pub fn principal(&self) -> String {
        format!("{}@{}", self.components.join("/"), self.realm)
    }

    /// Whether this entry is for `components@realm`.
    pub fn is_for(&self, realm: &str, components: &[&str]) -> bool {
        self.realm == realm
            && self.components.len() == components.len()
            && self.components.iter().zip(components).all(|(a, b)| a == b)
    }
}

impl fmt::Debug for KeytabEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeytabEntry")
            .field("principal", &self.principal())
            .field("name_type", &self.name_type)
            .field("timestamp", &self.timestamp)
            .field("kvno", &self.kvno)
            .field("etype", &self.etype)
            .field(
                "key_bytes",
                &format_args!("<{} bytes redacted>", self.key_bytes.len()),
            )
            .finish()
    }
}

/// The key for `components@realm` with `etype` and, if given, `kvno`; the
/// highest kvno wins when `kvno` is `None` (what MIT's keytab lookup does).
pub fn find_key(
    entries: &[KeytabEntry],
    realm: &str,
    components: &[&str],
    etype: i32,
    kvno: Option<u32>,
) -> Option<Key> {
    entries
        .iter()
        .filter(|e| e.is_for(realm, components) && e.etype == etype)
        .filter(|e| kvno.is_none_or(|k| e.kvno == k))
        .max_by_key(|e| e.kvno)
        .and_then(|e| e.key().ok())
}

/// Bounded big- or little-endian reader over a slice, tracking the file
/// offset for error messages.
struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
    /// file offset of `buf[0]`
    base: usize,
    big_endian: bool,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], KeytabError> {
        let rest = self.buf.get(self.pos..).unwrap_or_default();
        if rest.len() < n {
            return Err(KeytabError::Truncated {
                offset: self.base + self.pos,
                what,
                needed: n,
                available: rest.len(),
            });
        }
        self.pos += n;
        Ok(&rest[..n])
    }

    fn remaining(&self) -> usize {
        self.buf.len().saturating_sub(self.pos)
    }

    fn offset(&self) -> usize {
        self.base + self.pos
    }

    fn u8(&mut self, what: &'static str) -> Result<u8, KeytabError> {
        Ok(self.take(1, what)?[0])
    }

    fn u16(&mut self, what: &'static str) -> Result<u16, KeytabError> {
        let b = self.take(2, what)?;
        let a = [b[0], b[1]];
        Ok(if self.big_endian {
            u16::from_be_bytes(a)
        } else {
            u16::from_le_bytes(a)
        })
    }

    fn u32(&mut self, what: &'static str) -> Result<u32, KeytabError> {
        let b = self.take(4, what)?;
        let a = [b[0], b[1], b[2], b[3]];
        Ok(if self.big_endian {
            u32::from_be_bytes(a)
        } else {
            u32::from_le_bytes(a)
        })
    }

    fn counted(&mut self, what: &'static str) -> Result<&'a [u8], KeytabError> {
        let n = self.u16(what)? as usize;
        self.take(n, what)
    }

    fn string(&mut self, what: &'static str) -> Result<String, KeytabError> {
        let offset = self.offset();
        let b = self.counted(what)?;
        String::from_utf8(b.to_vec()).map_err(|_| KeytabError::NotUtf8 { offset, what })
    }
}

/// Parse a keytab file. Holes (deleted entries) are skipped; a zero size
/// ends the keytab, as in MIT.
pub fn parse(bytes: &[u8]) -> Result<Vec<KeytabEntry>, KeytabError> {
    let Some((v, body)) = bytes.split_first_chunk::<2>() else {
        return Err(KeytabError::MissingVersion(bytes.len()));
    };
    // The version is written as two bytes (5, then 1 or 2) in every version.
    let version = u16::from_be_bytes(*v);
    let big_endian = match version {
        VERSION_2 => true,
        VERSION_1 => false,
        other => return Err(KeytabError::UnsupportedVersion(other)),
    };
    let mut file = Reader {
        buf: body,
        pos: 0,
        base: 2,
        big_endian,
    };
    let mut entries = Vec::new();
    while file.remaining() > 0 {
        let size = file.u32("entry size")? as i32;
        if size == 0 {
            break;
        }
        if size < 0 {
            file.take(size.unsigned_abs() as usize, "hole")?;
            continue;
        }
        let base = file.offset();
        let entry_bytes = file.take(size as usize, "entry")?;
        let mut r = Reader {
            buf: entry_bytes,
            pos: 0,
            base,
            big_endian,
        };
        entries.push(parse_entry(&mut r, version)?);
    }
    Ok(entries)
}

fn parse_entry(r: &mut Reader<'_>, version: u16) -> Result<KeytabEntry, KeytabError> {
    let count_at = r.offset();
    let mut count = r.u16("component count")? as usize;
    if version == VERSION_1 {
        count = count
            .checked_sub(1)
            .ok_or(KeytabError::NoRealm { offset: count_at })?;
    }
    let realm = r.string("realm")?;
    // Each component needs at least its 2-byte length: bound the allocation
    // by what the entry can hold.
    let mut components = Vec::with_capacity(count.min(r.remaining() / 2));
    for _ in 0..count {
        components.push(r.string("name component")?);
    }
    let name_type = if version == VERSION_1 {
        NT_PRINCIPAL
    } else {
        r.u32("name type")? as i32
    };
    let timestamp = r.u32("timestamp")?;
    let vno8 = r.u8("key version")?;
    let etype = i32::from(r.u16("key type")?);
    let key_bytes = r.counted("key")?.to_vec();
    let mut kvno = u32::from(vno8);
    if r.remaining() >= 4 {
        // MIT: a zero 32-bit kvno is padding; otherwise it is the real kvno.
        let vno32 = r.u32("32-bit key version")?;
        if vno32 != 0 {
            kvno = vno32;
        }
    }
    Ok(KeytabEntry {
        realm,
        components,
        name_type,
        timestamp,
        kvno,
        etype,
        key_bytes,
    })
}

/// Write a version 0x0502 keytab. Strings and keys longer than 65535 bytes
/// cannot be represented and are truncated to fit (no real principal or key
/// comes near that). The enctype is stored in 16 bits, as MIT does.
pub fn write(entries: &[KeytabEntry]) -> Vec<u8> {
    let mut out = Vec::with_capacity(2 + entries.len() * 96);
    out.extend_from_slice(&VERSION_2.to_be_bytes());
    for e in entries {
        let mut body = Vec::with_capacity(96);
        let count = u16::try_from(e.components.len()).unwrap_or(u16::MAX);
        body.extend_from_slice(&count.to_be_bytes());
        put_counted(&mut body, e.realm.as_bytes());
        for c in e.components.iter().take(count as usize) {
            put_counted(&mut body, c.as_bytes());
        }
        body.extend_from_slice(&e.name_type.to_be_bytes());
        body.extend_from_slice(&e.timestamp.to_be_bytes());
        // vno8 holds the low byte; vno32 the full number (MIT writes both).
        body.push(e.kvno as u8);
        body.extend_from_slice(&(e.etype as u16).to_be_bytes());
        put_counted(&mut body, &e.key_bytes);
        body.extend_from_slice(&e.kvno.to_be_bytes());
        let size = i32::try_from(body.len()).unwrap_or(i32::MAX);
        out.extend_from_slice(&size.to_be_bytes());
        out.extend_from_slice(&body);
    }
    out
}

fn put_counted(out: &mut Vec<u8>, data: &[u8]) {
    let n = u16::try_from(data.len()).unwrap_or(u16::MAX);
    out.extend_from_slice(&n.to_be_bytes());
    out.extend_from_slice(&data[..n as usize]);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::EncType;

    fn sample() -> Vec<KeytabEntry> {
        let k = Key::new(EncType::Aes128CtsHmacSha196, [7u8; 16]).unwrap();
        vec![
            KeytabEntry::new(
                "LAB.TEST",
                &["host", "app.lab.test"],
                NT_SRV_HST,
                1_700_000_000,
                3,
                &k,
            ),
            KeytabEntry::new("LAB.TEST", &["alice"], NT_PRINCIPAL, 0, 300, &k),
        ]
    }

    #[test]
    fn write_parse_round_trip() {
        let e = sample();
        let bytes = write(&e);
        assert_eq!(&bytes[..2], &[5, 2]);
        assert_eq!(parse(&bytes).unwrap(), e);
        assert_eq!(e[0].principal(), "host/app.lab.test@LAB.TEST");
        assert_eq!(
            find_key(&e, "LAB.TEST", &["alice"], 17, None)
                .unwrap()
                .bytes(),
            &[7u8; 16]
        );
        assert!(find_key(&e, "LAB.TEST", &["alice"], 17, Some(2)).is_none());
    }

    #[test]
    fn holes_and_end_marker() {
        let e = sample();
        let bytes = write(&e);
        // Insert a 5-byte hole after the version, and a zero size plus junk
        // at the end (MIT stops at a zero size).
        let mut holed = bytes[..2].to_vec();
        holed.extend_from_slice(&(-5i32).to_be_bytes());
        holed.extend_from_slice(&[0xEE; 5]);
        holed.extend_from_slice(&bytes[2..]);
        holed.extend_from_slice(&0i32.to_be_bytes());
        holed.extend_from_slice(b"junk");
        assert_eq!(parse(&holed).unwrap(), e);
    }

    #[test]
    fn kvno8_only_and_zero_vno32() {
        let mut bytes = write(&sample()[..1]);
        // Drop the trailing vno32 and fix the size.
        bytes.truncate(bytes.len() - 4);
        let size = (bytes.len() - 6) as i32;
        bytes[2..6].copy_from_slice(&size.to_be_bytes());
        assert_eq!(parse(&bytes).unwrap()[0].kvno, 3);
        // A zero vno32 is padding: vno8 stands.
        let mut bytes = write(&sample()[1..]);
        let n = bytes.len();
        bytes[n - 4..].copy_from_slice(&[0; 4]);
        assert_eq!(parse(&bytes).unwrap()[0].kvno, 300 % 256);
    }

    #[test]
    fn version_1_little_endian() {
        // 0x0501: count includes the realm, no name type, little-endian ints.
        let mut body = Vec::new();
        body.extend_from_slice(&2u16.to_le_bytes()); // realm + 1 component
        for s in ["R", "bob"] {
            body.extend_from_slice(&(s.len() as u16).to_le_bytes());
            body.extend_from_slice(s.as_bytes());
        }
        body.extend_from_slice(&42u32.to_le_bytes());
        body.push(4);
        body.extend_from_slice(&23u16.to_le_bytes());
        body.extend_from_slice(&16u16.to_le_bytes());
        body.extend_from_slice(&[9; 16]);
        let mut f = vec![5, 1];
        f.extend_from_slice(&(body.len() as i32).to_le_bytes());
        f.extend_from_slice(&body);
        let e = parse(&f).unwrap();
        assert_eq!(e.len(), 1);
        assert_eq!(e[0].principal(), "bob@R");
        assert_eq!(
            (e[0].name_type, e[0].timestamp, e[0].kvno, e[0].etype),
            (1, 42, 4, 23)
        );
        assert_eq!(e[0].key().unwrap().etype(), EncType::Rc4Hmac);
    }

    #[test]
    fn malformed_files_are_typed_errors() {
        assert_eq!(parse(&[]), Err(KeytabError::MissingVersion(0)));
        assert_eq!(parse(&[5]), Err(KeytabError::MissingVersion(1)));
        assert_eq!(parse(&[5, 3]), Err(KeytabError::UnsupportedVersion(0x0503)));
        assert_eq!(parse(&[5, 2]), Ok(vec![]));
        assert!(matches!(
            parse(&[5, 2, 0, 0]),
            Err(KeytabError::Truncated {
                what: "entry size",
                ..
            })
        ));
        assert!(matches!(
            parse(&[5, 2, 0, 0, 0, 9, 0]),
            Err(KeytabError::Truncated {
                what: "entry",
                offset: 6,
                ..
            })
        ));
        assert!(matches!(
            parse(&[5, 2, 0x80, 0, 0, 0]),
            Err(KeytabError::Truncated { what: "hole", .. })
        ));
        // Entry whose realm length runs past the entry.
        assert!(matches!(
            parse(&[5, 2, 0, 0, 0, 4, 0, 0, 0, 9]),
            Err(KeytabError::Truncated {
                what: "realm",
                offset: 10,
                ..
            })
        ));
        assert!(matches!(
            parse(&[5, 2, 0, 0, 0, 4, 0, 0, 0, 1, 0xff]),
            Err(KeytabError::Truncated { .. })
        ));
        let bad_utf8 = [5, 2, 0, 0, 0, 5, 0, 0, 0, 1, 0xff];
        assert_eq!(
            parse(&bad_utf8),
            Err(KeytabError::NotUtf8 {
                offset: 8,
                what: "realm"
            })
        );
        assert_eq!(
            parse(&[5, 1, 2, 0, 0, 0, 0, 0]),
            Err(KeytabError::NoRealm { offset: 6 })
        );
    }

    #[test]
    fn debug_redacts_keys() {
        let s = format!("{:?}", sample()[0]);
        assert!(s.contains("redacted") && !s.contains("7, 7"), "{s}");
    }
}
