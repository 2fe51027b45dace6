//! A CPU profile of a server process while a cell runs: `perf record` with
//! the `cpu-clock` software event (hardware counters are often missing in
//! virtual machines), call graphs off, then the share of samples per
//! symbol and per category.

use std::path::Path;
use std::process::{Child, Command, Stdio};

use kerbside_benches::compare::render::Profile;

/// True when `perf` can sample here.
pub(crate) fn available() -> bool {
    Command::new("perf")
        .args(["record", "-e", "cpu-clock", "-o", "/dev/null", "--", "true"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Starts sampling `pid` for `seconds`, into `out`.
pub(crate) fn start(pid: u32, seconds: f64, out: &Path) -> std::io::Result<(Child, String)> {
    let args = [
        "record".to_owned(),
        "-e".into(),
        "cpu-clock".into(),
        "-F".into(),
        "1999".into(),
        "-p".into(),
        pid.to_string(),
        "-o".into(),
        out.display().to_string(),
        "--".into(),
        "sleep".into(),
        format!("{seconds:.1}"),
    ];
    let child = Command::new("perf")
        .args(&args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()?;
    Ok((child, format!("perf {}", args.join(" "))))
}

/// The report of a recording: categories and the hottest symbols.
pub(crate) fn summarise(title: String, command: String, data: &Path) -> Option<Profile> {
    let out = Command::new("perf")
        .args(["report", "--stdio", "--no-children", "--sort", "dso,sym"])
        .args(["--percent-limit", "0", "-i"])
        .arg(data)
        .output()
        .ok()?;
    let entries = parse_report(&String::from_utf8_lossy(&out.stdout));
    if entries.is_empty() {
        return None;
    }
    let mut categories: Vec<(String, f64)> = Vec::new();
    for (pct, dso, sym) in &entries {
        let cat = category(dso, sym);
        match categories.iter_mut().find(|(c, _)| c == cat) {
            Some((_, v)) => *v += pct,
            None => categories.push((cat.to_owned(), *pct)),
        }
    }
    categories.sort_by(|a, b| b.1.total_cmp(&a.1));
    let top = entries.into_iter().take(25).collect();
    Some(Profile {
        title,
        command,
        categories,
        top,
    })
}

/// `perf report --stdio --sort dso,sym` lines: `  12.34%  kerbside  [.] symbol`.
pub(crate) fn parse_report(text: &str) -> Vec<(f64, String, String)> {
    let mut v: Vec<(f64, String, String)> = text
        .lines()
        .filter(|l| !l.trim_start().starts_with('#'))
        .filter_map(|l| {
            let mut it = l.split_whitespace();
            let pct = it.next()?.strip_suffix('%')?.parse::<f64>().ok()?;
            let dso = it.next()?.to_owned();
            let _kind = it.next()?; // [.] user, [k] kernel
            let sym = it.collect::<Vec<_>>().join(" ");
            Some((pct, dso, sym))
        })
        .collect();
    v.sort_by(|a, b| b.0.total_cmp(&a.0));
    v
}

/// Where a symbol's time belongs, for the summary table.
pub(crate) fn category(dso: &str, sym: &str) -> &'static str {
    let s = sym.to_ascii_lowercase();
    let has = |needles: &[&str]| needles.iter().any(|n| s.contains(n));
    if dso.contains("kernel") || dso == "[unknown]" && s.starts_with("0xffff") {
        "kernel (syscalls, network stack, scheduling)"
    } else if has(&["rustls", "ring::", "ring_core", "x25519", "chacha", "gcm"]) {
        "TLS (rustls, ring)"
    } else if has(&[
        "kerbside_crypto",
        "aes",
        "sha1",
        "sha2",
        "hmac",
        "pbkdf2",
        "cipher",
        "md4",
        "md5",
    ]) {
        "Kerberos crypto (AES, SHA, HMAC)"
    } else if has(&["kerberos_asn1", "red_asn1", "kerbside_wire"]) {
        "DER decode/encode (kerbside-wire, kerberos_asn1)"
    } else if has(&["hyper", "http::", "httparse", "h1::"]) {
        "HTTP (hyper)"
    } else if has(&["tokio", "mio::", "epoll"]) {
        "async runtime (tokio)"
    } else if has(&[
        "malloc",
        "free",
        "realloc",
        "calloc",
        "__rust_alloc",
        "__rust_dealloc",
        "alloc::",
        "memcpy",
        "memmove",
        "memset",
    ]) {
        "allocation and copies"
    } else if has(&[
        "kerbside_kdc",
        "kerbside_relay",
        "kerbside_net",
        "kerbside::",
    ]) {
        "KDC / relay logic"
    } else if dso.contains("python") || s.starts_with("_py") || s.starts_with("py") {
        "Python interpreter"
    } else {
        "other"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn report_lines_and_categories() {
        let text = "# Overhead  Shared Object  Symbol\n#\n    12.50%  [kernel.kallsyms]  [k] do_syscall_64\n     3.25%  kerbside           [.] kerbside_wire::der::validate::walk\n     0.75%  libc.so.6          [.] __memmove_avx_unaligned_erms\n\n";
        let e = parse_report(text);
        assert_eq!(e.len(), 3);
        assert_eq!(
            e[0],
            (12.5, "[kernel.kallsyms]".into(), "do_syscall_64".into())
        );
        assert_eq!(
            category(&e[0].1, &e[0].2),
            "kernel (syscalls, network stack, scheduling)"
        );
        assert_eq!(
            category(&e[1].1, &e[1].2),
            "DER decode/encode (kerbside-wire, kerberos_asn1)"
        );
        assert_eq!(category(&e[2].1, &e[2].2), "allocation and copies");
        assert_eq!(
            category("kerbside", "aes::soft::fixslice::aes256_encrypt"),
            "Kerberos crypto (AES, SHA, HMAC)"
        );
        assert_eq!(
            category("python3.11", "_PyEval_EvalFrameDefault"),
            "Python interpreter"
        );
    }
}
