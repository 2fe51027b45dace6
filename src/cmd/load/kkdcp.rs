//! A blocking MS-KKDCP client for the load generator: HTTP/1.1 POST of a
//! KDC-PROXY-MESSAGE (MS-KKDCP §2.2.2) over TLS (rustls) or plain TCP,
//! on one kept-alive connection per client or a new connection per request
//! (MIT's client), from the client's own thread.
//!
//! Why not the library's `KkdcpClient` (hyper on tokio): the generator runs
//! on the machine it loads, and an event loop plus hyper's machinery cost
//! it tens of microseconds per request that the relay under test then
//! lacks. This client writes head and body in one TLS record and reads the
//! response into one buffer. It checks what a client must (status 200, the
//! body is a KDC-PROXY-MESSAGE whose kerb-message carries its length
//! prefix, as MIT's `service_https_read()` requires); everything else about
//! HTTP is the relay's conformance suite's business.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::sync::Arc;
use std::time::Duration;

use kerbside_net::kkdcp_transport::{ConnectionMode, KkdcpUrl};
use kerbside_wire::kkdcp::KdcProxyMessage;
use rustls::pki_types::ServerName;

/// Why an exchange failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub(crate) enum KkdcpFailure {
    /// No answer within the timeout.
    #[error("timed out")]
    Timeout,
    /// Connecting, TLS or the socket failed.
    #[error("{0}")]
    Io(String),
    /// The relay answered something else than 200.
    #[error("HTTP {0}")]
    Status(u16),
    /// The response was not a well-formed KKDCP reply.
    #[error("bad reply: {0}")]
    BadReply(String),
}

impl From<std::io::Error> for KkdcpFailure {
    fn from(e: std::io::Error) -> Self {
        match e.kind() {
            std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut => KkdcpFailure::Timeout,
            _ => KkdcpFailure::Io(e.to_string()),
        }
    }
}

enum Conn {
    Plain(TcpStream),
    Tls(Box<rustls::StreamOwned<rustls::ClientConnection, TcpStream>>),
}

impl Conn {
    fn stream(&mut self) -> &mut dyn ReadWrite {
        match self {
            Conn::Plain(s) => s,
            Conn::Tls(s) => s.as_mut(),
        }
    }
}

trait ReadWrite: Read + Write {}
impl<T: Read + Write> ReadWrite for T {}

/// One client's connection to a relay.
pub(crate) struct KkdcpClient {
    addr: SocketAddr,
    url: KkdcpUrl,
    tls: Option<(Arc<rustls::ClientConfig>, ServerName<'static>)>,
    keep_alive: bool,
    timeout: Duration,
    conn: Option<Conn>,
    buf: Vec<u8>,
}

impl KkdcpClient {
    pub(crate) fn new(
        url: &KkdcpUrl,
        tls: Option<Arc<rustls::ClientConfig>>,
        mode: ConnectionMode,
        timeout: Duration,
    ) -> Result<KkdcpClient, String> {
        let addr = (url.host.as_str(), url.port)
            .to_socket_addrs()
            .map_err(|e| format!("{}: {e}", url.host))?
            .next()
            .ok_or_else(|| format!("{}: no address", url.host))?;
        let tls = match (url.https, tls) {
            (true, Some(cfg)) => {
                let name = ServerName::try_from(url.host.clone())
                    .map_err(|e| format!("{}: {e}", url.host))?;
                Some((cfg, name))
            }
            (true, None) => return Err("an https:// target needs a CA".into()),
            (false, _) => None,
        };
        Ok(KkdcpClient {
            addr,
            url: url.clone(),
            tls,
            keep_alive: mode == ConnectionMode::KeepAlive,
            timeout,
            conn: None,
            buf: Vec::with_capacity(8192),
        })
    }

    fn connect(&self) -> Result<Conn, KkdcpFailure> {
        let tcp = TcpStream::connect_timeout(&self.addr, self.timeout)?;
        tcp.set_read_timeout(Some(self.timeout))?;
        tcp.set_write_timeout(Some(self.timeout))?;
        tcp.set_nodelay(true)?;
        Ok(match &self.tls {
            None => Conn::Plain(tcp),
            Some((cfg, name)) => {
                let c = rustls::ClientConnection::new(Arc::clone(cfg), name.clone())
                    .map_err(|e| KkdcpFailure::Io(format!("TLS: {e}")))?;
                Conn::Tls(Box::new(rustls::StreamOwned::new(c, tcp)))
            }
        })
    }

    /// Sends `message` (a bare AS-REQ/TGS-REQ) for `realm`; returns the
    /// bare Kerberos reply.
    pub(crate) fn exchange(
        &mut self,
        realm: &str,
        message: &[u8],
    ) -> Result<Vec<u8>, KkdcpFailure> {
        let body = KdcProxyMessage::request(message, realm)
            .map_err(|e| KkdcpFailure::BadReply(format!("cannot frame request: {e}")))?
            .encode();
        let host = if self.url.host.contains(':') {
            format!("[{}]:{}", self.url.host, self.url.port)
        } else {
            format!("{}:{}", self.url.host, self.url.port)
        };
        let mut request = format!(
            "POST {} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/kerberos\r\nContent-Length: {}\r\n{}\r\n",
            self.url.path,
            body.len(),
            if self.keep_alive { "" } else { "Connection: close\r\n" }
        )
        .into_bytes();
        request.extend_from_slice(&body);
        // A kept-alive connection the relay closed meanwhile fails on first
        // use: retry once on a new one (not for a fresh connection).
        let (reused, mut conn) = match self.conn.take() {
            Some(c) => (true, c),
            None => (false, self.connect()?),
        };
        let (status, reply, close) = match self.round_trip(&mut conn, &request) {
            Err(KkdcpFailure::Io(_)) if reused => {
                conn = self.connect()?;
                self.round_trip(&mut conn, &request)?
            }
            other => other?,
        };
        if self.keep_alive && !close {
            self.conn = Some(conn);
        }
        if status != 200 {
            return Err(KkdcpFailure::Status(status));
        }
        // MS-KKDCP §3.2.5.2: the reply's kerb-message carries the RFC 4120
        // §7.2.2 length prefix.
        let m =
            KdcProxyMessage::decode(&reply).map_err(|e| KkdcpFailure::BadReply(e.to_string()))?;
        m.kerberos_message()
            .map(<[u8]>::to_vec)
            .map_err(|e| KkdcpFailure::BadReply(e.to_string()))
    }

    /// Writes the request, reads one response: (status, body, server
    /// closes after it).
    fn round_trip(
        &mut self,
        conn: &mut Conn,
        request: &[u8],
    ) -> Result<(u16, Vec<u8>, bool), KkdcpFailure> {
        let s = conn.stream();
        s.write_all(request)?;
        s.flush()?;
        self.buf.clear();
        let head_end = loop {
            if let Some(i) = find(&self.buf, b"\r\n\r\n") {
                break i + 4;
            }
            if self.buf.len() > 64 * 1024 {
                return Err(KkdcpFailure::BadReply("response head over 64 KiB".into()));
            }
            if fill(s, &mut self.buf)? == 0 {
                return Err(KkdcpFailure::Io(
                    "connection closed before a response".into(),
                ));
            }
        };
        let head = Head::parse(self.buf.get(..head_end).unwrap_or_default())?;
        let mut rest = self.buf.split_off(head_end);
        let body = match head.body {
            BodyLength::Fixed(n) => {
                if n > 1 << 20 {
                    return Err(KkdcpFailure::BadReply(format!("body of {n} bytes")));
                }
                while rest.len() < n {
                    if fill(s, &mut rest)? == 0 {
                        return Err(KkdcpFailure::Io("connection closed inside the body".into()));
                    }
                }
                rest.truncate(n);
                rest
            }
            BodyLength::Chunked => dechunk(s, rest)?,
            BodyLength::UntilClose => {
                while fill(s, &mut rest)? != 0 {
                    if rest.len() > 1 << 20 {
                        return Err(KkdcpFailure::BadReply("body over 1 MiB".into()));
                    }
                }
                rest
            }
        };
        Ok((
            head.status,
            body,
            head.close || head.body == BodyLength::UntilClose,
        ))
    }
}

/// Appends what one read returns; 0 at end of stream.
fn fill(s: &mut dyn ReadWrite, buf: &mut Vec<u8>) -> Result<usize, KkdcpFailure> {
    let mut chunk = [0u8; 16 * 1024];
    let n = s.read(&mut chunk)?;
    buf.extend_from_slice(chunk.get(..n).unwrap_or_default());
    Ok(n)
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum BodyLength {
    Fixed(usize),
    Chunked,
    UntilClose,
}

/// The parts of a response head this client acts on.
#[derive(Debug, PartialEq, Eq)]
struct Head {
    status: u16,
    body: BodyLength,
    close: bool,
}

impl Head {
    fn parse(head: &[u8]) -> Result<Head, KkdcpFailure> {
        let bad = |what: &str| KkdcpFailure::BadReply(what.to_owned());
        let text = std::str::from_utf8(head).map_err(|_| bad("response head is not text"))?;
        let mut lines = text.split("\r\n");
        let status_line = lines.next().unwrap_or_default();
        let mut parts = status_line.splitn(3, ' ');
        let version = parts.next().unwrap_or_default();
        if !version.starts_with("HTTP/1.") {
            return Err(bad(&format!("status line {status_line:?}")));
        }
        let status = parts
            .next()
            .and_then(|c| c.parse::<u16>().ok())
            .ok_or_else(|| bad(&format!("status line {status_line:?}")))?;
        let mut body = if version == "HTTP/1.0" {
            BodyLength::UntilClose
        } else {
            BodyLength::Fixed(0)
        };
        let mut close = version == "HTTP/1.0";
        let mut length_seen = false;
        for line in lines.filter(|l| !l.is_empty()) {
            let Some((name, value)) = line.split_once(':') else {
                return Err(bad(&format!("header line {line:?}")));
            };
            let value = value.trim();
            if name.eq_ignore_ascii_case("content-length") {
                let n = value
                    .parse::<usize>()
                    .map_err(|_| bad(&format!("Content-Length {value:?}")))?;
                body = BodyLength::Fixed(n);
                length_seen = true;
            } else if name.eq_ignore_ascii_case("transfer-encoding")
                && value.eq_ignore_ascii_case("chunked")
            {
                body = BodyLength::Chunked;
                length_seen = true;
            } else if name.eq_ignore_ascii_case("connection") {
                close = value.eq_ignore_ascii_case("close");
            }
        }
        if !length_seen && close {
            body = BodyLength::UntilClose;
        }
        Ok(Head {
            status,
            body,
            close,
        })
    }
}

/// RFC 9112 §7.1 chunked body: `size CRLF data CRLF ... 0 CRLF CRLF`.
fn dechunk(s: &mut dyn ReadWrite, mut raw: Vec<u8>) -> Result<Vec<u8>, KkdcpFailure> {
    let mut body = Vec::new();
    let mut at = 0;
    loop {
        let line_end = loop {
            if let Some(i) = find(raw.get(at..).unwrap_or_default(), b"\r\n") {
                break at + i;
            }
            if fill(s, &mut raw)? == 0 {
                return Err(KkdcpFailure::Io("connection closed inside a chunk".into()));
            }
        };
        let size_text = std::str::from_utf8(raw.get(at..line_end).unwrap_or_default())
            .unwrap_or_default()
            .split(';')
            .next()
            .unwrap_or_default()
            .trim();
        let size = usize::from_str_radix(size_text, 16)
            .map_err(|_| KkdcpFailure::BadReply(format!("chunk size {size_text:?}")))?;
        if body.len() + size > 1 << 20 {
            return Err(KkdcpFailure::BadReply("body over 1 MiB".into()));
        }
        let data = line_end + 2;
        while raw.len() < data + size + 2 {
            if fill(s, &mut raw)? == 0 {
                return Err(KkdcpFailure::Io("connection closed inside a chunk".into()));
            }
        }
        if size == 0 {
            return Ok(body);
        }
        body.extend_from_slice(raw.get(data..data + size).unwrap_or_default());
        at = data + size + 2;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// The KKDCP reply carrying `msg` (with its length prefix).
    fn reply_body(msg: &[u8]) -> Vec<u8> {
        KdcProxyMessage::response(msg).unwrap().encode()
    }

    /// A plain-HTTP relay stand-in: answers each request with `respond(n)`
    /// (n counts requests over all connections); counts connections.
    fn server(respond: fn(usize, &[u8]) -> Vec<u8>) -> (KkdcpUrl, Arc<AtomicUsize>) {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        let conns = Arc::new(AtomicUsize::new(0));
        let c = Arc::clone(&conns);
        std::thread::spawn(move || {
            let mut n = 0;
            for s in l.incoming() {
                let mut s = s.unwrap();
                c.fetch_add(1, Ordering::SeqCst);
                let mut buf = Vec::new();
                loop {
                    let mut chunk = [0u8; 4096];
                    let k = match s.read(&mut chunk) {
                        Ok(0) | Err(_) => break,
                        Ok(k) => k,
                    };
                    buf.extend_from_slice(&chunk[..k]);
                    let Some(end) = find(&buf, b"\r\n\r\n") else {
                        continue;
                    };
                    let head = String::from_utf8_lossy(&buf[..end]).to_string();
                    let len: usize = head
                        .lines()
                        .find_map(|l| l.strip_prefix("Content-Length: "))
                        .unwrap()
                        .parse()
                        .unwrap();
                    if buf.len() < end + 4 + len {
                        continue;
                    }
                    let body = buf[end + 4..end + 4 + len].to_vec();
                    buf.drain(..end + 4 + len);
                    let out = respond(n, &body);
                    n += 1;
                    s.write_all(&out).unwrap();
                    if out.starts_with(b"HTTP/1.0") || head.contains("Connection: close") {
                        break;
                    }
                }
            }
        });
        let url: KkdcpUrl = format!("http://127.0.0.1:{port}/KdcProxy").parse().unwrap();
        (url, conns)
    }

    fn ok(body: &[u8]) -> Vec<u8> {
        let mut r = format!(
            "HTTP/1.1 200 OK\r\nContent-Type: application/kerberos\r\nContent-Length: {}\r\n\r\n",
            body.len()
        )
        .into_bytes();
        r.extend_from_slice(body);
        r
    }

    /// Echoes the request's Kerberos message back as the reply.
    fn echo(_: usize, body: &[u8]) -> Vec<u8> {
        let m = KdcProxyMessage::decode(body).unwrap();
        ok(&reply_body(m.kerberos_message().unwrap()))
    }

    #[test]
    fn keep_alive_reuses_one_connection_and_new_connection_does_not() {
        let t = Duration::from_secs(5);
        let (url, conns) = server(echo);
        let mut c = KkdcpClient::new(&url, None, ConnectionMode::KeepAlive, t).unwrap();
        for i in 0..3u8 {
            assert_eq!(c.exchange("LAB.TEST", &[0x6a, i]).unwrap(), [0x6a, i]);
        }
        assert_eq!(conns.load(Ordering::SeqCst), 1);
        let (url, conns) = server(echo);
        let mut c = KkdcpClient::new(&url, None, ConnectionMode::NewConnection, t).unwrap();
        for i in 0..3u8 {
            assert_eq!(c.exchange("LAB.TEST", &[0x6a, i]).unwrap(), [0x6a, i]);
        }
        assert_eq!(conns.load(Ordering::SeqCst), 3);
    }

    #[test]
    fn chunked_http10_statuses_and_a_closed_connection() {
        let t = Duration::from_secs(5);
        // Chunked (in two chunks), then HTTP/1.0 read to the close, then
        // a 503, then a 200 whose body is not a KDC-PROXY-MESSAGE.
        let (url, conns) = server(|n, body| {
            let m = KdcProxyMessage::decode(body).unwrap();
            let r = reply_body(m.kerberos_message().unwrap());
            match n {
                0 => {
                    let (a, b) = r.split_at(3);
                    let mut out = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
                    out.extend_from_slice(format!("{:x}\r\n", a.len()).as_bytes());
                    out.extend_from_slice(a);
                    out.extend_from_slice(format!("\r\n{:x};ext=1\r\n", b.len()).as_bytes());
                    out.extend_from_slice(b);
                    out.extend_from_slice(b"\r\n0\r\n\r\n");
                    out
                }
                1 => {
                    let mut out = b"HTTP/1.0 200 OK\r\n\r\n".to_vec();
                    out.extend_from_slice(&r);
                    out
                }
                2 => b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n".to_vec(),
                _ => ok(b"\x30\x00"),
            }
        });
        let mut c = KkdcpClient::new(&url, None, ConnectionMode::KeepAlive, t).unwrap();
        assert_eq!(c.exchange("LAB.TEST", &[0x6a, 1]).unwrap(), [0x6a, 1]);
        // HTTP/1.0: read until the server closes, then a new connection.
        assert_eq!(c.exchange("LAB.TEST", &[0x6a, 2]).unwrap(), [0x6a, 2]);
        assert!(matches!(
            c.exchange("LAB.TEST", &[0x6a, 3]),
            Err(KkdcpFailure::Status(503))
        ));
        assert!(matches!(
            c.exchange("LAB.TEST", &[0x6a, 4]),
            Err(KkdcpFailure::BadReply(_))
        ));
        assert_eq!(conns.load(Ordering::SeqCst), 2);
    }

    #[test]
    fn heads_are_parsed_strictly_enough() {
        let h = Head::parse(b"HTTP/1.1 200 OK\r\ncontent-length: 12\r\nConnection: close\r\n\r\n")
            .unwrap();
        assert_eq!(
            h,
            Head {
                status: 200,
                body: BodyLength::Fixed(12),
                close: true
            }
        );
        assert!(Head::parse(b"SPDY/3 200 OK\r\n\r\n").is_err());
        assert!(Head::parse(b"HTTP/1.1 abc OK\r\n\r\n").is_err());
        assert!(Head::parse(b"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n").is_err());
        assert!(Head::parse(b"HTTP/1.1 200 OK\r\nno colon\r\n\r\n").is_err());
        let h = Head::parse(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n").unwrap();
        assert_eq!(h.body, BodyLength::UntilClose);
    }

    #[test]
    fn https_needs_a_ca() {
        let url: KkdcpUrl = "https://127.0.0.1:1/KdcProxy".parse().unwrap();
        assert!(
            KkdcpClient::new(
                &url,
                None,
                ConnectionMode::KeepAlive,
                Duration::from_secs(1)
            )
            .is_err()
        );
    }
}
