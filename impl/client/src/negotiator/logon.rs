//! [`Logon`]: one end-to-end authentication, sans-IO.
//!
//! ```text
//! let mut logon = Logon::new(request, &policy, caps);
//! logon.start(&mut host, now, rng);
//! loop {
//!     while let Some(action) = logon.poll_action() { driver.execute(action) }
//!     if let Some(result) = logon.take_result() { break result }
//!     let event = driver.next_event().await;           // reply, failure, timer, app token
//!     logon.handle(&mut host, event, now, rng);
//! }
//! ```
//!
//! The sequence (DESIGN §3):
//! 1. a fresh service ticket in the cache ends the Kerberos part at once
//!    (path `cache`); a fresh TGT skips the AS exchange; a renewable TGT
//!    near its end is renewed;
//! 2. otherwise AS (with the PREAUTH_REQUIRED round trip), then TGS, over
//!    the routes of the plan (see [`super::router`]);
//! 3. with a service ticket: SPNEGO to the server, Kerberos first, NTLM
//!    second only when the NTLM policy permits it; then one protected
//!    application message;
//! 4. when no Kerberos path answers, or the KDC does not know the service
//!    (KDC_ERR_S_PRINCIPAL_UNKNOWN: a server without an SPN, reached by IP
//!    or an alias — the classic silent NTLM fallback), or the server speaks
//!    only NTLM: the NTLM policy decides. `deny` fails closed with event 4001
//!    and no NTLM byte; `audit` records 8001 and goes on; `allow` records
//!    7005 and goes on;
//! 5. a decision event (7010) closes every logon, success or failure.
//!
//! The pluggable stages (issue 8) run after the KDC routes, in the
//! policy's order, when those are unreachable:
//! * **IAKERB** (draft-ietf-kitten-iakerb-03): the application phase itself
//!   carries the AS and TGS exchanges through the target server inside
//!   SPNEGO, then the AP-REQ with the finished checksum, on one
//!   connection; a client without a realm discovers the server's. The
//!   server's "no KDC" answers (85/86), a refused or silent connection, or
//!   a server that does not offer IAKERB move on to the next stage; a KDC
//!   error relayed by the server ends the logon like a direct one.
//! * **LocalKDC** (kerbside_kdc::localkdc, on-client placement): the same
//!   account and service names in the LocalKDC's realm, through the
//!   driver's LocalKDC handler, then the usual SPNEGO to the server (which
//!   holds the enrolment key); its refusals (service not approved, a user
//!   instead of the computer account) are KDC errors like any other.
//!
//! Other Kerberos failures (unknown user, wrong password, revoked account,
//! a tampered reply) end the logon without NTLM: NTLM would fail the same
//! way or, worse, succeed around a security refusal.

use std::collections::VecDeque;
use std::time::Duration;

use kerbside_wire::krb::constants::error_code;
use rand_core::RngCore;

use crate::audit::{
    AttemptOutcome, AttemptRecord, AuditDetail, CacheAction, Decision, ExchangeKind, LogonOutcome,
    NTLM_MECH_OID, SecurityKind, ids,
};
use crate::gss::Mechanism;
use crate::krb::{AsOptions, Credentials, Principal, Secret, TgsOptions};
use crate::ntlm::{NtlmClient, NtlmClientConfig, NtlmCredentials, NtlmSecret};

use super::app::{AppFailure, AppPhase, Offer, Progress};
use super::error::LogonError;
use super::host::HostState;
use super::io::{Action, AppAction, AppEvent, Event, Now, TimerId};
use super::kdc_step::{AsParams, Fatal, KdcStep, StepValue};
use super::log::{EventLog, Ids};
use super::ntlm_policy::NtlmVerdict;
use super::policy::Policy;
use super::request::{AppProtocol, Credential, LogonRequest, LogonResult};
use super::route::{self, Capabilities, PathKind, Route};
use super::router::{Ctx, Router, StepDone, StepError, StepResult};
use super::ticket_cache::Lookup;
use crate::iakerb::{IakerbInitiator, IakerbOptions, IakerbRequest};

/// One logon.
#[derive(Debug)]
pub struct Logon {
    policy: Policy,
    log: EventLog,
    ids: Ids,
    out: VecDeque<Action>,
    flow: Flow,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Goal {
    Idle,
    Tgt,
    Renew,
    Ticket,
    App,
    Done,
}

/// Why Kerberos ended.
#[derive(Debug)]
enum KerberosEnd {
    /// The server speaks only NTLM.
    NotPossible,
    /// No route answered.
    Unreachable(Option<String>),
    /// A KDC refused.
    Fatal(Fatal),
}

#[derive(Debug)]
struct Flow {
    req: LogonRequest,
    caps: Capabilities,
    goal: Goal,
    started: Duration,
    budget: Option<TimerId>,
    app_timer: Option<TimerId>,
    router: Option<Router>,
    tgt: Option<Credentials>,
    stale_tgt: Option<Credentials>,
    ticket: Option<Credentials>,
    path: PathKind,
    endpoint: Option<String>,
    ticket_at: Option<Duration>,
    app: Option<AppPhase>,
    app_started: Duration,
    ntlm_verdict: Option<NtlmVerdict>,
    ntlm_used: bool,
    mechanism: Option<Mechanism>,
    result: Option<LogonResult>,
    /// IAKERB and LocalKDC routes still to try, in policy order, once the
    /// KDC routes are unreachable.
    stages: VecDeque<Route>,
    /// The application phase under way is an IAKERB conversation.
    iakerb_phase: bool,
    /// The logon's own client and service while the LocalKDC stage uses
    /// the LocalKDC realm's names (restored before NTLM).
    domain_identity: Option<(Principal, Option<Principal>)>,
    /// Deadline for each answer of the application server.
    answer_timeout: Duration,
}

impl Logon {
    /// A logon for `req` under `policy`, with the pluggable stages `caps`
    /// the driver provides.
    pub fn new(req: LogonRequest, policy: &Policy, caps: Capabilities) -> Self {
        let target = match (&req.service, &req.server) {
            (Some(s), _) => s.to_string(),
            (None, Some(s)) => s.host.clone(),
            (None, None) => Principal::krbtgt(&req.client.realm).to_string(),
        };
        Logon {
            policy: policy.clone(),
            log: EventLog::new(req.id, req.client.to_string(), target),
            ids: Ids::default(),
            out: VecDeque::new(),
            flow: Flow {
                req,
                caps,
                goal: Goal::Idle,
                started: Duration::ZERO,
                budget: None,
                app_timer: None,
                router: None,
                tgt: None,
                stale_tgt: None,
                ticket: None,
                path: PathKind::None,
                endpoint: None,
                ticket_at: None,
                app: None,
                app_started: Duration::ZERO,
                ntlm_verdict: None,
                ntlm_used: false,
                mechanism: None,
                result: None,
                stages: VecDeque::new(),
                iakerb_phase: false,
                domain_identity: None,
                answer_timeout: policy.app_timeout,
            },
        }
    }

    /// Starts the logon.
    pub fn start(&mut self, host: &mut HostState, now: Now, rng: &mut dyn RngCore) {
        let mut ctx = Ctx {
            now,
            rng,
            host,
            policy: &self.policy,
            out: &mut self.out,
            log: &mut self.log,
            ids: &mut self.ids,
        };
        self.flow.start(&mut ctx);
    }

    /// Feeds one event from the driver.
    pub fn handle(&mut self, host: &mut HostState, event: Event, now: Now, rng: &mut dyn RngCore) {
        let mut ctx = Ctx {
            now,
            rng,
            host,
            policy: &self.policy,
            out: &mut self.out,
            log: &mut self.log,
            ids: &mut self.ids,
        };
        self.flow.handle(event, &mut ctx);
    }

    /// The next action for the driver.
    pub fn poll_action(&mut self) -> Option<Action> {
        self.out.pop_front()
    }

    /// Whether the logon has finished (its result may already be taken).
    pub fn is_done(&self) -> bool {
        self.flow.goal == Goal::Done
    }

    /// The result, once finished (taken once).
    pub fn take_result(&mut self) -> Option<LogonResult> {
        let mut r = self.flow.result.take()?;
        r.events = self.log.take();
        Some(r)
    }

    /// The audit events so far.
    pub fn events(&self) -> &[crate::audit::AuditEvent] {
        self.log.events()
    }
}

impl Flow {
    fn start(&mut self, ctx: &mut Ctx<'_>) {
        if self.goal != Goal::Idle {
            return;
        }
        self.started = ctx.now.mono;
        if let Err(e) = ctx.policy.validate() {
            return self.fail(e.into(), ctx);
        }
        let budget = ctx.ids.timer();
        self.budget = Some(budget);
        ctx.out.push_back(Action::SetTimer {
            id: budget,
            at: ctx.now.mono.saturating_add(ctx.policy.logon_timeout),
        });

        let server = self.req.server.as_ref().map(|s| (s.host.clone(), s.port));
        let plan = route::plan(
            ctx.policy,
            server.as_ref().map(|(h, p)| (h.as_str(), *p)),
            self.caps,
        );
        for u in &plan.unavailable {
            ctx.log.push(
                ids::NOT_AVAILABLE,
                ctx.now.mono,
                AuditDetail::NotAvailable {
                    path: u.path,
                    endpoint: u.endpoint.clone(),
                    reason: u.reason.clone(),
                },
            );
        }
        if self
            .req
            .server
            .as_ref()
            .is_some_and(|s| s.protocol == AppProtocol::Ntlm)
        {
            // An NTLM-only device: no ticket could be used, so none is asked
            // for (and no KDC traffic is made on its behalf).
            return self.kerberos_failed(KerberosEnd::NotPossible, ctx);
        }
        // IAKERB and LocalKDC are not KDC routes: they run as their own
        // stages once the KDC routes are unreachable.
        let (mut kdc_routes, stages): (Vec<Route>, Vec<Route>) = plan
            .routes
            .into_iter()
            .partition(|r| !matches!(r, Route::Iakerb { .. } | Route::Localkdc));
        self.stages = stages.into();
        if self.req.client.realm.is_empty() {
            // No realm to ask a KDC about: only IAKERB's realm discovery
            // can find one.
            kdc_routes.clear();
        }
        let stages_follow = !self.stages.is_empty();
        self.router = Some(Router::new(
            &self.req.client.realm,
            kdc_routes,
            stages_follow,
            ctx,
        ));
        self.kerberos_from_cache_or_kdc(ctx);
    }

    /// The ticket cache first (a fresh ticket, a fresh TGT, a renewal),
    /// else a new TGT.
    fn kerberos_from_cache_or_kdc(&mut self, ctx: &mut Ctx<'_>) {
        if ctx.policy.tickets.cache {
            let wall = ctx.host.kerberos_time(ctx.now.wall);
            if let Some(service) = &self.req.service
                && let Lookup::Fresh(c) =
                    ctx.host
                        .tickets
                        .lookup(&self.req.client, service, wall, &ctx.policy.tickets)
            {
                self.cache_event(&c, CacheAction::Hit, ctx);
                return self.have_ticket(c, PathKind::Cache, None, ctx);
            }
            match ctx
                .host
                .tickets
                .tgt(&self.req.client, wall, &ctx.policy.tickets)
            {
                Lookup::Fresh(t) => {
                    self.cache_event(&t, CacheAction::Hit, ctx);
                    self.tgt = Some(t);
                    self.path = PathKind::Cache;
                    return self.after_tgt(ctx);
                }
                Lookup::Refresh { creds, renewable } => {
                    self.stale_tgt = Some(creds.clone());
                    if renewable && ctx.policy.tickets.renew {
                        self.goal = Goal::Renew;
                        let step = KdcStep::renew(creds, self.tgs_options(ctx.policy));
                        return self.begin(step, ctx);
                    }
                }
                Lookup::Missing => {}
            }
        }
        self.get_tgt(ctx)
    }

    fn handle(&mut self, event: Event, ctx: &mut Ctx<'_>) {
        if matches!(self.goal, Goal::Done | Goal::Idle) {
            return;
        }
        match event {
            Event::Timer { id } if Some(id) == self.budget => {
                let budget = ctx.policy.logon_timeout;
                self.abort_all("logon timeout", ctx);
                self.fail(LogonError::Timeout(budget), ctx);
            }
            Event::Timer { id } if Some(id) == self.app_timer => {
                let t = ctx.policy.app_timeout;
                self.app_failed(
                    AppFailure {
                        error: LogonError::AppTimeout(t),
                        security: None,
                        code: None,
                    },
                    AttemptOutcome::Timeout,
                    ctx,
                );
            }
            Event::Timer { id } => {
                let r = self.router.as_mut().and_then(|r| r.on_timer(id, ctx));
                self.maybe_step(r, ctx);
            }
            Event::KdcReply { id, reply } => {
                let r = self
                    .router
                    .as_mut()
                    .and_then(|r| r.on_reply(id, &reply, ctx));
                self.maybe_step(r, ctx);
            }
            Event::KdcFailed { id, failure } => {
                let r = self
                    .router
                    .as_mut()
                    .and_then(|r| r.on_failed(id, &failure, ctx));
                self.maybe_step(r, ctx);
            }
            Event::App(ev) => self.on_app(ev, ctx),
        }
    }

    fn maybe_step(&mut self, r: Option<StepResult>, ctx: &mut Ctx<'_>) {
        if let Some(r) = r {
            self.step_result(r, ctx);
        }
    }

    fn tgs_options(&self, policy: &Policy) -> TgsOptions {
        TgsOptions {
            renew_lifetime: (!policy.tickets.renew_lifetime.is_zero())
                .then_some(policy.tickets.renew_lifetime),
            ..TgsOptions::default()
        }
    }

    fn begin(&mut self, step: KdcStep, ctx: &mut Ctx<'_>) {
        let Some(router) = self.router.as_mut() else {
            return self.fail(LogonError::Unreachable { last: None }, ctx);
        };
        let r = router.begin(step, ctx);
        self.maybe_step(r, ctx);
    }

    fn get_tgt(&mut self, ctx: &mut Ctx<'_>) {
        let secret = match &self.req.credential {
            Credential::Password(p) => Secret::Password(p.clone()),
            Credential::Keys(k) => Secret::Keys(k.clone()),
            Credential::Cached => return self.use_stale_tgt(None, ctx),
        };
        let options = AsOptions {
            // Clock skew is corrected by the router for the whole host
            // (kdc_timesync), so the TGS and AP requests that follow use
            // the KDC's time too, not only this AS exchange.
            correct_skew: false,
            lifetime: ctx.policy.tickets.tgt_lifetime,
            renew_lifetime: (!ctx.policy.tickets.renew_lifetime.is_zero())
                .then_some(ctx.policy.tickets.renew_lifetime),
            ..AsOptions::default()
        };
        self.goal = Goal::Tgt;
        let step = KdcStep::as_req(AsParams {
            client: self.req.client.clone(),
            secret,
            options,
        });
        self.begin(step, ctx);
    }

    /// No new TGT could be had: use the cached one while it is still
    /// valid, else give up with `otherwise`.
    fn use_stale_tgt(&mut self, otherwise: Option<KerberosEnd>, ctx: &mut Ctx<'_>) {
        let wall = ctx.host.kerberos_time(ctx.now.wall);
        match self.stale_tgt.take() {
            Some(t) if t.is_valid_at(wall) => {
                self.cache_event(&t, CacheAction::UsedStale, ctx);
                self.tgt = Some(t);
                if self.path == PathKind::None {
                    self.path = PathKind::Cache;
                }
                self.after_tgt(ctx)
            }
            _ => match otherwise {
                Some(end) => self.kerberos_failed(end, ctx),
                None => self.fail(LogonError::NoCredentials, ctx),
            },
        }
    }

    fn after_tgt(&mut self, ctx: &mut Ctx<'_>) {
        let Some(tgt) = self.tgt.clone() else {
            return self.fail(LogonError::NoCredentials, ctx);
        };
        match self.req.service.clone() {
            Some(service) => {
                self.goal = Goal::Ticket;
                let step = KdcStep::tgs(tgt, service, self.tgs_options(ctx.policy));
                self.begin(step, ctx);
            }
            None => {
                let (path, endpoint) = (self.path, self.endpoint.clone());
                self.have_ticket(tgt, path, endpoint, ctx);
            }
        }
    }

    fn step_result(&mut self, r: StepResult, ctx: &mut Ctx<'_>) {
        match (self.goal, r) {
            (
                Goal::Tgt,
                Ok(StepDone {
                    route,
                    value: StepValue::Tgt(c),
                }),
            ) => {
                self.store(&c, ctx);
                self.path = route.path();
                self.endpoint = Some(route.endpoint());
                self.tgt = Some(c);
                self.after_tgt(ctx);
            }
            (
                Goal::Renew,
                Ok(StepDone {
                    route,
                    value: StepValue::Renewed(c),
                }),
            ) => {
                self.store(&c, ctx);
                self.cache_event(&c, CacheAction::Renewed, ctx);
                self.path = route.path();
                self.endpoint = Some(route.endpoint());
                self.tgt = Some(c);
                self.after_tgt(ctx);
            }
            (
                Goal::Ticket,
                Ok(StepDone {
                    route,
                    value: StepValue::Ticket(c),
                }),
            ) => {
                self.store(&c, ctx);
                self.have_ticket(c, route.path(), Some(route.endpoint()), ctx);
            }
            (Goal::Renew, Err(StepError::Fatal { .. })) => {
                // The KDC refused the renewal (policy, revoked renewal):
                // a new TGT with the secret, else the old one while valid.
                if matches!(self.req.credential, Credential::Cached) {
                    self.use_stale_tgt(None, ctx);
                } else {
                    self.get_tgt(ctx);
                }
            }
            (Goal::Renew | Goal::Tgt, Err(StepError::Unreachable { last })) => {
                self.use_stale_tgt(Some(KerberosEnd::Unreachable(last)), ctx);
            }
            (_, Err(StepError::Fatal { mut fatal, route })) => {
                fatal.message = format!("{} (from {route})", fatal.message);
                self.kerberos_failed(KerberosEnd::Fatal(fatal), ctx);
            }
            (_, Err(StepError::Unreachable { last })) => {
                self.kerberos_failed(KerberosEnd::Unreachable(last), ctx);
            }
            (goal, Ok(other)) => {
                // A step answered with a value of another kind: a bug in the
                // router/step pairing, reported rather than trusted.
                self.fail(
                    LogonError::AppProtocol(format!(
                        "internal: {goal:?} step produced {:?}",
                        std::mem::discriminant(&other.value)
                    )),
                    ctx,
                );
            }
        }
    }

    fn store(&self, c: &Credentials, ctx: &mut Ctx<'_>) {
        if ctx.policy.tickets.cache {
            ctx.host.tickets.store(c.clone());
        }
    }

    fn cache_event(&self, c: &Credentials, action: CacheAction, ctx: &mut Ctx<'_>) {
        ctx.log.push(
            ids::TICKET_CACHE,
            ctx.now.mono,
            AuditDetail::TicketCache {
                server: c.server.to_string(),
                action,
            },
        );
    }

    /// The Kerberos part is done: authenticate to the server, or finish.
    fn have_ticket(
        &mut self,
        ticket: Credentials,
        path: PathKind,
        endpoint: Option<String>,
        ctx: &mut Ctx<'_>,
    ) {
        self.ticket_at = Some(ctx.now.mono.saturating_sub(self.started));
        self.path = path;
        self.endpoint = endpoint;
        self.ticket = Some(ticket.clone());
        if self.req.server.is_none() {
            return self.succeed(None, ctx);
        }
        // NTLM as SPNEGO's second choice only when policy permits it: under
        // `deny` it is not offered, so nothing can make this side send it.
        let verdict = self.ntlm_verdict(ctx);
        let ntlm = if verdict.permits() {
            self.ntlm_verdict = Some(verdict);
            self.ntlm_client().ok().map(Box::new)
        } else {
            None
        };
        self.start_app(
            Offer::Negotiate {
                kerberos: Some(Box::new(ticket)),
                ntlm,
            },
            ctx,
        );
    }

    /// Starts the next pluggable stage; false when none is left.
    fn next_stage(&mut self, ctx: &mut Ctx<'_>) -> bool {
        while let Some(route) = self.stages.pop_front() {
            let started = match route {
                Route::Iakerb { server, port } => self.start_iakerb(&server, port, ctx),
                Route::Localkdc => {
                    self.start_localkdc(ctx);
                    true
                }
                _ => false,
            };
            if started {
                return true;
            }
        }
        false
    }

    /// IAKERB through the target server: the whole Kerberos exchange in the
    /// application connection. False when this logon cannot use it (no
    /// service to ask for, no secret and no usable TGT).
    fn start_iakerb(&mut self, server: &str, port: u16, ctx: &mut Ctx<'_>) -> bool {
        let Some(service) = self.req.service.clone() else {
            return false;
        };
        let wall = ctx.host.kerberos_time(ctx.now.wall);
        let (secret, tgt) = match &self.req.credential {
            Credential::Password(p) => (Secret::Password(p.clone()), None),
            Credential::Keys(k) => (Secret::Keys(k.clone()), None),
            Credential::Cached => match self.stale_tgt.clone() {
                Some(t) if t.is_valid_at(wall) => (Secret::Keys(Vec::new()), Some(t)),
                _ => return false,
            },
        };
        let realm = (!self.req.client.realm.is_empty()).then(|| self.req.client.realm.clone());
        let service_realm = (!service.realm.is_empty() && Some(&service.realm) != realm.as_ref())
            .then(|| service.realm.clone());
        let options = IakerbOptions {
            as_options: AsOptions {
                correct_skew: false,
                lifetime: ctx.policy.tickets.tgt_lifetime,
                ..AsOptions::default()
            },
            tgs_options: self.tgs_options(ctx.policy),
            ..IakerbOptions::default()
        };
        let ia = IakerbInitiator::new(
            IakerbRequest {
                user: self.req.client.components.clone(),
                realm,
                secret,
                service: service.components.clone(),
                service_realm,
                tgt,
            },
            options,
        );
        self.path = PathKind::Iakerb;
        self.endpoint = Some(format!("{server}:{port}"));
        self.iakerb_phase = true;
        self.start_app(Offer::Iakerb(Box::new(ia)), ctx);
        true
    }

    /// The on-client LocalKDC: the same names in its realm, over the
    /// driver's LocalKDC route.
    fn start_localkdc(&mut self, ctx: &mut Ctx<'_>) {
        let realm =
            ctx.policy.localkdc.realm.clone().unwrap_or_else(|| {
                format!("{}.LOCALKDC", self.req.workstation.to_ascii_uppercase())
            });
        if self.domain_identity.is_none() {
            self.domain_identity = Some((self.req.client.clone(), self.req.service.clone()));
        }
        self.req.client.realm = realm.clone();
        if let Some(s) = self.req.service.as_mut() {
            s.realm = realm.clone();
        }
        self.tgt = None;
        self.stale_tgt = None;
        self.path = PathKind::None;
        self.endpoint = None;
        let stages_follow = !self.stages.is_empty();
        self.router = Some(Router::new(
            &realm,
            vec![Route::Localkdc],
            stages_follow,
            ctx,
        ));
        self.kerberos_from_cache_or_kdc(ctx);
    }

    /// Back to the logon's own names (before NTLM, after the LocalKDC).
    fn restore_identity(&mut self) {
        if let Some((client, service)) = self.domain_identity.take() {
            self.req.client = client;
            self.req.service = service;
        }
    }

    fn kerberos_failed(&mut self, end: KerberosEnd, ctx: &mut Ctx<'_>) {
        if matches!(end, KerberosEnd::Unreachable(_)) && self.next_stage(ctx) {
            return;
        }
        self.restore_identity();
        if let KerberosEnd::Fatal(f) = &end
            && f.tampered
        {
            ctx.log.push(
                ids::SECURITY,
                ctx.now.mono,
                AuditDetail::Security {
                    what: SecurityKind::Tampering,
                    detail: f.message.clone(),
                },
            );
        }
        let ntlm_applies = self.req.server.is_some()
            && match &end {
                KerberosEnd::NotPossible | KerberosEnd::Unreachable(_) => true,
                KerberosEnd::Fatal(f) => f.code == Some(error_code::KDC_ERR_S_PRINCIPAL_UNKNOWN),
            };
        if !ntlm_applies {
            let error = match end {
                KerberosEnd::NotPossible => LogonError::Unreachable { last: None },
                KerberosEnd::Unreachable(last) => LogonError::Unreachable { last },
                KerberosEnd::Fatal(f) => fatal_error(f),
            };
            return self.fail(error, ctx);
        }
        let Some(server) = self.req.server.clone() else {
            return self.fail(LogonError::Unreachable { last: None }, ctx);
        };
        let verdict = self.ntlm_verdict(ctx);
        self.ntlm_verdict = Some(verdict);
        if !verdict.permits() {
            // Windows event 4001: outgoing NTLM blocked. Fail closed.
            ctx.log.push(
                ids::NTLM_CLIENT_BLOCKED,
                ctx.now.mono,
                AuditDetail::Ntlm {
                    server: server.host.clone(),
                    verdict,
                    mechanism: NTLM_MECH_OID.to_owned(),
                    sent: false,
                },
            );
            return self.fail(
                LogonError::NtlmDenied {
                    server: server.host,
                },
                ctx,
            );
        }
        let client = match self.ntlm_client() {
            Ok(c) => Box::new(c),
            Err(e) => return self.fail(e, ctx),
        };
        let offer = match server.protocol {
            AppProtocol::Negotiate => Offer::Negotiate {
                kerberos: None,
                ntlm: Some(client),
            },
            AppProtocol::Ntlm => Offer::RawNtlm(client),
        };
        self.start_app(offer, ctx);
    }

    /// The NTLM policy's verdict for this logon's server.
    fn ntlm_verdict(&self, ctx: &Ctx<'_>) -> NtlmVerdict {
        let mut names: Vec<&str> = Vec::new();
        if let Some(s) = &self.req.server {
            names.push(&s.host);
            names.extend(s.aliases.iter().map(String::as_str));
        }
        // The host part of a host-based SPN is a name the application uses.
        if let Some(service) = &self.req.service
            && let Some(h) = service.components.get(1)
        {
            names.push(h);
        }
        ctx.policy.ntlm.verdict(names)
    }

    fn ntlm_client(&self) -> Result<NtlmClient, LogonError> {
        let hash = self
            .req
            .credential
            .nt_hash()
            .ok_or(LogonError::NoNtlmCredential)?;
        let user = self
            .req
            .client
            .components
            .first()
            .cloned()
            .unwrap_or_default();
        let creds = NtlmCredentials {
            user,
            domain: self.req.client.realm.clone(),
            secret: NtlmSecret::NtHash(hash),
        };
        let config = NtlmClientConfig {
            workstation: self.req.workstation.clone(),
            target_spn: self.req.service.as_ref().map(|s| {
                // MsvAvTargetName is the SPN without the realm.
                s.components.join("/")
            }),
            ..NtlmClientConfig::default()
        };
        Ok(NtlmClient::new(creds, config))
    }

    fn start_app(&mut self, offer: Offer, ctx: &mut Ctx<'_>) {
        self.goal = Goal::App;
        // An IAKERB answer includes the server's round trip to its KDC.
        self.answer_timeout = if matches!(offer, Offer::Iakerb(_)) {
            ctx.policy.app_timeout.max(ctx.policy.iakerb.timeout)
        } else {
            ctx.policy.app_timeout
        };
        self.app_started = ctx.now.mono;
        let message = format!("kerbside logon {}", self.req.id).into_bytes();
        let wall = ctx.host.kerberos_time(ctx.now.wall);
        let (phase, progress) = AppPhase::start(offer, message, wall, ctx.rng);
        self.app = Some(phase);
        self.app_progress(progress, ctx);
    }

    fn on_app(&mut self, ev: AppEvent, ctx: &mut Ctx<'_>) {
        if self.goal != Goal::App {
            return;
        }
        let wall = ctx.host.kerberos_time(ctx.now.wall);
        let Some(app) = self.app.as_mut() else {
            return;
        };
        let progress = app.on_event(ev, wall, ctx.rng);
        self.app_progress(progress, ctx);
    }

    fn app_progress(&mut self, mut progress: Progress, ctx: &mut Ctx<'_>) {
        if let Some(out) = progress.iakerb.take() {
            // IAKERB's tickets: cached like any others.
            if let Some(t) = &out.tgt {
                self.store(t, ctx);
            }
            if let Some(t) = out.ticket {
                self.store(&t, ctx);
                self.ticket_at = Some(ctx.now.mono.saturating_sub(self.started));
                self.ticket = Some(t);
            }
        }
        if progress.ntlm_starts {
            self.announce_ntlm(ctx);
        }
        let waits = progress.actions.iter().any(|a| match a {
            AppAction::SendToken { expect_reply, .. } => *expect_reply,
            AppAction::SendMessage { .. } => true,
            AppAction::Close => false,
        });
        for a in progress.actions {
            ctx.out.push_back(Action::App(a));
        }
        match progress.done {
            Some(Ok(mech)) => {
                self.mechanism = Some(mech);
                self.record_app(AttemptOutcome::Ok, None, None, ctx);
                ctx.out.push_back(Action::App(AppAction::Close));
                self.succeed(Some(mech), ctx);
            }
            Some(Err(f)) => {
                let outcome = if f.code.is_some() || matches!(f.error, LogonError::Rejected(_)) {
                    AttemptOutcome::Rejected
                } else {
                    AttemptOutcome::Error
                };
                self.app_failed(f, outcome, ctx);
            }
            None if waits => {
                // A fresh deadline for each answer the server owes.
                let t = ctx.ids.timer();
                self.app_timer = Some(t);
                ctx.out.push_back(Action::SetTimer {
                    id: t,
                    at: ctx.now.mono.saturating_add(self.answer_timeout),
                });
            }
            None => {}
        }
    }

    /// NTLM's first token is about to leave: record it (once per logon).
    fn announce_ntlm(&mut self, ctx: &mut Ctx<'_>) {
        if self.ntlm_used {
            return;
        }
        self.ntlm_used = true;
        let verdict = self.ntlm_verdict.unwrap_or(NtlmVerdict::Allowed);
        let id = match verdict {
            NtlmVerdict::Audited => ids::NTLM_CLIENT_BLOCKED_AUDIT,
            _ => ids::NTLM_USED,
        };
        let server = self
            .req
            .server
            .as_ref()
            .map(|s| s.host.clone())
            .unwrap_or_default();
        ctx.log.push(
            id,
            ctx.now.mono,
            AuditDetail::Ntlm {
                server,
                verdict,
                mechanism: NTLM_MECH_OID.to_owned(),
                sent: true,
            },
        );
    }

    fn app_failed(&mut self, f: AppFailure, outcome: AttemptOutcome, ctx: &mut Ctx<'_>) {
        if self.iakerb_phase && f.security.is_none() {
            let unreachable = matches!(
                f.code,
                Some(
                    error_code::KRB_AP_ERR_IAKERB_KDC_NOT_FOUND
                        | error_code::KRB_AP_ERR_IAKERB_KDC_NO_RESPONSE
                )
            ) || matches!(
                f.error,
                LogonError::App(_) | LogonError::AppTimeout(_) | LogonError::Rejected(_)
            );
            let unknown_service = f.code == Some(error_code::KDC_ERR_S_PRINCIPAL_UNKNOWN);
            if unreachable || unknown_service {
                // The server could not get us a ticket: record it, close,
                // and go on (next stage, or NTLM) as after any path.
                self.record_app(outcome, f.code, Some(f.error.to_string()), ctx);
                ctx.out.push_back(Action::App(AppAction::Close));
                self.app = None;
                self.app_timer = None;
                self.iakerb_phase = false;
                self.path = PathKind::None;
                self.endpoint = None;
                let end = if unreachable {
                    KerberosEnd::Unreachable(Some(f.error.to_string()))
                } else {
                    KerberosEnd::Fatal(Fatal {
                        code: f.code,
                        message: f.error.to_string(),
                        integrity: false,
                        tampered: false,
                    })
                };
                return self.kerberos_failed(end, ctx);
            }
        }
        if let Some(kind) = f.security {
            ctx.log.push(
                ids::SECURITY,
                ctx.now.mono,
                AuditDetail::Security {
                    what: kind,
                    detail: f.error.to_string(),
                },
            );
        }
        self.record_app(outcome, f.code, Some(f.error.to_string()), ctx);
        ctx.out.push_back(Action::App(AppAction::Close));
        self.app = None;
        self.fail(f.error, ctx);
    }

    fn record_app(
        &self,
        outcome: AttemptOutcome,
        code: Option<i32>,
        error: Option<String>,
        ctx: &mut Ctx<'_>,
    ) {
        let Some(server) = &self.req.server else {
            return;
        };
        let path = if self.ntlm_used {
            PathKind::Ntlm
        } else {
            self.path
        };
        ctx.log.push(
            ids::ATTEMPT,
            ctx.now.mono,
            AuditDetail::Attempt(AttemptRecord {
                path,
                endpoint: format!("{}:{}", server.host, server.port),
                exchange: ExchangeKind::App,
                try_no: 1,
                raced: false,
                outcome,
                error_code: code,
                error,
                started: self.app_started,
                duration: ctx.now.mono.saturating_sub(self.app_started),
            }),
        );
    }

    fn abort_all(&mut self, why: &str, ctx: &mut Ctx<'_>) {
        if let Some(r) = self.router.as_mut() {
            r.abort(why, ctx);
        }
        if self.goal == Goal::App {
            self.record_app(AttemptOutcome::Timeout, None, Some(why.to_owned()), ctx);
            ctx.out.push_back(Action::App(AppAction::Close));
            self.app = None;
        }
    }

    fn succeed(&mut self, mechanism: Option<Mechanism>, ctx: &mut Ctx<'_>) {
        let (path, endpoint) = if self.ntlm_used {
            (
                PathKind::Ntlm,
                self.req
                    .server
                    .as_ref()
                    .map(|s| format!("{}:{}", s.host, s.port)),
            )
        } else {
            (self.path, self.endpoint.clone())
        };
        self.finish(LogonOutcome::Success, path, endpoint, mechanism, None, ctx);
    }

    fn fail(&mut self, error: LogonError, ctx: &mut Ctx<'_>) {
        if let Some(r) = self.router.as_mut()
            && r.busy()
        {
            r.abort("logon failed", ctx);
        }
        self.finish(
            LogonOutcome::Failure,
            PathKind::None,
            None,
            None,
            Some(error),
            ctx,
        );
    }

    fn finish(
        &mut self,
        outcome: LogonOutcome,
        path: PathKind,
        endpoint: Option<String>,
        mechanism: Option<Mechanism>,
        error: Option<LogonError>,
        ctx: &mut Ctx<'_>,
    ) {
        if self.goal == Goal::Done {
            return;
        }
        self.goal = Goal::Done;
        let total = ctx.now.mono.saturating_sub(self.started);
        ctx.log.push(
            ids::DECISION,
            ctx.now.mono,
            AuditDetail::Decision(Decision {
                outcome,
                path,
                endpoint: endpoint.clone(),
                ntlm_used: self.ntlm_used,
                ntlm_verdict: self.ntlm_verdict,
                time_to_ticket: self.ticket_at,
                total,
                error_code: error.as_ref().and_then(LogonError::krb_code),
                error: error.as_ref().map(ToString::to_string),
            }),
        );
        self.result = Some(LogonResult {
            id: self.req.id,
            outcome,
            path,
            endpoint,
            mechanism,
            ntlm_used: self.ntlm_used,
            ntlm_verdict: self.ntlm_verdict,
            time_to_ticket: self.ticket_at,
            total,
            error,
            events: Vec::new(),
            ticket: self.ticket.take(),
        });
    }
}

fn fatal_error(f: Fatal) -> LogonError {
    match f.code {
        Some(code) => LogonError::kerberos(code, Some(f.message)),
        None if f.integrity => LogonError::Integrity(f.message),
        None => LogonError::Unreachable {
            last: Some(f.message),
        },
    }
}
