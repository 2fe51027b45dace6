//! The seams every kerbside party runs on, and their drivers.
//!
//! Protocol cores are sans-IO; what moves their bytes is written once against
//! three seams:
//!
//! * [`Net`]: TCP connect/listen and UDP, by address or host name;
//! * [`Clock`]: the host's idea of "now" (wall time for Kerberos
//!   timestamps; the simulation adds per-host skew);
//! * RNG: every host owns a seeded [`HostRng`] (ChaCha); nothing reads OS
//!   entropy except the real-mode entry point that seeds it.
//!
//! Two drivers implement them: [`tokio_driver`] (real sockets, used by
//! `kerbside serve`, `load`, `client`, `conform`) and the turmoil driver in
//! `kerbside-sim` (simulated network with firewall, faults and a wire tap).
//!
//! Executors are single-threaded by design (turmoil hosts run on a
//! `LocalSet`; real-mode servers run one current-thread runtime per worker),
//! so the seam's futures are not required to be `Send`.

#![allow(async_fn_in_trait)] // single-threaded executors: no Send bound wanted

use std::io;
use std::net::SocketAddr;
use std::time::SystemTime;

use rand_chacha::ChaCha12Rng;
use rand_core::SeedableRng;
use tokio::io::{AsyncRead, AsyncWrite};

pub mod tokio_driver;

/// Network access for one host.
pub trait Net: Clone + 'static {
    /// A connected TCP stream.
    type TcpStream: AsyncRead + AsyncWrite + Unpin + 'static;
    /// A listening TCP socket.
    type TcpListener: TcpListen<Stream = Self::TcpStream>;
    /// A bound UDP socket.
    type UdpSocket: UdpSock;

    /// Resolves a host name (or literal address) and port.
    async fn resolve(&self, host: &str, port: u16) -> io::Result<SocketAddr>;
    /// Opens a TCP connection.
    async fn connect(&self, addr: SocketAddr) -> io::Result<Self::TcpStream>;
    /// Listens for TCP connections.
    async fn bind_tcp(&self, addr: SocketAddr) -> io::Result<Self::TcpListener>;
    /// Binds a UDP socket.
    async fn bind_udp(&self, addr: SocketAddr) -> io::Result<Self::UdpSocket>;
}

/// A listening TCP socket.
pub trait TcpListen: 'static {
    /// The stream type an accepted connection yields.
    type Stream: AsyncRead + AsyncWrite + Unpin + 'static;
    /// Waits for the next connection.
    async fn accept(&self) -> io::Result<(Self::Stream, SocketAddr)>;
    /// The bound address.
    fn local_addr(&self) -> io::Result<SocketAddr>;
}

/// A bound UDP socket.
pub trait UdpSock: 'static {
    /// Sends one datagram.
    async fn send_to(&self, buf: &[u8], target: SocketAddr) -> io::Result<usize>;
    /// Receives one datagram.
    async fn recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)>;
    /// The bound address.
    fn local_addr(&self) -> io::Result<SocketAddr>;
}

/// The host's wall clock, as Kerberos sees it.
pub trait Clock: Clone + 'static {
    /// Current time on this host (includes any simulated skew).
    fn now(&self) -> SystemTime;
}

/// The per-host deterministic RNG every party draws nonces, confounders and
/// session keys from.
pub type HostRng = ChaCha12Rng;

/// Derives a host's RNG from a run seed and the host's name, so adding a host
/// does not shift the random streams of the others.
pub fn host_rng(seed: u64, host: &str) -> HostRng {
    // FNV-1a over the name, mixed with the seed: stable across platforms and
    // Rust versions (std's hasher is not).
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in host.as_bytes() {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    let mut key = [0u8; 32];
    key[..8].copy_from_slice(&seed.to_le_bytes());
    key[8..16].copy_from_slice(&h.to_le_bytes());
    key[16..24].copy_from_slice(&seed.rotate_left(29).to_le_bytes());
    key[24..].copy_from_slice(&(h ^ 0x6b65_7262_7369_6465).to_le_bytes());
    ChaCha12Rng::from_seed(key)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand_core::RngCore;

    #[test]
    fn host_rngs_are_reproducible_and_distinct() {
        let a1 = host_rng(7, "client").next_u64();
        let a2 = host_rng(7, "client").next_u64();
        let b = host_rng(7, "dc1").next_u64();
        let c = host_rng(8, "client").next_u64();
        assert_eq!(a1, a2);
        assert_ne!(a1, b);
        assert_ne!(a1, c);
    }
}
