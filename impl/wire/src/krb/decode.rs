//! The safe entry point for every `kerberos_asn1` type.
//!
//! Three steps, in this order:
//! 1. `der::validate`: whole-tree strict DER, which makes the known
//!    `kerberos_asn1` panics unreachable (reference/crates.md §2.4);
//! 2. the `kerberos_asn1` parse inside the `catch_unwind` fence;
//! 3. reject trailing bytes (`parse` returns them instead of failing) and
//!    require that re-encoding gives back the input. `kerberos_asn1` emits
//!    DER, so this is the X.690 §10 uniqueness rule; it also catches what the
//!    derive-generated parser silently drops (bytes after the inner value of
//!    an EXPLICIT tag, over-long KerberosFlags).

use kerberos_asn1::Asn1Object;

use crate::der;
use crate::error::{ErrorKind, Format, Result, WireError};
use crate::fence::fenced;

/// Decodes one complete `T` from `bytes`: strict DER, no trailing bytes,
/// canonical encoding, never panics. THE way to decode any Kerberos
/// structure that came from the network.
pub fn decode_der<T: Asn1Object>(bytes: &[u8]) -> Result<T> {
    // The type's name is only needed in an error: building it costs an
    // allocation per decode, which the KDC's hot path would pay for nothing.
    let what = || type_label(std::any::type_name::<T>());
    der::validate(bytes, Format::Kerberos)?;
    let parsed = fenced(|| T::parse(bytes)).map_err(|message| {
        WireError::new(
            Format::Kerberos,
            0,
            ErrorKind::DecoderPanic {
                what: what(),
                message,
            },
        )
    })?;
    let (rest, value) = parsed.map_err(|e| {
        WireError::new(
            Format::Kerberos,
            0,
            ErrorKind::Rejected {
                what: what(),
                message: describe(&e),
            },
        )
    })?;
    if !rest.is_empty() {
        return Err(WireError::new(
            Format::Kerberos,
            bytes.len() - rest.len(),
            ErrorKind::TrailingBytes {
                what: "Kerberos structure",
                count: rest.len(),
            },
        ));
    }
    let rebuilt = fenced(|| value.build()).map_err(|message| {
        WireError::new(
            Format::Kerberos,
            0,
            ErrorKind::DecoderPanic {
                what: what(),
                message,
            },
        )
    })?;
    if rebuilt != bytes {
        let at = rebuilt
            .iter()
            .zip(bytes)
            .position(|(a, b)| a != b)
            .unwrap_or(rebuilt.len().min(bytes.len()));
        return Err(WireError::new(
            Format::Kerberos,
            at,
            ErrorKind::NonCanonical { what: what() },
        ));
    }
    Ok(value)
}

/// `kerberos_asn1::as_req::AsReq` -> `AsReq`;
/// `alloc::vec::Vec<kerberos_asn1::pa_data::pa_data::PaData>` -> `Vec<PaData>`.
fn type_label(full: &str) -> String {
    let mut out = String::new();
    let mut segment = String::new();
    for c in full.chars() {
        if c.is_alphanumeric() || c == '_' || c == ':' {
            segment.push(c);
        } else {
            out.push_str(segment.rsplit("::").next().unwrap_or(""));
            segment.clear();
            out.push(c);
        }
    }
    out.push_str(segment.rsplit("::").next().unwrap_or(""));
    out
}

/// A readable form of red_asn1's nested errors: `AsReq.req_body: ...`.
fn describe(e: &red_asn1::Error) -> String {
    match e {
        red_asn1::Error::SequenceFieldError(seq, field, inner) => {
            format!("{seq}.{field}: {}", describe(inner))
        }
        red_asn1::Error::SequenceError(seq, inner) => format!("{seq}: {}", describe(inner)),
        red_asn1::Error::UnmatchedTag(class) => {
            format!("unexpected tag (expected a {class:?} tag)")
        }
        red_asn1::Error::NoAllDataConsumed => "unexpected extra fields".to_string(),
        other => format!("{other:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kerberos_asn1::{AsReq, EtypeInfo2, PaEncTsEnc};

    #[test]
    fn labels_types_without_paths() {
        assert_eq!(type_label(std::any::type_name::<AsReq>()), "AsReq");
        assert_eq!(
            type_label(std::any::type_name::<EtypeInfo2>()),
            "Vec<EtypeInfo2Entry>"
        );
    }

    #[test]
    fn rejects_the_known_panic_inputs_without_panicking() {
        // reference/crates.md §2.4 minimal `split_at` trigger
        let b = hex::decode("3018a011180f32303236303130323033303430355aa104020101").unwrap();
        assert!(decode_der::<PaEncTsEnc>(&b).is_err());
        // month 13
        let b = hex::decode("3013a011180f32303236313330323033303430355a").unwrap();
        let e = decode_der::<PaEncTsEnc>(&b).unwrap_err();
        assert!(
            matches!(
                e.kind,
                ErrorKind::InvalidValue {
                    what: "KerberosTime",
                    ..
                }
            ),
            "{e}"
        );
        assert_eq!(e.offset, 6);
    }

    #[test]
    fn accepts_valid_and_rejects_trailing_and_non_canonical() {
        let ok = hex::decode("3013a011180f32303236303130323033303430355a").unwrap();
        let ts = decode_der::<PaEncTsEnc>(&ok).unwrap();
        assert_eq!(crate::time::format(&ts.patimestamp), "20260102030405Z");
        // garbage after the GeneralizedTime inside the [0] EXPLICIT tag: the
        // derive parser ignores it; the canonical check does not.
        let hidden = hex::decode("3015a013180f32303236303130323033303430355a0500").unwrap();
        let e = decode_der::<PaEncTsEnc>(&hidden).unwrap_err();
        assert!(matches!(e.kind, ErrorKind::NonCanonical { .. }), "{e}");
        // pausec INTEGER 5 encoded on two octets is not DER
        let long_int =
            hex::decode("3019a011180f32303236303130323033303430355aa10402020005").unwrap();
        assert!(decode_der::<PaEncTsEnc>(&long_int).is_err());
        // wrong type entirely
        let e = decode_der::<AsReq>(&ok).unwrap_err();
        assert!(matches!(e.kind, ErrorKind::Rejected { .. }), "{e}");
        assert!(
            e.to_string()
                .starts_with("kerberos: at byte 0: expected a valid AsReq"),
            "{e}"
        );
    }
}
