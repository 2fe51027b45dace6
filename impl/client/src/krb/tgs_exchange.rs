//! The TGS exchange, client side (RFC 4120 §3.3): a service ticket (or a
//! renewed ticket) from a TGT.
//!
//! ```text
//! let mut ex = TgsExchange::new(&tgt, Principal::service("host", "app.lab.test", realm), TgsOptions::default());
//! let req = ex.request(now, rng);
//! let creds = ex.handle_reply(&send(req))?;
//! ```
//!
//! The request carries PA-TGS-REQ: an AP-REQ with the TGT and an
//! authenticator (encrypted with the TGT session key, usage 7) whose
//! checksum covers the DER of the request body (usage 6). With
//! [`TgsOptions::subkey`] the authenticator carries a fresh subkey and the
//! KDC encrypts the reply with it (usage 9 instead of 8).

use std::time::{Duration, SystemTime};

use kerbside_crypto::{EncType, Key};
use kerbside_wire::krb::KrbMessage;
use kerbside_wire::krb::asn1::{
    ApReq, Asn1Object, Authenticator, Checksum, EncryptedData, EncryptionKey, KdcOptions,
    KdcReqBody, PaData, TgsReq,
};
use kerbside_wire::krb::constants::{kdc_options as opt, key_usage, padata_type};
use kerbside_wire::time::{to_kerberos_time, to_kerberos_time_usec};
use rand_core::RngCore;

use super::credentials::Credentials;
use super::error::KrbClientError;
use super::kdc_reply::{decode_reply, nonce, open_enc_part, session_key};
use super::principal::Principal;

/// What to ask for.
#[derive(Clone, Debug)]
pub struct TgsOptions {
    /// Requested lifetime; default: as long as the TGT.
    pub lifetime: Option<Duration>,
    /// Request a renewable ticket with this renewable life.
    pub renew_lifetime: Option<Duration>,
    /// Request a forwardable ticket.
    pub forwardable: bool,
    /// Put a fresh subkey in the authenticator (reply encrypted with it).
    pub subkey: bool,
    /// Session key enctypes to offer, in preference order.
    pub etypes: Vec<EncType>,
}

impl Default for TgsOptions {
    fn default() -> Self {
        Self {
            lifetime: None,
            renew_lifetime: None,
            forwardable: false,
            subkey: false,
            etypes: vec![
                EncType::Aes256CtsHmacSha196,
                EncType::Aes128CtsHmacSha196,
                EncType::Aes256CtsHmacSha384192,
                EncType::Aes128CtsHmacSha256128,
            ],
        }
    }
}

/// One TGS exchange.
#[derive(Debug)]
pub struct TgsExchange {
    tgt: Credentials,
    service: Principal,
    options: TgsOptions,
    renew: bool,
    nonce: u32,
    subkey: Option<Key>,
}

impl TgsExchange {
    /// A request for a ticket to `service` using `tgt`.
    pub fn new(tgt: &Credentials, service: Principal, options: TgsOptions) -> Self {
        Self {
            tgt: tgt.clone(),
            service,
            options,
            renew: false,
            nonce: 0,
            subkey: None,
        }
    }

    /// A renewal of `creds` (RFC 4120 §3.3.1, RENEW option): the ticket
    /// itself is presented and a fresh copy comes back.
    pub fn renew(creds: &Credentials, options: TgsOptions) -> Result<Self, KrbClientError> {
        if creds.renew_till.is_none() {
            return Err(KrbClientError::NotRenewable);
        }
        Ok(Self {
            tgt: creds.clone(),
            service: creds.server.clone(),
            options,
            renew: true,
            nonce: 0,
            subkey: None,
        })
    }

    /// The TGS-REQ bytes (a fresh nonce, authenticator and subkey each call).
    pub fn request(&mut self, now: SystemTime, rng: &mut dyn RngCore) -> Vec<u8> {
        self.nonce = nonce(rng);
        let mut options = 0;
        if self.options.forwardable {
            options |= opt::FORWARDABLE;
        }
        if self.renew {
            options |= opt::RENEW;
        }
        let rtime = self.options.renew_lifetime.map(|r| {
            options |= opt::RENEWABLE;
            to_kerberos_time(now + r)
        });
        let till = match self.options.lifetime {
            Some(l) => to_kerberos_time(now + l),
            None if self.renew => {
                to_kerberos_time(self.tgt.renew_till.unwrap_or(self.tgt.end_time))
            }
            None => to_kerberos_time(self.tgt.end_time),
        };
        let body = KdcReqBody {
            kdc_options: KdcOptions::from(options),
            cname: None,
            realm: self.service.realm.clone(),
            sname: Some(self.service.to_asn1()),
            from: None,
            till,
            rtime,
            nonce: self.nonce,
            etypes: self.options.etypes.iter().map(|e| e.id()).collect(),
            addresses: None,
            enc_authorization_data: None,
            additional_tickets: None,
        };
        let session = &self.tgt.session_key;
        // RFC 4120 §5.5.1 / §7.5.1 usage 6: keyed checksum over the DER body.
        let cksum = Checksum {
            cksumtype: session.etype().checksum_type(),
            checksum: session.checksum(key_usage::TGS_REQ_AUTH_CKSUM, &body.build()),
        };
        self.subkey = self
            .options
            .subkey
            .then(|| Key::random(session.etype(), rng));
        let (ctime, cusec) = to_kerberos_time_usec(now);
        let authenticator = Authenticator {
            authenticator_vno: 5,
            crealm: self.tgt.client.realm.clone(),
            cname: self.tgt.client.to_asn1(),
            cksum: Some(cksum),
            cusec,
            ctime,
            subkey: self
                .subkey
                .as_ref()
                .map(|k| EncryptionKey::new(k.etype().id(), k.bytes().to_vec())),
            seq_number: None,
            authorization_data: None,
        };
        let cipher = session.encrypt(key_usage::TGS_REQ_AUTH, &authenticator.build(), rng);
        let ap = ApReq {
            ticket: self.tgt.ticket.clone(),
            authenticator: EncryptedData::new(session.etype().id(), None, cipher),
            ..ApReq::default()
        };
        TgsReq {
            padata: Some(vec![PaData::new(padata_type::PA_TGS_REQ, ap.build())]),
            req_body: body,
            ..TgsReq::default()
        }
        .build()
    }

    /// Processes the reply: decrypts with the subkey (usage 9) or the TGT
    /// session key (usage 8), checks nonce, client and service.
    pub fn handle_reply(&self, reply: &[u8]) -> Result<Credentials, KrbClientError> {
        let msg = decode_reply(reply)?;
        let KrbMessage::TgsRep(rep) = msg else {
            return Err(KrbClientError::UnexpectedMessage {
                expected: "TGS-REP",
                found: msg.msg_type(),
            });
        };
        if !self.tgt.client.same_as(&rep.cname, &rep.crealm) {
            return Err(KrbClientError::WrongClient {
                expected: self.tgt.client.to_string(),
                found: Principal::from_asn1(&rep.cname, &rep.crealm).to_string(),
            });
        }
        let (key, usage) = match &self.subkey {
            Some(k) => (k, key_usage::TGS_REP_ENC_PART_SUBKEY),
            None => (&self.tgt.session_key, key_usage::TGS_REP_ENC_PART_SESSKEY),
        };
        let part = open_enc_part(&rep.enc_part, key, usage, self.nonce, &self.service)?;
        let sk = session_key(&part)?;
        Ok(Credentials::from_reply(
            self.tgt.client.clone(),
            rep.ticket,
            &part,
            sk,
        ))
    }
}
