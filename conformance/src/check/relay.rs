//! `RelayRequest` tests against kerbside's relay core: the HTTP request is
//! handed to `Relay` as its driver would (head first, then the body), the
//! upstream behaves as the test says (the group's KDC answering, refused,
//! silent, fixed bytes), and the HTTP response is graded.

use std::time::SystemTime;

use kerbside_kdc::{Outcome, Transport as KdcTransport};
use kerbside_relay::{
    Decision, HttpResponse, PrefixPolicy, RealmRoute, Relay, RelayConfig, RequestHead,
    UpstreamError,
};
use kerbside_wire::kkdcp::KdcProxyMessage;
use kerbside_wire::record;
use rand_chacha::ChaCha12Rng;
use rand_core::SeedableRng;

use crate::check::kdc::test_rng;
use crate::clock;
use crate::kkdcp_body::{self, BuiltBody};
use crate::model::{
    BodyRecipe, ContentLength, Group, KdcSettings, RelayExpected, RelayInput, RelayParams,
    RelaySettings, Test, UpstreamBehaviour,
};
use crate::observe::{self, Evaluation};
use crate::realm::Realm;

/// KDC settings of the relay groups' upstream realm.
pub fn upstream_kdc_settings() -> KdcSettings {
    KdcSettings {
        max_skew_seconds: 300,
        udp_max_reply: 1465,
        max_lifetime_seconds: 36_000,
        enctypes: vec![18, 17],
    }
}

/// The relay configuration a group describes (every realm routed to one
/// placeholder upstream that the checker answers for).
pub fn relay_config(s: &RelaySettings) -> Result<RelayConfig, String> {
    let mut c = RelayConfig::default();
    for name in &s.realms {
        let route = RealmRoute::parse_mapping(&format!("{name}=tcp://127.0.0.1:88"))
            .map_err(|e| e.to_string())?;
        c.add_realm(route).map_err(|e| e.to_string())?;
    }
    c.path = s.path.clone();
    c.max_request = s.max_request;
    c.prefix_policy = s
        .prefix_policy
        .parse::<PrefixPolicy>()
        .map_err(|e| e.to_string())?;
    c.require_realm_match = s.require_realm_match;
    Ok(c)
}

/// The body of a test: the listed bytes, or built from the recipe.
pub fn body_of(
    t: &Test<RelayInput, RelayExpected>,
    realm: &Realm,
    now: SystemTime,
) -> Result<BuiltBody, String> {
    let listed = t
        .input
        .body_hex
        .as_deref()
        .map(|h| hex::decode(h).map_err(|_| "bad bodyHex".to_owned()))
        .transpose()?;
    if let BodyRecipe::Raw(_) = &t.input.body {
        return Ok(BuiltBody {
            bytes: listed.ok_or("a raw body needs bodyHex")?,
            inner: None,
        });
    }
    let mut rng = test_rng(t.tc_id);
    let built =
        kkdcp_body::build(&t.input.body, realm, now, &mut rng, None).map_err(|e| e.to_string())?;
    if let Some(l) = listed
        && l != built.bytes
    {
        return Err("bodyHex is not what the recipe builds at the group clock".to_owned());
    }
    Ok(built)
}

/// Grades an HTTP response.
pub fn grade(expected: &RelayExpected, status: u16, body: &[u8]) -> Evaluation {
    let observed = observe::http(status);
    if status != expected.status {
        return Evaluation::fail_unless(
            observed.clone(),
            format!("expected http {}, got {observed}", expected.status),
            &expected.alternatives,
        );
    }
    let Some(want) = &expected.reply else {
        return Evaluation::pass(observed);
    };
    let inner = KdcProxyMessage::decode(body)
        .map_err(|e| e.to_string())
        .and_then(|m| {
            m.kerberos_message_lenient()
                .map(|(inner, _)| inner.to_vec())
                .map_err(|e| e.to_string())
        });
    match inner {
        Ok(msg) => {
            let got = observe::kdc_reply(Some(&msg));
            if observe::matches(want, &got) {
                Evaluation::pass(format!("{observed} {got}"))
            } else {
                Evaluation::fail(
                    format!("{observed} {got}"),
                    format!("expected a {want} inside the KDC-PROXY-MESSAGE, got {got}"),
                )
            }
        }
        Err(e) => Evaluation::fail(
            observed,
            format!("200 body is not a KDC-PROXY-MESSAGE with a prefixed message: {e}"),
        ),
    }
}

/// One group's fixed state.
struct RelayGroup {
    relay: Relay,
    realm: Realm,
    now: SystemTime,
    kdc_group: crate::check::kdc::KdcGroup,
}

fn group_state(p: &RelayParams) -> Result<RelayGroup, String> {
    let relay = Relay::new(relay_config(&p.relay)?).map_err(|e| e.to_string())?;
    let kdc_params = crate::model::KdcParams {
        realm: p.realm.clone(),
        clock: p.clock.clone(),
        principals: p.principals.clone(),
        kdc: upstream_kdc_settings(),
    };
    let kdc_group = crate::check::kdc::KdcGroup::new(&kdc_params)?;
    Ok(RelayGroup {
        relay,
        realm: Realm::new(&p.realm, p.principals.clone()),
        now: clock::parse(&p.clock).map_err(|e| e.to_string())?,
        kdc_group,
    })
}

fn respond(g: &RelayGroup, t: &Test<RelayInput, RelayExpected>) -> Result<HttpResponse, String> {
    let body = body_of(t, &g.realm, g.now)?.bytes;
    let head = RequestHead {
        method: t.input.method.clone(),
        path: t
            .input
            .path
            .clone()
            .unwrap_or_else(|| g.relay.config().path.clone()),
        content_type: t.input.content_type.clone(),
        content_length: match &t.input.content_length {
            ContentLength::Auto => Some(body.len() as u64),
            ContentLength::Absent => None,
            ContentLength::Declared { value } => Some(*value),
        },
        authorization: None,
        client: Default::default(),
    };
    let admitted = match g.relay.check_head(&head, g.now) {
        Ok(a) => a,
        Err(r) => return Ok(r.response),
    };
    // A driver reads exactly Content-Length bytes; fewer before the peer
    // stops sending is an incomplete body.
    let declared = usize::try_from(head.content_length.unwrap_or(0)).unwrap_or(usize::MAX);
    if body.len() < declared {
        return Ok(g.relay.body_failed(admitted, false, g.now).response);
    }
    let used = body.get(..declared).unwrap_or(&body);
    let mut fwd = match g.relay.decide(admitted, used, g.now) {
        Decision::Reject(r) => return Ok(r.response),
        Decision::Forward(f) => f,
    };
    let mut kdc = g.kdc_group.kdc()?;
    let mut rng = ChaCha12Rng::seed_from_u64(0x7265_6c00 ^ u64::from(t.tc_id));
    while let Some(plan) = fwd.next_attempt(g.now) {
        match &t.input.upstream {
            UpstreamBehaviour::Kdc => {
                match kdc.handle(fwd.message(), KdcTransport::Tcp, g.now, &mut rng) {
                    Outcome::Reply(r) => {
                        let framed = record::encode(&r).map_err(|e| e.to_string())?;
                        let _ = fwd.record_reply(&plan.upstream, framed);
                    }
                    // A KDC that drops the request closes the connection.
                    Outcome::Drop(_) => fwd.record_failure(
                        &plan.upstream,
                        UpstreamError::Truncated {
                            received: 0,
                            expected: 4,
                        },
                    ),
                }
            }
            UpstreamBehaviour::Refused => fwd.record_failure(
                &plan.upstream,
                UpstreamError::Connect("connection refused".to_owned()),
            ),
            UpstreamBehaviour::Silent => fwd.record_failure(&plan.upstream, UpstreamError::Timeout),
            UpstreamBehaviour::Reply { hex } => {
                let bytes = hex::decode(hex).map_err(|_| "bad upstream hex".to_owned())?;
                let _ = fwd.record_reply(&plan.upstream, bytes);
            }
        }
    }
    Ok(g.relay.finish(fwd, g.now).response)
}

/// Grades a whole group.
pub fn evaluate_group(g: &Group<RelayParams, RelayInput, RelayExpected>) -> Vec<(u32, Evaluation)> {
    let state = match group_state(&g.params) {
        Ok(s) => s,
        Err(e) => {
            return g
                .tests
                .iter()
                .map(|t| (t.tc_id, Evaluation::fail("group", e.clone())))
                .collect();
        }
    };
    g.tests
        .iter()
        .map(|t| {
            let e = match respond(&state, t) {
                Ok(r) => grade(&t.expected, r.status, &r.body),
                Err(why) => Evaluation::fail("setup", why),
            };
            (t.tc_id, e)
        })
        .collect()
}
