//! `kerbside serve app`: the application server / GSS acceptor on real
//! sockets, speaking MIT's gss-sample protocol so MIT's `gss-client` (and
//! `kerbside client`) can authenticate to it.
//!
//! ```text
//! kerbside serve app --listen 127.0.0.1:4444 --keytab app.keytab --service host@app.lab.test \
//!     [--kdc 127.0.0.1:88] [--ntlm-accounts accounts.txt] [--ntlm-only] \
//!     [--iakerb [--local-kdc MACHINE --accounts FILE] [--iakerb-compat] [--iakerb-cookie] [--iakerb-style windows]]
//! ```
//!
//! * Kerberos with the keytab's keys for `--service` (raw or through
//!   SPNEGO), NTLMv2 against `--ntlm-accounts` (`user:password` or
//!   `user:$NT$hex` lines); `--ntlm-only` is the printer that speaks
//!   nothing else (no keytab needed).
//! * `--iakerb` accepts IAKERB (draft-ietf-kitten-iakerb-03, MIT
//!   `gss-client -iakerb`): KDC messages of the keytab's realm are relayed
//!   to `--kdc` (UDP first, TCP after RESPONSE_TOO_BIG or silence, as MIT's
//!   acceptor; `--kdc-transport tcp` for TCP only); the AP-REQ must carry
//!   the finished checksum unless `--iakerb-compat`.
//! * `--local-kdc MACHINE --accounts FILE`: an on-target LocalKDC inside
//!   the server (realm = MACHINE upper-case, `name:password` local
//!   accounts, 10-hour tickets, a fresh key for `--service` in that realm),
//!   reached only through IAKERB, as Windows builds it; its decisions are
//!   printed as `{"localkdc": ...}` JSON lines.
//! * One JSON line per connection on stdout (who authenticated with what,
//!   or why not); `--quiet` turns it off.
//! * N workers (default 1), each a current-thread runtime serving clones of
//!   the listening socket; they share keys, accounts and the replay cache.
//!   Ctrl-C or SIGTERM stops. Bad files or flags exit with code 2.

use std::io::Write;
use std::net::{SocketAddr, TcpListener};
use std::path::PathBuf;
use std::process::ExitCode;
use std::rc::Rc;
use std::sync::Arc;

use kerbside_crypto::keytab;
use kerbside_kdc::Kdc;
use kerbside_kdc::config::parse_duration;
use kerbside_kdc::localkdc::{LocalKdcAudit, OnTargetConfig, on_target, parse_accounts};
use kerbside_net::app_kdc_forward::{
    ByRealm, ForwardTransport, InProcessKdc, KdcForwarder, NetKdcForwarder,
};
use kerbside_net::app_server::{AppEvent, AppEventSink, AppServer, AppServerLimits, NoEvents};
use kerbside_net::tokio_driver::{SystemClock, TokioNet};
use kerbside_net::{HostRng, host_rng};
use kerbside_server::{
    AcceptMode, AcceptorConfig, AppService, IakerbConfig, IakerbReplyStyle, NtlmAccounts,
    NtlmServerConfig, ServiceKeys,
};
use rand_chacha::rand_core::SeedableRng;

use super::client::parse_spn;
use super::os::{os_seed, wait_for_shutdown};
use super::{CliError, CmdResult};

/// Arguments of `kerbside serve app`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Address to listen on (gss-server's default port is 4444).
    #[arg(long, value_name = "HOST:PORT", default_value = "127.0.0.1:4444")]
    listen: String,
    /// The realm's KDC, for relaying IAKERB's KDC messages.
    #[arg(long, value_name = "HOST:PORT")]
    kdc: Option<String>,
    /// How IAKERB reaches `--kdc`.
    #[arg(long, value_enum, default_value = "udp-then-tcp")]
    kdc_transport: KdcTransportArg,
    /// Accept IAKERB and relay its KDC messages.
    #[arg(long)]
    iakerb: bool,
    /// Accept an IAKERB AP-REQ without the finished checksum (peers that
    /// omit it; MIT and kerbside require it by default).
    #[arg(long, requires = "iakerb")]
    iakerb_compat: bool,
    /// Issue a cookie in every IAKERB reply and require it back.
    #[arg(long, requires = "iakerb")]
    iakerb_cookie: bool,
    /// How IAKERB replies name the realm (windows: ".", with header-flags).
    #[arg(long, value_enum, default_value = "mit", requires = "iakerb")]
    iakerb_style: IakerbStyleArg,
    /// Run an on-target LocalKDC for this machine name (realm = upper
    /// case), reached through IAKERB.
    #[arg(long, value_name = "MACHINE", requires_all = ["iakerb", "accounts"])]
    local_kdc: Option<String>,
    /// The LocalKDC's local accounts (`name:password` lines).
    #[arg(long, value_name = "FILE", requires = "local_kdc")]
    accounts: Option<PathBuf>,
    /// MIT keytab holding the service's keys.
    #[arg(long, value_name = "FILE")]
    keytab: Option<PathBuf>,
    /// The service: `service@host` or `service/host[@REALM]`.
    #[arg(long, value_name = "SPN")]
    service: String,
    /// Local NTLM accounts (`user:password` / `user:$NT$hex` lines).
    #[arg(long, value_name = "FILE")]
    ntlm_accounts: Option<PathBuf>,
    /// Accept NTLM only (an NTLM-only printer): Kerberos is refused.
    #[arg(long)]
    ntlm_only: bool,
    /// Allowed clock skew.
    #[arg(long, default_value = "300s")]
    max_skew: String,
    /// Worker threads.
    #[arg(long, default_value_t = 1)]
    workers: usize,
    /// No per-connection JSON lines.
    #[arg(long)]
    quiet: bool,
    /// Seed the workers' RNGs (reproducible keys and sequence numbers).
    #[arg(long)]
    seed: Option<u64>,
}

/// `--kdc-transport`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum KdcTransportArg {
    /// TCP only.
    Tcp,
    /// UDP for small requests, TCP after RESPONSE_TOO_BIG or silence.
    UdpThenTcp,
}

/// `--iakerb-style`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum IakerbStyleArg {
    /// Echo the request's realm, no header-flags (MIT).
    Mit,
    /// "." and header-flags 01000000 (Windows build 29617).
    Windows,
}

/// The on-target LocalKDC, when `--local-kdc` is given.
struct LocalKdc {
    kdc: Kdc,
    audit: Arc<LocalKdcAudit>,
}

pub(crate) fn run(args: Args) -> CmdResult {
    let (service, local) = build(&args)?;
    let service = Arc::new(service);
    if args.workers == 0 {
        return Err(CliError::input("--workers must be at least 1"));
    }
    let listen: SocketAddr = args
        .listen
        .parse()
        .map_err(|e| CliError::input(format!("--listen {}: {e}", args.listen)))?;
    let kdc: Option<SocketAddr> = match &args.kdc {
        Some(k) => Some(
            k.parse()
                .map_err(|e| CliError::input(format!("--kdc {k}: {e}")))?,
        ),
        None => None,
    };
    let tcp = TcpListener::bind(listen)
        .map_err(|e| CliError::runtime(format!("listen {listen}: {e}")))?;
    tcp.set_nonblocking(true)
        .map_err(|e| CliError::runtime(e.to_string()))?;
    let listening = tcp
        .local_addr()
        .map_err(|e| CliError::runtime(e.to_string()))?;
    eprintln!(
        "kerbside app server listening on {listening}: {:?}{}, principals {:?}, {} NTLM account(s), {} worker(s)",
        service.config.mode,
        match &service.config.iakerb {
            Some(c) => format!(" + IAKERB for {:?}", c.realms),
            None => String::new(),
        },
        service.keys.principals(),
        service.accounts.len(),
        args.workers
    );
    let transport = match args.kdc_transport {
        KdcTransportArg::Tcp => ForwardTransport::Tcp,
        KdcTransportArg::UdpThenTcp => ForwardTransport::UdpThenTcp,
    };
    for i in 0..args.workers {
        let tcp = tcp
            .try_clone()
            .map_err(|e| CliError::runtime(e.to_string()))?;
        let service = service.clone();
        let rng = match args.seed {
            Some(seed) => host_rng(seed, &format!("app-worker-{i}")),
            None => HostRng::from_seed(os_seed()?),
        };
        let quiet = args.quiet;
        // Each worker holds a clone of the LocalKDC (shared store and
        // replay cache) with its own RNG stream.
        let local = local.as_ref().map(|l| {
            let rng = match args.seed {
                Some(seed) => Ok(host_rng(seed, &format!("localkdc-worker-{i}"))),
                None => os_seed().map(HostRng::from_seed),
            };
            rng.map(|r| (l.kdc.clone(), r, l.audit.clone()))
        });
        let local = local.transpose()?;
        let iakerb = service.config.iakerb.is_some();
        std::thread::Builder::new()
            .name(format!("app-{i}"))
            .spawn(move || {
                worker(Worker {
                    tcp,
                    service,
                    kdc,
                    transport,
                    iakerb,
                    local,
                    rng,
                    quiet,
                })
            })
            .map_err(|e| CliError::runtime(format!("spawn worker: {e}")))?;
    }
    wait_for_shutdown()?;
    eprintln!("kerbside app server: stopping");
    Ok(ExitCode::SUCCESS)
}

/// The service from the flags: keys for `--service` from the keytab (and
/// the LocalKDC), accounts, mode, IAKERB.
fn build(args: &Args) -> Result<(AppService, Option<LocalKdc>), CliError> {
    let spn = parse_spn(&args.service)?;
    let max_skew =
        parse_duration(&args.max_skew).map_err(|e| CliError::input(format!("--max-skew: {e}")))?;
    let accounts = match &args.ntlm_accounts {
        Some(p) => {
            let text = std::fs::read_to_string(p)
                .map_err(|e| CliError::input(format!("{}: {e}", p.display())))?;
            NtlmAccounts::parse(&text)
                .map_err(|e| CliError::input(format!("{}: {e}", p.display())))?
        }
        None => NtlmAccounts::new(),
    };
    let mut keys = match &args.keytab {
        Some(p) => {
            let bytes =
                std::fs::read(p).map_err(|e| CliError::input(format!("{}: {e}", p.display())))?;
            let entries = keytab::parse(&bytes)
                .map_err(|e| CliError::input(format!("{}: {e}", p.display())))?;
            // Only the named service's keys (and realm, when given), as
            // gss-server acquires credentials for one name.
            let mine: Vec<_> = entries
                .into_iter()
                .filter(|e| e.components == spn.components)
                .filter(|e| spn.realm.as_ref().is_none_or(|r| *r == e.realm))
                .collect();
            let keys = ServiceKeys::from_keytab(&mine);
            if keys.is_empty() && args.local_kdc.is_none() {
                return Err(CliError::input(format!(
                    "{}: no usable key for {}",
                    p.display(),
                    spn.slash_form()
                )));
            }
            keys
        }
        None => ServiceKeys::new(),
    };
    let keytab_realm = keys.default_principal().map(|(r, _)| r.to_owned());
    let local = match (&args.local_kdc, &args.accounts) {
        (Some(machine), Some(path)) => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| CliError::input(format!("{}: {e}", path.display())))?;
            let accounts = parse_accounts(&text)
                .map_err(|e| CliError::input(format!("{}: {e}", path.display())))?;
            let cfg = OnTargetConfig::new(machine, accounts, vec![spn.components.clone()]);
            let mut rng = match args.seed {
                Some(seed) => host_rng(seed, "localkdc-keys"),
                None => HostRng::from_seed(os_seed()?),
            };
            let built = on_target(&cfg, &mut rng)
                .map_err(|e| CliError::input(format!("--local-kdc {machine}: {e}")))?;
            let realm = cfg.realm();
            let comps: Vec<&str> = spn.components.iter().map(String::as_str).collect();
            for (_, kvno, key) in &built.service_keys {
                keys.insert(&realm, &comps, *kvno, key.clone());
            }
            Some(LocalKdc {
                kdc: built.kdc,
                audit: built.audit,
            })
        }
        _ => None,
    };
    let mode = if args.ntlm_only {
        if accounts.is_empty() {
            return Err(CliError::input("--ntlm-only needs --ntlm-accounts FILE"));
        }
        AcceptMode::NtlmOnly
    } else {
        if keys.is_empty() {
            return Err(CliError::input(
                "give --keytab FILE or --local-kdc (or --ntlm-only with --ntlm-accounts)",
            ));
        }
        if accounts.is_empty() {
            AcceptMode::KerberosOnly
        } else {
            AcceptMode::Negotiate
        }
    };
    let host = spn.components.get(1).cloned().unwrap_or_default();
    let realm = spn
        .realm
        .clone()
        .or_else(|| keys.default_principal().map(|(r, _)| r.to_owned()))
        .unwrap_or_else(|| "WORKGROUP".into());
    let netbios_domain = realm.split('.').next().unwrap_or(&realm).to_uppercase();
    let netbios_computer = host.split('.').next().unwrap_or(&host).to_uppercase();
    let config = AcceptorConfig {
        mode,
        max_skew,
        ntlm: NtlmServerConfig {
            netbios_domain,
            netbios_computer,
            dns_domain: realm.to_lowercase(),
            dns_computer: host,
            // Extended Protection: an NTLM client naming another service is
            // being relayed.
            accepted_target_names: vec![spn.slash_form()],
            ..NtlmServerConfig::default()
        },
        iakerb: args.iakerb.then(|| {
            // The LocalKDC's realm first: realm discovery names it.
            let mut realms = Vec::new();
            if let Some(m) = &args.local_kdc {
                realms.push(m.to_ascii_uppercase());
            }
            if args.kdc.is_some()
                && let Some(r) = &keytab_realm
            {
                realms.push(r.clone());
            }
            IakerbConfig {
                realms,
                require_finished: !args.iakerb_compat,
                issue_cookie: args.iakerb_cookie,
                reply_style: match args.iakerb_style {
                    IakerbStyleArg::Mit => IakerbReplyStyle::Mit,
                    IakerbStyleArg::Windows => IakerbReplyStyle::Windows,
                },
                ..IakerbConfig::for_realm("")
            }
        }),
        ..AcceptorConfig::default()
    };
    if config.iakerb.as_ref().is_some_and(|c| c.realms.is_empty()) {
        return Err(CliError::input(
            "--iakerb needs a KDC to relay to: --kdc HOST:PORT (with --keytab) or --local-kdc",
        ));
    }
    Ok((AppService::new(config, keys, accounts), local))
}

/// One JSON line per connection on stdout, preceded by the LocalKDC's
/// decisions made meanwhile (`{"localkdc": {...}}`).
struct JsonLines {
    localkdc: Option<Arc<LocalKdcAudit>>,
}

impl AppEventSink for JsonLines {
    fn event(&self, e: &AppEvent) {
        let mut out = std::io::stdout().lock();
        if let Some(audit) = &self.localkdc {
            for d in audit.drain() {
                if let Ok(line) = serde_json::to_string(&serde_json::json!({ "localkdc": d })) {
                    let _ = writeln!(out, "{line}");
                }
            }
        }
        if let Ok(line) = serde_json::to_string(e) {
            let _ = writeln!(out, "{line}");
        }
        let _ = out.flush();
    }
}

/// What one worker thread serves.
struct Worker {
    tcp: TcpListener,
    service: Arc<AppService>,
    kdc: Option<SocketAddr>,
    transport: ForwardTransport,
    iakerb: bool,
    local: Option<(Kdc, HostRng, Arc<LocalKdcAudit>)>,
    rng: HostRng,
    quiet: bool,
}

fn worker(w: Worker) {
    let Worker {
        tcp,
        service,
        kdc,
        transport,
        iakerb,
        local,
        rng,
        quiet,
    } = w;
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("kerbside app server: worker runtime: {e}");
            return;
        }
    };
    tokio::task::LocalSet::new().block_on(&rt, async move {
        let listener = match tokio::net::TcpListener::from_std(tcp) {
            Ok(l) => l,
            Err(e) => {
                eprintln!("kerbside app server: worker socket: {e}");
                return;
            }
        };
        let audit = local.as_ref().map(|(_, _, a)| a.clone());
        let sink: Rc<dyn AppEventSink> = if quiet {
            Rc::new(NoEvents)
        } else {
            Rc::new(JsonLines { localkdc: audit })
        };
        let limits = AppServerLimits::default();
        let mut server = AppServer::new(
            TokioNet,
            SystemClock,
            rng,
            service.clone(),
            kdc,
            sink,
            limits.clone(),
        );
        if iakerb {
            let net: Rc<dyn KdcForwarder> = Rc::new(
                NetKdcForwarder::new(TokioNet, transport, limits.kdc_timeout, limits.max_token)
                    .with_default(kdc.into_iter().collect()),
            );
            let mut routes = ByRealm::new().fallback(net);
            if let Some((kdc, rng, _)) = local {
                let realm = kdc.config().realm.clone();
                routes = routes.route(&realm, Rc::new(InProcessKdc::new(kdc, SystemClock, rng)));
            }
            server = server.with_forwarder(Rc::new(routes));
        }
        server.serve(listener).await;
    });
}
