//! Closed-loop performance comparison, back to back in one run: AS-REQ ->
//! AS-REP through our relay and through FreeIPA kdcproxy (Debian
//! python3-kdcproxy under gunicorn, TLS, keep-alive), both fronting the same
//! MIT krb5kdc, plus the KDC directly over TCP as the baseline.
//!
//! ```sh
//! cargo run --release -p kerbside-net --example relay_bench -- --seconds 5 --clients 1,8
//! ```
//!
//! Every request is a distinct AS-REQ (fresh nonce) for a principal without
//! pre-authentication, so MIT's lookaside cache never answers for the KDC;
//! every reply is checked to be an AS-REP. Each client waits for its reply
//! before sending the next request (closed loop). The relay runs in this
//! process on its own worker threads (as `kerbside serve relay` does); the
//! load runs on separate client threads; the KDC and gunicorn are separate
//! processes. All share the machine's cores, identically for both proxies.

#[path = "../tests/support/kdcproxy.rs"]
mod kdcproxy;
#[path = "../tests/support/mit.rs"]
mod mit;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use kerbside_client::krb::{AsExchange, AsOptions, Principal, Secret};
use kerbside_net::https::{self, ClientCertPolicy};
use kerbside_net::kkdcp_transport::{ConnectionMode, KkdcpClient};
use kerbside_net::relay_server::{RelayServer, ServerLimits};
use kerbside_net::tokio_driver::{SystemClock, TokioNet};
use kerbside_net::{Clock, host_rng};
use kerbside_relay::{AuditRecord, AuditSink, RealmRoute, Relay, RelayConfig, TcpReplyReader};
use kerbside_wire::kkdcp::KdcProxyMessage;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Audit that does the work of a real audit line (serialise it) and drops it.
struct SerializeOnly;
impl AuditSink for SerializeOnly {
    fn record(&self, record: &AuditRecord) {
        std::hint::black_box(record.to_json_line());
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Target {
    /// MIT krb5kdc over TCP, one connection per request (MIT's KDC closes
    /// after each reply).
    Direct(SocketAddr),
    /// A KKDCP proxy over HTTPS with keep-alive.
    Proxy(u16),
}

struct Opts {
    seconds: u64,
    clients: Vec<usize>,
    workers: usize,
    gunicorn_workers: usize,
    gunicorn_threads: usize,
    /// Only targets whose name starts with one of these (default: all).
    only: Vec<String>,
    /// Put an in-process fake KDC (canned AS-REP, one request per
    /// connection like MIT's) behind both proxies instead of krb5kdc, so the
    /// proxies, not the KDC, are the bottleneck.
    fake_kdc: bool,
}

fn opts() -> Opts {
    let mut o = Opts {
        seconds: 5,
        clients: vec![1, 8],
        workers: 2,
        gunicorn_workers: 2,
        gunicorn_threads: 8,
        only: Vec::new(),
        fake_kdc: false,
    };
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        if a == "--fake-kdc" {
            o.fake_kdc = true;
            continue;
        }
        let v = it.next().unwrap_or_else(|| panic!("{a} needs a value"));
        match a.as_str() {
            "--seconds" => o.seconds = v.parse().unwrap(),
            "--clients" => o.clients = v.split(',').map(|c| c.parse().unwrap()).collect(),
            "--workers" => o.workers = v.parse().unwrap(),
            "--gunicorn-workers" => o.gunicorn_workers = v.parse().unwrap(),
            "--gunicorn-threads" => o.gunicorn_threads = v.parse().unwrap(),
            "--only" => o.only = v.split(',').map(str::to_owned).collect(),
            _ => panic!("unknown option {a}"),
        }
    }
    o
}

/// Distinct AS-REQs for nopreauth@LAB.TEST (cheap: no key derivation).
fn requests(n: usize, seed: u64) -> Vec<Vec<u8>> {
    let mut rng = host_rng(seed, "bench-client");
    let now = SystemClock.now();
    (0..n)
        .map(|_| {
            let mut ex = AsExchange::new(
                Principal::user("nopreauth", "LAB.TEST"),
                Secret::Password("nopreauthpw".into()),
                AsOptions::default(),
            );
            ex.start(now, &mut rng).unwrap()
        })
        .collect()
}

/// Starts our relay: `workers` threads, each a current-thread runtime
/// serving the shared listener (what `kerbside serve relay` does).
fn start_relay(kdc_port: u16, pki: &std::path::Path, workers: usize) -> u16 {
    let files = https::ensure_self_signed(pki, &[]).unwrap();
    let tls = https::server_config(
        https::load_certs(&files.cert).unwrap(),
        https::load_key(&files.key).unwrap(),
        &ClientCertPolicy::None,
    )
    .unwrap();
    let config = RelayConfig::with_realms([RealmRoute::parse_mapping(&format!(
        "LAB.TEST=tcp://127.0.0.1:{kdc_port}"
    ))
    .unwrap()])
    .unwrap();
    let relay = Arc::new(Relay::new(config).unwrap());
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let port = listener.local_addr().unwrap().port();
    for _ in 0..workers {
        let l = listener.try_clone().unwrap();
        let (relay, tls) = (relay.clone(), tls.clone());
        std::thread::Builder::new()
            .name("relay-worker".into())
            .spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .unwrap();
                tokio::task::LocalSet::new().block_on(&rt, async move {
                    let l = tokio::net::TcpListener::from_std(l).unwrap();
                    RelayServer::new(
                        TokioNet,
                        SystemClock,
                        relay,
                        Some(tls),
                        Arc::new(SerializeOnly),
                        ServerLimits::default(),
                    )
                    .serve(l)
                    .await;
                });
            })
            .unwrap();
    }
    port
}

#[derive(Default)]
struct Tally {
    latencies_us: Vec<u32>,
    errors: u64,
}

/// What every client of one run shares.
struct Shared {
    ca: Arc<rustls::ClientConfig>,
    reqs: Arc<Vec<Vec<u8>>>,
    /// Number of clients: client `c` takes requests c, c+stride, ...
    stride: usize,
    measuring: AtomicBool,
    stop: AtomicBool,
    tally: Mutex<Tally>,
}

/// One closed-loop client until `stop`; records latencies while `measuring`.
async fn client(target: Target, index: usize, shared: Arc<Shared>) {
    let ca = shared.ca.clone();
    let mut kkdcp = match target {
        Target::Proxy(port) => {
            let url = format!("https://127.0.0.1:{port}/KdcProxy")
                .parse()
                .unwrap();
            Some(
                KkdcpClient::new(
                    TokioNet,
                    url,
                    Some(ca),
                    ConnectionMode::KeepAlive,
                    Duration::from_secs(30),
                )
                .unwrap(),
            )
        }
        Target::Direct(_) => None,
    };
    let mut local = Tally::default();
    let reqs = &shared.reqs;
    let mut i = index;
    while !shared.stop.load(Ordering::Relaxed) {
        let req = &reqs[i % reqs.len()];
        i += shared.stride;
        #[allow(clippy::disallowed_methods)] // wall-time measurement is the point of a benchmark
        let t0 = std::time::Instant::now();
        let ok = match (target, kkdcp.as_mut()) {
            (Target::Proxy(_), Some(c)) => {
                let body = KdcProxyMessage::request(req, "LAB.TEST").unwrap().encode();
                match c.post(Bytes::from(body)).await {
                    Ok(r) if r.status == 200 => KdcProxyMessage::decode(&r.body)
                        .ok()
                        .and_then(|m| m.kerberos_message().ok().map(|k| k.first() == Some(&0x6b)))
                        .unwrap_or(false),
                    _ => false,
                }
            }
            (Target::Direct(addr), _) => direct(addr, req)
                .await
                .is_some_and(|r| r.get(4) == Some(&0x6b)),
            _ => false,
        };
        let us = u32::try_from(t0.elapsed().as_micros()).unwrap_or(u32::MAX);
        if shared.measuring.load(Ordering::Relaxed) {
            if ok {
                local.latencies_us.push(us);
            } else {
                local.errors += 1;
            }
        }
    }
    let mut t = shared.tally.lock().unwrap();
    t.latencies_us.extend(local.latencies_us);
    t.errors += local.errors;
}

/// RFC 4120 §7.2.2 over a fresh TCP connection.
async fn direct(addr: SocketAddr, req: &[u8]) -> Option<Vec<u8>> {
    let mut s = tokio::net::TcpStream::connect(addr).await.ok()?;
    s.set_nodelay(true).ok()?;
    s.write_all(&kerbside_wire::record::encode(req).ok()?)
        .await
        .ok()?;
    let mut r = TcpReplyReader::new(1 << 20);
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let n = s.read(&mut buf[..r.wanted().min(16 * 1024)]).await.ok()?;
        if n == 0 {
            return None;
        }
        if r.feed(&buf[..n]).ok()? {
            return Some(r.into_framed());
        }
    }
}

struct Row {
    name: String,
    clients: usize,
    rps: f64,
    p50: f64,
    p99: f64,
    errors: u64,
}

fn run(
    name: &str,
    target: Target,
    clients: usize,
    seconds: u64,
    ca: &Arc<rustls::ClientConfig>,
    reqs: &Arc<Vec<Vec<u8>>>,
) -> Row {
    let shared = Arc::new(Shared {
        ca: ca.clone(),
        reqs: reqs.clone(),
        stride: clients,
        measuring: AtomicBool::new(false),
        stop: AtomicBool::new(false),
        tally: Mutex::new(Tally::default()),
    });
    // Clients spread over up to two threads, each a current-thread runtime.
    let threads = clients.min(2);
    let mut handles = Vec::new();
    for t in 0..threads {
        let mine: Vec<usize> = (0..clients).filter(|c| c % threads == t).collect();
        let shared = shared.clone();
        handles.push(
            std::thread::Builder::new()
                .name("load-client".into())
                .spawn(move || {
                    let rt = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                        .unwrap();
                    tokio::task::LocalSet::new().block_on(&rt, async move {
                        let tasks: Vec<_> = mine
                            .into_iter()
                            .map(|c| tokio::task::spawn_local(client(target, c, shared.clone())))
                            .collect();
                        for t in tasks {
                            t.await.unwrap();
                        }
                    });
                }),
        );
    }
    std::thread::sleep(Duration::from_secs(1)); // warm-up: connections, TLS, caches
    shared.measuring.store(true, Ordering::Relaxed);
    #[allow(clippy::disallowed_methods)] // wall-time measurement
    let t0 = std::time::Instant::now();
    std::thread::sleep(Duration::from_secs(seconds));
    shared.measuring.store(false, Ordering::Relaxed);
    let elapsed = t0.elapsed().as_secs_f64();
    shared.stop.store(true, Ordering::Relaxed);
    for h in handles {
        h.unwrap().join().unwrap();
    }
    let mut t = std::mem::take(&mut *shared.tally.lock().unwrap());
    t.latencies_us.sort_unstable();
    let pct = |p: f64| {
        let n = t.latencies_us.len();
        if n == 0 {
            return f64::NAN;
        }
        let i = ((p * n as f64).ceil() as usize).clamp(1, n) - 1;
        f64::from(t.latencies_us[i]) / 1000.0
    };
    Row {
        name: name.to_owned(),
        clients,
        rps: t.latencies_us.len() as f64 / elapsed,
        p50: pct(0.50),
        p99: pct(0.99),
        errors: t.errors,
    }
}

/// A KDC stand-in that answers every TCP request with the captured AS-REP
/// and closes (as MIT's KDC does): costs next to nothing, so what is
/// measured is the proxy.
fn fake_kdc() -> u16 {
    let path = format!(
        "{}/../wire/tests/data/mit/kkdcp-as-rep.hex",
        env!("CARGO_MANIFEST_DIR")
    );
    let body = hex::decode(std::fs::read_to_string(path).unwrap().trim()).unwrap();
    let reply = KdcProxyMessage::decode(&body).unwrap().kerb_message;
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::Builder::new()
        .name("fake-kdc".into())
        .spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            tokio::task::LocalSet::new().block_on(&rt, async move {
                let l = tokio::net::TcpListener::from_std(listener).unwrap();
                let reply = std::rc::Rc::new(reply);
                loop {
                    let (mut s, _) = l.accept().await.unwrap();
                    let reply = reply.clone();
                    tokio::task::spawn_local(async move {
                        let mut mark = [0u8; 4];
                        if s.read_exact(&mut mark).await.is_err() {
                            return;
                        }
                        let mut msg = vec![0u8; u32::from_be_bytes(mark) as usize];
                        if s.read_exact(&mut msg).await.is_ok() {
                            let _ = s.write_all(&reply).await;
                        }
                    });
                }
            });
        })
        .unwrap();
    port
}

fn main() {
    let o = opts();
    if let Some(why) = mit::missing_peers().or_else(kdcproxy::missing) {
        eprintln!("cannot run: {why}");
        std::process::exit(1);
    }
    let realm = mit::MitRealm::start("bench");
    let kdc_port = if o.fake_kdc { fake_kdc() } else { realm.port };
    let pki = realm.dir.join("pki");
    let ours = start_relay(kdc_port, &pki, o.workers);
    let files = https::ensure_self_signed(&pki, &[]).unwrap();
    let kp = kdcproxy::KdcProxy::start(
        &realm.dir.join("kdcproxy"),
        mit::free_port(),
        kdc_port,
        Some((&files.cert, &files.key)),
        o.gunicorn_workers,
        o.gunicorn_threads,
    );
    let ca = https::client_config(&https::load_certs(&files.ca).unwrap(), None).unwrap();
    eprintln!(
        "{} :{kdc_port}  kerbside relay :{ours} ({} workers)  kdcproxy :{} (gunicorn gthread {}x{})",
        if o.fake_kdc {
            "fake KDC"
        } else {
            "MIT krb5kdc"
        },
        o.workers,
        kp.port,
        o.gunicorn_workers,
        o.gunicorn_threads
    );
    let reqs = Arc::new(requests(200_000, 7));
    let direct = Target::Direct(([127, 0, 0, 1], kdc_port).into());
    let mut rows = Vec::new();
    for &c in &o.clients {
        for (name, target) in [
            (
                if o.fake_kdc {
                    "KDC direct (TCP, fake KDC)"
                } else {
                    "KDC direct (TCP, MIT krb5kdc)"
                },
                direct,
            ),
            ("kerbside relay (HTTPS)", Target::Proxy(ours)),
            ("kdcproxy (HTTPS)", Target::Proxy(kp.port)),
        ] {
            if !o.only.is_empty()
                && !o
                    .only
                    .iter()
                    .any(|p| name.to_lowercase().starts_with(&p.to_lowercase()))
            {
                continue;
            }
            let row = run(name, target, c, o.seconds, &ca, &reqs);
            eprintln!(
                "{:<24} c={:<2} {:>8.0} req/s  p50 {:>7.3} ms  p99 {:>7.3} ms  errors {}",
                row.name, row.clients, row.rps, row.p50, row.p99, row.errors
            );
            rows.push(row);
        }
    }
    println!("| target | clients | AS-REP/s | p50 ms | p99 ms | errors |");
    println!("|---|---:|---:|---:|---:|---:|");
    for r in &rows {
        println!(
            "| {} | {} | {:.0} | {:.3} | {:.3} | {} |",
            r.name, r.clients, r.rps, r.p50, r.p99, r.errors
        );
    }
    for &c in &o.clients {
        let get = |prefix: &str| {
            rows.iter()
                .find(|r| r.clients == c && r.name.starts_with(prefix))
        };
        if let (Some(d), Some(k), Some(p)) = (get("KDC direct"), get("kerbside"), get("kdcproxy")) {
            println!(
                "\nclients={c}: kerbside/kdcproxy throughput {:.1}x; p50 added over direct KDC: kerbside {:+.3} ms, kdcproxy {:+.3} ms",
                k.rps / p.rps,
                k.p50 - d.p50,
                p.p50 - d.p50
            );
        }
    }
}
