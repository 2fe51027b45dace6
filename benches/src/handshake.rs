//! Complete logons in one thread, no network: the client's initiator, the
//! application server's [`Acceptor`] and the KDC (when the path needs one)
//! hand each other bytes directly. What a logon costs in CPU on each path,
//! without the transport; the simulation ([`crate::sim_logon`]) adds the
//! network.
//!
//! | [`Path`] | exchanges |
//! |---|---|
//! | `Native` | AS (PREAUTH_REQUIRED, then PA-ENC-TIMESTAMP), TGS, AP-REQ/AP-REP inside SPNEGO |
//! | `Iakerb` | the same KDC exchanges inside IAKERB tokens relayed by the acceptor (draft-ietf-kitten-iakerb-03 §3), AP-REQ with the finished checksum |
//! | `LocalKdc` | IAKERB to the on-target LocalKDC of the application server's machine |
//! | `Ntlm` | NEGOTIATE, CHALLENGE, AUTHENTICATE inside SPNEGO with mechListMIC (MS-NLMP §3.1.5, MS-SPNG §3.3.5.1) |
//!
//! Clients hold long-term keys, not passwords: Windows keeps the derived
//! key after the interactive logon, and string-to-key (4096 PBKDF2 rounds)
//! would otherwise be most of every Kerberos path.

use std::sync::Arc;
use std::time::SystemTime;

use kerbside_client::iakerb::{IakerbInitiator, IakerbOptions, IakerbRequest, IakerbStep};
use kerbside_client::krb::{AsOptions, AsStep, Credentials, Principal, Secret};
use kerbside_client::ntlm::{NtlmClient, NtlmClientConfig, NtlmCredentials};
use kerbside_client::spnego::{OfferedMech, SpnegoInitiator, SpnegoOptions, SpnegoStep};
use kerbside_crypto::{EncType, Key, default_salt};
use kerbside_kdc::localkdc::{LocalAccount, OnTargetConfig, on_target};
use kerbside_kdc::{Kdc, Outcome, Transport};
use kerbside_server::{
    AcceptMode, AcceptStep, Acceptor, AcceptorConfig, AppService, IakerbConfig, NtlmAccounts,
    ServiceKeys, Session,
};
use rand_core::RngCore;

use crate::error::FixtureError;
use crate::realm::{PREAUTH_USER, REALM, Realm, SERVICE, answer, tgs_request};

/// A logon path measured in process.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Path {
    /// Kerberos with the client talking to the KDC itself.
    Native,
    /// Kerberos through the application server (IAKERB).
    Iakerb,
    /// IAKERB to the server machine's own LocalKDC.
    LocalKdc,
    /// NTLM through SPNEGO.
    Ntlm,
}

impl Path {
    /// Every path, in fallback-chain order.
    pub const ALL: [Path; 4] = [Path::Native, Path::Iakerb, Path::LocalKdc, Path::Ntlm];

    /// The name used in bench ids.
    pub fn name(self) -> &'static str {
        match self {
            Path::Native => "native",
            Path::Iakerb => "iakerb",
            Path::LocalKdc => "localkdc",
            Path::Ntlm => "ntlm",
        }
    }
}

/// The user's NTLM password (MS-NLMP NTOWFv2 is cheap: MD4 + HMAC-MD5).
const NTLM_PASSWORD: &str = "Correct horse 1";
/// The application server's machine name: its LocalKDC realm is `APPSRV`.
const MACHINE: &str = "appsrv";
/// The local account's password (derived once, at setup).
const LOCAL_PASSWORD: &str = "Local account 1";

/// Everything a logon needs on the server side, built once.
#[derive(Debug)]
pub struct Lab {
    realm: Realm,
    kdc: Kdc,
    localkdc: Kdc,
    /// alice's key in the LocalKDC realm (what the client derived once).
    local_key: Key,
    alice: Key,
    service: Arc<AppService>,
    local_service: Arc<AppService>,
}

impl Lab {
    /// LAB.TEST's KDC, a Negotiate server for host/app.lab.test that
    /// relays IAKERB to it and knows alice for NTLM, and an on-target
    /// LocalKDC with its own server.
    pub fn new(rng: &mut dyn RngCore) -> Result<Lab, FixtureError> {
        let realm = Realm::load()?;
        let kdc = realm.kdc()?;
        let etype = EncType::Aes256CtsHmacSha196;
        let alice = realm.key(PREAUTH_USER, etype)?;
        let mut keys = ServiceKeys::new();
        let entry = realm
            .store
            .get(&SERVICE.map(str::to_owned))
            .ok_or_else(|| FixtureError::failed("no host/app.lab.test in the store"))?;
        keys.extend(ServiceKeys::from_principal(REALM, entry));
        let mut accounts = NtlmAccounts::new();
        accounts.add_password(PREAUTH_USER, NTLM_PASSWORD);
        let service = Arc::new(AppService::new(
            acceptor_config(IakerbConfig::for_realm(REALM)),
            keys,
            accounts,
        ));

        let cfg = OnTargetConfig::new(
            MACHINE,
            vec![LocalAccount::new(PREAUTH_USER, LOCAL_PASSWORD)],
            vec![vec!["host".to_owned(), MACHINE.to_owned()]],
        );
        let local_realm = cfg.realm();
        let built = on_target(&cfg, rng).map_err(FixtureError::failed)?;
        let mut local_keys = ServiceKeys::new();
        for (components, kvno, key) in built.service_keys {
            let c: Vec<&str> = components.iter().map(String::as_str).collect();
            local_keys.insert(&local_realm, &c, kvno, key);
        }
        let local_service = Arc::new(AppService::new(
            acceptor_config(IakerbConfig::for_realm(&local_realm)),
            local_keys,
            NtlmAccounts::new(),
        ));
        let local_key = Key::from_password(
            etype,
            LOCAL_PASSWORD,
            &default_salt(&local_realm, &[PREAUTH_USER]),
        )
        .map_err(FixtureError::failed)?;
        Ok(Lab {
            realm,
            kdc,
            localkdc: built.kdc,
            local_key,
            alice,
            service,
            local_service,
        })
    }

    /// One complete logon on `path` at `now` (give each logon its own
    /// `now`: authenticators at the same instant are replays, RFC 4120
    /// §3.2.3). Returns the acceptor's session.
    pub fn logon(
        &mut self,
        path: Path,
        now: SystemTime,
        rng: &mut dyn RngCore,
    ) -> Result<Box<Session>, FixtureError> {
        self.logon_recorded(path, now, rng, None)
    }

    /// [`Lab::logon`], also returning every context token exchanged
    /// (initiator's first, then alternating; IAKERB's KDC messages travel
    /// inside them): real tokens for the wire benches.
    pub fn transcript(
        &mut self,
        path: Path,
        now: SystemTime,
        rng: &mut dyn RngCore,
    ) -> Result<Vec<Vec<u8>>, FixtureError> {
        let mut tokens = Vec::new();
        self.logon_recorded(path, now, rng, Some(&mut tokens))?;
        Ok(tokens)
    }

    fn logon_recorded(
        &mut self,
        path: Path,
        now: SystemTime,
        rng: &mut dyn RngCore,
        record: Option<&mut Vec<Vec<u8>>>,
    ) -> Result<Box<Session>, FixtureError> {
        match path {
            Path::Native => {
                let ticket = self.service_ticket(now, rng)?;
                let mut init = spnego(OfferedMech::kerberos(ticket))?;
                let mut acc = Acceptor::new(self.service.clone());
                drive(&mut init, &mut acc, None, now, rng, record)
            }
            Path::Iakerb => {
                let mut init = iakerb(REALM, self.alice.clone(), &["host", "app.lab.test"]);
                let mut acc = Acceptor::new(self.service.clone());
                drive(&mut init, &mut acc, Some(&mut self.kdc), now, rng, record)
            }
            Path::LocalKdc => {
                let realm = MACHINE.to_ascii_uppercase();
                let mut init = iakerb(&realm, self.local_key.clone(), &["host", MACHINE]);
                let mut acc = Acceptor::new(self.local_service.clone());
                drive(
                    &mut init,
                    &mut acc,
                    Some(&mut self.localkdc),
                    now,
                    rng,
                    record,
                )
            }
            Path::Ntlm => {
                let client = NtlmClient::new(
                    NtlmCredentials::password(PREAUTH_USER, "LAB", NTLM_PASSWORD),
                    NtlmClientConfig {
                        target_spn: Some("host/app.lab.test".into()),
                        ..NtlmClientConfig::default()
                    },
                );
                let mut init = spnego(OfferedMech::ntlm(client))?;
                let mut acc = Acceptor::new(self.service.clone());
                drive(&mut init, &mut acc, None, now, rng, record)
            }
        }
    }

    /// AS (with the PREAUTH_REQUIRED round trip a client without cached
    /// pre-auth hints makes) and TGS for host/app.lab.test.
    fn service_ticket(
        &mut self,
        now: SystemTime,
        rng: &mut dyn RngCore,
    ) -> Result<Credentials, FixtureError> {
        let mut ex = kerbside_client::krb::AsExchange::new(
            Principal::user(PREAUTH_USER, REALM),
            Secret::Keys(vec![self.alice.clone()]),
            AsOptions::default(),
        );
        let mut req = ex.start(now, rng).map_err(FixtureError::failed)?;
        let tgt = loop {
            let rep = answer(&mut self.kdc, &req, now, rng)?;
            match ex.step(&rep, now, rng).map_err(FixtureError::failed)? {
                AsStep::Send(next) => req = next,
                AsStep::Done(c) => break c,
            }
        };
        let (tgs, req) = tgs_request(&tgt, EncType::Aes256CtsHmacSha196, now, rng);
        let rep = answer(&mut self.kdc, &req, now, rng)?;
        tgs.handle_reply(&rep).map_err(FixtureError::failed)
    }

    /// The realm the KDC serves.
    pub fn realm(&self) -> &Realm {
        &self.realm
    }
}

fn acceptor_config(iakerb: IakerbConfig) -> AcceptorConfig {
    AcceptorConfig {
        mode: AcceptMode::Negotiate,
        iakerb: Some(iakerb),
        // Bench loops present one authenticator per millisecond of bench
        // time; the cache must hold the whole skew window of them.
        replay_capacity: 2_000_000,
        ..AcceptorConfig::default()
    }
}

fn spnego(mech: OfferedMech) -> Result<Initiator, FixtureError> {
    SpnegoInitiator::new(vec![mech], SpnegoOptions::default())
        .map(|s| Initiator::Spnego(Box::new(s)))
        .map_err(FixtureError::failed)
}

fn iakerb(realm: &str, key: Key, service: &[&str]) -> Initiator {
    Initiator::Iakerb(Box::new(IakerbInitiator::new(
        IakerbRequest {
            user: vec![PREAUTH_USER.to_owned()],
            realm: Some(realm.to_owned()),
            secret: Secret::Keys(vec![key]),
            service: service.iter().map(|s| (*s).to_owned()).collect(),
            service_realm: None,
            tgt: None,
        },
        IakerbOptions::default(),
    )))
}

/// The client side of a logon.
enum Initiator {
    Spnego(Box<SpnegoInitiator>),
    Iakerb(Box<IakerbInitiator>),
}

impl Initiator {
    fn first(&mut self, now: SystemTime, rng: &mut dyn RngCore) -> Result<Vec<u8>, String> {
        match self {
            Initiator::Spnego(s) => s.initial_token(now, rng).map_err(|e| e.to_string()),
            Initiator::Iakerb(i) => i.initial_token(now, rng).map_err(|e| e.to_string()),
        }
    }

    /// The next token to send (if any) and whether the context is
    /// established.
    fn step(
        &mut self,
        token: &[u8],
        now: SystemTime,
        rng: &mut dyn RngCore,
    ) -> Result<(Option<Vec<u8>>, bool), String> {
        match self {
            Initiator::Spnego(s) => match s.step(token, now, rng).map_err(|e| e.to_string())? {
                SpnegoStep::Continue(t) => Ok((Some(t), false)),
                SpnegoStep::Complete(t) => Ok((t, true)),
            },
            Initiator::Iakerb(i) => match i.step(token, now, rng).map_err(|e| e.to_string())? {
                IakerbStep::Continue(t) => Ok((Some(t), false)),
                IakerbStep::Complete(t) => Ok((t, true)),
            },
        }
    }
}

/// Runs `init` against `acc` to the end, answering the acceptor's IAKERB
/// KDC requests with `kdc` (over "TCP": no RESPONSE_TOO_BIG).
fn drive(
    init: &mut Initiator,
    acc: &mut Acceptor,
    mut kdc: Option<&mut Kdc>,
    now: SystemTime,
    rng: &mut dyn RngCore,
    mut record: Option<&mut Vec<Vec<u8>>>,
) -> Result<Box<Session>, FixtureError> {
    let mut keep = |t: &[u8]| {
        if let Some(r) = record.as_deref_mut() {
            r.push(t.to_vec());
        }
    };
    let mut token = init.first(now, rng).map_err(FixtureError::Failed)?;
    let mut client_done = false;
    // A Kerberos logon through IAKERB takes 5 round trips, NTLM 2.
    for _ in 0..16 {
        keep(&token);
        let mut step = acc.step(&token, now, rng);
        while let Ok(AcceptStep::ProxyKdc(req)) = &step {
            let kdc = kdc.as_deref_mut().ok_or_else(|| {
                FixtureError::failed("acceptor asked for a KDC on a path without one")
            })?;
            let reply = match kdc.handle(&req.message, Transport::Tcp, now, rng) {
                Outcome::Reply(r) => r,
                Outcome::Drop(why) => {
                    return Err(FixtureError::failed(format!("KDC dropped {why:?}")));
                }
            };
            step = acc.kdc_reply(Ok(&reply), now, rng);
        }
        match step {
            Ok(AcceptStep::Continue(reply)) => {
                keep(&reply);
                let (next, done) = init.step(&reply, now, rng).map_err(FixtureError::Failed)?;
                client_done = done;
                token = next.ok_or_else(|| {
                    FixtureError::failed("initiator has nothing to send, acceptor is waiting")
                })?;
            }
            Ok(AcceptStep::Complete { reply, session }) => {
                if let Some(reply) = reply {
                    keep(&reply);
                    let (next, done) = init.step(&reply, now, rng).map_err(FixtureError::Failed)?;
                    client_done = done && next.is_none();
                }
                return if client_done {
                    Ok(session)
                } else {
                    Err(FixtureError::failed("acceptor finished, initiator did not"))
                };
            }
            Ok(AcceptStep::ProxyKdc(_)) => {
                return Err(FixtureError::failed("unresolved KDC request"));
            }
            Err(f) => {
                return Err(FixtureError::failed(format!(
                    "acceptor refused: {}",
                    f.error
                )));
            }
        }
    }
    Err(FixtureError::failed("no context after 16 round trips"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::realm::tick;
    use kerbside_client::gss::Mechanism;
    use rand_chacha::ChaCha12Rng;
    use rand_core::SeedableRng;

    #[test]
    fn every_path_authenticates_alice_by_the_mechanism_it_is_named_after() {
        let mut rng = ChaCha12Rng::seed_from_u64(3);
        let mut lab = Lab::new(&mut rng).unwrap();
        for (i, path) in Path::ALL.into_iter().enumerate() {
            for round in 0..2u64 {
                let s = lab
                    .logon(path, tick(10 * i as u64 + round), &mut rng)
                    .unwrap_or_else(|e| panic!("{}: {e}", path.name()));
                assert!(s.client.contains("alice"), "{}: {}", path.name(), s.client);
                let want = if path == Path::Ntlm {
                    Mechanism::Ntlm
                } else {
                    Mechanism::Kerberos
                };
                assert_eq!(s.mechanism, want, "{}", path.name());
                assert_eq!(
                    s.iakerb.is_some(),
                    matches!(path, Path::Iakerb | Path::LocalKdc),
                    "{}",
                    path.name()
                );
            }
        }
        // Token counts: SPNEGO Kerberos is one round trip; NTLM two plus
        // the acceptor's final MIC; IAKERB five (AS twice, TGS, AP) less the
        // AP-REP-less finish.
        for (path, n) in [(Path::Native, 2), (Path::Ntlm, 4), (Path::Iakerb, 8)] {
            let t = lab.transcript(path, tick(500 + n), &mut rng).unwrap();
            assert_eq!(t.len(), n as usize, "{}", path.name());
        }
        // Two genuine logons in the same microsecond are not replays: the
        // replay caches key on the authenticator's ciphertext tag too
        // (MIT k5_rc_tag_from_ciphertext), and each encryption differs.
        let _ = lab.logon(Path::Native, tick(1000), &mut rng).unwrap();
        assert!(lab.logon(Path::Native, tick(1000), &mut rng).is_ok());
    }
}
