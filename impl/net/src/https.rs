//! TLS for real mode: rustls configurations (ring provider, passed
//! explicitly so no process-wide default provider is needed), PEM loading,
//! and a small PKI generator for `--self-signed`.
//!
//! The simulation builds its own deterministic rustls configurations and
//! hands them to the drivers; nothing here is used inside turmoil.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair,
    KeyUsagePurpose,
};
use rustls::crypto::CryptoProvider;
use rustls::server::WebPkiClientVerifier;
use rustls::{ClientConfig, RootCertStore, ServerConfig};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use sha2::{Digest, Sha256};

/// A TLS setup failure, with the file it concerns when there is one.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TlsSetupError {
    /// A PEM file that cannot be read or holds nothing usable.
    #[error("{path}: {why}")]
    File {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        why: String,
    },
    /// rustls refused the configuration (key does not match, bad CA...).
    #[error("TLS configuration: {0}")]
    Rustls(#[from] rustls::Error),
    /// The client-certificate verifier could not be built.
    #[error("client CA: {0}")]
    ClientVerifier(#[from] rustls::server::VerifierBuilderError),
    /// Certificate generation failed.
    #[error("certificate generation: {0}")]
    Generate(#[from] rcgen::Error),
    /// Writing generated files failed.
    #[error("{path}: {source}")]
    Write {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
}

fn file_err(path: &Path, why: impl ToString) -> TlsSetupError {
    TlsSetupError::File {
        path: path.to_owned(),
        why: why.to_string(),
    }
}

/// The crypto provider every kerbside TLS config uses: ring, explicitly.
pub fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// Reads every certificate in a PEM file (a chain: leaf first).
pub fn load_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsSetupError> {
    let certs = CertificateDer::pem_file_iter(path)
        .map_err(|e| file_err(path, e))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| file_err(path, e))?;
    if certs.is_empty() {
        return Err(file_err(path, "no CERTIFICATE found"));
    }
    Ok(certs)
}

/// Reads the first private key (PKCS#8, PKCS#1 or SEC1) in a PEM file.
pub fn load_key(path: &Path) -> Result<PrivateKeyDer<'static>, TlsSetupError> {
    PrivateKeyDer::from_pem_file(path).map_err(|e| file_err(path, e))
}

/// How the server treats client certificates.
#[derive(Debug, Clone, Default)]
pub enum ClientCertPolicy {
    /// Do not ask for one.
    #[default]
    None,
    /// Ask; verify against these roots if one is sent; allow none
    /// (another form of authentication, a bearer token, may admit the client).
    Optional(Vec<CertificateDer<'static>>),
    /// Require one that chains to these roots.
    Required(Vec<CertificateDer<'static>>),
}

/// A server configuration (TLS 1.2 and 1.3, ring) for a certificate chain and
/// key, with an optional client-certificate requirement.
pub fn server_config(
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
    clients: &ClientCertPolicy,
) -> Result<Arc<ServerConfig>, TlsSetupError> {
    let provider = provider();
    let builder = ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()?;
    let builder = match clients {
        ClientCertPolicy::None => builder.with_no_client_auth(),
        ClientCertPolicy::Optional(roots) | ClientCertPolicy::Required(roots) => {
            let mut store = RootCertStore::empty();
            for c in roots {
                store.add(c.clone())?;
            }
            let v = WebPkiClientVerifier::builder_with_provider(Arc::new(store), provider);
            let v = if matches!(clients, ClientCertPolicy::Optional(_)) {
                v.allow_unauthenticated()
            } else {
                v
            };
            builder.with_client_cert_verifier(v.build()?)
        }
    };
    let mut config = builder.with_single_cert(chain, key)?;
    // MIT's k5tls offers no ALPN; clients that do get HTTP/1.1 (hyper's
    // server here speaks only HTTP/1.x).
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// A client configuration trusting exactly `roots`, optionally presenting a
/// client certificate.
pub fn client_config(
    roots: &[CertificateDer<'static>],
    client_cert: Option<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>)>,
) -> Result<Arc<ClientConfig>, TlsSetupError> {
    let mut store = RootCertStore::empty();
    for c in roots {
        store.add(c.clone())?;
    }
    let builder = ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()?
        .with_root_certificates(store);
    let config = match client_cert {
        Some((chain, key)) => builder.with_client_auth_cert(chain, key)?,
        None => builder.with_no_client_auth(),
    };
    Ok(Arc::new(config))
}

/// A stable identity for a verified client certificate: the SHA-256 of its
/// DER, as `sha256:<hex>` (what operators pin and what the audit line shows).
pub fn cert_identity(cert: &CertificateDer<'_>) -> String {
    let digest = Sha256::digest(cert.as_ref());
    let mut s = String::with_capacity(7 + 64);
    s.push_str("sha256:");
    for b in digest {
        s.push_str(&format!("{b:02x}"));
    }
    s
}

/// A generated certificate and its key, in DER and PEM.
#[derive(Debug)]
pub struct IssuedCert {
    /// The certificate, DER.
    pub cert: CertificateDer<'static>,
    /// The certificate, PEM.
    pub cert_pem: String,
    /// The PKCS#8 private key, DER.
    pub key: PrivatePkcs8KeyDer<'static>,
    /// The private key, PEM.
    pub key_pem: String,
}

impl IssuedCert {
    /// The key as rustls wants it.
    pub fn key_der(&self) -> PrivateKeyDer<'static> {
        PrivateKeyDer::Pkcs8(self.key.clone_key())
    }
}

/// A throwaway certificate authority that can issue server and client
/// certificates (ECDSA P-256). Real mode and tests only: key generation
/// draws OS randomness through ring.
#[derive(Debug)]
pub struct TestCa {
    params: CertificateParams,
    key: KeyPair,
    /// The CA certificate.
    pub cert: IssuedCert,
}

impl TestCa {
    /// A new CA with the given common name.
    pub fn generate(common_name: &str) -> Result<Self, TlsSetupError> {
        let mut params = CertificateParams::new(Vec::<String>::new())?;
        params
            .distinguished_name
            .push(DnType::CommonName, common_name);
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let key = KeyPair::generate()?;
        let cert = params.self_signed(&key)?;
        let cert = IssuedCert {
            cert_pem: cert.pem(),
            cert: cert.der().clone(),
            key: PrivatePkcs8KeyDer::from(key.serialize_der()),
            key_pem: key.serialize_pem(),
        };
        Ok(TestCa { params, key, cert })
    }

    /// A server certificate for the given DNS names and IP addresses.
    pub fn issue_server(&self, names: &[&str]) -> Result<IssuedCert, TlsSetupError> {
        let names: Vec<String> = names.iter().map(|s| (*s).to_owned()).collect();
        let mut params = CertificateParams::new(names.clone())?;
        if let Some(first) = names.first() {
            params
                .distinguished_name
                .push(DnType::CommonName, first.as_str());
        }
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        self.issue(&params)
    }

    /// A client certificate with the given common name (for mutual TLS).
    pub fn issue_client(&self, common_name: &str) -> Result<IssuedCert, TlsSetupError> {
        let mut params = CertificateParams::new(Vec::<String>::new())?;
        params
            .distinguished_name
            .push(DnType::CommonName, common_name);
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        self.issue(&params)
    }

    fn issue(&self, params: &CertificateParams) -> Result<IssuedCert, TlsSetupError> {
        let key = KeyPair::generate()?;
        let issuer = rcgen::Issuer::from_params(&self.params, &self.key);
        let cert = params.signed_by(&key, &issuer)?;
        Ok(IssuedCert {
            cert_pem: cert.pem(),
            cert: cert.der().clone(),
            key: PrivatePkcs8KeyDer::from(key.serialize_der()),
            key_pem: key.serialize_pem(),
        })
    }
}

/// The files `--self-signed DIR` uses.
#[derive(Debug, Clone)]
pub struct SelfSignedFiles {
    /// `DIR/ca.pem`: give this to clients (`http_anchors = FILE:...`).
    pub ca: PathBuf,
    /// `DIR/server.pem`: the server certificate.
    pub cert: PathBuf,
    /// `DIR/server.key`: its private key (PKCS#8 PEM, mode 0600).
    pub key: PathBuf,
    /// Whether they were created now (false: reused from an earlier run).
    pub created: bool,
}

/// Ensures `dir` holds a CA and a server certificate naming 127.0.0.1,
/// ::1 and localhost (plus `extra_names`). Existing files are reused so the
/// CA clients already trust stays valid across restarts.
pub fn ensure_self_signed(
    dir: &Path,
    extra_names: &[&str],
) -> Result<SelfSignedFiles, TlsSetupError> {
    let files = SelfSignedFiles {
        ca: dir.join("ca.pem"),
        cert: dir.join("server.pem"),
        key: dir.join("server.key"),
        created: false,
    };
    if files.ca.exists() && files.cert.exists() && files.key.exists() {
        return Ok(files);
    }
    fs::create_dir_all(dir).map_err(|source| TlsSetupError::Write {
        path: dir.to_owned(),
        source,
    })?;
    let ca = TestCa::generate("kerbside relay CA")?;
    let mut names = vec!["localhost", "127.0.0.1", "::1"];
    names.extend_from_slice(extra_names);
    let server = ca.issue_server(&names)?;
    write_file(&files.ca, ca.cert.cert_pem.as_bytes(), false)?;
    write_file(&files.cert, server.cert_pem.as_bytes(), false)?;
    write_file(&files.key, server.key_pem.as_bytes(), true)?;
    Ok(SelfSignedFiles {
        created: true,
        ..files
    })
}

fn write_file(path: &Path, data: &[u8], private: bool) -> Result<(), TlsSetupError> {
    let err = |source| TlsSetupError::Write {
        path: path.to_owned(),
        source,
    };
    let mut opts = fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    if private {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    #[cfg(not(unix))]
    let _ = private;
    use std::io::Write;
    opts.open(path)
        .and_then(|mut f| f.write_all(data))
        .map_err(err)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn self_signed_files_load_into_configs_and_are_reused() {
        let dir = std::env::temp_dir().join(format!("kerbside-https-test-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        let f = ensure_self_signed(&dir, &[]).unwrap();
        assert!(f.created);
        let ca = load_certs(&f.ca).unwrap();
        let chain = load_certs(&f.cert).unwrap();
        let key = load_key(&f.key).unwrap();
        server_config(chain, key, &ClientCertPolicy::None).unwrap();
        client_config(&ca, None).unwrap();
        let again = ensure_self_signed(&dir, &[]).unwrap();
        assert!(!again.created);
        assert_eq!(load_certs(&again.ca).unwrap(), ca);
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn unreadable_or_empty_pem_is_a_clear_error() {
        let e = load_certs(Path::new("/nonexistent/cert.pem")).unwrap_err();
        assert!(e.to_string().starts_with("/nonexistent/cert.pem: "), "{e}");
        let dir = std::env::temp_dir().join(format!("kerbside-https-empty-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let p = dir.join("empty.pem");
        fs::write(&p, "not a pem\n").unwrap();
        assert!(
            load_certs(&p)
                .unwrap_err()
                .to_string()
                .contains("no CERTIFICATE")
        );
        assert!(load_key(&p).is_err());
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn identity_is_a_sha256_fingerprint() {
        let ca = TestCa::generate("t").unwrap();
        let id = cert_identity(&ca.cert.cert);
        assert_eq!(id.len(), 7 + 64);
        assert!(id.starts_with("sha256:"));
        assert_ne!(id, cert_identity(&ca.issue_client("c").unwrap().cert));
    }
}
