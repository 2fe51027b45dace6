//! The turmoil driver of the `Net` seam: [`SimNet`] gives one simulated host
//! TCP and UDP over `turmoil::net`, with the firewall enforced, link loss
//! applied, the host's send delay added, and every message recorded into
//! the wire tap.
//!
//! Where each fault is applied:
//!
//! * firewall: at TCP connect (drop: the connect never completes; reject:
//!   `ConnectionRefused` at once), for every UDP datagram (see
//!   [`crate::firewall`] for how replies are attributed to flows), and on
//!   established connections when a rule change cuts them;
//! * UDP loss: here, from the world's seeded RNG (turmoil's `fail_rate`
//!   partitions whole links and would break TCP connections);
//! * TCP loss: modelled as the retransmission timeout added to the lost
//!   segment (RFC 6298 §2.4/§5.5: a lost segment is resent after RTO, RTO
//!   doubling on each further loss), because turmoil's TCP has no
//!   retransmission of its own;
//! * latency and jitter: turmoil's per-link latency (set by the runner);
//! * partitions and crashes: turmoil's own.

use std::cell::Cell;
use std::future::Future;
use std::io;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use kerbside_net::{Net, PlaintextTap, TcpListen, UdpSock};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::Notify;
use tokio::time::Sleep;

use crate::firewall::{Action, Proto};
use crate::trace::{Endpoint, Fate, Layer, Packet, WireRecord};
use crate::world::{ConnState, EPHEMERAL_PORTS, World};

/// Minimum retransmission timeout (RFC 6298 §2.4 says 1 s; Linux and
/// Windows use 200-300 ms in practice, which is what users see on a LAN).
pub const MIN_RTO: Duration = Duration::from_millis(200);

/// Retransmissions before a segment is declared delivered anyway (the model
/// never gives up: a link with loss 1.0 would otherwise stall forever).
const MAX_RETRANSMISSIONS: u32 = 6;

/// The `Net` seam for one simulated host.
#[derive(Clone)]
pub struct SimNet {
    world: World,
    ip: IpAddr,
}

impl std::fmt::Debug for SimNet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimNet")
            .field("ip", &self.ip)
            .finish_non_exhaustive()
    }
}

impl SimNet {
    /// The network as seen from the host at `ip`.
    pub fn new(world: World, ip: IpAddr) -> Self {
        Self { world, ip }
    }

    /// The host's address.
    pub fn ip(&self) -> IpAddr {
        self.ip
    }

    fn now(&self) -> Duration {
        self.world.timebase().sim_elapsed()
    }

    /// turmoil binds only the unspecified address or loopback; a host's own
    /// address means "this host". The simulation is IPv4, and turmoil
    /// panics on a version mismatch, so IPv6 is refused here.
    fn bind_addr(&self, addr: SocketAddr) -> io::Result<SocketAddr> {
        if addr.ip() == self.ip || addr.ip().is_unspecified() {
            return Ok(SocketAddr::new(
                IpAddr::V4(Ipv4Addr::UNSPECIFIED),
                addr.port(),
            ));
        }
        if addr.ip().is_loopback() && addr.is_ipv4() {
            return Ok(addr);
        }
        Err(io::Error::new(
            io::ErrorKind::AddrNotAvailable,
            format!(
                "{addr} is not an address of this simulated host ({})",
                self.ip
            ),
        ))
    }

    async fn send_delay(&self) {
        let d = self.world.send_delay(self.ip);
        if !d.is_zero() {
            self.world.timebase().hint_in(d);
            tokio::time::sleep(d).await;
        }
    }
}

impl Net for SimNet {
    type TcpStream = SimTcpStream;
    type TcpListener = SimTcpListener;
    type UdpSocket = SimUdpSocket;

    async fn resolve(&self, host: &str, port: u16) -> io::Result<SocketAddr> {
        if let Ok(ip) = host.parse::<IpAddr>() {
            return Ok(SocketAddr::new(ip, port));
        }
        // Names are the scenario's host names and aliases.
        match self.world.resolve(host) {
            Some(ip) => Ok(SocketAddr::new(ip, port)),
            None => Err(io::Error::new(
                io::ErrorKind::NotFound,
                format!("no simulated host named {host}"),
            )),
        }
    }

    async fn connect(&self, addr: SocketAddr) -> io::Result<SimTcpStream> {
        let verdict = self
            .world
            .judge(self.ip, addr.ip(), Proto::Tcp, addr.port());
        // The source port is unknown until turmoil assigns one, and a
        // filtered SYN never gets one: such records carry port 0.
        let syn_record = |fate: Fate| WireRecord {
            at: self.now(),
            conn: None,
            src: self.world.endpoint(SocketAddr::new(self.ip, 0)),
            dst: self.world.endpoint(addr),
            layer: Layer::Wire,
            packet: Packet::TcpSyn,
            fate,
        };
        match verdict.action {
            Action::Drop => {
                self.world.record_wire(syn_record(Fate::Dropped {
                    rule: verdict.rule.unwrap_or_default(),
                }));
                // Silence: the caller's own timeout decides when to give up.
                std::future::pending::<()>().await;
                Err(io::Error::new(io::ErrorKind::TimedOut, "unreachable"))
            }
            Action::Reject => {
                self.world.record_wire(syn_record(Fate::Rejected {
                    rule: verdict.rule.unwrap_or_default(),
                }));
                Err(io::Error::new(
                    io::ErrorKind::ConnectionRefused,
                    format!("{addr}: refused by firewall"),
                ))
            }
            Action::Allow => {
                let started = self.now();
                let inner = match turmoil::net::TcpStream::connect(addr).await {
                    Ok(s) => s,
                    Err(e) => {
                        self.world.record_event(
                            "net",
                            format!(
                                "tcp connect {} -> {} failed: {e}",
                                self.ip,
                                self.world.endpoint(addr).host
                            ),
                        );
                        return Err(e);
                    }
                };
                let local = SocketAddr::new(self.ip, inner.local_addr()?.port());
                let conn = self.world.conn_for(local, addr);
                self.world.record_wire(WireRecord {
                    at: started,
                    conn: Some(conn.id),
                    src: self.world.endpoint(local),
                    dst: self.world.endpoint(addr),
                    layer: Layer::Wire,
                    packet: Packet::TcpSyn,
                    fate: Fate::Sent,
                });
                Ok(SimTcpStream::new(inner, self.clone(), conn, local, addr))
            }
        }
    }

    async fn bind_tcp(&self, addr: SocketAddr) -> io::Result<SimTcpListener> {
        let inner = turmoil::net::TcpListener::bind(self.bind_addr(addr)?).await?;
        Ok(SimTcpListener {
            inner,
            net: self.clone(),
        })
    }

    async fn bind_udp(&self, addr: SocketAddr) -> io::Result<SimUdpSocket> {
        let inner = turmoil::net::UdpSocket::bind(self.bind_addr(addr)?).await?;
        let local = SocketAddr::new(self.ip, inner.local_addr()?.port());
        Ok(SimUdpSocket {
            inner,
            net: self.clone(),
            local,
            icmp_error: Cell::new(false),
            icmp: Notify::new(),
        })
    }

    fn plaintext_tap(&self, stream: &SimTcpStream) -> Option<Rc<dyn PlaintextTap>> {
        if !self.world.records_plaintext() {
            return None;
        }
        Some(Rc::new(ConnPlaintextTap {
            world: self.world.clone(),
            conn: stream.conn.id,
            src: self.world.endpoint(stream.local),
            dst: self.world.endpoint(stream.peer),
        }))
    }
}

/// Records one side's TLS plaintext as the trace's plaintext layer.
struct ConnPlaintextTap {
    world: World,
    conn: u64,
    src: Endpoint,
    dst: Endpoint,
}

impl ConnPlaintextTap {
    fn record(&self, packet: Packet) {
        self.world.record_wire(WireRecord {
            at: self.world.timebase().sim_elapsed(),
            conn: Some(self.conn),
            src: self.src.clone(),
            dst: self.dst.clone(),
            layer: Layer::TlsPlaintext,
            packet,
            fate: Fate::Sent,
        });
    }
}

impl PlaintextTap for ConnPlaintextTap {
    fn written(&self, bytes: &[u8]) {
        if !bytes.is_empty() {
            self.record(Packet::TcpData(Bytes::copy_from_slice(bytes)));
        }
    }

    fn shutdown(&self) {
        self.record(Packet::TcpFin);
    }
}

/// A listening TCP socket on a simulated host.
pub struct SimTcpListener {
    inner: turmoil::net::TcpListener,
    net: SimNet,
}

impl std::fmt::Debug for SimTcpListener {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimTcpListener")
            .field("addr", &self.inner.local_addr().ok())
            .finish()
    }
}

impl TcpListen for SimTcpListener {
    type Stream = SimTcpStream;

    async fn accept(&self) -> io::Result<(SimTcpStream, SocketAddr)> {
        let (inner, peer) = self.inner.accept().await?;
        let local = SocketAddr::new(self.net.ip, inner.local_addr()?.port());
        let conn = self.net.world.conn_for(peer, local);
        Ok((
            SimTcpStream::new(inner, self.net.clone(), conn, local, peer),
            peer,
        ))
    }

    fn local_addr(&self) -> io::Result<SocketAddr> {
        Ok(SocketAddr::new(
            self.net.ip,
            self.inner.local_addr()?.port(),
        ))
    }
}

/// A TCP stream on a simulated host.
pub struct SimTcpStream {
    inner: turmoil::net::TcpStream,
    net: SimNet,
    conn: Rc<ConnState>,
    local: SocketAddr,
    peer: SocketAddr,
    /// Delay (send delay and/or retransmissions) the current write waits for.
    pending_delay: Option<Pin<Box<Sleep>>>,
    /// The current write has served its delay and goes out on the next poll.
    delay_served: bool,
    shut: bool,
}

impl std::fmt::Debug for SimTcpStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimTcpStream")
            .field("conn", &self.conn.id)
            .field("local", &self.local)
            .field("peer", &self.peer)
            .finish()
    }
}

impl SimTcpStream {
    fn new(
        inner: turmoil::net::TcpStream,
        net: SimNet,
        conn: Rc<ConnState>,
        local: SocketAddr,
        peer: SocketAddr,
    ) -> Self {
        Self {
            inner,
            net,
            conn,
            local,
            peer,
            pending_delay: None,
            delay_served: false,
            shut: false,
        }
    }

    /// Connection id in the trace.
    pub fn conn_id(&self) -> u64 {
        self.conn.id
    }

    /// Local address.
    pub fn local_addr(&self) -> SocketAddr {
        self.local
    }

    /// Remote address.
    pub fn peer_addr(&self) -> SocketAddr {
        self.peer
    }

    fn record(&self, packet: Packet, fate: Fate) {
        self.net.world.record_wire(WireRecord {
            at: self.net.now(),
            conn: Some(self.conn.id),
            src: self.net.world.endpoint(self.local),
            dst: self.net.world.endpoint(self.peer),
            layer: Layer::Wire,
            packet,
            fate,
        });
    }

    /// The extra time this write waits: the host's send delay plus one RTO
    /// per simulated loss (doubling, RFC 6298 §5.5).
    fn draw_delay(&self) -> Duration {
        let mut d = self.net.world.send_delay(self.net.ip);
        let mut rto = MIN_RTO;
        for _ in 0..MAX_RETRANSMISSIONS {
            if !self
                .net
                .world
                .roll_loss(self.local.ip(), self.peer.ip(), Proto::Tcp)
            {
                break;
            }
            d += rto;
            rto *= 2;
        }
        d
    }
}

fn reset() -> io::Error {
    io::Error::new(
        io::ErrorKind::ConnectionReset,
        "connection reset by firewall",
    )
}

impl AsyncRead for SimTcpStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.conn.cut.get() {
            // A silently dropping firewall: nothing arrives any more; the
            // reader's own timeout decides.
            Some(Action::Drop) => Poll::Pending,
            Some(Action::Reject) => Poll::Ready(Err(reset())),
            _ => Pin::new(&mut self.inner).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for SimTcpStream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.conn.cut.get() {
            Some(Action::Drop) => {
                // The bytes leave the host and vanish at the firewall.
                self.record(
                    Packet::TcpData(Bytes::copy_from_slice(buf)),
                    Fate::Dropped { rule: "cut".into() },
                );
                return Poll::Ready(Ok(buf.len()));
            }
            Some(Action::Reject) => return Poll::Ready(Err(reset())),
            _ => {}
        }
        if buf.is_empty() {
            return Poll::Ready(Ok(0));
        }
        if !self.delay_served && self.pending_delay.is_none() {
            let d = self.draw_delay();
            if d.is_zero() {
                self.delay_served = true;
            } else {
                self.net.world.timebase().hint_in(d);
                self.pending_delay = Some(Box::pin(tokio::time::sleep(d)));
            }
        }
        if let Some(sleep) = self.pending_delay.as_mut() {
            if sleep.as_mut().poll(cx).is_pending() {
                return Poll::Pending;
            }
            self.pending_delay = None;
            self.delay_served = true;
        }
        let r = Pin::new(&mut self.inner).poll_write(cx, buf);
        if let Poll::Ready(Ok(n)) = &r {
            self.delay_served = false;
            let chunk = Bytes::copy_from_slice(buf.get(..*n).unwrap_or(buf));
            self.record(Packet::TcpData(chunk), Fate::Sent);
        }
        r
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if self.shut {
            return Poll::Ready(Ok(()));
        }
        let r = Pin::new(&mut self.inner).poll_shutdown(cx);
        if let Poll::Ready(Ok(())) = r {
            self.shut = true;
            self.record(Packet::TcpFin, Fate::Sent);
        }
        r
    }
}

impl Drop for SimTcpStream {
    fn drop(&mut self) {
        // turmoil sends a FIN when the write half is dropped unshut.
        if !self.shut && self.conn.cut.get().is_none() {
            self.record(Packet::TcpFin, Fate::Sent);
        }
    }
}

/// A UDP socket on a simulated host.
pub struct SimUdpSocket {
    inner: turmoil::net::UdpSocket,
    net: SimNet,
    local: SocketAddr,
    /// An ICMP port-unreachable is waiting for the next receive.
    icmp_error: Cell<bool>,
    icmp: Notify,
}

impl std::fmt::Debug for SimUdpSocket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimUdpSocket")
            .field("local", &self.local)
            .finish()
    }
}

impl UdpSock for SimUdpSocket {
    async fn send_to(&self, buf: &[u8], target: SocketAddr) -> io::Result<usize> {
        self.net.send_delay().await;
        // A datagram from a well-known port to an ephemeral one is a reply:
        // it belongs to the flow the peer opened.
        let is_reply = !EPHEMERAL_PORTS.contains(&self.local.port())
            && EPHEMERAL_PORTS.contains(&target.port());
        let (client, server, port) = if is_reply {
            (target.ip(), self.local.ip(), self.local.port())
        } else {
            (self.local.ip(), target.ip(), target.port())
        };
        let verdict = self.net.world.judge(client, server, Proto::Udp, port);
        let rule = verdict.rule.unwrap_or_default();
        let fate = match verdict.action {
            Action::Allow
                if self
                    .net
                    .world
                    .roll_loss(self.local.ip(), target.ip(), Proto::Udp) =>
            {
                Fate::Lost
            }
            Action::Allow => {
                self.inner.send_to(buf, target).await?;
                Fate::Sent
            }
            Action::Drop => Fate::Dropped { rule },
            Action::Reject => {
                self.icmp_error.set(true);
                self.icmp.notify_waiters();
                Fate::Rejected { rule }
            }
        };
        self.net.world.record_wire(WireRecord {
            at: self.net.now(),
            conn: None,
            src: self.net.world.endpoint(self.local),
            dst: self.net.world.endpoint(target),
            layer: Layer::Wire,
            packet: Packet::Udp(Bytes::copy_from_slice(buf)),
            fate,
        });
        Ok(buf.len())
    }

    async fn recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        let refused = || {
            io::Error::new(
                io::ErrorKind::ConnectionRefused,
                "ICMP port unreachable (firewall reject)",
            )
        };
        if self.icmp_error.replace(false) {
            return Err(refused());
        }
        tokio::select! {
            biased;
            () = self.icmp.notified() => {
                self.icmp_error.set(false);
                Err(refused())
            }
            r = self.inner.recv_from(buf) => r,
        }
    }

    fn local_addr(&self) -> io::Result<SocketAddr> {
        Ok(self.local)
    }
}
