//! `kerbside conform`: the conformance vectors against kerbside itself
//! (`vectors`), against any KDC (`kdc`) or KKDCP relay (`relay`), and the
//! generator that writes the committed vector files (`generate`, hidden).
//! See conformance/README.md for the vendor guide.

use std::net::ToSocketAddrs;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use kerbside_conformance::check::{CaseResult, check_file};
use kerbside_conformance::live::http::{Client, RelayUrl};
use kerbside_conformance::live::iakerb::{IakerbRunner, IakerbTarget};
use kerbside_conformance::live::kdc::{KdcRunner, KdcTarget};
use kerbside_conformance::live::outcome::RunReport;
use kerbside_conformance::live::profile::{self, KnownFailures};
use kerbside_conformance::live::relay::RelayRunner;
use kerbside_conformance::live::{Classifier, fresh_seed, report};
use kerbside_conformance::model::{KdcTransport, VectorFile};
use kerbside_conformance::observe::Grade;
use kerbside_conformance::realm::Realm;
use kerbside_conformance::{files, generate};

use super::{CliError, CmdResult};

/// What to check.
#[derive(Debug, clap::Subcommand)]
pub(crate) enum Command {
    /// Run every vector against kerbside's own parties (all must pass).
    Vectors(VectorsArgs),
    /// Run the kdc-* vectors against a live KDC.
    Kdc(KdcArgs),
    /// Run the kkdcp-relay vectors against a live KKDCP relay.
    Relay(RelayArgs),
    /// Run the iakerb-acceptor vectors against a live IAKERB acceptor
    /// (MIT gss-sample framing: gss-server -iakerb, kerbside serve app --iakerb).
    Iakerb(IakerbArgs),
    /// Combine the results.json of several live runs into one Markdown matrix.
    Matrix(MatrixArgs),
    /// Write the vector files, schema.json and the id ledger (maintainers).
    #[command(hide = true)]
    Generate(GenerateArgs),
}

#[derive(Debug, clap::Args)]
pub(crate) struct Selection {
    /// Only suites whose name starts with this (repeatable).
    #[arg(long = "suite", value_name = "SUITE")]
    suites: Vec<String>,
    /// Read vector files from this directory instead of the copies built
    /// into kerbside.
    #[arg(long, value_name = "DIR")]
    vectors: Option<PathBuf>,
}

impl Selection {
    fn files(&self) -> Result<Vec<VectorFile>, CliError> {
        let all = match &self.vectors {
            Some(dir) => files::load_dir(dir),
            None => files::embedded(),
        }
        .map_err(|e| CliError::input(e.to_string()))?;
        let chosen: Vec<VectorFile> = all
            .into_iter()
            .filter(|f| {
                self.suites.is_empty()
                    || self.suites.iter().any(|s| f.suite.starts_with(s.as_str()))
            })
            .collect();
        if chosen.is_empty() {
            return Err(CliError::input(format!(
                "no suite matches {:?}",
                self.suites
            )));
        }
        Ok(chosen)
    }
}

#[derive(Debug, clap::Args)]
pub(crate) struct VectorsArgs {
    #[command(flatten)]
    selection: Selection,
    /// Print every result as JSON instead of the table.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, clap::Args)]
pub(crate) struct LiveArgs {
    #[command(flatten)]
    selection: Selection,
    /// The target's realm.
    #[arg(long)]
    realm: String,
    /// The target's principals and passwords, in kerbside's principals-file
    /// TOML (the file `kerbside serve kdc --principals` reads).
    #[arg(long, value_name = "FILE")]
    principals: PathBuf,
    /// Deviations to accept: kerbside, mit, heimdal, windows, kdcproxy, or
    /// a profile JSON file.
    #[arg(long, default_value = "kerbside")]
    profile: String,
    /// Known failures of the target (JSON); a listed test that passes is
    /// reported as an unexpected pass.
    #[arg(long, value_name = "FILE")]
    known_failures: Option<PathBuf>,
    /// Write results.md, results.json and junit.xml here.
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Per-request timeout in milliseconds.
    #[arg(long, default_value_t = 5000)]
    timeout_ms: u64,
    /// Seed for nonces, confounders and session keys (default: fresh).
    #[arg(long)]
    seed: Option<u64>,
    /// Name of the target in the reports (default: its address).
    #[arg(long)]
    target_name: Option<String>,
}

#[derive(Debug, clap::Args)]
pub(crate) struct KdcArgs {
    /// The KDC, HOST:PORT.
    #[arg(long)]
    addr: String,
    /// Send every request over this transport (default: each vector's).
    #[arg(long, value_parser = ["udp", "tcp"])]
    transport: Option<String>,
    #[command(flatten)]
    live: LiveArgs,
}

#[derive(Debug, clap::Args)]
pub(crate) struct RelayArgs {
    /// The relay, https://HOST[:PORT]/PATH (or http:// for a plain-HTTP relay).
    #[arg(long)]
    url: String,
    /// PEM file of the CA that issued the relay's certificate.
    #[arg(long, value_name = "FILE")]
    ca: Option<PathBuf>,
    #[command(flatten)]
    live: LiveArgs,
}

#[derive(Debug, clap::Args)]
pub(crate) struct IakerbArgs {
    /// The acceptor, HOST:PORT.
    #[arg(long)]
    addr: String,
    /// The service principal it accepts for.
    #[arg(long, default_value = "host/app.lab.test")]
    service: String,
    /// Token form: `draft` (draft-ietf-kitten-iakerb-03, Windows, MIT >=
    /// 1.22, kerbside) or `mit` (MIT krb5 <= 1.21, e.g. Debian 12).
    #[arg(long, default_value = "draft", value_parser = ["draft", "mit"])]
    dialect: String,
    #[command(flatten)]
    live: LiveArgs,
}

#[derive(Debug, clap::Args)]
pub(crate) struct MatrixArgs {
    /// Directories holding a live run's results.json.
    #[arg(required = true)]
    runs: Vec<PathBuf>,
    /// Where to write the Markdown (default: stdout).
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
pub(crate) struct GenerateArgs {
    /// The conformance directory (vectors/, schema.json, id-ledger.txt).
    #[arg(long, default_value = "conformance")]
    root: PathBuf,
}

pub(crate) fn run(command: Command) -> CmdResult {
    match command {
        Command::Vectors(a) => vectors(a),
        Command::Kdc(a) => kdc(a),
        Command::Relay(a) => relay(a),
        Command::Iakerb(a) => iakerb(a),
        Command::Matrix(a) => matrix(a),
        Command::Generate(a) => write_vectors(a),
    }
}

fn vectors(a: VectorsArgs) -> CmdResult {
    let files = a.selection.files()?;
    let mut all: Vec<CaseResult> = Vec::new();
    if !a.json {
        println!("{:<20} {:>6} {:>6} {:>6}", "suite", "tests", "pass", "fail");
    }
    for f in &files {
        let results = check_file(f);
        let pass = results.iter().filter(|r| r.grade == Grade::Pass).count();
        if !a.json {
            println!(
                "{:<20} {:>6} {:>6} {:>6}",
                f.suite,
                results.len(),
                pass,
                results.len() - pass
            );
        }
        all.extend(results);
    }
    let failed: Vec<&CaseResult> = all.iter().filter(|r| r.grade != Grade::Pass).collect();
    if a.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&all).map_err(|e| CliError::runtime(e.to_string()))?
        );
    } else {
        let pass = all.len() - failed.len();
        println!(
            "{:<20} {:>6} {:>6} {:>6}",
            "total",
            all.len(),
            pass,
            failed.len()
        );
        for f in &failed {
            println!(
                "FAIL {} {} {}: observed {}: {}",
                f.suite, f.tc_id, f.id, f.observed, f.detail
            );
        }
    }
    Ok(if failed.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn classifier(l: &LiveArgs) -> Result<Classifier, CliError> {
    let profile = profile::load(&l.profile).map_err(CliError::input)?;
    let known = match &l.known_failures {
        Some(p) => Some(KnownFailures::load(p).map_err(CliError::input)?),
        None => None,
    };
    Ok(Classifier { profile, known })
}

fn realm(l: &LiveArgs) -> Result<Realm, CliError> {
    let text = std::fs::read_to_string(&l.principals)
        .map_err(|e| CliError::input(format!("{}: {e}", l.principals.display())))?;
    Realm::from_toml(&l.realm, &text, &l.principals.display().to_string()).map_err(CliError::input)
}

fn finish(l: &LiveArgs, report: RunReport) -> CmdResult {
    print!("{}", report::terminal(&report));
    if let Some(dir) = &l.out {
        let written = report::write(dir, &report)
            .map_err(|e| CliError::runtime(format!("{}: {e}", dir.display())))?;
        for p in written {
            eprintln!("wrote {}", p.display());
        }
    }
    Ok(if report.is_clean() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn kdc(a: KdcArgs) -> CmdResult {
    let files = a.live.selection.files()?;
    let addr = a
        .addr
        .to_socket_addrs()
        .map_err(|e| CliError::input(format!("--addr {}: {e}", a.addr)))?
        .next()
        .ok_or_else(|| CliError::input(format!("--addr {}: no address", a.addr)))?;
    let transport = match a.transport.as_deref() {
        Some("udp") => Some(KdcTransport::Udp),
        Some("tcp") => Some(KdcTransport::Tcp),
        _ => None,
    };
    let classify = classifier(&a.live)?;
    let mut runner = KdcRunner::new(KdcTarget {
        addr,
        transport,
        realm: realm(&a.live)?,
        timeout: Duration::from_millis(a.live.timeout_ms),
        seed: a.live.seed.unwrap_or_else(fresh_seed),
    });
    let results = runner.run(&files, &classify);
    let target = a.live.target_name.clone().unwrap_or_else(|| {
        format!(
            "kdc {addr} ({}) realm {}",
            a.transport.as_deref().unwrap_or("udp/tcp per vector"),
            a.live.realm
        )
    });
    finish(
        &a.live,
        RunReport {
            target,
            profile: classify.profile.name.clone(),
            known_failures: a
                .live
                .known_failures
                .as_ref()
                .map(|p| p.display().to_string()),
            results,
        },
    )
}

fn relay(a: RelayArgs) -> CmdResult {
    let files = a.live.selection.files()?;
    let url = RelayUrl::parse(&a.url).map_err(CliError::input)?;
    let client = Client::new(
        url,
        a.ca.as_deref(),
        Duration::from_millis(a.live.timeout_ms),
    )
    .map_err(|e| CliError::input(e.to_string()))?;
    let classify = classifier(&a.live)?;
    let mut runner = RelayRunner::new(
        client,
        realm(&a.live)?,
        a.live.seed.unwrap_or_else(fresh_seed),
    );
    let results = runner.run(&files, &classify, None);
    finish(
        &a.live,
        RunReport {
            target: a
                .live
                .target_name
                .clone()
                .unwrap_or_else(|| format!("relay {} realm {}", a.url, a.live.realm)),
            profile: classify.profile.name.clone(),
            known_failures: a
                .live
                .known_failures
                .as_ref()
                .map(|p| p.display().to_string()),
            results,
        },
    )
}

fn iakerb(a: IakerbArgs) -> CmdResult {
    let files = a.live.selection.files()?;
    let addr = a
        .addr
        .to_socket_addrs()
        .map_err(|e| CliError::input(format!("--addr {}: {e}", a.addr)))?
        .next()
        .ok_or_else(|| CliError::input(format!("--addr {}: no address", a.addr)))?;
    let classify = classifier(&a.live)?;
    let mut runner = IakerbRunner::new(IakerbTarget {
        addr,
        realm: realm(&a.live)?,
        service: a.service.clone(),
        timeout: Duration::from_millis(a.live.timeout_ms),
        seed: a.live.seed.unwrap_or_else(fresh_seed),
        mit_dialect: a.dialect == "mit",
    });
    let results = runner.run(&files, &classify);
    finish(
        &a.live,
        RunReport {
            target: a.live.target_name.clone().unwrap_or_else(|| {
                format!(
                    "iakerb acceptor {addr} ({}) realm {}",
                    a.service, a.live.realm
                )
            }),
            profile: classify.profile.name.clone(),
            known_failures: a
                .live
                .known_failures
                .as_ref()
                .map(|p| p.display().to_string()),
            results,
        },
    )
}

fn matrix(a: MatrixArgs) -> CmdResult {
    let mut reports = Vec::new();
    for dir in &a.runs {
        let path = dir.join("results.json");
        let text = std::fs::read_to_string(&path)
            .map_err(|e| CliError::input(format!("{}: {e}", path.display())))?;
        let r: RunReport = serde_json::from_str(&text)
            .map_err(|e| CliError::input(format!("{}: {e}", path.display())))?;
        reports.push(r);
    }
    let text = report::matrix(&reports);
    match &a.out {
        Some(p) => std::fs::write(p, text)
            .map_err(|e| CliError::runtime(format!("{}: {e}", p.display())))?,
        None => print!("{text}"),
    }
    Ok(ExitCode::SUCCESS)
}

fn write_vectors(a: GenerateArgs) -> CmdResult {
    let all = generate::all();
    let written = files::write_all(&a.root, &all).map_err(|e| CliError::runtime(e.to_string()))?;
    for p in &written {
        println!("wrote {}", p.display());
    }
    let total: usize = all.iter().map(|f| f.number_of_tests).sum();
    println!("{} suites, {total} tests", all.len());
    Ok(ExitCode::SUCCESS)
}
