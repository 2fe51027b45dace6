//! Where `kerbside load` sends: a KDC over UDP or TCP, or a KKDCP relay,
//! and each client's way to it.

use std::fmt;
use std::net::SocketAddr;
use std::str::FromStr;
use std::time::Duration;

use kerbside_net::kdc_transport::{self, TransportError};
use kerbside_net::kkdcp_transport::{KkdcpClient, KkdcpError, KkdcpUrl};
use kerbside_net::tokio_driver::TokioNet;

use super::{Failure, Plan};
use crate::cmd::CliError;

/// A load target.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Target {
    /// RFC 4120 §7.2.1, one datagram per request.
    Udp(SocketAddr),
    /// RFC 4120 §7.2.2, one connection per request.
    Tcp(SocketAddr),
    /// MS-KKDCP relay over HTTPS (or HTTP).
    Kkdcp(KkdcpUrl),
}

impl Target {
    pub(crate) fn is_loopback(&self) -> bool {
        match self {
            Target::Udp(a) | Target::Tcp(a) => a.ip().is_loopback(),
            Target::Kkdcp(u) => {
                u.host.eq_ignore_ascii_case("localhost")
                    || u.host
                        .parse::<std::net::IpAddr>()
                        .is_ok_and(|ip| ip.is_loopback())
            }
        }
    }
}

/// One client's way to the target: its own UDP socket; a new TCP
/// connection per request (what MIT's KDC expects); for a KKDCP relay, the
/// client's HTTP connection (kept alive or not).
pub(crate) enum Sender {
    /// RFC 4120 §7.2.1, one datagram per request, from this client's socket
    /// (binding a socket per request would load the generator, not the KDC).
    Udp {
        sock: tokio::net::UdpSocket,
        kdc: SocketAddr,
        buf: Vec<u8>,
    },
    /// RFC 4120 §7.2.2, one connection per request.
    Tcp(SocketAddr),
    Kkdcp {
        client: Box<KkdcpClient<TokioNet>>,
        realm: String,
    },
}

impl Sender {
    pub(crate) fn new(plan: &Plan) -> Result<Self, CliError> {
        match &plan.target {
            Target::Kkdcp(url) => {
                let client = KkdcpClient::new(
                    TokioNet,
                    url.clone(),
                    plan.tls.clone(),
                    plan.mode,
                    plan.timeout,
                )
                .map_err(|e| CliError::input(format!("--target {url}: {e}")))?;
                Ok(Sender::Kkdcp {
                    client: Box::new(client),
                    realm: plan.client.realm.clone(),
                })
            }
            Target::Udp(a) => {
                let local: SocketAddr = if a.is_ipv4() {
                    "0.0.0.0:0".parse().unwrap_or(*a)
                } else {
                    "[::]:0".parse().unwrap_or(*a)
                };
                let sock = std::net::UdpSocket::bind(local)
                    .and_then(|s| s.set_nonblocking(true).map(|()| s))
                    .and_then(tokio::net::UdpSocket::from_std)
                    .map_err(|e| CliError::runtime(format!("udp socket: {e}")))?;
                Ok(Sender::Udp {
                    sock,
                    kdc: *a,
                    buf: vec![0u8; 65_536],
                })
            }
            Target::Tcp(a) => Ok(Sender::Tcp(*a)),
        }
    }

    pub(crate) async fn send(
        &mut self,
        request: &[u8],
        timeout: Duration,
    ) -> Result<Vec<u8>, Failure> {
        match self {
            Sender::Udp { sock, kdc, buf } => {
                let exchange = async {
                    sock.send_to(request, *kdc).await?;
                    loop {
                        let (n, from) = sock.recv_from(buf).await?;
                        // A late reply to a timed-out request fails the nonce
                        // check and counts as a bad reply.
                        if from == *kdc {
                            return Ok::<_, std::io::Error>(buf[..n].to_vec());
                        }
                    }
                };
                match tokio::time::timeout(timeout, exchange).await {
                    Ok(r) => r.map_err(|e| Failure::Transport(TransportError::from(e))),
                    Err(_) => Err(Failure::Transport(TransportError::Timeout)),
                }
            }
            Sender::Tcp(a) => kdc_transport::send_tcp(
                &TokioNet,
                *a,
                request,
                timeout,
                kerbside_wire::record::DEFAULT_MAX_FRAME,
            )
            .await
            .map_err(Failure::Transport),
            Sender::Kkdcp { client, realm } => {
                client.exchange(realm, request).await.map_err(|e| match e {
                    KkdcpError::Timeout(_) => Failure::Transport(TransportError::Timeout),
                    other => Failure::Proxy(other.to_string()),
                })
            }
        }
    }
}

impl FromStr for Target {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        if s.starts_with("https://") || s.starts_with("http://") {
            return s
                .parse::<KkdcpUrl>()
                .map(Target::Kkdcp)
                .map_err(|e| e.to_string());
        }
        let (scheme, rest) = s.split_once("://").ok_or_else(|| {
            format!("{s}: expected udp://HOST:PORT, tcp://HOST:PORT or https://HOST:PORT/KdcProxy")
        })?;
        let addr: SocketAddr = rest
            .trim_end_matches('/')
            .parse()
            .map_err(|e| format!("{s}: {e}"))?;
        match scheme {
            "udp" => Ok(Target::Udp(addr)),
            "tcp" => Ok(Target::Tcp(addr)),
            other => Err(format!(
                "{s}: unsupported scheme {other:?} (udp, tcp, https, http)"
            )),
        }
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::Udp(a) => write!(f, "udp://{a}"),
            Target::Tcp(a) => write!(f, "tcp://{a}"),
            Target::Kkdcp(u) => write!(f, "{u}"),
        }
    }
}
