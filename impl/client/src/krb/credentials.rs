//! [`Credentials`]: a ticket and what the client knows about it.

use std::time::SystemTime;

use kerbside_crypto::Key;
use kerbside_wire::krb::asn1::{Asn1Object, EncKdcRepPart, Ticket};
use kerbside_wire::krb::constants::ticket_flags as tf;
use kerbside_wire::time::from_kerberos_time;

use super::principal::Principal;

/// A ticket with its session key, times and flags: the result of an AS or
/// TGS exchange, the input of the next TGS exchange or of an AP-REQ.
#[derive(Clone, Debug)]
pub struct Credentials {
    /// The client.
    pub client: Principal,
    /// The service the ticket is for.
    pub server: Principal,
    /// The ticket, opaque to the client.
    pub ticket: Ticket,
    /// The session key shared with the service.
    pub session_key: Key,
    /// TicketFlags (RFC 4120 §5.3) as the KDC reported them.
    pub flags: u32,
    /// When the client authenticated (initial ticket).
    pub auth_time: SystemTime,
    /// Start of validity.
    pub start_time: SystemTime,
    /// End of validity.
    pub end_time: SystemTime,
    /// End of the renewable life, when renewable.
    pub renew_till: Option<SystemTime>,
}

impl Credentials {
    /// Builds credentials from a decrypted KDC reply part.
    pub(crate) fn from_reply(
        client: Principal,
        ticket: Ticket,
        part: &EncKdcRepPart,
        session_key: Key,
    ) -> Self {
        let auth_time = from_kerberos_time(&part.authtime);
        Self {
            client,
            server: Principal::from_asn1(&part.sname, &part.srealm),
            ticket,
            session_key,
            flags: part.flags.flags,
            auth_time,
            start_time: part
                .starttime
                .as_ref()
                .map_or(auth_time, from_kerberos_time),
            end_time: from_kerberos_time(&part.endtime),
            renew_till: part.renew_till.as_ref().map(from_kerberos_time),
        }
    }

    /// The ticket's DER (for a ccache, a KRB-CRED, or an AP-REQ built by
    /// hand).
    pub fn ticket_der(&self) -> Vec<u8> {
        self.ticket.build()
    }

    /// True when `now` is inside [start, end).
    pub fn is_valid_at(&self, now: SystemTime) -> bool {
        now >= self.start_time && now < self.end_time
    }

    /// True when the ticket is renewable and its renewable life has not
    /// ended at `now`.
    pub fn can_renew_at(&self, now: SystemTime) -> bool {
        self.flags & tf::RENEWABLE != 0
            && self.renew_till.is_some_and(|r| now < r)
            && now < self.end_time
    }

    /// True for a TGT of the client's realm.
    pub fn is_tgt(&self) -> bool {
        self.server.is_tgs()
    }

    /// Whether a flag (a `ticket_flags` mask) is set.
    pub fn has_flag(&self, mask: u32) -> bool {
        self.flags & mask != 0
    }
}
