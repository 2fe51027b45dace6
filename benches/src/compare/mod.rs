//! The loopback comparison (`benches/compare.sh`): what is measured
//! ([`Cell`]: which server, transport, principal and concurrency), what one
//! `kerbside load --json` run reported ([`LoadResult`]), the issue-10
//! targets ([`targets`]) and the Markdown report ([`render`]). The
//! `kerbside-compare` binary starts the servers and runs the load; this
//! module holds everything that can be checked without them.

pub mod render;
pub(crate) mod result;
pub mod targets;

pub use result::{LoadResult, ServerResult};

use std::collections::BTreeMap;

/// A server under load.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Server {
    /// MIT `krb5kdc` as Debian configures it (last-success and lockout
    /// bookkeeping on: a database write per pre-authenticated AS).
    MitKdc,
    /// MIT `krb5kdc` with `disable_last_success` and `disable_lockout`.
    MitKdcNoLockout,
    /// `kerbside serve kdc`.
    KerbsideKdc,
    /// `kerbside serve relay` (MS-KKDCP over HTTPS).
    KerbsideRelay,
    /// FreeIPA kdcproxy under gunicorn (TLS, keep-alive).
    Kdcproxy,
}

impl Server {
    /// The name in tables.
    pub fn label(self) -> &'static str {
        match self {
            Server::MitKdc => "MIT krb5kdc",
            Server::MitKdcNoLockout => "MIT krb5kdc (no lockout)",
            Server::KerbsideKdc => "kerbside serve kdc",
            Server::KerbsideRelay => "kerbside serve relay",
            Server::Kdcproxy => "kdcproxy (gunicorn)",
        }
    }
}

/// How the load reaches the server.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Transport {
    /// RFC 4120 §7.2.1: one datagram per request.
    Udp,
    /// RFC 4120 §7.2.2: one connection per request.
    Tcp,
    /// MS-KKDCP over HTTPS, one kept-alive connection per client.
    Https,
}

impl Transport {
    /// `udp`, `tcp`, `https`.
    pub fn name(self) -> &'static str {
        match self {
            Transport::Udp => "udp",
            Transport::Tcp => "tcp",
            Transport::Https => "https",
        }
    }
}

/// One measurement: a server, a transport, a principal, a concurrency.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Cell {
    /// The server.
    pub server: Server,
    /// The transport.
    pub transport: Transport,
    /// `alice` with PA-ENC-TIMESTAMP in every request (true) or
    /// `nopreauth` without pre-authentication (false).
    pub preauth: bool,
    /// Closed-loop clients.
    pub concurrency: usize,
}

impl Cell {
    /// A short name for logs: `kerbside serve kdc udp nopreauth c=8`.
    pub fn describe(&self) -> String {
        format!(
            "{} {} {} c={}",
            self.server.label(),
            self.transport.name(),
            if self.preauth {
                "alice+preauth"
            } else {
                "nopreauth"
            },
            self.concurrency
        )
    }
}

/// The concurrencies every comparison runs (issue 10).
pub const CONCURRENCIES: [usize; 3] = [1, 8, 32];

/// Everything the comparison runs, in the order it runs them: for each
/// transport, principal and concurrency the two sides back to back, so a
/// change in the machine's load affects both sides of a ratio alike.
pub fn plan(concurrencies: &[usize]) -> Vec<Cell> {
    let mut cells = Vec::new();
    for transport in [Transport::Udp, Transport::Tcp] {
        for preauth in [false, true] {
            for &concurrency in concurrencies {
                let mut servers = vec![Server::MitKdc];
                if preauth {
                    servers.push(Server::MitKdcNoLockout);
                }
                servers.push(Server::KerbsideKdc);
                for server in servers {
                    cells.push(Cell {
                        server,
                        transport,
                        preauth,
                        concurrency,
                    });
                }
            }
        }
    }
    for &concurrency in concurrencies {
        // The relays' baseline, measured again right before them: the KDC
        // behind them, directly, over TCP (what the relays use upstream).
        // `nopreauth` keeps the KDC's share of each request small, so the
        // relays' own cost decides their rate.
        for (server, transport) in [
            (Server::KerbsideKdc, Transport::Tcp),
            (Server::KerbsideRelay, Transport::Https),
            (Server::Kdcproxy, Transport::Https),
        ] {
            cells.push(Cell {
                server,
                transport,
                preauth: false,
                concurrency,
            });
        }
    }
    cells
}

/// Every run of every cell (several per cell with `--repeat`).
#[derive(Debug, Clone, Default)]
pub struct Results {
    runs: BTreeMap<Cell, Vec<LoadResult>>,
}

impl Results {
    /// Records one run.
    pub fn add(&mut self, cell: Cell, r: LoadResult) {
        self.runs.entry(cell).or_default().push(r);
    }

    /// The runs of `cell`.
    pub fn runs(&self, cell: &Cell) -> &[LoadResult] {
        self.runs.get(cell).map_or(&[], Vec::as_slice)
    }

    /// The median of `f` over the runs of `cell` that produced a value.
    pub fn median(&self, cell: &Cell, f: impl Fn(&LoadResult) -> Option<f64>) -> Option<f64> {
        median(self.runs(cell).iter().filter_map(f).collect())
    }

    /// Median AS-REP/s.
    pub fn rate(&self, cell: &Cell) -> Option<f64> {
        self.median(cell, |r| Some(r.as_rep_per_s))
    }

    /// Every cell with a run.
    pub fn cells(&self) -> impl Iterator<Item = &Cell> {
        self.runs.keys()
    }
}

/// The median (mean of the middle two for an even count); `None` when
/// empty. NaN values sort last and never become the median of a set with
/// enough real numbers.
pub fn median(mut v: Vec<f64>) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    Some(if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plan_runs_both_sides_back_to_back_and_each_cell_once() {
        let p = plan(&CONCURRENCIES);
        // KDC: 2 transports x 3 concurrencies x (2 + 3 servers); relays: 3
        // x (baseline, kerbside, kdcproxy).
        assert_eq!(p.len(), 2 * 3 * 5 + 3 * 3);
        let pos = |c: Cell| p.iter().position(|x| *x == c).unwrap();
        for t in [Transport::Udp, Transport::Tcp] {
            for c in CONCURRENCIES {
                let mit = pos(Cell {
                    server: Server::MitKdc,
                    transport: t,
                    preauth: false,
                    concurrency: c,
                });
                assert_eq!(p[mit + 1].server, Server::KerbsideKdc);
            }
        }
        let relay = pos(Cell {
            server: Server::KerbsideRelay,
            transport: Transport::Https,
            preauth: false,
            concurrency: 8,
        });
        assert_eq!(p[relay - 1].server, Server::KerbsideKdc);
        assert_eq!(p[relay + 1].server, Server::Kdcproxy);
    }

    #[test]
    fn medians() {
        assert_eq!(median(vec![]), None);
        assert_eq!(median(vec![3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(vec![4.0, 1.0, 2.0, 3.0]), Some(2.5));
        assert_eq!(median(vec![f64::NAN, 1.0, 2.0]), Some(2.0));
    }
}
