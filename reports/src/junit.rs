//! `junit.xml`: one `<testsuite>` per scenario, one `<testcase>` per
//! scenario-seed (the de-facto JUnit XML that GitHub Actions, GitLab and
//! Jenkins render). A failing case's `<failure>` lists the violations and
//! the replay command; its `<system-out>` names the pcap and trace.

use std::fmt::Write as _;

use crate::input::Report;
use crate::svg::esc;

/// The whole `junit.xml`.
pub(crate) fn junit(report: &Report<'_>) -> String {
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let failures = report.failures().len();
    let _ = writeln!(
        out,
        r#"<testsuites name="kerbside run" tests="{}" failures="{failures}" errors="0" time="{:.3}">"#,
        report.runs.len(),
        report.meta.wall_time.as_secs_f64()
    );
    for s in report.summaries {
        let runs = report.runs_of(&s.file);
        let time: f64 = runs.iter().map(|r| r.wall_time.as_secs_f64()).sum();
        let _ = writeln!(
            out,
            r#"  <testsuite name="{}" tests="{}" failures="{}" errors="0" skipped="0" time="{time:.3}">"#,
            esc(&s.scenario),
            runs.len(),
            runs.iter().filter(|r| !r.passed).count(),
        );
        for r in runs {
            let _ = write!(
                out,
                r#"    <testcase classname="{}" name="seed {}" file="{}" time="{:.4}""#,
                esc(&r.scenario),
                r.seed,
                esc(&r.file),
                r.wall_time.as_secs_f64()
            );
            if r.passed {
                out.push_str("/>\n");
                continue;
            }
            out.push_str(">\n");
            let first = r
                .violations
                .first()
                .map(|v| format!("[{}] {}", v.kind, v.message))
                .unwrap_or_else(|| "failed".to_owned());
            let kind = r
                .violations
                .first()
                .map(|v| v.kind.as_str())
                .unwrap_or("failure");
            let mut body = String::new();
            for v in &r.violations {
                let _ = writeln!(body, "[{}] {}", v.kind, v.message);
            }
            let _ = writeln!(body, "replay: {}", r.replay);
            let _ = writeln!(
                out,
                r#"      <failure message="{}" type="{}">{}</failure>"#,
                esc(&first),
                esc(kind),
                esc(&body)
            );
            let mut sysout = format!("replay: {}\ntrace_hash: {}\n", r.replay, r.trace_hash);
            if let Some(a) = report.artifacts_of(r) {
                if let Some(p) = &a.pcap {
                    let _ = writeln!(sysout, "pcap: {p}");
                }
                if let Some(p) = &a.pcap_plaintext {
                    let _ = writeln!(sysout, "pcap (KKDCP as HTTP): {p}");
                }
                if let Some(t) = &a.trace {
                    let _ = writeln!(sysout, "trace: {t}");
                }
            }
            let _ = writeln!(out, "      <system-out>{}</system-out>", esc(&sysout));
            out.push_str("    </testcase>\n");
        }
        out.push_str("  </testsuite>\n");
    }
    out.push_str("</testsuites>\n");
    out
}
