//! NTLMv2 cryptography (MS-NLMP §3.3.2, §3.4): the one-way functions, the
//! NTLMv2 and LMv2 responses, key exchange, the MIC over the three
//! messages, and session security (signing and sealing with extended
//! session security), which SPNEGO's mechListMIC over NTLM also uses.
//!
//! Message encoding is `kerbside-wire`'s job; this module works on the
//! byte fields. Only NTLMv2 with extended session security is implemented:
//! that is what every current Windows and Samba peer negotiates, and NTLMv1
//! is what the fallback study wants to see *refused*.

use std::fmt;

use md5::{Digest, Md5};
use rc4::{KeyInit, Rc4, StreamCipher, consts::U16};
use subtle::ConstantTimeEq;
use thiserror::Error;

use crate::primitives::hmac_md5;
use crate::rc4_hmac::{nt_hash, rc4_apply};

/// NTLMSSP_NEGOTIATE_EXTENDED_SESSIONSECURITY (MS-NLMP §2.2.2.5, flag P).
pub const NEGOTIATE_EXTENDED_SESSIONSECURITY: u32 = 0x0008_0000;
/// NTLMSSP_NEGOTIATE_128 (flag U).
pub const NEGOTIATE_128: u32 = 0x2000_0000;
/// NTLMSSP_NEGOTIATE_KEY_EXCH (flag V).
pub const NEGOTIATE_KEY_EXCH: u32 = 0x4000_0000;
/// NTLMSSP_NEGOTIATE_56 (flag W).
pub const NEGOTIATE_56: u32 = 0x8000_0000;

/// Length of an NTLM message signature (MS-NLMP §2.2.2.9.1).
pub const SIGNATURE_LEN: usize = 16;
/// Fixed part of the NTLMv2_CLIENT_CHALLENGE before the AV pairs
/// (MS-NLMP §2.2.2.7): versions, reserved, timestamp, challenge, reserved.
pub const CLIENT_CHALLENGE_HEADER_LEN: usize = 28;

/// An NTLM cryptographic failure.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum NtlmError {
    /// The NtChallengeResponse is shorter than NTProofStr plus the fixed
    /// client-challenge header (16 + 28 bytes), so it is not NTLMv2.
    #[error("NTLMv2 response of {0} bytes is shorter than the minimum 44")]
    ResponseTooShort(usize),
    /// The NTProofStr does not match: wrong password or modified response.
    #[error("NTLMv2 proof does not verify")]
    ProofMismatch,
    /// The MIC field lies outside the AUTHENTICATE message.
    #[error("MIC field at offset {offset} does not fit a {len}-byte AUTHENTICATE message")]
    MicOutOfRange {
        /// offset of the 16-byte MIC field
        offset: usize,
        /// message length
        len: usize,
    },
    /// The MIC does not verify: a message was altered in transit.
    #[error("NTLM MIC does not verify")]
    MicMismatch,
    /// A signature that is not 16 bytes or not version 1.
    #[error("malformed NTLM signature")]
    MalformedSignature,
    /// A signature whose checksum or sequence number does not verify.
    #[error("NTLM signature does not verify")]
    SignatureMismatch,
    /// Session security without extended session security (NTLMv1-style
    /// CRC32 signatures) is not implemented.
    #[error("NTLM session security requires NTLMSSP_NEGOTIATE_EXTENDED_SESSIONSECURITY")]
    ExtendedSessionSecurityRequired,
}

fn utf16le(s: &str) -> Vec<u8> {
    s.encode_utf16().flat_map(u16::to_le_bytes).collect()
}

/// NTOWFv2 (MS-NLMP §3.3.2):
/// `HMAC_MD5(MD4(UNICODE(Passwd)), UNICODE(Uppercase(User) | UserDom))`.
/// The domain is not upper-cased.
pub fn ntowf_v2(password: &str, user: &str, domain: &str) -> [u8; 16] {
    ntowf_v2_from_hash(&nt_hash(password), user, domain)
}

/// NTOWFv2 from an NT hash (a domain controller stores the hash, not the
/// password).
pub fn ntowf_v2_from_hash(nt_hash: &[u8; 16], user: &str, domain: &str) -> [u8; 16] {
    let mut identity = utf16le(&user.to_uppercase());
    identity.extend_from_slice(&utf16le(domain));
    hmac_md5(nt_hash, &[&identity])
}

/// LMOWFv2 is defined as NTOWFv2 (MS-NLMP §3.3.2).
pub fn lmowf_v2(password: &str, user: &str, domain: &str) -> [u8; 16] {
    ntowf_v2(password, user, domain)
}

/// The client challenge structure ("temp" in MS-NLMP §3.3.2):
/// `Responserversion(1) | HiResponserversion(1) | Z(6) | Time(8, LE FILETIME)
/// | ClientChallenge(8) | Z(4) | ServerName(AV pairs) | Z(4)`.
pub fn client_challenge_blob(time: u64, client_challenge: &[u8; 8], target_info: &[u8]) -> Vec<u8> {
    let mut temp = Vec::with_capacity(CLIENT_CHALLENGE_HEADER_LEN + target_info.len() + 4);
    temp.extend_from_slice(&[1, 1, 0, 0, 0, 0, 0, 0]);
    temp.extend_from_slice(&time.to_le_bytes());
    temp.extend_from_slice(client_challenge);
    temp.extend_from_slice(&[0; 4]);
    temp.extend_from_slice(target_info);
    temp.extend_from_slice(&[0; 4]);
    temp
}

/// The output of the NTLMv2 ComputeResponse (MS-NLMP §3.3.2).
#[derive(Clone, PartialEq, Eq)]
pub struct NtlmV2Response {
    /// `HMAC_MD5(ResponseKeyNT, ServerChallenge | temp)`.
    pub nt_proof_str: [u8; 16],
    /// `NTProofStr | temp`, the AUTHENTICATE NtChallengeResponse.
    pub nt_challenge_response: Vec<u8>,
    /// LMv2: `HMAC_MD5(ResponseKeyLM, ServerChallenge | ClientChallenge) |
    /// ClientChallenge`. A client sends 24 zero bytes instead when the
    /// CHALLENGE carried MsvAvTimestamp (MS-NLMP §3.1.5.1.2).
    pub lm_challenge_response: [u8; 24],
    /// `HMAC_MD5(ResponseKeyNT, NTProofStr)`; for NTLMv2 also the
    /// KeyExchangeKey (§3.4.5.1).
    pub session_base_key: [u8; 16],
}

impl fmt::Debug for NtlmV2Response {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NtlmV2Response")
            .field("nt_proof_str", &hex::encode(self.nt_proof_str))
            .field(
                "nt_challenge_response_len",
                &self.nt_challenge_response.len(),
            )
            .field("session_base_key", &"<redacted>")
            .finish()
    }
}

/// NTLMv2 ComputeResponse (MS-NLMP §3.3.2) for a response key from
/// [`ntowf_v2`], the server challenge, the client's 8-byte challenge, the
/// FILETIME and the CHALLENGE's target info (AV pairs, as the client will
/// send them, i.e. with any MsvAvFlags/MIC/channel-binding pairs added).
pub fn compute_response(
    response_key: &[u8; 16],
    server_challenge: &[u8; 8],
    client_challenge: &[u8; 8],
    time: u64,
    target_info: &[u8],
) -> NtlmV2Response {
    let temp = client_challenge_blob(time, client_challenge, target_info);
    let nt_proof_str = hmac_md5(response_key, &[server_challenge, &temp]);
    let mut nt_challenge_response = Vec::with_capacity(16 + temp.len());
    nt_challenge_response.extend_from_slice(&nt_proof_str);
    nt_challenge_response.extend_from_slice(&temp);
    let lm = hmac_md5(response_key, &[server_challenge, client_challenge]);
    let mut lm_challenge_response = [0u8; 24];
    lm_challenge_response[..16].copy_from_slice(&lm);
    lm_challenge_response[16..].copy_from_slice(client_challenge);
    NtlmV2Response {
        nt_proof_str,
        nt_challenge_response,
        lm_challenge_response,
        session_base_key: hmac_md5(response_key, &[&nt_proof_str]),
    }
}

/// Server side of §3.3.2: check the NtChallengeResponse against the
/// expected response key and return the SessionBaseKey. The comparison is
/// constant-time. Checking the timestamp and AV pairs inside `temp` is the
/// acceptor's policy, not crypto.
pub fn verify_response(
    response_key: &[u8; 16],
    server_challenge: &[u8; 8],
    nt_challenge_response: &[u8],
) -> Result<[u8; 16], NtlmError> {
    if nt_challenge_response.len() < 16 + CLIENT_CHALLENGE_HEADER_LEN {
        return Err(NtlmError::ResponseTooShort(nt_challenge_response.len()));
    }
    let (proof, temp) = nt_challenge_response.split_at(16);
    let expect = hmac_md5(response_key, &[server_challenge, temp]);
    if !bool::from(expect.ct_eq(proof)) {
        return Err(NtlmError::ProofMismatch);
    }
    Ok(hmac_md5(response_key, &[&expect]))
}

/// KXKEY for NTLMv2 (MS-NLMP §3.4.5.1): the KeyExchangeKey is the
/// SessionBaseKey itself.
pub fn kxkey_v2(session_base_key: &[u8; 16]) -> [u8; 16] {
    *session_base_key
}

/// With NTLMSSP_NEGOTIATE_KEY_EXCH the client picks a random
/// ExportedSessionKey and sends `RC4K(KeyExchangeKey, ExportedSessionKey)`
/// as EncryptedRandomSessionKey (MS-NLMP §3.1.5.1.2).
pub fn encrypt_session_key(
    key_exchange_key: &[u8; 16],
    exported_session_key: &[u8; 16],
) -> [u8; 16] {
    let mut out = *exported_session_key;
    rc4_apply(key_exchange_key, &mut out);
    out
}

/// The server's inverse (MS-NLMP §3.2.5.1.2): RC4 is its own inverse.
pub fn decrypt_session_key(
    key_exchange_key: &[u8; 16],
    encrypted_random_session_key: &[u8; 16],
) -> [u8; 16] {
    encrypt_session_key(key_exchange_key, encrypted_random_session_key)
}

/// The MIC (MS-NLMP §3.1.5.1.2):
/// `HMAC_MD5(ExportedSessionKey, NEGOTIATE | CHALLENGE | AUTHENTICATE)`
/// with the AUTHENTICATE message's MIC field already zeroed.
pub fn mic(
    exported_session_key: &[u8; 16],
    negotiate: &[u8],
    challenge: &[u8],
    authenticate_zeroed: &[u8],
) -> [u8; 16] {
    hmac_md5(
        exported_session_key,
        &[negotiate, challenge, authenticate_zeroed],
    )
}

/// The MIC over an AUTHENTICATE message as sent, zeroing its 16-byte MIC
/// field at `mic_offset` (72 when the Version field is present) first.
pub fn mic_over_message(
    exported_session_key: &[u8; 16],
    negotiate: &[u8],
    challenge: &[u8],
    authenticate: &[u8],
    mic_offset: usize,
) -> Result<[u8; 16], NtlmError> {
    let end = mic_offset
        .checked_add(16)
        .filter(|e| *e <= authenticate.len());
    let Some(end) = end else {
        return Err(NtlmError::MicOutOfRange {
            offset: mic_offset,
            len: authenticate.len(),
        });
    };
    let mut zeroed = authenticate.to_vec();
    zeroed[mic_offset..end].fill(0);
    Ok(mic(exported_session_key, negotiate, challenge, &zeroed))
}

/// Acceptor check of the MIC carried in `authenticate` at `mic_offset`.
pub fn verify_mic(
    exported_session_key: &[u8; 16],
    negotiate: &[u8],
    challenge: &[u8],
    authenticate: &[u8],
    mic_offset: usize,
) -> Result<(), NtlmError> {
    let expect = mic_over_message(
        exported_session_key,
        negotiate,
        challenge,
        authenticate,
        mic_offset,
    )?;
    let got = &authenticate[mic_offset..mic_offset + 16];
    if bool::from(expect.ct_eq(got)) {
        Ok(())
    } else {
        Err(NtlmError::MicMismatch)
    }
}

/// Which way a key protects traffic (MS-NLMP §3.4.5.2/§3.4.5.3 "Mode").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// client-to-server
    ClientToServer,
    /// server-to-client
    ServerToClient,
}

/// SIGNKEY with extended session security (MS-NLMP §3.4.5.2):
/// `MD5(ExportedSessionKey | "session key to <mode> signing key magic constant\0")`.
pub fn sign_key(exported_session_key: &[u8; 16], direction: Direction) -> [u8; 16] {
    let magic: &[u8] = match direction {
        Direction::ClientToServer => {
            b"session key to client-to-server signing key magic constant\0"
        }
        Direction::ServerToClient => {
            b"session key to server-to-client signing key magic constant\0"
        }
    };
    let mut h = Md5::new();
    h.update(exported_session_key);
    h.update(magic);
    h.finalize().into()
}

/// SEALKEY with extended session security (MS-NLMP §3.4.5.3): the session
/// key cut to 128, 56 or 40 bits per the negotiated flags, then
/// `MD5(key | "session key to <mode> sealing key magic constant\0")`.
pub fn seal_key(exported_session_key: &[u8; 16], flags: u32, direction: Direction) -> [u8; 16] {
    let len = if flags & NEGOTIATE_128 != 0 {
        16
    } else if flags & NEGOTIATE_56 != 0 {
        7
    } else {
        5
    };
    let magic: &[u8] = match direction {
        Direction::ClientToServer => {
            b"session key to client-to-server sealing key magic constant\0"
        }
        Direction::ServerToClient => {
            b"session key to server-to-client sealing key magic constant\0"
        }
    };
    let mut h = Md5::new();
    h.update(&exported_session_key[..len]);
    h.update(magic);
    h.finalize().into()
}

/// One direction's signing key, sealing key, RC4 handle and sequence number.
struct Channel {
    sign_key: [u8; 16],
    seal_key: [u8; 16],
    rc4: Rc4<U16>,
    seq: u32,
}

impl Channel {
    fn new(exported: &[u8; 16], flags: u32, dir: Direction) -> Channel {
        let seal_key = seal_key(exported, flags, dir);
        Channel {
            sign_key: sign_key(exported, dir),
            seal_key,
            rc4: Rc4::<U16>::new((&seal_key).into()),
            seq: 0,
        }
    }

    /// MAC with extended session security (MS-NLMP §3.4.4.2):
    /// `Version(1) | Checksum | SeqNum`, Checksum = the first 8 bytes of
    /// `HMAC_MD5(SigningKey, SeqNum | Message)`, RC4-encrypted with the
    /// sealing handle when keys were exchanged.
    fn mac(&mut self, message: &[u8], key_exch: bool, seq: u32) -> [u8; SIGNATURE_LEN] {
        let seq_le = seq.to_le_bytes();
        let full = hmac_md5(&self.sign_key, &[&seq_le, message]);
        let mut checksum = [0u8; 8];
        checksum.copy_from_slice(&full[..8]);
        if key_exch {
            self.rc4.apply_keystream(&mut checksum);
        }
        let mut sig = [0u8; SIGNATURE_LEN];
        sig[..4].copy_from_slice(&1u32.to_le_bytes());
        sig[4..12].copy_from_slice(&checksum);
        sig[12..].copy_from_slice(&seq_le);
        sig
    }
}

/// NTLM session security for one side of an established context
/// (MS-NLMP §3.4): signs and seals outgoing messages, verifies and unseals
/// incoming ones, each direction with its own keys, RC4 state and sequence
/// number.
pub struct SessionSecurity {
    send: Channel,
    recv: Channel,
    key_exch: bool,
}

impl fmt::Debug for SessionSecurity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionSecurity")
            .field("send_seq", &self.send.seq)
            .field("recv_seq", &self.recv.seq)
            .field("key_exch", &self.key_exch)
            .finish_non_exhaustive()
    }
}

impl SessionSecurity {
    /// Session security for the client (sends client-to-server).
    pub fn client(
        exported_session_key: &[u8; 16],
        flags: u32,
    ) -> Result<SessionSecurity, NtlmError> {
        SessionSecurity::new(exported_session_key, flags, Direction::ClientToServer)
    }

    /// Session security for the server (sends server-to-client).
    pub fn server(
        exported_session_key: &[u8; 16],
        flags: u32,
    ) -> Result<SessionSecurity, NtlmError> {
        SessionSecurity::new(exported_session_key, flags, Direction::ServerToClient)
    }

    fn new(
        exported: &[u8; 16],
        flags: u32,
        send_dir: Direction,
    ) -> Result<SessionSecurity, NtlmError> {
        if flags & NEGOTIATE_EXTENDED_SESSIONSECURITY == 0 {
            return Err(NtlmError::ExtendedSessionSecurityRequired);
        }
        let recv_dir = match send_dir {
            Direction::ClientToServer => Direction::ServerToClient,
            Direction::ServerToClient => Direction::ClientToServer,
        };
        Ok(SessionSecurity {
            send: Channel::new(exported, flags, send_dir),
            recv: Channel::new(exported, flags, recv_dir),
            key_exch: flags & NEGOTIATE_KEY_EXCH != 0,
        })
    }

    /// Next outgoing sequence number.
    pub fn send_seq(&self) -> u32 {
        self.send.seq
    }

    /// Next expected incoming sequence number.
    pub fn recv_seq(&self) -> u32 {
        self.recv.seq
    }

    /// GSS_GetMIC (MS-NLMP §3.4.4): the signature of `message`.
    pub fn sign(&mut self, message: &[u8]) -> [u8; SIGNATURE_LEN] {
        let seq = self.send.seq;
        self.send.seq = seq.wrapping_add(1);
        self.send.mac(message, self.key_exch, seq)
    }

    /// GSS_VerifyMIC: check a peer signature over `message`.
    pub fn verify(&mut self, message: &[u8], signature: &[u8]) -> Result<(), NtlmError> {
        if signature.len() != SIGNATURE_LEN || signature[..4] != 1u32.to_le_bytes() {
            return Err(NtlmError::MalformedSignature);
        }
        let seq = self.recv.seq;
        let expect = self.recv.mac(message, self.key_exch, seq);
        if bool::from(expect.ct_eq(signature)) {
            self.recv.seq = seq.wrapping_add(1);
            Ok(())
        } else {
            Err(NtlmError::SignatureMismatch)
        }
    }

    /// GSS_WrapEx with confidentiality (MS-NLMP §3.4.3 SEAL): the message
    /// RC4-encrypted, then the signature over the plaintext (whose checksum
    /// continues the same RC4 stream).
    pub fn seal(&mut self, message: &[u8]) -> (Vec<u8>, [u8; SIGNATURE_LEN]) {
        let mut sealed = message.to_vec();
        self.send.rc4.apply_keystream(&mut sealed);
        let sig = self.sign(message);
        (sealed, sig)
    }

    /// GSS_UnwrapEx: decrypt and verify.
    pub fn unseal(&mut self, sealed: &[u8], signature: &[u8]) -> Result<Vec<u8>, NtlmError> {
        let mut plain = sealed.to_vec();
        self.recv.rc4.apply_keystream(&mut plain);
        self.verify(&plain, signature)?;
        Ok(plain)
    }

    /// Re-key the outgoing RC4 handle from the sealing key, keeping the
    /// sequence number. MS-SPNG §3.3.5.1: after the SPNEGO mechListMIC is
    /// signed, the RC4 state for the first application message must be the
    /// state the mechListMIC started from (Windows, Samba
    /// `gensec_ntlmssp_may_reset_crypto`, pyspnego all do this).
    pub fn reset_send_cipher(&mut self) {
        self.send.rc4 = Rc4::<U16>::new((&self.send.seal_key).into());
    }

    /// The incoming counterpart of [`SessionSecurity::reset_send_cipher`],
    /// after verifying the peer's mechListMIC.
    pub fn reset_recv_cipher(&mut self) {
        self.recv.rc4 = Rc4::<U16>::new((&self.recv.seal_key).into());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(s: &str) -> Vec<u8> {
        hex::decode(s.replace(' ', "")).unwrap()
    }

    // MS-NLMP §4.2.1 common values and §4.2.4 NTLMv2 results. Source: the
    // MS-NLMP specification §4.2.4 (values cross-checked against the copies
    // in Chromium net/ntlm/ntlm_test_data.h and gss-ntlmssp's test data).
    const SERVER_CHALLENGE: [u8; 8] = [0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef];
    const CLIENT_CHALLENGE: [u8; 8] = [0xaa; 8];
    const RANDOM_SESSION_KEY: [u8; 16] = [0x55; 16];

    /// §4.2.4: AV pairs MsvAvNbDomainName "Domain", MsvAvNbComputerName
    /// "Server", MsvAvEOL.
    fn target_info() -> Vec<u8> {
        let mut t = vec![0x02, 0x00, 0x0c, 0x00];
        t.extend_from_slice(&utf16le("Domain"));
        t.extend_from_slice(&[0x01, 0x00, 0x0c, 0x00]);
        t.extend_from_slice(&utf16le("Server"));
        t.extend_from_slice(&[0, 0, 0, 0]);
        t
    }

    #[test]
    fn ms_nlmp_4_2_4_ntlmv2_vectors() {
        // §4.2.4.1.1 NTOWFv2 / LMOWFv2
        let key = ntowf_v2("Password", "User", "Domain");
        assert_eq!(key.to_vec(), h("0c868a403bfd7a93a3001ef22ef02e3f"));
        assert_eq!(lmowf_v2("Password", "User", "Domain"), key);
        let r = compute_response(
            &key,
            &SERVER_CHALLENGE,
            &CLIENT_CHALLENGE,
            0,
            &target_info(),
        );
        // §4.2.4.1.2 session base key
        assert_eq!(
            r.session_base_key.to_vec(),
            h("8de40ccadbc14a82f15cb0ad0de95ca3")
        );
        // §4.2.4.2.1 LMv2 response
        assert_eq!(
            r.lm_challenge_response.to_vec(),
            h("86c35097ac9cec102554764a57cccc19aaaaaaaaaaaaaaaa")
        );
        // §4.2.4.2.2 NTLMv2 response: NTProofStr then temp (§4.2.4.1.3).
        assert_eq!(
            r.nt_proof_str.to_vec(),
            h("68cd0ab851e51c96aabc927bebef6a1c")
        );
        assert_eq!(
            hex::encode(&r.nt_challenge_response),
            concat!(
                "68cd0ab851e51c96aabc927bebef6a1c",
                "0101000000000000",
                "0000000000000000",
                "aaaaaaaaaaaaaaaa",
                "00000000",
                "02000c0044006f006d00610069006e00",
                "01000c00530065007200760065007200",
                "00000000",
                "00000000"
            )
        );
        // §4.2.4.2.3 encrypted session key: RC4K(KXKEY = SessionBaseKey, 55..55)
        let kek = kxkey_v2(&r.session_base_key);
        let enc = encrypt_session_key(&kek, &RANDOM_SESSION_KEY);
        assert_eq!(enc.to_vec(), h("c5dad2544fc9799094ce1ce90bc9d03e"));
        assert_eq!(decrypt_session_key(&kek, &enc), RANDOM_SESSION_KEY);
        // The acceptor recovers the session base key from the response.
        assert_eq!(
            verify_response(&key, &SERVER_CHALLENGE, &r.nt_challenge_response),
            Ok(r.session_base_key)
        );
    }

    #[test]
    fn ms_nlmp_4_2_4_4_sign_and_seal() {
        let flags =
            NEGOTIATE_EXTENDED_SESSIONSECURITY | NEGOTIATE_128 | NEGOTIATE_KEY_EXCH | NEGOTIATE_56;
        assert_eq!(
            seal_key(&RANDOM_SESSION_KEY, flags, Direction::ClientToServer).to_vec(),
            h("59f600973cc4960a25480a7c196e4c58")
        );
        assert_eq!(
            sign_key(&RANDOM_SESSION_KEY, Direction::ClientToServer).to_vec(),
            h("4788dc861b4782f35d43fd98fe1a2d39")
        );
        let plaintext = utf16le("Plaintext");
        let mut client = SessionSecurity::client(&RANDOM_SESSION_KEY, flags).unwrap();
        let (sealed, sig) = client.seal(&plaintext);
        assert_eq!(sealed, h("54e50165bf1936dc996020c1811b0f06fb5f"));
        assert_eq!(sig.to_vec(), h("010000007fb38ec5c55d497600000000"));
        assert_eq!(client.send_seq(), 1);
        // The server unseals it.
        let mut server = SessionSecurity::server(&RANDOM_SESSION_KEY, flags).unwrap();
        assert_eq!(server.unseal(&sealed, &sig).unwrap(), plaintext);
        assert_eq!(server.recv_seq(), 1);
    }

    #[test]
    fn signatures_round_trip_and_detect_tampering() {
        let flags = NEGOTIATE_EXTENDED_SESSIONSECURITY | NEGOTIATE_128 | NEGOTIATE_KEY_EXCH;
        let mut c = SessionSecurity::client(&[7; 16], flags).unwrap();
        let mut s = SessionSecurity::server(&[7; 16], flags).unwrap();
        for i in 0..5u8 {
            let msg = vec![i; i as usize * 10];
            let sig = c.sign(&msg);
            assert_eq!(
                u32::from_le_bytes(sig[12..].try_into().unwrap()),
                u32::from(i)
            );
            s.verify(&msg, &sig).unwrap();
            let (sealed, sig) = s.seal(&msg);
            assert_eq!(c.unseal(&sealed, &sig).unwrap(), msg);
        }
        let sig = c.sign(b"hello");
        let mut bad = sig;
        bad[5] ^= 1;
        assert_eq!(s.verify(b"hello", &bad), Err(NtlmError::SignatureMismatch));
        assert_eq!(
            s.verify(b"hello", &sig[..15]),
            Err(NtlmError::MalformedSignature)
        );
        assert_eq!(
            SessionSecurity::client(&[0; 16], NEGOTIATE_128).unwrap_err(),
            NtlmError::ExtendedSessionSecurityRequired
        );
    }

    #[test]
    fn mech_list_mic_then_reset_matches_fresh_cipher_state() {
        let flags = NEGOTIATE_EXTENDED_SESSIONSECURITY | NEGOTIATE_128 | NEGOTIATE_KEY_EXCH;
        let mut c = SessionSecurity::client(&[9; 16], flags).unwrap();
        let mut s = SessionSecurity::server(&[9; 16], flags).unwrap();
        let mic = c.sign(b"mechTypes DER");
        c.reset_send_cipher();
        s.verify(b"mechTypes DER", &mic).unwrap();
        s.reset_recv_cipher();
        // The first application message uses seq 1 and a fresh RC4 state.
        let (sealed, sig) = c.seal(b"first");
        assert_eq!(&sig[12..], &1u32.to_le_bytes());
        assert_eq!(s.unseal(&sealed, &sig).unwrap(), b"first");
    }

    #[test]
    fn seal_key_truncation_follows_flags() {
        let k = [0x55; 16];
        let ess = NEGOTIATE_EXTENDED_SESSIONSECURITY;
        let k128 = seal_key(&k, ess | NEGOTIATE_128, Direction::ServerToClient);
        let k56 = seal_key(&k, ess | NEGOTIATE_56, Direction::ServerToClient);
        let k40 = seal_key(&k, ess, Direction::ServerToClient);
        assert_ne!(k128, k56);
        assert_ne!(k56, k40);
        assert_ne!(
            seal_key(&k, ess | NEGOTIATE_128, Direction::ClientToServer),
            k128
        );
    }

    #[test]
    fn mic_and_response_errors() {
        let neg = b"NEGOTIATE";
        let chal = b"CHALLENGE";
        let mut auth = vec![0x33u8; 100];
        let m = mic_over_message(&[1; 16], neg, chal, &auth, 72).unwrap();
        auth[72..88].copy_from_slice(&m);
        verify_mic(&[1; 16], neg, chal, &auth, 72).unwrap();
        // The MIC field's own content does not feed the MIC.
        assert_eq!(mic_over_message(&[1; 16], neg, chal, &auth, 72).unwrap(), m);
        auth[10] ^= 1;
        assert_eq!(
            verify_mic(&[1; 16], neg, chal, &auth, 72),
            Err(NtlmError::MicMismatch)
        );
        assert!(matches!(
            mic_over_message(&[1; 16], neg, chal, &auth, 90),
            Err(NtlmError::MicOutOfRange { .. })
        ));
        assert!(matches!(
            verify_mic(&[1; 16], neg, chal, &auth, usize::MAX),
            Err(NtlmError::MicOutOfRange { .. })
        ));
        let key = ntowf_v2("Password", "User", "Domain");
        assert_eq!(
            verify_response(&key, &SERVER_CHALLENGE, &[0; 43]),
            Err(NtlmError::ResponseTooShort(43))
        );
        let r = compute_response(
            &key,
            &SERVER_CHALLENGE,
            &CLIENT_CHALLENGE,
            0,
            &target_info(),
        );
        let wrong = ntowf_v2("password", "User", "Domain");
        assert_eq!(
            verify_response(&wrong, &SERVER_CHALLENGE, &r.nt_challenge_response),
            Err(NtlmError::ProofMismatch)
        );
        // User name is case-insensitive, domain is not.
        assert_eq!(ntowf_v2("Password", "user", "Domain"), key);
        assert_ne!(ntowf_v2("Password", "User", "DOMAIN"), key);
    }
}
