//! The KKDCP relay on the network: hyper 1 HTTP/1.1 with keep-alive,
//! optional TLS (tokio-rustls), and the bounded upstream exchange, driving
//! the sans-IO [`kerbside_relay::Relay`].
//!
//! Written once against [`Net`] and [`Clock`]: the same code serves real
//! sockets (`kerbside serve relay`) and simulated ones (turmoil). Hence:
//! hyper's timer is [`TokioTimer`] (tokio time is simulated time under
//! turmoil), its automatic `date:` header is off (it reads the real clock),
//! and the TLS configuration is a parameter (the simulation brings its own
//! deterministic one). Connections are served with `spawn_local`: run
//! [`RelayServer::serve`] inside a `LocalSet` (turmoil hosts already do; real
//! mode runs one current-thread runtime and `LocalSet` per worker).

use std::convert::Infallible;
use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::header::{AUTHORIZATION, CONNECTION, CONTENT_LENGTH, CONTENT_TYPE};
use http_body_util::{BodyExt, Full, LengthLimitError, Limited};
use hyper::body::Incoming;
use hyper::{Request, Response};
use hyper_util::rt::{TokioIo, TokioTimer};
use kerbside_relay::{
    AttemptPlan, AuditSink, ClientInfo, Decision, HttpResponse, Relay, RequestHead, TcpReplyReader,
    Transport, Upstream, UpstreamError, UpstreamHost,
};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use crate::accept::{Slots, accept_loop};
use crate::{Clock, Net, TappedStream, UdpSock};

/// Connection-level limits of the HTTP front end. The relay core bounds
/// what a request may contain; these bound how long a client may hold a
/// connection doing nothing useful (slowloris).
#[derive(Debug, Clone)]
pub struct ServerLimits {
    /// Time allowed for the TLS handshake.
    pub handshake_timeout: Duration,
    /// Time allowed to send a request's headers (hyper's header timeout).
    pub header_timeout: Duration,
    /// Time allowed to send a request's body.
    pub body_timeout: Duration,
    /// Most connections one server instance holds at once; more are closed
    /// on accept.
    pub max_connections: usize,
}

impl Default for ServerLimits {
    fn default() -> Self {
        ServerLimits {
            handshake_timeout: Duration::from_secs(10),
            header_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(10),
            max_connections: 4096,
        }
    }
}

struct Inner<N, C> {
    net: N,
    clock: C,
    relay: Arc<Relay>,
    tls: Option<tokio_rustls::TlsAcceptor>,
    audit: Arc<dyn AuditSink>,
    limits: ServerLimits,
    active: Slots,
}

/// One relay front end (per worker thread or per simulated host).
pub struct RelayServer<N, C> {
    inner: Rc<Inner<N, C>>,
}

impl<N, C> Clone for RelayServer<N, C> {
    fn clone(&self) -> Self {
        RelayServer {
            inner: Rc::clone(&self.inner),
        }
    }
}

impl<N, C> fmt::Debug for RelayServer<N, C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RelayServer")
            .field("tls", &self.inner.tls.is_some())
            .field("limits", &self.inner.limits)
            .field("active", &self.inner.active.open())
            .finish_non_exhaustive()
    }
}

impl<N: Net, C: Clock> RelayServer<N, C> {
    /// A front end for `relay`, speaking TLS when `tls` is given.
    pub fn new(
        net: N,
        clock: C,
        relay: Arc<Relay>,
        tls: Option<Arc<rustls::ServerConfig>>,
        audit: Arc<dyn AuditSink>,
        limits: ServerLimits,
    ) -> Self {
        let inner = Inner {
            net,
            clock,
            relay,
            tls: tls.map(tokio_rustls::TlsAcceptor::from),
            audit,
            limits,
            active: Slots::default(),
        };
        RelayServer {
            inner: Rc::new(inner),
        }
    }

    /// Connections currently open.
    pub fn active_connections(&self) -> usize {
        self.inner.active.open()
    }

    /// Accepts and serves connections forever. Accept errors (out of file
    /// descriptors, aborted handshakes) are logged and retried after a
    /// short pause rather than ending the server.
    pub async fn serve(&self, listener: N::TcpListener) {
        let limit = self.inner.limits.max_connections;
        accept_loop(
            &listener,
            "relay",
            limit,
            &self.inner.active,
            |stream, peer| {
                let this = self.clone();
                async move { this.serve_connection(stream, peer).await }
            },
        )
        .await
    }

    /// Serves one accepted connection until the client closes it (counted
    /// in `active` by [`RelayServer::serve`]'s accept loop meanwhile).
    async fn serve_connection(&self, stream: N::TcpStream, peer: SocketAddr) {
        match &self.inner.tls {
            Some(acceptor) => {
                // The simulation's wire tap sees the session's plaintext.
                let tap = self.inner.net.plaintext_tap(&stream);
                let handshake = tokio::time::timeout(
                    self.inner.limits.handshake_timeout,
                    acceptor.accept(stream),
                );
                let tls = match handshake.await {
                    Ok(Ok(tls)) => tls,
                    Ok(Err(e)) => {
                        tracing::debug!(%peer, error = %e, "relay: TLS handshake failed");
                        return;
                    }
                    Err(_) => {
                        tracing::debug!(%peer, "relay: TLS handshake timed out");
                        return;
                    }
                };
                // rustls has verified the chain against the client CA; the
                // leaf's fingerprint is the identity the core sees.
                let tls_identity = tls
                    .get_ref()
                    .1
                    .peer_certificates()
                    .and_then(|c| c.first())
                    .map(crate::https::cert_identity);
                let tls = TappedStream::new(tls, tap);
                self.serve_http(
                    tls,
                    ClientInfo {
                        addr: Some(peer),
                        tls_identity,
                    },
                )
                .await;
            }
            None => {
                self.serve_http(
                    stream,
                    ClientInfo {
                        addr: Some(peer),
                        tls_identity: None,
                    },
                )
                .await
            }
        }
    }

    async fn serve_http<S>(&self, io: S, client: ClientInfo)
    where
        S: AsyncRead + AsyncWrite + Unpin + 'static,
    {
        let this = self.clone();
        let client = Rc::new(client);
        let service = hyper::service::service_fn(move |req| {
            let this = this.clone();
            let client = Rc::clone(&client);
            async move { Ok::<_, Infallible>(this.handle(req, &client).await) }
        });
        let mut builder = hyper::server::conn::http1::Builder::new();
        builder
            .timer(TokioTimer::new())
            .auto_date_header(false)
            .keep_alive(true)
            .header_read_timeout(self.inner.limits.header_timeout);
        if let Err(e) = builder.serve_connection(TokioIo::new(io), service).await {
            tracing::debug!(error = %e, "relay: connection ended with an error");
        }
    }

    /// One HTTP request, start to finish.
    async fn handle(&self, req: Request<Incoming>, client: &ClientInfo) -> Response<Full<Bytes>> {
        let relay = &self.inner.relay;
        let head = request_head(&req, client);
        let admitted = match relay.check_head(&head, self.inner.clock.now()) {
            Ok(a) => a,
            Err(rejection) => return self.respond(rejection.response, &rejection.audit),
        };
        let body = Limited::new(req.into_body(), admitted.max_body);
        let body = match tokio::time::timeout(self.inner.limits.body_timeout, body.collect()).await
        {
            Ok(Ok(collected)) => collected.to_bytes(),
            Ok(Err(e)) => {
                let too_large = e.downcast_ref::<LengthLimitError>().is_some();
                let r = relay.body_failed(admitted, too_large, self.inner.clock.now());
                return self.respond(r.response, &r.audit);
            }
            Err(_) => {
                let r = relay.body_failed(admitted, false, self.inner.clock.now());
                return self.respond(r.response, &r.audit);
            }
        };
        let mut fwd = match relay.decide(admitted, &body, self.inner.clock.now()) {
            Decision::Forward(f) => f,
            Decision::Reject(r) => return self.respond(r.response, &r.audit),
        };
        while let Some(plan) = fwd.next_attempt(self.inner.clock.now()) {
            let bytes = fwd.bytes_for(plan.upstream.transport);
            match self.attempt(&plan, bytes, fwd.max_reply()).await {
                Ok(reply) => {
                    if let Err(e) = fwd.record_reply(&plan.upstream, reply) {
                        tracing::debug!(upstream = %plan.upstream, error = %e, "relay: unusable upstream reply");
                    }
                }
                Err(e) => {
                    tracing::debug!(upstream = %plan.upstream, error = %e, "relay: upstream attempt failed");
                    fwd.record_failure(&plan.upstream, e);
                }
            }
        }
        let done = relay.finish(fwd, self.inner.clock.now());
        self.respond(done.response, &done.audit)
    }

    fn respond(
        &self,
        response: HttpResponse,
        audit: &kerbside_relay::AuditRecord,
    ) -> Response<Full<Bytes>> {
        self.inner.audit.record(audit);
        to_hyper(response)
    }

    /// One upstream attempt, bounded by the plan's instant.
    async fn attempt(
        &self,
        plan: &AttemptPlan,
        bytes: &[u8],
        max_reply: usize,
    ) -> Result<Vec<u8>, UpstreamError> {
        let budget = plan
            .until
            .duration_since(self.inner.clock.now())
            .unwrap_or(Duration::ZERO);
        match tokio::time::timeout(budget, self.exchange(&plan.upstream, bytes, max_reply)).await {
            Ok(result) => result,
            Err(_) => Err(UpstreamError::Timeout),
        }
    }

    async fn exchange(
        &self,
        upstream: &Upstream,
        bytes: &[u8],
        max_reply: usize,
    ) -> Result<Vec<u8>, UpstreamError> {
        let addr = match &upstream.host {
            UpstreamHost::Addr(a) => *a,
            // A configured name (never one derived from the request).
            UpstreamHost::Name(host, port) => self
                .inner
                .net
                .resolve(host, *port)
                .await
                .map_err(|e| UpstreamError::Resolve(e.to_string()))?,
        };
        match upstream.transport {
            Transport::Tcp => tcp_exchange(&self.inner.net, addr, bytes, max_reply).await,
            Transport::Udp => udp_exchange(&self.inner.net, addr, bytes, max_reply).await,
        }
    }
}

/// RFC 4120 §7.2.2: send the record-marked request, read exactly one
/// record-marked reply, never more than the reader allows (CVE-2025-59089).
async fn tcp_exchange<N: Net>(
    net: &N,
    addr: SocketAddr,
    bytes: &[u8],
    max: usize,
) -> Result<Vec<u8>, UpstreamError> {
    let mut stream = net
        .connect(addr)
        .await
        .map_err(|e| UpstreamError::Connect(e.to_string()))?;
    stream
        .write_all(bytes)
        .await
        .map_err(|e| UpstreamError::Io(e.to_string()))?;
    stream
        .flush()
        .await
        .map_err(|e| UpstreamError::Io(e.to_string()))?;
    let mut reader = TcpReplyReader::new(max);
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let want = reader.read_window(buf.len());
        let Some(window) = buf.get_mut(..want) else {
            return Err(UpstreamError::Io("read window out of range".into()));
        };
        let n = stream
            .read(window)
            .await
            .map_err(|e| UpstreamError::Io(e.to_string()))?;
        if n == 0 {
            return Err(reader.eof_error());
        }
        if reader.feed(buf.get(..n).unwrap_or_default())? {
            return Ok(reader.into_framed());
        }
    }
}

/// RFC 4120 §7.2.1: one datagram out, one back, from the KDC's address only.
async fn udp_exchange<N: Net>(
    net: &N,
    addr: SocketAddr,
    bytes: &[u8],
    max: usize,
) -> Result<Vec<u8>, UpstreamError> {
    let local: SocketAddr = if addr.is_ipv4() {
        (Ipv4Addr::UNSPECIFIED, 0).into()
    } else {
        (Ipv6Addr::UNSPECIFIED, 0).into()
    };
    let socket = net
        .bind_udp(local)
        .await
        .map_err(|e| UpstreamError::Connect(e.to_string()))?;
    socket
        .send_to(bytes, addr)
        .await
        .map_err(|e| UpstreamError::Io(e.to_string()))?;
    // One byte more than allowed tells an oversize datagram from a full one.
    let mut buf = vec![0u8; max.saturating_add(1).min(65_536)];
    loop {
        let (n, from) = socket
            .recv_from(&mut buf)
            .await
            .map_err(|e| UpstreamError::Io(e.to_string()))?;
        if from != addr {
            // Not our KDC: an off-path spoofer or a stray; keep waiting.
            continue;
        }
        if n > max {
            return Err(UpstreamError::TooLarge {
                size: n,
                limit: max,
            });
        }
        return Ok(buf.get(..n).unwrap_or_default().to_vec());
    }
}

fn request_head(req: &Request<Incoming>, client: &ClientInfo) -> RequestHead {
    let header = |name| {
        req.headers()
            .get(name)
            .and_then(|v: &http::HeaderValue| v.to_str().ok())
            .map(str::to_owned)
    };
    RequestHead {
        method: req.method().as_str().to_owned(),
        path: req.uri().path().to_owned(),
        content_type: header(CONTENT_TYPE),
        // hyper has already refused malformed or conflicting lengths; a
        // chunked body has none (411, as kdcproxy).
        content_length: req
            .headers()
            .get(CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok()?.trim().parse().ok()),
        authorization: header(AUTHORIZATION),
        client: client.clone(),
    }
}

fn to_hyper(response: HttpResponse) -> Response<Full<Bytes>> {
    let status = response.status;
    let mut builder = Response::builder()
        .status(status)
        .header(CONTENT_TYPE, response.content_type);
    for (name, value) in response.headers {
        builder = builder.header(name, value);
    }
    if response.close {
        builder = builder.header(CONNECTION, "close");
    }
    builder
        .body(Full::new(Bytes::from(response.body)))
        .unwrap_or_else(|e| {
            // Only a bad header value could get here, and the core builds them
            // all from fixed text and numbers; answer 500 rather than panic.
            tracing::error!(error = %e, status, "relay: could not build response");
            let mut r = Response::new(Full::new(Bytes::from_static(b"Internal error.")));
            *r.status_mut() = http::StatusCode::INTERNAL_SERVER_ERROR;
            r
        })
}
