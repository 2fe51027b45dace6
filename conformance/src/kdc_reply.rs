//! Judging a KDC's answer against a vector's [`KdcExpected`]: the reply
//! class and error code first, then the content checks (METHOD-DATA hints,
//! the reply decrypting with the right key and echoing the nonce, enctypes,
//! ticket server, flags, lifetime). The same code grades our KDC in
//! `conform vectors` and any KDC in `conform kdc`.

use kerbside_crypto::EncType;
use kerbside_wire::krb::asn1::{EncKdcRepPart, EncryptedData, PaData, Ticket};
use kerbside_wire::krb::constants::{key_usage, padata_type, ticket_flags as tf};
use kerbside_wire::krb::{
    self, KrbMessage, PaValue, decode_enc_rep_part, decode_method_data, decode_padata,
};
use kerbside_wire::time::unix_seconds;

use crate::model::{KdcExpected, ReplyChecks, ReplyClass};
use crate::observe::{self, Evaluation};
use crate::realm::Realm;
use crate::recipe::Built;

/// Ticket flag names used in vectors (RFC 4120 §5.3 TicketFlags).
pub const FLAG_NAMES: [(&str, u32); 14] = [
    ("forwardable", tf::FORWARDABLE),
    ("forwarded", tf::FORWARDED),
    ("proxiable", tf::PROXIABLE),
    ("proxy", tf::PROXY),
    ("may-postdate", tf::MAY_POSTDATE),
    ("postdated", tf::POSTDATED),
    ("invalid", tf::INVALID),
    ("renewable", tf::RENEWABLE),
    ("initial", tf::INITIAL),
    ("pre-authent", tf::PRE_AUTHENT),
    ("hw-authent", tf::HW_AUTHENT),
    ("ok-as-delegate", tf::OK_AS_DELEGATE),
    ("enc-pa-rep", tf::ENC_PA_REP),
    ("anonymous", tf::ANONYMOUS),
];

/// The bit of a flag name.
pub fn flag_bit(name: &str) -> Option<u32> {
    FLAG_NAMES.iter().find(|(n, _)| *n == name).map(|(_, b)| *b)
}

/// The observation a [`KdcExpected`] describes (`krb-error 25`, `as-rep`).
pub fn expected_observation(e: &KdcExpected) -> String {
    match e.reply {
        ReplyClass::AsRep => "as-rep".to_owned(),
        ReplyClass::TgsRep => "tgs-rep".to_owned(),
        ReplyClass::NoReply => "no-reply".to_owned(),
        ReplyClass::KrbError => match e.error_code {
            Some(c) => format!("krb-error {c}"),
            None => "krb-error *".to_owned(),
        },
    }
}

/// Grades a reply. `realm` supplies client keys (AS-REP) and `{realm}` in
/// expected salts; `built` the nonce and the TGS reply key.
pub fn evaluate(
    expected: &KdcExpected,
    reply: Option<&[u8]>,
    realm: &Realm,
    built: &Built,
) -> Evaluation {
    let observed = observe::kdc_reply(reply);
    let want = expected_observation(expected);
    if !observe::matches(&want, &observed) {
        return Evaluation::fail_unless(
            observed.clone(),
            format!("expected {want}, got {observed}"),
            &expected.alternatives,
        );
    }
    let Some(bytes) = reply else {
        return Evaluation::pass(observed);
    };
    match run_checks(&expected.checks, bytes, realm, built) {
        Ok(()) => Evaluation::pass(observed),
        Err(why) => Evaluation::fail(observed, why),
    }
}

fn run_checks(c: &ReplyChecks, bytes: &[u8], realm: &Realm, built: &Built) -> Result<(), String> {
    if c.is_empty() {
        return Ok(());
    }
    let msg = krb::decode(bytes).map_err(|e| format!("reply does not decode: {e}"))?;
    match msg {
        KrbMessage::KrbError(e) => {
            let padata = match &e.e_data {
                Some(d) => decode_method_data(d)
                    .map_err(|err| format!("e-data is not METHOD-DATA: {err}"))?,
                None => Vec::new(),
            };
            check_method_data(c, &padata, realm)
        }
        KrbMessage::AsRep(rep) => {
            let padata = rep.padata.clone().unwrap_or_default();
            if !c.etype_info2.is_empty() {
                check_etype_info2(c, &padata, realm)?;
            }
            let client = built.client.as_deref().unwrap_or_default();
            let key = realm
                .key(client, rep.enc_part.etype)
                .map_err(|e| format!("no client key for the reply: {e}"))?;
            check_rep(
                c,
                &rep.enc_part,
                &rep.ticket,
                &key,
                key_usage::AS_REP_ENC_PART,
                built,
                realm,
            )
        }
        KrbMessage::TgsRep(rep) => {
            let (key, usage) = built
                .reply_key
                .clone()
                .ok_or("no reply key for a TGS-REP")?;
            check_rep(c, &rep.enc_part, &rep.ticket, &key, usage, built, realm)
        }
        other => Err(format!("unexpected {}", other.name())),
    }
}

fn check_method_data(c: &ReplyChecks, padata: &[PaData], realm: &Realm) -> Result<(), String> {
    let types: Vec<i32> = padata.iter().map(|p| p.padata_type).collect();
    for want in &c.e_data_padata {
        if !types.contains(want) {
            return Err(format!(
                "METHOD-DATA lacks padata type {want} (has {types:?})"
            ));
        }
    }
    check_etype_info2(c, padata, realm)
}

fn check_etype_info2(c: &ReplyChecks, padata: &[PaData], realm: &Realm) -> Result<(), String> {
    if c.etype_info2.is_empty() {
        return Ok(());
    }
    let entries = padata
        .iter()
        .filter(|p| p.padata_type == padata_type::PA_ETYPE_INFO2)
        .find_map(|p| match decode_padata(p) {
            Ok(PaValue::EtypeInfo2(list)) => Some(list),
            _ => None,
        })
        .ok_or("no decodable PA-ETYPE-INFO2")?;
    for want in &c.etype_info2 {
        let salt = want.salt.replace("{realm}", &realm.name);
        let found = entries
            .iter()
            .any(|e| e.etype == want.etype && e.salt.as_deref() == Some(salt.as_str()));
        if !found {
            let have: Vec<String> = entries
                .iter()
                .map(|e| format!("{}:{}", e.etype, e.salt.as_deref().unwrap_or("-")))
                .collect();
            return Err(format!(
                "PA-ETYPE-INFO2 lacks etype {} salt {salt:?} (has {have:?})",
                want.etype
            ));
        }
    }
    Ok(())
}

fn check_rep(
    c: &ReplyChecks,
    enc: &EncryptedData,
    ticket: &Ticket,
    key: &kerbside_crypto::Key,
    usage: u32,
    built: &Built,
    realm: &Realm,
) -> Result<(), String> {
    if let Some(want) = c.reply_etype
        && enc.etype != want
    {
        return Err(format!(
            "reply enc-part etype {} (expected {want})",
            enc.etype
        ));
    }
    if let Some(want) = &c.ticket_server {
        let want = want.replace("{realm}", &realm.name);
        let got = ticket.sname.name_string.join("/");
        if got != want {
            return Err(format!("ticket is for {got} (expected {want})"));
        }
    }
    let needs_part = c.decrypts
        || c.session_etype.is_some()
        || !c.flags_set.is_empty()
        || !c.flags_clear.is_empty()
        || c.max_lifetime_seconds.is_some();
    if !needs_part {
        return Ok(());
    }
    if EncType::from_id(enc.etype).is_none() {
        return Err(format!("reply enc-part etype {} is unsupported", enc.etype));
    }
    let plain = key
        .decrypt(usage, &enc.cipher)
        .map_err(|e| format!("reply enc-part does not decrypt (usage {usage}): {e}"))?;
    let part = decode_enc_rep_part(&plain)
        .map_err(|e| format!("decrypted enc-part does not decode: {e}"))?
        .part;
    if part.nonce != built.nonce {
        return Err(format!(
            "reply nonce {} does not echo the request's {}",
            part.nonce, built.nonce
        ));
    }
    check_part(c, &part)
}

fn check_part(c: &ReplyChecks, part: &EncKdcRepPart) -> Result<(), String> {
    if let Some(want) = c.session_etype
        && part.key.keytype != want
    {
        return Err(format!(
            "session key etype {} (expected {want})",
            part.key.keytype
        ));
    }
    let flags = part.flags.flags;
    for name in &c.flags_set {
        let bit = flag_bit(name).ok_or_else(|| format!("unknown flag name {name}"))?;
        if flags & bit == 0 {
            return Err(format!("ticket flag {name} not set (flags 0x{flags:08x})"));
        }
    }
    for name in &c.flags_clear {
        let bit = flag_bit(name).ok_or_else(|| format!("unknown flag name {name}"))?;
        if flags & bit != 0 {
            return Err(format!("ticket flag {name} set (flags 0x{flags:08x})"));
        }
    }
    if let Some(max) = c.max_lifetime_seconds {
        let start = unix_seconds(part.starttime.as_ref().unwrap_or(&part.authtime));
        let life = unix_seconds(&part.endtime) - start;
        if life > i64::try_from(max).unwrap_or(i64::MAX) {
            return Err(format!("ticket lifetime {life} s exceeds {max} s"));
        }
    }
    Ok(())
}
