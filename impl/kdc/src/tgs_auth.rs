//! Verifying the AP-REQ inside PA-TGS-REQ (RFC 4120 §3.3.2, with the
//! receiver checks of §3.2.3).
//!
//! Checks, in order, with their errors:
//! 1. AP-REQ header (KRB_AP_ERR_BADVERSION, KRB_AP_ERR_MSG_TYPE);
//! 2. the ticket is for a principal of this realm; in a plain TGS request it
//!    must be our krbtgt (KRB_AP_ERR_NOT_US), with RENEW any service ticket
//!    this KDC issued may be renewed;
//! 3. key version and enctype (KRB_AP_ERR_BADKEYVER, KRB_AP_ERR_NOKEY),
//!    ticket decryption, usage 2 (KRB_AP_ERR_BAD_INTEGRITY);
//! 4. authenticator decryption with the ticket's session key, usage 7
//!    (KRB_AP_ERR_BAD_INTEGRITY);
//! 5. authenticator names the ticket's client (KRB_AP_ERR_BADMATCH);
//! 6. clock skew (KRB_AP_ERR_SKEW);
//! 7. checksum over the request body, usage 6: present and keyed
//!    (KRB_AP_ERR_INAPP_CKSUM) and correct (KRB_AP_ERR_MODIFIED);
//! 8. replay cache (KRB_AP_ERR_REPEAT; ctime, cusec, client, server and the
//!    authenticator's integrity tag), checked last so forged requests
//!    cannot fill it;
//! 9. ticket validity: not INVALID, started (KRB_AP_ERR_TKT_NYV), not
//!    expired (KRB_AP_ERR_TKT_EXPIRED).

use std::time::SystemTime;

use kerbside_crypto::{EncType, Key};
use kerbside_wire::krb::asn1::{ApReq, Authenticator, EncTicketPart};
use kerbside_wire::krb::constants::{PVNO, key_usage, msg_type, ticket_flags as tf};
use kerbside_wire::krb::decode_der;
use kerbside_wire::time::{from_kerberos_time_usec, unix_seconds};

use crate::codes::ErrorCode;
use crate::kdc::Shared;
use crate::name::is_tgs_name;
use crate::preauth::within;
use crate::reject::{Checked, Rejection};
use crate::replay::{ReplayCache, ReplayKey, ReplayVerdict};
use crate::store::EntryRef;
use crate::ticket::unix_secs;

/// A verified PA-TGS-REQ.
#[derive(Debug)]
pub struct Verified<'a> {
    /// The decrypted ticket.
    pub ticket: EncTicketPart,
    /// The principal the ticket was for (krbtgt, or a service being renewed).
    pub ticket_server: EntryRef<'a>,
    /// The decrypted authenticator.
    pub authenticator: Authenticator,
    /// The ticket's session key.
    pub session_key: Key,
    /// The authenticator's subkey, when the client sent one (the reply is
    /// then encrypted with it, usage 9).
    pub subkey: Option<Key>,
}

/// Verifies the AP-REQ of a TGS request. `body` is the DER of the request's
/// KDC-REQ-BODY (what the authenticator checksum covers); `renew` says the
/// RENEW option is set.
pub fn verify<'a>(
    kdc: &'a Shared,
    replay: &ReplayCache,
    ap: &ApReq,
    body: &[u8],
    renew: bool,
    now: SystemTime,
) -> Checked<Verified<'a>> {
    let realm = kdc.config.realm.as_str();
    if ap.pvno != PVNO {
        return Err(Rejection::new(
            ErrorCode::KRB_AP_ERR_BADVERSION,
            "AP-REQ protocol version must be 5",
        ));
    }
    if ap.msg_type != msg_type::AP_REQ {
        return Err(Rejection::new(
            ErrorCode::KRB_AP_ERR_MSG_TYPE,
            "PA-TGS-REQ does not hold an AP-REQ",
        ));
    }
    let t = &ap.ticket;
    if t.tkt_vno != PVNO || t.realm != realm {
        return Err(Rejection::new(
            ErrorCode::KRB_AP_ERR_NOT_US,
            "ticket is not for this realm",
        ));
    }
    if !renew && !is_tgs_name(&t.sname.name_string, realm) {
        return Err(Rejection::new(
            ErrorCode::KRB_AP_ERR_NOT_US,
            "ticket is not a TGT of this realm",
        ));
    }
    let Some(ticket_server) = kdc.store.lookup(&t.sname.name_string) else {
        return Err(Rejection::new(
            ErrorCode::KRB_AP_ERR_NOT_US,
            "ticket server unknown",
        ));
    };
    if t.enc_part.kvno.is_some_and(|k| k != ticket_server.kvno) {
        return Err(Rejection::new(
            ErrorCode::KRB_AP_ERR_BADKEYVER,
            "ticket key version unknown",
        ));
    }
    let Some(ticket_key) = EncType::from_id(t.enc_part.etype).and_then(|e| ticket_server.key(e))
    else {
        return Err(Rejection::new(
            ErrorCode::KRB_AP_ERR_NOKEY,
            "no key for the ticket's enctype",
        ));
    };
    let bad_ticket = || {
        Rejection::new(
            ErrorCode::KRB_AP_ERR_BAD_INTEGRITY,
            "ticket does not decrypt",
        )
    };
    let plain = ticket_key
        .usage(key_usage::KDC_REP_TICKET)
        .decrypt(&t.enc_part.cipher)
        .map_err(|_| bad_ticket())?;
    let ticket: EncTicketPart = decode_der(&plain).map_err(|_| bad_ticket())?;
    if ticket.crealm != realm {
        // Cross-realm TGTs are not issued by this KDC, so never valid here.
        return Err(Rejection::new(
            ErrorCode::KRB_AP_ERR_NOT_US,
            "ticket client is from another realm",
        ));
    }
    let session_key =
        Key::from_wire(ticket.key.keytype, &ticket.key.keyvalue).map_err(|_| bad_ticket())?;
    let with_client = |r: Rejection| r.with_client(realm, &ticket.cname);

    let bad_auth = || {
        with_client(Rejection::new(
            ErrorCode::KRB_AP_ERR_BAD_INTEGRITY,
            "authenticator does not decrypt",
        ))
    };
    if ap.authenticator.etype != session_key.etype().id() {
        return Err(bad_auth());
    }
    let plain = session_key
        .decrypt(key_usage::TGS_REQ_AUTH, &ap.authenticator.cipher)
        .map_err(|_| bad_auth())?;
    let authenticator: Authenticator = decode_der(&plain).map_err(|_| bad_auth())?;
    if authenticator.authenticator_vno != PVNO {
        return Err(with_client(Rejection::new(
            ErrorCode::KRB_AP_ERR_BADVERSION,
            "authenticator version must be 5",
        )));
    }
    // §3.2.3: the authenticator's client must be the ticket's. Compare the
    // components exactly (PrincipalName's PartialEq ignores case).
    if authenticator.crealm != ticket.crealm
        || authenticator.cname.name_string != ticket.cname.name_string
    {
        return Err(with_client(Rejection::new(
            ErrorCode::KRB_AP_ERR_BADMATCH,
            "authenticator client differs from ticket",
        )));
    }
    let ctime = from_kerberos_time_usec(&authenticator.ctime, authenticator.cusec);
    if !within(ctime, now, kdc.config.max_skew) {
        return Err(with_client(Rejection::new(
            ErrorCode::KRB_AP_ERR_SKEW,
            "clock skew too great",
        )));
    }
    // §3.3.2 / §7.5.1 usage 6: the keyed checksum binds the request body to
    // the authenticator; an unkeyed one would let an attacker rewrite it.
    let Some(ck) = authenticator.cksum.as_ref() else {
        return Err(with_client(Rejection::new(
            ErrorCode::KRB_AP_ERR_INAPP_CKSUM,
            "authenticator has no request checksum",
        )));
    };
    if EncType::for_checksum_type(ck.cksumtype) != Some(session_key.etype()) {
        return Err(with_client(Rejection::new(
            ErrorCode::KRB_AP_ERR_INAPP_CKSUM,
            "checksum type does not match the session key",
        )));
    }
    if session_key
        .verify_checksum(
            key_usage::TGS_REQ_AUTH_CKSUM,
            ck.cksumtype,
            body,
            &ck.checksum,
        )
        .is_err()
    {
        return Err(with_client(Rejection::new(
            ErrorCode::KRB_AP_ERR_MODIFIED,
            "request body checksum mismatch",
        )));
    }
    let subkey = match &authenticator.subkey {
        None => None,
        Some(k) => Some(Key::from_wire(k.keytype, &k.keyvalue).map_err(|_| {
            with_client(Rejection::new(
                ErrorCode::KRB_AP_ERR_BAD_INTEGRITY,
                "authenticator subkey unusable",
            ))
        })?),
    };

    // §3.2.3 tuple plus the authenticator's integrity tag (`replay` module
    // docs): two genuine TGS-REQs made in the same microsecond both pass.
    let key = ReplayKey::for_authenticator(
        unix_seconds(&authenticator.ctime),
        u32::try_from(authenticator.cusec).unwrap_or(0),
        format!("{}@{}", ticket.cname.name_string.join("/"), ticket.crealm),
        format!("{}@{}", t.sname.name_string.join("/"), realm),
        &ap.authenticator,
    );
    match replay.check_and_insert(key, unix_secs(now)) {
        ReplayVerdict::Fresh => {}
        ReplayVerdict::Replay => {
            return Err(with_client(Rejection::new(
                ErrorCode::KRB_AP_ERR_REPEAT,
                "request is a replay",
            )));
        }
        ReplayVerdict::Full => {
            // §3.2.3: a server that cannot remember every authenticator must
            // refuse; SVC_UNAVAILABLE makes MIT clients try another KDC.
            return Err(with_client(Rejection::new(
                ErrorCode::KDC_ERR_SVC_UNAVAILABLE,
                "replay cache full",
            )));
        }
    }

    if ticket.flags.flags & tf::INVALID != 0 {
        return Err(with_client(Rejection::new(
            ErrorCode::KRB_AP_ERR_TKT_NYV,
            "ticket is marked invalid",
        )));
    }
    let skew = i64::try_from(kdc.config.max_skew.as_secs()).unwrap_or(i64::MAX);
    let now_s = unix_secs(now);
    let start = ticket
        .starttime
        .as_ref()
        .map_or_else(|| unix_seconds(&ticket.authtime), unix_seconds);
    if start > now_s.saturating_add(skew) {
        return Err(with_client(Rejection::new(
            ErrorCode::KRB_AP_ERR_TKT_NYV,
            "ticket not yet valid",
        )));
    }
    if unix_seconds(&ticket.endtime) < now_s.saturating_sub(skew) {
        return Err(with_client(Rejection::new(
            ErrorCode::KRB_AP_ERR_TKT_EXPIRED,
            "ticket expired",
        )));
    }
    Ok(Verified {
        ticket,
        ticket_server,
        authenticator,
        session_key,
        subkey,
    })
}
