//! `kerbside conform kdc`: the kdc-* vectors against any KDC. Requests are
//! re-made from their recipes with fresh nonces and the target's clock
//! (learned from the stime of a probe KRB-ERROR, as MIT's `kdc_timesync`
//! does), principals and passwords come from the target's principals file,
//! and TGTs come from a real AS exchange with the target unless a test
//! forges one (which needs the krbtgt password in the file).

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::{Duration, SystemTime};

use kerbside_client::krb::{AsExchange, AsOptions, AsStep, Principal, Secret};
use kerbside_crypto::EncType;
use kerbside_wire::krb::{self, KrbMessage};
use kerbside_wire::time::from_kerberos_time;
use rand_chacha::ChaCha12Rng;
use rand_core::{RngCore, SeedableRng};

use super::kdc_io;
use super::outcome::{LiveResult, Status};
use super::{Classifier, wall_clock};
use crate::kdc_reply;
use crate::model::{
    KdcExpected, KdcInput, KdcRecipe, KdcTransport, PrincipalDef, TestGroup, TicketOrigin,
    VectorFile,
};
use crate::realm::Realm;
use crate::recipe::{self, IssuedTicket};

/// Options of a KDC run.
#[derive(Debug, Clone)]
pub struct KdcTarget {
    /// Address.
    pub addr: SocketAddr,
    /// Force every request over this transport (default: each vector's).
    pub transport: Option<KdcTransport>,
    /// The target's realm and principals.
    pub realm: Realm,
    /// Per-request timeout.
    pub timeout: Duration,
    /// Seed of the run's RNG (nonces, confounders, session keys).
    pub seed: u64,
}

/// The principals a recipe needs the file to have (and with what).
fn needs(recipe: &KdcRecipe, realm: &Realm) -> Vec<String> {
    let mut v = Vec::new();
    match recipe {
        KdcRecipe::AsReq(r) => {
            if let Some(ts) = &r.enc_timestamp
                && ts.password.is_none()
                && let Some(c) = &r.client
            {
                v.push(c.clone());
            }
        }
        KdcRecipe::TgsReq(r) => match r.ticket.origin {
            TicketOrigin::AsExchange => v.push(r.ticket.client.clone()),
            TicketOrigin::Forge => {
                let server = r.ticket.server.clone().unwrap_or_else(|| realm.krbtgt());
                v.push(r.ticket.sealed_with.clone().unwrap_or(server));
            }
        },
        KdcRecipe::Raw(_) => {}
    }
    v
}

/// The principals a recipe names as clients (the AS client, the client in
/// a TGS ticket).
fn clients(recipe: &KdcRecipe) -> Vec<&str> {
    match recipe {
        KdcRecipe::AsReq(r) => r.client.as_deref().into_iter().collect(),
        KdcRecipe::TgsReq(r) => vec![r.ticket.client.as_str()],
        KdcRecipe::Raw(_) => Vec::new(),
    }
}

/// A test relies on its principals having the properties the group gives
/// them (disabled, expired, pre-authentication, enctypes): the target's file
/// must say the same, or the test does not apply.
fn property_check(recipe: &KdcRecipe, group: &[PrincipalDef], realm: &Realm) -> Option<String> {
    for name in clients(recipe) {
        let Some(want) = group.iter().find(|p| p.name == name) else {
            continue; // a principal that must not exist
        };
        let Some(have) = realm.principal(name) else {
            return Some(format!("principal {name} is not in the principals file"));
        };
        let mismatch = if want.disabled != have.disabled {
            Some("disabled")
        } else if want.requires_preauth != have.requires_preauth {
            Some("requires_preauth")
        } else if want.expires.is_some() != have.expires.is_some() {
            Some("expires")
        } else if want.enctypes.is_some() && want.enctypes != have.enctypes {
            Some("enctypes")
        } else {
            None
        };
        if let Some(field) = mismatch {
            return Some(format!(
                "principal {name} must have {field} as in the vectors ({})",
                serde_json::to_string(want).unwrap_or_default()
            ));
        }
    }
    None
}

/// A runner for one KDC.
#[derive(Debug)]
pub struct KdcRunner {
    target: KdcTarget,
    rng: ChaCha12Rng,
    /// Target clock minus local clock, seconds.
    offset: i64,
    tgts: BTreeMap<String, Result<IssuedTicket, String>>,
}

impl KdcRunner {
    /// A runner; probes the target's clock.
    pub fn new(target: KdcTarget) -> KdcRunner {
        let rng = ChaCha12Rng::seed_from_u64(target.seed);
        let mut r = KdcRunner {
            target,
            rng,
            offset: 0,
            tgts: BTreeMap::new(),
        };
        r.offset = r.probe_clock().unwrap_or(0);
        r
    }

    /// The target's clock now.
    pub fn now(&self) -> SystemTime {
        crate::clock::offset(wall_clock(), self.offset)
    }

    fn transport(&self, t: KdcTransport) -> KdcTransport {
        self.target.transport.unwrap_or(t)
    }

    fn send(&self, bytes: &[u8], transport: KdcTransport) -> Result<Option<Vec<u8>>, String> {
        kdc_io::exchange(
            self.target.addr,
            self.transport(transport),
            bytes,
            self.target.timeout,
        )
        .map_err(|e| format!("{}: {e}", self.target.addr))
    }

    /// Asks for a ticket for a principal that cannot exist and reads the
    /// KDC's time from the KRB-ERROR (RFC 4120 §5.9.1 stime).
    fn probe_clock(&mut self) -> Option<i64> {
        let r = crate::generate::probe_recipe();
        let local = wall_clock();
        let built = recipe::build(&r, &self.target.realm, local, &mut self.rng, None).ok()?;
        let reply = self.send(&built.bytes, KdcTransport::Tcp).ok()??;
        let KrbMessage::KrbError(e) = krb::decode(&reply).ok()? else {
            return None;
        };
        let kdc = from_kerberos_time(&e.stime);
        let d = match kdc.duration_since(local) {
            Ok(d) => i64::try_from(d.as_secs()).ok()?,
            Err(e) => -i64::try_from(e.duration().as_secs()).ok()?,
        };
        // Within a few seconds is network delay, not skew.
        Some(if d.abs() <= 2 { 0 } else { d })
    }

    /// A TGT for `client` from an AS exchange with the target.
    fn tgt(&mut self, client: &str) -> Result<IssuedTicket, String> {
        if let Some(t) = self.tgts.get(client) {
            return t.clone();
        }
        let r = self.as_exchange(client);
        self.tgts.insert(client.to_owned(), r.clone());
        r
    }

    fn as_exchange(&mut self, client: &str) -> Result<IssuedTicket, String> {
        let p = self
            .target
            .realm
            .principal(client)
            .ok_or_else(|| format!("{client} is not in the principals file"))?
            .clone();
        let mut ex = AsExchange::new(
            Principal::user(client, &self.target.realm.name),
            Secret::Password(p.password.clone()),
            AsOptions {
                etypes: vec![EncType::Aes256CtsHmacSha196, EncType::Aes128CtsHmacSha196],
                ..AsOptions::default()
            },
        );
        let now = self.now();
        let mut req = ex.start(now, &mut self.rng).map_err(|e| e.to_string())?;
        for _ in 0..3 {
            let reply = self
                .send(&req, KdcTransport::Tcp)?
                .ok_or("the KDC did not answer the AS exchange")?;
            match ex
                .step(&reply, self.now(), &mut self.rng)
                .map_err(|e| format!("AS exchange for {client}: {e}"))?
            {
                AsStep::Send(next) => req = next,
                AsStep::Done(creds) => {
                    return Ok(IssuedTicket {
                        ticket: creds.ticket,
                        session_key: creds.session_key,
                    });
                }
            }
        }
        Err("the AS exchange did not finish".to_owned())
    }

    /// Runs one test; `Err` is the reason it is unsupported.
    fn run_one(
        &mut self,
        group_realm: &str,
        input: &KdcInput,
        expected: &KdcExpected,
        group: &[PrincipalDef],
    ) -> Result<crate::observe::Evaluation, String> {
        let realm = self.target.realm.clone();
        if let KdcRecipe::Raw(raw) = &input.recipe {
            if raw.clock_bound {
                return Err("the request carries a capture's timestamps".to_owned());
            }
            if group_realm != realm.name {
                return Err(format!("the request names realm {group_realm}"));
            }
        }
        if let Some(why) = property_check(&input.recipe, group, &realm) {
            return Err(why);
        }
        for name in needs(&input.recipe, &realm) {
            if realm.principal(&name).is_none() {
                return Err(format!("{name}'s password is not in the principals file"));
            }
        }
        let built = match &input.recipe {
            KdcRecipe::Raw(_) => {
                let bytes =
                    hex::decode(&input.request_hex).map_err(|_| "bad requestHex".to_owned())?;
                crate::check::kdc::built_from_bytes(&bytes)
            }
            KdcRecipe::TgsReq(r) if r.ticket.origin == TicketOrigin::AsExchange => {
                let tgt = self.tgt(&r.ticket.client)?;
                let now = self.now();
                recipe::build(&input.recipe, &realm, now, &mut self.rng, Some(&tgt))
                    .map_err(|e| e.to_string())?
            }
            other => {
                let now = self.now();
                recipe::build(other, &realm, now, &mut self.rng, None).map_err(|e| e.to_string())?
            }
        };
        let mut last = None;
        for bytes in recipe::sends(&built.bytes, input.sends, input.resend_altered)? {
            last = self
                .send(&bytes, input.transport)
                .map_err(|e| format!("transport: {e}"))?;
        }
        Ok(kdc_reply::evaluate(
            expected,
            last.as_deref(),
            &realm,
            &built,
        ))
    }

    /// Runs every KDC test of `files`.
    pub fn run(&mut self, files: &[VectorFile], classify: &Classifier) -> Vec<LiveResult> {
        let mut out = Vec::new();
        for f in files {
            for g in &f.test_groups {
                let TestGroup::KdcExchange(g) = g else {
                    continue;
                };
                for t in &g.tests {
                    let expected = kdc_reply::expected_observation(&t.expected);
                    let r = match self.run_one(
                        &g.params.realm,
                        &t.input,
                        &t.expected,
                        &g.params.principals,
                    ) {
                        Ok(e) => classify.classify(&f.suite, &t.meta(), expected, e),
                        Err(why) => LiveResult {
                            suite: f.suite.clone(),
                            tc_id: t.tc_id,
                            id: t.id.clone(),
                            status: Status::Unsupported,
                            expected,
                            observed: "-".to_owned(),
                            detail: why,
                        },
                    };
                    out.push(r);
                    // Fresh randomness per test even when a test fails early.
                    let _ = self.rng.next_u32();
                }
            }
        }
        out
    }
}
