//! A deterministic, in-process network for negotiator tests: a virtual
//! monotonic clock, an event queue, and per-route behaviour (a real
//! `kerbside_kdc::Kdc` answering after a latency, silence, refusal, fixed
//! bytes). The negotiator under test is the real one; only the network is
//! modelled.
#![allow(dead_code, unreachable_pub)]

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use kerbside_client::krb::Principal;
use kerbside_client::negotiator::{
    Action, AppAction, AppEvent, AppServer, Capabilities, Credential, Event, ExchangeId, HostState,
    KdcTransport, Logon, LogonRequest, LogonResult, Now, Policy, Route, TransportFailure,
};
use kerbside_kdc::load::{Source, load_store};
use kerbside_kdc::{Kdc, KdcConfig, Outcome, Transport};
use kerbside_server::app::handle_data;
use kerbside_server::sample_proto::token_flags;
use kerbside_server::{
    AcceptMode, AcceptStep, Acceptor, AcceptorConfig, AppService, IakerbConfig, KdcProxyFailure,
    NtlmAccounts, ServiceKeys, Session,
};
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

/// What the application server does.
#[derive(Clone, Debug)]
pub enum AppBehaviour {
    /// Connection refused.
    Refused,
    /// Accepts the connection, never answers.
    Silent,
    /// The real acceptor (`kerbside_server`), answering after `rtt`, with
    /// an optional man-in-the-middle on the path.
    Server {
        svc: Arc<AppService>,
        rtt: Duration,
        mitm: Mitm,
    },
}

/// An attacker between client and server.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mitm {
    /// None.
    None,
    /// Removes Kerberos (both OIDs) and the optimistic Kerberos token from
    /// the client's SPNEGO NegTokenInit, so the server picks NTLM.
    StripKerberos,
}

/// The application service of the test realm: keys of `host/<host>` from
/// the KDC's store, alice as a local NTLM account.
pub fn app_service(mode: AcceptMode, host: &str) -> Arc<AppService> {
    let kdc = kdc();
    let comps = vec!["host".to_owned(), host.to_owned()];
    let keys = match kdc.store().get(&comps) {
        Some(e) => ServiceKeys::from_principal(REALM, e),
        None => ServiceKeys::new(),
    };
    let mut accounts = NtlmAccounts::new();
    accounts.add_password("alice", ALICE_PW);
    Arc::new(AppService::new(
        AcceptorConfig {
            mode,
            ..AcceptorConfig::default()
        },
        keys,
        accounts,
    ))
}

/// The same service accepting IAKERB and relaying to the realm's KDC.
pub fn iakerb_service(host: &str) -> Arc<AppService> {
    let base = app_service(AcceptMode::Negotiate, host);
    let mut config = base.config.clone();
    config.iakerb = Some(IakerbConfig::for_realm(REALM));
    Arc::new(AppService::new(
        config,
        base.keys.clone(),
        base.accounts.clone(),
    ))
}

struct AppConn {
    acceptor: Acceptor,
    session: Option<Session>,
}

/// Strips Kerberos from a client's first SPNEGO token.
fn strip_kerberos(token: &[u8]) -> Vec<u8> {
    use kerbside_wire::gss::oid;
    use kerbside_wire::spnego::NegotiationToken;
    match NegotiationToken::decode(token) {
        Ok(NegotiationToken::Init(mut init)) => {
            let had_krb = init
                .mech_types
                .first()
                .is_some_and(|m| *m == oid::KRB5 || *m == oid::MS_KRB5);
            init.mech_types
                .retain(|m| *m != oid::KRB5 && *m != oid::MS_KRB5);
            if had_krb {
                init.mech_token = None;
            }
            NegotiationToken::Init(init).encode_initial()
        }
        _ => token.to_vec(),
    }
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
    /// What the server made of the connection: accepted client and
    /// mechanism, or its refusal.
    pub server_log: Vec<String>,
    conn: Option<AppConn>,
    pub caps: Capabilities,
    /// The client's on-client LocalKDC, answering `Route::Localkdc`.
    pub localkdc: Option<Kdc>,
    /// Whether the application server reaches the realm's KDC (IAKERB).
    pub server_reaches_kdc: bool,
    /// KDC messages the application server relayed (IAKERB).
    pub relayed: usize,
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
            server_log: Vec::new(),
            conn: None,
            caps: Capabilities::default(),
            localkdc: None,
            server_reaches_kdc: true,
            relayed: 0,
        }
    }

    /// Sets the behaviour of a route named like `Route`'s Display
    /// (`native-tcp dc1:88`, `kkdcp https://relay/KdcProxy`).
    pub fn route(mut self, name: &str, b: Behaviour) -> Self {
        self.routes.insert(name.to_owned(), b);
        self
    }

    /// The real acceptor for `host` in `mode`, `rtt` away.
    pub fn server(mut self, mode: AcceptMode, host: &str, rtt: Duration, mitm: Mitm) -> Self {
        self.app = AppBehaviour::Server {
            svc: app_service(mode, host),
            rtt,
            mitm,
        };
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
        self.conn = None;
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
                if route == Route::Localkdc {
                    self.sent.push(Sent {
                        at: self.now,
                        id,
                        route: route.clone(),
                        message: message.clone(),
                    });
                    let t = self.kdc_time();
                    let Some(lkdc) = self.localkdc.as_mut() else {
                        let ev = Event::KdcFailed {
                            id,
                            failure: TransportFailure::NotAvailable("no LocalKDC".into()),
                        };
                        let key = self.push(self.now + ms(1), ev);
                        self.pending.insert(id, key);
                        return;
                    };
                    assert_eq!(realm, lkdc.config().realm);
                    // In-process: answered at once.
                    let ev = match lkdc.handle(&message, Transport::Tcp, t, &mut self.kdc_rng) {
                        Outcome::Reply(reply) => Event::KdcReply { id, reply },
                        Outcome::Drop(_) => return,
                    };
                    let key = self.push(self.now, ev);
                    self.pending.insert(id, key);
                    return;
                }
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
            Action::App(AppAction::SendToken {
                token,
                first,
                expect_reply,
            }) => {
                self.app_tokens.push(token.clone());
                let (svc, rtt, mitm) = match &self.app {
                    AppBehaviour::Refused => {
                        self.push(
                            self.now + ms(1),
                            Event::App(AppEvent::Failed(TransportFailure::Refused)),
                        );
                        return;
                    }
                    AppBehaviour::Silent => return,
                    AppBehaviour::Server { svc, rtt, mitm } => (svc.clone(), *rtt, *mitm),
                };
                if first {
                    self.conn = Some(AppConn {
                        acceptor: Acceptor::new(svc),
                        session: None,
                    });
                }
                let token = if first && mitm == Mitm::StripKerberos {
                    strip_kerberos(&token)
                } else {
                    token
                };
                let t = self.kdc_time() + rtt / 2;
                let Some(conn) = self.conn.as_mut() else {
                    panic!("token on a connection never opened");
                };
                let mut step = conn.acceptor.step(&token, t, &mut self.kdc_rng);
                // IAKERB: the server relays to the realm's KDC.
                while let Ok(AcceptStep::ProxyKdc(req)) = &step {
                    self.relayed += 1;
                    let answer = if self.server_reaches_kdc {
                        match self
                            .kdc
                            .handle(&req.message, Transport::Tcp, t, &mut self.kdc_rng)
                        {
                            Outcome::Reply(b) => Ok(b),
                            Outcome::Drop(_) => Err(KdcProxyFailure::NoResponse),
                        }
                    } else {
                        Err(KdcProxyFailure::NoResponse)
                    };
                    step = conn.acceptor.kdc_reply(
                        answer.as_deref().map_err(|e| *e),
                        t,
                        &mut self.kdc_rng,
                    );
                }
                let reply = match step {
                    Ok(AcceptStep::Continue(r)) => Some(r),
                    Ok(AcceptStep::Complete { reply, session }) => {
                        self.server_log.push(format!(
                            "accepted {} via {}",
                            session.client,
                            session.mechanism.name()
                        ));
                        conn.session = Some(*session);
                        reply
                    }
                    Ok(AcceptStep::ProxyKdc(_)) => unreachable!("relayed above"),
                    Err(f) => {
                        self.server_log.push(format!("refused: {}", f.error));
                        f.reply
                    }
                };
                match reply {
                    Some(r) => {
                        self.push(self.now + rtt, Event::App(AppEvent::Token(r)));
                    }
                    None if expect_reply => {
                        // gss-sample: no output token means the server is
                        // done, or (after a refusal) it closed.
                        let ev = if self.conn.as_ref().is_some_and(|c| c.session.is_some()) {
                            AppEvent::Accepted
                        } else {
                            AppEvent::Failed(TransportFailure::Reset("server closed".into()))
                        };
                        self.push(self.now + rtt, Event::App(ev));
                    }
                    None => {}
                }
            }
            Action::App(AppAction::SendMessage { message }) => {
                let AppBehaviour::Server { rtt, .. } = &self.app else {
                    panic!("message without a server");
                };
                let rtt = *rtt;
                let session = self
                    .conn
                    .as_mut()
                    .and_then(|c| c.session.as_mut())
                    .expect("message before the server accepted the context");
                let flags = token_flags::DATA
                    | token_flags::WRAPPED
                    | token_flags::ENCRYPTED
                    | token_flags::SEND_MIC;
                match handle_data(session, flags, &message) {
                    Ok(x) => {
                        self.server_log
                            .push(format!("message {:?}", String::from_utf8_lossy(&x.message)));
                        self.push(self.now + rtt, Event::App(AppEvent::Message(x.reply)));
                    }
                    Err(e) => {
                        self.server_log.push(format!("message refused: {e}"));
                        self.push(
                            self.now + rtt,
                            Event::App(AppEvent::Failed(TransportFailure::Reset(
                                "server closed".into(),
                            ))),
                        );
                    }
                }
            }
            Action::App(AppAction::Close) => {
                self.conn = None;
            }
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

pub fn app_spn() -> Principal {
    Principal::service("host", "app.corp.example", REALM)
}

/// A password logon of alice for `host/app.corp.example`, no server.
pub fn ticket_request(id: u64) -> LogonRequest {
    LogonRequest {
        id,
        client: alice(),
        credential: Credential::Password(ALICE_PW.to_owned()),
        service: Some(app_spn()),
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
