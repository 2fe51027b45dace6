//! The shared state of one simulated world: hosts and addresses, the
//! firewall, per-link faults, the wire tap with the invariants it feeds, open TCP
//! connections (so a rule change can cut them) and per-host fault knobs.
//!
//! Everything runs on one thread (turmoil steps hosts one after another), so
//! the state is an `Rc<RefCell<..>>`. No borrow is ever held across an
//! `.await`, and the driver never holds one while calling into turmoil
//! (crash/bounce drop host tasks, whose destructors record into the tap).

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::rc::{Rc, Weak};
use std::sync::Arc;
use std::time::Duration;

use rand::Rng;
use rand_chacha::ChaCha12Rng;

use crate::clock::{SimClock, Timebase};
use crate::firewall::{Action, Firewall, Flow, FlowHost, Proto, Rule, Verdict};
use crate::invariant::{Finding, Invariant};
use crate::results::LogonRecord;
use crate::trace::{Endpoint, EventRecord, Trace, TraceEntry, WireRecord};

/// turmoil's default ephemeral port range (`Builder::ephemeral_ports`):
/// a socket bound in it is a client socket.
pub const EPHEMERAL_PORTS: std::ops::RangeInclusive<u16> = 49152..=65535;

/// A host of the world.
#[derive(Clone, Debug)]
pub struct HostEntry {
    /// Scenario name.
    pub name: String,
    /// Role name (`client`, `kdc`, `relay`, ...).
    pub role: String,
    /// Simulated address.
    pub ip: IpAddr,
    /// Its clock.
    pub clock: SimClock,
    /// How many times the host's software has been started (restart counts).
    pub incarnation: u32,
    /// Extra delay before every message the host sends ("slow upstream").
    pub send_delay: Duration,
}

/// Per-link impairments applied in the `Net` seam (latency and jitter are
/// turmoil's, set on its links).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct LinkImpairment {
    /// Probability a UDP datagram is lost.
    pub udp_loss: f64,
    /// Probability a TCP segment is lost and retransmitted (modelled as
    /// the retransmission timeout added to its delivery).
    pub tcp_loss: f64,
}

/// State shared by both ends of a TCP connection.
#[derive(Debug)]
pub struct ConnState {
    /// Connection id (trace `conn=`).
    pub id: u64,
    /// Initiator's host name.
    pub client_host: String,
    /// Initiator's address.
    pub client_addr: SocketAddr,
    /// Server's host name.
    pub server_host: String,
    /// Server's address.
    pub server_addr: SocketAddr,
    /// Set when a firewall change cut the connection.
    pub cut: Cell<Option<Action>>,
}

pub(crate) struct WorldState {
    hosts: Vec<HostEntry>,
    by_name: BTreeMap<String, usize>,
    by_ip: BTreeMap<IpAddr, usize>,
    /// Lower-cased names and aliases.
    names: BTreeMap<String, usize>,
    pub(crate) firewall: Firewall,
    links: BTreeMap<(IpAddr, IpAddr), LinkImpairment>,
    default_link: LinkImpairment,
    net_rng: ChaCha12Rng,
    trace: Trace,
    invariants: Vec<Box<dyn Invariant>>,
    findings: Vec<Finding>,
    conns: BTreeMap<u64, Weak<ConnState>>,
    conn_by_pair: BTreeMap<(SocketAddr, SocketAddr), Weak<ConnState>>,
    next_conn: u64,
    timebase: Arc<Timebase>,
    record_plaintext: bool,
    /// Requests per second of every KDC and relay (the load report).
    meter: crate::load::RequestMeter,
}

/// Handle on the world, cloned into every host's [`crate::net::SimNet`].
#[derive(Clone)]
pub struct World {
    inner: Rc<RefCell<WorldState>>,
}

impl std::fmt::Debug for World {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("World").finish_non_exhaustive()
    }
}

impl World {
    /// An empty world checking `invariants`. `net_rng` draws loss
    /// decisions; `keep_trace` keeps every trace entry in memory (replay,
    /// pcap) rather than only hashing.
    pub fn new(
        timebase: Arc<Timebase>,
        invariants: Vec<Box<dyn Invariant>>,
        net_rng: ChaCha12Rng,
        keep_trace: bool,
    ) -> Self {
        Self {
            inner: Rc::new(RefCell::new(WorldState {
                hosts: Vec::new(),
                by_name: BTreeMap::new(),
                by_ip: BTreeMap::new(),
                names: BTreeMap::new(),
                firewall: Firewall::new(),
                links: BTreeMap::new(),
                default_link: LinkImpairment::default(),
                net_rng,
                trace: Trace::new(keep_trace),
                invariants,
                findings: Vec::new(),
                conns: BTreeMap::new(),
                conn_by_pair: BTreeMap::new(),
                next_conn: 1,
                timebase,
                record_plaintext: true,
                meter: crate::load::RequestMeter::default(),
            })),
        }
    }

    /// The time base.
    pub fn timebase(&self) -> Arc<Timebase> {
        Arc::clone(&self.inner.borrow().timebase)
    }

    /// Registers a host; returns its clock.
    pub fn add_host(&self, name: &str, role: &str, ip: IpAddr) -> SimClock {
        let mut st = self.inner.borrow_mut();
        let clock = st.timebase.host_clock();
        // A client host waits only inside logons (the negotiator).
        let clock = if role == "client" {
            clock.scoped_to_logons()
        } else {
            clock
        };
        let idx = st.hosts.len();
        st.hosts.push(HostEntry {
            name: name.to_owned(),
            role: role.to_owned(),
            ip,
            clock: clock.clone(),
            incarnation: 0,
            send_delay: Duration::ZERO,
        });
        st.by_name.insert(name.to_owned(), idx);
        st.by_ip.insert(ip, idx);
        st.names.insert(name.to_ascii_lowercase(), idx);
        clock
    }

    /// Makes `alias` resolve to host `name`.
    pub fn add_alias(&self, name: &str, alias: &str) {
        let mut st = self.inner.borrow_mut();
        if let Some(&i) = st.by_name.get(name) {
            st.names.insert(alias.to_ascii_lowercase(), i);
        }
    }

    /// Resolves a host name or alias, case-insensitively like DNS
    /// (RFC 4343).
    pub fn resolve(&self, name: &str) -> Option<IpAddr> {
        let st = self.inner.borrow();
        st.names
            .get(&name.to_ascii_lowercase())
            .map(|i| st.hosts[*i].ip)
    }

    /// A host by name.
    pub fn host(&self, name: &str) -> Option<HostEntry> {
        let st = self.inner.borrow();
        st.by_name.get(name).map(|i| st.hosts[*i].clone())
    }

    /// Host name for an address (`None` for an address no host owns).
    pub fn host_name(&self, ip: IpAddr) -> Option<String> {
        let st = self.inner.borrow();
        st.by_ip.get(&ip).map(|i| st.hosts[*i].name.clone())
    }

    /// All hosts in registration order.
    pub fn hosts(&self) -> Vec<HostEntry> {
        self.inner.borrow().hosts.clone()
    }

    /// Bumps and returns a host's incarnation (called when its software
    /// starts; 1 for the first start).
    pub fn start_incarnation(&self, name: &str) -> u32 {
        let mut st = self.inner.borrow_mut();
        let Some(&i) = st.by_name.get(name) else {
            return 0;
        };
        st.hosts[i].incarnation += 1;
        st.hosts[i].incarnation
    }

    /// Sets the delay a host adds before everything it sends.
    pub fn set_send_delay(&self, name: &str, delay: Duration) {
        let mut st = self.inner.borrow_mut();
        if let Some(&i) = st.by_name.get(name) {
            st.hosts[i].send_delay = delay;
        }
    }

    pub(crate) fn send_delay(&self, ip: IpAddr) -> Duration {
        let st = self.inner.borrow();
        st.by_ip
            .get(&ip)
            .map(|i| st.hosts[*i].send_delay)
            .unwrap_or_default()
    }

    /// Sets impairments for the link between two hosts (both directions).
    pub fn set_link(&self, a: IpAddr, b: IpAddr, imp: LinkImpairment) {
        let key = if a <= b { (a, b) } else { (b, a) };
        self.inner.borrow_mut().links.insert(key, imp);
    }

    /// Sets impairments for links without their own.
    pub fn set_default_link(&self, imp: LinkImpairment) {
        self.inner.borrow_mut().default_link = imp;
    }

    fn link(st: &WorldState, a: IpAddr, b: IpAddr) -> LinkImpairment {
        let key = if a <= b { (a, b) } else { (b, a) };
        st.links.get(&key).copied().unwrap_or(st.default_link)
    }

    /// Draws whether a message on `a <-> b` is lost.
    pub(crate) fn roll_loss(&self, a: IpAddr, b: IpAddr, proto: Proto) -> bool {
        let mut st = self.inner.borrow_mut();
        let imp = Self::link(&st, a, b);
        let p = match proto {
            Proto::Udp => imp.udp_loss,
            Proto::Tcp => imp.tcp_loss,
        };
        // Only draw when there is a chance of loss, so adding a lossless
        // link does not shift the stream of the lossy ones.
        p > 0.0 && st.net_rng.random_bool(p.clamp(0.0, 1.0))
    }

    /// Judges a flow from `client` to `server`.
    pub(crate) fn judge(&self, client: IpAddr, server: IpAddr, proto: Proto, port: u16) -> Verdict {
        let st = self.inner.borrow();
        let describe = |ip: IpAddr| -> (String, String) {
            match st.by_ip.get(&ip) {
                Some(i) => (st.hosts[*i].name.clone(), st.hosts[*i].role.clone()),
                None => (ip.to_string(), "unknown".to_owned()),
            }
        };
        let (cn, cr) = describe(client);
        let (sn, sr) = describe(server);
        st.firewall.evaluate(&Flow {
            client: FlowHost {
                name: &cn,
                role: &cr,
            },
            server: FlowHost {
                name: &sn,
                role: &sr,
            },
            proto,
            port,
        })
    }

    /// Installs a firewall rule. With `cut_established`, TCP connections the
    /// new rule set would not allow are cut now (drop: they go silent;
    /// reject: both ends see a reset). Returns the ids of cut connections.
    pub fn firewall_set(&self, rule: Rule, cut_established: bool) -> Vec<u64> {
        self.inner.borrow_mut().firewall.set(rule);
        if cut_established {
            self.cut_disallowed()
        } else {
            Vec::new()
        }
    }

    /// Removes firewall rules (one by id, or all).
    pub fn firewall_clear(&self, id: Option<&str>) -> bool {
        self.inner.borrow_mut().firewall.clear(id)
    }

    fn cut_disallowed(&self) -> Vec<u64> {
        let live: Vec<Rc<ConnState>> = {
            let mut st = self.inner.borrow_mut();
            st.conns.retain(|_, w| w.strong_count() > 0);
            st.conn_by_pair.retain(|_, w| w.strong_count() > 0);
            st.conns.values().filter_map(Weak::upgrade).collect()
        };
        let mut cut = Vec::new();
        for c in live {
            if c.cut.get().is_some() {
                continue;
            }
            let v = self.judge(
                c.client_addr.ip(),
                c.server_addr.ip(),
                Proto::Tcp,
                c.server_addr.port(),
            );
            if v.action != Action::Allow {
                c.cut.set(Some(v.action));
                cut.push(c.id);
            }
        }
        cut
    }

    /// The connection for a (client, server) address pair, created by
    /// whichever end sees it first (the server may accept before the
    /// client's connect returns).
    pub(crate) fn conn_for(&self, client: SocketAddr, server: SocketAddr) -> Rc<ConnState> {
        let mut st = self.inner.borrow_mut();
        if let Some(c) = st
            .conn_by_pair
            .get(&(client, server))
            .and_then(Weak::upgrade)
        {
            return c;
        }
        let name = |st: &WorldState, ip: IpAddr| {
            st.by_ip
                .get(&ip)
                .map(|i| st.hosts[*i].name.clone())
                .unwrap_or_else(|| ip.to_string())
        };
        let id = st.next_conn;
        st.next_conn += 1;
        let c = Rc::new(ConnState {
            id,
            client_host: name(&st, client.ip()),
            client_addr: client,
            server_host: name(&st, server.ip()),
            server_addr: server,
            cut: Cell::new(None),
        });
        st.conns.insert(id, Rc::downgrade(&c));
        st.conn_by_pair.insert((client, server), Rc::downgrade(&c));
        c
    }

    /// An endpoint description for an address.
    pub(crate) fn endpoint(&self, addr: SocketAddr) -> Endpoint {
        Endpoint {
            host: self
                .host_name(addr.ip())
                .unwrap_or_else(|| addr.ip().to_string()),
            addr,
        }
    }

    /// Records a captured message and runs the invariants on it. Uses
    /// `try_borrow_mut` because it runs from destructors too (a stream
    /// dropped while its host crashes).
    pub(crate) fn record_wire(&self, rec: WireRecord) {
        let Ok(mut st) = self.inner.try_borrow_mut() else {
            return;
        };
        let mut found = Vec::new();
        for inv in st.invariants.iter_mut() {
            found.extend(inv.on_wire(&rec));
        }
        st.trace.push(TraceEntry::Wire(rec));
        Self::add_findings(&mut st, found);
    }

    fn add_findings(st: &mut WorldState, found: Vec<Finding>) {
        for f in found {
            let scenario_at = f.at + st.timebase.offset();
            st.trace.push(TraceEntry::Event(EventRecord {
                at: f.at,
                scenario_at,
                kind: "violation".to_owned(),
                detail: format!("{}: {}", f.kind, f.message),
            }));
            st.findings.push(f);
        }
    }

    /// Records an event at the current time and runs the invariants on it.
    pub fn record_event(&self, kind: &str, detail: impl Into<String>) {
        let Ok(mut st) = self.inner.try_borrow_mut() else {
            return;
        };
        let at = st.timebase.sim_elapsed();
        let scenario_at = at + st.timebase.offset();
        let ev = EventRecord {
            at,
            scenario_at,
            kind: kind.to_owned(),
            detail: detail.into(),
        };
        st.meter.on_event(&ev.kind, &ev.detail, ev.scenario_at);
        let mut found = Vec::new();
        for inv in st.invariants.iter_mut() {
            found.extend(inv.on_event(&ev));
        }
        st.trace.push(TraceEntry::Event(ev));
        Self::add_findings(&mut st, found);
    }

    /// The load figures of these logons and the servers' request records.
    pub fn load_report(&self, logons: &[LogonRecord]) -> crate::load::LoadReport {
        crate::load::LoadReport::new(logons, &self.inner.borrow().meter)
    }

    /// Runs the invariants on a finished logon.
    pub fn check_logon(&self, logon: &LogonRecord) {
        let Ok(mut st) = self.inner.try_borrow_mut() else {
            return;
        };
        let mut found = Vec::new();
        for inv in st.invariants.iter_mut() {
            found.extend(inv.on_logon(logon));
        }
        Self::add_findings(&mut st, found);
    }

    /// Records a finding from outside the invariants (the runner's own
    /// liveness checks).
    pub fn add_finding(&self, f: Finding) {
        let Ok(mut st) = self.inner.try_borrow_mut() else {
            return;
        };
        Self::add_findings(&mut st, vec![f]);
    }

    /// Runs the invariants' end-of-run checks.
    pub fn finish_invariants(&self) {
        let Ok(mut st) = self.inner.try_borrow_mut() else {
            return;
        };
        let at = st.timebase.sim_elapsed();
        let mut found = Vec::new();
        for inv in st.invariants.iter_mut() {
            found.extend(inv.finish(at));
        }
        Self::add_findings(&mut st, found);
    }

    /// Coverage counters of every invariant, merged.
    pub fn coverage(&self) -> BTreeMap<String, u64> {
        let st = self.inner.borrow();
        let mut out = BTreeMap::new();
        for inv in &st.invariants {
            for (k, v) in inv.coverage() {
                *out.entry(k).or_insert(0) += v;
            }
        }
        out
    }

    /// Whether the TLS plaintext layer is recorded.
    pub(crate) fn records_plaintext(&self) -> bool {
        self.inner.borrow().record_plaintext
    }

    /// Turns recording of the TLS plaintext layer on or off.
    pub fn set_record_plaintext(&self, on: bool) {
        self.inner.borrow_mut().record_plaintext = on;
    }

    /// Findings so far.
    pub fn findings(&self) -> Vec<Finding> {
        self.inner.borrow().findings.clone()
    }

    /// Runs `f` on the trace.
    pub fn with_trace<R>(&self, f: impl FnOnce(&Trace) -> R) -> R {
        f(&self.inner.borrow().trace)
    }

    /// Takes the trace out of the world (at the end of a run).
    pub fn take_trace(&self) -> Trace {
        std::mem::replace(&mut self.inner.borrow_mut().trace, Trace::new(false))
    }
}
