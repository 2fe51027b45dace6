//! The KDC on the network: UDP and TCP on one port, driving the sans-IO
//! [`kerbside_kdc::Kdc`].
//!
//! Written once against [`Net`] and [`Clock`]: the same code answers real
//! sockets (`kerbside serve kdc`) and simulated ones (turmoil). Single
//! threaded: the core and the RNG live in `RefCell`s and are never borrowed
//! across an `.await`; TCP connections run as `spawn_local` tasks, so run
//! [`KdcServer::serve`] inside a `LocalSet` (turmoil hosts already do; real
//! mode runs one current-thread runtime and `LocalSet` per worker, each
//! with a clone of the `Kdc`, which shares the replay cache).
//!
//! Transport rules (RFC 4120 §7.2):
//! * UDP: one datagram in, at most one out; replies above the core's UDP
//!   limit are already KRB_ERR_RESPONSE_TOO_BIG (§7.2.1). Receive errors
//!   caused by ICMP from earlier sends are ignored.
//! * TCP: 4-octet record mark, several requests per connection (§7.2.2
//!   allows keeping the stream open). A mark with the high bit set or a
//!   length over the record cap gets KRB_ERR_FIELD_TOOLONG and the stream is
//!   closed (§7.2.2). A connection idle longer than `idle_timeout` (before a
//!   mark, or in the middle of a record) is closed, as is one whose request
//!   the core drops (it is not speaking Kerberos). Connections beyond
//!   `max_connections` are closed on accept.

use std::cell::RefCell;
use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::rc::Rc;
use std::time::Duration;

use kerbside_kdc::{DropReason, ErrorCode, Kdc, Outcome, RequestSummary, Transport};
use kerbside_wire::ErrorKind;
use kerbside_wire::record::{self, MARK_LEN};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::accept::{Slots, accept_loop};
use crate::{Clock, HostRng, Net, UdpSock};

/// Connection-level limits.
#[derive(Clone, Debug)]
pub struct KdcServerLimits {
    /// A TCP connection with no complete request for this long is closed
    /// (Windows' KDC uses 10 s, KB 2000061).
    pub idle_timeout: Duration,
    /// Largest TCP record accepted (longer marks get KRB_ERR_FIELD_TOOLONG).
    pub max_record: usize,
    /// Most TCP connections served at once.
    pub max_connections: usize,
}

impl Default for KdcServerLimits {
    fn default() -> Self {
        Self {
            idle_timeout: Duration::from_secs(10),
            max_record: record::DEFAULT_MAX_FRAME,
            max_connections: 4096,
        }
    }
}

/// What became of one request, for the log.
#[derive(Clone, Copy, Debug)]
pub enum Disposition<'a> {
    /// A reply of this many bytes was sent (or its send failed: `sent`).
    Replied {
        /// Reply size.
        len: usize,
        /// Whether the send succeeded.
        sent: bool,
    },
    /// No reply, by this rule.
    Dropped(&'a DropReason),
    /// The TCP record mark was refused (KRB_ERR_FIELD_TOOLONG sent, stream closed).
    BadRecord,
}

/// One request, as logged.
#[derive(Clone, Copy, Debug)]
pub struct RequestRecord<'a> {
    /// The client's address.
    pub peer: SocketAddr,
    /// UDP or TCP.
    pub transport: Transport,
    /// What the core said the request was.
    pub summary: &'a RequestSummary,
    /// What was done.
    pub disposition: Disposition<'a>,
    /// Time spent in the core (simulated time under turmoil, so zero there).
    pub elapsed: Duration,
}

impl fmt::Display for RequestRecord<'_> {
    /// `peer=127.0.0.1:5000 proto=udp msg=AS-REQ client=alice@LAB.TEST
    /// server=krbtgt/LAB.TEST@LAB.TEST outcome=error code=25
    /// (KDC_ERR_PREAUTH_REQUIRED) len=221 us=41`; a reply from the
    /// lookaside cache carries ` lookaside` after its length.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let proto = match self.transport {
            Transport::Udp => "udp",
            Transport::Tcp => "tcp",
        };
        write!(
            f,
            "peer={} proto={proto} msg={}",
            self.peer,
            self.summary.kind.name()
        )?;
        write!(
            f,
            " client={}",
            self.summary.client.as_deref().unwrap_or("-")
        )?;
        write!(
            f,
            " server={}",
            self.summary.server.as_deref().unwrap_or("-")
        )?;
        match self.disposition {
            Disposition::Replied { len, sent } => {
                match self.summary.error {
                    Some(c) => write!(f, " outcome=error code={} ({})", c.0, c.name())?,
                    None => f.write_str(" outcome=ok")?,
                }
                write!(f, " len={len}")?;
                if self.summary.from_lookaside {
                    // A retransmission answered from the lookaside cache.
                    f.write_str(" lookaside")?;
                }
                if !sent {
                    f.write_str(" send=failed")?;
                }
            }
            Disposition::Dropped(r) => write!(f, " outcome=drop reason={}", drop_reason(r))?,
            Disposition::BadRecord => {
                write!(f, " outcome=error code=61 (KRB_ERR_FIELD_TOOLONG) closed")?
            }
        }
        write!(f, " us={}", self.elapsed.as_micros())
    }
}

fn drop_reason(r: &DropReason) -> String {
    match r {
        DropReason::Empty => "empty".to_owned(),
        DropReason::NotARequest { tag } => format!("not-a-request(tag=0x{tag:02x})"),
        DropReason::Malformed(e) => format!("malformed({e})").replace(' ', "_"),
        other => format!("{other:?}").replace(' ', "_"),
    }
}

/// Where per-request records go.
pub trait RequestLog {
    /// Records one request.
    fn record(&self, rec: &RequestRecord<'_>);
}

/// Logs each request as a `tracing` event at INFO (target `kerbside::kdc`).
#[derive(Clone, Copy, Debug, Default)]
pub struct TracingLog;

impl RequestLog for TracingLog {
    fn record(&self, rec: &RequestRecord<'_>) {
        tracing::info!(target: "kerbside::kdc", "{rec}");
    }
}

/// Discards records (benchmarks).
#[derive(Clone, Copy, Debug, Default)]
pub struct NoLog;

impl RequestLog for NoLog {
    fn record(&self, _rec: &RequestRecord<'_>) {}
}

struct Inner<N, C> {
    net: N,
    clock: C,
    kdc: RefCell<Kdc>,
    rng: RefCell<HostRng>,
    log: Rc<dyn RequestLog>,
    limits: KdcServerLimits,
    active: Slots,
}

/// One KDC front end (per worker thread or per simulated host).
pub struct KdcServer<N, C> {
    inner: Rc<Inner<N, C>>,
}

impl<N, C> Clone for KdcServer<N, C> {
    fn clone(&self) -> Self {
        Self {
            inner: Rc::clone(&self.inner),
        }
    }
}

impl<N, C> fmt::Debug for KdcServer<N, C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KdcServer")
            .field("realm", &self.inner.kdc.borrow().config().realm)
            .finish()
    }
}

/// Serves `kdc` on UDP and TCP `addr` with default limits, logging through
/// `tracing`. Runs until the bind or a UDP receive fails (TCP accept
/// errors are retried).
pub async fn serve<N: Net, C: Clock>(
    net: N,
    clock: C,
    rng: HostRng,
    kdc: Kdc,
    addr: SocketAddr,
) -> io::Result<()> {
    KdcServer::new(
        net,
        clock,
        rng,
        kdc,
        KdcServerLimits::default(),
        Rc::new(TracingLog),
    )
    .serve(addr)
    .await
}

impl<N: Net, C: Clock> KdcServer<N, C> {
    /// A front end for `kdc`.
    pub fn new(
        net: N,
        clock: C,
        rng: HostRng,
        kdc: Kdc,
        limits: KdcServerLimits,
        log: Rc<dyn RequestLog>,
    ) -> Self {
        Self {
            inner: Rc::new(Inner {
                net,
                clock,
                kdc: RefCell::new(kdc),
                rng: RefCell::new(rng),
                log,
                limits,
                active: Slots::default(),
            }),
        }
    }

    /// Binds UDP and TCP on `addr` and serves both until the UDP side fails
    /// (the TCP accept loop retries its errors).
    pub async fn serve(&self, addr: SocketAddr) -> io::Result<()> {
        // Port 0: TCP takes the port UDP got, so both share one number; that
        // port may already be someone's TCP port, so try a few.
        let attempts = if addr.port() == 0 { 20 } else { 1 };
        let mut last_err = None;
        let mut bound = None;
        for _ in 0..attempts {
            let udp = self.inner.net.bind_udp(addr).await?;
            match self.inner.net.bind_tcp(udp.local_addr()?).await {
                Ok(tcp) => {
                    bound = Some((udp, tcp));
                    break;
                }
                Err(e) => last_err = Some(e),
            }
        }
        let Some((udp, tcp)) = bound else {
            return Err(last_err.unwrap_or_else(|| io::Error::from(io::ErrorKind::AddrInUse)));
        };
        tokio::select! {
            r = self.serve_udp(udp) => r,
            r = self.serve_tcp(tcp) => r,
        }
    }

    /// Answers datagrams on `sock` forever (returns only on a fatal error).
    pub async fn serve_udp(&self, sock: N::UdpSocket) -> io::Result<()> {
        let mut buf = vec![0u8; 65_536];
        loop {
            let (n, peer) = match sock.recv_from(&mut buf).await {
                Ok(x) => x,
                // ICMP port-unreachable from an earlier reply surfaces here on
                // Linux; it concerns that client, not this socket.
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::ConnectionRefused
                            | io::ErrorKind::ConnectionReset
                            | io::ErrorKind::Interrupted
                    ) =>
                {
                    continue;
                }
                Err(e) => return Err(e),
            };
            let request = buf.get(..n).unwrap_or(&[]);
            let (outcome, summary, elapsed) = self.handle(request, Transport::Udp);
            match &outcome {
                Outcome::Reply(reply) => {
                    let sent = sock.send_to(reply, peer).await.is_ok();
                    self.log(
                        peer,
                        Transport::Udp,
                        &summary,
                        Disposition::Replied {
                            len: reply.len(),
                            sent,
                        },
                        elapsed,
                    );
                }
                Outcome::Drop(reason) => self.log(
                    peer,
                    Transport::Udp,
                    &summary,
                    Disposition::Dropped(reason),
                    elapsed,
                ),
            }
        }
    }

    /// Accepts TCP connections on `listener` forever, one `spawn_local`
    /// task each (accept errors are logged and retried, so this returns
    /// no error; the `Result` keeps it a peer of [`KdcServer::serve_udp`]).
    pub async fn serve_tcp(&self, listener: N::TcpListener) -> io::Result<()> {
        let limit = self.inner.limits.max_connections;
        accept_loop(
            &listener,
            "kdc",
            limit,
            &self.inner.active,
            |stream, peer| {
                let this = self.clone();
                async move { this.connection(stream, peer).await }
            },
        )
        .await
    }

    /// Serves one TCP connection until the peer closes, idles out, or sends
    /// something that is not a Kerberos request.
    async fn connection(&self, mut stream: N::TcpStream, peer: SocketAddr) {
        let idle = self.inner.limits.idle_timeout;
        // Bytes read but not yet consumed: one read usually brings the mark
        // and the whole request (and pipelined requests queue up here).
        let mut buf: Vec<u8> = Vec::with_capacity(4096);
        loop {
            // A record must be complete within `idle` of its first byte, and
            // the next one must start within `idle` of the last reply: a
            // byte-at-a-time sender cannot hold the connection forever.
            let deadline = tokio::time::Instant::now() + idle;
            let request = loop {
                if let Some(mark) = buf.first_chunk::<MARK_LEN>() {
                    match record::parse_mark(*mark, self.inner.limits.max_record) {
                        Ok(len) if buf.len() >= MARK_LEN + len => {
                            let request = buf[MARK_LEN..MARK_LEN + len].to_vec();
                            buf.drain(..MARK_LEN + len);
                            break request;
                        }
                        Ok(len) => buf.reserve(MARK_LEN + len - buf.len()),
                        Err(e) => {
                            debug_assert!(matches!(
                                e.kind,
                                ErrorKind::RecordMarkHighBit { .. } | ErrorKind::TooLarge { .. }
                            ));
                            self.refuse_record(&mut stream, peer).await;
                            return;
                        }
                    }
                }
                match tokio::time::timeout_at(deadline, stream.read_buf(&mut buf)).await {
                    Ok(Ok(n)) if n > 0 => {}
                    Ok(Ok(_)) | Ok(Err(_)) | Err(_) => return, // closed, reset, or idle
                }
            };
            let (outcome, summary, elapsed) = self.handle(&request, Transport::Tcp);
            match &outcome {
                Outcome::Reply(reply) => {
                    let sent = match record::encode(reply) {
                        Ok(framed) => matches!(
                            tokio::time::timeout(idle, stream.write_all(&framed)).await,
                            Ok(Ok(()))
                        ),
                        Err(_) => false,
                    };
                    self.log(
                        peer,
                        Transport::Tcp,
                        &summary,
                        Disposition::Replied {
                            len: reply.len(),
                            sent,
                        },
                        elapsed,
                    );
                    if !sent {
                        return;
                    }
                }
                Outcome::Drop(reason) => {
                    self.log(
                        peer,
                        Transport::Tcp,
                        &summary,
                        Disposition::Dropped(reason),
                        elapsed,
                    );
                    return;
                }
            }
        }
    }

    /// RFC 4120 §7.2.2: a record mark with the high bit set, or longer than
    /// the cap, gets KRB_ERR_FIELD_TOOLONG and the stream is closed.
    async fn refuse_record(&self, stream: &mut N::TcpStream, peer: SocketAddr) {
        let now = self.inner.clock.now();
        let err = self.inner.kdc.borrow().error_reply(
            ErrorCode::KRB_ERR_FIELD_TOOLONG,
            "record too long",
            now,
        );
        if let Ok(framed) = record::encode(&err) {
            let _ = tokio::time::timeout(self.inner.limits.idle_timeout, stream.write_all(&framed))
                .await;
        }
        let summary = RequestSummary {
            kind: kerbside_kdc::RequestKind::Other,
            client: None,
            server: None,
            error: Some(ErrorCode::KRB_ERR_FIELD_TOOLONG),
            from_lookaside: false,
        };
        self.log(
            peer,
            Transport::Tcp,
            &summary,
            Disposition::BadRecord,
            Duration::ZERO,
        );
    }

    fn handle(&self, request: &[u8], transport: Transport) -> (Outcome, RequestSummary, Duration) {
        let start = tokio::time::Instant::now();
        let now = self.inner.clock.now();
        let handled = {
            let mut kdc = self.inner.kdc.borrow_mut();
            let mut rng = self.inner.rng.borrow_mut();
            kdc.handle_traced(request, transport, now, &mut *rng)
        };
        (handled.outcome, handled.summary, start.elapsed())
    }

    fn log(
        &self,
        peer: SocketAddr,
        transport: Transport,
        summary: &RequestSummary,
        disposition: Disposition<'_>,
        elapsed: Duration,
    ) {
        self.inner.log.record(&RequestRecord {
            peer,
            transport,
            summary,
            disposition,
            elapsed,
        });
    }
}
