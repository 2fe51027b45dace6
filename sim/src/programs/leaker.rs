//! Test role: when the timeline says so, connects to a peer and writes a
//! user's password in clear, optionally inside TLS. It exists so the
//! secret-canary check has something real to catch, on the wire and in the
//! TLS plaintext layer; no scenario in the default suite uses it.

use std::sync::Arc;
use std::time::Duration;

use kerbside_net::{Net, TappedStream};
use rustls_pki_types::ServerName;
use tokio::io::{AsyncWrite, AsyncWriteExt};

use super::{HostCommand, HostCtx};

async fn send<S: AsyncWrite + Unpin>(mut s: S, line: &[u8]) {
    // A connection refused or cut by the firewall is fine: the point is
    // what reaches the wire, if anything.
    let _ = s.write_all(line).await;
    let _ = s.shutdown().await;
}

pub(crate) async fn run(ctx: HostCtx) -> turmoil::Result {
    let Some(opts) = ctx.host.leaker.clone() else {
        return Err("leaker without options".into());
    };
    loop {
        if let HostCommand::Leak = ctx.shared.next(&ctx.host.name).await {
            let user = opts.user.split('@').next().unwrap_or(&opts.user);
            let Some(password) = ctx.prepared.password_of(user) else {
                return Err(format!("leaker: no password for {user}").into());
            };
            let line = format!("USER {user} PASS {password}\r\n");
            let addr = ctx.net.resolve(&opts.to, opts.port).await?;
            let Ok(Ok(tcp)) =
                tokio::time::timeout(Duration::from_secs(5), ctx.net.connect(addr)).await
            else {
                continue;
            };
            if !opts.tls {
                send(tcp, line.as_bytes()).await;
                continue;
            }
            let config =
                crate::tls::client_config(&ctx.prepared.relay_anchors(), ctx.clock.clone())?;
            let name = ServerName::try_from(opts.to.clone())?;
            let tap = ctx.net.plaintext_tap(&tcp);
            let connector = tokio_rustls::TlsConnector::from(Arc::clone(&config));
            if let Ok(Ok(tls)) =
                tokio::time::timeout(Duration::from_secs(5), connector.connect(name, tcp)).await
            {
                send(TappedStream::new(tls, tap), line.as_bytes()).await;
            }
        }
    }
}
