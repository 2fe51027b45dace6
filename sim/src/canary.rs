//! Secret canaries: every password, NT hash and long-term key of a scenario
//! is searched for in every captured byte, on the wire and in the TLS
//! plaintext layer. A hit is a safety violation naming the hop and the
//! offset.
//!
//! TCP payloads are scanned as streams (a secret split across two writes is
//! still found): each direction of each connection keeps the last
//! `longest secret - 1` bytes and prepends them to the next chunk. One
//! Aho-Corasick automaton matches all secrets in a single pass.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::Duration;

use aho_corasick::AhoCorasick;
use md4::{Digest, Md4};
use serde::Serialize;

use crate::trace::{Layer, Packet, WireRecord, fmt_time};

/// Secrets shorter than this would match random ciphertext too often to
/// mean anything (a 6-byte pattern appears by chance about once per 2^48
/// positions; shorter ones far more often).
pub const MIN_SECRET_LEN: usize = 6;

/// One secret to watch for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Secret {
    /// What it is, e.g. `password of alice@CORP.EXAMPLE (utf-16le)`.
    pub label: String,
    /// The bytes.
    pub bytes: Vec<u8>,
}

/// Why a secret could not be registered.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CanaryError {
    /// Too short to be told apart from chance.
    #[error(
        "{label}: {len} bytes is too short to watch for (minimum {MIN_SECRET_LEN}): chance matches in ciphertext would be false alarms"
    )]
    TooShort {
        /// The secret's label.
        label: String,
        /// Its length.
        len: usize,
    },
}

/// The secrets of a scenario.
#[derive(Clone, Debug, Default)]
pub struct SecretSet {
    secrets: Vec<Secret>,
    /// The matcher over `secrets`, built once however many runs scan for
    /// the set (a sweep shares one prepared scenario over every seed and
    /// thread; building the automaton per run was 1% of a sweep). Reset
    /// whenever a secret is added.
    matcher: std::sync::OnceLock<Option<AhoCorasick>>,
}

impl SecretSet {
    /// An empty set.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds one secret.
    pub fn add(&mut self, label: impl Into<String>, bytes: Vec<u8>) -> Result<(), CanaryError> {
        let label = label.into();
        if bytes.len() < MIN_SECRET_LEN {
            return Err(CanaryError::TooShort {
                label,
                len: bytes.len(),
            });
        }
        if !self.secrets.iter().any(|s| s.bytes == bytes) {
            self.secrets.push(Secret { label, bytes });
            self.matcher = std::sync::OnceLock::new();
        }
        Ok(())
    }

    /// The matcher over every secret (`None` for an empty set). Building
    /// fails only for pathological pattern sets (none here: a few dozen
    /// short patterns); without a matcher nothing can be found, which
    /// [`CanaryScanner::is_armed`] reports.
    fn matcher(&self) -> Option<AhoCorasick> {
        self.matcher
            .get_or_init(|| {
                if self.secrets.is_empty() {
                    None
                } else {
                    AhoCorasick::new(self.secrets.iter().map(|s| &s.bytes)).ok()
                }
            })
            .clone()
    }

    /// Adds a password in every form a careless implementation would send
    /// it: UTF-8, UTF-16LE (Windows' native form), and its NT hash
    /// (MD4 of the UTF-16LE password, MS-NLMP §3.3.1 NTOWFv1).
    pub fn add_password(&mut self, owner: &str, password: &str) -> Result<(), CanaryError> {
        self.add(format!("password of {owner}"), password.as_bytes().to_vec())?;
        let utf16: Vec<u8> = password.encode_utf16().flat_map(u16::to_le_bytes).collect();
        self.add(format!("password of {owner} (utf-16le)"), utf16.clone())?;
        self.add(format!("NT hash of {owner}"), Md4::digest(&utf16).to_vec())?;
        Ok(())
    }

    /// The secrets.
    pub fn secrets(&self) -> &[Secret] {
        &self.secrets
    }

    /// Whether there is nothing to watch.
    pub fn is_empty(&self) -> bool {
        self.secrets.is_empty()
    }
}

/// A secret found on a hop.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CanaryHit {
    /// Which secret.
    pub secret: String,
    /// `src -> dst` with hosts, addresses, protocol and layer.
    pub hop: String,
    /// Byte offset in the stream (TCP: from the first byte the sender wrote
    /// on the connection; UDP: within the datagram).
    pub offset: u64,
    /// Sim time of the capture.
    pub at: Duration,
}

impl std::fmt::Display for CanaryHit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} on {} at offset {} (t={}s)",
            self.secret,
            self.hop,
            self.offset,
            fmt_time(self.at).trim_start()
        )
    }
}

#[derive(Debug, Default)]
struct StreamState {
    offset: u64,
    tail: Vec<u8>,
}

/// Scans captured records for secrets.
#[derive(Debug)]
pub struct CanaryScanner {
    labels: Vec<String>,
    matcher: Option<AhoCorasick>,
    keep: usize,
    streams: BTreeMap<(u64, SocketAddr, bool), StreamState>,
}

impl CanaryScanner {
    /// A scanner for `set`.
    pub fn new(set: &SecretSet) -> Self {
        let labels = set.secrets.iter().map(|s| s.label.clone()).collect();
        let keep = set
            .secrets
            .iter()
            .map(|s| s.bytes.len())
            .max()
            .unwrap_or(1)
            .saturating_sub(1);
        let matcher = set.matcher();
        Self {
            labels,
            matcher,
            keep,
            streams: BTreeMap::new(),
        }
    }

    /// Whether the scanner has secrets to look for.
    pub fn is_armed(&self) -> bool {
        self.matcher.is_some()
    }

    /// Scans one record; returns the secrets it exposes.
    pub fn scan(&mut self, rec: &WireRecord) -> Vec<CanaryHit> {
        let Some(matcher) = &self.matcher else {
            return Vec::new();
        };
        let payload = rec.packet.payload();
        if payload.is_empty() {
            return Vec::new();
        }
        let proto = match rec.packet {
            Packet::Udp(_) => "udp",
            _ => "tcp",
        };
        let layer = match rec.layer {
            Layer::Wire => "wire",
            Layer::TlsPlaintext => "tls-plaintext",
        };
        // Built only for a hit: almost every record has none.
        let hop = || {
            format!(
                "{}@{} -> {}@{} ({proto}, {layer})",
                rec.src.host, rec.src.addr, rec.dst.host, rec.dst.addr
            )
        };
        let mut hits = Vec::new();
        match (rec.conn, &rec.packet) {
            (Some(conn), Packet::TcpData(_)) => {
                let key = (conn, rec.src.addr, rec.layer == Layer::TlsPlaintext);
                let st = self.streams.entry(key).or_default();
                let mut buf = Vec::with_capacity(st.tail.len() + payload.len());
                buf.extend_from_slice(&st.tail);
                buf.extend_from_slice(payload);
                let base = st.offset - st.tail.len() as u64;
                // `is_match` runs the prefilter and stops at the first
                // match; the overlapping walk (every secret, every offset)
                // is only needed when there is something to report.
                let found = if matcher.is_match(&buf) {
                    matcher.find_overlapping_iter(&buf).collect()
                } else {
                    Vec::new()
                };
                for m in found {
                    // Matches lying wholly inside the old tail were reported
                    // with the previous chunk.
                    if m.end() > st.tail.len() {
                        hits.push(CanaryHit {
                            secret: self.labels[m.pattern().as_usize()].clone(),
                            hop: hop(),
                            offset: base + m.start() as u64,
                            at: rec.at,
                        });
                    }
                }
                st.offset += payload.len() as u64;
                let keep_from = buf.len().saturating_sub(self.keep);
                st.tail = buf[keep_from..].to_vec();
            }
            _ if !matcher.is_match(payload) => {}
            _ => {
                for m in matcher.find_overlapping_iter(payload) {
                    hits.push(CanaryHit {
                        secret: self.labels[m.pattern().as_usize()].clone(),
                        hop: hop(),
                        offset: m.start() as u64,
                        at: rec.at,
                    });
                }
            }
        }
        hits
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::{Endpoint, Fate};
    use bytes::Bytes;

    fn rec(conn: Option<u64>, packet: Packet) -> WireRecord {
        WireRecord {
            at: Duration::from_millis(7),
            conn,
            src: Endpoint {
                host: "laptop".into(),
                addr: "10.0.0.2:49152".parse().unwrap(),
            },
            dst: Endpoint {
                host: "dc1".into(),
                addr: "10.0.0.10:88".parse().unwrap(),
            },
            layer: Layer::Wire,
            packet,
            fate: Fate::Sent,
        }
    }

    #[test]
    fn nt_hash_matches_ms_nlmp_example() {
        // MS-NLMP §4.2.2.1.2: NTOWFv1("Password") = a4f49c406510bdcab6824ee7c30fd852.
        let mut set = SecretSet::new();
        set.add_password("user", "Password").unwrap();
        let nt = set
            .secrets()
            .iter()
            .find(|s| s.label.starts_with("NT hash"))
            .unwrap();
        assert_eq!(hex::encode(&nt.bytes), "a4f49c406510bdcab6824ee7c30fd852");
    }

    #[test]
    fn finds_secrets_in_datagrams_and_across_tcp_chunks() {
        let mut set = SecretSet::new();
        set.add_password("alice", "Winter2026!").unwrap();
        let mut sc = CanaryScanner::new(&set);
        assert!(sc.is_armed());

        let hits = sc.scan(&rec(
            None,
            Packet::Udp(Bytes::from_static(b"xxWinter2026!yy")),
        ));
        assert_eq!(hits.len(), 1);
        assert_eq!(hits[0].offset, 2);
        assert!(
            hits[0]
                .hop
                .contains("laptop@10.0.0.2:49152 -> dc1@10.0.0.10:88 (udp, wire)")
        );

        // Split across two writes on one connection.
        assert!(
            sc.scan(&rec(
                Some(1),
                Packet::TcpData(Bytes::from_static(b"0123456789Wint"))
            ))
            .is_empty()
        );
        let hits = sc.scan(&rec(
            Some(1),
            Packet::TcpData(Bytes::from_static(b"er2026!")),
        ));
        assert_eq!(hits.len(), 1);
        assert_eq!(hits[0].offset, 10);
        // Nothing is reported twice when more data follows.
        assert!(
            sc.scan(&rec(Some(1), Packet::TcpData(Bytes::from_static(b"zz"))))
                .is_empty()
        );

        // UTF-16LE form.
        let utf16: Vec<u8> = "Winter2026!"
            .encode_utf16()
            .flat_map(u16::to_le_bytes)
            .collect();
        let hits = sc.scan(&rec(Some(2), Packet::TcpData(Bytes::from(utf16))));
        assert!(hits.iter().any(|h| h.secret.ends_with("(utf-16le)")));
    }

    #[test]
    fn clean_traffic_and_short_secrets() {
        let mut set = SecretSet::new();
        assert!(matches!(
            set.add("pin", b"1234".to_vec()),
            Err(CanaryError::TooShort { .. })
        ));
        set.add("key", vec![0xAB; 32]).unwrap();
        let mut sc = CanaryScanner::new(&set);
        assert!(
            sc.scan(&rec(Some(1), Packet::TcpData(Bytes::from(vec![0xAB; 31]))))
                .is_empty()
        );
        assert!(
            CanaryScanner::new(&SecretSet::new())
                .scan(&rec(None, Packet::Udp(Bytes::new())))
                .is_empty()
        );
    }
}
