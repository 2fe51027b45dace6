//! `kerbside serve app`: the application server / GSS acceptor on real
//! sockets, speaking MIT's gss-sample protocol so MIT's `gss-client` (and
//! `kerbside client`) can authenticate to it.
//!
//! ```text
//! kerbside serve app --listen 127.0.0.1:4444 --keytab app.keytab --service host@app.lab.test \
//!     [--kdc 127.0.0.1:88] [--ntlm-accounts accounts.txt] [--ntlm-only]
//! ```
//!
//! * Kerberos with the keytab's keys for `--service` (raw or through
//!   SPNEGO), NTLMv2 against `--ntlm-accounts` (`user:password` or
//!   `user:$NT$hex` lines); `--ntlm-only` is the printer that speaks
//!   nothing else (no keytab needed).
//! * `--kdc` is where IAKERB's KDC messages would be proxied.
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
use kerbside_kdc::config::parse_duration;
use kerbside_net::app_server::{AppEvent, AppEventSink, AppServer, AppServerLimits, NoEvents};
use kerbside_net::tokio_driver::{SystemClock, TokioNet};
use kerbside_net::{HostRng, host_rng};
use kerbside_server::{
    AcceptMode, AcceptorConfig, AppService, NtlmAccounts, NtlmServerConfig, ServiceKeys,
};
use rand_chacha::rand_core::SeedableRng;

use super::client::{os_seed, parse_spn};
use super::{CliError, CmdResult};

/// Arguments of `kerbside serve app`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Address to listen on (gss-server's default port is 4444).
    #[arg(long, value_name = "HOST:PORT", default_value = "127.0.0.1:4444")]
    listen: String,
    /// The realm's KDC, for proxying IAKERB's KDC messages (TCP).
    #[arg(long, value_name = "HOST:PORT")]
    kdc: Option<String>,
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

pub(crate) fn run(args: Args) -> CmdResult {
    let service = Arc::new(build(&args)?);
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
    let local = tcp
        .local_addr()
        .map_err(|e| CliError::runtime(e.to_string()))?;
    eprintln!(
        "kerbside app server listening on {local}: {:?}, principals {:?}, {} NTLM account(s), {} worker(s)",
        service.config.mode,
        service.keys.principals(),
        service.accounts.len(),
        args.workers
    );
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
        std::thread::Builder::new()
            .name(format!("app-{i}"))
            .spawn(move || worker(tcp, service, kdc, rng, quiet))
            .map_err(|e| CliError::runtime(format!("spawn worker: {e}")))?;
    }
    wait_for_signal()?;
    eprintln!("kerbside app server: stopping");
    Ok(ExitCode::SUCCESS)
}

/// The service from the flags: keys for `--service` from the keytab,
/// accounts, mode.
fn build(args: &Args) -> Result<AppService, CliError> {
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
    let keys = match &args.keytab {
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
            if keys.is_empty() {
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
    let mode = if args.ntlm_only {
        if accounts.is_empty() {
            return Err(CliError::input("--ntlm-only needs --ntlm-accounts FILE"));
        }
        AcceptMode::NtlmOnly
    } else {
        if keys.is_empty() {
            return Err(CliError::input(
                "give --keytab FILE (or --ntlm-only with --ntlm-accounts)",
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
        ..AcceptorConfig::default()
    };
    Ok(AppService::new(config, keys, accounts))
}

/// One JSON line per connection on stdout.
struct JsonLines;

impl AppEventSink for JsonLines {
    fn event(&self, e: &AppEvent) {
        if let Ok(line) = serde_json::to_string(e) {
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "{line}");
            let _ = out.flush();
        }
    }
}

fn worker(
    tcp: TcpListener,
    service: Arc<AppService>,
    kdc: Option<SocketAddr>,
    rng: HostRng,
    quiet: bool,
) {
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
        let sink: Rc<dyn AppEventSink> = if quiet {
            Rc::new(NoEvents)
        } else {
            Rc::new(JsonLines)
        };
        let server = AppServer::new(
            TokioNet,
            SystemClock,
            rng,
            service,
            kdc,
            sink,
            AppServerLimits::default(),
        );
        server.serve(listener).await;
    });
}

fn wait_for_signal() -> Result<(), CliError> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::runtime(e.to_string()))?;
    rt.block_on(async {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
        tokio::select! {
            r = tokio::signal::ctrl_c() => r,
            _ = term.recv() => Ok(()),
        }
    })
    .map_err(|e| CliError::runtime(format!("waiting for Ctrl-C: {e}")))
}
