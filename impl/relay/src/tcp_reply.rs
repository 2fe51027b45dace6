//! Bounded, incremental reading of one record-marked reply from a TCP KDC.
//!
//! CVE-2025-59089: kdcproxy before 1.1.0 buffered upstream data without
//! bound. This reader decides from the first four bytes how much it will
//! ever accept, refuses a declared length above the limit at once, tells the
//! driver exactly how many bytes to read next (so bytes past the declared
//! end of an endless reply are never even read), and reports a short reply
//! as an error rather than passing partial data on as kdcproxy does.

use crate::reject::UpstreamError;

/// RFC 4120 §7.2.2: "preceded by the length … as 4 octets in network byte order".
pub const RECORD_MARK_LEN: usize = kerbside_wire::record::MARK_LEN;

/// Maps a record-mark error from kerbside-wire to the upstream error.
pub(crate) fn mark_error(
    e: &kerbside_wire::WireError,
    mark: [u8; RECORD_MARK_LEN],
) -> UpstreamError {
    match e.kind {
        kerbside_wire::ErrorKind::TooLarge { size, limit } => {
            UpstreamError::TooLarge { size, limit }
        }
        _ => UpstreamError::ReservedBit(u32::from_be_bytes(mark)),
    }
}

/// Reads one `record mark + message` from a byte stream.
#[derive(Debug)]
pub struct TcpReplyReader {
    limit: usize,
    buf: Vec<u8>,
    /// Total bytes (record mark included) once the mark is known.
    total: Option<usize>,
}

impl TcpReplyReader {
    /// A reader accepting messages of at most `limit` bytes (mark excluded).
    pub fn new(limit: usize) -> Self {
        TcpReplyReader {
            limit,
            buf: Vec::with_capacity(RECORD_MARK_LEN),
            total: None,
        }
    }

    /// How many more bytes the reply needs; 0 once complete. Read at most
    /// this many so nothing past the reply is consumed.
    pub fn wanted(&self) -> usize {
        match self.total {
            Some(t) => t.saturating_sub(self.buf.len()),
            None => RECORD_MARK_LEN - self.buf.len(),
        }
    }

    /// How many bytes to ask the socket for next, with a buffer of `cap`.
    /// Before the record mark is known the first read may take the mark and
    /// the message together (one syscall for a typical reply): a KDC sends
    /// exactly one reply per request, so bytes past its declared end are a
    /// protocol error whether or not they arrive in the same read. Once the
    /// mark is known, never more than the reply still needs, so an endless
    /// stream is cut at the declared length.
    pub fn read_window(&self, cap: usize) -> usize {
        match self.total {
            Some(_) => self.wanted().min(cap),
            None => cap
                .min(RECORD_MARK_LEN.saturating_add(self.limit))
                .max(self.wanted().min(cap)),
        }
    }

    /// Whether a whole reply has been read.
    pub fn is_complete(&self) -> bool {
        self.total.is_some() && self.wanted() == 0
    }

    /// Takes bytes read from the stream. Returns `Ok(true)` when the reply
    /// is complete.
    pub fn feed(&mut self, mut data: &[u8]) -> Result<bool, UpstreamError> {
        if self.total.is_none() {
            let take = data.len().min(RECORD_MARK_LEN - self.buf.len());
            let (head, rest) = data.split_at(take);
            self.buf.extend_from_slice(head);
            data = rest;
            if self.buf.len() < RECORD_MARK_LEN {
                return Ok(false);
            }
            let Some(&mark) = self.buf.first_chunk::<RECORD_MARK_LEN>() else {
                return Ok(false);
            };
            // RFC 4120 §7.2.2: high bit reserved; and the declared length is
            // refused before a byte of it is read.
            let len = kerbside_wire::record::parse_mark(mark, self.limit)
                .map_err(|e| mark_error(&e, mark))?;
            self.total = Some(RECORD_MARK_LEN + len);
            self.buf.reserve_exact(len);
        }
        let wanted = self.wanted();
        if data.len() > wanted {
            return Err(UpstreamError::TrailingBytes(data.len() - wanted));
        }
        self.buf.extend_from_slice(data);
        Ok(self.is_complete())
    }

    /// The stream ended: the error to report (a complete reply never calls this).
    pub fn eof_error(&self) -> UpstreamError {
        UpstreamError::Truncated {
            received: self.buf.len(),
            expected: self.total.unwrap_or(RECORD_MARK_LEN),
        }
    }

    /// The complete reply, record mark included.
    pub fn into_framed(self) -> Vec<u8> {
        self.buf
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_exactly_the_declared_length_in_pieces() {
        let mut r = TcpReplyReader::new(100);
        assert_eq!(r.wanted(), 4);
        assert!(!r.feed(&[0, 0]).unwrap());
        assert_eq!(r.wanted(), 2);
        assert!(!r.feed(&[0, 3, 0x7e]).unwrap());
        assert_eq!(r.wanted(), 2);
        assert!(r.feed(&[1, 2]).unwrap());
        assert_eq!(r.wanted(), 0);
        assert_eq!(r.into_framed(), [0, 0, 0, 3, 0x7e, 1, 2]);
    }

    #[test]
    fn refuses_oversize_declared_length_before_reading_it() {
        let mut r = TcpReplyReader::new(128 * 1024);
        let e = r.feed(&(128 * 1024 + 1u32).to_be_bytes()).unwrap_err();
        assert_eq!(
            e,
            UpstreamError::TooLarge {
                size: 128 * 1024 + 1,
                limit: 128 * 1024
            }
        );
        let mut r = TcpReplyReader::new(10);
        assert_eq!(
            r.feed(&[0x80, 0, 0, 1]).unwrap_err(),
            UpstreamError::ReservedBit(0x8000_0001)
        );
    }

    #[test]
    fn bytes_past_the_declared_end_are_an_error() {
        let mut r = TcpReplyReader::new(10);
        assert_eq!(
            r.feed(&[0, 0, 0, 1, 0x7e, 0]).unwrap_err(),
            UpstreamError::TrailingBytes(1)
        );
    }

    #[test]
    fn short_reply_reports_truncation() {
        let mut r = TcpReplyReader::new(10);
        r.feed(&[0, 0, 0, 5, 1]).unwrap();
        assert_eq!(
            r.eof_error(),
            UpstreamError::Truncated {
                received: 5,
                expected: 9
            }
        );
        let r = TcpReplyReader::new(10);
        assert_eq!(
            r.eof_error(),
            UpstreamError::Truncated {
                received: 0,
                expected: 4
            }
        );
    }

    #[test]
    fn first_read_may_take_mark_and_body_then_only_what_is_wanted() {
        let mut r = TcpReplyReader::new(100);
        assert_eq!(
            r.read_window(16_384),
            104,
            "mark + the largest allowed reply"
        );
        assert_eq!(TcpReplyReader::new(1 << 20).read_window(16_384), 16_384);
        // One read with mark and the whole body completes the reply.
        assert!(r.feed(&[0, 0, 0, 2, 0x7e, 0]).unwrap());
        let mut r = TcpReplyReader::new(100);
        r.feed(&[0, 0, 0, 50, 1, 2]).unwrap();
        assert_eq!(r.read_window(16_384), 48);
        assert_eq!(r.read_window(10), 10);
    }

    #[test]
    fn zero_length_reply_completes_empty() {
        let mut r = TcpReplyReader::new(10);
        assert!(r.feed(&[0, 0, 0, 0]).unwrap());
        assert_eq!(r.into_framed(), [0, 0, 0, 0]);
    }
}
