//! Test role: echoes TCP and UDP on the configured ports. Exercises the
//! world (firewall, loss, latency, crash) without any protocol in the way.

use std::net::{Ipv4Addr, SocketAddr};

use kerbside_net::{Net, TcpListen, UdpSock};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::HostCtx;

pub(crate) async fn run(ctx: HostCtx) -> turmoil::Result {
    let ports = ctx
        .host
        .echo
        .as_ref()
        .map(|e| e.ports.clone())
        .unwrap_or_default();
    let mut tasks = Vec::new();
    if let Some(after) = ctx.host.echo.as_ref().and_then(|e| e.panic_after) {
        let name = ctx.host.name.clone();
        tasks.push(tokio::task::spawn_local(async move {
            tokio::time::sleep(after.0).await;
            panic!("deliberate panic in a task spawned by {name}");
        }));
    }
    for port in ports {
        let any = SocketAddr::from((Ipv4Addr::UNSPECIFIED, port));
        let listener = ctx.net.bind_tcp(any).await?;
        tasks.push(tokio::task::spawn_local(async move {
            while let Ok((mut s, _)) = listener.accept().await {
                tokio::task::spawn_local(async move {
                    let mut buf = vec![0u8; 4096];
                    loop {
                        match s.read(&mut buf).await {
                            Ok(0) | Err(_) => break,
                            Ok(n) => {
                                if s.write_all(&buf[..n]).await.is_err() {
                                    break;
                                }
                            }
                        }
                    }
                });
            }
        }));
        let udp = ctx.net.bind_udp(any).await?;
        tasks.push(tokio::task::spawn_local(async move {
            let mut buf = vec![0u8; 65_536];
            while let Ok((n, from)) = udp.recv_from(&mut buf).await {
                let _ = udp.send_to(&buf[..n], from).await;
            }
        }));
    }
    std::future::pending::<()>().await;
    drop(tasks);
    Ok(())
}
