//! Trees for NTLM messages (MS-NLMP §2.2).

use crate::ntlm::{AvPair, AvPairs, NtlmMessage, Version, flags};
use crate::tree::Node;

fn flags_node(f: u32) -> Node {
    Node::leaf(
        "NegotiateFlags",
        format!("0x{f:08x} ({})", flags::names(f).join(", ")),
    )
}

fn version(v: &Option<Version>) -> Option<Node> {
    v.map(|v| {
        Node::leaf(
            "Version",
            format!(
                "{}.{}.{} (NTLM revision {})",
                v.major, v.minor, v.build, v.revision
            ),
        )
    })
}

/// FILETIME (100 ns since 1601-01-01) as Unix seconds, for display.
fn filetime(t: u64) -> String {
    const EPOCH_DIFF_SECS: u64 = 11_644_473_600;
    let secs = (t / 10_000_000).saturating_sub(EPOCH_DIFF_SECS);
    match chrono::DateTime::from_timestamp(i64::try_from(secs).unwrap_or(0), 0) {
        Some(dt) => format!("{t} ({})", dt.format("%Y-%m-%dT%H:%M:%SZ")),
        None => t.to_string(),
    }
}

fn av_pairs(name: &str, p: &AvPairs) -> Node {
    let mut n = Node::new(name);
    for a in &p.0 {
        n.push(match a {
            AvPair::NbComputerName(s)
            | AvPair::NbDomainName(s)
            | AvPair::DnsComputerName(s)
            | AvPair::DnsDomainName(s)
            | AvPair::DnsTreeName(s)
            | AvPair::TargetName(s) => Node::leaf(a.name(), format!("{s:?}")),
            AvPair::Flags(f) => Node::leaf(a.name(), format!("0x{f:08x}")),
            AvPair::Timestamp(t) => Node::leaf(a.name(), filetime(*t)),
            AvPair::SingleHost(v) => Node::bytes(a.name(), v),
            AvPair::ChannelBindings(h) => Node::bytes(a.name(), h),
            AvPair::Other { id, value } => Node::bytes(format!("AvId {id}"), value),
        });
    }
    n
}

pub(super) fn message(m: &NtlmMessage) -> Node {
    match m {
        NtlmMessage::Negotiate(n) => Node::new("NTLM NEGOTIATE_MESSAGE")
            .child(flags_node(n.flags))
            .child(Node::leaf("DomainName", format!("{:?}", n.domain)))
            .child(Node::leaf("Workstation", format!("{:?}", n.workstation)))
            .opt(version(&n.version)),
        NtlmMessage::Challenge(c) => Node::new("NTLM CHALLENGE_MESSAGE")
            .child(Node::leaf("TargetName", format!("{:?}", c.target_name)))
            .child(flags_node(c.flags))
            .child(Node::bytes("ServerChallenge", &c.server_challenge))
            .opt(c.target_info.as_ref().map(|t| av_pairs("TargetInfo", t)))
            .opt(version(&c.version)),
        NtlmMessage::Authenticate(a) => {
            let nt = match a.ntlmv2_response() {
                Ok(Some(v2)) => {
                    let cc = &v2.client_challenge;
                    Node::new("NtChallengeResponse")
                        .with_value("NTLMv2_RESPONSE")
                        .child(Node::bytes("NTProofStr", &v2.nt_proof_str))
                        .child(Node::leaf("TimeStamp", filetime(cc.timestamp)))
                        .child(Node::bytes(
                            "ChallengeFromClient",
                            &cc.challenge_from_client,
                        ))
                        .child(av_pairs("AvPairs", &cc.av_pairs))
                        .opt(
                            (!cc.trailing.is_empty())
                                .then(|| Node::bytes("trailing", &cc.trailing)),
                        )
                }
                Ok(None) => Node::bytes("NtChallengeResponse", &a.nt_challenge_response),
                Err(e) => Node::bytes("NtChallengeResponse", &a.nt_challenge_response)
                    .child(Node::leaf("decode-error", e.to_string())),
            };
            Node::new("NTLM AUTHENTICATE_MESSAGE")
                .child(Node::bytes("LmChallengeResponse", &a.lm_challenge_response))
                .child(nt)
                .child(Node::leaf("DomainName", format!("{:?}", a.domain)))
                .child(Node::leaf("UserName", format!("{:?}", a.user)))
                .child(Node::leaf("Workstation", format!("{:?}", a.workstation)))
                .child(Node::bytes(
                    "EncryptedRandomSessionKey",
                    &a.encrypted_random_session_key,
                ))
                .child(flags_node(a.flags))
                .opt(version(&a.version))
                .opt(a.mic.as_ref().map(|m| Node::bytes("MIC", m)))
        }
    }
}
