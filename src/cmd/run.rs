//! `kerbside run`: run scenarios over seeds in the simulation and report.
//!
//! With no scenario named, every `*.toml` in `--dir` of the chosen tier
//! runs. Seeds: the scenario's own `seeds` count starting at 1, or
//! `--seeds N` starting at `--seed S` (default 1), or just `--seed S`.
//! `--shard K/N` keeps a deterministic slice of the scenario-seed list so
//! CI jobs can split a sweep with no overlap and no gap. Exit status 0 only
//! when every scenario-seed passed.
//!
//! The report (`summary.md`, `report.html`, `results.json`, `junit.xml`,
//! see `kerbside-report`) goes to `--out` (default `out/`); each failing
//! seed is replayed once more with its trace kept, and its pcap and trace
//! are written under `failures/` there, linked from the report.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use kerbside_report::{Artifacts, Report, RunMeta, write_report};
use kerbside_sim::duration::format_duration;
use kerbside_sim::pcap::{PcapOptions, write_pcap};
use kerbside_sim::results::{RunResult, ScenarioSummary};
use kerbside_sim::runner::{Prepared, RunOptions, run as run_seed};
use kerbside_sim::scenario::{Scenario, Tier, load_file};
use kerbside_sim::sweep::{Job, parse_shard, run_jobs, shard};

use super::{CliError, CmdResult};

/// Which tier(s) to run when no scenario is named.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum TierArg {
    /// The everyday suite.
    Default,
    /// Heavy scenarios only.
    Load,
    /// Everything.
    All,
}

/// Arguments of `kerbside run`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Scenario files or names (`office-baseline` means `DIR/office-baseline.toml`);
    /// default: every scenario in DIR of the tier.
    scenarios: Vec<String>,
    /// Run this seed (with --seeds: the first of N consecutive seeds).
    #[arg(long)]
    seed: Option<u64>,
    /// Seeds per scenario (default: the scenario file's `seeds`).
    #[arg(long)]
    seeds: Option<u64>,
    /// Tier to run when no scenario is named.
    #[arg(long, value_enum, default_value = "default")]
    tier: TierArg,
    /// Print one JSON object per scenario-seed instead of the table.
    #[arg(long)]
    json: bool,
    /// Write the report here: summary.md, report.html, results.json,
    /// junit.xml, and failures/ with a pcap and trace per failing seed.
    #[arg(long, default_value = "out")]
    out: PathBuf,
    /// Do not write the report.
    #[arg(long)]
    no_report: bool,
    /// Most failing seeds to write a pcap and trace for.
    #[arg(long, default_value_t = 20)]
    max_pcaps: usize,
    /// Run only slice K of N of the scenario-seed list (e.g. 2/4).
    #[arg(long)]
    shard: Option<String>,
    /// Worker threads (default: the number of CPUs).
    #[arg(long)]
    jobs: Option<usize>,
    /// Where scenario names are looked up.
    #[arg(long, default_value = "scenarios")]
    dir: PathBuf,
    /// Test only: break one safety property on purpose (see `fuzz scenarios`).
    #[arg(long, hide = true)]
    plant_bug: Option<String>,
}

/// Resolves a scenario argument to a file.
pub(crate) fn scenario_path(dir: &Path, arg: &str) -> PathBuf {
    let p = PathBuf::from(arg);
    if p.exists() || arg.ends_with(".toml") || arg.contains('/') {
        p
    } else {
        dir.join(format!("{arg}.toml"))
    }
}

/// Loads and prepares one scenario file (`planted`: swarm tests only).
pub(crate) fn prepare(
    path: &Path,
    planted: Option<kerbside_sim::swarm::PlantedBug>,
) -> Result<Arc<Prepared>, CliError> {
    let scenario = load_file(path).map_err(|e| CliError::input(e.to_string()))?;
    let file = path.display().to_string();
    let mut p =
        Prepared::new(scenario, &file).map_err(|e| CliError::input(format!("{file}: {e}")))?;
    p.planted = planted;
    Ok(Arc::new(p))
}

fn discover(dir: &Path, tier: TierArg) -> Result<Vec<PathBuf>, CliError> {
    let entries =
        std::fs::read_dir(dir).map_err(|e| CliError::input(format!("{}: {e}", dir.display())))?;
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    let mut keep = Vec::new();
    for f in files {
        let s: Scenario = load_file(&f).map_err(|e| CliError::input(e.to_string()))?;
        let wanted = match tier {
            TierArg::All => true,
            TierArg::Default => s.tier == Tier::Default,
            TierArg::Load => s.tier == Tier::Load,
        };
        if wanted {
            keep.push(f);
        }
    }
    if keep.is_empty() {
        return Err(CliError::input(format!(
            "no scenarios of tier {tier:?} in {}",
            dir.display()
        )));
    }
    Ok(keep)
}

fn threads(jobs: Option<usize>) -> usize {
    jobs.unwrap_or_else(|| {
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    })
    .max(1)
}

pub(crate) fn run(args: Args) -> CmdResult {
    let paths = if args.scenarios.is_empty() {
        discover(&args.dir, args.tier)?
    } else {
        args.scenarios
            .iter()
            .map(|a| scenario_path(&args.dir, a))
            .collect()
    };
    let planted = super::fuzz_scenarios::planted(args.plant_bug.as_deref())?;
    let mut prepared = Vec::new();
    for p in &paths {
        prepared.push(prepare(p, planted)?);
    }
    let mut jobs = Vec::new();
    for p in &prepared {
        let (first, count) = match (args.seed, args.seeds) {
            (Some(s), None) => (s, 1),
            (s, n) => (s.unwrap_or(1), n.unwrap_or(p.scenario.seeds)),
        };
        for i in 0..count {
            jobs.push(Job {
                prepared: Arc::clone(p),
                seed: first.wrapping_add(i),
            });
        }
    }
    if let Some(sh) = &args.shard {
        let (k, n) = parse_shard(sh).map_err(CliError::input)?;
        jobs = shard(jobs, k, n);
    }
    let total = jobs.len() as u64;

    let started = wall_now();
    let bar = if total > 1 {
        let b = indicatif::ProgressBar::new(total);
        b.set_style(
            indicatif::ProgressStyle::with_template(
                "{bar:40} {pos}/{len} scenario-seeds {elapsed} {msg}",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        Some(b)
    } else {
        None
    };
    let json = args.json;
    let done = |r: &RunResult| {
        if let Some(b) = &bar {
            if !r.passed {
                b.println(format!("FAIL {} seed {}: {}", r.scenario, r.seed, r.replay));
            }
            b.inc(1);
        }
    };
    let results = run_jobs(&jobs, threads(args.jobs), &done);
    if let Some(b) = &bar {
        b.finish_and_clear();
    }
    let wall = started.elapsed();

    let mut summaries = Vec::new();
    for p in &prepared {
        let runs: Vec<&RunResult> = results.iter().filter(|r| r.file == p.file).collect();
        if let Some(s) = ScenarioSummary::from_runs(p.scenario.tier, &p.scenario.description, &runs)
        {
            summaries.push(s);
        }
    }
    if json {
        // In job order, whatever order the workers finished in: the output
        // of a sweep is as reproducible as its runs.
        for r in &results {
            println!("{}", json_line(r));
        }
    } else {
        print_table(&summaries);
        let failed: Vec<&RunResult> = results.iter().filter(|r| !r.passed).collect();
        for r in &failed {
            println!("\nFAIL {} seed {}:", r.scenario, r.seed);
            for v in r.violations.iter().take(5) {
                println!("  [{}] {}", v.kind, v.message);
            }
            if r.violations.len() > 5 {
                println!("  ... {} more", r.violations.len() - 5);
            }
            println!("  replay: {}", r.replay);
        }
        let exchanges: u64 = results.iter().map(RunResult::exchanges).sum();
        let secs = wall.as_secs_f64().max(1e-9);
        println!(
            "\n{} scenario-seeds, {} failed, in {:.2}s wall ({:.1} scenario-seeds/s, {} KDC exchanges, {:.0} exchanges/s)",
            results.len(),
            failed.len(),
            secs,
            results.len() as f64 / secs,
            exchanges,
            exchanges as f64 / secs
        );
    }
    if !args.no_report {
        let artifacts = write_failure_artifacts(&args.out, &prepared, &results, args.max_pcaps)?;
        let meta = RunMeta {
            version: env!("CARGO_PKG_VERSION").to_owned(),
            command: command_line(),
            tier: if args.scenarios.is_empty() {
                format!("{:?}", args.tier).to_ascii_lowercase()
            } else {
                "named".to_owned()
            },
            shard: args.shard.clone(),
            threads: threads(args.jobs),
            wall_time: wall,
        };
        let mut report = Report::new(meta, &summaries, &results);
        report.artifacts = artifacts;
        let written =
            write_report(&args.out, &report).map_err(|e| CliError::runtime(e.to_string()))?;
        if !json {
            println!(
                "report: {} (also summary.md, results.json, junit.xml in {})",
                written.html.display(),
                args.out.display()
            );
        }
    }
    let all_passed = results.iter().all(|r| r.passed) && results.len() as u64 == total;
    Ok(if all_passed {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn json_line(r: &RunResult) -> String {
    let v = serde_json::json!({
        "scenario": r.scenario,
        "file": r.file,
        "seed": r.seed,
        "passed": r.passed,
        "trace_hash": r.trace_hash,
        "violations": r.violations,
        "path_counts": r.path_counts,
        "logons": r.logons.len(),
        "sim_time_us": r.sim_time.as_micros() as u64,
        "scenario_time_us": r.scenario_time.as_micros() as u64,
        "wall_time_us": r.wall_time.as_micros() as u64,
        "replay": r.replay,
    });
    v.to_string()
}

fn print_table(summaries: &[ScenarioSummary]) {
    let rows: Vec<[String; 6]> = summaries
        .iter()
        .map(|s| {
            let paths: Vec<String> = s
                .path_counts
                .iter()
                .map(|(k, v)| format!("{k}:{v}"))
                .collect();
            [
                s.scenario.clone(),
                s.seeds.len().to_string(),
                if s.passed() {
                    "pass".to_owned()
                } else {
                    format!("FAIL {}/{}", s.failing_seeds.len(), s.seeds.len())
                },
                paths.join(" "),
                format_duration(Duration::from_secs(s.scenario_time.as_secs())),
                format!("{:.2}s", s.wall_time.as_secs_f64()),
            ]
        })
        .collect();
    let header = [
        "scenario",
        "seeds",
        "result",
        "paths",
        "sim time",
        "wall time",
    ];
    let mut widths = header.map(str::len);
    for r in &rows {
        for (w, c) in widths.iter_mut().zip(r) {
            *w = (*w).max(c.len());
        }
    }
    let line = |cells: [&str; 6]| {
        let mut out = String::new();
        for (i, (c, w)) in cells.iter().zip(widths).enumerate() {
            if i > 0 {
                out.push_str("  ");
            }
            out.push_str(&format!("{c:<w$}"));
        }
        println!("{}", out.trim_end());
    };
    line(header);
    for r in &rows {
        line([&r[0], &r[1], &r[2], &r[3], &r[4], &r[5]]);
    }
}

/// The command as typed, with the program name shortened to `kerbside`.
fn command_line() -> String {
    let mut parts = vec!["kerbside".to_owned()];
    parts.extend(std::env::args().skip(1).map(|a| {
        if a.is_empty() || a.contains(char::is_whitespace) {
            format!("'{a}'")
        } else {
            a
        }
    }));
    parts.join(" ")
}

/// A file-name-safe form of a scenario name.
fn file_stem(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// Replays up to `max` failing seeds with their traces kept and writes
/// each one's pcaps and trace under `DIR/failures/`. The replay must give
/// the same trace hash as the sweep did (determinism); if it does not, the
/// files are still written and a warning says so.
fn write_failure_artifacts(
    dir: &Path,
    prepared: &[Arc<Prepared>],
    results: &[RunResult],
    max: usize,
) -> Result<std::collections::BTreeMap<(String, u64), Artifacts>, CliError> {
    let mut out = std::collections::BTreeMap::new();
    let failing: Vec<&RunResult> = results.iter().filter(|r| !r.passed).take(max).collect();
    if failing.is_empty() {
        return Ok(out);
    }
    let fdir = dir.join("failures");
    std::fs::create_dir_all(&fdir)
        .map_err(|e| CliError::runtime(format!("{}: {e}", fdir.display())))?;
    for r in failing {
        let Some(p) = prepared.iter().find(|p| p.file == r.file) else {
            continue;
        };
        let rerun = run_seed(
            p,
            &RunOptions {
                seed: r.seed,
                keep_trace: true,
                ..RunOptions::default()
            },
        );
        if rerun.result.trace_hash != r.trace_hash {
            eprintln!(
                "kerbside: warning: {} seed {} replayed with a different trace hash ({} vs {}): nondeterminism",
                r.scenario, r.seed, rerun.result.trace_hash, r.trace_hash
            );
        }
        let stem = format!("{}-seed-{}", file_stem(&r.scenario), r.seed);
        let write = |name: String, bytes: &[u8]| -> Result<String, CliError> {
            let path = fdir.join(&name);
            std::fs::write(&path, bytes)
                .map_err(|e| CliError::runtime(format!("{}: {e}", path.display())))?;
            Ok(format!("failures/{name}"))
        };
        let entries = rerun.trace.entries();
        let wire = write_pcap(entries, p.epoch, PcapOptions::default());
        let plain = write_pcap(
            entries,
            p.epoch,
            PcapOptions {
                plaintext_http: true,
            },
        );
        let artifacts = Artifacts {
            pcap: Some(write(format!("{stem}.pcap"), &wire)?),
            pcap_plaintext: Some(write(format!("{stem}-http.pcap"), &plain)?),
            trace: Some(write(
                format!("{stem}.trace"),
                rerun.trace.to_text().as_bytes(),
            )?),
        };
        out.insert((r.file.clone(), r.seed), artifacts);
    }
    Ok(out)
}

/// Wall-clock start of the sweep.
#[allow(clippy::disallowed_methods)] // reporting wall time is the point
fn wall_now() -> std::time::Instant {
    std::time::Instant::now()
}
