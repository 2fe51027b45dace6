//! The KDC host: `kerbside_net::kdc_server` driving the sans-IO KDC over
//! the simulated network, with one trace event per request.
//!
//! Each incarnation starts from the realm's principal store with an empty
//! replay cache, as a rebooted KDC does (MIT's replay cache is not
//! persisted across restarts either).

use std::net::{Ipv4Addr, SocketAddr};
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicI32, Ordering};

use kerbside_kdc::{
    ErrorCode, IssueContext, IssueLimits, IssuePolicy, Kdc, KdcConfig, PolicyDenial, RealmPolicy,
};
use kerbside_net::Net;
use kerbside_net::kdc_server::{KdcServer, KdcServerLimits, RequestLog, RequestRecord};

use super::HostCtx;
use crate::runner::SIM_ENCTYPES;
use crate::world::World;

/// Copies the KDC's per-request log into the trace (`kdc` events).
struct TraceLog {
    world: World,
    host: String,
}

impl RequestLog for TraceLog {
    fn record(&self, rec: &RequestRecord<'_>) {
        self.world
            .record_event("kdc", format!("{} {rec}", self.host));
    }
}

/// The realm's ordinary policy, or, while the `errors` fault is on, a
/// KRB-ERROR with the chosen code for every authenticated request (the
/// policy hook runs after pre-authentication, so the PREAUTH_REQUIRED round
/// trip still happens, as on a DC whose back end is failing).
#[derive(Debug)]
struct FaultPolicy {
    inner: RealmPolicy,
    error: Arc<AtomicI32>,
}

impl IssuePolicy for FaultPolicy {
    fn limits(&self, ctx: &IssueContext<'_>) -> Result<IssueLimits, PolicyDenial> {
        match self.error.load(Ordering::Relaxed) {
            0 => self.inner.limits(ctx),
            code => Err(PolicyDenial {
                code: ErrorCode(code),
                reason: "simulated KDC fault".into(),
            }),
        }
    }
}

/// The realm a KDC host serves.
pub(crate) fn kdc_realm(ctx: &HostCtx) -> Option<String> {
    if let Some(r) = ctx.host.kdc.as_ref().and_then(|k| k.realm.clone()) {
        return Some(r);
    }
    ctx.prepared
        .scenario
        .realms
        .iter()
        .find(|r| {
            r.kdcs
                .iter()
                .any(|k| k.eq_ignore_ascii_case(&ctx.host.name))
        })
        .map(|r| r.name.clone())
}

pub(crate) async fn run(ctx: HostCtx) -> turmoil::Result {
    let realm = kdc_realm(&ctx).ok_or_else(|| format!("kdc {} serves no realm", ctx.host.name))?;
    let data = ctx
        .prepared
        .realm(&realm)
        .ok_or_else(|| format!("kdc {}: no realm {realm}", ctx.host.name))?;
    let mut config = KdcConfig::new(data.store.realm().to_owned());
    config.enctypes = SIM_ENCTYPES.to_vec();
    let policy = FaultPolicy {
        inner: RealmPolicy {
            max_lifetime: config.ticket_lifetime,
            renew_limit: config.renew_limit,
        },
        error: ctx.shared.kdc_errors(&ctx.host.name),
    };
    let kdc = Kdc::with_policy(config, data.store.clone(), Arc::new(policy))?;
    let opts = ctx.host.kdc.clone().unwrap_or_default();
    let addr = SocketAddr::from((Ipv4Addr::UNSPECIFIED, opts.port.unwrap_or(88)));
    let log = Rc::new(TraceLog {
        world: ctx.world().clone(),
        host: ctx.host.name.clone(),
    });
    let server = KdcServer::new(
        ctx.net.clone(),
        ctx.clock.clone(),
        ctx.rng(),
        kdc,
        KdcServerLimits::default(),
        log,
    );
    match (opts.tcp.unwrap_or(true), opts.udp.unwrap_or(true)) {
        (true, true) => server.serve(addr).await?,
        (true, false) => server.serve_tcp(ctx.net.bind_tcp(addr).await?).await?,
        (false, true) => server.serve_udp(ctx.net.bind_udp(addr).await?).await?,
        (false, false) => std::future::pending::<()>().await,
    }
    Ok(())
}
