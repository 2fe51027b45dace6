//! The client side of MS-KKDCP: POST a KDC-PROXY-MESSAGE to a relay over
//! HTTPS (or plain HTTP), on a kept-alive connection or a new one per
//! request, with typed errors.
//!
//! The hyper connection is driven inline with each request rather than on a
//! spawned task, so the client works on any executor (a `LocalSet`, a
//! current-thread or a multi-thread runtime, turmoil) without one.

use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::str::FromStr;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http::header::{AUTHORIZATION, CONNECTION, CONTENT_TYPE, HOST};
use http_body_util::{BodyExt, Full, Limited};
use hyper::client::conn::http1::{Connection, SendRequest};
use hyper_util::rt::TokioIo;
use kerbside_wire::kkdcp::KdcProxyMessage;
use rustls_pki_types::ServerName;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use crate::{Net, TappedStream};

/// MIT's client gives up on a KKDCP reply above 1 MiB (`https_read_bytes`).
pub const MAX_RESPONSE: usize = 1 << 20;

/// A client-side failure.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KkdcpError {
    /// The relay URL does not parse.
    #[error("bad KKDCP URL {url:?}: {why}")]
    Url {
        /// The URL.
        url: String,
        /// What is wrong.
        why: &'static str,
    },
    /// An `https://` URL without a TLS client configuration.
    #[error("https URL given but no TLS client configuration")]
    NoTlsConfig,
    /// The relay's name did not resolve.
    #[error("resolve {host}: {source}")]
    Resolve {
        /// The host.
        host: String,
        /// The error.
        source: io::Error,
    },
    /// TCP connect failed.
    #[error("connect {addr}: {source}")]
    Connect {
        /// The address.
        addr: SocketAddr,
        /// The error.
        source: io::Error,
    },
    /// The TLS handshake failed (untrusted or wrong certificate included).
    #[error("TLS handshake with {host}: {source}")]
    Tls {
        /// The host name checked.
        host: String,
        /// The error.
        source: io::Error,
    },
    /// HTTP protocol failure or the connection closed mid-exchange.
    #[error("HTTP: {0}")]
    Http(#[from] hyper::Error),
    /// The response body exceeded [`MAX_RESPONSE`].
    #[error("response body larger than {MAX_RESPONSE} bytes")]
    ResponseTooLarge,
    /// No response within the timeout.
    #[error("no response within {0:?}")]
    Timeout(Duration),
    /// The relay answered with a status other than 200.
    #[error("relay answered HTTP {status}: {body}")]
    Status {
        /// The status code.
        status: u16,
        /// The (text) body, truncated.
        body: String,
    },
    /// A 200 whose body is not a usable KDC-PROXY-MESSAGE reply.
    #[error("bad KKDCP reply: {0}")]
    BadReply(String),
}

/// `http[s]://HOST[:PORT][/PATH]` (default port 443/80, path `/KdcProxy`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KkdcpUrl {
    /// Whether to speak TLS.
    pub https: bool,
    /// Host name or IP literal (no brackets).
    pub host: String,
    /// Port.
    pub port: u16,
    /// Request path.
    pub path: String,
}

impl fmt::Display for KkdcpUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let scheme = if self.https { "https" } else { "http" };
        if self.host.contains(':') {
            write!(f, "{scheme}://[{}]:{}{}", self.host, self.port, self.path)
        } else {
            write!(f, "{scheme}://{}:{}{}", self.host, self.port, self.path)
        }
    }
}

impl FromStr for KkdcpUrl {
    type Err = KkdcpError;

    fn from_str(url: &str) -> Result<Self, Self::Err> {
        let bad = |why| KkdcpError::Url {
            url: url.to_owned(),
            why,
        };
        let (https, rest) = if let Some(r) = url.strip_prefix("https://") {
            (true, r)
        } else if let Some(r) = url.strip_prefix("http://") {
            (false, r)
        } else {
            return Err(bad("expected http:// or https://"));
        };
        let (authority, path) = match rest.find('/') {
            Some(i) => rest.split_at(i),
            None => (rest, kerbside_relay::DEFAULT_PATH),
        };
        let default_port = if https { 443 } else { 80 };
        let (host, port) = if let Some(r) = authority.strip_prefix('[') {
            let (h, after) = r.split_once(']').ok_or_else(|| bad("unclosed ["))?;
            let port = match after.strip_prefix(':') {
                Some(p) => p.parse().map_err(|_| bad("bad port"))?,
                None if after.is_empty() => default_port,
                None => return Err(bad("junk after ]")),
            };
            (h, port)
        } else {
            match authority.rsplit_once(':') {
                Some((h, p)) => (h, p.parse().map_err(|_| bad("bad port"))?),
                None => (authority, default_port),
            }
        };
        if host.is_empty() || port == 0 {
            return Err(bad("missing host or port 0"));
        }
        Ok(KkdcpUrl {
            https,
            host: host.to_owned(),
            port,
            path: path.to_owned(),
        })
    }
}

/// Whether to keep the connection between requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnectionMode {
    /// One connection for many requests (HTTP/1.1 keep-alive).
    KeepAlive,
    /// A new connection (and TLS handshake) per request, as MIT's client
    /// does (HTTP/1.0, read until close).
    NewConnection,
}

/// A raw HTTP response from the relay.
#[derive(Debug, Clone)]
pub struct KkdcpResponse {
    /// Status code.
    pub status: u16,
    /// Content-Type, if any.
    pub content_type: Option<String>,
    /// The body.
    pub body: Bytes,
}

/// Plain TCP or TLS over it.
#[derive(Debug)]
enum MaybeTls<S> {
    Plain(S),
    Tls(Box<TappedStream<tokio_rustls::client::TlsStream<S>>>),
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncRead for MaybeTls<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            MaybeTls::Plain(s) => Pin::new(s).poll_read(cx, buf),
            MaybeTls::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncWrite for MaybeTls<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            MaybeTls::Plain(s) => Pin::new(s).poll_write(cx, buf),
            MaybeTls::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }
    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            MaybeTls::Plain(s) => Pin::new(s).poll_flush(cx),
            MaybeTls::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }
    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            MaybeTls::Plain(s) => Pin::new(s).poll_shutdown(cx),
            MaybeTls::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }
}

type Body = Full<Bytes>;

struct Conn<S: AsyncRead + AsyncWrite + Unpin + 'static> {
    sender: SendRequest<Body>,
    driver: Pin<Box<Connection<TokioIo<MaybeTls<S>>, Body>>>,
}

/// A KKDCP client for one relay URL.
pub struct KkdcpClient<N: Net> {
    net: N,
    url: KkdcpUrl,
    host_header: String,
    tls: Option<(tokio_rustls::TlsConnector, ServerName<'static>)>,
    mode: ConnectionMode,
    timeout: Duration,
    addr: Option<SocketAddr>,
    conn: Option<Conn<N::TcpStream>>,
    connections: u64,
    bearer: Option<String>,
}

impl<N: Net> fmt::Debug for KkdcpClient<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KkdcpClient")
            .field("url", &self.url.to_string())
            .field("mode", &self.mode)
            .field("connected", &self.conn.is_some())
            .field("connections", &self.connections)
            .finish_non_exhaustive()
    }
}

impl<N: Net> KkdcpClient<N> {
    /// A client for `url`. An `https` URL needs `tls`; the certificate is
    /// checked against the URL's host (name or IP address).
    pub fn new(
        net: N,
        url: KkdcpUrl,
        tls: Option<Arc<rustls::ClientConfig>>,
        mode: ConnectionMode,
        timeout: Duration,
    ) -> Result<Self, KkdcpError> {
        let tls = if url.https {
            let config = tls.ok_or(KkdcpError::NoTlsConfig)?;
            let name = ServerName::try_from(url.host.clone()).map_err(|_| KkdcpError::Url {
                url: url.to_string(),
                why: "host is not a valid TLS server name",
            })?;
            Some((tokio_rustls::TlsConnector::from(config), name))
        } else {
            None
        };
        let default_port = if url.https { 443 } else { 80 };
        // MIT sends `Host: server:port` (krb5 PR #507: servers 400 without it).
        let host = if url.host.contains(':') {
            format!("[{}]", url.host)
        } else {
            url.host.clone()
        };
        let host_header = if url.port == default_port {
            host
        } else {
            format!("{host}:{}", url.port)
        };
        Ok(KkdcpClient {
            net,
            url,
            host_header,
            tls,
            mode,
            timeout,
            addr: None,
            conn: None,
            connections: 0,
            bearer: None,
        })
    }

    /// Sends `Authorization: Bearer <token>` with every request (for relays
    /// that authenticate clients by token).
    #[must_use]
    pub fn with_bearer_token(mut self, token: impl Into<String>) -> Self {
        self.bearer = Some(token.into());
        self
    }

    /// The relay URL.
    pub fn url(&self) -> &KkdcpUrl {
        &self.url
    }

    /// How many connections this client has opened.
    pub fn connections_opened(&self) -> u64 {
        self.connections
    }

    /// POSTs a DER KDC-PROXY-MESSAGE and returns the HTTP response as is.
    pub async fn post(&mut self, body: Bytes) -> Result<KkdcpResponse, KkdcpError> {
        let timeout = self.timeout;
        let attempt = async {
            let reused = self.conn.is_some();
            match self.post_inner(body.clone()).await {
                // A kept-alive connection the server closed just as we sent:
                // nothing was answered, so send again on a fresh connection
                // (once). A repeated KDC request is harmless: the KDC answers
                // again (MIT's lookaside cache exists for exactly this).
                Err(KkdcpError::Http(e))
                    if reused && (e.is_incomplete_message() || e.is_canceled()) =>
                {
                    self.conn = None;
                    self.post_inner(body).await
                }
                other => other,
            }
        };
        match tokio::time::timeout(timeout, attempt).await {
            Ok(r) => {
                if r.is_err() || self.mode == ConnectionMode::NewConnection {
                    self.conn = None;
                }
                r
            }
            Err(_) => {
                self.conn = None;
                Err(KkdcpError::Timeout(timeout))
            }
        }
    }

    /// Sends one bare Kerberos message (no record mark) for `realm` through
    /// the relay and returns the bare reply: MS-KKDCP §2.2.2 framing with the
    /// RFC 4120 §7.2.2 length prefix inside `kerb-message`, checked on the
    /// way back as MIT's client checks it.
    pub async fn exchange(&mut self, realm: &str, message: &[u8]) -> Result<Vec<u8>, KkdcpError> {
        let body = KdcProxyMessage::request(message, realm)
            .map_err(|e| KkdcpError::BadReply(format!("cannot frame request: {e}")))?
            .encode();
        let resp = self.post(Bytes::from(body)).await?;
        if resp.status != 200 {
            let text = String::from_utf8_lossy(
                resp.body
                    .get(..resp.body.len().min(200))
                    .unwrap_or_default(),
            );
            return Err(KkdcpError::Status {
                status: resp.status,
                body: text.trim_end().to_owned(),
            });
        }
        // MS-KKDCP §3.2.5.2 reply; the prefix must match, as MIT's
        // `service_https_read()` requires.
        let reply =
            KdcProxyMessage::decode(&resp.body).map_err(|e| KkdcpError::BadReply(e.to_string()))?;
        let inner = reply
            .kerberos_message()
            .map_err(|e| KkdcpError::BadReply(e.to_string()))?;
        Ok(inner.to_vec())
    }

    async fn post_inner(&mut self, body: Bytes) -> Result<KkdcpResponse, KkdcpError> {
        if let Some(c) = &mut self.conn
            && !conn_usable(c).await
        {
            self.conn = None;
        }
        if self.conn.is_none() {
            self.conn = Some(self.connect().await?);
        }
        let Some(Conn { sender, driver }) = self.conn.as_mut() else {
            return Err(KkdcpError::BadReply("no connection".into()));
        };
        let mut req = hyper::Request::post(self.url.path.as_str())
            .header(HOST, self.host_header.as_str())
            .header(CONTENT_TYPE, kerbside_relay::CONTENT_TYPE_KERBEROS);
        if self.mode == ConnectionMode::NewConnection {
            req = req.header(CONNECTION, "close");
        }
        if let Some(token) = &self.bearer {
            req = req.header(AUTHORIZATION, format!("Bearer {token}"));
        }
        let req = req
            .body(Full::new(body))
            .map_err(|e| KkdcpError::BadReply(format!("building request: {e}")))?;
        let exchange = async {
            let resp = sender.send_request(req).await?;
            let status = resp.status().as_u16();
            let content_type = resp
                .headers()
                .get(CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            let close = resp
                .headers()
                .get(CONNECTION)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.eq_ignore_ascii_case("close"));
            let body = Limited::new(resp.into_body(), MAX_RESPONSE)
                .collect()
                .await
                .map_err(|e| match e.downcast::<hyper::Error>() {
                    Ok(h) => KkdcpError::Http(*h),
                    Err(_) => KkdcpError::ResponseTooLarge,
                })?;
            Ok::<_, KkdcpError>((
                KkdcpResponse {
                    status,
                    content_type,
                    body: body.to_bytes(),
                },
                close,
            ))
        };
        // Poll the connection alongside the exchange: it moves the bytes. It
        // may finish first (the server closed after a complete response, as
        // with `Connection: close`); what it read is already queued for the
        // exchange, which then completes or reports the early close.
        let ((resp, close), driver_done) = {
            tokio::pin!(exchange);
            tokio::select! {
                biased;
                r = &mut exchange => (r?, false),
                c = driver.as_mut() => {
                    c?;
                    (exchange.await?, true)
                }
            }
        };
        if close || driver_done {
            self.conn = None;
        }
        Ok(resp)
    }

    async fn connect(&mut self) -> Result<Conn<N::TcpStream>, KkdcpError> {
        let addr = match self.addr {
            Some(a) => a,
            None => {
                let a = self
                    .net
                    .resolve(&self.url.host, self.url.port)
                    .await
                    .map_err(|source| KkdcpError::Resolve {
                        host: self.url.host.clone(),
                        source,
                    })?;
                self.addr = Some(a);
                a
            }
        };
        let tcp = self
            .net
            .connect(addr)
            .await
            .map_err(|source| KkdcpError::Connect { addr, source })?;
        self.connections += 1;
        let io = match &self.tls {
            Some((connector, name)) => {
                // The simulation's wire tap sees the session's plaintext.
                let tap = self.net.plaintext_tap(&tcp);
                let tls = connector
                    .connect(name.clone(), tcp)
                    .await
                    .map_err(|source| KkdcpError::Tls {
                        host: self.url.host.clone(),
                        source,
                    })?;
                MaybeTls::Tls(Box::new(TappedStream::new(tls, tap)))
            }
            None => MaybeTls::Plain(tcp),
        };
        let (sender, driver) = hyper::client::conn::http1::handshake(TokioIo::new(io)).await?;
        Ok(Conn {
            sender,
            driver: Box::pin(driver),
        })
    }
}

/// Polls an idle kept-alive connection once: if the server closed it since
/// the last request, the driver finishes now and we reconnect instead of
/// failing the next request.
async fn conn_usable<S: AsyncRead + AsyncWrite + Unpin + 'static>(c: &mut Conn<S>) -> bool {
    tokio::select! {
        biased;
        _ = c.driver.as_mut() => false,
        () = std::future::ready(()) => !c.sender.is_closed(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_parse_with_defaults() {
        let u: KkdcpUrl = "https://127.0.0.1:8443/KdcProxy".parse().unwrap();
        assert_eq!(
            u,
            KkdcpUrl {
                https: true,
                host: "127.0.0.1".into(),
                port: 8443,
                path: "/KdcProxy".into()
            }
        );
        let u: KkdcpUrl = "http://relay.lab.test".parse().unwrap();
        assert_eq!((u.https, u.port, u.path.as_str()), (false, 80, "/KdcProxy"));
        let u: KkdcpUrl = "https://[::1]/kkdcp".parse().unwrap();
        assert_eq!(
            (u.host.as_str(), u.port, u.path.as_str()),
            ("::1", 443, "/kkdcp")
        );
        assert_eq!(u.to_string(), "https://[::1]:443/kkdcp");
        for bad in [
            "ftp://h/",
            "https://",
            "https://h:0/",
            "https://h:x/",
            "https://[::1/",
            "h:443",
        ] {
            assert!(bad.parse::<KkdcpUrl>().is_err(), "{bad}");
        }
    }
}
