//! SPNEGO (RFC 4178 Appendix A, `DEFINITIONS EXPLICIT TAGS`) and MS-SPNG
//! §2.2.1 NegTokenInit2.
//!
//! ```asn1
//! NegotiationToken ::= CHOICE { negTokenInit [0] NegTokenInit,
//!                               negTokenResp [1] NegTokenResp }
//! NegTokenInit  ::= SEQUENCE { mechTypes [0] MechTypeList,
//!     reqFlags [1] ContextFlags OPTIONAL, mechToken [2] OCTET STRING OPTIONAL,
//!     mechListMIC [3] OCTET STRING OPTIONAL, ... }
//! NegTokenInit2 ::= SEQUENCE { mechTypes [0] MechTypeList OPTIONAL,
//!     reqFlags [1] ContextFlags OPTIONAL, mechToken [2] OCTET STRING OPTIONAL,
//!     negHints [3] NegHints OPTIONAL, mechListMIC [4] OCTET STRING OPTIONAL, ... }
//! NegTokenResp  ::= SEQUENCE { negState [0] ENUMERATED OPTIONAL,
//!     supportedMech [1] MechType OPTIONAL, responseToken [2] OCTET STRING OPTIONAL,
//!     mechListMIC [3] OCTET STRING OPTIONAL, ... }
//! ```
//! The initial token is GSS-framed with the SPNEGO OID (RFC 4178 §4.2);
//! later ones are the bare `a1` CHOICE. NegTokenInit and NegTokenInit2 share
//! the `[0]` slot: a token is Init2 when its `[3]` holds NegHints (a
//! SEQUENCE rather than an OCTET STRING), it has a `[4]`, or it has no
//! mechTypes.

use crate::der::{self, BitString, Oid, Reader, Tlv, Writer, tag};
use crate::error::{ErrorKind, Format, Result, WireError};
use crate::gss::{self, oid};

/// RFC 4178 §4.2.2 negState.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum NegState {
    /// accept-completed (0).
    AcceptCompleted,
    /// accept-incomplete (1).
    AcceptIncomplete,
    /// reject (2).
    Reject,
    /// request-mic (3).
    RequestMic,
}

impl NegState {
    /// The ENUMERATED value.
    pub fn value(self) -> i64 {
        match self {
            NegState::AcceptCompleted => 0,
            NegState::AcceptIncomplete => 1,
            NegState::Reject => 2,
            NegState::RequestMic => 3,
        }
    }

    /// From the ENUMERATED value (no extension marker: others are invalid).
    pub fn from_value(v: i64) -> Option<Self> {
        Some(match v {
            0 => NegState::AcceptCompleted,
            1 => NegState::AcceptIncomplete,
            2 => NegState::Reject,
            3 => NegState::RequestMic,
            _ => return None,
        })
    }

    /// `accept-completed`, ...
    pub fn name(self) -> &'static str {
        match self {
            NegState::AcceptCompleted => "accept-completed",
            NegState::AcceptIncomplete => "accept-incomplete",
            NegState::Reject => "reject",
            NegState::RequestMic => "request-mic",
        }
    }
}

/// RFC 4178 NegTokenInit.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct NegTokenInit {
    /// `[0]` mechanisms, most preferred first.
    pub mech_types: Vec<Oid>,
    /// `[1]` ContextFlags (RECOMMENDED to be left out).
    pub req_flags: Option<BitString>,
    /// `[2]` the optimistic token of the first mechanism.
    pub mech_token: Option<Vec<u8>>,
    /// `[3]` mechListMIC.
    pub mech_list_mic: Option<Vec<u8>>,
}

/// MS-SPNG §2.2.1 NegHints.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct NegHints {
    /// `[0]` GeneralString; SHOULD be "not_defined_in_RFC4178@please_ignore".
    pub hint_name: Option<String>,
    /// `[1]` MUST be omitted.
    pub hint_address: Option<Vec<u8>>,
}

/// The `hintName` Windows servers send (MS-SPNG §3.2.5.2).
pub const HINT_NAME_IGNORE: &str = "not_defined_in_RFC4178@please_ignore";

/// MS-SPNG §2.2.1 NegTokenInit2 (server-initiated).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct NegTokenInit2 {
    /// `[0]` mechanisms (optional here).
    pub mech_types: Option<Vec<Oid>>,
    /// `[1]` ContextFlags.
    pub req_flags: Option<BitString>,
    /// `[2]` mechToken.
    pub mech_token: Option<Vec<u8>>,
    /// `[3]` negHints.
    pub neg_hints: Option<NegHints>,
    /// `[4]` mechListMIC (note: `[4]`, not `[3]`).
    pub mech_list_mic: Option<Vec<u8>>,
}

/// RFC 4178 NegTokenResp.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct NegTokenResp {
    /// `[0]` negState (REQUIRED in the first reply).
    pub neg_state: Option<NegState>,
    /// `[1]` supportedMech (first reply only).
    pub supported_mech: Option<Oid>,
    /// `[2]` responseToken.
    pub response_token: Option<Vec<u8>>,
    /// `[3]` mechListMIC.
    pub mech_list_mic: Option<Vec<u8>>,
}

/// A SPNEGO NegotiationToken.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NegotiationToken {
    /// `[0]` NegTokenInit.
    Init(NegTokenInit),
    /// `[0]` NegTokenInit2 (MS-SPNG).
    Init2(NegTokenInit2),
    /// `[1]` NegTokenResp.
    Resp(NegTokenResp),
}

/// DER of a MechTypeList (`SEQUENCE OF OBJECT IDENTIFIER`): exactly the
/// mechListMIC input (RFC 4178 §5: the SEQUENCE, not the `a0` wrapper).
pub fn mech_type_list_der(mechs: &[Oid]) -> Vec<u8> {
    let mut w = Writer::new();
    write_mech_list(&mut w, mechs);
    w.finish()
}

fn write_mech_list(w: &mut Writer, mechs: &[Oid]) {
    w.sequence(|w| {
        for m in mechs {
            w.oid(m);
        }
    });
}

fn write_opt_octets(w: &mut Writer, n: u8, v: &Option<Vec<u8>>) {
    if let Some(v) = v {
        w.explicit(n, |w| {
            w.octet_string(v);
        });
    }
}

fn write_opt_flags(w: &mut Writer, v: &Option<BitString>) {
    if let Some(f) = v {
        w.explicit(1, |w| {
            w.bit_string(f);
        });
    }
}

impl NegotiationToken {
    /// The bare CHOICE encoding (`a0 ...` or `a1 ...`), as sent after the
    /// first token.
    pub fn encode(&self) -> Vec<u8> {
        let mut w = Writer::new();
        match self {
            NegotiationToken::Init(t) => {
                w.explicit(0, |w| {
                    w.sequence(|w| {
                        w.explicit(0, |w| write_mech_list(w, &t.mech_types));
                        write_opt_flags(w, &t.req_flags);
                        write_opt_octets(w, 2, &t.mech_token);
                        write_opt_octets(w, 3, &t.mech_list_mic);
                    });
                });
            }
            NegotiationToken::Init2(t) => {
                w.explicit(0, |w| {
                    w.sequence(|w| {
                        if let Some(m) = &t.mech_types {
                            w.explicit(0, |w| write_mech_list(w, m));
                        }
                        write_opt_flags(w, &t.req_flags);
                        write_opt_octets(w, 2, &t.mech_token);
                        if let Some(h) = &t.neg_hints {
                            w.explicit(3, |w| {
                                w.sequence(|w| {
                                    if let Some(n) = &h.hint_name {
                                        w.explicit(0, |w| {
                                            w.general_string(n);
                                        });
                                    }
                                    write_opt_octets(w, 1, &h.hint_address);
                                });
                            });
                        }
                        write_opt_octets(w, 4, &t.mech_list_mic);
                    });
                });
            }
            NegotiationToken::Resp(t) => {
                w.explicit(1, |w| {
                    w.sequence(|w| {
                        if let Some(s) = t.neg_state {
                            w.explicit(0, |w| {
                                w.enumerated(s.value());
                            });
                        }
                        if let Some(m) = &t.supported_mech {
                            w.explicit(1, |w| {
                                w.oid(m);
                            });
                        }
                        write_opt_octets(w, 2, &t.response_token);
                        write_opt_octets(w, 3, &t.mech_list_mic);
                    });
                });
            }
        }
        w.finish()
    }

    /// The initial-token encoding: GSS-framed with the SPNEGO OID
    /// (RFC 4178 §4.2, RFC 2743 §3.1).
    pub fn encode_initial(&self) -> Vec<u8> {
        gss::wrap(&oid::SPNEGO, &self.encode())
    }

    /// Decodes a framed initial token (`60 ...`, SPNEGO OID) or a bare
    /// `a0`/`a1` token.
    pub fn decode(bytes: &[u8]) -> Result<Self> {
        if bytes.first() == Some(&0x60) {
            let f = gss::unwrap(bytes).map_err(|e| e.in_format(Format::Spnego))?;
            if f.mech != oid::SPNEGO {
                return Err(WireError::new(
                    Format::Spnego,
                    2,
                    ErrorKind::BadConstant {
                        what: "mechanism",
                        expected: format!("SPNEGO ({})", oid::SPNEGO),
                        found: f.mech.to_string(),
                    },
                ));
            }
            decode_choice(f.inner, f.inner_offset)
        } else {
            decode_choice(bytes, 0)
        }
    }

    /// True for the framed-initial-token variants (Init/Init2).
    pub fn is_init(&self) -> bool {
        !matches!(self, NegotiationToken::Resp(_))
    }

    /// The mechListMIC field, wherever this variant keeps it.
    pub fn mech_list_mic(&self) -> Option<&[u8]> {
        match self {
            NegotiationToken::Init(t) => t.mech_list_mic.as_deref(),
            NegotiationToken::Init2(t) => t.mech_list_mic.as_deref(),
            NegotiationToken::Resp(t) => t.mech_list_mic.as_deref(),
        }
    }
}

fn decode_choice(bytes: &[u8], base: usize) -> Result<NegotiationToken> {
    der::validate(bytes, Format::Spnego).map_err(|e| e.shifted(base))?;
    let mut top = Reader::with_base(bytes, base, Format::Spnego, "input");
    let choice = match top.peek_tag() {
        Some(t) if t == tag::context(0) || t == tag::context(1) => top.read()?,
        Some(t) => {
            return Err(top.error(ErrorKind::UnexpectedTag {
                expected: "NegotiationToken ([0] negTokenInit or [1] negTokenResp)",
                found: t,
            }));
        }
        None => {
            return Err(top.error(ErrorKind::Missing {
                what: "NegotiationToken",
                container: "input",
            }));
        }
    };
    top.finish()?;
    let seq = choice.explicit_inner("NegotiationToken")?;
    if seq.tag != tag::SEQUENCE {
        return Err(WireError::new(
            Format::Spnego,
            seq.offset,
            ErrorKind::UnexpectedTag {
                expected: "SEQUENCE",
                found: seq.tag,
            },
        ));
    }
    if choice.tag == tag::context(0) {
        decode_init(&seq)
    } else {
        decode_resp(&seq).map(NegotiationToken::Resp)
    }
}

fn octets(t: Tlv<'_>, what: &'static str) -> Result<Vec<u8>> {
    Ok(t.explicit_inner(what)?.octet_string()?.to_vec())
}

fn mech_list(t: Tlv<'_>) -> Result<Vec<Oid>> {
    let seq = t.explicit_inner("[0] mechTypes")?;
    if seq.tag != tag::SEQUENCE {
        return Err(WireError::new(
            Format::Spnego,
            seq.offset,
            ErrorKind::UnexpectedTag {
                expected: "MechTypeList (SEQUENCE OF OBJECT IDENTIFIER)",
                found: seq.tag,
            },
        ));
    }
    let mut r = seq.reader("MechTypeList");
    let mut out = Vec::new();
    while !r.is_empty() {
        out.push(r.expect(tag::OID, "MechType (OBJECT IDENTIFIER)")?.oid()?);
    }
    Ok(out)
}

fn decode_init(seq: &Tlv<'_>) -> Result<NegotiationToken> {
    let mut r = seq.reader("NegTokenInit");
    let mech_types = r.optional(tag::context(0))?.map(mech_list).transpose()?;
    let req_flags = match r.optional(tag::context(1))? {
        Some(t) => Some(t.explicit_inner("[1] reqFlags")?.bit_string()?),
        None => None,
    };
    let mech_token = r
        .optional(tag::context(2))?
        .map(|t| octets(t, "[2] mechToken"))
        .transpose()?;
    // [3]: mechListMIC (OCTET STRING) in RFC 4178, negHints (SEQUENCE) in Init2.
    let mut neg_hints = None;
    let mut mic3 = None;
    if let Some(t) = r.optional(tag::context(3))? {
        let inner = t.explicit_inner("[3]")?;
        match inner.tag {
            tag::OCTET_STRING => mic3 = Some(inner.value.to_vec()),
            tag::SEQUENCE => neg_hints = Some(decode_hints(&inner)?),
            found => {
                return Err(WireError::new(
                    Format::Spnego,
                    inner.offset,
                    ErrorKind::UnexpectedTag {
                        expected: "mechListMIC (OCTET STRING) or negHints (SEQUENCE)",
                        found,
                    },
                ));
            }
        }
    }
    let mic4 = if mic3.is_none() {
        r.optional(tag::context(4))?
            .map(|t| octets(t, "[4] mechListMIC"))
            .transpose()?
    } else {
        None
    };
    r.skip_extensions()?;
    let is_init2 = neg_hints.is_some() || mic4.is_some() || mech_types.is_none();
    Ok(if is_init2 {
        NegotiationToken::Init2(NegTokenInit2 {
            mech_types,
            req_flags,
            mech_token,
            neg_hints,
            mech_list_mic: mic4,
        })
    } else {
        NegotiationToken::Init(NegTokenInit {
            mech_types: mech_types.unwrap_or_default(),
            req_flags,
            mech_token,
            mech_list_mic: mic3,
        })
    })
}

fn decode_hints(seq: &Tlv<'_>) -> Result<NegHints> {
    let mut r = seq.reader("NegHints");
    let hint_name = match r.optional(tag::context(0))? {
        Some(t) => Some(
            t.explicit_inner("[0] hintName")?
                .string(&[tag::GENERAL_STRING], "GeneralString hintName")?
                .to_string(),
        ),
        None => None,
    };
    let hint_address = r
        .optional(tag::context(1))?
        .map(|t| octets(t, "[1] hintAddress"))
        .transpose()?;
    r.finish()?;
    Ok(NegHints {
        hint_name,
        hint_address,
    })
}

fn decode_resp(seq: &Tlv<'_>) -> Result<NegTokenResp> {
    let mut r = seq.reader("NegTokenResp");
    let neg_state = match r.optional(tag::context(0))? {
        Some(t) => {
            let e = t.explicit_inner("[0] negState")?;
            let v = e.enumerated()?;
            Some(NegState::from_value(v).ok_or_else(|| {
                WireError::new(
                    Format::Spnego,
                    e.value_offset(),
                    ErrorKind::InvalidValue {
                        what: "negState (0..=3)",
                        found: v.to_string(),
                    },
                )
            })?)
        }
        None => None,
    };
    let supported_mech = match r.optional(tag::context(1))? {
        Some(t) => Some(t.explicit_inner("[1] supportedMech")?.oid()?),
        None => None,
    };
    let response_token = r
        .optional(tag::context(2))?
        .map(|t| octets(t, "[2] responseToken"))
        .transpose()?;
    let mech_list_mic = r
        .optional(tag::context(3))?
        .map(|t| octets(t, "[3] mechListMIC"))
        .transpose()?;
    // `...`: e.g. Late Fallback's supportedMechs [4]; tolerated, not kept.
    r.skip_extensions()?;
    Ok(NegTokenResp {
        neg_state,
        supported_mech,
        response_token,
        mech_list_mic,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unhex(s: &str) -> Vec<u8> {
        hex::decode(s.replace(' ', "")).unwrap()
    }

    #[test]
    fn mech_type_list_is_the_mic_input() {
        // RFC 4178 §5: DER(MechTypeList) starts 30 nn 06 09 2a 86 48 86 f7 12 01 02 02
        let der = mech_type_list_der(&[oid::KRB5, oid::NTLMSSP]);
        assert_eq!(
            hex::encode(&der),
            "301706092a864886f712010202060a2b06010401823702020a"
        );
    }

    #[test]
    fn init_round_trips_framed_with_known_bytes() {
        let t = NegotiationToken::Init(NegTokenInit {
            mech_types: vec![oid::KRB5, oid::NTLMSSP],
            req_flags: None,
            mech_token: Some(vec![0x60, 0x00]),
            mech_list_mic: None,
        });
        let b = t.encode_initial();
        assert_eq!(
            hex::encode(&b),
            "602d06062b0601050502a0233021a019301706092a864886f712010202060a2b06010401823702020aa20404026000"
        );
        assert_eq!(NegotiationToken::decode(&b).unwrap(), t);
        assert_eq!(
            NegotiationToken::decode(&t.encode()).unwrap(),
            t,
            "bare a0 also accepted"
        );
    }

    #[test]
    fn init_with_flags_and_mic_at_3() {
        let t = NegotiationToken::Init(NegTokenInit {
            mech_types: vec![oid::IAKERB],
            req_flags: Some(BitString {
                unused: 1,
                bytes: vec![0x60],
            }),
            mech_token: None,
            mech_list_mic: Some(vec![1, 2, 3]),
        });
        let b = t.encode();
        assert!(hex::encode(&b).ends_with("a305040301020 3".replace(' ', "").as_str()));
        assert_eq!(NegotiationToken::decode(&b).unwrap(), t);
        assert_eq!(t.mech_list_mic(), Some(&[1u8, 2, 3][..]));
    }

    #[test]
    fn init2_with_hints_and_mic_at_4() {
        let t = NegotiationToken::Init2(NegTokenInit2 {
            mech_types: Some(vec![oid::MS_KRB5, oid::KRB5, oid::IAKERB, oid::NTLMSSP]),
            req_flags: None,
            mech_token: None,
            neg_hints: Some(NegHints {
                hint_name: Some(HINT_NAME_IGNORE.into()),
                hint_address: None,
            }),
            mech_list_mic: Some(vec![9; 4]),
        });
        let b = t.encode_initial();
        let back = NegotiationToken::decode(&b).unwrap();
        assert_eq!(back, t);
        assert!(hex::encode(&b).contains(&hex::encode(HINT_NAME_IGNORE)));
        assert_eq!(back.mech_list_mic(), Some(&[9u8; 4][..]));
        // Init2 with only a [4] MIC and no mechTypes
        let t = NegotiationToken::Init2(NegTokenInit2 {
            mech_list_mic: Some(vec![1]),
            ..Default::default()
        });
        assert_eq!(NegotiationToken::decode(&t.encode()).unwrap(), t);
    }

    #[test]
    fn resp_every_field_and_bare_framing() {
        for state in [
            NegState::AcceptCompleted,
            NegState::AcceptIncomplete,
            NegState::Reject,
            NegState::RequestMic,
        ] {
            let t = NegotiationToken::Resp(NegTokenResp {
                neg_state: Some(state),
                supported_mech: Some(oid::IAKERB),
                response_token: Some(vec![0x60, 0x01, 0x02]),
                mech_list_mic: Some(vec![0x04, 0x04]),
            });
            let b = t.encode();
            assert_eq!(b[0], 0xa1);
            assert_eq!(NegotiationToken::decode(&b).unwrap(), t);
        }
        // accept-completed only, as the final acceptor token
        assert_eq!(
            hex::encode(
                NegotiationToken::Resp(NegTokenResp {
                    neg_state: Some(NegState::AcceptCompleted),
                    ..Default::default()
                })
                .encode()
            ),
            "a1073005a0030a0100"
        );
    }

    #[test]
    fn resp_tolerates_late_fallback_supported_mechs() {
        // [4] supportedMechs (MS-SPNG Late Fallback) after [3]
        let b = unhex("a10e300ca0030a0101a4053003060100");
        let NegotiationToken::Resp(r) = NegotiationToken::decode(&b).unwrap() else {
            panic!()
        };
        assert_eq!(r.neg_state, Some(NegState::AcceptIncomplete));
    }

    #[test]
    fn rejects_malformed_tokens() {
        // unknown negState
        let e = NegotiationToken::decode(&unhex("a1073005a0030a0104")).unwrap_err();
        assert_eq!(e.offset, 8);
        assert!(e.to_string().contains("negState"), "{e}");
        // [2] CHOICE
        let e = NegotiationToken::decode(&unhex("a2023000")).unwrap_err();
        assert!(matches!(
            e.kind,
            ErrorKind::UnexpectedTag { found: 0xa2, .. }
        ));
        // wrong outer mechanism
        let framed = gss::wrap(&oid::KRB5, &unhex("a1023000"));
        assert!(matches!(
            NegotiationToken::decode(&framed).unwrap_err().kind,
            ErrorKind::BadConstant { .. }
        ));
        // trailing bytes after the CHOICE
        assert!(NegotiationToken::decode(&unhex("a10230000000")).is_err());
        // mechTypes that is not a SEQUENCE
        let e = NegotiationToken::decode(&unhex("a0073005a003060100")).unwrap_err();
        assert!(e.to_string().contains("MechTypeList"), "{e}");
        // MechTypeList holding a non-OID
        assert!(NegotiationToken::decode(&unhex("a0083006a00430020500")).is_err());
        // [3] holding an INTEGER
        assert!(NegotiationToken::decode(&unhex("a00b3009a0023000a303020100")).is_err());
        // offsets inside a framed token are absolute
        let framed = gss::wrap(&oid::SPNEGO, &unhex("a1073005a0030a0104"));
        assert_eq!(NegotiationToken::decode(&framed).unwrap_err().offset, 18);
        assert!(NegotiationToken::decode(&[]).is_err());
    }
}
