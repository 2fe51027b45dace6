//! The application server on the network: MIT gss-sample framing
//! (`kerbside_server::sample_proto`) around the sans-IO
//! [`kerbside_server::Acceptor`], one task per connection.
//!
//! Per connection, what MIT's `gss-server` does (`sign_server`):
//! 1. a NOOP token, with CONTEXT_NEXT when the client authenticates (an
//!    unauthenticated client is refused: this server grants nothing
//!    without a context);
//! 2. CONTEXT tokens through the acceptor until it completes; its replies
//!    go back as CONTEXT tokens, including the refusal token (KRB-ERROR,
//!    SPNEGO reject) before the connection is closed; IAKERB's "proxy this
//!    KDC message" goes to a [`KdcForwarder`] (the realm's KDCs over
//!    UDP/TCP, or a LocalKDC inside the server) and its answer back into
//!    the acceptor;
//! 3. DATA tokens, unwrapped and answered with a MIC (or NOOP), until the
//!    client's closing NOOP.
//!
//! Every read has a deadline, tokens are bounded, and each connection ends
//! with one [`AppEvent`] to the [`AppEventSink`]: who authenticated with
//! which mechanism, or why not. Written against [`Net`]/[`Clock`], so the
//! same loop serves real sockets and the simulation; run
//! [`AppServer::serve`] inside a `LocalSet`.

use std::cell::RefCell;
use std::fmt;
use std::net::SocketAddr;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use kerbside_server::app::handle_data;
use kerbside_server::sample_proto::{self, token_flags};
use kerbside_server::{
    AcceptStep, Acceptor, AppService, IakerbSummary, KdcProxyFailure, KdcProxyRequest, Session,
};
use rand_core::RngCore;

use crate::accept::{Slots, accept_loop};
use crate::app_client::{FrameIoError, FramedStream};
use crate::app_kdc_forward::{ForwardTransport, KdcForwarder, NetKdcForwarder};
use crate::{Clock, HostRng, Net};

/// Connection limits.
#[derive(Debug, Clone)]
pub struct AppServerLimits {
    /// Time allowed for each token to arrive.
    pub io_timeout: Duration,
    /// Largest token accepted.
    pub max_token: usize,
    /// Most connections served at once; more are closed on accept.
    pub max_connections: usize,
    /// Most application messages per connection.
    pub max_messages: u32,
    /// Deadline for a proxied KDC exchange (IAKERB).
    pub kdc_timeout: Duration,
}

impl Default for AppServerLimits {
    fn default() -> Self {
        Self {
            io_timeout: Duration::from_secs(10),
            max_token: sample_proto::DEFAULT_MAX_TOKEN,
            max_connections: 1024,
            max_messages: 64,
            kdc_timeout: Duration::from_secs(5),
        }
    }
}

/// How a connection ended.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "outcome", rename_all = "kebab-case")]
pub enum AppOutcome {
    /// A context was established (and `messages` application messages
    /// answered).
    Authenticated {
        /// `user@REALM` or `DOMAIN\user`.
        client: String,
        /// `kerberos` / `ntlm`.
        mechanism: &'static str,
        /// `spnego` / `raw`.
        via: &'static str,
        /// Application messages processed.
        messages: u32,
        /// Set when the ticket came through this server (IAKERB).
        #[serde(skip_serializing_if = "Option::is_none")]
        iakerb: Option<IakerbSummary>,
    },
    /// The acceptor refused the context.
    Refused {
        /// Stable error kind (`kerberos`, `ntlm`, `downgrade-detected`, ...).
        kind: &'static str,
        /// The KRB-ERROR code sent, for Kerberos refusals.
        krb_code: Option<i32>,
        /// The error text.
        error: String,
    },
    /// The client asked for an unauthenticated session.
    Unauthenticated,
    /// The connection failed below the protocol (I/O, timeout, framing,
    /// a message that does not unwrap).
    Failed {
        /// What happened.
        error: String,
    },
}

/// One connection's record.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct AppEvent {
    /// The client's address.
    pub peer: SocketAddr,
    /// What happened.
    #[serde(flatten)]
    pub outcome: AppOutcome,
}

/// Receives one [`AppEvent`] per connection.
pub trait AppEventSink {
    /// A connection ended.
    fn event(&self, event: &AppEvent);
}

/// Discards events.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoEvents;

impl AppEventSink for NoEvents {
    fn event(&self, _: &AppEvent) {}
}

struct Inner<N, C> {
    /// The streams served are `N`'s; the network itself is only used by
    /// the forwarder.
    net: std::marker::PhantomData<N>,
    clock: C,
    rng: RefCell<HostRng>,
    service: Arc<AppService>,
    /// Where IAKERB's KDC messages go.
    forwarder: Rc<dyn KdcForwarder>,
    sink: Rc<dyn AppEventSink>,
    limits: AppServerLimits,
    active: Slots,
}

/// One application server front end (per worker thread or simulated host).
pub struct AppServer<N, C> {
    inner: Rc<Inner<N, C>>,
}

impl<N, C> Clone for AppServer<N, C> {
    fn clone(&self) -> Self {
        Self {
            inner: Rc::clone(&self.inner),
        }
    }
}

impl<N, C> fmt::Debug for AppServer<N, C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AppServer")
            .field("service", &self.inner.service)
            .field("active", &self.inner.active.open())
            .finish_non_exhaustive()
    }
}

/// Why a connection stopped, before it becomes an [`AppOutcome`].
#[derive(Debug)]
enum ConnError {
    Io(FrameIoError),
    Protocol(String),
}

impl From<FrameIoError> for ConnError {
    fn from(e: FrameIoError) -> Self {
        ConnError::Io(e)
    }
}

impl fmt::Display for ConnError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConnError::Io(e) => write!(f, "{e}"),
            ConnError::Protocol(e) => write!(f, "protocol: {e}"),
        }
    }
}

impl<N: Net, C: Clock> AppServer<N, C> {
    /// A front end for `service`, drawing randomness from `rng` and
    /// forwarding IAKERB's KDC messages to `kdc` over TCP (see
    /// [`AppServer::with_forwarder`] for anything else).
    pub fn new(
        net: N,
        clock: C,
        rng: HostRng,
        service: Arc<AppService>,
        kdc: Option<SocketAddr>,
        sink: Rc<dyn AppEventSink>,
        limits: AppServerLimits,
    ) -> Self {
        let forwarder = NetKdcForwarder::new(
            net,
            ForwardTransport::Tcp,
            limits.kdc_timeout,
            limits.max_token,
        )
        .with_default(kdc.into_iter().collect());
        Self {
            inner: Rc::new(Inner {
                net: std::marker::PhantomData,
                clock,
                rng: RefCell::new(rng),
                service,
                forwarder: Rc::new(forwarder),
                sink,
                limits,
                active: Slots::default(),
            }),
        }
    }

    /// Replaces where IAKERB's KDC messages go (call before serving).
    #[must_use]
    pub fn with_forwarder(self, forwarder: Rc<dyn KdcForwarder>) -> Self {
        let inner = match Rc::try_unwrap(self.inner) {
            Ok(mut inner) => {
                inner.forwarder = forwarder;
                inner
            }
            Err(shared) => {
                // Already cloned (serving): leave it, say so.
                tracing::warn!("app: with_forwarder on a server already in use; ignored");
                return Self { inner: shared };
            }
        };
        Self {
            inner: Rc::new(inner),
        }
    }

    /// Connections currently open.
    pub fn active_connections(&self) -> usize {
        self.inner.active.open()
    }

    /// Accepts and serves connections forever (accept errors are logged
    /// and retried after a pause).
    pub async fn serve(&self, listener: N::TcpListener) {
        let limit = self.inner.limits.max_connections;
        accept_loop(
            &listener,
            "app",
            limit,
            &self.inner.active,
            |stream, peer| {
                let this = self.clone();
                async move {
                    let event = this.serve_connection(stream, peer).await;
                    this.inner.sink.event(&event);
                }
            },
        )
        .await
    }

    /// Serves one connection to its end and reports how it went.
    pub async fn serve_connection(&self, stream: N::TcpStream, peer: SocketAddr) -> AppEvent {
        let mut io = FramedStream::new(
            stream,
            self.inner.limits.io_timeout,
            self.inner.limits.max_token,
        );
        let outcome = match self.run(&mut io).await {
            Ok(o) => o,
            Err(e) => AppOutcome::Failed {
                error: e.to_string(),
            },
        };
        io.close().await;
        match &outcome {
            AppOutcome::Authenticated {
                client, mechanism, ..
            } => tracing::info!(%peer, %client, mechanism, "app: authenticated"),
            other => tracing::info!(%peer, outcome = ?other, "app: connection ended"),
        }
        AppEvent { peer, outcome }
    }

    async fn run(&self, io: &mut FramedStream<N::TcpStream>) -> Result<AppOutcome, ConnError> {
        let first = io.recv().await?;
        if first.flags & token_flags::NOOP == 0 {
            return Err(ConnError::Protocol(format!(
                "expected a NOOP token first, got flags {:#04x}",
                first.flags
            )));
        }
        if first.flags & token_flags::CONTEXT_NEXT == 0 {
            return Ok(AppOutcome::Unauthenticated);
        }
        let mut session = match self.establish(io).await? {
            Ok(s) => s,
            Err(refused) => return Ok(refused),
        };
        let mut messages = 0u32;
        loop {
            let frame = io.recv().await?;
            if frame.flags & token_flags::NOOP != 0 {
                break;
            }
            if messages >= self.inner.limits.max_messages {
                return Err(ConnError::Protocol("too many messages".into()));
            }
            let ex = handle_data(&mut session, frame.flags, &frame.token)
                .map_err(|e| ConnError::Protocol(e.to_string()))?;
            messages += 1;
            io.send(ex.reply_flags, &ex.reply).await?;
        }
        Ok(AppOutcome::Authenticated {
            client: session.client,
            mechanism: session.mechanism.name(),
            via: session.via.name(),
            messages,
            iakerb: session.iakerb,
        })
    }

    /// Context establishment: Ok(Ok(session)), Ok(Err(refusal)) or an I/O
    /// failure.
    async fn establish(
        &self,
        io: &mut FramedStream<N::TcpStream>,
    ) -> Result<Result<Box<Session>, AppOutcome>, ConnError> {
        let mut acceptor = Acceptor::new(self.inner.service.clone());
        loop {
            let frame = io.recv().await?;
            if frame.flags & token_flags::CONTEXT == 0 {
                return Err(ConnError::Protocol(format!(
                    "expected a CONTEXT token, got flags {:#04x}",
                    frame.flags
                )));
            }
            let mut step = {
                let now = self.inner.clock.now();
                let mut rng = self.inner.rng.borrow_mut();
                acceptor.step(&frame.token, now, &mut *rng as &mut dyn RngCore)
            };
            // IAKERB: forward KDC messages until the acceptor has a token.
            while let Ok(AcceptStep::ProxyKdc(req)) = &step {
                let answer = self.proxy(req).await;
                let now = self.inner.clock.now();
                let mut rng = self.inner.rng.borrow_mut();
                step = acceptor.kdc_reply(
                    answer.as_deref().map_err(|e| *e),
                    now,
                    &mut *rng as &mut dyn RngCore,
                );
            }
            match step {
                Ok(AcceptStep::Continue(t)) => io.send(token_flags::CONTEXT, &t).await?,
                Ok(AcceptStep::Complete { reply, session }) => {
                    if let Some(t) = reply {
                        io.send(token_flags::CONTEXT, &t).await?;
                    }
                    return Ok(Ok(session));
                }
                Ok(AcceptStep::ProxyKdc(_)) => {
                    return Err(ConnError::Protocol("unreachable IAKERB state".into()));
                }
                Err(f) => {
                    // gss-server sends the acceptor's output token even when
                    // the call fails: the initiator learns why.
                    if let Some(t) = &f.reply {
                        let _ = io.send(token_flags::CONTEXT, t).await;
                    }
                    return Ok(Err(AppOutcome::Refused {
                        kind: f.error.kind(),
                        krb_code: f.error.krb_code(),
                        error: f.error.to_string(),
                    }));
                }
            }
        }
    }

    /// Hands an IAKERB KDC message to the forwarder.
    async fn proxy(&self, req: &KdcProxyRequest) -> Result<Vec<u8>, KdcProxyFailure> {
        let r = self.inner.forwarder.forward(&req.realm, &req.message).await;
        if let Err(e) = &r {
            tracing::debug!(error = ?e, realm = %req.realm, "app: IAKERB KDC exchange failed");
        }
        r
    }
}
