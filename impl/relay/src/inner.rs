//! What is inside `kerb-message`, and what came back from the KDC.
//!
//! The relay checks shape, not content: strict DER (kerbside-wire's
//! whole-tree validator, which never panics), the APPLICATION tag, and the
//! handful of fields it needs (realm and principal names for routing and the
//! audit line; the KRB-ERROR code). It does not run the full Kerberos schema
//! decoder on messages it only forwards: the KDC is the judge of a request's
//! content, and a relay stricter than the KDC breaks clients the KDC accepts.
//! kdcproxy likewise checks only the outer APPLICATION tag and SEQUENCE
//! (protocols.md §1.6 item 6).

use kerbside_wire::der::{self, Reader, Tlv, tag};
use kerbside_wire::error::Format;

use crate::reject::UpstreamError;

/// The inner request types the relay forwards.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestKind {
    /// `[APPLICATION 10]` (RFC 4120 §5.4.1).
    AsReq,
    /// `[APPLICATION 12]` (RFC 4120 §5.4.1).
    TgsReq,
    /// RFC 3244 change/set password request (only when enabled).
    Kpasswd,
}

impl RequestKind {
    /// The name used in audit lines.
    pub fn name(self) -> &'static str {
        match self {
            RequestKind::AsReq => "AS-REQ",
            RequestKind::TgsReq => "TGS-REQ",
            RequestKind::Kpasswd => "KPASSWD-REQ",
        }
    }
}

/// RFC 4120 §5.10 APPLICATION tags (constructed), as the first DER octet.
mod app {
    pub(super) const TICKET: u8 = 0x61;
    pub(super) const AS_REQ: u8 = 0x6a;
    pub(super) const AS_REP: u8 = 0x6b;
    pub(super) const TGS_REQ: u8 = 0x6c;
    pub(super) const TGS_REP: u8 = 0x6d;
    pub(super) const AP_REQ: u8 = 0x6e;
    pub(super) const AP_REP: u8 = 0x6f;
    pub(super) const KRB_PRIV: u8 = 0x75;
    pub(super) const KRB_ERROR: u8 = 0x7e;
}

/// RFC 4120 §5.2.1: KerberosString is GeneralString; Windows and some
/// libraries send IA5String or UTF8String, which we read too.
const STRING_TAGS: [u8; 3] = [tag::GENERAL_STRING, tag::IA5_STRING, tag::UTF8_STRING];

/// Longest principal or realm text kept for the audit line.
const AUDIT_TEXT_MAX: usize = 256;

/// Facts about a request the relay will forward.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RequestFacts {
    pub(crate) kind: RequestKind,
    /// req-body.realm (KDC-REQ) or the ticket's realm (kpasswd AP-REQ).
    pub(crate) realm: Option<String>,
    pub(crate) cname: Option<String>,
    pub(crate) sname: Option<String>,
}

/// Classifies the bare inner message (length prefix already removed).
pub(crate) fn classify_request(msg: &[u8], kpasswd: bool) -> Result<RequestFacts, String> {
    match msg.first() {
        Some(&app::AS_REQ) => kdc_req(msg, RequestKind::AsReq),
        Some(&app::TGS_REQ) => kdc_req(msg, RequestKind::TgsReq),
        Some(_) if kpasswd && is_kpasswd_framing(msg) => kpasswd_req(msg),
        Some(t) => Err(format!(
            "expected AS-REQ (0x6a) or TGS-REQ (0x6c){}, found first byte 0x{t:02x}",
            if kpasswd { " or a kpasswd request" } else { "" }
        )),
        None => Err("empty kerb-message".to_owned()),
    }
}

/// RFC 4120 §5.4.1 KDC-REQ: `[APPLICATION 10|12] SEQUENCE { pvno [1],
/// msg-type [2], padata [3] OPTIONAL, req-body [4] KDC-REQ-BODY }`.
fn kdc_req(msg: &[u8], kind: RequestKind) -> Result<RequestFacts, String> {
    der::validate(msg, Format::Kerberos).map_err(|e| e.to_string())?;
    let seq = outer_sequence(msg, "KDC-REQ")?;
    let mut r = seq.reader("KDC-REQ");
    integer_field(&mut r, 1, "pvno")?;
    integer_field(&mut r, 2, "msg-type")?;
    r.optional(tag::context(3)).map_err(|e| e.to_string())?;
    let body = r
        .expect(tag::context(4), "[4] req-body")
        .map_err(|e| e.to_string())?;
    r.finish().map_err(|e| e.to_string())?;
    let body = explicit(&body, tag::SEQUENCE, "KDC-REQ-BODY")?;
    // KDC-REQ-BODY: kdc-options [0], cname [1] OPTIONAL, realm [2], sname [3] OPTIONAL, ...
    let mut b = body.reader("KDC-REQ-BODY");
    b.expect(tag::context(0), "[0] kdc-options")
        .map_err(|e| e.to_string())?;
    let cname = match b.optional(tag::context(1)).map_err(|e| e.to_string())? {
        Some(t) => Some(principal_name(&t)?),
        None => None,
    };
    let realm_tlv = b
        .expect(tag::context(2), "[2] realm")
        .map_err(|e| e.to_string())?;
    let realm = kerberos_string(&realm_tlv)?;
    let sname = match b.optional(tag::context(3)).map_err(|e| e.to_string())? {
        Some(t) => Some(principal_name(&t)?),
        None => None,
    };
    let at = |p: String| audit_text(&format!("{p}@{realm}"));
    Ok(RequestFacts {
        kind,
        cname: cname.map(at),
        sname: sname.map(at),
        realm: Some(realm),
    })
}

/// RFC 3244 §2: message length (2), version (2), AP-REQ length (2).
fn is_kpasswd_framing(msg: &[u8]) -> bool {
    let Some(&[l0, l1, v0, v1, ..]) = msg.first_chunk::<6>() else {
        return false;
    };
    usize::from(u16::from_be_bytes([l0, l1])) == msg.len()
        && matches!(u16::from_be_bytes([v0, v1]), 0x0001 | 0xff80)
}

/// RFC 3244 §2 request: `len | version (0x0001 change, 0xff80 set) |
/// ap-req-len | AP-REQ | KRB-PRIV`, the checks kdcproxy makes
/// (`KPASSWDProxyRequest.parse_request`), plus strict DER on both parts.
fn kpasswd_req(msg: &[u8]) -> Result<RequestFacts, String> {
    let (ap_req, priv_part) = kpasswd_parts(msg, "AP-REQ")?;
    if ap_req.first() != Some(&app::AP_REQ) {
        return Err("kpasswd request: expected an AP-REQ (0x6e)".to_owned());
    }
    der::validate(ap_req, Format::Kerberos).map_err(|e| e.to_string())?;
    if priv_part.first() != Some(&app::KRB_PRIV) {
        return Err("kpasswd request: expected a KRB-PRIV (0x75) after the AP-REQ".to_owned());
    }
    der::validate(priv_part, Format::Kerberos).map_err(|e| e.to_string())?;
    // AP-REQ ::= [APPLICATION 14] SEQUENCE { pvno [0], msg-type [1],
    // ap-options [2], ticket [3] Ticket, authenticator [4] } (RFC 4120 §5.5.1)
    let seq = outer_sequence(ap_req, "AP-REQ")?;
    let mut r = seq.reader("AP-REQ");
    for (n, what) in [(0, "[0] pvno"), (1, "[1] msg-type"), (2, "[2] ap-options")] {
        r.expect(tag::context(n), what).map_err(|e| e.to_string())?;
    }
    let ticket = r
        .expect(tag::context(3), "[3] ticket")
        .map_err(|e| e.to_string())?;
    // Ticket ::= [APPLICATION 1] SEQUENCE { tkt-vno [0], realm [1], sname [2], enc-part [3] }
    let ticket = explicit(&ticket, app::TICKET, "Ticket")?;
    let ticket = explicit(&ticket, tag::SEQUENCE, "Ticket")?;
    let mut t = ticket.reader("Ticket");
    t.expect(tag::context(0), "[0] tkt-vno")
        .map_err(|e| e.to_string())?;
    let realm = kerberos_string(
        &t.expect(tag::context(1), "[1] realm")
            .map_err(|e| e.to_string())?,
    )?;
    let sname = principal_name(
        &t.expect(tag::context(2), "[2] sname")
            .map_err(|e| e.to_string())?,
    )?;
    Ok(RequestFacts {
        kind: RequestKind::Kpasswd,
        cname: None,
        sname: Some(audit_text(&format!("{sname}@{realm}"))),
        realm: Some(realm),
    })
}

/// Splits an RFC 3244 message into its AP-REQ/AP-REP part and the rest.
fn kpasswd_parts<'a>(msg: &'a [u8], what: &str) -> Result<(&'a [u8], &'a [u8]), String> {
    let Some((&[l0, l1, v0, v1, a0, a1], rest)) = msg.split_first_chunk::<6>() else {
        return Err("kpasswd message shorter than its 6-byte header".to_owned());
    };
    let len = usize::from(u16::from_be_bytes([l0, l1]));
    if len != msg.len() {
        return Err(format!(
            "kpasswd length field {len} != message length {}",
            msg.len()
        ));
    }
    let version = u16::from_be_bytes([v0, v1]);
    if !matches!(version, 0x0001 | 0xff80) {
        return Err(format!(
            "kpasswd version 0x{version:04x} (expected 0x0001 or 0xff80)"
        ));
    }
    let ap_len = usize::from(u16::from_be_bytes([a0, a1]));
    if ap_len > rest.len() {
        return Err(format!(
            "kpasswd {what} length {ap_len} exceeds the {} remaining bytes",
            rest.len()
        ));
    }
    Ok(rest.split_at(ap_len))
}

/// Facts about a reply the relay returns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ReplyFacts {
    pub(crate) reply_type: &'static str,
    pub(crate) error_code: Option<i32>,
}

/// Checks an upstream reply is a Kerberos reply to this kind of request:
/// AS-REP or KRB-ERROR for AS-REQ, TGS-REP or KRB-ERROR for TGS-REQ, an
/// RFC 3244 reply (or a bare KRB-ERROR) for kpasswd. kdcproxy returns
/// whatever came back; a relay that forwards arbitrary upstream bytes to
/// clients is a confused deputy.
pub(crate) fn classify_reply(kind: RequestKind, msg: &[u8]) -> Result<ReplyFacts, UpstreamError> {
    let bad = |why: String| UpstreamError::NotKerberos(why);
    let first = msg.first().copied();
    let expected_rep = match kind {
        RequestKind::AsReq => Some((app::AS_REP, "AS-REP")),
        RequestKind::TgsReq => Some((app::TGS_REP, "TGS-REP")),
        RequestKind::Kpasswd => None,
    };
    match (first, expected_rep) {
        (Some(app::KRB_ERROR), _) => {
            let code = krb_error_code(msg).map_err(bad)?;
            Ok(ReplyFacts {
                reply_type: "KRB-ERROR",
                error_code: Some(code),
            })
        }
        (Some(t), Some((rep, name))) if t == rep => {
            der::validate(msg, Format::Kerberos).map_err(|e| bad(e.to_string()))?;
            outer_sequence(msg, name).map_err(bad)?;
            Ok(ReplyFacts {
                reply_type: name,
                error_code: None,
            })
        }
        (_, None) => kpasswd_reply(msg).map_err(bad),
        (Some(t), Some((_, name))) => Err(bad(format!(
            "expected {name} or KRB-ERROR, found first byte 0x{t:02x}"
        ))),
        (None, _) => Err(bad("empty reply".to_owned())),
    }
}

/// RFC 3244 §2 reply: `len | version | ap-rep-len | AP-REP | KRB-PRIV`, or
/// with ap-rep-len 0 a KRB-ERROR in place of the KRB-PRIV.
fn kpasswd_reply(msg: &[u8]) -> Result<ReplyFacts, String> {
    let (ap_rep, rest) = kpasswd_parts(msg, "AP-REP")?;
    if ap_rep.is_empty() {
        if rest.first() != Some(&app::KRB_ERROR) {
            return Err("kpasswd reply without AP-REP must carry a KRB-ERROR".to_owned());
        }
        let code = krb_error_code(rest)?;
        return Ok(ReplyFacts {
            reply_type: "KPASSWD-REP",
            error_code: Some(code),
        });
    }
    if ap_rep.first() != Some(&app::AP_REP) || rest.first() != Some(&app::KRB_PRIV) {
        return Err("kpasswd reply: expected AP-REP (0x6f) then KRB-PRIV (0x75)".to_owned());
    }
    der::validate(ap_rep, Format::Kerberos).map_err(|e| e.to_string())?;
    der::validate(rest, Format::Kerberos).map_err(|e| e.to_string())?;
    Ok(ReplyFacts {
        reply_type: "KPASSWD-REP",
        error_code: None,
    })
}

/// RFC 4120 §5.9.1 KRB-ERROR: `[APPLICATION 30] SEQUENCE { pvno [0],
/// msg-type [1], ctime [2] OPT, cusec [3] OPT, stime [4], susec [5],
/// error-code [6], ... }`. Returns error-code.
fn krb_error_code(msg: &[u8]) -> Result<i32, String> {
    der::validate(msg, Format::Kerberos).map_err(|e| e.to_string())?;
    let seq = outer_sequence(msg, "KRB-ERROR")?;
    let mut r = seq.reader("KRB-ERROR");
    integer_field(&mut r, 0, "pvno")?;
    integer_field(&mut r, 1, "msg-type")?;
    r.optional(tag::context(2)).map_err(|e| e.to_string())?;
    r.optional(tag::context(3)).map_err(|e| e.to_string())?;
    r.expect(tag::context(4), "[4] stime")
        .map_err(|e| e.to_string())?;
    r.expect(tag::context(5), "[5] susec")
        .map_err(|e| e.to_string())?;
    let code = integer_field(&mut r, 6, "error-code")?;
    i32::try_from(code).map_err(|_| format!("error-code {code} out of Int32 range"))
}

/// `[APPLICATION n] SEQUENCE {...}` with nothing after it: the SEQUENCE.
fn outer_sequence<'a>(msg: &'a [u8], what: &'static str) -> Result<Tlv<'a>, String> {
    let mut r = Reader::new(msg, Format::Kerberos, what);
    let app = r.read().map_err(|e| e.to_string())?;
    r.finish().map_err(|e| e.to_string())?;
    explicit(&app, tag::SEQUENCE, what)
}

/// The single element inside an EXPLICIT tag, which must have tag `inner`.
fn explicit<'a>(outer: &Tlv<'a>, inner: u8, what: &'static str) -> Result<Tlv<'a>, String> {
    let t = outer.explicit_inner(what).map_err(|e| e.to_string())?;
    if t.tag != inner {
        return Err(format!(
            "{what}: expected tag 0x{inner:02x} at byte {}, found 0x{:02x}",
            t.offset, t.tag
        ));
    }
    Ok(t)
}

/// `[n] INTEGER`.
fn integer_field(r: &mut Reader<'_>, n: u8, what: &'static str) -> Result<i64, String> {
    let t = r.expect(tag::context(n), what).map_err(|e| e.to_string())?;
    t.explicit_inner(what)
        .and_then(|i| i.integer())
        .map_err(|e| e.to_string())
}

/// `[n] KerberosString` as text (lossy: the audit line must not fail).
fn kerberos_string(field: &Tlv<'_>) -> Result<String, String> {
    let s = field
        .explicit_inner("KerberosString")
        .map_err(|e| e.to_string())?;
    if !STRING_TAGS.contains(&s.tag) {
        return Err(format!(
            "expected a KerberosString at byte {}, found tag 0x{:02x}",
            s.offset, s.tag
        ));
    }
    Ok(String::from_utf8_lossy(s.value).into_owned())
}

/// `[n] PrincipalName ::= SEQUENCE { name-type [0] Int32, name-string [1]
/// SEQUENCE OF KerberosString }` (RFC 4120 §5.2.2), as `a/b` with `/`, `@`
/// and `\` escaped the way MIT prints them.
fn principal_name(field: &Tlv<'_>) -> Result<String, String> {
    let seq = explicit(field, tag::SEQUENCE, "PrincipalName")?;
    let mut r = seq.reader("PrincipalName");
    integer_field(&mut r, 0, "[0] name-type")?;
    let strings = r
        .expect(tag::context(1), "[1] name-string")
        .map_err(|e| e.to_string())?;
    r.finish().map_err(|e| e.to_string())?;
    let list = explicit(&strings, tag::SEQUENCE, "name-string")?;
    let mut lr = list.reader("name-string");
    let mut out = String::new();
    while !lr.is_empty() {
        let s = lr.read().map_err(|e| e.to_string())?;
        if !STRING_TAGS.contains(&s.tag) {
            return Err(format!(
                "expected a KerberosString at byte {}, found tag 0x{:02x}",
                s.offset, s.tag
            ));
        }
        if !out.is_empty() {
            out.push('/');
        }
        for c in String::from_utf8_lossy(s.value).chars() {
            if matches!(c, '/' | '@' | '\\') {
                out.push('\\');
            }
            out.push(c);
        }
        if out.len() > AUDIT_TEXT_MAX {
            break;
        }
    }
    Ok(out)
}

/// Caps text kept for audit lines (a principal name can be megabytes long).
fn audit_text(s: &str) -> String {
    if s.len() <= AUDIT_TEXT_MAX {
        return s.to_owned();
    }
    let mut cut = AUDIT_TEXT_MAX;
    while !s.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{}…", s.get(..cut).unwrap_or_default())
}
