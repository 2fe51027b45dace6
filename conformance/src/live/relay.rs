//! `kerbside conform relay`: the kkdcp-relay vectors against any KKDCP
//! relay. Bodies are re-made from their recipes for the relay's realm with
//! fresh nonces and the KDC's clock (read through the relay from a probe's
//! KRB-ERROR), TGTs come from an AS exchange through the relay itself, and
//! the requests are written byte for byte by a raw HTTP client.
//!
//! Tests that need control of the relay's upstream KDC (refused, silent,
//! malformed replies) or a relay configured differently from the first
//! group's settings are reported unsupported.

use std::time::SystemTime;

use kerbside_client::krb::{AsExchange, AsOptions, AsStep, Principal, Secret};
use kerbside_crypto::EncType;
use kerbside_wire::kkdcp::KdcProxyMessage;
use kerbside_wire::krb::{self, KrbMessage};
use kerbside_wire::time::from_kerberos_time;
use rand_chacha::ChaCha12Rng;
use rand_core::SeedableRng;

use super::http::{Client, HttpError};
use super::outcome::{LiveResult, Status};
use super::{Classifier, wall_clock};
use crate::check::relay::grade;
use crate::kkdcp_body;
use crate::model::{
    BodyRecipe, ContentLength, KdcRecipe, RelayExpected, RelayInput, RelaySettings, TestGroup,
    TicketOrigin, UpstreamBehaviour, VectorFile,
};
use crate::observe::Evaluation;
use crate::realm::Realm;
use crate::recipe::IssuedTicket;

/// The observation for a relay that closed without answering.
pub const CLOSED: &str = "connection-closed";

/// A runner for one relay.
#[derive(Debug)]
pub struct RelayRunner {
    client: Client,
    realm: Realm,
    rng: ChaCha12Rng,
    offset: i64,
    tgt: Option<Result<IssuedTicket, String>>,
}

impl RelayRunner {
    /// A runner; probes the KDC clock through the relay.
    pub fn new(client: Client, realm: Realm, seed: u64) -> RelayRunner {
        let mut r = RelayRunner {
            client,
            realm,
            rng: ChaCha12Rng::seed_from_u64(seed),
            offset: 0,
            tgt: None,
        };
        r.offset = r.probe_clock().unwrap_or(0);
        r
    }

    fn now(&self) -> SystemTime {
        crate::clock::offset(wall_clock(), self.offset)
    }

    /// One well-formed KKDCP exchange: the bare reply, if any.
    fn proxied(&self, message: &[u8]) -> Option<Vec<u8>> {
        let body = KdcProxyMessage::request(message, &self.realm.name)
            .ok()?
            .encode();
        let path = self.client.url().path.clone();
        let r = self
            .client
            .send(
                "POST",
                &path,
                Some("application/kerberos"),
                Some(body.len() as u64),
                &body,
            )
            .ok()?;
        if r.status != 200 {
            return None;
        }
        KdcProxyMessage::decode(&r.body)
            .ok()?
            .kerberos_message()
            .ok()
            .map(<[u8]>::to_vec)
    }

    fn probe_clock(&mut self) -> Option<i64> {
        let local = wall_clock();
        let built = crate::recipe::build(
            &crate::generate::probe_recipe(),
            &self.realm,
            local,
            &mut self.rng,
            None,
        )
        .ok()?;
        let reply = self.proxied(&built.bytes)?;
        let KrbMessage::KrbError(e) = krb::decode(&reply).ok()? else {
            return None;
        };
        let kdc = from_kerberos_time(&e.stime);
        let d = match kdc.duration_since(local) {
            Ok(d) => i64::try_from(d.as_secs()).ok()?,
            Err(e) => -i64::try_from(e.duration().as_secs()).ok()?,
        };
        Some(if d.abs() <= 2 { 0 } else { d })
    }

    fn tgt(&mut self, client: &str) -> Result<IssuedTicket, String> {
        if let Some(t) = &self.tgt {
            return t.clone();
        }
        let r = self.as_exchange(client);
        self.tgt = Some(r.clone());
        r
    }

    fn as_exchange(&mut self, client: &str) -> Result<IssuedTicket, String> {
        let p = self
            .realm
            .principal(client)
            .ok_or_else(|| format!("{client} is not in the principals file"))?
            .clone();
        let mut ex = AsExchange::new(
            Principal::user(client, &self.realm.name),
            Secret::Password(p.password),
            AsOptions {
                etypes: vec![EncType::Aes256CtsHmacSha196, EncType::Aes128CtsHmacSha196],
                ..AsOptions::default()
            },
        );
        let mut req = ex
            .start(self.now(), &mut self.rng)
            .map_err(|e| e.to_string())?;
        for _ in 0..3 {
            let reply = self
                .proxied(&req)
                .ok_or("the relay did not relay the AS exchange")?;
            match ex
                .step(&reply, self.now(), &mut self.rng)
                .map_err(|e| e.to_string())?
            {
                AsStep::Send(next) => req = next,
                AsStep::Done(c) => {
                    return Ok(IssuedTicket {
                        ticket: c.ticket,
                        session_key: c.session_key,
                    });
                }
            }
        }
        Err("the AS exchange did not finish".to_owned())
    }

    fn body(&mut self, input: &RelayInput, group_realm: &str) -> Result<Vec<u8>, String> {
        if let BodyRecipe::Raw(_) = &input.body {
            let bytes = hex::decode(input.body_hex.as_deref().unwrap_or_default())
                .map_err(|_| "bad bodyHex".to_owned())?;
            if let Ok(m) = KdcProxyMessage::decode(&bytes)
                && m.target_domain.as_deref() == Some(group_realm)
                && group_realm != self.realm.name
            {
                return Err(format!("the captured body is for realm {group_realm}"));
            }
            return Ok(bytes);
        }
        let tgt = match &input.body {
            BodyRecipe::Kkdcp(k) => match &k.message {
                Some(KdcRecipe::TgsReq(r)) if r.ticket.origin == TicketOrigin::AsExchange => {
                    Some(self.tgt(&r.ticket.client)?)
                }
                Some(KdcRecipe::TgsReq(_)) => {
                    return Err("a forged ticket needs the krbtgt key".to_owned());
                }
                _ => None,
            },
            _ => None,
        };
        let now = self.now();
        kkdcp_body::build(&input.body, &self.realm, now, &mut self.rng, tgt.as_ref())
            .map(|b| b.bytes)
            .map_err(|e| e.to_string())
    }

    fn run_one(
        &mut self,
        input: &RelayInput,
        expected: &RelayExpected,
        group_realm: &str,
    ) -> Result<Evaluation, String> {
        if input.upstream != UpstreamBehaviour::Kdc {
            return Err("needs control of the relay's upstream KDC".to_owned());
        }
        let body = self.body(input, group_realm)?;
        let content_length = match &input.content_length {
            ContentLength::Auto => Some(body.len() as u64),
            ContentLength::Absent => None,
            ContentLength::Declared { value } => Some(*value),
        };
        let path = input
            .path
            .clone()
            .unwrap_or_else(|| self.client.url().path.clone());
        match self.client.send(
            &input.method,
            &path,
            input.content_type.as_deref(),
            content_length,
            &body,
        ) {
            Ok(r) => Ok(grade(expected, r.status, &r.body)),
            Err(HttpError::NoResponse) | Err(HttpError::Io(_)) => Ok(Evaluation::fail_unless(
                CLOSED,
                format!(
                    "expected http {}, the relay closed the connection",
                    expected.status
                ),
                &expected.alternatives,
            )),
            Err(e) => Err(format!("cannot reach the relay: {e}")),
        }
    }

    /// Runs every relay test of `files`. Only groups whose relay settings
    /// match `settings` (the first group's when `None`) apply.
    pub fn run(
        &mut self,
        files: &[VectorFile],
        classify: &Classifier,
        settings: Option<&RelaySettings>,
    ) -> Vec<LiveResult> {
        let mut out = Vec::new();
        let mut wanted = settings.cloned();
        for f in files {
            for g in &f.test_groups {
                let TestGroup::RelayRequest(g) = g else {
                    continue;
                };
                let w = wanted.get_or_insert_with(|| g.params.relay.clone()).clone();
                for t in &g.tests {
                    let expected = format!("http {}", t.expected.status);
                    let same = g.params.relay.prefix_policy == w.prefix_policy
                        && g.params.relay.require_realm_match == w.require_realm_match;
                    let r = if !same {
                        Err(format!(
                            "the relay must be configured as {}",
                            serde_json::to_string(&g.params.relay).unwrap_or_default()
                        ))
                    } else {
                        self.run_one(&t.input, &t.expected, &g.params.realm)
                    };
                    out.push(match r {
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
                    });
                }
            }
        }
        out
    }
}
