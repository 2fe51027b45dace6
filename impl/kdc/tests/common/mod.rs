//! Shared fixtures: the LAB.TEST realm of the MIT captures, clocks, RNGs.
#![allow(dead_code, unreachable_pub)]

use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use kerbside_crypto::{EncType, Key};
use kerbside_kdc::load::{Source, load_store};
use kerbside_kdc::{Kdc, KdcConfig, PrincipalStore};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

pub const REALM: &str = "LAB.TEST";

/// 2026-11-24T18:00:36Z: when the MIT captures were taken.
pub fn capture_time() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_795_543_236)
}

/// A fixed clock for snapshot tests.
pub fn fixed_now() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_790_000_000) + Duration::from_micros(123_456)
}

pub fn rng(seed: u64) -> ChaCha20Rng {
    ChaCha20Rng::seed_from_u64(seed)
}

pub fn data(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

pub fn vector(name: &str) -> Vec<u8> {
    let text = std::fs::read_to_string(data(&format!("mit/{name}.hex"))).unwrap();
    hex::decode(text.trim()).unwrap()
}

/// The LAB.TEST store: keys from the MIT keytab, flags from
/// tests/data/lab-flags.toml (principal_store.rs checks that lab.toml's
/// passwords derive exactly these keys; deriving them in every test binary
/// would cost seconds of PBKDF2).
pub fn lab_store() -> PrincipalStore {
    static STORE: OnceLock<PrincipalStore> = OnceLock::new();
    STORE
        .get_or_init(|| {
            let flags = std::fs::read_to_string(data("lab-flags.toml")).unwrap();
            let keytab = std::fs::read(data("mit/realm.keytab")).unwrap();
            let cfg = KdcConfig::new(REALM);
            load_store(
                REALM,
                &cfg.enctypes,
                Some(Source {
                    data: flags.as_str(),
                    origin: "lab-flags.toml",
                }),
                Some(Source {
                    data: keytab.as_slice(),
                    origin: "realm.keytab",
                }),
            )
            .unwrap()
        })
        .clone()
}

/// The LAB.TEST store derived from tests/data/lab.toml's passwords.
pub fn lab_store_from_passwords() -> PrincipalStore {
    let text = std::fs::read_to_string(data("lab.toml")).unwrap();
    let cfg = KdcConfig::new(REALM);
    load_store(
        REALM,
        &cfg.enctypes,
        Some(Source {
            data: text.as_str(),
            origin: "lab.toml",
        }),
        None,
    )
    .unwrap()
}

pub fn lab_kdc() -> Kdc {
    Kdc::new(KdcConfig::new(REALM), lab_store()).unwrap()
}

pub fn lab_kdc_with(f: impl FnOnce(&mut KdcConfig)) -> Kdc {
    let mut c = KdcConfig::new(REALM);
    f(&mut c);
    Kdc::new(c, lab_store()).unwrap()
}

/// A principal's long-term key from the store.
pub fn key_of(name: &str, etype: EncType) -> Key {
    let store = lab_store();
    let comps: Vec<String> = name.split('/').map(str::to_owned).collect();
    store.get(&comps).unwrap().key(etype).unwrap().clone()
}

pub const AES256: EncType = EncType::Aes256CtsHmacSha196;
pub const AES256_SHA384: EncType = EncType::Aes256CtsHmacSha384192;
