//! A deterministic, in-process network for negotiator tests: a virtual
//! monotonic clock, an event queue, and per-route behaviour (a real
//! `kerbside_kdc::Kdc` answering after a latency, silence, refusal, fixed
//! bytes). The negotiator under test is the real one; only the network is
//! modelled.
#![allow(dead_code, unreachable_pub)]

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use kerbside_client::krb::Principal;
use kerbside_client::negotiator::{
    Action, AppAction, AppEvent, AppServer, Capabilities, Credential, Event, ExchangeId, HostState,
    KdcTransport, Logon, LogonRequest, LogonResult, Now, Policy, Route, TransportFailure,
};
use kerbside_kdc::load::{Source, load_store};
use kerbside_kdc::{Kdc, KdcConfig, Outcome, Transport};
use rand_chacha::ChaCha12Rng;
use rand_core::SeedableRng;

pub const REALM: &str = "CORP.EXAMPLE";
pub const ALICE_PW: &str = "alice-Secret-1";

/// Principals of the test realm: one AES256 key each keeps PBKDF2 cheap.
const PRINCIPALS: &str = r#"
[[principal]]
name = "krbtgt/CORP.EXAMPLE"
password = "krbtgt-secret"
enctypes = ["aes256-cts-hmac-sha1-96"]

[[principal]]
name = "alice"
password = "alice-Secret-1"
requires_preauth = true
enctypes = ["aes256-cts-hmac-sha1-96"]

[[principal]]
name = "host/app.corp.example"
password = "app-secret"
enctypes = ["aes256-cts-hmac-sha1-96"]

[[principal]]
name = "host/files.corp.example"
password = "files-secret"
enctypes = ["aes256-cts-hmac-sha1-96"]
"#;

/// 2026-01-01T00:00:00Z.
pub fn epoch() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_767_225_600)
}

pub fn kdc() -> Kdc {
    kdc_with(|_| {})
}

pub fn kdc_with(f: impl FnOnce(&mut KdcConfig)) -> Kdc {
    use std::sync::OnceLock;
    static STORE: OnceLock<kerbside_kdc::PrincipalStore> = OnceLock::new();
    let mut cfg = KdcConfig::new(REALM);
    let store = STORE
        .get_or_init(|| {
            load_store(
                REALM,
                &cfg.enctypes,
                Some(Source {
                    data: PRINCIPALS,
                    origin: "test",
                }),
                None,
            )
            .unwrap()
        })
        .clone();
    f(&mut cfg);
    Kdc::new(cfg, store).unwrap()
}

/// What a route does with a message.
#[derive(Clone, Debug)]
pub enum Behaviour {
    /// The test KDC answers after `rtt` (UDP size rules apply on UDP).
    Kdc { rtt: Duration },
    /// Nothing comes back.
    Silent,
    /// Refused after `after`.
    Refused { after: Duration },
    /// A transport failure after `after`.
    Fails {
        after: Duration,
        failure: TransportFailure,
    },
    /// These bytes come back after `rtt`.
    Bytes { rtt: Duration, reply: Vec<u8> },
}

/// What the application server does (until a real acceptor is wired in).
#[derive(Clone, Debug)]
pub enum AppBehaviour {
    /// Connection refused.
    Refused,
}

/// One send the negotiator made.
#[derive(Clone, Debug)]
pub struct Sent {
    pub at: Duration,
    pub id: ExchangeId,
    pub route: Route,
    pub message: Vec<u8>,
}

pub struct Net {
    pub kdc: Kdc,
    pub routes: BTreeMap<String, Behaviour>,
    pub default: Behaviour,
    pub app: AppBehaviour,
    pub now: Duration,
    /// Client clock offset from the KDC's (positive: client ahead).
    pub client_ahead: Duration,
    pub client_behind: Duration,
    queue: BTreeMap<(Duration, u64), Event>,
    pending: BTreeMap<ExchangeId, (Duration, u64)>,
    seq: u64,
    pub host: HostState,
    rng: ChaCha12Rng,
    kdc_rng: ChaCha12Rng,
    pub sent: Vec<Sent>,
    pub cancelled: Vec<ExchangeId>,
    pub app_tokens: Vec<Vec<u8>>,
    pub caps: Capabilities,
}

pub fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

impl Net {
    pub fn new() -> Self {
        Net {
            kdc: kdc(),
            routes: BTreeMap::new(),
            default: Behaviour::Silent,
            app: AppBehaviour::Refused,
            now: Duration::from_secs(1),
            client_ahead: Duration::ZERO,
            client_behind: Duration::ZERO,
            queue: BTreeMap::new(),
            pending: BTreeMap::new(),
            seq: 0,
            host: HostState::new(),
            rng: ChaCha12Rng::seed_from_u64(7),
            kdc_rng: ChaCha12Rng::seed_from_u64(8),
            sent: Vec::new(),
            cancelled: Vec::new(),
            app_tokens: Vec::new(),
            caps: Capabilities::default(),
        }
    }

    /// Sets the behaviour of a route named like `Route`'s Display
    /// (`native-tcp dc1:88`, `kkdcp https://relay/KdcProxy`).
    pub fn route(mut self, name: &str, b: Behaviour) -> Self {
        self.routes.insert(name.to_owned(), b);
        self
    }

    pub fn set(&mut self, name: &str, b: Behaviour) {
        self.routes.insert(name.to_owned(), b);
    }

    fn kdc_time(&self) -> SystemTime {
        epoch() + self.now
    }

    fn client_now(&self) -> Now {
        let wall = epoch() + self.now + self.client_ahead - self.client_behind;
        Now {
            mono: self.now,
            wall,
        }
    }

    fn push(&mut self, at: Duration, ev: Event) -> (Duration, u64) {
        self.seq += 1;
        let key = (at, self.seq);
        self.queue.insert(key, ev);
        key
    }

    /// Lets time pass between logons.
    pub fn sleep(&mut self, d: Duration) {
        self.now += d;
    }

    /// Runs one logon to its end.
    pub fn logon(&mut self, req: LogonRequest, policy: &Policy) -> LogonResult {
        let mut logon = Logon::new(req, policy, self.caps);
        let now = self.client_now();
        logon.start(&mut self.host, now, &mut self.rng);
        let result = loop {
            while let Some(a) = logon.poll_action() {
                self.execute(a);
            }
            if let Some(r) = logon.take_result() {
                break r;
            }
            let ((t, _), ev) = self
                .queue
                .pop_first()
                .expect("the logon waits for nothing: it would hang");
            if let Event::KdcReply { id, .. } | Event::KdcFailed { id, .. } = &ev {
                self.pending.remove(id);
            }
            self.now = t;
            let now = self.client_now();
            logon.handle(&mut self.host, ev, now, &mut self.rng);
        };
        // Whatever is still queued (stale timers) dies with the logon.
        while let Some(a) = logon.poll_action() {
            self.execute(a);
        }
        self.queue.clear();
        self.pending.clear();
        result
    }

    fn execute(&mut self, a: Action) {
        match a {
            Action::KdcSend {
                id,
                route,
                realm,
                message,
            } => {
                assert_eq!(realm, REALM);
                self.sent.push(Sent {
                    at: self.now,
                    id,
                    route: route.clone(),
                    message: message.clone(),
                });
                let b = self
                    .routes
                    .get(&route.to_string())
                    .cloned()
                    .unwrap_or_else(|| self.default.clone());
                let ev = match b {
                    Behaviour::Silent => return,
                    Behaviour::Refused { after } => (
                        after,
                        Event::KdcFailed {
                            id,
                            failure: TransportFailure::Refused,
                        },
                    ),
                    Behaviour::Fails { after, failure } => {
                        (after, Event::KdcFailed { id, failure })
                    }
                    Behaviour::Bytes { rtt, reply } => (rtt, Event::KdcReply { id, reply }),
                    Behaviour::Kdc { rtt } => {
                        let transport = match route {
                            Route::Native {
                                transport: KdcTransport::Udp,
                                ..
                            } => Transport::Udp,
                            _ => Transport::Tcp,
                        };
                        // The KDC sees the request half a round trip later.
                        let t = self.kdc_time() + rtt / 2;
                        match self.kdc.handle(&message, transport, t, &mut self.kdc_rng) {
                            Outcome::Reply(reply) => (rtt, Event::KdcReply { id, reply }),
                            Outcome::Drop(_) => return,
                        }
                    }
                };
                let key = self.push(self.now + ev.0, ev.1);
                self.pending.insert(id, key);
            }
            Action::Cancel { id } => {
                self.cancelled.push(id);
                if let Some(key) = self.pending.remove(&id) {
                    self.queue.remove(&key);
                }
            }
            Action::SetTimer { id, at } => {
                assert!(at >= self.now, "timer in the past");
                self.push(at, Event::Timer { id });
            }
            Action::App(AppAction::SendToken { token, .. }) => {
                self.app_tokens.push(token);
                match self.app {
                    AppBehaviour::Refused => {
                        self.push(
                            self.now + ms(1),
                            Event::App(AppEvent::Failed(TransportFailure::Refused)),
                        );
                    }
                }
            }
            Action::App(AppAction::SendMessage { .. }) => {
                panic!("no application message expected without an acceptor")
            }
            Action::App(AppAction::Close) => {}
        }
    }

    /// Sends the negotiator made to `route` (Display form).
    pub fn sends_to(&self, route: &str) -> usize {
        self.sent
            .iter()
            .filter(|s| s.route.to_string() == route)
            .count()
    }
}

pub fn alice() -> Principal {
    Principal::user("alice", REALM)
}

pub fn app_service() -> Principal {
    Principal::service("host", "app.corp.example", REALM)
}

/// A password logon of alice for `host/app.corp.example`, no server.
pub fn ticket_request(id: u64) -> LogonRequest {
    LogonRequest {
        id,
        client: alice(),
        credential: Credential::Password(ALICE_PW.to_owned()),
        service: Some(app_service()),
        server: None,
        workstation: "LAPTOP1".to_owned(),
    }
}

/// The same with the application server.
pub fn app_request(id: u64, host: &str) -> LogonRequest {
    LogonRequest {
        server: Some(AppServer {
            host: host.to_owned(),
            port: 4444,
            aliases: Vec::new(),
            protocol: Default::default(),
        }),
        ..ticket_request(id)
    }
}

/// Two DCs and one relay, fast timeouts.
pub fn policy() -> Policy {
    let mut p = Policy::default();
    p.native.kdcs = vec!["dc1".into(), "dc2".into()];
    p.kkdcp.relays = vec!["https://relay/KdcProxy".into()];
    p.native.timeout = Duration::from_secs(3);
    p.kkdcp.timeout = Duration::from_secs(5);
    p
}

pub const DC1: &str = "native-tcp dc1:88";
pub const DC2: &str = "native-tcp dc2:88";
pub const DC1_UDP: &str = "native-udp dc1:88";
pub const RELAY: &str = "kkdcp https://relay/KdcProxy";

pub fn up(rtt_ms: u64) -> Behaviour {
    Behaviour::Kdc { rtt: ms(rtt_ms) }
}
