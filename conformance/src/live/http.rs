//! A deliberately raw HTTP/1.1 client for the relay runner: it writes the
//! exact request line, headers and body a test asks for (no Content-Length,
//! a wrong one, GET, a 128 KiB body), over TLS or plain TCP, and reads the
//! status and body. A well-behaved client library would refuse to send most
//! of these requests, which is why this is not hyper.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use rustls::pki_types::ServerName;

/// Where the relay is.
#[derive(Debug, Clone)]
pub struct RelayUrl {
    /// `https` or `http`.
    pub tls: bool,
    /// Host name (SNI and Host header).
    pub host: String,
    /// Port.
    pub port: u16,
    /// Path (`/KdcProxy`).
    pub path: String,
}

impl RelayUrl {
    /// Parses `https://host[:port]/path` or `http://...`.
    pub fn parse(url: &str) -> Result<RelayUrl, String> {
        let (tls, rest) = if let Some(r) = url.strip_prefix("https://") {
            (true, r)
        } else if let Some(r) = url.strip_prefix("http://") {
            (false, r)
        } else {
            return Err(format!("{url}: expected https:// or http://"));
        };
        let (authority, path) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, "/KdcProxy"),
        };
        let (host, port) = match authority.rsplit_once(':') {
            Some((h, p)) if !h.contains(':') || h.ends_with(']') => (
                h.trim_start_matches('[').trim_end_matches(']').to_owned(),
                p.parse().map_err(|_| format!("{url}: bad port {p:?}"))?,
            ),
            _ => (authority.to_owned(), if tls { 443 } else { 80 }),
        };
        if host.is_empty() {
            return Err(format!("{url}: no host"));
        }
        Ok(RelayUrl {
            tls,
            host,
            port,
            path: path.to_owned(),
        })
    }
}

/// What the relay answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// Status code.
    pub status: u16,
    /// Body.
    pub body: Vec<u8>,
}

/// A failure below HTTP.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HttpError {
    /// Connecting failed.
    #[error("connect {0}: {1}")]
    Connect(String, std::io::Error),
    /// TLS setup or handshake failed.
    #[error("TLS: {0}")]
    Tls(String),
    /// Reading or writing failed (including timeouts).
    #[error("i/o: {0}")]
    Io(#[from] std::io::Error),
    /// The peer closed without a status line.
    #[error("no HTTP response (connection closed)")]
    NoResponse,
    /// The response could not be parsed.
    #[error("malformed HTTP response: {0}")]
    Malformed(String),
}

/// A client for one relay.
#[derive(Debug, Clone)]
pub struct Client {
    url: RelayUrl,
    tls: Option<Arc<rustls::ClientConfig>>,
    timeout: Duration,
}

impl Client {
    /// A client; `ca` is the PEM file of the CA that signed the relay's
    /// certificate (required for https).
    pub fn new(url: RelayUrl, ca: Option<&Path>, timeout: Duration) -> Result<Client, HttpError> {
        let tls = if url.tls {
            let ca = ca.ok_or_else(|| HttpError::Tls("an https URL needs --ca FILE".into()))?;
            let roots =
                kerbside_net::https::load_certs(ca).map_err(|e| HttpError::Tls(e.to_string()))?;
            Some(
                kerbside_net::https::client_config(&roots, None)
                    .map_err(|e| HttpError::Tls(e.to_string()))?,
            )
        } else {
            None
        };
        Ok(Client { url, tls, timeout })
    }

    /// The URL.
    pub fn url(&self) -> &RelayUrl {
        &self.url
    }

    fn connect(&self) -> Result<TcpStream, HttpError> {
        let target = format!("{}:{}", self.url.host, self.url.port);
        let addrs: Vec<SocketAddr> = target
            .to_socket_addrs()
            .map_err(|e| HttpError::Connect(target.clone(), e))?
            .collect();
        let mut last = None;
        for a in addrs {
            match TcpStream::connect_timeout(&a, self.timeout) {
                Ok(s) => {
                    s.set_read_timeout(Some(self.timeout))?;
                    s.set_write_timeout(Some(self.timeout))?;
                    return Ok(s);
                }
                Err(e) => last = Some(e),
            }
        }
        Err(HttpError::Connect(
            target,
            last.unwrap_or_else(|| std::io::Error::other("no address")),
        ))
    }

    /// Sends one request (`Connection: close`) and reads the response.
    /// `content_length: None` sends no Content-Length header.
    pub fn send(
        &self,
        method: &str,
        path: &str,
        content_type: Option<&str>,
        content_length: Option<u64>,
        body: &[u8],
    ) -> Result<Response, HttpError> {
        let mut head = format!(
            "{method} {path} HTTP/1.1\r\nHost: {}:{}\r\nUser-Agent: kerbside-conform\r\nConnection: close\r\n",
            self.url.host, self.url.port
        );
        if let Some(ct) = content_type {
            head.push_str(&format!("Content-Type: {ct}\r\n"));
        }
        if let Some(n) = content_length {
            head.push_str(&format!("Content-Length: {n}\r\n"));
        }
        head.push_str("\r\n");
        let head = head.into_bytes();
        // A body shorter than its Content-Length never completes unless the
        // client says it has finished sending: half-close (TCP FIN, or a TLS
        // close_notify) in that case only; a server may otherwise take the
        // half-close as a closed connection and not answer at all.
        let half_close = content_length.is_some_and(|n| n > body.len() as u64);
        let tcp = self.connect()?;
        let raw = match &self.tls {
            Some(cfg) => {
                let name = ServerName::try_from(self.url.host.clone())
                    .map_err(|e| HttpError::Tls(e.to_string()))?;
                let conn = rustls::ClientConnection::new(cfg.clone(), name)
                    .map_err(|e| HttpError::Tls(e.to_string()))?;
                let mut s = rustls::StreamOwned::new(conn, tcp);
                exchange(
                    &mut s,
                    &head,
                    body,
                    half_close,
                    self.timeout,
                    |s: &mut rustls::StreamOwned<_, TcpStream>| {
                        if half_close {
                            s.conn.send_close_notify();
                            let _ = s.flush();
                        }
                    },
                )?
            }
            None => {
                let mut s = tcp;
                exchange(
                    &mut s,
                    &head,
                    body,
                    half_close,
                    self.timeout,
                    |s: &mut TcpStream| {
                        if half_close {
                            let _ = s.shutdown(std::net::Shutdown::Write);
                        }
                    },
                )?
            }
        };
        parse_response(&raw)
    }
}

/// Something that can change its read timeout (a TCP stream, or TLS on one).
pub trait ReadTimeout {
    /// Sets the read timeout of the underlying socket.
    fn set_timeout(&self, t: Duration) -> std::io::Result<()>;
}

impl ReadTimeout for TcpStream {
    fn set_timeout(&self, t: Duration) -> std::io::Result<()> {
        self.set_read_timeout(Some(t))
    }
}

impl<C> ReadTimeout for rustls::StreamOwned<C, TcpStream> {
    fn set_timeout(&self, t: Duration) -> std::io::Result<()> {
        self.sock.set_read_timeout(Some(t))
    }
}

/// Bodies above this (and bodies shorter than their Content-Length) are
/// sent only after a short wait for an early answer
/// (413, 411): a server that refuses from the headers alone and closes
/// would otherwise reset the connection under a client still writing, and
/// the answer would be lost.
const EARLY_ANSWER_BODY: usize = 64 * 1024;

/// Writes the request and reads until the peer closes (or the response is
/// complete by its Content-Length).
fn exchange<S: Read + Write + ReadTimeout>(
    s: &mut S,
    head: &[u8],
    body: &[u8],
    short_body: bool,
    timeout: Duration,
    after_write: impl FnOnce(&mut S),
) -> Result<Vec<u8>, HttpError> {
    let mut buf = Vec::new();
    let mut early = false;
    let mut wrote = s.write_all(head).and_then(|()| s.flush());
    if wrote.is_ok() && (body.len() > EARLY_ANSWER_BODY || short_body) {
        s.set_timeout(Duration::from_millis(300))?;
        let mut first = [0u8; 4096];
        match s.read(&mut first) {
            Ok(n) if n > 0 => {
                buf.extend_from_slice(first.get(..n).unwrap_or_default());
                early = true;
            }
            _ => {}
        }
        s.set_timeout(timeout)?;
    }
    if !early && wrote.is_ok() {
        // A server may answer and close before reading the whole body; a
        // failed write is then not an error, the response is.
        wrote = s.write_all(body).and_then(|()| s.flush());
        after_write(s);
    }
    let mut chunk = [0u8; 16 * 1024];
    while !response_complete(&buf) {
        match s.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => {
                buf.extend_from_slice(chunk.get(..n).unwrap_or_default());
                // A relay never legitimately sends more than 1 MiB (MIT's
                // client gives up there too).
                if buf.len() > 1 << 20 {
                    break;
                }
            }
            Err(e) if buf.is_empty() => {
                return Err(match wrote {
                    Err(w) => HttpError::Io(w),
                    Ok(()) => HttpError::Io(e),
                });
            }
            Err(_) => break,
        }
    }
    if buf.is_empty() {
        return Err(HttpError::NoResponse);
    }
    Ok(buf)
}

fn header_end(buf: &[u8]) -> Option<usize> {
    buf.windows(4).position(|w| w == b"\r\n\r\n").map(|p| p + 4)
}

fn content_length(head: &str) -> Option<usize> {
    head.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.trim()
            .eq_ignore_ascii_case("content-length")
            .then(|| v.trim().parse().ok())
            .flatten()
    })
}

fn response_complete(buf: &[u8]) -> bool {
    let Some(end) = header_end(buf) else {
        return false;
    };
    let head = String::from_utf8_lossy(buf.get(..end).unwrap_or_default());
    content_length(&head).is_some_and(|n| buf.len() >= end + n)
}

/// Parses a status line, headers and body.
pub fn parse_response(raw: &[u8]) -> Result<Response, HttpError> {
    let end = header_end(raw).ok_or_else(|| HttpError::Malformed("no end of headers".into()))?;
    let head = String::from_utf8_lossy(raw.get(..end).unwrap_or_default()).into_owned();
    let status_line = head.lines().next().unwrap_or_default();
    let mut parts = status_line.split_whitespace();
    let version = parts.next().unwrap_or_default();
    if !version.starts_with("HTTP/1.") {
        return Err(HttpError::Malformed(format!("status line {status_line:?}")));
    }
    let status: u16 = parts
        .next()
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| HttpError::Malformed(format!("status line {status_line:?}")))?;
    let mut body = raw.get(end..).unwrap_or_default().to_vec();
    if let Some(n) = content_length(&head) {
        body.truncate(n);
    }
    Ok(Response { status, body })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_parse() {
        let u = RelayUrl::parse("https://relay.example:8443/KdcProxy").unwrap();
        assert!(u.tls);
        assert_eq!(
            (u.host.as_str(), u.port, u.path.as_str()),
            ("relay.example", 8443, "/KdcProxy")
        );
        let u = RelayUrl::parse("http://127.0.0.1:9000").unwrap();
        assert_eq!((u.port, u.path.as_str(), u.tls), (9000, "/KdcProxy", false));
        assert!(RelayUrl::parse("ftp://x").is_err());
        assert!(RelayUrl::parse("https:///x").is_err());
    }

    #[test]
    fn responses_parse() {
        let r =
            parse_response(b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 4\r\n\r\nbusyXX")
                .unwrap();
        assert_eq!((r.status, r.body.as_slice()), (503, &b"busy"[..]));
        let r = parse_response(b"HTTP/1.0 200 OK\r\n\r\nabc").unwrap();
        assert_eq!(r.body, b"abc");
        assert!(parse_response(b"garbage").is_err());
        assert!(parse_response(b"SPDY 200\r\n\r\n").is_err());
    }
}
