//! Where an IAKERB acceptor's KDC messages go ([`KdcForwarder`]), and the
//! two places they can go:
//!
//! * [`NetKdcForwarder`]: the realm's KDCs over the network, the way MIT's
//!   acceptor does it (`iakerb_acceptor_step` → `krb5_sendto_kdc`): UDP
//!   first when the request is small enough (MIT's `udp_preference_limit`,
//!   1465 bytes), TCP when the KDC answers KRB_ERR_RESPONSE_TOO_BIG
//!   (RFC 4120 §7.2.1) or UDP gets no answer; each KDC of the realm in
//!   turn. A realm with no configured KDC is
//!   [`KdcProxyFailure::KdcNotFound`] (85), KDCs that do not answer are
//!   [`KdcProxyFailure::NoResponse`] (86).
//! * [`InProcessKdc`]: a sans-IO `kerbside_kdc::Kdc` in the server itself:
//!   the LocalKDC "on the target" of DESIGN §3, reached only through
//!   IAKERB (Windows exposes no port for it, protocols.md §3.1).

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::fmt;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::rc::Rc;
use std::time::Duration;

use kerbside_kdc::{Kdc, Outcome, Transport};
use kerbside_server::KdcProxyFailure;
use kerbside_wire::krb::constants::error_code;
use kerbside_wire::krb::{self, KrbMessage};
use rand_core::RngCore;

use crate::kdc_transport::{self, TransportError};
use crate::negotiator_driver::{StageFuture, StageHandler};
use crate::{Clock, HostRng, Net};

/// MIT's default `udp_preference_limit`: larger requests go over TCP only.
pub const UDP_PREFERENCE_LIMIT: usize = 1465;

/// A boxed forwarding future.
pub type ForwardFuture<'a> = Pin<Box<dyn Future<Output = Result<Vec<u8>, KdcProxyFailure>> + 'a>>;

/// Sends one KDC message of `realm` and returns the reply.
pub trait KdcForwarder {
    /// One exchange.
    fn forward<'a>(&'a self, realm: &'a str, message: &'a [u8]) -> ForwardFuture<'a>;
}

/// How [`NetKdcForwarder`] reaches a KDC.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ForwardTransport {
    /// TCP only (RFC 4120 §7.2.2).
    Tcp,
    /// UDP for requests up to [`UDP_PREFERENCE_LIMIT`], TCP after
    /// RESPONSE_TOO_BIG or silence (MIT `krb5_sendto_kdc`).
    UdpThenTcp,
}

/// The KDCs of each realm this server reaches over the network.
pub struct NetKdcForwarder<N> {
    net: N,
    realms: BTreeMap<String, Vec<SocketAddr>>,
    /// KDCs for a realm not listed (the acceptor's configuration already
    /// decides which realms are served at all).
    default: Vec<SocketAddr>,
    transport: ForwardTransport,
    timeout: Duration,
    max_reply: usize,
}

impl<N> fmt::Debug for NetKdcForwarder<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NetKdcForwarder")
            .field("realms", &self.realms)
            .field("default", &self.default)
            .field("transport", &self.transport)
            .finish_non_exhaustive()
    }
}

impl<N: Net> NetKdcForwarder<N> {
    /// No realms yet; `timeout` bounds each KDC attempt.
    pub fn new(net: N, transport: ForwardTransport, timeout: Duration, max_reply: usize) -> Self {
        Self {
            net,
            realms: BTreeMap::new(),
            default: Vec::new(),
            transport,
            timeout,
            max_reply,
        }
    }

    /// Adds `realm`'s KDCs, tried in order (realm names compare without
    /// case, as the acceptor's configuration does).
    #[must_use]
    pub fn with_realm(mut self, realm: &str, kdcs: Vec<SocketAddr>) -> Self {
        self.realms.insert(realm.to_ascii_uppercase(), kdcs);
        self
    }

    /// KDCs used for any realm without its own entry.
    #[must_use]
    pub fn with_default(mut self, kdcs: Vec<SocketAddr>) -> Self {
        self.default = kdcs;
        self
    }

    async fn one_kdc(&self, kdc: SocketAddr, message: &[u8]) -> Result<Vec<u8>, TransportError> {
        if self.transport == ForwardTransport::UdpThenTcp && message.len() <= UDP_PREFERENCE_LIMIT {
            match kdc_transport::send_udp(&self.net, kdc, message, self.timeout / 2).await {
                Ok(reply) if !is_too_big(&reply) => return Ok(reply),
                // RFC 4120 §7.2.1: retry over TCP.
                Ok(_) => {}
                Err(e) => {
                    tracing::debug!(%kdc, error = %e, "iakerb: UDP to the KDC failed, trying TCP")
                }
            }
        }
        kdc_transport::send_tcp(&self.net, kdc, message, self.timeout, self.max_reply).await
    }
}

fn is_too_big(reply: &[u8]) -> bool {
    matches!(krb::decode(reply), Ok(KrbMessage::KrbError(e)) if e.error_code == error_code::KRB_ERR_RESPONSE_TOO_BIG)
}

impl<N: Net> KdcForwarder for NetKdcForwarder<N> {
    fn forward<'a>(&'a self, realm: &'a str, message: &'a [u8]) -> ForwardFuture<'a> {
        Box::pin(async move {
            let kdcs = self
                .realms
                .get(&realm.to_ascii_uppercase())
                .unwrap_or(&self.default);
            if kdcs.is_empty() {
                return Err(KdcProxyFailure::KdcNotFound);
            }
            for kdc in kdcs {
                match self.one_kdc(*kdc, message).await {
                    Ok(reply) => return Ok(reply),
                    Err(e) => {
                        tracing::debug!(%realm, %kdc, error = %e, "iakerb: KDC exchange failed");
                    }
                }
            }
            Err(KdcProxyFailure::NoResponse)
        })
    }
}

/// A KDC inside the server process (LocalKDC on the target): requests are
/// handed to the sans-IO core with the host's clock and RNG.
pub struct InProcessKdc<C> {
    kdc: RefCell<Kdc>,
    clock: C,
    rng: RefCell<HostRng>,
}

impl<C> fmt::Debug for InProcessKdc<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InProcessKdc")
            .field("realm", &self.kdc.borrow().config().realm)
            .finish_non_exhaustive()
    }
}

impl<C: Clock> InProcessKdc<C> {
    /// Serves `kdc`'s realm.
    pub fn new(kdc: Kdc, clock: C, rng: HostRng) -> Self {
        Self {
            kdc: RefCell::new(kdc),
            clock,
            rng: RefCell::new(rng),
        }
    }
}

impl<C: Clock> KdcForwarder for InProcessKdc<C> {
    fn forward<'a>(&'a self, realm: &'a str, message: &'a [u8]) -> ForwardFuture<'a> {
        let answer = (|| {
            let mut kdc = self.kdc.borrow_mut();
            if !kdc.config().realm.eq_ignore_ascii_case(realm) {
                return Err(KdcProxyFailure::KdcNotFound);
            }
            let now = self.clock.now();
            let mut rng = self.rng.borrow_mut();
            // A stream transport: IAKERB tokens carry replies of any size.
            match kdc.handle(message, Transport::Tcp, now, &mut *rng as &mut dyn RngCore) {
                Outcome::Reply(b) => Ok(b),
                Outcome::Drop(reason) => {
                    tracing::debug!(?reason, "iakerb: local KDC dropped the request");
                    Err(KdcProxyFailure::NoResponse)
                }
            }
        })();
        Box::pin(std::future::ready(answer))
    }
}

/// Routes each realm to its own forwarder (a LocalKDC in the server for
/// its machine realm, the network for the domain's), with a fallback.
#[derive(Default)]
pub struct ByRealm {
    routes: BTreeMap<String, Rc<dyn KdcForwarder>>,
    fallback: Option<Rc<dyn KdcForwarder>>,
}

impl fmt::Debug for ByRealm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ByRealm")
            .field("realms", &self.routes.keys().collect::<Vec<_>>())
            .field("fallback", &self.fallback.is_some())
            .finish()
    }
}

impl ByRealm {
    /// No routes.
    pub fn new() -> Self {
        Self::default()
    }

    /// `realm` (any case) goes to `to`.
    #[must_use]
    pub fn route(mut self, realm: &str, to: Rc<dyn KdcForwarder>) -> Self {
        self.routes.insert(realm.to_ascii_uppercase(), to);
        self
    }

    /// Every other realm goes to `to`.
    #[must_use]
    pub fn fallback(mut self, to: Rc<dyn KdcForwarder>) -> Self {
        self.fallback = Some(to);
        self
    }
}

impl KdcForwarder for ByRealm {
    fn forward<'a>(&'a self, realm: &'a str, message: &'a [u8]) -> ForwardFuture<'a> {
        match self
            .routes
            .get(&realm.to_ascii_uppercase())
            .or(self.fallback.as_ref())
        {
            Some(f) => f.forward(realm, message),
            None => Box::pin(std::future::ready(Err(KdcProxyFailure::KdcNotFound))),
        }
    }
}

/// The on-client LocalKDC as the negotiator's LocalKDC stage: a KDC in the
/// client host's process, asked through the same seam a network KDC
/// would be.
impl<C: Clock> StageHandler for InProcessKdc<C> {
    fn exchange<'a>(
        &'a self,
        _route: &'a kerbside_client::negotiator::Route,
        realm: &'a str,
        message: &'a [u8],
    ) -> StageFuture<'a> {
        use kerbside_client::negotiator::TransportFailure;
        let fut = self.forward(realm, message);
        Box::pin(async move {
            fut.await.map_err(|e| match e {
                KdcProxyFailure::KdcNotFound => {
                    TransportFailure::NotAvailable(format!("the LocalKDC does not serve {realm}"))
                }
                _ => TransportFailure::Other("the LocalKDC dropped the request".into()),
            })
        })
    }
}
