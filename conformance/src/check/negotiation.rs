//! `Negotiation` tests against kerbside's negotiator: a deterministic
//! in-process network (a virtual monotonic clock and an event queue) where
//! each route behaves as the test's environment facts say (the realm's KDC
//! answering after a round trip, silence, refusal, an HTTP error, a TLS
//! failure) and the application server is kerbside's acceptor, optionally
//! behind a man in the middle. The negotiator, the KDC and the acceptor are
//! the real ones; only the network is modelled.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use kerbside_client::audit::{AttemptRecord, ExchangeKind};
use kerbside_client::krb::Principal;
use kerbside_client::negotiator::{
    Action, AppAction, AppEvent, AppProtocol, AppServer, Capabilities, Credential, Event,
    ExchangeId, HostState, KdcTransport, Logon, LogonRequest, LogonResult, Now, NtlmVerdict,
    Policy, Route, TransportFailure,
};
use kerbside_kdc::{Kdc, Outcome, Transport};
use kerbside_server::app::handle_data;
use kerbside_server::sample_proto::token_flags;
use kerbside_server::{
    AcceptMode, AcceptStep, Acceptor, AcceptorConfig, AppService, NtlmAccounts, ServiceKeys,
    Session,
};
use kerbside_wire::gss::oid;
use kerbside_wire::spnego::NegotiationToken;
use rand_chacha::ChaCha12Rng;
use rand_core::SeedableRng;

use crate::clock;
use crate::model::{
    Group, KdcSettings, LogonExpected, NegotiationExpected, NegotiationInput, NegotiationParams,
    RouteBehaviour, ServerDef, Test,
};
use crate::observe::Evaluation;
use crate::realm::{Realm, components};

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// KDC settings of the negotiation realm.
pub fn kdc_settings() -> KdcSettings {
    KdcSettings {
        max_skew_seconds: 300,
        udp_max_reply: 1465,
        max_lifetime_seconds: 36_000,
        enctypes: vec![18],
    }
}

/// The `<path> <endpoint> <exchange> #<try> <outcome>` form of an attempt.
pub fn attempt_line(a: &AttemptRecord) -> String {
    let exchange = match a.exchange {
        ExchangeKind::As => "as",
        ExchangeKind::AsPreauth => "as-preauth",
        ExchangeKind::Tgs => "tgs",
        ExchangeKind::Renew => "renew",
        ExchangeKind::App => "app",
    };
    format!(
        "{} {} {exchange} #{} {}",
        a.path,
        a.endpoint,
        a.try_no,
        a.outcome.as_str()
    )
}

/// The name of an NTLM verdict.
pub fn verdict_name(v: NtlmVerdict) -> &'static str {
    match v {
        NtlmVerdict::Allowed => "allowed",
        NtlmVerdict::Audited => "audited",
        NtlmVerdict::Excepted => "excepted",
        NtlmVerdict::Denied => "denied",
    }
}

/// What a logon showed, in the vector's terms.
pub fn summarize(r: &LogonResult) -> LogonExpected {
    LogonExpected {
        outcome: if r.is_success() { "success" } else { "failure" }.to_owned(),
        path: r.path.as_str().to_owned(),
        attempts: r.attempts().map(attempt_line).collect(),
        events: r.events.iter().map(|e| e.id).collect(),
        ntlm_used: r.ntlm_used,
        ntlm_verdict: r.ntlm_verdict.map(|v| verdict_name(v).to_owned()),
        error_code: r.error.as_ref().and_then(|e| e.krb_code()),
        time_to_ticket_ms: r
            .time_to_ticket
            .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX)),
    }
}

struct AppConn {
    acceptor: Acceptor,
    session: Option<Session>,
}

/// The modelled network.
struct Net {
    kdc: Kdc,
    routes: BTreeMap<String, RouteBehaviour>,
    default: RouteBehaviour,
    server: Option<(Arc<AppService>, ServerDef)>,
    epoch: SystemTime,
    now: Duration,
    client_offset: i64,
    queue: BTreeMap<(Duration, u64), Event>,
    pending: BTreeMap<ExchangeId, (Duration, u64)>,
    seq: u64,
    host: HostState,
    rng: ChaCha12Rng,
    kdc_rng: ChaCha12Rng,
    conn: Option<AppConn>,
}

fn strip_kerberos(token: &[u8]) -> Vec<u8> {
    match NegotiationToken::decode(token) {
        Ok(NegotiationToken::Init(mut init)) => {
            let first_krb = init
                .mech_types
                .first()
                .is_some_and(|m| *m == oid::KRB5 || *m == oid::MS_KRB5);
            init.mech_types
                .retain(|m| *m != oid::KRB5 && *m != oid::MS_KRB5);
            if first_krb {
                init.mech_token = None;
            }
            NegotiationToken::Init(init).encode_initial()
        }
        _ => token.to_vec(),
    }
}

impl Net {
    fn client_now(&self) -> Now {
        Now {
            mono: self.now,
            wall: clock::offset(self.epoch + self.now, self.client_offset),
        }
    }

    fn push(&mut self, at: Duration, ev: Event) -> (Duration, u64) {
        self.seq += 1;
        let key = (at, self.seq);
        self.queue.insert(key, ev);
        key
    }

    fn logon(&mut self, req: LogonRequest, policy: &Policy) -> Result<LogonResult, String> {
        let mut logon = Logon::new(req, policy, Capabilities::default());
        let now = self.client_now();
        logon.start(&mut self.host, now, &mut self.rng);
        // A bound on events keeps a negotiator bug from looping forever.
        for _ in 0..10_000 {
            while let Some(a) = logon.poll_action() {
                self.execute(a)?;
            }
            if let Some(r) = logon.take_result() {
                while let Some(a) = logon.poll_action() {
                    self.execute(a)?;
                }
                self.queue.clear();
                self.pending.clear();
                self.conn = None;
                return Ok(r);
            }
            let Some(((t, _), ev)) = self.queue.pop_first() else {
                return Err("the logon waits for nothing: it would hang".to_owned());
            };
            if let Event::KdcReply { id, .. } | Event::KdcFailed { id, .. } = &ev {
                self.pending.remove(id);
            }
            self.now = t;
            let now = self.client_now();
            logon.handle(&mut self.host, ev, now, &mut self.rng);
        }
        Err("the logon did not finish within 10000 events".to_owned())
    }

    fn execute(&mut self, a: Action) -> Result<(), String> {
        match a {
            Action::KdcSend {
                id, route, message, ..
            } => {
                let b = self
                    .routes
                    .get(&route.to_string())
                    .cloned()
                    .unwrap_or_else(|| self.default.clone());
                let ev = match b {
                    RouteBehaviour::Silent => return Ok(()),
                    RouteBehaviour::Refused { after_ms } => (
                        ms(after_ms),
                        Event::KdcFailed {
                            id,
                            failure: TransportFailure::Refused,
                        },
                    ),
                    RouteBehaviour::Http { status, after_ms } => (
                        ms(after_ms),
                        Event::KdcFailed {
                            id,
                            failure: TransportFailure::Http { status },
                        },
                    ),
                    RouteBehaviour::TlsError { after_ms } => (
                        ms(after_ms),
                        Event::KdcFailed {
                            id,
                            failure: TransportFailure::Tls("certificate verify failed".into()),
                        },
                    ),
                    RouteBehaviour::Kdc { rtt_ms } => {
                        let transport = match route {
                            Route::Native {
                                transport: KdcTransport::Udp,
                                ..
                            } => Transport::Udp,
                            _ => Transport::Tcp,
                        };
                        // The KDC sees the request half a round trip later.
                        let t = self.epoch + self.now + ms(rtt_ms) / 2;
                        match self.kdc.handle(&message, transport, t, &mut self.kdc_rng) {
                            Outcome::Reply(reply) => (ms(rtt_ms), Event::KdcReply { id, reply }),
                            Outcome::Drop(_) => return Ok(()),
                        }
                    }
                };
                let key = self.push(self.now + ev.0, ev.1);
                self.pending.insert(id, key);
            }
            Action::Cancel { id } => {
                if let Some(key) = self.pending.remove(&id) {
                    self.queue.remove(&key);
                }
            }
            Action::SetTimer { id, at } => {
                let at = at.max(self.now);
                self.push(at, Event::Timer { id });
            }
            Action::App(AppAction::SendToken {
                token,
                first,
                expect_reply,
            }) => self.app_token(token, first, expect_reply)?,
            Action::App(AppAction::SendMessage { message }) => {
                let Some((_, def)) = &self.server else {
                    return Err("message without a server".to_owned());
                };
                let rtt = ms(def.rtt_ms);
                let ev = match self.conn.as_mut().and_then(|c| c.session.as_mut()) {
                    Some(session) => {
                        let flags = token_flags::DATA
                            | token_flags::WRAPPED
                            | token_flags::ENCRYPTED
                            | token_flags::SEND_MIC;
                        match handle_data(session, flags, &message) {
                            Ok(x) => AppEvent::Message(x.reply),
                            Err(_) => {
                                AppEvent::Failed(TransportFailure::Reset("server closed".into()))
                            }
                        }
                    }
                    None => AppEvent::Failed(TransportFailure::Reset("no session".into())),
                };
                self.push(self.now + rtt, Event::App(ev));
            }
            Action::App(AppAction::Close) => self.conn = None,
        }
        Ok(())
    }

    fn app_token(&mut self, token: Vec<u8>, first: bool, expect_reply: bool) -> Result<(), String> {
        let Some((svc, def)) = self.server.clone() else {
            self.push(
                self.now + ms(1),
                Event::App(AppEvent::Failed(TransportFailure::Refused)),
            );
            return Ok(());
        };
        let rtt = ms(def.rtt_ms);
        if first {
            self.conn = Some(AppConn {
                acceptor: Acceptor::new(svc),
                session: None,
            });
        }
        let token = if first && def.mitm == "strip-kerberos" {
            strip_kerberos(&token)
        } else {
            token
        };
        let t = self.epoch + self.now + rtt / 2;
        let Some(conn) = self.conn.as_mut() else {
            return Err("token on a connection never opened".to_owned());
        };
        let reply = match conn.acceptor.step(&token, t, &mut self.kdc_rng) {
            Ok(AcceptStep::Continue(r)) => Some(r),
            Ok(AcceptStep::Complete { reply, session }) => {
                conn.session = Some(*session);
                reply
            }
            Ok(AcceptStep::ProxyKdc(_)) => None,
            Err(f) => f.reply,
        };
        match reply {
            Some(r) => {
                self.push(self.now + rtt, Event::App(AppEvent::Token(r)));
            }
            None if expect_reply => {
                let ev = if self.conn.as_ref().is_some_and(|c| c.session.is_some()) {
                    AppEvent::Accepted
                } else {
                    AppEvent::Failed(TransportFailure::Reset("server closed".into()))
                };
                self.push(self.now + rtt, Event::App(ev));
            }
            None => {}
        }
        Ok(())
    }
}

fn app_service(
    realm: &Realm,
    def: &ServerDef,
    user: &str,
    password: &str,
) -> Result<Option<Arc<AppService>>, String> {
    let mode = match def.mode.as_str() {
        "negotiate" => AcceptMode::Negotiate,
        "kerberos-only" => AcceptMode::KerberosOnly,
        "ntlm-only" => AcceptMode::NtlmOnly,
        "refused" => return Ok(None),
        other => return Err(format!("unknown server mode {other:?}")),
    };
    let service = format!("host/{}", def.host);
    let mut keys = ServiceKeys::new();
    if realm.principal(&service).is_some() {
        let comps = components(&service);
        let refs: Vec<&str> = comps.iter().map(String::as_str).collect();
        let key = realm.key(&service, 18).map_err(|e| e.to_string())?;
        keys.insert(&realm.name, &refs, realm.kvno(&service).unwrap_or(1), key);
    }
    let mut accounts = NtlmAccounts::new();
    accounts.add_password(user, password);
    Ok(Some(Arc::new(AppService::new(
        AcceptorConfig {
            mode,
            ..AcceptorConfig::default()
        },
        keys,
        accounts,
    ))))
}

/// Runs every logon of a test; one summary per logon.
pub fn run(
    p: &NegotiationParams,
    input: &NegotiationInput,
    seed: u64,
) -> Result<Vec<LogonExpected>, String> {
    let realm = Realm::new(&p.realm, p.principals.clone());
    let kdc = realm.kdc(&kdc_settings()).map_err(|e| e.to_string())?;
    let policy: Policy =
        serde_json::from_value(input.policy.clone()).map_err(|e| format!("policy: {e}"))?;
    policy.validate().map_err(|e| format!("policy: {e}"))?;
    let user_pw = realm
        .principal(&p.user)
        .map(|d| d.password.clone())
        .ok_or("the user is not a principal")?;
    let server = match &input.server {
        Some(def) => app_service(&realm, def, &p.user, &user_pw)?.map(|svc| (svc, def.clone())),
        None => None,
    };
    let mut net = Net {
        kdc,
        routes: input.routes.clone(),
        default: input.default_route.clone(),
        server,
        epoch: clock::parse(&p.clock).map_err(|e| e.to_string())?,
        now: Duration::from_secs(1),
        client_offset: input.client_clock_offset_seconds,
        queue: BTreeMap::new(),
        pending: BTreeMap::new(),
        seq: 0,
        host: HostState::new(),
        rng: ChaCha12Rng::seed_from_u64(seed),
        kdc_rng: ChaCha12Rng::seed_from_u64(seed ^ 0x6b64_6300),
        conn: None,
    };
    let comps = components(&p.service);
    let mut out = Vec::new();
    for (i, l) in input.logons.iter().enumerate() {
        net.now += ms(l.sleep_before_ms);
        for (route, b) in &l.route_changes {
            net.routes.insert(route.clone(), b.clone());
        }
        let req = LogonRequest {
            id: i as u64 + 1,
            client: Principal::user(&p.user, &p.realm),
            credential: Credential::Password(l.password.clone().unwrap_or_else(|| user_pw.clone())),
            service: Some(Principal::service(
                comps.first().map_or("", String::as_str),
                comps.get(1).map_or("", String::as_str),
                &p.realm,
            )),
            server: input.server.as_ref().map(|s| AppServer {
                host: s.host.clone(),
                port: 4444,
                aliases: Vec::new(),
                protocol: if s.protocol == "ntlm" {
                    AppProtocol::Ntlm
                } else {
                    AppProtocol::Negotiate
                },
            }),
            workstation: "WS01".to_owned(),
        };
        let r = net.logon(req, &policy)?;
        out.push(summarize(&r));
    }
    Ok(out)
}

/// Compares one test.
pub fn grade(expected: &NegotiationExpected, got: &[LogonExpected]) -> Evaluation {
    let observed = got
        .iter()
        .map(|l| format!("{} {}", l.outcome, l.path))
        .collect::<Vec<_>>()
        .join(", ");
    if got.len() != expected.logons.len() {
        return Evaluation::fail(
            observed,
            format!("{} logons, expected {}", got.len(), expected.logons.len()),
        );
    }
    for (i, (g, e)) in got.iter().zip(&expected.logons).enumerate() {
        if g != e {
            return Evaluation::fail(
                observed,
                format!(
                    "logon {}: got {}, expected {}",
                    i + 1,
                    serde_json::to_string(g).unwrap_or_default(),
                    serde_json::to_string(e).unwrap_or_default()
                ),
            );
        }
    }
    Evaluation::pass(observed)
}

/// Grades a whole group.
pub fn evaluate_group(
    g: &Group<NegotiationParams, NegotiationInput, NegotiationExpected>,
) -> Vec<(u32, Evaluation)> {
    g.tests
        .iter()
        .map(|t: &Test<NegotiationInput, NegotiationExpected>| {
            let e = match run(&g.params, &t.input, u64::from(t.tc_id)) {
                Ok(r) => grade(&t.expected, &r),
                Err(why) => Evaluation::fail("setup", why),
            };
            (t.tc_id, e)
        })
        .collect()
}
