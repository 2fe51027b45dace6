//! The issue-10 targets, checked on the medians of a comparison.

use super::{Cell, Results, Server, Transport};

/// Which target.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Target {
    /// kerbside serve kdc >= 2x MIT krb5kdc AS-REP/s at 8 clients.
    KdcRate {
        /// Over UDP or TCP.
        transport: Transport,
        /// With PA-ENC-TIMESTAMP (alice) or without (nopreauth).
        preauth: bool,
    },
    /// kerbside serve relay >= 5x kdcproxy at 8 keep-alive clients.
    RelayRate,
    /// kerbside serve relay adds <= 0.5 ms p50 over the KDC at 1 client.
    RelayAddedLatency,
}

/// The concurrency the throughput targets are set at.
pub const TARGET_CONCURRENCY: usize = 8;
/// Throughput ratio the KDC must reach against MIT.
pub const KDC_RATIO: f64 = 2.0;
/// Throughput ratio the relay must reach against kdcproxy.
pub const RELAY_RATIO: f64 = 5.0;
/// Most p50 the relay may add over the direct KDC at one client, in µs.
pub const RELAY_ADDED_P50_US: f64 = 500.0;

/// One target's outcome.
#[derive(Clone, Debug, PartialEq)]
pub struct Check {
    /// Which.
    pub target: Target,
    /// What it requires, in words.
    pub wanted: String,
    /// What was measured, in words (or why nothing was).
    pub measured: String,
    /// `None` when a side has no result.
    pub met: Option<bool>,
}

fn cell(server: Server, transport: Transport, preauth: bool, concurrency: usize) -> Cell {
    Cell {
        server,
        transport,
        preauth,
        concurrency,
    }
}

/// Checks every target on `r`.
pub fn evaluate(r: &Results) -> Vec<Check> {
    let mut out = Vec::new();
    for transport in [Transport::Udp, Transport::Tcp] {
        for preauth in [false, true] {
            let mit = r.rate(&cell(
                Server::MitKdc,
                transport,
                preauth,
                TARGET_CONCURRENCY,
            ));
            let ours = r.rate(&cell(
                Server::KerbsideKdc,
                transport,
                preauth,
                TARGET_CONCURRENCY,
            ));
            out.push(ratio_check(
                Target::KdcRate { transport, preauth },
                format!(
                    "kerbside serve kdc >= {KDC_RATIO}x MIT krb5kdc AS-REP/s, {}, {}, {TARGET_CONCURRENCY} clients",
                    transport.name(),
                    if preauth { "alice+preauth" } else { "nopreauth" },
                ),
                ours,
                mit,
                KDC_RATIO,
            ));
        }
    }
    let ours = r.rate(&cell(
        Server::KerbsideRelay,
        Transport::Https,
        false,
        TARGET_CONCURRENCY,
    ));
    let kp = r.rate(&cell(
        Server::Kdcproxy,
        Transport::Https,
        false,
        TARGET_CONCURRENCY,
    ));
    out.push(ratio_check(
        Target::RelayRate,
        format!(
            "kerbside serve relay >= {RELAY_RATIO}x kdcproxy AS-REP/s, {TARGET_CONCURRENCY} keep-alive clients"
        ),
        ours,
        kp,
        RELAY_RATIO,
    ));
    let p50 = |c: &Cell| r.median(c, |x| Some(x.latency_us.p50 as f64));
    let relay = p50(&cell(Server::KerbsideRelay, Transport::Https, false, 1));
    let direct = p50(&cell(Server::KerbsideKdc, Transport::Tcp, false, 1));
    let wanted = format!(
        "kerbside serve relay adds <= {:.1} ms p50 over the KDC directly (TCP), 1 client",
        RELAY_ADDED_P50_US / 1000.0
    );
    out.push(match (relay, direct) {
        (Some(relay), Some(direct)) => {
            let added = relay - direct;
            Check {
                target: Target::RelayAddedLatency,
                wanted,
                measured: format!(
                    "{:+.3} ms (relay p50 {:.3} ms, KDC p50 {:.3} ms)",
                    added / 1000.0,
                    relay / 1000.0,
                    direct / 1000.0
                ),
                met: Some(added <= RELAY_ADDED_P50_US),
            }
        }
        _ => Check {
            target: Target::RelayAddedLatency,
            wanted,
            measured: "not measured".into(),
            met: None,
        },
    });
    out
}

fn ratio_check(
    target: Target,
    wanted: String,
    ours: Option<f64>,
    theirs: Option<f64>,
    need: f64,
) -> Check {
    match (ours, theirs) {
        (Some(o), Some(t)) if t > 0.0 => Check {
            target,
            wanted,
            measured: format!("{:.2}x ({o:.0}/s vs {t:.0}/s)", o / t),
            met: Some(o / t >= need),
        },
        _ => Check {
            target,
            wanted,
            measured: "not measured".into(),
            met: None,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compare::LoadResult;

    fn result(rate: f64, p50: u64) -> LoadResult {
        let mut r = LoadResult::from_json(crate::compare::result::SAMPLE_FOR_TESTS).unwrap();
        r.as_rep_per_s = rate;
        r.latency_us.p50 = p50;
        r
    }

    #[test]
    fn ratios_and_added_latency_decide_the_targets() {
        let mut r = Results::default();
        for (t, mit, ours) in [
            (Transport::Udp, 4000.0, 9000.0),
            (Transport::Tcp, 2600.0, 4300.0),
        ] {
            for preauth in [false, true] {
                r.add(cell(Server::MitKdc, t, preauth, 8), result(mit, 1000));
                r.add(cell(Server::KerbsideKdc, t, preauth, 8), result(ours, 500));
            }
        }
        r.add(
            cell(Server::KerbsideRelay, Transport::Https, false, 8),
            result(3000.0, 2000),
        );
        r.add(
            cell(Server::Kdcproxy, Transport::Https, false, 8),
            result(500.0, 9000),
        );
        r.add(
            cell(Server::KerbsideRelay, Transport::Https, false, 1),
            result(2000.0, 450),
        );
        r.add(
            cell(Server::KerbsideKdc, Transport::Tcp, false, 1),
            result(5000.0, 150),
        );
        let checks = evaluate(&r);
        let met: Vec<Option<bool>> = checks.iter().map(|c| c.met).collect();
        // UDP 2.25x met (twice), TCP 1.65x missed (twice), relay 6x met,
        // +0.3 ms met.
        assert_eq!(
            met,
            [
                Some(true),
                Some(true),
                Some(false),
                Some(false),
                Some(true),
                Some(true)
            ]
        );
        assert!(
            checks[2].measured.starts_with("1.65x"),
            "{}",
            checks[2].measured
        );
        assert_eq!(
            checks[5].measured,
            "+0.300 ms (relay p50 0.450 ms, KDC p50 0.150 ms)"
        );
        // Nothing measured: no verdict.
        assert!(
            evaluate(&Results::default())
                .iter()
                .all(|c| c.met.is_none())
        );
    }
}
