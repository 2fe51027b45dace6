//! Every decode entry point of the crate, as a uniform `fn(&[u8])`.

use kerberos_asn1::{
    ApRep, ApReq, Authenticator, Checksum, EncApRepPart, EncKrbCredPart, EncKrbPrivPart,
    EncTicketPart, EncryptedData, EtypeInfo2, KerbPaPacRequest, KrbError, MethodData, PaData,
    PaEncTsEnc, Ticket, TypedData,
};

use crate::error::WireError;
use crate::krb::constants::padata_type as pt;
use crate::{der, describe, detect, gss, iakerb, kkdcp, krb, ntlm, record, spnego};

/// A decode entry point under test.
#[derive(Debug, Clone, Copy)]
pub struct Target {
    /// Name used in reports.
    pub name: &'static str,
    /// Runs the decoder; only the absence of panics matters.
    pub run: fn(&[u8]) -> Result<(), WireError>,
}

fn der_of<T: krb::Asn1Object>(b: &[u8]) -> Result<(), WireError> {
    krb::decode_der::<T>(b).map(drop)
}

fn padata_all(b: &[u8]) -> Result<(), WireError> {
    // Ok if any typed decoder accepts the bytes (FX-COOKIE always does).
    let mut last = Ok(());
    for t in [
        pt::PA_TGS_REQ,
        pt::PA_ENC_TIMESTAMP,
        pt::PA_ETYPE_INFO2,
        pt::PA_REQ_ENC_PA_REP,
        pt::PA_PAC_REQUEST,
        pt::PA_FX_COOKIE,
    ] {
        let r = krb::decode_padata(&PaData::new(t, b.to_vec())).map(drop);
        if last.is_ok() {
            last = r;
        }
    }
    last
}

fn record_stream(b: &[u8]) -> Result<(), WireError> {
    // the same bytes in 1-, 3- and 7-byte chunks
    for chunk in [1usize, 3, 7] {
        let mut r = record::RecordReader::with_max(4096);
        for piece in b.chunks(chunk) {
            r.push(piece)?;
            while r.next_frame()?.is_some() {}
        }
    }
    Ok(())
}

fn kkdcp_lenient(b: &[u8]) -> Result<(), WireError> {
    let m = kkdcp::KdcProxyMessage::decode(b)?;
    m.kerberos_message_lenient().map(drop)
}

fn iakerb_full(b: &[u8]) -> Result<(), WireError> {
    iakerb::decode_with_inner(b).map(drop)
}

fn ntlm_full(b: &[u8]) -> Result<(), WireError> {
    if let ntlm::NtlmMessage::Authenticate(a) = ntlm::decode(b)? {
        a.ntlmv2_response()?;
        ntlm::zero_mic(b)?;
    }
    Ok(())
}

fn describe_text(b: &[u8]) -> Result<(), WireError> {
    let (_, node) = describe::describe(b)?;
    let _ = node.render_text();
    let _ = node.to_json();
    Ok(())
}

/// Every entry point, in a fixed order.
pub const TARGETS: &[Target] = &[
    Target {
        name: "der::validate",
        run: |b| der::validate(b, crate::Format::Der),
    },
    Target {
        name: "krb::decode",
        run: |b| krb::decode(b).map(drop),
    },
    Target {
        name: "krb::decode_enc_rep_part",
        run: |b| krb::decode_enc_rep_part(b).map(drop),
    },
    Target {
        name: "decode_der::<EncTicketPart>",
        run: der_of::<EncTicketPart>,
    },
    Target {
        name: "decode_der::<Authenticator>",
        run: der_of::<Authenticator>,
    },
    Target {
        name: "decode_der::<PaEncTsEnc>",
        run: der_of::<PaEncTsEnc>,
    },
    Target {
        name: "decode_der::<EtypeInfo2>",
        run: der_of::<EtypeInfo2>,
    },
    Target {
        name: "decode_der::<MethodData>",
        run: der_of::<MethodData>,
    },
    Target {
        name: "decode_der::<TypedData>",
        run: der_of::<TypedData>,
    },
    Target {
        name: "decode_der::<ApReq>",
        run: der_of::<ApReq>,
    },
    Target {
        name: "decode_der::<ApRep>",
        run: der_of::<ApRep>,
    },
    Target {
        name: "decode_der::<KrbError>",
        run: der_of::<KrbError>,
    },
    Target {
        name: "decode_der::<Ticket>",
        run: der_of::<Ticket>,
    },
    Target {
        name: "decode_der::<EncApRepPart>",
        run: der_of::<EncApRepPart>,
    },
    Target {
        name: "decode_der::<EncKrbPrivPart>",
        run: der_of::<EncKrbPrivPart>,
    },
    Target {
        name: "decode_der::<EncKrbCredPart>",
        run: der_of::<EncKrbCredPart>,
    },
    Target {
        name: "decode_der::<EncryptedData>",
        run: der_of::<EncryptedData>,
    },
    Target {
        name: "decode_der::<Checksum>",
        run: der_of::<Checksum>,
    },
    Target {
        name: "decode_der::<KerbPaPacRequest>",
        run: der_of::<KerbPaPacRequest>,
    },
    Target {
        name: "krb::decode_padata",
        run: padata_all,
    },
    Target {
        name: "record::decode",
        run: |b| record::decode(b, 1 << 20).map(drop),
    },
    Target {
        name: "record::RecordReader",
        run: record_stream,
    },
    Target {
        name: "kkdcp::decode_with_inner",
        run: |b| kkdcp::decode_with_inner(b).map(drop),
    },
    Target {
        name: "kkdcp::kerberos_message_lenient",
        run: kkdcp_lenient,
    },
    Target {
        name: "gss::decode_krb_token",
        run: |b| gss::decode_krb_token(b).map(drop),
    },
    Target {
        name: "gss::MicToken",
        run: |b| gss::MicToken::decode(b).map(drop),
    },
    Target {
        name: "gss::WrapToken",
        run: |b| gss::WrapToken::decode(b).map(drop),
    },
    Target {
        name: "gss::GssChecksum",
        run: |b| gss::GssChecksum::decode(b).map(drop),
    },
    Target {
        name: "gss::GssChecksum::decode_acceptor",
        run: |b| gss::GssChecksum::decode_acceptor(b).map(drop),
    },
    Target {
        name: "iakerb::decode_with_inner",
        run: iakerb_full,
    },
    Target {
        name: "iakerb::IakerbHeader",
        run: |b| iakerb::IakerbHeader::decode_prefix(b).map(drop),
    },
    Target {
        name: "iakerb::KrbFinished",
        run: |b| iakerb::KrbFinished::decode(b).map(drop),
    },
    Target {
        name: "spnego::NegotiationToken",
        run: |b| spnego::NegotiationToken::decode(b).map(drop),
    },
    Target {
        name: "ntlm::decode",
        run: ntlm_full,
    },
    Target {
        name: "ntlm::AvPairs",
        run: |b| ntlm::AvPairs::decode(b).map(drop),
    },
    Target {
        name: "ntlm::NtlmV2Response",
        run: |b| ntlm::NtlmV2Response::decode(b).map(drop),
    },
    Target {
        name: "detect::detect",
        run: |b| detect::detect(b).map(drop),
    },
    Target {
        name: "describe::describe",
        run: describe_text,
    },
];
