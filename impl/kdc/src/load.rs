//! Building a [`PrincipalStore`] from a principals file and/or an MIT
//! keytab.
//!
//! Precedence: a principal with a `password` in the file gets
//! password-derived keys; one listed without a password takes its keys from
//! the keytab (the file then only sets flags: `requires_preauth`, `kvno` is
//! the keytab's); keytab principals not in the file are added with default
//! flags. Only the keytab's highest kvno of each principal is used (what a
//! KDC would issue with), and only enctypes the KDC enables.

use kerbside_crypto::keytab::{self, KeytabError};
use kerbside_crypto::{CryptoError, EncType, Key};

use crate::name::Principal;
use crate::principals_file::{self, PrincipalsFileError};
use crate::store::{PrincipalEntry, PrincipalKind, PrincipalStore};

/// Why a store could not be built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LoadError {
    /// The principals file is malformed (names file, line, field).
    #[error("{0}")]
    File(#[from] PrincipalsFileError),
    /// The keytab does not parse.
    #[error("{origin}: {source}")]
    Keytab {
        /// Keytab file name.
        origin: String,
        /// Parse error.
        source: KeytabError,
    },
    /// A principal ended up with no key.
    #[error(
        "{origin}:{line}: field `password`: principal {principal} has no password and no key in the keytab"
    )]
    NoKeys {
        /// Principals file name.
        origin: String,
        /// Line of its table.
        line: usize,
        /// The principal.
        principal: String,
    },
    /// Key derivation failed.
    #[error("deriving keys: {0}")]
    Crypto(#[from] CryptoError),
}

/// A principals file's text and name.
#[derive(Debug)]
pub struct Source<'a, T: ?Sized> {
    /// Contents.
    pub data: &'a T,
    /// Name used in errors.
    pub origin: &'a str,
}

/// Builds the store for `realm`. `enctypes` are the KDC's enabled enctypes
/// (keys of other enctypes are not derived or imported).
pub fn load_store(
    realm: &str,
    enctypes: &[EncType],
    principals: Option<Source<'_, str>>,
    keytab_file: Option<Source<'_, [u8]>>,
) -> Result<PrincipalStore, LoadError> {
    let origin = principals.as_ref().map_or("<none>", |p| p.origin);
    let specs = match &principals {
        Some(src) => principals_file::parse(src.data, src.origin, realm)?,
        None => Vec::new(),
    };
    let (mut store, keyless) = principals_file::build_store(&specs, realm, enctypes)?;

    if let Some(kt) = keytab_file {
        let entries = keytab::parse(kt.data).map_err(|source| LoadError::Keytab {
            origin: kt.origin.to_owned(),
            source,
        })?;
        // Highest kvno per principal, keys of enabled enctypes only.
        let mut best: std::collections::BTreeMap<Vec<String>, (u32, Vec<Key>)> =
            std::collections::BTreeMap::new();
        for e in entries.iter().filter(|e| e.realm == realm) {
            let Ok(key) = e.key() else { continue };
            if !enctypes.contains(&key.etype()) {
                continue;
            }
            let slot = best
                .entry(e.components.clone())
                .or_insert((e.kvno, Vec::new()));
            if e.kvno > slot.0 {
                *slot = (e.kvno, Vec::new());
            }
            if e.kvno == slot.0 && !slot.1.iter().any(|k| k.etype() == key.etype()) {
                slot.1.push(key);
            }
        }
        for (components, (kvno, mut keys)) in best {
            if store.get(&components).is_some() {
                continue; // a password in the file wins
            }
            let Ok(principal) = Principal::from_components(components.clone()) else {
                continue;
            };
            // Keys in the KDC's preference order, as password keys are.
            keys.sort_by_key(|k| enctypes.iter().position(|e| *e == k.etype()));
            let spec = keyless
                .iter()
                .find(|s| s.principal.components() == components.as_slice());
            let salt = kerbside_crypto::default_salt(realm, &principal.component_strs());
            store.upsert(PrincipalEntry {
                kind: spec.map_or_else(|| PrincipalKind::infer(&principal), |s| s.kind),
                principal,
                kvno,
                keys,
                salt,
                requires_preauth: spec.is_some_and(|s| s.requires_preauth),
                disabled: spec.is_some_and(|s| s.disabled),
                expires: spec.and_then(|s| s.expires),
            });
        }
    }
    if let Some(missing) = keyless
        .iter()
        .find(|s| store.get(s.principal.components()).is_none())
    {
        return Err(LoadError::NoKeys {
            origin: origin.to_owned(),
            line: missing.line,
            principal: missing.principal.with_realm(realm),
        });
    }
    Ok(store)
}
