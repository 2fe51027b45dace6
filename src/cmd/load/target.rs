//! Where `kerbside load` sends: a KDC over UDP or TCP, or a KKDCP relay,
//! and each client's way to it.

use std::fmt;
use std::net::SocketAddr;
use std::str::FromStr;

use kerbside_net::kdc_transport::TransportError;
use kerbside_net::kkdcp_transport::KkdcpUrl;

use super::direct::Direct;
use super::kkdcp::{KkdcpClient, KkdcpFailure};
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

/// One client's way to the target, used from the client's own thread: for
/// a KDC, its blocking UDP socket or a new TCP connection per request
/// ([`Direct`]); for a KKDCP relay, its HTTP connection, kept alive or not
/// ([`KkdcpClient`]).
pub(crate) enum Client {
    Direct(Direct),
    Kkdcp { client: KkdcpClient, realm: String },
}

impl Client {
    pub(crate) fn new(plan: &Plan) -> Result<Self, CliError> {
        match &plan.target {
            Target::Kkdcp(url) => {
                let client = KkdcpClient::new(url, plan.tls.clone(), plan.mode, plan.timeout)
                    .map_err(|e| CliError::input(format!("--target {url}: {e}")))?;
                Ok(Client::Kkdcp {
                    client,
                    realm: plan.client.realm.clone(),
                })
            }
            Target::Udp(a) => Direct::udp(*a, plan.timeout)
                .map(Client::Direct)
                .map_err(|e| CliError::runtime(format!("udp socket: {e}"))),
            Target::Tcp(a) => Ok(Client::Direct(Direct::tcp(*a, plan.timeout))),
        }
    }

    /// One exchange: the bare Kerberos reply, or why there is none.
    pub(crate) fn exchange(&mut self, request: &[u8]) -> Result<Vec<u8>, Failure> {
        match self {
            Client::Direct(d) => d.exchange(request).map_err(Failure::Transport),
            Client::Kkdcp { client, realm } => {
                client.exchange(realm, request).map_err(|e| match e {
                    KkdcpFailure::Timeout => Failure::Transport(TransportError::Timeout),
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
