//! `kerbside load`: closed-loop AS-REQ load against a KDC.
//!
//! ```text
//! kerbside load --target udp://127.0.0.1:8888 --realm LAB.TEST --user alice --password alicepw \
//!               --preauth --concurrency 8 --duration 10s [--json]
//! kerbside load --target https://127.0.0.1:8443/KdcProxy --ca pki/ca.pem [--new-connection] ...
//! ```
//!
//! C clients each send an AS-REQ (fresh nonce, and with `--preauth` a fresh
//! PA-ENC-TIMESTAMP), wait for the reply, check it (an AS-REP must decrypt
//! with the user's key and carry the nonce), and send the next. UDP sends
//! each request from a new ephemeral socket and TCP opens a new connection
//! per request, as MIT's kinit does. `https://` and `http://` targets are
//! KKDCP relays (MS-KKDCP): each client keeps one HTTP/1.1 connection alive
//! (`--keep-alive`, the default) or opens one per request as MIT's client
//! does (`--new-connection`). A first, untimed AS exchange learns the
//! salt (PA-ETYPE-INFO2) and checks the password, so string-to-key runs
//! once. Reports AS-REP/s, latency percentiles (hdrhistogram), KRB-ERRORs
//! by code, transport errors and timeouts. Only loopback targets unless
//! `--allow-remote`: this is a load generator.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::rc::Rc;
use std::str::FromStr;
use std::time::Duration;

use hdrhistogram::Histogram;
use kerbside_client::krb::{AsExchange, AsOptions, AsStep, KrbClientError, Principal, Secret};
use kerbside_crypto::{EncType, Key};
use kerbside_kdc::config::parse_duration;
use kerbside_net::kdc_transport::{self, TransportError};
use kerbside_net::kkdcp_transport::{ConnectionMode, KkdcpClient, KkdcpError, KkdcpUrl};
use kerbside_net::tokio_driver::{SystemClock, TokioNet};
use kerbside_net::{Clock, HostRng, host_rng};

use super::{CliError, CmdResult};

/// Arguments of `kerbside load`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Where to send: udp://HOST:PORT, tcp://HOST:PORT, or a KKDCP relay
    /// https://HOST:PORT/KdcProxy (http:// for a plain-HTTP relay).
    #[arg(long, value_name = "URL")]
    target: String,
    /// KKDCP targets: one kept-alive connection per client (default).
    #[arg(long, conflicts_with = "new_connection")]
    keep_alive: bool,
    /// KKDCP targets: a new connection (and TLS handshake) per request.
    #[arg(long)]
    new_connection: bool,
    /// KKDCP https targets: the CA certificate(s) to trust (PEM), e.g. the
    /// ca.pem `kerbside serve relay --self-signed DIR` wrote.
    #[arg(long, value_name = "FILE")]
    ca: Option<PathBuf>,
    /// The realm.
    #[arg(long)]
    realm: String,
    /// The client principal.
    #[arg(long)]
    user: String,
    /// Its password.
    #[arg(long)]
    password: String,
    /// Send PA-ENC-TIMESTAMP in every request (one round trip per AS-REP
    /// for a principal that requires pre-authentication).
    #[arg(long)]
    preauth: bool,
    /// Concurrent closed-loop clients.
    #[arg(long, default_value_t = 8)]
    concurrency: usize,
    /// How long to run (e.g. 10s).
    #[arg(long, default_value = "10s")]
    duration: String,
    /// Per-request timeout.
    #[arg(long, default_value = "2s")]
    timeout: String,
    /// Client threads the concurrency is spread over.
    #[arg(long, default_value_t = 1)]
    threads: usize,
    /// Enctypes offered, preference order.
    #[arg(long, value_delimiter = ',', default_value = "18,17,20,19")]
    enctypes: Vec<String>,
    /// Print the result as JSON.
    #[arg(long)]
    json: bool,
    /// Allow a non-loopback target.
    #[arg(long)]
    allow_remote: bool,
}

/// A load target.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Target {
    /// RFC 4120 §7.2.1, one datagram per request.
    Udp(SocketAddr),
    /// RFC 4120 §7.2.2, one connection per request.
    Tcp(SocketAddr),
    /// MS-KKDCP relay over HTTPS (or HTTP).
    Kkdcp(KkdcpUrl),
}

impl Target {
    fn is_loopback(&self) -> bool {
        match self {
            Target::Udp(a) | Target::Tcp(a) => a.ip().is_loopback(),
            Target::Kkdcp(u) => {
                u.host.eq_ignore_ascii_case("localhost")
                    || u.host
                        .parse::<std::net::IpAddr>()
                        .is_ok_and(|ip| ip.is_loopback())
            }
        }
    }
}

/// One client's way to the target: its own UDP socket; a new TCP
/// connection per request (what MIT's KDC expects); for a KKDCP relay, the
/// client's HTTP connection (kept alive or not).
enum Sender {
    /// RFC 4120 §7.2.1, one datagram per request, from this client's socket
    /// (binding a socket per request would load the generator, not the KDC).
    Udp {
        sock: tokio::net::UdpSocket,
        kdc: SocketAddr,
        buf: Vec<u8>,
    },
    /// RFC 4120 §7.2.2, one connection per request.
    Tcp(SocketAddr),
    Kkdcp {
        client: Box<KkdcpClient<TokioNet>>,
        realm: String,
    },
}

impl Sender {
    fn new(plan: &Plan) -> Result<Self, CliError> {
        match &plan.target {
            Target::Kkdcp(url) => {
                let client = KkdcpClient::new(
                    TokioNet,
                    url.clone(),
                    plan.tls.clone(),
                    plan.mode,
                    plan.timeout,
                )
                .map_err(|e| CliError::input(format!("--target {url}: {e}")))?;
                Ok(Sender::Kkdcp {
                    client: Box::new(client),
                    realm: plan.client.realm.clone(),
                })
            }
            Target::Udp(a) => {
                let local: SocketAddr = if a.is_ipv4() {
                    "0.0.0.0:0".parse().unwrap_or(*a)
                } else {
                    "[::]:0".parse().unwrap_or(*a)
                };
                let sock = std::net::UdpSocket::bind(local)
                    .and_then(|s| s.set_nonblocking(true).map(|()| s))
                    .and_then(tokio::net::UdpSocket::from_std)
                    .map_err(|e| CliError::runtime(format!("udp socket: {e}")))?;
                Ok(Sender::Udp {
                    sock,
                    kdc: *a,
                    buf: vec![0u8; 65_536],
                })
            }
            Target::Tcp(a) => Ok(Sender::Tcp(*a)),
        }
    }

    async fn send(&mut self, request: &[u8], timeout: Duration) -> Result<Vec<u8>, Failure> {
        match self {
            Sender::Udp { sock, kdc, buf } => {
                let exchange = async {
                    sock.send_to(request, *kdc).await?;
                    loop {
                        let (n, from) = sock.recv_from(buf).await?;
                        // A late reply to a timed-out request fails the nonce
                        // check and counts as a bad reply.
                        if from == *kdc {
                            return Ok::<_, std::io::Error>(buf[..n].to_vec());
                        }
                    }
                };
                match tokio::time::timeout(timeout, exchange).await {
                    Ok(r) => r.map_err(|e| Failure::Transport(TransportError::from(e))),
                    Err(_) => Err(Failure::Transport(TransportError::Timeout)),
                }
            }
            Sender::Tcp(a) => kdc_transport::send_tcp(
                &TokioNet,
                *a,
                request,
                timeout,
                kerbside_wire::record::DEFAULT_MAX_FRAME,
            )
            .await
            .map_err(Failure::Transport),
            Sender::Kkdcp { client, realm } => {
                client.exchange(realm, request).await.map_err(|e| match e {
                    KkdcpError::Timeout(_) => Failure::Transport(TransportError::Timeout),
                    other => Failure::Proxy(other.to_string()),
                })
            }
        }
    }
}

impl FromStr for Target {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        if s.starts_with("https://") || s.starts_with("http://") {
            return s
                .parse::<KkdcpUrl>()
                .map(Target::Kkdcp)
                .map_err(|e| e.to_string());
        }
        let (scheme, rest) = s.split_once("://").ok_or_else(|| {
            format!("{s}: expected udp://HOST:PORT, tcp://HOST:PORT or https://HOST:PORT/KdcProxy")
        })?;
        let addr: SocketAddr = rest
            .trim_end_matches('/')
            .parse()
            .map_err(|e| format!("{s}: {e}"))?;
        match scheme {
            "udp" => Ok(Target::Udp(addr)),
            "tcp" => Ok(Target::Tcp(addr)),
            other => Err(format!(
                "{s}: unsupported scheme {other:?} (udp, tcp, https, http)"
            )),
        }
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::Udp(a) => write!(f, "udp://{a}"),
            Target::Tcp(a) => write!(f, "tcp://{a}"),
            Target::Kkdcp(u) => write!(f, "{u}"),
        }
    }
}

/// Everything a load run needs, validated.
#[derive(Clone)]
struct Plan {
    target: Target,
    client: Principal,
    password: String,
    preauth: bool,
    concurrency: usize,
    duration: Duration,
    timeout: Duration,
    threads: usize,
    etypes: Vec<EncType>,
    json: bool,
    /// KKDCP: keep-alive or a connection per request.
    mode: ConnectionMode,
    /// KKDCP over https: the trusted roots.
    tls: Option<std::sync::Arc<rustls::ClientConfig>>,
}

// `rustls::ClientConfig` has no `Debug` worth printing.
impl fmt::Debug for Plan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Plan")
            .field("target", &self.target)
            .field("client", &self.client)
            .field("concurrency", &self.concurrency)
            .field("mode", &self.mode)
            .finish_non_exhaustive()
    }
}

fn plan(args: Args) -> Result<Plan, CliError> {
    let target: Target = args
        .target
        .parse()
        .map_err(|e: String| CliError::input(format!("--target {e}")))?;
    if !target.is_loopback() && !args.allow_remote {
        return Err(CliError::input(format!(
            "--target {target} is not a loopback address; add --allow-remote to load a remote KDC"
        )));
    }
    let client = Principal::parse(&args.user, &args.realm)
        .map_err(|e| CliError::input(format!("--user: {e}")))?;
    let duration =
        parse_duration(&args.duration).map_err(|e| CliError::input(format!("--duration: {e}")))?;
    let timeout =
        parse_duration(&args.timeout).map_err(|e| CliError::input(format!("--timeout: {e}")))?;
    if args.concurrency == 0 || args.threads == 0 || args.threads > args.concurrency {
        return Err(CliError::input(
            "--concurrency and --threads must be at least 1, threads <= concurrency",
        ));
    }
    let etypes = args
        .enctypes
        .iter()
        .map(|e| {
            e.parse::<EncType>()
                .map_err(|err| CliError::input(format!("--enctypes: {err}")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let tls = match (&target, &args.ca) {
        (Target::Kkdcp(u), Some(ca)) if u.https => {
            let roots = kerbside_net::https::load_certs(ca)
                .map_err(|e| CliError::input(format!("--ca {e}")))?;
            Some(
                kerbside_net::https::client_config(&roots, None)
                    .map_err(|e| CliError::input(format!("--ca {e}")))?,
            )
        }
        (Target::Kkdcp(u), None) if u.https => {
            return Err(CliError::input(
                "--ca FILE is required for an https:// target (the relay's CA certificate)",
            ));
        }
        (_, Some(_)) => return Err(CliError::input("--ca only applies to https:// targets")),
        _ => None,
    };
    let mode = if args.new_connection {
        ConnectionMode::NewConnection
    } else {
        ConnectionMode::KeepAlive
    };
    Ok(Plan {
        mode,
        tls,
        target,
        client,
        password: args.password,
        preauth: args.preauth,
        concurrency: args.concurrency,
        duration,
        timeout,
        threads: args.threads,
        etypes,
        json: args.json,
    })
}

/// What one client thread saw.
struct Stats {
    latency_us: Histogram<u64>,
    ok: u64,
    krb_errors: BTreeMap<String, u64>,
    transport_errors: BTreeMap<String, u64>,
    timeouts: u64,
    bad_replies: u64,
}

impl Stats {
    fn new() -> Result<Self, CliError> {
        Ok(Self {
            latency_us: Histogram::new_with_bounds(1, 60_000_000, 3)
                .map_err(|e| CliError::runtime(e.to_string()))?,
            ok: 0,
            krb_errors: BTreeMap::new(),
            transport_errors: BTreeMap::new(),
            timeouts: 0,
            bad_replies: 0,
        })
    }

    fn merge(&mut self, other: &Stats) {
        let _ = self.latency_us.add(&other.latency_us);
        self.ok += other.ok;
        self.timeouts += other.timeouts;
        self.bad_replies += other.bad_replies;
        for (k, v) in &other.krb_errors {
            *self.krb_errors.entry(k.clone()).or_default() += v;
        }
        for (k, v) in &other.transport_errors {
            *self.transport_errors.entry(k.clone()).or_default() += v;
        }
    }
}

pub(crate) fn run(args: Args) -> CmdResult {
    let plan = plan(args)?;
    let key = probe(&plan)?;
    let mut threads = Vec::new();
    for t in 0..plan.threads {
        let plan = plan.clone();
        let key = key.clone();
        // This thread's share of the clients.
        let clients =
            plan.concurrency / plan.threads + usize::from(t < plan.concurrency % plan.threads);
        threads.push(
            std::thread::Builder::new()
                .name(format!("load-{t}"))
                .spawn(move || load_thread(&plan, key, clients, t))
                .map_err(|e| CliError::runtime(format!("spawn: {e}")))?,
        );
    }
    let mut total = Stats::new()?;
    let mut elapsed = Duration::ZERO;
    for th in threads {
        let (stats, took) = th
            .join()
            .map_err(|_| CliError::runtime("load thread panicked"))??;
        total.merge(&stats);
        elapsed = elapsed.max(took);
    }
    report(&plan, &total, elapsed);
    Ok(if total.ok > 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// One untimed exchange with the password: checks it, learns the salt,
/// derives the key once.
fn probe(plan: &Plan) -> Result<Key, CliError> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::runtime(e.to_string()))?;
    rt.block_on(async {
        let mut rng = seeded_rng("probe")?;
        let opts = AsOptions {
            etypes: plan.etypes.clone(),
            ..AsOptions::default()
        };
        let mut ex = AsExchange::new(
            plan.client.clone(),
            Secret::Password(plan.password.clone()),
            opts,
        );
        let mut msg = ex
            .start(SystemClock.now(), &mut rng)
            .map_err(|e| CliError::runtime(e.to_string()))?;
        let mut sender = Sender::new(plan)?;
        for _ in 0..3 {
            let reply = sender
                .send(&msg, plan.timeout)
                .await
                .map_err(|e| CliError::runtime(format!("{}: {e}", plan.target)))?;
            match ex.step(&reply, SystemClock.now(), &mut rng) {
                Ok(AsStep::Send(next)) => msg = next,
                Ok(AsStep::Done(_)) => {
                    return ex
                        .long_term_key()
                        .cloned()
                        .ok_or_else(|| CliError::runtime("no key after AS exchange"));
                }
                Err(e) => {
                    return Err(CliError::runtime(format!(
                        "initial AS exchange as {}: {e}",
                        plan.client
                    )));
                }
            }
        }
        Err(CliError::runtime(
            "initial AS exchange did not finish in 3 rounds",
        ))
    })
}

fn load_thread(
    plan: &Plan,
    key: Key,
    clients: usize,
    index: usize,
) -> Result<(Stats, Duration), CliError> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::runtime(e.to_string()))?;
    let local = tokio::task::LocalSet::new();
    let stats = Rc::new(RefCell::new(Stats::new()?));
    let took = local.block_on(&rt, async {
        let start = tokio::time::Instant::now();
        let deadline = start + plan.duration;
        let mut tasks = Vec::new();
        for c in 0..clients {
            let (plan, key, stats) = (plan.clone(), key.clone(), Rc::clone(&stats));
            let mut rng = seeded_rng(&format!("load-{index}-{c}"))?;
            let mut sender = Sender::new(&plan)?;
            tasks.push(tokio::task::spawn_local(async move {
                while tokio::time::Instant::now() < deadline {
                    let t0 = tokio::time::Instant::now();
                    let result = one_request(&plan, &key, &mut rng, &mut sender).await;
                    let us = u64::try_from(t0.elapsed().as_micros())
                        .unwrap_or(u64::MAX)
                        .max(1);
                    let mut s = stats.borrow_mut();
                    match result {
                        Ok(()) => {
                            s.ok += 1;
                            let _ = s.latency_us.record(us);
                        }
                        Err(Failure::Krb(code)) => *s.krb_errors.entry(code).or_default() += 1,
                        Err(Failure::Transport(TransportError::Timeout)) => s.timeouts += 1,
                        Err(Failure::Transport(e)) => {
                            *s.transport_errors.entry(e.to_string()).or_default() += 1
                        }
                        Err(Failure::Proxy(e)) => *s.transport_errors.entry(e).or_default() += 1,
                        Err(Failure::BadReply) => s.bad_replies += 1,
                    }
                }
            }));
        }
        for t in tasks {
            let _ = t.await;
        }
        Ok::<_, CliError>(start.elapsed())
    })?;
    let stats = Rc::try_unwrap(stats)
        .map_err(|_| CliError::runtime("load tasks still running"))?
        .into_inner();
    Ok((stats, took))
}

enum Failure {
    Krb(String),
    Transport(TransportError),
    /// A KKDCP relay failure (HTTP status, TLS, framing).
    Proxy(String),
    BadReply,
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Krb(code) => write!(f, "KRB-ERROR {code}"),
            Failure::Transport(e) => write!(f, "{e}"),
            Failure::Proxy(e) => write!(f, "{e}"),
            Failure::BadReply => f.write_str("bad reply"),
        }
    }
}

async fn one_request(
    plan: &Plan,
    key: &Key,
    rng: &mut HostRng,
    sender: &mut Sender,
) -> Result<(), Failure> {
    let opts = AsOptions {
        etypes: vec![key.etype()],
        preauth_first: plan.preauth,
        ..AsOptions::default()
    };
    let mut ex = AsExchange::new(plan.client.clone(), Secret::Keys(vec![key.clone()]), opts);
    let now = SystemClock.now();
    let req = ex.start(now, rng).map_err(|_| Failure::BadReply)?;
    let reply = sender.send(&req, plan.timeout).await?;
    match ex.step(&reply, now, rng) {
        Ok(AsStep::Done(_)) => Ok(()),
        // PREAUTH_REQUIRED without --preauth: a reply, but not an AS-REP.
        Ok(AsStep::Send(_)) => Err(Failure::Krb("KDC_ERR_PREAUTH_REQUIRED(25)".into())),
        Err(KrbClientError::Krb(e)) => Err(Failure::Krb(format!("{}({})", e.name(), e.code))),
        Err(_) => Err(Failure::BadReply),
    }
}

/// A client RNG from OS entropy (nonces and confounders must not repeat
/// across runs).
fn seeded_rng(name: &str) -> Result<HostRng, CliError> {
    use std::io::Read;
    let mut b = [0u8; 8];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut b))
        .map_err(|e| CliError::runtime(format!("reading /dev/urandom: {e}")))?;
    Ok(host_rng(u64::from_le_bytes(b), name))
}

fn report(plan: &Plan, s: &Stats, elapsed: Duration) {
    let secs = elapsed.as_secs_f64().max(1e-9);
    let rate = s.ok as f64 / secs;
    let h = &s.latency_us;
    let (p50, p90, p99, max) = if s.ok > 0 {
        (
            h.value_at_quantile(0.50),
            h.value_at_quantile(0.90),
            h.value_at_quantile(0.99),
            h.max(),
        )
    } else {
        (0, 0, 0, 0)
    };
    let krb_errors: u64 = s.krb_errors.values().sum();
    let transport_errors: u64 = s.transport_errors.values().sum();
    if plan.json {
        let v = serde_json::json!({
            "target": plan.target.to_string(),
            "client": plan.client.to_string(),
            "preauth": plan.preauth,
            "concurrency": plan.concurrency,
            "threads": plan.threads,
            "duration_s": secs,
            "as_rep": s.ok,
            "as_rep_per_s": rate,
            "latency_us": { "p50": p50, "p90": p90, "p99": p99, "max": max },
            "krb_errors": s.krb_errors,
            "transport_errors": s.transport_errors,
            "timeouts": s.timeouts,
            "bad_replies": s.bad_replies,
        });
        println!("{v}");
    } else {
        println!(
            "{} {} concurrency {} for {:.1}s: {} AS-REP, {:.0}/s; latency us p50 {} p90 {} p99 {} max {}; krb-errors {} transport-errors {} timeouts {} bad-replies {}",
            plan.target,
            plan.client,
            plan.concurrency,
            secs,
            s.ok,
            rate,
            p50,
            p90,
            p99,
            max,
            krb_errors,
            transport_errors,
            s.timeouts,
            s.bad_replies
        );
        for (k, v) in s.krb_errors.iter().chain(&s.transport_errors) {
            println!("  {k}: {v}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_parse_and_print() {
        assert_eq!(
            "udp://127.0.0.1:88".parse::<Target>().unwrap(),
            Target::Udp("127.0.0.1:88".parse().unwrap())
        );
        assert_eq!(
            "tcp://[::1]:88".parse::<Target>().unwrap().to_string(),
            "tcp://[::1]:88"
        );
        assert!("ftp://127.0.0.1:88".parse::<Target>().is_err());
        assert!("127.0.0.1:88".parse::<Target>().is_err());
        assert!("udp://nohost".parse::<Target>().is_err());
    }

    fn args(target: &str) -> Args {
        Args {
            target: target.into(),
            realm: "LAB.TEST".into(),
            user: "alice".into(),
            password: "pw".into(),
            preauth: false,
            concurrency: 8,
            duration: "1s".into(),
            timeout: "1s".into(),
            threads: 1,
            enctypes: vec!["18".into()],
            json: false,
            allow_remote: false,
            keep_alive: false,
            new_connection: false,
            ca: None,
        }
    }

    #[test]
    fn remote_targets_need_allow_remote() {
        assert!(plan(args("udp://192.0.2.1:88")).is_err());
        let mut a = args("udp://192.0.2.1:88");
        a.allow_remote = true;
        assert!(plan(a).is_ok());
        assert!(plan(args("tcp://127.0.0.1:88")).is_ok());
        assert!(plan(args("http://127.0.0.1:8080/KdcProxy")).is_ok());
        assert!(plan(args("http://relay.example/KdcProxy")).is_err());
    }

    #[test]
    fn kkdcp_targets_parse_and_need_a_ca_for_https() {
        let t: Target = "https://127.0.0.1:8443/KdcProxy".parse().unwrap();
        assert_eq!(t.to_string(), "https://127.0.0.1:8443/KdcProxy");
        assert!(t.is_loopback());
        let e = plan(args("https://127.0.0.1:8443/KdcProxy"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("--ca FILE is required"), "{e}");
        let mut a = args("tcp://127.0.0.1:88");
        a.ca = Some("ca.pem".into());
        assert!(
            plan(a)
                .unwrap_err()
                .to_string()
                .contains("only applies to https")
        );
        let mut a = args("http://127.0.0.1:8080/KdcProxy");
        a.new_connection = true;
        assert_eq!(plan(a).unwrap().mode, ConnectionMode::NewConnection);
    }
}
