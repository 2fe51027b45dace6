//! wire-* suites: decoding (and re-encoding) of every format, with the
//! captures, reference encodings, optional-field variants and the
//! malformed and boundary cases.

use std::collections::BTreeMap;
use std::time::{Duration, UNIX_EPOCH};

use kerbside_wire::der::{BitString, Oid};
use kerbside_wire::gss::{self, GssChecksum, MicToken, WrapToken, oid, tok_id};
use kerbside_wire::iakerb::{IakerbHeader, IakerbProxy, KrbFinished};
use kerbside_wire::krb::KrbErrorBuilder;
use kerbside_wire::krb::asn1::{
    ApOptions, ApRep, ApReq, AsRep, AsReq, Asn1Object, Checksum, EncryptedData, HostAddress,
    KdcOptions, KdcReqBody, KrbCred, KrbPriv, KrbSafe, KrbSafeBody, PaData, PrincipalName, TgsRep,
    TgsReq, Ticket,
};
use kerbside_wire::spnego::{
    NegHints, NegState, NegTokenInit, NegTokenInit2, NegTokenResp, NegotiationToken,
};
use kerbside_wire::time::to_kerberos_time;

use super::{Suite, group, mit, test};
use crate::kkdcp_body::tlv;
use crate::model::{
    Test, TestGroup, VectorFile, Verdict, WireErrorExpected, WireExpected, WireFormat, WireInput,
    WireParams,
};

type WireTest = Test<WireInput, WireExpected>;

fn h(s: &str) -> Vec<u8> {
    hex::decode(s.replace([' ', '\n'], "")).unwrap_or_default()
}

fn fields(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

/// A test that decodes.
fn ok(
    tc: u32,
    id: &str,
    comment: &str,
    flags: &[&str],
    format: WireFormat,
    bytes: &[u8],
    f: &[(&str, &str)],
) -> WireTest {
    test(
        tc,
        id,
        comment,
        flags,
        Verdict::Valid,
        WireInput {
            format,
            hex: hex::encode(bytes),
        },
        WireExpected {
            fields: fields(f),
            reencodes: Some(true),
            error: None,
        },
    )
}

/// A test that decodes, where rejecting would also conform.
fn lenient(
    tc: u32,
    id: &str,
    comment: &str,
    flags: &[&str],
    format: WireFormat,
    bytes: &[u8],
    f: &[(&str, &str)],
    reencodes: bool,
) -> WireTest {
    let mut t = ok(tc, id, comment, flags, format, bytes, f);
    t.result = Verdict::Acceptable;
    t.expected.reencodes = Some(reencodes);
    t
}

/// A test that must be rejected.
fn bad(
    tc: u32,
    id: &str,
    comment: &str,
    flags: &[&str],
    format: WireFormat,
    bytes: &[u8],
    kind: &str,
) -> WireTest {
    test(
        tc,
        id,
        comment,
        flags,
        Verdict::Invalid,
        WireInput {
            format,
            hex: hex::encode(bytes),
        },
        WireExpected {
            fields: BTreeMap::new(),
            reencodes: None,
            error: Some(WireErrorExpected {
                kind: kind.to_owned(),
                offset: None,
            }),
        },
    )
}

fn at(mut t: WireTest, offset: usize) -> WireTest {
    if let Some(e) = &mut t.expected.error {
        e.offset = Some(offset);
    }
    t
}

fn captured(mut t: WireTest) -> WireTest {
    t.source = Some("mit-lab-test".to_owned());
    t
}

fn wire_group(comment: &str, params: WireParams, tests: Vec<WireTest>) -> TestGroup {
    TestGroup::WireDecode(group(comment, params, tests))
}

pub(crate) fn suites() -> Vec<VectorFile> {
    vec![
        kerberos(),
        record_mark(),
        kkdcp(),
        iakerb(),
        gss_tokens(),
        spnego(),
        ntlm(),
    ]
}

// ------------------------------------------------------------ kerberos ----

fn principal(name_type: i32, comps: &[&str]) -> PrincipalName {
    PrincipalName {
        name_type,
        name_string: comps.iter().map(|c| (*c).to_owned()).collect(),
    }
}

fn t0() -> std::time::SystemTime {
    // 2026-11-24T18:00:35Z, the capture clock.
    UNIX_EPOCH + Duration::from_secs(1_795_543_235)
}

fn ticket() -> Ticket {
    Ticket {
        tkt_vno: 5,
        realm: "LAB.TEST".to_owned(),
        sname: principal(2, &["krbtgt", "LAB.TEST"]),
        enc_part: EncryptedData::new(18, Some(2), vec![0x11; 48]),
    }
}

fn body(nonce: u32) -> KdcReqBody {
    KdcReqBody {
        kdc_options: KdcOptions::from(0x0000_0010),
        cname: Some(principal(1, &["alice"])),
        realm: "LAB.TEST".to_owned(),
        sname: Some(principal(2, &["krbtgt", "LAB.TEST"])),
        from: None,
        till: to_kerberos_time(t0() + Duration::from_secs(36_000)),
        rtime: None,
        nonce,
        etypes: vec![18, 17],
        addresses: None,
        enc_authorization_data: None,
        additional_tickets: None,
    }
}

fn kerberos() -> VectorFile {
    let mut s = Suite::new(
        "wire-kerberos",
        "Kerberos V5 messages (RFC 4120 §5): captures from MIT krb5, every message type with \
         and without OPTIONAL fields, and malformed DER a KDC or client must reject without \
         crashing.",
    );
    s.source(mit::provenance());
    use WireFormat::Kerberos as K;

    let cap = |tc, id: &str, file: &str, comment: &str, f: &[(&str, &str)]| {
        captured(ok(
            tc,
            id,
            comment,
            &["MitCapture"],
            K,
            &mit::bytes(file),
            f,
        ))
    };
    let captures = vec![
        cap(
            1001,
            "wire.krb.mit.as-req-nopreauth",
            "tcp-as-req-nopreauth",
            "kinit's first AS-REQ: PA-AS-FRESHNESS and PA-REQ-ENC-PA-REP, eight enctypes.",
            &[
                ("type", "AS-REQ"),
                ("req-body.realm", "LAB.TEST"),
                ("req-body.cname", "alice (NT-PRINCIPAL)"),
                ("padata.[0].padata-type", "150 (PA-AS-FRESHNESS)"),
                ("req-body.etype.[0]", "18 (aes256-cts-hmac-sha1-96)"),
            ],
        ),
        cap(
            1002,
            "wire.krb.mit.krb-error-preauth-required",
            "tcp-krb-error-preauth-required",
            "MIT's KDC_ERR_PREAUTH_REQUIRED with METHOD-DATA: PA-FX-FAST, PA-ETYPE-INFO2, PA-ENC-TIMESTAMP, PA-FX-COOKIE.",
            &[
                ("type", "KRB-ERROR"),
                ("error-code", "25 (KDC_ERR_PREAUTH_REQUIRED)"),
                ("realm", "LAB.TEST"),
            ],
        ),
        cap(
            1003,
            "wire.krb.mit.as-req-enc-timestamp",
            "tcp-as-req-pa-enc-timestamp",
            "kinit's second AS-REQ with PA-FX-COOKIE and PA-ENC-TIMESTAMP.",
            &[
                ("type", "AS-REQ"),
                ("req-body.cname", "alice (NT-PRINCIPAL)"),
            ],
        ),
        cap(
            1004,
            "wire.krb.mit.as-rep",
            "tcp-as-rep",
            "The AS-REP for alice: TGT with an MS-PAC (krbtgt kvno 2), enc-part etype 18.",
            &[
                ("type", "AS-REP"),
                ("crealm", "LAB.TEST"),
                ("cname", "alice (NT-PRINCIPAL)"),
                ("ticket.sname", "krbtgt/LAB.TEST (NT-SRV-INST)"),
                ("ticket.enc-part.kvno", "2"),
            ],
        ),
        cap(
            1005,
            "wire.krb.mit.tgs-req-fast",
            "tcp-tgs-req",
            "kvno's FAST-armoured TGS-REQ for host/app.lab.test (PA-TGS-REQ + PA-FX-FAST).",
            &[
                ("type", "TGS-REQ"),
                ("req-body.sname", "host/app.lab.test (NT-PRINCIPAL)"),
                ("padata.[1].padata-type", "136 (PA-FX-FAST)"),
            ],
        ),
        cap(
            1006,
            "wire.krb.mit.tgs-rep",
            "tcp-tgs-rep",
            "The TGS-REP (PA-FX-FAST reply), ticket for host/app.lab.test kvno 1.",
            &[
                ("type", "TGS-REP"),
                ("ticket.sname", "host/app.lab.test (NT-PRINCIPAL)"),
            ],
        ),
        cap(
            1007,
            "wire.krb.mit.as-req-no-preauth-principal",
            "tcp-as-req-principal-nopreauth",
            "AS-REQ for a principal without pre-authentication.",
            &[
                ("type", "AS-REQ"),
                ("req-body.cname", "nopreauth (NT-PRINCIPAL)"),
            ],
        ),
        cap(
            1008,
            "wire.krb.mit.as-rep-no-preauth-principal",
            "tcp-as-rep-principal-nopreauth",
            "Its AS-REP, answered without pre-authentication.",
            &[("type", "AS-REP"), ("cname", "nopreauth (NT-PRINCIPAL)")],
        ),
    ];
    s.group(wire_group(
        "Messages captured from MIT krb5 1.20.1 (bare, without the TCP record mark).",
        WireParams::default(),
        captures,
    ));

    // Synthetic messages exercising each type and its OPTIONAL fields.
    let mut minimal_body = body(1);
    minimal_body.cname = None;
    minimal_body.kdc_options = KdcOptions::from(0);
    let no_cname = AsReq {
        req_body: minimal_body,
        ..AsReq::default()
    }
    .build();
    let mut full_body = body(2);
    full_body.from = Some(to_kerberos_time(t0()));
    full_body.rtime = Some(to_kerberos_time(t0() + Duration::from_secs(604_800)));
    full_body.addresses = Some(vec![HostAddress {
        addr_type: 20,
        address: b"WS01            ".to_vec(),
    }]);
    let full = AsReq {
        padata: Some(vec![PaData::new(128, h("3005a0030101ff"))]),
        req_body: full_body,
        ..AsReq::default()
    }
    .build();
    let mut tgs_body = body(3);
    tgs_body.cname = None;
    tgs_body.sname = Some(principal(3, &["host", "app.lab.test"]));
    tgs_body.enc_authorization_data = Some(EncryptedData::new(18, None, vec![0x22; 32]));
    tgs_body.additional_tickets = Some(vec![ticket()]);
    let ap = ApReq {
        ap_options: ApOptions::from(0x2000_0000),
        ticket: ticket(),
        authenticator: EncryptedData::new(18, None, vec![0x33; 40]),
        ..ApReq::default()
    };
    let tgs = TgsReq {
        padata: Some(vec![PaData::new(1, ap.build())]),
        req_body: tgs_body,
        ..TgsReq::default()
    }
    .build();
    let ap_rep = ApRep {
        enc_part: EncryptedData::new(18, None, vec![0x44; 44]),
        ..ApRep::default()
    }
    .build();
    let err_min = KrbErrorBuilder::new(6, t0(), "LAB.TEST", principal(2, &["krbtgt", "LAB.TEST"]))
        .build()
        .build();
    let err_full =
        KrbErrorBuilder::new(24, t0(), "LAB.TEST", principal(2, &["krbtgt", "LAB.TEST"]))
            .client("LAB.TEST", principal(1, &["alice"]))
            .client_time(t0())
            .e_text("PREAUTH_FAILED")
            .e_data(h("300b3009a103020102a2020400"))
            .build()
            .build();
    let safe = KrbSafe {
        safe_body: KrbSafeBody {
            user_data: b"hello".to_vec(),
            timestamp: Some(to_kerberos_time(t0())),
            usec: Some(5),
            seq_number: Some(7),
            s_address: HostAddress {
                addr_type: 2,
                address: vec![127, 0, 0, 1],
            },
            r_address: None,
        },
        cksum: Checksum {
            cksumtype: 16,
            checksum: vec![0x55; 12],
        },
        ..KrbSafe::default()
    }
    .build();
    let private = KrbPriv {
        enc_part: EncryptedData::new(18, None, vec![0x66; 36]),
        ..KrbPriv::default()
    }
    .build();
    let cred = KrbCred {
        tickets: vec![ticket()],
        enc_part: EncryptedData::new(0, None, vec![0x7d, 0x02, 0x30, 0x00]),
        ..KrbCred::default()
    }
    .build();
    let as_rep = AsRep {
        padata: None,
        crealm: "LAB.TEST".to_owned(),
        cname: principal(1, &["alice"]),
        ticket: ticket(),
        enc_part: EncryptedData::new(18, Some(1), vec![0x77; 60]),
        ..AsRep::default()
    }
    .build();
    let tgs_rep = TgsRep {
        padata: None,
        crealm: "LAB.TEST".to_owned(),
        cname: principal(1, &["alice"]),
        ticket: ticket(),
        enc_part: EncryptedData::new(18, None, vec![0x88; 60]),
        ..TgsRep::default()
    }
    .build();
    let mut max_nonce_body = body(0x7fff_ffff);
    max_nonce_body.etypes = vec![18];
    let max_nonce = AsReq {
        req_body: max_nonce_body,
        ..AsReq::default()
    }
    .build();
    let mut empty_etypes_body = body(4);
    empty_etypes_body.etypes = Vec::new();
    let empty_etypes = AsReq {
        req_body: empty_etypes_body,
        ..AsReq::default()
    }
    .build();
    let mut no_comps_body = body(5);
    no_comps_body.cname = Some(principal(1, &[]));
    let no_comps = AsReq {
        req_body: no_comps_body,
        ..AsReq::default()
    }
    .build();
    let mut y2038_body = body(6);
    y2038_body.till = to_kerberos_time(UNIX_EPOCH + Duration::from_secs(2_147_483_648));
    let y2038 = AsReq {
        req_body: y2038_body,
        ..AsReq::default()
    }
    .build();
    let v = ["ValidMessage"];
    let vo = ["ValidMessage", "OptionalFields"];
    let synthetic = vec![
        ok(
            1020,
            "wire.krb.as-req.no-cname",
            "AS-REQ without cname and without padata (both OPTIONAL).",
            &vo,
            K,
            &no_cname,
            &[("type", "AS-REQ"), ("req-body.nonce", "1")],
        ),
        ok(
            1021,
            "wire.krb.as-req.all-optional",
            "AS-REQ with padata, from, rtime and a NetBIOS address.",
            &vo,
            K,
            &full,
            &[("type", "AS-REQ"), ("req-body.rtime", "20261201180035Z")],
        ),
        ok(
            1022,
            "wire.krb.tgs-req.enc-authz-and-additional-tickets",
            "TGS-REQ with PA-TGS-REQ, enc-authorization-data and additional-tickets.",
            &vo,
            K,
            &tgs,
            &[
                ("type", "TGS-REQ"),
                ("req-body.sname", "host/app.lab.test (NT-SRV-HST)"),
            ],
        ),
        ok(
            1023,
            "wire.krb.ap-req.mutual-required",
            "AP-REQ with ap-options mutual-required.",
            &v,
            K,
            &ap.build(),
            &[("type", "AP-REQ"), ("ticket.realm", "LAB.TEST")],
        ),
        ok(
            1024,
            "wire.krb.ap-rep",
            "AP-REP.",
            &v,
            K,
            &ap_rep,
            &[("type", "AP-REP")],
        ),
        ok(
            1025,
            "wire.krb.krb-error.minimal",
            "KRB-ERROR with no OPTIONAL field.",
            &vo,
            K,
            &err_min,
            &[
                ("type", "KRB-ERROR"),
                ("error-code", "6 (KDC_ERR_C_PRINCIPAL_UNKNOWN)"),
            ],
        ),
        ok(
            1026,
            "wire.krb.krb-error.all-optional",
            "KRB-ERROR with ctime, cusec, crealm, cname, e-text and e-data.",
            &vo,
            K,
            &err_full,
            &[
                ("type", "KRB-ERROR"),
                ("error-code", "24 (KDC_ERR_PREAUTH_FAILED)"),
                ("crealm", "LAB.TEST"),
            ],
        ),
        ok(
            1027,
            "wire.krb.krb-safe",
            "KRB-SAFE with timestamp, usec, seq-number and s-address.",
            &vo,
            K,
            &safe,
            &[("type", "KRB-SAFE")],
        ),
        ok(
            1028,
            "wire.krb.krb-priv",
            "KRB-PRIV.",
            &v,
            K,
            &private,
            &[("type", "KRB-PRIV")],
        ),
        ok(
            1029,
            "wire.krb.krb-cred",
            "KRB-CRED with one ticket and an unencrypted (etype 0) enc-part.",
            &v,
            K,
            &cred,
            &[("type", "KRB-CRED")],
        ),
        ok(
            1030,
            "wire.krb.as-rep.no-padata",
            "AS-REP without padata.",
            &vo,
            K,
            &as_rep,
            &[("type", "AS-REP"), ("crealm", "LAB.TEST")],
        ),
        ok(
            1031,
            "wire.krb.tgs-rep",
            "TGS-REP.",
            &v,
            K,
            &tgs_rep,
            &[("type", "TGS-REP")],
        ),
        ok(
            1032,
            "wire.krb.nonce-max-31-bit",
            "nonce 2^31-1, the largest value MIT clients send.",
            &["ValidMessage", "IntegerRange"],
            K,
            &max_nonce,
            &[("req-body.nonce", "2147483647")],
        ),
        ok(
            1033,
            "wire.krb.empty-etype-list",
            "An empty etype SEQUENCE OF decodes (a KDC then refuses it).",
            &["ValidMessage", "IntegerRange"],
            K,
            &empty_etypes,
            &[("type", "AS-REQ")],
        ),
        ok(
            1034,
            "wire.krb.principal-without-components",
            "A PrincipalName with an empty name-string decodes.",
            &["ValidMessage", "OptionalFields"],
            K,
            &no_comps,
            &[("type", "AS-REQ")],
        ),
        ok(
            1035,
            "wire.krb.time-after-2038",
            "KerberosTime after 2038-01-19 (beyond 32-bit time_t).",
            &["ValidMessage", "IntegerRange"],
            K,
            &y2038,
            &[("req-body.till", "20380119031408Z")],
        ),
    ];
    s.group(wire_group(
        "Every message type, with and without OPTIONAL fields.",
        WireParams::default(),
        synthetic,
    ));

    let base = mit::bytes("tcp-as-req-nopreauth");
    let len = base.len();
    let mut trailing = base.clone();
    trailing.push(0);
    let mut indefinite = vec![0x6a, 0x80];
    indefinite.extend_from_slice(base.get(3..).unwrap_or_default());
    indefinite.extend_from_slice(&[0, 0]);
    let mut non_minimal = vec![0x6a, 0x82, 0x00];
    non_minimal.extend_from_slice(base.get(2..).unwrap_or_default());
    let mut wrong_app = base.clone();
    wrong_app[0] = 0x70;
    let mut as_rep_tag = base.clone();
    as_rep_tag[0] = 0x6b;
    let mut not_app = base.clone();
    not_app[0] = 0x30;
    // The first GeneralizedTime (till): 18 0f YYYYMMDDHHMMSSZ.
    let till = base
        .windows(2)
        .position(|w| w == [0x18, 0x0f])
        .map(|p| p + 2);
    let mut bad_time = base.clone();
    let mut frac_time = base.clone();
    let mut local_time = base.clone();
    if let Some(p) = till {
        // A letter for the last seconds digit: kerberos_asn1 0.2.1 panics on it.
        bad_time[p + 13] = b'x';
        frac_time[p + 12] = b'.';
        local_time[p + 14] = b'0';
    }
    let pvno_nonminimal = {
        // pvno as 02 02 00 05 (a leading zero octet).
        let mut seq = Vec::new();
        seq.extend(tlv(0xa1, &[0x02, 0x02, 0x00, 0x05]));
        seq.extend(tlv(0xa2, &[0x02, 0x01, 0x0a]));
        seq.extend(tlv(0xa4, &body(9).build()));
        tlv(0x6a, &tlv(0x30, &seq))
    };
    let swapped = {
        let mut seq = Vec::new();
        seq.extend(tlv(0xa2, &[0x02, 0x01, 0x0a]));
        seq.extend(tlv(0xa1, &[0x02, 0x01, 0x05]));
        seq.extend(tlv(0xa4, &body(9).build()));
        tlv(0x6a, &tlv(0x30, &seq))
    };
    let no_msg_type = {
        let mut seq = Vec::new();
        seq.extend(tlv(0xa1, &[0x02, 0x01, 0x05]));
        seq.extend(tlv(0xa4, &body(9).build()));
        tlv(0x6a, &tlv(0x30, &seq))
    };
    let dup_field = {
        let mut seq = Vec::new();
        seq.extend(tlv(0xa1, &[0x02, 0x01, 0x05]));
        seq.extend(tlv(0xa1, &[0x02, 0x01, 0x05]));
        seq.extend(tlv(0xa2, &[0x02, 0x01, 0x0a]));
        seq.extend(tlv(0xa4, &body(9).build()));
        tlv(0x6a, &tlv(0x30, &seq))
    };
    let nonce_body = |nonce_der: &[u8]| {
        // KDC-REQ-BODY with a hand-written nonce INTEGER.
        let b = body(0x1234_5678).build();
        let needle = [0xa7, 0x06, 0x02, 0x04, 0x12, 0x34, 0x56, 0x78];
        let pos = b
            .windows(needle.len())
            .position(|w| w == needle)
            .unwrap_or(0);
        let mut inner = b.get(2..pos).unwrap_or_default().to_vec(); // after 30 LL (short form)
        if b.get(1).is_some_and(|l| *l & 0x80 != 0) {
            inner = b.get(3..pos).unwrap_or_default().to_vec();
        }
        inner.extend(tlv(0xa7, nonce_der));
        inner.extend_from_slice(b.get(pos + needle.len()..).unwrap_or_default());
        let mut seq = Vec::new();
        seq.extend(tlv(0xa1, &[0x02, 0x01, 0x05]));
        seq.extend(tlv(0xa2, &[0x02, 0x01, 0x0a]));
        seq.extend(tlv(0xa4, &tlv(0x30, &inner)));
        tlv(0x6a, &tlv(0x30, &seq))
    };
    let negative_nonce = nonce_body(&[0x02, 0x01, 0xff]);
    let huge_nonce = nonce_body(&[0x02, 0x05, 0x01, 0x00, 0x00, 0x00, 0x00]);
    let nonce_leading_zero = nonce_body(&[0x02, 0x05, 0x00, 0x12, 0x34, 0x56, 0x78]);
    let mut deep = vec![0x04, 0x00];
    for _ in 0..200 {
        deep = tlv(0x30, &deep);
    }
    let deep = tlv(0x6a, &deep);
    let mut overrun = base.clone();
    // The first inner length (30 81 LL) one too long.
    if let Some(b) = overrun.get_mut(5) {
        *b = b.wrapping_add(1);
    }
    let constructed_octets = {
        let mut m = ApReq {
            ticket: ticket(),
            authenticator: EncryptedData::new(18, None, vec![0x33; 4]),
            ..ApReq::default()
        }
        .build();
        // authenticator cipher: a2 06 04 04 33 33 33 33 -> 24 06 04 04 33...
        let needle = [0x04, 0x04, 0x33, 0x33, 0x33, 0x33];
        if let Some(p) = m.windows(6).position(|w| w == needle) {
            m[p] = 0x24;
            m[p + 1] = 0x04;
        }
        m
    };
    let mal = |tc, id: &str, comment: &str, flags: &[&str], bytes: &[u8], kind: &str| {
        bad(tc, id, comment, flags, K, bytes, kind)
    };
    let malformed = vec![
        mal(
            1050,
            "wire.krb.empty",
            "Zero bytes.",
            &["EmptyInput"],
            &[],
            "missing",
        ),
        mal(
            1051,
            "wire.krb.tag-only",
            "Only the AS-REQ tag.",
            &["Truncated"],
            &[0x6a],
            "truncated",
        ),
        mal(
            1052,
            "wire.krb.truncated-last-byte",
            "The capture without its last byte.",
            &["Truncated"],
            base.get(..len - 1).unwrap_or_default(),
            "length-overrun",
        ),
        mal(
            1053,
            "wire.krb.truncated-half",
            "The capture cut in half.",
            &["Truncated"],
            base.get(..len / 2).unwrap_or_default(),
            "length-overrun",
        ),
        at(
            mal(
                1054,
                "wire.krb.trailing-byte",
                "The capture plus one zero byte.",
                &["TrailingBytes"],
                &trailing,
                "trailing-bytes",
            ),
            len,
        ),
        mal(
            1055,
            "wire.krb.indefinite-length",
            "The outer length in the BER indefinite form.",
            &["IndefiniteLength"],
            &indefinite,
            "indefinite-length",
        ),
        mal(
            1056,
            "wire.krb.non-minimal-length",
            "The outer length as 82 00 b0 instead of 81 b0.",
            &["NonMinimalLength"],
            &non_minimal,
            "non-minimal-length",
        ),
        mal(
            1057,
            "wire.krb.unknown-application-tag",
            "[APPLICATION 16] (reserved, U2U TGT-REQ) is not a message kerberos_asn1 or RFC 4120 §5.10 lists.",
            &["WrongTag"],
            &wrong_app,
            "unexpected-tag",
        ),
        mal(
            1058,
            "wire.krb.as-rep-tag-on-as-req",
            "An AS-REQ body under the AS-REP tag.",
            &["WrongTag"],
            &as_rep_tag,
            "rejected",
        ),
        mal(
            1059,
            "wire.krb.universal-sequence-tag",
            "A SEQUENCE where the APPLICATION tag belongs.",
            &["WrongTag"],
            &not_app,
            "unexpected-tag",
        ),
        mal(
            1060,
            "wire.krb.time-bad-digit",
            "till with a letter for a digit (panics kerberos_asn1 0.2.1's parser).",
            &["BadTime"],
            &bad_time,
            "invalid-value",
        ),
        mal(
            1061,
            "wire.krb.time-fraction",
            "till with a '.' inside the seconds.",
            &["BadTime"],
            &frac_time,
            "invalid-value",
        ),
        mal(
            1062,
            "wire.krb.time-not-utc",
            "till ending in '0' instead of 'Z' (local time).",
            &["BadTime"],
            &local_time,
            "invalid-value",
        ),
        mal(
            1063,
            "wire.krb.integer-leading-zero",
            "pvno encoded as 02 02 00 05.",
            &["NonCanonical"],
            &pvno_nonminimal,
            "invalid-value",
        ),
        mal(
            1064,
            "wire.krb.fields-swapped",
            "msg-type [2] before pvno [1].",
            &["FieldOrder"],
            &swapped,
            "rejected",
        ),
        mal(
            1065,
            "wire.krb.missing-msg-type",
            "No msg-type [2].",
            &["MissingField"],
            &no_msg_type,
            "rejected",
        ),
        mal(
            1066,
            "wire.krb.duplicate-field",
            "pvno [1] twice.",
            &["FieldOrder"],
            &dup_field,
            "rejected",
        ),
        lenient(
            1067,
            "wire.krb.nonce-negative",
            "nonce encoded as 02 01 ff: RFC 4120 says UInt32, but deployed KDCs and clients encode nonces as signed 32-bit INTEGERs (hence MIT's 31-bit nonces); kerbside reads it as 4294967295.",
            &["IntegerRange", "MitCapture"],
            K,
            &negative_nonce,
            &[("req-body.nonce", "4294967295")],
            true,
        ),
        mal(
            1068,
            "wire.krb.nonce-above-uint32",
            "nonce 2^32.",
            &["IntegerRange"],
            &huge_nonce,
            "rejected",
        ),
        mal(
            1069,
            "wire.krb.nonce-leading-zero",
            "nonce with a superfluous leading 00 octet.",
            &["NonCanonical"],
            &nonce_leading_zero,
            "invalid-value",
        ),
        mal(
            1070,
            "wire.krb.deep-nesting",
            "200 nested SEQUENCEs under the AS-REQ tag.",
            &["DeepNesting"],
            &deep,
            "too-deep",
        ),
        mal(
            1071,
            "wire.krb.inner-length-overrun",
            "The SEQUENCE inside claims one byte more than its container holds.",
            &["LengthOverrun"],
            &overrun,
            "length-overrun",
        ),
        mal(
            1072,
            "wire.krb.constructed-octet-string",
            "A constructed OCTET STRING (BER) as the authenticator cipher.",
            &["WrongTag"],
            &constructed_octets,
            "invalid-value",
        ),
        mal(
            1073,
            "wire.krb.high-tag-number",
            "The high-tag-number form 7f 22 (APPLICATION 34).",
            &["HighTagNumber"],
            &h("7f2203020105"),
            "unexpected-tag",
        ),
    ];
    s.group(wire_group(
        "Malformed and boundary encodings: each must be refused with an error, never a panic or a partial message.",
        WireParams::default(),
        malformed,
    ));
    s.finish()
}

// ---------------------------------------------------------- record mark ----

fn record_mark() -> VectorFile {
    let mut s = Suite::new(
        "wire-record-mark",
        "The RFC 4120 §7.2.2 TCP record mark: 4-octet big-endian length, high bit reserved, a \
         cap on what a receiver buffers.",
    );
    s.source(mit::provenance());
    use WireFormat::RecordMark as R;
    let req = mit::bytes("tcp-as-req-nopreauth");
    let framed = |len: u32, body: &[u8]| {
        let mut v = len.to_be_bytes().to_vec();
        v.extend_from_slice(body);
        v
    };
    let n = req.len() as u32;
    let err = mit::bytes("tcp-krb-error-preauth-required");
    let rep = mit::bytes("tcp-as-rep");
    let rm = ["RecordMark"];
    let mut two = framed(n, &req);
    two.extend(framed(n, &req));
    let tests = vec![
        captured(ok(
            2001,
            "wire.record.as-req",
            "kinit's AS-REQ with its record mark (176 bytes).",
            &["RecordMark", "MitCapture"],
            R,
            &framed(n, &req),
            &[("record-mark", "176"), ("type", "AS-REQ")],
        )),
        captured(ok(
            2002,
            "wire.record.krb-error",
            "The KDC's KRB-ERROR reply with its record mark.",
            &["RecordMark", "MitCapture"],
            R,
            &framed(err.len() as u32, &err),
            &[("type", "KRB-ERROR")],
        )),
        captured(ok(
            2003,
            "wire.record.as-rep",
            "An 812-byte AS-REP with its record mark (the length needs two octets).",
            &["RecordMark", "MitCapture"],
            R,
            &framed(rep.len() as u32, &rep),
            &[("record-mark", "812")],
        )),
        bad(
            2004,
            "wire.record.zero-length",
            "A mark of 0 and no message.",
            &rm,
            R,
            &framed(0, &[]),
            "missing",
        ),
        at(
            bad(
                2005,
                "wire.record.high-bit",
                "High bit set on an otherwise correct length: KRB_ERR_FIELD_TOOLONG territory.",
                &["RecordMarkHighBit"],
                R,
                &framed(0x8000_0000 | n, &req),
                "record-mark-high-bit",
            ),
            0,
        ),
        bad(
            2006,
            "wire.record.high-bit-only",
            "0x80000000: the reserved bit alone.",
            &["RecordMarkHighBit"],
            R,
            &framed(0x8000_0000, &[]),
            "record-mark-high-bit",
        ),
        bad(
            2007,
            "wire.record.declared-longer",
            "The mark says one byte more than follows.",
            &["LengthMismatch"],
            R,
            &framed(n + 1, &req),
            "length-mismatch",
        ),
        bad(
            2008,
            "wire.record.declared-shorter",
            "The mark says one byte less than follows.",
            &["LengthMismatch"],
            R,
            &framed(n - 1, &req),
            "length-mismatch",
        ),
        bad(
            2009,
            "wire.record.two-frames",
            "Two framed requests where one is expected (pipelining is the stream reader's job).",
            &["LengthMismatch"],
            R,
            &two,
            "length-mismatch",
        ),
        bad(
            2010,
            "wire.record.mark-truncated",
            "Three bytes: less than a mark.",
            &["Truncated"],
            R,
            &[0, 0, 0],
            "truncated",
        ),
        bad(
            2011,
            "wire.record.empty",
            "Nothing at all.",
            &["EmptyInput"],
            R,
            &[],
            "truncated",
        ),
        bad(
            2012,
            "wire.record.max-31-bit",
            "0x7fffffff: legal by the RFC, far above any cap.",
            &["FrameCap"],
            R,
            &framed(0x7fff_ffff, &req),
            "too-large",
        ),
        bad(
            2013,
            "wire.record.bit-30",
            "0x40000000 (1 GiB).",
            &["FrameCap"],
            R,
            &framed(0x4000_0000, &[]),
            "too-large",
        ),
        bad(
            2014,
            "wire.record.not-kerberos",
            "A correct mark around bytes that are not a Kerberos message.",
            &["RecordMark", "WrongTag"],
            R,
            &framed(5, b"hello"),
            "unexpected-tag",
        ),
        bad(
            2015,
            "wire.record.body-truncated-message",
            "A correct mark around a truncated AS-REQ.",
            &["RecordMark", "Truncated"],
            R,
            &framed(n - 10, req.get(..req.len() - 10).unwrap_or_default()),
            "length-overrun",
        ),
    ];
    s.group(wire_group(
        "Framing with kerbside's default 64 KiB cap.",
        WireParams::default(),
        tests,
    ));
    let capped = vec![captured(ok(
        2030,
        "wire.record.at-cap",
        "A 176-byte message under a 176-byte cap: exactly at the limit is accepted.",
        &["FrameCap", "MitCapture"],
        R,
        &framed(n, &req),
        &[("record-mark", "176")],
    ))];
    s.group(wire_group(
        "A receiver whose cap is exactly the message size.",
        WireParams {
            max_frame: Some(176),
        },
        capped,
    ));
    let over = vec![bad(
        2031,
        "wire.record.above-cap",
        "A 176-byte message under a 175-byte cap: refused from the mark alone.",
        &["FrameCap"],
        R,
        &framed(n, &req),
        "too-large",
    )];
    s.group(wire_group(
        "A receiver whose cap is one byte below the message size.",
        WireParams {
            max_frame: Some(175),
        },
        over,
    ));
    s.finish()
}

// --------------------------------------------------------------- kkdcp ----

/// kdcproxy tests.py KDCProxyCodecTests.asreq1 (protocols.md §1.2 K1).
pub(crate) const K1: &str = "3081c4a081b00481ad000000a96a81a63081a3a103020105a20302010aa30e300c300aa10402020095a2020400a48186308183a00703050040000010a1123010a003020101a10930071b0561646d696ea20f1b0d465245454950412e4c4f43414ca3223020a003020102a11930171b066b72627467741b0d465245454950412e4c4f43414ca511180f32303135303531343130343233385aa706020411c863b5a814301202011202011102011002011702011902011aa10f1b0d465245454950412e4c4f43414c";

fn kkdcp_msg(kerb_message: &[u8], domain: Option<(u8, &str)>, hint: Option<&[u8]>) -> Vec<u8> {
    let mut seq = tlv(0xa0, &tlv(0x04, kerb_message));
    if let Some((tag, d)) = domain {
        seq.extend(tlv(0xa1, &tlv(tag, d.as_bytes())));
    }
    if let Some(hint) = hint {
        seq.extend(tlv(0xa2, &tlv(0x02, hint)));
    }
    tlv(0x30, &seq)
}

fn prefixed(msg: &[u8]) -> Vec<u8> {
    let mut v = (msg.len() as u32).to_be_bytes().to_vec();
    v.extend_from_slice(msg);
    v
}

fn kkdcp() -> VectorFile {
    let mut s = Suite::new(
        "wire-kkdcp",
        "MS-KKDCP §2.2.2 KDC-PROXY-MESSAGE: kdcproxy's own vectors, MIT/kdcproxy captures, the \
         length-prefix and target-domain variants, malformed envelopes.",
    );
    s.source(mit::provenance());
    s.source(crate::model::Provenance {
        id: "kdcproxy-tests".to_owned(),
        description: "latchset/kdcproxy tests.py KDCProxyCodecTests (commit 2d85bc6, 1.1.0): \
                      asreq1 (MIT AS-REQ to FREEIPA.LOCAL) and the RESPONSE reply."
            .to_owned(),
        files: vec!["kdcproxy/tests.py".to_owned()],
    });
    use WireFormat::{Kkdcp as P, KkdcpEnvelope as E};
    let req = mit::bytes("tcp-as-req-nopreauth");
    let pre = prefixed(&req);
    let km = ["KkdcpMessage"];
    let mut k1 = ok(
        3001,
        "wire.kkdcp.kdcproxy-asreq1",
        "kdcproxy's asreq1: MIT's AS-REQ for admin@FREEIPA.LOCAL, 199 bytes.",
        &["KkdcpMessage", "KdcproxyVector"],
        P,
        &h(K1),
        &[
            ("target-domain", "FREEIPA.LOCAL"),
            ("kerb-message.AS-REQ.req-body.realm", "FREEIPA.LOCAL"),
            ("kerb-message.AS-REQ.req-body.cname", "admin (NT-PRINCIPAL)"),
        ],
    );
    k1.source = Some("kdcproxy-tests".to_owned());
    let mut k2 = ok(
        3002,
        "wire.kkdcp.kdcproxy-response",
        "kdcproxy's test reply SEQ{[0] \"RESPONSE\"}: an envelope without target-domain (the payload is a placeholder).",
        &["KkdcpResponse", "KdcproxyVector"],
        E,
        &h("300ca00a0408524553504f4e5345"),
        &[("kerb-message", "8")],
    );
    k2.source = Some("kdcproxy-tests".to_owned());
    let cap = |tc, id: &str, file: &str, comment: &str, f: &[(&str, &str)]| {
        captured(ok(
            tc,
            id,
            comment,
            &["KkdcpMessage", "MitCapture"],
            P,
            &mit::bytes(file),
            f,
        ))
    };
    let mut tests = vec![
        k1,
        k2,
        cap(
            3003,
            "wire.kkdcp.mit.as-req",
            "kkdcp-as-req-nopreauth",
            "MIT's first AS-REQ POSTed to kdcproxy.",
            &[
                ("target-domain", "LAB.TEST"),
                ("kerb-message.AS-REQ.req-body.realm", "LAB.TEST"),
            ],
        ),
        cap(
            3004,
            "wire.kkdcp.mit.krb-error",
            "kkdcp-krb-error-preauth-required",
            "kdcproxy's reply carrying PREAUTH_REQUIRED (no target-domain in replies).",
            &[(
                "kerb-message.KRB-ERROR.error-code",
                "25 (KDC_ERR_PREAUTH_REQUIRED)",
            )],
        ),
        cap(
            3005,
            "wire.kkdcp.mit.as-req-enc-timestamp",
            "kkdcp-as-req-pa-enc-timestamp",
            "MIT's pre-authenticated AS-REQ through the proxy.",
            &[("target-domain", "LAB.TEST")],
        ),
        cap(
            3006,
            "wire.kkdcp.mit.as-rep",
            "kkdcp-as-rep",
            "kdcproxy's AS-REP reply.",
            &[("kerb-message.AS-REP.crealm", "LAB.TEST")],
        ),
        cap(
            3007,
            "wire.kkdcp.mit.tgs-req",
            "kkdcp-tgs-req",
            "MIT's FAST TGS-REQ through the proxy.",
            &[("target-domain", "LAB.TEST")],
        ),
        cap(
            3008,
            "wire.kkdcp.mit.tgs-rep",
            "kkdcp-tgs-rep",
            "kdcproxy's TGS-REP reply.",
            &[("kerb-message.TGS-REP.crealm", "LAB.TEST")],
        ),
        ok(
            3009,
            "wire.kkdcp.dclocator-hint",
            "target-domain and a dclocator-hint of 0x40000000 (MS-NRPC flag).",
            &["KkdcpMessage", "DclocatorHint"],
            P,
            &kkdcp_msg(&pre, Some((0x1b, "LAB.TEST")), Some(&[0x40, 0, 0, 0])),
            &[("dclocator-hint", "0x40000000")],
        ),
        lenient(
            3010,
            "wire.kkdcp.realm-ia5string",
            "target-domain as IA5String: no known client sends it; kerbside accepts it and re-encodes GeneralString.",
            &["KkdcpMessage", "RealmStringType"],
            P,
            &kkdcp_msg(&pre, Some((0x16, "LAB.TEST")), None),
            &[("target-domain", "LAB.TEST")],
            false,
        ),
        lenient(
            3011,
            "wire.kkdcp.realm-utf8string",
            "target-domain as UTF8String.",
            &["KkdcpMessage", "RealmStringType"],
            P,
            &kkdcp_msg(&pre, Some((0x0c, "LAB.TEST")), None),
            &[("target-domain", "LAB.TEST")],
            false,
        ),
        ok(
            3012,
            "wire.kkdcp.no-target-domain",
            "A request envelope without target-domain decodes (refusing it is the relay's job, MS-KKDCP §3.2.5.1).",
            &km,
            P,
            &kkdcp_msg(&pre, None, None),
            &[("kerb-message.AS-REQ.req-body.realm", "LAB.TEST")],
        ),
        lenient(
            3013,
            "wire.kkdcp.negative-hint",
            "dclocator-hint -1.",
            &["DclocatorHint"],
            E,
            &kkdcp_msg(&pre, Some((0x1b, "LAB.TEST")), Some(&[0xff])),
            &[("dclocator-hint", "-1")],
            true,
        ),
        ok(
            3014,
            "wire.kkdcp.empty-realm",
            "target-domain of zero length decodes (and names no realm).",
            &km,
            P,
            &kkdcp_msg(&pre, Some((0x1b, "")), None),
            &[("target-domain", "")],
        ),
        ok(
            3015,
            "wire.kkdcp.envelope.bare-message",
            "The envelope of an Apple-style request: kerb-message holds the bare AS-REQ.",
            &["MissingLengthPrefix"],
            E,
            &kkdcp_msg(&req, Some((0x1b, "LAB.TEST")), None),
            &[("framing", "bare 176"), ("target-domain", "LAB.TEST")],
        ),
    ];
    let mut trailing = kkdcp_msg(&pre, Some((0x1b, "LAB.TEST")), None);
    trailing.push(0);
    let mut long_prefix = pre.clone();
    long_prefix[3] = long_prefix[3].wrapping_add(1);
    let mut short_prefix = pre.clone();
    short_prefix[3] = short_prefix[3].wrapping_sub(1);
    let mut zero_prefix = pre.clone();
    zero_prefix[..4].copy_from_slice(&[0, 0, 0, 0]);
    let mut high_prefix = pre.clone();
    high_prefix[0] = 0x80;
    let mut with_trailing_inner = req.clone();
    with_trailing_inner.push(0);
    let swapped = {
        let mut seq = tlv(0xa1, &tlv(0x1b, b"LAB.TEST"));
        seq.extend(tlv(0xa0, &tlv(0x04, &pre)));
        tlv(0x30, &seq)
    };
    let extra_field = {
        let mut seq = tlv(0xa0, &tlv(0x04, &pre));
        seq.extend(tlv(0xa1, &tlv(0x1b, b"LAB.TEST")));
        seq.extend(tlv(0xa3, &tlv(0x05, &[])));
        tlv(0x30, &seq)
    };
    let bitstring = tlv(0x30, &tlv(0xa0, &tlv(0x03, &pre)));
    let set = tlv(0x31, &tlv(0xa0, &tlv(0x04, &pre)));
    let mut indefinite = vec![0x30, 0x80];
    indefinite.extend(tlv(0xa0, &tlv(0x04, &pre)));
    indefinite.extend_from_slice(&[0, 0]);
    let mut nonmin = vec![0x30, 0x82, 0x00];
    let inner = tlv(0xa0, &tlv(0x04, &pre));
    nonmin.push(inner.len() as u8);
    nonmin.extend_from_slice(&inner);
    let realm_octets = kkdcp_msg(&pre, Some((0x04, "LAB.TEST")), None);
    let hint_string = {
        let mut seq = tlv(0xa0, &tlv(0x04, &pre));
        seq.extend(tlv(0xa2, &tlv(0x1b, b"4")));
        tlv(0x30, &seq)
    };
    let mut two = kkdcp_msg(&pre, Some((0x1b, "LAB.TEST")), None);
    two.extend(kkdcp_msg(&pre, Some((0x1b, "LAB.TEST")), None));
    let d = Some((0x1b, "LAB.TEST"));
    tests.extend(vec![
        bad(3030, "wire.kkdcp.trailing-byte", "One byte after the SEQUENCE (kdcproxy check 4: 400 Invalid request).", &["TrailingBytes"], P, &trailing, "trailing-bytes"),
        bad(3031, "wire.kkdcp.bare-message", "kerb-message without the 4-byte length (Apple, kdcproxy#61): check 5, 400 Invalid request length.", &["MissingLengthPrefix", "PrefixCheck"], P, &kkdcp_msg(&req, d, None), "missing-length-prefix"),
        bad(3032, "wire.kkdcp.prefix-too-long", "The prefix says one byte more than the message.", &["PrefixCheck", "LengthMismatch"], P, &kkdcp_msg(&long_prefix, d, None), "length-mismatch"),
        bad(3033, "wire.kkdcp.prefix-too-short", "The prefix says one byte less than the message.", &["PrefixCheck", "LengthMismatch"], P, &kkdcp_msg(&short_prefix, d, None), "length-mismatch"),
        bad(3034, "wire.kkdcp.prefix-zero", "A zero prefix before a message.", &["PrefixCheck", "LengthMismatch"], P, &kkdcp_msg(&zero_prefix, d, None), "length-mismatch"),
        bad(3035, "wire.kkdcp.prefix-high-bit", "The prefix with its high bit set.", &["PrefixCheck", "LengthMismatch"], P, &kkdcp_msg(&high_prefix, d, None), "length-mismatch"),
        bad(3036, "wire.kkdcp.kerb-message-2-bytes", "kerb-message of two bytes: shorter than a prefix.", &["PrefixCheck", "Truncated"], P, &kkdcp_msg(&[0, 1], d, None), "truncated"),
        bad(3037, "wire.kkdcp.kerb-message-empty", "An empty kerb-message.", &["PrefixCheck", "Truncated"], P, &kkdcp_msg(&[], d, None), "truncated"),
        bad(3038, "wire.kkdcp.fields-swapped", "target-domain [1] before kerb-message [0].", &["FieldOrder"], P, &swapped, "unexpected-tag"),
        bad(3039, "wire.kkdcp.unknown-field", "A [3] field after target-domain.", &["FieldOrder"], P, &extra_field, "unexpected-tag"),
        bad(3040, "wire.kkdcp.kerb-message-bit-string", "kerb-message as BIT STRING.", &["WrongTag"], P, &bitstring, "unexpected-tag"),
        bad(3041, "wire.kkdcp.set-not-sequence", "SET instead of SEQUENCE.", &["WrongTag"], P, &set, "unexpected-tag"),
        bad(3042, "wire.kkdcp.indefinite-length", "BER indefinite length.", &["IndefiniteLength"], P, &indefinite, "indefinite-length"),
        bad(3043, "wire.kkdcp.non-minimal-length", "The SEQUENCE length as 82 00 LL.", &["NonMinimalLength"], P, &nonmin, "non-minimal-length"),
        bad(3044, "wire.kkdcp.realm-octet-string", "target-domain as OCTET STRING.", &["RealmStringType", "WrongTag"], P, &realm_octets, "unexpected-tag"),
        bad(3045, "wire.kkdcp.hint-not-integer", "dclocator-hint as a string.", &["DclocatorHint", "WrongTag"], P, &hint_string, "unexpected-tag"),
        bad(3046, "wire.kkdcp.inner-not-kerberos", "A correct prefix around \"hello\".", &["WrongTag"], P, &kkdcp_msg(&prefixed(b"hello"), d, None), "unexpected-tag"),
        bad(3047, "wire.kkdcp.inner-trailing-byte", "The prefix counts a zero byte after the AS-REQ.", &["TrailingBytes"], P, &kkdcp_msg(&prefixed(&with_trailing_inner), d, None), "trailing-bytes"),
        bad(3048, "wire.kkdcp.two-messages", "Two envelopes back to back.", &["TrailingBytes"], P, &two, "trailing-bytes"),
        bad(3049, "wire.kkdcp.body-hello", "The body \"hello\" (kdcproxy 1.1.0: uncaught TypeError, 500).", &["BodyDecode"], P, b"hello", "unexpected-tag"),
        bad(3050, "wire.kkdcp.empty-body", "An empty body.", &["EmptyInput"], P, &[], "missing"),
    ]);
    s.group(wire_group(
        "KDC-PROXY-MESSAGE envelopes and their inner messages.",
        WireParams::default(),
        tests,
    ));
    s.finish()
}

// -------------------------------------------------------------- iakerb ----

fn iakerb() -> VectorFile {
    let mut s = Suite::new(
        "wire-iakerb",
        "IAKERB tokens (draft-ietf-kitten-iakerb-03 as MIT implements it, plus Microsoft's \
         header-flags): realm discovery, proxied messages, headers, KRB-FINISHED, reference \
         encodings and malformed tokens.",
    );
    s.source(mit::provenance());
    s.source(crate::model::Provenance {
        id: "iakerb-references".to_owned(),
        description: "Reference encodings: MIT src/tests/asn.1/reference_encode.out \
                      (encode_krb5_iakerb_header, encode_krb5_iakerb_finished), a Go IAKERB \
                      golden test (TEST.REALM, cookie 01 02), and header bytes from scapy's \
                      recording of a Windows build 29617 IAKerb exchange (test/scapy/layers/\
                      kerberos.uts, commit ac38b273)."
            .to_owned(),
        files: Vec::new(),
    });
    use WireFormat::{Iakerb as I, IakerbHeader as H, KrbFinished as F};
    let k1 = h(K1);
    let k1_as_req = k1.get(13..13 + 169).unwrap_or_default().to_vec();
    let req = mit::bytes("tcp-as-req-nopreauth");
    let err = mit::bytes("tcp-krb-error-preauth-required");
    let rep = mit::bytes("tcp-as-rep");
    let token = |header: &[u8], message: &[u8]| {
        let mut body = header.to_vec();
        body.extend_from_slice(message);
        gss::encode_krb_token(&oid::IAKERB, tok_id::IAKERB_PROXY, &body)
    };
    let hdr = |realm: &str| IakerbHeader::new(realm).encode();
    let refd = |mut t: WireTest| {
        t.source = Some("iakerb-references".to_owned());
        t
    };
    let with_cookie = IakerbHeader {
        target_realm: "LAB.TEST".into(),
        cookie: Some(vec![1, 2, 3, 4]),
        ..Default::default()
    };
    let ext = {
        let mut seq = tlv(0xa1, &tlv(0x0c, b"LAB.TEST"));
        seq.extend(tlv(0xa4, &tlv(0x05, &[])));
        tlv(0x30, &seq)
    };
    let general_realm = tlv(0x30, &tlv(0xa1, &tlv(0x1b, b"LAB.TEST")));
    let octet_realm = tlv(0x30, &tlv(0xa1, &tlv(0x04, b"LAB.TEST")));
    let empty_header = tlv(0x30, &[]);
    let finished_ext = {
        let mut seq = tlv(
            0xa1,
            &h("300da003020101a10604043132333 4".replace(' ', "").as_str()),
        );
        seq.extend(tlv(0xa2, &tlv(0x05, &[])));
        tlv(0x30, &seq)
    };
    let finished_empty = tlv(0x30, &[]);
    let mut overrun = IakerbProxy::discovery_request().encode();
    overrun[1] = overrun[1].wrapping_add(2);
    let mut nonmin = vec![0x60, 0x81];
    nonmin.extend_from_slice(
        IakerbProxy::discovery_request()
            .encode()
            .get(1..)
            .unwrap_or_default(),
    );
    let windows_client = h("3017a10c0c0a57494e3235483249 4e53a307030500000000 00"
        .replace(' ', "")
        .as_str());
    let windows_server = h("300ea1030c012ea30703050001000000");
    let tests = vec![
        ok(
            4001,
            "wire.iakerb.realm-discovery",
            "I1: realm discovery request, empty realm and no message (60 10 ... 30 04 a1 02 0c 00).",
            &["IakerbToken", "IakerbRealmDiscovery"],
            I,
            &h("601006062b06010502050501300 4a1020c00"
                .replace(' ', "")
                .as_str()),
            &[("realm-discovery", "true")],
        ),
        refd(ok(
            4002,
            "wire.iakerb.mit-reference-header",
            "I2: MIT encode_krb5_iakerb_header (realm and cookie \"krb5data\").",
            &["ReferenceEncoding"],
            H,
            &h("3018A10A0C086B72623564617461A20A04086B72623564617461"),
            &[("target-realm", "krb5data"), ("cookie", "6b72623564617461")],
        )),
        refd(ok(
            4003,
            "wire.iakerb.mit-reference-finished",
            "I2: MIT encode_krb5_iakerb_finished (Checksum type 1, \"1234\").",
            &["ReferenceEncoding", "IakerbFinished"],
            F,
            &h("3011A10F300DA003020101A10604043132333 4"
                .replace(' ', "")
                .as_str()),
            &[("gss-mic.cksumtype", "1"), ("gss-mic.checksum", "31323334")],
        )),
        refd(ok(
            4004,
            "wire.iakerb.go-golden-header",
            "I3: a Go implementation's golden header TEST.REALM with cookie 01 02.",
            &["ReferenceEncoding"],
            H,
            &h("3014a10c0c0a544553542e5245414c4da20404020102"),
            &[("target-realm", "TEST.REALM"), ("cookie", "0102")],
        )),
        refd(ok(
            4005,
            "wire.iakerb.k1-as-req-rewrapped",
            "I4: kdcproxy's K1 AS-REQ carried in an IAKERB token for FREEIPA.LOCAL.",
            &["IakerbToken", "KdcproxyVector"],
            I,
            &token(&hdr("FREEIPA.LOCAL"), &k1_as_req),
            &[("realm-discovery", "false")],
        )),
        refd(ok(
            4006,
            "wire.iakerb.windows-client-header",
            "I5: Windows client header with target-realm WIN25H2INS and all-zero header-flags.",
            &["IakerbHeaderFlags", "WindowsCapture"],
            H,
            &windows_client,
            &[("target-realm", "WIN25H2INS")],
        )),
        refd(ok(
            4007,
            "wire.iakerb.windows-server-header",
            "I5: Windows server header: target-realm \".\" and header-flags 01 00 00 00.",
            &["IakerbHeaderFlags", "WindowsCapture"],
            H,
            &windows_server,
            &[("target-realm", ".")],
        )),
        captured(ok(
            4008,
            "wire.iakerb.as-req",
            "An IAKERB token carrying MIT's AS-REQ for LAB.TEST (no length prefix).",
            &["IakerbToken", "MitCapture"],
            I,
            &token(&hdr("LAB.TEST"), &req),
            &[("realm-discovery", "false")],
        )),
        captured(ok(
            4009,
            "wire.iakerb.krb-error",
            "The acceptor's reply token carrying the KDC's PREAUTH_REQUIRED.",
            &["IakerbToken", "MitCapture"],
            I,
            &token(&hdr("LAB.TEST"), &err),
            &[],
        )),
        captured(ok(
            4010,
            "wire.iakerb.as-rep",
            "The acceptor's reply token carrying an AS-REP.",
            &["IakerbToken", "MitCapture"],
            I,
            &token(&hdr("LAB.TEST"), &rep),
            &[],
        )),
        ok(
            4011,
            "wire.iakerb.cookie-echo",
            "A request echoing a 4-byte cookie.",
            &["IakerbToken"],
            I,
            &token(&with_cookie.encode(), &req),
            &[],
        ),
        ok(
            4012,
            "wire.iakerb.empty-cookie",
            "A zero-length cookie.",
            &["IakerbToken", "OptionalFields"],
            H,
            &IakerbHeader {
                target_realm: "LAB.TEST".into(),
                cookie: Some(Vec::new()),
                ..Default::default()
            }
            .encode(),
            &[("cookie", "")],
        ),
        ok(
            4013,
            "wire.iakerb.unknown-extension",
            "An unknown [4] after target-realm: the header is extensible (`...`).",
            &["IakerbHeaderFlags", "OptionalFields"],
            H,
            &ext,
            &[("extensions", "1")],
        ),
        lenient(
            4014,
            "wire.iakerb.finished-extension",
            "KRB-FINISHED with an unknown [2] extension: decodes (the type is extensible); kerbside does not keep the extension, so it re-encodes without it.",
            &["IakerbFinished", "OptionalFields"],
            F,
            &finished_ext,
            &[("gss-mic.cksumtype", "1")],
            false,
        ),
        lenient(
            4015,
            "wire.iakerb.realm-without-message",
            "A non-empty realm and no message: draft §3.1 calls it defective; the token decodes and the acceptor refuses it.",
            &["IakerbToken"],
            I,
            &token(&hdr("LAB.TEST"), &[]),
            &[("realm-discovery", "false")],
            true,
        ),
        lenient(
            4016,
            "wire.iakerb.message-without-realm",
            "A message with an empty realm: also defective for the acceptor; it decodes.",
            &["IakerbToken"],
            I,
            &token(&hdr(""), &req),
            &[("realm-discovery", "false")],
            true,
        ),
        bad(
            4017,
            "wire.iakerb.realm-general-string",
            "target-realm as GeneralString.",
            &["IakerbRealmType", "WrongTag"],
            H,
            &general_realm,
            "unexpected-tag",
        ),
        bad(
            4018,
            "wire.iakerb.realm-octet-string",
            "target-realm as OCTET STRING (MIT before 04f9c19c98).",
            &["IakerbRealmType", "WrongTag"],
            H,
            &octet_realm,
            "unexpected-tag",
        ),
        bad(
            4019,
            "wire.iakerb.header-without-realm",
            "An empty header SEQUENCE: target-realm is required.",
            &["MissingField"],
            H,
            &empty_header,
            "missing",
        ),
        bad(
            4020,
            "wire.iakerb.wrong-tok-id",
            "TOK_ID 01 00 (AP-REQ) under the IAKERB OID with a header.",
            &["BadConstant", "IakerbToken"],
            I,
            &gss::encode_krb_token(&oid::IAKERB, tok_id::AP_REQ, &hdr("LAB.TEST")),
            "bad-constant",
        ),
        bad(
            4021,
            "wire.iakerb.krb5-oid",
            "TOK_ID 05 01 under the Kerberos OID.",
            &["BadConstant", "IakerbToken"],
            I,
            &gss::encode_krb_token(&oid::KRB5, tok_id::IAKERB_PROXY, &hdr("LAB.TEST")),
            "bad-constant",
        ),
        bad(
            4022,
            "wire.iakerb.length-prefixed-message",
            "The KDC message with a 4-byte length prefix (a KKDCP habit): IAKERB carries it bare.",
            &["IakerbToken", "WrongTag"],
            I,
            &token(&hdr("LAB.TEST"), &prefixed(&req)),
            "unexpected-tag",
        ),
        bad(
            4023,
            "wire.iakerb.message-trailing-byte",
            "A zero byte after the AS-REQ.",
            &["TrailingBytes"],
            I,
            &token(&hdr("LAB.TEST"), &[req.as_slice(), &[0]].concat()),
            "trailing-bytes",
        ),
        bad(
            4024,
            "wire.iakerb.finished-without-mic",
            "KRB-FINISHED without gss-mic.",
            &["IakerbFinished", "MissingField"],
            F,
            &finished_empty,
            "missing",
        ),
        bad(
            4025,
            "wire.iakerb.framing-overrun",
            "The [APPLICATION 0] length two bytes longer than the token.",
            &["GssFraming", "LengthOverrun"],
            I,
            &overrun,
            "length-overrun",
        ),
        bad(
            4026,
            "wire.iakerb.framing-non-minimal",
            "The framing length as 81 10.",
            &["GssFraming", "NonMinimalLength"],
            I,
            &nonmin,
            "non-minimal-length",
        ),
    ];
    s.group(wire_group(
        "IAKERB_PROXY tokens, headers and KRB-FINISHED.",
        WireParams::default(),
        tests,
    ));
    s.finish()
}

// ---------------------------------------------------------- gss tokens ----

fn gss_tokens() -> VectorFile {
    let mut s = Suite::new(
        "wire-gss",
        "GSS-API framing (RFC 2743 §3.1) and RFC 4121 tokens: framed Kerberos tokens, MIC and \
         Wrap tokens, the 0x8003 authenticator checksum with RFC 6542 extensions.",
    );
    use WireFormat::{
        GssChecksum as C, GssFraming as G, GssKrb5 as K, MicToken as M, WrapToken as W,
    };
    let mic = MicToken {
        flags: 0x04,
        snd_seq: 0x0102_0304_0506_0708,
        checksum: vec![0xab; 12],
    }
    .encode();
    let mut mic_filler = mic.clone();
    mic_filler[5] = 0x00;
    let wrap = WrapToken {
        flags: 0x06,
        ec: 16,
        rrc: 28,
        snd_seq: 1,
        data: vec![0xcd; 60],
    }
    .encode();
    let mut wrap_filler = wrap.clone();
    wrap_filler[3] = 0x00;
    let cksum = GssChecksum {
        bindings: [0; 16],
        flags: 0x3e,
        delegation: None,
        extensions: Vec::new(),
    };
    let with_deleg = GssChecksum {
        flags: 0x3f,
        delegation: Some((1, vec![0x76, 0x00])),
        ..cksum.clone()
    };
    let finished = KrbFinished {
        gss_mic: Checksum {
            cksumtype: 16,
            checksum: vec![0x99; 12],
        },
    };
    let with_finished = GssChecksum {
        extensions: vec![(2, finished.encode())],
        ..cksum.clone()
    };
    let mut bad_lgth = cksum.encode();
    bad_lgth[0] = 24;
    let mut deleg_missing = cksum.encode();
    deleg_missing[20] |= 0x01;
    let mut ext_overrun = with_finished.encode();
    let n = ext_overrun.len();
    ext_overrun.truncate(n - 1);
    let spnego_framed = gss::wrap(&oid::SPNEGO, &[0xa0, 0x00]);
    let no_oid = tlv(0x60, &[0x02, 0x01, 0x00]);
    let mut framing_trailing = gss::wrap(&oid::KRB5, &[1, 0, 0x6e, 0x00]);
    framing_trailing.push(0);
    let tests = vec![
        ok(
            5001,
            "wire.gss.krb5-ap-req-token",
            "A framed AP-REQ token (TOK_ID 01 00) under the Kerberos OID.",
            &["GssFraming", "GssToken"],
            K,
            &gss::encode_krb_token(&oid::KRB5, tok_id::AP_REQ, &[0x6e, 0x00]),
            &[("mech", "1.2.840.113554.1.2.2"), ("tok-id", "0100")],
        ),
        ok(
            5002,
            "wire.gss.ms-krb5-token",
            "The same under the legacy MS Kerberos OID 1.2.840.48018.1.2.2.",
            &["GssFraming", "MechOid"],
            K,
            &gss::encode_krb_token(&oid::MS_KRB5, tok_id::AP_REQ, &[0x6e, 0x00]),
            &[("mech", "1.2.840.48018.1.2.2")],
        ),
        ok(
            5003,
            "wire.gss.krb-error-token",
            "A KRB-ERROR token (TOK_ID 03 00).",
            &["GssToken"],
            K,
            &gss::encode_krb_token(&oid::KRB5, tok_id::KRB_ERROR, &[0x7e, 0x00]),
            &[("tok-id", "0300")],
        ),
        ok(
            5004,
            "wire.gss.spnego-framing",
            "InitialContextToken framing of a SPNEGO token.",
            &["GssFraming"],
            G,
            &spnego_framed,
            &[("mech", "1.3.6.1.5.5.2"), ("inner", "2")],
        ),
        bad(
            5005,
            "wire.gss.framing-without-oid",
            "[APPLICATION 0] starting with an INTEGER instead of the mechanism OID.",
            &["GssFraming", "WrongTag"],
            G,
            &no_oid,
            "unexpected-tag",
        ),
        bad(
            5006,
            "wire.gss.framing-trailing-byte",
            "A byte after the framed token.",
            &["GssFraming", "TrailingBytes"],
            K,
            &framing_trailing,
            "trailing-bytes",
        ),
        bad(
            5007,
            "wire.gss.token-without-tok-id",
            "A framed token with one byte after the OID.",
            &["GssToken", "Truncated"],
            K,
            &gss::wrap(&oid::KRB5, &[1]),
            "truncated",
        ),
        ok(
            5008,
            "wire.gss.mic-token",
            "RFC 4121 §4.2.6.1 MIC token: flags AcceptorSubkey, 64-bit sequence number, 12-byte checksum.",
            &["GssToken"],
            M,
            &mic,
            &[("flags", "04"), ("snd-seq", "72623859790382856")],
        ),
        bad(
            5009,
            "wire.gss.mic-filler",
            "MIC token with a filler byte that is not ff.",
            &["GssToken", "BadConstant"],
            M,
            &mic_filler,
            "bad-constant",
        ),
        bad(
            5010,
            "wire.gss.mic-short-header",
            "Fifteen bytes: shorter than the MIC header.",
            &["GssToken", "Truncated"],
            M,
            mic.get(..15).unwrap_or_default(),
            "truncated",
        ),
        bad(
            5011,
            "wire.gss.mic-with-wrap-tok-id",
            "A Wrap token given to the MIC decoder.",
            &["GssToken", "BadConstant"],
            M,
            &wrap,
            "bad-constant",
        ),
        ok(
            5012,
            "wire.gss.wrap-token",
            "RFC 4121 §4.2.6.2 Wrap token, sealed, EC 16, RRC 28.",
            &["GssToken"],
            W,
            &wrap,
            &[("flags", "06"), ("ec", "16"), ("rrc", "28")],
        ),
        bad(
            5013,
            "wire.gss.wrap-filler",
            "Wrap token with filler 00.",
            &["GssToken", "BadConstant"],
            W,
            &wrap_filler,
            "bad-constant",
        ),
        ok(
            5014,
            "wire.gss.checksum-minimal",
            "0x8003 checksum: Lgth 16, zero bindings, flags mutual|replay|sequence|conf|integ.",
            &["GssChecksum"],
            C,
            &cksum.encode(),
            &[("flags", "0x3e"), ("extensions", "0")],
        ),
        ok(
            5015,
            "wire.gss.checksum-delegation",
            "With GSS_C_DELEG_FLAG and a delegated KRB-CRED.",
            &["GssChecksum", "OptionalFields"],
            C,
            &with_deleg.encode(),
            &[("delegation", "1 2")],
        ),
        ok(
            5016,
            "wire.gss.checksum-iakerb-finished",
            "With the RFC 6542 extension 2 (IAKERB FINISHED).",
            &["GssChecksum", "IakerbFinished"],
            C,
            &with_finished.encode(),
            &[("extension.2", &finished.encode().len().to_string())],
        ),
        bad(
            5017,
            "wire.gss.checksum-bad-lgth",
            "Lgth 24 instead of 16.",
            &["GssChecksum", "BadConstant"],
            C,
            &bad_lgth,
            "bad-constant",
        ),
        bad(
            5018,
            "wire.gss.checksum-short",
            "Ten bytes.",
            &["GssChecksum", "Truncated"],
            C,
            cksum.encode().get(..10).unwrap_or_default(),
            "truncated",
        ),
        bad(
            5019,
            "wire.gss.checksum-deleg-without-data",
            "GSS_C_DELEG_FLAG set but no delegation fields.",
            &["GssChecksum", "Truncated"],
            C,
            &deleg_missing,
            "truncated",
        ),
        bad(
            5020,
            "wire.gss.checksum-extension-overrun",
            "An extension length one byte longer than what follows.",
            &["GssChecksum", "Truncated"],
            C,
            &ext_overrun,
            "truncated",
        ),
    ];
    s.group(wire_group(
        "Framing, RFC 4121 tokens and the authenticator checksum.",
        WireParams::default(),
        tests,
    ));
    s.finish()
}

// -------------------------------------------------------------- spnego ----

fn oids(list: &[Oid]) -> Vec<Oid> {
    list.to_vec()
}

fn spnego() -> VectorFile {
    let mut s = Suite::new(
        "wire-spnego",
        "SPNEGO NegotiationToken (RFC 4178 Appendix A) and MS-SPNG NegTokenInit2: each token \
         kind and field, deployed mechanism lists, and malformed tokens.",
    );
    use WireFormat::Spnego as S;
    let init =
        |mechs: &[Oid], token: Option<Vec<u8>>, mic: Option<Vec<u8>>, flags: Option<BitString>| {
            NegotiationToken::Init(NegTokenInit {
                mech_types: oids(mechs),
                req_flags: flags,
                mech_token: token,
                mech_list_mic: mic,
            })
            .encode_initial()
        };
    let resp = |state: Option<NegState>,
                mech: Option<Oid>,
                token: Option<Vec<u8>>,
                mic: Option<Vec<u8>>| {
        NegotiationToken::Resp(NegTokenResp {
            neg_state: state,
            supported_mech: mech,
            response_token: token,
            mech_list_mic: mic,
        })
        .encode()
    };
    let ap = gss::encode_krb_token(&oid::KRB5, tok_id::AP_REQ, &[0x6e, 0x00]);
    let init2 = NegotiationToken::Init2(NegTokenInit2 {
        mech_types: Some(vec![oid::MS_KRB5, oid::KRB5, oid::NTLMSSP]),
        req_flags: None,
        mech_token: None,
        neg_hints: Some(NegHints {
            hint_name: Some("not_defined_in_RFC4178@please_ignore".into()),
            hint_address: None,
        }),
        mech_list_mic: None,
    })
    .encode_initial();
    let init2_mic = NegotiationToken::Init2(NegTokenInit2 {
        mech_types: Some(vec![oid::KRB5]),
        req_flags: None,
        mech_token: None,
        neg_hints: None,
        mech_list_mic: Some(vec![0x04, 0x04]),
    })
    .encode_initial();
    let bare_init = NegotiationToken::Init(NegTokenInit {
        mech_types: vec![oid::KRB5],
        ..Default::default()
    })
    .encode();
    let bad_state = tlv(0xa1, &tlv(0x30, &tlv(0xa0, &[0x0a, 0x01, 0x04])));
    let choice2 = gss::wrap(&oid::SPNEGO, &tlv(0xa2, &tlv(0x30, &[])));
    let swapped = gss::wrap(
        &oid::SPNEGO,
        &tlv(
            0xa0,
            &tlv(
                0x30,
                &[
                    tlv(0xa2, &tlv(0x04, &[1])),
                    tlv(0xa0, &tlv(0x30, &tlv(0x06, &[0x2a, 0x03]))),
                ]
                .concat(),
            ),
        ),
    );
    let mut trailing = resp(Some(NegState::AcceptCompleted), None, None, None);
    trailing.push(0);
    let non_oid = gss::wrap(
        &oid::SPNEGO,
        &tlv(
            0xa0,
            &tlv(0x30, &tlv(0xa0, &tlv(0x30, &[0x02, 0x01, 0x01]))),
        ),
    );
    let bad_oid = gss::wrap(
        &oid::SPNEGO,
        &tlv(
            0xa0,
            &tlv(
                0x30,
                &tlv(0xa0, &tlv(0x30, &[0x06, 0x03, 0x2a, 0x80, 0x01])),
            ),
        ),
    );
    let token_not_octets = gss::wrap(
        &oid::SPNEGO,
        &tlv(
            0xa0,
            &tlv(
                0x30,
                &[
                    tlv(0xa0, &tlv(0x30, &tlv(0x06, &[0x2a, 0x03]))),
                    tlv(0xa2, &tlv(0x03, &[0, 1])),
                ]
                .concat(),
            ),
        ),
    );
    let mut indefinite = vec![0xa1, 0x80];
    indefinite.extend(tlv(0x30, &tlv(0xa0, &[0x0a, 0x01, 0x00])));
    indefinite.extend_from_slice(&[0, 0]);
    let framed_resp = gss::wrap(
        &oid::SPNEGO,
        &resp(Some(NegState::AcceptIncomplete), None, None, None),
    );
    let sp = ["SpnegoToken"];
    let tests = vec![
        ok(
            6001,
            "wire.spnego.init.krb5-ntlm-optimistic",
            "NegTokenInit [krb5, NTLMSSP] with an optimistic Kerberos mechToken.",
            &sp,
            S,
            &init(&[oid::KRB5, oid::NTLMSSP], Some(ap.clone()), None, None),
            &[],
        ),
        ok(
            6002,
            "wire.spnego.init.with-mic",
            "NegTokenInit with mechListMIC [3].",
            &["SpnegoToken", "OptionalFields"],
            S,
            &init(&[oid::KRB5], Some(ap.clone()), Some(vec![4, 4, 0xff]), None),
            &[],
        ),
        ok(
            6003,
            "wire.spnego.init.req-flags",
            "NegTokenInit with reqFlags (RECOMMENDED to be left out, still valid).",
            &["SpnegoToken", "OptionalFields"],
            S,
            &init(
                &[oid::KRB5],
                None,
                None,
                Some(BitString {
                    unused: 1,
                    bytes: vec![0x60],
                }),
            ),
            &[],
        ),
        ok(
            6004,
            "wire.spnego.init2.windows-hints",
            "NegTokenInit2 as Windows servers send it: [MS-KRB5, KRB5, NTLMSSP] and hintName not_defined_in_RFC4178@please_ignore.",
            &["NegTokenInit2", "MechOid"],
            S,
            &init2,
            &[],
        ),
        ok(
            6005,
            "wire.spnego.init2.mic-at-4",
            "NegTokenInit2 with mechListMIC at [4].",
            &["NegTokenInit2"],
            S,
            &init2_mic,
            &[],
        ),
        ok(
            6006,
            "wire.spnego.resp.accept-completed",
            "NegTokenResp negState accept-completed only.",
            &sp,
            S,
            &resp(Some(NegState::AcceptCompleted), None, None, None),
            &[],
        ),
        ok(
            6007,
            "wire.spnego.resp.accept-incomplete",
            "First reply: accept-incomplete, supportedMech NTLMSSP, a CHALLENGE-sized responseToken.",
            &sp,
            S,
            &resp(
                Some(NegState::AcceptIncomplete),
                Some(oid::NTLMSSP),
                Some(vec![0x4e; 40]),
                None,
            ),
            &[],
        ),
        ok(
            6008,
            "wire.spnego.resp.reject",
            "negState reject.",
            &sp,
            S,
            &resp(Some(NegState::Reject), None, None, None),
            &[],
        ),
        ok(
            6009,
            "wire.spnego.resp.request-mic",
            "negState request-mic with supportedMech Kerberos.",
            &sp,
            S,
            &resp(Some(NegState::RequestMic), Some(oid::KRB5), None, None),
            &[],
        ),
        ok(
            6010,
            "wire.spnego.resp.mic-only",
            "A NegTokenResp carrying only mechListMIC (the initiator's last leg).",
            &["SpnegoToken", "OptionalFields"],
            S,
            &resp(None, None, None, Some(vec![4, 4, 5, 0xff])),
            &[],
        ),
        ok(
            6011,
            "wire.spnego.resp.empty",
            "An empty NegTokenResp (every field OPTIONAL).",
            &["SpnegoToken", "OptionalFields"],
            S,
            &resp(None, None, None, None),
            &[],
        ),
        ok(
            6012,
            "wire.spnego.init.windows-iakerb-list",
            "A Windows 11 IAKerb client's list: IAKERB, NEGOEX, NTLMSSP, Negotiate Late Fallback.",
            &["SpnegoToken", "MechOid"],
            S,
            &init(
                &[
                    oid::IAKERB,
                    oid::NEGOEX,
                    oid::NTLMSSP,
                    oid::NEGOTIATE_LATE_FALLBACK,
                ],
                None,
                None,
                None,
            ),
            &[],
        ),
        ok(
            6013,
            "wire.spnego.init.ms-krb5-first",
            "Windows' order: MS-KRB5 (legacy OID) before KRB5.",
            &["SpnegoToken", "MechOid"],
            S,
            &init(&[oid::MS_KRB5, oid::KRB5, oid::NTLMSSP], None, None, None),
            &[],
        ),
        lenient(
            6014,
            "wire.spnego.init.empty-mech-list",
            "An empty MechTypeList: nothing to negotiate, but it decodes.",
            &["SpnegoToken", "IntegerRange"],
            S,
            &init(&[], None, None, None),
            &[],
            true,
        ),
        lenient(
            6015,
            "wire.spnego.init.unframed",
            "A NegTokenInit without the SPNEGO framing (RFC 4178 §4.2 frames the initial token).",
            &["SpnegoToken", "GssFraming"],
            S,
            &bare_init,
            &[],
            true,
        ),
        lenient(
            6016,
            "wire.spnego.resp.framed",
            "A NegTokenResp inside InitialContextToken framing.",
            &["SpnegoToken", "GssFraming"],
            S,
            &framed_resp,
            &[],
            false,
        ),
        bad(
            6017,
            "wire.spnego.resp.neg-state-4",
            "negState 4: not one of the four states.",
            &["SpnegoToken", "IntegerRange"],
            S,
            &bad_state,
            "invalid-value",
        ),
        bad(
            6018,
            "wire.spnego.choice-2",
            "CHOICE [2]: neither NegTokenInit nor NegTokenResp.",
            &["SpnegoToken", "WrongTag"],
            S,
            &choice2,
            "unexpected-tag",
        ),
        lenient(
            6019,
            "wire.spnego.init.fields-swapped",
            "mechToken [2] before mechTypes [0]: DER has one order, so a strict decoder rejects it; kerbside-wire reads it as a NegTokenInit2 without mechTypes and skips the late [0] as an extension.",
            &["FieldOrder"],
            S,
            &swapped,
            &[],
            false,
        ),
        bad(
            6020,
            "wire.spnego.trailing-byte",
            "A byte after the NegTokenResp.",
            &["TrailingBytes"],
            S,
            &trailing,
            "trailing-bytes",
        ),
        bad(
            6021,
            "wire.spnego.mech-not-oid",
            "An INTEGER in the MechTypeList.",
            &["WrongTag"],
            S,
            &non_oid,
            "unexpected-tag",
        ),
        bad(
            6022,
            "wire.spnego.oid-non-minimal",
            "An OID subidentifier with a leading 0x80 octet.",
            &["NonCanonical"],
            S,
            &bad_oid,
            "invalid-value",
        ),
        bad(
            6023,
            "wire.spnego.mech-token-bit-string",
            "mechToken as BIT STRING.",
            &["WrongTag"],
            S,
            &token_not_octets,
            "unexpected-tag",
        ),
        bad(
            6024,
            "wire.spnego.indefinite-length",
            "BER indefinite length.",
            &["IndefiniteLength"],
            S,
            &indefinite,
            "indefinite-length",
        ),
    ];
    s.group(wire_group(
        "NegotiationTokens.",
        WireParams::default(),
        tests,
    ));
    s.finish()
}

// ---------------------------------------------------------------- ntlm ----

fn ntlm() -> VectorFile {
    let mut s = Suite::new(
        "wire-ntlm",
        "MS-NLMP NTLM messages: NEGOTIATE, CHALLENGE and AUTHENTICATE as kerbside's client and \
         acceptor make them, and messages with bad signatures, types and field bounds.",
    );
    use WireFormat::Ntlm as N;
    let msgs = super::accept::ntlm_messages();
    let [negotiate, challenge, authenticate] = msgs;
    let mut bad_sig = negotiate.clone();
    bad_sig[0] = b'n';
    let mut type4 = negotiate.clone();
    type4[8] = 4;
    let mut type0 = negotiate.clone();
    type0[8] = 0;
    // CHALLENGE TargetName fields (len, maxlen, offset) at 12..20.
    let mut name_oob = challenge.clone();
    name_oob[16..20].copy_from_slice(&(challenge.len() as u32).to_le_bytes());
    let mut name_len_oob = challenge.clone();
    name_len_oob[12..14].copy_from_slice(&0xffffu16.to_le_bytes());
    // AUTHENTICATE NtChallengeResponse fields at 20..28.
    let mut nt_oob = authenticate.clone();
    nt_oob[24..28].copy_from_slice(&0xffff_fff0u32.to_le_bytes());
    let tests = vec![
        ok(
            7001,
            "wire.ntlm.negotiate",
            "NEGOTIATE from kerbside's NTLMv2 client.",
            &["NtlmMessage"],
            N,
            &negotiate,
            &[],
        ),
        ok(
            7002,
            "wire.ntlm.challenge",
            "CHALLENGE from kerbside's acceptor with TargetInfo AV pairs.",
            &["NtlmMessage"],
            N,
            &challenge,
            &[],
        ),
        ok(
            7003,
            "wire.ntlm.authenticate",
            "AUTHENTICATE with an NTLMv2 response and MIC.",
            &["NtlmMessage"],
            N,
            &authenticate,
            &[],
        ),
        bad(
            7004,
            "wire.ntlm.bad-signature",
            "\"nTLMSSP\\0\".",
            &["NtlmMessage", "BadConstant"],
            N,
            &bad_sig,
            "bad-constant",
        ),
        bad(
            7005,
            "wire.ntlm.type-4",
            "MessageType 4.",
            &["NtlmMessage", "BadConstant"],
            N,
            &type4,
            "bad-constant",
        ),
        bad(
            7006,
            "wire.ntlm.type-0",
            "MessageType 0.",
            &["NtlmMessage", "BadConstant"],
            N,
            &type0,
            "bad-constant",
        ),
        bad(
            7007,
            "wire.ntlm.signature-only",
            "The 8-byte signature alone.",
            &["NtlmMessage", "Truncated"],
            N,
            b"NTLMSSP\0",
            "truncated",
        ),
        bad(
            7008,
            "wire.ntlm.challenge-truncated",
            "CHALLENGE cut at 30 bytes.",
            &["NtlmMessage", "Truncated"],
            N,
            challenge.get(..30).unwrap_or_default(),
            "truncated",
        ),
        bad(
            7009,
            "wire.ntlm.target-name-offset-outside",
            "TargetName offset at the end of the message with a non-zero length.",
            &["FieldBounds"],
            N,
            &name_oob,
            "field-out-of-bounds",
        ),
        bad(
            7010,
            "wire.ntlm.target-name-length-outside",
            "TargetName length 65535.",
            &["FieldBounds"],
            N,
            &name_len_oob,
            "field-out-of-bounds",
        ),
        bad(
            7011,
            "wire.ntlm.nt-response-offset-outside",
            "NtChallengeResponse offset 0xfffffff0.",
            &["FieldBounds"],
            N,
            &nt_oob,
            "field-out-of-bounds",
        ),
        bad(
            7012,
            "wire.ntlm.empty",
            "Zero bytes.",
            &["EmptyInput"],
            N,
            &[],
            "truncated",
        ),
    ];
    s.group(wire_group("NTLM messages.", WireParams::default(), tests));
    s.finish()
}
