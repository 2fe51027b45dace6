//! The client host, and the simple fallback client that logs users on until
//! the negotiator replaces it behind [`LogonAgent`].
//!
//! The simple client's chain, per logon:
//!
//! 1. native Kerberos to each KDC of the realm in order: TCP first (as
//!    Windows does), then UDP when the policy enables it
//!    (RFC 4120 §7.2.1/§7.2.2);
//! 2. then each configured KKDCP relay in order (MS-KKDCP §3.1).
//!
//! On each path it runs the whole logon: AS exchange (with the
//! KDC_ERR_PREAUTH_REQUIRED round trip, RFC 4120 §3.1.1/§5.2.7.2) and, when
//! a service is named, the TGS exchange (§3.3). A transport failure moves
//! on to the next path; a KRB-ERROR is the KDC's answer and ends the logon,
//! except KDC_ERR_SVC_UNAVAILABLE (another KDC may serve) and
//! KRB_ERR_RESPONSE_TOO_BIG (RFC 4120 §7.2.1: retry over TCP).

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use kerbside_client::krb::{
    AsExchange, AsOptions, AsStep, KrbClientError, Principal, Secret, TgsExchange, TgsOptions,
};
use kerbside_crypto::Key;
use kerbside_net::kdc_transport::{TransportError, send_tcp, send_udp};
use kerbside_net::kkdcp_transport::{ConnectionMode, KkdcpClient, KkdcpError, KkdcpUrl};
use kerbside_net::{Clock, HostRng, Net};
use tokio::time::Instant;

use super::{HostCommand, HostCtx};
use crate::clock::SimClock;
use crate::logon::{Attempt, AttemptResult, LogonAgent, LogonReport, LogonRequest};
use crate::net::SimNet;
use crate::runner::{Prepared, SIM_ENCTYPES};
use crate::scenario::{Path, Policy};

/// Largest TCP reply the client accepts (MIT: 1 MiB for KKDCP; a KDC reply
/// is a few KiB).
const MAX_REPLY: usize = 1 << 20;

/// KDC_ERR_SVC_UNAVAILABLE (RFC 4120 §7.5.9).
const KDC_ERR_SVC_UNAVAILABLE: i32 = 29;
/// KRB_ERR_RESPONSE_TOO_BIG (RFC 4120 §7.5.9).
const KRB_ERR_RESPONSE_TOO_BIG: i32 = 52;

/// What a logon agent gets to work with on its client host.
#[derive(Debug)]
pub struct AgentContext {
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

/// Builds the client host's logon agent. The negotiator (issue 7) plugs in
/// here, selected by the scenario's `[policy]`.
pub fn make_agent(ctx: AgentContext) -> Result<Rc<dyn LogonAgent>, String> {
    Ok(Rc::new(SimpleClient::new(ctx)?))
}

pub(crate) async fn run(ctx: HostCtx) -> turmoil::Result {
    let agent = make_agent(AgentContext {
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

/// One way to carry a Kerberos message to the realm.
#[derive(Clone, Debug)]
enum Channel {
    Tcp(String, u16),
    Udp(String, u16),
    Kkdcp(usize),
}

/// Why a path failed.
enum Fail {
    /// The KDC answered with an error.
    Krb(i32, String),
    /// The path did not deliver an answer.
    Path(AttemptResult),
}

/// The pre-negotiator fallback client.
pub struct SimpleClient {
    net: SimNet,
    clock: SimClock,
    rng: RefCell<HostRng>,
    prepared: Arc<Prepared>,
    policy: Policy,
    tls: Option<Arc<rustls::ClientConfig>>,
    relays: Vec<KkdcpUrl>,
    /// Idle keep-alive clients per relay (a logon takes one, returns it).
    pools: RefCell<Vec<Vec<KkdcpClient<SimNet>>>>,
}

impl std::fmt::Debug for SimpleClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimpleClient")
            .field("relays", &self.relays.len())
            .finish_non_exhaustive()
    }
}

impl SimpleClient {
    /// The simple client for one client host.
    pub fn new(ctx: AgentContext) -> Result<Self, String> {
        let policy = ctx.prepared.scenario.policy.clone();
        let relays = policy
            .relays
            .iter()
            .map(|u| u.parse::<KkdcpUrl>().map_err(|e| e.to_string()))
            .collect::<Result<Vec<_>, _>>()?;
        let tls = if relays.iter().any(|u| u.https) {
            Some(
                crate::tls::client_config(&ctx.prepared.relay_anchors(), ctx.clock.clone())
                    .map_err(|e| e.to_string())?,
            )
        } else {
            None
        };
        Ok(SimpleClient {
            net: ctx.net,
            clock: ctx.clock,
            rng: RefCell::new(ctx.rng),
            prepared: ctx.prepared,
            pools: RefCell::new(relays.iter().map(|_| Vec::new()).collect()),
            policy,
            tls,
            relays,
        })
    }

    fn kdcs(&self, realm: &str) -> Vec<(String, u16)> {
        let s = &self.prepared.scenario;
        let Some(r) = s.realms.iter().find(|r| r.name.eq_ignore_ascii_case(realm)) else {
            return Vec::new();
        };
        r.kdcs
            .iter()
            .map(|k| {
                let port = s
                    .hosts
                    .iter()
                    .find(|h| &h.name == k)
                    .and_then(|h| h.kdc.as_ref())
                    .and_then(|o| o.port);
                (k.clone(), port.unwrap_or(88))
            })
            .collect()
    }

    async fn logon_impl(&self, req: LogonRequest) -> LogonReport {
        let started = Instant::now();
        let keys = self
            .prepared
            .realm(&req.realm)
            .and_then(|r| r.keys_of(&req.user));
        let mut attempts = Vec::new();
        let Some(keys) = keys else {
            attempts.push(Attempt {
                stage: Path::None,
                endpoint: String::new(),
                duration: Duration::ZERO,
                result: AttemptResult::Error(format!(
                    "no credentials for {}@{}",
                    req.user, req.realm
                )),
            });
            return LogonReport::from_attempts(attempts, started.elapsed());
        };
        let mut channels = Vec::new();
        for (kdc, port) in self.kdcs(&req.realm) {
            if self.policy.native_tcp {
                channels.push((Path::NativeTcp, Channel::Tcp(kdc.clone(), port)));
            }
            if self.policy.native_udp {
                channels.push((Path::NativeUdp, Channel::Udp(kdc, port)));
            }
        }
        for i in 0..self.relays.len() {
            channels.push((Path::Kkdcp, Channel::Kkdcp(i)));
        }
        for (stage, channel) in channels {
            let t = Instant::now();
            let r = self.logon_on(&channel, &req, &keys).await;
            let endpoint = self.endpoint(&channel);
            let (result, stop) = match r {
                Ok(()) => (AttemptResult::Ok, true),
                Err(Fail::Krb(code, name)) => {
                    let stop = code != KDC_ERR_SVC_UNAVAILABLE && code != KRB_ERR_RESPONSE_TOO_BIG;
                    (AttemptResult::KrbError { code, name }, stop)
                }
                Err(Fail::Path(res)) => (res, false),
            };
            attempts.push(Attempt {
                stage,
                endpoint,
                duration: t.elapsed(),
                result,
            });
            if stop {
                break;
            }
        }
        LogonReport::from_attempts(attempts, started.elapsed())
    }

    fn endpoint(&self, c: &Channel) -> String {
        match c {
            Channel::Tcp(h, p) => format!("{h}:{p}/tcp"),
            Channel::Udp(h, p) => format!("{h}:{p}/udp"),
            Channel::Kkdcp(i) => self
                .relays
                .get(*i)
                .map(ToString::to_string)
                .unwrap_or_default(),
        }
    }

    /// AS (and TGS) over one channel.
    async fn logon_on(
        &self,
        channel: &Channel,
        req: &LogonRequest,
        keys: &[Key],
    ) -> Result<(), Fail> {
        let client = Principal::parse(&req.user, &req.realm)
            .map_err(|e| Fail::Path(AttemptResult::Error(e.to_string())))?;
        let options = AsOptions {
            etypes: SIM_ENCTYPES.to_vec(),
            ..AsOptions::default()
        };
        let mut exchange = AsExchange::new(client, Secret::Keys(keys.to_vec()), options);
        let mut request = {
            let mut rng = self.rng.borrow_mut();
            exchange
                .start(self.clock.now(), &mut *rng)
                .map_err(krb_fail)?
        };
        let mut tgt = None;
        // At most: the first request, the pre-authenticated retry.
        for _ in 0..3 {
            let reply = self.send(channel, &req.realm, &request).await?;
            let step = {
                let mut rng = self.rng.borrow_mut();
                exchange
                    .step(&reply, self.clock.now(), &mut *rng)
                    .map_err(krb_fail)?
            };
            match step {
                AsStep::Send(next) => request = next,
                AsStep::Done(creds) => {
                    tgt = Some(creds);
                    break;
                }
            }
        }
        let Some(tgt) = tgt else {
            return Err(Fail::Path(AttemptResult::Error(
                "AS exchange did not converge".into(),
            )));
        };
        if let Some(service) = &req.service {
            let sname = Principal::parse(service, &req.realm)
                .map_err(|e| Fail::Path(AttemptResult::Error(e.to_string())))?;
            let mut tgs = TgsExchange::new(
                &tgt,
                sname,
                TgsOptions {
                    etypes: SIM_ENCTYPES.to_vec(),
                    ..TgsOptions::default()
                },
            );
            let request = {
                let mut rng = self.rng.borrow_mut();
                tgs.request(self.clock.now(), &mut *rng)
            };
            let reply = self.send(channel, &req.realm, &request).await?;
            tgs.handle_reply(&reply).map_err(krb_fail)?;
        }
        Ok(())
    }

    async fn send(&self, channel: &Channel, realm: &str, request: &[u8]) -> Result<Vec<u8>, Fail> {
        match channel {
            Channel::Tcp(host, port) => {
                let addr = self
                    .net
                    .resolve(host, *port)
                    .await
                    .map_err(|e| Fail::Path(AttemptResult::Error(e.to_string())))?;
                send_tcp(
                    &self.net,
                    addr,
                    request,
                    self.policy.kdc_timeout.0,
                    MAX_REPLY,
                )
                .await
                .map_err(transport_fail)
            }
            Channel::Udp(host, port) => {
                let addr = self
                    .net
                    .resolve(host, *port)
                    .await
                    .map_err(|e| Fail::Path(AttemptResult::Error(e.to_string())))?;
                send_udp(&self.net, addr, request, self.policy.kdc_timeout.0)
                    .await
                    .map_err(transport_fail)
            }
            Channel::Kkdcp(i) => {
                let pooled = self.pools.borrow_mut().get_mut(*i).and_then(Vec::pop);
                let mut client = match pooled {
                    Some(c) => c,
                    None => {
                        let url =
                            self.relays.get(*i).cloned().ok_or_else(|| {
                                Fail::Path(AttemptResult::Error("no relay".into()))
                            })?;
                        KkdcpClient::new(
                            self.net.clone(),
                            url,
                            self.tls.clone(),
                            ConnectionMode::KeepAlive,
                            self.policy.relay_timeout.0,
                        )
                        .map_err(kkdcp_fail)?
                    }
                };
                let r = client.exchange(realm, request).await;
                if let Some(pool) = self.pools.borrow_mut().get_mut(*i) {
                    pool.push(client);
                }
                r.map_err(kkdcp_fail)
            }
        }
    }
}

impl LogonAgent for SimpleClient {
    fn logon(&self, req: LogonRequest) -> Pin<Box<dyn Future<Output = LogonReport> + '_>> {
        Box::pin(self.logon_impl(req))
    }
}

fn krb_fail(e: KrbClientError) -> Fail {
    match e {
        KrbClientError::Krb(info) => Fail::Krb(info.code, info.name().to_owned()),
        other => Fail::Path(AttemptResult::Error(other.to_string())),
    }
}

fn transport_fail(e: TransportError) -> Fail {
    Fail::Path(match e {
        TransportError::Refused => AttemptResult::Refused,
        TransportError::Timeout => AttemptResult::Timeout,
        other => AttemptResult::Error(other.to_string()),
    })
}

fn kkdcp_fail(e: KkdcpError) -> Fail {
    Fail::Path(match e {
        KkdcpError::Timeout(_) => AttemptResult::Timeout,
        KkdcpError::Connect { source, .. }
            if source.kind() == std::io::ErrorKind::ConnectionRefused =>
        {
            AttemptResult::Refused
        }
        other => AttemptResult::Error(other.to_string()),
    })
}
