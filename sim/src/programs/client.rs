//! The client host: the negotiator (`kerbside_client::negotiator`, driven
//! by `kerbside_net::negotiator_driver`) logs users on, behind
//! [`LogonAgent`].
//!
//! Its policy is the scenario's `[policy]` with the host's
//! `[host.client.policy]` merged over it; the native KDC list defaults to
//! the client realm's `kdcs`. Users authenticate with their long-term keys
//! (derived once per scenario) plus their NT hash, so NTLM is possible when
//! the policy lets it be. The negative cache and the ticket cache live as
//! long as the host's incarnation (a restarted laptop forgets them), and
//! are measured on scenario time, so they expire across skipped idle time.

use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::Arc;

use kerbside_client::krb::Principal;
use kerbside_client::negotiator::{self as neg, AppProtocol, AppServer, Credential};
use kerbside_crypto::{EncType, Key, nt_hash};
use kerbside_net::HostRng;
use kerbside_net::negotiator_driver::NegotiatorDriver;
use tokio::time::Instant;

use super::app::DEFAULT_APP_PORT;
use super::{HostCommand, HostCtx};
use crate::clock::SimClock;
use crate::logon::{LogonAgent, LogonReport, LogonRequest};
use crate::net::SimNet;
use crate::runner::Prepared;
use crate::scenario::{Host, NegotiatorPolicy, Role};

/// What a logon agent gets to work with on its client host.
#[derive(Debug)]
pub struct AgentContext {
    /// The run seed (enrolment keys of an on-client LocalKDC derive from it).
    pub seed: u64,
    /// The world (the LocalKDC records its decisions and tickets there).
    pub world: crate::world::World,
    /// The host (name, role, options).
    pub host: crate::scenario::Host,
    /// The host's network.
    pub net: SimNet,
    /// The host's clock.
    pub clock: SimClock,
    /// The host's RNG for this incarnation.
    pub rng: HostRng,
    /// The scenario, keys and certificates.
    pub prepared: Arc<Prepared>,
}

/// Builds the client host's logon agent: the negotiator.
pub fn make_agent(ctx: AgentContext) -> Result<Rc<dyn LogonAgent>, String> {
    Ok(Rc::new(NegotiatorAgent::new(ctx)?))
}

pub(crate) async fn run(ctx: HostCtx) -> turmoil::Result {
    let agent = make_agent(AgentContext {
        seed: ctx.seed,
        world: ctx.world().clone(),
        host: ctx.host.clone(),
        net: ctx.net.clone(),
        clock: ctx.clock.clone(),
        rng: ctx.rng(),
        prepared: Arc::clone(&ctx.prepared),
    })?;
    loop {
        let HostCommand::Logon(req) = ctx.shared.next(&ctx.host.name).await else {
            continue;
        };
        let agent = Rc::clone(&agent);
        let shared = Rc::clone(&ctx.shared);
        tokio::task::spawn_local(async move {
            let started = Instant::now();
            let id = req.id;
            let report = agent.logon(req).await;
            shared.logon_finished(id, report, started.elapsed());
        });
    }
}

/// A host by name or alias.
fn find_host<'a>(prepared: &'a Prepared, name: &str) -> Option<&'a Host> {
    prepared.scenario.hosts.iter().find(|h| {
        h.name.eq_ignore_ascii_case(name) || h.aliases.iter().any(|a| a.eq_ignore_ascii_case(name))
    })
}

/// The policy of a client host: the scenario's with the host's overrides,
/// the native KDC list defaulting to its realm's KDC hosts.
pub fn client_policy(prepared: &Prepared, host: &Host) -> Result<NegotiatorPolicy, String> {
    let overrides = host.client.as_ref().and_then(|c| c.policy.as_ref());
    let mut policy = prepared
        .scenario
        .policy
        .merged(overrides)
        .map_err(|e| format!("{}: policy: {e}", host.name))?;
    if policy.native.kdcs.is_empty()
        && let Some(realm) = prepared.client_realm(host)
        && let Some(r) = prepared
            .scenario
            .realms
            .iter()
            .find(|r| r.name.eq_ignore_ascii_case(&realm))
    {
        policy.native.kdcs = r
            .kdcs
            .iter()
            .map(|k| {
                let port = find_host(prepared, k)
                    .and_then(|h| h.kdc.as_ref())
                    .and_then(|o| o.port)
                    .unwrap_or(88);
                if port == 88 {
                    k.clone()
                } else {
                    format!("{k}:{port}")
                }
            })
            .collect();
    }
    Ok(policy)
}

/// The negotiator on one client host.
pub struct NegotiatorAgent {
    driver: NegotiatorDriver<SimNet, SimClock>,
    prepared: Arc<Prepared>,
    workstation: String,
    /// Logons do not know their realm (IAKERB realm discovery).
    discover_realm: bool,
}

impl std::fmt::Debug for NegotiatorAgent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NegotiatorAgent")
            .field("workstation", &self.workstation)
            .field("driver", &self.driver)
            .finish()
    }
}

impl NegotiatorAgent {
    /// The agent for one client host.
    pub fn new(ctx: AgentContext) -> Result<Self, String> {
        let policy = client_policy(&ctx.prepared, &ctx.host)?;
        let tls = if policy
            .kkdcp
            .relays
            .iter()
            .any(|u| u.starts_with("https://"))
        {
            Some(
                crate::tls::client_config(&ctx.prepared.relay_anchors(), ctx.clock.clone())
                    .map_err(|e| e.to_string())?,
            )
        } else {
            None
        };
        // Monotonic time: tokio's (what the negotiator's timers sleep on)
        // plus the world's warp, so caches expire across skipped idle time.
        let timebase = Arc::clone(ctx.clock.timebase());
        let origin = Instant::now();
        // The on-client LocalKDC (issue 8), when the host has one.
        let localkdc = super::localkdc::client_stage(
            &ctx.prepared,
            &ctx.host,
            &ctx.clock,
            ctx.seed,
            &ctx.world,
        )?;
        let mut driver = NegotiatorDriver::new(ctx.net, ctx.clock, ctx.rng, policy, tls)
            .with_monotonic(Rc::new(move || {
                Instant::now().saturating_duration_since(origin) + timebase.warp()
            }));
        if let Some(stage) = localkdc {
            driver = driver.with_localkdc(stage);
        }
        Ok(NegotiatorAgent {
            driver,
            prepared: ctx.prepared,
            workstation: ctx.host.name.to_ascii_uppercase(),
            discover_realm: ctx.host.client.as_ref().is_some_and(|c| c.discover_realm),
        })
    }

    /// The driver (caches, counters).
    pub fn driver(&self) -> &NegotiatorDriver<SimNet, SimClock> {
        &self.driver
    }

    /// The negotiator's request for a timeline logon.
    fn request(&self, req: &LogonRequest) -> Result<neg::LogonRequest, String> {
        let mut client = Principal::parse(&req.user, &req.realm).map_err(|e| e.to_string())?;
        let realm = self
            .prepared
            .realm(&req.realm)
            .ok_or_else(|| format!("no realm {}", req.realm))?;
        let mut keys = realm
            .keys_of(&req.user)
            .ok_or_else(|| format!("no credentials for {}@{}", req.user, req.realm))?;
        // The rc4-hmac key is the NT hash (RFC 4757 §2): NTLM's secret. The
        // simulated KDCs have no rc4 keys, so Kerberos never picks it.
        if let Some(pw) = realm.passwords.get(&req.user) {
            keys.push(Key::new(EncType::Rc4Hmac, nt_hash(pw).to_vec()).map_err(|e| e.to_string())?);
        }
        let mut service = req
            .service
            .as_deref()
            .map(|s| Principal::parse(s, &req.realm))
            .transpose()
            .map_err(|e| e.to_string())?;
        if self.discover_realm {
            // The keys are the realm's, but the negotiator is not told
            // which realm that is: IAKERB asks the server.
            client.realm.clear();
            if let Some(s) = service.as_mut() {
                s.realm.clear();
            }
        }
        let server = match &req.server {
            None => None,
            Some(name) => {
                let host = find_host(&self.prepared, name)
                    .ok_or_else(|| format!("no host named {name}"))?;
                let port = match host.role {
                    Role::Attacker => host.attacker.as_ref().and_then(|a| a.port),
                    _ => host.app.as_ref().and_then(|a| a.port),
                }
                .unwrap_or(DEFAULT_APP_PORT);
                let protocol = req.protocol.unwrap_or(if host.role == Role::Printer {
                    AppProtocol::Ntlm
                } else {
                    AppProtocol::Negotiate
                });
                Some(AppServer {
                    host: name.clone(),
                    port,
                    aliases: Vec::new(),
                    protocol,
                })
            }
        };
        Ok(neg::LogonRequest {
            id: req.id,
            client,
            credential: Credential::Keys(keys),
            service,
            server,
            workstation: self.workstation.clone(),
        })
    }
}

impl LogonAgent for NegotiatorAgent {
    fn logon(&self, req: LogonRequest) -> Pin<Box<dyn Future<Output = LogonReport> + '_>> {
        Box::pin(async move {
            match self.request(&req) {
                Ok(r) => LogonReport::from_result(&self.driver.logon(r).await),
                Err(why) => LogonReport::refused(why),
            }
        })
    }
}
