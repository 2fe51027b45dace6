//! The AS exchange (RFC 4120 §3.1): initial tickets.
//!
//! Order of checks, each with its RFC 4120 error:
//! 1. header: pvno 5 (KDC_ERR_BAD_PVNO), msg-type 10 (KRB_AP_ERR_MSG_TYPE);
//! 2. realm is ours (KDC_ERR_WRONG_REALM), cname and sname present;
//! 3. options valid in AS (KDC_ERR_BADOPTION; POSTDATED:
//!    KDC_ERR_CANNOT_POSTDATE, kerbside does not postdate);
//! 4. client known (KDC_ERR_C_PRINCIPAL_UNKNOWN), enabled
//!    (KDC_ERR_CLIENT_REVOKED), not expired (KDC_ERR_NAME_EXP);
//! 5. service known (KDC_ERR_S_PRINCIPAL_UNKNOWN), enabled, not expired;
//! 6. enctypes in common for the reply key and the session key
//!    (KDC_ERR_ETYPE_NOSUPP);
//! 7. pre-authentication (`preauth`): PA-ENC-TIMESTAMP verified
//!    (KDC_ERR_PREAUTH_FAILED, KRB_AP_ERR_SKEW), or KDC_ERR_PREAUTH_REQUIRED
//!    when the client requires it;
//! 8. policy (KDC_ERR_POLICY), times (KDC_ERR_NEVER_VALID);
//! 9. issue: ticket sealed with the service key (usage 2), reply enc-part
//!    with the client key (usage 3).

use std::time::SystemTime;

use kerbside_crypto::Key;
use kerbside_wire::krb::asn1::{
    AsRep, AsReq, Asn1Object, EncKdcRepPart, EncTicketPart, EncryptedData, LastReqEntry, PaData,
    PrincipalName, TicketFlags, TransitedEncoding,
};
use kerbside_wire::krb::constants::{
    PVNO, kdc_options as opt, key_usage, msg_type, padata_type, ticket_flags as tf,
};
use rand_core::RngCore;

use crate::codes::{ErrorCode, USAGE_AS_REQ_CKSUM};
use crate::encode::{encode_as_rep, encode_enc_kdc_rep_part};
use crate::etype;
use crate::kdc::Shared;
use crate::lifetime::{self, Bounds};
use crate::policy::{Exchange, IssueContext};
use crate::preauth::{self, PreauthResult};
use crate::reject::{Checked, Rejection};
use crate::request_checks;
use crate::store::{EntryRef, PrincipalEntry};
use crate::ticket::{encryption_key, kt, seal, time_fields, unix_secs};

/// Options that only make sense in a TGS request (RFC 4120 §2.5-2.9,
/// §3.1.3: "the KDC MUST return KDC_ERR_BADOPTION" for them in AS).
const TGS_ONLY_OPTIONS: u32 = opt::FORWARDED
    | opt::PROXY
    | opt::ENC_TKT_IN_SKEY
    | opt::RENEW
    | opt::VALIDATE
    | opt::CNAME_IN_ADDL_TKT;

/// What an AS request produced.
#[derive(Debug)]
pub struct AsResult {
    /// AS-REP bytes.
    pub reply: Vec<u8>,
}

/// Handles a decoded AS-REQ. `raw` is the request exactly as received (the
/// PA-REQ-ENC-PA-REP checksum covers it).
pub fn handle(
    kdc: &Shared,
    req: &AsReq,
    raw: &[u8],
    now: SystemTime,
    rng: &mut dyn RngCore,
) -> Checked<AsResult> {
    if req.pvno != PVNO {
        return Err(Rejection::new(
            ErrorCode::KDC_ERR_BAD_PVNO,
            "protocol version must be 5",
        ));
    }
    if req.msg_type != msg_type::AS_REQ {
        return Err(Rejection::new(
            ErrorCode::KRB_AP_ERR_MSG_TYPE,
            "msg-type does not match AS-REQ",
        ));
    }
    let body = &req.req_body;
    let realm = kdc.config.realm.as_str();
    if body.realm != realm {
        // RFC 4120 §3.1.2 / RFC 6806: not our realm (no referrals here).
        return Err(Rejection::new(
            ErrorCode::KDC_ERR_WRONG_REALM,
            "realm not served by this KDC",
        ));
    }
    let Some(cname) = body.cname.as_ref().filter(|c| !c.name_string.is_empty()) else {
        return Err(Rejection::new(
            ErrorCode::KDC_ERR_C_PRINCIPAL_UNKNOWN,
            "no client name in request",
        ));
    };
    let with_client = |r: Rejection| r.with_client(realm, cname);
    let sname = request_checks::server_name(body).map_err(with_client)?;
    let options = body.kdc_options.flags;
    if options & TGS_ONLY_OPTIONS != 0 {
        return Err(with_client(Rejection::new(
            ErrorCode::KDC_ERR_BADOPTION,
            "option not valid in an AS request",
        )));
    }
    request_checks::refuse_postdating(body, kdc.config.max_skew, now).map_err(with_client)?;

    let client = lookup_client(kdc, cname, now).map_err(with_client)?;
    let server = lookup_server(kdc, sname, now).map_err(with_client)?;

    let enabled = kdc.config.enctypes.as_slice();
    let Some(reply_key) = etype::reply_key(&body.etypes, enabled, &client) else {
        return Err(with_client(Rejection::new(
            ErrorCode::KDC_ERR_ETYPE_NOSUPP,
            "no enctype in common with the client's keys",
        )));
    };
    let (session_etype, service_key) =
        request_checks::service_keys(body, enabled, &server).map_err(with_client)?;

    let padata = req.padata.as_deref().unwrap_or(&[]);
    let pre = preauth::check(padata, &client, reply_key.etype(), kdc.config.max_skew, now)
        .map_err(with_client)?;
    let (pre_authent, reply_key) = match pre {
        // The reply goes under the key the client just proved it holds (MIT
        // does the same), even if its list preferred another enctype.
        PreauthResult::Verified(etype) => {
            let used = client.key(etype).filter(|_| enabled.contains(&etype));
            (true, used.unwrap_or(reply_key))
        }
        PreauthResult::Absent if client.requires_preauth => {
            // RFC 4120 §3.1.1 / §5.2.7: tell the client what to send and how
            // to derive its key.
            let e_data = preauth::method_data(&client, reply_key.etype());
            return Err(with_client(
                Rejection::new(
                    ErrorCode::KDC_ERR_PREAUTH_REQUIRED,
                    "pre-authentication required",
                )
                .with_e_data(e_data),
            ));
        }
        PreauthResult::Absent => (false, reply_key),
    };

    let ctx = IssueContext {
        exchange: Exchange::As,
        client: &client.principal,
        client_entry: client.entry,
        server: server.entry,
        now,
    };
    let limits = kdc
        .policy
        .limits(&ctx)
        .map_err(|d| with_client(Rejection::new(d.code, d.reason)))?;

    let now_s = unix_secs(now);
    let times = lifetime::new_ticket(
        now_s,
        now_s,
        request_checks::requested_times(body),
        Bounds {
            max_lifetime: limits.max_lifetime,
            max_renewable: limits.max_renewable,
            tgt_endtime: None,
            tgt_renew_till: None,
        },
    )
    .map_err(with_client)?;
    // Tickets never outlive the accounts they are for.
    let times = cap_to_expiry(times, [client.entry, server.entry]);

    let mut flags = tf::INITIAL;
    if pre_authent {
        flags |= tf::PRE_AUTHENT;
    }
    if options & opt::FORWARDABLE != 0 && limits.allow_forwardable {
        flags |= tf::FORWARDABLE;
    }
    if times.renew_till.is_some() {
        flags |= tf::RENEWABLE;
    }
    // RFC 6806 §11: the client asked for a checksum of its request inside the
    // encrypted reply (MIT kinit always does); it protects the unauthenticated
    // request (etype list, options) against tampering.
    let wants_enc_pa_rep = padata
        .iter()
        .any(|p| p.padata_type == padata_type::PA_REQ_ENC_PA_REP);
    if wants_enc_pa_rep {
        flags |= tf::ENC_PA_REP;
    }

    let session_key = Key::random(session_etype, rng);
    let (authtime, starttime, endtime, renew_till) = time_fields(&times);
    let enc_ticket = EncTicketPart {
        flags: TicketFlags::from(flags & !tf::ENC_PA_REP),
        key: encryption_key(&session_key),
        crealm: realm.to_owned(),
        cname: cname.clone(),
        // RFC 4120 §3.3.3.2: DOMAIN-X500-COMPRESS, empty for a local ticket.
        transited: TransitedEncoding {
            tr_type: 1,
            contents: Vec::new(),
        },
        authtime: authtime.clone(),
        starttime: starttime.clone(),
        endtime: endtime.clone(),
        renew_till: renew_till.clone(),
        caddr: body.addresses.clone(),
        authorization_data: None,
    };
    let ticket = seal(
        &enc_ticket,
        &service_key,
        server.kvno,
        realm,
        sname.clone(),
        rng,
    );

    let encrypted_pa_data = wants_enc_pa_rep.then(|| {
        let ck = kerbside_wire::krb::asn1::Checksum {
            cksumtype: reply_key.etype().checksum_type(),
            checksum: reply_key.usage(USAGE_AS_REQ_CKSUM).checksum(raw),
        };
        vec![PaData::new(padata_type::PA_REQ_ENC_PA_REP, ck.build())]
    });
    let enc_part = EncKdcRepPart {
        key: encryption_key(&session_key),
        // RFC 4120 §5.4.2: lr-type 0 = no information; MIT sends the epoch.
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
        caddr: body.addresses.clone(),
        encrypted_pa_data,
    };
    // RFC 4120 §5.4.2: EncASRepPart, [APPLICATION 25].
    let plain = encode_enc_kdc_rep_part(&enc_part, 25);
    let cipher = reply_key
        .usage(key_usage::AS_REP_ENC_PART)
        .encrypt(&plain, rng);
    let rep = AsRep {
        pvno: PVNO,
        msg_type: msg_type::AS_REP,
        // MIT includes PA-ETYPE-INFO2 in every AS-REP: a client that sent no
        // pre-authentication learns the salt it needs to decrypt the reply.
        padata: Some(vec![preauth::etype_info2_padata(
            &client,
            reply_key.etype(),
        )]),
        crealm: realm.to_owned(),
        cname: cname.clone(),
        ticket,
        enc_part: EncryptedData::new(reply_key.etype().id(), None, cipher),
    };
    Ok(AsResult {
        reply: encode_as_rep(&rep),
    })
}

fn lookup_client<'a>(
    kdc: &'a Shared,
    cname: &PrincipalName,
    now: SystemTime,
) -> Checked<EntryRef<'a>> {
    let Some(client) = kdc.store.lookup(&cname.name_string) else {
        return Err(Rejection::new(
            ErrorCode::KDC_ERR_C_PRINCIPAL_UNKNOWN,
            "client not found",
        ));
    };
    if client.disabled {
        return Err(Rejection::new(
            ErrorCode::KDC_ERR_CLIENT_REVOKED,
            "client account disabled",
        ));
    }
    if client.is_expired(now) {
        return Err(Rejection::new(
            ErrorCode::KDC_ERR_NAME_EXP,
            "client account expired",
        ));
    }
    Ok(client)
}

/// Looks the service up for an AS or TGS request.
pub fn lookup_server<'a>(
    kdc: &'a Shared,
    sname: &PrincipalName,
    now: SystemTime,
) -> Checked<EntryRef<'a>> {
    let Some(server) = kdc.store.lookup(&sname.name_string) else {
        return Err(Rejection::new(
            ErrorCode::KDC_ERR_S_PRINCIPAL_UNKNOWN,
            "server not found",
        ));
    };
    if server.disabled {
        return Err(Rejection::new(
            ErrorCode::KDC_ERR_SERVICE_REVOKED,
            "service disabled",
        ));
    }
    if server.is_expired(now) {
        return Err(Rejection::new(
            ErrorCode::KDC_ERR_SERVICE_EXP,
            "service expired",
        ));
    }
    Ok(server)
}

/// Ends the ticket no later than the earliest account expiry.
pub fn cap_to_expiry<const N: usize>(
    mut t: lifetime::Times,
    entries: [&PrincipalEntry; N],
) -> lifetime::Times {
    for e in entries {
        if let Some(exp) = e.expires {
            let exp = unix_secs(exp);
            t.endtime = t.endtime.min(exp);
            t.renew_till = t.renew_till.map(|r| r.min(exp)).filter(|r| *r > t.endtime);
        }
    }
    t
}
