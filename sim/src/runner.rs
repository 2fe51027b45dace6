//! Running a scenario with one seed: build the world, start every host's
//! program under turmoil, play the timeline, check invariants and
//! expectations, and report.
//!
//! [`Prepared`] holds what does not depend on the seed (parsed scenario,
//! derived keys, principal stores, certificates, secrets), so a sweep pays
//! for string-to-key once per scenario, not once per seed.
//!
//! The driver steps turmoil itself rather than calling `Sim::run`:
//! between steps it applies due timeline events, collects finished logons,
//! copies relay audit lines into the trace, watches for hangs, and skips
//! idle stretches (see [`crate::clock`]): when no logon is running and no
//! message is in flight, the clocks jump to the next event instead of
//! ticking through the quiet.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::net::{IpAddr, Ipv4Addr};
use std::panic::AssertUnwindSafe;
use std::rc::Rc;
use std::sync::{Arc, Once};
use std::time::{Duration, SystemTime};

use kerbside_crypto::{EncType, Key};
use kerbside_kdc::{PrincipalEntry, PrincipalKind, PrincipalStore};
use rand_core::RngCore;
use sha2::{Digest, Sha256};

use crate::canary::SecretSet;
use crate::clock::Timebase;
use crate::duration::format_duration;
use crate::firewall::{HostMatch, PortMatch, Rule};
use crate::invariant::{Finding, registry};
use crate::logon::LogonRequest;
use crate::net::SimNet;
use crate::programs::{self, HostCommand, HostCtx, RunShared};
use crate::results::{LogonRecord, LogonStatus, Mark, RunResult};
use crate::scenario::validate::parse_epoch;
use crate::scenario::{Action, Host, Outcome, Role, RuleSpec, Scenario};
use crate::tls::{RelayIdentity, relay_identity};
use crate::trace::Trace;
use crate::warp::{Quiet, Warp, jump};
use crate::world::{LinkImpairment, World};

/// Enctypes the simulated KDCs issue and derive keys for (the KDC's
/// defaults: AES-SHA1 then AES-SHA2, RFC 3962 and RFC 8009).
pub const SIM_ENCTYPES: [EncType; 4] = [
    EncType::Aes256CtsHmacSha196,
    EncType::Aes128CtsHmacSha196,
    EncType::Aes256CtsHmacSha384192,
    EncType::Aes128CtsHmacSha256128,
];

/// Why a scenario could not be prepared.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PrepareError {
    /// A principal name, key or store problem.
    #[error("realm {realm}: {message}")]
    Realm {
        /// The realm.
        realm: String,
        /// What is wrong.
        message: String,
    },
    /// Anything else about the scenario.
    #[error("{0}")]
    Scenario(String),
}

/// One realm's principals and keys.
#[derive(Debug)]
pub struct RealmData {
    /// The KDC's store.
    pub store: PrincipalStore,
    /// Passwords by principal name (without realm).
    pub passwords: BTreeMap<String, String>,
}

impl RealmData {
    /// A principal's long-term keys (what a client that "knows the password"
    /// uses, derived once).
    pub fn keys_of(&self, name: &str) -> Option<Vec<Key>> {
        let components: Vec<String> = name.split('/').map(str::to_owned).collect();
        self.store.get(&components).map(|e| e.keys.clone())
    }
}

/// A scenario ready to run with any seed.
#[derive(Debug)]
pub struct Prepared {
    /// The scenario.
    pub scenario: Scenario,
    /// Its file (for replay commands).
    pub file: String,
    /// Wall time at sim time zero.
    pub epoch: SystemTime,
    /// Host addresses, in host order.
    pub addresses: Vec<IpAddr>,
    /// Everything that must never be seen on the wire.
    pub secrets: SecretSet,
    /// Realms by upper-cased name.
    pub realms: BTreeMap<String, RealmData>,
    relay_identities: BTreeMap<String, RelayIdentity>,
    /// A deliberately broken property (swarm-fuzzing tests only).
    pub planted: Option<crate::swarm::PlantedBug>,
}

/// The password the simulation gives `krbtgt/REALM` when a scenario does
/// not: deterministic, and a canary like every other secret.
fn default_krbtgt_password(realm: &str) -> String {
    let d = Sha256::digest(format!("kerbside krbtgt {realm}").as_bytes());
    format!("krbtgt-{}", hex::encode(&d[..12]))
}

impl Prepared {
    /// Derives everything seed-independent.
    pub fn new(scenario: Scenario, file: &str) -> Result<Self, PrepareError> {
        let epoch = parse_epoch(&scenario.epoch).map_err(PrepareError::Scenario)?;
        let mut addresses = Vec::new();
        let used: BTreeSet<Ipv4Addr> = scenario.hosts.iter().filter_map(|h| h.address).collect();
        let mut next: u32 = u32::from(Ipv4Addr::new(10, 0, 0, 1));
        for h in &scenario.hosts {
            let ip = match h.address {
                Some(a) => a,
                None => loop {
                    let cand = Ipv4Addr::from(next);
                    next += 1;
                    if !used.contains(&cand) && cand.octets()[3] != 0 && cand.octets()[3] != 255 {
                        break cand;
                    }
                },
            };
            addresses.push(IpAddr::V4(ip));
        }

        let mut secrets = SecretSet::new();
        let mut realms = BTreeMap::new();
        for r in &scenario.realms {
            let err = |message: String| PrepareError::Realm {
                realm: r.name.clone(),
                message,
            };
            let mut store = PrincipalStore::new(r.name.clone());
            let mut passwords = BTreeMap::new();
            let mut specs: Vec<(String, String, bool, u32, Option<String>, bool)> = r
                .principals
                .iter()
                .map(|p| {
                    (
                        p.name.clone(),
                        p.password.clone(),
                        p.requires_preauth.unwrap_or(true),
                        p.kvno.unwrap_or(1),
                        p.kind.clone(),
                        p.disabled.unwrap_or(false),
                    )
                })
                .collect();
            let tgs = format!("krbtgt/{}", r.name);
            if !specs.iter().any(|s| s.0 == tgs) {
                specs.push((tgs, default_krbtgt_password(&r.name), false, 1, None, false));
            }
            for (name, password, preauth, kvno, kind, disabled) in specs {
                let principal = kerbside_kdc::Principal::parse(&name, &r.name)
                    .map_err(|e| err(e.to_string()))?;
                // Through the process-wide cache: a sweep, a swarm and the
                // tests prepare the same principals many times over, and
                // string-to-key is thousands of PBKDF2 rounds per key.
                let salt = kerbside_crypto::default_salt(&r.name, &principal.component_strs());
                let keys = SIM_ENCTYPES
                    .iter()
                    .map(|e| {
                        kerbside_crypto::KeyCache::global().from_password(*e, &password, &salt)
                    })
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|e| err(e.to_string()))?;
                let owner = format!("{name}@{}", r.name);
                secrets
                    .add_password(&owner, &password)
                    .map_err(|e| err(e.to_string()))?;
                for k in &keys {
                    secrets
                        .add(
                            format!("{} key of {owner}", k.etype().name()),
                            k.bytes().to_vec(),
                        )
                        .map_err(|e| err(e.to_string()))?;
                }
                let kind = match kind {
                    Some(k) => PrincipalKind::parse(&k)
                        .ok_or_else(|| err(format!("{name}: unknown kind `{k}`")))?,
                    None => PrincipalKind::infer(&principal),
                };
                store
                    .insert(PrincipalEntry {
                        principal,
                        kvno,
                        keys,
                        salt,
                        requires_preauth: preauth,
                        disabled,
                        expires: None,
                        kind,
                    })
                    .map_err(|e| err(e.to_string()))?;
                passwords.insert(name, password);
            }
            realms.insert(r.name.to_ascii_uppercase(), RealmData { store, passwords });
        }

        let mut relay_identities = BTreeMap::new();
        for h in scenario.hosts.iter().filter(|h| h.role == Role::Relay) {
            let opts = h.relay.clone().unwrap_or_default();
            let mut names = vec![h.name.clone()];
            names.extend(h.aliases.iter().cloned());
            names.extend(opts.cert_names.iter().cloned());
            // The certificate key comes from the scenario and host names, not
            // the seed: every seed sees the same certificate.
            let seed: [u8; 32] =
                Sha256::digest(format!("kerbside relay key {} {}", scenario.name, h.name)).into();
            let id = relay_identity(&names, epoch, seed, opts.cert)
                .map_err(|e| PrepareError::Scenario(format!("relay {}: {e}", h.name)))?;
            relay_identities.insert(h.name.clone(), id);
        }
        Ok(Prepared {
            scenario,
            file: file.to_owned(),
            epoch,
            addresses,
            secrets,
            realms,
            relay_identities,
            planted: None,
        })
    }

    /// A user's password (first realm that has the principal).
    pub fn password_of(&self, user: &str) -> Option<&str> {
        self.realms
            .values()
            .find_map(|r| r.passwords.get(user))
            .map(String::as_str)
    }

    /// A relay's certificate and key.
    pub fn relay_identity(&self, host: &str) -> Option<&RelayIdentity> {
        self.relay_identities.get(host)
    }

    /// Trust anchors clients install: every relay's anchor.
    pub fn relay_anchors(&self) -> Vec<rustls_pki_types::CertificateDer<'static>> {
        self.relay_identities
            .values()
            .map(|i| i.anchor.clone())
            .collect()
    }

    /// The realm a client logs on to.
    pub fn client_realm(&self, host: &Host) -> Option<String> {
        host.client
            .as_ref()
            .and_then(|c| c.realm.clone())
            .or_else(|| {
                (self.scenario.realms.len() == 1).then(|| self.scenario.realms[0].name.clone())
            })
    }

    /// Realm data by name.
    pub fn realm(&self, name: &str) -> Option<&RealmData> {
        self.realms.get(&name.to_ascii_uppercase())
    }

    fn host_index(&self, name: &str) -> Option<usize> {
        self.scenario
            .hosts
            .iter()
            .position(|h| h.name.eq_ignore_ascii_case(name))
    }

    fn ip_of(&self, name: &str) -> Option<IpAddr> {
        self.host_index(name).map(|i| self.addresses[i])
    }

    /// The command that reruns one seed.
    pub fn replay_command(&self, seed: u64) -> String {
        format!("kerbside replay {} --seed {seed}", self.file)
    }
}

/// How to run.
#[derive(Clone, Debug, Default)]
pub struct RunOptions {
    /// The seed.
    pub seed: u64,
    /// Keep every trace entry (for trace files and pcap).
    pub keep_trace: bool,
    /// Record the TLS plaintext layer (default on: the canaries scan it).
    pub no_plaintext: bool,
}

/// A finished run.
#[derive(Debug)]
pub struct RunOutput {
    /// The result.
    pub result: RunResult,
    /// The trace (entries only when kept).
    pub trace: Trace,
}

/// What the timeline does at a moment.
#[derive(Debug)]
enum Item {
    Logon(u64),
    Action(Action),
    Leak(String),
}

/// Converts a scenario rule.
pub fn firewall_rule(r: &RuleSpec) -> Rule {
    Rule {
        id: r.id.clone(),
        from: HostMatch::from_patterns(r.from.names()),
        to: HostMatch::from_patterns(r.to.names()),
        proto: r.proto,
        port: match r.port.0 {
            None => PortMatch::Any,
            Some((lo, hi)) => PortMatch::Range(lo, hi),
        },
        action: r.action,
    }
}

thread_local! {
    /// Panic messages captured while a simulation runs on this thread.
    static CAPTURED_PANICS: RefCell<Option<Vec<String>>> = const { RefCell::new(None) };
}

static PANIC_HOOK: Once = Once::new();

/// Chains a panic hook that, on a thread running a simulation, records the
/// panic's message and location for the run's report instead of printing
/// it; other threads keep the previous behaviour.
fn install_panic_capture() {
    PANIC_HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let captured = CAPTURED_PANICS.with(|c| match c.borrow_mut().as_mut() {
                Some(v) => {
                    v.push(info.to_string().replace('\n', " "));
                    true
                }
                None => false,
            });
            if !captured {
                previous(info);
            }
        }));
    });
}

fn panic_text(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "non-string panic payload".to_owned())
}

/// Runs one seed. Never panics: a panic anywhere in the simulation is a
/// `panic` violation of the run.
pub fn run(prepared: &Arc<Prepared>, opts: &RunOptions) -> RunOutput {
    install_panic_capture();
    CAPTURED_PANICS.with(|c| *c.borrow_mut() = Some(Vec::new()));
    let out = Driver::new(prepared, opts).run();
    CAPTURED_PANICS.with(|c| *c.borrow_mut() = None);
    crate::tls::rng::unseed_thread();
    out
}

struct Driver<'p> {
    p: &'p Arc<Prepared>,
    opts: RunOptions,
    timebase: Arc<Timebase>,
    world: World,
    shared: Rc<RunShared>,
    items: Vec<(Duration, Item)>,
    logons: Vec<LogonRecord>,
    logon_hosts: Vec<String>,
    /// Application server and protocol of each logon (by id).
    logon_targets: Vec<(Option<String>, Option<crate::scenario::AppProtocol>)>,
    inflight: BTreeMap<u64, Duration>,
    partitions: BTreeSet<(IpAddr, IpAddr, bool)>,
    down: BTreeSet<String>,
    marks: Vec<Mark>,
    warp: Rc<Warp>,
}

/// The secrets one run watches for: the prepared scenario's, plus the
/// enrolment keys of its on-client LocalKDCs, which derive from the run
/// seed (so they are not in the prepared set every seed shares). A
/// LocalKDC's enrolment key is the long-term key of a service under the
/// LocalKDC's realm: seen on the wire, it forges tickets to that service.
fn run_secrets(p: &Prepared, seed: u64) -> std::borrow::Cow<'_, SecretSet> {
    let enrolled: Vec<(&str, &[String])> = p
        .scenario
        .hosts
        .iter()
        .filter_map(|h| {
            let o = h.client.as_ref()?.localkdc.as_ref()?;
            Some((h.name.as_str(), o.services.as_slice()))
        })
        .collect();
    if enrolled.is_empty() {
        return std::borrow::Cow::Borrowed(&p.secrets);
    }
    let mut secrets = p.secrets.clone();
    for (host, services) in enrolled {
        for spn in services {
            let e = crate::programs::localkdc::enrolment(seed, host, spn);
            // A 32-octet random key is always long enough to watch for.
            let _ = secrets.add(
                format!("enrolment key of {spn}@{}", e.realm),
                e.key.bytes().to_vec(),
            );
        }
    }
    std::borrow::Cow::Owned(secrets)
}

impl<'p> Driver<'p> {
    fn new(p: &'p Arc<Prepared>, opts: &RunOptions) -> Self {
        let seed = opts.seed;
        let mut tls_seed = [0u8; 32];
        kerbside_net::host_rng(seed, "@tls").fill_bytes(&mut tls_seed);
        crate::tls::rng::seed_thread(tls_seed);
        let timebase = Timebase::new(p.epoch);
        let world = World::new(
            Arc::clone(&timebase),
            registry(&p.scenario, &run_secrets(p, seed)),
            kerbside_net::host_rng(seed, "@net"),
            opts.keep_trace,
        );
        world.set_record_plaintext(!opts.no_plaintext);
        let shared = RunShared::new(world.clone(), &p.scenario.hosts);
        let mut d = Driver {
            p,
            opts: opts.clone(),
            timebase,
            world,
            shared,
            items: Vec::new(),
            logons: Vec::new(),
            logon_hosts: Vec::new(),
            logon_targets: Vec::new(),
            inflight: BTreeMap::new(),
            partitions: BTreeSet::new(),
            down: BTreeSet::new(),
            marks: Vec::new(),
            warp: Warp::new(p.scenario.hosts.iter().map(|h| h.name.as_str())),
        };
        d.schedule();
        d
    }

    /// Expands the timeline into time-ordered items.
    fn schedule(&mut self) {
        let s = &self.p.scenario;
        let mut items: Vec<(Duration, usize, Item)> = Vec::new();
        let mut order = 0usize;
        let mut push = |items: &mut Vec<(Duration, usize, Item)>, at: Duration, item: Item| {
            items.push((at, order, item));
            order += 1;
        };
        for ev in &s.timeline {
            match &ev.action {
                Action::Logon(l) => {
                    let id = self.new_logon(
                        &l.client,
                        &l.user,
                        l.service.clone(),
                        l.label.clone(),
                        ev.at.0,
                    );
                    self.logon_targets.push((l.server.clone(), l.protocol));
                    push(&mut items, ev.at.0, Item::Logon(id));
                }
                Action::LogonMany(l) => {
                    let clients = l.client.names();
                    let users = l.user.names();
                    let every = l.every.map(|d| d.0).unwrap_or_default();
                    let batch = l.batch.unwrap_or(1).max(1);
                    for i in 0..l.count {
                        // Saturate: a schedule beyond Duration::MAX is simply never reached.
                        let at = every
                            .checked_mul(i / batch)
                            .and_then(|d| ev.at.0.checked_add(d))
                            .unwrap_or(Duration::MAX);
                        let client = clients[i as usize % clients.len()].to_owned();
                        let user = users[i as usize % users.len()].to_owned();
                        let id =
                            self.new_logon(&client, &user, l.service.clone(), l.label.clone(), at);
                        self.logon_targets.push((l.server.clone(), l.protocol));
                        push(&mut items, at, Item::Logon(id));
                    }
                }
                other => push(&mut items, ev.at.0, Item::Action(other.clone())),
            }
        }
        for h in s.hosts.iter().filter(|h| h.role == Role::Leaker) {
            if let Some(l) = &h.leaker {
                push(&mut items, l.at.0, Item::Leak(h.name.clone()));
            }
        }
        items.sort_by_key(|(at, order, _)| (*at, *order));
        self.items = items.into_iter().map(|(at, _, item)| (at, item)).collect();
    }

    fn new_logon(
        &mut self,
        client: &str,
        user: &str,
        service: Option<String>,
        label: Option<String>,
        at: Duration,
    ) -> u64 {
        let id = self.logons.len() as u64;
        let host = self
            .p
            .scenario
            .hosts
            .iter()
            .find(|h| h.name.eq_ignore_ascii_case(client));
        let realm = host
            .and_then(|h| self.p.client_realm(h))
            .unwrap_or_default();
        let user = if user.contains('@') {
            user.to_owned()
        } else {
            format!("{user}@{realm}")
        };
        self.logons.push(LogonRecord {
            id,
            label,
            client: host
                .map(|h| h.name.clone())
                .unwrap_or_else(|| client.to_owned()),
            user,
            service,
            scheduled_at: at,
            started_at: Duration::ZERO,
            finished_at: None,
            latency: None,
            status: LogonStatus::HostDown,
            report: None,
        });
        self.logon_hosts.push(client.to_owned());
        id
    }

    fn run(mut self) -> RunOutput {
        let started = wall_now();
        let s = &self.p.scenario;
        let seed = self.opts.seed;
        let mut builder = turmoil::Builder::new();
        let latency = s
            .network
            .latency
            .map(|d| d.0)
            .unwrap_or(Duration::from_millis(1));
        let jitter = s.network.jitter.map(|d| d.0).unwrap_or_default();
        builder
            .epoch(self.p.epoch)
            .rng_seed(seed)
            .tick_duration(s.tick.0)
            // The driver enforces the scenario's duration itself (in
            // scenario time, which idle skipping advances for free).
            .simulation_duration(Duration::from_secs(u64::from(u32::MAX)))
            .min_message_latency(latency)
            .max_message_latency(latency + jitter)
            .tcp_capacity(1024)
            .udp_capacity(4096)
            .enable_random_order();
        let mut sim = builder.build();

        // Hosts.
        for (i, h) in s.hosts.iter().enumerate() {
            let ip = self.p.addresses[i];
            let clock = self.world.add_host(&h.name, h.role.as_str(), ip);
            for a in &h.aliases {
                self.world.add_alias(&h.name, a);
            }
            if let Some(sk) = h.skew {
                clock.set_skew(sk.as_nanos_i64());
            }
            if let Some(d) = h.delay {
                self.world.set_send_delay(&h.name, d.0);
            }
            let host = h.clone();
            let shared = Rc::clone(&self.shared);
            let prepared = Arc::clone(self.p);
            let warp = Rc::clone(&self.warp);
            sim.host(ip, move || {
                tokio::task::spawn_local(Rc::clone(&warp).follow(host.name.clone()));
                let incarnation = shared.world.start_incarnation(&host.name);
                let ctx = HostCtx {
                    host: host.clone(),
                    net: SimNet::new(shared.world.clone(), ip),
                    clock: clock.clone(),
                    seed,
                    incarnation,
                    shared: Rc::clone(&shared),
                    prepared: Arc::clone(&prepared),
                };
                programs::run(ctx)
            });
        }
        // Links: turmoil latency per pair, impairments in the world.
        self.world.set_default_link(LinkImpairment {
            udp_loss: s.network.udp_loss.unwrap_or(0.0),
            tcp_loss: s.network.tcp_loss.unwrap_or(0.0),
        });
        for l in &s.links {
            let (Some(a), Some(b)) = (self.p.ip_of(&l.between[0]), self.p.ip_of(&l.between[1]))
            else {
                continue;
            };
            let lat = l.latency.map(|d| d.0).unwrap_or(latency);
            let jit = l.jitter.map(|d| d.0).unwrap_or(jitter);
            sim.set_link_latency(a, b, lat);
            sim.set_link_max_message_latency(a, b, lat + jit);
            self.world.set_link(
                a,
                b,
                LinkImpairment {
                    udp_loss: l.udp_loss.or(s.network.udp_loss).unwrap_or(0.0),
                    tcp_loss: l.tcp_loss.or(s.network.tcp_loss).unwrap_or(0.0),
                },
            );
        }
        for r in &s.firewall {
            self.world.firewall_set(firewall_rule(r), false);
        }
        self.world.record_event(
            "run",
            format!("scenario {} seed {seed} epoch {}", s.name, s.epoch),
        );

        let tick = s.tick.0;
        self.timebase.set_tick(tick);
        self.warp.set_tick(tick);
        let max_logon = s.expect.max_logon_time.0;
        let mut next_item = 0usize;
        let mut steps: u64 = 0;
        let (mut busy_steps, mut jumps, mut jumped) = (0u64, 0u64, Duration::ZERO);
        let mut quiet_steps = 0u32;
        let mut last_activity = 0u64;
        let mut aborted = false;
        loop {
            let mut applied = false;
            while next_item < self.items.len()
                && self.items[next_item].0 <= self.timebase.scenario_elapsed()
            {
                let item =
                    std::mem::replace(&mut self.items[next_item].1, Item::Leak(String::new()));
                self.apply(&mut sim, item);
                next_item += 1;
                applied = true;
            }
            if applied {
                // Whatever was just started (commands, restarts) needs
                // steps before the world can count as idle again.
                quiet_steps = 0;
            }
            self.collect();
            self.check_hangs(max_logon);
            let now = self.timebase.scenario_elapsed();
            if now >= s.duration.0 {
                break;
            }
            if quiet_steps >= 2 && steps > 0 {
                let item = self.items.get(next_item).map(|(at, _)| *at);
                if self.inflight.is_empty() && item.is_none() {
                    break;
                }
                // Quiet: jump to the next deadline instead of ticking to it
                // (see crate::warp).
                let hang_deadline = self.inflight.values().min().map(|t| *t + max_logon + tick);
                let q = Quiet {
                    now,
                    tick,
                    hint: self.timebase.next_hint(now, !self.inflight.is_empty()),
                    item,
                    limit: hang_deadline.unwrap_or(s.duration.0).min(s.duration.0),
                    logons_running: !self.inflight.is_empty(),
                };
                if let Some(by) = jump(&q).filter(|_| s.idle_skip) {
                    self.timebase.add_jump(by);
                    self.warp.request(by);
                    jumps += 1;
                    jumped += by;
                    self.world
                        .record_event("idle", format!("skip {}", format_duration(by)));
                    // The hosts apply the jump in the next step; only then
                    // can the world be quiet again.
                    quiet_steps = 0;
                }
            }
            match std::panic::catch_unwind(AssertUnwindSafe(|| sim.step())) {
                Ok(Ok(_)) => {}
                Ok(Err(e)) => {
                    self.world.add_finding(Finding {
                        kind: "host-error".into(),
                        message: e.to_string(),
                        at: self.timebase.sim_elapsed(),
                    });
                }
                Err(payload) => {
                    let mut msg = CAPTURED_PANICS.with(|c| {
                        c.borrow_mut()
                            .as_mut()
                            .map(std::mem::take)
                            .unwrap_or_default()
                    });
                    if msg.is_empty() {
                        msg.push(panic_text(payload.as_ref()));
                    }
                    self.world.add_finding(Finding {
                        kind: "panic".into(),
                        message: msg.join(" | "),
                        at: self.timebase.sim_elapsed(),
                    });
                    aborted = true;
                }
            }
            steps += 1;
            self.timebase.set_driver_elapsed(sim.elapsed());
            if aborted {
                break;
            }
            let mut in_flight = 0usize;
            sim.links(|links| {
                for l in links {
                    in_flight += l.count();
                }
            });
            if in_flight > 0 {
                busy_steps += 1;
            }
            // Quiet: nothing in flight and nothing recorded in this step.
            let activity = self.world.with_trace(|t| t.len());
            quiet_steps = if in_flight == 0 && activity == last_activity {
                quiet_steps.saturating_add(1)
            } else {
                0
            };
            last_activity = activity;
        }
        let sim_time = sim.elapsed();
        // Dropping the simulation drops every host's tasks; after a panic
        // that may panic again: contain it.
        let _ = std::panic::catch_unwind(AssertUnwindSafe(move || drop(sim)));
        self.collect();
        for id in std::mem::take(&mut self.inflight).into_keys() {
            self.logons[id as usize].status = LogonStatus::Hung;
            let l = &self.logons[id as usize];
            self.world.add_finding(Finding {
                kind: "hang".into(),
                message: format!("logon {id} ({} on {}) never finished", l.user, l.client),
                at: sim_time,
            });
        }
        self.world.finish_invariants();
        self.check_expectations();
        let scenario_time = sim_time + self.timebase.offset();
        let mut violations = self.world.findings();
        if !self.opts.keep_trace {
            violations.truncate(1000);
        }
        let found: BTreeSet<&str> = violations.iter().map(|f| f.kind.as_str()).collect();
        let expected: BTreeSet<&str> = s.expect.violations.iter().map(String::as_str).collect();
        let passed = found == expected;
        let mut path_counts = BTreeMap::new();
        for l in &self.logons {
            *path_counts.entry(l.path_name()).or_insert(0u64) += 1;
        }
        let coverage = self.world.coverage();
        let load = self.world.load_report(&self.logons);
        let trace = self.world.take_trace();
        let (wire_messages, wire_bytes) = trace.wire_stats();
        let result = RunResult {
            scenario: s.name.clone(),
            file: self.p.file.clone(),
            seed,
            passed,
            trace_hash: trace.hash_hex(),
            violations,
            expected_violations: s.expect.violations.clone(),
            logons: std::mem::take(&mut self.logons),
            path_counts,
            coverage,
            sim_time,
            scenario_time,
            wall_time: wall_since(started),
            steps,
            busy_steps,
            jumps,
            jumped,
            wire_messages,
            wire_bytes,
            replay: self.p.replay_command(seed),
            marks: std::mem::take(&mut self.marks),
            load,
        };
        RunOutput { result, trace }
    }

    /// Records a timeline action in the trace and as a mark for the
    /// report's timeline (at scenario time).
    fn timeline(&mut self, text: String) {
        self.marks.push(Mark {
            at: self.timebase.scenario_elapsed(),
            text: text.clone(),
        });
        self.world.record_event("timeline", text);
    }

    fn host_running(&self, name: &str) -> bool {
        !self.down.contains(name)
    }

    fn ip(&self, name: &str) -> Option<IpAddr> {
        self.p.ip_of(name)
    }

    fn apply(&mut self, sim: &mut turmoil::Sim<'_>, item: Item) {
        let now = self.timebase.sim_elapsed();
        match item {
            Item::Logon(id) => {
                let host_name = self.logons[id as usize].client.clone();
                if !self.host_running(&host_name) {
                    self.logons[id as usize].status = LogonStatus::HostDown;
                    self.world
                        .record_event("logon", format!("{id} skipped: {host_name} is down"));
                    return;
                }
                let rec = &mut self.logons[id as usize];
                rec.started_at = now;
                let (user, realm) = rec
                    .user
                    .rsplit_once('@')
                    .map(|(u, r)| (u.to_owned(), r.to_owned()))
                    .unwrap_or_default();
                let (server, protocol) = self
                    .logon_targets
                    .get(id as usize)
                    .cloned()
                    .unwrap_or_default();
                let req = LogonRequest {
                    id,
                    user,
                    realm,
                    service: rec.service.clone(),
                    server,
                    protocol,
                };
                self.world.record_event(
                    "logon",
                    format!(
                        "{id} start {} on {}{}",
                        rec.user,
                        rec.client,
                        rec.service
                            .as_deref()
                            .map(|s| format!(" service {s}"))
                            .unwrap_or_default()
                    ),
                );
                // Hangs are judged on scenario time: a wait the runner
                // jumped over still counts.
                self.inflight.insert(id, self.timebase.scenario_elapsed());
                self.shared.send(&host_name, HostCommand::Logon(req));
            }
            Item::Leak(host) => {
                if self.host_running(&host) {
                    self.timeline(format!("leak {host}"));
                    self.shared.send(&host, HostCommand::Leak);
                }
            }
            Item::Action(a) => self.apply_action(sim, a),
        }
    }

    fn ips(&self, names: &crate::scenario::OneOrMany) -> Vec<IpAddr> {
        names
            .names()
            .into_iter()
            .filter_map(|n| self.ip(n))
            .collect()
    }

    fn apply_action(&mut self, sim: &mut turmoil::Sim<'_>, a: Action) {
        let name = a.name();
        match a {
            Action::Logon(_) | Action::LogonMany(_) => {}
            Action::FirewallSet(f) => {
                let rule = firewall_rule(&f.rule);
                let desc = rule.to_string();
                let cut = self.world.firewall_set(rule, f.cut_established);
                let cut = if f.cut_established {
                    format!(" cut={cut:?}")
                } else {
                    String::new()
                };
                self.timeline(format!("{name} {desc}{cut}"));
            }
            Action::FirewallClear(c) => {
                let had = self.world.firewall_clear(c.id.as_deref());
                self.timeline(format!(
                    "{name} {} removed={had}",
                    c.id.as_deref().unwrap_or("*")
                ));
            }
            Action::Partition(pa) => {
                for a in self.ips(&pa.a) {
                    for b in self.ips(&pa.b) {
                        if a == b {
                            continue;
                        }
                        if pa.oneway {
                            sim.partition_oneway(a, b);
                        } else {
                            sim.partition(a, b);
                        }
                        self.partitions.insert((a, b, pa.oneway));
                    }
                }
                self.timeline(format!(
                    "{name} {} {} {}",
                    pa.a.names().join(","),
                    if pa.oneway { "->" } else { "<->" },
                    pa.b.names().join(",")
                ));
            }
            Action::Heal(h) => {
                let pairs: Vec<(IpAddr, IpAddr, bool)> = match (&h.a, &h.b) {
                    (Some(a), Some(b)) => {
                        let (aa, bb) = (self.ips(a), self.ips(b));
                        self.partitions
                            .iter()
                            .filter(|(x, y, _)| {
                                (aa.contains(x) && bb.contains(y))
                                    || (aa.contains(y) && bb.contains(x))
                            })
                            .copied()
                            .collect()
                    }
                    _ => self.partitions.iter().copied().collect(),
                };
                for (a, b, oneway) in &pairs {
                    if *oneway {
                        sim.repair_oneway(*a, *b);
                    } else {
                        sim.repair(*a, *b);
                    }
                    self.partitions.remove(&(*a, *b, *oneway));
                }
                self.timeline(format!("{name} {} link(s)", pairs.len()));
            }
            Action::Crash(h) => {
                let Some(ip) = self.ip(&h.host) else { return };
                self.timeline(format!("{name} {}", h.host));
                if self.down.insert(h.host.clone()) {
                    sim.crash(ip);
                    self.abort_logons_on(&h.host);
                }
            }
            Action::Restart(h) => {
                let Some(ip) = self.ip(&h.host) else { return };
                self.timeline(format!("{name} {}", h.host));
                self.down.remove(&h.host);
                // bounce() restarts a running host's software too.
                sim.bounce(ip);
                self.abort_logons_on(&h.host);
            }
            Action::Skew(k) => {
                if let Some(host) = self.world.host(&k.host) {
                    if let Some(set) = k.set {
                        host.clock.set_skew(set.as_nanos_i64());
                    }
                    if let Some(step) = k.step {
                        host.clock.step_skew(step.as_nanos_i64());
                    }
                    let now = crate::duration::Offset(i128::from(host.clock.skew_nanos()));
                    self.timeline(format!("{name} {} now {now}", k.host));
                }
            }
            Action::Warp(w) => {
                self.timebase.add_warp(w.by.0);
                self.timeline(format!("{name} {}", w.by));
            }
            Action::Errors(e) => {
                self.shared
                    .kdc_errors(&e.host)
                    .store(e.code.unwrap_or(0), std::sync::atomic::Ordering::Relaxed);
                let what = e
                    .code
                    .map_or_else(|| "off".to_owned(), |c| format!("code {c}"));
                self.timeline(format!("{name} {} {what}", e.host));
            }
            Action::Delay(d) => {
                self.world.set_send_delay(&d.host, d.delay.0);
                self.timeline(format!("{name} {} {}", d.host, d.delay));
            }
        }
    }

    fn abort_logons_on(&mut self, host: &str) {
        self.shared.clear(host);
        let ids: Vec<u64> = self
            .inflight
            .keys()
            .copied()
            .filter(|id| self.logons[*id as usize].client.eq_ignore_ascii_case(host))
            .collect();
        for id in ids {
            self.inflight.remove(&id);
            self.logons[id as usize].status = LogonStatus::Aborted;
            self.world
                .record_event("logon", format!("{id} aborted: {host} went down"));
        }
    }

    /// Moves finished logons into their records and copies relay audit
    /// lines into the trace.
    fn collect(&mut self) {
        self.shared.drain_audits();
        let done = std::mem::take(&mut *self.shared.finished.borrow_mut());
        let now = self.timebase.sim_elapsed();
        for (id, report, latency) in done {
            // A report from a logon already declared hung or aborted is late
            // news; the first verdict stands.
            if self.inflight.remove(&id).is_none() {
                continue;
            }
            let Some(rec) = self.logons.get_mut(id as usize) else {
                continue;
            };
            rec.status = LogonStatus::Done;
            rec.finished_at = Some(now);
            rec.latency = Some(latency);
            self.world.record_event(
                "logon",
                format!(
                    "{id} done {} path={} attempts={} latency={}{}",
                    match report.outcome {
                        Outcome::Success => "success",
                        Outcome::Failure => "failure",
                    },
                    report.path,
                    report.attempts.len(),
                    format_duration(latency),
                    report
                        .error
                        .as_deref()
                        .map(|e| format!(" error={e}"))
                        .unwrap_or_default()
                ),
            );
            rec.report = Some(report);
            let rec = rec.clone();
            self.world.check_logon(&rec);
        }
    }

    fn check_hangs(&mut self, max: Duration) {
        let now = self.timebase.scenario_elapsed();
        let hung: Vec<u64> = self
            .inflight
            .iter()
            .filter(|(_, started)| now.saturating_sub(**started) > max)
            .map(|(id, _)| *id)
            .collect();
        for id in hung {
            self.inflight.remove(&id);
            self.logons[id as usize].status = LogonStatus::Hung;
            let l = &self.logons[id as usize];
            self.world.add_finding(Finding {
                kind: "hang".into(),
                message: format!(
                    "logon {id} ({} on {}) still running after {}",
                    l.user,
                    l.client,
                    format_duration(max)
                ),
                at: self.timebase.sim_elapsed(),
            });
        }
    }

    fn check_expectations(&mut self) {
        let now = self.timebase.sim_elapsed();
        let mut findings = Vec::new();
        for e in &self.p.scenario.expect.logons {
            let group: Vec<&LogonRecord> = self
                .logons
                .iter()
                .filter(|l| l.label.as_deref() == Some(&e.label))
                .collect();
            let mut fail = |msg: String| {
                findings.push(Finding {
                    kind: "expectation".into(),
                    message: format!("label `{}`: {msg}", e.label),
                    at: now,
                })
            };
            if let Some(c) = e.count
                && group.len() != c as usize
            {
                fail(format!("{} logons, expected {c}", group.len()));
            }
            for l in &group {
                let Some(r) = &l.report else {
                    fail(format!("logon {} did not finish ({})", l.id, l.path_name()));
                    continue;
                };
                if let Some(p) = &e.path
                    && !p.contains(r.path)
                {
                    fail(format!("logon {} took path {}, expected {p}", l.id, r.path));
                }
                if let Some(o) = e.outcome
                    && o != r.outcome
                {
                    fail(format!(
                        "logon {} {}, expected {}{}",
                        l.id,
                        if r.outcome == Outcome::Success {
                            "succeeded"
                        } else {
                            "failed"
                        },
                        if o == Outcome::Success {
                            "success"
                        } else {
                            "failure"
                        },
                        r.error
                            .as_deref()
                            .map(|e| format!(" ({e})"))
                            .unwrap_or_default()
                    ));
                }
                if let (Some(max), Some(lat)) = (e.max_latency, l.latency)
                    && lat > max.0
                {
                    fail(format!(
                        "logon {} took {}, more than {}",
                        l.id,
                        format_duration(lat),
                        max
                    ));
                }
            }
        }
        // `sometimes` properties: each must have been reached at least once.
        if !self.p.scenario.expect.sometimes.is_empty() {
            let coverage = self.world.coverage();
            for key in &self.p.scenario.expect.sometimes {
                if coverage.get(key).copied().unwrap_or(0) == 0 {
                    findings.push(Finding {
                        kind: "sometimes".into(),
                        message: format!("`{key}` was never reached"),
                        at: now,
                    });
                }
            }
        }
        for f in findings {
            self.world.add_finding(f);
        }
    }
}

/// Wall-clock start of a measurement.
#[allow(clippy::disallowed_methods)] // wall time of a run is reported, never simulated
fn wall_now() -> std::time::Instant {
    std::time::Instant::now()
}

fn wall_since(t: std::time::Instant) -> Duration {
    t.elapsed()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::programs::localkdc::enrolment;

    #[test]
    fn a_run_watches_for_its_own_localkdc_enrolment_keys() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../scenarios/offline-hangar.toml");
        let text = std::fs::read_to_string(&path).unwrap();
        let s = crate::scenario::load_str(&text, "offline-hangar.toml").unwrap();
        let p = Prepared::new(s, "offline-hangar.toml").unwrap();
        let key = |seed| {
            enrolment(seed, "tablet1", "cifs/mxdocs.corp.example")
                .key
                .bytes()
                .to_vec()
        };
        let watched = |seed| {
            run_secrets(&p, seed)
                .secrets()
                .iter()
                .any(|s| s.bytes == key(seed))
        };
        assert!(!p.secrets.secrets().iter().any(|s| s.bytes == key(1)));
        assert!(watched(1), "seed 1's enrolment key is a canary of seed 1");
        assert!(watched(2));
        assert_ne!(key(1), key(2), "the key is the seed's");
        assert_eq!(
            run_secrets(&p, 1).secrets().len(),
            p.secrets.secrets().len() + 1,
            "one enrolled service, one more secret"
        );
    }
}
