//! The seed corpus: the MIT captures (tests/data/mit) plus valid samples
//! of every other format and of the structures that only appear encrypted.

use std::time::{Duration, UNIX_EPOCH};

use kerberos_asn1::{
    ApRep, Asn1Object, Authenticator, Checksum, EncApRepPart, EncAsRepPart, EncKrbCredPart,
    EncKrbPrivPart, EncTicketPart, EncryptedData, EncryptionKey, EtypeInfo2Entry, HostAddress,
    KerbPaPacRequest, KrbCred, KrbCredInfo, KrbPriv, PaData, PaEncTsEnc, Ticket,
};

use crate::der::{BitString, Oid};
use crate::gss::{self, GssChecksum, MicToken, WrapToken, oid, tok_id};
use crate::iakerb::{IakerbHeader, IakerbProxy, KrbFinished};
use crate::kkdcp::KdcProxyMessage;
use crate::krb::{self, KrbMessage};
use crate::ntlm::{self, AvPair, AvPairs};
use crate::spnego::{
    NegHints, NegState, NegTokenInit, NegTokenInit2, NegTokenResp, NegotiationToken,
};
use crate::time::to_kerberos_time;

/// The MIT krb5 / kdcproxy captures, as hex.
const MIT: &[(&str, &str)] = &[
    (
        "kkdcp-as-rep",
        include_str!("../../tests/data/mit/kkdcp-as-rep.hex"),
    ),
    (
        "kkdcp-as-req-nopreauth",
        include_str!("../../tests/data/mit/kkdcp-as-req-nopreauth.hex"),
    ),
    (
        "kkdcp-as-req-pa-enc-timestamp",
        include_str!("../../tests/data/mit/kkdcp-as-req-pa-enc-timestamp.hex"),
    ),
    (
        "kkdcp-krb-error-preauth-required",
        include_str!("../../tests/data/mit/kkdcp-krb-error-preauth-required.hex"),
    ),
    (
        "kkdcp-tgs-rep",
        include_str!("../../tests/data/mit/kkdcp-tgs-rep.hex"),
    ),
    (
        "kkdcp-tgs-req",
        include_str!("../../tests/data/mit/kkdcp-tgs-req.hex"),
    ),
    (
        "tcp-as-rep",
        include_str!("../../tests/data/mit/tcp-as-rep.hex"),
    ),
    (
        "tcp-as-rep-principal-nopreauth",
        include_str!("../../tests/data/mit/tcp-as-rep-principal-nopreauth.hex"),
    ),
    (
        "tcp-as-req-nopreauth",
        include_str!("../../tests/data/mit/tcp-as-req-nopreauth.hex"),
    ),
    (
        "tcp-as-req-pa-enc-timestamp",
        include_str!("../../tests/data/mit/tcp-as-req-pa-enc-timestamp.hex"),
    ),
    (
        "tcp-as-req-principal-nopreauth",
        include_str!("../../tests/data/mit/tcp-as-req-principal-nopreauth.hex"),
    ),
    (
        "tcp-krb-error-preauth-required",
        include_str!("../../tests/data/mit/tcp-krb-error-preauth-required.hex"),
    ),
    (
        "tcp-tgs-rep",
        include_str!("../../tests/data/mit/tcp-tgs-rep.hex"),
    ),
    (
        "tcp-tgs-req",
        include_str!("../../tests/data/mit/tcp-tgs-req.hex"),
    ),
    (
        "udp-as-rep",
        include_str!("../../tests/data/mit/udp-as-rep.hex"),
    ),
    (
        "udp-as-rep-principal-nopreauth",
        include_str!("../../tests/data/mit/udp-as-rep-principal-nopreauth.hex"),
    ),
    (
        "udp-as-req-nopreauth",
        include_str!("../../tests/data/mit/udp-as-req-nopreauth.hex"),
    ),
    (
        "udp-as-req-pa-enc-timestamp",
        include_str!("../../tests/data/mit/udp-as-req-pa-enc-timestamp.hex"),
    ),
    (
        "udp-as-req-principal-nopreauth",
        include_str!("../../tests/data/mit/udp-as-req-principal-nopreauth.hex"),
    ),
    (
        "udp-krb-error-preauth-required",
        include_str!("../../tests/data/mit/udp-krb-error-preauth-required.hex"),
    ),
    (
        "udp-tgs-rep",
        include_str!("../../tests/data/mit/udp-tgs-rep.hex"),
    ),
    (
        "udp-tgs-req",
        include_str!("../../tests/data/mit/udp-tgs-req.hex"),
    ),
];

/// One corpus entry: the format family it belongs to and its bytes.
#[derive(Debug, Clone)]
pub struct Seed {
    /// Family used for per-format counts (`kerberos`, `kkdcp`, ...).
    pub format: &'static str,
    /// Where it came from.
    pub name: String,
    /// A valid encoding.
    pub bytes: Vec<u8>,
}

fn seed(format: &'static str, name: &str, bytes: Vec<u8>) -> Seed {
    Seed {
        format,
        name: name.to_string(),
        bytes,
    }
}

/// Every seed, in a fixed order.
pub fn corpus() -> Vec<Seed> {
    let mut out = Vec::new();
    for (name, hex_text) in MIT {
        let Ok(bytes) = hex::decode(hex_text.trim()) else {
            continue;
        };
        let format = if name.starts_with("kkdcp") {
            "kkdcp"
        } else {
            "kerberos"
        };
        out.push(seed(format, name, bytes));
    }
    let mit_as_req = out
        .iter()
        .find(|s| s.name == "tcp-as-req-nopreauth")
        .map(|s| s.bytes.clone())
        .unwrap_or_default();
    let mit_tgs_req = out
        .iter()
        .find(|s| s.name == "tcp-tgs-req")
        .map(|s| s.bytes.clone())
        .unwrap_or_default();
    let mit_error = out
        .iter()
        .find(|s| s.name == "tcp-krb-error-preauth-required")
        .map(|s| s.bytes.clone())
        .unwrap_or_default();
    let ap_req = match krb::decode(&mit_tgs_req) {
        Ok(KrbMessage::TgsReq(r)) => r
            .padata
            .as_ref()
            .and_then(|p| p.first())
            .map(|p| p.padata_value.clone())
            .unwrap_or_default(),
        _ => Vec::new(),
    };
    out.extend(kerberos_structures());
    if let Ok(KrbMessage::KrbError(e)) = krb::decode(&mit_error) {
        out.push(seed(
            "kerberos",
            "METHOD-DATA",
            e.e_data.unwrap_or_default(),
        ));
    }
    out.push(seed("kerberos", "AP-REQ", ap_req.clone()));
    out.push(seed(
        "kerberos",
        "record-marked AS-REQ",
        crate::record::encode(&mit_as_req).unwrap_or_default(),
    ));
    out.extend(framing_seeds(&mit_as_req, &ap_req, &mit_error));
    out.extend(ntlm_seeds());
    out
}

fn time(secs: u64) -> kerberos_asn1::KerberosTime {
    to_kerberos_time(UNIX_EPOCH + Duration::from_secs(secs))
}

/// Structures that only travel encrypted, built with kerberos_asn1.
fn kerberos_structures() -> Vec<Seed> {
    let key = EncryptionKey {
        keytype: 18,
        keyvalue: vec![0x11; 32],
    };
    let cname = krb::principal(1, &["alice"]);
    let sname = krb::principal(2, &["krbtgt", "LAB.TEST"]);
    let etp = EncTicketPart {
        flags: 0x40e1_0000.into(),
        key: key.clone(),
        crealm: "LAB.TEST".into(),
        cname: cname.clone(),
        transited: Default::default(),
        authtime: time(1_790_000_000),
        starttime: Some(time(1_790_000_000)),
        endtime: time(1_790_036_000),
        renew_till: Some(time(1_790_604_800)),
        caddr: None,
        authorization_data: Some(vec![kerberos_asn1::AuthorizationDataEntry {
            ad_type: 1,
            ad_data: vec![0x30, 0x00],
        }]),
    };
    let rep = EncAsRepPart {
        key: key.clone(),
        last_req: vec![kerberos_asn1::LastReqEntry {
            lr_type: 0,
            lr_value: time(1_790_000_000),
        }],
        nonce: 0x1234_5678,
        key_expiration: Some(time(2_000_000_000)),
        flags: 0x40e1_0000.into(),
        authtime: time(1_790_000_000),
        starttime: None,
        endtime: time(1_790_036_000),
        renew_till: None,
        srealm: "LAB.TEST".into(),
        sname: sname.clone(),
        caddr: None,
        encrypted_pa_data: Some(vec![PaData::new(149, Vec::new())]),
    };
    let auth = Authenticator {
        authenticator_vno: 5,
        crealm: "LAB.TEST".into(),
        cname,
        cksum: Some(Checksum {
            cksumtype: 0x8003,
            checksum: GssChecksum::default().encode(),
        }),
        cusec: 123_456,
        ctime: time(1_790_000_001),
        subkey: Some(key),
        seq_number: Some(42),
        authorization_data: None,
    };
    let ts = PaEncTsEnc {
        patimestamp: time(1_790_000_002),
        pausec: Some(999_999),
    };
    let info = vec![EtypeInfo2Entry::new(
        18,
        Some("LAB.TESTalice".into()),
        Some(vec![0, 0, 16, 0]),
    )];
    let ticket = Ticket::new("LAB.TEST".into(), sname, Default::default());
    let enc = EncryptedData::new(18, Some(3), vec![0x55; 40]);
    let addr = HostAddress {
        addr_type: 2,
        address: vec![10, 0, 0, 1],
    };
    let ap_rep = ApRep {
        pvno: 5,
        msg_type: 15,
        enc_part: enc.clone(),
    };
    let ap_rep_part = EncApRepPart {
        ctime: time(1_790_000_003),
        cusec: 7,
        subkey: EncryptionKey {
            keytype: 17,
            keyvalue: vec![0x22; 16],
        },
        seq_number: 0x8000_0001,
    };
    let priv_part = EncKrbPrivPart {
        user_data: b"hello".to_vec(),
        timestamp: Some(time(1_790_000_004)),
        usec: Some(5),
        seq_number: Some(6),
        s_address: addr.clone(),
        r_address: Some(addr.clone()),
    };
    let krb_priv = KrbPriv {
        pvno: 5,
        msg_type: 21,
        enc_part: enc.clone(),
    };
    let cred_part = EncKrbCredPart {
        ticket_info: vec![KrbCredInfo {
            key: EncryptionKey {
                keytype: 18,
                keyvalue: vec![0x33; 32],
            },
            prealm: Some("LAB.TEST".into()),
            pname: Some(krb::principal(1, &["alice"])),
            ..Default::default()
        }],
        nonce: Some(1),
        ..Default::default()
    };
    let krb_cred = KrbCred::new(vec![ticket.clone()], enc.clone());
    let typed = vec![kerberos_asn1::TypedDataEntry {
        data_type: 3,
        data_value: Some(vec![1, 2]),
    }];
    vec![
        seed("kerberos", "EncTicketPart", etp.build()),
        seed("kerberos", "EncASRepPart", rep.build()),
        seed("kerberos", "Authenticator", auth.build()),
        seed("kerberos", "PA-ENC-TS-ENC", ts.build()),
        seed("kerberos", "ETYPE-INFO2", info.build()),
        seed(
            "kerberos",
            "KERB-PA-PAC-REQUEST",
            KerbPaPacRequest::new(true).build(),
        ),
        seed("kerberos", "Ticket", ticket.build()),
        seed("kerberos", "EncryptedData", enc.build()),
        seed("kerberos", "AP-REP", ap_rep.build()),
        seed("kerberos", "EncAPRepPart", ap_rep_part.build()),
        seed("kerberos", "KRB-PRIV", krb_priv.build()),
        seed("kerberos", "EncKrbPrivPart", priv_part.build()),
        seed("kerberos", "KRB-CRED", krb_cred.build()),
        seed("kerberos", "EncKrbCredPart", cred_part.build()),
        seed("kerberos", "TYPED-DATA", typed.build()),
        seed(
            "kerberos",
            "Checksum",
            Checksum {
                cksumtype: 16,
                checksum: vec![8; 12],
            }
            .build(),
        ),
    ]
}

fn framing_seeds(as_req: &[u8], ap_req: &[u8], krb_error: &[u8]) -> Vec<Seed> {
    let mut out = Vec::new();
    if let Ok(m) = KdcProxyMessage::request(as_req, "LAB.TEST") {
        let mut m = m;
        m.dclocator_hint = Some(0x4000_0000);
        out.push(seed("kkdcp", "request with dclocator-hint", m.encode()));
    }
    out.push(seed(
        "gss",
        "AP-REQ token (krb5 OID)",
        gss::encode_krb_token(&oid::KRB5, tok_id::AP_REQ, ap_req),
    ));
    out.push(seed(
        "gss",
        "KRB-ERROR token",
        gss::encode_krb_token(&oid::KRB5, tok_id::KRB_ERROR, krb_error),
    ));
    out.push(seed(
        "gss",
        "MIC token",
        MicToken {
            flags: 5,
            snd_seq: 1,
            checksum: vec![0xab; 12],
        }
        .encode(),
    ));
    out.push(seed(
        "gss",
        "Wrap token",
        WrapToken {
            flags: 6,
            ec: 16,
            rrc: 28,
            snd_seq: 2,
            data: vec![0xcd; 60],
        }
        .encode(),
    ));
    out.push(seed(
        "gss",
        "GSS checksum with FINISHED extension",
        GssChecksum {
            flags: 0x3e,
            extensions: vec![(gss::GSS_EXTS_FINISHED, vec![0x30, 0x00])],
            ..Default::default()
        }
        .encode(),
    ));
    out.push(seed(
        "iakerb",
        "realm discovery (I1)",
        IakerbProxy::discovery_request().encode(),
    ));
    out.push(seed(
        "iakerb",
        "AS-REQ for LAB.TEST",
        IakerbProxy::new("LAB.TEST", as_req.to_vec()).encode(),
    ));
    let windows = IakerbProxy {
        header: IakerbHeader {
            target_realm: ".".into(),
            cookie: Some(vec![1, 2, 3, 4]),
            header_flags: Some(BitString::from_bytes(&[1, 0, 0, 0])),
            extensions: Vec::new(),
        },
        message: krb_error.to_vec(),
    };
    out.push(seed(
        "iakerb",
        "Windows-style KRB-ERROR reply",
        windows.encode(),
    ));
    out.push(seed(
        "iakerb",
        "KRB-FINISHED",
        KrbFinished {
            gss_mic: Checksum {
                cksumtype: 16,
                checksum: vec![0x42; 12],
            },
        }
        .encode(),
    ));
    let ap_token = gss::encode_krb_token(&oid::IAKERB, tok_id::AP_REQ, ap_req);
    let mechs: Vec<Oid> = vec![oid::MS_KRB5, oid::KRB5, oid::IAKERB, oid::NTLMSSP];
    out.push(seed(
        "spnego",
        "NegTokenInit with AP-REQ",
        NegotiationToken::Init(NegTokenInit {
            mech_types: mechs.clone(),
            req_flags: Some(BitString {
                unused: 1,
                bytes: vec![0x60],
            }),
            mech_token: Some(ap_token),
            mech_list_mic: None,
        })
        .encode_initial(),
    ));
    out.push(seed(
        "spnego",
        "NegTokenInit2 with hints",
        NegotiationToken::Init2(NegTokenInit2 {
            mech_types: Some(mechs),
            neg_hints: Some(NegHints {
                hint_name: Some(crate::spnego::HINT_NAME_IGNORE.into()),
                hint_address: None,
            }),
            ..Default::default()
        })
        .encode_initial(),
    ));
    out.push(seed(
        "spnego",
        "NegTokenResp with IAKERB token and MIC",
        NegotiationToken::Resp(NegTokenResp {
            neg_state: Some(NegState::AcceptIncomplete),
            supported_mech: Some(oid::IAKERB),
            response_token: Some(IakerbProxy::new("LAB.TEST", krb_error.to_vec()).encode()),
            mech_list_mic: Some(
                MicToken {
                    flags: 5,
                    snd_seq: 0,
                    checksum: vec![1; 12],
                }
                .encode(),
            ),
        })
        .encode(),
    ));
    out
}

fn ntlm_seeds() -> Vec<Seed> {
    use ntlm::flags as f;
    let flags = f::NEGOTIATE_UNICODE
        | f::NEGOTIATE_NTLM
        | f::NEGOTIATE_EXTENDED_SESSIONSECURITY
        | f::NEGOTIATE_TARGET_INFO
        | f::NEGOTIATE_VERSION
        | f::NEGOTIATE_128
        | f::NEGOTIATE_KEY_EXCH;
    let neg = ntlm::NegotiateMessage {
        flags: flags | f::NEGOTIATE_OEM_DOMAIN_SUPPLIED,
        domain: "LAB".into(),
        workstation: String::new(),
        version: Some(ntlm::Version::windows_10(26100)),
    };
    let info = AvPairs(vec![
        AvPair::NbDomainName("LAB".into()),
        AvPair::NbComputerName("APP".into()),
        AvPair::DnsComputerName("app.lab.test".into()),
        AvPair::Timestamp(0x01dc_0000_0000_0000),
    ]);
    let chal = ntlm::ChallengeMessage {
        target_name: "LAB".into(),
        flags,
        server_challenge: [1, 2, 3, 4, 5, 6, 7, 8],
        target_info: Some(info.clone()),
        version: Some(ntlm::Version::windows_10(26100)),
    };
    let mut client_info = info;
    client_info.0.push(AvPair::Flags(2));
    client_info
        .0
        .push(AvPair::TargetName("HTTP/app.lab.test".into()));
    let v2 = ntlm::NtlmV2Response {
        nt_proof_str: [9; 16],
        client_challenge: ntlm::NtlmV2ClientChallenge {
            timestamp: 0x01dc_0000_0000_0000,
            challenge_from_client: [7; 8],
            av_pairs: client_info,
            trailing: vec![0; 4],
        },
    };
    let auth = ntlm::AuthenticateMessage {
        flags,
        lm_challenge_response: vec![0; 24],
        nt_challenge_response: v2.encode(),
        domain: "LAB".into(),
        user: "alice".into(),
        workstation: "WS01".into(),
        encrypted_random_session_key: vec![5; 16],
        version: Some(ntlm::Version::windows_10(26100)),
        mic: Some([3; 16]),
    };
    vec![
        seed("ntlm", "NEGOTIATE", neg.encode()),
        seed("ntlm", "CHALLENGE", chal.encode()),
        seed("ntlm", "AUTHENTICATE", auth.encode()),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_seed_is_valid_for_some_entry_point() {
        let seeds = corpus();
        assert!(seeds.len() > 40, "{}", seeds.len());
        for s in &seeds {
            let ok = crate::describe::describe(&s.bytes).is_ok()
                || super::super::targets::TARGETS
                    .iter()
                    .any(|t| (t.run)(&s.bytes).is_ok());
            assert!(ok, "seed {} decodes nowhere", s.name);
        }
        for fam in ["kerberos", "kkdcp", "gss", "iakerb", "spnego", "ntlm"] {
            assert!(seeds.iter().any(|s| s.format == fam), "{fam}");
        }
    }
}
