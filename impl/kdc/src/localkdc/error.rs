//! Why a LocalKDC could not be set up.

use crate::error::{ConfigError, NameError};
use crate::store::DuplicatePrincipal;

/// A LocalKDC configuration that cannot work.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum LocalKdcError {
    /// The KDC configuration is invalid (realm, lifetime, ...).
    #[error("{0}")]
    Config(#[from] ConfigError),
    /// A principal name is unusable.
    #[error("{0}")]
    Name(#[from] NameError),
    /// A principal is defined twice (an account named like a service).
    #[error("{0}")]
    Duplicate(#[from] DuplicatePrincipal),
    /// A key could not be derived.
    #[error("key derivation: {0}")]
    Crypto(String),
    /// The machine or computer name is empty or not a NetBIOS-style name.
    #[error("machine name {0:?} must be 1-15 characters without '.', '/', '@' or spaces")]
    BadMachineName(String),
}
