//! Reports of a live run: the terminal matrix (suites x statuses, then
//! every unexpected result), Markdown, JSON and JUnit XML.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use super::outcome::{RunReport, Status};

/// The terminal matrix.
pub fn terminal(r: &RunReport) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "target:  {}", r.target);
    let _ = writeln!(out, "profile: {}", r.profile);
    if let Some(k) = &r.known_failures {
        let _ = writeln!(out, "known failures: {k}");
    }
    let headers = ["pass", "deviation", "known", "unsupp.", "FAIL", "XPASS"];
    let _ = write!(out, "\n{:<20}", "suite");
    for h in headers {
        let _ = write!(out, " {h:>9}");
    }
    out.push('\n');
    let mut rows: Vec<Option<String>> = r.suites().into_iter().map(Some).collect();
    rows.push(None);
    for suite in rows {
        let _ = write!(out, "{:<20}", suite.as_deref().unwrap_or("total"));
        for s in Status::ALL {
            let _ = write!(out, " {:>9}", r.count(suite.as_deref(), s));
        }
        out.push('\n');
    }
    let unexpected: Vec<_> = r.unexpected().collect();
    if unexpected.is_empty() {
        out.push_str("\nnothing unexpected\n");
    } else {
        out.push_str("\nunexpected:\n");
        for u in unexpected {
            let _ = writeln!(
                out,
                "  {} {:>5} {}: expected {}, observed {}: {}",
                u.status.as_str(),
                u.tc_id,
                u.id,
                u.expected,
                u.observed,
                u.detail
            );
        }
    }
    out
}

fn md_escape(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

/// The Markdown report: the matrix, then every test that did not simply pass.
pub fn markdown(r: &RunReport) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# Conformance: {}\n", r.target);
    let _ = writeln!(out, "Profile `{}`.", r.profile);
    if let Some(k) = &r.known_failures {
        let _ = writeln!(out, "Known failures: `{k}`.");
    }
    out.push_str("\n| suite | pass | acceptable deviation | known failure | unsupported | fail | unexpected pass |\n|---|---:|---:|---:|---:|---:|---:|\n");
    let mut rows: Vec<Option<String>> = r.suites().into_iter().map(Some).collect();
    rows.push(None);
    for suite in rows {
        let name = suite
            .as_deref()
            .map_or("**total**".to_owned(), |s| format!("`{s}`"));
        let _ = write!(out, "| {name} |");
        for s in Status::ALL {
            let _ = write!(out, " {} |", r.count(suite.as_deref(), s));
        }
        out.push('\n');
    }
    out.push_str(if r.is_clean() {
        "\nResult: **nothing unexpected**.\n"
    } else {
        "\nResult: **unexpected results** (fail or unexpected pass).\n"
    });
    let notable: Vec<_> = r
        .results
        .iter()
        .filter(|x| x.status != Status::Pass)
        .collect();
    if !notable.is_empty() {
        out.push_str(
            "\n| status | tcId | id | expected | observed | detail |\n|---|---:|---|---|---|---|\n",
        );
        for x in notable {
            let _ = writeln!(
                out,
                "| {} | {} | `{}` | {} | {} | {} |",
                x.status.as_str(),
                x.tc_id,
                x.id,
                md_escape(&x.expected),
                md_escape(&x.observed),
                md_escape(&x.detail)
            );
        }
    }
    out
}

/// Pretty JSON.
pub fn json(r: &RunReport) -> String {
    let mut s = serde_json::to_string_pretty(r).unwrap_or_default();
    s.push('\n');
    s
}

fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c if (c as u32) < 0x20 && c != '\n' && c != '\t' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// JUnit XML: one testsuite per vector suite; failures are fail and
/// unexpected-pass, skipped is unsupported, the rest pass with a note.
pub fn junit(r: &RunReport) -> String {
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let failures = r
        .results
        .iter()
        .filter(|x| x.status.is_unexpected())
        .count();
    let _ = writeln!(
        out,
        "<testsuites name=\"{}\" tests=\"{}\" failures=\"{failures}\">",
        xml_escape(&r.target),
        r.results.len()
    );
    for suite in r.suites() {
        let tests: Vec<_> = r.results.iter().filter(|x| x.suite == suite).collect();
        let f = tests.iter().filter(|x| x.status.is_unexpected()).count();
        let sk = tests
            .iter()
            .filter(|x| x.status == Status::Unsupported)
            .count();
        let _ = writeln!(
            out,
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{f}\" skipped=\"{sk}\">",
            xml_escape(&suite),
            tests.len()
        );
        for x in tests {
            let _ = write!(
                out,
                "    <testcase classname=\"{}\" name=\"{} {}\"",
                xml_escape(&suite),
                x.tc_id,
                xml_escape(&x.id)
            );
            let msg = format!(
                "expected {}, observed {}: {}",
                x.expected, x.observed, x.detail
            );
            match x.status {
                Status::Pass => out.push_str("/>\n"),
                Status::Fail | Status::UnexpectedPass => {
                    let _ = writeln!(
                        out,
                        ">\n      <failure type=\"{}\" message=\"{}\"/>\n    </testcase>",
                        x.status.as_str(),
                        xml_escape(&msg)
                    );
                }
                Status::Unsupported => {
                    let _ = writeln!(
                        out,
                        ">\n      <skipped message=\"{}\"/>\n    </testcase>",
                        xml_escape(&x.detail)
                    );
                }
                Status::AcceptableDeviation | Status::KnownFailure => {
                    let _ = writeln!(
                        out,
                        ">\n      <system-out>{}: {}</system-out>\n    </testcase>",
                        x.status.as_str(),
                        xml_escape(&msg)
                    );
                }
            }
        }
        out.push_str("  </testsuite>\n");
    }
    out.push_str("</testsuites>\n");
    out
}

/// Writes `results.md`, `results.json` and `junit.xml` into `dir`.
pub fn write(dir: &Path, r: &RunReport) -> std::io::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir)?;
    let files = [
        ("results.md", markdown(r)),
        ("results.json", json(r)),
        ("junit.xml", junit(r)),
    ];
    let mut out = Vec::new();
    for (name, text) in files {
        let p = dir.join(name);
        std::fs::write(&p, text)?;
        out.push(p);
    }
    Ok(out)
}

/// One cell of the cross-target matrix.
fn cell(x: Option<&super::outcome::LiveResult>) -> String {
    match x {
        None => "".to_owned(),
        Some(r) => match r.status {
            Status::Pass => "pass".to_owned(),
            Status::Unsupported => "n/a".to_owned(),
            other => format!("{} ({})", other.as_str(), md_escape(&r.observed)),
        },
    }
}

/// The matrix of several runs: a summary row per target, then one row per
/// test that did not simply pass everywhere (tests x targets).
pub fn matrix(reports: &[RunReport]) -> String {
    let mut out = String::from("# Conformance matrix\n\n");
    out.push_str("| target | profile | known failures | pass | acceptable deviation | known failure | unsupported | fail | unexpected pass |\n|---|---|---|---:|---:|---:|---:|---:|---:|\n");
    for r in reports {
        let _ = write!(
            out,
            "| {} | `{}` | {} |",
            md_escape(&r.target),
            r.profile,
            r.known_failures
                .as_deref()
                .map_or("-".to_owned(), |k| format!("`{k}`"))
        );
        for s in Status::ALL {
            let _ = write!(out, " {} |", r.count(None, s));
        }
        out.push('\n');
    }
    let mut ids: Vec<(u32, String, String)> = Vec::new();
    for r in reports {
        for x in &r.results {
            if !ids.iter().any(|(t, _, _)| *t == x.tc_id) {
                ids.push((x.tc_id, x.id.clone(), x.expected.clone()));
            }
        }
    }
    ids.sort();
    out.push_str("\nTests that did not pass on every target that ran them (n/a: not applicable to that target; empty: not in its suites):\n\n| tcId | id | expected |");
    for r in reports {
        let _ = write!(out, " {} |", md_escape(&r.target));
    }
    out.push_str("\n|---:|---|---|");
    for _ in reports {
        out.push_str("---|");
    }
    out.push('\n');
    for (tc, id, expected) in ids {
        let cells: Vec<Option<&super::outcome::LiveResult>> = reports
            .iter()
            .map(|r| r.results.iter().find(|x| x.tc_id == tc))
            .collect();
        if cells.iter().flatten().all(|x| x.status == Status::Pass) {
            continue;
        }
        let _ = write!(out, "| {tc} | `{id}` | {} |", md_escape(&expected));
        for c in cells {
            let _ = write!(out, " {} |", cell(c));
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::live::outcome::LiveResult;

    fn report() -> RunReport {
        let r = |suite: &str, tc: u32, status| LiveResult {
            suite: suite.into(),
            tc_id: tc,
            id: format!("t.{tc}"),
            status,
            expected: "http 400".into(),
            observed: "http <500>".into(),
            detail: "a & b".into(),
        };
        RunReport {
            target: "relay https://x/KdcProxy".into(),
            profile: "kdcproxy".into(),
            known_failures: None,
            results: vec![
                r("kkdcp-relay", 1, Status::Pass),
                r("kkdcp-relay", 2, Status::Fail),
                r("kkdcp-relay", 3, Status::Unsupported),
                r("kdc-as", 4, Status::UnexpectedPass),
                r("kdc-as", 5, Status::AcceptableDeviation),
            ],
        }
    }

    #[test]
    fn matrix_counts_and_unexpected_list() {
        let r = report();
        assert!(!r.is_clean());
        let t = terminal(&r);
        assert!(t.contains("kkdcp-relay"), "{t}");
        assert!(t.contains("fail     2 t.2"), "{t}");
        assert!(t.contains("unexpected-pass     4 t.4"), "{t}");
        let m = markdown(&r);
        assert!(m.contains("| **total** | 1 | 1 | 0 | 1 | 1 | 1 |"), "{m}");
    }

    #[test]
    fn matrix_lists_only_tests_that_did_not_pass_everywhere() {
        let a = report();
        let mut b = report();
        b.target = "other".into();
        for x in &mut b.results {
            x.status = Status::Pass;
        }
        let m = matrix(&[a, b]);
        assert!(
            m.contains("| relay https://x/KdcProxy | `kdcproxy` | - | 1 | 1 | 0 | 1 | 1 | 1 |"),
            "{m}"
        );
        assert!(!m.contains("| 1 | `t.1`"), "{m}");
        // A test only one target ran, passing there, is not listed.
        let mut c = report();
        c.results.retain(|x| x.tc_id == 1);
        assert!(!matrix(&[c, report()]).contains("| 1 | `t.1`"));
        assert!(
            m.contains("| 2 | `t.2` | http 400 | fail (http <500>) | pass |"),
            "{m}"
        );
        assert!(m.contains("| 3 | `t.3` | http 400 | n/a | pass |"), "{m}");
    }

    #[test]
    fn junit_is_escaped_and_counts_failures() {
        let x = junit(&report());
        assert!(
            x.contains("<testsuites name=\"relay https://x/KdcProxy\" tests=\"5\" failures=\"2\">"),
            "{x}"
        );
        assert!(x.contains("http &lt;500&gt;: a &amp; b"), "{x}");
        assert!(x.contains("<skipped message=\"a &amp; b\"/>"), "{x}");
        assert_eq!(x.matches("<testcase").count(), 5);
    }
}
