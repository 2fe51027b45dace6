//! `WireDecode` tests: drive one of kerbside-wire's safe decoders, compare
//! the decoded fields, the re-encoding, or the error class.

use std::collections::BTreeMap;

use kerbside_wire::describe;
use kerbside_wire::gss::{self, GssChecksum, MicToken, WrapToken};
use kerbside_wire::iakerb::{self, IakerbHeader, IakerbProxy, KrbFinished};
use kerbside_wire::kkdcp::{self, Framing, KdcProxyMessage};
use kerbside_wire::spnego::NegotiationToken;
use kerbside_wire::tree::Node;
use kerbside_wire::{ErrorKind, WireError, krb, ntlm, record};

use crate::model::{WireExpected, WireFormat, WireInput, WireParams};
use crate::observe::Evaluation;

/// What a successful decode gives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decoded {
    /// Every field of the decoded tree, by dotted path.
    pub fields: BTreeMap<String, String>,
    /// The value encoded again.
    pub reencoded: Vec<u8>,
}

/// The class name of a decode error (the `kind` in vectors).
pub fn error_kind(e: &WireError) -> &'static str {
    match &e.kind {
        ErrorKind::Truncated { .. } => "truncated",
        ErrorKind::TrailingBytes { .. } => "trailing-bytes",
        ErrorKind::UnexpectedTag { .. } => "unexpected-tag",
        ErrorKind::Missing { .. } => "missing",
        ErrorKind::HighTagNumber { .. } => "high-tag-number",
        ErrorKind::IndefiniteLength => "indefinite-length",
        ErrorKind::NonMinimalLength { .. } => "non-minimal-length",
        ErrorKind::LengthOverrun { .. } => "length-overrun",
        ErrorKind::TooDeep { .. } => "too-deep",
        ErrorKind::TooLarge { .. } => "too-large",
        ErrorKind::InvalidValue { .. } => "invalid-value",
        ErrorKind::NonCanonical { .. } => "non-canonical",
        ErrorKind::Rejected { .. } => "rejected",
        ErrorKind::DecoderPanic { .. } => "decoder-panic",
        ErrorKind::RecordMarkHighBit { .. } => "record-mark-high-bit",
        ErrorKind::LengthMismatch { .. } => "length-mismatch",
        ErrorKind::MissingLengthPrefix { .. } => "missing-length-prefix",
        ErrorKind::BadConstant { .. } => "bad-constant",
        ErrorKind::FieldOutOfBounds { .. } => "field-out-of-bounds",
        ErrorKind::UnknownFormat { .. } => "unknown-format",
        _ => "other",
    }
}

/// Flattens a decoded tree into `path -> value` (paths join child names
/// with `.`, starting at the root's children).
pub fn flatten(node: &Node) -> BTreeMap<String, String> {
    fn walk(n: &Node, prefix: &str, out: &mut BTreeMap<String, String>) {
        for c in &n.children {
            let path = if prefix.is_empty() {
                c.name.clone()
            } else {
                format!("{prefix}.{}", c.name)
            };
            if let Some(v) = &c.value {
                out.entry(path.clone()).or_insert_with(|| v.clone());
            }
            walk(c, &path, out);
        }
    }
    let mut out = BTreeMap::new();
    if let Some(v) = &node.value {
        out.insert(String::new(), v.clone());
    }
    walk(node, "", &mut out);
    out
}

fn described(bytes: &[u8]) -> Result<BTreeMap<String, String>, WireError> {
    let (_, node) = describe::describe(bytes)?;
    let mut f = flatten(&node);
    f.insert("type".to_owned(), node.name.clone());
    Ok(f)
}

fn fields(pairs: &[(&str, String)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), v.clone()))
        .collect()
}

/// Decodes `bytes` as `format`.
pub fn decode(format: WireFormat, bytes: &[u8], params: &WireParams) -> Result<Decoded, WireError> {
    let max = params.max_frame.unwrap_or(record::DEFAULT_MAX_FRAME);
    Ok(match format {
        WireFormat::Kerberos => {
            let m = krb::decode(bytes)?;
            Decoded {
                fields: described(bytes)?,
                reencoded: m.encode(),
            }
        }
        WireFormat::RecordMark => {
            let body = record::decode(bytes, max)?;
            let m = krb::decode(body).map_err(|e| e.shifted(record::MARK_LEN))?;
            let mut f = described(body).map_err(|e| e.shifted(record::MARK_LEN))?;
            f.insert("record-mark".to_owned(), body.len().to_string());
            Decoded {
                fields: f,
                reencoded: record::encode(&m.encode())?,
            }
        }
        WireFormat::Kkdcp => {
            let (m, _) = kkdcp::decode_with_inner(bytes)?;
            Decoded {
                fields: described(bytes)?,
                reencoded: m.encode(),
            }
        }
        WireFormat::KkdcpEnvelope => {
            let m = KdcProxyMessage::decode(bytes)?;
            let framing = match m.kerberos_message_lenient() {
                Ok((inner, Framing::Prefixed)) => format!("prefixed {}", inner.len()),
                Ok((inner, Framing::Bare)) => format!("bare {}", inner.len()),
                Err(e) => format!("invalid ({})", error_kind(&e)),
            };
            let mut f = fields(&[
                ("kerb-message", m.kerb_message.len().to_string()),
                ("framing", framing),
            ]);
            if let Some(t) = &m.target_domain {
                f.insert("target-domain".to_owned(), t.clone());
            }
            if let Some(h) = m.dclocator_hint {
                f.insert("dclocator-hint".to_owned(), h.to_string());
            }
            Decoded {
                fields: f,
                reencoded: m.encode(),
            }
        }
        WireFormat::Iakerb => {
            let (t, _) = iakerb::decode_with_inner(bytes)?;
            let mut f = described(bytes)?;
            f.insert(
                "realm-discovery".to_owned(),
                t.is_realm_discovery().to_string(),
            );
            Decoded {
                fields: f,
                reencoded: t.encode(),
            }
        }
        WireFormat::IakerbHeader => {
            let (h, used) = IakerbHeader::decode_prefix(bytes)?;
            if used != bytes.len() {
                return Err(WireError::new(
                    kerbside_wire::Format::Iakerb,
                    used,
                    ErrorKind::TrailingBytes {
                        what: "IAKERB-HEADER",
                        count: bytes.len() - used,
                    },
                ));
            }
            let mut f = fields(&[
                ("target-realm", h.target_realm.clone()),
                ("extensions", h.extensions.len().to_string()),
            ]);
            if let Some(c) = &h.cookie {
                f.insert("cookie".to_owned(), hex::encode(c));
            }
            if let Some(b) = &h.header_flags {
                f.insert("header-flags".to_owned(), format!("{b:?}"));
            }
            Decoded {
                fields: f,
                reencoded: h.encode(),
            }
        }
        WireFormat::KrbFinished => {
            let k = KrbFinished::decode(bytes)?;
            Decoded {
                fields: fields(&[
                    ("gss-mic.cksumtype", k.gss_mic.cksumtype.to_string()),
                    ("gss-mic.checksum", hex::encode(&k.gss_mic.checksum)),
                ]),
                reencoded: k.encode(),
            }
        }
        WireFormat::GssFraming => {
            let f = gss::unwrap(bytes)?;
            Decoded {
                fields: fields(&[
                    ("mech", f.mech.to_string()),
                    ("inner", f.inner.len().to_string()),
                ]),
                reencoded: gss::wrap(&f.mech, f.inner),
            }
        }
        WireFormat::GssKrb5 => {
            let t = gss::decode_krb_token(bytes)?;
            Decoded {
                fields: fields(&[
                    ("mech", t.mech.to_string()),
                    ("tok-id", hex::encode(t.tok_id)),
                    ("body", t.body.len().to_string()),
                ]),
                reencoded: gss::encode_krb_token(&t.mech, t.tok_id, t.body),
            }
        }
        WireFormat::MicToken => {
            let t = MicToken::decode(bytes)?;
            Decoded {
                fields: fields(&[
                    ("flags", format!("{:02x}", t.flags)),
                    ("snd-seq", t.snd_seq.to_string()),
                    ("checksum", hex::encode(&t.checksum)),
                ]),
                reencoded: t.encode(),
            }
        }
        WireFormat::WrapToken => {
            let t = WrapToken::decode(bytes)?;
            Decoded {
                fields: fields(&[
                    ("flags", format!("{:02x}", t.flags)),
                    ("ec", t.ec.to_string()),
                    ("rrc", t.rrc.to_string()),
                    ("snd-seq", t.snd_seq.to_string()),
                    ("data", t.data.len().to_string()),
                ]),
                reencoded: t.encode(),
            }
        }
        WireFormat::GssChecksum => {
            let c = GssChecksum::decode(bytes)?;
            let mut f = fields(&[
                ("bindings", hex::encode(c.bindings)),
                ("flags", format!("0x{:x}", c.flags)),
                ("extensions", c.extensions.len().to_string()),
            ]);
            if let Some((opt, cred)) = &c.delegation {
                f.insert("delegation".to_owned(), format!("{opt} {}", cred.len()));
            }
            for (t, data) in &c.extensions {
                f.insert(format!("extension.{t}"), data.len().to_string());
            }
            Decoded {
                fields: f,
                reencoded: c.encode(),
            }
        }
        WireFormat::Spnego => {
            let t = NegotiationToken::decode(bytes)?;
            let framed = bytes.first() == Some(&0x60);
            Decoded {
                fields: described(bytes)?,
                reencoded: if framed {
                    t.encode_initial()
                } else {
                    t.encode()
                },
            }
        }
        WireFormat::Ntlm => {
            let m = ntlm::decode(bytes)?;
            Decoded {
                fields: described(bytes)?,
                reencoded: m.encode(),
            }
        }
    })
}

/// Grades one test.
pub fn evaluate(params: &WireParams, input: &WireInput, expected: &WireExpected) -> Evaluation {
    let Ok(bytes) = hex::decode(&input.hex) else {
        return Evaluation::fail("bad-hex", "input hex does not decode");
    };
    match (decode(input.format, &bytes, params), &expected.error) {
        (Ok(d), None) => {
            for (path, want) in &expected.fields {
                match d.fields.get(path) {
                    Some(got) if got == want => {}
                    Some(got) => {
                        return Evaluation::fail(
                            "decoded",
                            format!("{path}: expected {want:?}, decoded {got:?}"),
                        );
                    }
                    None => return Evaluation::fail("decoded", format!("no field {path}")),
                }
            }
            if expected.reencodes == Some(true) && d.reencoded != bytes {
                return Evaluation::fail(
                    "decoded",
                    format!("re-encoding differs: {}", hex::encode(&d.reencoded)),
                );
            }
            Evaluation::pass("decoded")
        }
        (Ok(_), Some(e)) => Evaluation::fail("decoded", format!("expected error {}", e.kind)),
        (Err(err), None) => Evaluation::fail(
            format!("error {}", error_kind(&err)),
            format!("expected a decode, got: {err}"),
        ),
        (Err(err), Some(e)) => {
            let kind = error_kind(&err);
            let observed = format!("error {kind}");
            if kind != e.kind {
                return Evaluation::fail(
                    observed,
                    format!("expected error {}, got: {err}", e.kind),
                );
            }
            if let Some(off) = e.offset
                && off != err.offset
            {
                return Evaluation::fail(observed, format!("expected offset {off}, got: {err}"));
            }
            Evaluation::pass(observed)
        }
    }
}

/// Encodes an IAKERB token (used by the generator).
pub fn iakerb_token(realm: &str, message: &[u8]) -> Vec<u8> {
    IakerbProxy::new(realm, message.to_vec()).encode()
}
