//! Seed sweeps: many scenario-seed runs spread over threads.
//!
//! Each simulation is single-threaded and independent, so a sweep runs one
//! simulation per worker thread and hands out jobs from a shared counter.
//! Results come back in job order whatever the scheduling, so output is
//! as reproducible as the runs themselves. [`shard`] splits a job list
//! deterministically (`--shard K/N`): every job lands in exactly one shard.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use crate::results::RunResult;
use crate::runner::{Prepared, RunOptions, run};

/// One scenario-seed to run.
#[derive(Clone, Debug)]
pub struct Job {
    /// The scenario.
    pub prepared: Arc<Prepared>,
    /// The seed.
    pub seed: u64,
}

/// Keeps the jobs of shard `k` of `n` (1-based): job `i` belongs to shard
/// `i % n + 1`. Interleaving spreads each scenario's seeds over the shards.
pub fn shard<T>(jobs: Vec<T>, k: usize, n: usize) -> Vec<T> {
    if n <= 1 {
        return jobs;
    }
    jobs.into_iter()
        .enumerate()
        .filter(|(i, _)| i % n + 1 == k)
        .map(|(_, j)| j)
        .collect()
}

/// Parses `K/N` with `1 <= K <= N`.
pub fn parse_shard(text: &str) -> Result<(usize, usize), String> {
    let bad = || format!("`{text}`: expected K/N with 1 <= K <= N, e.g. 2/4");
    let (k, n) = text.split_once('/').ok_or_else(bad)?;
    let k: usize = k.trim().parse().map_err(|_| bad())?;
    let n: usize = n.trim().parse().map_err(|_| bad())?;
    if k == 0 || n == 0 || k > n {
        return Err(bad());
    }
    Ok((k, n))
}

/// Runs every job on `threads` threads, calling `done` as each finishes
/// (from the worker thread), and returns the results in job order.
pub fn run_jobs(
    jobs: &[Job],
    threads: usize,
    done: &(dyn Fn(&RunResult) + Sync),
) -> Vec<RunResult> {
    let next = AtomicUsize::new(0);
    let slots: Mutex<Vec<Option<RunResult>>> = Mutex::new(vec![None; jobs.len()]);
    let threads = threads.clamp(1, jobs.len().max(1));
    std::thread::scope(|scope| {
        for t in 0..threads {
            let (next, slots) = (&next, &slots);
            let builder = std::thread::Builder::new().name(format!("kerbside-sim-{t}"));
            // A failed spawn leaves fewer workers; the others take its jobs.
            let _ = builder.spawn_scoped(scope, move || {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(job) = jobs.get(i) else { break };
                    let out = run(
                        &job.prepared,
                        &RunOptions {
                            seed: job.seed,
                            ..RunOptions::default()
                        },
                    );
                    done(&out.result);
                    if let Ok(mut s) = slots.lock() {
                        s[i] = Some(out.result);
                    }
                }
            });
        }
    });
    slots
        .into_inner()
        .unwrap_or_default()
        .into_iter()
        .flatten()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_partition_the_jobs() {
        assert_eq!(parse_shard("2/4"), Ok((2, 4)));
        assert!(parse_shard("0/4").is_err());
        assert!(parse_shard("5/4").is_err());
        assert!(parse_shard("x").is_err());
        let jobs: Vec<usize> = (0..10).collect();
        let mut union = Vec::new();
        for k in 1..=3 {
            let part = shard(jobs.clone(), k, 3);
            assert!(part.len() >= 3, "shards are balanced");
            union.extend(part);
        }
        union.sort_unstable();
        assert_eq!(union, jobs, "no overlap, no gap");
        assert_eq!(shard(jobs.clone(), 1, 1), jobs);
    }
}
