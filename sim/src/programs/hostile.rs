//! The hostile client (role `hostile`): a process on the network that
//! talks to the servers with bytes no well-behaved client sends.
//!
//! * `malformed`: garbage, truncated and mangled messages to each target
//!   in turn. KDCs get them over UDP and TCP (RFC 4120 §7.2): random
//!   bytes, a real AS-REQ cut short or with flipped bits, a record mark
//!   promising 2 GiB, a mark and then silence, DER with an absurd length.
//!   Relays get them over HTTPS (MS-KKDCP §2.2): a random body, a
//!   truncated KDC-PROXY-MESSAGE, one with garbage inside, one without
//!   target-domain, and raw non-HTTP bytes inside TLS and outside it.
//!   Application servers get them in the gss-sample framing: random
//!   tokens, a frame promising 2 GiB, a broken GSS header.
//! * `open-proxy`: well-formed KKDCP requests for realms the relay was
//!   not given and for internal host names and addresses (the class of
//!   CVE-2025-59088: a proxy that resolves whatever it is asked for).
//!
//! Every message and what came back (`reply N bytes`, `closed`, `reset`,
//! `silence`, `refused`, `HTTP 4xx`) is a `hostile` event in the trace;
//! the servers must keep serving the real clients, and nothing may be
//! forwarded (`relay-realm`, `relay-upstream`).

use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use kerbside_client::krb::{AsExchange, AsOptions, Principal, Secret};
use kerbside_net::kkdcp_transport::{ConnectionMode, KkdcpClient, KkdcpError, KkdcpUrl};
use kerbside_net::{Clock, Net, TappedStream};
use kerbside_wire::kkdcp::KdcProxyMessage;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha12Rng;
use rustls_pki_types::ServerName;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use super::HostCtx;
use super::app::DEFAULT_APP_PORT;
use crate::runner::SIM_ENCTYPES;
use crate::scenario::{HostileMode, HostileOptions, Role};

/// The `target-domain`s an open-proxy abuser asks for by default: realms
/// nobody declared, names and addresses of internal hosts, the cloud
/// metadata service, and malformed realm strings.
pub const ABUSE_DOMAINS: &[&str] = &[
    "EVIL.EXAMPLE",
    "LAB.TEST",
    "dc1",
    "dc1.corp.example",
    "10.0.0.10",
    "10.0.0.10:88",
    "localhost",
    "127.0.0.1",
    "169.254.169.254",
    "metadata.google.internal",
    "CORP.EXAMPLE.EVIL.EXAMPLE",
    "_kerberos._tcp.corp.example",
];

/// How long the hostile client waits for a connection or an answer.
const WAIT: Duration = Duration::from_secs(2);

/// What one message got back.
fn describe_read(r: Result<std::io::Result<usize>, tokio::time::error::Elapsed>) -> String {
    match r {
        Ok(Ok(0)) => "closed".into(),
        Ok(Ok(n)) => format!("reply {n} bytes"),
        Ok(Err(e)) if e.kind() == std::io::ErrorKind::ConnectionReset => "reset".into(),
        Ok(Err(e)) => format!("error {}", e.kind()),
        Err(_) => "silence".into(),
    }
}

/// Writes `bytes` (ignoring a peer that hangs up first) and reads what
/// comes back within [`WAIT`].
async fn poke<S: AsyncRead + AsyncWrite + Unpin, C: Clock>(
    clock: &C,
    mut s: S,
    bytes: &[u8],
) -> String {
    if let Err(e) = s.write_all(bytes).await {
        return format!("write failed ({})", e.kind());
    }
    let _ = s.flush().await;
    let mut buf = vec![0u8; 8192];
    clock.timer_hint(WAIT);
    describe_read(tokio::time::timeout(WAIT, s.read(&mut buf)).await)
}

/// A real first AS-REQ for `user@realm` (no pre-authentication yet),
/// which the malformed variants cut and mangle.
fn as_req(ctx: &HostCtx, rng: &mut impl rand_core::RngCore, user: &str, realm: &str) -> Vec<u8> {
    let Ok(client) = Principal::parse(user, realm) else {
        return Vec::new();
    };
    let mut ex = AsExchange::new(
        client,
        Secret::Keys(Vec::new()),
        AsOptions {
            etypes: SIM_ENCTYPES.to_vec(),
            ..AsOptions::default()
        },
    );
    ex.start(ctx.clock.now(), rng).unwrap_or_default()
}

fn random_bytes(rng: &mut impl Rng, max: usize) -> Vec<u8> {
    let n = rng.random_range(1..=max.max(1));
    (0..n).map(|_| rng.random()).collect()
}

fn record(msg: &[u8]) -> Vec<u8> {
    let mut v = (msg.len() as u32).to_be_bytes().to_vec();
    v.extend_from_slice(msg);
    v
}

pub(crate) async fn run(ctx: HostCtx) -> turmoil::Result {
    let Some(opts) = ctx.host.hostile.clone() else {
        return Err("hostile client without options".into());
    };
    let start = opts.start.map(|d| d.0).unwrap_or(Duration::from_secs(1));
    let every = opts
        .every
        .map(|d| d.0)
        .unwrap_or(Duration::from_millis(500));
    let count = opts.count.unwrap_or(100);
    let mut rng = ctx.rng();
    let mut relays: Vec<Option<KkdcpClient<crate::net::SimNet>>> = Vec::new();
    let ctx = Rc::new(ctx);
    let wait_until = |at: Duration| {
        let now = ctx.clock.timebase().scenario_elapsed();
        at.saturating_sub(now)
    };
    let first = wait_until(start);
    ctx.clock.timer_hint(first);
    tokio::time::sleep(first).await;
    for i in 0..count {
        if opts.targets.is_empty() {
            break;
        }
        let target = opts.targets[i as usize % opts.targets.len()].clone();
        match opts.mode {
            // Malformed messages go out on a schedule, whatever the
            // servers make of the previous ones: one task each.
            HostileMode::Malformed => {
                let mut mrng = ChaCha12Rng::seed_from_u64(rng.random());
                let ctx = Rc::clone(&ctx);
                tokio::task::spawn_local(async move {
                    let outcome = malformed(&ctx, &mut mrng, &target, i).await;
                    report(&ctx, &target, outcome);
                });
            }
            HostileMode::OpenProxy => {
                let outcome = open_proxy(&ctx, &opts, &mut relays, &mut rng, &target, i).await;
                report(&ctx, &target, outcome);
            }
        }
        ctx.clock.timer_hint(every);
        tokio::time::sleep(every).await;
    }
    // Stay up (a finished program would read as a stopped host).
    std::future::pending::<()>().await;
    Ok(())
}

/// Records what a message got back.
fn report(ctx: &HostCtx, target: &str, outcome: Option<(String, String)>) {
    if let Some((what, result)) = outcome {
        ctx.world().record_event(
            "hostile",
            format!("{} -> {target} {what}: {result}", ctx.host.name),
        );
    }
}

/// One malformed message to `target`, chosen by `i`.
async fn malformed(
    ctx: &HostCtx,
    rng: &mut ChaCha12Rng,
    target: &str,
    i: u32,
) -> Option<(String, String)> {
    let host = ctx
        .prepared
        .scenario
        .hosts
        .iter()
        .find(|h| h.name.eq_ignore_ascii_case(target))?;
    match host.role {
        Role::Kdc => {
            let port = host.kdc.as_ref().and_then(|k| k.port).unwrap_or(88);
            let realm = ctx
                .prepared
                .scenario
                .realms
                .first()
                .map(|r| r.name.clone())
                .unwrap_or_default();
            let real = as_req(ctx, rng, "mallory", &realm);
            let variant = i / ctx_targets(ctx) % 9;
            let (what, bytes, tcp): (&str, Vec<u8>, bool) = match variant {
                0 => ("random datagram", random_bytes(rng, 600), false),
                1 => {
                    let cut = rng.random_range(1..real.len().max(2));
                    (
                        "truncated AS-REQ datagram",
                        real[..cut.min(real.len())].to_vec(),
                        false,
                    )
                }
                2 => {
                    let mut m = real.clone();
                    for _ in 0..rng.random_range(1..8) {
                        if m.is_empty() {
                            break;
                        }
                        let at = rng.random_range(0..m.len());
                        m[at] ^= 1 << rng.random_range(0..8);
                    }
                    ("bit-flipped AS-REQ datagram", m, false)
                }
                3 => {
                    let mut m = 0x7fff_ffffu32.to_be_bytes().to_vec();
                    m.extend_from_slice(&real[..real.len().min(40)]);
                    ("record mark promising 2 GiB", m, true)
                }
                4 => ("record of garbage", record(&random_bytes(rng, 900)), true),
                5 => {
                    let mut m = record(&real);
                    m.truncate(4 + real.len() / 2);
                    ("half a record", m, true)
                }
                6 => (
                    "a record mark and silence",
                    600u32.to_be_bytes().to_vec(),
                    true,
                ),
                7 => (
                    "DER with an absurd length",
                    record(&[0x6a, 0x84, 0xff, 0xff, 0xff, 0xf0, 0x30, 0x00]),
                    true,
                ),
                _ => {
                    let mut m = real.clone();
                    if let Some(b) = m.get_mut(0) {
                        *b = 0x6c; // application tag 12: TGS-REQ
                    }
                    ("AS-REQ body under the TGS-REQ tag", m, false)
                }
            };
            let addr = ctx.net.resolve(&host.name, port).await.ok()?;
            let result = if tcp {
                ctx.clock.timer_hint(WAIT);
                match tokio::time::timeout(WAIT, ctx.net.connect(addr)).await {
                    Ok(Ok(s)) => poke(&ctx.clock, s, &bytes).await,
                    Ok(Err(e)) => format!("refused ({})", e.kind()),
                    Err(_) => "connect timed out".into(),
                }
            } else {
                let sock = ctx
                    .net
                    .bind_udp(std::net::SocketAddr::from(([0, 0, 0, 0], 0)))
                    .await
                    .ok()?;
                let _ = kerbside_net::UdpSock::send_to(&sock, &bytes, addr).await;
                let mut buf = vec![0u8; 4096];
                ctx.clock.timer_hint(WAIT);
                match tokio::time::timeout(WAIT, kerbside_net::UdpSock::recv_from(&sock, &mut buf))
                    .await
                {
                    Ok(Ok((n, _))) => format!("reply {n} bytes"),
                    Ok(Err(e)) => format!("error {}", e.kind()),
                    Err(_) => "silence".into(),
                }
            };
            let proto = if tcp { "tcp" } else { "udp" };
            Some((
                format!("{port}/{proto} {what} ({} bytes)", bytes.len()),
                result,
            ))
        }
        Role::Relay => {
            let opts = host.relay.clone().unwrap_or_default();
            let tls = opts.tls.unwrap_or(true);
            let port = opts.port.unwrap_or(if tls { 443 } else { 80 });
            let realm = ctx
                .prepared
                .scenario
                .realms
                .first()
                .map(|r| r.name.clone())
                .unwrap_or_default();
            let real = as_req(ctx, rng, "mallory", &realm);
            let proxy = KdcProxyMessage::request(&real, &realm)
                .map(|m| m.encode())
                .unwrap_or_default();
            let variant = i / ctx_targets(ctx) % 7;
            let http = |body: &[u8], ctype: &str| {
                let mut v = format!(
                    "POST /KdcProxy HTTP/1.1\r\nHost: {}\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\n\r\n",
                    host.name,
                    body.len()
                )
                .into_bytes();
                v.extend_from_slice(body);
                v
            };
            let (what, bytes, inside_tls) = match variant {
                0 => (
                    "POST of random bytes",
                    http(&random_bytes(rng, 700), "application/kerberos"),
                    true,
                ),
                1 => {
                    let cut = rng.random_range(1..proxy.len().max(2)).min(proxy.len());
                    (
                        "POST of a truncated KDC-PROXY-MESSAGE",
                        http(&proxy[..cut], "application/kerberos"),
                        true,
                    )
                }
                2 => {
                    let garbage = KdcProxyMessage::request(&random_bytes(rng, 300), &realm)
                        .map(|m| m.encode())
                        .unwrap_or_default();
                    (
                        "KDC-PROXY-MESSAGE around garbage",
                        http(&garbage, "application/kerberos"),
                        true,
                    )
                }
                3 => {
                    let mut m = KdcProxyMessage::request(&real, &realm).ok()?;
                    m.target_domain = None;
                    (
                        "KDC-PROXY-MESSAGE without target-domain",
                        http(&m.encode(), "application/kerberos"),
                        true,
                    )
                }
                4 => (
                    "Content-Length promising 1 GiB",
                    format!(
                        "POST /KdcProxy HTTP/1.1\r\nHost: {}\r\nContent-Type: application/kerberos\r\nContent-Length: 1073741824\r\n\r\n",
                        host.name
                    )
                    .into_bytes()
                    .into_iter()
                    .chain(proxy.iter().copied())
                    .collect(),
                    true,
                ),
                5 => ("non-HTTP bytes inside TLS", random_bytes(rng, 500), true),
                _ => ("non-TLS bytes on the TLS port", random_bytes(rng, 500), false),
            };
            let addr = ctx.net.resolve(&host.name, port).await.ok()?;
            ctx.clock.timer_hint(WAIT);
            let tcp = match tokio::time::timeout(WAIT, ctx.net.connect(addr)).await {
                Ok(Ok(s)) => s,
                Ok(Err(e)) => return Some((what.into(), format!("refused ({})", e.kind()))),
                Err(_) => return Some((what.into(), "connect timed out".into())),
            };
            let result = if tls && inside_tls {
                let config =
                    crate::tls::client_config(&ctx.prepared.relay_anchors(), ctx.clock.clone())
                        .ok()?;
                let name = ServerName::try_from(host.name.clone()).ok()?;
                let tap = ctx.net.plaintext_tap(&tcp);
                let connector = tokio_rustls::TlsConnector::from(Arc::clone(&config));
                ctx.clock.timer_hint(WAIT);
                match tokio::time::timeout(WAIT, connector.connect(name, tcp)).await {
                    Ok(Ok(s)) => poke(&ctx.clock, TappedStream::new(s, tap), &bytes).await,
                    Ok(Err(e)) => format!("TLS failed ({})", e.kind()),
                    Err(_) => "TLS timed out".into(),
                }
            } else {
                poke(&ctx.clock, tcp, &bytes).await
            };
            Some((format!("{port}/tcp {what} ({} bytes)", bytes.len()), result))
        }
        Role::App | Role::Printer => {
            let port = host
                .app
                .as_ref()
                .and_then(|a| a.port)
                .unwrap_or(DEFAULT_APP_PORT);
            let variant = i / ctx_targets(ctx) % 5;
            let frame = |flags: u8, token: &[u8]| {
                let mut v = vec![flags];
                v.extend_from_slice(&(token.len() as u32).to_be_bytes());
                v.extend_from_slice(token);
                v
            };
            let (what, bytes) = match variant {
                0 => ("random context token", frame(0x02, &random_bytes(rng, 800))),
                1 => {
                    let mut v = vec![0x02];
                    v.extend_from_slice(&0x7fff_ffffu32.to_be_bytes());
                    v.extend_from_slice(&random_bytes(rng, 64));
                    ("frame promising 2 GiB", v)
                }
                2 => (
                    "GSS header with a broken length",
                    frame(0x02, &[0x60, 0x84, 0xff, 0xff, 0xff, 0xff, 0x06, 0x09]),
                ),
                3 => (
                    "Kerberos OID and garbage",
                    frame(
                        0x02,
                        &[
                            0x60, 0x20, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x12, 0x01, 0x02,
                            0x02, 0x01, 0x00, 0x6e, 0x84, 0x7f, 0xff, 0xff, 0xff,
                        ],
                    ),
                ),
                _ => ("unframed bytes", random_bytes(rng, 300)),
            };
            let addr = ctx.net.resolve(&host.name, port).await.ok()?;
            ctx.clock.timer_hint(WAIT);
            let result = match tokio::time::timeout(WAIT, ctx.net.connect(addr)).await {
                Ok(Ok(s)) => poke(&ctx.clock, s, &bytes).await,
                Ok(Err(e)) => format!("refused ({})", e.kind()),
                Err(_) => "connect timed out".into(),
            };
            Some((format!("{port}/tcp {what} ({} bytes)", bytes.len()), result))
        }
        _ => None,
    }
}

/// Number of targets, so each target cycles through every variant.
fn ctx_targets(ctx: &HostCtx) -> u32 {
    ctx.host
        .hostile
        .as_ref()
        .map_or(1, |h| h.targets.len().max(1) as u32)
}

/// One open-proxy request to `target` (a relay), for the `i`th domain.
async fn open_proxy(
    ctx: &HostCtx,
    opts: &HostileOptions,
    clients: &mut Vec<Option<KkdcpClient<crate::net::SimNet>>>,
    rng: &mut kerbside_net::HostRng,
    target: &str,
    i: u32,
) -> Option<(String, String)> {
    let host = ctx
        .prepared
        .scenario
        .hosts
        .iter()
        .find(|h| h.name.eq_ignore_ascii_case(target) && h.role == Role::Relay)?;
    let domains: Vec<&str> = if opts.domains.is_empty() {
        ABUSE_DOMAINS.to_vec()
    } else {
        opts.domains.iter().map(String::as_str).collect()
    };
    let domain = domains[(i / ctx_targets(ctx)) as usize % domains.len()];
    let ropts = host.relay.clone().unwrap_or_default();
    let tls = ropts.tls.unwrap_or(true);
    let port = ropts.port.unwrap_or(if tls { 443 } else { 80 });
    let idx = ctx
        .prepared
        .scenario
        .hosts
        .iter()
        .position(|h| h.name == host.name)
        .unwrap_or(0);
    if clients.len() <= idx {
        clients.resize_with(idx + 1, || None);
    }
    if clients[idx].is_none() {
        let url: KkdcpUrl = format!(
            "{}://{}:{port}/KdcProxy",
            if tls { "https" } else { "http" },
            host.name
        )
        .parse()
        .ok()?;
        let config = if tls {
            Some(crate::tls::client_config(&ctx.prepared.relay_anchors(), ctx.clock.clone()).ok()?)
        } else {
            None
        };
        clients[idx] = KkdcpClient::new(
            ctx.net.clone(),
            url,
            config,
            ConnectionMode::KeepAlive,
            WAIT * 3,
        )
        .ok();
    }
    let client = clients[idx].as_mut()?;
    // A genuine AS-REQ for a principal of the requested realm: the relay
    // must refuse on target-domain alone.
    let realm = domain.to_ascii_uppercase();
    let msg = as_req(ctx, rng, "mallory", &realm);
    ctx.clock.timer_hint(WAIT * 3);
    let result = match client.exchange(domain, &msg).await {
        Ok(reply) => format!("FORWARDED, reply {} bytes", reply.len()),
        Err(KkdcpError::Status { status, .. }) => format!("refused (HTTP {status})"),
        Err(KkdcpError::Timeout(_)) => "silence".into(),
        Err(e) => format!("refused ({e})"),
    };
    Some((format!("open-proxy target-domain `{domain}`"), result))
}
