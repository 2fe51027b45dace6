//! `kerbside fuzz scenarios`: swarm fuzzing of the simulation
//! ([`kerbside_sim::swarm`]). Runs random fault plans on every core until
//! the time is up or a case fails; a failure is shrunk and written to
//! `--out` as a scenario file, and the command that replays it is printed.
//! Exit status 1 when a failure was found.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};

use kerbside_sim::duration::parse_duration;
use kerbside_sim::swarm::{HuntOptions, PlantedBug, hunt};

use super::{CliError, CmdResult};

/// Arguments of `kerbside fuzz scenarios`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// How long to hunt (`30s`, `10m`, `1h`).
    #[arg(long, default_value = "60s")]
    time: String,
    /// Master seed: case N of a seed is always the same plan (default: from
    /// the clock, printed so the hunt can be repeated).
    #[arg(long)]
    seed: Option<u64>,
    /// Where a failing case's scenario file is written.
    #[arg(long, default_value = "out/swarm")]
    out: PathBuf,
    /// Worker threads (default: the number of CPUs).
    #[arg(long)]
    jobs: Option<usize>,
    /// Most runs spent shrinking a failure.
    #[arg(long, default_value_t = 300)]
    shrink_budget: usize,
    /// Test only: break one safety property on purpose
    /// (relay-forwards-undeclared-realm).
    #[arg(long, hide = true)]
    plant_bug: Option<String>,
}

/// The planted bug named by a hidden `--plant-bug` flag.
pub(crate) fn planted(name: Option<&str>) -> Result<Option<PlantedBug>, CliError> {
    name.map(|n| {
        PlantedBug::parse(n).ok_or_else(|| {
            let known: Vec<&str> = PlantedBug::ALL.iter().map(|(n, _)| *n).collect();
            CliError::input(format!(
                "--plant-bug {n}: unknown (known: {})",
                known.join(", ")
            ))
        })
    })
    .transpose()
}

#[allow(clippy::disallowed_methods)] // wall time bounds the hunt and seeds it when no seed is given
pub(crate) fn run(args: Args) -> CmdResult {
    let budget = parse_duration(&args.time)
        .map_err(|e| CliError::input(format!("--time {}: {e}", args.time)))?;
    let planted = planted(args.plant_bug.as_deref())?;
    let master = args.seed.unwrap_or_else(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0)
    });
    let threads = args.jobs.unwrap_or_else(|| {
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    });
    println!(
        "kerbside fuzz scenarios: seed {master}, {} on {threads} threads{}",
        args.time,
        planted
            .map(|b| format!(", planted bug {}", b.name()))
            .unwrap_or_default()
    );
    let start = std::time::Instant::now();
    let ran = AtomicU64::new(0);
    let report_every = AtomicU64::new(2);
    let keep_going = || start.elapsed() < budget;
    let progress = |_case: u64| {
        let n = ran.fetch_add(1, Ordering::Relaxed) + 1;
        let secs = start.elapsed().as_secs();
        if secs >= report_every.load(Ordering::Relaxed) {
            report_every.store(secs + 10, Ordering::Relaxed);
            eprintln!("  {n} cases, {secs} s");
        }
    };
    let opts = HuntOptions {
        master,
        planted,
        threads,
        shrink_budget: args.shrink_budget,
    };
    let result = hunt(&opts, &keep_going, &progress);
    let secs = start.elapsed().as_secs_f64();
    for e in &result.errors {
        eprintln!("kerbside: generator error: {e}");
    }
    println!(
        "{} cases in {secs:.1} s ({:.1} cases/s)",
        result.cases,
        result.cases as f64 / secs.max(1e-9)
    );
    let Some(f) = result.failure else {
        println!("no failure found");
        return Ok(if result.errors.is_empty() {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(1)
        });
    };
    std::fs::create_dir_all(&args.out)
        .map_err(|e| CliError::runtime(format!("{}: {e}", args.out.display())))?;
    let path = args.out.join(format!("{}.toml", f.shrunk.name()));
    let shown = path.display().to_string();
    std::fs::write(&path, f.scenario_file(&shown))
        .map_err(|e| CliError::runtime(format!("{shown}: {e}")))?;
    println!(
        "FAIL case {} [{}]: shrunk from {} to {} timeline events",
        f.original.case,
        f.kind,
        f.original.events.len(),
        f.shrunk.events.len()
    );
    for v in f.result.violations.iter().take(5) {
        println!("  [{}] {}", v.kind, v.message);
    }
    let plant = planted
        .map(|b| format!(" --plant-bug {}", b.name()))
        .unwrap_or_default();
    println!("wrote {shown}");
    println!(
        "replay: kerbside replay {shown} --seed {}{plant}",
        f.shrunk.seed
    );
    Ok(ExitCode::from(1))
}
