//! Authentication to the application server, once the negotiator knows
//! which mechanisms it may offer: SPNEGO (RFC 4178) over
//! [`crate::spnego::SpnegoInitiator`], or raw NTLMSSP for an NTLM-only
//! device, followed by one protected application message (the gss-sample
//! exchange: we send a Wrap token, the server answers with a MIC of the
//! plaintext), so a logon counts as successful only when the server proved
//! it holds the context keys.
//!
//! NTLM policy is enforced by what is offered, not by a check afterwards:
//! under `deny` the NTLM mechanism is never put into the SPNEGO list, so no
//! acceptor choice and no man-in-the-middle can make this side emit an NTLM
//! message. When NTLM is offered and the acceptor selects it, the phase
//! tells the logon before the first NTLM token leaves, so the audit event
//! (8001 or 7005) precedes the bytes.

use std::time::SystemTime;

use rand_core::RngCore;

use crate::audit::SecurityKind;
use crate::gss::{Mechanism, SecurityContext};
use crate::gss_krb::GssKrbError;
use crate::iakerb::IakerbInitiator;
use crate::krb::Credentials;
use crate::ntlm::NtlmClient;
use crate::spnego::{OfferedMech, SpnegoError, SpnegoInitiator, SpnegoOptions, SpnegoStep};

use super::error::LogonError;
use super::io::{AppAction, AppEvent};

/// What to offer the server.
#[derive(Debug)]
pub(crate) enum Offer {
    /// SPNEGO with Kerberos first, NTLM second when permitted.
    Negotiate {
        /// The service ticket, when Kerberos is possible.
        kerberos: Option<Box<Credentials>>,
        /// The NTLM client, when NTLM is permitted.
        ntlm: Option<Box<NtlmClient>>,
    },
    /// Raw NTLMSSP.
    RawNtlm(Box<NtlmClient>),
    /// IAKERB inside SPNEGO (draft-ietf-kitten-iakerb-03): the AS and TGS
    /// exchanges go through the server in the context tokens, then the
    /// AP-REQ with the finished checksum, on one connection.
    Iakerb(Box<IakerbInitiator>),
}

/// What an IAKERB phase obtained, for the ticket cache and the result.
#[derive(Debug, Default)]
pub(crate) struct IakerbOutput {
    /// The TGT obtained through the server.
    pub(crate) tgt: Option<Credentials>,
    /// The service ticket.
    pub(crate) ticket: Option<Credentials>,
}

/// A failure of the application phase.
#[derive(Debug)]
pub(crate) struct AppFailure {
    /// The logon error.
    pub(crate) error: LogonError,
    /// A security event to record.
    pub(crate) security: Option<SecurityKind>,
    /// The KRB-ERROR code the acceptor sent, if any.
    pub(crate) code: Option<i32>,
}

impl AppFailure {
    fn plain(error: LogonError) -> Self {
        AppFailure {
            error,
            security: None,
            code: None,
        }
    }
}

/// What one call produced.
#[derive(Debug, Default)]
pub(crate) struct Progress {
    /// Send these.
    pub(crate) actions: Vec<AppAction>,
    /// NTLM was just selected: its first token is in `actions`.
    pub(crate) ntlm_starts: bool,
    /// The phase is over.
    pub(crate) done: Option<Result<Mechanism, AppFailure>>,
    /// IAKERB's tickets, once its context is established.
    pub(crate) iakerb: Option<IakerbOutput>,
}

#[derive(Debug)]
enum State {
    /// SPNEGO negotiation in progress, waiting for the server's token.
    Spnego(Box<SpnegoInitiator>),
    /// Raw NTLM, NEGOTIATE sent, waiting for the CHALLENGE.
    RawNtlm(Box<NtlmClient>),
    /// Context established, our message sent, waiting for the server's MIC.
    Message {
        context: Box<SecurityContext>,
        plaintext: Vec<u8>,
    },
    Finished,
}

/// The application-authentication phase of one logon.
#[derive(Debug)]
pub(crate) struct AppPhase {
    state: State,
    plaintext: Vec<u8>,
}

impl AppPhase {
    /// Starts: the first token to send. `message` is the application
    /// message to protect once the context is up.
    pub(crate) fn start(
        offer: Offer,
        message: Vec<u8>,
        now: SystemTime,
        rng: &mut dyn RngCore,
    ) -> (Self, Progress) {
        let mut phase = AppPhase {
            state: State::Finished,
            plaintext: message,
        };
        let mut progress = Progress::default();
        match offer {
            Offer::Negotiate { kerberos, ntlm } => {
                let mut mechs = Vec::new();
                let kerberos_offered = kerberos.is_some();
                if let Some(creds) = kerberos {
                    mechs.push(OfferedMech::kerberos(*creds));
                }
                if let Some(client) = ntlm {
                    mechs.push(OfferedMech::Ntlm(client));
                }
                let started = SpnegoInitiator::new(mechs, SpnegoOptions::default())
                    .and_then(|mut sp| sp.initial_token(now, rng).map(|t| (sp, t)));
                match started {
                    Ok((sp, token)) => {
                        // The optimistic token is NTLM's NEGOTIATE when NTLM
                        // is the only (hence first) mechanism.
                        progress.ntlm_starts = !kerberos_offered;
                        progress.actions.push(AppAction::SendToken {
                            token,
                            first: true,
                            expect_reply: true,
                        });
                        phase.state = State::Spnego(Box::new(sp));
                    }
                    Err(e) => progress.done = Some(Err(spnego_failure(e))),
                }
            }
            Offer::Iakerb(ia) => {
                let started =
                    SpnegoInitiator::new(vec![OfferedMech::Iakerb(ia)], SpnegoOptions::default())
                        .and_then(|mut sp| sp.initial_token(now, rng).map(|t| (sp, t)));
                match started {
                    Ok((sp, token)) => {
                        progress.actions.push(AppAction::SendToken {
                            token,
                            first: true,
                            expect_reply: true,
                        });
                        phase.state = State::Spnego(Box::new(sp));
                    }
                    Err(e) => progress.done = Some(Err(spnego_failure(e))),
                }
            }
            Offer::RawNtlm(mut client) => match client.negotiate() {
                Ok(token) => {
                    progress.ntlm_starts = true;
                    progress.actions.push(AppAction::SendToken {
                        token,
                        first: true,
                        expect_reply: true,
                    });
                    phase.state = State::RawNtlm(client);
                }
                Err(e) => {
                    progress.done = Some(Err(AppFailure::plain(LogonError::AppProtocol(
                        e.to_string(),
                    ))))
                }
            },
        }
        (phase, progress)
    }

    /// An event from the application connection.
    pub(crate) fn on_event(
        &mut self,
        event: AppEvent,
        now: SystemTime,
        rng: &mut dyn RngCore,
    ) -> Progress {
        let state = std::mem::replace(&mut self.state, State::Finished);
        let mut progress = Progress::default();
        let token = match event {
            AppEvent::Failed(f) => {
                progress.done = Some(Err(AppFailure::plain(LogonError::App(f))));
                return progress;
            }
            AppEvent::Token(t) => Some(t),
            AppEvent::Accepted => None,
            AppEvent::Message(m) => {
                return self.on_message(state, &m);
            }
        };
        match state {
            State::Spnego(mut sp) => {
                let Some(token) = token else {
                    // gss-sample servers send nothing when their context
                    // completes without an output token; SPNEGO always has
                    // one (negState), so silence is a protocol failure.
                    progress.done = Some(Err(AppFailure::plain(LogonError::AppProtocol(
                        "server completed without a SPNEGO reply".to_owned(),
                    ))));
                    return progress;
                };
                let was_ntlm = sp.selected_mechanism() == Some(Mechanism::Ntlm);
                match sp.step(&token, now, rng) {
                    Ok(step) => {
                        let ntlm_now =
                            !was_ntlm && sp.selected_mechanism() == Some(Mechanism::Ntlm);
                        match step {
                            SpnegoStep::Continue(out) => {
                                progress.ntlm_starts = ntlm_now;
                                progress.actions.push(AppAction::SendToken {
                                    token: out,
                                    first: false,
                                    expect_reply: true,
                                });
                                self.state = State::Spnego(sp);
                            }
                            SpnegoStep::Complete(out) => {
                                progress.ntlm_starts = ntlm_now;
                                if let Some(out) = out {
                                    progress.actions.push(AppAction::SendToken {
                                        token: out,
                                        first: false,
                                        expect_reply: false,
                                    });
                                }
                                progress.iakerb = sp.iakerb().map(|ia| IakerbOutput {
                                    tgt: ia.tgt().cloned(),
                                    ticket: ia.service_ticket().cloned(),
                                });
                                match sp.into_context() {
                                    Ok(ctx) => self.send_message(ctx, rng, &mut progress),
                                    Err(e) => progress.done = Some(Err(spnego_failure(e))),
                                }
                            }
                        }
                    }
                    Err(e) => progress.done = Some(Err(spnego_failure(e))),
                }
            }
            State::RawNtlm(mut client) => {
                let Some(challenge) = token else {
                    progress.done = Some(Err(AppFailure::plain(LogonError::AppProtocol(
                        "server sent no NTLM CHALLENGE".to_owned(),
                    ))));
                    return progress;
                };
                match client.authenticate(&challenge, now, rng) {
                    Ok(auth) => {
                        progress.actions.push(AppAction::SendToken {
                            token: auth,
                            first: false,
                            expect_reply: false,
                        });
                        match client.into_context() {
                            Ok(ctx) => self.send_message(ctx, rng, &mut progress),
                            Err(e) => {
                                progress.done = Some(Err(AppFailure::plain(
                                    LogonError::AppProtocol(e.to_string()),
                                )))
                            }
                        }
                    }
                    Err(e) => {
                        progress.done = Some(Err(AppFailure::plain(LogonError::AppProtocol(
                            e.to_string(),
                        ))))
                    }
                }
            }
            State::Message { .. } | State::Finished => {
                progress.done = Some(Err(AppFailure::plain(LogonError::AppProtocol(
                    "unexpected token after the context was established".to_owned(),
                ))));
            }
        }
        progress
    }

    /// The context is up: wrap the application message (RFC 4121 §4.2.4,
    /// or NTLM sealing) and send it.
    fn send_message(
        &mut self,
        mut ctx: SecurityContext,
        rng: &mut dyn RngCore,
        progress: &mut Progress,
    ) {
        let plaintext = std::mem::take(&mut self.plaintext);
        match ctx.wrap(&plaintext, true, rng) {
            Ok(message) => {
                progress.actions.push(AppAction::SendMessage { message });
                self.state = State::Message {
                    context: Box::new(ctx),
                    plaintext,
                };
            }
            Err(e) => {
                progress.done = Some(Err(AppFailure::plain(LogonError::AppProtocol(format!(
                    "cannot protect the application message: {e}"
                )))))
            }
        }
    }

    /// The server's MIC over our message: proof it holds the context keys.
    fn on_message(&mut self, state: State, mic: &[u8]) -> Progress {
        let mut progress = Progress::default();
        match state {
            State::Message {
                mut context,
                plaintext,
            } => {
                let mech = context.mechanism();
                progress.done = Some(match context.verify_mic(&plaintext, mic) {
                    Ok(()) => Ok(mech),
                    Err(e) => Err(AppFailure {
                        error: LogonError::ServerAuthentication(format!(
                            "the server's MIC over our message does not verify: {e}"
                        )),
                        security: Some(SecurityKind::ServerAuthentication),
                        code: None,
                    }),
                });
            }
            _ => {
                progress.done = Some(Err(AppFailure::plain(LogonError::AppProtocol(
                    "application message before the context was established".to_owned(),
                ))));
            }
        }
        progress
    }
}

/// Sorts a SPNEGO failure: downgrades and failed mutual authentication are
/// security events; a KRB-ERROR keeps its code.
fn spnego_failure(e: SpnegoError) -> AppFailure {
    if e.is_downgrade() {
        return AppFailure {
            error: LogonError::Downgrade(e.to_string()),
            security: Some(SecurityKind::Downgrade),
            code: None,
        };
    }
    if let SpnegoError::Kerberos(GssKrbError::MutualAuth(_)) = &e {
        return AppFailure {
            error: LogonError::ServerAuthentication(e.to_string()),
            security: Some(SecurityKind::ServerAuthentication),
            code: None,
        };
    }
    if let Some(code) = e.krb_code() {
        return AppFailure {
            error: LogonError::kerberos(code, Some(e.to_string())),
            security: None,
            code: Some(code),
        };
    }
    match e {
        SpnegoError::Rejected { .. } => AppFailure::plain(LogonError::Rejected(e.to_string())),
        other => AppFailure::plain(LogonError::AppProtocol(other.to_string())),
    }
}
