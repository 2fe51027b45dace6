//! Enrolment: the per-(LocalKDC, service) key that lets an approved
//! service accept an on-client LocalKDC's tickets (module docs: the trust
//! model), and the rule the service applies to such tickets.

use std::time::Duration;

use kerbside_crypto::{EncType, Key};
use rand_core::RngCore;

use crate::error::NameError;
use crate::name::Principal;
use crate::store::{PrincipalEntry, PrincipalKind};

/// One approved service of one LocalKDC: the service principal in the
/// LocalKDC realm and the key both ends hold.
#[derive(Clone)]
pub struct Enrolment {
    /// The LocalKDC's realm (the realm the service's key is filed under).
    pub realm: String,
    /// The service's name components (`["cifs", "files.corp.example"]`).
    pub service: Vec<String>,
    /// Key version.
    pub kvno: u32,
    /// The shared key (a fresh random key, never derived from a password:
    /// nothing guessable protects the tickets).
    pub key: Key,
}

impl std::fmt::Debug for Enrolment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Enrolment")
            .field("realm", &self.realm)
            .field("service", &self.service)
            .field("kvno", &self.kvno)
            .field("etype", &self.key.etype())
            .finish_non_exhaustive()
    }
}

impl Enrolment {
    /// A new enrolment with a random key of `etype`.
    pub fn new(realm: &str, service: &[&str], etype: EncType, rng: &mut dyn RngCore) -> Self {
        Self {
            realm: realm.to_owned(),
            service: service.iter().map(|s| (*s).to_owned()).collect(),
            kvno: 1,
            key: Key::random(etype, rng),
        }
    }

    /// The service's entry in the LocalKDC's principal store.
    pub fn principal_entry(&self) -> Result<PrincipalEntry, NameError> {
        Ok(PrincipalEntry {
            principal: Principal::from_components(self.service.clone())?,
            kvno: self.kvno,
            keys: vec![self.key.clone()],
            salt: Vec::new(),
            requires_preauth: false,
            disabled: false,
            expires: None,
            kind: PrincipalKind::Service,
        })
    }

    /// `svc/host@REALM`.
    pub fn service_name(&self) -> String {
        format!("{}@{}", self.service.join("/"), self.realm)
    }
}

/// What an approved service requires of tickets from one LocalKDC realm
/// (checked by the acceptor in `kerbside-server` in addition to the usual
/// AP-REQ checks).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LocalKdcTrust {
    /// The LocalKDC's realm.
    pub realm: String,
    /// Longest ticket lifetime honoured (end minus start).
    pub max_lifetime: Duration,
    /// Only computer accounts (`NAME$`) may authenticate with such tickets.
    pub computer_accounts_only: bool,
}

impl LocalKdcTrust {
    /// The seed's defaults: 15 minutes, computer accounts only.
    pub fn on_client_defaults(realm: &str) -> Self {
        Self {
            realm: realm.to_owned(),
            max_lifetime: super::ON_CLIENT_LIFETIME,
            computer_accounts_only: true,
        }
    }
}
