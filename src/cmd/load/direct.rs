//! Straight to a KDC over UDP or TCP with blocking sockets, one OS thread
//! per client.
//!
//! The load generator shares the machine with the server it loads, so
//! every system call it saves goes to the server. A blocking client
//! costs the fewest: UDP is `send` + `recv` on a connected socket; TCP is
//! `connect`, one `write` of mark and request, `read`s into one buffer
//! until the record is complete (RFC 4120 §7.2.2), `close`. An event loop
//! adds registration, `epoll_wait` and a failed read per request, and the
//! client library's `kdc_transport::send_tcp` also half-closes and reads
//! the mark and the body separately (right for a client, two more system
//! calls per request here).

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream, UdpSocket};
use std::time::Duration;

use kerbside_net::kdc_transport::TransportError;
use kerbside_wire::record::{self, DEFAULT_MAX_FRAME, MARK_LEN};

/// One client's connection-less way to a KDC.
#[derive(Debug)]
pub(crate) enum Direct {
    /// RFC 4120 §7.2.1: this client's socket, connected to the KDC (the
    /// kernel drops datagrams from anyone else).
    Udp { sock: UdpSocket, buf: Vec<u8> },
    /// RFC 4120 §7.2.2: a new connection per request.
    Tcp {
        kdc: SocketAddr,
        timeout: Duration,
        buf: Vec<u8>,
    },
}

impl Direct {
    /// A UDP client socket for `kdc`.
    pub(crate) fn udp(kdc: SocketAddr, timeout: Duration) -> std::io::Result<Direct> {
        let local: SocketAddr = if kdc.is_ipv4() {
            (std::net::Ipv4Addr::UNSPECIFIED, 0).into()
        } else {
            (std::net::Ipv6Addr::UNSPECIFIED, 0).into()
        };
        let sock = UdpSocket::bind(local)?;
        sock.connect(kdc)?;
        sock.set_read_timeout(Some(timeout))?;
        Ok(Direct::Udp {
            sock,
            buf: vec![0u8; 65_536],
        })
    }

    /// A TCP client for `kdc`.
    pub(crate) fn tcp(kdc: SocketAddr, timeout: Duration) -> Direct {
        Direct::Tcp {
            kdc,
            timeout,
            buf: Vec::with_capacity(4096),
        }
    }

    /// Sends `request` and returns the reply (without record mark).
    /// Blocks for at most about the timeout.
    pub(crate) fn exchange(&mut self, request: &[u8]) -> Result<Vec<u8>, TransportError> {
        match self {
            Direct::Udp { sock, buf } => {
                sock.send(request).map_err(io)?;
                // A late reply to an earlier, timed-out request may arrive
                // here: it fails the nonce check and counts as a bad reply.
                let n = sock.recv(buf).map_err(io)?;
                Ok(buf.get(..n).unwrap_or_default().to_vec())
            }
            Direct::Tcp { kdc, timeout, buf } => tcp_exchange(*kdc, *timeout, request, buf),
        }
    }
}

/// Blocking-socket timeouts surface as `WouldBlock` or `TimedOut`.
fn io(e: std::io::Error) -> TransportError {
    match e.kind() {
        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut => TransportError::Timeout,
        _ => TransportError::from(e),
    }
}

fn tcp_exchange(
    kdc: SocketAddr,
    timeout: Duration,
    request: &[u8],
    buf: &mut Vec<u8>,
) -> Result<Vec<u8>, TransportError> {
    let framed = record::encode(request).map_err(|_| TransportError::TooBig {
        size: request.len(),
        limit: 0x7fff_ffff,
    })?;
    let mut stream = TcpStream::connect_timeout(&kdc, timeout).map_err(io)?;
    stream.set_read_timeout(Some(timeout)).map_err(io)?;
    stream.set_write_timeout(Some(timeout)).map_err(io)?;
    stream.write_all(&framed).map_err(io)?;
    buf.clear();
    let mut chunk = [0u8; 8192];
    loop {
        if let Some(mark) = buf.first_chunk::<MARK_LEN>() {
            let len = record::parse_mark(*mark, DEFAULT_MAX_FRAME).map_err(|e| match e.kind {
                kerbside_wire::ErrorKind::TooLarge { size, limit } => {
                    TransportError::TooBig { size, limit }
                }
                _ => TransportError::MalformedFrame(e),
            })?;
            if let Some(reply) = buf.get(MARK_LEN..MARK_LEN + len) {
                // Dropping the stream closes it: the whole reply has been
                // read, so the KDC sees a FIN, not a reset.
                return Ok(reply.to_vec());
            }
        }
        match stream.read(&mut chunk).map_err(io)? {
            0 => return Err(TransportError::Reset),
            n => buf.extend_from_slice(chunk.get(..n).unwrap_or_default()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;

    /// A one-shot TCP server answering with `answer` in pieces of `chunk`.
    fn tcp_server(answer: Vec<u8>, chunk: usize) -> SocketAddr {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = l.local_addr().unwrap();
        std::thread::spawn(move || {
            let (mut s, _) = l.accept().unwrap();
            s.set_nodelay(true).unwrap();
            let mut req = [0u8; 4 + 3];
            s.read_exact(&mut req).unwrap();
            assert_eq!(req, [0, 0, 0, 3, 1, 2, 3]);
            let pieces = answer.len().div_ceil(chunk);
            for (i, piece) in answer.chunks(chunk).enumerate() {
                s.write_all(piece).unwrap();
                // A pause now and then so the client sees partial records.
                if i % (pieces / 8).max(1) == 0 {
                    std::thread::sleep(Duration::from_millis(2));
                }
            }
        });
        addr
    }

    #[test]
    fn tcp_reads_a_record_however_it_arrives_and_refuses_bad_marks() {
        let t = Duration::from_secs(5);
        let reply: Vec<u8> = (0..20_000u32).map(|i| i as u8).collect();
        for chunk in [1, 3, 4096, 30_000] {
            let mut d = Direct::tcp(tcp_server(record::encode(&reply).unwrap(), chunk), t);
            assert_eq!(d.exchange(&[1, 2, 3]).unwrap(), reply, "chunk {chunk}");
        }
        // High bit set (RFC 4120 §7.2.2): malformed, not a length.
        let mut d = Direct::tcp(tcp_server(vec![0x80, 0, 0, 1, 0], 5), t);
        assert!(matches!(
            d.exchange(&[1, 2, 3]),
            Err(TransportError::MalformedFrame(_))
        ));
        // Longer than a KDC reply may be.
        let mut d = Direct::tcp(tcp_server(vec![0, 0x10, 0, 0], 4), t);
        assert!(matches!(
            d.exchange(&[1, 2, 3]),
            Err(TransportError::TooBig { .. })
        ));
        // Closed before the record is complete.
        let mut d = Direct::tcp(tcp_server(vec![0, 0, 0, 9, 1, 2], 6), t);
        assert!(matches!(d.exchange(&[1, 2, 3]), Err(TransportError::Reset)));
    }

    #[test]
    fn udp_answers_and_times_out() {
        let server = UdpSocket::bind("127.0.0.1:0").unwrap();
        let addr = server.local_addr().unwrap();
        std::thread::spawn(move || {
            let mut b = [0u8; 64];
            // Answer the first request, ignore the second.
            let (n, from) = server.recv_from(&mut b).unwrap();
            server.send_to(&b[..n], from).unwrap();
            let _ = server.recv_from(&mut b);
        });
        let mut d = Direct::udp(addr, Duration::from_millis(300)).unwrap();
        assert_eq!(d.exchange(b"ping").unwrap(), b"ping");
        assert!(matches!(d.exchange(b"lost"), Err(TransportError::Timeout)));
    }
}
