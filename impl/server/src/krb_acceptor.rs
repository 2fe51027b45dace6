//! The Kerberos GSS acceptor: one AP-REQ in, an established context (and
//! the AP-REP token for mutual authentication) or a KRB-ERROR token out
//! (RFC 4120 §3.2.3-§3.2.4, RFC 4121 §4.1).
//!
//! Checks, in order, with the error each sends:
//! 1. the AP-REQ decodes, pvno 5, msg-type 14 (KRB_AP_ERR_BADVERSION /
//!    KRB_AP_ERR_MSG_TYPE; undecodable bytes KRB_ERR_GENERIC);
//! 2. user-to-user is not offered (KRB_AP_ERR_METHOD);
//! 3. the ticket's service is ours, at that kvno and enctype
//!    (KRB_AP_ERR_NOT_US / KRB_AP_ERR_BADKEYVER / KRB_AP_ERR_NOKEY);
//! 4. the ticket decrypts with the service key, usage 2
//!    (KRB_AP_ERR_MODIFIED: what Windows answers when the ticket was
//!    encrypted with another key, e.g. a stale password or a duplicate
//!    SPN; MIT reports BAD_INTEGRITY for the same case);
//! 5. the authenticator decrypts with the session key, usage 11
//!    (KRB_AP_ERR_BAD_INTEGRITY) and names the ticket's client
//!    (KRB_AP_ERR_BADMATCH);
//! 6. its ctime is within the allowed skew (KRB_AP_ERR_SKEW; the error's
//!    stime lets the client correct its clock);
//! 7. the ticket is valid now, within the skew: not INVALID, started
//!    (KRB_AP_ERR_TKT_NYV), not ended (KRB_AP_ERR_TKT_EXPIRED); and a
//!    ticket from a trusted on-client LocalKDC realm keeps that realm's
//!    limits: lifetime (end - start) within the cap, a computer account
//!    (`NAME$`) when so configured, the client in that realm
//!    (KDC_ERR_POLICY otherwise: the LocalKDC should never have issued it);
//! 8. the authenticator checksum is the GSS 0x8003 one (RFC 4121 §4.1.1;
//!    KRB_AP_ERR_INAPP_CKSUM when missing or of another type,
//!    KRB_AP_ERR_MODIFIED when malformed or when the channel bindings
//!    differ from the acceptor's);
//! 9. after an IAKERB exchange ([`accept_iakerb`]), the 0x8003 checksum
//!    carries the IAKERB finished checksum over the conversation, keyed
//!    with the authenticator subkey (draft-ietf-kitten-iakerb-03 §3.2; MIT
//!    `kg_process_extension`): KRB_AP_ERR_MODIFIED when it does not verify
//!    or, unless the compatibility switch is off, is missing (MIT answers
//!    GSS_S_BAD_SIG; either flavour is taken, see
//!    `kerbside_crypto::gss_checksum::FinishedFlavor`);
//! 10. the replay cache has not seen this authenticator (ctime, cusec,
//!     client, server and its integrity tag; KRB_AP_ERR_REPEAT), checked
//!     last so forgeries cannot fill it.
//!
//! Then, if the initiator asked for mutual authentication, the AP-REP
//! echoes ctime/cusec with a fresh acceptor subkey and sequence number,
//! as MIT's acceptor does for RFC 4121 contexts.

use std::time::SystemTime;

use kerbside_client::gss::KrbContext;
use kerbside_crypto::Key;
use kerbside_crypto::gss::Role;
use kerbside_crypto::gss_checksum::{
    self, CKSUMTYPE_GSSAPI, FinishedFlavor, GSS_C_CONF_FLAG, GSS_C_DELEG_FLAG, GSS_C_INTEG_FLAG,
    GSS_C_MUTUAL_FLAG, GSS_C_REPLAY_FLAG, GSS_C_SEQUENCE_FLAG,
};
use kerbside_kdc::replay::{ReplayCache, ReplayKey, ReplayVerdict};
use kerbside_wire::der::Oid;
use kerbside_wire::gss::{self, GssChecksum, tok_id};
use kerbside_wire::krb::asn1::{
    ApRep, ApReq, Asn1Object, Authenticator, EncApRepPart, EncTicketPart, EncryptedData,
    EncryptionKey, PrincipalName,
};
use kerbside_wire::krb::constants::{
    PVNO, ap_options, error_code as code, key_usage, msg_type, ticket_flags,
};
use kerbside_wire::krb::{KrbErrorBuilder, KrbMessage, decode, decode_der};
use kerbside_wire::time::{from_kerberos_time, from_kerberos_time_usec, unix_seconds};
use rand_core::RngCore;

use crate::config::AcceptorConfig;
use crate::keys::{KeyLookup, ServiceKeys};
use crate::service::AppService;

/// The GSS flags this acceptor grants (delegation is not kept: there is
/// nothing on the server to use a forwarded TGT for).
const SUPPORTED_FLAGS: u32 = GSS_C_MUTUAL_FLAG
    | GSS_C_REPLAY_FLAG
    | GSS_C_SEQUENCE_FLAG
    | GSS_C_CONF_FLAG
    | GSS_C_INTEG_FLAG;

/// A refused AP-REQ: the RFC 4120 code, why, and the KRB-ERROR token to
/// send back (framed with the mechanism OID the initiator used).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KrbReject {
    /// RFC 4120 §7.5.9 error code.
    pub code: i32,
    /// Why, for logs and e-text.
    pub reason: &'static str,
    /// `60 .. <oid> 03 00 <KRB-ERROR>`.
    pub token: Vec<u8>,
}

/// An accepted AP-REQ.
#[derive(Debug)]
pub struct KrbAccepted {
    /// `name@REALM` of the client.
    pub client: String,
    /// The service principal the ticket was for, `a/b@REALM`.
    pub service: String,
    /// GSS flags granted.
    pub flags: u32,
    /// The AP-REP token, when mutual authentication was requested.
    pub reply: Option<Vec<u8>>,
    /// The established context.
    pub context: KrbContext,
    /// When the ticket ends.
    pub ticket_end: SystemTime,
    /// The IAKERB finished flavour that verified (`None` outside IAKERB,
    /// or when a compatibility-mode initiator sent none).
    pub finished: Option<FinishedFlavor>,
}

/// What a failing check knows when it fails.
struct Failure {
    code: i32,
    reason: &'static str,
    /// The service named (for the KRB-ERROR's realm/sname). Boxed: the
    /// error path must stay small next to the success type.
    service: Option<Box<(String, PrincipalName)>>,
    /// Client identity and time, once the authenticator decrypted.
    client: Option<Box<(String, PrincipalName, SystemTime)>>,
}

impl Failure {
    fn new(code: i32, reason: &'static str) -> Self {
        Self {
            code,
            reason,
            service: None,
            client: None,
        }
    }
}

/// Verifies `ap_req` (the DER after the `01 00` TOK_ID) framed under `mech`.
pub fn accept(
    config: &AcceptorConfig,
    keys: &ServiceKeys,
    replay: &ReplayCache,
    mech: &Oid,
    ap_req: &[u8],
    now: SystemTime,
    rng: &mut dyn RngCore,
) -> Result<KrbAccepted, KrbReject> {
    verify(config, keys, replay, mech, ap_req, None, now, rng)
        .map_err(|f| reject(keys, mech, f, now))
}

/// Verifies the AP-REQ that ends an IAKERB exchange: as [`accept`], plus
/// the finished checksum over `conversation` (every IAKERB token sent and
/// received, exact wire bytes). An empty conversation (the initiator had
/// its ticket already, MIT `iakerb_get_initial_state`) needs none.
pub fn accept_iakerb(
    svc: &AppService,
    mech: &Oid,
    ap_req: &[u8],
    conversation: &[u8],
    now: SystemTime,
    rng: &mut dyn RngCore,
) -> Result<KrbAccepted, KrbReject> {
    let conv = (!conversation.is_empty()).then_some(conversation);
    verify(
        &svc.config,
        &svc.keys,
        svc.replay_cache(),
        mech,
        ap_req,
        conv,
        now,
        rng,
    )
    .map_err(|f| reject(&svc.keys, mech, f, now))
}

/// The KRB-ERROR token for a failure (RFC 4121 §4.1 TOK_ID 03 00).
fn reject(keys: &ServiceKeys, mech: &Oid, f: Failure, now: SystemTime) -> KrbReject {
    let (realm, sname) = f
        .service
        .map(|b| *b)
        .unwrap_or_else(|| match keys.default_principal() {
            Some((realm, comps)) => (realm.to_owned(), principal(&comps)),
            None => (String::new(), principal(&[])),
        });
    let mut b = KrbErrorBuilder::new(f.code, now, &realm, sname).e_text(f.reason);
    if let Some((crealm, cname, ctime)) = f.client.map(|b| *b) {
        b = b.client(&crealm, cname).client_time(ctime);
    }
    let der = b.build().build();
    KrbReject {
        code: f.code,
        reason: f.reason,
        token: gss::encode_krb_token(mech, tok_id::KRB_ERROR, &der),
    }
}

fn principal(comps: &[&str]) -> PrincipalName {
    kerbside_wire::krb::principal(kerbside_wire::krb::constants::name_type::NT_SRV_HST, comps)
}

#[allow(clippy::too_many_arguments)]
fn verify(
    config: &AcceptorConfig,
    keys: &ServiceKeys,
    replay: &ReplayCache,
    mech: &Oid,
    ap_req: &[u8],
    iakerb_conversation: Option<&[u8]>,
    now: SystemTime,
    rng: &mut dyn RngCore,
) -> Result<KrbAccepted, Failure> {
    // 1. Structure.
    let ap: ApReq = match decode(ap_req) {
        Ok(KrbMessage::ApReq(ap)) => ap,
        Ok(_) => {
            return Err(Failure::new(
                code::KRB_AP_ERR_MSG_TYPE,
                "token is not an AP-REQ",
            ));
        }
        Err(_) => {
            return Err(Failure::new(
                code::KRB_ERR_GENERIC,
                "AP-REQ does not decode",
            ));
        }
    };
    if ap.pvno != PVNO || ap.ticket.tkt_vno != PVNO {
        return Err(Failure::new(
            code::KRB_AP_ERR_BADVERSION,
            "protocol version must be 5",
        ));
    }
    if ap.msg_type != msg_type::AP_REQ {
        return Err(Failure::new(
            code::KRB_AP_ERR_MSG_TYPE,
            "msg-type is not AP-REQ",
        ));
    }
    let t = &ap.ticket;
    let service_id = Some(Box::new((t.realm.clone(), t.sname.clone())));
    let fail = |code: i32, reason: &'static str| Failure {
        code,
        reason,
        service: service_id.clone(),
        client: None,
    };
    // 2. User-to-user tickets are encrypted in a TGT session key we do not
    // have (RFC 4120 §3.2.3: KRB_AP_ERR_METHOD for an unsupported option).
    if ap.ap_options.flags & ap_options::USE_SESSION_KEY != 0 {
        return Err(fail(
            code::KRB_AP_ERR_METHOD,
            "user-to-user is not supported",
        ));
    }
    // 3. Our key for the ticket.
    let service_key = match keys.lookup(
        &t.realm,
        &t.sname.name_string,
        t.enc_part.etype,
        t.enc_part.kvno,
    ) {
        KeyLookup::Found(k) => k,
        KeyLookup::UnknownPrincipal => {
            return Err(fail(
                code::KRB_AP_ERR_NOT_US,
                "ticket is for another service",
            ));
        }
        KeyLookup::WrongKvno => {
            return Err(fail(
                code::KRB_AP_ERR_BADKEYVER,
                "no service key of the ticket's version",
            ));
        }
        KeyLookup::NoEnctype => {
            return Err(fail(
                code::KRB_AP_ERR_NOKEY,
                "no service key of the ticket's enctype",
            ));
        }
    };
    // 4. The ticket.
    let modified = || fail(code::KRB_AP_ERR_MODIFIED, "ticket does not decrypt");
    let plain = service_key
        .decrypt(key_usage::KDC_REP_TICKET, &t.enc_part.cipher)
        .map_err(|_| modified())?;
    let ticket: EncTicketPart = decode_der(&plain).map_err(|_| modified())?;
    let session =
        Key::from_wire(ticket.key.keytype, &ticket.key.keyvalue).map_err(|_| modified())?;
    // 5. The authenticator.
    let bad_auth = || {
        fail(
            code::KRB_AP_ERR_BAD_INTEGRITY,
            "authenticator does not decrypt",
        )
    };
    if ap.authenticator.etype != session.etype().id() {
        return Err(bad_auth());
    }
    let plain = session
        .decrypt(key_usage::AP_REQ_AUTH, &ap.authenticator.cipher)
        .map_err(|_| bad_auth())?;
    let auth: Authenticator = decode_der(&plain).map_err(|_| bad_auth())?;
    let ctime = from_kerberos_time_usec(&auth.ctime, auth.cusec);
    let with_client = |code: i32, reason: &'static str| Failure {
        code,
        reason,
        service: service_id.clone(),
        client: Some(Box::new((
            ticket.crealm.clone(),
            ticket.cname.clone(),
            ctime,
        ))),
    };
    if auth.authenticator_vno != PVNO {
        return Err(with_client(
            code::KRB_AP_ERR_BADVERSION,
            "authenticator version must be 5",
        ));
    }
    // §3.2.3: compare names exactly (PrincipalName's PartialEq ignores case).
    if auth.crealm != ticket.crealm || auth.cname.name_string != ticket.cname.name_string {
        return Err(with_client(
            code::KRB_AP_ERR_BADMATCH,
            "authenticator client differs from the ticket's",
        ));
    }
    // 6. Skew.
    if !within(ctime, now, config.max_skew) {
        return Err(with_client(code::KRB_AP_ERR_SKEW, "clock skew too great"));
    }
    // 7. Ticket times, with the same skew allowance (MIT does likewise).
    if ticket.flags.flags & ticket_flags::INVALID != 0 {
        return Err(with_client(
            code::KRB_AP_ERR_TKT_NYV,
            "ticket is marked invalid",
        ));
    }
    let skew = i64::try_from(config.max_skew.as_secs()).unwrap_or(i64::MAX);
    let now_s = unix(now);
    let start = ticket
        .starttime
        .as_ref()
        .map_or_else(|| unix_seconds(&ticket.authtime), unix_seconds);
    if start > now_s.saturating_add(skew) {
        return Err(with_client(
            code::KRB_AP_ERR_TKT_NYV,
            "ticket not yet valid",
        ));
    }
    if unix_seconds(&ticket.endtime) < now_s.saturating_sub(skew) {
        return Err(with_client(code::KRB_AP_ERR_TKT_EXPIRED, "ticket expired"));
    }
    // LocalKDC trust (kerbside_kdc::localkdc): the service enforces the
    // limits itself rather than trusting the laptop's KDC to have done so.
    if let Some(trust) = config.localkdc_trust.iter().find(|tr| tr.realm == t.realm) {
        let lifetime = unix_seconds(&ticket.endtime).saturating_sub(start);
        let cap = i64::try_from(trust.max_lifetime.as_secs()).unwrap_or(i64::MAX);
        if lifetime > cap {
            return Err(with_client(
                code::KDC_ERR_POLICY,
                "LocalKDC ticket lives longer than the realm's lifetime cap",
            ));
        }
        if ticket.crealm != trust.realm {
            return Err(with_client(
                code::KDC_ERR_POLICY,
                "LocalKDC ticket names a client of another realm",
            ));
        }
        let computer = matches!(ticket.cname.name_string.as_slice(), [n] if n.ends_with('$'));
        if trust.computer_accounts_only && !computer {
            return Err(with_client(
                code::KDC_ERR_POLICY,
                "LocalKDC tickets are accepted for computer accounts only",
            ));
        }
    }
    // 8. RFC 4121 §4.1.1 checksum.
    let Some(ck) = &auth.cksum else {
        return Err(with_client(
            code::KRB_AP_ERR_INAPP_CKSUM,
            "authenticator carries no GSS checksum",
        ));
    };
    if ck.cksumtype != CKSUMTYPE_GSSAPI {
        return Err(with_client(
            code::KRB_AP_ERR_INAPP_CKSUM,
            "authenticator checksum is not type 0x8003",
        ));
    }
    // Read as MIT's acceptor reads it (DELEG flag without the field).
    let gss_ck = GssChecksum::decode_acceptor(&ck.checksum)
        .map_err(|_| with_client(code::KRB_AP_ERR_MODIFIED, "malformed 0x8003 checksum"))?;
    // RFC 4121 §4.1.1.2 / MIT: an initiator without bindings sends zeros,
    // which an acceptor with bindings accepts unless it insists.
    if let Some(expected) = config.channel_bindings
        && gss_ck.bindings != [0; 16]
        && gss_ck.bindings != expected
    {
        return Err(with_client(
            code::KRB_AP_ERR_MODIFIED,
            "channel bindings do not match",
        ));
    }
    let initiator_subkey = match &auth.subkey {
        Some(k) => Some(
            Key::from_wire(k.keytype, &k.keyvalue)
                .map_err(|_| with_client(code::KRB_AP_ERR_BAD_INTEGRITY, "unusable subkey"))?,
        ),
        None => None,
    };
    // 9. IAKERB finished (draft-ietf-kitten-iakerb-03 §3.2): the subkey's
    // checksum over the conversation proves the initiator saw exactly the
    // tokens we exchanged, so a man in the middle of the proxied KDC
    // exchanges cannot go unnoticed.
    let finished = match iakerb_conversation {
        None => None,
        Some(conv) => match FinishedFlavor::find(|t| gss_ck.extension(t)) {
            Some((flavor, data)) => {
                let Some(subkey) = &initiator_subkey else {
                    return Err(with_client(
                        code::KRB_AP_ERR_MODIFIED,
                        "IAKERB finished checksum without an authenticator subkey",
                    ));
                };
                gss_checksum::verify_iakerb_finished(subkey, conv, data, flavor).map_err(|_| {
                    with_client(
                        code::KRB_AP_ERR_MODIFIED,
                        "IAKERB finished checksum does not verify",
                    )
                })?;
                Some(flavor)
            }
            None if config.iakerb.as_ref().is_none_or(|c| c.require_finished) => {
                return Err(with_client(
                    code::KRB_AP_ERR_MODIFIED,
                    "IAKERB finished checksum missing",
                ));
            }
            None => None,
        },
    };
    // 10. Replay cache.
    let client = format!("{}@{}", ticket.cname.name_string.join("/"), ticket.crealm);
    let service = format!("{}@{}", t.sname.name_string.join("/"), t.realm);
    // RFC 4120 §3.2.3 names the (ctime, cusec, client, server) tuple; the
    // entry also carries the authenticator's integrity tag (MIT's
    // `k5_rc_tag_from_ciphertext`, see `kerbside_kdc::replay`), so a
    // byte-for-byte replay is caught while two genuine authenticators made
    // in the same microsecond (simulated clocks tick in lockstep) are not
    // mistaken for one another.
    let key = ReplayKey::for_authenticator(
        unix_seconds(&auth.ctime),
        u32::try_from(auth.cusec).unwrap_or(0),
        client.clone(),
        service.clone(),
        &ap.authenticator,
    );
    match replay.check_and_insert(key, now_s) {
        ReplayVerdict::Fresh => {}
        ReplayVerdict::Replay => {
            return Err(with_client(
                code::KRB_AP_ERR_REPEAT,
                "authenticator replayed",
            ));
        }
        ReplayVerdict::Full => {
            // §3.2.3: a server that cannot remember must refuse.
            return Err(with_client(
                code::KDC_ERR_SVC_UNAVAILABLE,
                "replay cache full",
            ));
        }
    }

    let flags = gss_ck.flags & SUPPORTED_FLAGS & !GSS_C_DELEG_FLAG;
    let mutual = ap.ap_options.flags & ap_options::MUTUAL_REQUIRED != 0
        || gss_ck.flags & GSS_C_MUTUAL_FLAG != 0;
    let initiator_seq = u64::from(auth.seq_number.unwrap_or(0));
    let context_key = initiator_subkey.clone().unwrap_or_else(|| session.clone());
    let (reply, context) = if mutual {
        // RFC 4121 §2 / MIT: a fresh acceptor subkey of the context's
        // enctype, and our own random 30-bit sequence number.
        let acceptor_subkey = Key::random(context_key.etype(), rng);
        let seq = rng.next_u32() & 0x3fff_ffff;
        let part = EncApRepPart {
            ctime: auth.ctime.clone(),
            cusec: auth.cusec,
            subkey: EncryptionKey::new(
                acceptor_subkey.etype().id(),
                acceptor_subkey.bytes().to_vec(),
            ),
            seq_number: seq,
        };
        let cipher = session.encrypt(key_usage::AP_REP_ENC_PART, &part.build(), rng);
        let rep = ApRep {
            pvno: PVNO,
            msg_type: msg_type::AP_REP,
            enc_part: EncryptedData::new(session.etype().id(), None, cipher),
        };
        let ctx = KrbContext::new(
            Role::Acceptor,
            context_key,
            Some(acceptor_subkey),
            u64::from(seq),
            initiator_seq,
            flags,
        )
        .map_err(|_| {
            with_client(
                code::KDC_ERR_ETYPE_NOSUPP,
                "session enctype unusable for GSS",
            )
        })?;
        (
            Some(gss::encode_krb_token(mech, tok_id::AP_REP, &rep.build())),
            ctx,
        )
    } else {
        // No AP-REP: both directions start from the initiator's number.
        let ctx = KrbContext::new(
            Role::Acceptor,
            context_key,
            None,
            initiator_seq,
            initiator_seq,
            flags,
        )
        .map_err(|_| {
            with_client(
                code::KDC_ERR_ETYPE_NOSUPP,
                "session enctype unusable for GSS",
            )
        })?;
        (None, ctx)
    };
    Ok(KrbAccepted {
        client,
        service,
        flags,
        reply,
        context,
        ticket_end: from_kerberos_time(&ticket.endtime),
        finished,
    })
}

fn unix(t: SystemTime) -> i64 {
    match t.duration_since(std::time::UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
        Err(e) => -i64::try_from(e.duration().as_secs()).unwrap_or(i64::MAX),
    }
}

/// |a - b| <= skew.
fn within(a: SystemTime, b: SystemTime, skew: std::time::Duration) -> bool {
    let diff = match a.duration_since(b) {
        Ok(d) => d,
        Err(e) => e.duration(),
    };
    diff <= skew
}
