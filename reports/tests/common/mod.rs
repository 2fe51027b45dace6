//! A real report to test the writers on: a few seeds of two scenarios from
//! `scenarios/` run in the simulation, one of them edited so that one
//! expectation fails (the failure sections need something to show).

#![allow(dead_code, unreachable_pub)]

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use kerbside_report::{Artifacts, Report, RunMeta};
use kerbside_sim::results::{RunResult, ScenarioSummary};
use kerbside_sim::runner::{Prepared, RunOptions, run};
use kerbside_sim::scenario::load_str;

pub fn scenarios_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios")
}

fn prepared(name: &str, label: &str, edit: impl Fn(String) -> String) -> Arc<Prepared> {
    let file = scenarios_dir().join(format!("{name}.toml"));
    let text = edit(std::fs::read_to_string(&file).unwrap());
    let s = load_str(&text, label).unwrap_or_else(|e| panic!("{e}"));
    Arc::new(Prepared::new(s, label).unwrap())
}

/// Runs and summaries: office-baseline seeds 1-3 (pass), and an
/// office-baseline whose first logon must take the relay (fails).
pub fn runs() -> (Vec<ScenarioSummary>, Vec<RunResult>) {
    let good = prepared("office-baseline", "scenarios/office-baseline.toml", |t| t);
    let bad = prepared(
        "office-baseline",
        "edited/office-baseline-edited.toml",
        |t| {
            t.replace(
                "name = \"office-baseline\"",
                "name = \"office-baseline-edited\"",
            )
            .replace("path = \"native-tcp\"", "path = \"kkdcp\"")
        },
    );
    let mut results = Vec::new();
    let mut summaries = Vec::new();
    for (p, seeds) in [(&good, 1..=3u64), (&bad, 1..=2u64)] {
        let mut mine = Vec::new();
        for seed in seeds {
            mine.push(
                run(
                    p,
                    &RunOptions {
                        seed,
                        ..RunOptions::default()
                    },
                )
                .result,
            );
        }
        let refs: Vec<&RunResult> = mine.iter().collect();
        summaries.push(
            ScenarioSummary::from_runs(p.scenario.tier, &p.scenario.description, &refs).unwrap(),
        );
        results.extend(mine);
    }
    (summaries, results)
}

pub fn meta() -> RunMeta {
    RunMeta {
        version: "test".into(),
        command: "kerbside run office-baseline".into(),
        tier: "named".into(),
        shard: None,
        threads: 1,
        wall_time: Duration::from_millis(1234),
    }
}

/// A report over [`runs`], with artifacts named for the failing seeds.
pub fn report<'a>(summaries: &'a [ScenarioSummary], runs: &'a [RunResult]) -> Report<'a> {
    let mut r = Report::new(meta(), summaries, runs);
    for x in runs.iter().filter(|x| !x.passed) {
        r.artifacts.insert(
            (x.file.clone(), x.seed),
            Artifacts {
                pcap: Some(format!("failures/{}-seed-{}.pcap", x.scenario, x.seed)),
                pcap_plaintext: None,
                trace: Some(format!("failures/{}-seed-{}.trace", x.scenario, x.seed)),
            },
        );
    }
    r
}

pub fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("kerbside-report-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}
