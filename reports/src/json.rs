//! `results.json`: every scenario summary and every scenario-seed run, in
//! the simulation's own results model, plus the invocation, the latency
//! model and the files written for failures. The schema is
//! `reports/results.schema.json` (JSON Schema 2020-12); its version is
//! [`RESULTS_SCHEMA`].
//!
//! Passing runs leave out each logon's audit-event list (it is most of the
//! bytes of a large sweep) and keep its length as `audit_events`; failing
//! runs keep everything, since that is where a reader looks.

use serde::Serialize;

use crate::gather;
use crate::input::{Artifacts, Report, RunMeta};
use crate::latency_model::{self, LinkParams, ModelRow};

/// Schema version of `results.json`.
pub const RESULTS_SCHEMA: u32 = 2;

#[derive(Serialize)]
struct ArtifactEntry<'a> {
    scenario: &'a str,
    file: &'a str,
    seed: u64,
    #[serde(flatten)]
    files: &'a Artifacts,
}

#[derive(Serialize)]
struct MeasuredEntry {
    key: String,
    scenarios: Vec<String>,
    exchange: Option<crate::stats::Summary>,
    logon: Option<crate::stats::Summary>,
}

#[derive(Serialize)]
struct Model<'a> {
    params: &'a LinkParams,
    rows: Vec<ModelRow>,
    measured: Vec<MeasuredEntry>,
}

#[derive(Serialize)]
struct ResultsFile<'a> {
    schema: u32,
    version: &'a str,
    passed: bool,
    meta: &'a RunMeta,
    scenarios: &'a [kerbside_sim::results::ScenarioSummary],
    runs: Vec<serde_json::Value>,
    artifacts: Vec<ArtifactEntry<'a>>,
    latency_model: Model<'a>,
}

/// Drops the audit lists of a passing run's logons, keeping their length.
fn slim(mut run: serde_json::Value) -> serde_json::Value {
    if let Some(logons) = run.get_mut("logons").and_then(|l| l.as_array_mut()) {
        for l in logons {
            let Some(rep) = l.get_mut("report").and_then(|r| r.as_object_mut()) else {
                continue;
            };
            if let Some(serde_json::Value::Array(a)) = rep.remove("audit") {
                rep.insert("audit_events".into(), a.len().into());
            }
        }
    }
    run
}

/// The whole `results.json`.
pub(crate) fn results(report: &Report<'_>) -> Result<String, serde_json::Error> {
    let mut runs = Vec::with_capacity(report.runs.len());
    for r in report.runs {
        let v = serde_json::to_value(r)?;
        runs.push(if r.passed { slim(v) } else { v });
    }
    let artifacts = report
        .runs
        .iter()
        .filter_map(|r| {
            report.artifacts_of(r).map(|a| ArtifactEntry {
                scenario: &r.scenario,
                file: &r.file,
                seed: r.seed,
                files: a,
            })
        })
        .collect();
    let rows = latency_model::rows(&report.latency);
    let keys: Vec<&str> = rows.iter().map(|r| r.key).collect();
    let measured = gather::measured(report, &keys)
        .into_iter()
        .map(|(key, m)| MeasuredEntry {
            key,
            scenarios: m.scenarios.into_iter().collect(),
            exchange: m.exchange,
            logon: m.logon,
        })
        .collect();
    let file = ResultsFile {
        schema: RESULTS_SCHEMA,
        version: &report.meta.version,
        passed: report.passed(),
        meta: &report.meta,
        scenarios: report.summaries,
        runs,
        artifacts,
        latency_model: Model {
            params: &report.latency,
            rows,
            measured,
        },
    };
    Ok(serde_json::to_string_pretty(&file)? + "\n")
}
