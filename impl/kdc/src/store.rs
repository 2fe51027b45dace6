//! The principal store: every principal the KDC knows, with its long-term
//! keys derived once at load.
//!
//! Keys are derived from passwords with MIT's default salt (realm followed
//! by the name components, RFC 3961 §3 / MIT `krb5_principal2salt`), so a
//! realm created with the same passwords holds byte-identical keys (the
//! `vectors/mit/keys.txt` check). Keys can also come from an MIT keytab
//! (`crate::load::load_store`). String-to-key costs 4096-32768
//! PBKDF2 rounds per key; doing it at load keeps it off the request path.

use std::collections::BTreeMap;
use std::sync::OnceLock;
use std::time::SystemTime;

use kerbside_crypto::{EncType, Key, UsageKey};

use crate::name::Principal;

/// What kind of account a principal is. LocalKDC policy (a later issue)
/// restricts issue by kind; the core KDC only records it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum PrincipalKind {
    /// A person (`alice`).
    User,
    /// A service (`host/app.lab.test`).
    Service,
    /// A computer account (`WS01$`).
    Computer,
    /// The ticket-granting service (`krbtgt/REALM`).
    Tgs,
}

impl PrincipalKind {
    /// The kind a name implies when the principals file does not say:
    /// `krbtgt/*` is the TGS, a name with a `/` is a service, a single
    /// component ending in `$` is a computer (the Windows convention), the
    /// rest are users.
    pub fn infer(principal: &Principal) -> Self {
        match principal.components() {
            [k, _] if k == "krbtgt" => PrincipalKind::Tgs,
            [one] if one.ends_with('$') => PrincipalKind::Computer,
            [_] => PrincipalKind::User,
            _ => PrincipalKind::Service,
        }
    }

    /// Lower-case name as written in principals files.
    pub fn name(self) -> &'static str {
        match self {
            PrincipalKind::User => "user",
            PrincipalKind::Service => "service",
            PrincipalKind::Computer => "computer",
            PrincipalKind::Tgs => "tgs",
        }
    }

    /// Parses a principals-file `kind`.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "user" => PrincipalKind::User,
            "service" => PrincipalKind::Service,
            "computer" => PrincipalKind::Computer,
            "tgs" => PrincipalKind::Tgs,
            _ => return None,
        })
    }
}

/// One principal.
#[derive(Clone, Debug)]
pub struct PrincipalEntry {
    /// Name (the realm is the store's).
    pub principal: Principal,
    /// Key version number of `keys`.
    pub kvno: u32,
    /// Long-term keys, at most one per enctype, in the order they were
    /// configured.
    pub keys: Vec<Key>,
    /// Salt the password keys were derived with, sent in PA-ETYPE-INFO2 so a
    /// client derives the same key (RFC 4120 §5.2.7.5).
    pub salt: Vec<u8>,
    /// AS requests must carry valid pre-authentication (MIT
    /// `+requires_preauth`).
    pub requires_preauth: bool,
    /// Refuse every request for or as this principal (KDC_ERR_CLIENT_REVOKED
    /// / KDC_ERR_S_PRINCIPAL_UNKNOWN style refusals).
    pub disabled: bool,
    /// Account expiry (KDC_ERR_NAME_EXP / KDC_ERR_SERVICE_EXP after it).
    pub expires: Option<SystemTime>,
    /// Account kind, consulted by issue policies.
    pub kind: PrincipalKind,
}

impl PrincipalEntry {
    /// The key of enctype `etype`, if the principal has one.
    pub fn key(&self, etype: EncType) -> Option<&Key> {
        self.keys.iter().find(|k| k.etype() == etype)
    }

    /// True when the account's expiry has passed at `now`.
    pub fn is_expired(&self, now: SystemTime) -> bool {
        self.expires.is_some_and(|e| now >= e)
    }
}

/// The key usages a KDC applies to long-term keys on every request: the
/// PA-ENC-TIMESTAMP (1), tickets (2), the AS-REP enc-part (3) and the RFC
/// 6806 request checksum (56). Their Ke/Ki/Kc are derived once per key and
/// kept (RFC 3961 §3 derivation costs several AES operations per message).
pub const CACHED_USAGES: [u32; 4] = [1, 2, 3, 56];

/// Per-usage derived keys of one principal's long-term keys, filled on
/// first use (a realm can hold many principals that never log on).
#[derive(Debug, Default)]
struct DerivedKeys {
    /// `slots[key index][CACHED_USAGES index]`.
    slots: Box<[[OnceLock<UsageKey>; 4]]>,
}

impl DerivedKeys {
    fn for_entry(e: &PrincipalEntry) -> Self {
        Self {
            slots: e.keys.iter().map(|_| Default::default()).collect(),
        }
    }
}

impl Clone for DerivedKeys {
    /// A clone starts empty: the cache is an optimisation, not state.
    fn clone(&self) -> Self {
        Self {
            slots: self.slots.iter().map(|_| Default::default()).collect(),
        }
    }
}

#[derive(Clone, Debug)]
struct Stored {
    entry: PrincipalEntry,
    derived: DerivedKeys,
}

/// A principal as the exchanges see it: the entry plus its derived keys.
#[derive(Clone, Copy, Debug)]
pub struct EntryRef<'a> {
    /// The entry.
    pub entry: &'a PrincipalEntry,
    derived: &'a DerivedKeys,
}

/// A long-term key and the derived keys of its hot usages.
#[derive(Clone, Copy, Debug)]
pub struct LongTermKey<'a> {
    /// The key.
    pub key: &'a Key,
    slots: Option<&'a [OnceLock<UsageKey>; 4]>,
}

impl<'a> EntryRef<'a> {
    /// The key of enctype `etype`, if the principal has one.
    pub fn key(&self, etype: EncType) -> Option<LongTermKey<'a>> {
        let i = self.entry.keys.iter().position(|k| k.etype() == etype)?;
        Some(self.key_at(i))
    }

    /// The key at `i` in the entry's list (which must exist).
    fn key_at(&self, i: usize) -> LongTermKey<'a> {
        LongTermKey {
            key: &self.entry.keys[i],
            slots: self.derived.slots.get(i),
        }
    }

    /// The key of the first enctype in `order` the principal has.
    pub fn first_key(&self, order: impl IntoIterator<Item = EncType>) -> Option<LongTermKey<'a>> {
        order.into_iter().find_map(|e| self.key(e))
    }
}

impl std::ops::Deref for EntryRef<'_> {
    type Target = PrincipalEntry;
    fn deref(&self) -> &PrincipalEntry {
        self.entry
    }
}

impl LongTermKey<'_> {
    /// The key's enctype.
    pub fn etype(&self) -> EncType {
        self.key.etype()
    }

    /// The key with `usage`'s Ke/Ki/Kc derived, cached for the
    /// [`CACHED_USAGES`], derived on the spot otherwise.
    pub fn usage(&self, usage: u32) -> std::borrow::Cow<'_, UsageKey> {
        match (CACHED_USAGES.iter().position(|u| *u == usage), self.slots) {
            (Some(i), Some(slots)) => {
                std::borrow::Cow::Borrowed(slots[i].get_or_init(|| self.key.for_usage(usage)))
            }
            _ => std::borrow::Cow::Owned(self.key.for_usage(usage)),
        }
    }
}

/// Every principal of one realm, looked up by name components.
#[derive(Clone, Debug)]
pub struct PrincipalStore {
    realm: String,
    entries: BTreeMap<Vec<String>, Stored>,
}

/// A principal added twice.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("principal {0} is defined twice")]
pub struct DuplicatePrincipal(pub String);

impl PrincipalStore {
    /// An empty store for `realm`.
    pub fn new(realm: impl Into<String>) -> Self {
        Self {
            realm: realm.into(),
            entries: BTreeMap::new(),
        }
    }

    /// The realm.
    pub fn realm(&self) -> &str {
        &self.realm
    }

    /// Adds a principal; a name can be added once.
    pub fn insert(&mut self, entry: PrincipalEntry) -> Result<(), DuplicatePrincipal> {
        let key = entry.principal.components().to_vec();
        if self.entries.contains_key(&key) {
            return Err(DuplicatePrincipal(entry.principal.with_realm(&self.realm)));
        }
        self.upsert(entry);
        Ok(())
    }

    /// Adds or replaces a principal.
    pub fn upsert(&mut self, entry: PrincipalEntry) {
        let derived = DerivedKeys::for_entry(&entry);
        self.entries.insert(
            entry.principal.components().to_vec(),
            Stored { entry, derived },
        );
    }

    /// Looks a principal up by its name components (name-type ignored).
    pub fn get(&self, components: &[String]) -> Option<&PrincipalEntry> {
        self.entries.get(components).map(|s| &s.entry)
    }

    /// Looks a principal up with its derived-key cache (the exchanges' view).
    pub fn lookup(&self, components: &[String]) -> Option<EntryRef<'_>> {
        self.entries.get(components).map(|s| EntryRef {
            entry: &s.entry,
            derived: &s.derived,
        })
    }

    /// Mutable access, for loaders that merge sources and tests. The
    /// entry's derived-key cache is dropped, since its keys may change.
    pub fn get_mut(&mut self, components: &[String]) -> Option<&mut PrincipalEntry> {
        let stored = self.entries.get_mut(components)?;
        stored.derived = DerivedKeys::default();
        Some(&mut stored.entry)
    }

    /// All principals, in name order.
    pub fn iter(&self) -> impl Iterator<Item = &PrincipalEntry> {
        self.entries.values().map(|s| &s.entry)
    }

    /// Number of principals.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// Derives one key per enctype from a password with the MIT default salt
/// for `principal` in `realm`. Returns the keys and the salt.
pub fn password_keys(
    realm: &str,
    principal: &Principal,
    password: &str,
    enctypes: &[EncType],
) -> Result<(Vec<Key>, Vec<u8>), kerbside_crypto::CryptoError> {
    let salt = kerbside_crypto::default_salt(realm, &principal.component_strs());
    let keys = enctypes
        .iter()
        .map(|e| Key::from_password(*e, password, &salt))
        .collect::<Result<Vec<_>, _>>()?;
    Ok((keys, salt))
}
