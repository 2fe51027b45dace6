//! What a load run counted, and how it is printed (one line, or one JSON
//! object with `--json` for scripts such as `benches/compare.sh`).

use std::collections::BTreeMap;
use std::time::Duration;

use hdrhistogram::Histogram;
use kerbside_net::kdc_transport::TransportError;

use super::{Failure, Plan};
use crate::cmd::CliError;

/// What the clients of one thread (or, merged, of the run) saw inside the
/// measured window.
pub(super) struct Stats {
    latency_us: Histogram<u64>,
    pub(super) ok: u64,
    krb_errors: BTreeMap<String, u64>,
    transport_errors: BTreeMap<String, u64>,
    timeouts: u64,
    bad_replies: u64,
}

impl Stats {
    pub(super) fn new() -> Result<Self, CliError> {
        Ok(Self {
            // 1 us to 60 s, 3 significant digits.
            latency_us: Histogram::new_with_bounds(1, 60_000_000, 3)
                .map_err(|e| CliError::runtime(e.to_string()))?,
            ok: 0,
            krb_errors: BTreeMap::new(),
            transport_errors: BTreeMap::new(),
            timeouts: 0,
            bad_replies: 0,
        })
    }

    /// One finished request and how long it took.
    pub(super) fn record(&mut self, result: Result<(), Failure>, us: u64) {
        match result {
            Ok(()) => {
                self.ok += 1;
                // Saturates at the histogram's bound instead of failing.
                self.latency_us.saturating_record(us.max(1));
            }
            Err(Failure::Krb(code)) => *self.krb_errors.entry(code).or_default() += 1,
            Err(Failure::Transport(TransportError::Timeout)) => self.timeouts += 1,
            Err(Failure::Transport(e)) => {
                *self.transport_errors.entry(e.to_string()).or_default() += 1
            }
            Err(Failure::Proxy(e)) => *self.transport_errors.entry(e).or_default() += 1,
            Err(Failure::BadReply) => self.bad_replies += 1,
        }
    }

    pub(super) fn merge(&mut self, other: &Stats) {
        // Same bounds on both sides: adding cannot fail.
        let _ = self.latency_us.add(&other.latency_us);
        self.ok += other.ok;
        self.timeouts += other.timeouts;
        self.bad_replies += other.bad_replies;
        for (k, v) in &other.krb_errors {
            *self.krb_errors.entry(k.clone()).or_default() += v;
        }
        for (k, v) in &other.transport_errors {
            *self.transport_errors.entry(k.clone()).or_default() += v;
        }
    }

    /// p50, p90, p99, p99.9 and max in microseconds (zeros without data).
    fn percentiles(&self) -> [u64; 5] {
        if self.ok == 0 {
            return [0; 5];
        }
        let h = &self.latency_us;
        [
            h.value_at_quantile(0.50),
            h.value_at_quantile(0.90),
            h.value_at_quantile(0.99),
            h.value_at_quantile(0.999),
            h.max(),
        ]
    }
}

/// The server processes' usage over the measured window.
pub(super) struct ServerUsage {
    /// The PIDs given.
    pub(super) pids: Vec<u32>,
    /// Processes measured (with descendants).
    pub(super) processes: usize,
    /// CPU time (user + system) used in the window.
    pub(super) cpu: Duration,
    /// Resident memory at the end of the window, KiB.
    pub(super) rss_kib: u64,
    /// Peak resident memory since each process started, KiB.
    pub(super) hwm_kib: u64,
}

/// The window's length and the CPU spent in it.
pub(super) struct Measured {
    pub(super) seconds: f64,
    /// This process (every load thread).
    pub(super) client_cpu: Duration,
    pub(super) server: Option<ServerUsage>,
    /// Processes behind the target (`--upstream-pid`).
    pub(super) upstream: Option<ServerUsage>,
}

/// Microseconds of `cpu` per AS-REP (`None` without AS-REPs).
fn per_request_us(cpu: Duration, n: u64) -> Option<f64> {
    (n > 0).then(|| cpu.as_secs_f64() * 1e6 / n as f64)
}

pub(super) fn print(plan: &Plan, s: &Stats, m: &Measured) {
    let rate = s.ok as f64 / m.seconds.max(1e-9);
    let [p50, p90, p99, p999, max] = s.percentiles();
    let krb_errors: u64 = s.krb_errors.values().sum();
    let transport_errors: u64 = s.transport_errors.values().sum();
    let client_us = per_request_us(m.client_cpu, s.ok);
    if plan.json {
        let usage = |u: &ServerUsage| {
            serde_json::json!({
                "pids": u.pids,
                "processes": u.processes,
                "cpu_s": u.cpu.as_secs_f64(),
                "cpu_us_per_as_rep": per_request_us(u.cpu, s.ok),
                "vm_rss_kib": u.rss_kib,
                "vm_hwm_kib": u.hwm_kib,
            })
        };
        let v = serde_json::json!({
            "target": plan.target.to_string(),
            "client": plan.client.to_string(),
            "preauth": plan.preauth,
            "concurrency": plan.concurrency,
            "keep_alive": plan.mode == kerbside_net::kkdcp_transport::ConnectionMode::KeepAlive,
            "warmup_s": plan.warmup.as_secs_f64(),
            "duration_s": m.seconds,
            "as_rep": s.ok,
            "as_rep_per_s": rate,
            "latency_us": { "p50": p50, "p90": p90, "p99": p99, "p999": p999, "max": max },
            "krb_errors": s.krb_errors,
            "transport_errors": s.transport_errors,
            "timeouts": s.timeouts,
            "bad_replies": s.bad_replies,
            "client_cpu_s": m.client_cpu.as_secs_f64(),
            "client_cpu_us_per_as_rep": client_us,
            "server": m.server.as_ref().map(usage),
            "upstream": m.upstream.as_ref().map(usage),
        });
        println!("{v}");
        return;
    }
    println!(
        "{} {} concurrency {} for {:.1}s (after {:.1}s warm-up): {} AS-REP, {:.0}/s; latency us p50 {} p90 {} p99 {} p99.9 {} max {}; krb-errors {} transport-errors {} timeouts {} bad-replies {}",
        plan.target,
        plan.client,
        plan.concurrency,
        m.seconds,
        plan.warmup.as_secs_f64(),
        s.ok,
        rate,
        p50,
        p90,
        p99,
        p999,
        max,
        krb_errors,
        transport_errors,
        s.timeouts,
        s.bad_replies
    );
    if let Some(us) = client_us {
        println!("  load generator CPU: {us:.1} us/AS-REP");
    }
    for (what, u) in [("server", &m.server), ("upstream", &m.upstream)] {
        let Some(u) = u else { continue };
        println!(
            "  {what} CPU ({} process(es)): {:.2} s = {} us/AS-REP; VmRSS {} KiB, VmHWM {} KiB",
            u.processes,
            u.cpu.as_secs_f64(),
            per_request_us(u.cpu, s.ok).map_or("-".to_owned(), |v| format!("{v:.1}")),
            u.rss_kib,
            u.hwm_kib
        );
    }
    for (k, v) in s.krb_errors.iter().chain(&s.transport_errors) {
        println!("  {k}: {v}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outcomes_are_counted_by_kind_and_latency_only_for_successes() {
        let mut a = Stats::new().unwrap();
        a.record(Ok(()), 100);
        a.record(Ok(()), 300);
        a.record(
            Err(Failure::Krb("KDC_ERR_C_PRINCIPAL_UNKNOWN(6)".into())),
            5,
        );
        a.record(Err(Failure::Transport(TransportError::Timeout)), 2_000_000);
        a.record(Err(Failure::BadReply), 7);
        let mut b = Stats::new().unwrap();
        b.record(Ok(()), 200);
        b.record(Err(Failure::Proxy("HTTP 503".into())), 9);
        // Beyond the histogram's 60 s bound: recorded at the bound.
        b.record(Ok(()), u64::MAX);
        a.merge(&b);
        assert_eq!(a.ok, 4);
        assert_eq!(a.timeouts, 1);
        assert_eq!(a.bad_replies, 1);
        assert_eq!(a.krb_errors.values().sum::<u64>(), 1);
        assert_eq!(a.transport_errors.get("HTTP 503"), Some(&1));
        let [p50, _, _, _, max] = a.percentiles();
        assert!((199..=201).contains(&p50), "{p50}");
        assert!(max >= 59_000_000, "{max}");
        assert_eq!(Stats::new().unwrap().percentiles(), [0; 5]);
        assert_eq!(per_request_us(Duration::from_millis(5), 100), Some(50.0));
        assert_eq!(per_request_us(Duration::from_millis(5), 0), None);
    }
}
