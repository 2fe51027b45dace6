//! `report.html`: one self-contained page (inline CSS and SVG, no script,
//! no fetch of anything), readable offline and attachable to a CI run.
//!
//! Sections, in reading order: the verdict; failures with their replay
//! commands and pcaps; the seed-sweep matrix; latency per path; the latency
//! model; load figures; coverage of `sometimes` properties; audit events;
//! then one section per scenario with its description and the timeline of
//! a representative seed.

use std::fmt::Write as _;
use std::time::Duration;

use kerbside_sim::duration::format_duration;
use kerbside_sim::results::RunResult;

use crate::charts::{self, Bar, Cell, Marker};
use crate::gather;
use crate::input::Report;
use crate::latency_model;
use crate::markdown::{is_fallback, rate};
use crate::stats::{Summary, fmt_ms};
use crate::svg::{esc, fmt_offset, path_colour};

const CSS: &str = r#"
:root { color-scheme: light; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 0; color: #1d1d1f; background: #fafafa; }
header { background: #14213d; color: #fff; padding: 18px 28px; }
header h1 { margin: 0 0 4px; font-size: 22px; }
header code { color: #d7e3ff; }
.badge { display: inline-block; padding: 2px 10px; border-radius: 4px; font-weight: 700; margin-right: 8px; }
.pass { background: #2e8b3a; color: #fff; }
.fail { background: #c62828; color: #fff; }
nav { padding: 8px 28px; background: #e9edf5; font-size: 13px; }
nav a { margin-right: 14px; color: #14213d; }
main { padding: 8px 28px 40px; max-width: 1100px; }
section { margin: 22px 0; }
h2 { font-size: 18px; border-bottom: 1px solid #d0d4dc; padding-bottom: 4px; }
h3 { font-size: 15px; margin-bottom: 4px; }
table { border-collapse: collapse; font-size: 13px; margin: 6px 0; }
th, td { border: 1px solid #d8dbe2; padding: 3px 8px; text-align: left; vertical-align: top; }
th { background: #eef1f6; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
code, pre { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 12.5px; }
pre { background: #f1f3f7; padding: 6px 10px; overflow-x: auto; }
.failure { border-left: 4px solid #c62828; background: #fff; padding: 6px 14px; margin: 10px 0; }
.desc { color: #333; max-width: 900px; }
.muted { color: #666; font-size: 12.5px; }
.swatch { display: inline-block; width: 10px; height: 10px; border-radius: 2px; margin: 0 4px 0 10px; vertical-align: middle; }
details { margin: 8px 0; }
summary { cursor: pointer; color: #14213d; }
svg.chart { display: block; background: #fff; border: 1px solid #e1e4ea; margin: 6px 0; max-width: 100%; height: auto; }
svg text { font: 11px system-ui, sans-serif; fill: #333; }
svg text.axis { fill: #555; font-size: 11.5px; }
svg text.mark { fill: #b22222; font-weight: 700; }
svg text.note { fill: #888; }
ol.marks { font-size: 12.5px; margin: 2px 0 8px; }
.gap { color: #c62828; font-weight: 600; }
"#;

/// Paths in the order the fallback chain tries them (legend order).
const PATHS: &[&str] = &[
    "native-tcp",
    "native-udp",
    "kkdcp",
    "iakerb",
    "localkdc",
    "ntlm",
    "cache",
    "none",
    "hung",
];

/// The anchor of a failing run's details.
pub(crate) fn failure_anchor(r: &RunResult) -> String {
    let name: String = r
        .scenario
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    format!("fail-{name}-{}", r.seed)
}

fn scenario_anchor(name: &str) -> String {
    let name: String = name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    format!("scenario-{name}")
}

/// The whole page.
pub(crate) fn page(report: &Report<'_>) -> String {
    let mut out = String::with_capacity(256 * 1024);
    let failed = report.failures().len();
    let _ = writeln!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>kerbside run: {}</title>\n<style>{CSS}</style>\n</head>\n<body>",
        if failed == 0 { "PASS" } else { "FAIL" }
    );
    header(report, &mut out);
    out.push_str(
        "<nav><a href=\"#summary\">Summary</a><a href=\"#failures\">Failures</a>\
         <a href=\"#matrix\">Seed sweep</a><a href=\"#latency\">Latency per path</a>\
         <a href=\"#model\">Latency model</a><a href=\"#load\">Load</a><a href=\"#cost\">Time</a>\
         <a href=\"#coverage\">Coverage</a><a href=\"#audit\">Audit events</a>\
         <a href=\"#scenarios\">Scenarios</a></nav>\n<main>\n",
    );
    summary_table(report, &mut out);
    failures(report, &mut out);
    matrix(report, &mut out);
    latency(report, &mut out);
    model(report, &mut out);
    load(report, &mut out);
    costs(report, &mut out);
    coverage(report, &mut out);
    audit(report, &mut out);
    scenarios(report, &mut out);
    out.push_str(
        "<p class=\"muted\">Written by <code>kerbside run --out DIR</code>. Every number is \
         simulated time unless it says wall time; the same scenario and seed give the same \
         run, byte for byte (the trace hash). Machine-readable: <code>results.json</code> \
         (schema in <code>reports/results.schema.json</code>) and <code>junit.xml</code>.</p>\n\
         </main>\n</body>\n</html>\n",
    );
    out
}

fn header(report: &Report<'_>, out: &mut String) {
    let failed = report.failures().len();
    let total = report.runs.len();
    let _ = writeln!(
        out,
        "<header><h1>kerbside run</h1><div><span class=\"badge {}\">{}</span>{} scenarios, \
         {total} scenario-seeds, {} passed, {failed} failed</div>\
         <div class=\"muted\" style=\"color:#cfd8ea\"><code>{}</code> · kerbside {} · tier {}{} · \
         {:.1} s wall on {} threads · {:.1} scenario-seeds/s</div></header>",
        if failed == 0 { "pass" } else { "fail" },
        if failed == 0 { "PASS" } else { "FAIL" },
        report.summaries.len(),
        total - failed,
        esc(&report.meta.command),
        esc(&report.meta.version),
        esc(&report.meta.tier),
        report
            .meta
            .shard
            .as_deref()
            .map(|s| format!(" · shard {}", esc(s)))
            .unwrap_or_default(),
        report.meta.wall_time.as_secs_f64(),
        report.meta.threads,
        rate(report)
    );
}

fn summary_table(report: &Report<'_>, out: &mut String) {
    out.push_str(
        "<section id=\"summary\"><h2>Summary</h2><table><tr><th>scenario</th><th>tier</th>\
         <th>seeds</th><th>result</th><th>paths taken</th><th>logon p50</th><th>logon p99</th>\
         <th>scenario time / seed</th><th>CPU</th><th>distinct traces</th></tr>\n",
    );
    for s in report.summaries {
        let runs = report.runs_of(&s.file);
        let lat: Vec<f64> = runs
            .iter()
            .flat_map(|r| r.logons.iter())
            .filter_map(|l| l.latency.map(|d| d.as_secs_f64() * 1000.0))
            .collect();
        let st = Summary::of(&lat);
        let mut paths = String::new();
        for (k, v) in &s.path_counts {
            let _ = write!(
                paths,
                "<span class=\"swatch\" style=\"background:{}\"></span>{} {v}",
                path_colour(k),
                esc(k)
            );
        }
        let per_seed = if s.seeds.is_empty() {
            Duration::ZERO
        } else {
            s.scenario_time / s.seeds.len() as u32
        };
        let _ = writeln!(
            out,
            "<tr><td><a href=\"#{}\">{}</a></td><td>{}</td><td class=\"num\">{}</td><td>{}</td>\
             <td>{paths}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td>\
             <td class=\"num\">{:.2} s</td><td class=\"num\">{}</td></tr>",
            scenario_anchor(&s.scenario),
            esc(&s.scenario),
            s.tier,
            s.seeds.len(),
            if s.passed() {
                "<span class=\"badge pass\">pass</span>".to_owned()
            } else {
                format!(
                    "<span class=\"badge fail\">FAIL {}/{}</span>",
                    s.failing_seeds.len(),
                    s.seeds.len()
                )
            },
            st.map(|x| fmt_ms(x.p50)).unwrap_or_else(|| "-".into()),
            st.map(|x| fmt_ms(x.p99)).unwrap_or_else(|| "-".into()),
            format_duration(Duration::from_secs(per_seed.as_secs())),
            s.wall_time.as_secs_f64(),
            s.distinct_traces
        );
    }
    out.push_str("</table><p class=\"muted\">CPU is the sum of the runs' wall times on the worker threads.</p></section>\n");
}

fn failures(report: &Report<'_>, out: &mut String) {
    let f = report.failures();
    out.push_str("<section id=\"failures\"><h2>Failures</h2>\n");
    if f.is_empty() {
        out.push_str("<p>None: every scenario-seed passed.</p></section>\n");
        return;
    }
    let _ = writeln!(
        out,
        "<p>{} scenario-seeds failed. Each replays exactly with the command shown; the pcap opens in Wireshark.</p>",
        f.len()
    );
    for r in f.iter().take(100) {
        let _ = writeln!(
            out,
            "<div class=\"failure\" id=\"{}\"><h3>{} seed {}</h3><ul>",
            failure_anchor(r),
            esc(&r.scenario),
            r.seed
        );
        for v in r.violations.iter().take(12) {
            let _ = write!(
                out,
                "<li><b>[{}]</b> {} <span class=\"muted\">at {}</span></li>",
                esc(&v.kind),
                esc(&v.message),
                esc(&format!("{:.3}s", v.at.as_secs_f64()))
            );
        }
        if r.violations.len() > 12 {
            let _ = write!(out, "<li>... {} more</li>", r.violations.len() - 12);
        }
        let _ = write!(out, "</ul><pre>{}</pre>", esc(&r.replay));
        if let Some(a) = report.artifacts_of(r) {
            out.push_str("<p>");
            if let Some(p) = &a.pcap {
                let _ = write!(out, "pcap: <a href=\"{}\">{}</a> ", esc(p), esc(p));
            }
            if let Some(p) = &a.pcap_plaintext {
                let _ = write!(
                    out,
                    "· with KKDCP as HTTP: <a href=\"{}\">{}</a> ",
                    esc(p),
                    esc(p)
                );
            }
            if let Some(t) = &a.trace {
                let _ = write!(out, "· trace: <a href=\"{}\">{}</a>", esc(t), esc(t));
            }
            out.push_str("</p>");
        }
        let _ = write!(
            out,
            "<p class=\"muted\">trace hash <code>{}</code></p></div>",
            esc(&r.trace_hash)
        );
    }
    out.push_str("</section>\n");
}

fn matrix(report: &Report<'_>, out: &mut String) {
    let rows: Vec<(String, Vec<Cell>)> = report
        .summaries
        .iter()
        .map(|s| {
            let cells = report
                .runs_of(&s.file)
                .iter()
                .map(|r| Cell {
                    seed: r.seed,
                    passed: r.passed,
                    anchor: (!r.passed).then(|| failure_anchor(r)),
                })
                .collect();
            (s.scenario.clone(), cells)
        })
        .collect();
    out.push_str(
        "<section id=\"matrix\"><h2>Seed sweep</h2><p>One square per scenario-seed, in seed \
         order: green passed, red failed (click for the failure).</p>\n",
    );
    out.push_str(&charts::matrix("chart-matrix", &rows));
    out.push_str("</section>\n");
}

fn legend(out: &mut String, paths: &[&str]) {
    out.push_str("<p class=\"muted\">");
    for p in paths {
        let _ = writeln!(
            out,
            "<span class=\"swatch\" style=\"background:{}\"></span>{}",
            path_colour(p),
            esc(p)
        );
    }
    out.push_str("</p>");
}

fn latency(report: &Report<'_>, out: &mut String) {
    let runs: Vec<&RunResult> = report.runs.iter().collect();
    let by_path = gather::latency_by_path(&runs);
    out.push_str(
        "<section id=\"latency\"><h2>Latency per path</h2><p>Every finished logon of the run, by \
         the path that produced its result: a histogram on a log scale (bars), the median \
         (black mark) and the 5-95 % range (line). A fallback path's latency includes the \
         timeouts paid before it.</p>\n",
    );
    out.push_str(&charts::latency_distribution("chart-latency", &by_path));
    out.push_str(
        "<table><tr><th>path</th><th>logons</th><th>min</th><th>p50</th><th>p90</th><th>p99</th><th>max</th></tr>\n",
    );
    for (path, v) in &by_path {
        if let Some(s) = Summary::of(v) {
            let _ = writeln!(
                out,
                "<tr><td><span class=\"swatch\" style=\"background:{}\"></span>{}</td><td class=\"num\">{}</td>\
                 <td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>",
                path_colour(path),
                esc(path),
                s.n,
                fmt_ms(s.min),
                fmt_ms(s.p50),
                fmt_ms(s.p90),
                fmt_ms(s.p99),
                fmt_ms(s.max)
            );
        }
    }
    out.push_str("</table></section>\n");
}

fn model(report: &Report<'_>, out: &mut String) {
    let p = &report.latency;
    let rows = latency_model::rows(p);
    let keys: Vec<&str> = rows.iter().map(|r| r.key).collect();
    let measured = gather::measured(report, &keys);
    let _ = writeln!(
        out,
        "<section id=\"model\"><h2>Latency model</h2><p class=\"desc\">Microsoft quotes about \
         30 ms for a native Kerberos TGS exchange and 80-120 ms through IAKerb or a proxy. The \
         difference is round trips, not the extra hop: a KKDCP request over a fresh HTTPS \
         connection pays the TCP handshake, the TLS handshake (two round trips in TLS 1.2, one \
         in 1.3) and the HTTP exchange before the relay's own short leg to the KDC. The model \
         below counts round trips from link parameters; the simulated column is the median of \
         logons labelled with the row's key (the <code>latency-model</code> scenario builds the \
         same links in the simulation), measured on the same parties that run for real.</p>\
         <p class=\"muted\">RTT client-KDC {} ms · client-relay/server {} ms · relay/server-KDC \
         {} ms · KDC processing {} ms · TLS handshake CPU {} ms · native timeout {} ms · race \
         delay {} ms</p>",
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
            "<p class=\"gap\">No logon in this run carries a model key, so the simulated \
             columns are empty: the <code>latency-model</code> scenario (default tier) measures \
             them, e.g. <code>kerbside run latency-model</code>.</p>\n",
        );
    }
    out.push_str(
        "<table><tr><th>path</th><th>round trips per exchange</th><th>one exchange: model</th>\
         <th>simulated (p50)</th><th>full logon: model</th><th>simulated (p50)</th><th>published figure</th></tr>\n",
    );
    let mut chart_rows = Vec::new();
    for r in &rows {
        let m = measured.get(r.key);
        // A fallback row's "exchange" is the first one, wait included; the
        // simulation's exchange figure is the TGS exchange after it, so
        // only the full logons compare.
        let fallback = is_fallback(r.key);
        let ex = m
            .and_then(|m| m.exchange.as_ref())
            .map(|s| s.p50)
            .filter(|_| !fallback);
        let lo = m.and_then(|m| m.logon.as_ref()).map(|s| s.p50);
        let show = |v: Option<f64>| v.map(fmt_ms).unwrap_or_else(|| "-".into());
        let _ = writeln!(
            out,
            "<tr><td title=\"{}\" style=\"white-space:nowrap\">{}</td><td><code>{}</code></td><td class=\"num\">{}</td><td class=\"num\">{}</td>\
             <td class=\"num\">{}</td><td class=\"num\">{}</td><td>{}</td></tr>",
            esc(r.description),
            esc(r.key),
            esc(r.formula),
            fmt_ms(r.exchange_ms),
            show(ex),
            fmt_ms(r.logon_ms),
            show(lo),
            r.published.map(esc).unwrap_or_default()
        );
        if fallback {
            chart_rows.push((format!("{} (logon)", r.key), r.logon_ms, lo));
        } else {
            chart_rows.push((r.key.to_owned(), r.exchange_ms, ex));
        }
    }
    out.push_str("</table>\n");
    out.push_str(&charts::model_chart("chart-model", &chart_rows));
    out.push_str(
        "<p class=\"muted\">The chart compares one exchange for the transport rows and the \
         full logon for the <code>fallback-*</code> rows (their first exchange includes the \
         wait before the relay). The simulated relay speaks TLS 1.3 without early data, so the \
         TLS 1.2 and 0-RTT rows are model only. Rows that open a new TCP connection per message \
         come out about 10 ms under the model in the simulation: its TCP connect costs one \
         one-way delay where a real SYN/SYN-ACK costs a round trip, and handshake CPU takes no \
         simulated time.</p>\
         <p class=\"desc\">Reading it: a kept-alive relay connection brings a fallback exchange \
         within a few milliseconds of native (one client round trip); TLS 1.3 saves one round \
         trip per fresh connection and 0-RTT another; when port 88 is silently dropped the \
         native timeout dominates everything, and racing the relay after a short delay (or a \
         negative cache that remembers the dead path) removes it.</p></section>\n",
    );
}

fn load(report: &Report<'_>, out: &mut String) {
    out.push_str("<section id=\"load\"><h2>Load</h2>\n");
    let heavy: Vec<_> = report
        .summaries
        .iter()
        .filter(|s| s.tier == kerbside_sim::scenario::Tier::Load)
        .collect();
    if heavy.is_empty() {
        out.push_str(
            "<p>No load-tier scenario in this run (<code>kerbside run --tier load</code> runs them).</p></section>\n",
        );
        return;
    }
    out.push_str(
        "<table><tr><th>scenario</th><th>logons</th><th>success</th><th>p50</th><th>p90</th>\
         <th>p99</th><th>max</th><th>KDC requests</th><th>KDC req/s</th><th>KDC peak req/s</th>\
         <th>relay requests</th><th>relay req/s</th><th>relay peak req/s</th></tr>\n",
    );
    for s in heavy {
        let runs = report.runs_of(&s.file);
        let l = gather::load(&runs);
        let p = |f: fn(&Summary) -> f64| {
            l.latency
                .as_ref()
                .map(f)
                .map(fmt_ms)
                .unwrap_or_else(|| "-".into())
        };
        let _ = writeln!(
            out,
            "<tr><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{:.2} %</td><td class=\"num\">{}</td>\
             <td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td>\
             <td class=\"num\">{:.1}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{:.1}</td>\
             <td class=\"num\">{}</td></tr>",
            esc(&s.scenario),
            l.logons,
            l.success_pct(),
            p(|s| s.p50),
            p(|s| s.p90),
            p(|s| s.p99),
            p(|s| s.max),
            l.kdc_requests,
            l.rate(l.kdc_requests),
            l.kdc_peak_rps,
            l.relay_requests,
            l.rate(l.relay_requests),
            l.relay_peak_rps
        );
    }
    out.push_str(
        "</table><p class=\"muted\">Rates are per second of simulated time over the window from the first logon to the last reply; peaks are the busiest simulated second of the busiest server, counted from the KDC request log and the relay audit lines.</p></section>\n",
    );
}

fn coverage(report: &Report<'_>, out: &mut String) {
    let runs: Vec<&RunResult> = report.runs.iter().collect();
    let cov = gather::coverage(&runs);
    let (suite, other): (Vec<_>, Vec<_>) = cov
        .iter()
        .partition(|(k, _)| gather::SUITE_SOMETIMES.contains(&k.as_str()));
    let gaps = suite.iter().filter(|(_, v)| v.count == 0).count();
    let _ = writeln!(
        out,
        "<section id=\"coverage\"><h2>Coverage of <i>sometimes</i> properties</h2><p class=\"desc\">\
         Safety properties must hold always; these must be reached at least once somewhere in \
         the suite, or the suite is not testing what it claims (a fallback tier never taken, a \
         fault never injected). Counters are summed over every scenario-seed.</p>\n<p>{}</p>",
        if gaps == 0 {
            format!("All {} suite-level properties were reached.", suite.len())
        } else {
            format!(
                "<span class=\"gap\">{gaps} of {} suite-level properties never reached</span> \
                 in this run: no scenario exercises them.",
                suite.len()
            )
        }
    );
    coverage_table(out, &suite);
    let mut bars = Vec::new();
    for (k, v) in &cov {
        if k.starts_with("path:") || k.starts_with("fault:") || k.starts_with("firewall:") {
            bars.push(Bar {
                label: (*k).clone(),
                value: v.count as f64,
                colour: k
                    .strip_prefix("path:")
                    .map(path_colour)
                    .unwrap_or("#6c7a96")
                    .to_owned(),
                text: v.count.to_string(),
            });
        }
    }
    out.push_str(&charts::bars(
        "chart-coverage",
        "Paths, faults and firewall verdicts reached",
        &bars,
        true,
    ));
    // The rest (per-attempt outcomes, relay and balancer counters, ...) is
    // long and read rarely: folded, without script (<details>).
    let _ = writeln!(
        out,
        "<details><summary>All {} other counters (attempt outcomes, relay, balancer, KDC, hostile \
         traffic ...)</summary>",
        other.len()
    );
    coverage_table(out, &other);
    out.push_str("</details></section>\n");
}

fn coverage_table(out: &mut String, rows: &[(&String, &gather::Reached)]) {
    out.push_str("<table><tr><th>property</th><th>reached</th><th>scenarios</th></tr>\n");
    for (k, v) in rows {
        let names: Vec<String> = v.scenarios.iter().map(|s| esc(s)).collect();
        let _ = writeln!(
            out,
            "<tr><td><code>{}</code></td><td class=\"num\">{}</td><td class=\"muted\">{}</td></tr>",
            esc(k),
            if v.count == 0 {
                "<span class=\"gap\">never</span>".to_owned()
            } else {
                v.count.to_string()
            },
            names.join(", ")
        );
    }
    out.push_str("</table>\n");
}

fn audit(report: &Report<'_>, out: &mut String) {
    let runs: Vec<&RunResult> = report.runs.iter().collect();
    let counts = gather::audit_counts(&runs);
    out.push_str(
        "<section id=\"audit\"><h2>Audit events</h2><p class=\"desc\">The negotiator's \
         structured audit stream, by event id and kind, over every logon of the run (8001/4001 \
         mirror Windows' NTLM audit and block events; 7001-7020 are kerbside's per-attempt, \
         decision and security records). A silent NTLM fallback shows up here.</p>\n",
    );
    let bars: Vec<Bar> = counts
        .iter()
        .map(|(k, v)| Bar {
            label: k.clone(),
            value: *v as f64,
            colour: if k.starts_with("8001") || k.starts_with("4001") || k.contains("ntlm") {
                "#d62728".to_owned()
            } else if k.contains("security") {
                "#ff7f0e".to_owned()
            } else {
                "#4a6fa5".to_owned()
            },
            text: v.to_string(),
        })
        .collect();
    out.push_str(&charts::bars(
        "chart-audit",
        "Audit events per type",
        &bars,
        false,
    ));
    out.push_str("</section>\n");
}

fn marks_of(r: &RunResult) -> Vec<Marker> {
    r.marks
        .iter()
        .map(|m| Marker {
            at: m.at,
            text: m.text.clone(),
        })
        .collect()
}

fn scenarios(report: &Report<'_>, out: &mut String) {
    out.push_str("<section id=\"scenarios\"><h2>Scenarios</h2>\n");
    legend(out, PATHS);
    out.push_str(
        "<p class=\"muted\">Each timeline shows one seed (the first failing one, else the first): \
         a dot per logon where it started, coloured by the path that produced its result, a \
         cross when it failed, a bar as long as it took; numbered dashed lines are faults and \
         other timeline actions.</p>\n",
    );
    for (i, s) in report.summaries.iter().enumerate() {
        let runs = report.runs_of(&s.file);
        let _ = writeln!(
            out,
            "<h3 id=\"{}\">{} {}</h3><p class=\"desc\">{}</p><p class=\"muted\">{} · {} seeds · {} distinct traces</p>",
            scenario_anchor(&s.scenario),
            esc(&s.scenario),
            if s.passed() {
                "<span class=\"badge pass\">pass</span>"
            } else {
                "<span class=\"badge fail\">FAIL</span>"
            },
            esc(s.description.trim()),
            esc(&s.file),
            s.seeds.len(),
            s.distinct_traces
        );
        let Some(rep) = gather::representative(&runs) else {
            continue;
        };
        let marks = marks_of(rep);
        let end = rep
            .logons
            .iter()
            .map(|l| l.scheduled_at + l.latency.unwrap_or_default())
            .chain(marks.iter().map(|m| m.at))
            .max()
            .unwrap_or_default()
            .max(rep.scenario_time.min(Duration::from_secs(1)))
            + Duration::from_secs(1);
        let _ = writeln!(out, "<p class=\"muted\">seed {}:</p>", rep.seed);
        out.push_str(&charts::timeline(
            &format!("chart-timeline-{i}"),
            rep,
            &marks,
            end,
        ));
        if !marks.is_empty() {
            out.push_str("<ol class=\"marks\">");
            for m in &marks {
                let _ = writeln!(
                    out,
                    "<li><b>{}</b> {}</li>",
                    esc(&fmt_offset(m.at.as_secs_f64())),
                    esc(&m.text)
                );
            }
            out.push_str("</ol>");
        }
    }
    out.push_str("</section>\n");
}

/// The slowest scenarios and where their time goes (see
/// `markdown::cost_section`).
fn costs(report: &Report<'_>, out: &mut String) {
    let costs = gather::costs(report);
    out.push_str("<section id=\"cost\"><h2>Where the time goes</h2>\n");
    let _ = writeln!(
        out,
        "<p>{} scenario-seeds in {:.1} s wall on {} threads: {:.1} scenario-seeds/s. Per scenario-seed, \
         slowest first. A step ticks every host once; busy steps had a message in flight; jumps \
         skipped quiet time (the share of scenario time skipped).</p>",
        report.runs.len(),
        report.meta.wall_time.as_secs_f64(),
        report.meta.threads,
        if report.meta.wall_time.is_zero() {
            0.0
        } else {
            report.runs.len() as f64 / report.meta.wall_time.as_secs_f64()
        }
    );
    out.push_str(
        "<table><tr><th>scenario</th><th>wall/seed</th><th>share of CPU</th><th>steps</th><th>busy</th>\
         <th>jumps</th><th>skipped</th><th>µs/step</th><th>logons</th><th>KDC exchanges</th></tr>\n",
    );
    for c in &costs {
        let _ = writeln!(
            out,
            "<tr><td>{}</td><td class=\"num\">{:.1} ms</td><td class=\"num\">{:.1} %</td>\
             <td class=\"num\">{:.0}</td><td class=\"num\">{:.0}</td><td class=\"num\">{:.0}</td>\
             <td class=\"num\">{:.1} %</td><td class=\"num\">{:.1}</td><td class=\"num\">{:.0}</td>\
             <td class=\"num\">{:.0}</td></tr>",
            esc(&c.scenario),
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
    out.push_str("</table></section>\n");
}
