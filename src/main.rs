//! `kerbside`: the command-line front of the kerbside framework.
//!
//! Each subcommand lives in its own module under `cmd/`; this file only
//! declares the command tree and dispatches.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod cmd;

/// Deterministic simulation and conformance testing of the Kerberos fallback
/// chain: native Kerberos, KKDCP relay, IAKERB, LocalKDC, NTLM.
#[derive(Debug, Parser)]
#[command(name = "kerbside", version, about, long_about = None, propagate_version = true)]
struct Cli {
    /// Log verbosity (error, warn, info, debug, trace); RUST_LOG overrides it.
    #[arg(long, global = true, default_value = "warn")]
    log: String,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Decode a Kerberos, KKDCP, IAKERB, SPNEGO or NTLM message and print it.
    Decode(cmd::decode::Args),
    /// Property-based fuzzing: wire decoders, or random fault plans over scenarios.
    #[command(subcommand)]
    Fuzz(cmd::fuzz::Command),
    /// Run scenarios in the deterministic simulation over seeds and report.
    Run(cmd::run::Args),
    /// Rerun one scenario-seed verbosely; write its trace and pcap.
    Replay(cmd::replay::Args),
    /// Run a party (KDC, relay, ...) on real sockets.
    #[command(subcommand)]
    Serve(cmd::serve::Command),
    /// Closed-loop load against a KDC; reports requests/s and latency.
    Load(cmd::load::Args),
    /// Authenticate to an application server (gss-sample protocol) and
    /// exchange a protected message.
    Client(cmd::client::Args),
    /// Conformance vectors: check kerbside, or a live KDC or KKDCP relay.
    #[command(subcommand)]
    Conform(cmd::conform::Command),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    cmd::init_logging(&cli.log);
    let result = match cli.command {
        Command::Decode(args) => cmd::decode::run(args),
        Command::Fuzz(c) => cmd::fuzz::run(c),
        Command::Run(args) => cmd::run::run(args),
        Command::Replay(args) => cmd::replay::run(args),
        Command::Serve(c) => cmd::serve::run(c),
        Command::Load(args) => cmd::load::run(args),
        Command::Client(args) => cmd::client::run(args),
        Command::Conform(c) => cmd::conform::run(c),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("kerbside: {e}");
            e.exit_code()
        }
    }
}
