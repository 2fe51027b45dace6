//! Building KDC requests from recipes: the same code makes the fixed bytes
//! of a vector (at the group clock, with an RNG seeded from the tcId) and a
//! live run's fresh requests (the target's clock, fresh nonces).
//!
//! The builders deliberately allow what a well-behaved client never sends
//! (a wrong pvno, a PA-ENC-TIMESTAMP under the wrong key usage, a ticket
//! sealed with the wrong key, an authenticator from the wrong client): the
//! negative vectors are made of exactly those.

use std::time::SystemTime;

use kerbside_crypto::{EncType, Key};
use kerbside_wire::krb::asn1::{
    ApReq, AsReq, Asn1Object, Authenticator, Checksum, EncTicketPart, EncryptedData, EncryptionKey,
    KdcOptions, KdcReqBody, PaData, PaEncTsEnc, PrincipalName, TgsReq, Ticket, TicketFlags,
    TransitedEncoding,
};
use kerbside_wire::krb::constants::{cksum_type, key_usage, name_type, padata_type};
use kerbside_wire::time::{to_kerberos_time, to_kerberos_time_usec};
use md5::Digest;
use rand_core::RngCore;

use crate::clock;
use crate::model::{
    AsRecipe, AuthenticatorRecipe, ChecksumMode, EncTimestampRecipe, KdcRecipe, TgsRecipe,
    TicketRecipe,
};
use crate::realm::{Realm, RealmError, components};

/// Why a request cannot be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RecipeError {
    /// A principal or key is missing.
    #[error(transparent)]
    Realm(#[from] RealmError),
    /// A `raw` recipe has no bytes to rebuild.
    #[error("a raw recipe is sent as the vector's bytes")]
    Raw,
    /// Hex that does not decode.
    #[error("bad hex in recipe: {0}")]
    Hex(String),
    /// A ticket of `as-exchange` origin must be supplied by the caller.
    #[error("the recipe needs a TGT from an AS exchange")]
    NeedsTgt,
}

/// A TGT obtained elsewhere (a live AS exchange).
#[derive(Debug, Clone)]
pub struct IssuedTicket {
    /// The ticket.
    pub ticket: Ticket,
    /// Its session key.
    pub session_key: Key,
}

/// A built request and what checking its reply needs.
#[derive(Debug, Clone)]
pub struct Built {
    /// The bare Kerberos message.
    pub bytes: Vec<u8>,
    /// The nonce in its body.
    pub nonce: u32,
    /// AS-REQ: the client whose long-term key opens the AS-REP.
    pub client: Option<String>,
    /// TGS-REQ: the key that opens the TGS-REP and its usage.
    pub reply_key: Option<(Key, u32)>,
}

/// The bytes of each send of a test: `request` itself, and with
/// `resend_altered` its [`altered_copy`] for every send after the first.
pub fn sends(request: &[u8], sends: u32, resend_altered: bool) -> Result<Vec<Vec<u8>>, String> {
    let mut out = vec![request.to_vec()];
    for _ in 1..sends.max(1) {
        out.push(if resend_altered {
            altered_copy(request)?
        } else {
            request.to_vec()
        });
    }
    Ok(out)
}

/// A TGS-REQ carrying the same PA-TGS-REQ (so the same authenticator) and
/// body, plus a KERB-PA-PAC-REQUEST { include-pac FALSE } padata (MS-KILE
/// §2.2.3): the authenticator's checksum covers only the body (RFC 4120
/// §3.3.2), so this is what an attacker who copied a request can send
/// that is not the same bytes. KDCs without PACs ignore the padata.
pub fn altered_copy(request: &[u8]) -> Result<Vec<u8>, String> {
    let mut req: TgsReq = kerbside_wire::krb::decode_der(request)
        .map_err(|e| format!("resendAltered needs a TGS-REQ: {e}"))?;
    req.padata.get_or_insert_with(Vec::new).push(PaData::new(
        padata_type::PA_PAC_REQUEST,
        vec![0x30, 0x05, 0xa0, 0x03, 0x01, 0x01, 0x00],
    ));
    Ok(req.build())
}

/// Builds a request. `tgt` supplies the ticket of an `as-exchange` TGS
/// recipe on a live run; without it such tickets are forged with the
/// krbtgt key (the fixed vector bytes).
pub fn build(
    recipe: &KdcRecipe,
    realm: &Realm,
    now: SystemTime,
    rng: &mut dyn RngCore,
    tgt: Option<&IssuedTicket>,
) -> Result<Built, RecipeError> {
    match recipe {
        KdcRecipe::AsReq(r) => as_req(r, realm, now, rng),
        KdcRecipe::TgsReq(r) => tgs_req(r, realm, now, rng, tgt),
        KdcRecipe::Raw(_) => Err(RecipeError::Raw),
    }
}

/// A principal name: `krbtgt/*` as NT-SRV-INST, services with a host part
/// as NT-SRV-HST, everything else NT-PRINCIPAL (RFC 4120 §6.2).
pub fn principal_name(name: &str) -> PrincipalName {
    let comps = components(name);
    let name_type = match comps.first().map(String::as_str) {
        Some("krbtgt") => name_type::NT_SRV_INST,
        _ if comps.len() == 2 => name_type::NT_SRV_HST,
        _ => name_type::NT_PRINCIPAL,
    };
    PrincipalName {
        name_type,
        name_string: comps,
    }
}

fn nonce(rng: &mut dyn RngCore) -> u32 {
    // 31 bits, as MIT: some KDCs treat the nonce as a signed INTEGER.
    rng.next_u32() & 0x7fff_ffff
}

fn flip(bytes: &mut [u8]) {
    let mid = bytes.len() / 2;
    if let Some(b) = bytes.get_mut(mid) {
        *b ^= 0x01;
    }
}

fn unhex(s: &str) -> Result<Vec<u8>, RecipeError> {
    hex::decode(s).map_err(|_| RecipeError::Hex(s.to_owned()))
}

fn as_req(
    r: &AsRecipe,
    realm: &Realm,
    now: SystemTime,
    rng: &mut dyn RngCore,
) -> Result<Built, RecipeError> {
    let mut padata = Vec::new();
    if let Some(ts) = &r.enc_timestamp {
        let client = r.client.as_deref().unwrap_or_default();
        padata.push(enc_timestamp(ts, client, realm, now, rng)?);
    }
    for extra in &r.extra_padata {
        padata.push(PaData::new(extra.padata_type, unhex(&extra.value_hex)?));
    }
    let service = r.service.clone().unwrap_or_else(|| realm.krbtgt());
    let nonce = nonce(rng);
    let body = KdcReqBody {
        kdc_options: KdcOptions::from(r.kdc_options),
        cname: r.client.as_deref().map(|c| PrincipalName {
            name_type: name_type::NT_PRINCIPAL,
            name_string: components(c),
        }),
        realm: r.realm.clone().unwrap_or_else(|| realm.name.clone()),
        sname: (!r.omit_service).then(|| principal_name(&service)),
        from: r
            .from_offset_seconds
            .map(|s| to_kerberos_time(clock::offset(now, s))),
        till: to_kerberos_time(clock::offset(now, r.till_offset_seconds)),
        rtime: r
            .rtime_offset_seconds
            .map(|s| to_kerberos_time(clock::offset(now, s))),
        nonce,
        etypes: r.etypes.clone(),
        addresses: None,
        enc_authorization_data: None,
        additional_tickets: None,
    };
    let req = AsReq {
        pvno: r.pvno.unwrap_or(5),
        msg_type: r.msg_type.unwrap_or(10),
        padata: (!padata.is_empty()).then_some(padata),
        req_body: body,
    };
    Ok(Built {
        bytes: req.build(),
        nonce,
        client: r.client.clone(),
        reply_key: None,
    })
}

/// PA-ENC-TIMESTAMP (RFC 4120 §5.2.7.2): PA-ENC-TS-ENC encrypted with the
/// client's key, usage 1.
fn enc_timestamp(
    ts: &EncTimestampRecipe,
    client: &str,
    realm: &Realm,
    now: SystemTime,
    rng: &mut dyn RngCore,
) -> Result<PaData, RecipeError> {
    let key = match &ts.password {
        Some(pw) => realm.key_from_password(client, pw, ts.etype)?,
        None => realm.key(client, ts.etype)?,
    };
    let plain = match &ts.plaintext_hex {
        Some(h) => unhex(h)?,
        None => {
            let (t, us) = to_kerberos_time_usec(clock::offset(now, ts.offset_seconds));
            PaEncTsEnc::new(t, Some(us)).build()
        }
    };
    let usage = ts.usage.unwrap_or(key_usage::AS_REQ_PA_ENC_TIMESTAMP);
    let mut cipher = key.encrypt(usage, &plain, rng);
    if ts.corrupt {
        flip(&mut cipher);
    }
    Ok(PaData::new(
        padata_type::PA_ENC_TIMESTAMP,
        EncryptedData::new(ts.etype, None, cipher).build(),
    ))
}

/// Makes the ticket a recipe describes, sealed with the sealing
/// principal's key (RFC 4120 §5.3, usage 2).
pub fn forge_ticket(
    t: &TicketRecipe,
    realm: &Realm,
    now: SystemTime,
    rng: &mut dyn RngCore,
) -> Result<IssuedTicket, RecipeError> {
    let server = t.server.clone().unwrap_or_else(|| realm.krbtgt());
    let sealer = t.sealed_with.clone().unwrap_or_else(|| server.clone());
    let key = match &t.sealing_password {
        Some(pw) => realm.key_from_password(&sealer, pw, t.etype)?,
        None => realm.key(&sealer, t.etype)?,
    };
    let kvno = match t.kvno {
        Some(k) => k,
        None => realm.kvno(&sealer).unwrap_or(1),
    };
    let session_etype =
        EncType::from_id(t.session_etype).ok_or(RealmError::Enctype(t.session_etype))?;
    let session = Key::random(session_etype, rng);
    let start = clock::offset(now, t.start_offset_seconds);
    let part = EncTicketPart {
        flags: TicketFlags::from(t.flags),
        key: EncryptionKey::new(session.etype().id(), session.bytes().to_vec()),
        crealm: realm.name.clone(),
        cname: PrincipalName {
            name_type: name_type::NT_PRINCIPAL,
            name_string: components(&t.client),
        },
        transited: TransitedEncoding {
            tr_type: 1,
            contents: Vec::new(),
        },
        authtime: to_kerberos_time(start),
        starttime: Some(to_kerberos_time(start)),
        endtime: to_kerberos_time(clock::offset(now, t.end_offset_seconds)),
        renew_till: t
            .renew_till_offset_seconds
            .map(|s| to_kerberos_time(clock::offset(now, s))),
        caddr: None,
        authorization_data: None,
    };
    let mut cipher = key.encrypt(key_usage::KDC_REP_TICKET, &part.build(), rng);
    if t.corrupt {
        flip(&mut cipher);
    }
    Ok(IssuedTicket {
        ticket: Ticket {
            tkt_vno: 5,
            realm: realm.name.clone(),
            sname: principal_name(&server),
            enc_part: EncryptedData::new(t.etype, Some(kvno), cipher),
        },
        session_key: session,
    })
}

fn tgs_req(
    r: &TgsRecipe,
    realm: &Realm,
    now: SystemTime,
    rng: &mut dyn RngCore,
    tgt: Option<&IssuedTicket>,
) -> Result<Built, RecipeError> {
    let issued = match (r.ticket.origin, tgt) {
        (crate::model::TicketOrigin::AsExchange, Some(t)) => t.clone(),
        _ => forge_ticket(&r.ticket, realm, now, rng)?,
    };
    let nonce = nonce(rng);
    let body = KdcReqBody {
        kdc_options: KdcOptions::from(r.kdc_options),
        cname: None,
        realm: r.realm.clone().unwrap_or_else(|| realm.name.clone()),
        sname: Some(principal_name(&r.service)),
        from: None,
        till: to_kerberos_time(clock::offset(now, r.till_offset_seconds)),
        rtime: None,
        nonce,
        etypes: r.etypes.clone(),
        addresses: None,
        enc_authorization_data: None,
        additional_tickets: None,
    };
    let (ap, subkey) = pa_tgs_req(
        &r.authenticator,
        &r.ticket.client,
        &issued,
        &body,
        realm,
        now,
        rng,
    );
    let padata =
        (!r.omit_pa_tgs_req).then(|| vec![PaData::new(padata_type::PA_TGS_REQ, ap.build())]);
    let req = TgsReq {
        padata,
        req_body: body,
        ..TgsReq::default()
    };
    let reply_key = match subkey {
        Some(k) => (k, key_usage::TGS_REP_ENC_PART_SUBKEY),
        None => (issued.session_key, key_usage::TGS_REP_ENC_PART_SESSKEY),
    };
    Ok(Built {
        bytes: req.build(),
        nonce,
        client: None,
        reply_key: Some(reply_key),
    })
}

/// The AP-REQ of PA-TGS-REQ (RFC 4120 §5.5.1, §7.5.1 usages 6 and 7).
fn pa_tgs_req(
    a: &AuthenticatorRecipe,
    client: &str,
    tgt: &IssuedTicket,
    body: &KdcReqBody,
    realm: &Realm,
    now: SystemTime,
    rng: &mut dyn RngCore,
) -> (ApReq, Option<Key>) {
    let session = &tgt.session_key;
    let cksum = match a.checksum {
        ChecksumMode::Good => Some(Checksum {
            cksumtype: session.etype().checksum_type(),
            checksum: session.checksum(key_usage::TGS_REQ_AUTH_CKSUM, &body.build()),
        }),
        ChecksumMode::Absent => None,
        ChecksumMode::WrongBody => {
            let mut other = body.clone();
            other.nonce ^= 1;
            Some(Checksum {
                cksumtype: session.etype().checksum_type(),
                checksum: session.checksum(key_usage::TGS_REQ_AUTH_CKSUM, &other.build()),
            })
        }
        ChecksumMode::Unkeyed => Some(Checksum {
            cksumtype: cksum_type::RSA_MD5,
            checksum: md5::Md5::digest(body.build()).to_vec(),
        }),
    };
    let subkey = a.subkey.then(|| Key::random(session.etype(), rng));
    let (ctime, cusec) = to_kerberos_time_usec(clock::offset(now, a.offset_seconds));
    let authenticator = Authenticator {
        authenticator_vno: 5,
        crealm: realm.name.clone(),
        cname: PrincipalName {
            name_type: name_type::NT_PRINCIPAL,
            name_string: components(a.cname.as_deref().unwrap_or(client)),
        },
        cksum,
        cusec,
        ctime,
        subkey: subkey
            .as_ref()
            .map(|k| EncryptionKey::new(k.etype().id(), k.bytes().to_vec())),
        seq_number: None,
        authorization_data: None,
    };
    let key = if a.wrong_key {
        Key::random(session.etype(), rng)
    } else {
        session.clone()
    };
    let cipher = key.encrypt(key_usage::TGS_REQ_AUTH, &authenticator.build(), rng);
    let ap = ApReq {
        ticket: tgt.ticket.clone(),
        authenticator: EncryptedData::new(session.etype().id(), None, cipher),
        ..ApReq::default()
    };
    (ap, subkey)
}
