//! The router: gets one [`KdcStep`] answered over the logon's routes.
//!
//! * Routes are tried in plan order; endpoints in the negative cache are
//!   skipped (event 7002) or, with `when_all_cached = "probe"`, deferred
//!   behind every fresh one.
//! * Each send has a deadline (the stage's timeout). A timeout or reset is
//!   retried on the same endpoint up to the stage's try count; a refusal is
//!   not (nothing listens). An endpoint that used up its tries goes into the
//!   negative cache and the next one is started.
//! * The first endpoint that answers with Kerberos becomes *sticky*: the
//!   rest of the logon (pre-authenticated AS-REQ, TGS-REQ) goes there, as
//!   Windows and MIT keep talking to the KDC that answered.
//! * Racing (happy eyeballs, RFC 8305 §5 applied to paths): while no route is
//!   sticky, an endpoint that has not answered after `racing.delay` gets
//!   company from the next one, up to `max_in_flight`; a failure starts the
//!   next at once. The first answer wins; the others are cancelled and
//!   recorded as `cancelled`.
//! * KRB_ERR_RESPONSE_TOO_BIG over UDP moves to TCP on the same KDC
//!   (RFC 4120 §7.2.1); KRB_AP_ERR_SKEW corrects the clock and retries once
//!   when `kdc_timesync` is on.

use std::collections::{BTreeMap, VecDeque};

use kerbside_wire::krb::constants::{error_code, error_code_name};
use rand_core::RngCore;

use crate::audit::{AttemptOutcome, AttemptRecord, AuditDetail, ExchangeKind, ids};

use super::host::HostState;
use super::io::{Action, ExchangeId, Now, TimerId};
use super::kdc_step::{Fatal, KdcStep, Pending, ReplyClass, StepValue};
use super::log::{EventLog, Ids};
use super::policy::{Policy, WhenAllCached};
use super::route::{KdcTransport, Route};

/// Everything a router call may touch besides the router.
pub(crate) struct Ctx<'a> {
    pub(crate) now: Now,
    pub(crate) rng: &'a mut dyn RngCore,
    pub(crate) host: &'a mut HostState,
    pub(crate) policy: &'a Policy,
    pub(crate) out: &'a mut VecDeque<Action>,
    pub(crate) log: &'a mut EventLog,
    pub(crate) ids: &'a mut Ids,
}

/// A step answered.
#[derive(Debug)]
pub(crate) struct StepDone {
    /// The route that answered.
    pub(crate) route: Route,
    /// What it produced.
    pub(crate) value: StepValue,
}

/// A step that cannot be answered.
#[derive(Debug)]
pub(crate) enum StepError {
    /// A KDC answered with something no other route would change.
    Fatal {
        /// Who answered.
        route: Route,
        /// What.
        fatal: Fatal,
    },
    /// Every route failed below Kerberos (or none was configured).
    Unreachable {
        /// The last failure, for people.
        last: Option<String>,
    },
}

pub(crate) type StepResult = Result<StepDone, StepError>;

/// What the attempt record needs of an exchange.
#[derive(Clone, Copy, Debug)]
struct Info {
    route: usize,
    try_no: u32,
    started: std::time::Duration,
    raced: bool,
    kind: ExchangeKind,
}

#[derive(Debug)]
struct Live {
    info: Info,
    pending: Pending,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Purpose {
    Deadline(ExchangeId),
    Race(ExchangeId),
}

impl Purpose {
    fn exchange(self) -> ExchangeId {
        match self {
            Purpose::Deadline(id) | Purpose::Race(id) => id,
        }
    }
}

/// Route scheduling for one logon.
#[derive(Debug)]
pub(crate) struct Router {
    realm: String,
    routes: Vec<Route>,
    candidates: VecDeque<usize>,
    sticky: Option<usize>,
    step: Option<KdcStep>,
    live: BTreeMap<ExchangeId, Live>,
    tries: BTreeMap<usize, u32>,
    timers: BTreeMap<TimerId, Purpose>,
    last_failure: Option<String>,
    skew_retried: bool,
}

impl Router {
    /// A router over `routes` (plan order) for `realm`; consults the
    /// negative cache now and records what it skips. With `stages_follow`
    /// (IAKERB or LocalKDC can still be tried after these routes) cached
    /// endpoints are skipped even under `when_all_cached = "probe"`: the
    /// next stage is the fresh path, and waiting on a known-dead DC first
    /// would cost every offline logon a timeout.
    pub(crate) fn new(
        realm: &str,
        routes: Vec<Route>,
        stages_follow: bool,
        ctx: &mut Ctx<'_>,
    ) -> Self {
        let mut fresh = VecDeque::new();
        let mut deferred = VecDeque::new();
        for (i, route) in routes.iter().enumerate() {
            match ctx
                .host
                .negative
                .remaining(&route.cache_key(), ctx.now.mono)
            {
                Some(remaining) => {
                    let defer = ctx.policy.negative_cache.when_all_cached == WhenAllCached::Probe
                        && !stages_follow;
                    ctx.log.push(
                        ids::SKIPPED,
                        ctx.now.mono,
                        AuditDetail::Skipped {
                            path: route.path(),
                            endpoint: route.endpoint(),
                            remaining,
                            deferred: defer,
                        },
                    );
                    if defer {
                        deferred.push_back(i);
                    }
                }
                None => fresh.push_back(i),
            }
        }
        fresh.extend(deferred);
        Router {
            realm: realm.to_owned(),
            routes,
            candidates: fresh,
            sticky: None,
            step: None,
            live: BTreeMap::new(),
            tries: BTreeMap::new(),
            timers: BTreeMap::new(),
            last_failure: None,
            skew_retried: false,
        }
    }

    /// Whether a step is in progress.
    pub(crate) fn busy(&self) -> bool {
        self.step.is_some()
    }

    /// Starts getting `step` answered: on the sticky route if there is
    /// one, else on the next candidate. `Some` when it is over at once (no
    /// route at all, or the request cannot be built).
    pub(crate) fn begin(&mut self, step: KdcStep, ctx: &mut Ctx<'_>) -> Option<StepResult> {
        self.step = Some(step);
        self.tries.clear();
        match self.sticky {
            Some(r) => self.start(r, false, ctx),
            None => self.fill(ctx),
        }
    }

    /// A reply for exchange `id`.
    pub(crate) fn on_reply(
        &mut self,
        id: ExchangeId,
        reply: &[u8],
        ctx: &mut Ctx<'_>,
    ) -> Option<StepResult> {
        let Live {
            info: live,
            pending,
        } = self.take_live(id)?;
        let step = self.step.as_mut()?;
        let t = ctx.host.kerberos_time(ctx.now.wall);
        let class = step.on_reply(pending, reply, t, ctx.rng);
        let route = self.routes.get(live.route)?.clone();
        match class {
            ReplyClass::Done(value) => {
                self.record(&live, AttemptOutcome::Ok, None, None, ctx);
                self.won(live.route, ctx);
                Some(self.finish(Ok(StepDone { route, value }), ctx))
            }
            ReplyClass::Continue(next) => {
                let code = error_code::KDC_ERR_PREAUTH_REQUIRED;
                self.record(
                    &live,
                    AttemptOutcome::KrbError,
                    Some(code),
                    error_code_name(code).map(str::to_owned),
                    ctx,
                );
                self.won(live.route, ctx);
                self.step = Some(next);
                self.tries.clear();
                self.start(live.route, false, ctx)
            }
            ReplyClass::Fatal(fatal) => {
                let outcome = if fatal.code.is_some() {
                    AttemptOutcome::KrbError
                } else {
                    AttemptOutcome::Error
                };
                self.record(&live, outcome, fatal.code, Some(fatal.message.clone()), ctx);
                self.won(live.route, ctx);
                Some(self.finish(Err(StepError::Fatal { route, fatal }), ctx))
            }
            ReplyClass::RouteFailed { code, why } => {
                let outcome = if code.is_some() {
                    AttemptOutcome::KrbError
                } else {
                    AttemptOutcome::Error
                };
                self.record(&live, outcome, code, Some(why.clone()), ctx);
                self.route_down(live.route, &why, true, ctx)
            }
            ReplyClass::TooBig => {
                let code = error_code::KRB_ERR_RESPONSE_TOO_BIG;
                let name = error_code_name(code).map(str::to_owned);
                self.record(&live, AttemptOutcome::KrbError, Some(code), name, ctx);
                self.too_big(live.route, ctx)
            }
            ReplyClass::Skew { server_time } => {
                let code = error_code::KRB_AP_ERR_SKEW;
                let name = error_code_name(code).map(str::to_owned);
                self.record(&live, AttemptOutcome::KrbError, Some(code), name, ctx);
                self.won(live.route, ctx);
                if ctx.policy.tickets.kdc_timesync && !self.skew_retried {
                    // MIT kdc_timesync: take the KDC's time and try once more.
                    self.skew_retried = true;
                    ctx.host.sync_to_kdc(ctx.now.wall, server_time);
                    let step = self.step.take()?.restart();
                    self.step = Some(step);
                    self.tries.clear();
                    self.start(live.route, false, ctx)
                } else {
                    let fatal = Fatal {
                        code: Some(code),
                        message: "clock skew too great (KRB_AP_ERR_SKEW)".to_owned(),
                        integrity: false,
                        tampered: false,
                    };
                    Some(self.finish(Err(StepError::Fatal { route, fatal }), ctx))
                }
            }
        }
    }

    /// Exchange `id` failed below Kerberos.
    pub(crate) fn on_failed(
        &mut self,
        id: ExchangeId,
        failure: &super::io::TransportFailure,
        ctx: &mut Ctx<'_>,
    ) -> Option<StepResult> {
        let live = self.take_live(id)?.info;
        let outcome = match failure {
            super::io::TransportFailure::Refused => AttemptOutcome::Refused,
            super::io::TransportFailure::Timeout => AttemptOutcome::Timeout,
            _ => AttemptOutcome::Error,
        };
        self.attempt_failed(
            live,
            outcome,
            failure.to_string(),
            failure.is_refusal(),
            ctx,
        )
    }

    /// A timer fired.
    pub(crate) fn on_timer(&mut self, id: TimerId, ctx: &mut Ctx<'_>) -> Option<StepResult> {
        match self.timers.remove(&id)? {
            Purpose::Deadline(x) => {
                let live = self.take_live(x)?.info;
                ctx.out.push_back(Action::Cancel { id: x });
                let (timeout, _) = self.limits(live.route, ctx.policy);
                let why = format!("no reply within {}", super::duration::format(timeout));
                self.attempt_failed(live, AttemptOutcome::Timeout, why, false, ctx)
            }
            Purpose::Race(x) => {
                if !self.live.contains_key(&x) || self.live.len() >= self.max_in_flight(ctx) {
                    return None;
                }
                let idx = self.candidates.pop_front()?;
                self.start(idx, true, ctx)
            }
        }
    }

    /// Abandons everything in flight (the logon's budget ran out).
    pub(crate) fn abort(&mut self, why: &str, ctx: &mut Ctx<'_>) {
        let live = std::mem::take(&mut self.live);
        for (id, l) in live {
            ctx.out.push_back(Action::Cancel { id });
            self.record(
                &l.info,
                AttemptOutcome::Timeout,
                None,
                Some(why.to_owned()),
                ctx,
            );
        }
        self.timers.clear();
        self.step = None;
    }

    fn take_live(&mut self, id: ExchangeId) -> Option<Live> {
        let live = self.live.remove(&id)?;
        self.timers.retain(|_, p| p.exchange() != id);
        Some(live)
    }

    fn max_in_flight(&self, ctx: &Ctx<'_>) -> usize {
        if ctx.policy.racing.enabled && self.sticky.is_none() {
            usize::try_from(ctx.policy.racing.max_in_flight)
                .unwrap_or(usize::MAX)
                .max(1)
        } else {
            1
        }
    }

    /// The stage timeout and try count of route `idx`.
    fn limits(&self, idx: usize, policy: &Policy) -> (std::time::Duration, u32) {
        match self.routes.get(idx) {
            Some(Route::Native {
                transport: KdcTransport::Tcp,
                ..
            }) => (policy.native.timeout, policy.native.tcp_tries),
            Some(Route::Native {
                transport: KdcTransport::Udp,
                ..
            }) => (policy.native.timeout, policy.native.udp_tries),
            Some(Route::Kkdcp { .. }) => (policy.kkdcp.timeout, policy.kkdcp.tries),
            Some(Route::Iakerb { .. }) => (policy.iakerb.timeout, policy.iakerb.tries),
            Some(Route::Localkdc) => (policy.localkdc.timeout, policy.localkdc.tries),
            None => (policy.native.timeout, 1),
        }
    }

    /// Sends the current step on route `idx`.
    fn start(&mut self, idx: usize, raced: bool, ctx: &mut Ctx<'_>) -> Option<StepResult> {
        let route = self.routes.get(idx)?.clone();
        let step = self.step.as_mut()?;
        let t = ctx.host.kerberos_time(ctx.now.wall);
        let (message, pending) = match step.request(t, ctx.rng) {
            Ok(x) => x,
            Err(fatal) => return Some(self.finish(Err(StepError::Fatal { route, fatal }), ctx)),
        };
        let kind = step.kind();
        let try_no = {
            let n = self.tries.entry(idx).or_insert(0);
            *n += 1;
            *n
        };
        let id = ctx.ids.exchange();
        ctx.out.push_back(Action::KdcSend {
            id,
            route,
            realm: self.realm.clone(),
            message,
        });
        let (timeout, _) = self.limits(idx, ctx.policy);
        let deadline = ctx.ids.timer();
        self.timers.insert(deadline, Purpose::Deadline(id));
        ctx.out.push_back(Action::SetTimer {
            id: deadline,
            at: ctx.now.mono.saturating_add(timeout),
        });
        if self.max_in_flight(ctx) > 1 && !self.candidates.is_empty() {
            let race = ctx.ids.timer();
            self.timers.insert(race, Purpose::Race(id));
            ctx.out.push_back(Action::SetTimer {
                id: race,
                at: ctx.now.mono.saturating_add(ctx.policy.racing.delay),
            });
        }
        self.live.insert(
            id,
            Live {
                info: Info {
                    route: idx,
                    try_no,
                    started: ctx.now.mono,
                    raced,
                    kind,
                },
                pending,
            },
        );
        None
    }

    /// Starts the next candidate if the in-flight limit allows (one: more
    /// racers join only when their race timer fires); `Some(Unreachable)`
    /// when nothing is left and nothing is in flight.
    fn fill(&mut self, ctx: &mut Ctx<'_>) -> Option<StepResult> {
        if self.live.len() < self.max_in_flight(ctx)
            && let Some(idx) = self.candidates.pop_front()
        {
            let raced = !self.live.is_empty();
            if let Some(r) = self.start(idx, raced, ctx) {
                return Some(r);
            }
        }
        if self.live.is_empty() {
            let last = self.last_failure.clone();
            return Some(self.finish(Err(StepError::Unreachable { last }), ctx));
        }
        None
    }

    /// A send failed: retry the endpoint if it has tries left and the
    /// failure is not a refusal, else give the endpoint up.
    fn attempt_failed(
        &mut self,
        live: Info,
        outcome: AttemptOutcome,
        why: String,
        refusal: bool,
        ctx: &mut Ctx<'_>,
    ) -> Option<StepResult> {
        self.record(&live, outcome, None, Some(why.clone()), ctx);
        let (_, max_tries) = self.limits(live.route, ctx.policy);
        let used = self.tries.get(&live.route).copied().unwrap_or(0);
        if !refusal && used < max_tries {
            return self.start(live.route, live.raced, ctx);
        }
        self.route_down(live.route, &why, true, ctx)
    }

    /// Route `idx` is no use for this step: remember (negative cache) and
    /// move on.
    fn route_down(
        &mut self,
        idx: usize,
        why: &str,
        remember: bool,
        ctx: &mut Ctx<'_>,
    ) -> Option<StepResult> {
        if let Some(route) = self.routes.get(idx) {
            if remember {
                ctx.host.negative.mark_failed(
                    &route.cache_key(),
                    ctx.now.mono,
                    ctx.policy.negative_cache.ttl,
                );
            }
            self.last_failure = Some(format!("{route}: {why}"));
        }
        if self.sticky == Some(idx) {
            self.sticky = None;
        }
        self.fill(ctx)
    }

    /// RFC 4120 §7.2.1: the reply did not fit a datagram; ask the same KDC
    /// over TCP next.
    fn too_big(&mut self, idx: usize, ctx: &mut Ctx<'_>) -> Option<StepResult> {
        let Some(Route::Native {
            transport: KdcTransport::Udp,
            host,
            port,
        }) = self.routes.get(idx).cloned()
        else {
            return self.route_down(idx, "KRB_ERR_RESPONSE_TOO_BIG over a stream", true, ctx);
        };
        let tcp = Route::Native {
            transport: KdcTransport::Tcp,
            host,
            port,
        };
        match self.routes.iter().position(|r| *r == tcp) {
            Some(j) if self.candidates.contains(&j) => {
                self.candidates.retain(|c| *c != j);
                self.candidates.push_front(j);
            }
            // TCP to this KDC was tried for this logon already and failed.
            Some(_) => {}
            None => {
                self.routes.push(tcp);
                self.candidates.push_front(self.routes.len() - 1);
            }
        }
        if self.sticky == Some(idx) {
            self.sticky = None;
        }
        // The KDC is alive: not a negative-cache failure.
        self.last_failure = Some(format!(
            "{}: KRB_ERR_RESPONSE_TOO_BIG",
            self.routes
                .get(idx)
                .map(ToString::to_string)
                .unwrap_or_default()
        ));
        self.fill(ctx)
    }

    /// Route `idx` answered: it becomes sticky, its negative-cache entry
    /// goes, and every other racer is cancelled.
    fn won(&mut self, idx: usize, ctx: &mut Ctx<'_>) {
        if let Some(route) = self.routes.get(idx) {
            ctx.host.negative.clear(&route.cache_key());
        }
        self.sticky = Some(idx);
        self.cancel_others(ctx);
    }

    fn cancel_others(&mut self, ctx: &mut Ctx<'_>) {
        let live = std::mem::take(&mut self.live);
        let mut losers = Vec::new();
        for (id, l) in live {
            ctx.out.push_back(Action::Cancel { id });
            self.record(
                &l.info,
                AttemptOutcome::Cancelled,
                None,
                Some("another endpoint answered first".to_owned()),
                ctx,
            );
            losers.push(l.info.route);
        }
        // A loser did not fail: it stays available for later steps, ahead
        // of the untried endpoints and in plan order.
        losers.sort_unstable();
        losers.dedup();
        for r in losers.into_iter().rev() {
            if !self.candidates.contains(&r) && Some(r) != self.sticky {
                self.candidates.push_front(r);
            }
        }
        self.timers.clear();
    }

    fn finish(&mut self, result: StepResult, ctx: &mut Ctx<'_>) -> StepResult {
        self.cancel_others(ctx);
        self.step = None;
        result
    }

    fn record(
        &self,
        live: &Info,
        outcome: AttemptOutcome,
        code: Option<i32>,
        error: Option<String>,
        ctx: &mut Ctx<'_>,
    ) {
        let Some(route) = self.routes.get(live.route) else {
            return;
        };
        ctx.log.push(
            ids::ATTEMPT,
            ctx.now.mono,
            AuditDetail::Attempt(AttemptRecord {
                path: route.path(),
                endpoint: route.endpoint(),
                exchange: live.kind,
                try_no: live.try_no,
                raced: live.raced,
                outcome,
                error_code: code,
                error,
                started: live.started,
                duration: ctx.now.mono.saturating_sub(live.started),
            }),
        );
    }
}
