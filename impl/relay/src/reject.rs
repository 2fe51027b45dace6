//! Why a request is refused, and the HTTP status each reason maps to.
//!
//! MS-KKDCP defines no HTTP statuses (protocols.md §1.4). We follow kdcproxy
//! 1.1.0 where it answers (405, 411, 413, 400) and choose the rest:
//!
//! | reason | status | kdcproxy 1.1.0 |
//! |---|---|---|
//! | wrong path | 404 | (WSGI mount) |
//! | rate limited | 429 + `Retry-After` | no limit |
//! | not authenticated | 401 + `WWW-Authenticate` | no auth |
//! | not POST | 405 + `Allow: POST` | 405 |
//! | no Content-Length (chunked) | 411 | 411 |
//! | body over the limit | 413 | 413 |
//! | body shorter than announced / too slow | 400, connection closed | (WSGI server) |
//! | Content-Type present, not `application/kerberos` | 415 (configurable) | not checked |
//! | not DER / trailing bytes | 400, connection closed | 400 (500 on some garbage) |
//! | target-domain missing | 400 | 500 (`AttributeError`) |
//! | length prefix missing / wrong | 400 | 400 |
//! | inner message not AS-REQ/TGS-REQ(/kpasswd) | 400 | 400 |
//! | realm not configured | **403** | 503 "Can't find remote" |
//! | inner realm differs from target-domain | 400 | not checked |
//!
//! An undeclared realm gets 403 rather than kdcproxy's 503: it is a policy
//! refusal that no retry will change, and keeping 503 for "the realm's KDCs
//! are down" lets an operator tell the two apart.

use std::time::Duration;

/// A refusal before any upstream is contacted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RejectReason {
    /// The path is not the KKDCP path.
    #[error("Not found.")]
    NotFound,
    /// The client's token bucket is empty.
    #[error("Too many requests.")]
    RateLimited {
        /// When a token will be available.
        retry_after: Duration,
    },
    /// Authentication is required and none (or a wrong one) was presented.
    #[error("Authentication required.")]
    Unauthorized,
    /// Not a POST (MS-KKDCP §2.1: "transported by using HTTP POST").
    #[error("Method not allowed ({0}).")]
    MethodNotAllowed(String),
    /// No Content-Length.
    #[error("Length required.")]
    LengthRequired,
    /// Body larger than the limit (CVE-2025-59089 class: bounded buffering).
    #[error("Request entity too large.")]
    TooLarge,
    /// The client did not deliver the body it announced (closed early, or
    /// too slowly: the driver's body timeout).
    #[error("Incomplete request body.")]
    IncompleteBody,
    /// A Content-Type other than `application/kerberos`.
    #[error("Unsupported media type ({0}).")]
    UnsupportedMediaType(String),
    /// The body is not a DER KDC-PROXY-MESSAGE (MS-KKDCP §2.2.2).
    #[error("Invalid request.")]
    MalformedMessage(String),
    /// No target-domain (MS-KKDCP §3.2.5.1: ERROR_BAD_FORMAT).
    #[error("Invalid request: target-domain is required.")]
    MissingTargetDomain,
    /// kerb-message has no 4-byte length prefix and the policy is `reject`.
    #[error("Invalid request length.")]
    MissingLengthPrefix,
    /// The length prefix disagrees with the message length (or
    /// kerb-message is shorter than a prefix).
    #[error("Invalid request length.")]
    BadLengthPrefix(String),
    /// The inner message is not a request the relay forwards.
    #[error("Invalid request.")]
    NotAKdcRequest(String),
    /// target-domain is not a configured realm (CVE-2025-59088: no DNS).
    #[error("Realm not served by this proxy.")]
    UnknownRealm(String),
    /// A kpasswd request for a realm without kpasswd servers.
    #[error("No password-change server for this realm.")]
    NoKpasswdServer(String),
    /// The inner KDC-REQ names another realm than target-domain.
    #[error("Invalid request: realm mismatch.")]
    RealmMismatch {
        /// target-domain.
        target: String,
        /// req-body.realm.
        inner: String,
    },
}

impl RejectReason {
    /// The HTTP status for this refusal.
    pub fn status(&self) -> u16 {
        match self {
            RejectReason::NotFound => 404,
            RejectReason::RateLimited { .. } => 429,
            RejectReason::Unauthorized => 401,
            RejectReason::MethodNotAllowed(_) => 405,
            RejectReason::LengthRequired => 411,
            RejectReason::TooLarge => 413,
            RejectReason::UnsupportedMediaType(_) => 415,
            RejectReason::MalformedMessage(_)
            | RejectReason::IncompleteBody
            | RejectReason::MissingTargetDomain
            | RejectReason::MissingLengthPrefix
            | RejectReason::BadLengthPrefix(_)
            | RejectReason::NotAKdcRequest(_)
            | RejectReason::RealmMismatch { .. } => 400,
            RejectReason::UnknownRealm(_) | RejectReason::NoKpasswdServer(_) => 403,
        }
    }

    /// A stable snake_case code for audit lines and tests.
    pub fn code(&self) -> &'static str {
        match self {
            RejectReason::NotFound => "not_found",
            RejectReason::RateLimited { .. } => "rate_limited",
            RejectReason::Unauthorized => "unauthorized",
            RejectReason::MethodNotAllowed(_) => "method_not_allowed",
            RejectReason::LengthRequired => "length_required",
            RejectReason::TooLarge => "too_large",
            RejectReason::IncompleteBody => "incomplete_body",
            RejectReason::UnsupportedMediaType(_) => "unsupported_media_type",
            RejectReason::MalformedMessage(_) => "malformed_message",
            RejectReason::MissingTargetDomain => "missing_target_domain",
            RejectReason::MissingLengthPrefix => "missing_length_prefix",
            RejectReason::BadLengthPrefix(_) => "bad_length_prefix",
            RejectReason::NotAKdcRequest(_) => "not_a_kdc_request",
            RejectReason::UnknownRealm(_) => "unknown_realm",
            RejectReason::NoKpasswdServer(_) => "no_kpasswd_server",
            RejectReason::RealmMismatch { .. } => "realm_mismatch",
        }
    }

    /// Whether the connection should be dropped after answering: the body
    /// was unread (413, 411: the client may still be sending) or unusable
    /// (MS-KKDCP §3.2.5.1 "SHOULD drop the connection").
    pub fn closes_connection(&self) -> bool {
        matches!(
            self,
            RejectReason::LengthRequired
                | RejectReason::TooLarge
                | RejectReason::IncompleteBody
                | RejectReason::MalformedMessage(_)
                | RejectReason::MissingLengthPrefix
                | RejectReason::BadLengthPrefix(_)
                | RejectReason::NotAKdcRequest(_)
        )
    }

    /// Extra response headers the status calls for.
    pub(crate) fn headers(&self) -> Vec<(&'static str, String)> {
        match self {
            // RFC 9110 §15.5.6: a 405 MUST carry Allow.
            RejectReason::MethodNotAllowed(_) => vec![("allow", "POST".to_owned())],
            // RFC 9110 §15.5.2: a 401 MUST carry WWW-Authenticate; RFC 6750 §3.
            RejectReason::Unauthorized => {
                vec![("www-authenticate", "Bearer realm=\"kdcproxy\"".to_owned())]
            }
            // RFC 6585 §4: 429 MAY carry Retry-After (whole seconds, rounded up).
            RejectReason::RateLimited { retry_after } => {
                let secs = retry_after.as_secs() + u64::from(retry_after.subsec_nanos() > 0);
                vec![("retry-after", secs.max(1).to_string())]
            }
            _ => Vec::new(),
        }
    }
}

/// Why an upstream attempt did not produce a usable reply.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum UpstreamError {
    /// Name resolution of a configured upstream failed.
    #[error("resolve failed: {0}")]
    Resolve(String),
    /// Connection refused / reset / unreachable.
    #[error("connect failed: {0}")]
    Connect(String),
    /// I/O failure after connecting.
    #[error("i/o error: {0}")]
    Io(String),
    /// The attempt (or the request's deadline) ran out.
    #[error("timed out")]
    Timeout,
    /// The upstream closed before a complete reply.
    #[error("closed after {received} of {expected} byte(s)")]
    Truncated {
        /// Bytes received.
        received: usize,
        /// Bytes the record mark (or the minimum) called for.
        expected: usize,
    },
    /// The declared or actual reply is larger than the limit
    /// (CVE-2025-59089: never buffer without bound).
    #[error("reply of {size} byte(s) exceeds the {limit}-byte limit")]
    TooLarge {
        /// Declared or received size.
        size: usize,
        /// The limit.
        limit: usize,
    },
    /// RFC 4120 §7.2.2: the record mark's high bit is reserved.
    #[error("record mark with the reserved high bit set (0x{0:08x})")]
    ReservedBit(u32),
    /// More bytes than the record mark declared.
    #[error("{0} byte(s) after the declared reply")]
    TrailingBytes(usize),
    /// The reply is not a Kerberos reply to this request.
    #[error("not a Kerberos reply: {0}")]
    NotKerberos(String),
    /// The upstream answered KRB-ERROR RESPONSE_TOO_BIG (52) over UDP; the
    /// next (TCP) upstream is tried (RFC 4120 §7.2.1).
    #[error("KRB_ERR_RESPONSE_TOO_BIG over UDP")]
    ResponseTooBig,
    /// The upstream answered KRB-ERROR KDC_ERR_SVC_UNAVAILABLE (29) and
    /// another upstream remained to try (MIT's client does the same).
    #[error("KDC_ERR_SVC_UNAVAILABLE")]
    ServiceUnavailable,
}

impl UpstreamError {
    /// The upstream answered, but with something unusable: a 502 rather
    /// than a 503/504 when every attempt fails.
    pub fn is_bad_reply(&self) -> bool {
        matches!(
            self,
            UpstreamError::Truncated { .. }
                | UpstreamError::TooLarge { .. }
                | UpstreamError::ReservedBit(_)
                | UpstreamError::TrailingBytes(_)
                | UpstreamError::NotKerberos(_)
        )
    }

    /// A stable snake_case code for audit lines.
    pub fn code(&self) -> &'static str {
        match self {
            UpstreamError::Resolve(_) => "upstream_resolve",
            UpstreamError::Connect(_) => "upstream_connect",
            UpstreamError::Io(_) => "upstream_io",
            UpstreamError::Timeout => "upstream_timeout",
            UpstreamError::Truncated { .. } => "upstream_truncated",
            UpstreamError::TooLarge { .. } => "upstream_too_large",
            UpstreamError::ReservedBit(_) => "upstream_reserved_bit",
            UpstreamError::TrailingBytes(_) => "upstream_trailing_bytes",
            UpstreamError::NotKerberos(_) => "upstream_not_kerberos",
            UpstreamError::ResponseTooBig => "upstream_response_too_big",
            UpstreamError::ServiceUnavailable => "upstream_svc_unavailable",
        }
    }
}
