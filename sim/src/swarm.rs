//! Swarm fuzzing: random fault plans over the standard topologies, checked
//! against the safety properties, with failures shrunk to a scenario file
//! that replays them (FoundationDB's swarm testing, TigerBeetle's VOPR:
//! `reference/simulation-conformance-style.md` §1.3-1.4, §1.7).
//!
//! A *case* is drawn from a master seed and a case number: a topology
//! (an office with two DCs, a relay and a file server; the same with a
//! second realm that only the relay could reach; a branch office on a slow
//! lossy WAN), a client policy, link loss, and a timeline of logons mixed
//! with faults: firewall rules (drop or reject, any port, any pair), their
//! removal, partitions and heals, crashes and restarts, clock skew, slow
//! hosts and KDC errors. The case is rendered as an ordinary scenario file
//! and run with the usual invariants and no logon expectations, so every
//! violation found is a safety (or hang) failure.
//!
//! A failing case is shrunk the way sled's guide describes: drop timeline
//! events (then halve what remains of each), keeping a change only while
//! the run still fails with the same violation kind, then drop loss and
//! initial firewall rules the same way. The result is written out as a
//! scenario file whose comment says how it was found and how to replay it.
//!
//! [`PlantedBug`] is a test-only switch that breaks one safety property on
//! purpose, so a test can show the swarm finds it in bounded time.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::sync::Arc;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha12Rng;

use crate::results::RunResult;
use crate::runner::{Prepared, RunOptions, run};
use crate::scenario::load_str;

/// A deliberately broken safety property (test only: never set outside
/// `kerbside fuzz scenarios --plant-bug` and the matching `replay`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
#[non_exhaustive]
pub enum PlantedBug {
    /// The relay forwards requests for every realm of the scenario, not
    /// only the ones it was given (CVE-2025-59088's class of bug); the
    /// `relay-realm` invariant must catch it.
    RelayForwardsUndeclaredRealm,
}

impl PlantedBug {
    /// Every planted bug, with its flag name.
    pub const ALL: &'static [(&'static str, PlantedBug)] = &[(
        "relay-forwards-undeclared-realm",
        PlantedBug::RelayForwardsUndeclaredRealm,
    )];

    /// Parses a flag value.
    pub fn parse(name: &str) -> Option<PlantedBug> {
        Self::ALL.iter().find(|(n, _)| *n == name).map(|(_, b)| *b)
    }

    /// The flag value.
    pub fn name(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(_, b)| *b == self)
            .map(|(n, _)| *n)
            .unwrap_or("unknown")
    }

    /// The violation kind this bug produces.
    pub fn violation(self) -> &'static str {
        match self {
            PlantedBug::RelayForwardsUndeclaredRealm => "relay-realm",
        }
    }
}

/// The standard topologies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Topology {
    /// One realm, two DCs, a relay in the DMZ, a file server, three laptops.
    Office,
    /// The office plus a lab realm whose KDC the lab laptop can reach only
    /// through the relay, which is not configured for that realm.
    TwoRealm,
    /// The office's DCs and relay 40 ms away over a lossy link.
    Branch,
}

/// One timeline event of a plan.
#[derive(Clone, Debug, PartialEq)]
pub enum Ev {
    /// `count` logons of `user` from `client`, `every_s` apart.
    Logons {
        /// Client host.
        client: String,
        /// User.
        user: String,
        /// Authenticate to the file server after the tickets.
        app: bool,
        /// How many.
        count: u32,
        /// Spacing.
        every_s: u64,
    },
    /// A firewall rule.
    Firewall {
        /// Rule id.
        id: String,
        /// Initiator.
        from: String,
        /// Server.
        to: String,
        /// `tcp`, `udp` or `any`.
        proto: &'static str,
        /// Port or `*`.
        port: String,
        /// `drop` or `reject`.
        action: &'static str,
    },
    /// Remove a rule.
    Clear {
        /// Rule id.
        id: String,
    },
    /// Cut two hosts apart.
    Partition {
        /// One side.
        a: String,
        /// Other side.
        b: String,
    },
    /// Restore every partition.
    Heal,
    /// Stop a host.
    Crash {
        /// Host.
        host: String,
    },
    /// Start it again.
    Restart {
        /// Host.
        host: String,
    },
    /// Set a host's clock skew.
    Skew {
        /// Host.
        host: String,
        /// Seconds (signed).
        secs: i64,
    },
    /// Set a host's send delay.
    Delay {
        /// Host.
        host: String,
        /// Milliseconds.
        ms: u64,
    },
    /// A KDC answers with a KRB-ERROR code (or normally again).
    Errors {
        /// KDC host.
        host: String,
        /// Code, or none.
        code: Option<i32>,
    },
}

/// A timed event.
#[derive(Clone, Debug, PartialEq)]
pub struct Timed {
    /// Scenario time, seconds.
    pub at_s: u64,
    /// The event.
    pub ev: Ev,
}

/// Link loss between two hosts.
#[derive(Clone, Debug, PartialEq)]
pub struct Loss {
    /// One end.
    pub a: String,
    /// Other end.
    pub b: String,
    /// UDP datagram loss.
    pub udp: f64,
    /// TCP segment loss.
    pub tcp: f64,
}

/// A generated case: everything the scenario file says.
#[derive(Clone, Debug, PartialEq)]
pub struct Plan {
    /// Master seed of the swarm.
    pub master: u64,
    /// Case number.
    pub case: u64,
    /// The run's seed.
    pub seed: u64,
    /// Topology.
    pub topology: Topology,
    /// NTLM policy: allow, audit or deny.
    pub ntlm: &'static str,
    /// Also try native UDP.
    pub udp: bool,
    /// Negative-cache time to live, seconds (0: off).
    pub negative_ttl_s: u64,
    /// Race the next path after this many ms (none: no racing).
    pub race_ms: Option<u64>,
    /// Keep tickets between logons (off: every logon asks a KDC).
    pub ticket_cache: bool,
    /// Firewall rules in force from the start.
    pub firewall: Vec<Ev>,
    /// Lossy links.
    pub loss: Vec<Loss>,
    /// The timeline.
    pub events: Vec<Timed>,
}

const CLIENTS: [&str; 3] = ["laptop1", "laptop2", "laptop3"];
const USERS: [&str; 3] = ["alice", "bob", "carol"];
const SERVERS: [&str; 4] = ["dc1", "dc2", "relay", "files"];

fn pick<'a, R: Rng>(rng: &mut R, v: &[&'a str]) -> &'a str {
    v[rng.random_range(0..v.len())]
}

impl Plan {
    /// Draws case `case` of the swarm with master seed `master`.
    pub fn generate(master: u64, case: u64) -> Plan {
        let mut key = [0u8; 32];
        key[..8].copy_from_slice(&master.to_le_bytes());
        key[8..16].copy_from_slice(&case.to_le_bytes());
        key[16..].copy_from_slice(b"kerbside-swarm-1");
        let mut rng = ChaCha12Rng::from_seed(key);
        let topology = match rng.random_range(0..10) {
            0..=4 => Topology::Office,
            5..=7 => Topology::TwoRealm,
            _ => Topology::Branch,
        };
        let mut clients: Vec<&str> = CLIENTS.to_vec();
        if topology == Topology::TwoRealm {
            clients.push("labtop");
        }
        let hosts: Vec<&str> = clients.iter().chain(SERVERS.iter()).copied().collect();
        let mut plan = Plan {
            master,
            case,
            // Small, so the written file's `seeds = N` includes it.
            seed: rng.random_range(1..=16),
            topology,
            ntlm: pick(&mut rng, &["allow", "audit", "deny"]),
            udp: rng.random_bool(0.3),
            negative_ttl_s: *[0u64, 60, 300].get(rng.random_range(0..3)).unwrap_or(&60),
            race_ms: rng.random_bool(0.3).then(|| rng.random_range(100..800)),
            ticket_cache: rng.random_bool(0.5),
            firewall: Vec::new(),
            loss: Vec::new(),
            events: Vec::new(),
        };
        // Swarm testing: each case enables only some fault kinds, so
        // combinations that one kind would mask still get explored.
        let kinds: Vec<u8> = (0..8).filter(|_| rng.random_bool(0.5)).collect();
        if rng.random_bool(0.3) {
            plan.firewall
                .push(random_rule(&mut rng, "initial", &clients, &hosts));
        }
        if kinds.contains(&0) || topology == Topology::Branch {
            let a = pick(&mut rng, &clients).to_owned();
            let b = pick(&mut rng, &SERVERS).to_owned();
            plan.loss.push(Loss {
                a,
                b,
                udp: f64::from(rng.random_range(0..20u32)) / 100.0,
                tcp: f64::from(rng.random_range(0..10u32)) / 100.0,
            });
        }
        let faults = rng.random_range(2..10);
        let mut t = 30u64;
        for i in 0..faults {
            t += rng.random_range(5..240);
            let kind = kinds.get(i % kinds.len().max(1)).copied().unwrap_or(1);
            let ev = match kind {
                0 | 1 => random_rule(&mut rng, &format!("f{i}"), &clients, &hosts),
                2 => Ev::Partition {
                    a: pick(&mut rng, &hosts).to_owned(),
                    b: pick(&mut rng, &SERVERS).to_owned(),
                },
                3 => Ev::Crash {
                    host: pick(&mut rng, &hosts).to_owned(),
                },
                4 => Ev::Skew {
                    host: pick(&mut rng, &hosts).to_owned(),
                    secs: rng.random_range(-900..900),
                },
                5 => Ev::Delay {
                    host: pick(&mut rng, &SERVERS).to_owned(),
                    ms: rng.random_range(0..4000),
                },
                6 => Ev::Errors {
                    host: pick(&mut rng, &["dc1", "dc2"]).to_owned(),
                    code: Some(29),
                },
                _ => Ev::Heal,
            };
            // Most faults are undone later: the world should recover.
            let undo = match &ev {
                Ev::Firewall { id, .. } => Some(Ev::Clear { id: id.clone() }),
                Ev::Partition { .. } => Some(Ev::Heal),
                Ev::Crash { host } => Some(Ev::Restart { host: host.clone() }),
                Ev::Skew { host, .. } => Some(Ev::Skew {
                    host: host.clone(),
                    secs: 0,
                }),
                Ev::Delay { host, .. } => Some(Ev::Delay {
                    host: host.clone(),
                    ms: 0,
                }),
                Ev::Errors { host, .. } => Some(Ev::Errors {
                    host: host.clone(),
                    code: None,
                }),
                _ => None,
            };
            plan.events.push(Timed { at_s: t, ev });
            if let Some(u) = undo.filter(|_| rng.random_bool(0.7)) {
                plan.events.push(Timed {
                    at_s: t + rng.random_range(10..600),
                    ev: u,
                });
            }
        }
        let logons = rng.random_range(2..7);
        for _ in 0..logons {
            let client = pick(&mut rng, &clients).to_owned();
            let user = if client == "labtop" {
                "dave".to_owned()
            } else {
                pick(&mut rng, &USERS).to_owned()
            };
            plan.events.push(Timed {
                at_s: rng.random_range(20..t + 300),
                ev: Ev::Logons {
                    client,
                    user,
                    app: rng.random_bool(0.5),
                    count: rng.random_range(1..5),
                    every_s: rng.random_range(5..120),
                },
            });
        }
        plan.events.sort_by_key(|e| e.at_s);
        plan
    }

    /// The scenario's name.
    pub fn name(&self) -> String {
        format!("swarm-{}-{}", self.master, self.case)
    }

    /// Scenario time after the last event plus enough for the slowest
    /// logon to finish.
    fn duration_s(&self) -> u64 {
        let last = self
            .events
            .iter()
            .map(|e| match &e.ev {
                Ev::Logons { count, every_s, .. } => {
                    e.at_s + u64::from(count.saturating_sub(1)) * every_s
                }
                _ => e.at_s,
            })
            .max()
            .unwrap_or(0);
        last + 600
    }

    /// The plan as a scenario file.
    pub fn render(&self, header: &str) -> String {
        let mut s = String::new();
        for line in header.lines() {
            let _ = writeln!(s, "# {line}");
        }
        let _ = writeln!(s, "name = \"{}\"", self.name());
        let _ = writeln!(
            s,
            "description = \"\"\"\nSwarm case {} of master seed {}: a random fault plan over the {:?} topology, \
             checked against the safety properties (no secret on the wire, no NTLM under deny, an audit \
             trail per logon, the relay forwards only declared realms, no hang, no panic). It has no \
             logon expectations: any violation is a failure.\n\"\"\"",
            self.case, self.master, self.topology
        );
        let _ = writeln!(
            s,
            "seeds = {}\nepoch = \"2026-03-02T08:00:00Z\"\ntick = \"1ms\"\nduration = \"{}s\"\n",
            self.seed,
            self.duration_s()
        );
        s.push_str(
            "[[realm]]\nname = \"CORP.EXAMPLE\"\nkdcs = [\"dc1\", \"dc2\"]\n\n\
             [[realm.principal]]\nname = \"alice\"\npassword = \"Winter2026!alice\"\n\n\
             [[realm.principal]]\nname = \"bob\"\npassword = \"Spring2026!bob\"\n\n\
             [[realm.principal]]\nname = \"carol\"\npassword = \"Autumn2026!carol\"\n\n\
             [[realm.principal]]\nname = \"cifs/files.corp.example\"\npassword = \"files-service-secret\"\n\n",
        );
        if self.topology == Topology::TwoRealm {
            s.push_str(
                "[[realm]]\nname = \"LAB.TEST\"\nkdcs = [\"dclab\"]\n\n\
                 [[realm.principal]]\nname = \"dave\"\npassword = \"Summer2026!dave\"\n\n",
            );
        }
        s.push_str(
            "[[host]]\nname = \"dc1\"\nrole = \"kdc\"\naddress = \"10.0.0.10\"\n\n\
             [[host]]\nname = \"dc2\"\nrole = \"kdc\"\naddress = \"10.0.0.11\"\n\n\
             [[host]]\nname = \"relay\"\nrole = \"relay\"\naddress = \"10.0.1.10\"\n\
             aliases = [\"kdcproxy.corp.example\"]\n[host.relay]\nrealms = [\"CORP.EXAMPLE\"]\n\n\
             [[host]]\nname = \"files\"\nrole = \"app\"\naddress = \"10.0.0.20\"\n\
             aliases = [\"files.corp.example\"]\n[host.app]\nrealm = \"CORP.EXAMPLE\"\n\n",
        );
        for (i, c) in CLIENTS.iter().enumerate() {
            let _ = writeln!(
                s,
                "[[host]]\nname = \"{c}\"\nrole = \"client\"\naddress = \"10.0.2.{}\"\n[host.client]\nrealm = \"CORP.EXAMPLE\"\n",
                21 + i
            );
        }
        if self.topology == Topology::TwoRealm {
            s.push_str(
                "[[host]]\nname = \"dclab\"\nrole = \"kdc\"\naddress = \"10.0.5.10\"\n\n\
                 [[host]]\nname = \"labtop\"\nrole = \"client\"\naddress = \"10.0.5.21\"\n\
                 [host.client]\nrealm = \"LAB.TEST\"\n\n",
            );
        }
        s.push_str("[network]\nlatency = \"1ms\"\njitter = \"2ms\"\n\n");
        if self.topology == Topology::Branch {
            for c in CLIENTS {
                for srv in ["dc1", "dc2", "relay"] {
                    let _ = writeln!(
                        s,
                        "[[link]]\nbetween = [\"{c}\", \"{srv}\"]\nlatency = \"20ms\"\njitter = \"10ms\"\n"
                    );
                }
            }
        }
        for l in &self.loss {
            if l.a == l.b {
                continue;
            }
            let _ = writeln!(
                s,
                "[[link]]\nbetween = [\"{}\", \"{}\"]\nudp_loss = {:.2}\ntcp_loss = {:.2}\n",
                l.a, l.b, l.udp, l.tcp
            );
        }
        if self.topology == Topology::TwoRealm {
            // The lab KDC is only reachable through the relay.
            s.push_str(
                "[[firewall]]\nid = \"lab-only-via-relay\"\nfrom = \"labtop\"\nto = \"dclab\"\nport = 88\naction = \"drop\"\n\n",
            );
        }
        for r in &self.firewall {
            if let Ev::Firewall {
                id,
                from,
                to,
                proto,
                port,
                action,
            } = r
            {
                let _ = writeln!(
                    s,
                    "[[firewall]]\nid = \"{id}\"\nfrom = \"{from}\"\nto = \"{to}\"\nproto = \"{proto}\"\nport = {}\naction = \"{action}\"\n",
                    port_value(port)
                );
            }
        }
        let _ = writeln!(
            s,
            "[policy]\nrelays = [\"https://kdcproxy.corp.example/KdcProxy\"]\n\n\
             [policy.native]\nudp = {}\ntimeout = \"2s\"\n\n[policy.kkdcp]\ntimeout = \"5s\"\n\n\
             [policy.negative_cache]\nttl = \"{}s\"\n\n[policy.ntlm]\nmode = \"{}\"\n\n\
             [policy.tickets]\ncache = {}\n",
            self.udp, self.negative_ttl_s, self.ntlm, self.ticket_cache
        );
        if let Some(ms) = self.race_ms {
            let _ = writeln!(s, "[policy.racing]\nenabled = true\ndelay = \"{ms}ms\"\n");
        }
        for e in &self.events {
            let _ = writeln!(s, "[[timeline]]\nat = \"{}s\"", e.at_s);
            match &e.ev {
                Ev::Logons {
                    client,
                    user,
                    app,
                    count,
                    every_s,
                } => {
                    let _ = writeln!(
                        s,
                        "action = \"logon_many\"\nclient = \"{client}\"\nuser = \"{user}\"\ncount = {count}\nevery = \"{every_s}s\""
                    );
                    if client != "labtop" {
                        s.push_str("service = \"cifs/files.corp.example\"\n");
                        if *app {
                            s.push_str("server = \"files.corp.example\"\n");
                        }
                    }
                }
                Ev::Firewall {
                    id,
                    from,
                    to,
                    proto,
                    port,
                    action,
                } => {
                    let _ = writeln!(
                        s,
                        "action = \"firewall.set\"\nrule = {{ id = \"{id}\", from = \"{from}\", to = \"{to}\", proto = \"{proto}\", port = {}, action = \"{action}\" }}",
                        port_value(port)
                    );
                }
                Ev::Clear { id } => {
                    let _ = writeln!(s, "action = \"firewall.clear\"\nid = \"{id}\"");
                }
                Ev::Partition { a, b } => {
                    let _ = writeln!(s, "action = \"partition\"\na = \"{a}\"\nb = \"{b}\"");
                }
                Ev::Heal => s.push_str("action = \"heal\"\n"),
                Ev::Crash { host } => {
                    let _ = writeln!(s, "action = \"crash\"\nhost = \"{host}\"");
                }
                Ev::Restart { host } => {
                    let _ = writeln!(s, "action = \"restart\"\nhost = \"{host}\"");
                }
                Ev::Skew { host, secs } => {
                    let _ = writeln!(s, "action = \"skew\"\nhost = \"{host}\"\nset = \"{secs}s\"");
                }
                Ev::Delay { host, ms } => {
                    let _ = writeln!(
                        s,
                        "action = \"delay\"\nhost = \"{host}\"\ndelay = \"{ms}ms\""
                    );
                }
                Ev::Errors { host, code } => {
                    let _ = writeln!(s, "action = \"errors\"\nhost = \"{host}\"");
                    if let Some(c) = code {
                        let _ = writeln!(s, "code = {c}");
                    }
                }
            }
            s.push('\n');
        }
        s
    }
}

fn port_value(port: &str) -> String {
    if port.parse::<u16>().is_ok() {
        port.to_owned()
    } else {
        format!("\"{port}\"")
    }
}

fn random_rule<R: Rng>(rng: &mut R, id: &str, clients: &[&str], hosts: &[&str]) -> Ev {
    let from = if rng.random_bool(0.3) {
        "role:client".to_owned()
    } else {
        pick(rng, clients).to_owned()
    };
    let to = if rng.random_bool(0.2) {
        "*".to_owned()
    } else {
        pick(rng, hosts).to_owned()
    };
    let port = match rng.random_range(0..5) {
        0 | 1 => "88".to_owned(),
        2 => "443".to_owned(),
        3 => "4444".to_owned(),
        _ => "*".to_owned(),
    };
    Ev::Firewall {
        id: id.to_owned(),
        from,
        to,
        proto: pick(rng, &["tcp", "udp", "any"]),
        port,
        action: pick(rng, &["drop", "reject"]),
    }
}

/// The outcome of running one plan.
#[derive(Debug)]
pub struct Checked {
    /// The scenario file.
    pub text: String,
    /// The run.
    pub result: RunResult,
}

impl Checked {
    /// The violation kinds found.
    pub fn kinds(&self) -> BTreeSet<String> {
        self.result
            .violations
            .iter()
            .map(|v| v.kind.clone())
            .collect()
    }
}

/// Runs a plan; `Err` when the rendered file does not load (a generator
/// bug, reported as such).
pub fn check(plan: &Plan, planted: Option<PlantedBug>) -> Result<Checked, String> {
    let text = plan.render("");
    let file = format!("{}.toml", plan.name());
    let scenario = load_str(&text, &file).map_err(|e| e.to_string())?;
    let mut prepared = Prepared::new(scenario, &file).map_err(|e| e.to_string())?;
    prepared.planted = planted;
    let prepared = Arc::new(prepared);
    let out = run(
        &prepared,
        &RunOptions {
            seed: plan.seed,
            ..RunOptions::default()
        },
    );
    Ok(Checked {
        text,
        result: out.result,
    })
}

/// Whether `plan` fails with violation `kind`.
fn fails_with(plan: &Plan, planted: Option<PlantedBug>, kind: &str) -> bool {
    check(plan, planted).is_ok_and(|c| c.kinds().contains(kind))
}

/// Shrinks a plan that fails with `kind`: drops timeline events, then
/// halves logon counts, then drops loss and initial rules, keeping every
/// change after which the run still fails with `kind`. `budget` bounds
/// the number of runs.
pub fn shrink(plan: &Plan, planted: Option<PlantedBug>, kind: &str, budget: usize) -> Plan {
    let mut best = plan.clone();
    let mut runs = 0usize;
    let try_it = |cand: &Plan, best: &mut Plan, runs: &mut usize| -> bool {
        if *runs >= budget {
            return false;
        }
        *runs += 1;
        if fails_with(cand, planted, kind) {
            *best = cand.clone();
            true
        } else {
            false
        }
    };
    // Drop events, last first (later events rarely matter to an earlier
    // failure), repeating until nothing more can go.
    loop {
        let mut changed = false;
        let mut i = best.events.len();
        while i > 0 {
            i -= 1;
            let mut cand = best.clone();
            cand.events.remove(i);
            if try_it(&cand, &mut best, &mut runs) {
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
    // Fewer logons in each burst.
    for i in 0..best.events.len() {
        while let Ev::Logons { count, .. } = best.events[i].ev {
            if count <= 1 {
                break;
            }
            let mut cand = best.clone();
            if let Ev::Logons { count, .. } = &mut cand.events[i].ev {
                *count /= 2;
            }
            if !try_it(&cand, &mut best, &mut runs) {
                break;
            }
        }
    }
    let mut i = best.loss.len();
    while i > 0 {
        i -= 1;
        let mut cand = best.clone();
        cand.loss.remove(i);
        try_it(&cand, &mut best, &mut runs);
    }
    let mut i = best.firewall.len();
    while i > 0 {
        i -= 1;
        let mut cand = best.clone();
        cand.firewall.remove(i);
        try_it(&cand, &mut best, &mut runs);
    }
    best
}

/// How to hunt.
#[derive(Clone, Copy, Debug)]
pub struct HuntOptions {
    /// Master seed: case `n` of a master seed is always the same plan.
    pub master: u64,
    /// Test only: a property broken on purpose.
    pub planted: Option<PlantedBug>,
    /// Worker threads.
    pub threads: usize,
    /// Most runs the shrinker may spend.
    pub shrink_budget: usize,
}

/// A failure the swarm found, shrunk.
#[derive(Debug)]
pub struct SwarmFailure {
    /// The case as generated.
    pub original: Plan,
    /// The case after shrinking.
    pub shrunk: Plan,
    /// The violation kind shrinking preserved.
    pub kind: String,
    /// The shrunk case's run.
    pub result: RunResult,
    /// The planted bug the hunt ran with.
    pub planted: Option<PlantedBug>,
}

impl SwarmFailure {
    /// The scenario file that replays the failure, with a header saying
    /// where it came from and how to rerun it.
    pub fn scenario_file(&self, path: &str) -> String {
        let plant = self
            .shrunk_planted()
            .map(|b| format!(" --plant-bug {}", b.name()))
            .unwrap_or_default();
        let mut header = format!(
            "Found by `kerbside fuzz scenarios --seed {}` (case {}){}, shrunk from {} to {} timeline events.\n",
            self.original.master,
            self.original.case,
            plant,
            self.original.events.len(),
            self.shrunk.events.len()
        );
        for v in self.result.violations.iter().take(5) {
            let _ = writeln!(header, "Fails with: [{}] {}", v.kind, v.message);
        }
        let _ = write!(
            header,
            "Replay: kerbside replay {path} --seed {}{plant}\n\
             `kerbside run {path}{plant}` runs seeds 1..={} and fails too. Once the bug is fixed\n\
             the file passes: keep it as a regression scenario.",
            self.shrunk.seed, self.shrunk.seed
        );
        self.shrunk.render(&header)
    }

    fn shrunk_planted(&self) -> Option<PlantedBug> {
        PlantedBug::ALL
            .iter()
            .map(|(_, b)| *b)
            .find(|b| b.violation() == self.kind && self.planted == Some(*b))
    }
}

/// What a hunt did.
#[derive(Debug, Default)]
pub struct Hunt {
    /// Cases run.
    pub cases: u64,
    /// The first failure (lowest case number among those found), shrunk.
    pub failure: Option<SwarmFailure>,
    /// Cases whose file did not load (generator bugs).
    pub errors: Vec<String>,
}

/// Runs cases `0, 1, 2, ...` of `opts.master` on worker threads while
/// `keep_going()` says so and nothing has failed, then shrinks the failure
/// with the lowest case number. `progress` sees each finished case number.
pub fn hunt(
    opts: &HuntOptions,
    keep_going: &(dyn Fn() -> bool + Sync),
    progress: &(dyn Fn(u64) + Sync),
) -> Hunt {
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
    let next = AtomicU64::new(0);
    let done = AtomicU64::new(0);
    let stop = AtomicBool::new(false);
    let found: Mutex<Vec<(u64, Plan, String)>> = Mutex::new(Vec::new());
    let errors: Mutex<Vec<String>> = Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for t in 0..opts.threads.max(1) {
            let (next, done, stop, found, errors) = (&next, &done, &stop, &found, &errors);
            let builder = std::thread::Builder::new().name(format!("kerbside-swarm-{t}"));
            let _ = builder.spawn_scoped(scope, move || {
                while keep_going() && !stop.load(Ordering::Relaxed) {
                    let case = next.fetch_add(1, Ordering::Relaxed);
                    let plan = Plan::generate(opts.master, case);
                    match check(&plan, opts.planted) {
                        Ok(c) => {
                            let kinds = c.kinds();
                            if !kinds.is_empty() {
                                // The planted bug's kind first, when present.
                                let kind = opts
                                    .planted
                                    .map(|b| b.violation().to_owned())
                                    .filter(|k| kinds.contains(k))
                                    .or_else(|| kinds.iter().next().cloned())
                                    .unwrap_or_default();
                                if let Ok(mut f) = found.lock() {
                                    f.push((case, plan, kind));
                                }
                                stop.store(true, Ordering::Relaxed);
                            }
                        }
                        Err(e) => {
                            if let Ok(mut v) = errors.lock() {
                                v.push(format!("case {case}: {e}"));
                            }
                        }
                    }
                    done.fetch_add(1, Ordering::Relaxed);
                    progress(case);
                }
            });
        }
    });
    let mut hunt = Hunt {
        cases: done.load(Ordering::Relaxed),
        failure: None,
        errors: errors.into_inner().unwrap_or_default(),
    };
    let mut found = found.into_inner().unwrap_or_default();
    found.sort_by_key(|(case, _, _)| *case);
    if let Some((_, plan, kind)) = found.into_iter().next() {
        let shrunk = shrink(&plan, opts.planted, &kind, opts.shrink_budget);
        if let Ok(c) = check(&shrunk, opts.planted) {
            hunt.failure = Some(SwarmFailure {
                original: plan,
                shrunk,
                kind,
                result: c.result,
                planted: opts.planted,
            });
        }
    }
    hunt
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plans_are_deterministic_and_render_to_valid_scenarios() {
        for case in 0..40 {
            let a = Plan::generate(7, case);
            assert_eq!(a, Plan::generate(7, case), "same seed, same plan");
            let text = a.render("header line");
            assert!(text.starts_with("# header line\n"));
            load_str(&text, "x.toml").unwrap_or_else(|e| panic!("case {case}: {e}\n{text}"));
        }
        assert_ne!(Plan::generate(7, 1), Plan::generate(8, 1));
    }

    #[test]
    fn planted_bug_names_round_trip() {
        for (name, bug) in PlantedBug::ALL {
            assert_eq!(PlantedBug::parse(name), Some(*bug));
            assert_eq!(bug.name(), *name);
        }
        assert_eq!(PlantedBug::parse("nope"), None);
    }
}
