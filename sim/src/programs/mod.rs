//! What runs on each simulated host, by role. Every program is the real
//! party (KDC driver, relay driver, logon agent) on the simulated `Net` and
//! `Clock`; the test roles (`echo`, `leaker`) exist to exercise the world
//! itself.
//!
//! A program is started by turmoil when its host starts and again after a
//! restart (a new *incarnation*, with a fresh RNG stream: a rebooted host
//! does not replay its nonces).

use std::cell::RefCell;
use std::collections::{BTreeMap, VecDeque};
use std::rc::Rc;
use std::sync::Arc;

use kerbside_net::{HostRng, host_rng};
use tokio::sync::Notify;

use crate::clock::SimClock;
use crate::logon::LogonRequest;
use crate::net::SimNet;
use crate::runner::Prepared;
use crate::scenario::{Host, Role};
use crate::world::World;

pub mod app;
pub mod attacker;
pub mod balancer;
pub mod client;
pub mod echo;
pub mod hostile;
pub mod kdc;
pub mod leaker;
pub mod localkdc;
pub mod relay;

/// Work the driver hands to a host program.
#[derive(Debug)]
pub enum HostCommand {
    /// Perform a logon.
    Logon(LogonRequest),
    /// The leaker's moment.
    Leak,
}

/// Per-run state shared by the driver and the host programs.
pub(crate) struct RunShared {
    pub(crate) world: World,
    queues: RefCell<BTreeMap<String, VecDeque<HostCommand>>>,
    notifies: BTreeMap<String, Rc<Notify>>,
    /// Logons finished since the driver last looked: (id, report, latency).
    pub(crate) finished: RefCell<Vec<(u64, crate::logon::LogonReport, std::time::Duration)>>,
    /// Relay audit buffers by host (they outlive incarnations).
    audits: RefCell<BTreeMap<String, Arc<relay::AuditBuffer>>>,
    /// Error code each KDC host answers with (0: none), set by `errors`.
    kdc_errors: RefCell<BTreeMap<String, Arc<std::sync::atomic::AtomicI32>>>,
}

impl RunShared {
    pub(crate) fn new(world: World, hosts: &[Host]) -> Rc<Self> {
        let notifies = hosts
            .iter()
            .map(|h| (h.name.clone(), Rc::new(Notify::new())))
            .collect();
        Rc::new(Self {
            world,
            queues: RefCell::default(),
            notifies,
            finished: RefCell::default(),
            audits: RefCell::default(),
            kdc_errors: RefCell::default(),
        })
    }

    /// The error switch of a KDC host.
    pub(crate) fn kdc_errors(&self, host: &str) -> Arc<std::sync::atomic::AtomicI32> {
        Arc::clone(
            self.kdc_errors
                .borrow_mut()
                .entry(host.to_owned())
                .or_default(),
        )
    }

    /// The audit buffer of a relay host.
    pub(crate) fn relay_audit(&self, host: &str) -> Arc<relay::AuditBuffer> {
        Arc::clone(self.audits.borrow_mut().entry(host.to_owned()).or_default())
    }

    /// Copies every relay's new audit lines into the trace.
    pub(crate) fn drain_audits(&self) {
        let audits: Vec<(String, Arc<relay::AuditBuffer>)> = self
            .audits
            .borrow()
            .iter()
            .map(|(k, v)| (k.clone(), Arc::clone(v)))
            .collect();
        for (host, buf) in audits {
            for line in buf.drain() {
                self.world
                    .record_event("relay-audit", format!("{host} {line}"));
            }
        }
    }

    /// Reports a finished logon (called by client programs).
    pub(crate) fn logon_finished(
        &self,
        id: u64,
        report: crate::logon::LogonReport,
        latency: std::time::Duration,
    ) {
        self.finished.borrow_mut().push((id, report, latency));
    }

    /// Queues a command for a host and wakes its program.
    pub(crate) fn send(&self, host: &str, cmd: HostCommand) {
        self.queues
            .borrow_mut()
            .entry(host.to_owned())
            .or_default()
            .push_back(cmd);
        if let Some(n) = self.notifies.get(host) {
            n.notify_one();
        }
    }

    /// Drops a host's queued commands (it crashed).
    pub(crate) fn clear(&self, host: &str) {
        self.queues.borrow_mut().remove(host);
    }

    /// Waits for the next command for `host`.
    pub(crate) async fn next(&self, host: &str) -> HostCommand {
        loop {
            if let Some(cmd) = self
                .queues
                .borrow_mut()
                .get_mut(host)
                .and_then(VecDeque::pop_front)
            {
                return cmd;
            }
            match self.notifies.get(host) {
                Some(n) => n.notified().await,
                None => std::future::pending::<()>().await,
            }
        }
    }
}

/// Everything a host program needs.
pub(crate) struct HostCtx {
    pub(crate) host: Host,
    pub(crate) net: SimNet,
    pub(crate) clock: SimClock,
    pub(crate) seed: u64,
    pub(crate) incarnation: u32,
    pub(crate) shared: Rc<RunShared>,
    pub(crate) prepared: Arc<Prepared>,
}

impl HostCtx {
    /// The host's RNG for this incarnation.
    pub(crate) fn rng(&self) -> HostRng {
        if self.incarnation <= 1 {
            host_rng(self.seed, &self.host.name)
        } else {
            host_rng(
                self.seed,
                &format!("{}#{}", self.host.name, self.incarnation),
            )
        }
    }

    pub(crate) fn world(&self) -> &World {
        &self.shared.world
    }
}

/// Runs the program of `ctx.host`'s role until the host stops.
pub(crate) async fn run(ctx: HostCtx) -> turmoil::Result {
    ctx.world().record_event(
        "host",
        format!("{} start incarnation={}", ctx.host.name, ctx.incarnation),
    );
    match ctx.host.role {
        Role::Client => client::run(ctx).await,
        Role::Kdc => kdc::run(ctx).await,
        Role::Relay => relay::run(ctx).await,
        Role::Echo => echo::run(ctx).await,
        Role::Leaker => leaker::run(ctx).await,
        Role::App | Role::Printer => app::run(ctx).await,
        Role::Attacker => attacker::run(ctx).await,
        Role::Hostile => hostile::run(ctx).await,
        Role::Balancer => balancer::run(ctx).await,
        other => Err(format!("role `{other}` has no simulated program").into()),
    }
}
