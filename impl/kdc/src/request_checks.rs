//! Checks the AS and TGS exchanges make alike on a request body and on the
//! service's keys (RFC 4120 §3.1.3 and §3.3.3 ask the same of both). Each
//! returns a [`Rejection`] without the client name: the exchange adds it
//! (from the request in AS, from the TGT in TGS).

use std::time::{Duration, SystemTime};

use kerbside_crypto::EncType;
use kerbside_wire::krb::asn1::{KdcReqBody, PrincipalName};
use kerbside_wire::krb::constants::kdc_options as opt;

use crate::codes::ErrorCode;
use crate::etype;
use crate::lifetime::Requested;
use crate::reject::Rejection;
use crate::store::{EntryRef, LongTermKey};

/// The service the request names: KDC_ERR_S_PRINCIPAL_UNKNOWN when the
/// sname is absent or has no components.
pub(crate) fn server_name(body: &KdcReqBody) -> Result<&PrincipalName, Rejection> {
    body.sname
        .as_ref()
        .filter(|s| !s.name_string.is_empty())
        .ok_or_else(|| {
            Rejection::new(
                ErrorCode::KDC_ERR_S_PRINCIPAL_UNKNOWN,
                "no server name in request",
            )
        })
}

/// RFC 4120 §3.1.3 / §3.3.3: the POSTDATED option, or a start time beyond
/// the skew window (a postdating request in all but name), gets
/// KDC_ERR_CANNOT_POSTDATE: kerbside issues no postdated tickets.
pub(crate) fn refuse_postdating(
    body: &KdcReqBody,
    max_skew: Duration,
    now: SystemTime,
) -> Result<(), Rejection> {
    let latest_start = now.checked_add(max_skew).unwrap_or(now);
    let starts_later = body
        .from
        .as_ref()
        .is_some_and(|f| kerbside_wire::time::from_kerberos_time(f) > latest_start);
    if body.kdc_options.flags & opt::POSTDATED != 0 || starts_later {
        return Err(Rejection::new(
            ErrorCode::KDC_ERR_CANNOT_POSTDATE,
            "postdated tickets are not issued",
        ));
    }
    Ok(())
}

/// The session key's enctype (the client's first choice the service
/// supports) and the service key that seals the ticket; KDC_ERR_ETYPE_NOSUPP
/// when either is missing.
pub(crate) fn service_keys<'a>(
    body: &KdcReqBody,
    enabled: &[EncType],
    server: &EntryRef<'a>,
) -> Result<(EncType, LongTermKey<'a>), Rejection> {
    let session = etype::session_etype(&body.etypes, enabled, server).ok_or_else(|| {
        Rejection::new(
            ErrorCode::KDC_ERR_ETYPE_NOSUPP,
            "no session enctype the service supports",
        )
    })?;
    let ticket = etype::ticket_key(enabled, server).ok_or_else(|| {
        Rejection::new(
            ErrorCode::KDC_ERR_ETYPE_NOSUPP,
            "service has no key of an enabled enctype",
        )
    })?;
    Ok((session, ticket))
}

/// The ticket times the request asks for (RFC 4120 §5.4.1: till, rtime,
/// RENEWABLE, RENEWABLE-OK).
pub(crate) fn requested_times(body: &KdcReqBody) -> Requested {
    let options = body.kdc_options.flags;
    Requested {
        till: kerbside_wire::time::unix_seconds(&body.till),
        rtime: body.rtime.as_ref().map(kerbside_wire::time::unix_seconds),
        renewable: options & opt::RENEWABLE != 0,
        renewable_ok: options & opt::RENEWABLE_OK != 0,
    }
}
