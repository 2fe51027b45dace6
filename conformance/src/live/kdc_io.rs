//! Sending one request to a KDC over UDP or TCP (RFC 4120 §7.2.1/§7.2.2)
//! with plain blocking sockets and a timeout. A KDC that stays silent or
//! closes the connection is an observation (`no-reply`), not an error.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream, UdpSocket};
use std::time::Duration;

use kerbside_wire::record;

use crate::model::KdcTransport;

/// Largest reply accepted (record mark excluded): MIT's client limit.
const MAX_REPLY: usize = 1 << 20;

/// Sends `request` (a bare Kerberos message) and returns the bare reply,
/// `Ok(None)` when the KDC did not answer in time or closed without one.
pub fn exchange(
    addr: SocketAddr,
    transport: KdcTransport,
    request: &[u8],
    timeout: Duration,
) -> std::io::Result<Option<Vec<u8>>> {
    match transport {
        KdcTransport::Udp => udp(addr, request, timeout),
        KdcTransport::Tcp => tcp(addr, request, timeout),
    }
}

fn silent(e: &std::io::Error) -> bool {
    matches!(
        e.kind(),
        std::io::ErrorKind::WouldBlock
            | std::io::ErrorKind::TimedOut
            | std::io::ErrorKind::UnexpectedEof
            | std::io::ErrorKind::ConnectionReset
            | std::io::ErrorKind::ConnectionRefused
    )
}

fn udp(addr: SocketAddr, request: &[u8], timeout: Duration) -> std::io::Result<Option<Vec<u8>>> {
    let local: SocketAddr = if addr.is_ipv4() {
        ([0, 0, 0, 0], 0).into()
    } else {
        ([0u16; 8], 0).into()
    };
    let sock = UdpSocket::bind(local)?;
    sock.connect(addr)?;
    sock.set_read_timeout(Some(timeout))?;
    sock.send(request)?;
    let mut buf = vec![0u8; 65_535];
    match sock.recv(&mut buf) {
        Ok(n) => {
            buf.truncate(n);
            Ok(Some(buf))
        }
        Err(e) if silent(&e) => Ok(None),
        Err(e) => Err(e),
    }
}

fn tcp(addr: SocketAddr, request: &[u8], timeout: Duration) -> std::io::Result<Option<Vec<u8>>> {
    let mut s = TcpStream::connect_timeout(&addr, timeout)?;
    s.set_read_timeout(Some(timeout))?;
    s.set_write_timeout(Some(timeout))?;
    let framed = record::encode(request).map_err(std::io::Error::other)?;
    s.write_all(&framed)?;
    let mut mark = [0u8; 4];
    match s.read_exact(&mut mark) {
        Ok(()) => {}
        Err(e) if silent(&e) => return Ok(None),
        Err(e) => return Err(e),
    }
    let len = record::parse_mark(mark, MAX_REPLY).map_err(std::io::Error::other)?;
    let mut reply = vec![0u8; len];
    match s.read_exact(&mut reply) {
        Ok(()) => Ok(Some(reply)),
        Err(e) if silent(&e) => Ok(None),
        Err(e) => Err(e),
    }
}
