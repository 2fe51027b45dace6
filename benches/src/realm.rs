//! LAB.TEST as the KDC's own tests load it: flags from
//! `impl/kdc/tests/data/lab-flags.toml`, keys from the MIT keytab (so no
//! string-to-key at load: 32768 PBKDF2 rounds per SHA-2 key would dominate
//! any bench that built a realm), and the requests a real client sends.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use kerbside_client::krb::{
    AsExchange, AsOptions, AsStep, Credentials, Principal, Secret, TgsExchange, TgsOptions,
};
use kerbside_crypto::{EncType, Key};
use kerbside_kdc::load::{Source, load_store};
use kerbside_kdc::{Kdc, KdcConfig, Outcome, PrincipalStore, Transport};
use rand_core::RngCore;

use crate::error::FixtureError;

/// The realm of every MIT capture and of the comparison script.
pub const REALM: &str = "LAB.TEST";
/// A principal that requires pre-authentication (PA-ENC-TIMESTAMP).
pub const PREAUTH_USER: &str = "alice";
/// A principal without pre-authentication: one AS-REQ per AS-REP.
pub const PLAIN_USER: &str = "nopreauth";
/// The service principal with keytab keys.
pub const SERVICE: [&str; 2] = ["host", "app.lab.test"];

/// A fixed instant (2026-09-21T14:13:20Z): the benches never read a clock.
pub fn now() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_790_000_000)
}

/// `now()` plus `i` milliseconds: one distinct authenticator time per
/// request, so replay caches (RFC 4120 §3.2.3) see every request as new
/// and forget old ones as the benchmark's clock moves on.
pub fn tick(i: u64) -> SystemTime {
    now() + Duration::from_millis(i)
}

/// The LAB.TEST principal store with every enctype the KDC enables.
#[derive(Debug, Clone)]
pub struct Realm {
    /// The principals and their keys.
    pub store: PrincipalStore,
    /// The KDC configuration the store was loaded for.
    pub config: KdcConfig,
}

impl Realm {
    /// Loads the store from the KDC crate's test data.
    pub fn load() -> Result<Realm, FixtureError> {
        let data = format!("{}/../impl/kdc/tests/data", env!("CARGO_MANIFEST_DIR"));
        let read = |name: &str| {
            let path = format!("{data}/{name}");
            std::fs::read(&path).map_err(|source| FixtureError::Io { path, source })
        };
        let flags = String::from_utf8(read("lab-flags.toml")?).map_err(|e| FixtureError::Data {
            path: "lab-flags.toml".into(),
            what: e.to_string(),
        })?;
        let keytab = read("mit/realm.keytab")?;
        let config = KdcConfig::new(REALM);
        let store = load_store(
            REALM,
            &config.enctypes,
            Some(Source {
                data: flags.as_str(),
                origin: "lab-flags.toml",
            }),
            Some(Source {
                data: keytab.as_slice(),
                origin: "realm.keytab",
            }),
        )
        .map_err(FixtureError::failed)?;
        Ok(Realm { store, config })
    }

    /// A KDC over this store. The replay cache is large enough for a
    /// five-minute window of requests one millisecond apart ([`tick`]).
    pub fn kdc(&self) -> Result<Kdc, FixtureError> {
        let mut c = self.config.clone();
        c.replay_capacity = 2_000_000;
        Kdc::new(c, self.store.clone()).map_err(FixtureError::failed)
    }

    /// The long-term key of `name` for `etype`.
    pub fn key(&self, name: &str, etype: EncType) -> Result<Key, FixtureError> {
        self.store
            .get(&[name.to_owned()])
            .and_then(|e| e.key(etype))
            .cloned()
            .ok_or_else(|| FixtureError::failed(format!("{name}: no {} key", etype.name())))
    }

    /// An AS exchange for `user` with its long-term key (no string-to-key),
    /// PA-ENC-TIMESTAMP in the first request when `preauth`.
    pub fn as_exchange(
        &self,
        user: &str,
        etype: EncType,
        preauth: bool,
    ) -> Result<AsExchange, FixtureError> {
        Ok(AsExchange::new(
            Principal::user(user, REALM),
            Secret::Keys(vec![self.key(user, etype)?]),
            AsOptions {
                etypes: vec![etype],
                preauth_first: preauth,
                ..AsOptions::default()
            },
        ))
    }

    /// A TGT for `alice` from `kdc` (one pre-authenticated AS exchange).
    pub fn tgt(
        &self,
        kdc: &mut Kdc,
        etype: EncType,
        rng: &mut dyn RngCore,
    ) -> Result<Credentials, FixtureError> {
        let mut ex = self.as_exchange(PREAUTH_USER, etype, true)?;
        let req = ex.start(now(), rng).map_err(FixtureError::failed)?;
        let reply = answer(kdc, &req, now(), rng)?;
        match ex.step(&reply, now(), rng).map_err(FixtureError::failed)? {
            AsStep::Done(c) => Ok(c),
            AsStep::Send(_) => Err(FixtureError::failed("AS exchange wants another round")),
        }
    }
}

/// A TGS-REQ for host/app.lab.test with `tgt`, its authenticator at `at`.
pub fn tgs_request(
    tgt: &Credentials,
    etype: EncType,
    at: SystemTime,
    rng: &mut dyn RngCore,
) -> (TgsExchange, Vec<u8>) {
    let mut ex = TgsExchange::new(
        tgt,
        Principal::service(SERVICE[0], SERVICE[1], REALM),
        TgsOptions {
            etypes: vec![etype],
            ..TgsOptions::default()
        },
    );
    let req = ex.request(at, rng);
    (ex, req)
}

/// The KDC's reply to `request`, or an error if it dropped it.
pub fn answer(
    kdc: &mut Kdc,
    request: &[u8],
    now: SystemTime,
    rng: &mut dyn RngCore,
) -> Result<Vec<u8>, FixtureError> {
    match kdc.handle(request, Transport::Udp, now, rng) {
        Outcome::Reply(r) => Ok(r),
        Outcome::Drop(why) => Err(FixtureError::failed(format!("KDC dropped: {why:?}"))),
    }
}

/// The enctypes the KDC benches run: the RFC 3962 one every client
/// offers first, and its RFC 8009 successor.
pub const KDC_ENCTYPES: [EncType; 2] = [
    EncType::Aes256CtsHmacSha196,
    EncType::Aes256CtsHmacSha384192,
];

#[cfg(test)]
mod tests {
    use super::*;
    use rand_chacha::ChaCha12Rng;
    use rand_core::SeedableRng;

    #[test]
    fn as_and_tgs_round_trips_through_the_kdc() {
        let realm = Realm::load().unwrap();
        let mut rng = ChaCha12Rng::seed_from_u64(1);
        for etype in KDC_ENCTYPES {
            let mut kdc = realm.kdc().unwrap();
            // Without pre-auth for `nopreauth`; alice is refused without it.
            for (user, preauth, ok) in [
                (PLAIN_USER, false, true),
                (PREAUTH_USER, true, true),
                (PREAUTH_USER, false, false),
            ] {
                let mut ex = realm.as_exchange(user, etype, preauth).unwrap();
                let req = ex.start(now(), &mut rng).unwrap();
                let rep = answer(&mut kdc, &req, now(), &mut rng).unwrap();
                let done = matches!(ex.step(&rep, now(), &mut rng), Ok(AsStep::Done(_)));
                assert_eq!(done, ok, "{user} preauth={preauth} {}", etype.name());
            }
            let tgt = realm.tgt(&mut kdc, etype, &mut rng).unwrap();
            let (ex, req) = tgs_request(&tgt, etype, tick(1), &mut rng);
            let rep = answer(&mut kdc, &req, tick(1), &mut rng).unwrap();
            let ticket = ex.handle_reply(&rep).unwrap();
            assert_eq!(ticket.session_key.etype(), etype);
            // The same request again is a retransmission: the lookaside
            // cache answers with the very same reply (MIT src/kdc/replay.c).
            let again = answer(&mut kdc, &req, tick(1), &mut rng).unwrap();
            assert_eq!(again, rep);
        }
    }
}
