//! The application-server hosts: `kerbside_net::app_server` (gss-sample
//! framing around the `kerbside_server` acceptor) on the simulated network.
//!
//! * role `app`: a Windows-like server, Negotiate (Kerberos preferred, NTLM
//!   accepted) unless its options narrow it;
//! * role `printer`: an NTLM-only device that was never joined to the
//!   domain: it holds no service key and speaks raw NTLM or SPNEGO
//!   offering only NTLM.
//!
//! Keys: the service principals listed in `app.spns`, or by default every
//! two-component principal of the realm whose host part is the host's name
//! or one of its aliases (`cifs/files.corp.example`). NTLM accounts: the
//! realm's single-component principals with their passwords (the device's
//! "local accounts" mirror the users, so a scenario declares each once).
//! Every connection's outcome is an `app` event in the trace.
//!
//! Issue 8: with `iakerb` the server accepts IAKERB and relays its KDC
//! messages to the KDC hosts of its realm (UDP first, TCP after
//! RESPONSE_TOO_BIG or silence, as MIT's acceptor); with `local_kdc` it
//! also runs an on-target LocalKDC for that realm, reached only that way
//! (its decisions are `localkdc` events); with `trust_localkdc_of` it holds
//! the enrolment keys of those clients' on-client LocalKDCs for its
//! services and enforces their limits.

use std::net::{Ipv4Addr, SocketAddr};
use std::rc::Rc;
use std::sync::Arc;

use kerbside_kdc::localkdc::LocalKdcAudit;
use kerbside_net::Net;
use kerbside_net::app_kdc_forward::{
    ByRealm, ForwardTransport, InProcessKdc, KdcForwarder, NetKdcForwarder,
};
use kerbside_net::app_server::{AppEvent, AppEventSink, AppServer, AppServerLimits};
use kerbside_server::{
    AcceptMode, AcceptorConfig, AppService, IakerbConfig, NtlmAccounts, ServiceKeys,
};

use super::HostCtx;
use crate::scenario::Role;
use crate::world::World;

/// gss-server's default port.
pub const DEFAULT_APP_PORT: u16 = 4444;

/// Copies each connection's outcome into the trace, after the on-target
/// LocalKDC's decisions made meanwhile.
struct TraceSink {
    world: World,
    host: String,
    localkdc: Option<Arc<LocalKdcAudit>>,
}

impl AppEventSink for TraceSink {
    fn event(&self, e: &AppEvent) {
        if let Some(audit) = &self.localkdc {
            for d in audit.drain() {
                if let Ok(json) = serde_json::to_string(&d) {
                    self.world
                        .record_event("localkdc", format!("{} {json}", self.host));
                }
            }
        }
        let json = serde_json::to_string(e).unwrap_or_default();
        self.world
            .record_event("app", format!("{} {json}", self.host));
    }
}

/// The acceptor's service for this host.
pub(crate) fn app_service(ctx: &HostCtx) -> Result<AppService, String> {
    let opts = ctx.host.app.clone().unwrap_or_default();
    let printer = ctx.host.role == Role::Printer;
    let kerberos = opts.kerberos.unwrap_or(!printer);
    let ntlm = opts.ntlm.unwrap_or(true);
    let mode = match (kerberos, ntlm) {
        (true, true) => AcceptMode::Negotiate,
        (true, false) => AcceptMode::KerberosOnly,
        (false, true) => AcceptMode::NtlmOnly,
        (false, false) => {
            return Err(format!(
                "{}: app accepts neither Kerberos nor NTLM",
                ctx.host.name
            ));
        }
    };
    let realm_name = opts
        .realm
        .clone()
        .or_else(|| {
            (ctx.prepared.scenario.realms.len() == 1)
                .then(|| ctx.prepared.scenario.realms[0].name.clone())
        })
        .ok_or_else(|| {
            format!(
                "{}: app.realm is required with several realms",
                ctx.host.name
            )
        })?;
    let realm = ctx
        .prepared
        .realm(&realm_name)
        .ok_or_else(|| format!("{}: no realm {realm_name}", ctx.host.name))?;
    let mut names: Vec<String> = vec![ctx.host.name.to_ascii_lowercase()];
    names.extend(ctx.host.aliases.iter().map(|a| a.to_ascii_lowercase()));
    let mut keys = ServiceKeys::new();
    // The service realm, and the on-target LocalKDC's realm (its services
    // are the machine's own).
    let mut key_realms = vec![realm_name.clone()];
    if let Some(l) = &opts.local_kdc
        && !l.eq_ignore_ascii_case(&realm_name)
    {
        key_realms.push(l.clone());
    }
    let mut served: Vec<Vec<String>> = Vec::new();
    if kerberos {
        for rn in &key_realms {
            let r = ctx
                .prepared
                .realm(rn)
                .ok_or_else(|| format!("{}: no realm {rn}", ctx.host.name))?;
            for e in r.store.iter() {
                let comps = e.principal.components();
                let listed = opts.spns.iter().any(|s| *s == comps.join("/"));
                let by_name = opts.spns.is_empty()
                    && comps.len() == 2
                    && comps[0] != "krbtgt"
                    && names.contains(&comps[1].to_ascii_lowercase());
                if listed || by_name {
                    keys.extend(ServiceKeys::from_principal(r.store.realm(), e));
                    served.push(comps.to_vec());
                }
            }
        }
    }
    // Enrolled with on-client LocalKDCs: their keys for our services, and
    // the limits we enforce on their tickets.
    let mut localkdc_trust = Vec::new();
    for client in &opts.trust_localkdc_of {
        if let Some((enrolments, trust)) =
            super::localkdc::server_side(&ctx.prepared, ctx.seed, client, &served)
        {
            for e in enrolments {
                let comps: Vec<&str> = e.service.iter().map(String::as_str).collect();
                keys.insert(&e.realm, &comps, e.kvno, e.key.clone());
            }
            localkdc_trust.push(trust);
        }
    }
    let mut accounts = NtlmAccounts::new();
    if ntlm {
        for (name, password) in &realm.passwords {
            if !name.contains('/') {
                accounts.add_password(name, password);
            }
        }
    }
    let iakerb = opts.iakerb.then(|| {
        // The LocalKDC's realm first: realm discovery answers with it.
        let mut realms = Vec::new();
        if let Some(l) = &opts.local_kdc {
            realms.push(l.to_ascii_uppercase());
        }
        let has_kdcs = ctx
            .prepared
            .scenario
            .realms
            .iter()
            .any(|r| r.name.eq_ignore_ascii_case(&realm_name) && !r.kdcs.is_empty());
        if has_kdcs {
            realms.push(realm_name.clone());
        }
        IakerbConfig {
            realms,
            ..IakerbConfig::for_realm("")
        }
    });
    Ok(AppService::new(
        AcceptorConfig {
            mode,
            iakerb,
            localkdc_trust,
            ..AcceptorConfig::default()
        },
        keys,
        accounts,
    ))
}

/// Where IAKERB's KDC messages go: the on-target LocalKDC for its realm,
/// the realm's KDC hosts for the rest.
async fn forwarder(
    ctx: &HostCtx,
    limits: &AppServerLimits,
) -> Result<(Rc<dyn KdcForwarder>, Option<Arc<LocalKdcAudit>>), String> {
    let opts = ctx.host.app.clone().unwrap_or_default();
    let mut net = NetKdcForwarder::new(
        ctx.net.clone(),
        ForwardTransport::UdpThenTcp,
        limits.kdc_timeout,
        limits.max_token,
    );
    for r in &ctx.prepared.scenario.realms {
        let mut addrs = Vec::new();
        for k in &r.kdcs {
            let port = ctx
                .prepared
                .scenario
                .hosts
                .iter()
                .find(|h| h.name.eq_ignore_ascii_case(k))
                .and_then(|h| h.kdc.as_ref())
                .and_then(|o| o.port)
                .unwrap_or(88);
            if let Ok(a) = ctx.net.resolve(k, port).await {
                addrs.push(a);
            }
        }
        net = net.with_realm(&r.name, addrs);
    }
    let mut routes = ByRealm::new().fallback(Rc::new(net));
    let mut audit = None;
    if let Some(l) = &opts.local_kdc {
        let (kdc, a) = super::localkdc::on_target_kdc(&ctx.prepared, l)?;
        audit = Some(a);
        let rng = kerbside_net::host_rng(ctx.seed, &format!("{}#localkdc", ctx.host.name));
        routes = routes.route(l, Rc::new(InProcessKdc::new(kdc, ctx.clock.clone(), rng)));
    }
    Ok((Rc::new(routes), audit))
}

pub(crate) async fn run(ctx: HostCtx) -> turmoil::Result {
    let opts = ctx.host.app.clone().unwrap_or_default();
    let port = opts.port.unwrap_or(DEFAULT_APP_PORT);
    let service = Arc::new(app_service(&ctx)?);
    let listener = ctx
        .net
        .bind_tcp(SocketAddr::from((Ipv4Addr::UNSPECIFIED, port)))
        .await?;
    let limits = AppServerLimits::default();
    let (forward, audit) = if opts.iakerb {
        let (f, a) = forwarder(&ctx, &limits).await?;
        (Some(f), a)
    } else {
        (None, None)
    };
    let sink = Rc::new(TraceSink {
        world: ctx.world().clone(),
        host: ctx.host.name.clone(),
        localkdc: audit,
    });
    let mut server = AppServer::new(
        ctx.net.clone(),
        ctx.clock.clone(),
        ctx.rng(),
        service,
        None,
        sink,
        limits,
    );
    if let Some(f) = forward {
        server = server.with_forwarder(f);
    }
    server.serve(listener).await;
    Ok(())
}
