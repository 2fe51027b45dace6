//! Enctype negotiation (RFC 4120 §3.1.3, §3.3.3).
//!
//! The client lists enctypes "in preference order"; the KDC honours that
//! order, restricted to what it has enabled and what the principal in
//! question has a key for. Unknown numbers in the client's list (DES, RC4,
//! camellia...) are skipped, not errors: MIT's kinit lists 8 enctypes.

use kerbside_crypto::EncType;

use crate::store::{EntryRef, LongTermKey, PrincipalEntry};

/// The client's key to encrypt the reply with: the first enctype in the
/// client's list that the KDC enables and the client has a key for.
pub fn reply_key<'a>(
    client_etypes: &[i32],
    enabled: &[EncType],
    client: &EntryRef<'a>,
) -> Option<LongTermKey<'a>> {
    client.first_key(
        client_etypes
            .iter()
            .filter_map(|id| EncType::from_id(*id))
            .filter(|e| enabled.contains(e)),
    )
}

/// The session key's enctype: the first in the client's list that the KDC
/// enables and the service has a key for (the service has to be able to use
/// the session key; MIT picks the same way).
pub fn session_etype(
    client_etypes: &[i32],
    enabled: &[EncType],
    server: &PrincipalEntry,
) -> Option<EncType> {
    client_etypes
        .iter()
        .filter_map(|id| EncType::from_id(*id))
        .find(|e| enabled.contains(e) && server.key(*e).is_some())
}

/// The service key that encrypts the ticket: the service's key of the
/// KDC's most preferred enabled enctype (the client never sees it, so the
/// KDC chooses).
pub fn ticket_key<'a>(enabled: &[EncType], server: &EntryRef<'a>) -> Option<LongTermKey<'a>> {
    server.first_key(enabled.iter().copied())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::name::Principal;
    use crate::store::{PrincipalKind, PrincipalStore};
    use kerbside_crypto::Key;

    fn store(etypes: &[EncType]) -> PrincipalStore {
        let mut s = PrincipalStore::new("R");
        s.upsert(entry(etypes));
        s
    }

    fn entry(etypes: &[EncType]) -> PrincipalEntry {
        PrincipalEntry {
            principal: Principal::parse("x", "R").unwrap(),
            kvno: 1,
            keys: etypes
                .iter()
                .map(|e| Key::new(*e, vec![7u8; e.key_len()]).unwrap())
                .collect(),
            salt: b"Rx".to_vec(),
            requires_preauth: false,
            disabled: false,
            expires: None,
            kind: PrincipalKind::User,
        }
    }

    const ALL: [EncType; 4] = [
        EncType::Aes256CtsHmacSha196,
        EncType::Aes128CtsHmacSha196,
        EncType::Aes256CtsHmacSha384192,
        EncType::Aes128CtsHmacSha256128,
    ];

    #[test]
    fn client_order_wins_within_what_is_available() {
        let s = store(&ALL);
        let e = s.lookup(&["x".to_owned()]).unwrap();
        // MIT kinit's list: 18 17 20 19 16 23 25 26
        assert_eq!(
            reply_key(&[18, 17, 20, 19, 16, 23, 25, 26], &ALL, &e)
                .unwrap()
                .etype()
                .id(),
            18
        );
        assert_eq!(reply_key(&[16, 20, 18], &ALL, &e).unwrap().etype().id(), 20);
        assert_eq!(session_etype(&[19, 18], &ALL, &e).unwrap().id(), 19);
        // KDC disabled 20: skipped even though the client prefers it.
        assert_eq!(
            reply_key(&[20, 17], &ALL[..2], &e).unwrap().etype().id(),
            17
        );
    }

    #[test]
    fn nothing_in_common_is_none() {
        let s = store(&[EncType::Aes128CtsHmacSha196]);
        let e = s.lookup(&["x".to_owned()]).unwrap();
        assert!(reply_key(&[18, 23, 3], &ALL, &e).is_none());
        assert!(session_etype(&[], &ALL, &e).is_none());
        assert!(reply_key(&[17], &[EncType::Aes256CtsHmacSha196], &e).is_none());
    }

    #[test]
    fn ticket_key_follows_kdc_preference() {
        let s = store(&[
            EncType::Aes128CtsHmacSha256128,
            EncType::Aes128CtsHmacSha196,
        ]);
        let e = s.lookup(&["x".to_owned()]).unwrap();
        assert_eq!(ticket_key(&ALL, &e).unwrap().etype().id(), 17);
    }
}
