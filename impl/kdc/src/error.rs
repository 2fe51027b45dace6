//! Setup-time errors: configuration, principal names, the principal store.
//!
//! Request-time failures are not Rust errors: they become KRB-ERROR replies
//! (see [`crate::reject`]).

use std::time::Duration;

/// An unusable [`crate::KdcConfig`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The realm is empty.
    #[error("realm must not be empty")]
    EmptyRealm,
    /// The realm contains `/`, `@` or NUL.
    #[error("realm {0:?} contains '/', '@' or NUL")]
    BadRealm(String),
    /// No enctype enabled.
    #[error("at least one enctype must be enabled")]
    NoEnctypes,
    /// A deprecated enctype was enabled for tickets.
    #[error("{0} is not allowed for Kerberos tickets (RFC 8429)")]
    WeakEnctype(&'static str),
    /// Ticket lifetime below one minute.
    #[error("ticket lifetime {0:?} is shorter than one minute")]
    LifetimeTooShort(Duration),
    /// Replay window shorter than the skew window.
    #[error("replay window {window:?} is shorter than the clock skew {skew:?} (RFC 4120 §3.2.3)")]
    ReplayWindowTooShort {
        /// Configured window.
        window: Duration,
        /// Configured skew.
        skew: Duration,
    },
    /// Replay capacity of zero.
    #[error("replay cache capacity must be at least 1")]
    ZeroReplayCapacity,
    /// UDP reply limit out of range.
    #[error("UDP reply limit {0} is outside 256..=65507")]
    BadUdpLimit(usize),
    /// A duration that does not parse.
    #[error("bad duration {0:?} (expected e.g. 300s, 15m, 10h, 7d)")]
    BadDuration(String),
    /// The store has no usable krbtgt key for the realm.
    #[error("no krbtgt/{realm}@{realm} principal with a key of an enabled enctype")]
    NoKrbtgt {
        /// The realm.
        realm: String,
    },
    /// The store was loaded for another realm.
    #[error("principal store is for realm {store:?}, KDC serves {config:?}")]
    RealmMismatch {
        /// Store realm.
        store: String,
        /// Config realm.
        config: String,
    },
}

/// A principal name that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NameError {
    /// No components.
    #[error("principal name is empty")]
    Empty,
    /// `a//b`, a leading or trailing `/`, or an empty name.
    #[error("principal name has an empty component")]
    EmptyComponent,
    /// A lone `\` at the end.
    #[error("principal name ends with a lone '\\'")]
    TrailingEscape,
    /// `name@OTHER` where OTHER is not the KDC's realm.
    #[error("principal is in realm {found:?}, expected {expected:?} (no cross-realm principals)")]
    ForeignRealm {
        /// Realm written in the name.
        found: String,
        /// The KDC's realm.
        expected: String,
    },
}
