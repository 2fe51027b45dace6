//! Trees for the framing formats: KKDCP, GSS/RFC 4121, IAKERB, SPNEGO.

use kerberos_asn1::{ApRep, ApReq, KrbError};

use super::Describer;
use crate::der::{BitString, Oid};
use crate::error::Result;
use crate::gss::{self, MicToken, oid, tok_id};
use crate::iakerb::{self, IakerbHeader};
use crate::kkdcp;
use crate::krb::{self, KrbMessage};
use crate::spnego::{NegHints, NegotiationToken};
use crate::tree::Node;

fn mech(name: &str, o: &Oid) -> Node {
    match oid::name(o) {
        Some(n) => Node::leaf(name, format!("{o} ({n})")),
        None => Node::leaf(name, o.to_string()),
    }
}

fn bit_string(name: &str, b: &BitString) -> Node {
    Node::leaf(
        name,
        format!("{} (unused bits {})", hex::encode(&b.bytes), b.unused),
    )
}

fn tok_id_name(id: [u8; 2]) -> String {
    let n = match id {
        tok_id::AP_REQ => "KRB_AP_REQ",
        tok_id::AP_REP => "KRB_AP_REP",
        tok_id::KRB_ERROR => "KRB_ERROR",
        tok_id::MIC => "MIC",
        tok_id::WRAP => "Wrap",
        tok_id::IAKERB_PROXY => "IAKERB_PROXY",
        _ => "unknown",
    };
    format!("{} ({n})", hex::encode(id))
}

fn iakerb_header(h: &IakerbHeader) -> Node {
    let mut n = Node::new("IAKERB-HEADER")
        .child(Node::leaf("target-realm", format!("{:?}", h.target_realm)))
        .opt(h.cookie.as_ref().map(|c| Node::bytes("cookie", c)))
        .opt(
            h.header_flags
                .as_ref()
                .map(|f| bit_string("header-flags", f)),
        );
    for (i, e) in h.extensions.iter().enumerate() {
        n.push(Node::bytes(format!("extension[{i}]"), e));
    }
    n
}

fn mic_field(name: &str, bytes: &[u8]) -> Node {
    match MicToken::decode(bytes) {
        Ok(m) => Node::new(name)
            .with_value("RFC 4121 MIC token")
            .child(Node::leaf("flags", format!("0x{:02x}", m.flags)))
            .child(Node::leaf("snd-seq", m.snd_seq.to_string()))
            .child(Node::bytes("checksum", &m.checksum)),
        Err(_) => Node::bytes(name, bytes),
    }
}

fn hints(h: &NegHints) -> Node {
    Node::new("negHints")
        .opt(
            h.hint_name
                .as_ref()
                .map(|n| Node::leaf("hintName", format!("{n:?}"))),
        )
        .opt(
            h.hint_address
                .as_ref()
                .map(|a| Node::bytes("hintAddress", a)),
        )
}

fn mech_list(name: &str, mechs: &[Oid]) -> Node {
    let mut n = Node::new(name);
    for (i, m) in mechs.iter().enumerate() {
        n.push(mech(&format!("[{i}]"), m));
    }
    n
}

impl Describer<'_> {
    pub(super) fn kkdcp(&mut self, bytes: &[u8]) -> Result<Node> {
        let (m, inner) = kkdcp::decode_with_inner(bytes)?;
        let km = Node::new("kerb-message")
            .with_value(format!(
                "{} bytes (4-byte length prefix + {})",
                m.kerb_message.len(),
                m.kerb_message.len().saturating_sub(4)
            ))
            .child(self.krb_message(&inner));
        Ok(Node::new("KDC-PROXY-MESSAGE")
            .child(km)
            .opt(
                m.target_domain
                    .as_ref()
                    .map(|d| Node::leaf("target-domain", d.clone())),
            )
            .opt(
                m.dclocator_hint
                    .map(|h| Node::leaf("dclocator-hint", format!("0x{h:x}"))),
            ))
    }

    pub(super) fn iakerb(&mut self, bytes: &[u8]) -> Result<Node> {
        let (t, inner) = iakerb::decode_with_inner(bytes)?;
        let msg = match &inner {
            Some(m) => self.krb_message(m),
            None => Node::leaf("message", "none (realm discovery)"),
        };
        Ok(Node::new("IAKERB_PROXY token")
            .child(mech("mech", &oid::IAKERB))
            .child(Node::leaf("tok-id", tok_id_name(tok_id::IAKERB_PROXY)))
            .child(iakerb_header(&t.header))
            .child(msg))
    }

    pub(super) fn gss_krb5(&mut self, bytes: &[u8]) -> Result<Node> {
        let t = gss::decode_krb_token(bytes)?;
        let body = match t.tok_id {
            tok_id::AP_REQ => {
                let ap = krb::decode_der::<ApReq>(t.body).map_err(|e| e.shifted(t.body_offset))?;
                self.krb_message(&KrbMessage::ApReq(ap))
            }
            tok_id::AP_REP => {
                let ap = krb::decode_der::<ApRep>(t.body).map_err(|e| e.shifted(t.body_offset))?;
                self.krb_message(&KrbMessage::ApRep(ap))
            }
            tok_id::KRB_ERROR => {
                let e =
                    krb::decode_der::<KrbError>(t.body).map_err(|e| e.shifted(t.body_offset))?;
                self.krb_message(&KrbMessage::KrbError(e))
            }
            _ => Node::bytes("body", t.body),
        };
        Ok(Node::new("GSS token")
            .child(mech("mech", &t.mech))
            .child(Node::leaf("tok-id", tok_id_name(t.tok_id)))
            .child(body))
    }

    pub(super) fn spnego(&mut self, bytes: &[u8]) -> Result<Node> {
        let framed = bytes.first() == Some(&0x60);
        let tok = NegotiationToken::decode(bytes)?;
        let mut n =
            match &tok {
                NegotiationToken::Init(t) => {
                    let mt = t.mech_token.as_ref().map(|b| self.nested("mechToken", b));
                    Node::new("negTokenInit")
                        .child(mech_list("mechTypes", &t.mech_types))
                        .opt(t.req_flags.as_ref().map(|f| bit_string("reqFlags", f)))
                        .opt(mt)
                        .opt(
                            t.mech_list_mic
                                .as_ref()
                                .map(|m| mic_field("mechListMIC", m)),
                        )
                }
                NegotiationToken::Init2(t) => {
                    let mt = t.mech_token.as_ref().map(|b| self.nested("mechToken", b));
                    Node::new("negTokenInit2")
                        .opt(t.mech_types.as_ref().map(|m| mech_list("mechTypes", m)))
                        .opt(t.req_flags.as_ref().map(|f| bit_string("reqFlags", f)))
                        .opt(mt)
                        .opt(t.neg_hints.as_ref().map(hints))
                        .opt(
                            t.mech_list_mic
                                .as_ref()
                                .map(|m| mic_field("mechListMIC", m)),
                        )
                }
                NegotiationToken::Resp(t) => {
                    let rt = t
                        .response_token
                        .as_ref()
                        .map(|b| self.nested("responseToken", b));
                    Node::new("negTokenResp")
                        .opt(t.neg_state.map(|s| {
                            Node::leaf("negState", format!("{} ({})", s.value(), s.name()))
                        }))
                        .opt(t.supported_mech.as_ref().map(|m| mech("supportedMech", m)))
                        .opt(rt)
                        .opt(
                            t.mech_list_mic
                                .as_ref()
                                .map(|m| mic_field("mechListMIC", m)),
                        )
                }
            };
        if framed {
            n = Node::new("SPNEGO initial token")
                .child(mech("mech", &oid::SPNEGO))
                .child(n);
        }
        Ok(n)
    }
}
