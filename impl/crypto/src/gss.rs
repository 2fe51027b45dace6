//! RFC 4121 §4.2 per-message tokens of the Kerberos GSS-API mechanism:
//! MIC tokens (TOK_ID `04 04`) and Wrap tokens (`05 04`) with and without
//! confidentiality. SPNEGO's mechListMIC over Kerberos and the gss-sample
//! "wrapped message" exchange use these.
//!
//! Behaviour follows RFC 4121 and, where the RFC leaves room, MIT krb5
//! (`lib/gssapi/krb5/k5sealv3.c`): sealed tokens are sent with EC = 0 and
//! RRC = 0; received tokens are rotated back by any RRC; the sender uses
//! the acceptor subkey whenever the context has one.
//!
//! Only the AES enctypes (17-20) are accepted: MIT and Windows protect
//! rc4-hmac contexts with the older RFC 4757 §7 token format instead, which
//! is not implemented here.

use rand_core::RngCore;
use subtle::ConstantTimeEq;
use thiserror::Error;

use crate::error::CryptoError;
use crate::etype::EncType;
use crate::key::Key;

/// RFC 4121 §4.2.6.1 MIC token identifier.
pub const TOK_ID_MIC: [u8; 2] = [0x04, 0x04];
/// RFC 4121 §4.2.6.2 Wrap token identifier.
pub const TOK_ID_WRAP: [u8; 2] = [0x05, 0x04];
/// Token header length (both token types).
pub const HEADER_LEN: usize = 16;

/// RFC 4121 §4.2.2 flag: the token was sent by the context acceptor.
pub const FLAG_SENT_BY_ACCEPTOR: u8 = 0x01;
/// RFC 4121 §4.2.2 flag: the Wrap token's data is encrypted.
pub const FLAG_SEALED: u8 = 0x02;
/// RFC 4121 §4.2.2 flag: the acceptor's subkey protects the token.
pub const FLAG_ACCEPTOR_SUBKEY: u8 = 0x04;

/// RFC 4121 §2 key usage for acceptor Wrap tokens (sealed or not).
pub const KG_USAGE_ACCEPTOR_SEAL: u32 = 22;
/// RFC 4121 §2 key usage for acceptor MIC tokens.
pub const KG_USAGE_ACCEPTOR_SIGN: u32 = 23;
/// RFC 4121 §2 key usage for initiator Wrap tokens (sealed or not).
pub const KG_USAGE_INITIATOR_SEAL: u32 = 24;
/// RFC 4121 §2 key usage for initiator MIC tokens.
pub const KG_USAGE_INITIATOR_SIGN: u32 = 25;

/// A malformed or unverifiable per-message token.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum GssError {
    /// Shorter than the 16-byte header (plus what the header promises).
    #[error("token of {0} bytes is too short")]
    TooShort(usize),
    /// Not the expected TOK_ID.
    #[error("token id {0:02x?} is not the expected {1:02x?}")]
    BadTokenId([u8; 2], [u8; 2]),
    /// Filler bytes are not 0xFF (RFC 4121 §4.2.6).
    #[error("token filler is not 0xFF")]
    BadFiller,
    /// SentByAcceptor flag says the token came from our own side: a
    /// reflected token (RFC 4121 §4.2.2).
    #[error("token direction flag is wrong (reflected token?)")]
    WrongDirection,
    /// The token uses the acceptor subkey but the context has none.
    #[error("token is protected with an acceptor subkey this context does not have")]
    NoAcceptorSubkey,
    /// The checksum or the encryption's integrity check failed.
    #[error("token integrity check failed")]
    BadSignature,
    /// The encrypted copy of the header does not match the header.
    #[error("encrypted header copy does not match the token header")]
    HeaderMismatch,
    /// EC larger than the data it describes.
    #[error("EC field {ec} exceeds the {available} bytes available")]
    BadExtraCount {
        /// the EC value
        ec: usize,
        /// bytes available for it
        available: usize,
    },
    /// The context key cannot protect RFC 4121 tokens.
    #[error("enctype {0} does not use RFC 4121 tokens")]
    UnsupportedEncType(i32),
    /// Underlying crypto failure.
    #[error(transparent)]
    Crypto(#[from] CryptoError),
}

/// Which end of the security context we are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// The context initiator (client).
    Initiator,
    /// The context acceptor (server).
    Acceptor,
}

/// The result of unwrapping a Wrap token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unwrapped {
    /// The application data.
    pub data: Vec<u8>,
    /// Whether it was encrypted (the Sealed flag).
    pub confidential: bool,
    /// The sender's sequence number (replay / ordering checks are the
    /// caller's policy, RFC 4121 §4.2.3).
    pub seq: u64,
}

/// Per-message protection for one established Kerberos GSS context.
#[derive(Debug, Clone)]
pub struct PerMessage {
    role: Role,
    /// The initiator's subkey from the Authenticator, or the ticket session
    /// key when there is none (RFC 4121 §2).
    key: Key,
    /// The acceptor subkey from the AP-REP, when one was asserted.
    acceptor_subkey: Option<Key>,
    send_seq: u64,
}

impl PerMessage {
    /// A context with the given keys; `send_seq` is our initial sequence
    /// number (the Authenticator's / EncAPRepPart's seq-number).
    pub fn new(
        role: Role,
        key: Key,
        acceptor_subkey: Option<Key>,
        send_seq: u64,
    ) -> Result<PerMessage, GssError> {
        check_etype(&key)?;
        if let Some(k) = &acceptor_subkey {
            check_etype(k)?;
        }
        Ok(PerMessage {
            role,
            key,
            acceptor_subkey,
            send_seq,
        })
    }

    /// Our next sequence number.
    pub fn send_seq(&self) -> u64 {
        self.send_seq
    }

    fn sending(&self) -> (&Key, u8) {
        let dir = match self.role {
            Role::Initiator => 0,
            Role::Acceptor => FLAG_SENT_BY_ACCEPTOR,
        };
        match &self.acceptor_subkey {
            Some(k) => (k, dir | FLAG_ACCEPTOR_SUBKEY),
            None => (&self.key, dir),
        }
    }

    /// Key and direction check for a received token with `flags`.
    fn receiving(&self, flags: u8) -> Result<&Key, GssError> {
        let expect_acceptor = self.role == Role::Initiator;
        if (flags & FLAG_SENT_BY_ACCEPTOR != 0) != expect_acceptor {
            return Err(GssError::WrongDirection);
        }
        if flags & FLAG_ACCEPTOR_SUBKEY != 0 {
            self.acceptor_subkey
                .as_ref()
                .ok_or(GssError::NoAcceptorSubkey)
        } else {
            Ok(&self.key)
        }
    }

    fn sign_usage(sender: Role) -> u32 {
        match sender {
            Role::Initiator => KG_USAGE_INITIATOR_SIGN,
            Role::Acceptor => KG_USAGE_ACCEPTOR_SIGN,
        }
    }

    fn seal_usage(sender: Role) -> u32 {
        match sender {
            Role::Initiator => KG_USAGE_INITIATOR_SEAL,
            Role::Acceptor => KG_USAGE_ACCEPTOR_SEAL,
        }
    }

    fn peer(&self) -> Role {
        match self.role {
            Role::Initiator => Role::Acceptor,
            Role::Acceptor => Role::Initiator,
        }
    }

    /// GSS_GetMIC: a MIC token over `message` (RFC 4121 §4.2.6.1).
    pub fn get_mic(&mut self, message: &[u8]) -> Vec<u8> {
        let (key, flags) = self.sending();
        let token = mic_token(
            key,
            Self::sign_usage(self.role),
            flags,
            self.send_seq,
            message,
        );
        self.send_seq = self.send_seq.wrapping_add(1);
        token
    }

    /// GSS_VerifyMIC: check the peer's MIC token over `message`; returns
    /// the peer's sequence number.
    pub fn verify_mic(&self, message: &[u8], token: &[u8]) -> Result<u64, GssError> {
        let header = parse_header(token, TOK_ID_MIC)?;
        // RFC 4121 §4.2.6.1: five filler bytes.
        if token[3..8] != [0xff; 5] {
            return Err(GssError::BadFiller);
        }
        let key = self.receiving(header.flags)?;
        let mut signed = Vec::with_capacity(message.len() + HEADER_LEN);
        signed.extend_from_slice(message);
        signed.extend_from_slice(&token[..HEADER_LEN]);
        verify(
            key,
            Self::sign_usage(self.peer()),
            &signed,
            &token[HEADER_LEN..],
        )?;
        Ok(header.seq)
    }

    /// GSS_Wrap: a Wrap token over `message`, sealed when `confidential`
    /// (RFC 4121 §4.2.4). Sent like MIT: EC = 0 for sealed tokens, RRC = 0.
    pub fn wrap(&mut self, message: &[u8], confidential: bool, rng: &mut dyn RngCore) -> Vec<u8> {
        let (key, flags) = self.sending();
        // RFC 4121 §2: Wrap tokens use the SEAL usages with or without
        // confidentiality (MIT k5sealv3.c does the same); SIGN is for MIC
        // tokens only.
        let usage = Self::seal_usage(self.role);
        let token = if confidential {
            wrap_sealed(key, usage, flags, self.send_seq, message, rng)
        } else {
            wrap_integrity(key, usage, flags, self.send_seq, message)
        };
        self.send_seq = self.send_seq.wrapping_add(1);
        token
    }

    /// GSS_Unwrap: verify (and decrypt) the peer's Wrap token, undoing any
    /// right rotation count (RRC) first.
    pub fn unwrap(&self, token: &[u8]) -> Result<Unwrapped, GssError> {
        let header = parse_header(token, TOK_ID_WRAP)?;
        if token[3] != 0xff {
            return Err(GssError::BadFiller);
        }
        let key = self.receiving(header.flags)?;
        let ec = usize::from(u16::from_be_bytes([token[4], token[5]]));
        let rrc = usize::from(u16::from_be_bytes([token[6], token[7]]));
        let mut body = token[HEADER_LEN..].to_vec();
        // RFC 4121 §4.2.5: the sender rotated the body right by RRC.
        if !body.is_empty() {
            let r = rrc % body.len();
            body.rotate_left(r);
        }
        if header.flags & FLAG_SEALED != 0 {
            let plain =
                key.decrypt(Self::seal_usage(self.peer()), &body)
                    .map_err(|e| match e {
                        CryptoError::IntegrityCheckFailed
                        | CryptoError::CiphertextTooShort { .. } => GssError::BadSignature,
                        other => GssError::Crypto(other),
                    })?;
            let Some(data_len) = plain.len().checked_sub(HEADER_LEN + ec) else {
                return Err(GssError::BadExtraCount {
                    ec,
                    available: plain.len().saturating_sub(HEADER_LEN),
                });
            };
            // The encrypted header copy must match TOK_ID, flags, filler and
            // SND_SEQ (EC and RRC may legitimately differ: RRC is 0 inside).
            let copy = &plain[plain.len() - HEADER_LEN..];
            if copy[..4] != token[..4] || copy[8..16] != token[8..16] {
                return Err(GssError::HeaderMismatch);
            }
            Ok(Unwrapped {
                data: plain[..data_len].to_vec(),
                confidential: true,
                seq: header.seq,
            })
        } else {
            // Integrity only: body = data | checksum, EC = checksum length.
            let Some(data_len) = body.len().checked_sub(ec) else {
                return Err(GssError::BadExtraCount {
                    ec,
                    available: body.len(),
                });
            };
            let (data, cksum) = body.split_at(data_len);
            let mut signed = Vec::with_capacity(data.len() + HEADER_LEN);
            signed.extend_from_slice(data);
            signed.extend_from_slice(&token[..HEADER_LEN]);
            // The checksummed header has EC and RRC zeroed (RFC 4121 §4.2.4).
            let h = signed.len() - HEADER_LEN;
            signed[h + 4..h + 8].fill(0);
            verify(key, Self::seal_usage(self.peer()), &signed, cksum)?;
            Ok(Unwrapped {
                data: data.to_vec(),
                confidential: false,
                seq: header.seq,
            })
        }
    }
}

fn check_etype(key: &Key) -> Result<(), GssError> {
    match key.etype() {
        EncType::Rc4Hmac => Err(GssError::UnsupportedEncType(key.etype().id())),
        _ => Ok(()),
    }
}

struct Header {
    flags: u8,
    seq: u64,
}

fn parse_header(token: &[u8], tok_id: [u8; 2]) -> Result<Header, GssError> {
    let Some(h) = token.first_chunk::<HEADER_LEN>() else {
        return Err(GssError::TooShort(token.len()));
    };
    if h[..2] != tok_id {
        return Err(GssError::BadTokenId([h[0], h[1]], tok_id));
    }
    let mut seq = [0u8; 8];
    seq.copy_from_slice(&h[8..16]);
    Ok(Header {
        flags: h[2],
        seq: u64::from_be_bytes(seq),
    })
}

fn verify(key: &Key, usage: u32, data: &[u8], cksum: &[u8]) -> Result<(), GssError> {
    let expect = key.checksum(usage, data);
    if expect.len() == cksum.len() && bool::from(expect.as_slice().ct_eq(cksum)) {
        Ok(())
    } else {
        Err(GssError::BadSignature)
    }
}

/// A MIC token: header `04 04 | flags | FF*5 | SND_SEQ` followed by the
/// key's checksum over `message | header` (RFC 4121 §4.2.6.1).
pub fn mic_token(key: &Key, usage: u32, flags: u8, seq: u64, message: &[u8]) -> Vec<u8> {
    let mut header = [0xffu8; HEADER_LEN];
    header[..2].copy_from_slice(&TOK_ID_MIC);
    header[2] = flags;
    header[8..].copy_from_slice(&seq.to_be_bytes());
    let mut signed = Vec::with_capacity(message.len() + HEADER_LEN);
    signed.extend_from_slice(message);
    signed.extend_from_slice(&header);
    let cksum = key.checksum(usage, &signed);
    let mut token = Vec::with_capacity(HEADER_LEN + cksum.len());
    token.extend_from_slice(&header);
    token.extend_from_slice(&cksum);
    token
}

fn wrap_header(flags: u8, ec: u16, seq: u64) -> [u8; HEADER_LEN] {
    let mut h = [0u8; HEADER_LEN];
    h[..2].copy_from_slice(&TOK_ID_WRAP);
    h[2] = flags;
    h[3] = 0xff;
    h[4..6].copy_from_slice(&ec.to_be_bytes());
    // RRC (bytes 6..8) stays 0.
    h[8..].copy_from_slice(&seq.to_be_bytes());
    h
}

/// A sealed Wrap token: `header | E(message | header)` with EC = 0 and
/// RRC = 0 (RFC 4121 §4.2.4).
pub fn wrap_sealed(
    key: &Key,
    usage: u32,
    flags: u8,
    seq: u64,
    message: &[u8],
    rng: &mut dyn RngCore,
) -> Vec<u8> {
    let header = wrap_header(flags | FLAG_SEALED, 0, seq);
    let mut plain = Vec::with_capacity(message.len() + HEADER_LEN);
    plain.extend_from_slice(message);
    plain.extend_from_slice(&header);
    let ct = key.encrypt(usage, &plain, rng);
    let mut token = Vec::with_capacity(HEADER_LEN + ct.len());
    token.extend_from_slice(&header);
    token.extend_from_slice(&ct);
    token
}

/// An integrity-only Wrap token: `header | message | checksum`, where the
/// checksum covers `message | header-with-EC-and-RRC-zero` and EC then
/// carries the checksum length (RFC 4121 §4.2.4).
pub fn wrap_integrity(key: &Key, usage: u32, flags: u8, seq: u64, message: &[u8]) -> Vec<u8> {
    let zeroed = wrap_header(flags & !FLAG_SEALED, 0, seq);
    let mut signed = Vec::with_capacity(message.len() + HEADER_LEN);
    signed.extend_from_slice(message);
    signed.extend_from_slice(&zeroed);
    let cksum = key.checksum(usage, &signed);
    let ec = u16::try_from(cksum.len()).unwrap_or(u16::MAX);
    let header = wrap_header(flags & !FLAG_SEALED, ec, seq);
    let mut token = Vec::with_capacity(HEADER_LEN + message.len() + cksum.len());
    token.extend_from_slice(&header);
    token.extend_from_slice(message);
    token.extend_from_slice(&cksum);
    token
}
