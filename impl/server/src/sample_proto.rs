//! The framing of MIT's gss-sample programs (`src/appl/gss-sample`,
//! `gss-misc.c` `send_token`/`recv_token`), which `kerbside serve app` and
//! `kerbside client` speak so MIT's `gss-client` and `gss-server` are
//! their peers:
//!
//! ```text
//! flags (1) | length (4, big-endian) | token
//! ```
//!
//! A zero flags byte is the old v1 format, where that byte is the high
//! byte of the length (so the length has 3 more bytes). The flags say what
//! the token is (`gss-misc.h`).

/// Token types and flags (`gss-misc.h`).
pub mod token_flags {
    /// An empty "nothing" token: starts an unauthenticated session, or
    /// ends the message loop.
    pub const NOOP: u8 = 1 << 0;
    /// A context-establishment token.
    pub const CONTEXT: u8 = 1 << 1;
    /// An application data token.
    pub const DATA: u8 = 1 << 2;
    /// A MIC token (the server's answer to DATA with SEND_MIC).
    pub const MIC: u8 = 1 << 3;
    /// With NOOP: context tokens follow.
    pub const CONTEXT_NEXT: u8 = 1 << 4;
    /// DATA is a GSS Wrap token.
    pub const WRAPPED: u8 = 1 << 5;
    /// The Wrap token was sealed.
    pub const ENCRYPTED: u8 = 1 << 6;
    /// Answer DATA with a MIC of the message.
    pub const SEND_MIC: u8 = 1 << 7;
}

/// One framed token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    /// The flags byte (0 for a v1-format token).
    pub flags: u8,
    /// The token.
    pub token: Vec<u8>,
}

/// A frame longer than the receiver allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("gss-sample token of {len} bytes exceeds the {max}-byte limit")]
pub struct FrameTooLarge {
    /// Announced length.
    pub len: usize,
    /// Limit.
    pub max: usize,
}

/// The default bound on one token (MIT sends context tokens of a few KiB;
/// Windows' MaxTokenSize is 48000).
pub const DEFAULT_MAX_TOKEN: usize = 64 * 1024;

/// Encodes a frame. `flags` must not be 0 (MIT reads 0 as the v1 format).
pub fn encode(flags: u8, token: &[u8]) -> Vec<u8> {
    let len = u32::try_from(token.len()).unwrap_or(u32::MAX);
    let mut out = Vec::with_capacity(5 + token.len());
    out.push(flags);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(token.get(..len as usize).unwrap_or(token));
    out
}

/// Incremental decoder for a byte stream of frames.
#[derive(Debug, Clone)]
pub struct FrameDecoder {
    buf: Vec<u8>,
    max: usize,
}

impl Default for FrameDecoder {
    fn default() -> Self {
        Self::new(DEFAULT_MAX_TOKEN)
    }
}

impl FrameDecoder {
    /// A decoder refusing tokens longer than `max`.
    pub fn new(max: usize) -> Self {
        Self {
            buf: Vec::new(),
            max,
        }
    }

    /// Appends received bytes.
    pub fn push(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// The next complete frame, if buffered.
    pub fn next_frame(&mut self) -> Result<Option<Frame>, FrameTooLarge> {
        let Some(flags) = self.buf.first().copied() else {
            return Ok(None);
        };
        // v1: the flags byte is the length's high byte, 4 bytes of header.
        let (hdr, len) = if flags == 0 {
            let Some(l) = self.buf.get(..4) else {
                return Ok(None);
            };
            (4, u32::from_be_bytes([l[0], l[1], l[2], l[3]]))
        } else {
            let Some(l) = self.buf.get(1..5) else {
                return Ok(None);
            };
            (5, u32::from_be_bytes([l[0], l[1], l[2], l[3]]))
        };
        let len = usize::try_from(len).unwrap_or(usize::MAX);
        if len > self.max {
            return Err(FrameTooLarge { len, max: self.max });
        }
        let Some(token) = self.buf.get(hdr..hdr + len) else {
            return Ok(None);
        };
        let frame = Frame {
            flags,
            token: token.to_vec(),
        };
        self.buf.drain(..hdr + len);
        Ok(Some(frame))
    }

    /// Bytes buffered but not yet a frame.
    pub fn buffered(&self) -> usize {
        self.buf.len()
    }
}

#[cfg(test)]
mod tests {
    use super::token_flags::*;
    use super::*;

    #[test]
    fn frames_round_trip_split_anywhere() {
        let mut wire = encode(NOOP | CONTEXT_NEXT, &[]);
        wire.extend(encode(CONTEXT, &[0x60, 1, 2, 3]));
        wire.extend(encode(DATA | WRAPPED | ENCRYPTED | SEND_MIC, b"hello"));
        assert_eq!(&wire[..5], &[0x11, 0, 0, 0, 0]);
        for split in 0..wire.len() {
            let mut d = FrameDecoder::default();
            let mut got = Vec::new();
            for chunk in [&wire[..split], &wire[split..]] {
                d.push(chunk);
                while let Some(f) = d.next_frame().unwrap() {
                    got.push(f);
                }
            }
            assert_eq!(got.len(), 3, "split at {split}");
            assert_eq!(got[1].token, [0x60, 1, 2, 3]);
            assert_eq!(got[2].flags, 0xe4);
            assert_eq!(d.buffered(), 0);
        }
    }

    #[test]
    fn v1_format_and_limits() {
        // v1: 4-byte length whose high byte sits where the flags would be.
        let mut d = FrameDecoder::default();
        d.push(&[0, 0, 0, 2, 0xaa, 0xbb]);
        assert_eq!(
            d.next_frame().unwrap(),
            Some(Frame {
                flags: 0,
                token: vec![0xaa, 0xbb]
            })
        );
        let mut d = FrameDecoder::new(10);
        d.push(&[CONTEXT, 0xff, 0xff, 0xff, 0xff]);
        assert_eq!(
            d.next_frame(),
            Err(FrameTooLarge {
                len: 0xffff_ffff,
                max: 10
            })
        );
    }
}
