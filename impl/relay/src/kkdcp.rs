//! The relay's use of kerbside-wire's KDC-PROXY-MESSAGE codec: the
//! request checks that concern the outer message and the length prefix, and
//! the reply encoding.

use kerbside_wire::ErrorKind;
use kerbside_wire::kkdcp::{Framing, KdcProxyMessage};

use crate::config::PrefixPolicy;
use crate::reject::RejectReason;

/// The parts of a request body the relay uses.
#[derive(Debug)]
pub(crate) struct ProxyRequest {
    pub(crate) message: KdcProxyMessage,
    /// The client omitted the length prefix (accepted by policy).
    pub(crate) unprefixed: bool,
}

impl ProxyRequest {
    /// The bare Kerberos message.
    pub(crate) fn kerberos(&self) -> &[u8] {
        if self.unprefixed {
            &self.message.kerb_message
        } else {
            self.message
                .kerb_message
                .get(kerbside_wire::record::MARK_LEN..)
                .unwrap_or_default()
        }
    }
}

/// MS-KKDCP §2.2.2: strict DER, no trailing bytes (kdcproxy: 400 "Invalid
/// request."), then the RFC 4120 §7.2.2 prefix inside `kerb-message`
/// (kdcproxy: 400 "Invalid request length.").
pub(crate) fn decode_request(
    body: &[u8],
    policy: PrefixPolicy,
) -> Result<ProxyRequest, RejectReason> {
    let message =
        KdcProxyMessage::decode(body).map_err(|e| RejectReason::MalformedMessage(e.to_string()))?;
    let framing = match policy {
        PrefixPolicy::Reject => message.kerberos_message().map(|_| Framing::Prefixed),
        PrefixPolicy::Accept => message.kerberos_message_lenient().map(|(_, f)| f),
    };
    match framing {
        Ok(f) => Ok(ProxyRequest {
            message,
            unprefixed: f == Framing::Bare,
        }),
        Err(e) if matches!(e.kind, ErrorKind::MissingLengthPrefix { .. }) => {
            Err(RejectReason::MissingLengthPrefix)
        }
        Err(e) => Err(RejectReason::BadLengthPrefix(e.to_string())),
    }
}

/// MS-KKDCP §3.2.5.2: the reply carries only `kerb-message` (here: the
/// record mark and the KDC's reply, or the bare reply for a client that sent
/// a bare request).
pub(crate) fn encode_reply(kerb_message: Vec<u8>) -> Vec<u8> {
    KdcProxyMessage {
        kerb_message,
        target_domain: None,
        dclocator_hint: None,
    }
    .encode()
}
