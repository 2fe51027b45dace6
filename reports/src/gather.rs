//! Aggregates over the runs that several writers share: latency samples
//! per path, audit-event counts, coverage of `sometimes` properties,
//! per-scenario load figures and latency-model measurements.

use std::collections::{BTreeMap, BTreeSet};

use kerbside_sim::results::{LogonRecord, RunResult};
use kerbside_sim::scenario::Outcome;

use crate::input::Report;
use crate::stats::Summary;

/// Latency (ms) of every finished logon, grouped by the path it took
/// (`none` when every path failed).
pub(crate) fn latency_by_path(runs: &[&RunResult]) -> BTreeMap<String, Vec<f64>> {
    let mut out: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    for r in runs {
        for l in &r.logons {
            if let Some(lat) = l.latency {
                out.entry(l.path_name())
                    .or_default()
                    .push(lat.as_secs_f64() * 1000.0);
            }
        }
    }
    out
}

/// The type of an audit event, for counting: `7001 attempt`.
fn audit_type(ev: &serde_json::Value) -> String {
    let id = ev.get("id").and_then(serde_json::Value::as_u64);
    let kind = ev.get("kind").and_then(serde_json::Value::as_str);
    match (id, kind) {
        (Some(i), Some(k)) => format!("{i} {k}"),
        (Some(i), None) => i.to_string(),
        (None, Some(k)) => k.to_owned(),
        (None, None) => "unknown".to_owned(),
    }
}

/// Audit events per type over the runs.
pub(crate) fn audit_counts(runs: &[&RunResult]) -> BTreeMap<String, u64> {
    let mut out = BTreeMap::new();
    for r in runs {
        for l in &r.logons {
            let Some(rep) = &l.report else { continue };
            let Ok(serde_json::Value::Array(events)) = serde_json::to_value(&rep.audit) else {
                continue;
            };
            for ev in &events {
                *out.entry(audit_type(ev)).or_insert(0) += 1;
            }
        }
    }
    out
}

/// A `sometimes` property: a coverage counter, how often it was reached and
/// by which scenarios.
#[derive(Clone, Debug, Default)]
pub(crate) struct Reached {
    pub(crate) count: u64,
    pub(crate) scenarios: BTreeSet<String>,
}

/// Properties the suite as a whole should reach at least once: each path
/// of the fallback chain, each firewall verdict, and loss. A property
/// listed here and never reached is shown as a gap.
pub(crate) const SUITE_SOMETIMES: &[&str] = &[
    "path:native-tcp",
    "path:native-udp",
    "path:kkdcp",
    "path:iakerb",
    "path:localkdc",
    "path:ntlm",
    "firewall:drop",
    "firewall:reject",
    "net:loss",
    "fault:crash",
    "fault:restart",
    "fault:partition",
    "fault:skew",
    "logon:failure",
];

/// Coverage over the runs: every counter seen, plus [`SUITE_SOMETIMES`]
/// (reached or not).
pub(crate) fn coverage(runs: &[&RunResult]) -> BTreeMap<String, Reached> {
    let mut out: BTreeMap<String, Reached> = SUITE_SOMETIMES
        .iter()
        .map(|k| ((*k).to_owned(), Reached::default()))
        .collect();
    for r in runs {
        for (k, v) in &r.coverage {
            let e = out.entry(k.clone()).or_default();
            e.count += v;
            if *v > 0 {
                e.scenarios.insert(r.scenario.clone());
            }
        }
    }
    out
}

/// Load figures of one scenario's runs (the `load` tier's questions:
/// success rate, percentiles, relay and KDC load).
#[derive(Clone, Debug)]
pub(crate) struct Load {
    pub(crate) logons: usize,
    pub(crate) succeeded: usize,
    pub(crate) latency: Option<Summary>,
    pub(crate) kdc_requests: u64,
    pub(crate) relay_requests: u64,
    /// Requests in the busiest scenario second of the busiest KDC (over
    /// the runs), from the KDCs' own request logs.
    pub(crate) kdc_peak_rps: u64,
    /// The same for the relays, from their audit lines.
    pub(crate) relay_peak_rps: u64,
    /// Scenario time from the first logon's start to the last one's end (s).
    pub(crate) window_s: f64,
}

impl Load {
    /// Success rate in percent.
    pub(crate) fn success_pct(&self) -> f64 {
        if self.logons == 0 {
            0.0
        } else {
            100.0 * self.succeeded as f64 / self.logons as f64
        }
    }

    /// Requests per second of scenario time over the active window.
    pub(crate) fn rate(&self, n: u64) -> f64 {
        if self.window_s > 0.0 {
            n as f64 / self.window_s
        } else {
            0.0
        }
    }
}

fn succeeded(l: &LogonRecord) -> bool {
    l.report
        .as_ref()
        .is_some_and(|r| r.outcome == Outcome::Success)
}

/// Load figures over a scenario's runs.
pub(crate) fn load(runs: &[&RunResult]) -> Load {
    let mut lat = Vec::new();
    let (mut logons, mut ok, mut kdc, mut relay) = (0, 0, 0, 0);
    let mut window = 0.0;
    let (mut kdc_peak, mut relay_peak) = (0, 0);
    for r in runs {
        for srv in &r.load.servers {
            let peak = match srv.role.as_str() {
                "kdc" => &mut kdc_peak,
                "relay" => &mut relay_peak,
                _ => continue,
            };
            *peak = (*peak).max(srv.peak_rps);
        }
        logons += r.logons.len();
        ok += r.logons.iter().filter(|l| succeeded(l)).count();
        kdc += r.coverage.get("kdc:requests").copied().unwrap_or(0);
        relay += r.coverage.get("relay:requests").copied().unwrap_or(0);
        lat.extend(
            r.logons
                .iter()
                .filter_map(|l| l.latency.map(|d| d.as_secs_f64() * 1000.0)),
        );
        let first = r.logons.iter().map(|l| l.scheduled_at).min();
        let last = r
            .logons
            .iter()
            .filter_map(|l| l.latency.map(|d| l.scheduled_at + d))
            .max();
        if let (Some(a), Some(b)) = (first, last) {
            window += b.saturating_sub(a).as_secs_f64();
        }
    }
    Load {
        logons,
        succeeded: ok,
        latency: Summary::of(&lat),
        kdc_requests: kdc,
        relay_requests: relay,
        kdc_peak_rps: kdc_peak,
        relay_peak_rps: relay_peak,
        window_s: window,
    }
}

/// What the simulation measured for one latency-model row: logons labelled
/// with the row's key.
#[derive(Clone, Debug)]
pub(crate) struct Measured {
    /// Duration (ms) of each successful TGS exchange.
    pub(crate) exchange: Option<Summary>,
    /// Time to the service ticket (ms) of each successful logon.
    pub(crate) logon: Option<Summary>,
    /// Scenarios the samples came from.
    pub(crate) scenarios: BTreeSet<String>,
}

/// Measurements for each latency-model key found as a logon label.
pub(crate) fn measured(report: &Report<'_>, keys: &[&str]) -> BTreeMap<String, Measured> {
    let mut ex: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    let mut lo: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    let mut sc: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for r in report.runs {
        for l in &r.logons {
            let Some(label) = l.label.as_deref() else {
                continue;
            };
            if !keys.contains(&label) {
                continue;
            }
            let Some(rep) = &l.report else { continue };
            if rep.outcome != Outcome::Success {
                continue;
            }
            sc.entry(label.to_owned())
                .or_default()
                .insert(r.scenario.clone());
            if let Some(t) = rep.time_to_ticket.or(l.latency) {
                lo.entry(label.to_owned())
                    .or_default()
                    .push(t.as_secs_f64() * 1000.0);
            }
            // The exchange that produced the service ticket.
            if let Some(a) =
                rep.attempts.iter().rev().find(|a| {
                    a.exchange == "tgs" && a.result == kerbside_sim::logon::AttemptResult::Ok
                })
            {
                ex.entry(label.to_owned())
                    .or_default()
                    .push(a.duration.as_secs_f64() * 1000.0);
            }
        }
    }
    sc.into_iter()
        .map(|(k, scenarios)| {
            let m = Measured {
                exchange: ex.get(&k).and_then(|v| Summary::of(v)),
                logon: lo.get(&k).and_then(|v| Summary::of(v)),
                scenarios,
            };
            (k, m)
        })
        .collect()
}

/// The run whose timeline a scenario section draws: the first failing seed
/// (what a reader needs to see), else the first seed.
pub(crate) fn representative<'a>(runs: &[&'a RunResult]) -> Option<&'a RunResult> {
    runs.iter()
        .find(|r| !r.passed)
        .or_else(|| runs.first())
        .copied()
}

/// Where one scenario's wall time went, per scenario-seed (averages over
/// its seeds): the "slowest scenarios" table.
#[derive(Clone, Debug)]
pub(crate) struct ScenarioCost {
    pub(crate) scenario: String,
    /// Wall time per scenario-seed (s).
    pub(crate) wall_s: f64,
    /// Share of the whole run's CPU time (0..1).
    pub(crate) share: f64,
    /// turmoil steps per seed, and how many had a message in flight.
    pub(crate) steps: f64,
    pub(crate) busy_steps: f64,
    /// Idle skips per seed and the share of scenario time they covered.
    pub(crate) jumps: f64,
    pub(crate) jumped_share: f64,
    /// Wall time per step (µs): what a tick of every host costs.
    pub(crate) us_per_step: f64,
    /// Logons and KDC exchanges per seed.
    pub(crate) logons: f64,
    pub(crate) exchanges: f64,
}

/// Every scenario's cost, slowest (wall per scenario-seed) first.
pub(crate) fn costs(report: &Report<'_>) -> Vec<ScenarioCost> {
    let total: f64 = report.runs.iter().map(|r| r.wall_time.as_secs_f64()).sum();
    let mut out: Vec<ScenarioCost> = report
        .summaries
        .iter()
        .filter_map(|s| {
            let runs = report.runs_of(&s.file);
            if runs.is_empty() {
                return None;
            }
            let n = runs.len() as f64;
            let sum = |f: &dyn Fn(&RunResult) -> f64| runs.iter().map(|r| f(r)).sum::<f64>();
            let wall = sum(&|r| r.wall_time.as_secs_f64());
            let steps = sum(&|r| r.steps as f64);
            let scenario_time = sum(&|r| r.scenario_time.as_secs_f64());
            Some(ScenarioCost {
                scenario: s.scenario.clone(),
                wall_s: wall / n,
                share: if total > 0.0 { wall / total } else { 0.0 },
                steps: steps / n,
                busy_steps: sum(&|r| r.busy_steps as f64) / n,
                jumps: sum(&|r| r.jumps as f64) / n,
                jumped_share: if scenario_time > 0.0 {
                    sum(&|r| r.jumped.as_secs_f64()) / scenario_time
                } else {
                    0.0
                },
                us_per_step: if steps > 0.0 { wall * 1e6 / steps } else { 0.0 },
                logons: sum(&|r| r.logons.len() as f64) / n,
                exchanges: sum(&|r| r.exchanges() as f64) / n,
            })
        })
        .collect();
    out.sort_by(|a, b| b.wall_s.total_cmp(&a.wall_s));
    out
}
