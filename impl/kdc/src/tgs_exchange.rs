//! The TGS exchange (RFC 4120 §3.3): service tickets and renewal.
//!
//! After the PA-TGS-REQ is verified (`tgs_auth`), in order:
//! 1. options valid here (KDC_ERR_BADOPTION: PROXY, ENC-TKT-IN-SKEY,
//!    VALIDATE, CNAME-IN-ADDL-TKT are not supported; FORWARDED needs a
//!    forwardable TGT; POSTDATED: KDC_ERR_CANNOT_POSTDATE);
//! 2. the service is in this realm and known (KDC_ERR_S_PRINCIPAL_UNKNOWN;
//!    no cross-realm), and for RENEW it is the ticket's own service
//!    (KDC_ERR_SERVER_NOMATCH);
//! 3. the client account still exists and is usable (KDC_ERR_TGT_REVOKED,
//!    KDC_ERR_CLIENT_REVOKED, KDC_ERR_NAME_EXP);
//! 4. enctypes (KDC_ERR_ETYPE_NOSUPP), policy (KDC_ERR_POLICY), times;
//! 5. issue: the ticket sealed with the service key (usage 2), the reply
//!    encrypted with the authenticator subkey (usage 9) or the TGT session
//!    key (usage 8).

use std::time::SystemTime;

use kerbside_crypto::Key;
use kerbside_wire::Format;
use kerbside_wire::der::Reader;
use kerbside_wire::krb::asn1::{
    Asn1Object, AuthorizationData, EncTicketPart, EncryptedData, LastReqEntry, TgsRep, TgsReq,
    TicketFlags,
};
use kerbside_wire::krb::constants::{
    PVNO, kdc_options as opt, key_usage, msg_type, padata_type, ticket_flags as tf,
};
use kerbside_wire::krb::decode_der;
use rand_core::RngCore;

use crate::as_exchange::{cap_to_expiry, lookup_server};
use crate::codes::ErrorCode;
use crate::encode::{encode_enc_kdc_rep_part, encode_tgs_rep};
use crate::kdc::Shared;
use crate::lifetime::{self, Bounds};
use crate::policy::{Exchange, IssueContext};
use crate::reject::{Checked, Rejection};
use crate::replay::ReplayCache;
use crate::request_checks;
use crate::tgs_auth;
use crate::ticket::{encryption_key, kt, seal, time_fields, times_of, unix_secs};

/// Options kerbside's TGS does not implement (RFC 4120 §3.3.3: "If the
/// KDC does not support an option ... KDC_ERR_BADOPTION").
const UNSUPPORTED: u32 = opt::PROXY | opt::ENC_TKT_IN_SKEY | opt::VALIDATE | opt::CNAME_IN_ADDL_TKT;

/// Flags a service ticket inherits from the TGT (§3.3.3: "the KDC ... copies
/// these from the TGT"): the TGT's authentication facts.
const INHERITED: u32 = tf::PRE_AUTHENT | tf::HW_AUTHENT;

/// Handles a decoded TGS-REQ.
pub fn handle(
    kdc: &Shared,
    replay: &ReplayCache,
    req: &TgsReq,
    raw: &[u8],
    now: SystemTime,
    rng: &mut dyn RngCore,
) -> Checked<(Vec<u8>, String)> {
    if req.pvno != PVNO {
        return Err(Rejection::new(
            ErrorCode::KDC_ERR_BAD_PVNO,
            "protocol version must be 5",
        ));
    }
    if req.msg_type != msg_type::TGS_REQ {
        return Err(Rejection::new(
            ErrorCode::KRB_AP_ERR_MSG_TYPE,
            "msg-type does not match TGS-REQ",
        ));
    }
    let realm = kdc.config.realm.as_str();
    let body = &req.req_body;
    let padata = req.padata.as_deref().unwrap_or(&[]);
    let Some(pa) = padata
        .iter()
        .find(|p| p.padata_type == padata_type::PA_TGS_REQ)
    else {
        // MIT answers a TGS-REQ without PA-TGS-REQ the same way.
        return Err(Rejection::new(
            ErrorCode::KDC_ERR_PADATA_TYPE_NOSUPP,
            "no PA-TGS-REQ",
        ));
    };
    let ap = decode_der(&pa.padata_value).map_err(|_| {
        Rejection::new(
            ErrorCode::KRB_AP_ERR_MSG_TYPE,
            "PA-TGS-REQ is not a valid AP-REQ",
        )
    })?;
    let options = body.kdc_options.flags;
    let renew = options & opt::RENEW != 0;
    // The checksum covers the KDC-REQ-BODY as sent: take those bytes from the
    // request rather than re-encoding (the decoder only accepts canonical
    // DER, so re-encoding would give the same bytes, at a cost).
    let body_der = match raw_req_body(raw) {
        Some(b) => std::borrow::Cow::Borrowed(b),
        None => std::borrow::Cow::Owned(body.build()),
    };
    let v = tgs_auth::verify(kdc, replay, &ap, &body_der, renew, now)?;
    let tgt = &v.ticket;
    let with_client = |r: Rejection| r.with_client(realm, &tgt.cname);
    let client_text = format!("{}@{}", tgt.cname.name_string.join("/"), tgt.crealm);

    if options & UNSUPPORTED != 0 {
        return Err(with_client(Rejection::new(
            ErrorCode::KDC_ERR_BADOPTION,
            "option not supported",
        )));
    }
    request_checks::refuse_postdating(body, kdc.config.max_skew, now).map_err(with_client)?;
    if options & opt::FORWARDED != 0 && tgt.flags.flags & tf::FORWARDABLE == 0 {
        return Err(with_client(Rejection::new(
            ErrorCode::KDC_ERR_BADOPTION,
            "TGT is not forwardable",
        )));
    }
    let sname = request_checks::server_name(body).map_err(with_client)?;
    if body.realm != realm {
        return Err(with_client(Rejection::new(
            ErrorCode::KDC_ERR_S_PRINCIPAL_UNKNOWN,
            "no cross-realm trust",
        )));
    }
    if renew && sname.name_string != v.ticket_server.principal.components() {
        return Err(with_client(Rejection::new(
            ErrorCode::KDC_ERR_SERVER_NOMATCH,
            "RENEW must name the ticket's own service",
        )));
    }
    let server = lookup_server(kdc, sname, now).map_err(with_client)?;
    let Some(client) = kdc.store.get(&tgt.cname.name_string) else {
        return Err(with_client(Rejection::new(
            ErrorCode::KDC_ERR_TGT_REVOKED,
            "client no longer exists",
        )));
    };
    if client.disabled {
        return Err(with_client(Rejection::new(
            ErrorCode::KDC_ERR_CLIENT_REVOKED,
            "client account disabled",
        )));
    }
    if client.is_expired(now) {
        return Err(with_client(Rejection::new(
            ErrorCode::KDC_ERR_NAME_EXP,
            "client account expired",
        )));
    }

    let enabled = kdc.config.enctypes.as_slice();
    let (session_etype, service_key) =
        request_checks::service_keys(body, enabled, &server).map_err(with_client)?;

    let exchange = if renew {
        Exchange::Renew
    } else {
        Exchange::Tgs
    };
    let ctx = IssueContext {
        exchange,
        client: &client.principal,
        client_entry: client,
        server: server.entry,
        now,
    };
    let limits = kdc
        .policy
        .limits(&ctx)
        .map_err(|d| with_client(Rejection::new(d.code, d.reason)))?;

    let now_s = unix_secs(now);
    let old = times_of(tgt);
    let (times, mut flags) = if renew {
        // §3.3.3.1: a fresh copy of the presented ticket, flags and all.
        (
            lifetime::renewed(now_s, &old).map_err(with_client)?,
            tgt.flags.flags,
        )
    } else {
        let t = lifetime::new_ticket(
            now_s,
            old.authtime,
            request_checks::requested_times(body),
            Bounds {
                max_lifetime: limits.max_lifetime,
                max_renewable: limits.max_renewable,
                tgt_endtime: Some(old.endtime),
                tgt_renew_till: Some(if tgt.flags.flags & tf::RENEWABLE != 0 {
                    old.renew_till
                } else {
                    None
                }),
            },
        )
        .map_err(with_client)?;
        let mut f = tgt.flags.flags & INHERITED;
        if options & opt::FORWARDABLE != 0
            && tgt.flags.flags & tf::FORWARDABLE != 0
            && limits.allow_forwardable
        {
            f |= tf::FORWARDABLE;
        }
        if options & opt::FORWARDED != 0 || tgt.flags.flags & tf::FORWARDED != 0 {
            // §2.6: a ticket from a forwarded TGT is itself forwarded.
            f |= tf::FORWARDED;
        }
        if t.renew_till.is_some() {
            f |= tf::RENEWABLE;
        }
        (t, f)
    };
    let times = cap_to_expiry(times, [client, server.entry]);
    if times.renew_till.is_none() {
        flags &= !tf::RENEWABLE;
    }
    flags &= !tf::ENC_PA_REP;

    // §2.6: FORWARDED takes its addresses from the request, otherwise the
    // ticket keeps the TGT's.
    let caddr = if options & opt::FORWARDED != 0 {
        body.addresses.clone()
    } else {
        tgt.caddr.clone()
    };
    let authorization_data = merge_authorization_data(
        tgt.authorization_data.clone(),
        body,
        &v.session_key,
        v.subkey.as_ref(),
    )
    .map_err(with_client)?;

    let session_key = Key::random(session_etype, rng);
    let (authtime, starttime, endtime, renew_till) = time_fields(&times);
    let enc_ticket = EncTicketPart {
        flags: TicketFlags::from(flags),
        key: encryption_key(&session_key),
        crealm: tgt.crealm.clone(),
        cname: tgt.cname.clone(),
        transited: tgt.transited.clone(),
        authtime: authtime.clone(),
        starttime: starttime.clone(),
        endtime: endtime.clone(),
        renew_till: renew_till.clone(),
        caddr: caddr.clone(),
        authorization_data,
    };
    let ticket = seal(
        &enc_ticket,
        &service_key,
        server.kvno,
        realm,
        sname.clone(),
        rng,
    );
    let enc_part = kerbside_wire::krb::asn1::EncKdcRepPart {
        key: encryption_key(&session_key),
        last_req: vec![LastReqEntry::new(0, kt(0))],
        nonce: body.nonce,
        key_expiration: None,
        flags: TicketFlags::from(flags),
        authtime,
        starttime,
        endtime,
        renew_till,
        srealm: realm.to_owned(),
        sname: sname.clone(),
        caddr,
        encrypted_pa_data: None,
    };
    // §3.3.3: the reply is encrypted in the subkey when the authenticator
    // carried one (usage 9), else in the TGT session key (usage 8).
    let (reply_key, usage) = match &v.subkey {
        Some(k) => (k, key_usage::TGS_REP_ENC_PART_SUBKEY),
        None => (&v.session_key, key_usage::TGS_REP_ENC_PART_SESSKEY),
    };
    // RFC 4120 §5.4.2: EncTGSRepPart, [APPLICATION 26].
    let cipher = reply_key.encrypt(usage, &encode_enc_kdc_rep_part(&enc_part, 26), rng);
    let rep = TgsRep {
        pvno: PVNO,
        msg_type: msg_type::TGS_REP,
        padata: None,
        crealm: tgt.crealm.clone(),
        cname: tgt.cname.clone(),
        ticket,
        enc_part: EncryptedData::new(reply_key.etype().id(), None, cipher),
    };
    Ok((encode_tgs_rep(&rep), client_text))
}

/// The TGT's authorization data plus any the client put in
/// enc-authorization-data (§5.4.1: encrypted with the subkey, usage 5, or
/// the session key, usage 4).
fn merge_authorization_data(
    from_tgt: Option<AuthorizationData>,
    body: &kerbside_wire::krb::asn1::KdcReqBody,
    session_key: &Key,
    subkey: Option<&Key>,
) -> Checked<Option<AuthorizationData>> {
    let Some(ed) = &body.enc_authorization_data else {
        return Ok(from_tgt);
    };
    let (key, usage) = match subkey {
        Some(k) => (k, key_usage::TGS_REQ_AD_SUBKEY),
        None => (session_key, key_usage::TGS_REQ_AD_SESSKEY),
    };
    let bad = || {
        Rejection::new(
            ErrorCode::KRB_AP_ERR_BAD_INTEGRITY,
            "enc-authorization-data does not decrypt",
        )
    };
    if ed.etype != key.etype().id() {
        return Err(bad());
    }
    let plain = key.decrypt(usage, &ed.cipher).map_err(|_| bad())?;
    let extra: AuthorizationData = decode_der(&plain).map_err(|_| bad())?;
    let mut all = from_tgt.unwrap_or_default();
    all.extend(extra);
    Ok(Some(all))
}

/// The KDC-REQ-BODY of a TGS-REQ exactly as received (RFC 4120 §5.4.1:
/// `[APPLICATION 12] SEQUENCE { pvno [1], msg-type [2], padata [3]
/// OPTIONAL, req-body [4] }`). The request has already been decoded, so
/// this walk only locates the element.
fn raw_req_body(raw: &[u8]) -> Option<&[u8]> {
    let mut r = Reader::new(raw, Format::Kerberos, "TGS-REQ");
    let seq = r.read().ok()?.explicit_inner("KDC-REQ").ok()?;
    let mut fields = seq.reader("KDC-REQ");
    while let Ok(t) = fields.read() {
        if t.tag == 0xa4 {
            return t.explicit_inner("req-body").ok().map(|b| b.raw);
        }
    }
    None
}
