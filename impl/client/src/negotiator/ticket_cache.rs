//! The ticket cache: TGTs and service tickets kept between logons, judged
//! against the host's Kerberos clock with the allowed skew.
//!
//! RFC 4120 §3.2.3: a server rejects a ticket only when its end time has
//! passed "by more than the allowable clock skew", and a KDC whose clock is
//! ahead issues tickets that start in our future. So a ticket is usable from
//! `start - skew` until `end`; we stop using it `refresh_before` ahead of its
//! end so it does not expire between the cache lookup and the server's
//! check. A renewable TGT inside that margin is renewed (RFC 4120 §3.3.1,
//! KDC option RENEW) rather than replaced: renewal needs no password, which
//! is the point of a cached-TGT logon.

use std::collections::BTreeMap;
use std::time::SystemTime;

use crate::krb::{Credentials, Principal};

use super::policy::TicketPolicy;

/// What the cache has for a (client, service) pair.
#[derive(Clone, Debug)]
pub enum Lookup {
    /// A ticket good for use now.
    Fresh(Credentials),
    /// A ticket still valid but about to expire (or not yet started within
    /// skew): replace it, renewing it when `renewable`.
    Refresh {
        /// The ticket.
        creds: Credentials,
        /// The ticket can be renewed at this time.
        renewable: bool,
    },
    /// Nothing usable.
    Missing,
}

/// TGTs and service tickets by (client, server).
#[derive(Clone, Debug, Default)]
pub struct TicketCache {
    tickets: BTreeMap<(Principal, Principal), Credentials>,
}

impl TicketCache {
    /// An empty cache.
    pub fn new() -> Self {
        Self::default()
    }

    /// Keeps `creds`, replacing any ticket for the same client and server.
    pub fn store(&mut self, creds: Credentials) {
        self.tickets
            .insert((creds.client.clone(), creds.server.clone()), creds);
    }

    /// Forgets the ticket for `client` and `server`.
    pub fn remove(&mut self, client: &Principal, server: &Principal) {
        self.tickets.remove(&(client.clone(), server.clone()));
    }

    /// Judges the ticket for `client` to `server` at `now`.
    pub fn lookup(
        &self,
        client: &Principal,
        server: &Principal,
        now: SystemTime,
        policy: &TicketPolicy,
    ) -> Lookup {
        let Some(creds) = self.tickets.get(&(client.clone(), server.clone())) else {
            return Lookup::Missing;
        };
        judge(creds, now, policy)
    }

    /// The TGT of `client`'s realm.
    pub fn tgt(&self, client: &Principal, now: SystemTime, policy: &TicketPolicy) -> Lookup {
        self.lookup(client, &Principal::krbtgt(&client.realm), now, policy)
    }

    /// Drops tickets that have ended at `now`.
    pub fn purge(&mut self, now: SystemTime) {
        self.tickets.retain(|_, c| now < c.end_time);
    }

    /// Number of tickets held.
    pub fn len(&self) -> usize {
        self.tickets.len()
    }

    /// Whether the cache is empty.
    pub fn is_empty(&self) -> bool {
        self.tickets.is_empty()
    }
}

/// One ticket against the clock.
fn judge(creds: &Credentials, now: SystemTime, policy: &TicketPolicy) -> Lookup {
    if now >= creds.end_time {
        return Lookup::Missing;
    }
    // Started, allowing for a KDC clock ahead of ours by up to the skew.
    let started = creds
        .start_time
        .checked_sub(policy.skew)
        .is_none_or(|earliest| now >= earliest);
    let margin_ok = now
        .checked_add(policy.refresh_before)
        .is_some_and(|t| t < creds.end_time);
    if started && margin_ok {
        Lookup::Fresh(creds.clone())
    } else {
        Lookup::Refresh {
            creds: creds.clone(),
            renewable: creds.can_renew_at(now),
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use std::time::Duration;

    use kerbside_crypto::{EncType, Key};
    use kerbside_wire::krb::asn1::Ticket;
    use kerbside_wire::krb::constants::ticket_flags as tf;

    use super::*;

    pub(crate) const T0: u64 = 1_750_000_000;

    pub(crate) fn at(secs: u64) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(T0 + secs)
    }

    pub(crate) fn creds(
        server: Principal,
        start: u64,
        end: u64,
        renew_till: Option<u64>,
    ) -> Credentials {
        Credentials {
            client: Principal::user("alice", "CORP.EXAMPLE"),
            server,
            ticket: Ticket::default(),
            session_key: Key::new(EncType::Aes256CtsHmacSha196, vec![7; 32]).unwrap(),
            flags: if renew_till.is_some() {
                tf::RENEWABLE
            } else {
                0
            },
            auth_time: at(start),
            start_time: at(start),
            end_time: at(end),
            renew_till: renew_till.map(at),
        }
    }

    fn alice() -> Principal {
        Principal::user("alice", "CORP.EXAMPLE")
    }

    fn app() -> Principal {
        Principal::service("host", "app.corp.example", "CORP.EXAMPLE")
    }

    #[test]
    fn lifetime_margin_and_expiry() {
        let p = TicketPolicy::default(); // skew 5 min, refresh 5 min
        let mut c = TicketCache::new();
        c.store(creds(app(), 0, 3600, None));
        assert!(matches!(
            c.lookup(&alice(), &app(), at(10), &p),
            Lookup::Fresh(_)
        ));
        assert!(matches!(
            c.lookup(&alice(), &app(), at(3600 - 301), &p),
            Lookup::Fresh(_)
        ));
        // Inside the refresh margin: still valid, but to be replaced.
        assert!(matches!(
            c.lookup(&alice(), &app(), at(3600 - 300), &p),
            Lookup::Refresh {
                renewable: false,
                ..
            }
        ));
        assert!(matches!(
            c.lookup(&alice(), &app(), at(3600), &p),
            Lookup::Missing
        ));
        assert!(matches!(
            c.lookup(&alice(), &Principal::krbtgt("CORP.EXAMPLE"), at(10), &p),
            Lookup::Missing
        ));
    }

    #[test]
    fn skew_admits_tickets_from_a_kdc_clock_ahead() {
        let p = TicketPolicy::default();
        let mut c = TicketCache::new();
        // KDC 4 minutes ahead: the ticket starts in our future.
        c.store(creds(app(), 240, 36000, None));
        assert!(matches!(
            c.lookup(&alice(), &app(), at(0), &p),
            Lookup::Fresh(_)
        ));
        // 6 minutes ahead: beyond the skew, not usable yet.
        c.store(creds(app(), 360, 36000, None));
        assert!(matches!(
            c.lookup(&alice(), &app(), at(0), &p),
            Lookup::Refresh { .. }
        ));
    }

    #[test]
    fn renewable_tgt_is_renewed_until_its_renew_till() {
        let p = TicketPolicy::default();
        let mut c = TicketCache::new();
        c.store(creds(
            Principal::krbtgt("CORP.EXAMPLE"),
            0,
            3600,
            Some(7200),
        ));
        assert!(matches!(c.tgt(&alice(), at(100), &p), Lookup::Fresh(_)));
        assert!(matches!(
            c.tgt(&alice(), at(3400), &p),
            Lookup::Refresh {
                renewable: true,
                ..
            }
        ));
        // Renewable life shorter than the ticket: cannot renew any more.
        c.store(creds(
            Principal::krbtgt("CORP.EXAMPLE"),
            0,
            3600,
            Some(3000),
        ));
        assert!(matches!(
            c.tgt(&alice(), at(3400), &p),
            Lookup::Refresh {
                renewable: false,
                ..
            }
        ));
    }

    #[test]
    fn store_replaces_and_purge_drops_ended() {
        let mut c = TicketCache::new();
        c.store(creds(app(), 0, 100, None));
        c.store(creds(app(), 0, 200, None));
        assert_eq!(c.len(), 1);
        c.store(creds(Principal::krbtgt("CORP.EXAMPLE"), 0, 50, None));
        c.purge(at(100));
        assert_eq!(c.len(), 1);
        c.remove(&alice(), &app());
        assert!(c.is_empty());
    }
}
