//! Load figures of a run: how many logons succeeded, how long they took
//! (percentiles), and how hard the relays and KDCs worked (requests per
//! scenario second, peak and mean).
//!
//! The server load is counted from what the servers themselves log, as an
//! operator would: the KDC's per-request log (`kdc` trace events, one per
//! request it answered, MIT `krb5kdc.log` style) and the relay's audit lines
//! (`relay-audit`, one per proxied request, MS-KKDCP §3.2.5). Seconds are
//! scenario seconds, so idle time the runner jumped over still counts in
//! the mean.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Serialize;

use crate::logon::ser_micros;
use crate::results::LogonRecord;

/// Requests one server handled, bucketed by scenario second.
#[derive(Clone, Debug, Default)]
pub(crate) struct RequestMeter {
    /// (role, host) -> second -> requests.
    buckets: BTreeMap<(String, String), BTreeMap<u64, u64>>,
}

impl RequestMeter {
    /// Counts a trace event if it is a server's request record: `kdc`
    /// events and `relay-audit` lines start with the host's name.
    pub(crate) fn on_event(&mut self, kind: &str, detail: &str, scenario_at: Duration) {
        let role = match kind {
            "kdc" => "kdc",
            "relay-audit" => "relay",
            _ => return,
        };
        let host = detail.split(' ').next().unwrap_or_default();
        let per_second = self
            .buckets
            .entry((role.to_owned(), host.to_owned()))
            .or_default();
        *per_second.entry(scenario_at.as_secs()).or_default() += 1;
    }

    /// The load of every server that handled at least one request.
    pub(crate) fn servers(&self) -> Vec<ServerLoad> {
        self.buckets
            .iter()
            .map(|((role, host), per_second)| {
                let requests: u64 = per_second.values().sum();
                let (peak_second, peak) = per_second
                    .iter()
                    .max_by_key(|(s, n)| (**n, std::cmp::Reverse(**s)))
                    .map(|(s, n)| (*s, *n))
                    .unwrap_or_default();
                let first = per_second.keys().next().copied().unwrap_or_default();
                let last = per_second.keys().last().copied().unwrap_or_default();
                let active_seconds = last - first + 1;
                ServerLoad {
                    role: role.clone(),
                    host: host.clone(),
                    requests,
                    peak_rps: peak,
                    peak_second,
                    active_seconds,
                    mean_rps: requests as f64 / active_seconds as f64,
                }
            })
            .collect()
    }
}

/// How hard one server worked.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ServerLoad {
    /// `kdc` or `relay`.
    pub role: String,
    /// Host name.
    pub host: String,
    /// Requests handled (KDC: answered AS/TGS requests, including errors
    /// such as PREAUTH_REQUIRED; relay: proxied or refused requests).
    pub requests: u64,
    /// Requests in the busiest scenario second.
    pub peak_rps: u64,
    /// That second (scenario seconds since the start).
    pub peak_second: u64,
    /// Seconds from its first request to its last, inclusive.
    pub active_seconds: u64,
    /// Requests per second over those seconds.
    pub mean_rps: f64,
}

/// Logon latency percentiles (nearest rank: each is a latency some logon
/// really had), over the logons that finished.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Percentiles {
    /// Median.
    #[serde(rename = "p50_us", serialize_with = "ser_micros")]
    pub p50: Duration,
    /// 90th percentile.
    #[serde(rename = "p90_us", serialize_with = "ser_micros")]
    pub p90: Duration,
    /// 99th percentile.
    #[serde(rename = "p99_us", serialize_with = "ser_micros")]
    pub p99: Duration,
    /// Slowest.
    #[serde(rename = "max_us", serialize_with = "ser_micros")]
    pub max: Duration,
}

impl Percentiles {
    /// Of these latencies (any order); `None` when there are none.
    pub fn of(mut latencies: Vec<Duration>) -> Option<Self> {
        if latencies.is_empty() {
            return None;
        }
        latencies.sort_unstable();
        let n = latencies.len();
        let at = |p: usize| latencies[(p * n).div_ceil(100).clamp(1, n) - 1];
        Some(Percentiles {
            p50: at(50),
            p90: at(90),
            p99: at(99),
            max: latencies[n - 1],
        })
    }
}

/// The load figures of a run.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct LoadReport {
    /// Logons scheduled.
    pub logons: u64,
    /// Logons that finished successfully.
    pub succeeded: u64,
    /// `succeeded / logons` (1.0 for a run without logons).
    pub success_rate: f64,
    /// Latency of the logons that finished (successfully or not).
    pub latency: Option<Percentiles>,
    /// Every KDC and relay that handled requests, in (role, host) order.
    pub servers: Vec<ServerLoad>,
}

impl LoadReport {
    /// Figures for these logons and server meters.
    pub(crate) fn new(logons: &[LogonRecord], meter: &RequestMeter) -> Self {
        let succeeded = logons.iter().filter(|l| l.succeeded()).count() as u64;
        let n = logons.len() as u64;
        LoadReport {
            logons: n,
            succeeded,
            success_rate: if n == 0 {
                1.0
            } else {
                succeeded as f64 / n as f64
            },
            latency: Percentiles::of(logons.iter().filter_map(|l| l.latency).collect()),
            servers: meter.servers(),
        }
    }

    /// Requests handled by every server of a role.
    pub fn requests(&self, role: &str) -> u64 {
        self.servers
            .iter()
            .filter(|s| s.role == role)
            .map(|s| s.requests)
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    #[test]
    fn percentiles_are_nearest_rank() {
        let p = Percentiles::of((1..=200).map(|i| i * MS).collect()).unwrap();
        assert_eq!(p.p50, 100 * MS);
        assert_eq!(p.p90, 180 * MS);
        assert_eq!(p.p99, 198 * MS);
        assert_eq!(p.max, 200 * MS);
        let one = Percentiles::of(vec![7 * MS]).unwrap();
        assert_eq!((one.p50, one.p99, one.max), (7 * MS, 7 * MS, 7 * MS));
        assert_eq!(Percentiles::of(Vec::new()), None);
    }

    #[test]
    fn meter_counts_server_records_per_second() {
        let mut m = RequestMeter::default();
        let s = Duration::from_secs;
        m.on_event("kdc", "dc1 peer=1 msg=AS-REQ", s(10));
        m.on_event("kdc", "dc1 peer=1 msg=AS-REQ", s(10) + 999 * MS);
        m.on_event("kdc", "dc1 peer=1 msg=TGS-REQ", s(13));
        m.on_event("relay-audit", "relay {\"msg_type\":\"AS-REQ\"}", s(10));
        m.on_event("logon", "0 start alice", s(10));
        let servers = m.servers();
        assert_eq!(servers.len(), 2, "logon events are not server load");
        let kdc = &servers[0];
        assert_eq!((kdc.role.as_str(), kdc.host.as_str()), ("kdc", "dc1"));
        assert_eq!(kdc.requests, 3);
        assert_eq!((kdc.peak_rps, kdc.peak_second), (2, 10));
        assert_eq!(kdc.active_seconds, 4);
        assert!((kdc.mean_rps - 0.75).abs() < 1e-9);
        assert_eq!(servers[1].role, "relay");
        assert_eq!(servers[1].requests, 1);
    }
}
