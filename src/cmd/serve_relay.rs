//! `kerbside serve relay`: the MS-KKDCP relay on real sockets.
//!
//! Configuration comes from flags, a TOML file (`--config`), or both (flags
//! win). Startup problems (unreadable certificate, bad realm mapping, bad
//! URL, unknown config key) are reported with the file or flag at fault and
//! exit with code 2 before anything listens.
//!
//! ```toml
//! listen = "127.0.0.1:8443"
//! workers = 2
//! length_prefix = "reject"        # or "accept" (Apple clients)
//! rate_limit = "50/s,burst=100"
//! tokens = ["change-me"]
//! client_ca = "clients-ca.pem"    # mutual TLS
//! audit = "-"                     # "-" stdout, "none", or a file
//! upstream_timeout_ms = 3000
//! request_timeout_ms = 8000
//!
//! [tls]
//! cert = "server.pem"
//! key = "server.key"
//! # self_signed = "/var/lib/kerbside/pki"
//!
//! [realms."LAB.TEST"]
//! kdc = ["tcp://10.0.0.1:88", "udp://10.0.0.1:88"]
//! kpasswd = ["tcp://10.0.0.1:464"]
//! ```

use std::fs;
use std::io::Write;
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::str::FromStr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use kerbside_net::https::{self, ClientCertPolicy};
use kerbside_net::relay_server::{RelayServer, ServerLimits};
use kerbside_net::tokio_driver::{SystemClock, TokioNet};
use kerbside_relay::{
    AuditRecord, AuditSink, ClientAuth, NoAudit, PrefixPolicy, RateLimit, RealmRoute, Relay,
    RelayConfig, Upstream,
};

use super::os::wait_for_shutdown;
use super::{CliError, CmdResult};

/// Arguments of `kerbside serve relay`.
#[derive(Debug, Default, clap::Args)]
pub(crate) struct Args {
    /// Address to listen on (HOST:PORT). Default 127.0.0.1:8443.
    #[arg(long, value_name = "HOST:PORT")]
    listen: Option<String>,
    /// A realm and its KDCs, TCP tried first. Repeat for more realms.
    #[arg(
        long = "realm",
        value_name = "REALM=tcp://HOST:PORT[,udp://HOST:PORT...]"
    )]
    realms: Vec<String>,
    /// Relay RFC 3244 kpasswd requests for REALM to these servers.
    #[arg(long = "kpasswd", value_name = "REALM=tcp://HOST:PORT[,...]")]
    kpasswd: Vec<String>,
    /// Server certificate chain (PEM).
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// Server private key (PEM).
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// Create (or reuse) a CA and a server certificate for 127.0.0.1,
    /// ::1 and localhost in DIR; clients trust DIR/ca.pem.
    #[arg(long, value_name = "DIR", conflicts_with_all = ["tls_cert", "tls_key"])]
    self_signed: Option<PathBuf>,
    /// Serve plain HTTP (behind a TLS terminator, or for tests).
    #[arg(long, conflicts_with_all = ["tls_cert", "tls_key", "self_signed"])]
    plain_http: bool,
    /// TOML configuration file; flags override it.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Require `Authorization: Bearer TOKEN` (repeatable; any one admits).
    #[arg(long = "token", value_name = "TOKEN")]
    tokens: Vec<String>,
    /// Require client certificates issued by this CA (mutual TLS).
    #[arg(long, value_name = "FILE")]
    client_ca: Option<PathBuf>,
    /// Per-client rate limit, e.g. `20/s` or `20/s,burst=50`.
    #[arg(long, value_name = "N/s")]
    rate_limit: Option<String>,
    /// Missing kerb-message length prefix: reject (MS-KKDCP) or accept (Apple).
    #[arg(long, value_name = "reject|accept")]
    length_prefix: Option<String>,
    /// Worker threads (one current-thread runtime each). Default: CPU count.
    #[arg(long, value_name = "N")]
    workers: Option<usize>,
    /// Per-upstream attempt timeout in milliseconds.
    #[arg(long, value_name = "MS")]
    upstream_timeout_ms: Option<u64>,
    /// Whole-request budget across upstreams in milliseconds.
    #[arg(long, value_name = "MS")]
    request_timeout_ms: Option<u64>,
    /// Where audit lines go: `-` (stdout, default), `none`, or a file.
    #[arg(long, value_name = "FILE")]
    audit: Option<String>,
}

/// The TOML form of everything the flags do.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    listen: Option<String>,
    workers: Option<usize>,
    path: Option<String>,
    length_prefix: Option<String>,
    rate_limit: Option<String>,
    #[serde(default)]
    tokens: Vec<String>,
    client_ca: Option<PathBuf>,
    audit: Option<String>,
    upstream_timeout_ms: Option<u64>,
    request_timeout_ms: Option<u64>,
    max_request: Option<usize>,
    max_reply: Option<usize>,
    strict_content_type: Option<bool>,
    require_realm_match: Option<bool>,
    plain_http: Option<bool>,
    tls: Option<FileTls>,
    #[serde(default)]
    realms: std::collections::BTreeMap<String, FileRealm>,
}

#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct FileTls {
    cert: Option<PathBuf>,
    key: Option<PathBuf>,
    self_signed: Option<PathBuf>,
}

#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct FileRealm {
    kdc: Vec<String>,
    #[serde(default)]
    kpasswd: Vec<String>,
}

/// How the server speaks TLS.
enum TlsSource {
    Files { cert: PathBuf, key: PathBuf },
    SelfSigned(PathBuf),
    Plain,
}

/// Everything resolved and checked, ready to bind.
struct Plan {
    listen: SocketAddr,
    workers: usize,
    relay: RelayConfig,
    tls: TlsSource,
    client_ca: Option<PathBuf>,
    audit: String,
}

pub(crate) fn run(args: Args) -> CmdResult {
    let plan = plan(args)?;
    let tls = match &plan.tls {
        TlsSource::Plain => None,
        TlsSource::Files { cert, key } => Some(server_tls(
            cert,
            key,
            plan.client_ca.as_deref(),
            &plan.relay,
        )?),
        TlsSource::SelfSigned(dir) => {
            let files =
                https::ensure_self_signed(dir, &[]).map_err(|e| CliError::input(e.to_string()))?;
            eprintln!(
                "kerbside relay: {} CA {} (clients: http_anchors = FILE:{})",
                if files.created { "created" } else { "reusing" },
                files.ca.display(),
                files.ca.display()
            );
            Some(server_tls(
                &files.cert,
                &files.key,
                plan.client_ca.as_deref(),
                &plan.relay,
            )?)
        }
    };
    let audit: Arc<dyn AuditSink> = match plan.audit.as_str() {
        "none" => Arc::new(NoAudit),
        "-" => Arc::new(WriterAudit::new(Box::new(std::io::stdout()))),
        path => {
            let f = fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .map_err(|e| CliError::input(format!("--audit {path}: {e}")))?;
            Arc::new(WriterAudit::new(Box::new(f)))
        }
    };
    let relay = Arc::new(Relay::new(plan.relay).map_err(|e| CliError::input(e.to_string()))?);
    let listener = TcpListener::bind(plan.listen)
        .and_then(|l| l.set_nonblocking(true).map(|()| l))
        .map_err(|e| CliError::runtime(format!("listen {}: {e}", plan.listen)))?;
    let local = listener
        .local_addr()
        .map_err(|e| CliError::runtime(e.to_string()))?;
    let scheme = if tls.is_some() { "https" } else { "http" };
    let realms: Vec<String> = relay
        .config()
        .realms()
        .map(|r| {
            format!(
                "{}={}",
                r.name,
                r.kdcs
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(",")
            )
        })
        .collect();
    eprintln!(
        "kerbside relay listening on {scheme}://{local}{} ({} worker(s); realms {})",
        relay.config().path,
        plan.workers,
        realms.join(" ")
    );
    for i in 0..plan.workers {
        let std_listener = listener
            .try_clone()
            .map_err(|e| CliError::runtime(e.to_string()))?;
        let (relay, tls, audit) = (relay.clone(), tls.clone(), audit.clone());
        std::thread::Builder::new()
            .name(format!("relay-{i}"))
            .spawn(move || worker(std_listener, relay, tls, audit))
            .map_err(|e| CliError::runtime(format!("spawn worker: {e}")))?;
    }
    wait_for_shutdown()?;
    eprintln!("kerbside relay: stopping");
    Ok(ExitCode::SUCCESS)
}

/// One worker: a current-thread runtime and a `LocalSet` serving the shared
/// listening socket.
fn worker(
    listener: TcpListener,
    relay: Arc<Relay>,
    tls: Option<Arc<rustls::ServerConfig>>,
    audit: Arc<dyn AuditSink>,
) {
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("kerbside relay: worker runtime: {e}");
            return;
        }
    };
    let local = tokio::task::LocalSet::new();
    local.block_on(&rt, async move {
        let listener = match tokio::net::TcpListener::from_std(listener) {
            Ok(l) => l,
            Err(e) => {
                eprintln!("kerbside relay: worker listener: {e}");
                return;
            }
        };
        let server = RelayServer::new(
            TokioNet,
            SystemClock,
            relay,
            tls,
            audit,
            ServerLimits::default(),
        );
        server.serve(listener).await;
    });
}

fn server_tls(
    cert: &Path,
    key: &Path,
    client_ca: Option<&Path>,
    relay: &RelayConfig,
) -> Result<Arc<rustls::ServerConfig>, CliError> {
    let input = |e: https::TlsSetupError| CliError::input(e.to_string());
    let chain = https::load_certs(cert).map_err(input)?;
    let key = https::load_key(key).map_err(input)?;
    let clients = match client_ca {
        None => ClientCertPolicy::None,
        Some(ca) => {
            let roots = https::load_certs(ca).map_err(input)?;
            // With tokens configured too, a certificate is one way in, not
            // the only one: ask for it but let token holders through.
            if relay.auth.bearer_tokens.is_empty() {
                ClientCertPolicy::Required(roots)
            } else {
                ClientCertPolicy::Optional(roots)
            }
        }
    };
    https::server_config(chain, key, &clients)
        .map_err(|e| CliError::input(format!("{}: {e}", cert.display())))
}

/// Merges the file and the flags, checks everything, and says what is wrong
/// with which flag or file.
fn plan(args: Args) -> Result<Plan, CliError> {
    let file = match &args.config {
        Some(path) => {
            let text = fs::read_to_string(path)
                .map_err(|e| CliError::input(format!("{}: {e}", path.display())))?;
            toml::from_str::<FileConfig>(&text)
                .map_err(|e| CliError::input(format!("{}: {e}", path.display())))?
        }
        None => FileConfig::default(),
    };
    // Paths in the file are relative to the file.
    let base = args
        .config
        .as_deref()
        .and_then(Path::parent)
        .map(Path::to_path_buf)
        .unwrap_or_default();
    let rel = |p: PathBuf| if p.is_absolute() { p } else { base.join(p) };
    let bad = |what: &str, e: &dyn std::fmt::Display| CliError::input(format!("{what}: {e}"));

    let listen_text = args
        .listen
        .or(file.listen)
        .unwrap_or_else(|| "127.0.0.1:8443".to_owned());
    let listen = listen_text
        .parse::<SocketAddr>()
        .map_err(|e| bad(&format!("--listen {listen_text}"), &e))?;

    let mut relay = RelayConfig::default();
    // Realms: the file's, then each --realm (replacing a file realm of the same name).
    let mut routes: Vec<RealmRoute> = Vec::new();
    for (name, r) in &file.realms {
        let kdcs = parse_upstreams(&r.kdc).map_err(|e| bad(&format!("realm {name}"), &e))?;
        let kpasswd =
            parse_upstreams(&r.kpasswd).map_err(|e| bad(&format!("realm {name} kpasswd"), &e))?;
        let route = RealmRoute::new(name, kdcs).map_err(|e| bad(&format!("realm {name}"), &e))?;
        routes.push(route.with_kpasswd(kpasswd));
    }
    for m in &args.realms {
        let route = RealmRoute::parse_mapping(m).map_err(|e| bad("--realm", &e))?;
        routes.retain(|r| !r.name.eq_ignore_ascii_case(&route.name));
        routes.push(route);
    }
    for m in &args.kpasswd {
        let (name, urls) = m
            .split_once('=')
            .ok_or_else(|| bad("--kpasswd", &"expected REALM=URL[,URL]"))?;
        let servers = parse_upstreams(&urls.split(',').map(str::to_owned).collect::<Vec<_>>())
            .map_err(|e| bad("--kpasswd", &e))?;
        let route = routes
            .iter_mut()
            .find(|r| r.name.eq_ignore_ascii_case(name))
            .ok_or_else(|| bad("--kpasswd", &format!("realm {name} has no --realm mapping")))?;
        route.kpasswd = servers;
    }
    if routes.is_empty() {
        return Err(CliError::input(
            "no realm configured: give --realm REALM=tcp://HOST:PORT or [realms] in --config",
        ));
    }
    relay.kpasswd = routes.iter().any(|r| !r.kpasswd.is_empty());
    for r in routes {
        relay.add_realm(r).map_err(|e| bad("realm", &e))?;
    }

    if let Some(p) = file.path {
        relay.path = p;
    }
    if let Some(policy) = args.length_prefix.or(file.length_prefix) {
        relay.prefix_policy =
            PrefixPolicy::from_str(&policy).map_err(|e| bad("--length-prefix", &e))?;
    }
    if let Some(rl) = args.rate_limit.or(file.rate_limit) {
        relay.rate_limit = Some(RateLimit::from_str(&rl).map_err(|e| bad("--rate-limit", &e))?);
    }
    if let Some(ms) = args.upstream_timeout_ms.or(file.upstream_timeout_ms) {
        relay.upstream_timeout = Duration::from_millis(ms);
    }
    if let Some(ms) = args.request_timeout_ms.or(file.request_timeout_ms) {
        relay.request_timeout = Duration::from_millis(ms);
    }
    if let Some(n) = file.max_request {
        relay.max_request = n;
    }
    if let Some(n) = file.max_reply {
        relay.max_reply = n;
    }
    if let Some(b) = file.strict_content_type {
        relay.strict_content_type = b;
    }
    if let Some(b) = file.require_realm_match {
        relay.require_realm_match = b;
    }
    let tokens = if args.tokens.is_empty() {
        file.tokens
    } else {
        args.tokens
    };
    if tokens.iter().any(|t| t.len() < 16) {
        return Err(CliError::input(
            "--token: tokens must be at least 16 characters",
        ));
    }
    let client_ca = args.client_ca.or(file.client_ca.map(rel));
    relay.auth = ClientAuth {
        bearer_tokens: tokens,
        mutual_tls: client_ca.is_some(),
    };
    relay.validate().map_err(|e| bad("configuration", &e))?;

    let file_tls = file.tls.unwrap_or_default();
    let tls = if args.plain_http {
        TlsSource::Plain
    } else if let (Some(cert), Some(key)) = (args.tls_cert.clone(), args.tls_key.clone()) {
        TlsSource::Files { cert, key }
    } else if let Some(dir) = args.self_signed {
        TlsSource::SelfSigned(dir)
    } else if let (Some(cert), Some(key)) = (file_tls.cert, file_tls.key) {
        TlsSource::Files {
            cert: rel(cert),
            key: rel(key),
        }
    } else if let Some(dir) = file_tls.self_signed {
        TlsSource::SelfSigned(rel(dir))
    } else if file.plain_http == Some(true) {
        TlsSource::Plain
    } else {
        return Err(CliError::input(
            "no TLS configured: give --tls-cert/--tls-key, --self-signed DIR, or --plain-http",
        ));
    };
    if matches!(tls, TlsSource::Plain) && client_ca.is_some() {
        return Err(CliError::input("--client-ca needs TLS"));
    }
    let workers = args
        .workers
        .or(file.workers)
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, usize::from));
    if workers == 0 {
        return Err(CliError::input("--workers must be at least 1"));
    }
    let audit = args.audit.or(file.audit).unwrap_or_else(|| "-".to_owned());
    Ok(Plan {
        listen,
        workers,
        relay,
        tls,
        client_ca,
        audit,
    })
}

fn parse_upstreams(urls: &[String]) -> Result<Vec<Upstream>, kerbside_relay::ConfigError> {
    urls.iter()
        .map(|u| u.trim())
        .filter(|u| !u.is_empty())
        .map(Upstream::from_str)
        .collect()
}

/// Audit lines to stdout or a file, one JSON object per line.
struct WriterAudit(Mutex<Box<dyn Write + Send>>);

impl WriterAudit {
    fn new(w: Box<dyn Write + Send>) -> Self {
        WriterAudit(Mutex::new(w))
    }
}

impl AuditSink for WriterAudit {
    fn record(&self, record: &AuditRecord) {
        let mut line = record.to_json_line();
        line.push('\n');
        let mut w = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        // An audit destination that fails (disk full, closed pipe) must not
        // take the relay down; the failure is logged instead.
        if let Err(e) = w.write_all(line.as_bytes()).and_then(|()| w.flush()) {
            tracing::error!(error = %e, "relay: cannot write audit line");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(f: impl FnOnce(&mut Args)) -> Args {
        let mut a = Args::default();
        f(&mut a);
        a
    }

    fn err(a: Args) -> String {
        match plan(a) {
            Ok(_) => panic!("expected an error"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn flags_make_a_plan() {
        let p = plan(args(|a| {
            a.listen = Some("127.0.0.1:0".into());
            a.realms = vec!["LAB.TEST=tcp://127.0.0.1:88,udp://127.0.0.1:88".into()];
            a.plain_http = true;
            a.length_prefix = Some("accept".into());
            a.rate_limit = Some("5/s".into());
            a.workers = Some(3);
        }))
        .unwrap();
        assert_eq!(p.workers, 3);
        assert_eq!(p.relay.prefix_policy, PrefixPolicy::Accept);
        assert_eq!(p.relay.realm("lab.test").unwrap().kdcs.len(), 2);
        assert!(matches!(p.tls, TlsSource::Plain));
    }

    #[test]
    fn startup_errors_name_the_culprit() {
        assert!(err(args(|a| a.plain_http = true)).contains("no realm configured"));
        let e = err(args(|a| {
            a.realms = vec!["LAB.TEST".into()];
            a.plain_http = true;
        }));
        assert!(e.starts_with("--realm: bad realm mapping"), "{e}");
        let e = err(args(|a| {
            a.realms = vec!["LAB.TEST=http://kdc:88".into()];
            a.plain_http = true;
        }));
        assert!(e.contains("bad upstream URL \"http://kdc:88\""), "{e}");
        let e = err(args(|a| {
            a.realms = vec!["LAB.TEST=tcp://127.0.0.1:88".into()]
        }));
        assert!(e.contains("no TLS configured"), "{e}");
        let e = err(args(|a| {
            a.realms = vec!["LAB.TEST=tcp://127.0.0.1:88".into()];
            a.plain_http = true;
            a.listen = Some("localhost".into());
        }));
        assert!(e.starts_with("--listen localhost"), "{e}");
        let e = err(args(|a| {
            a.realms = vec!["LAB.TEST=tcp://127.0.0.1:88".into()];
            a.plain_http = true;
            a.tokens = vec!["short".into()];
        }));
        assert!(e.contains("at least 16"), "{e}");
    }

    #[test]
    fn toml_config_and_flag_overrides() {
        let dir = std::env::temp_dir().join(format!("kerbside-relay-cli-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let path = dir.join("relay.toml");
        fs::write(
            &path,
            r#"
listen = "127.0.0.1:9443"
workers = 2
length_prefix = "accept"
upstream_timeout_ms = 1500
tokens = ["0123456789abcdef"]
[tls]
self_signed = "pki"
[realms."LAB.TEST"]
kdc = ["tcp://127.0.0.1:88"]
kpasswd = ["tcp://127.0.0.1:464"]
[realms."OTHER.TEST"]
kdc = ["tcp://127.0.0.2:88"]
"#,
        )
        .unwrap();
        let p = plan(args(|a| {
            a.config = Some(path.clone());
            a.realms = vec!["other.test=tcp://127.0.0.3:88".into()];
            a.workers = Some(5);
        }))
        .unwrap();
        assert_eq!(p.listen, "127.0.0.1:9443".parse().unwrap());
        assert_eq!(p.workers, 5, "flag wins");
        assert_eq!(p.relay.upstream_timeout, Duration::from_millis(1500));
        assert!(p.relay.kpasswd);
        assert_eq!(
            p.relay.realm("OTHER.TEST").unwrap().kdcs[0].to_string(),
            "tcp://127.0.0.3:88"
        );
        assert_eq!(p.relay.auth.bearer_tokens.len(), 1);
        assert!(
            matches!(p.tls, TlsSource::SelfSigned(ref d) if *d == dir.join("pki")),
            "relative to the file"
        );
        // A typo in the file is an error with its position.
        fs::write(&path, "lisen = \"x\"\n").unwrap();
        let e = err(args(|a| a.config = Some(path.clone())));
        assert!(
            e.contains("relay.toml") && e.contains("unknown field `lisen`"),
            "{e}"
        );
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn unreadable_certificate_is_an_input_error() {
        let c = RelayConfig::default();
        let e = server_tls(
            Path::new("/nonexistent/c.pem"),
            Path::new("/nonexistent/k.pem"),
            None,
            &c,
        )
        .unwrap_err();
        assert!(e.to_string().starts_with("/nonexistent/c.pem"), "{e}");
        assert_eq!(e.exit_code(), ExitCode::from(2));
    }
}
