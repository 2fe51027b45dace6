//! Client side of the KDC transports (RFC 4120 §7.2): one request out, the
//! reply bytes back, within a deadline, with typed failures the negotiator
//! can act on (a refused port is not a timeout).
//!
//! * [`send_udp`]: one datagram from an ephemeral port; datagrams from any
//!   other address are ignored (a spoofed or stray reply does not end the
//!   wait). The socket is unconnected (the `Net` seam has no UDP connect),
//!   so on real sockets an ICMP port-unreachable is not seen and a closed
//!   port ends in [`TransportError::Timeout`]; a driver that reports
//!   `ConnectionRefused` on receive (the simulation's `reject` rule) gives
//!   [`TransportError::Refused`].
//! * [`send_tcp`]: connect, record mark + request, record mark + reply
//!   (RFC 4120 §7.2.2), close. Replies above the cap are
//!   [`TransportError::TooBig`] before any of the body is read.
//! * [`exchange_tcp`]: the same on a stream the caller keeps (several
//!   requests per connection, as kerbside's KDC allows).
//!
//! Written against [`Net`]: runs on real sockets and in the simulation
//! (tokio time is simulated time there).

use std::io;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use kerbside_wire::record::{self, MARK_LEN};
use kerbside_wire::{ErrorKind, WireError};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use crate::{Net, UdpSock};

/// Largest UDP datagram a reply can be.
const MAX_DATAGRAM: usize = 65_535;

/// Why a request got no reply.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TransportError {
    /// Nothing listens there (TCP RST on connect, ICMP port unreachable).
    #[error("connection refused")]
    Refused,
    /// No reply within the deadline.
    #[error("timed out")]
    Timeout,
    /// The peer closed or reset the connection before a complete reply.
    #[error("connection closed or reset by the KDC")]
    Reset,
    /// The request or reply exceeds a size limit.
    #[error("message of {size} bytes exceeds the {limit}-byte limit")]
    TooBig {
        /// Announced or actual size.
        size: usize,
        /// The limit.
        limit: usize,
    },
    /// The reply's framing is invalid (record mark high bit set).
    #[error("malformed frame: {0}")]
    MalformedFrame(WireError),
    /// Any other I/O failure.
    #[error("i/o: {0}")]
    Io(io::Error),
}

impl From<io::Error> for TransportError {
    fn from(e: io::Error) -> Self {
        match e.kind() {
            io::ErrorKind::ConnectionRefused => TransportError::Refused,
            io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::UnexpectedEof
            | io::ErrorKind::BrokenPipe => TransportError::Reset,
            io::ErrorKind::TimedOut => TransportError::Timeout,
            _ => TransportError::Io(e),
        }
    }
}

/// Sends `request` to `kdc` over UDP and waits up to `timeout` for the
/// reply from that address.
pub async fn send_udp<N: Net>(
    net: &N,
    kdc: SocketAddr,
    request: &[u8],
    timeout: Duration,
) -> Result<Vec<u8>, TransportError> {
    if request.len() > MAX_DATAGRAM {
        return Err(TransportError::TooBig {
            size: request.len(),
            limit: MAX_DATAGRAM,
        });
    }
    let local: SocketAddr = if kdc.is_ipv4() {
        (Ipv4Addr::UNSPECIFIED, 0).into()
    } else {
        (Ipv6Addr::UNSPECIFIED, 0).into()
    };
    let exchange = async {
        let sock = net.bind_udp(local).await?;
        sock.send_to(request, kdc).await?;
        let mut buf = vec![0u8; MAX_DATAGRAM];
        loop {
            let (n, from) = sock.recv_from(&mut buf).await?;
            if from == kdc {
                buf.truncate(n);
                return Ok::<_, io::Error>(buf);
            }
        }
    };
    match tokio::time::timeout(timeout, exchange).await {
        Ok(r) => r.map_err(TransportError::from),
        Err(_) => Err(TransportError::Timeout),
    }
}

/// Connects to `kdc` over TCP, sends one framed request and reads one framed
/// reply of at most `max_reply` bytes, all within `timeout`.
pub async fn send_tcp<N: Net>(
    net: &N,
    kdc: SocketAddr,
    request: &[u8],
    timeout: Duration,
    max_reply: usize,
) -> Result<Vec<u8>, TransportError> {
    let exchange = async {
        let mut stream = net.connect(kdc).await?;
        let reply = exchange_on(&mut stream, request, max_reply).await?;
        // Best effort: the reply is complete whatever the close does.
        let _ = stream.shutdown().await;
        Ok(reply)
    };
    match tokio::time::timeout(timeout, exchange).await {
        Ok(r) => r,
        Err(_) => Err(TransportError::Timeout),
    }
}

/// One framed request/reply on an open stream, within `timeout`.
pub async fn exchange_tcp<S: AsyncRead + AsyncWrite + Unpin>(
    stream: &mut S,
    request: &[u8],
    timeout: Duration,
    max_reply: usize,
) -> Result<Vec<u8>, TransportError> {
    match tokio::time::timeout(timeout, exchange_on(stream, request, max_reply)).await {
        Ok(r) => r,
        Err(_) => Err(TransportError::Timeout),
    }
}

async fn exchange_on<S: AsyncRead + AsyncWrite + Unpin>(
    stream: &mut S,
    request: &[u8],
    max_reply: usize,
) -> Result<Vec<u8>, TransportError> {
    let framed = record::encode(request).map_err(|_| TransportError::TooBig {
        size: request.len(),
        limit: 0x7fff_ffff,
    })?;
    stream.write_all(&framed).await?;
    stream.flush().await?;
    let mut mark = [0u8; MARK_LEN];
    stream.read_exact(&mut mark).await?;
    let len = record::parse_mark(mark, max_reply).map_err(|e| match e.kind {
        ErrorKind::TooLarge { size, limit } => TransportError::TooBig { size, limit },
        _ => TransportError::MalformedFrame(e),
    })?;
    let mut reply = vec![0u8; len];
    stream.read_exact(&mut reply).await?;
    Ok(reply)
}
