//! The application client on the network: MIT gss-sample framing around
//! the sans-IO initiators of `kerbside-client`, what MIT's `gss-client`
//! does in `call_server`:
//!
//! 1. NOOP|CONTEXT_NEXT, then CONTEXT tokens until the context is
//!    established (SPNEGO, raw Kerberos, raw IAKERB (`gss-client -iakerb`)
//!    or raw NTLM);
//! 2. one DATA|WRAPPED[|ENCRYPTED]|SEND_MIC token carrying the wrapped
//!    message; the server's MIC token over the plaintext is verified: the
//!    proof that the server holds the context keys;
//! 3. a closing NOOP.
//!
//! [`FramedStream`] (frames with a deadline per read and write) is shared
//! with [`crate::app_server`] and usable by other drivers of the same
//! protocol.

use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use kerbside_client::gss::{Mechanism, ProtectionError, SecurityContext};
use kerbside_client::gss_krb::{GssKrbError, KrbInitiator, KrbInitiatorOptions};
use kerbside_client::iakerb::{IakerbError, IakerbInitiator, IakerbStep};
use kerbside_client::krb::Credentials;
use kerbside_client::ntlm::{NtlmClient, NtlmClientError};
use kerbside_client::spnego::{SpnegoError, SpnegoInitiator, SpnegoStep};
use kerbside_server::sample_proto::{self, Frame, FrameDecoder, token_flags};
use rand_core::RngCore;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use crate::{Clock, Net};

/// A framing-level failure.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FrameIoError {
    /// The socket failed.
    #[error("i/o: {0}")]
    Io(#[from] io::Error),
    /// No complete frame (or write) within the deadline.
    #[error("timed out")]
    Timeout,
    /// The peer closed the connection.
    #[error("connection closed by the peer")]
    Closed,
    /// A frame longer than allowed.
    #[error("{0}")]
    TooLarge(#[from] sample_proto::FrameTooLarge),
}

/// A stream of gss-sample frames with a deadline on every read and write.
#[derive(Debug)]
pub struct FramedStream<S> {
    stream: S,
    decoder: FrameDecoder,
    timeout: Duration,
}

impl<S: AsyncRead + AsyncWrite + Unpin> FramedStream<S> {
    /// Frames over `stream`, refusing tokens above `max_token`.
    pub fn new(stream: S, timeout: Duration, max_token: usize) -> Self {
        Self {
            stream,
            decoder: FrameDecoder::new(max_token),
            timeout,
        }
    }

    /// The next frame.
    pub async fn recv(&mut self) -> Result<Frame, FrameIoError> {
        let read = async {
            let mut buf = [0u8; 4096];
            loop {
                if let Some(f) = self.decoder.next_frame()? {
                    return Ok(f);
                }
                let n = self.stream.read(&mut buf).await?;
                if n == 0 {
                    return Err(FrameIoError::Closed);
                }
                self.decoder.push(buf.get(..n).unwrap_or_default());
            }
        };
        tokio::time::timeout(self.timeout, read)
            .await
            .unwrap_or(Err(FrameIoError::Timeout))
    }

    /// Sends one frame.
    pub async fn send(&mut self, flags: u8, token: &[u8]) -> Result<(), FrameIoError> {
        let frame = sample_proto::encode(flags, token);
        let write = async {
            self.stream.write_all(&frame).await?;
            self.stream.flush().await
        };
        match tokio::time::timeout(self.timeout, write).await {
            Ok(r) => Ok(r?),
            Err(_) => Err(FrameIoError::Timeout),
        }
    }

    /// Shuts the sending side down (best effort).
    pub async fn close(&mut self) {
        let _ = self.stream.shutdown().await;
    }
}

/// What the client authenticates with.
#[derive(Debug)]
#[non_exhaustive]
pub enum ClientMechanism {
    /// SPNEGO (Negotiate) with the initiator's offers.
    Spnego(Box<SpnegoInitiator>),
    /// The raw Kerberos mechanism with a service ticket (MIT `gss-client`
    /// without `-spnego`).
    Kerberos {
        /// The service ticket.
        creds: Box<Credentials>,
        /// GSS flags and channel bindings.
        options: KrbInitiatorOptions,
    },
    /// Raw NTLMSSP (an NTLM-only device).
    Ntlm(Box<NtlmClient>),
    /// Raw IAKERB: the KDC exchanges through the server, then the AP
    /// exchange (MIT `gss-client -iakerb`).
    Iakerb(Box<IakerbInitiator>),
}

/// Client settings.
#[derive(Debug, Clone)]
pub struct AppClientConfig {
    /// Deadline for connecting.
    pub connect_timeout: Duration,
    /// Deadline for each token.
    pub io_timeout: Duration,
    /// Largest token accepted from the server.
    pub max_token: usize,
    /// The application message.
    pub message: Vec<u8>,
    /// Seal the message (gss-client's default; `-nx` turns it off).
    pub encrypt: bool,
}

impl Default for AppClientConfig {
    fn default() -> Self {
        Self {
            connect_timeout: Duration::from_secs(5),
            io_timeout: Duration::from_secs(10),
            max_token: sample_proto::DEFAULT_MAX_TOKEN,
            message: b"hello from kerbside".to_vec(),
            encrypt: true,
        }
    }
}

/// A completed exchange.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppClientOutcome {
    /// The mechanism the context runs on.
    pub mechanism: Mechanism,
    /// Context tokens received from the server.
    pub server_tokens: u32,
}

/// Why the exchange failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AppClientError {
    /// Connecting failed.
    #[error("connect to {addr}: {source}")]
    Connect {
        /// The server.
        addr: SocketAddr,
        /// Why.
        source: io::Error,
    },
    /// Connecting timed out.
    #[error("connect to {0}: timed out")]
    ConnectTimeout(SocketAddr),
    /// Framing or socket failure.
    #[error("{0}")]
    Io(#[from] FrameIoError),
    /// The server closed the connection without a token saying why: during
    /// context establishment (a printer that does not speak Kerberos), or
    /// instead of answering the message (a refused raw NTLM AUTHENTICATE,
    /// which gets no reply token of its own).
    #[error("server closed the connection: authentication refused")]
    RefusedSilently,
    /// A frame of the wrong type.
    #[error("unexpected frame with flags {0:#04x}")]
    UnexpectedFrame(u8),
    /// SPNEGO failed (downgrade detection included).
    #[error("spnego: {0}")]
    Spnego(#[from] SpnegoError),
    /// The Kerberos mechanism failed (KRB-ERROR codes included).
    #[error("kerberos: {0}")]
    Kerberos(#[from] GssKrbError),
    /// The NTLM client failed.
    #[error("ntlm: {0}")]
    Ntlm(#[from] NtlmClientError),
    /// IAKERB failed (85/86 from the server, a KDC error relayed by it, the
    /// AP exchange).
    #[error("iakerb: {0}")]
    Iakerb(#[from] IakerbError),
    /// Wrapping failed, or the server's MIC does not verify.
    #[error("message protection: {0}")]
    Protection(#[from] ProtectionError),
}

impl AppClientError {
    /// The KRB-ERROR code the server sent, if that is what failed.
    pub fn krb_code(&self) -> Option<i32> {
        match self {
            AppClientError::Kerberos(e) => e.krb_code(),
            AppClientError::Spnego(e) => e.krb_code(),
            AppClientError::Iakerb(e) => e.krb_code(),
            _ => None,
        }
    }
}

/// The initiator side of whichever mechanism, behind one step interface.
enum Running {
    Spnego(Box<SpnegoInitiator>),
    Kerberos(Box<KrbInitiator>),
    Ntlm(Box<NtlmClient>),
    Iakerb(Box<IakerbInitiator>),
}

/// What a step asks for.
enum Next {
    Send(Vec<u8>),
    SendAndFinish(Vec<u8>),
    Finish,
}

impl Running {
    fn start(
        mech: ClientMechanism,
        now: std::time::SystemTime,
        rng: &mut dyn RngCore,
    ) -> Result<(Self, Vec<u8>), AppClientError> {
        Ok(match mech {
            ClientMechanism::Spnego(mut s) => {
                let t = s.initial_token(now, rng)?;
                (Running::Spnego(s), t)
            }
            ClientMechanism::Kerberos { creds, options } => {
                let (k, t) = KrbInitiator::start(&creds, &options, now, rng)?;
                (Running::Kerberos(Box::new(k)), t)
            }
            ClientMechanism::Ntlm(mut n) => {
                let t = n.negotiate()?;
                (Running::Ntlm(n), t)
            }
            ClientMechanism::Iakerb(mut ia) => {
                let t = ia.initial_token(now, rng)?;
                (Running::Iakerb(ia), t)
            }
        })
    }

    fn is_complete(&self) -> bool {
        match self {
            Running::Spnego(s) => s.is_complete(),
            Running::Kerberos(k) => k.is_complete(),
            Running::Ntlm(n) => n.is_complete(),
            Running::Iakerb(ia) => ia.is_complete(),
        }
    }

    fn step(
        &mut self,
        token: &[u8],
        now: std::time::SystemTime,
        rng: &mut dyn RngCore,
    ) -> Result<Next, AppClientError> {
        Ok(match self {
            Running::Spnego(s) => match s.step(token, now, rng)? {
                SpnegoStep::Continue(t) => Next::Send(t),
                SpnegoStep::Complete(Some(t)) => Next::SendAndFinish(t),
                SpnegoStep::Complete(None) => Next::Finish,
            },
            Running::Kerberos(k) => {
                k.step(token)?;
                Next::Finish
            }
            Running::Ntlm(n) => Next::SendAndFinish(n.authenticate(token, now, rng)?),
            Running::Iakerb(ia) => match ia.step(token, now, rng)? {
                IakerbStep::Continue(t) => Next::Send(t),
                IakerbStep::Complete(Some(t)) => Next::SendAndFinish(t),
                IakerbStep::Complete(None) => Next::Finish,
            },
        })
    }

    fn into_context(self) -> Result<SecurityContext, AppClientError> {
        Ok(match self {
            Running::Spnego(s) => s.into_context()?,
            Running::Kerberos(k) => k.into_context()?,
            Running::Ntlm(n) => n.into_context()?,
            Running::Iakerb(ia) => ia.into_context()?,
        })
    }
}

/// Authenticates to `server` and runs the protected message exchange.
pub async fn run<N: Net, C: Clock>(
    net: &N,
    clock: &C,
    rng: &mut dyn RngCore,
    server: SocketAddr,
    mechanism: ClientMechanism,
    config: &AppClientConfig,
) -> Result<AppClientOutcome, AppClientError> {
    let stream = match tokio::time::timeout(config.connect_timeout, net.connect(server)).await {
        Ok(Ok(s)) => s,
        Ok(Err(source)) => {
            return Err(AppClientError::Connect {
                addr: server,
                source,
            });
        }
        Err(_) => return Err(AppClientError::ConnectTimeout(server)),
    };
    let mut io = FramedStream::new(stream, config.io_timeout, config.max_token);
    let result = exchange(&mut io, clock, rng, mechanism, config).await;
    io.close().await;
    result
}

async fn exchange<S: AsyncRead + AsyncWrite + Unpin, C: Clock>(
    io: &mut FramedStream<S>,
    clock: &C,
    rng: &mut dyn RngCore,
    mechanism: ClientMechanism,
    config: &AppClientConfig,
) -> Result<AppClientOutcome, AppClientError> {
    io.send(token_flags::NOOP | token_flags::CONTEXT_NEXT, &[])
        .await?;
    let (mut running, first) = Running::start(mechanism, clock.now(), rng)?;
    io.send(token_flags::CONTEXT, &first).await?;
    let mut server_tokens = 0;
    // A raw Kerberos context without mutual authentication is complete
    // after the AP-REQ: nothing comes back.
    while !running.is_complete() {
        let frame = match io.recv().await {
            Ok(f) => f,
            Err(FrameIoError::Closed) => return Err(AppClientError::RefusedSilently),
            Err(e) => return Err(e.into()),
        };
        if frame.flags & token_flags::CONTEXT == 0 {
            return Err(AppClientError::UnexpectedFrame(frame.flags));
        }
        server_tokens += 1;
        match running.step(&frame.token, clock.now(), rng)? {
            Next::Send(t) => io.send(token_flags::CONTEXT, &t).await?,
            Next::SendAndFinish(t) => {
                io.send(token_flags::CONTEXT, &t).await?;
                break;
            }
            Next::Finish => break,
        }
    }
    let mut context = running.into_context()?;
    let mechanism = context.mechanism();
    let wrapped = context.wrap(&config.message, config.encrypt, rng)?;
    let mut flags = token_flags::DATA | token_flags::WRAPPED | token_flags::SEND_MIC;
    if config.encrypt || mechanism == Mechanism::Ntlm {
        // NTLM's wrap always seals.
        flags |= token_flags::ENCRYPTED;
    }
    io.send(flags, &wrapped).await?;
    let reply = match io.recv().await {
        Ok(f) => f,
        // Raw NTLM has no final server token: a refused AUTHENTICATE shows
        // only as the message going unanswered.
        Err(FrameIoError::Closed) => return Err(AppClientError::RefusedSilently),
        Err(e) => return Err(e.into()),
    };
    if reply.flags & token_flags::MIC == 0 {
        return Err(AppClientError::UnexpectedFrame(reply.flags));
    }
    context.verify_mic(&config.message, &reply.token)?;
    io.send(token_flags::NOOP, &[]).await?;
    Ok(AppClientOutcome {
        mechanism,
        server_tokens,
    })
}

impl fmt::Display for AppClientOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "authenticated with {} ({} server tokens), server MIC verified",
            self.mechanism.name(),
            self.server_tokens
        )
    }
}
