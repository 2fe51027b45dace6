//! `summary.md`: the short form a CI job posts as a comment or step
//! summary. Verdict first, then one row per scenario, then every failure
//! with the command that replays it and its pcap.

use std::fmt::Write as _;
use std::time::Duration;

use kerbside_sim::duration::format_duration;

use crate::gather;
use crate::input::Report;
use crate::latency_model;
use crate::stats::{Summary, fmt_ms};

/// Markdown table cells must not contain `|` or line breaks.
fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace(['\n', '\r'], " ")
}

/// Whether a latency-model row is a fallback case (`fallback-timeout`,
/// `-racing`, `-negative-cache`): its model "exchange" is the first one,
/// wait included, so only its full logon compares with the simulation.
pub(crate) fn is_fallback(key: &str) -> bool {
    key.starts_with("fallback-")
}

/// Scenario-seeds per wall-second.
pub(crate) fn rate(report: &Report<'_>) -> f64 {
    let secs = report.meta.wall_time.as_secs_f64();
    if secs > 0.0 {
        report.runs.len() as f64 / secs
    } else {
        0.0
    }
}

/// The whole `summary.md`.
pub(crate) fn summary(report: &Report<'_>) -> String {
    let mut out = String::from("# kerbside run\n\n");
    let total = report.runs.len();
    let failed = report.failures().len();
    if failed == 0 {
        let _ = writeln!(
            out,
            "**PASS**: {} scenarios, {total} scenario-seeds, all passed.\n",
            report.summaries.len()
        );
    } else {
        let _ = writeln!(
            out,
            "**FAIL**: {failed} of {total} scenario-seeds failed ({} scenarios).\n",
            report.summaries.len()
        );
    }
    let _ = writeln!(
        out,
        "`{}` · kerbside {} · tier {}{} · {:.1} s wall on {} threads ({:.1} scenario-seeds/s)\n",
        report.meta.command,
        report.meta.version,
        report.meta.tier,
        report
            .meta
            .shard
            .as_deref()
            .map(|s| format!(" · shard {s}"))
            .unwrap_or_default(),
        report.meta.wall_time.as_secs_f64(),
        report.meta.threads,
        rate(report)
    );
    out.push_str(
        "| scenario | tier | seeds | result | paths taken | logon p50 | logon p99 | scenario time | CPU |\n\
         |---|---|---|---|---|---|---|---|---|\n",
    );
    for s in report.summaries {
        let runs = report.runs_of(&s.file);
        let lat: Vec<f64> = runs
            .iter()
            .flat_map(|r| r.logons.iter())
            .filter_map(|l| l.latency.map(|d| d.as_secs_f64() * 1000.0))
            .collect();
        let stats = Summary::of(&lat);
        let paths: Vec<String> = s
            .path_counts
            .iter()
            .map(|(k, v)| format!("{k} {v}"))
            .collect();
        let per_seed = if s.seeds.is_empty() {
            Duration::ZERO
        } else {
            s.scenario_time / s.seeds.len() as u32
        };
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {:.2} s |",
            cell(&s.scenario),
            s.tier,
            s.seeds.len(),
            if s.passed() {
                "pass".to_owned()
            } else {
                format!("**FAIL** {}/{}", s.failing_seeds.len(), s.seeds.len())
            },
            cell(&paths.join(", ")),
            stats.map(|x| fmt_ms(x.p50)).unwrap_or_else(|| "-".into()),
            stats.map(|x| fmt_ms(x.p99)).unwrap_or_else(|| "-".into()),
            format_duration(Duration::from_secs(per_seed.as_secs())),
            s.wall_time.as_secs_f64(),
        );
    }
    let failures = report.failures();
    if !failures.is_empty() {
        out.push_str("\n## Failures\n\n");
        for r in failures.iter().take(50) {
            let _ = writeln!(out, "### {} seed {}\n", r.scenario, r.seed);
            for v in r.violations.iter().take(8) {
                let _ = writeln!(out, "* [{}] {}", v.kind, v.message.replace('\n', " "));
            }
            if r.violations.len() > 8 {
                let _ = writeln!(out, "* ... {} more", r.violations.len() - 8);
            }
            let _ = writeln!(out, "\nreplay: `{}`", r.replay);
            if let Some(a) = report.artifacts_of(r) {
                if let Some(p) = &a.pcap {
                    let _ = writeln!(out, "  \npcap: [{p}]({p})");
                }
                if let Some(p) = &a.pcap_plaintext {
                    let _ = writeln!(out, "  \npcap with KKDCP as HTTP: [{p}]({p})");
                }
                if let Some(t) = &a.trace {
                    let _ = writeln!(out, "  \ntrace: [{t}]({t})");
                }
            }
            out.push('\n');
        }
        if failures.len() > 50 {
            let _ = writeln!(
                out,
                "... and {} more failures (results.json has all of them).\n",
                failures.len() - 50
            );
        }
    }
    load_section(report, &mut out);
    cost_section(report, &mut out);
    model_section(report, &mut out);
    coverage_section(report, &mut out);
    out.push_str(
        "\nThe full report is `report.html` (self-contained, charts inline); every run is in \
         `results.json`, one JUnit test case per scenario-seed in `junit.xml`.\n",
    );
    out
}

fn load_section(report: &Report<'_>, out: &mut String) {
    let heavy: Vec<_> = report
        .summaries
        .iter()
        .filter(|s| s.tier == kerbside_sim::scenario::Tier::Load)
        .collect();
    if heavy.is_empty() {
        return;
    }
    out.push_str(
        "\n## Load\n\n| scenario | logons | success | p50 | p90 | p99 | KDC requests/s | KDC peak/s | relay requests/s | relay peak/s |\n|---|---|---|---|---|---|---|---|---|---|\n",
    );
    for s in heavy {
        let runs = report.runs_of(&s.file);
        let l = gather::load(&runs);
        let p = |f: fn(&Summary) -> f64| l.latency.as_ref().map(f).map(fmt_ms).unwrap_or_default();
        let _ = writeln!(
            out,
            "| {} | {} | {:.2} % | {} | {} | {} | {:.1} | {} | {:.1} | {} |",
            cell(&s.scenario),
            l.logons,
            l.success_pct(),
            p(|s| s.p50),
            p(|s| s.p90),
            p(|s| s.p99),
            l.rate(l.kdc_requests),
            l.kdc_peak_rps,
            l.rate(l.relay_requests),
            l.relay_peak_rps
        );
    }
}

fn model_section(report: &Report<'_>, out: &mut String) {
    let rows = latency_model::rows(&report.latency);
    let keys: Vec<&str> = rows.iter().map(|r| r.key).collect();
    let measured = gather::measured(report, &keys);
    let p = &report.latency;
    let _ = writeln!(
        out,
        "\n## Latency model\n\nWhy native Kerberos takes about 30 ms and a fallback 80-120 ms, counted in round trips \
         from the link parameters (RTT client-KDC {} ms, client-relay/server {} ms, relay/server-KDC {} ms, \
         KDC {} ms, TLS handshake CPU {} ms, native timeout {} ms, race delay {} ms), beside the medians the \
         simulation measured (`latency-model` scenario). Fallback rows compare the full logon; fresh-connection \
         rows come out about 10 ms under the model in the simulation, whose TCP connect costs a one-way delay.\n",
        p.rtt_native_ms,
        p.rtt_client_ms,
        p.rtt_upstream_ms,
        p.kdc_ms,
        p.tls_crypto_ms,
        p.native_timeout_ms,
        p.race_delay_ms
    );
    if measured.is_empty() {
        out.push_str(
            "No logon in this run carries a model key; `kerbside run latency-model` fills the simulated columns.\n\n",
        );
    }
    out.push_str(
        "| path | round trips per exchange | exchange: model | simulated | logon: model | simulated | published |\n\
         |---|---|---|---|---|---|---|\n",
    );
    for r in &rows {
        let m = measured.get(r.key);
        let med = |s: Option<&Summary>| s.map(|s| fmt_ms(s.p50)).unwrap_or_else(|| "-".into());
        let _ = writeln!(
            out,
            "| {} | `{}` | {} | {} | {} | {} | {} |",
            r.key,
            r.formula,
            fmt_ms(r.exchange_ms),
            if is_fallback(r.key) {
                "-".to_owned()
            } else {
                med(m.and_then(|m| m.exchange.as_ref()))
            },
            fmt_ms(r.logon_ms),
            med(m.and_then(|m| m.logon.as_ref())),
            r.published.unwrap_or(""),
        );
    }
}

fn coverage_section(report: &Report<'_>, out: &mut String) {
    let runs: Vec<_> = report.runs.iter().collect();
    let cov = gather::coverage(&runs);
    let never: Vec<&String> = cov
        .iter()
        .filter(|(k, v)| v.count == 0 && gather::SUITE_SOMETIMES.contains(&k.as_str()))
        .map(|(k, _)| k)
        .collect();
    out.push_str("\n## Coverage of `sometimes` properties\n\n");
    if never.is_empty() {
        out.push_str("Every suite-level property was reached at least once.\n");
    } else {
        let names: Vec<String> = never.iter().map(|k| format!("`{k}`")).collect();
        let _ = writeln!(out, "Never reached in this run: {}.", names.join(", "));
    }
}

/// The slowest scenarios and where their time goes (issue 11: "report
/// scenario-seeds per second, the slowest scenarios, and where the time
/// goes").
pub(crate) fn cost_section(report: &Report<'_>, out: &mut String) {
    let costs = gather::costs(report);
    if costs.is_empty() {
        return;
    }
    out.push_str(
        "\n## Where the time goes\n\nPer scenario-seed, slowest first. A step ticks every host once; \
         busy steps had a message in flight, the others waited on a timer or settled; jumps skipped \
         quiet time (share of scenario time skipped).\n\n\
         | scenario | wall/seed | share of CPU | steps | busy | jumps | skipped | µs/step | logons | KDC exchanges |\n\
         |---|---|---|---|---|---|---|---|---|---|\n",
    );
    for c in costs.iter().take(10) {
        let _ = writeln!(
            out,
            "| {} | {:.1} ms | {:.1} % | {:.0} | {:.0} | {:.0} | {:.1} % | {:.1} | {:.0} | {:.0} |",
            cell(&c.scenario),
            c.wall_s * 1000.0,
            c.share * 100.0,
            c.steps,
            c.busy_steps,
            c.jumps,
            c.jumped_share * 100.0,
            c.us_per_step,
            c.logons,
            c.exchanges
        );
    }
}
