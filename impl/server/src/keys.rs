//! The service's long-term keys, looked up the way an AP-REQ names them:
//! realm, principal components, enctype and key version (RFC 4120 §3.2.3).

use kerbside_crypto::keytab::KeytabEntry;
use kerbside_crypto::{EncType, Key};
use kerbside_kdc::PrincipalEntry;

/// One key of one service principal.
#[derive(Debug, Clone)]
struct ServiceKey {
    realm: String,
    components: Vec<String>,
    kvno: u32,
    key: Key,
}

/// What a lookup found (or why not): the AP-REQ error codes of RFC 4120
/// §3.2.3 follow from it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyLookup<'a> {
    /// The key.
    Found(&'a Key),
    /// We hold no key for that principal at all (KRB_AP_ERR_NOT_US).
    UnknownPrincipal,
    /// The principal is ours but not at that key version
    /// (KRB_AP_ERR_BADKEYVER).
    WrongKvno,
    /// The principal and version are ours but not that enctype
    /// (KRB_AP_ERR_NOKEY).
    NoEnctype,
}

/// The keys an acceptor decrypts tickets with.
#[derive(Debug, Clone, Default)]
pub struct ServiceKeys {
    keys: Vec<ServiceKey>,
}

impl ServiceKeys {
    /// No keys (an NTLM-only server).
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a key.
    pub fn insert(&mut self, realm: &str, components: &[&str], kvno: u32, key: Key) {
        self.keys.push(ServiceKey {
            realm: realm.to_owned(),
            components: components.iter().map(|c| (*c).to_owned()).collect(),
            kvno,
            key,
        });
    }

    /// Every usable entry of a keytab (entries of enctypes this build does
    /// not implement are skipped, as MIT skips them).
    pub fn from_keytab(entries: &[KeytabEntry]) -> Self {
        let mut keys = Self::new();
        for e in entries {
            if let Ok(key) = e.key() {
                let comps: Vec<&str> = e.components.iter().map(String::as_str).collect();
                keys.insert(&e.realm, &comps, e.kvno, key);
            }
        }
        keys
    }

    /// The keys of a principal in a KDC's store (the simulation shares the
    /// realm's principal store with its application servers).
    pub fn from_principal(realm: &str, entry: &PrincipalEntry) -> Self {
        let mut keys = Self::new();
        let comps = entry.principal.component_strs();
        for k in &entry.keys {
            keys.insert(realm, &comps, entry.kvno, k.clone());
        }
        keys
    }

    /// Merges another set.
    pub fn extend(&mut self, other: ServiceKeys) {
        self.keys.extend(other.keys);
    }

    /// True when there is no key at all.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// The distinct principals, `a/b@REALM`.
    pub fn principals(&self) -> Vec<String> {
        let mut out: Vec<String> = self
            .keys
            .iter()
            .map(|k| format!("{}@{}", k.components.join("/"), k.realm))
            .collect();
        out.dedup();
        out
    }

    /// The first principal's realm and components (what a KRB-ERROR names
    /// when the request named nothing usable).
    pub fn default_principal(&self) -> Option<(&str, Vec<&str>)> {
        self.keys.first().map(|k| {
            (
                k.realm.as_str(),
                k.components.iter().map(String::as_str).collect(),
            )
        })
    }

    /// The key for `components@realm` with `etype` and, when the ticket
    /// names one, `kvno`; without a kvno the highest version wins (MIT's
    /// keytab rule). Realm comparison is exact, like MIT's.
    pub fn lookup(
        &self,
        realm: &str,
        components: &[String],
        etype: i32,
        kvno: Option<u32>,
    ) -> KeyLookup<'_> {
        let principal: Vec<&ServiceKey> = self
            .keys
            .iter()
            .filter(|k| k.realm == realm && k.components == components)
            .collect();
        if principal.is_empty() {
            return KeyLookup::UnknownPrincipal;
        }
        let versioned: Vec<&&ServiceKey> = principal
            .iter()
            .filter(|k| kvno.is_none_or(|v| k.kvno == v))
            .collect();
        if versioned.is_empty() {
            return KeyLookup::WrongKvno;
        }
        let Some(wanted) = EncType::from_id(etype) else {
            return KeyLookup::NoEnctype;
        };
        versioned
            .iter()
            .filter(|k| k.key.etype() == wanted)
            .max_by_key(|k| k.kvno)
            .map_or(KeyLookup::NoEnctype, |k| KeyLookup::Found(&k.key))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn comps(c: &[&str]) -> Vec<String> {
        c.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn lookup_distinguishes_the_three_failures() {
        let k17 = Key::new(EncType::Aes128CtsHmacSha196, vec![1; 16]).unwrap();
        let k18v2 = Key::new(EncType::Aes256CtsHmacSha196, vec![2; 32]).unwrap();
        let k18v3 = Key::new(EncType::Aes256CtsHmacSha196, vec![3; 32]).unwrap();
        let mut ks = ServiceKeys::new();
        ks.insert("LAB.TEST", &["host", "app"], 2, k17.clone());
        ks.insert("LAB.TEST", &["host", "app"], 2, k18v2.clone());
        ks.insert("LAB.TEST", &["host", "app"], 3, k18v3.clone());
        let c = comps(&["host", "app"]);
        assert_eq!(
            ks.lookup("LAB.TEST", &c, 18, Some(2)),
            KeyLookup::Found(&k18v2)
        );
        assert_eq!(
            ks.lookup("LAB.TEST", &c, 18, None),
            KeyLookup::Found(&k18v3)
        );
        assert_eq!(ks.lookup("LAB.TEST", &c, 17, None), KeyLookup::Found(&k17));
        assert_eq!(ks.lookup("LAB.TEST", &c, 17, Some(3)), KeyLookup::NoEnctype);
        assert_eq!(ks.lookup("LAB.TEST", &c, 18, Some(9)), KeyLookup::WrongKvno);
        assert_eq!(ks.lookup("LAB.TEST", &c, 99, None), KeyLookup::NoEnctype);
        assert_eq!(
            ks.lookup("OTHER.TEST", &c, 18, None),
            KeyLookup::UnknownPrincipal
        );
        assert_eq!(
            ks.lookup("LAB.TEST", &comps(&["cifs", "app"]), 18, None),
            KeyLookup::UnknownPrincipal
        );
        assert_eq!(ks.principals(), vec!["host/app@LAB.TEST".to_string()]);
    }

    #[test]
    fn keytab_entries_of_unknown_enctypes_are_skipped() {
        let k = Key::new(EncType::Aes256CtsHmacSha384192, vec![5; 32]).unwrap();
        let mut unknown = KeytabEntry::new("R", &["host", "a"], 3, 0, 1, &k);
        unknown.etype = 16; // des3: not implemented
        let good = KeytabEntry::new("R", &["host", "a"], 3, 0, 1, &k);
        let ks = ServiceKeys::from_keytab(&[unknown, good]);
        assert_eq!(
            ks.lookup("R", &comps(&["host", "a"]), 20, Some(1)),
            KeyLookup::Found(&k)
        );
        assert_eq!(
            ks.lookup("R", &comps(&["host", "a"]), 16, Some(1)),
            KeyLookup::NoEnctype
        );
    }
}
