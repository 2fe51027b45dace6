//! What the report says about the machine and the software measured.

use std::path::Path;
use std::process::Command;

/// The first line a command prints, trimmed; `fallback` when it fails.
fn first_line(cmd: &str, args: &[&str], fallback: &str) -> String {
    Command::new(cmd)
        .args(args)
        .output()
        .ok()
        .filter(|o| o.status.success())
        .and_then(|o| {
            let text = String::from_utf8_lossy(&o.stdout).into_owned()
                + &String::from_utf8_lossy(&o.stderr);
            text.lines().next().map(|l| l.trim().to_owned())
        })
        .filter(|l| !l.is_empty())
        .unwrap_or_else(|| fallback.to_owned())
}

fn read(path: &str) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

/// The CPU model from /proc/cpuinfo.
pub(crate) fn cpu_model() -> String {
    read("/proc/cpuinfo")
        .lines()
        .find_map(|l| l.strip_prefix("model name"))
        .and_then(|l| l.split_once(':'))
        .map_or("unknown".into(), |(_, v)| v.trim().to_owned())
}

/// Logical CPUs available to this process.
pub(crate) fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, usize::from)
}

/// MemTotal from /proc/meminfo, in GiB.
pub(crate) fn memory() -> String {
    read("/proc/meminfo")
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or("unknown".into(), |kib| {
            format!("{:.1} GiB", kib / 1024.0 / 1024.0)
        })
}

/// Kernel release and the distribution.
pub(crate) fn kernel() -> String {
    let os = read("/etc/os-release")
        .lines()
        .find_map(|l| l.strip_prefix("PRETTY_NAME="))
        .map(|v| v.trim_matches('"').to_owned())
        .unwrap_or_default();
    format!("Linux {} ({os})", read("/proc/sys/kernel/osrelease").trim())
}

/// The 1, 5 and 15 minute load averages.
pub(crate) fn load_average() -> String {
    read("/proc/loadavg")
        .split_whitespace()
        .take(3)
        .collect::<Vec<_>>()
        .join(" / ")
}

/// The 1-minute load average.
pub(crate) fn load_1min() -> f64 {
    read("/proc/loadavg")
        .split_whitespace()
        .next()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0)
}

/// UTC now, from `date` (this program reads no clock itself).
pub(crate) fn date() -> String {
    first_line("date", &["-u", "+%Y-%m-%d %H:%M UTC"], "unknown date")
}

/// A Debian package's version.
fn package(name: &str) -> String {
    first_line(
        "dpkg-query",
        &["-W", "-f=${Version}", name],
        "not installed",
    )
}

/// The versions of everything measured.
pub(crate) fn versions(kerbside: &Path) -> Vec<(String, String)> {
    vec![
        ("MIT krb5 (krb5-kdc)".into(), package("krb5-kdc")),
        (
            "kdcproxy (python3-kdcproxy)".into(),
            package("python3-kdcproxy"),
        ),
        (
            "gunicorn (python3-gunicorn)".into(),
            package("python3-gunicorn"),
        ),
        (
            "Python".into(),
            first_line(crate::servers::PYTHON, &["--version"], "unknown"),
        ),
        (
            "rustc".into(),
            first_line("rustc", &["--version"], "unknown"),
        ),
        (
            "kerbside".into(),
            first_line(&kerbside.display().to_string(), &["--version"], "unknown"),
        ),
    ]
}

/// The commit measured, marked when the tree has uncommitted changes.
pub(crate) fn commit(root: &Path) -> String {
    let root = root.display().to_string();
    let head = first_line(
        "git",
        &["-C", &root, "rev-parse", "--short", "HEAD"],
        "unknown",
    );
    let dirty = Command::new("git")
        .args(["-C", &root, "status", "--porcelain", "--untracked-files=no"])
        .output()
        .is_ok_and(|o| !o.stdout.is_empty());
    if dirty {
        format!("{head} (working tree with uncommitted changes)")
    } else {
        head
    }
}
