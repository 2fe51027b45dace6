//! `kerbside fuzz`: long-running property checks.
//!
//! `fuzz wire` runs `kerbside_wire::fuzz` (the same no-panic property as the
//! crate's proptests) for N seeded cases; this module only parses flags and
//! prints the report.

use std::io::Write as _;
use std::process::ExitCode;

use super::{CliError, CmdResult};

/// `println!` that ignores a closed stdout (`| head`) instead of panicking.
macro_rules! out {
    ($($arg:tt)*) => {{
        let mut o = std::io::stdout().lock();
        let _ = writeln!(o, $($arg)*);
    }};
}

/// What to fuzz.
#[derive(Debug, clap::Subcommand)]
pub(crate) enum Command {
    /// Feed random and mutated bytes to every wire decoder; any panic is a finding.
    Wire {
        /// Number of cases.
        #[arg(long, default_value_t = 100_000)]
        cases: u64,
        /// Seed (the same seed gives the same cases).
        #[arg(long, default_value_t = 0)]
        seed: u64,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Swarm fuzzing: random fault plans over the standard topologies,
    /// checked against the safety properties; a failure is shrunk and
    /// written out as a scenario file that replays it.
    Scenarios(super::fuzz_scenarios::Args),
}

pub(crate) fn run(c: Command) -> CmdResult {
    match c {
        Command::Wire { cases, seed, json } => wire(cases, seed, json),
        Command::Scenarios(args) => super::fuzz_scenarios::run(args),
    }
}

fn wire(cases: u64, seed: u64, json: bool) -> CmdResult {
    let targets = kerbside_wire::fuzz::TARGETS.len();
    if !json {
        out!("kerbside fuzz wire: {cases} cases, seed {seed}, {targets} decode entry points each");
    }
    // Wall time is only measured here, to report cases/s; nothing in the
    // cases depends on it.
    #[allow(clippy::disallowed_methods)]
    let start = std::time::Instant::now();
    let mut last_report = 0.0f64;
    let report = kerbside_wire::fuzz::run(cases, seed, |done| {
        let t = start.elapsed().as_secs_f64();
        if !json && t - last_report >= 2.0 {
            last_report = t;
            eprint!(
                "\r  {done}/{cases} cases, {:.0} cases/s   ",
                done as f64 / t
            );
            let _ = std::io::stderr().flush();
        }
    });
    let secs = start.elapsed().as_secs_f64();
    let rate = if secs > 0.0 {
        report.cases as f64 / secs
    } else {
        0.0
    };
    if json {
        #[derive(serde::Serialize)]
        struct JsonOutput<'a> {
            seed: u64,
            elapsed_seconds: f64,
            cases_per_second: f64,
            report: &'a kerbside_wire::fuzz::Report,
        }
        let out = JsonOutput {
            seed,
            elapsed_seconds: secs,
            cases_per_second: rate,
            report: &report,
        };
        let text = serde_json::to_string_pretty(&out)
            .map_err(|e| CliError::runtime(format!("JSON output: {e}")))?;
        out!("{text}");
    } else {
        if last_report > 0.0 {
            eprintln!();
        }
        let formats: Vec<String> = report
            .per_format
            .iter()
            .map(|(f, n)| format!("{f} {n}"))
            .collect();
        out!("  cases by source: {}", formats.join(", "));
        let accepted: u64 = report.per_target.values().map(|s| s.ok).sum();
        let rejected: u64 = report.per_target.values().map(|s| s.rejected).sum();
        out!("  decoder calls: {accepted} accepted, {rejected} rejected with a typed error");
        out!("  {} cases in {secs:.1} s: {rate:.0} cases/s", report.cases);
        out!("  findings: {}", report.findings.len());
        for f in &report.findings {
            out!(
                "  FINDING {} ({:?}, {} case(s)): {}\n    input: {}",
                f.target,
                f.kind,
                f.count,
                f.message,
                f.input_hex
            );
        }
    }
    if report.is_clean() {
        Ok(ExitCode::SUCCESS)
    } else {
        Err(CliError::runtime(format!(
            "fuzz wire: {} distinct panic(s); reproduce with --cases {} --seed {seed}",
            report.findings.len(),
            report.cases
        )))
    }
}
