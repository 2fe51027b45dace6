//! `kerbside load`: closed-loop AS-REQ load against a KDC or a KKDCP relay.
//!
//! ```text
//! kerbside load --target udp://127.0.0.1:8888 --realm LAB.TEST --user alice --password alicepw \
//!               --preauth --concurrency 8 --duration 10s --warmup 2s [--server-pid PID] [--json]
//! kerbside load --target https://127.0.0.1:8443/KdcProxy --ca pki/ca.pem [--new-connection] ...
//! ```
//!
//! C clients each send an AS-REQ (fresh nonce, and with `--preauth` a fresh
//! PA-ENC-TIMESTAMP, so no replay or lookaside cache can answer), wait for
//! the reply, check it (an AS-REP must decrypt with the user's key and
//! carry the nonce), and send the next. Each client is an OS thread with
//! blocking sockets, the cheapest client a shared machine can run next to
//! the server it loads. Against a KDC ([`direct`]): UDP from the client's
//! own socket, TCP on a new connection per request, as MIT's kinit does.
//! `https://` and `http://` targets are KKDCP relays (MS-KKDCP, [`kkdcp`]):
//! each client keeps one HTTP/1.1 connection alive (`--keep-alive`, the
//! default) or opens one per request as MIT's client does
//! (`--new-connection`). A first, untimed AS exchange learns the salt
//! (PA-ETYPE-INFO2) and checks the password, so string-to-key runs once.
//!
//! The run is bounded: `--warmup` (requests sent, not counted: connections,
//! caches and the KDC's replay cache fill first, the lesson of MIT's 2012
//! lookaside-cache measurements), then `--duration` measured, each
//! request bounded by `--timeout`. Reports AS-REP/s over the measured
//! window, latency percentiles (hdrhistogram), KRB-ERRORs by code,
//! transport errors and timeouts, the load generator's own CPU per
//! request, and with `--server-pid` the server's CPU per request and its
//! memory (`/proc`, see [`procfs`]). Only loopback targets unless
//! `--allow-remote`: this is a load generator.

mod direct;
mod kkdcp;
mod procfs;
mod report;
mod target;

use std::fmt;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use kerbside_client::krb::{AsExchange, AsOptions, AsStep, KrbClientError, Principal, Secret};
use kerbside_crypto::{EncType, Key};
use kerbside_net::kdc_transport::TransportError;
use kerbside_net::kkdcp_transport::ConnectionMode;
use kerbside_net::tokio_driver::SystemClock;
use kerbside_net::{Clock, HostRng, host_rng};
use kerbside_sim::duration::parse_duration;

use super::{CliError, CmdResult};
use report::{Measured, ServerUsage, Stats};
use target::{Client, Target};

/// The longest `--duration` or `--warmup` accepted: a load generator left
/// running by mistake must stop on its own.
const MAX_PHASE: Duration = Duration::from_secs(3600);

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
    /// How long to measure (e.g. 10s, 1.5s, 500ms; at most 1h).
    #[arg(long, default_value = "10s")]
    duration: String,
    /// How long to send before measuring (not counted; at most 1h).
    #[arg(long, default_value = "0s")]
    warmup: String,
    /// Per-request timeout.
    #[arg(long, default_value = "2s")]
    timeout: String,
    /// Enctypes offered, preference order.
    #[arg(long, value_delimiter = ',', default_value = "18,17,20,19")]
    enctypes: Vec<String>,
    /// Server process(es) to measure over the measured window: CPU time
    /// (user+system, with descendants, e.g. gunicorn's workers) per AS-REP,
    /// resident and peak memory at the end (Linux /proc).
    #[arg(long = "server-pid", value_name = "PID", value_delimiter = ',')]
    server_pids: Vec<u32>,
    /// Process(es) behind the target, measured the same way but reported
    /// apart (`upstream` in the JSON): e.g. the KDC behind a relay.
    #[arg(long = "upstream-pid", value_name = "PID", value_delimiter = ',')]
    upstream_pids: Vec<u32>,
    /// Print the result as JSON.
    #[arg(long)]
    json: bool,
    /// Allow a non-loopback target.
    #[arg(long)]
    allow_remote: bool,
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
    warmup: Duration,
    timeout: Duration,
    etypes: Vec<EncType>,
    server_pids: Vec<u32>,
    upstream_pids: Vec<u32>,
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

fn phase(flag: &str, text: &str, allow_zero: bool) -> Result<Duration, CliError> {
    let d = parse_duration(text).map_err(|e| CliError::input(format!("{flag}: {e}")))?;
    if d > MAX_PHASE || (d.is_zero() && !allow_zero) {
        return Err(CliError::input(format!(
            "{flag} {text}: must be {} and at most 1h",
            if allow_zero {
                "0s or more"
            } else {
                "more than 0s"
            }
        )));
    }
    Ok(d)
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
    let duration = phase("--duration", &args.duration, false)?;
    let warmup = phase("--warmup", &args.warmup, true)?;
    let timeout = phase("--timeout", &args.timeout, false)?;
    if args.concurrency == 0 {
        return Err(CliError::input("--concurrency must be at least 1"));
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
        warmup,
        timeout,
        etypes,
        server_pids: args.server_pids,
        upstream_pids: args.upstream_pids,
        json: args.json,
    })
}

/// The measured window, shared by every load thread: results that
/// complete inside it count.
#[derive(Clone, Copy, Debug)]
struct Window {
    from: Instant,
    until: Instant,
}

impl Window {
    fn contains(&self, t: Instant) -> bool {
        t >= self.from && t <= self.until
    }
}

pub(crate) fn run(args: Args) -> CmdResult {
    let plan = plan(args)?;
    let key = probe(&plan)?;
    // Fails early (before any load) when a PID is not there.
    procfs::sample(&plan.server_pids).map_err(|e| CliError::input(format!("--server-pid: {e}")))?;
    procfs::sample(&plan.upstream_pids)
        .map_err(|e| CliError::input(format!("--upstream-pid: {e}")))?;
    // Wall-clock measurement is this command's purpose.
    #[allow(clippy::disallowed_methods)]
    let start = Instant::now();
    let window = Window {
        from: start + plan.warmup,
        until: start + plan.warmup + plan.duration,
    };
    let mut threads = Vec::new();
    for c in 0..plan.concurrency {
        let plan = plan.clone();
        let key = key.clone();
        threads.push(
            std::thread::Builder::new()
                .name(format!("load-{c}"))
                .spawn(move || client_thread(&plan, key, c, window))
                .map_err(|e| CliError::runtime(format!("spawn: {e}")))?,
        );
    }
    // The sampler: the server's and our own CPU at the window's edges.
    std::thread::sleep(window.from.saturating_duration_since(start));
    let before = measure_point(&plan)?;
    #[allow(clippy::disallowed_methods)]
    let now = Instant::now();
    std::thread::sleep(window.until.saturating_duration_since(now));
    let after = measure_point(&plan)?;
    let mut total = Stats::new()?;
    for th in threads {
        let stats = th
            .join()
            .map_err(|_| CliError::runtime("load thread panicked"))??;
        total.merge(&stats);
    }
    let measured = Measured {
        seconds: plan.duration.as_secs_f64(),
        client_cpu: after.own.saturating_sub(before.own),
        server: usage(&plan.server_pids, &before.server, &after.server),
        upstream: usage(&plan.upstream_pids, &before.upstream, &after.upstream),
    };
    report::print(&plan, &total, &measured);
    Ok(if total.ok > 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// What processes `pids` used between two samples (`None` without PIDs).
fn usage(pids: &[u32], before: &procfs::Sample, after: &procfs::Sample) -> Option<ServerUsage> {
    (!pids.is_empty()).then(|| ServerUsage {
        pids: pids.to_vec(),
        processes: after.cpu.len(),
        cpu: procfs::cpu_between(before, after),
        rss_kib: after.rss_kib,
        hwm_kib: after.hwm_kib,
    })
}

/// The CPU and memory figures taken at one edge of the window.
struct Point {
    server: procfs::Sample,
    upstream: procfs::Sample,
    own: Duration,
}

fn measure_point(plan: &Plan) -> Result<Point, CliError> {
    let sample = |pids: &[u32], flag: &str| {
        if pids.is_empty() {
            Ok(procfs::Sample::default())
        } else {
            procfs::sample(pids).map_err(|e| CliError::runtime(format!("{flag}: {e}")))
        }
    };
    Ok(Point {
        server: sample(&plan.server_pids, "--server-pid")?,
        upstream: sample(&plan.upstream_pids, "--upstream-pid")?,
        own: procfs::own_cpu().map_err(|e| CliError::runtime(e.to_string()))?,
    })
}

/// One untimed exchange with the password: checks it, learns the salt,
/// derives the key once.
fn probe(plan: &Plan) -> Result<Key, CliError> {
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
    let mut client = Client::new(plan)?;
    for _ in 0..3 {
        let reply = client
            .exchange(&msg)
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
}

/// Why one request did not produce an AS-REP.
pub(crate) enum Failure {
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

/// A fresh AS-REQ (new nonce; with `--preauth` a new PA-ENC-TIMESTAMP)
/// and the exchange that checks its reply.
fn request(
    plan: &Plan,
    key: &Key,
    rng: &mut HostRng,
) -> Result<(AsExchange, Vec<u8>, std::time::SystemTime), Failure> {
    let opts = AsOptions {
        etypes: vec![key.etype()],
        preauth_first: plan.preauth,
        ..AsOptions::default()
    };
    let mut ex = AsExchange::new(plan.client.clone(), Secret::Keys(vec![key.clone()]), opts);
    let now = SystemClock.now();
    let req = ex.start(now, rng).map_err(|_| Failure::BadReply)?;
    Ok((ex, req, now))
}

/// An AS-REP that decrypts with the key and carries the nonce, or why not.
fn check(
    ex: &mut AsExchange,
    reply: &[u8],
    now: std::time::SystemTime,
    rng: &mut HostRng,
) -> Result<(), Failure> {
    match ex.step(reply, now, rng) {
        Ok(AsStep::Done(_)) => Ok(()),
        // PREAUTH_REQUIRED without --preauth: a reply, but not an AS-REP.
        Ok(AsStep::Send(_)) => Err(Failure::Krb("KDC_ERR_PREAUTH_REQUIRED(25)".into())),
        Err(KrbClientError::Krb(e)) => Err(Failure::Krb(format!("{}({})", e.name(), e.code))),
        Err(_) => Err(Failure::BadReply),
    }
}

/// One client: its own thread, blocking sockets, closed loop until the
/// window ends.
fn client_thread(plan: &Plan, key: Key, index: usize, window: Window) -> Result<Stats, CliError> {
    let mut rng = seeded_rng(&format!("load-{index}"))?;
    let mut client = Client::new(plan)?;
    let mut stats = Stats::new()?;
    // Wall-clock measurement is this command's purpose.
    #[allow(clippy::disallowed_methods)]
    let clock = Instant::now;
    while clock() < window.until {
        let t0 = clock();
        let result = request(plan, &key, &mut rng).and_then(|(mut ex, req, now)| {
            let reply = client.exchange(&req)?;
            check(&mut ex, &reply, now, &mut rng)
        });
        let done = clock();
        if window.contains(done) {
            let us = done.duration_since(t0).as_micros();
            stats.record(result, u64::try_from(us).unwrap_or(u64::MAX));
        }
    }
    Ok(stats)
}

/// A client RNG from OS entropy (nonces and confounders must not repeat
/// across runs).
fn seeded_rng(name: &str) -> Result<HostRng, CliError> {
    let seed = super::os::os_seed()?;
    let mut b = [0u8; 8];
    b.copy_from_slice(&seed[..8]);
    Ok(host_rng(u64::from_le_bytes(b), name))
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
            warmup: "0s".into(),
            timeout: "1s".into(),
            server_pids: Vec::new(),
            upstream_pids: Vec::new(),
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
    fn runs_are_bounded_in_time() {
        for (flag, value) in [
            ("duration", "0s"),
            ("duration", "2h"),
            ("warmup", "61m"),
            ("timeout", "0s"),
        ] {
            let mut a = args("udp://127.0.0.1:88");
            match flag {
                "duration" => a.duration = value.into(),
                "warmup" => a.warmup = value.into(),
                _ => a.timeout = value.into(),
            }
            let e = plan(a).unwrap_err().to_string();
            assert!(e.contains(&format!("--{flag} {value}")), "{e}");
        }
        let mut a = args("udp://127.0.0.1:88");
        a.warmup = "2s".into();
        a.duration = "1h".into();
        let p = plan(a).unwrap();
        assert_eq!((p.warmup, p.duration), (Duration::from_secs(2), MAX_PHASE));
    }

    #[test]
    fn only_results_inside_the_window_count() {
        #[allow(clippy::disallowed_methods)]
        let t = Instant::now();
        let w = Window {
            from: t + Duration::from_secs(1),
            until: t + Duration::from_secs(2),
        };
        assert!(!w.contains(t));
        assert!(w.contains(t + Duration::from_millis(1500)));
        assert!(w.contains(w.until));
        assert!(!w.contains(t + Duration::from_millis(2001)));
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
