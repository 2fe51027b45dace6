//! `kerbside run`: run scenarios over seeds in the simulation and report.
//!
//! With no scenario named, every `*.toml` in `--dir` of the chosen tier
//! runs. Seeds: the scenario's own `seeds` count starting at 1, or
//! `--seeds N` starting at `--seed S` (default 1), or just `--seed S`.
//! `--shard K/N` keeps a deterministic slice of the scenario-seed list so
//! CI jobs can split a sweep with no overlap and no gap. Exit status 0 only
//! when every scenario-seed passed.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use kerbside_sim::duration::format_duration;
use kerbside_sim::results::{RunResult, ScenarioSummary, write_outputs};
use kerbside_sim::runner::Prepared;
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
    /// Write results.json and summary.md here.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Run only slice K of N of the scenario-seed list (e.g. 2/4).
    #[arg(long)]
    shard: Option<String>,
    /// Worker threads (default: the number of CPUs).
    #[arg(long)]
    jobs: Option<usize>,
    /// Where scenario names are looked up.
    #[arg(long, default_value = "scenarios")]
    dir: PathBuf,
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

/// Loads and prepares one scenario file.
pub(crate) fn prepare(path: &Path) -> Result<Arc<Prepared>, CliError> {
    let scenario = load_file(path).map_err(|e| CliError::input(e.to_string()))?;
    let file = path.display().to_string();
    Prepared::new(scenario, &file)
        .map(Arc::new)
        .map_err(|e| CliError::input(format!("{file}: {e}")))
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
    let mut prepared = Vec::new();
    for p in &paths {
        prepared.push(prepare(p)?);
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
    if let Some(dir) = &args.out {
        write_outputs(dir, &summaries, &results)
            .map_err(|e| CliError::runtime(format!("{}: {e}", dir.display())))?;
        if !json {
            println!("wrote {}/results.json and summary.md", dir.display());
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

/// Wall-clock start of the sweep.
#[allow(clippy::disallowed_methods)] // reporting wall time is the point
fn wall_now() -> std::time::Instant {
    std::time::Instant::now()
}
