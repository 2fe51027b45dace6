//! RFC 4120 §7.2.2 TCP record mark: each Kerberos message on a TCP stream
//! is preceded by its length as 4 octets in network byte order, high bit
//! reserved (zero).
//!
//! "If the high bit is set and the KDC does not understand the extension, it
//! MUST return a KRB-ERROR with KRB_ERR_FIELD_TOOLONG and MUST close the TCP
//! stream" (§7.2.2): [`ErrorKind::RecordMarkHighBit`] tells the KDC to do
//! that. Lengths above the configured cap give [`ErrorKind::TooLarge`]
//! before any of the body is buffered.

use crate::error::{ErrorKind, Format, Result, WireError};

/// Default frame cap: 64 KiB (ample for tickets with PACs; MIT's KDC uses
/// a similar bound for TCP requests).
pub const DEFAULT_MAX_FRAME: usize = 64 * 1024;

/// Length of the record mark.
pub const MARK_LEN: usize = 4;

const HIGH_BIT: u32 = 0x8000_0000;

/// Prefixes `msg` with its record mark.
pub fn encode(msg: &[u8]) -> Result<Vec<u8>> {
    let len = u32::try_from(msg.len())
        .ok()
        .filter(|l| l & HIGH_BIT == 0)
        .ok_or_else(|| {
            WireError::new(
                Format::RecordMark,
                0,
                ErrorKind::TooLarge {
                    size: msg.len(),
                    limit: 0x7fff_ffff,
                },
            )
        })?;
    let mut out = Vec::with_capacity(MARK_LEN + msg.len());
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(msg);
    Ok(out)
}

/// Checks a 4-octet record mark and returns the length it announces.
pub fn parse_mark(mark: [u8; 4], max: usize) -> Result<usize> {
    let value = u32::from_be_bytes(mark);
    if value & HIGH_BIT != 0 {
        return Err(WireError::new(
            Format::RecordMark,
            0,
            ErrorKind::RecordMarkHighBit { value },
        ));
    }
    let len = usize::try_from(value).unwrap_or(usize::MAX);
    if len > max {
        return Err(WireError::new(
            Format::RecordMark,
            0,
            ErrorKind::TooLarge {
                size: len,
                limit: max,
            },
        ));
    }
    Ok(len)
}

/// Splits exactly one framed message (mark + body, nothing after it) and
/// returns the body.
pub fn decode(bytes: &[u8], max: usize) -> Result<&[u8]> {
    let (mark, body) = bytes.split_first_chunk::<4>().ok_or_else(|| {
        WireError::new(
            Format::RecordMark,
            0,
            ErrorKind::Truncated {
                what: "record mark",
                needed: MARK_LEN,
                available: bytes.len(),
            },
        )
    })?;
    let len = parse_mark(*mark, max)?;
    if body.len() != len {
        return Err(WireError::new(
            Format::RecordMark,
            if body.len() < len {
                bytes.len()
            } else {
                MARK_LEN + len
            },
            ErrorKind::LengthMismatch {
                what: "record body",
                declared: len,
                actual: body.len(),
            },
        ));
    }
    Ok(body)
}

/// Reassembles framed messages from a TCP stream delivered in arbitrary
/// chunks. After any error the stream is unusable (the error repeats): the
/// caller answers (if at all) and closes.
#[derive(Debug, Clone)]
pub struct RecordReader {
    buf: Vec<u8>,
    max: usize,
    /// Bytes consumed from the stream before `buf[0]` (for error offsets).
    consumed: usize,
    failed: Option<WireError>,
}

impl Default for RecordReader {
    fn default() -> Self {
        Self::new()
    }
}

impl RecordReader {
    /// A reader with the default 64 KiB cap.
    pub fn new() -> Self {
        Self::with_max(DEFAULT_MAX_FRAME)
    }

    /// A reader with a custom frame cap.
    pub fn with_max(max: usize) -> Self {
        Self {
            buf: Vec::new(),
            max,
            consumed: 0,
            failed: None,
        }
    }

    /// The frame cap.
    pub fn max(&self) -> usize {
        self.max
    }

    /// Appends received bytes. The next record mark is checked as soon as
    /// its four octets are here, so an oversized or high-bit length fails
    /// before its body is buffered.
    pub fn push(&mut self, chunk: &[u8]) -> Result<()> {
        if let Some(e) = &self.failed {
            return Err(e.clone());
        }
        self.buf.extend_from_slice(chunk);
        self.pending_len().map(drop)
    }

    /// The next complete frame's body, or `None` until more bytes arrive.
    /// Call it until it returns `None` after every `push` (several frames
    /// can arrive in one chunk: RFC 4120 §7.2.2 allows pipelining).
    pub fn next_frame(&mut self) -> Result<Option<Vec<u8>>> {
        let Some(len) = self.pending_len()? else {
            return Ok(None);
        };
        let end = MARK_LEN + len;
        if self.buf.len() < end {
            return Ok(None);
        }
        let body = self.buf.get(MARK_LEN..end).unwrap_or(&[]).to_vec();
        self.buf.drain(..end);
        self.consumed += end;
        Ok(Some(body))
    }

    /// Bytes received but not yet returned as a frame.
    pub fn buffered(&self) -> usize {
        self.buf.len()
    }

    /// True between frames (nothing partial buffered): a close here is a
    /// clean end of stream, which RFC 4120 §7.2.2 says is not fatal.
    pub fn is_idle(&self) -> bool {
        self.buf.is_empty() && self.failed.is_none()
    }

    fn pending_len(&mut self) -> Result<Option<usize>> {
        if let Some(e) = &self.failed {
            return Err(e.clone());
        }
        let Some(mark) = self.buf.first_chunk::<4>() else {
            return Ok(None);
        };
        match parse_mark(*mark, self.max) {
            Ok(len) => Ok(Some(len)),
            Err(e) => {
                let e = e.shifted(self.consumed);
                self.failed = Some(e.clone());
                Err(e)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encode_and_decode_round_trip() {
        let framed = encode(b"\x6a\x00").unwrap();
        assert_eq!(framed, [0, 0, 0, 2, 0x6a, 0]);
        assert_eq!(decode(&framed, 10).unwrap(), b"\x6a\x00");
        assert_eq!(decode(&[0, 0, 0, 0], 10).unwrap(), b"");
    }

    #[test]
    fn decode_rejects_short_long_and_mismatched() {
        assert!(matches!(
            decode(&[0, 0, 1], 10).unwrap_err().kind,
            ErrorKind::Truncated { .. }
        ));
        let e = decode(&[0, 0, 0, 3, 1], 10).unwrap_err();
        assert_eq!(
            e.kind,
            ErrorKind::LengthMismatch {
                what: "record body",
                declared: 3,
                actual: 1
            }
        );
        let e = decode(&[0, 0, 0, 1, 1, 2], 10).unwrap_err();
        assert_eq!(e.offset, 5);
        let e = decode(&[0, 0, 0, 11], 10).unwrap_err();
        assert_eq!(
            e.kind,
            ErrorKind::TooLarge {
                size: 11,
                limit: 10
            }
        );
        let e = decode(&[0x80, 0, 0, 1, 0], 10).unwrap_err();
        assert_eq!(e.kind, ErrorKind::RecordMarkHighBit { value: 0x8000_0001 });
    }

    #[test]
    fn reader_reassembles_byte_by_byte_and_pipelined() {
        let mut stream = encode(b"first").unwrap();
        stream.extend(encode(b"").unwrap());
        stream.extend(encode(&[7u8; 300]).unwrap());
        // one byte at a time
        let mut r = RecordReader::new();
        let mut frames = Vec::new();
        for b in &stream {
            r.push(std::slice::from_ref(b)).unwrap();
            while let Some(f) = r.next_frame().unwrap() {
                frames.push(f);
            }
        }
        assert_eq!(frames, vec![b"first".to_vec(), vec![], vec![7u8; 300]]);
        assert!(r.is_idle());
        // all at once
        let mut r = RecordReader::new();
        r.push(&stream).unwrap();
        let mut n = 0;
        while r.next_frame().unwrap().is_some() {
            n += 1;
        }
        assert_eq!(n, 3);
    }

    #[test]
    fn reader_rejects_oversized_mark_before_the_body_arrives() {
        let mut r = RecordReader::with_max(100);
        r.push(&encode(b"ok").unwrap()).unwrap();
        assert_eq!(r.next_frame().unwrap(), Some(b"ok".to_vec()));
        r.push(&[0, 0]).unwrap();
        let e = r.push(&[0, 101]).unwrap_err();
        assert_eq!(
            e.kind,
            ErrorKind::TooLarge {
                size: 101,
                limit: 100
            }
        );
        assert_eq!(e.offset, 6, "offset counts bytes of earlier frames");
        // the stream is dead from now on
        assert!(r.push(&[1]).is_err());
        assert!(r.next_frame().is_err());
        assert!(!r.is_idle());
    }

    #[test]
    fn reader_rejects_high_bit_for_field_toolong() {
        let mut r = RecordReader::new();
        let e = r.push(&[0x80, 0x00, 0x00, 0x10]).unwrap_err();
        assert_eq!(e.kind, ErrorKind::RecordMarkHighBit { value: 0x8000_0010 });
        assert_eq!(
            e.to_string(),
            "record-mark: at byte 0: expected the record mark's high bit clear, found 0x80000010"
        );
    }

    #[test]
    fn default_cap_is_64_kib() {
        let mut r = RecordReader::new();
        assert!(r.push(&(64u32 * 1024).to_be_bytes()).is_ok());
        let mut r = RecordReader::new();
        assert!(r.push(&(64u32 * 1024 + 1).to_be_bytes()).is_err());
    }
}
