//! The trace: every message on every hop (the wire tap) plus every timeline
//! event, fault and logon outcome, in the order they happened.
//!
//! The trace has one canonical text form, a line per entry, with integer
//! times and hex payloads: no floats, no maps, nothing platform-dependent.
//! The trace hash is SHA-256 over those lines, so "same scenario, same seed"
//! is checked by comparing one hex string, and a trace file is the same text
//! a person can read and diff.

use std::fmt::Write as _;
use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;
use serde::Serialize;
use sha2::{Digest, Sha256};

/// One side of a hop.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Endpoint {
    /// Host name from the scenario.
    pub host: String,
    /// Simulated socket address.
    pub addr: SocketAddr,
}

/// Which layer a record was captured at.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Layer {
    /// The bytes on the simulated wire (TLS records for HTTPS).
    Wire,
    /// Inside a TLS session: the plaintext each side wrote.
    TlsPlaintext,
}

/// What was sent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Packet {
    /// A UDP datagram.
    Udp(Bytes),
    /// A TCP connection attempt.
    TcpSyn,
    /// Bytes written to a TCP stream, as one chunk.
    TcpData(Bytes),
    /// Orderly close of the writer's half.
    TcpFin,
    /// Reset (refused connect, or a connection cut by a reject rule).
    TcpRst,
}

impl Packet {
    /// Payload bytes, if any.
    pub fn payload(&self) -> &[u8] {
        match self {
            Packet::Udp(b) | Packet::TcpData(b) => b,
            _ => &[],
        }
    }
}

/// What happened to a sent message.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Fate {
    /// Handed to the simulated network.
    Sent,
    /// Discarded by a firewall rule (silently).
    Dropped {
        /// The rule.
        rule: String,
    },
    /// Refused by a firewall rule.
    Rejected {
        /// The rule.
        rule: String,
    },
    /// Lost on a lossy link.
    Lost,
}

/// One captured message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WireRecord {
    /// turmoil sim time when it was sent.
    pub at: Duration,
    /// TCP connection id (stable within a run), `None` for UDP.
    pub conn: Option<u64>,
    /// Sender.
    pub src: Endpoint,
    /// Receiver.
    pub dst: Endpoint,
    /// Capture layer.
    pub layer: Layer,
    /// The message.
    pub packet: Packet,
    /// Its fate.
    pub fate: Fate,
}

/// A non-wire event: timeline actions, faults, logon outcomes, violations.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct EventRecord {
    /// turmoil sim time.
    pub at: Duration,
    /// Scenario time (sim time plus warp).
    pub scenario_at: Duration,
    /// Short kind (`timeline`, `logon`, `host`, `violation`, ...).
    pub kind: String,
    /// Details, one line.
    pub detail: String,
}

/// A trace entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TraceEntry {
    /// A captured message.
    Wire(WireRecord),
    /// An event.
    Event(EventRecord),
}

/// Formats sim time as seconds with microseconds: `     12.345678`.
pub fn fmt_time(d: Duration) -> String {
    format!("{:>6}.{:06}", d.as_secs(), d.subsec_micros())
}

impl TraceEntry {
    /// The canonical one-line form (no trailing newline).
    pub fn canonical_line(&self) -> String {
        let (mut s, payload) = self.canonical_parts();
        s.push_str(&hex::encode(payload));
        s
    }

    /// The canonical line split as its text up to the payload and the
    /// payload, which the line carries as lowercase hex (hashing streams the
    /// hex instead of building the whole line).
    fn canonical_parts(&self) -> (String, &[u8]) {
        let mut s = String::new();
        let mut payload: &[u8] = &[];
        match self {
            TraceEntry::Wire(w) => {
                let (proto, flag) = match &w.packet {
                    Packet::Udp(_) => ("udp", "dgram"),
                    Packet::TcpSyn => ("tcp", "syn"),
                    Packet::TcpData(_) => ("tcp", "data"),
                    Packet::TcpFin => ("tcp", "fin"),
                    Packet::TcpRst => ("tcp", "rst"),
                };
                let layer = match w.layer {
                    Layer::Wire => "wire",
                    Layer::TlsPlaintext => "tls-plain",
                };
                let _ = write!(
                    s,
                    "{} {layer} {proto} {flag} {}@{} > {}@{}",
                    fmt_time(w.at),
                    w.src.host,
                    w.src.addr,
                    w.dst.host,
                    w.dst.addr
                );
                if let Some(c) = w.conn {
                    let _ = write!(s, " conn={c}");
                }
                match &w.fate {
                    Fate::Sent => {}
                    Fate::Dropped { rule } => {
                        let _ = write!(s, " DROPPED({rule})");
                    }
                    Fate::Rejected { rule } => {
                        let _ = write!(s, " REJECTED({rule})");
                    }
                    Fate::Lost => s.push_str(" LOST"),
                }
                let p = w.packet.payload();
                if !p.is_empty() {
                    let _ = write!(s, " len={} ", p.len());
                    payload = p;
                }
            }
            TraceEntry::Event(e) => {
                let _ = write!(
                    s,
                    "{} event {} [scenario {}] {}",
                    fmt_time(e.at),
                    e.kind,
                    fmt_time(e.scenario_at).trim_start(),
                    e.detail
                );
            }
        }
        (s, payload)
    }
}

/// The trace hash of a canonical trace text (a trace file written by
/// `kerbside replay --trace`): SHA-256, hex.
pub fn hash_text(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

/// The trace of one run: entries (optionally kept) and a running hash.
#[derive(Debug)]
pub struct Trace {
    keep: bool,
    entries: Vec<TraceEntry>,
    hasher: Sha256,
    count: u64,
    wire_count: u64,
    wire_bytes: u64,
}

impl Trace {
    /// A trace that keeps its entries (`keep`) or only hashes them (sweeps:
    /// memory stays flat however long the scenario is).
    pub fn new(keep: bool) -> Self {
        Self {
            keep,
            entries: Vec::new(),
            hasher: Sha256::new(),
            count: 0,
            wire_count: 0,
            wire_bytes: 0,
        }
    }

    /// Appends an entry.
    pub fn push(&mut self, entry: TraceEntry) {
        let (prefix, payload) = entry.canonical_parts();
        self.hasher.update(prefix.as_bytes());
        let mut buf = [0u8; 1024];
        for chunk in payload.chunks(buf.len() / 2) {
            let out = &mut buf[..chunk.len() * 2];
            if hex::encode_to_slice(chunk, out).is_ok() {
                self.hasher.update(&out[..]);
            }
        }
        self.hasher.update(b"\n");
        self.count += 1;
        if let TraceEntry::Wire(w) = &entry {
            self.wire_count += 1;
            self.wire_bytes += w.packet.payload().len() as u64;
        }
        if self.keep {
            self.entries.push(entry);
        }
    }

    /// The entries (empty unless kept).
    pub fn entries(&self) -> &[TraceEntry] {
        &self.entries
    }

    /// Number of entries so far.
    pub fn len(&self) -> u64 {
        self.count
    }

    /// Whether nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Captured messages and their payload bytes.
    pub fn wire_stats(&self) -> (u64, u64) {
        (self.wire_count, self.wire_bytes)
    }

    /// SHA-256 over the canonical lines so far, hex.
    pub fn hash_hex(&self) -> String {
        hex::encode(self.hasher.clone().finalize())
    }

    /// The canonical text (kept entries only).
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        for e in &self.entries {
            out.push_str(&e.canonical_line());
            out.push('\n');
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ep(host: &str, addr: &str) -> Endpoint {
        Endpoint {
            host: host.to_owned(),
            addr: addr.parse().unwrap(),
        }
    }

    #[test]
    fn canonical_lines_are_stable() {
        let w = TraceEntry::Wire(WireRecord {
            at: Duration::from_micros(12_345_678),
            conn: Some(3),
            src: ep("laptop", "10.0.0.2:49152"),
            dst: ep("dc1", "10.0.0.10:88"),
            layer: Layer::Wire,
            packet: Packet::TcpData(Bytes::from_static(&[0, 0, 0, 1, 0x6a])),
            fate: Fate::Sent,
        });
        assert_eq!(
            w.canonical_line(),
            "    12.345678 wire tcp data laptop@10.0.0.2:49152 > dc1@10.0.0.10:88 conn=3 len=5 000000016a"
        );
        let e = TraceEntry::Event(EventRecord {
            at: Duration::from_millis(5),
            scenario_at: Duration::from_secs(3600),
            kind: "timeline".to_owned(),
            detail: "warp 1h".to_owned(),
        });
        assert_eq!(
            e.canonical_line(),
            "     0.005000 event timeline [scenario 3600.000000] warp 1h"
        );
    }

    #[test]
    fn hash_covers_every_entry_and_does_not_depend_on_keeping() {
        let mk = |n: u8| {
            TraceEntry::Event(EventRecord {
                at: Duration::from_millis(u64::from(n)),
                scenario_at: Duration::ZERO,
                kind: "x".to_owned(),
                detail: format!("{n}"),
            })
        };
        let mut a = Trace::new(true);
        let mut b = Trace::new(false);
        let mut c = Trace::new(true);
        for n in 0..3 {
            a.push(mk(n));
            b.push(mk(n));
            c.push(mk(if n == 2 { 9 } else { n }));
        }
        assert_eq!(a.hash_hex(), b.hash_hex());
        assert_ne!(a.hash_hex(), c.hash_hex());
        a.push(TraceEntry::Wire(WireRecord {
            at: Duration::from_millis(9),
            conn: None,
            src: ep("a", "10.0.0.1:5000"),
            dst: ep("b", "10.0.0.2:88"),
            layer: Layer::Wire,
            packet: Packet::Udp(Bytes::from(
                (0..1500u32).map(|i| i as u8).collect::<Vec<u8>>(),
            )),
            fate: Fate::Sent,
        }));
        assert_eq!(a.entries().len(), 4);
        assert_eq!(
            hash_text(&a.to_text()),
            a.hash_hex(),
            "the hash covers exactly the text"
        );
        assert!(b.entries().is_empty());
        assert_eq!(a.to_text().lines().count(), 4);
    }
}
