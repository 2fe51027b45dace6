//! `kerbside serve kdc`: the KDC on real sockets.
//!
//! ```text
//! kerbside serve kdc --realm LAB.TEST --listen 127.0.0.1:8888 --principals principals.toml [--keytab realm.keytab]
//! ```
//!
//! UDP and TCP on the same port. N workers (default: available cores),
//! each a current-thread tokio runtime with a `LocalSet` serving clones of
//! the bound sockets; the workers share the principal store and the replay
//! cache. One log line per request on stdout (buffered, flushed every
//! 250 ms and at exit; `--quiet` turns it off for benchmarks). Ctrl-C or
//! SIGTERM stops.
//! A malformed principals file exits with code 2 naming file, line and
//! field.

use std::io::{BufWriter, Write};
use std::net::{SocketAddr, TcpListener, UdpSocket};
use std::path::PathBuf;
use std::process::ExitCode;
use std::rc::Rc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use kerbside_crypto::EncType;
use kerbside_kdc::config::parse_duration;
use kerbside_kdc::load::{Source, load_store};
use kerbside_kdc::{Kdc, KdcConfig};
use kerbside_net::kdc_server::{KdcServer, KdcServerLimits, NoLog, RequestLog, RequestRecord};
use kerbside_net::tokio_driver::{SystemClock, TokioNet};
use kerbside_net::{HostRng, host_rng};
use rand_chacha::rand_core::SeedableRng;

use super::os::{os_seed, wait_for_shutdown};
use super::{CliError, CmdResult};

/// Arguments of `kerbside serve kdc`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The realm served.
    #[arg(long)]
    realm: String,
    /// Address for UDP and TCP (HOST:PORT).
    #[arg(long, value_name = "HOST:PORT", default_value = "127.0.0.1:88")]
    listen: String,
    /// Principals file (TOML, see the README).
    #[arg(long, value_name = "FILE")]
    principals: Option<PathBuf>,
    /// MIT keytab with principals' keys (for principals without a password).
    #[arg(long, value_name = "FILE")]
    keytab: Option<PathBuf>,
    /// Worker threads (default: available cores).
    #[arg(long)]
    workers: Option<usize>,
    /// Enabled enctypes, KDC preference order (names or numbers).
    #[arg(long, value_delimiter = ',', default_value = "18,17,20,19")]
    enctypes: Vec<String>,
    /// Maximum clock skew.
    #[arg(long, default_value = "300s")]
    max_skew: String,
    /// Maximum ticket lifetime.
    #[arg(long, default_value = "10h")]
    ticket_lifetime: String,
    /// Maximum renewable life.
    #[arg(long, default_value = "7d")]
    renew_limit: String,
    /// Largest reply sent over UDP (RFC 4120 §7.2.1).
    #[arg(long, default_value_t = kerbside_kdc::config::DEFAULT_UDP_MAX_REPLY)]
    udp_max_reply: usize,
    /// Close TCP connections idle this long.
    #[arg(long, default_value = "10s")]
    idle_timeout: String,
    /// No per-request log lines (benchmarks).
    #[arg(long)]
    quiet: bool,
    /// Seed the workers' RNGs (reproducible session keys; tests only).
    /// Default: 256 bits from /dev/urandom per worker.
    #[arg(long)]
    seed: Option<u64>,
}

pub(crate) fn run(args: Args) -> CmdResult {
    let (kdc, idle, workers) = build(&args)?;
    let listen: SocketAddr = args
        .listen
        .parse()
        .map_err(|e| CliError::input(format!("--listen {}: {e}", args.listen)))?;
    let mut sockets = bind_workers(listen, workers)?;
    let local = sockets
        .first()
        .map(|(udp, _)| udp.local_addr())
        .ok_or_else(|| CliError::runtime("no socket bound"))?
        .map_err(|e| CliError::runtime(e.to_string()))?;
    let log: Option<Arc<LineLog>> = (!args.quiet).then(|| Arc::new(LineLog::stdout()));
    eprintln!(
        "kerbside kdc listening on {local} (udp+tcp), realm {}, {} principal(s), {workers} worker(s)",
        kdc.config().realm,
        kdc.store().len()
    );
    let limits = KdcServerLimits {
        idle_timeout: idle,
        ..KdcServerLimits::default()
    };
    for (i, (udp, tcp)) in sockets.drain(..).enumerate() {
        let (kdc, log, limits) = (kdc.clone(), log.clone(), limits.clone());
        let rng = match args.seed {
            Some(seed) => host_rng(seed, &format!("kdc-worker-{i}")),
            None => HostRng::from_seed(os_seed()?),
        };
        std::thread::Builder::new()
            .name(format!("kdc-{i}"))
            .spawn(move || worker(udp, tcp, kdc, rng, limits, log))
            .map_err(|e| CliError::runtime(format!("spawn worker: {e}")))?;
    }
    if let Some(log) = &log {
        let log = Arc::clone(log);
        std::thread::Builder::new()
            .name("kdc-log-flush".into())
            .spawn(move || {
                loop {
                    std::thread::sleep(Duration::from_millis(250));
                    log.flush();
                }
            })
            .map_err(|e| CliError::runtime(format!("spawn log flusher: {e}")))?;
    }
    wait_for_shutdown()?;
    if let Some(log) = &log {
        log.flush();
    }
    eprintln!("kerbside kdc: stopping");
    Ok(ExitCode::SUCCESS)
}

/// Validates the flags and loads the principals: everything that can fail
/// on bad input, before anything listens.
fn build(args: &Args) -> Result<(Kdc, Duration, usize), CliError> {
    let input = |flag: &str, e: &dyn std::fmt::Display| CliError::input(format!("--{flag}: {e}"));
    let mut config = KdcConfig::new(args.realm.clone());
    config.enctypes = args
        .enctypes
        .iter()
        .map(|e| e.parse::<EncType>().map_err(|err| input("enctypes", &err)))
        .collect::<Result<_, _>>()?;
    config.max_skew = parse_duration(&args.max_skew).map_err(|e| input("max-skew", &e))?;
    config.replay_window = config.max_skew;
    config.ticket_lifetime =
        parse_duration(&args.ticket_lifetime).map_err(|e| input("ticket-lifetime", &e))?;
    config.renew_limit = parse_duration(&args.renew_limit).map_err(|e| input("renew-limit", &e))?;
    config.udp_max_reply = args.udp_max_reply;
    let idle = parse_duration(&args.idle_timeout).map_err(|e| input("idle-timeout", &e))?;
    config
        .validate()
        .map_err(|e| CliError::input(e.to_string()))?;
    if args.principals.is_none() && args.keytab.is_none() {
        return Err(CliError::input(
            "give --principals FILE and/or --keytab FILE",
        ));
    }
    let text = match &args.principals {
        Some(p) => Some(
            std::fs::read_to_string(p)
                .map_err(|e| CliError::input(format!("{}: {e}", p.display())))?,
        ),
        None => None,
    };
    let keytab = match &args.keytab {
        Some(p) => {
            Some(std::fs::read(p).map_err(|e| CliError::input(format!("{}: {e}", p.display())))?)
        }
        None => None,
    };
    let p_origin = args
        .principals
        .as_ref()
        .map(|p| p.display().to_string())
        .unwrap_or_default();
    let k_origin = args
        .keytab
        .as_ref()
        .map(|p| p.display().to_string())
        .unwrap_or_default();
    let store = load_store(
        &config.realm,
        &config.enctypes,
        text.as_deref().map(|t| Source {
            data: t,
            origin: &p_origin,
        }),
        keytab.as_deref().map(|k| Source {
            data: k,
            origin: &k_origin,
        }),
    )
    .map_err(|e| CliError::input(e.to_string()))?;
    let kdc = Kdc::new(config, store).map_err(|e| CliError::input(e.to_string()))?;
    let workers = match args.workers {
        Some(0) => return Err(CliError::input("--workers must be at least 1")),
        Some(n) => n,
        None => std::thread::available_parallelism().map_or(1, |n| n.get()),
    };
    Ok((kdc, idle, workers))
}

/// UDP and TCP on the same address. Port 0 takes UDP's ephemeral port for
/// TCP too, retrying if that port is already someone's TCP port.
fn bind(listen: SocketAddr) -> Result<(UdpSocket, TcpListener), CliError> {
    let attempts = if listen.port() == 0 { 20 } else { 1 };
    let mut last = String::new();
    for _ in 0..attempts {
        // Plain binds first: they fail when anything already holds the
        // address, as they did before the workers' SO_REUSEPORT sockets
        // (which would otherwise share the port with another kerbside KDC
        // left running). With port 0 they also choose the port.
        let probe = UdpSocket::bind(listen)
            .map_err(|e| CliError::runtime(format!("listen udp {listen}: {e}")))?;
        let local = probe
            .local_addr()
            .map_err(|e| CliError::runtime(e.to_string()))?;
        match TcpListener::bind(local) {
            Ok(tcp_probe) => {
                drop((probe, tcp_probe));
                let udp = reuse_port_udp(local)
                    .map_err(|e| CliError::runtime(format!("listen udp {local}: {e}")))?;
                let tcp = reuse_port_tcp(local)
                    .map_err(|e| CliError::runtime(format!("listen tcp {local}: {e}")))?;
                return Ok((udp, tcp));
            }
            Err(e) => last = format!("listen tcp {local}: {e}"),
        }
    }
    Err(CliError::runtime(last))
}

/// One UDP socket and one TCP listener per worker, all on the same
/// address with `SO_REUSEPORT`: the kernel hands each datagram and each
/// connection to exactly one worker's socket. (Sharing one socket between
/// the workers' event loops wakes every worker for every request, and all
/// but one find nothing to read or accept.) With port 0 the first worker's
/// port is reused for the rest.
fn bind_workers(
    listen: SocketAddr,
    workers: usize,
) -> Result<Vec<(UdpSocket, TcpListener)>, CliError> {
    let (udp, tcp) = bind(listen)?;
    let local = udp
        .local_addr()
        .map_err(|e| CliError::runtime(e.to_string()))?;
    let mut all = vec![(udp, tcp)];
    for _ in 1..workers {
        let pair = reuse_port_udp(local)
            .and_then(|u| reuse_port_tcp(local).map(|t| (u, t)))
            .map_err(|e| CliError::runtime(format!("listen {local} (worker socket): {e}")))?;
        all.push(pair);
    }
    Ok(all)
}

fn reuse_port_socket(addr: SocketAddr, ty: socket2::Type) -> std::io::Result<socket2::Socket> {
    let s = socket2::Socket::new(socket2::Domain::for_address(addr), ty, None)?;
    s.set_reuse_port(true)?;
    s.set_nonblocking(true)?;
    s.bind(&addr.into())?;
    Ok(s)
}

fn reuse_port_udp(addr: SocketAddr) -> std::io::Result<UdpSocket> {
    reuse_port_socket(addr, socket2::Type::DGRAM).map(UdpSocket::from)
}

fn reuse_port_tcp(addr: SocketAddr) -> std::io::Result<TcpListener> {
    let s = reuse_port_socket(addr, socket2::Type::STREAM)?;
    s.set_reuse_address(true)?;
    s.listen(1024)?;
    Ok(TcpListener::from(s))
}

/// One worker: a current-thread runtime and a `LocalSet` serving its own
/// sockets (see [`bind_workers`]).
fn worker(
    udp: UdpSocket,
    tcp: TcpListener,
    kdc: Kdc,
    rng: HostRng,
    limits: KdcServerLimits,
    log: Option<Arc<LineLog>>,
) {
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("kerbside kdc: worker runtime: {e}");
            return;
        }
    };
    let local = tokio::task::LocalSet::new();
    local.block_on(&rt, async move {
        let (udp, tcp) = match (
            tokio::net::UdpSocket::from_std(udp),
            tokio::net::TcpListener::from_std(tcp),
        ) {
            (Ok(u), Ok(t)) => (u, t),
            (Err(e), _) | (_, Err(e)) => {
                eprintln!("kerbside kdc: worker sockets: {e}");
                return;
            }
        };
        let log: Rc<dyn RequestLog> = match log {
            Some(l) => Rc::new(SharedLog(l)),
            None => Rc::new(NoLog),
        };
        let server = KdcServer::new(TokioNet, SystemClock, rng, kdc, limits, log);
        let result = tokio::select! {
            r = server.serve_udp(udp) => r,
            r = server.serve_tcp(tcp) => r,
        };
        if let Err(e) = result {
            eprintln!("kerbside kdc: worker stopped: {e}");
        }
    });
}

/// Request lines to a buffered writer shared by the workers: one `write`
/// system call per buffer, not per request, so logging does not dominate
/// at tens of thousands of requests per second.
struct LineLog {
    out: Mutex<BufWriter<Box<dyn Write + Send>>>,
}

impl LineLog {
    fn stdout() -> Self {
        Self {
            out: Mutex::new(BufWriter::with_capacity(
                64 * 1024,
                Box::new(std::io::stdout()),
            )),
        }
    }

    fn line(&self, text: &str) {
        let mut out = self
            .out
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let _ = writeln!(out, "{text}");
    }

    fn flush(&self) {
        let mut out = self
            .out
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let _ = out.flush();
    }
}

struct SharedLog(Arc<LineLog>);

impl RequestLog for SharedLog {
    fn record(&self, rec: &RequestRecord<'_>) {
        self.0.line(&rec.to_string());
    }
}
