//! The latency model beside the simulation: the `latency-model` scenario
//! builds the model's links (25 ms client round trips, relay and IAKERB
//! server 1 ms from a DC that spends 3 ms per request), and the report's
//! measured columns must land where the round-trip counting says they
//! should. The tolerances are the simulation's known departures: its TCP
//! connect costs one one-way delay (12.5 ms) instead of a round trip, and
//! TLS handshake CPU costs no simulated time.

mod common;

use std::sync::Arc;

use kerbside_report::latency_model::{LinkParams, rows};
use kerbside_report::{Report, results_json};
use kerbside_sim::results::{RunResult, ScenarioSummary};
use kerbside_sim::runner::{Prepared, RunOptions, run};
use kerbside_sim::scenario::load_file;
use serde_json::Value;

fn measured_p50(json: &Value, key: &str, what: &str) -> f64 {
    json["latency_model"]["measured"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["key"] == key)
        .unwrap_or_else(|| panic!("no measurement for {key}"))[what]["p50"]
        .as_f64()
        .unwrap_or_else(|| panic!("no {what} p50 for {key}"))
}

fn model(key: &str) -> (f64, f64) {
    let r = rows(&LinkParams::WAN);
    let row = r.iter().find(|r| r.key == key).unwrap();
    (row.exchange_ms, row.logon_ms)
}

fn near(what: &str, got: f64, want: f64, tolerance: f64) {
    assert!(
        (got - want).abs() <= tolerance,
        "{what}: simulated {got} ms, model {want} ms (tolerance {tolerance} ms)"
    );
}

#[test]
fn the_simulation_measures_what_the_model_counts() {
    let file = common::scenarios_dir().join("latency-model.toml");
    let scenario = load_file(&file).unwrap_or_else(|e| panic!("{e}"));
    let p = Arc::new(Prepared::new(scenario, "scenarios/latency-model.toml").unwrap());
    let r = run(
        &p,
        &RunOptions {
            seed: 1,
            ..RunOptions::default()
        },
    )
    .result;
    assert!(r.passed, "{:?}", r.violations);
    let runs: Vec<RunResult> = vec![r];
    let refs: Vec<&RunResult> = runs.iter().collect();
    let summaries: Vec<ScenarioSummary> =
        vec![ScenarioSummary::from_runs(p.scenario.tier, &p.scenario.description, &refs).unwrap()];
    let report = Report::new(common::meta(), &summaries, &runs);
    let json: Value = serde_json::from_str(&results_json(&report).unwrap()).unwrap();

    // Native UDP: one round trip and the KDC's 3 ms, "about 30 ms".
    near(
        "native-udp TGS",
        measured_p50(&json, "native-udp", "exchange"),
        model("native-udp").0,
        3.0,
    );
    // A kept-alive relay connection: one client round trip plus the relay's
    // short leg, within a few ms of native.
    near(
        "kkdcp-keepalive TGS",
        measured_p50(&json, "kkdcp-keepalive", "exchange"),
        model("kkdcp-keepalive").0,
        4.0,
    );
    // Fresh connections: the model's figure less the simulation's cheaper
    // TCP connect (12.5 ms) and free handshake CPU (1.5 ms).
    near(
        "native-tcp TGS",
        measured_p50(&json, "native-tcp", "exchange"),
        model("native-tcp").0 - 12.5,
        3.0,
    );
    near(
        "kkdcp-tls13-per-message TGS",
        measured_p50(&json, "kkdcp-tls13-per-message", "exchange"),
        model("kkdcp-tls13-per-message").0 - 12.5 - 1.5,
        5.0,
    );
    // Port 88 dropped: the timeout dominates; racing and the negative cache
    // take it away again.
    let timeout = measured_p50(&json, "fallback-timeout", "logon");
    let racing = measured_p50(&json, "fallback-racing", "logon");
    let cached = measured_p50(&json, "fallback-negative-cache", "logon");
    near(
        "fallback-timeout logon",
        timeout,
        model("fallback-timeout").1,
        30.0,
    );
    near(
        "fallback-racing logon",
        racing,
        model("fallback-racing").1,
        30.0,
    );
    near(
        "fallback-negative-cache logon",
        cached,
        model("fallback-negative-cache").1,
        30.0,
    );
    assert!(timeout > 10.0 * cached, "{timeout} vs {cached}");
}
