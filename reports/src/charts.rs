//! The report's charts, each one inline SVG with a stable `id` (the
//! screenshot test and readers' bookmarks rely on them):
//!
//! * latency per path as a distribution (log-scale histogram per path,
//!   with the median and the 5-95 % range marked);
//! * a timeline per scenario: each logon where it started, coloured by the
//!   path it took, failures crossed, faults as numbered dashed lines;
//! * the seed-sweep pass/fail matrix;
//! * horizontal bars (audit events, coverage, the latency model).

use std::collections::BTreeMap;
use std::time::Duration;

use kerbside_sim::results::RunResult;
use kerbside_sim::scenario::Outcome;

use crate::stats::{Summary, fmt_ms};
use crate::svg::{LinScale, LogScale, Svg, esc, fmt_offset, path_colour, time_ticks};

/// Most logons drawn in one timeline lane (a load scenario has thousands).
const MAX_DOTS_PER_LANE: usize = 400;

/// Histogram bins per decade in the latency chart.
const BINS_PER_DECADE: f64 = 8.0;

/// Latency distributions, one row per path.
pub(crate) fn latency_distribution(id: &str, by_path: &BTreeMap<String, Vec<f64>>) -> String {
    let rows: Vec<(&String, &Vec<f64>)> = by_path.iter().filter(|(_, v)| !v.is_empty()).collect();
    let row_h = 34.0;
    // The right margin holds half of the last tick's label ("100.00 s").
    let (left, right, top) = (120.0, 36.0, 12.0);
    let width = 760.0;
    let height = top + row_h * rows.len().max(1) as f64 + 34.0;
    let mut svg = Svg::new(id, width, height, "Logon latency per path");
    let all: Vec<f64> = rows.iter().flat_map(|(_, v)| v.iter().copied()).collect();
    let lo = all.iter().copied().fold(f64::INFINITY, f64::min).max(0.01);
    let hi = all.iter().copied().fold(0.0, f64::max).max(lo * 10.0);
    let lo = 10f64.powf(lo.log10().floor());
    let hi = 10f64.powf(hi.log10().ceil());
    let scale = LogScale::new(lo, hi, left, width - right);
    let bottom = top + row_h * rows.len().max(1) as f64;
    for t in scale.ticks() {
        let x = scale.at(t);
        svg.line(x, top, x, bottom, "#e3e3e3", false);
        svg.text(x, bottom + 14.0, "middle", "tick", &fmt_ms(t));
    }
    svg.text(
        (left + width - right) / 2.0,
        bottom + 30.0,
        "middle",
        "axis",
        "logon latency (simulated time, log scale)",
    );
    if rows.is_empty() {
        svg.text(left, top + 20.0, "start", "note", "no finished logons");
    }
    for (i, (path, samples)) in rows.iter().enumerate() {
        let y0 = top + row_h * i as f64;
        let colour = path_colour(path);
        svg.text(
            left - 8.0,
            y0 + row_h / 2.0 + 4.0,
            "end",
            "label",
            &format!("{path} ({})", samples.len()),
        );
        // Histogram on log bins, normalised to the row's tallest bin.
        let decades = (hi / lo).log10();
        let bins = ((decades * BINS_PER_DECADE).ceil() as usize).max(1);
        let mut counts = vec![0u64; bins];
        for v in samples.iter() {
            let t = ((v.max(lo)).log10() - lo.log10()) / decades;
            let b = ((t * bins as f64) as usize).min(bins - 1);
            counts[b] += 1;
        }
        let peak = counts.iter().copied().max().unwrap_or(1).max(1) as f64;
        for (b, c) in counts.iter().enumerate() {
            if *c == 0 {
                continue;
            }
            let a = lo * 10f64.powf(decades * b as f64 / bins as f64);
            let z = lo * 10f64.powf(decades * (b + 1) as f64 / bins as f64);
            let h = (row_h - 10.0) * (*c as f64 / peak);
            let (x1, x2) = (scale.at(a), scale.at(z));
            svg.rect(
                x1,
                y0 + row_h - 4.0 - h,
                (x2 - x1 - 0.5).max(0.5),
                h,
                colour,
                Some(&format!(
                    "{path}: {c} logons in {}-{}",
                    fmt_ms(a),
                    fmt_ms(z)
                )),
            );
        }
        if let Some(s) = Summary::of(samples) {
            let y = y0 + row_h - 2.0;
            svg.line(scale.at(s.p5), y, scale.at(s.p95), y, "#333", false);
            let xm = scale.at(s.p50);
            svg.rect(
                xm - 1.5,
                y0 + 3.0,
                3.0,
                row_h - 6.0,
                "#111",
                Some(&format!(
                    "{path}: median {}, p95 {}, p99 {}, max {}",
                    fmt_ms(s.p50),
                    fmt_ms(s.p95),
                    fmt_ms(s.p99),
                    fmt_ms(s.max)
                )),
            );
        }
    }
    svg.finish()
}

/// A fault or other marked moment of a run, numbered for the legend.
#[derive(Clone, Debug)]
pub(crate) struct Marker {
    pub(crate) at: Duration,
    pub(crate) text: String,
}

/// The timeline of one run: lanes per client host.
pub(crate) fn timeline(id: &str, run: &RunResult, marks: &[Marker], end: Duration) -> String {
    let mut clients: Vec<&str> = run.logons.iter().map(|l| l.client.as_str()).collect();
    clients.sort_unstable();
    clients.dedup();
    // A load scenario has few hosts and many logons: keep lanes bounded.
    let lane_h = 22.0;
    let (left, right, top) = (120.0, 20.0, 22.0);
    let width = 760.0;
    let lanes = clients.len().max(1);
    let height = top + lane_h * lanes as f64 + 34.0;
    let mut svg = Svg::new(
        id,
        width,
        height,
        &format!("Timeline of {} seed {}", run.scenario, run.seed),
    );
    let end_s = end.as_secs_f64().max(1.0);
    let scale = LinScale::new(0.0, end_s, left, width - right);
    let bottom = top + lane_h * lanes as f64;
    for t in time_ticks(end_s, 8) {
        let x = scale.at(t);
        svg.line(x, top, x, bottom, "#eeeeee", false);
        svg.text(x, bottom + 14.0, "middle", "tick", &fmt_offset(t));
    }
    svg.text(
        (left + width - right) / 2.0,
        bottom + 30.0,
        "middle",
        "axis",
        "scenario time",
    );
    for (i, c) in clients.iter().enumerate() {
        let y = top + lane_h * i as f64 + lane_h / 2.0;
        svg.text(left - 8.0, y + 4.0, "end", "label", c);
        svg.line(left, y, width - right, y, "#f0f0f0", false);
    }
    for (i, m) in marks.iter().enumerate() {
        let x = scale.at(m.at.as_secs_f64());
        svg.line(x, top - 6.0, x, bottom, "#b22222", true);
        svg.text(x, top - 9.0, "middle", "mark", &(i + 1).to_string());
    }
    let lane_of: Vec<usize> = run
        .logons
        .iter()
        .map(|l| clients.iter().position(|c| *c == l.client).unwrap_or(0))
        .collect();
    let drawn = thin_per_lane(&lane_of, lanes, MAX_DOTS_PER_LANE);
    for ((l, &lane), draw) in run.logons.iter().zip(&lane_of).zip(drawn) {
        if !draw {
            continue;
        }
        let y = top + lane_h * lane as f64 + lane_h / 2.0;
        let x = scale.at(l.scheduled_at.as_secs_f64());
        let path = l.path_name();
        let colour = path_colour(&path);
        let tip = format!(
            "logon {} {} {}{}: {} {}",
            l.id,
            l.user,
            l.label.as_deref().unwrap_or(""),
            l.service
                .as_deref()
                .map(|s| format!(" → {s}"))
                .unwrap_or_default(),
            path,
            l.latency
                .map(|d| fmt_ms(d.as_secs_f64() * 1000.0))
                .unwrap_or_else(|| "did not finish".into())
        );
        if let Some(lat) = l.latency {
            let w = scale.at(l.scheduled_at.as_secs_f64() + lat.as_secs_f64()) - x;
            if w > 1.0 {
                svg.rect(x, y - 2.0, w, 4.0, colour, None);
            }
        }
        let ok = l
            .report
            .as_ref()
            .is_some_and(|r| r.outcome == Outcome::Success);
        if ok {
            svg.circle(x, y, 4.5, colour, Some(&tip));
        } else {
            svg.cross(x, y, 4.5, colour, Some(&tip));
        }
    }
    svg.finish()
}

/// Which logons a timeline draws: with many logons (load tier) at most
/// about `max` per lane, evenly spread within the lane, so the page stays
/// light (every logon is in results.json). Thinning per lane, not over the
/// whole list: a stride over all logons aliases with clients taking turns
/// and leaves whole lanes empty.
fn thin_per_lane(lane_of: &[usize], lanes: usize, max: usize) -> Vec<bool> {
    let mut per_lane = vec![0usize; lanes.max(1)];
    for &lane in lane_of {
        if let Some(n) = per_lane.get_mut(lane) {
            *n += 1;
        }
    }
    let strides: Vec<usize> = per_lane
        .iter()
        .map(|n| n.div_ceil(max.max(1)).max(1))
        .collect();
    let mut seen = vec![0usize; per_lane.len()];
    lane_of
        .iter()
        .map(|&lane| {
            let Some(nth) = seen.get_mut(lane) else {
                return true;
            };
            let draw = *nth % strides[lane] == 0;
            *nth += 1;
            draw
        })
        .collect()
}

/// One cell of the pass/fail matrix.
#[derive(Clone, Debug)]
pub(crate) struct Cell {
    pub(crate) seed: u64,
    pub(crate) passed: bool,
    /// In-page anchor of the failure's details.
    pub(crate) anchor: Option<String>,
}

/// The seed-sweep matrix: a row per scenario, a square per seed.
pub(crate) fn matrix(id: &str, rows: &[(String, Vec<Cell>)]) -> String {
    let cell = 9.0;
    let gap = 2.0;
    // Room for the longest "name passed/seeds" label (about 6.5 px per
    // character at the chart's 11 px font), so no name is cut off.
    let longest = rows
        .iter()
        .map(|(name, cells)| name.chars().count() + 2 * cells.len().to_string().len() + 2)
        .max()
        .unwrap_or(0);
    let left = (longest as f64 * 6.5 + 16.0).max(120.0);
    let per_row = 80usize;
    let mut y = 6.0;
    let mut layout = Vec::new();
    for (name, cells) in rows {
        let lines = cells.len().div_ceil(per_row).max(1);
        layout.push((name, cells, y));
        y += lines as f64 * (cell + gap) + 6.0;
    }
    // As wide as the longest row needs: a short sweep gets a narrow chart.
    let columns = rows
        .iter()
        .map(|(_, c)| c.len())
        .max()
        .unwrap_or(1)
        .clamp(8, per_row);
    let width = left + columns as f64 * (cell + gap) + 10.0;
    let mut svg = Svg::new(id, width, y + 4.0, "Pass/fail per scenario and seed");
    for (name, cells, y0) in layout {
        let failed = cells.iter().filter(|c| !c.passed).count();
        svg.text(
            left - 8.0,
            y0 + cell,
            "end",
            "label",
            &format!("{name} {}/{}", cells.len() - failed, cells.len()),
        );
        for (i, c) in cells.iter().enumerate() {
            let x = left + (i % per_row) as f64 * (cell + gap);
            let yy = y0 + (i / per_row) as f64 * (cell + gap);
            let (fill, word) = if c.passed {
                ("#3a9d3a", "pass")
            } else {
                ("#d62728", "FAIL")
            };
            let tip = format!("{name} seed {}: {word}", c.seed);
            match &c.anchor {
                Some(a) => {
                    svg.raw(&format!(r##"<a href="#{}">"##, esc(a)));
                    svg.rect(x, yy, cell, cell, fill, Some(&tip));
                    svg.raw("</a>");
                }
                None => svg.rect(x, yy, cell, cell, fill, Some(&tip)),
            }
        }
    }
    svg.finish()
}

/// One horizontal bar.
#[derive(Clone, Debug)]
pub(crate) struct Bar {
    pub(crate) label: String,
    pub(crate) value: f64,
    pub(crate) colour: String,
    pub(crate) text: String,
}

/// Horizontal bars, linear or log scale, with the value printed.
pub(crate) fn bars(id: &str, title: &str, items: &[Bar], log: bool) -> String {
    let row_h = 18.0;
    let (left, right, top) = (260.0, 90.0, 6.0);
    let width = 760.0;
    let height = top + row_h * items.len().max(1) as f64 + 8.0;
    let mut svg = Svg::new(id, width, height, title);
    let max = items.iter().map(|b| b.value).fold(0.0, f64::max).max(1e-9);
    let min_pos = items
        .iter()
        .map(|b| b.value)
        .filter(|v| *v > 0.0)
        .fold(f64::INFINITY, f64::min);
    let x0 = left;
    let x1 = width - right;
    let log_scale = LogScale::new(
        if min_pos.is_finite() {
            10f64.powf(min_pos.log10().floor())
        } else {
            1.0
        },
        10f64.powf(max.log10().ceil()),
        x0,
        x1,
    );
    for (i, b) in items.iter().enumerate() {
        let y = top + row_h * i as f64;
        svg.text(left - 8.0, y + row_h - 5.0, "end", "label", &b.label);
        let w = if b.value <= 0.0 {
            0.0
        } else if log {
            (log_scale.at(b.value) - x0).max(2.0)
        } else {
            ((b.value / max) * (x1 - x0)).max(1.0)
        };
        svg.rect(
            x0,
            y + 3.0,
            w,
            row_h - 6.0,
            &b.colour,
            Some(&format!("{}: {}", b.label, b.text)),
        );
        svg.text(x0 + w + 4.0, y + row_h - 5.0, "start", "value", &b.text);
    }
    if items.is_empty() {
        svg.text(left, top + 12.0, "start", "note", "nothing recorded");
    }
    svg.finish()
}

/// Analytic vs measured latency per model row (log scale, ms).
pub(crate) fn model_chart(id: &str, rows: &[(String, f64, Option<f64>)]) -> String {
    let row_h = 26.0;
    let (left, right, top) = (200.0, 90.0, 8.0);
    let width = 760.0;
    let height = top + row_h * rows.len().max(1) as f64 + 40.0;
    let mut svg = Svg::new(id, width, height, "Latency model: analytic vs measured");
    let max = rows
        .iter()
        .flat_map(|(_, a, m)| [Some(*a), *m])
        .flatten()
        .fold(1.0, f64::max);
    let scale = LogScale::new(1.0, 10f64.powf(max.log10().ceil()), left, width - right);
    let bottom = top + row_h * rows.len().max(1) as f64;
    for t in scale.ticks() {
        let x = scale.at(t);
        svg.line(x, top, x, bottom, "#e8e8e8", false);
        svg.text(x, bottom + 14.0, "middle", "tick", &fmt_ms(t));
    }
    for (i, (key, analytic, measured)) in rows.iter().enumerate() {
        let y = top + row_h * i as f64;
        svg.text(left - 8.0, y + row_h / 2.0 + 4.0, "end", "label", key);
        let wa = scale.at(*analytic) - left;
        svg.rect(
            left,
            y + 3.0,
            wa,
            9.0,
            "#8fb3d9",
            Some(&format!("{key}: model {}", fmt_ms(*analytic))),
        );
        let mut text = format!("model {}", fmt_ms(*analytic));
        if let Some(m) = measured {
            let wm = scale.at(*m) - left;
            svg.rect(
                left,
                y + 13.0,
                wm,
                9.0,
                "#1f6fb4",
                Some(&format!("{key}: measured median {}", fmt_ms(*m))),
            );
            text = format!("{} / sim {}", fmt_ms(*analytic), fmt_ms(*m));
        }
        let x = scale.at(analytic.max(measured.unwrap_or(0.0))) + 4.0;
        svg.text(x, y + row_h / 2.0 + 4.0, "start", "value", &text);
    }
    // Legend.
    let ly = bottom + 26.0;
    svg.rect(left, ly - 8.0, 12.0, 8.0, "#8fb3d9", None);
    svg.text(left + 16.0, ly, "start", "value", "analytic model");
    svg.rect(left + 130.0, ly - 8.0, 12.0, 8.0, "#1f6fb4", None);
    svg.text(
        left + 146.0,
        ly,
        "start",
        "value",
        "measured in the simulation (median)",
    );
    svg.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latency_chart_has_a_row_per_path_and_marks_the_median() {
        let mut m = BTreeMap::new();
        m.insert("native-tcp".to_owned(), vec![5.0, 6.0, 7.0]);
        m.insert("kkdcp".to_owned(), vec![3000.0, 3100.0]);
        m.insert("ntlm".to_owned(), vec![]);
        let svg = latency_distribution("lat", &m);
        assert!(svg.starts_with("<svg id=\"lat\""));
        assert!(svg.contains("native-tcp (3)"));
        assert!(svg.contains("kkdcp (2)"));
        assert!(!svg.contains("ntlm (0)"), "empty paths are left out");
        assert!(svg.contains("native-tcp: median 6.00 ms"), "{svg}");
        assert!(svg.contains(path_colour("kkdcp")));
    }

    #[test]
    fn a_busy_timeline_draws_every_lane() {
        // 10,000 logons rotated over 10 clients (10k-logons-monday).
        let lane_of: Vec<usize> = (0..10_000).map(|i| i % 10).collect();
        let drawn = thin_per_lane(&lane_of, 10, MAX_DOTS_PER_LANE);
        for lane in 0..10 {
            let n = lane_of
                .iter()
                .zip(&drawn)
                .filter(|(l, d)| **l == lane && **d)
                .count();
            assert!(
                (MAX_DOTS_PER_LANE / 2..=MAX_DOTS_PER_LANE).contains(&n),
                "lane {lane}: {n} drawn"
            );
        }
        // A quiet lane keeps every logon.
        let lane_of = [0, 1, 0, 0, 0, 0];
        assert_eq!(
            thin_per_lane(&lane_of, 2, 2),
            [true, true, false, false, true, false]
        );
    }

    #[test]
    fn matrix_links_failures_to_their_details() {
        let rows = vec![(
            "relay-down".to_owned(),
            vec![
                Cell {
                    seed: 1,
                    passed: true,
                    anchor: None,
                },
                Cell {
                    seed: 2,
                    passed: false,
                    anchor: Some("fail-relay-down-2".into()),
                },
            ],
        )];
        let svg = matrix("m", &rows);
        assert!(svg.contains("relay-down 1/2"));
        assert!(svg.contains(r##"<a href="#fail-relay-down-2">"##));
        assert!(svg.contains("relay-down seed 2: FAIL"));
    }

    #[test]
    fn bars_scale_to_the_largest_value() {
        let items = vec![
            Bar {
                label: "7001 attempt".into(),
                value: 100.0,
                colour: "#333".into(),
                text: "100".into(),
            },
            Bar {
                label: "7010 decision".into(),
                value: 50.0,
                colour: "#333".into(),
                text: "50".into(),
            },
        ];
        let svg = bars("b", "t", &items, false);
        assert!(svg.contains(r#"width="410""#), "{svg}");
        assert!(svg.contains(r#"width="205""#));
    }
}
