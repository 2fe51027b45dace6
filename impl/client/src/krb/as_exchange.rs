//! The AS exchange, client side (RFC 4120 §3.1): from a password or key to
//! a TGT (or any initial ticket).
//!
//! ```text
//! let mut ex = AsExchange::new(client, Secret::Password(pw), AsOptions::default());
//! let mut msg = ex.start(now, rng)?;
//! loop {
//!     let reply = send(msg);                       // transport's job
//!     match ex.step(&reply, now, rng)? {
//!         AsStep::Send(next) => msg = next,        // PREAUTH_REQUIRED: retry with PA-ENC-TIMESTAMP
//!         AsStep::Done(creds) => break creds,
//!     }
//! }
//! ```
//!
//! The first request carries no pre-authentication unless
//! [`AsOptions::preauth_first`] is set (then the key is derived with the
//! default salt, or taken from [`Secret::Key`]). A KDC_ERR_PREAUTH_REQUIRED
//! reply supplies PA-ETYPE-INFO2 (enctype, salt, s2kparams); the exchange
//! derives the key and sends PA-ENC-TIMESTAMP (key usage 1). The AS-REP is
//! decrypted with usage 3, the nonce and names are checked, and when the KDC
//! set the enc-pa-rep flag, its RFC 6806 §11 checksum over our request.

use std::time::{Duration, SystemTime};

use kerbside_crypto::{EncType, Key};
use kerbside_wire::krb::asn1::{
    AsRep, AsReq, Asn1Object, EncryptedData, EtypeInfo2Entry, KdcOptions, KdcReqBody, PaData,
    PaEncTsEnc,
};
use kerbside_wire::krb::constants::{
    error_code, kdc_options as opt, key_usage, padata_type, ticket_flags as tf,
};
use kerbside_wire::krb::{KrbMessage, PaValue, decode_der, decode_method_data, decode_padata};
use kerbside_wire::time::{to_kerberos_time, to_kerberos_time_usec};
use rand_core::RngCore;

use super::credentials::Credentials;
use super::error::KrbClientError;
use super::kdc_reply::{decode_reply, nonce, open_enc_part, session_key};
use super::principal::Principal;

/// RFC 6806 §11 / MIT `KRB5_KEYUSAGE_AS_REQ`.
const USAGE_AS_REQ_CKSUM: u32 = 56;

/// The client's long-term secret.
#[derive(Clone, Debug)]
pub enum Secret {
    /// A password: keys are derived with the salt and parameters the KDC
    /// sends in PA-ETYPE-INFO2 (or the default salt).
    Password(String),
    /// Long-term keys (from a keytab, or derived once and reused: string-to-key
    /// costs 4096-32768 PBKDF2 rounds). The AS request lists their enctypes.
    Keys(Vec<Key>),
}

/// What to ask for.
#[derive(Clone, Debug)]
pub struct AsOptions {
    /// Requested lifetime (`till` = now + lifetime).
    pub lifetime: Duration,
    /// Request a renewable ticket with this renewable life.
    pub renew_lifetime: Option<Duration>,
    /// Request a forwardable ticket.
    pub forwardable: bool,
    /// Enctypes to offer, in preference order (with [`Secret::Keys`], only
    /// those a key exists for are offered).
    pub etypes: Vec<EncType>,
    /// The service (default `krbtgt/REALM`).
    pub service: Option<Principal>,
    /// Send PA-ENC-TIMESTAMP in the first request instead of waiting for
    /// KDC_ERR_PREAUTH_REQUIRED (saves a round trip; the load tool uses it).
    pub preauth_first: bool,
    /// Send PA-REQ-ENC-PA-REP (RFC 6806 §11), as MIT's kinit does.
    pub request_enc_pa_rep: bool,
    /// After KRB_AP_ERR_SKEW to a pre-authenticated request, retry once
    /// with the timestamp moved by the difference between the KDC's time
    /// (stime/susec) and ours, as MIT's kinit does.
    pub correct_skew: bool,
}

impl Default for AsOptions {
    fn default() -> Self {
        Self {
            lifetime: Duration::from_secs(10 * 3600),
            renew_lifetime: None,
            forwardable: false,
            etypes: vec![
                EncType::Aes256CtsHmacSha196,
                EncType::Aes128CtsHmacSha196,
                EncType::Aes256CtsHmacSha384192,
                EncType::Aes128CtsHmacSha256128,
            ],
            service: None,
            preauth_first: false,
            request_enc_pa_rep: true,
            correct_skew: true,
        }
    }
}

/// What to do after a reply.
#[derive(Debug)]
#[allow(clippy::large_enum_variant)]
pub enum AsStep {
    /// Send this request next (the pre-authenticated retry).
    Send(Vec<u8>),
    /// The exchange succeeded.
    Done(Credentials),
}

/// One AS exchange.
#[derive(Debug)]
pub struct AsExchange {
    client: Principal,
    service: Principal,
    secret: Secret,
    options: AsOptions,
    nonce: u32,
    last_request: Vec<u8>,
    /// The key used for PA-ENC-TIMESTAMP (and expected to encrypt the reply).
    preauth_key: Option<Key>,
    /// The key the AS-REP decrypted with, once done.
    reply_key: Option<Key>,
    /// Whether the one skew correction was used.
    skew_corrected: bool,
    finished: bool,
}

impl AsExchange {
    /// An exchange for `client` (whose realm is the KDC's).
    pub fn new(client: Principal, secret: Secret, options: AsOptions) -> Self {
        let service = options
            .service
            .clone()
            .unwrap_or_else(|| Principal::krbtgt(&client.realm));
        Self {
            client,
            service,
            secret,
            options,
            nonce: 0,
            last_request: Vec::new(),
            preauth_key: None,
            reply_key: None,
            skew_corrected: false,
            finished: false,
        }
    }

    /// The nonce of the last request sent.
    pub fn nonce(&self) -> u32 {
        self.nonce
    }

    /// The first AS-REQ.
    pub fn start(
        &mut self,
        now: SystemTime,
        rng: &mut dyn RngCore,
    ) -> Result<Vec<u8>, KrbClientError> {
        let key = if self.options.preauth_first {
            let etype = *self
                .offered_etypes()
                .first()
                .ok_or(KrbClientError::NoUsableEtype)?;
            let salt = kerbside_crypto::default_salt(&self.client.realm, &self.client_components());
            Some(self.key_for(&EtypeInfo2Entry::new(
                etype.id(),
                Some(String::from_utf8_lossy(&salt).into_owned()),
                None,
            ))?)
        } else {
            None
        };
        Ok(self.build_request(key, now, rng))
    }

    /// Processes a reply.
    pub fn step(
        &mut self,
        reply: &[u8],
        now: SystemTime,
        rng: &mut dyn RngCore,
    ) -> Result<AsStep, KrbClientError> {
        if self.finished {
            return Err(KrbClientError::Finished);
        }
        let msg = match decode_reply(reply) {
            Err(KrbClientError::Krb(e)) if e.code == error_code::KDC_ERR_PREAUTH_REQUIRED => {
                if self.preauth_key.is_some() {
                    return Err(KrbClientError::PreauthLoop);
                }
                let info = e
                    .e_data
                    .as_deref()
                    .map(etype_info2_from_method_data)
                    .transpose()?
                    .unwrap_or_default();
                let entry = self.choose_entry(&info)?;
                let key = self.key_for(&entry)?;
                return Ok(AsStep::Send(self.build_request(Some(key), now, rng)));
            }
            Err(KrbClientError::Krb(e))
                if e.code == error_code::KRB_AP_ERR_SKEW
                    && self.options.correct_skew
                    && !self.skew_corrected
                    && self.preauth_key.is_some() =>
            {
                // RFC 4120 §5.2.7.2: the timestamp was outside the KDC's
                // window; its stime says by how much.
                self.skew_corrected = true;
                // Our clock moved to the KDC's: its stime is "now" there.
                let kdc_now = e.server_time;
                let key = self.preauth_key.clone();
                return Ok(AsStep::Send(self.build_request(key, kdc_now, rng)));
            }
            other => other?,
        };
        let KrbMessage::AsRep(rep) = msg else {
            return Err(KrbClientError::UnexpectedMessage {
                expected: "AS-REP",
                found: msg.msg_type(),
            });
        };
        let (creds, key) = self.open(&rep)?;
        self.reply_key = Some(key);
        self.finished = true;
        Ok(AsStep::Done(creds))
    }

    /// The client's long-term key the AS-REP decrypted with (derived from
    /// the password with the KDC's salt), once the exchange is done: reuse
    /// it as [`Secret::Keys`] to skip string-to-key next time.
    pub fn long_term_key(&self) -> Option<&Key> {
        self.reply_key.as_ref()
    }

    fn open(&self, rep: &AsRep) -> Result<(Credentials, Key), KrbClientError> {
        if !self.client.same_as(&rep.cname, &rep.crealm) {
            return Err(KrbClientError::WrongClient {
                expected: self.client.to_string(),
                found: Principal::from_asn1(&rep.cname, &rep.crealm).to_string(),
            });
        }
        let key = self.reply_key(rep)?;
        let part = open_enc_part(
            &rep.enc_part,
            &key,
            key_usage::AS_REP_ENC_PART,
            self.nonce,
            &self.service,
        )?;
        if part.flags.flags & tf::ENC_PA_REP != 0 && self.options.request_enc_pa_rep {
            // RFC 6806 §11: the KDC's checksum over the request we sent.
            let ck = part
                .encrypted_pa_data
                .as_deref()
                .unwrap_or(&[])
                .iter()
                .find_map(|p| match decode_padata(p) {
                    Ok(PaValue::ReqEncPaRep(Some(ck))) => Some(ck),
                    _ => None,
                })
                .ok_or(KrbClientError::RequestModified)?;
            key.verify_checksum(
                USAGE_AS_REQ_CKSUM,
                ck.cksumtype,
                &self.last_request,
                &ck.checksum,
            )
            .map_err(|_| KrbClientError::RequestModified)?;
        }
        let sk = session_key(&part)?;
        let creds = Credentials::from_reply(self.client.clone(), rep.ticket.clone(), &part, sk);
        Ok((creds, key))
    }

    /// The key the AS-REP enc-part is encrypted with: the pre-auth key, or
    /// for a principal without pre-authentication, one derived with the
    /// salt in the reply's PA-ETYPE-INFO2 (default salt when absent).
    fn reply_key(&self, rep: &AsRep) -> Result<Key, KrbClientError> {
        let etype = rep.enc_part.etype;
        if let Some(k) = &self.preauth_key
            && k.etype().id() == etype
        {
            return Ok(k.clone());
        }
        let info: Vec<EtypeInfo2Entry> = rep
            .padata
            .as_deref()
            .unwrap_or(&[])
            .iter()
            .find_map(|p| match decode_padata(p) {
                Ok(PaValue::EtypeInfo2(i)) => Some(i),
                _ => None,
            })
            .unwrap_or_default();
        let entry = info
            .into_iter()
            .find(|e| e.etype == etype)
            .unwrap_or_else(|| {
                let salt =
                    kerbside_crypto::default_salt(&self.client.realm, &self.client_components());
                EtypeInfo2Entry::new(
                    etype,
                    Some(String::from_utf8_lossy(&salt).into_owned()),
                    None,
                )
            });
        self.key_for(&entry)
    }

    fn client_components(&self) -> Vec<&str> {
        self.client.components.iter().map(String::as_str).collect()
    }

    fn offered_etypes(&self) -> Vec<EncType> {
        match &self.secret {
            Secret::Password(_) => self.options.etypes.clone(),
            Secret::Keys(keys) => self
                .options
                .etypes
                .iter()
                .copied()
                .filter(|e| keys.iter().any(|k| k.etype() == *e))
                .collect(),
        }
    }

    /// The first ETYPE-INFO2 entry we can use (the KDC lists them in our
    /// preference order; MIT sends one).
    fn choose_entry(&self, info: &[EtypeInfo2Entry]) -> Result<EtypeInfo2Entry, KrbClientError> {
        let offered = self.offered_etypes();
        info.iter()
            .find(|e| EncType::from_id(e.etype).is_some_and(|et| offered.contains(&et)))
            .cloned()
            .ok_or(KrbClientError::NoUsableEtype)
    }

    /// The long-term key for an ETYPE-INFO2 entry.
    fn key_for(&self, entry: &EtypeInfo2Entry) -> Result<Key, KrbClientError> {
        let etype = EncType::from_id(entry.etype).ok_or(KrbClientError::NoUsableEtype)?;
        match &self.secret {
            Secret::Keys(keys) => keys
                .iter()
                .find(|k| k.etype() == etype)
                .cloned()
                .ok_or(KrbClientError::NoUsableEtype),
            Secret::Password(pw) => {
                let salt = match &entry.salt {
                    Some(s) => s.as_bytes().to_vec(),
                    None => {
                        kerbside_crypto::default_salt(&self.client.realm, &self.client_components())
                    }
                };
                Ok(Key::from_password_params(
                    etype,
                    pw,
                    &salt,
                    entry.s2kparams.as_deref(),
                )?)
            }
        }
    }

    fn build_request(
        &mut self,
        preauth: Option<Key>,
        now: SystemTime,
        rng: &mut dyn RngCore,
    ) -> Vec<u8> {
        self.nonce = nonce(rng);
        let mut padata = Vec::new();
        if let Some(key) = &preauth {
            // RFC 4120 §5.2.7.2: PA-ENC-TIMESTAMP, key usage 1.
            let (t, us) = to_kerberos_time_usec(now);
            let plain = PaEncTsEnc::new(t, Some(us)).build();
            let cipher = key.encrypt(key_usage::AS_REQ_PA_ENC_TIMESTAMP, &plain, rng);
            padata.push(PaData::new(
                padata_type::PA_ENC_TIMESTAMP,
                EncryptedData::new(key.etype().id(), None, cipher).build(),
            ));
        }
        if self.options.request_enc_pa_rep {
            padata.push(PaData::new(padata_type::PA_REQ_ENC_PA_REP, Vec::new()));
        }
        let mut options = 0;
        if self.options.forwardable {
            options |= opt::FORWARDABLE;
        }
        let rtime = self.options.renew_lifetime.map(|r| {
            options |= opt::RENEWABLE;
            to_kerberos_time(now + r)
        });
        let req = AsReq {
            padata: (!padata.is_empty()).then_some(padata),
            req_body: KdcReqBody {
                kdc_options: KdcOptions::from(options),
                cname: Some(self.client.to_asn1()),
                realm: self.client.realm.clone(),
                sname: Some(self.service.to_asn1()),
                from: None,
                till: to_kerberos_time(now + self.options.lifetime),
                rtime,
                nonce: self.nonce,
                etypes: self.offered_etypes().iter().map(|e| e.id()).collect(),
                addresses: None,
                enc_authorization_data: None,
                additional_tickets: None,
            },
            ..AsReq::default()
        };
        self.preauth_key = preauth;
        self.last_request = req.build();
        self.last_request.clone()
    }
}

/// The PA-ETYPE-INFO2 entries of a METHOD-DATA (KDC_ERR_PREAUTH_REQUIRED
/// e-data).
fn etype_info2_from_method_data(e_data: &[u8]) -> Result<Vec<EtypeInfo2Entry>, KrbClientError> {
    let md = decode_method_data(e_data)?;
    Ok(md
        .iter()
        .filter(|p| p.padata_type == padata_type::PA_ETYPE_INFO2)
        .find_map(|p| decode_der::<Vec<EtypeInfo2Entry>>(&p.padata_value).ok())
        .unwrap_or_default())
}
