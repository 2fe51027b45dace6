//! Where a seed sweep's time goes: runs scenarios over seeds on worker
//! threads and prints, per scenario, CPU per seed, turmoil steps per seed
//! and scenario-seeds per second. Release builds only measure anything:
//!
//! ```sh
//! cargo run --release -p kerbside-sim --example sweep_timing -- scenarios 100
//! cargo run --release -p kerbside-sim --example sweep_timing -- scenarios/10k-logons-monday.toml 1
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use kerbside_sim::runner::Prepared;
use kerbside_sim::scenario::{Tier, load_file};
use kerbside_sim::sweep::{Job, run_jobs};

fn files(arg: &Path) -> Vec<PathBuf> {
    if arg.is_dir() {
        let mut v: Vec<PathBuf> = std::fs::read_dir(arg)
            .expect("read dir")
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "toml"))
            .filter(|p| load_file(p).is_ok_and(|s| s.tier == Tier::Default))
            .collect();
        v.sort();
        v
    } else {
        vec![arg.to_owned()]
    }
}

#[allow(clippy::disallowed_methods)] // wall time is what this measures
fn main() {
    let mut args = std::env::args().skip(1);
    let target = PathBuf::from(args.next().unwrap_or_else(|| "scenarios".into()));
    let seeds: u64 = args.next().and_then(|s| s.parse().ok()).unwrap_or(10);
    let threads: usize = args.next().and_then(|s| s.parse().ok()).unwrap_or(2);
    let mut jobs = Vec::new();
    for f in files(&target) {
        let s = load_file(&f).unwrap_or_else(|e| panic!("{e}"));
        let p = Arc::new(Prepared::new(s, &f.display().to_string()).expect("prepare"));
        for seed in 1..=seeds {
            jobs.push(Job {
                prepared: Arc::clone(&p),
                seed,
            });
        }
    }
    let start = std::time::Instant::now();
    let results = run_jobs(&jobs, threads, &|_| {});
    let wall = start.elapsed();
    let mut per: BTreeMap<String, (Duration, u64, u64, u64)> = BTreeMap::new();
    for r in &results {
        let e = per.entry(r.scenario.clone()).or_default();
        e.0 += r.wall_time;
        e.1 += r.steps;
        e.2 += 1;
        e.3 += u64::from(!r.passed);
    }
    let mut rows: Vec<_> = per.into_iter().collect();
    rows.sort_by_key(|(_, v)| std::cmp::Reverse(v.0));
    println!(
        "{:<34} {:>10} {:>10} {:>8}",
        "scenario", "CPU/seed", "steps/seed", "failed"
    );
    for (name, (cpu, steps, n, failed)) in &rows {
        println!(
            "{name:<34} {:>8.1}ms {:>10} {:>8}",
            cpu.as_secs_f64() * 1000.0 / *n as f64,
            steps / n,
            failed
        );
    }
    let cpu: Duration = rows.iter().map(|(_, v)| v.0).sum();
    println!(
        "\n{} scenario-seeds in {:.2}s wall ({:.1}/s), {:.2}s CPU on {threads} threads",
        results.len(),
        wall.as_secs_f64(),
        results.len() as f64 / wall.as_secs_f64(),
        cpu.as_secs_f64()
    );
}
