//! The load balancer (role `balancer`): a layer-4 TCP balancer in front of
//! several relays, the way a KDC proxy farm is usually published. It
//! passes each client connection through to one backend (TLS is not
//! terminated: the relays hold certificates for the balancer's name), so
//! a kept-alive KKDCP connection stays on the backend it landed on.
//!
//! Backends are chosen in turn (round robin) among those believed up. A
//! backend is marked down when a connect to it fails or takes longer than
//! `connect_timeout` (passive check, and that client connection moves on
//! to the next backend) and when an active health check (a TCP connect
//! every `health_every`) fails; a passing check marks it up again. Being
//! layer 4, it cannot see that a backend is merely slow: that is what the
//! clients' own timeouts are for.
//!
//! Every decision is a `balancer` event: `chose <backend>`, `down
//! <backend>`, `up <backend>`.

use std::cell::RefCell;
use std::net::{Ipv4Addr, SocketAddr};
use std::rc::Rc;
use std::time::Duration;

use kerbside_net::{Clock, Net, TcpListen};

use super::HostCtx;
use crate::net::SimTcpStream;

/// Backend health, shared by the accept loop and the health checker.
#[derive(Debug)]
struct Pool {
    backends: Vec<String>,
    up: Vec<bool>,
    next: usize,
}

impl Pool {
    /// Backends to try for a new connection: the up ones from the
    /// round-robin position, then the down ones (a balancer with every
    /// backend down still tries).
    fn order(&mut self) -> Vec<usize> {
        let n = self.backends.len();
        let start = self.next % n.max(1);
        self.next = self.next.wrapping_add(1);
        let rotated: Vec<usize> = (0..n).map(|i| (start + i) % n).collect();
        let mut v: Vec<usize> = rotated.iter().copied().filter(|i| self.up[*i]).collect();
        v.extend(rotated.iter().copied().filter(|i| !self.up[*i]));
        v
    }
}

fn event(ctx: &HostCtx, what: &str, backend: &str, detail: &str) {
    ctx.world().record_event(
        "balancer",
        format!("{} {what} {backend}{detail}", ctx.host.name),
    );
}

/// Marks a backend up or down, recording a change.
fn set_health(ctx: &HostCtx, pool: &RefCell<Pool>, i: usize, up: bool, why: &str) {
    let name = {
        let mut p = pool.borrow_mut();
        if p.up[i] == up {
            return;
        }
        p.up[i] = up;
        p.backends[i].clone()
    };
    event(
        ctx,
        if up { "up" } else { "down" },
        &name,
        &format!(" ({why})"),
    );
}

async fn connect(
    ctx: &HostCtx,
    backend: &str,
    port: u16,
    timeout: Duration,
) -> Result<SimTcpStream, String> {
    let addr = ctx
        .net
        .resolve(backend, port)
        .await
        .map_err(|e| e.to_string())?;
    ctx.clock.timer_hint(timeout);
    match tokio::time::timeout(timeout, ctx.net.connect(addr)).await {
        Ok(Ok(s)) => Ok(s),
        Ok(Err(e)) => Err(format!("connect failed: {}", e.kind())),
        Err(_) => Err(format!("no answer within {timeout:?}")),
    }
}

pub(crate) async fn run(ctx: HostCtx) -> turmoil::Result {
    let Some(opts) = ctx.host.balancer.clone() else {
        return Err("balancer without options".into());
    };
    if opts.backends.is_empty() {
        return Err("balancer without backends".into());
    }
    let port = opts.port.unwrap_or(443);
    let every = opts
        .health_every
        .map(|d| d.0)
        .unwrap_or(Duration::from_secs(5));
    let timeout = opts
        .connect_timeout
        .map(|d| d.0)
        .unwrap_or(Duration::from_secs(1));
    let ctx = Rc::new(ctx);
    let pool = Rc::new(RefCell::new(Pool {
        up: vec![true; opts.backends.len()],
        backends: opts.backends.clone(),
        next: 0,
    }));
    // Active health checks.
    {
        let (ctx, pool) = (Rc::clone(&ctx), Rc::clone(&pool));
        tokio::task::spawn_local(async move {
            loop {
                let n = pool.borrow().backends.len();
                for i in 0..n {
                    let name = pool.borrow().backends[i].clone();
                    match connect(&ctx, &name, port, timeout).await {
                        Ok(s) => {
                            drop(s);
                            set_health(&ctx, &pool, i, true, "health check passed");
                        }
                        Err(e) => set_health(&ctx, &pool, i, false, &format!("health check: {e}")),
                    }
                }
                ctx.clock.timer_hint(every);
                tokio::time::sleep(every).await;
            }
        });
    }
    let listener = ctx
        .net
        .bind_tcp(SocketAddr::from((Ipv4Addr::UNSPECIFIED, port)))
        .await?;
    loop {
        let Ok((mut client, _peer)) = listener.accept().await else {
            continue;
        };
        let (ctx, pool) = (Rc::clone(&ctx), Rc::clone(&pool));
        tokio::task::spawn_local(async move {
            let order = pool.borrow_mut().order();
            for i in order {
                let name = pool.borrow().backends[i].clone();
                match connect(&ctx, &name, port, timeout).await {
                    Ok(mut backend) => {
                        set_health(&ctx, &pool, i, true, "connected");
                        event(&ctx, "chose", &name, "");
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut backend).await;
                        return;
                    }
                    Err(e) => set_health(&ctx, &pool, i, false, &e),
                }
            }
            event(&ctx, "failed", "all", " (no backend answered)");
        });
    }
}
