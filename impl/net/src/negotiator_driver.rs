//! The negotiator's driver: executes a sans-IO
//! [`Logon`](kerbside_client::negotiator::Logon) over the [`Net`] and
//! [`Clock`] seams, so the same fallback chain runs on real sockets and in
//! the turmoil simulation.
//!
//! * KDC sends: [`crate::kdc_transport`] over TCP or UDP
//!   (RFC 4120 §7.2), [`crate::kkdcp_transport`] over HTTPS (MS-KKDCP), with
//!   one kept-alive connection per relay when `policy.kkdcp.keep_alive`
//!   (else a new TLS connection per message, as MIT's client does);
//!   a LocalKDC through a registered [`StageHandler`] (without one it is
//!   reported to the negotiator as not available). IAKERB needs no handler:
//!   the negotiator runs it in the application connection (the IAKERB
//!   tokens carry the KDC messages, draft-ietf-kitten-iakerb-03), which
//!   every driver has.
//! * Timers: `tokio::time`, which turmoil simulates. The negotiator owns
//!   every timeout; the transports get a backstop one second longer.
//! * The application server: the gss-sample framing of MIT's `gss-client`
//!   (`kerbside_server::sample_proto`): `NOOP|CONTEXT_NEXT`, then CONTEXT
//!   tokens, then one `DATA|WRAPPED|ENCRYPTED|SEND_MIC` message answered by
//!   a MIC.
//!
//! Determinism: in-flight exchanges are polled in the order they were
//! started, then the application connection, then the earliest timer (a
//! reply that arrives in the same instant as its deadline wins), so a run
//! depends only on the order events become ready, which turmoil fixes.
//!
//! One driver serves one client host. Concurrent logons share its
//! [`HostState`] (negative cache, ticket cache) through a `RefCell`,
//! borrowed only between awaits.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::fmt;
use std::future::{Future, poll_fn};
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;

use kerbside_client::negotiator::{
    Action, AppAction, AppEvent, AppServer, Capabilities, Event, ExchangeId, HostState,
    KdcTransport, Logon, LogonRequest, LogonResult, Now, Policy, Route, TimerId, TransportFailure,
};
use kerbside_server::sample_proto::{self, token_flags};
use rand_core::RngCore;

use crate::app_client::{FrameIoError, FramedStream};
use crate::kdc_transport::{self, TransportError};
use crate::kkdcp_transport::{ConnectionMode, KkdcpClient, KkdcpError, KkdcpUrl};
use crate::{Clock, HostRng, Net};

/// Largest KDC reply accepted over TCP (Windows' MaxTokenSize is 48000;
/// a KDC reply is a few KiB).
pub const MAX_KDC_REPLY: usize = 256 * 1024;

/// Added to the negotiator's own timeouts as the transports' deadline, so
/// the negotiator's timers normally fire first.
const BACKSTOP: Duration = Duration::from_secs(1);

/// A boxed exchange future.
pub type StageFuture<'a> = Pin<Box<dyn Future<Output = Result<Vec<u8>, TransportFailure>> + 'a>>;

/// A pluggable stage: carries a KDC message for the LocalKDC route and
/// returns the reply (`kerbside_net::app_kdc_forward::InProcessKdc` is one).
pub trait StageHandler {
    /// One KDC exchange over `route` for `realm`.
    fn exchange<'a>(
        &'a self,
        route: &'a Route,
        realm: &'a str,
        message: &'a [u8],
    ) -> StageFuture<'a>;
}

/// Counters of one driver (for measurements and tests).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DriverStats {
    /// KDC messages sent, all routes.
    pub kdc_sends: u64,
    /// TCP+TLS connections opened to KKDCP relays.
    pub relay_connections: u64,
    /// Connections opened to application servers.
    pub app_connections: u64,
}

/// Executes logons for one client host.
pub struct NegotiatorDriver<N: Net, C: Clock> {
    net: N,
    clock: C,
    policy: Policy,
    rng: RefCell<HostRng>,
    host: RefCell<HostState>,
    tls: Option<Arc<rustls::ClientConfig>>,
    relays: RefCell<BTreeMap<String, Vec<KkdcpClient<N>>>>,
    localkdc: Option<Rc<dyn StageHandler>>,
    origin: tokio::time::Instant,
    mono: Option<Rc<dyn Fn() -> Duration>>,
    stats: RefCell<DriverStats>,
}

impl<N: Net, C: Clock> fmt::Debug for NegotiatorDriver<N, C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NegotiatorDriver")
            .field("stats", &*self.stats.borrow())
            .field("localkdc", &self.localkdc.is_some())
            .finish_non_exhaustive()
    }
}

impl<N: Net, C: Clock> NegotiatorDriver<N, C> {
    /// A driver for one host. `tls` is the client configuration for
    /// `https://` relays (trust anchors; the simulation's deterministic
    /// provider).
    pub fn new(
        net: N,
        clock: C,
        rng: HostRng,
        policy: Policy,
        tls: Option<Arc<rustls::ClientConfig>>,
    ) -> Self {
        NegotiatorDriver {
            net,
            clock,
            policy,
            rng: RefCell::new(rng),
            host: RefCell::new(HostState::new()),
            tls,
            relays: RefCell::new(BTreeMap::new()),
            localkdc: None,
            origin: tokio::time::Instant::now(),
            mono: None,
            stats: RefCell::new(DriverStats::default()),
        }
    }

    /// Registers the LocalKDC stage handler.
    #[must_use]
    pub fn with_localkdc(mut self, handler: Rc<dyn StageHandler>) -> Self {
        self.localkdc = Some(handler);
        self
    }

    /// Replaces the monotonic clock (default: tokio's, since the driver was
    /// made). The simulation passes its scenario time, which also advances
    /// when idle stretches are skipped, so negative-cache entries expire
    /// across them; timers still sleep on tokio's clock, relative to now.
    #[must_use]
    pub fn with_monotonic(mut self, mono: Rc<dyn Fn() -> Duration>) -> Self {
        self.mono = Some(mono);
        self
    }

    fn mono(&self) -> Duration {
        match &self.mono {
            Some(f) => f(),
            None => tokio::time::Instant::now().saturating_duration_since(self.origin),
        }
    }

    /// The policy.
    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// Replaces the policy (a scenario changing it on its timeline); caches
    /// are kept.
    pub fn set_policy(&mut self, policy: Policy) {
        self.policy = policy;
        self.relays.borrow_mut().clear();
    }

    /// The host's negotiator state (caches), for inspection.
    pub fn host_state(&self) -> std::cell::Ref<'_, HostState> {
        self.host.borrow()
    }

    /// Counters so far.
    pub fn stats(&self) -> DriverStats {
        *self.stats.borrow()
    }

    fn caps(&self) -> Capabilities {
        Capabilities {
            // IAKERB travels in the application connection.
            iakerb: true,
            localkdc: self.localkdc.is_some(),
        }
    }

    fn now(&self) -> Now {
        Now {
            mono: self.mono(),
            wall: self.clock.now(),
        }
    }

    fn with_state<R>(&self, f: impl FnOnce(&mut HostState, &mut dyn RngCore, Now) -> R) -> R {
        let now = self.now();
        let mut host = self.host.borrow_mut();
        let mut rng = self.rng.borrow_mut();
        f(&mut host, &mut *rng, now)
    }

    /// Runs one logon to its end.
    pub async fn logon(&self, req: LogonRequest) -> LogonResult {
        let server = req.server.clone();
        let mut logon = Logon::new(req, &self.policy, self.caps());
        self.with_state(|host, rng, now| logon.start(host, now, rng));
        let mut kdc: Vec<(ExchangeId, StageFuture<'_>)> = Vec::new();
        let mut timers: BTreeSet<(Duration, TimerId)> = BTreeSet::new();
        let mut sleep: Option<(Duration, Pin<Box<tokio::time::Sleep>>)> = None;
        let mut app = AppLink::new(server);
        loop {
            while let Some(a) = logon.poll_action() {
                match a {
                    Action::KdcSend {
                        id,
                        route,
                        realm,
                        message,
                    } => {
                        self.stats.borrow_mut().kdc_sends += 1;
                        kdc.push((id, Box::pin(self.send(route, realm, message))));
                    }
                    Action::Cancel { id } => kdc.retain(|(x, _)| *x != id),
                    Action::SetTimer { id, at } => {
                        timers.insert((at, id));
                    }
                    Action::App(a) => app.queue.push_back(a),
                }
            }
            if let Some(r) = logon.take_result() {
                // gss-client's goodbye NOOP, so the server records a clean
                // end of session (a connection still inside an operation is
                // simply dropped).
                app.queue.clear();
                if let Some(c) = app.closing.take().or(app.conn.take()) {
                    c.finish().await;
                }
                return r;
            }
            let event = self
                .next_event(&mut kdc, &mut timers, &mut sleep, &mut app)
                .await;
            self.with_state(|host, rng, now| logon.handle(host, event, now, rng));
        }
    }

    /// Waits for the next thing to happen.
    async fn next_event<'a>(
        &'a self,
        kdc: &mut Vec<(ExchangeId, StageFuture<'a>)>,
        timers: &mut BTreeSet<(Duration, TimerId)>,
        sleep: &mut Option<(Duration, Pin<Box<tokio::time::Sleep>>)>,
        app: &mut AppLink<'a, N>,
    ) -> Event {
        poll_fn(|cx| {
            // 1. KDC exchanges, in the order they were started.
            for i in 0..kdc.len() {
                let Some((_, fut)) = kdc.get_mut(i) else {
                    break;
                };
                if let Poll::Ready(r) = fut.as_mut().poll(cx) {
                    let (id, _) = kdc.remove(i);
                    return Poll::Ready(match r {
                        Ok(reply) => Event::KdcReply { id, reply },
                        Err(failure) => Event::KdcFailed { id, failure },
                    });
                }
            }
            // 2. The application connection, one operation at a time.
            loop {
                if app.busy.is_none() && !app.start_next(self) {
                    break;
                }
                let Some(fut) = app.busy.as_mut() else {
                    break;
                };
                match fut.as_mut().poll(cx) {
                    Poll::Ready((conn, ev)) => {
                        app.busy = None;
                        app.conn = conn;
                        if let Some(ev) = ev {
                            return Poll::Ready(Event::App(ev));
                        }
                    }
                    Poll::Pending => break,
                }
            }
            // 3. The earliest timer.
            if let Some(&(at, id)) = timers.first() {
                if sleep.as_ref().is_none_or(|(d, _)| *d != at) {
                    // Relative to now: the monotonic source may run ahead of
                    // tokio's clock (the simulation's idle skipping).
                    let wait = at.saturating_sub(self.mono());
                    self.clock.timer_hint(wait);
                    let deadline = tokio::time::Instant::now() + wait;
                    *sleep = Some((at, Box::pin(tokio::time::sleep_until(deadline))));
                }
                if let Some((_, s)) = sleep.as_mut()
                    && s.as_mut().poll(cx).is_ready()
                {
                    timers.pop_first();
                    return Poll::Ready(Event::Timer { id });
                }
            }
            Poll::Pending
        })
        .await
    }

    /// One KDC exchange over `route`.
    fn send(&self, route: Route, realm: String, message: Vec<u8>) -> StageFuture<'_> {
        Box::pin(async move {
            match &route {
                Route::Native {
                    transport,
                    host,
                    port,
                } => {
                    let addr = self
                        .net
                        .resolve(host, *port)
                        .await
                        .map_err(|e| TransportFailure::Resolve(format!("{host}: {e}")))?;
                    let deadline = self.policy.native.timeout + BACKSTOP;
                    let r = match transport {
                        KdcTransport::Tcp => {
                            kdc_transport::send_tcp(
                                &self.net,
                                addr,
                                &message,
                                deadline,
                                MAX_KDC_REPLY,
                            )
                            .await
                        }
                        KdcTransport::Udp => {
                            kdc_transport::send_udp(&self.net, addr, &message, deadline).await
                        }
                    };
                    r.map_err(kdc_failure)
                }
                Route::Kkdcp { url } => self.relay_exchange(url, &realm, &message).await,
                // The negotiator runs IAKERB in the application connection
                // and never sends a bare KDC message this way.
                Route::Iakerb { .. } => Err(TransportFailure::NotAvailable(
                    "IAKERB runs in the application connection".into(),
                )),
                Route::Localkdc => match &self.localkdc {
                    Some(h) => h.exchange(&route, &realm, &message).await,
                    None => Err(TransportFailure::NotAvailable(
                        "no LocalKDC handler in this driver".into(),
                    )),
                },
            }
        })
    }

    /// One exchange through a relay: a pooled kept-alive client, or a new
    /// connection.
    async fn relay_exchange(
        &self,
        url: &str,
        realm: &str,
        message: &[u8],
    ) -> Result<Vec<u8>, TransportFailure> {
        let keep_alive = self.policy.kkdcp.keep_alive;
        let pooled = if keep_alive {
            self.relays
                .borrow_mut()
                .get_mut(url)
                .and_then(|pool| pool.pop())
        } else {
            None
        };
        let mut client = match pooled {
            Some(c) => c,
            None => {
                let parsed: KkdcpUrl = url
                    .parse()
                    .map_err(|e: KkdcpError| TransportFailure::NotAvailable(e.to_string()))?;
                let mode = if keep_alive {
                    ConnectionMode::KeepAlive
                } else {
                    ConnectionMode::NewConnection
                };
                KkdcpClient::new(
                    self.net.clone(),
                    parsed,
                    self.tls.clone(),
                    mode,
                    self.policy.kkdcp.timeout + BACKSTOP,
                )
                .map_err(|e| TransportFailure::NotAvailable(e.to_string()))?
            }
        };
        let before = client.connections_opened();
        let r = client.exchange(realm, message).await;
        self.stats.borrow_mut().relay_connections += client.connections_opened() - before;
        match r {
            Ok(reply) => {
                if keep_alive {
                    self.relays
                        .borrow_mut()
                        .entry(url.to_owned())
                        .or_default()
                        .push(client);
                }
                Ok(reply)
            }
            Err(e) => Err(kkdcp_failure(e)),
        }
    }
}

/// The connection to the application server and the operations queued
/// for it.
struct AppLink<'a, N: Net> {
    server: Option<AppServer>,
    queue: VecDeque<AppAction>,
    conn: Option<AppConn<N>>,
    closing: Option<AppConn<N>>,
    #[allow(clippy::type_complexity)]
    busy: Option<Pin<Box<dyn Future<Output = (Option<AppConn<N>>, Option<AppEvent>)> + 'a>>>,
}

impl<'a, N: Net> AppLink<'a, N> {
    fn new(server: Option<AppServer>) -> Self {
        AppLink {
            server,
            queue: VecDeque::new(),
            conn: None,
            closing: None,
            busy: None,
        }
    }

    /// Starts the next queued operation; false when there is none.
    fn start_next<C: Clock>(&mut self, driver: &'a NegotiatorDriver<N, C>) -> bool {
        loop {
            let Some(op) = self.queue.pop_front() else {
                return false;
            };
            match op {
                AppAction::Close => {
                    // The goodbye NOOP is sent when the logon returns.
                    self.closing = self.conn.take().or(self.closing.take());
                }
                op => {
                    let conn = self.conn.take();
                    let server = self.server.clone();
                    self.busy = Some(Box::pin(app_op(driver, server, conn, op)));
                    return true;
                }
            }
        }
    }
}

/// One application operation: (connect,) send, and receive when owed.
async fn app_op<N: Net, C: Clock>(
    driver: &NegotiatorDriver<N, C>,
    server: Option<AppServer>,
    conn: Option<AppConn<N>>,
    op: AppAction,
) -> (Option<AppConn<N>>, Option<AppEvent>) {
    // An IAKERB answer includes the server's own KDC round trip.
    let timeout = driver.policy.app_timeout.max(driver.policy.iakerb.timeout) + BACKSTOP;
    let fail = |f: TransportFailure| (None, Some(AppEvent::Failed(f)));
    let Some(server) = server else {
        return fail(TransportFailure::NotAvailable(
            "no application server in the request".into(),
        ));
    };
    let first = matches!(op, AppAction::SendToken { first: true, .. });
    let mut conn = match conn {
        Some(c) if !first => c,
        _ => {
            driver.stats.borrow_mut().app_connections += 1;
            let connect = AppConn::connect(&driver.net, &server, timeout);
            match tokio::time::timeout(timeout, connect).await {
                Ok(Ok(c)) => c,
                Ok(Err(f)) => return fail(f),
                Err(_) => return fail(TransportFailure::Timeout),
            }
        }
    };
    let (flags, token, reply) = match op {
        AppAction::SendToken {
            token,
            expect_reply,
            ..
        } => (token_flags::CONTEXT, token, expect_reply),
        AppAction::SendMessage { message } => (
            // gss-client -seal: a sealed Wrap token, answered by a MIC.
            token_flags::DATA
                | token_flags::WRAPPED
                | token_flags::ENCRYPTED
                | token_flags::SEND_MIC,
            message,
            true,
        ),
        AppAction::Close => return (None, None),
    };
    let exchange = async {
        conn.send(flags, &token).await?;
        if reply {
            let frame = conn.recv().await?;
            Ok(Some(frame))
        } else {
            Ok(None)
        }
    };
    match tokio::time::timeout(timeout, exchange).await {
        Ok(Ok(Some(frame))) => {
            let ev = if flags & token_flags::DATA != 0 {
                AppEvent::Message(frame.token)
            } else {
                AppEvent::Token(frame.token)
            };
            (Some(conn), Some(ev))
        }
        Ok(Ok(None)) => (Some(conn), None),
        Ok(Err(f)) => fail(f),
        Err(_) => fail(TransportFailure::Timeout),
    }
}

/// A gss-sample connection (the framing shared with `crate::app_client`).
struct AppConn<N: Net> {
    framed: FramedStream<N::TcpStream>,
}

impl<N: Net> AppConn<N> {
    async fn connect(
        net: &N,
        server: &AppServer,
        timeout: Duration,
    ) -> Result<Self, TransportFailure> {
        let addr: SocketAddr = net
            .resolve(&server.host, server.port)
            .await
            .map_err(|e| TransportFailure::Resolve(format!("{}: {e}", server.host)))?;
        let stream = net.connect(addr).await.map_err(io_failure)?;
        let mut c = AppConn {
            framed: FramedStream::new(stream, timeout, sample_proto::DEFAULT_MAX_TOKEN),
        };
        // gss-client (not -v1): announce that context tokens follow.
        c.send(token_flags::NOOP | token_flags::CONTEXT_NEXT, &[])
            .await?;
        Ok(c)
    }

    async fn send(&mut self, flags: u8, token: &[u8]) -> Result<(), TransportFailure> {
        self.framed.send(flags, token).await.map_err(frame_failure)
    }

    async fn recv(&mut self) -> Result<sample_proto::Frame, TransportFailure> {
        self.framed.recv().await.map_err(frame_failure)
    }

    /// gss-client's goodbye: a NOOP, then close (best effort).
    async fn finish(mut self) {
        let _ = self.framed.send(token_flags::NOOP, &[]).await;
        self.framed.close().await;
    }
}

fn frame_failure(e: FrameIoError) -> TransportFailure {
    match e {
        FrameIoError::Io(e) => io_failure(e),
        FrameIoError::Timeout => TransportFailure::Timeout,
        FrameIoError::Closed => TransportFailure::Reset("the server closed the connection".into()),
        FrameIoError::TooLarge(e) => TransportFailure::TooLarge(e.to_string()),
    }
}

fn io_failure(e: io::Error) -> TransportFailure {
    match e.kind() {
        io::ErrorKind::ConnectionRefused => TransportFailure::Refused,
        io::ErrorKind::TimedOut => TransportFailure::Timeout,
        io::ErrorKind::ConnectionReset
        | io::ErrorKind::ConnectionAborted
        | io::ErrorKind::UnexpectedEof
        | io::ErrorKind::BrokenPipe => TransportFailure::Reset(e.to_string()),
        _ => TransportFailure::Other(e.to_string()),
    }
}

/// kdc_transport's errors in the negotiator's terms.
fn kdc_failure(e: TransportError) -> TransportFailure {
    match e {
        TransportError::Refused => TransportFailure::Refused,
        TransportError::Timeout => TransportFailure::Timeout,
        TransportError::Reset => TransportFailure::Reset("closed or reset by the KDC".into()),
        e @ TransportError::TooBig { .. } => TransportFailure::TooLarge(e.to_string()),
        TransportError::MalformedFrame(w) => TransportFailure::Framing(w.to_string()),
        TransportError::Io(e) => io_failure(e),
    }
}

/// kkdcp_transport's errors in the negotiator's terms.
fn kkdcp_failure(e: KkdcpError) -> TransportFailure {
    match e {
        KkdcpError::Resolve { host, source } => {
            TransportFailure::Resolve(format!("{host}: {source}"))
        }
        KkdcpError::Connect { source, .. } => io_failure(source),
        KkdcpError::Tls { host, source } => TransportFailure::Tls(format!("{host}: {source}")),
        KkdcpError::Http(e) => TransportFailure::Reset(format!("HTTP: {e}")),
        KkdcpError::ResponseTooLarge => TransportFailure::TooLarge("relay response".into()),
        KkdcpError::Timeout(_) => TransportFailure::Timeout,
        KkdcpError::Status { status, .. } => TransportFailure::Http { status },
        KkdcpError::BadReply(why) => TransportFailure::Framing(why),
        e @ (KkdcpError::Url { .. } | KkdcpError::NoTlsConfig) => {
            TransportFailure::NotAvailable(e.to_string())
        }
    }
}
