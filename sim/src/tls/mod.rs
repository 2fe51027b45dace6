//! Deterministic TLS for the relay hop.
//!
//! A stock rustls handshake never repeats: ring draws ephemeral keys from
//! the OS, ECDSA signatures are randomised, and certificates are minted
//! fresh. Here every input is pinned, so two runs of a scenario with the
//! same seed put byte-identical TLS records on the wire:
//!
//! * randomness (client/server random, session ids, ticket nonces, GREASE
//!   and extension-order seeds) from a per-run seeded stream ([`rng`]);
//! * key exchange: X25519 on secrets from the same stream ([`kx`]);
//! * the relay's certificate: Ed25519 from a seed, fixed serial, validity
//!   from the scenario epoch ([`cert`]);
//! * time (certificate validity checks) from the host's simulated clock.
//!
//! Only TLS 1.3 is offered: one handshake shape to reason about, and it is
//! what current Windows and MIT clients negotiate with a modern relay.

use std::sync::Arc;

use rustls::crypto::CryptoProvider;
use rustls::pki_types::UnixTime;
use rustls::time_provider::TimeProvider;
use rustls::{ClientConfig, RootCertStore, ServerConfig};
use rustls_pki_types::CertificateDer;

use crate::clock::SimClock;
use kerbside_net::Clock;

pub mod cert;
pub mod kx;
pub mod rng;

pub use cert::{CertFault, RelayIdentity, relay_identity};

/// Why a TLS configuration could not be built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TlsError {
    /// rustls refused the configuration.
    #[error("rustls: {0}")]
    Rustls(#[from] rustls::Error),
    /// Certificate generation failed.
    #[error("certificate: {0}")]
    Cert(#[from] rcgen::Error),
    /// The scenario epoch cannot be a certificate date.
    #[error("the scenario epoch is outside the range of certificate dates")]
    Epoch,
}

/// rustls' clock on a simulated host (certificate validity, ticket ages).
#[derive(Debug, Clone)]
pub struct SimTimeProvider(pub SimClock);

impl TimeProvider for SimTimeProvider {
    fn current_time(&self) -> Option<UnixTime> {
        let since = self.0.now().duration_since(std::time::UNIX_EPOCH).ok()?;
        Some(UnixTime::since_unix_epoch(since))
    }
}

/// The deterministic provider: ring's TLS 1.3 suites and signature
/// verification, with seeded randomness and the seeded X25519 group.
pub fn provider() -> Arc<CryptoProvider> {
    let ring = rustls::crypto::ring::default_provider();
    Arc::new(CryptoProvider {
        cipher_suites: vec![
            rustls::crypto::ring::cipher_suite::TLS13_AES_128_GCM_SHA256,
            rustls::crypto::ring::cipher_suite::TLS13_AES_256_GCM_SHA384,
            rustls::crypto::ring::cipher_suite::TLS13_CHACHA20_POLY1305_SHA256,
        ],
        kx_groups: vec![&kx::SIM_X25519],
        secure_random: &rng::SimSecureRandom,
        ..ring
    })
}

/// The relay's server configuration.
pub fn server_config(
    identity: &RelayIdentity,
    clock: SimClock,
) -> Result<Arc<ServerConfig>, TlsError> {
    let mut config =
        ServerConfig::builder_with_details(provider(), Arc::new(SimTimeProvider(clock)))
            .with_protocol_versions(&[&rustls::version::TLS13])?
            .with_no_client_auth()
            .with_single_cert(vec![identity.cert.clone()], identity.key_der())?;
    // MS-KKDCP §2.1 runs over HTTP/1.1; the relay's hyper server speaks only that.
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// A client configuration trusting `anchors`, verifying against the
/// client's simulated clock.
pub fn client_config(
    anchors: &[CertificateDer<'static>],
    clock: SimClock,
) -> Result<Arc<ClientConfig>, TlsError> {
    let mut roots = RootCertStore::empty();
    for a in anchors {
        roots.add(a.clone())?;
    }
    let config = ClientConfig::builder_with_details(provider(), Arc::new(SimTimeProvider(clock)))
        .with_protocol_versions(&[&rustls::version::TLS13])?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}
