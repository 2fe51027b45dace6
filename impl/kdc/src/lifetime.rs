//! Ticket times (RFC 4120 §3.1.3 for AS, §3.3.3 for TGS and renewal).
//!
//! All arithmetic is in whole Unix seconds, the resolution of KerberosTime.
//! A requested `till`/`rtime` of 19700101000000Z (0) means "as long as
//! policy allows" (RFC 4120 §5.4.1).

use std::time::Duration;

use crate::codes::ErrorCode;
use crate::reject::{Checked, Rejection};

/// The validity window of a ticket about to be issued.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Times {
    /// `authtime`.
    pub authtime: i64,
    /// `starttime` (always the issue time: kerbside does not postdate).
    pub starttime: i64,
    /// `endtime`.
    pub endtime: i64,
    /// `renew-till`, when the ticket is renewable.
    pub renew_till: Option<i64>,
}

/// What the request asked for, in seconds.
#[derive(Clone, Copy, Debug)]
pub struct Requested {
    /// `till` (0 = unlimited).
    pub till: i64,
    /// `rtime` (None = absent, 0 = unlimited).
    pub rtime: Option<i64>,
    /// RENEWABLE option.
    pub renewable: bool,
    /// RENEWABLE-OK option.
    pub renewable_ok: bool,
}

/// Upper bounds from the policy and, in TGS, from the TGT.
#[derive(Clone, Copy, Debug)]
pub struct Bounds {
    /// Policy's maximum lifetime.
    pub max_lifetime: Duration,
    /// Policy's maximum renewable life (zero: no renewable tickets).
    pub max_renewable: Duration,
    /// The TGT's endtime (TGS only).
    pub tgt_endtime: Option<i64>,
    /// The TGT's renew-till; `Some(None)` means the TGT is not renewable
    /// (TGS only).
    pub tgt_renew_till: Option<Option<i64>>,
}

fn secs(d: Duration) -> i64 {
    i64::try_from(d.as_secs()).unwrap_or(i64::MAX)
}

fn unlimited(t: i64) -> i64 {
    if t == 0 { i64::MAX } else { t }
}

/// Computes the times of a new ticket starting `now` (§3.1.3 / §3.3.3).
pub fn new_ticket(now: i64, authtime: i64, req: Requested, b: Bounds) -> Checked<Times> {
    let till = unlimited(req.till);
    if till <= now {
        // §3.1.3: a requested end before the start is never valid.
        return Err(Rejection::new(
            ErrorCode::KDC_ERR_NEVER_VALID,
            "requested end time is in the past",
        ));
    }
    let mut endtime = till.min(now.saturating_add(secs(b.max_lifetime)));
    if let Some(t) = b.tgt_endtime {
        // §3.3.3: never beyond the TGT.
        endtime = endtime.min(t);
    }
    // §3.1.3: RENEWABLE-OK turns a too-long request into a renewable ticket.
    let wants_renewable = req.renewable || (req.renewable_ok && till > endtime);
    let mut renew_till = None;
    let tgt_allows = !matches!(b.tgt_renew_till, Some(None));
    if wants_renewable && tgt_allows && !b.max_renewable.is_zero() {
        let asked = if req.renewable {
            unlimited(req.rtime.unwrap_or(0))
        } else {
            till
        };
        let mut rt = asked.min(now.saturating_add(secs(b.max_renewable)));
        if let Some(Some(t)) = b.tgt_renew_till {
            rt = rt.min(t);
        }
        // A renew-till at or before the end adds nothing (MIT clears the flag too).
        if rt > endtime {
            renew_till = Some(rt);
        }
    }
    Ok(Times {
        authtime,
        starttime: now,
        endtime,
        renew_till,
    })
}

/// Times of a renewed ticket (§3.3.3.1): a new start, the same lifetime as
/// the old ticket, never past its renew-till.
pub fn renewed(now: i64, old: &Times) -> Checked<Times> {
    let Some(renew_till) = old.renew_till else {
        return Err(Rejection::new(
            ErrorCode::KDC_ERR_BADOPTION,
            "ticket is not renewable",
        ));
    };
    if renew_till <= now {
        return Err(Rejection::new(
            ErrorCode::KRB_AP_ERR_TKT_EXPIRED,
            "renewable life has ended",
        ));
    }
    let life = old.endtime.saturating_sub(old.starttime).max(0);
    Ok(Times {
        authtime: old.authtime,
        starttime: now,
        endtime: now.saturating_add(life).min(renew_till),
        renew_till: Some(renew_till),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const H: i64 = 3600;

    fn bounds() -> Bounds {
        Bounds {
            max_lifetime: Duration::from_secs(10 * 3600),
            max_renewable: Duration::from_secs(7 * 86_400),
            tgt_endtime: None,
            tgt_renew_till: None,
        }
    }

    fn req(till: i64) -> Requested {
        Requested {
            till,
            rtime: None,
            renewable: false,
            renewable_ok: false,
        }
    }

    #[test]
    fn lifetime_is_capped_by_policy_and_request() {
        let t = new_ticket(1000, 1000, req(1000 + 24 * H), bounds()).unwrap();
        assert_eq!(
            (t.starttime, t.endtime, t.renew_till),
            (1000, 1000 + 10 * H, None)
        );
        let t = new_ticket(1000, 1000, req(1000 + H), bounds()).unwrap();
        assert_eq!(t.endtime, 1000 + H);
        let t = new_ticket(1000, 1000, req(0), bounds()).unwrap();
        assert_eq!(t.endtime, 1000 + 10 * H);
    }

    #[test]
    fn past_till_is_never_valid() {
        let e = new_ticket(1000, 1000, req(999), bounds()).unwrap_err();
        assert_eq!(e.code, ErrorCode::KDC_ERR_NEVER_VALID);
    }

    #[test]
    fn renewable_requests() {
        // kinit -r 2d
        let r = Requested {
            till: 1000 + 10 * H,
            rtime: Some(1000 + 48 * H),
            renewable: true,
            renewable_ok: false,
        };
        let t = new_ticket(1000, 1000, r, bounds()).unwrap();
        assert_eq!(t.renew_till, Some(1000 + 48 * H));
        // rtime beyond policy is capped at 7 days
        let r = Requested {
            rtime: Some(0),
            ..r
        };
        assert_eq!(
            new_ticket(1000, 1000, r, bounds()).unwrap().renew_till,
            Some(1000 + 7 * 86_400)
        );
        // RENEWABLE-OK with a too-long till
        let r = Requested {
            till: 1000 + 24 * H,
            rtime: None,
            renewable: false,
            renewable_ok: true,
        };
        assert_eq!(
            new_ticket(1000, 1000, r, bounds()).unwrap().renew_till,
            Some(1000 + 24 * H)
        );
        // policy forbids renewable
        let b = Bounds {
            max_renewable: Duration::ZERO,
            ..bounds()
        };
        let r = Requested {
            renewable: true,
            rtime: Some(0),
            ..req(0)
        };
        assert_eq!(new_ticket(1000, 1000, r, b).unwrap().renew_till, None);
    }

    #[test]
    fn tgs_times_never_exceed_the_tgt() {
        let b = Bounds {
            tgt_endtime: Some(1000 + 2 * H),
            tgt_renew_till: Some(None),
            ..bounds()
        };
        let r = Requested {
            renewable: true,
            rtime: Some(0),
            ..req(0)
        };
        let t = new_ticket(1000, 500, r, b).unwrap();
        assert_eq!(
            (t.authtime, t.endtime, t.renew_till),
            (500, 1000 + 2 * H, None)
        );
        let b = Bounds {
            tgt_renew_till: Some(Some(1000 + 5 * H)),
            ..b
        };
        assert_eq!(
            new_ticket(1000, 500, r, b).unwrap().renew_till,
            Some(1000 + 5 * H)
        );
    }

    #[test]
    fn renewal_keeps_lifetime_within_renew_till() {
        let old = Times {
            authtime: 0,
            starttime: 0,
            endtime: 10 * H,
            renew_till: Some(15 * H),
        };
        let t = renewed(9 * H, &old).unwrap();
        assert_eq!(
            (t.authtime, t.starttime, t.endtime, t.renew_till),
            (0, 9 * H, 15 * H, Some(15 * H))
        );
        let t = renewed(H, &old).unwrap();
        assert_eq!(t.endtime, 11 * H);
        assert_eq!(
            renewed(15 * H, &old).unwrap_err().code,
            ErrorCode::KRB_AP_ERR_TKT_EXPIRED
        );
        let not = Times {
            renew_till: None,
            ..old
        };
        assert_eq!(
            renewed(H, &not).unwrap_err().code,
            ErrorCode::KDC_ERR_BADOPTION
        );
    }
}
