//! The AP exchange, client side (RFC 4120 §3.2): presenting a service
//! ticket to a server, and checking its mutual-authentication reply.
//!
//! ```text
//! let ap = ApRequest::build(&service_creds, &ApOptions { mutual: true, ..Default::default() }, now, rng);
//! send(ap.bytes);                                  // raw, or inside GSS/SPNEGO framing
//! let info = ap.pending.verify_ap_rep(&reply)?;    // only when mutual
//! ```
//!
//! The authenticator (usage 11) can carry a checksum: a keyed checksum over
//! application data (usage 10, [`AuthenticatorChecksum::Keyed`]) or a
//! checksum given verbatim ([`AuthenticatorChecksum::Raw`]), which is how
//! GSS-API passes its RFC 4121 §4.1.1 0x8003 checksum (channel bindings and
//! flags; the SPNEGO layer builds it).

use std::time::SystemTime;

use kerbside_crypto::Key;
use kerbside_wire::der::{Reader, tag};
use kerbside_wire::krb::asn1::{
    ApOptions as AsnApOptions, ApReq, Asn1Object, Authenticator, Checksum, EncryptedData,
    EncryptionKey, KerberosTime,
};
use kerbside_wire::krb::constants::{ap_options, key_usage};
use kerbside_wire::krb::{KrbMessage, decode_der};
use kerbside_wire::time::to_kerberos_time_usec;
use kerbside_wire::{Format, WireError};
use rand_core::RngCore;

use super::credentials::Credentials;
use super::error::KrbClientError;
use super::kdc_reply::{decode_reply, nonce};

/// The authenticator's `cksum` field.
#[derive(Clone, Debug, Default)]
pub enum AuthenticatorChecksum {
    /// No checksum.
    #[default]
    None,
    /// The session key's keyed checksum over these bytes (usage 10).
    Keyed(Vec<u8>),
    /// This checksum verbatim (GSS-API's 0x8003, RFC 4121 §4.1.1).
    Raw(Checksum),
}

/// How to build the AP-REQ.
#[derive(Clone, Debug, Default)]
pub struct ApOptions {
    /// Ask the server to prove itself with an AP-REP (MUTUAL-REQUIRED).
    pub mutual: bool,
    /// Put a fresh subkey in the authenticator.
    pub subkey: bool,
    /// The authenticator checksum.
    pub checksum: AuthenticatorChecksum,
    /// Initial sequence number (random 30-bit when `None` and `mutual`).
    pub seq_number: Option<u32>,
}

/// A built AP-REQ and what is needed to check the reply.
#[derive(Debug)]
pub struct ApRequest {
    /// The AP-REQ DER.
    pub bytes: Vec<u8>,
    /// State for [`ApPending::verify_ap_rep`].
    pub pending: ApPending,
}

/// What the client remembers about an AP-REQ it sent.
#[derive(Clone, Debug)]
pub struct ApPending {
    ctime: KerberosTime,
    cusec: i32,
    session_key: Key,
    subkey: Option<Key>,
    seq_number: Option<u32>,
}

/// What the server's AP-REP said.
#[derive(Clone, Debug)]
pub struct ApRepInfo {
    /// The server's subkey, if it sent one (it then takes precedence for the
    /// session, RFC 4121 §2).
    pub subkey: Option<Key>,
    /// The server's initial sequence number.
    pub seq_number: Option<u32>,
}

impl ApRequest {
    /// Builds an AP-REQ for `creds` (a service ticket).
    pub fn build(
        creds: &Credentials,
        options: &ApOptions,
        now: SystemTime,
        rng: &mut dyn RngCore,
    ) -> Self {
        let subkey = options
            .subkey
            .then(|| Key::random(creds.session_key.etype(), rng));
        Self::build_with_subkey(creds, options, subkey, now, rng)
    }

    /// Builds an AP-REQ whose authenticator carries `subkey` (ignoring
    /// `options.subkey`): for checksums that must be keyed with the subkey
    /// before the authenticator exists, like IAKERB's finished checksum
    /// (draft-ietf-kitten-iakerb-03 §3.2).
    pub fn build_with_subkey(
        creds: &Credentials,
        options: &ApOptions,
        subkey: Option<Key>,
        now: SystemTime,
        rng: &mut dyn RngCore,
    ) -> Self {
        let session = &creds.session_key;
        let cksum = match &options.checksum {
            AuthenticatorChecksum::None => None,
            AuthenticatorChecksum::Keyed(data) => Some(Checksum {
                cksumtype: session.etype().checksum_type(),
                checksum: session.checksum(key_usage::AP_REQ_AUTH_CKSUM, data),
            }),
            AuthenticatorChecksum::Raw(ck) => Some(ck.clone()),
        };
        let seq_number = options
            .seq_number
            .or_else(|| options.mutual.then(|| nonce(rng) & 0x3fff_ffff));
        let (ctime, cusec) = to_kerberos_time_usec(now);
        let authenticator = Authenticator {
            authenticator_vno: 5,
            crealm: creds.client.realm.clone(),
            cname: creds.client.to_asn1(),
            cksum,
            cusec,
            ctime: ctime.clone(),
            subkey: subkey
                .as_ref()
                .map(|k| EncryptionKey::new(k.etype().id(), k.bytes().to_vec())),
            seq_number,
            authorization_data: None,
        };
        let cipher = session.encrypt(key_usage::AP_REQ_AUTH, &authenticator.build(), rng);
        let flags = if options.mutual {
            ap_options::MUTUAL_REQUIRED
        } else {
            0
        };
        let ap = ApReq {
            ap_options: AsnApOptions::from(flags),
            ticket: creds.ticket.clone(),
            authenticator: EncryptedData::new(session.etype().id(), None, cipher),
            ..ApReq::default()
        };
        ApRequest {
            bytes: ap.build(),
            pending: ApPending {
                ctime,
                cusec,
                session_key: session.clone(),
                subkey,
                seq_number,
            },
        }
    }
}

impl ApPending {
    /// The subkey sent in the authenticator.
    pub fn subkey(&self) -> Option<&Key> {
        self.subkey.as_ref()
    }

    /// The sequence number sent in the authenticator.
    pub fn seq_number(&self) -> Option<u32> {
        self.seq_number
    }

    /// The ticket session key.
    pub fn session_key(&self) -> &Key {
        &self.session_key
    }

    /// Verifies an AP-REP (RFC 4120 §3.2.5): decrypts with the session key
    /// (usage 12) and requires the server to echo our ctime and cusec.
    pub fn verify_ap_rep(&self, reply: &[u8]) -> Result<ApRepInfo, KrbClientError> {
        let msg = decode_reply(reply)?;
        let KrbMessage::ApRep(rep) = msg else {
            return Err(KrbClientError::UnexpectedMessage {
                expected: "AP-REP",
                found: msg.msg_type(),
            });
        };
        if rep.enc_part.etype != self.session_key.etype().id() {
            return Err(KrbClientError::ApRepMismatch);
        }
        let plain = self
            .session_key
            .decrypt(key_usage::AP_REP_ENC_PART, &rep.enc_part.cipher)?;
        let part = EncApRepPart::decode(&plain)?;
        if part.ctime != self.ctime || part.cusec != self.cusec {
            return Err(KrbClientError::ApRepMismatch);
        }
        let subkey = match part.subkey {
            Some(k) => Some(Key::from_wire(k.keytype, &k.keyvalue)?),
            None => None,
        };
        Ok(ApRepInfo {
            subkey,
            seq_number: part.seq_number,
        })
    }
}

/// EncAPRepPart (RFC 4120 §5.5.2), decoded by hand: kerberos_asn1 0.2.1
/// declares `subkey` and `seq-number` mandatory although the RFC makes them
/// OPTIONAL (MIT omits them when it has nothing to send).
#[derive(Clone, Debug, PartialEq)]
struct EncApRepPart {
    ctime: KerberosTime,
    cusec: i32,
    subkey: Option<EncryptionKey>,
    seq_number: Option<u32>,
}

impl EncApRepPart {
    fn decode(bytes: &[u8]) -> Result<Self, WireError> {
        let mut outer = Reader::new(bytes, Format::Kerberos, "EncAPRepPart");
        let app = outer.expect(tag::application(27), "[APPLICATION 27] EncAPRepPart")?;
        outer.finish()?;
        let seq = app.explicit_inner("EncAPRepPart")?;
        if seq.tag != tag::SEQUENCE {
            return Err(WireError::new(
                Format::Kerberos,
                seq.offset,
                kerbside_wire::ErrorKind::UnexpectedTag {
                    expected: "SEQUENCE",
                    found: seq.tag,
                },
            ));
        }
        let mut r = seq.reader("EncAPRepPart");
        let ctime_tlv = r
            .expect(tag::context(0), "[0] ctime")?
            .explicit_inner("ctime")?;
        let ctime: KerberosTime =
            decode_der(ctime_tlv.raw).map_err(|e| e.shifted(ctime_tlv.offset))?;
        let cusec_tlv = r
            .expect(tag::context(1), "[1] cusec")?
            .explicit_inner("cusec")?;
        let cusec = int_in(&cusec_tlv, 0, 999_999)?;
        let subkey = match r.optional(tag::context(2))? {
            Some(t) => {
                let inner = t.explicit_inner("subkey")?;
                Some(decode_der::<EncryptionKey>(inner.raw).map_err(|e| e.shifted(inner.offset))?)
            }
            None => None,
        };
        let seq_number = match r.optional(tag::context(3))? {
            // UInt32, sent by MIT as a 4-octet two's-complement value when >= 2^31.
            Some(t) => Some(int_in(
                &t.explicit_inner("seq-number")?,
                i64::from(i32::MIN),
                i64::from(u32::MAX),
            )? as u32),
            None => None,
        };
        r.finish()?;
        Ok(EncApRepPart {
            ctime,
            cusec: cusec as i32,
            subkey,
            seq_number,
        })
    }
}

fn int_in(t: &kerbside_wire::der::Tlv<'_>, min: i64, max: i64) -> Result<i64, WireError> {
    if t.tag != tag::INTEGER {
        return Err(WireError::new(
            Format::Kerberos,
            t.offset,
            kerbside_wire::ErrorKind::UnexpectedTag {
                expected: "INTEGER",
                found: t.tag,
            },
        ));
    }
    let v = t.integer()?;
    if v < min || v > max {
        return Err(WireError::new(
            Format::Kerberos,
            t.offset,
            kerbside_wire::ErrorKind::InvalidValue {
                what: "integer in range",
                found: v.to_string(),
            },
        ));
    }
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;
    use kerbside_wire::krb::asn1::EncApRepPart as AsnEncApRepPart;

    #[test]
    fn decodes_with_and_without_optional_fields() {
        let (ctime, _) = to_kerberos_time_usec(
            std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_790_000_000),
        );
        let full = AsnEncApRepPart {
            ctime: ctime.clone(),
            cusec: 42,
            subkey: EncryptionKey::new(18, vec![1; 32]),
            seq_number: 0x8000_0001,
        };
        let d = EncApRepPart::decode(&full.build()).unwrap();
        assert_eq!(d.cusec, 42);
        assert_eq!(d.subkey.unwrap().keyvalue, vec![1; 32]);
        assert_eq!(d.seq_number, Some(0x8000_0001));
        // ctime + cusec only: 7b 1a 30 18 a0 11 18 0f <time> a1 03 02 01 2a
        let mut minimal = vec![0x7b, 0x1a, 0x30, 0x18, 0xa0, 0x11];
        minimal.extend_from_slice(&ctime.build());
        minimal.extend_from_slice(&[0xa1, 0x03, 0x02, 0x01, 0x2a]);
        let d = EncApRepPart::decode(&minimal).unwrap();
        assert_eq!((d.cusec, d.subkey, d.seq_number), (42, None, None));
        assert!(EncApRepPart::decode(&minimal[..minimal.len() - 1]).is_err());
        assert!(EncApRepPart::decode(&[]).is_err());
    }

    fn creds(rng: &mut rand_chacha::ChaCha20Rng) -> Credentials {
        use kerbside_crypto::EncType;
        use kerbside_wire::krb::asn1::{PrincipalName, Ticket};
        let t0 = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_790_000_000);
        Credentials {
            client: super::super::Principal::user("alice", "LAB.TEST"),
            server: super::super::Principal::service("host", "app.lab.test", "LAB.TEST"),
            ticket: Ticket::new(
                "LAB.TEST".into(),
                PrincipalName {
                    name_type: 3,
                    name_string: vec!["host".into(), "app.lab.test".into()],
                },
                EncryptedData::new(18, Some(1), vec![0; 40]),
            ),
            session_key: Key::random(EncType::Aes256CtsHmacSha196, rng),
            flags: 0,
            auth_time: t0,
            start_time: t0,
            end_time: t0 + std::time::Duration::from_secs(3600),
            renew_till: None,
        }
    }

    /// What a server answers (RFC 4120 §3.2.4): our ctime/cusec under the
    /// session key, usage 12.
    fn ap_rep(
        key: &Key,
        ctime: KerberosTime,
        cusec: i32,
        rng: &mut rand_chacha::ChaCha20Rng,
    ) -> Vec<u8> {
        use kerbside_wire::krb::asn1::ApRep;
        let part = AsnEncApRepPart {
            ctime,
            cusec,
            subkey: EncryptionKey::new(18, vec![9; 32]),
            seq_number: 77,
        };
        let cipher = key.encrypt(key_usage::AP_REP_ENC_PART, &part.build(), rng);
        ApRep {
            pvno: 5,
            msg_type: 15,
            enc_part: EncryptedData::new(key.etype().id(), None, cipher),
        }
        .build()
    }

    #[test]
    fn ap_req_carries_the_authenticator_and_mutual_reply_verifies() {
        use rand_core::SeedableRng;
        let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(3);
        let c = creds(&mut rng);
        let now = c.start_time + std::time::Duration::from_micros(1_500_001);
        let opts = ApOptions {
            mutual: true,
            subkey: true,
            checksum: AuthenticatorChecksum::Keyed(b"channel".to_vec()),
            seq_number: None,
        };
        let ap = ApRequest::build(&c, &opts, now, &mut rng);
        let KrbMessage::ApReq(req) = kerbside_wire::krb::decode(&ap.bytes).unwrap() else {
            panic!()
        };
        assert_eq!(req.ap_options.flags, ap_options::MUTUAL_REQUIRED);
        let plain = c
            .session_key
            .decrypt(key_usage::AP_REQ_AUTH, &req.authenticator.cipher)
            .unwrap();
        let a: Authenticator = decode_der(&plain).unwrap();
        assert_eq!(a.cname.name_string, ["alice"]);
        assert_eq!(a.cusec, 500_001);
        let ck = a.cksum.unwrap();
        c.session_key
            .verify_checksum(
                key_usage::AP_REQ_AUTH_CKSUM,
                ck.cksumtype,
                b"channel",
                &ck.checksum,
            )
            .unwrap();
        assert_eq!(
            a.subkey.unwrap().keyvalue,
            ap.pending.subkey().unwrap().bytes()
        );
        assert_eq!(a.seq_number, ap.pending.seq_number());

        let good = ap_rep(&c.session_key, a.ctime.clone(), a.cusec, &mut rng);
        let info = ap.pending.verify_ap_rep(&good).unwrap();
        assert_eq!(info.seq_number, Some(77));
        assert_eq!(info.subkey.unwrap().bytes(), &[9; 32]);
        // Not our authenticator's time: a replayed or forged AP-REP.
        let stale = ap_rep(&c.session_key, a.ctime, a.cusec + 1, &mut rng);
        assert!(matches!(
            ap.pending.verify_ap_rep(&stale),
            Err(KrbClientError::ApRepMismatch)
        ));
        // Encrypted with another key.
        let other = Key::random(kerbside_crypto::EncType::Aes256CtsHmacSha196, &mut rng);
        assert!(matches!(
            ap.pending
                .verify_ap_rep(&ap_rep(&other, KerberosTime::default(), 0, &mut rng)),
            Err(KrbClientError::Crypto(_))
        ));
    }

    #[test]
    fn raw_checksum_is_passed_through() {
        use rand_core::SeedableRng;
        let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(4);
        let c = creds(&mut rng);
        let gss = Checksum {
            cksumtype: 0x8003,
            checksum: vec![16, 0, 0, 0],
        };
        let opts = ApOptions {
            checksum: AuthenticatorChecksum::Raw(gss.clone()),
            ..ApOptions::default()
        };
        let ap = ApRequest::build(&c, &opts, c.start_time, &mut rng);
        let KrbMessage::ApReq(req) = kerbside_wire::krb::decode(&ap.bytes).unwrap() else {
            panic!()
        };
        assert_eq!(req.ap_options.flags, 0);
        let a: Authenticator = decode_der(
            &c.session_key
                .decrypt(key_usage::AP_REQ_AUTH, &req.authenticator.cipher)
                .unwrap(),
        )
        .unwrap();
        assert_eq!(a.cksum, Some(gss));
        assert_eq!(a.seq_number, None);
    }
}
