//! Run reports: what `kerbside run --out DIR` writes for people and for CI.
//!
//! * `summary.md`: the verdict, one row per scenario, every failure with
//!   its replay command and pcap ([`markdown`](crate::summary_markdown));
//! * `report.html`: one self-contained page with inline SVG charts
//!   (latency per path, a timeline per scenario, the seed-sweep matrix,
//!   coverage of `sometimes` properties, audit-event counts, the latency
//!   model); no script and no network fetch;
//! * `results.json`: every run in the simulation's results model, schema
//!   `reports/results.schema.json`;
//! * `junit.xml`: one test case per scenario-seed.
//!
//! The data model is the simulation's ([`kerbside_sim::results`]); this
//! crate only presents it.
//!
//! | module | job |
//! |---|---|
//! | `input` | the report's input: runs, summaries, invocation, artifacts |
//! | `gather` | aggregates several writers share |
//! | `stats` | percentiles |
//! | `latency_model` | the analytic latency model |
//! | `svg`, `charts` | inline SVG charts |
//! | `markdown`, `html`, `json`, `junit` | the four files |
//! | `write` | writing them into a directory |

mod charts;
mod gather;
mod html;
pub mod input;
mod json;
mod junit;
pub mod latency_model;
mod markdown;
pub mod stats;
mod svg;
mod write;

pub use input::{Artifacts, Report, RunMeta};
pub use json::RESULTS_SCHEMA;
pub use write::{ReportError, Written, write_report};

/// `summary.md` of a report.
pub fn summary_markdown(report: &Report<'_>) -> String {
    markdown::summary(report)
}

/// `report.html` of a report.
pub fn report_html(report: &Report<'_>) -> String {
    html::page(report)
}

/// `junit.xml` of a report.
pub fn junit_xml(report: &Report<'_>) -> String {
    junit::junit(report)
}

/// `results.json` of a report.
pub fn results_json(report: &Report<'_>) -> Result<String, serde_json::Error> {
    json::results(report)
}
