//! The relay host: `kerbside_net::relay_server` (hyper + rustls) in front of
//! the sans-IO MS-KKDCP core, with the simulation's deterministic TLS and
//! every audit record copied into the trace.

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};

use kerbside_net::Net;
use kerbside_net::relay_server::{RelayServer, ServerLimits};
use kerbside_relay::{
    AuditRecord, AuditSink, RealmRoute, Relay, RelayConfig, Transport, Upstream, UpstreamHost,
};

use super::HostCtx;

/// Collects a relay's audit lines for the driver to copy into the trace
/// (the sink must be `Send + Sync`; the world is single-threaded).
#[derive(Debug, Default)]
pub struct AuditBuffer(Mutex<Vec<String>>);

impl AuditBuffer {
    /// Takes the lines recorded since the last call.
    pub fn drain(&self) -> Vec<String> {
        self.0
            .lock()
            .map(|mut v| std::mem::take(&mut *v))
            .unwrap_or_default()
    }
}

impl AuditSink for AuditBuffer {
    fn record(&self, record: &AuditRecord) {
        if let Ok(mut v) = self.0.lock() {
            v.push(record.to_json_line());
        }
    }
}

/// The relay's configuration from the scenario: each declared realm routed
/// to its KDC hosts over TCP, in the realm's order.
pub(crate) fn relay_config(ctx: &HostCtx) -> Result<RelayConfig, String> {
    let s = &ctx.prepared.scenario;
    let opts = ctx.host.relay.clone().unwrap_or_default();
    let declared: Vec<String> = if opts.realms.is_empty()
        || ctx.prepared.planted == Some(crate::swarm::PlantedBug::RelayForwardsUndeclaredRealm)
    {
        // The planted bug (swarm tests only): routes for every realm.
        s.realms.iter().map(|r| r.name.clone()).collect()
    } else {
        opts.realms.clone()
    };
    let mut routes = Vec::new();
    for name in declared {
        let Some(realm) = s.realms.iter().find(|r| r.name.eq_ignore_ascii_case(&name)) else {
            return Err(format!("relay {}: no realm {name}", ctx.host.name));
        };
        let port = |kdc: &str| {
            s.hosts
                .iter()
                .find(|h| h.name == kdc)
                .and_then(|h| h.kdc.as_ref())
                .and_then(|k| k.port)
                .unwrap_or(88)
        };
        let kdcs = realm
            .kdcs
            .iter()
            .map(|k| Upstream {
                transport: Transport::Tcp,
                host: UpstreamHost::Name(k.clone(), port(k)),
            })
            .collect();
        routes.push(RealmRoute::new(&realm.name, kdcs).map_err(|e| e.to_string())?);
    }
    RelayConfig::with_realms(routes).map_err(|e| e.to_string())
}

pub(crate) async fn run(ctx: HostCtx) -> turmoil::Result {
    let opts = ctx.host.relay.clone().unwrap_or_default();
    let tls_on = opts.tls.unwrap_or(true);
    let port = opts.port.unwrap_or(if tls_on { 443 } else { 80 });
    let relay = Arc::new(Relay::new(relay_config(&ctx)?)?);
    let tls = if tls_on {
        let identity = ctx
            .prepared
            .relay_identity(&ctx.host.name)
            .ok_or_else(|| format!("relay {}: no TLS identity", ctx.host.name))?;
        Some(crate::tls::server_config(identity, ctx.clock.clone())?)
    } else {
        None
    };
    let audit = ctx.shared.relay_audit(&ctx.host.name);
    let server = RelayServer::new(
        ctx.net.clone(),
        ctx.clock.clone(),
        relay,
        tls,
        audit,
        ServerLimits::default(),
    );
    let listener = ctx
        .net
        .bind_tcp(SocketAddr::from((Ipv4Addr::UNSPECIFIED, port)))
        .await?;
    server.serve(listener).await;
    Ok(())
}
