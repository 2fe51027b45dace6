//! `kerbside replay`: rerun one scenario-seed verbosely, write its trace and
//! pcap. The same seed gives the same run, so a failure printed by
//! `kerbside run` reproduces here exactly.

use std::path::PathBuf;
use std::process::ExitCode;

use kerbside_sim::pcap::{PcapOptions, write_pcap};
use kerbside_sim::runner::{RunOptions, run as run_seed};
use kerbside_sim::trace::{Packet, TraceEntry, fmt_time};

use super::run::{prepare, scenario_path};
use super::{CliError, CmdResult};

/// Arguments of `kerbside replay`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Scenario file or name.
    scenario: String,
    /// The seed to rerun.
    #[arg(long)]
    seed: u64,
    /// Write the canonical trace (the text the trace hash covers) here.
    #[arg(long)]
    trace: Option<PathBuf>,
    /// Write a pcap here (tshark/Wireshark decode Kerberos on port 88).
    #[arg(long)]
    pcap: Option<PathBuf>,
    /// In the pcap, write TLS connections as their plaintext HTTP (port 80).
    #[arg(long)]
    plaintext_http: bool,
    /// Print only events and the summary, not every message.
    #[arg(long)]
    quiet: bool,
    /// Where scenario names are looked up.
    #[arg(long, default_value = "scenarios")]
    dir: PathBuf,
    /// Test only: break one safety property on purpose (see `fuzz scenarios`).
    #[arg(long, hide = true)]
    plant_bug: Option<String>,
}

pub(crate) fn run(args: Args) -> CmdResult {
    let path = scenario_path(&args.dir, &args.scenario);
    let planted = super::fuzz_scenarios::planted(args.plant_bug.as_deref())?;
    let prepared = prepare(&path, planted)?;
    let out = run_seed(
        &prepared,
        &RunOptions {
            seed: args.seed,
            keep_trace: true,
            ..RunOptions::default()
        },
    );
    for e in out.trace.entries() {
        match e {
            TraceEntry::Event(_) => println!("{}", e.canonical_line()),
            TraceEntry::Wire(w) if !args.quiet => {
                let (proto, kind) = match &w.packet {
                    Packet::Udp(_) => ("udp", "dgram"),
                    Packet::TcpSyn => ("tcp", "syn"),
                    Packet::TcpData(_) => ("tcp", "data"),
                    Packet::TcpFin => ("tcp", "fin"),
                    Packet::TcpRst => ("tcp", "rst"),
                };
                let layer = if w.layer == kerbside_sim::trace::Layer::Wire {
                    ""
                } else {
                    " [tls-plaintext]"
                };
                let fate = match &w.fate {
                    kerbside_sim::trace::Fate::Sent => String::new(),
                    other => format!(" {other:?}"),
                };
                println!(
                    "{} {proto} {kind:<5} {}@{} > {}@{} len={}{layer}{fate}",
                    fmt_time(w.at),
                    w.src.host,
                    w.src.addr,
                    w.dst.host,
                    w.dst.addr,
                    w.packet.payload().len()
                );
            }
            TraceEntry::Wire(_) => {}
        }
    }
    let r = &out.result;
    println!();
    for l in &r.logons {
        println!(
            "logon {:>3} {:<14} {:<24} {:<10} {:<9} {}",
            l.id,
            l.label.as_deref().unwrap_or("-"),
            l.user,
            l.path_name(),
            l.latency
                .map(|d| format!("{:.1}ms", d.as_secs_f64() * 1000.0))
                .unwrap_or_else(|| "-".into()),
            l.report
                .as_ref()
                .and_then(|r| r.error.clone())
                .unwrap_or_default()
        );
    }
    println!();
    for v in &r.violations {
        println!("violation [{}] {}", v.kind, v.message);
    }
    println!(
        "{} seed {}: {} trace_hash={} steps={} sim={:.3}s scenario={:.3}s wall={:.3}s",
        r.scenario,
        r.seed,
        if r.passed { "PASS" } else { "FAIL" },
        r.trace_hash,
        r.steps,
        r.sim_time.as_secs_f64(),
        r.scenario_time.as_secs_f64(),
        r.wall_time.as_secs_f64()
    );
    if let Some(p) = &args.trace {
        std::fs::write(p, out.trace.to_text())
            .map_err(|e| CliError::runtime(format!("{}: {e}", p.display())))?;
        println!("wrote trace {}", p.display());
    }
    if let Some(p) = &args.pcap {
        let bytes = write_pcap(
            out.trace.entries(),
            prepared.epoch,
            PcapOptions {
                plaintext_http: args.plaintext_http,
            },
        );
        std::fs::write(p, bytes).map_err(|e| CliError::runtime(format!("{}: {e}", p.display())))?;
        println!("wrote pcap {}", p.display());
    }
    Ok(if r.passed {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
