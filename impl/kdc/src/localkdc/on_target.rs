//! The on-target LocalKDC: the application server's own KDC, as Windows
//! Insider build 29617 runs it (protocols.md §3.1-3.2): realm = the
//! machine's NetBIOS name in upper case, the machine's local accounts as
//! clients (salt realm + name, pre-authentication required), its own
//! service principals, 10-hour tickets, reached only through IAKERB.

use std::sync::Arc;
use std::time::Duration;

use kerbside_crypto::{EncType, Key};
use rand_core::RngCore;

use crate::config::KdcConfig;
use crate::kdc::Kdc;
use crate::name::Principal;
use crate::store::{PrincipalEntry, PrincipalKind, PrincipalStore, password_keys};

use super::accounts::LocalAccount;
use super::audit::LocalKdcAudit;
use super::error::LocalKdcError;
use super::policy::{ClientKinds, LocalKdcPolicy, Placement};

/// How to build an on-target LocalKDC.
#[derive(Clone, Debug)]
pub struct OnTargetConfig {
    /// The machine's NetBIOS name (`WIN25H2INS`); the realm is its upper
    /// case.
    pub machine: String,
    /// Local accounts.
    pub accounts: Vec<LocalAccount>,
    /// The machine's service principals (`["cifs", "win25h2ins"]`); each
    /// gets a fresh random key, returned for the acceptor to hold.
    pub services: Vec<Vec<String>>,
    /// Ticket lifetime (10 h observed).
    pub max_lifetime: Duration,
    /// Enctypes for keys and tickets (Windows advertised 18 and 17).
    pub enctypes: Vec<EncType>,
}

impl OnTargetConfig {
    /// Windows' observed defaults for `machine`.
    pub fn new(machine: &str, accounts: Vec<LocalAccount>, services: Vec<Vec<String>>) -> Self {
        Self {
            machine: machine.to_owned(),
            accounts,
            services,
            max_lifetime: super::ON_TARGET_LIFETIME,
            enctypes: vec![EncType::Aes256CtsHmacSha196, EncType::Aes128CtsHmacSha196],
        }
    }

    /// The realm: the machine name upper-cased.
    pub fn realm(&self) -> String {
        self.machine.to_ascii_uppercase()
    }
}

/// A built LocalKDC.
#[derive(Debug)]
pub struct BuiltLocalKdc {
    /// The KDC (answers through IAKERB, or in-process).
    pub kdc: Kdc,
    /// Its decisions.
    pub audit: Arc<LocalKdcAudit>,
    /// Service keys created here, for the acceptor (components, kvno, key).
    pub service_keys: Vec<(Vec<String>, u32, Key)>,
}

/// A NetBIOS-style name: 1-15 characters, no dots, separators or spaces.
pub(super) fn check_machine_name(name: &str) -> Result<(), LocalKdcError> {
    if name.is_empty() || name.len() > 15 || name.contains(['.', '/', '@', ' ', '\\', '\0']) {
        return Err(LocalKdcError::BadMachineName(name.to_owned()));
    }
    Ok(())
}

/// Adds `accounts` with password keys in `realm`.
pub(super) fn add_accounts(
    store: &mut PrincipalStore,
    realm: &str,
    accounts: &[LocalAccount],
    enctypes: &[EncType],
) -> Result<(), LocalKdcError> {
    for a in accounts {
        let principal = Principal::from_components(vec![a.name.clone()])?;
        let (keys, salt) = password_keys(realm, &principal, &a.password, enctypes)
            .map_err(|e| LocalKdcError::Crypto(e.to_string()))?;
        store.insert(PrincipalEntry {
            principal,
            kvno: 1,
            keys,
            salt,
            requires_preauth: true,
            disabled: false,
            expires: None,
            kind: a.kind,
        })?;
    }
    Ok(())
}

/// `krbtgt/REALM` with random keys.
pub(super) fn add_krbtgt(
    store: &mut PrincipalStore,
    realm: &str,
    enctypes: &[EncType],
    rng: &mut dyn RngCore,
) -> Result<(), LocalKdcError> {
    store.insert(PrincipalEntry {
        principal: Principal::krbtgt(realm),
        kvno: 1,
        keys: enctypes.iter().map(|e| Key::random(*e, rng)).collect(),
        salt: Vec::new(),
        requires_preauth: false,
        disabled: false,
        expires: None,
        kind: PrincipalKind::Tgs,
    })?;
    Ok(())
}

/// Builds the on-target LocalKDC; the krbtgt and service keys come from
/// `rng`.
pub fn on_target(
    cfg: &OnTargetConfig,
    rng: &mut dyn RngCore,
) -> Result<BuiltLocalKdc, LocalKdcError> {
    check_machine_name(&cfg.machine)?;
    let realm = cfg.realm();
    let mut store = PrincipalStore::new(&realm);
    add_krbtgt(&mut store, &realm, &cfg.enctypes, rng)?;
    add_accounts(&mut store, &realm, &cfg.accounts, &cfg.enctypes)?;
    let mut service_keys = Vec::new();
    for svc in &cfg.services {
        let keys: Vec<Key> = cfg.enctypes.iter().map(|e| Key::random(*e, rng)).collect();
        store.insert(PrincipalEntry {
            principal: Principal::from_components(svc.clone())?,
            kvno: 1,
            keys: keys.clone(),
            salt: Vec::new(),
            requires_preauth: false,
            disabled: false,
            expires: None,
            kind: PrincipalKind::Service,
        })?;
        service_keys.extend(keys.into_iter().map(|k| (svc.clone(), 1, k)));
    }
    let audit = Arc::new(LocalKdcAudit::new());
    let mut config = KdcConfig::new(&realm);
    config.enctypes = cfg.enctypes.clone();
    config.ticket_lifetime = cfg.max_lifetime;
    let policy = LocalKdcPolicy {
        placement: Placement::OnTarget,
        realm: realm.clone(),
        max_lifetime: cfg.max_lifetime,
        allowlist: None,
        clients: ClientKinds::users_and_computers(),
        max_offline: None,
        audit: audit.clone(),
    };
    let kdc = Kdc::with_policy(config, store, Arc::new(policy))?;
    Ok(BuiltLocalKdc {
        kdc,
        audit,
        service_keys,
    })
}
