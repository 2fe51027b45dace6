//! `GssAccept` tests against kerbside's acceptor: the initiator tokens are
//! fed in order to a fresh acceptor (service keys and accounts from the
//! group, RNG seeded with the group seed, so its challenges and subkeys are
//! the ones the tokens were made against), and each step's outcome and the
//! final verdict are graded.

use std::sync::Arc;
use std::time::SystemTime;

use kerbside_crypto::{EncType, Key, KeyCache};
use kerbside_kdc::{Kdc, Outcome, Transport};
use kerbside_server::config::{IakerbConfig, IakerbReplyStyle};
use kerbside_server::{
    AcceptMode, AcceptStep, Acceptor, AcceptorConfig, AppService, KdcProxyFailure, NtlmAccounts,
    ServiceKeys,
};
use kerbside_wire::gss::{self, oid, tok_id};
use kerbside_wire::iakerb::IakerbProxy;
use kerbside_wire::krb::{self, KrbMessage};
use kerbside_wire::ntlm::{self, NtlmMessage};
use kerbside_wire::spnego::NegotiationToken;
use rand_chacha::ChaCha12Rng;
use rand_core::SeedableRng;

use crate::clock;
use crate::model::{AcceptExpected, AcceptInput, AcceptParams, Group, Test};
use crate::observe::Evaluation;
use crate::realm::components;

/// The service's long-term key (aes256, MIT default salt).
pub fn service_key(p: &AcceptParams) -> Result<Key, String> {
    let comps = components(&p.service);
    let refs: Vec<&str> = comps.iter().map(String::as_str).collect();
    let salt = kerbside_crypto::default_salt(&p.realm, &refs);
    KeyCache::global()
        .from_password(EncType::Aes256CtsHmacSha196, &p.service_password, &salt)
        .map_err(|e| e.to_string())
}

/// The acceptor's service as the group describes it.
pub fn service(p: &AcceptParams) -> Result<Arc<AppService>, String> {
    let mut keys = ServiceKeys::new();
    let comps = components(&p.service);
    let refs: Vec<&str> = comps.iter().map(String::as_str).collect();
    keys.insert(&p.realm, &refs, p.service_kvno, service_key(p)?);
    let mut accounts = NtlmAccounts::new();
    for a in &p.accounts {
        accounts.add_password(&a.user, &a.password);
    }
    let mode = match p.mode.as_str() {
        "negotiate" => AcceptMode::Negotiate,
        "kerberos-only" => AcceptMode::KerberosOnly,
        "ntlm-only" => AcceptMode::NtlmOnly,
        other => return Err(format!("unknown acceptor mode {other:?}")),
    };
    let mut config = AcceptorConfig {
        mode,
        ..AcceptorConfig::default()
    };
    config.ntlm.require_mic = p.require_mic;
    if let Some(ia) = &p.iakerb {
        let mut c = IakerbConfig::for_realm(&p.realm);
        c.realms.clone_from(&ia.realms);
        c.require_finished = ia.require_finished;
        c.issue_cookie = ia.issue_cookie;
        c.reply_style = match ia.reply_style.as_str() {
            "windows" => IakerbReplyStyle::Windows,
            _ => IakerbReplyStyle::Mit,
        };
        config.iakerb = Some(c);
    }
    Ok(Arc::new(AppService::new(config, keys, accounts)))
}

/// The KDC behind an IAKERB acceptor (the group's realm and principals).
pub fn iakerb_kdc(p: &AcceptParams) -> Result<Option<Kdc>, String> {
    let Some(ia) = &p.iakerb else { return Ok(None) };
    if ia.kdc != "answers" {
        return Ok(None);
    }
    let realm = crate::realm::Realm::new(&p.realm, ia.principals.clone());
    realm
        .kdc(&crate::check::relay::upstream_kdc_settings())
        .map(Some)
        .map_err(|e| e.to_string())
}

fn describe_krb(m: &[u8]) -> String {
    match krb::decode(m) {
        Ok(KrbMessage::KrbError(e)) => format!("krb-error-{}", e.error_code),
        Ok(other) => other.name().to_ascii_lowercase(),
        Err(_) => "undecodable".to_owned(),
    }
}

/// A short description of a token (the vocabulary of `steps`).
pub fn describe_token(t: &[u8]) -> String {
    // Either token form: MIT krb5 <= 1.21 frames only the first token and
    // writes the realm as an OCTET STRING (a live MIT acceptor answers so).
    if let Ok((p, _)) = IakerbProxy::decode_any(t) {
        let realm = if p.header.target_realm.is_empty() {
            "-".to_owned()
        } else {
            p.header.target_realm.clone()
        };
        let msg = if p.message.is_empty() {
            "none".to_owned()
        } else {
            describe_krb(&p.message)
        };
        let cookie = if p.header.cookie.is_some() {
            " cookie"
        } else {
            ""
        };
        return format!("iakerb realm={realm} msg={msg}{cookie}");
    }
    if t.starts_with(ntlm::SIGNATURE) {
        return match ntlm::decode(t) {
            Ok(NtlmMessage::Negotiate(_)) => "ntlm-negotiate".to_owned(),
            Ok(NtlmMessage::Challenge(_)) => "ntlm-challenge".to_owned(),
            Ok(NtlmMessage::Authenticate(_)) => "ntlm-authenticate".to_owned(),
            _ => "ntlm-malformed".to_owned(),
        };
    }
    if let Ok(k) = gss::decode_krb_token(t)
        && k.mech != oid::SPNEGO
    {
        return match k.tok_id {
            id if id == tok_id::AP_REP => "ap-rep".to_owned(),
            id if id == tok_id::AP_REQ => "ap-req".to_owned(),
            id if id == tok_id::KRB_ERROR => match krb::decode(k.body) {
                Ok(KrbMessage::KrbError(e)) => format!("krb-error-{}", e.error_code),
                _ => "krb-error".to_owned(),
            },
            id if id == tok_id::IAKERB_PROXY => "iakerb".to_owned(),
            other => format!("krb5-{}", hex::encode(other)),
        };
    }
    match NegotiationToken::decode(t) {
        Ok(NegotiationToken::Resp(r)) => {
            let mut s = format!("spnego {}", r.neg_state.map_or("-", |n| n.name()));
            if let Some(m) = &r.supported_mech {
                s.push_str(&format!(" mech={}", mech_name(m)));
            }
            if let Some(tok) = &r.response_token {
                s.push_str(&format!(" token={}", describe_token(tok)));
            }
            if r.mech_list_mic.is_some() {
                s.push_str(" mic");
            }
            s
        }
        Ok(NegotiationToken::Init(_)) => "spnego init".to_owned(),
        Ok(NegotiationToken::Init2(_)) => "spnego init2".to_owned(),
        Err(_) => "undecodable".to_owned(),
    }
}

fn mech_name(m: &kerbside_wire::der::Oid) -> &'static str {
    if *m == oid::KRB5 {
        "krb5"
    } else if *m == oid::MS_KRB5 {
        "ms-krb5"
    } else if *m == oid::NTLMSSP {
        "ntlm"
    } else if *m == oid::IAKERB {
        "iakerb"
    } else {
        "other"
    }
}

/// What replaying a conversation gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Replayed {
    /// One entry per token consumed.
    pub steps: Vec<String>,
    /// The acceptor's replies, in order.
    pub replies: Vec<Vec<u8>>,
    /// `complete`, `reject` or `incomplete`.
    pub outcome: String,
    /// Refusal class.
    pub error: Option<String>,
    /// Refusal Kerberos code.
    pub krb_code: Option<i32>,
    /// Authenticated client.
    pub client: Option<String>,
    /// Session mechanism.
    pub mechanism: Option<String>,
}

/// One acceptor conversation, fed token by token.
#[derive(Debug)]
pub struct Conversation {
    acceptor: Acceptor,
    rng: ChaCha12Rng,
    now: SystemTime,
    kdc: Option<(Kdc, ChaCha12Rng)>,
    /// What happened so far.
    pub result: Replayed,
    done: bool,
}

impl Conversation {
    /// A fresh acceptor for the group.
    pub fn new(p: &AcceptParams) -> Result<Conversation, String> {
        Ok(Conversation {
            acceptor: Acceptor::new(service(p)?),
            rng: ChaCha12Rng::seed_from_u64(p.seed),
            now: clock::parse(&p.clock).map_err(|e| e.to_string())?,
            kdc: iakerb_kdc(p)?.map(|k| (k, ChaCha12Rng::seed_from_u64(p.seed ^ 0x6b64_6300))),
            result: Replayed {
                steps: Vec::new(),
                replies: Vec::new(),
                outcome: "incomplete".to_owned(),
                error: None,
                krb_code: None,
                client: None,
                mechanism: None,
            },
            done: false,
        })
    }

    /// Whether the acceptor has finished (completed or refused).
    pub fn is_done(&self) -> bool {
        self.done
    }

    /// Feeds one initiator token; returns the acceptor's reply, if any.
    pub fn feed(&mut self, token: &[u8]) -> Option<Vec<u8>> {
        if self.done {
            self.result.steps.push("ignored".to_owned());
            return None;
        }
        let mut proxied = Vec::new();
        let mut result = self.acceptor.step(token, self.now, &mut self.rng);
        // IAKERB: answer each proxied KDC message from the group's KDC (or
        // let it go unanswered), as the acceptor's driver would.
        for _ in 0..4 {
            let Ok(AcceptStep::ProxyKdc(req)) = &result else {
                break;
            };
            proxied.push(format!(
                "proxy {} {}",
                req.realm,
                describe_krb(&req.message)
            ));
            let reply = match self.kdc.as_mut() {
                Some((kdc, rng)) => match kdc.handle(&req.message, Transport::Tcp, self.now, rng) {
                    Outcome::Reply(r) => Ok(r),
                    Outcome::Drop(_) => Err(KdcProxyFailure::NoResponse),
                },
                None => Err(KdcProxyFailure::NoResponse),
            };
            result =
                self.acceptor
                    .kdc_reply(reply.as_deref().map_err(|e| *e), self.now, &mut self.rng);
        }
        let (step, reply) = match result {
            Ok(AcceptStep::Continue(r)) => (format!("continue {}", describe_token(&r)), Some(r)),
            Ok(AcceptStep::Complete { reply, session }) => {
                self.done = true;
                self.result.outcome = "complete".to_owned();
                self.result.client = Some(session.client.clone());
                self.result.mechanism = Some(session.mechanism.name().to_owned());
                let d = reply.as_deref().map_or("none".to_owned(), describe_token);
                (format!("complete {d}"), reply)
            }
            Ok(AcceptStep::ProxyKdc(r)) => (format!("proxy-kdc {}", r.realm), None),
            Err(f) => {
                self.done = true;
                self.result.outcome = "reject".to_owned();
                self.result.error = Some(f.error.kind().to_owned());
                self.result.krb_code = f.error.krb_code();
                let d = f.reply.as_deref().map_or("none".to_owned(), describe_token);
                (format!("reject {d}"), f.reply)
            }
        };
        let step = if proxied.is_empty() {
            step
        } else {
            format!("{}; {step}", proxied.join("; "))
        };
        self.result.steps.push(step);
        if let Some(r) = &reply {
            self.result.replies.push(r.clone());
        }
        reply
    }
}

/// Feeds every token of a test to a fresh acceptor.
pub fn replay(p: &AcceptParams, input: &AcceptInput) -> Result<Replayed, String> {
    let mut c = Conversation::new(p)?;
    for t in &input.tokens {
        let bytes = hex::decode(t).map_err(|_| "bad token hex".to_owned())?;
        c.feed(&bytes);
    }
    Ok(c.result)
}

/// Compares a replay with the expectation.
pub fn grade(expected: &AcceptExpected, got: &Replayed) -> Evaluation {
    let observed = match &got.error {
        Some(e) => format!("{} {e}", got.outcome),
        None => got.outcome.clone(),
    };
    if got.steps != expected.steps {
        return Evaluation::fail(
            observed,
            format!("steps {:?}, expected {:?}", got.steps, expected.steps),
        );
    }
    let checks = [
        ("outcome", Some(&got.outcome), Some(&expected.outcome)),
        ("error", got.error.as_ref(), expected.error.as_ref()),
        ("client", got.client.as_ref(), expected.client.as_ref()),
        (
            "mechanism",
            got.mechanism.as_ref(),
            expected.mechanism.as_ref(),
        ),
    ];
    for (what, g, e) in checks {
        if g != e {
            return Evaluation::fail(observed, format!("{what} {g:?}, expected {e:?}"));
        }
    }
    if got.krb_code != expected.krb_code {
        return Evaluation::fail(
            observed,
            format!(
                "krb code {:?}, expected {:?}",
                got.krb_code, expected.krb_code
            ),
        );
    }
    Evaluation::pass(observed)
}

/// Grades a whole group.
pub fn evaluate_group(
    g: &Group<AcceptParams, AcceptInput, AcceptExpected>,
) -> Vec<(u32, Evaluation)> {
    g.tests
        .iter()
        .map(|t: &Test<AcceptInput, AcceptExpected>| {
            let e = match replay(&g.params, &t.input) {
                Ok(r) => grade(&t.expected, &r),
                Err(why) => Evaluation::fail("setup", why),
            };
            (t.tc_id, e)
        })
        .collect()
}
