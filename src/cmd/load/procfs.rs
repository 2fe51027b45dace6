//! CPU time and memory of processes, from Linux `/proc`, for reporting a
//! server's cost per request next to the throughput the load tool
//! measures (the steadier figure on a shared machine).
//!
//! `/proc/PID/stat` fields 14 and 15 (utime, stime, proc(5)) count every
//! thread of the process, in clock ticks of `USER_HZ`; a multi-process
//! server (gunicorn's master and its workers) is measured as the process
//! and all its descendants. `/proc/PID/status` gives `VmRSS` (resident
//! now) and `VmHWM` (peak resident), in kB.

use std::collections::BTreeSet;
use std::time::Duration;

/// `USER_HZ`: the unit of utime/stime in `/proc/PID/stat`. The kernel
/// fixes it at 100 on every architecture Debian ships (it is ABI, unlike
/// the configurable `CONFIG_HZ`).
const USER_HZ: u64 = 100;

/// What could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub(crate) enum ProcError {
    /// `/proc/PID/...` is missing or unreadable (no such process, not Linux).
    #[error("/proc/{pid}/{file}: {source}")]
    Read {
        pid: u32,
        file: &'static str,
        source: std::io::Error,
    },
    /// The file did not have the expected shape.
    #[error("/proc/{pid}/{file}: unexpected format")]
    Format { pid: u32, file: &'static str },
}

/// One process's `stat` fields we use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Stat {
    pub(crate) ppid: u32,
    /// utime + stime, in ticks.
    pub(crate) cpu_ticks: u64,
}

/// Parses `/proc/PID/stat` text. The command name (field 2) is in
/// parentheses and may itself contain spaces and parentheses, so the
/// numbered fields are counted from after the last `)`.
pub(crate) fn parse_stat(text: &str) -> Option<Stat> {
    let rest = &text[text.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_ascii_whitespace().collect();
    // After ')' the first field is field 3 (state): field N is index N-3.
    let num = |n: usize| fields.get(n - 3).and_then(|f| f.parse::<u64>().ok());
    Some(Stat {
        ppid: u32::try_from(num(4)?).ok()?,
        cpu_ticks: num(14)?.checked_add(num(15)?)?,
    })
}

/// `VmRSS` and `VmHWM` in KiB from `/proc/PID/status` text.
pub(crate) fn parse_status_memory(text: &str) -> Option<(u64, u64)> {
    let field = |name: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
    };
    Some((field("VmRSS:")?, field("VmHWM:")?))
}

fn read(pid: u32, file: &'static str) -> Result<String, ProcError> {
    std::fs::read_to_string(format!("/proc/{pid}/{file}")).map_err(|source| ProcError::Read {
        pid,
        file,
        source,
    })
}

fn stat_of(pid: u32) -> Result<Stat, ProcError> {
    parse_stat(&read(pid, "stat")?).ok_or(ProcError::Format { pid, file: "stat" })
}

/// `roots` and every live descendant of theirs.
pub(crate) fn process_tree(roots: &[u32]) -> BTreeSet<u32> {
    let mut all: Vec<(u32, u32)> = Vec::new();
    if let Ok(dir) = std::fs::read_dir("/proc") {
        for e in dir.flatten() {
            let Some(pid) = e.file_name().to_str().and_then(|n| n.parse::<u32>().ok()) else {
                continue;
            };
            if let Ok(s) = stat_of(pid) {
                all.push((pid, s.ppid));
            }
        }
    }
    let mut tree: BTreeSet<u32> = roots.iter().copied().collect();
    // Parents may be listed after their children: repeat until stable.
    loop {
        let before = tree.len();
        for (pid, ppid) in &all {
            if tree.contains(ppid) {
                tree.insert(*pid);
            }
        }
        if tree.len() == before {
            return tree;
        }
    }
}

/// A sample of a set of processes.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Sample {
    /// CPU time of each process so far (user + system, all threads).
    pub(crate) cpu: Vec<(u32, Duration)>,
    /// Resident memory now, summed, KiB.
    pub(crate) rss_kib: u64,
    /// Peak resident memory, summed over the processes, KiB.
    pub(crate) hwm_kib: u64,
}

/// Samples `roots` and their descendants.
pub(crate) fn sample(roots: &[u32]) -> Result<Sample, ProcError> {
    let mut s = Sample::default();
    for pid in process_tree(roots) {
        let st = match stat_of(pid) {
            Ok(st) => st,
            // A worker that exited between the listing and now.
            Err(_) if !roots.contains(&pid) => continue,
            Err(e) => return Err(e),
        };
        s.cpu
            .push((pid, Duration::from_millis(st.cpu_ticks * 1000 / USER_HZ)));
        let status = read(pid, "status")?;
        let (rss, hwm) = parse_status_memory(&status).ok_or(ProcError::Format {
            pid,
            file: "status",
        })?;
        s.rss_kib += rss;
        s.hwm_kib += hwm;
    }
    Ok(s)
}

/// CPU time used between two samples by the processes in both (a process
/// that started in between counts from zero; one that ended is lost, as
/// its time went to its parent's `cutime`, not counted here).
pub(crate) fn cpu_between(before: &Sample, after: &Sample) -> Duration {
    after
        .cpu
        .iter()
        .map(|(pid, t)| {
            let was = before
                .cpu
                .iter()
                .find(|(p, _)| p == pid)
                .map_or(Duration::ZERO, |(_, b)| *b);
            t.saturating_sub(was)
        })
        .sum()
}

/// This process's CPU time so far.
pub(crate) fn own_cpu() -> Result<Duration, ProcError> {
    let text = std::fs::read_to_string("/proc/self/stat").map_err(|source| ProcError::Read {
        pid: std::process::id(),
        file: "stat",
        source,
    })?;
    let st = parse_stat(&text).ok_or(ProcError::Format {
        pid: std::process::id(),
        file: "stat",
    })?;
    Ok(Duration::from_millis(st.cpu_ticks * 1000 / USER_HZ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_fields_are_counted_after_the_command_name() {
        // A command name with spaces and a ')' inside, as proc(5) allows.
        let line = "4242 (we(ird) name) S 17 4242 4242 0 -1 4194560 1234 0 0 0 250 75 0 0 20 0 3 0 100 1000000 500 18446744073709551615";
        assert_eq!(
            parse_stat(line),
            Some(Stat {
                ppid: 17,
                cpu_ticks: 325
            })
        );
        assert_eq!(parse_stat("4242 (x) S"), None);
        assert_eq!(parse_stat("no parenthesis"), None);
    }

    #[test]
    fn status_memory_in_kib() {
        let status = "Name:\tkerbside\nVmHWM:\t   20480 kB\nVmRSS:\t   10240 kB\nThreads:\t3\n";
        assert_eq!(parse_status_memory(status), Some((10240, 20480)));
        assert_eq!(parse_status_memory("Name:\tkthreadd\n"), None);
    }

    #[test]
    fn this_process_and_a_child_are_measured() {
        let me = std::process::id();
        let mut child = std::process::Command::new("sleep")
            .arg("5")
            .spawn()
            .expect("sleep");
        let tree = process_tree(&[me]);
        assert!(tree.contains(&me) && tree.contains(&child.id()), "{tree:?}");
        let a = sample(&[me]).unwrap();
        // Burn CPU until the kernel has charged at least one tick.
        let mut x = 0u64;
        let mut b = sample(&[me]).unwrap();
        for round in 0..10_000u64 {
            for i in 0..1_000_000u64 {
                x = x.wrapping_mul(31).wrapping_add(i ^ round);
            }
            b = sample(&[me]).unwrap();
            if cpu_between(&a, &b) > Duration::ZERO {
                break;
            }
        }
        std::hint::black_box(x);
        assert!(cpu_between(&a, &b) > Duration::ZERO);
        assert!(b.rss_kib > 0 && b.hwm_kib >= b.rss_kib);
        assert!(own_cpu().unwrap() > Duration::ZERO);
        assert!(matches!(sample(&[u32::MAX]), Err(ProcError::Read { .. })));
        let _ = child.kill();
        let _ = child.wait();
    }
}
