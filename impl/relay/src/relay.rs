//! The relay core: request facts in, a decision out; upstream results in,
//! the HTTP response and the audit record out.

use std::sync::Mutex;
use std::time::SystemTime;

use subtle::ConstantTimeEq;

use crate::audit::{self, AuditRecord, Outcome};
use crate::config::RelayConfig;
use crate::forward::{Forward, TxnFacts};
use crate::http::{CONTENT_TYPE_KERBEROS, HttpResponse, RequestHead};
use crate::inner::{self, RequestKind};
use crate::kkdcp;
use crate::ratelimit::RateLimiter;
use crate::reject::{RejectReason, UpstreamError};
use crate::tcp_reply::RECORD_MARK_LEN;

/// What to do with a request.
#[derive(Debug)]
#[allow(clippy::large_enum_variant)] // one per request, moved once
pub enum Decision {
    /// Send it upstream.
    Forward(Forward),
    /// Answer at once.
    Reject(Rejection),
}

/// A refusal: the response to send and the audit record to write.
#[derive(Debug, Clone)]
pub struct Rejection {
    /// Why.
    pub reason: RejectReason,
    /// What to answer.
    pub response: HttpResponse,
    /// The transaction's audit record.
    pub audit: AuditRecord,
}

/// The end of a forwarded transaction.
#[derive(Debug, Clone)]
pub struct Completed {
    /// What to answer.
    pub response: HttpResponse,
    /// The transaction's audit record.
    pub audit: AuditRecord,
}

/// Proof that the request line and headers passed (see [`Relay::check_head`]);
/// the driver then reads at most `max_body` bytes and calls [`Relay::decide`].
#[derive(Debug, Clone)]
pub struct Admitted {
    /// Read no more body than this.
    pub max_body: usize,
    facts: TxnFacts,
}

/// The sans-IO KKDCP relay. `Send + Sync`: one instance serves every
/// worker; the only mutable state, the rate limiter, sits behind a mutex
/// held for one map lookup.
#[derive(Debug)]
pub struct Relay {
    config: RelayConfig,
    limiter: Option<Mutex<RateLimiter>>,
}

impl Relay {
    /// A relay with a validated configuration.
    pub fn new(config: RelayConfig) -> Result<Self, crate::ConfigError> {
        config.validate()?;
        let limiter = config
            .rate_limit
            .map(|l| Mutex::new(RateLimiter::new(l, config.rate_limit_clients)));
        Ok(Relay { config, limiter })
    }

    /// The configuration in force.
    pub fn config(&self) -> &RelayConfig {
        &self.config
    }

    /// Checks one request end to end (head, then body). Convenience for
    /// drivers that already hold the whole body, and for tests.
    pub fn handle(&self, head: &RequestHead, body: &[u8], now: SystemTime) -> Decision {
        match self.check_head(head, now) {
            Ok(admitted) => self.decide(admitted, body, now),
            Err(rejection) => Decision::Reject(*rejection),
        }
    }

    /// The checks that need no body, in this order: path (404),
    /// authentication (401), rate limit (429), method (405), Content-Length
    /// (411), size (413), Content-Type (415). The order follows kdcproxy's
    /// method/length/size sequence after the access checks, so a refused
    /// client learns nothing about the body rules.
    pub fn check_head(
        &self,
        head: &RequestHead,
        now: SystemTime,
    ) -> Result<Admitted, Box<Rejection>> {
        let mut facts = TxnFacts {
            started: now,
            client: head.client.addr,
            identity: None,
            realm: None,
            msg_type: None,
            cname: None,
            sname: None,
        };
        let reject = |facts: &TxnFacts, reason| Err(Box::new(self.rejection(facts, reason, now)));
        if head.path != self.config.path {
            return reject(&facts, RejectReason::NotFound);
        }
        match self.authenticate(head) {
            Ok(identity) => facts.identity = identity,
            Err(reason) => return reject(&facts, reason),
        }
        if let Some(limiter) = &self.limiter {
            let key = facts
                .identity
                .clone()
                .or_else(|| head.client.addr.map(|a| a.ip().to_string()))
                .unwrap_or_default();
            // A poisoned mutex only means another worker panicked mid-update;
            // the buckets are still usable.
            let mut l = limiter
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            if let Err(retry_after) = l.admit(&key, now) {
                return reject(&facts, RejectReason::RateLimited { retry_after });
            }
        }
        // MS-KKDCP §2.1: "Messages are transported by using HTTP POST".
        if head.method != "POST" {
            return reject(&facts, RejectReason::MethodNotAllowed(head.method.clone()));
        }
        let Some(length) = head.content_length else {
            return reject(&facts, RejectReason::LengthRequired);
        };
        if length > self.config.max_request as u64 {
            return reject(&facts, RejectReason::TooLarge);
        }
        if self.config.strict_content_type
            && let Some(ct) = &head.content_type
            && !is_kerberos_media_type(ct)
        {
            return reject(&facts, RejectReason::UnsupportedMediaType(ct.clone()));
        }
        Ok(Admitted {
            max_body: self.config.max_request,
            facts,
        })
    }

    /// The body checks, in MS-KKDCP §3.2.5.1 order: the KDC-PROXY-MESSAGE
    /// and its kerb-message are well formed (400), target-domain is present
    /// (400), the realm is configured (403), the inner realm matches (400).
    pub fn decide(&self, admitted: Admitted, body: &[u8], now: SystemTime) -> Decision {
        let mut facts = admitted.facts;
        match self.check_body(&mut facts, body, now) {
            Ok(fwd) => Decision::Forward(fwd),
            Err(reason) => Decision::Reject(self.rejection(&facts, reason, now)),
        }
    }

    /// The driver could not read the announced body (the client closed,
    /// stalled past the body timeout, or sent more than allowed).
    pub fn body_failed(&self, admitted: Admitted, too_large: bool, now: SystemTime) -> Rejection {
        let reason = if too_large {
            RejectReason::TooLarge
        } else {
            RejectReason::IncompleteBody
        };
        self.rejection(&admitted.facts, reason, now)
    }

    fn check_body(
        &self,
        facts: &mut TxnFacts,
        body: &[u8],
        now: SystemTime,
    ) -> Result<Forward, RejectReason> {
        // The driver bounds what it reads; this guards other callers.
        if body.len() > self.config.max_request {
            return Err(RejectReason::TooLarge);
        }
        // MS-KKDCP §2.2.2, strict DER, no trailing bytes; kerb-message
        // carries the RFC 4120 §7.2.2 length (or not, if policy allows).
        let req = kkdcp::decode_request(body, self.config.prefix_policy)?;
        facts.realm = req.message.target_domain.clone();
        let message = req.kerberos();
        let inner = inner::classify_request(message, self.config.kpasswd)
            .map_err(RejectReason::NotAKdcRequest)?;
        facts.msg_type = Some(inner.kind.name());
        facts.cname = inner.cname;
        facts.sname = inner.sname;
        // MS-KKDCP §3.2.5.1: "If target-domain is not present, return ERROR_BAD_FORMAT".
        let Some(target) = req.message.target_domain.clone() else {
            return Err(RejectReason::MissingTargetDomain);
        };
        // CVE-2025-59088: only configured realms, matched case-insensitively
        // (MS-KKDCP §2.2.2 "This value is not case-sensitive"); never DNS.
        let Some(route) = self.config.realm(&target) else {
            return Err(RejectReason::UnknownRealm(target));
        };
        let upstreams = match inner.kind {
            RequestKind::Kpasswd => route.kpasswd.clone(),
            RequestKind::AsReq | RequestKind::TgsReq => route.kdcs.clone(),
        };
        if upstreams.is_empty() {
            return Err(RejectReason::NoKpasswdServer(target));
        }
        if self.config.require_realm_match
            && let Some(inner_realm) = &inner.realm
            && !inner_realm.eq_ignore_ascii_case(&target)
        {
            return Err(RejectReason::RealmMismatch {
                target,
                inner: inner_realm.clone(),
            });
        }
        // Byte equality: a prefixed kerb-message goes upstream exactly as
        // received; a bare one (policy `accept`) gets its record mark.
        let payload = if req.unprefixed {
            with_record_mark(message)
        } else {
            req.message.kerb_message.clone()
        };
        let deadline = now.checked_add(self.config.request_timeout).unwrap_or(now);
        Ok(Forward::new(
            route.name.clone(),
            upstreams,
            payload,
            deadline,
            self.config.upstream_timeout,
            self.config.max_reply,
            inner.kind,
            req.unprefixed,
            facts.clone(),
        ))
    }

    /// The response and audit record for a forwarded request, once the
    /// driver has run out of attempts or recorded a reply.
    pub fn finish(&self, fwd: Forward, now: SystemTime) -> Completed {
        let mut record = self.record(&fwd.facts, now);
        record.attempts = fwd.attempts;
        let good = fwd.reply.as_ref().or(fwd.fallback.as_ref());
        if let Some(good) = good {
            let framed = if fwd.client_unprefixed {
                good.message.clone()
            } else {
                with_record_mark(&good.message)
            };
            // MS-KKDCP §3.2.5.2: the reply is a KDC-PROXY-MESSAGE with only
            // kerb-message; target-domain and dclocator-hint are not used.
            let response = HttpResponse::kerberos(kkdcp::encode_reply(framed));
            record.upstream = Some(good.upstream.to_string());
            record.outcome = Outcome::Relayed;
            record.reply_type = Some(good.facts.reply_type);
            record.error_code = good.facts.error_code;
            record.status = response.status;
            return Completed {
                response,
                audit: record,
            };
        }
        let (status, reason, text) = failure_status(&fwd.failures, fwd.deadline_hit);
        let response = HttpResponse::text(status, text);
        record.upstream = fwd.failures.last().map(|(u, _)| u.to_string());
        record.outcome = Outcome::UpstreamFailed;
        record.reason = Some(reason);
        record.status = status;
        Completed {
            response,
            audit: record,
        }
    }

    fn authenticate(&self, head: &RequestHead) -> Result<Option<String>, RejectReason> {
        let auth = &self.config.auth;
        if !auth.required() {
            return Ok(head.client.tls_identity.clone());
        }
        if auth.mutual_tls
            && let Some(id) = &head.client.tls_identity
        {
            return Ok(Some(id.clone()));
        }
        if let Some(presented) = head.authorization.as_deref().and_then(bearer_token) {
            // Compare against every token in constant time so timing does not
            // reveal a prefix match or which token matched.
            let mut matched = None;
            for (i, t) in auth.bearer_tokens.iter().enumerate() {
                if bool::from(t.as_bytes().ct_eq(presented.as_bytes())) {
                    matched = Some(i);
                }
            }
            if let Some(i) = matched {
                return Ok(Some(format!("token#{i}")));
            }
        }
        Err(RejectReason::Unauthorized)
    }

    fn record(&self, facts: &TxnFacts, now: SystemTime) -> AuditRecord {
        AuditRecord {
            time: audit::rfc3339(facts.started),
            client: facts.client,
            identity: facts.identity.clone(),
            realm: facts.realm.clone(),
            msg_type: facts.msg_type,
            cname: facts.cname.clone(),
            sname: facts.sname.clone(),
            upstream: None,
            attempts: 0,
            outcome: Outcome::Rejected,
            reason: None,
            reply_type: None,
            error_code: None,
            status: 0,
            latency_ms: audit::millis_between(facts.started, now),
        }
    }

    fn rejection(&self, facts: &TxnFacts, reason: RejectReason, now: SystemTime) -> Rejection {
        let mut response = HttpResponse::text(reason.status(), reason.to_string());
        response.headers = reason.headers();
        response.close = reason.closes_connection();
        let mut audit = self.record(facts, now);
        audit.reason = Some(reason.code());
        audit.status = response.status;
        Rejection {
            reason,
            response,
            audit,
        }
    }
}

/// RFC 4120 §7.2.2 record mark + message. Messages here are bounded by
/// the request/reply limits, far below the mark's 2^31 range.
fn with_record_mark(message: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(RECORD_MARK_LEN + message.len());
    out.extend_from_slice(
        &u32::try_from(message.len())
            .unwrap_or(u32::MAX)
            .to_be_bytes(),
    );
    out.extend_from_slice(message);
    out
}

/// `Authorization: Bearer <token>` (RFC 6750 §2.1; scheme case-insensitive).
fn bearer_token(header: &str) -> Option<&str> {
    let (scheme, token) = header.trim().split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}

/// `application/kerberos`, ignoring case and parameters.
fn is_kerberos_media_type(ct: &str) -> bool {
    ct.split(';')
        .next()
        .is_some_and(|t| t.trim().eq_ignore_ascii_case(CONTENT_TYPE_KERBEROS))
}

/// Every attempt failed: 502 if some upstream answered with garbage, else
/// 504 if time ran out, else 503 (kdcproxy's "Remote unavailable").
fn failure_status(
    failures: &[(crate::Upstream, UpstreamError)],
    deadline_hit: bool,
) -> (u16, &'static str, String) {
    if let Some((u, e)) = failures.iter().rev().find(|(_, e)| e.is_bad_reply()) {
        return (502, e.code(), format!("Bad gateway: {u}: {e}."));
    }
    if deadline_hit || failures.iter().any(|(_, e)| *e == UpstreamError::Timeout) {
        return (
            504,
            "upstream_timeout",
            "Gateway timeout: no KDC answered in time.".to_owned(),
        );
    }
    let reason = failures.last().map_or("no_upstream", |(_, e)| e.code());
    (503, reason, "Remote unavailable.".to_owned())
}
