//! The application after authentication: what MIT's `gss-server` does in
//! `sign_server`. The client sends a DATA token (a GSS Wrap token when
//! WRAPPED is set); the server unwraps it and, when SEND_MIC is set,
//! answers with a MIC over the message, which the client verifies. That
//! proves both ends hold the context keys: the end-to-end access check the
//! scenarios look for.

use kerbside_client::gss::ProtectionError;

use crate::sample_proto::token_flags;
use crate::session::Session;

/// A message token that cannot be processed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AppError {
    /// The Wrap token does not unwrap (tampered, replayed, wrong keys).
    #[error("message does not unwrap: {0}")]
    Unwrap(ProtectionError),
    /// The token is not a DATA token.
    #[error("expected a DATA token, got flags {0:#04x}")]
    NotData(u8),
}

/// One processed application message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppExchange {
    /// The client's message, unwrapped.
    pub message: Vec<u8>,
    /// Whether it travelled sealed.
    pub confidential: bool,
    /// The flags of the reply frame.
    pub reply_flags: u8,
    /// The reply token (a MIC, or empty with NOOP).
    pub reply: Vec<u8>,
}

/// Processes a DATA frame on an established session.
pub fn handle_data(
    session: &mut Session,
    flags: u8,
    token: &[u8],
) -> Result<AppExchange, AppError> {
    if flags & token_flags::DATA == 0 {
        return Err(AppError::NotData(flags));
    }
    let (message, confidential) = if flags & token_flags::WRAPPED != 0 {
        let u = session.context.unwrap(token).map_err(AppError::Unwrap)?;
        (u.data, u.confidential)
    } else {
        (token.to_vec(), false)
    };
    if flags & token_flags::ENCRYPTED != 0 && !confidential {
        // gss-server only warns ("Message not encrypted"); so do we.
        tracing::warn!(client = %session.client, "app: message flagged ENCRYPTED arrived unsealed");
    }
    let (reply_flags, reply) = if flags & token_flags::SEND_MIC != 0 {
        (token_flags::MIC, session.context.get_mic(&message))
    } else {
        (token_flags::NOOP, Vec::new())
    };
    Ok(AppExchange {
        message,
        confidential,
        reply_flags,
        reply,
    })
}
