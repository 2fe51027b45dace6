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
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};
use std::time::SystemTime;

use rand_chacha::ChaCha12Rng;
use rand_core::SeedableRng;
use tokio::io::{AsyncRead, AsyncWrite};

mod accept;
pub mod app_client;
pub mod app_kdc_forward;
pub mod app_server;
pub mod https;
pub mod kdc_server;
pub mod kdc_transport;
pub mod kkdcp_transport;
pub mod negotiator_driver;
pub mod relay_server;
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

    /// An observer for the plaintext of an encrypted session (TLS) about to
    /// run over `stream`. Drivers wrap the session in [`TappedStream`] with
    /// it. The simulation records that plaintext as the wire tap's
    /// plaintext layer (secret scanning, plaintext-HTTP pcap); real sockets
    /// have none (the default).
    fn plaintext_tap(&self, stream: &Self::TcpStream) -> Option<Rc<dyn PlaintextTap>> {
        let _ = stream;
        None
    }
}

/// Receives what one side of an encrypted session writes, in clear.
pub trait PlaintextTap {
    /// `bytes` were written into the session.
    fn written(&self, bytes: &[u8]);
    /// The writer shut its sending side down.
    fn shutdown(&self) {}
}

/// A stream (typically a TLS session) whose writes are reported to a
/// [`PlaintextTap`]; reads and writes pass through unchanged. With no tap
/// it is a plain pass-through.
pub struct TappedStream<S> {
    inner: S,
    tap: Option<Rc<dyn PlaintextTap>>,
}

impl<S> TappedStream<S> {
    /// Wraps `inner`, reporting to `tap` (from [`Net::plaintext_tap`]).
    pub fn new(inner: S, tap: Option<Rc<dyn PlaintextTap>>) -> Self {
        Self { inner, tap }
    }

    /// The wrapped stream.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// Unwraps.
    pub fn into_inner(self) -> S {
        self.inner
    }
}

impl<S: std::fmt::Debug> std::fmt::Debug for TappedStream<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TappedStream")
            .field("inner", &self.inner)
            .field("tapped", &self.tap.is_some())
            .finish()
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for TappedStream<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for TappedStream<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let r = Pin::new(&mut self.inner).poll_write(cx, buf);
        if let (Poll::Ready(Ok(n)), Some(tap)) = (&r, &self.tap) {
            tap.written(buf.get(..*n).unwrap_or(buf));
        }
        r
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let r = Pin::new(&mut self.inner).poll_shutdown(cx);
        if let (Poll::Ready(Ok(())), Some(tap)) = (&r, &self.tap) {
            tap.shutdown();
        }
        r
    }
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

    /// Tells the clock that one of the host's timers fires `wait` from now.
    /// Real mode ignores it; the simulation uses it to jump over quiet time
    /// straight to the next deadline instead of ticking through it, so a
    /// driver calls it whenever it arms a timer that ends a wait.
    fn timer_hint(&self, _wait: std::time::Duration) {}
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
    fn tapped_stream_reports_writes_and_shutdown() {
        use std::cell::RefCell;
        use tokio::io::{AsyncReadExt, AsyncWriteExt};

        #[derive(Default)]
        struct Rec(RefCell<Vec<u8>>, RefCell<bool>);
        impl PlaintextTap for Rec {
            fn written(&self, bytes: &[u8]) {
                self.0.borrow_mut().extend_from_slice(bytes);
            }
            fn shutdown(&self) {
                *self.1.borrow_mut() = true;
            }
        }
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        rt.block_on(async {
            let (a, mut b) = tokio::io::duplex(64);
            let rec = Rc::new(Rec::default());
            let mut t = TappedStream::new(a, Some(rec.clone() as Rc<dyn PlaintextTap>));
            t.write_all(b"POST /KdcProxy").await.unwrap();
            t.shutdown().await.unwrap();
            let mut got = Vec::new();
            b.read_to_end(&mut got).await.unwrap();
            assert_eq!(got, b"POST /KdcProxy");
            assert_eq!(&*rec.0.borrow(), b"POST /KdcProxy");
            assert!(*rec.1.borrow());
        });
    }

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
