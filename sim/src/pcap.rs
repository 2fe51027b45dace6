//! Classic pcap export of a trace (the libpcap file format, LINKTYPE_ETHERNET),
//! with Ethernet, IPv4, TCP and UDP headers synthesised from the wire tap
//! so Wireshark and tshark decode it like a capture from a real network:
//! Kerberos on port 88 (record-marked over TCP, RFC 4120 §7.2.2), TLS on
//! the relay's port.
//!
//! TCP is rebuilt per connection: the three-way handshake at the recorded
//! SYN (RFC 9293 §3.5), sequence and acknowledgment numbers that follow the
//! bytes each side wrote, segments of at most one Ethernet MSS (1460 bytes)
//! with PSH on the last, and FIN|ACK when a side closed. Initial sequence
//! numbers are derived from the connection id, so the file is as
//! reproducible as the trace. Checksums (IPv4 RFC 791, TCP/UDP RFC 9293
//! §3.1 / RFC 768 with the pseudo-header) are computed, so a checksum
//! validating dissector has nothing to complain about.
//!
//! With `plaintext_http`, connections that carried TLS are written with the
//! TLS plaintext layer instead of the records, and their server port 443
//! becomes 80, so the KKDCP hop reads as plain HTTP POSTs of
//! `application/kerberos` bodies.
//!
//! Timestamps are the scenario's wall clock: epoch plus scenario time
//! (sim time plus the warps in force, reconstructed from the trace's
//! events).

use std::collections::{BTreeMap, BTreeSet};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::trace::{Fate, Layer, Packet, TraceEntry, WireRecord};

/// Largest TCP payload per synthesised segment (Ethernet MTU 1500 minus
/// 20-byte IPv4 and TCP headers).
pub const MSS: usize = 1460;

const LINKTYPE_ETHERNET: u32 = 1;
const SNAPLEN: u32 = 262_144;
const TCP_FIN: u8 = 0x01;
const TCP_SYN: u8 = 0x02;
const TCP_PSH: u8 = 0x08;
const TCP_ACK: u8 = 0x10;

/// Export options.
#[derive(Clone, Copy, Debug, Default)]
pub struct PcapOptions {
    /// Write TLS connections as their plaintext (HTTP) on port 80.
    pub plaintext_http: bool,
}

/// One frame to write.
struct Frame {
    at: Duration,
    bytes: Vec<u8>,
}

struct TcpConn {
    client: SocketAddr,
    /// Next sequence number each side sends.
    next_c: u32,
    next_s: u32,
}

/// Builds a pcap file from trace entries. `epoch` is the scenario's wall
/// time at sim time zero.
pub fn write_pcap(entries: &[TraceEntry], epoch: SystemTime, opts: PcapOptions) -> Vec<u8> {
    // Connections whose plaintext replaces their records.
    let plain_conns: BTreeSet<u64> = if opts.plaintext_http {
        entries
            .iter()
            .filter_map(|e| match e {
                TraceEntry::Wire(w) if w.layer == Layer::TlsPlaintext => w.conn,
                _ => None,
            })
            .collect()
    } else {
        BTreeSet::new()
    };
    // Select records and attach the scenario-time offset in force.
    let mut offset = Duration::ZERO;
    let mut chosen: Vec<(Duration, &WireRecord)> = Vec::new();
    for e in entries {
        match e {
            TraceEntry::Event(ev) => offset = ev.scenario_at.saturating_sub(ev.at),
            TraceEntry::Wire(w) => {
                if w.fate != Fate::Sent {
                    continue;
                }
                let plain = w.conn.is_some_and(|c| plain_conns.contains(&c));
                let keep = match (&w.layer, &w.packet) {
                    (Layer::Wire, Packet::TcpData(_)) => !plain,
                    (Layer::Wire, _) => true,
                    // Plaintext FIN duplicates the wire FIN.
                    (Layer::TlsPlaintext, Packet::TcpData(_)) => plain,
                    (Layer::TlsPlaintext, _) => false,
                };
                if keep {
                    chosen.push((w.at + offset, w));
                }
            }
        }
    }
    // The tap records each message when its sender wrote it; a connect is
    // recorded when it completes but stamped when it started. Order by time,
    // keeping recording order among equals.
    chosen.sort_by_key(|(t, _)| *t);

    let mut conns: BTreeMap<u64, TcpConn> = BTreeMap::new();
    let mut frames = Vec::new();
    let mut ip_id: BTreeMap<IpAddr, u16> = BTreeMap::new();
    for (at, w) in chosen {
        let remap = |a: SocketAddr| {
            if w.conn.is_some_and(|c| plain_conns.contains(&c)) && a.port() == 443 {
                SocketAddr::new(a.ip(), 80)
            } else {
                a
            }
        };
        let (src, dst) = (remap(w.src.addr), remap(w.dst.addr));
        let mut push = |src: SocketAddr, dst: SocketAddr, l4: L4<'_>| {
            if let Some(bytes) = frame(src, dst, &l4, &mut ip_id) {
                frames.push(Frame { at, bytes });
            }
        };
        match (&w.packet, w.conn) {
            (Packet::Udp(p), _) => push(src, dst, L4::Udp(p)),
            (Packet::TcpSyn, Some(id)) => {
                let isn_c = isn(id, 0);
                let isn_s = isn(id, 1);
                push(
                    src,
                    dst,
                    L4::Tcp {
                        seq: isn_c,
                        ack: 0,
                        flags: TCP_SYN,
                        payload: &[],
                    },
                );
                push(
                    dst,
                    src,
                    L4::Tcp {
                        seq: isn_s,
                        ack: isn_c.wrapping_add(1),
                        flags: TCP_SYN | TCP_ACK,
                        payload: &[],
                    },
                );
                push(
                    src,
                    dst,
                    L4::Tcp {
                        seq: isn_c.wrapping_add(1),
                        ack: isn_s.wrapping_add(1),
                        flags: TCP_ACK,
                        payload: &[],
                    },
                );
                conns.insert(
                    id,
                    TcpConn {
                        client: src,
                        next_c: isn_c.wrapping_add(1),
                        next_s: isn_s.wrapping_add(1),
                    },
                );
            }
            (Packet::TcpData(p), Some(id)) => {
                let Some(c) = conns.get_mut(&id) else {
                    continue;
                };
                let from_client = src == c.client;
                for (i, chunk) in p.chunks(MSS).enumerate() {
                    let last = (i + 1) * MSS >= p.len();
                    let (seq, ack) = if from_client {
                        (c.next_c, c.next_s)
                    } else {
                        (c.next_s, c.next_c)
                    };
                    let flags = TCP_ACK | if last { TCP_PSH } else { 0 };
                    push(
                        src,
                        dst,
                        L4::Tcp {
                            seq,
                            ack,
                            flags,
                            payload: chunk,
                        },
                    );
                    let n = u32::try_from(chunk.len()).unwrap_or(0);
                    if from_client {
                        c.next_c = c.next_c.wrapping_add(n);
                    } else {
                        c.next_s = c.next_s.wrapping_add(n);
                    }
                }
            }
            (Packet::TcpFin, Some(id)) => {
                let Some(c) = conns.get_mut(&id) else {
                    continue;
                };
                let from_client = src == c.client;
                let (seq, ack) = if from_client {
                    (c.next_c, c.next_s)
                } else {
                    (c.next_s, c.next_c)
                };
                push(
                    src,
                    dst,
                    L4::Tcp {
                        seq,
                        ack,
                        flags: TCP_FIN | TCP_ACK,
                        payload: &[],
                    },
                );
                if from_client {
                    c.next_c = c.next_c.wrapping_add(1);
                } else {
                    c.next_s = c.next_s.wrapping_add(1);
                }
            }
            // Resets and connection-less TCP records have no place in a
            // reconstructed stream.
            _ => {}
        }
    }

    let mut out = Vec::with_capacity(24 + frames.iter().map(|f| 16 + f.bytes.len()).sum::<usize>());
    // Global header: microsecond magic, version 2.4, UTC, snaplen, Ethernet.
    out.extend_from_slice(&0xa1b2_c3d4u32.to_le_bytes());
    out.extend_from_slice(&2u16.to_le_bytes());
    out.extend_from_slice(&4u16.to_le_bytes());
    out.extend_from_slice(&0i32.to_le_bytes());
    out.extend_from_slice(&0u32.to_le_bytes());
    out.extend_from_slice(&SNAPLEN.to_le_bytes());
    out.extend_from_slice(&LINKTYPE_ETHERNET.to_le_bytes());
    let base = epoch.duration_since(UNIX_EPOCH).unwrap_or_default();
    for f in frames {
        let t = base + f.at;
        let len = u32::try_from(f.bytes.len()).unwrap_or(u32::MAX);
        out.extend_from_slice(&u32::try_from(t.as_secs()).unwrap_or(u32::MAX).to_le_bytes());
        out.extend_from_slice(&t.subsec_micros().to_le_bytes());
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(&f.bytes);
    }
    out
}

/// A deterministic initial sequence number for one side of a connection.
fn isn(conn: u64, side: u64) -> u32 {
    // splitmix64 finaliser: well spread, no RNG needed.
    let mut z = conn
        .wrapping_mul(2)
        .wrapping_add(side)
        .wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    (z ^ (z >> 31)) as u32
}

enum L4<'a> {
    Udp(&'a [u8]),
    Tcp {
        seq: u32,
        ack: u32,
        flags: u8,
        payload: &'a [u8],
    },
}

/// A locally administered MAC address carrying the IPv4 address.
fn mac(ip: Ipv4Addr) -> [u8; 6] {
    let o = ip.octets();
    [0x02, 0x00, o[0], o[1], o[2], o[3]]
}

/// One's-complement sum over 16-bit words (RFC 1071).
fn csum_add(mut sum: u32, data: &[u8]) -> u32 {
    let mut chunks = data.chunks_exact(2);
    for c in &mut chunks {
        sum += u32::from(u16::from_be_bytes([c[0], c[1]]));
    }
    if let [last] = chunks.remainder() {
        sum += u32::from(*last) << 8;
    }
    sum
}

fn csum_fold(mut sum: u32) -> u16 {
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

fn frame(
    src: SocketAddr,
    dst: SocketAddr,
    l4: &L4<'_>,
    ip_id: &mut BTreeMap<IpAddr, u16>,
) -> Option<Vec<u8>> {
    let (IpAddr::V4(s), IpAddr::V4(d)) = (src.ip(), dst.ip()) else {
        return None;
    };
    let (proto, mut seg) = match l4 {
        L4::Udp(p) => {
            let len = u16::try_from(8 + p.len()).ok()?;
            let mut h = Vec::with_capacity(len as usize);
            h.extend_from_slice(&src.port().to_be_bytes());
            h.extend_from_slice(&dst.port().to_be_bytes());
            h.extend_from_slice(&len.to_be_bytes());
            h.extend_from_slice(&[0, 0]);
            h.extend_from_slice(p);
            (17u8, h)
        }
        L4::Tcp {
            seq,
            ack,
            flags,
            payload,
        } => {
            let mut h = Vec::with_capacity(20 + payload.len());
            h.extend_from_slice(&src.port().to_be_bytes());
            h.extend_from_slice(&dst.port().to_be_bytes());
            h.extend_from_slice(&seq.to_be_bytes());
            h.extend_from_slice(&ack.to_be_bytes());
            h.push(5 << 4); // data offset: 5 words, no options
            h.push(*flags);
            h.extend_from_slice(&65_535u16.to_be_bytes()); // window
            h.extend_from_slice(&[0, 0, 0, 0]); // checksum, urgent pointer
            h.extend_from_slice(payload);
            (6u8, h)
        }
    };
    let l4_len = u16::try_from(seg.len()).ok()?;
    // Pseudo-header checksum (RFC 768, RFC 9293 §3.1).
    let mut sum = csum_add(0, &s.octets());
    sum = csum_add(sum, &d.octets());
    sum += u32::from(proto);
    sum += u32::from(l4_len);
    sum = csum_add(sum, &seg);
    let mut c = csum_fold(sum);
    let at = if proto == 17 {
        // RFC 768: a computed zero is sent as all ones.
        if c == 0 {
            c = 0xffff;
        }
        6
    } else {
        16
    };
    seg[at..at + 2].copy_from_slice(&c.to_be_bytes());

    let total = u16::try_from(20 + seg.len()).ok()?;
    let id = ip_id.entry(src.ip()).or_insert(0);
    *id = id.wrapping_add(1);
    let mut ip = Vec::with_capacity(20);
    ip.push(0x45);
    ip.push(0);
    ip.extend_from_slice(&total.to_be_bytes());
    ip.extend_from_slice(&id.to_be_bytes());
    ip.extend_from_slice(&0x4000u16.to_be_bytes()); // DF
    ip.push(64);
    ip.push(proto);
    ip.extend_from_slice(&[0, 0]);
    ip.extend_from_slice(&s.octets());
    ip.extend_from_slice(&d.octets());
    let ipc = csum_fold(csum_add(0, &ip));
    ip[10..12].copy_from_slice(&ipc.to_be_bytes());

    let mut f = Vec::with_capacity(14 + ip.len() + seg.len());
    f.extend_from_slice(&mac(d));
    f.extend_from_slice(&mac(s));
    f.extend_from_slice(&0x0800u16.to_be_bytes());
    f.extend_from_slice(&ip);
    f.extend_from_slice(&seg);
    Some(f)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::{Endpoint, EventRecord};
    use bytes::Bytes;

    fn ep(host: &str, a: &str) -> Endpoint {
        Endpoint {
            host: host.into(),
            addr: a.parse().unwrap(),
        }
    }

    fn wire(at_ms: u64, conn: Option<u64>, src: &str, dst: &str, packet: Packet) -> TraceEntry {
        TraceEntry::Wire(WireRecord {
            at: Duration::from_millis(at_ms),
            conn,
            src: ep("a", src),
            dst: ep("b", dst),
            layer: Layer::Wire,
            packet,
            fate: Fate::Sent,
        })
    }

    #[test]
    fn checksum_matches_rfc1071_example() {
        // RFC 1071 §3: words 0001 f203 f4f5 f6f7 sum to ddf2 (checksum 220d).
        let data = [0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7];
        assert_eq!(csum_fold(csum_add(0, &data)), !0xddf2);
    }

    #[test]
    fn tcp_stream_has_handshake_sequence_numbers_and_segments() {
        let c = "10.0.0.2:49152";
        let s = "10.0.0.10:88";
        let big = vec![7u8; 3000];
        let entries = vec![
            wire(1, Some(1), c, s, Packet::TcpSyn),
            wire(2, Some(1), c, s, Packet::TcpData(Bytes::from(big.clone()))),
            wire(
                3,
                Some(1),
                s,
                c,
                Packet::TcpData(Bytes::from_static(b"reply")),
            ),
            wire(4, Some(1), c, s, Packet::TcpFin),
            wire(
                4,
                None,
                c,
                "10.0.0.10:88",
                Packet::Udp(Bytes::from_static(b"dgram")),
            ),
        ];
        let pcap = write_pcap(&entries, UNIX_EPOCH, PcapOptions::default());
        assert_eq!(&pcap[..4], &0xa1b2_c3d4u32.to_le_bytes());
        // Walk the records.
        let mut off = 24;
        let mut frames = Vec::new();
        while off < pcap.len() {
            let len = u32::from_le_bytes(pcap[off + 8..off + 12].try_into().unwrap()) as usize;
            frames.push(pcap[off + 16..off + 16 + len].to_vec());
            off += 16 + len;
        }
        // SYN, SYN-ACK, ACK, 3 data segments (1460+1460+80), reply, FIN, UDP.
        assert_eq!(frames.len(), 9);
        let tcp = |f: &[u8]| {
            let t = &f[34..];
            (
                u32::from_be_bytes(t[4..8].try_into().unwrap()),
                u32::from_be_bytes(t[8..12].try_into().unwrap()),
                t[13],
            )
        };
        let (isn_c, _, fl) = tcp(&frames[0]);
        assert_eq!(fl, TCP_SYN);
        let (isn_s, ack, fl) = tcp(&frames[1]);
        assert_eq!((ack, fl), (isn_c.wrapping_add(1), TCP_SYN | TCP_ACK));
        let (seq, _, _) = tcp(&frames[3]);
        assert_eq!(seq, isn_c.wrapping_add(1));
        let (seq2, _, fl2) = tcp(&frames[4]);
        assert_eq!(seq2, seq.wrapping_add(MSS as u32));
        assert_eq!(fl2, TCP_ACK);
        let (_, _, fl3) = tcp(&frames[5]);
        assert_eq!(fl3, TCP_ACK | TCP_PSH);
        assert_eq!(frames[5].len(), 14 + 20 + 20 + 80);
        let (rseq, rack, _) = tcp(&frames[6]);
        assert_eq!(rseq, isn_s.wrapping_add(1));
        assert_eq!(rack, isn_c.wrapping_add(1 + 3000));
        let (_, _, fin) = tcp(&frames[7]);
        assert_eq!(fin, TCP_FIN | TCP_ACK);
        // IPv4 header checksum verifies to zero.
        for f in &frames {
            assert_eq!(csum_fold(csum_add(0, &f[14..34])), 0);
        }
        assert_eq!(frames[8][23], 17, "UDP");
    }

    #[test]
    fn timestamps_follow_scenario_time() {
        let entries = vec![
            TraceEntry::Event(EventRecord {
                at: Duration::from_millis(5),
                scenario_at: Duration::from_secs(3600),
                kind: "idle".into(),
                detail: String::new(),
            }),
            wire(
                6,
                None,
                "10.0.0.2:49152",
                "10.0.0.10:88",
                Packet::Udp(Bytes::from_static(b"x")),
            ),
        ];
        let epoch = UNIX_EPOCH + Duration::from_secs(1_000_000);
        let pcap = write_pcap(&entries, epoch, PcapOptions::default());
        let secs = u32::from_le_bytes(pcap[24..28].try_into().unwrap());
        let micros = u32::from_le_bytes(pcap[28..32].try_into().unwrap());
        assert_eq!((secs, micros), (1_000_000 + 3600, 1000));
    }
}
