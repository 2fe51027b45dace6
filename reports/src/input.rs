//! What a report is made from: the runs and scenario summaries of one
//! `kerbside run` (the simulation's own results model,
//! [`kerbside_sim::results`]), how the run was invoked, and the files
//! written next to the report for failing seeds.

use std::collections::BTreeMap;
use std::time::Duration;

use kerbside_sim::results::{RunResult, ScenarioSummary};
use serde::Serialize;

use crate::latency_model::LinkParams;

/// How the run was invoked.
#[derive(Clone, Debug, Default, Serialize)]
pub struct RunMeta {
    /// kerbside version.
    pub version: String,
    /// The command, as a user would retype it.
    pub command: String,
    /// Tier(s) run (`default`, `load`, `all`, or `named` for explicit files).
    pub tier: String,
    /// `K/N` when sharded.
    pub shard: Option<String>,
    /// Worker threads.
    pub threads: usize,
    /// Elapsed wall time of the sweep.
    #[serde(rename = "wall_time_us", serialize_with = "ser_micros")]
    pub wall_time: Duration,
}

/// Files written for one failing scenario-seed, relative to the report
/// directory (so the links work wherever the directory is copied).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Artifacts {
    /// The pcap as captured (tshark/Wireshark).
    pub pcap: Option<String>,
    /// The pcap with TLS connections written as their plaintext HTTP, so
    /// Wireshark decodes the Kerberos inside KKDCP too.
    pub pcap_plaintext: Option<String>,
    /// The canonical trace (the text the trace hash covers).
    pub trace: Option<String>,
}

/// Everything a report shows.
#[derive(Debug)]
pub struct Report<'a> {
    /// Invocation.
    pub meta: RunMeta,
    /// One per scenario, in run order.
    pub summaries: &'a [ScenarioSummary],
    /// One per scenario-seed, in job order.
    pub runs: &'a [RunResult],
    /// Files for failing runs, by (scenario file, seed).
    pub artifacts: BTreeMap<(String, u64), Artifacts>,
    /// Link parameters of the analytic latency model.
    pub latency: LinkParams,
}

impl<'a> Report<'a> {
    /// A report of these runs with the default latency-model parameters
    /// and no artifacts.
    pub fn new(meta: RunMeta, summaries: &'a [ScenarioSummary], runs: &'a [RunResult]) -> Self {
        Report {
            meta,
            summaries,
            runs,
            artifacts: BTreeMap::new(),
            latency: LinkParams::WAN,
        }
    }

    /// Runs of one scenario file, in seed order.
    pub fn runs_of(&self, file: &str) -> Vec<&'a RunResult> {
        let mut v: Vec<&RunResult> = self.runs.iter().filter(|r| r.file == file).collect();
        v.sort_by_key(|r| r.seed);
        v
    }

    /// The failing runs, in job order.
    pub fn failures(&self) -> Vec<&'a RunResult> {
        self.runs.iter().filter(|r| !r.passed).collect()
    }

    /// Artifacts of a run, if any were written.
    pub fn artifacts_of(&self, r: &RunResult) -> Option<&Artifacts> {
        self.artifacts.get(&(r.file.clone(), r.seed))
    }

    /// Whether every scenario-seed passed.
    pub fn passed(&self) -> bool {
        self.runs.iter().all(|r| r.passed)
    }
}

pub(crate) fn ser_micros<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_u64(u64::try_from(d.as_micros()).unwrap_or(u64::MAX))
}
