//! A request that passed every check: where it goes, what is sent, and the
//! bookkeeping of the upstream attempts (failover order, deadlines, reply
//! validation) until the driver asks for the HTTP response.

use std::collections::VecDeque;
use std::time::{Duration, SystemTime};

use crate::config::{Transport, Upstream};
use crate::inner::{self, ReplyFacts, RequestKind};
use crate::reject::UpstreamError;
use crate::tcp_reply::{RECORD_MARK_LEN, mark_error};

/// RFC 4120 §7.5.9: KRB_ERR_RESPONSE_TOO_BIG.
const KRB_ERR_RESPONSE_TOO_BIG: i32 = 52;
/// RFC 4120 §7.5.9: KDC_ERR_SVC_UNAVAILABLE. MIT's client moves on to the
/// next KDC on it (`check_for_svc_unavailable()`); the relay does the same
/// across its upstream list before passing it back.
const KDC_ERR_SVC_UNAVAILABLE: i32 = 29;

/// Facts about the transaction kept for the audit line.
#[derive(Debug, Clone)]
pub(crate) struct TxnFacts {
    pub(crate) started: SystemTime,
    pub(crate) client: Option<std::net::SocketAddr>,
    pub(crate) identity: Option<String>,
    pub(crate) realm: Option<String>,
    pub(crate) msg_type: Option<&'static str>,
    pub(crate) cname: Option<String>,
    pub(crate) sname: Option<String>,
}

/// One upstream attempt the driver should make now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttemptPlan {
    /// Where to send.
    pub upstream: Upstream,
    /// Give up on this attempt at this instant (the per-upstream timeout,
    /// capped by the request's deadline).
    pub until: SystemTime,
}

/// A validated reply from an upstream.
#[derive(Debug, Clone)]
pub(crate) struct GoodReply {
    /// The reply message, record mark excluded.
    pub(crate) message: Vec<u8>,
    pub(crate) facts: ReplyFacts,
    pub(crate) upstream: Upstream,
}

/// A request to forward. The public fields say where and what; the driver
/// walks the attempts with [`Forward::next_attempt`], reports each result
/// with [`Forward::record_reply`] or [`Forward::record_failure`], and then
/// asks [`crate::Relay::finish`] for the response.
#[derive(Debug)]
pub struct Forward {
    /// The realm's canonical (configured) name.
    pub realm: String,
    /// The realm's upstreams in the order they will be tried (TCP first).
    pub upstreams: Vec<Upstream>,
    /// What a TCP upstream receives: the 4-byte record mark and the message,
    /// byte-identical to the client's `kerb-message` when it had the prefix.
    pub payload: Vec<u8>,
    /// No attempt starts or continues after this instant.
    pub deadline: SystemTime,
    pub(crate) upstream_timeout: Duration,
    pub(crate) max_reply: usize,
    pub(crate) kind: RequestKind,
    /// The client sent no length prefix (accepted by policy): answer the
    /// same way.
    pub(crate) client_unprefixed: bool,
    pub(crate) facts: TxnFacts,
    queue: VecDeque<Upstream>,
    pub(crate) failures: Vec<(Upstream, UpstreamError)>,
    pub(crate) reply: Option<GoodReply>,
    /// A KRB-ERROR SVC_UNAVAILABLE kept in case no other upstream answers.
    pub(crate) fallback: Option<GoodReply>,
    pub(crate) attempts: usize,
    pub(crate) deadline_hit: bool,
}

impl Forward {
    #[allow(clippy::too_many_arguments)] // internal constructor, one call site
    pub(crate) fn new(
        realm: String,
        upstreams: Vec<Upstream>,
        payload: Vec<u8>,
        deadline: SystemTime,
        upstream_timeout: Duration,
        max_reply: usize,
        kind: RequestKind,
        client_unprefixed: bool,
        facts: TxnFacts,
    ) -> Self {
        Forward {
            queue: upstreams.iter().cloned().collect(),
            realm,
            upstreams,
            payload,
            deadline,
            upstream_timeout,
            max_reply,
            kind,
            client_unprefixed,
            facts,
            failures: Vec::new(),
            reply: None,
            fallback: None,
            attempts: 0,
            deadline_hit: false,
        }
    }

    /// The bare Kerberos message (what a UDP upstream receives: RFC 4120
    /// §7.2.1 carries no record mark).
    pub fn message(&self) -> &[u8] {
        self.payload.get(RECORD_MARK_LEN..).unwrap_or_default()
    }

    /// The bytes to send over `transport`.
    pub fn bytes_for(&self, transport: Transport) -> &[u8] {
        match transport {
            Transport::Tcp => &self.payload,
            Transport::Udp => self.message(),
        }
    }

    /// The largest reply the driver may read (record mark excluded).
    pub fn max_reply(&self) -> usize {
        self.max_reply
    }

    /// The next upstream to try, or `None` when a reply was accepted, the
    /// list is exhausted, or the deadline has passed.
    pub fn next_attempt(&mut self, now: SystemTime) -> Option<AttemptPlan> {
        if self.reply.is_some() {
            return None;
        }
        if now >= self.deadline {
            if !self.queue.is_empty() {
                self.deadline_hit = true;
            }
            return None;
        }
        let upstream = self.queue.pop_front()?;
        self.attempts += 1;
        let until = now
            .checked_add(self.upstream_timeout)
            .map_or(self.deadline, |t| t.min(self.deadline));
        Some(AttemptPlan { upstream, until })
    }

    /// Reports what an upstream sent: for TCP the complete framed reply
    /// (from [`crate::TcpReplyReader`]), for UDP the datagram. Returns the
    /// validation error when the reply is unusable (the next upstream is then
    /// tried).
    pub fn record_reply(
        &mut self,
        upstream: &Upstream,
        bytes: Vec<u8>,
    ) -> Result<(), UpstreamError> {
        match self.validate(upstream, bytes) {
            Ok(good) => {
                if good.facts.error_code == Some(KDC_ERR_SVC_UNAVAILABLE) && !self.queue.is_empty()
                {
                    self.failures
                        .push((upstream.clone(), UpstreamError::ServiceUnavailable));
                    self.fallback = Some(good);
                } else {
                    self.reply = Some(good);
                }
                Ok(())
            }
            Err(e) => {
                if e == UpstreamError::ResponseTooBig {
                    // RFC 4120 §7.2.1: retry the same KDC over TCP next.
                    let tcp = Upstream {
                        transport: Transport::Tcp,
                        host: upstream.host.clone(),
                    };
                    self.queue.push_front(tcp);
                }
                self.failures.push((upstream.clone(), e.clone()));
                Err(e)
            }
        }
    }

    /// Reports an attempt that produced no reply.
    pub fn record_failure(&mut self, upstream: &Upstream, error: UpstreamError) {
        self.failures.push((upstream.clone(), error));
    }

    /// Whether an upstream reply has been accepted.
    pub fn has_reply(&self) -> bool {
        self.reply.is_some()
    }

    fn validate(&self, upstream: &Upstream, bytes: Vec<u8>) -> Result<GoodReply, UpstreamError> {
        let message = match upstream.transport {
            Transport::Tcp => strip_record_mark(bytes, self.max_reply)?,
            Transport::Udp => {
                if bytes.len() > self.max_reply {
                    return Err(UpstreamError::TooLarge {
                        size: bytes.len(),
                        limit: self.max_reply,
                    });
                }
                bytes
            }
        };
        let facts = inner::classify_reply(self.kind, &message)?;
        if upstream.transport == Transport::Udp
            && facts.error_code == Some(KRB_ERR_RESPONSE_TOO_BIG)
        {
            return Err(UpstreamError::ResponseTooBig);
        }
        Ok(GoodReply {
            message,
            facts,
            upstream: upstream.clone(),
        })
    }
}

/// Checks a complete TCP reply's record mark against its length and drops it.
fn strip_record_mark(mut framed: Vec<u8>, limit: usize) -> Result<Vec<u8>, UpstreamError> {
    let Some(mark) = framed.first_chunk::<RECORD_MARK_LEN>().copied() else {
        return Err(UpstreamError::Truncated {
            received: framed.len(),
            expected: RECORD_MARK_LEN,
        });
    };
    let declared =
        kerbside_wire::record::parse_mark(mark, limit).map_err(|e| mark_error(&e, mark))?;
    let actual = framed.len() - RECORD_MARK_LEN;
    if actual < declared {
        return Err(UpstreamError::Truncated {
            received: framed.len(),
            expected: declared + RECORD_MARK_LEN,
        });
    }
    if actual > declared {
        return Err(UpstreamError::TrailingBytes(actual - declared));
    }
    framed.drain(..RECORD_MARK_LEN);
    Ok(framed)
}
