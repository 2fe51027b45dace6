//! Decoded trees for every format, for `kerbside decode` and the snapshot
//! tests: [`Describer::describe`] detects the format, decodes it strictly
//! and maps every field to a [`Node`]. Tokens nested inside others (the
//! Kerberos message in a KKDCP body or IAKERB token, the mechToken of a
//! SPNEGO token) are decoded too.
//!
//! With a [`Decryptor`], every EncryptedData is tried with the key usage
//! its position implies and, when a key fits, decoded (and session keys
//! found inside are offered back to the decryptor, as tshark does).

mod gss;
mod krb;
mod ntlm;

use crate::detect::{self, Detected};
use crate::error::Result;
use crate::record;
use crate::tree::Node;

/// Decryption supplied by the caller (this crate has no crypto).
pub trait Decryptor {
    /// Tries every suitable key; `None` if none decrypts `cipher`.
    fn decrypt(&mut self, etype: i32, usage: u32, cipher: &[u8]) -> Option<Decrypted>;
    /// A key found inside decrypted data (ticket session key, subkey).
    fn learn(&mut self, keytype: i32, key: &[u8], label: String);
}

/// A successful decryption.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decrypted {
    /// The plaintext.
    pub plaintext: Vec<u8>,
    /// Which key did it (shown in the tree).
    pub key_label: String,
}

/// Nesting bound for tokens inside tokens (SPNEGO in SPNEGO ...).
const MAX_NESTING: usize = 4;

/// Builds decoded trees.
pub struct Describer<'a> {
    decryptor: Option<&'a mut dyn Decryptor>,
    depth: usize,
}

impl std::fmt::Debug for Describer<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Describer")
            .field("decrypting", &self.decryptor.is_some())
            .finish()
    }
}

impl Default for Describer<'_> {
    fn default() -> Self {
        Self::new()
    }
}

impl<'a> Describer<'a> {
    /// Without decryption.
    pub fn new() -> Self {
        Self {
            decryptor: None,
            depth: 0,
        }
    }

    /// With decryption.
    pub fn with_decryptor(decryptor: &'a mut dyn Decryptor) -> Self {
        Self {
            decryptor: Some(decryptor),
            depth: 0,
        }
    }

    /// Detects, decodes and describes `bytes`.
    pub fn describe(&mut self, bytes: &[u8]) -> Result<(Detected, Node)> {
        let kind = detect::detect(bytes)?;
        let node = match kind {
            Detected::Kerberos => {
                let m = crate::krb::decode(bytes)?;
                self.krb_message(&m)
            }
            Detected::KerberosRecordMark => {
                let body = record::decode(bytes, crate::der::Limits::DEFAULT_MAX_SIZE)?;
                let m = crate::krb::decode(body).map_err(|e| e.shifted(record::MARK_LEN))?;
                Node::new("TCP record")
                    .child(Node::leaf("record-mark", format!("length {}", body.len())))
                    .child(self.krb_message(&m))
            }
            Detected::Kkdcp => self.kkdcp(bytes)?,
            Detected::Iakerb => self.iakerb(bytes)?,
            Detected::GssKrb5 => self.gss_krb5(bytes)?,
            Detected::Spnego => self.spnego(bytes)?,
            Detected::Ntlm => ntlm::message(&crate::ntlm::decode(bytes)?),
        };
        Ok((kind, node))
    }

    /// Describes a token nested in another one; failures become a
    /// `decode-error` child instead of failing the outer decode.
    fn nested(&mut self, name: &str, bytes: &[u8]) -> Node {
        if self.depth >= MAX_NESTING {
            return Node::bytes(name, bytes);
        }
        self.depth += 1;
        let r = self.describe(bytes);
        self.depth -= 1;
        match r {
            Ok((kind, node)) => Node::new(name).with_value(kind.name()).child(node),
            Err(e) => Node::bytes(name, bytes).child(Node::leaf("decode-error", e.to_string())),
        }
    }
}

/// Shorthand: describe without decryption.
pub fn describe(bytes: &[u8]) -> Result<(Detected, Node)> {
    Describer::new().describe(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gss::{self, oid, tok_id};
    use crate::iakerb::IakerbProxy;
    use crate::ntlm;
    use crate::spnego::{NegState, NegTokenInit, NegTokenResp, NegotiationToken};

    fn as_req() -> Vec<u8> {
        use kerberos_asn1::Asn1Object;
        let mut r = kerberos_asn1::AsReq::default();
        r.req_body.realm = "LAB.TEST".into();
        r.req_body.cname = Some(crate::krb::principal(1, &["alice"]));
        r.build()
    }

    fn val<'a>(n: &'a Node, path: &str) -> &'a str {
        n.path(path)
            .and_then(|x| x.value.as_deref())
            .unwrap_or_else(|| panic!("no {path} in\n{}", n.render_text()))
    }

    #[test]
    fn spnego_init_decodes_its_ntlm_mech_token() {
        let neg = ntlm::NegotiateMessage {
            flags: ntlm::flags::NEGOTIATE_UNICODE | ntlm::flags::NEGOTIATE_NTLM,
            ..Default::default()
        };
        let t = NegotiationToken::Init(NegTokenInit {
            mech_types: vec![oid::NTLMSSP],
            mech_token: Some(neg.encode()),
            ..Default::default()
        });
        let (kind, n) = describe(&t.encode_initial()).unwrap();
        assert_eq!(kind, Detected::Spnego);
        assert_eq!(val(&n, "mech"), "1.3.6.1.5.5.2 (SPNEGO)");
        assert_eq!(
            val(&n, "negTokenInit.mechTypes.[0]"),
            "1.3.6.1.4.1.311.2.2.10 (NTLMSSP)"
        );
        assert_eq!(val(&n, "negTokenInit.mechToken"), "NTLM message");
        assert_eq!(
            val(
                &n,
                "negTokenInit.mechToken.NTLM NEGOTIATE_MESSAGE.NegotiateFlags"
            ),
            "0x00000201 (NEGOTIATE_UNICODE, NEGOTIATE_NTLM)"
        );
    }

    #[test]
    fn spnego_resp_with_iakerb_token_and_bad_nested_token() {
        let t = NegotiationToken::Resp(NegTokenResp {
            neg_state: Some(NegState::AcceptIncomplete),
            supported_mech: Some(oid::IAKERB),
            response_token: Some(IakerbProxy::new("LAB.TEST", as_req()).encode()),
            mech_list_mic: None,
        });
        let (_, n) = describe(&t.encode()).unwrap();
        assert_eq!(val(&n, "negState"), "1 (accept-incomplete)");
        assert_eq!(
            val(
                &n,
                "responseToken.IAKERB_PROXY token.IAKERB-HEADER.target-realm"
            ),
            "\"LAB.TEST\""
        );
        assert_eq!(
            val(&n, "responseToken.IAKERB_PROXY token.AS-REQ.req-body.realm"),
            "LAB.TEST"
        );
        // a broken nested token is shown with its error, not fatal
        let t = NegotiationToken::Resp(NegTokenResp {
            response_token: Some(vec![0x6a, 0x05]),
            ..Default::default()
        });
        let (_, n) = describe(&t.encode()).unwrap();
        assert!(val(&n, "responseToken.decode-error").starts_with("kerberos: at byte 1"));
    }

    #[test]
    fn gss_ap_req_token_record_mark_and_discovery() {
        use kerberos_asn1::Asn1Object;
        let ap = kerberos_asn1::ApReq::default().build();
        let (kind, n) = describe(&gss::encode_krb_token(&oid::KRB5, tok_id::AP_REQ, &ap)).unwrap();
        assert_eq!(kind, Detected::GssKrb5);
        assert_eq!(val(&n, "tok-id"), "0100 (KRB_AP_REQ)");
        assert_eq!(val(&n, "AP-REQ.msg-type"), "14 (AP-REQ)");
        let (kind, n) = describe(&crate::record::encode(&as_req()).unwrap()).unwrap();
        assert_eq!(kind, Detected::KerberosRecordMark);
        assert_eq!(val(&n, "AS-REQ.req-body.cname"), "alice (NT-PRINCIPAL)");
        let (_, n) = describe(&IakerbProxy::discovery_request().encode()).unwrap();
        assert_eq!(val(&n, "message"), "none (realm discovery)");
        // error offsets inside a record-marked message count the mark
        let mut bad = crate::record::encode(&as_req()).unwrap();
        bad[5] = 0x7f;
        assert!(describe(&bad).unwrap_err().offset >= 5);
    }
}
