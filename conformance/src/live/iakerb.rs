//! `kerbside conform iakerb`: the iakerb-acceptor vectors against any
//! IAKERB acceptor that speaks MIT's gss-sample framing (`gss-server
//! -iakerb`, `kerbside serve app --iakerb`). Each test's initiator
//! (kerbside's, MIT-compatible) is run again live with the test's options
//! and token edits; the acceptor relays to its own KDC, so what is graded
//! is what crosses the wire: each reply token and the final verdict. The
//! KDC relays themselves are invisible, so their part of the expected
//! steps is left out.
//!
//! Groups describing another acceptor configuration (cookies, Windows reply
//! style, a silent KDC, IAKERB off) than the first group's are reported
//! unsupported.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, SystemTime};

use kerbside_client::iakerb::IakerbStep;
use kerbside_server::sample_proto::{self, FrameDecoder, token_flags};
use kerbside_wire::iakerb::IakerbProxy;
use kerbside_wire::krb::{self, KrbMessage};
use rand_chacha::ChaCha12Rng;
use rand_core::SeedableRng;

use super::outcome::{LiveResult, Status};
use super::{Classifier, wall_clock};
use crate::check::accept::describe_token;
use crate::model::{AcceptExpected, AcceptParams, ConversationRecipe, TestGroup, VectorFile};
use crate::observe::Evaluation;
use crate::realm::Realm;

/// Where the acceptor is and what it serves.
#[derive(Debug, Clone)]
pub struct IakerbTarget {
    /// Address (gss-sample framing over TCP).
    pub addr: SocketAddr,
    /// The realm its KDC serves.
    pub realm: Realm,
    /// The service principal (`host/app.lab.test`).
    pub service: String,
    /// Per-token timeout.
    pub timeout: Duration,
    /// Seed of the initiator's RNG.
    pub seed: u64,
    /// Speak MIT krb5 <= 1.21's token form (Debian 12's `gss-server
    /// -iakerb`): only the first token framed, OCTET STRING realm.
    pub mit_dialect: bool,
}

/// One gss-sample connection.
struct Conn {
    s: TcpStream,
    frames: FrameDecoder,
}

impl Conn {
    fn open(t: &IakerbTarget) -> std::io::Result<Conn> {
        let s = TcpStream::connect_timeout(&t.addr, t.timeout)?;
        s.set_read_timeout(Some(t.timeout))?;
        s.set_write_timeout(Some(t.timeout))?;
        let mut c = Conn {
            s,
            frames: FrameDecoder::default(),
        };
        // gss-sample: a NOOP|CONTEXT_NEXT token announces context tokens.
        c.send(token_flags::NOOP | token_flags::CONTEXT_NEXT, &[])?;
        Ok(c)
    }

    fn send(&mut self, flags: u8, token: &[u8]) -> std::io::Result<()> {
        self.s.write_all(&sample_proto::encode(flags, token))
    }

    /// The next CONTEXT token; `None` when the acceptor closed (or sent
    /// something else, which ends the context too).
    fn recv(&mut self) -> Option<Vec<u8>> {
        let mut buf = [0u8; 16 * 1024];
        loop {
            match self.frames.next_frame() {
                Ok(Some(f)) if f.flags & token_flags::CONTEXT != 0 => return Some(f.token),
                Ok(Some(_)) | Err(_) => return None,
                Ok(None) => {}
            }
            match self.s.read(&mut buf) {
                Ok(0) | Err(_) => return None,
                Ok(n) => self.frames.push(buf.get(..n).unwrap_or_default()),
            }
        }
    }
}

/// Whether an acceptor token ends the context with a refusal: a KRB-ERROR
/// token, or an IAKERB token carrying an IAKERB error (85/86).
fn is_refusal(token: &[u8]) -> bool {
    if let Ok((p, _)) = IakerbProxy::decode_any(token) {
        return matches!(
            krb::decode(&p.message),
            Ok(KrbMessage::KrbError(e)) if e.error_code == 85 || e.error_code == 86
        );
    }
    describe_token(token).starts_with("krb-error")
}

/// The expected steps as they show on the wire: the KDC relays removed,
/// the vectors' realm replaced by the target's.
pub fn wire_steps(expected: &AcceptExpected, group_realm: &str, realm: &str) -> Vec<String> {
    expected
        .steps
        .iter()
        .map(|s| {
            let visible = s.rsplit("; ").next().unwrap_or(s);
            visible.replace(&format!("realm={group_realm}"), &format!("realm={realm}"))
        })
        .collect()
}

/// A runner for one acceptor.
#[derive(Debug)]
pub struct IakerbRunner {
    target: IakerbTarget,
    rng: ChaCha12Rng,
}

impl IakerbRunner {
    /// A runner.
    pub fn new(target: IakerbTarget) -> IakerbRunner {
        let rng = ChaCha12Rng::seed_from_u64(target.seed);
        IakerbRunner { target, rng }
    }

    /// Runs one conversation; the steps seen and the final outcome.
    fn converse(
        &mut self,
        r: &ConversationRecipe,
    ) -> Result<(Vec<String>, String, Option<i32>), String> {
        let user = self
            .target
            .realm
            .principal(&r.user)
            .ok_or_else(|| format!("{} is not in the principals file", r.user))?;
        let recipe = ConversationRecipe {
            password: user.password.clone(),
            ..r.clone()
        };
        let mut init = crate::generate::iakerb_initiator(
            &recipe,
            &self.target.realm.name,
            &self.target.service,
            self.target.mit_dialect,
        );
        let now = || -> SystemTime { wall_clock() };
        let mut conn =
            Conn::open(&self.target).map_err(|e| format!("connect {}: {e}", self.target.addr))?;
        let mut token = init
            .initial_token(now(), &mut self.rng)
            .map_err(|e| format!("initiator: {e}"))?;
        let mut steps = Vec::new();
        let mut leg = 0;
        for _ in 0..12 {
            let t = crate::generate::apply_edits(&recipe.edits, leg, token);
            leg += 1;
            if conn.send(token_flags::CONTEXT, &t).is_err() {
                steps.push("reject none".to_owned());
                return Ok((steps, "reject".to_owned(), None));
            }
            let Some(reply) = conn.recv() else {
                steps.push("reject none".to_owned());
                return Ok((steps, "reject".to_owned(), None));
            };
            let d = describe_token(&reply);
            if is_refusal(&reply) {
                steps.push(format!("reject {d}"));
                let code = d.rsplit('-').next().and_then(|c| c.parse().ok());
                return Ok((steps, "reject".to_owned(), code));
            }
            let reply = crate::generate::apply_edits(&recipe.edits, leg, reply);
            leg += 1;
            match init.step(&reply, now(), &mut self.rng) {
                Ok(IakerbStep::Complete(None)) => {
                    steps.push(format!("complete {d}"));
                    return Ok((steps, "complete".to_owned(), None));
                }
                Ok(IakerbStep::Continue(n)) | Ok(IakerbStep::Complete(Some(n))) => {
                    steps.push(format!("continue {d}"));
                    token = n;
                }
                Err(e) => {
                    steps.push(format!("continue {d}"));
                    return Err(format!("the initiator gave up: {e}"));
                }
            }
        }
        Err("the conversation did not finish in 12 tokens".to_owned())
    }

    fn grade(
        &mut self,
        g: &AcceptParams,
        r: &ConversationRecipe,
        e: &AcceptExpected,
    ) -> Result<Evaluation, String> {
        let (steps, outcome, code) = self.converse(r)?;
        let want = wire_steps(e, &g.realm, &self.target.realm.name);
        let observed = format!("{outcome}: {}", steps.join(", "));
        if steps != want {
            return Ok(Evaluation::fail(
                observed,
                format!("expected {}", want.join(", ")),
            ));
        }
        if outcome != e.outcome || (e.krb_code.is_some() && code != e.krb_code) {
            return Ok(Evaluation::fail(
                observed,
                format!("expected {} {:?}", e.outcome, e.krb_code),
            ));
        }
        Ok(Evaluation::pass(observed))
    }

    /// Runs the iakerb-acceptor tests of `files`.
    pub fn run(&mut self, files: &[VectorFile], classify: &Classifier) -> Vec<LiveResult> {
        let mut out = Vec::new();
        let mut wanted = None;
        for f in files.iter().filter(|f| f.suite.starts_with("iakerb")) {
            for g in &f.test_groups {
                let TestGroup::GssAccept(g) = g else { continue };
                let Some(ia) = &g.params.iakerb else {
                    out.extend(g.tests.iter().map(|t| {
                        unsupported(
                            &f.suite,
                            t.tc_id,
                            &t.id,
                            &t.expected,
                            "needs an acceptor without IAKERB",
                        )
                    }));
                    continue;
                };
                let config = (
                    ia.require_finished,
                    ia.issue_cookie,
                    ia.reply_style.clone(),
                    ia.kdc.clone(),
                );
                let w = wanted.get_or_insert_with(|| config.clone()).clone();
                for t in &g.tests {
                    if config != w {
                        out.push(unsupported(
                            &f.suite,
                            t.tc_id,
                            &t.id,
                            &t.expected,
                            &format!(
                                "needs an acceptor configured with require_finished={}, issue_cookie={}, reply_style={}, kdc {}",
                                ia.require_finished, ia.issue_cookie, ia.reply_style, ia.kdc
                            ),
                        ));
                        continue;
                    }
                    let expected = t.expected.outcome.clone();
                    out.push(match self.grade(&g.params, &t.input.recipe, &t.expected) {
                        Ok(e) => classify.classify(&f.suite, &t.meta(), expected, e),
                        Err(why) => LiveResult {
                            suite: f.suite.clone(),
                            tc_id: t.tc_id,
                            id: t.id.clone(),
                            status: Status::Fail,
                            expected,
                            observed: "error".to_owned(),
                            detail: why,
                        },
                    });
                }
            }
        }
        out
    }
}

fn unsupported(suite: &str, tc_id: u32, id: &str, e: &AcceptExpected, why: &str) -> LiveResult {
    LiveResult {
        suite: suite.to_owned(),
        tc_id,
        id: id.to_owned(),
        status: Status::Unsupported,
        expected: e.outcome.clone(),
        observed: "-".to_owned(),
        detail: why.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_steps_drop_relays_and_rename_the_realm() {
        let e = AcceptExpected {
            steps: vec![
                "proxy LAB.TEST as-req; continue iakerb realm=LAB.TEST msg=krb-error-25".into(),
                "complete ap-rep".into(),
            ],
            outcome: "complete".into(),
            error: None,
            krb_code: None,
            client: None,
            mechanism: None,
        };
        assert_eq!(
            wire_steps(&e, "LAB.TEST", "EXAMPLE.ORG"),
            [
                "continue iakerb realm=EXAMPLE.ORG msg=krb-error-25",
                "complete ap-rep"
            ]
        );
    }
}
