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

use std::net::{Ipv4Addr, SocketAddr};
use std::rc::Rc;
use std::sync::Arc;

use kerbside_net::Net;
use kerbside_net::app_server::{AppEvent, AppEventSink, AppServer, AppServerLimits};
use kerbside_server::{AcceptMode, AcceptorConfig, AppService, NtlmAccounts, ServiceKeys};

use super::HostCtx;
use crate::scenario::Role;
use crate::world::World;

/// gss-server's default port.
pub const DEFAULT_APP_PORT: u16 = 4444;

/// Copies each connection's outcome into the trace.
struct TraceSink {
    world: World,
    host: String,
}

impl AppEventSink for TraceSink {
    fn event(&self, e: &AppEvent) {
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
    if kerberos {
        for e in realm.store.iter() {
            let comps = e.principal.components();
            let listed = opts.spns.iter().any(|s| *s == comps.join("/"));
            let by_name = opts.spns.is_empty()
                && comps.len() == 2
                && comps[0] != "krbtgt"
                && names.contains(&comps[1].to_ascii_lowercase());
            if listed || by_name {
                keys.extend(ServiceKeys::from_principal(&realm_name, e));
            }
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
    Ok(AppService::new(
        AcceptorConfig {
            mode,
            ..AcceptorConfig::default()
        },
        keys,
        accounts,
    ))
}

pub(crate) async fn run(ctx: HostCtx) -> turmoil::Result {
    let opts = ctx.host.app.clone().unwrap_or_default();
    let port = opts.port.unwrap_or(DEFAULT_APP_PORT);
    let service = Arc::new(app_service(&ctx)?);
    let listener = ctx
        .net
        .bind_tcp(SocketAddr::from((Ipv4Addr::UNSPECIFIED, port)))
        .await?;
    let sink = Rc::new(TraceSink {
        world: ctx.world().clone(),
        host: ctx.host.name.clone(),
    });
    let server = AppServer::new(
        ctx.net.clone(),
        ctx.clock.clone(),
        ctx.rng(),
        service,
        None,
        sink,
        AppServerLimits::default(),
    );
    server.serve(listener).await;
    Ok(())
}
