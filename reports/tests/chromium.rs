//! The HTML report in a real browser: headless Chromium loads
//! `report.html` from disk with networking off, must log no console or
//! network error, must build the DOM with every chart's SVG elements, and
//! must paint them (the screenshot contains the charts' colours).
//!
//! Needs Debian's `chromium` (`scripts/install-peers.sh` installs it);
//! skipped with a message when missing, unless `KERBSIDE_REQUIRE_PEERS=1`.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

/// The browser: `KERBSIDE_CHROMIUM` if set (a path that does not exist
/// counts as missing, which also lets the skip be tried on a machine that
/// has one), else the usual Debian/Ubuntu/Chrome locations.
fn chromium() -> Option<PathBuf> {
    if let Ok(p) = std::env::var("KERBSIDE_CHROMIUM") {
        return Some(PathBuf::from(p)).filter(|p| p.exists());
    }
    [
        "/usr/bin/chromium",
        "/usr/bin/chromium-browser",
        "/usr/bin/google-chrome",
    ]
    .iter()
    .map(PathBuf::from)
    .find(|p| p.exists())
}

/// Runs headless Chromium on `page` with `extra` arguments; returns
/// (stdout, stderr).
fn headless(bin: &Path, profile: &Path, page: &Path, extra: &[&str]) -> (String, String) {
    let url = format!("file://{}", page.display());
    let out = Command::new(bin)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-extensions",
            "--hide-scrollbars",
            "--enable-logging=stderr",
            "--v=0",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(extra)
        .arg(url)
        .output()
        .expect("run chromium");
    assert!(
        out.status.success(),
        "chromium failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Lines of Chromium's log that are the page's fault: console messages
/// (`INFO:CONSOLE:<line>]` or `CONSOLE(<line>)` depending on the version),
/// uncaught errors and failed loads.
fn page_errors(log: &str) -> Vec<&str> {
    log.lines()
        .filter(|l| {
            l.contains(":CONSOLE")
                || l.contains("CONSOLE(")
                || l.contains("Uncaught")
                || l.contains("net::ERR_")
                || l.contains("Failed to load resource")
        })
        .collect()
}

/// Pixels of the screenshot equal (within a little anti-aliasing) to `rgb`.
fn count_colour(png: &[u8], rgb: (u8, u8, u8)) -> usize {
    let decoder = png::Decoder::new(std::io::Cursor::new(png));
    let mut reader = decoder.read_info().expect("png header");
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).expect("png frame");
    let channels = info.color_type.samples();
    assert!(channels >= 3, "colour screenshot");
    buf[..info.buffer_size()]
        .chunks(channels)
        .filter(|p| {
            let d = |a: u8, b: u8| (i16::from(a) - i16::from(b)).abs() <= 6;
            d(p[0], rgb.0) && d(p[1], rgb.1) && d(p[2], rgb.2)
        })
        .count()
}

#[test]
fn console_and_load_errors_are_recognised() {
    let log = "[1:1:1125/173637.738412:INFO:CONSOLE:117] \"boom\", source: file:///x.html (117)\n\
               [1:1:1125/173637.7:ERROR:dbus/bus.cc:405] Failed to connect to the bus\n\
               Failed to load resource: net::ERR_CONNECTION_REFUSED";
    assert_eq!(page_errors(log).len(), 2);
}

#[test]
fn report_html_renders_in_headless_chromium() {
    let Some(bin) = chromium() else {
        if std::env::var("KERBSIDE_REQUIRE_PEERS").as_deref() == Ok("1") {
            panic!("chromium is not installed and KERBSIDE_REQUIRE_PEERS=1");
        }
        eprintln!("SKIP: chromium not installed (scripts/install-peers.sh installs it)");
        return;
    };
    let (summaries, runs) = common::runs();
    let report = common::report(&summaries, &runs);
    let dir = common::tmp("chromium");
    let written = kerbside_report::write_report(&dir, &report).unwrap();
    let profile = dir.join("profile");
    let html = std::fs::read_to_string(&written.html).unwrap();
    assert!(
        !html.contains("src=") && !html.contains("href=\"http") && !html.contains("url("),
        "the page references nothing outside itself"
    );

    // The DOM after loading: every chart is there as SVG with its shapes.
    let (dom, log) = headless(&bin, &profile, &written.html, &["--dump-dom"]);
    let errors = page_errors(&log);
    assert!(
        errors.is_empty(),
        "the page logged errors:\n{}",
        errors.join("\n")
    );
    for id in [
        "chart-latency",
        "chart-matrix",
        "chart-model",
        "chart-coverage",
        "chart-audit",
        "chart-timeline-0",
        "chart-timeline-1",
    ] {
        assert!(
            dom.contains(&format!("<svg id=\"{id}\"")),
            "{id} missing from the DOM"
        );
    }
    assert!(dom.matches("<rect").count() > 30, "chart bars and squares");
    assert!(
        dom.matches("<circle").count() >= 6,
        "a dot per logon on the timelines"
    );

    // The painted page: the charts' colours are on screen.
    let shot = dir.join("report.png");
    let (_, log) = headless(
        &bin,
        &profile,
        &written.html,
        &[
            &format!("--screenshot={}", shot.display()),
            "--window-size=1280,4200",
        ],
    );
    let errors = page_errors(&log);
    assert!(
        errors.is_empty(),
        "the page logged errors:\n{}",
        errors.join("\n")
    );
    let png = std::fs::read(&shot).expect("screenshot written");
    assert!(
        png.len() > 30_000,
        "a blank page compresses to almost nothing"
    );
    // Matrix squares: pass green and fail red; latency bars: native-tcp blue.
    let green = count_colour(&png, (0x3a, 0x9d, 0x3a));
    let red = count_colour(&png, (0xd6, 0x27, 0x28));
    let blue = count_colour(&png, (0x1f, 0x6f, 0xb4));
    assert!(green > 200, "pass squares painted ({green} px)");
    assert!(red > 100, "fail squares painted ({red} px)");
    assert!(blue > 300, "latency histogram painted ({blue} px)");
    let _ = std::fs::remove_dir_all(dir);
}
