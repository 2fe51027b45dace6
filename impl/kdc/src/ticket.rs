//! Building, sealing and opening tickets (RFC 4120 §5.3).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use kerbside_crypto::Key;
use kerbside_wire::krb::asn1::{
    EncTicketPart, EncryptedData, EncryptionKey, KerberosTime, PrincipalName, Ticket,
};
use kerbside_wire::krb::constants::key_usage;
use kerbside_wire::time::to_kerberos_time;
use rand_core::RngCore;

use crate::lifetime::Times;
use crate::store::LongTermKey;

/// A KerberosTime from Unix seconds.
pub fn kt(secs: i64) -> KerberosTime {
    let t = if secs >= 0 {
        UNIX_EPOCH.checked_add(Duration::from_secs(secs.unsigned_abs()))
    } else {
        UNIX_EPOCH.checked_sub(Duration::from_secs(secs.unsigned_abs()))
    };
    to_kerberos_time(t.unwrap_or(UNIX_EPOCH))
}

/// Unix seconds of a `SystemTime` (floor), saturating.
pub fn unix_secs(t: SystemTime) -> i64 {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
        Err(e) => {
            let d = e.duration();
            let s = i64::try_from(d.as_secs()).unwrap_or(i64::MAX);
            if d.subsec_nanos() == 0 { -s } else { -s - 1 }
        }
    }
}

/// `EncryptionKey` for a key.
pub fn encryption_key(key: &Key) -> EncryptionKey {
    EncryptionKey::new(key.etype().id(), key.bytes().to_vec())
}

/// The RFC 4120 §5.3 times fields of a ticket or reply: `starttime` is left
/// out when it equals `authtime`, as MIT does (§5.3: "if absent, authtime").
pub fn time_fields(
    t: &Times,
) -> (
    KerberosTime,
    Option<KerberosTime>,
    KerberosTime,
    Option<KerberosTime>,
) {
    let start = (t.starttime != t.authtime).then(|| kt(t.starttime));
    (kt(t.authtime), start, kt(t.endtime), t.renew_till.map(kt))
}

/// Encrypts `part` with the service key (usage 2) into a Ticket for
/// `realm`/`sname`.
pub fn seal(
    part: &EncTicketPart,
    service_key: &LongTermKey<'_>,
    kvno: u32,
    realm: &str,
    sname: PrincipalName,
    rng: &mut dyn RngCore,
) -> Ticket {
    let plain = crate::encode::encode_enc_ticket_part(part);
    let cipher = service_key
        .usage(key_usage::KDC_REP_TICKET)
        .encrypt(&plain, rng);
    Ticket::new(
        realm.to_owned(),
        sname,
        EncryptedData::new(service_key.etype().id(), Some(kvno), cipher),
    )
}

/// The times of a decrypted ticket, in seconds.
pub fn times_of(part: &EncTicketPart) -> Times {
    let authtime = kerbside_wire::time::unix_seconds(&part.authtime);
    Times {
        authtime,
        starttime: part
            .starttime
            .as_ref()
            .map_or(authtime, kerbside_wire::time::unix_seconds),
        endtime: kerbside_wire::time::unix_seconds(&part.endtime),
        renew_till: part
            .renew_till
            .as_ref()
            .map(kerbside_wire::time::unix_seconds),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seconds_round_trip() {
        assert_eq!(
            kerbside_wire::time::unix_seconds(&kt(1_790_000_000)),
            1_790_000_000
        );
        assert_eq!(unix_secs(UNIX_EPOCH + Duration::from_millis(1500)), 1);
        assert_eq!(unix_secs(UNIX_EPOCH - Duration::from_millis(1500)), -2);
    }
}
