//! The results data model: what one scenario-seed run produced
//! ([`RunResult`]) and what a sweep of seeds adds up to
//! ([`ScenarioSummary`]). Serialisable, so `results.json` carries it and
//! the report writers (`kerbside-report`: summary.md, report.html,
//! results.json, junit.xml) consume it unchanged.
//!
//! Durations are integer microseconds (`*_us`) in JSON: exact, and no
//! float formatting differences between platforms.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use serde::Serialize;

use crate::invariant::Finding;
use crate::logon::{LogonReport, ser_micros};
use crate::scenario::{Outcome, Tier};

/// What became of a scheduled logon.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum LogonStatus {
    /// It ran to completion (successfully or not): see the report.
    Done,
    /// Its client host crashed while it ran.
    Aborted,
    /// Its client host was down when it was due.
    HostDown,
    /// It did not finish within the scenario's budget.
    Hung,
}

/// One logon of a run.
#[derive(Clone, Debug, Serialize)]
pub struct LogonRecord {
    /// Run-wide id (timeline order).
    pub id: u64,
    /// Expectation group.
    pub label: Option<String>,
    /// Client host.
    pub client: String,
    /// User (`alice@CORP.EXAMPLE`).
    pub user: String,
    /// Service requested after the TGT.
    pub service: Option<String>,
    /// Scenario time it was due.
    #[serde(rename = "scheduled_us", serialize_with = "ser_micros")]
    pub scheduled_at: Duration,
    /// Sim time it started.
    #[serde(rename = "started_us", serialize_with = "ser_micros")]
    pub started_at: Duration,
    /// Sim time it finished.
    #[serde(rename = "finished_us", serialize_with = "ser_opt_micros")]
    pub finished_at: Option<Duration>,
    /// Finished minus started.
    #[serde(rename = "latency_us", serialize_with = "ser_opt_micros")]
    pub latency: Option<Duration>,
    /// What became of it.
    pub status: LogonStatus,
    /// The agent's report (when it finished).
    pub report: Option<LogonReport>,
}

impl LogonRecord {
    /// Whether it finished successfully.
    pub fn succeeded(&self) -> bool {
        self.report
            .as_ref()
            .is_some_and(|r| r.outcome == Outcome::Success)
    }

    /// The path name for tables (`hung`, `aborted` when it did not finish).
    pub fn path_name(&self) -> String {
        match (&self.report, self.status) {
            (Some(r), _) => r.path.to_string(),
            (None, LogonStatus::Hung) => "hung".into(),
            (None, LogonStatus::Aborted) => "aborted".into(),
            (None, LogonStatus::HostDown) => "host-down".into(),
            (None, LogonStatus::Done) => "none".into(),
        }
    }
}

fn ser_opt_micros<S: serde::Serializer>(d: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
    match d {
        Some(d) => ser_micros(d, s),
        None => s.serialize_none(),
    }
}

/// One scenario run with one seed.
#[derive(Clone, Debug, Serialize)]
pub struct RunResult {
    /// Scenario name.
    pub scenario: String,
    /// The scenario file.
    pub file: String,
    /// Seed.
    pub seed: u64,
    /// Whether every expectation held and the violations are exactly the
    /// expected ones.
    pub passed: bool,
    /// SHA-256 of the canonical trace.
    pub trace_hash: String,
    /// Everything that went wrong (and, in negative scenarios, what was
    /// meant to).
    pub violations: Vec<Finding>,
    /// Violation kinds the scenario expects.
    pub expected_violations: Vec<String>,
    /// Logons in timeline order.
    pub logons: Vec<LogonRecord>,
    /// Logons per path (`native-tcp`, `kkdcp`, `none`, `hung`...).
    pub path_counts: BTreeMap<String, u64>,
    /// Coverage counters (`sometimes` properties).
    pub coverage: BTreeMap<String, u64>,
    /// turmoil sim time at the end.
    #[serde(rename = "sim_time_us", serialize_with = "ser_micros")]
    pub sim_time: Duration,
    /// Scenario time at the end (sim time plus warps and idle skips).
    #[serde(rename = "scenario_time_us", serialize_with = "ser_micros")]
    pub scenario_time: Duration,
    /// Wall-clock time the run took.
    #[serde(rename = "wall_time_us", serialize_with = "ser_micros")]
    pub wall_time: Duration,
    /// turmoil steps.
    pub steps: u64,
    /// Steps with a message in flight (the rest were ticked while the
    /// world waited on something no timer hinted, or settling).
    pub busy_steps: u64,
    /// Idle skips: jumps over quiet time (see `crate::warp`).
    pub jumps: u64,
    /// Scenario time covered by those jumps rather than by steps.
    #[serde(rename = "jumped_us", serialize_with = "ser_micros")]
    pub jumped: Duration,
    /// Messages captured.
    pub wire_messages: u64,
    /// Payload bytes captured.
    pub wire_bytes: u64,
    /// The command that reruns this seed.
    pub replay: String,
    /// Timeline actions (faults, firewall changes, ...) as they happened.
    pub marks: Vec<Mark>,
    /// Success rate, latency percentiles, and relay and KDC load.
    pub load: crate::load::LoadReport,
}

/// A timeline action of a run, for the report's timeline chart.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Mark {
    /// Scenario time it was applied.
    #[serde(rename = "at_us", serialize_with = "ser_micros")]
    pub at: Duration,
    /// What happened (`crash relay`, `firewall.set monday: ...`).
    pub text: String,
}

impl RunResult {
    /// Kerberos requests KDCs answered in this run (AS and TGS, directly
    /// or through a relay): the throughput measure for "simulated exchanges
    /// per wall-second".
    pub fn exchanges(&self) -> u64 {
        self.coverage.get("kdc:requests").copied().unwrap_or(0)
    }
}

/// A sweep of one scenario over several seeds.
#[derive(Clone, Debug, Serialize)]
pub struct ScenarioSummary {
    /// Scenario name.
    pub scenario: String,
    /// The file.
    pub file: String,
    /// Tier.
    pub tier: Tier,
    /// The description from the file.
    pub description: String,
    /// Seeds run.
    pub seeds: Vec<u64>,
    /// Seeds that failed.
    pub failing_seeds: Vec<u64>,
    /// Logons per path over all seeds.
    pub path_counts: BTreeMap<String, u64>,
    /// Coverage counters over all seeds.
    pub coverage: BTreeMap<String, u64>,
    /// Distinct trace hashes (1 when the scenario has no randomness).
    pub distinct_traces: usize,
    /// Total sim time.
    #[serde(rename = "sim_time_us", serialize_with = "ser_micros")]
    pub sim_time: Duration,
    /// Total scenario time.
    #[serde(rename = "scenario_time_us", serialize_with = "ser_micros")]
    pub scenario_time: Duration,
    /// Total wall time (sum over seeds, not elapsed).
    #[serde(rename = "wall_time_us", serialize_with = "ser_micros")]
    pub wall_time: Duration,
    /// Replay commands of failing seeds.
    pub replays: Vec<String>,
}

impl ScenarioSummary {
    /// Adds up a scenario's runs.
    pub fn from_runs(tier: Tier, description: &str, runs: &[&RunResult]) -> Option<Self> {
        let first = runs.first()?;
        let mut s = ScenarioSummary {
            scenario: first.scenario.clone(),
            file: first.file.clone(),
            tier,
            description: description.to_owned(),
            seeds: Vec::new(),
            failing_seeds: Vec::new(),
            path_counts: BTreeMap::new(),
            coverage: BTreeMap::new(),
            distinct_traces: 0,
            sim_time: Duration::ZERO,
            scenario_time: Duration::ZERO,
            wall_time: Duration::ZERO,
            replays: Vec::new(),
        };
        let mut hashes = BTreeSet::new();
        for r in runs {
            s.seeds.push(r.seed);
            if !r.passed {
                s.failing_seeds.push(r.seed);
                s.replays.push(r.replay.clone());
            }
            for (k, v) in &r.path_counts {
                *s.path_counts.entry(k.clone()).or_default() += v;
            }
            for (k, v) in &r.coverage {
                *s.coverage.entry(k.clone()).or_default() += v;
            }
            hashes.insert(r.trace_hash.clone());
            s.sim_time += r.sim_time;
            s.scenario_time += r.scenario_time;
            s.wall_time += r.wall_time;
        }
        s.distinct_traces = hashes.len();
        Some(s)
    }

    /// Whether every seed passed.
    pub fn passed(&self) -> bool {
        self.failing_seeds.is_empty()
    }
}
