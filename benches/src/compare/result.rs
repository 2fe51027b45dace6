//! One `kerbside load --json` result.

use serde::Deserialize;

use crate::error::FixtureError;

/// The figures the comparison uses from one load run.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct LoadResult {
    /// AS-REPs in the measured window.
    pub as_rep: u64,
    /// AS-REPs per second over the window.
    pub as_rep_per_s: f64,
    /// Latency percentiles, microseconds.
    pub latency_us: Latency,
    /// KRB-ERRORs by name(code).
    #[serde(default)]
    pub krb_errors: std::collections::BTreeMap<String, u64>,
    /// Transport failures by message.
    #[serde(default)]
    pub transport_errors: std::collections::BTreeMap<String, u64>,
    /// Requests that timed out.
    pub timeouts: u64,
    /// Replies that were not a valid answer.
    pub bad_replies: u64,
    /// The load generator's CPU per AS-REP, microseconds.
    pub client_cpu_us_per_as_rep: Option<f64>,
    /// The server's usage (with `--server-pid`).
    pub server: Option<ServerResult>,
    /// The usage of what is behind the server (with `--upstream-pid`: the
    /// KDC behind a relay).
    #[serde(default)]
    pub upstream: Option<ServerResult>,
}

/// Latency percentiles in microseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub struct Latency {
    /// Median.
    pub p50: u64,
    /// 90th percentile.
    pub p90: u64,
    /// 99th percentile.
    pub p99: u64,
    /// 99.9th percentile.
    pub p999: u64,
    /// Slowest.
    pub max: u64,
}

/// A server's CPU and memory over the measured window.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ServerResult {
    /// Processes measured (with descendants).
    pub processes: usize,
    /// CPU seconds in the window.
    pub cpu_s: f64,
    /// CPU per AS-REP, microseconds.
    pub cpu_us_per_as_rep: Option<f64>,
    /// Resident memory at the end of the window, KiB.
    pub vm_rss_kib: u64,
    /// Peak resident memory, KiB.
    pub vm_hwm_kib: u64,
}

impl LoadResult {
    /// Parses the JSON line `kerbside load --json` printed.
    pub fn from_json(text: &str) -> Result<LoadResult, FixtureError> {
        serde_json::from_str(text.trim()).map_err(|e| FixtureError::Data {
            path: "kerbside load --json".into(),
            what: e.to_string(),
        })
    }

    /// Failed requests of every kind.
    pub fn failures(&self) -> u64 {
        self.krb_errors.values().sum::<u64>()
            + self.transport_errors.values().sum::<u64>()
            + self.timeouts
            + self.bad_replies
    }

    /// Server CPU per AS-REP, microseconds.
    pub fn server_cpu_us(&self) -> Option<f64> {
        self.server.as_ref().and_then(|s| s.cpu_us_per_as_rep)
    }

    /// Upstream (KDC behind a relay) CPU per AS-REP, microseconds.
    pub fn upstream_cpu_us(&self) -> Option<f64> {
        self.upstream.as_ref().and_then(|s| s.cpu_us_per_as_rep)
    }
}

/// A line as `kerbside load --json` prints it (for this crate's tests).
#[cfg(test)]
pub(crate) const SAMPLE_FOR_TESTS: &str = r#"{"as_rep":52000,"as_rep_per_s":5200.0,"bad_replies":0,"client":"alice@LAB.TEST","client_cpu_s":4.1,"client_cpu_us_per_as_rep":78.8,"concurrency":8,"duration_s":10.0,"keep_alive":true,"krb_errors":{},"latency_us":{"max":9000,"p50":1400,"p90":2100,"p99":4000,"p999":7000},"preauth":true,"server":{"cpu_s":2.0,"cpu_us_per_as_rep":38.5,"pids":[42],"processes":1,"vm_hwm_kib":20480,"vm_rss_kib":10240},"target":"udp://127.0.0.1:28802","timeouts":1,"transport_errors":{"connection refused":2},"warmup_s":2.0}"#;

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = SAMPLE_FOR_TESTS;

    #[test]
    fn parses_the_load_tools_json() {
        let r = LoadResult::from_json(SAMPLE).unwrap();
        assert_eq!(r.as_rep, 52000);
        assert_eq!(r.latency_us.p999, 7000);
        assert_eq!(r.server_cpu_us(), Some(38.5));
        assert_eq!(r.server.as_ref().unwrap().vm_hwm_kib, 20480);
        assert_eq!(r.failures(), 3);
        assert!(LoadResult::from_json("not json").is_err());
        let no_server = SAMPLE.replace(
            r#""server":{"cpu_s":2.0,"cpu_us_per_as_rep":38.5,"pids":[42],"processes":1,"vm_hwm_kib":20480,"vm_rss_kib":10240}"#,
            r#""server":null"#,
        );
        assert_eq!(
            LoadResult::from_json(&no_server).unwrap().server_cpu_us(),
            None
        );
    }
}
