//! Test role: when the timeline says so, connects to a peer and writes a
//! user's password in clear. It exists so the secret-canary check has
//! something real to catch; no scenario in the default suite uses it.

use kerbside_net::Net;
use tokio::io::AsyncWriteExt;

use super::{HostCommand, HostCtx};

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
            let addr = ctx.net.resolve(&opts.to, opts.port).await?;
            // A connection refused or dropped by the firewall is fine: the
            // point is what reaches the wire, if anything.
            if let Ok(Ok(mut s)) =
                tokio::time::timeout(std::time::Duration::from_secs(5), ctx.net.connect(addr)).await
            {
                let line = format!("USER {user} PASS {password}\r\n");
                let _ = s.write_all(line.as_bytes()).await;
                let _ = s.shutdown().await;
            }
        }
    }
}
