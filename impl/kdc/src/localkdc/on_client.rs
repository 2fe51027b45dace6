//! The on-client LocalKDC (the seed's design, DESIGN §3): on the laptop,
//! for offline sites. It issues tickets to the computer account (unless
//! configured otherwise) for the services it was enrolled with while
//! online, capped at 15 minutes by default, and stops once its cached
//! approvals are older than `max_offline`.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use kerbside_crypto::EncType;
use rand_core::RngCore;

use crate::config::KdcConfig;
use crate::kdc::Kdc;
use crate::store::{PrincipalEntry, PrincipalStore};

use super::accounts::LocalAccount;
use super::audit::LocalKdcAudit;
use super::enrolment::Enrolment;
use super::error::LocalKdcError;
use super::on_target::{BuiltLocalKdc, add_accounts, add_krbtgt, check_machine_name};
use super::policy::{ClientKinds, LocalKdcPolicy, Placement};

/// What the LocalKDC fetched while online: the approved services and
/// their enrolment keys, and when.
#[derive(Clone, Debug)]
pub struct OnClientCache {
    /// When the approvals were fetched.
    pub fetched_at: SystemTime,
    /// The approved services (the allowlist is exactly these).
    pub enrolments: Vec<Enrolment>,
}

/// How to build an on-client LocalKDC.
#[derive(Clone, Debug)]
pub struct OnClientConfig {
    /// The computer's name (`WS01`); its account is `WS01$`.
    pub computer: String,
    /// The computer account's password (the machine secret).
    pub computer_password: String,
    /// The realm; default `<COMPUTER>.LOCALKDC`.
    pub realm: Option<String>,
    /// Lifetime cap (15 minutes by default).
    pub max_lifetime: Duration,
    /// Who may get tickets (computer accounts only by default).
    pub clients: ClientKinds,
    /// Other local accounts (users, when `clients` allows them).
    pub extra_accounts: Vec<LocalAccount>,
    /// Accounts cached from the domain while online, keys and salt as the
    /// domain holds them (the computer account's own, typically): a client
    /// that derives its keys with the domain's salt then authenticates to
    /// the LocalKDC unchanged. They replace password accounts of the same
    /// name.
    pub cached_accounts: Vec<PrincipalEntry>,
    /// How long the cached approvals stay usable offline.
    pub max_offline: Duration,
    /// Enctypes.
    pub enctypes: Vec<EncType>,
}

impl OnClientConfig {
    /// The seed's defaults for `computer`: 15-minute tickets, computer
    /// account only, approvals usable for 7 days offline.
    pub fn new(computer: &str, computer_password: &str) -> Self {
        Self {
            computer: computer.to_owned(),
            computer_password: computer_password.to_owned(),
            realm: None,
            max_lifetime: super::ON_CLIENT_LIFETIME,
            clients: ClientKinds::computers(),
            extra_accounts: Vec::new(),
            cached_accounts: Vec::new(),
            max_offline: Duration::from_secs(7 * 24 * 3600),
            enctypes: vec![EncType::Aes256CtsHmacSha196],
        }
    }

    /// The realm in use.
    pub fn realm(&self) -> String {
        self.realm
            .clone()
            .unwrap_or_else(|| format!("{}.LOCALKDC", self.computer.to_ascii_uppercase()))
    }

    /// The computer account's name (`WS01$`).
    pub fn computer_account(&self) -> String {
        format!("{}$", self.computer.to_ascii_uppercase())
    }
}

/// Builds the on-client LocalKDC from its cached approvals.
pub fn on_client(
    cfg: &OnClientConfig,
    cache: &OnClientCache,
    rng: &mut dyn RngCore,
) -> Result<BuiltLocalKdc, LocalKdcError> {
    check_machine_name(&cfg.computer)?;
    let realm = cfg.realm();
    let mut store = PrincipalStore::new(&realm);
    add_krbtgt(&mut store, &realm, &cfg.enctypes, rng)?;
    let mut accounts = vec![LocalAccount::new(
        &cfg.computer_account(),
        &cfg.computer_password,
    )];
    accounts.extend(cfg.extra_accounts.iter().cloned());
    // Cached domain entries win over password accounts of the same name.
    accounts.retain(|a| {
        !cfg.cached_accounts
            .iter()
            .any(|e| e.principal.components() == [a.name.clone()])
    });
    add_accounts(&mut store, &realm, &accounts, &cfg.enctypes)?;
    for e in &cfg.cached_accounts {
        let mut e = e.clone();
        // Whatever the domain required, the LocalKDC always wants proof.
        e.requires_preauth = true;
        store.insert(e)?;
    }
    let mut allowlist = std::collections::BTreeSet::new();
    for e in cache.enrolments.iter().filter(|e| e.realm == realm) {
        store.insert(e.principal_entry()?)?;
        allowlist.insert(e.service.clone());
    }
    let audit = Arc::new(LocalKdcAudit::new());
    let mut config = KdcConfig::new(&realm);
    config.enctypes = cfg.enctypes.clone();
    config.ticket_lifetime = cfg.max_lifetime;
    config.renew_limit = Duration::ZERO;
    let policy = LocalKdcPolicy {
        placement: Placement::OnClient,
        realm: realm.clone(),
        max_lifetime: cfg.max_lifetime,
        allowlist: Some(allowlist),
        clients: cfg.clients.clone(),
        max_offline: Some((cache.fetched_at, cfg.max_offline)),
        audit: audit.clone(),
    };
    let kdc = Kdc::with_policy(config, store, Arc::new(policy))?;
    Ok(BuiltLocalKdc {
        kdc,
        audit,
        service_keys: Vec::new(),
    })
}
