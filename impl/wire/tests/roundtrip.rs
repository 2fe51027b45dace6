//! decode(encode(v)) == v for generated values of every message type, and
//! encode(decode(b)) == b for what we encoded.

use std::time::{Duration, UNIX_EPOCH};

use kerberos_asn1::{
    ApRep, ApReq, AsRep, Asn1Object, Authenticator, Checksum, EncAsRepPart, EncTicketPart,
    EncryptedData, EncryptionKey, EtypeInfo2Entry, HostAddress, KerberosTime, KrbError, PaData,
    PaEncTsEnc, PrincipalName, TgsRep, TgsReq, Ticket,
};
use kerbside_wire::der::{BitString, Oid};
use kerbside_wire::gss::{self, GssChecksum, MicToken, WrapToken};
use kerbside_wire::iakerb::{IakerbHeader, IakerbProxy, KrbFinished};
use kerbside_wire::kkdcp::KdcProxyMessage;
use kerbside_wire::krb::{self, KrbMessage, PaValue};
use kerbside_wire::ntlm::{self, AvPair, AvPairs};
use kerbside_wire::record;
use kerbside_wire::spnego::{
    NegHints, NegState, NegTokenInit, NegTokenInit2, NegTokenResp, NegotiationToken,
};
use proptest::collection::vec;
use proptest::option;
use proptest::prelude::*;
use proptest::test_runner::FileFailurePersistence;

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 64,
        failure_persistence: Some(Box::new(FileFailurePersistence::WithSource("regressions"))),
        ..ProptestConfig::default()
    }
}

// ---------- Kerberos ----------

fn bytes(max: usize) -> impl Strategy<Value = Vec<u8>> {
    vec(any::<u8>(), 0..max)
}

fn ktime() -> impl Strategy<Value = KerberosTime> {
    (0u64..253_402_300_799)
        .prop_map(|s| kerbside_wire::time::to_kerberos_time(UNIX_EPOCH + Duration::from_secs(s)))
}

fn kstring() -> impl Strategy<Value = String> {
    "[ -~]{0,16}"
}

fn principal() -> impl Strategy<Value = PrincipalName> {
    (any::<i32>(), vec("[A-Za-z0-9./$_@-]{1,12}", 1..4)).prop_map(|(t, s)| PrincipalName {
        name_type: t,
        name_string: s,
    })
}

fn enc_data() -> impl Strategy<Value = EncryptedData> {
    (any::<i32>(), option::of(any::<u32>()), bytes(64))
        .prop_map(|(e, k, c)| EncryptedData::new(e, k, c))
}

fn padata() -> impl Strategy<Value = Vec<PaData>> {
    vec(
        (any::<i32>(), bytes(24)).prop_map(|(t, v)| PaData::new(t, v)),
        0..4,
    )
}

fn ticket() -> impl Strategy<Value = Ticket> {
    ("[A-Z.]{1,12}", principal(), enc_data()).prop_map(|(r, s, e)| Ticket::new(r, s, e))
}

fn addresses() -> impl Strategy<Value = Option<Vec<HostAddress>>> {
    option::of(vec(
        (any::<i32>(), bytes(16)).prop_map(|(t, a)| HostAddress {
            addr_type: t,
            address: a,
        }),
        0..3,
    ))
}

prop_compose! {
    fn kdc_req_body()(
        opts in any::<u32>(), cname in option::of(principal()), realm in kstring(), sname in option::of(principal()),
        from in option::of(ktime()), till in ktime(), rtime in option::of(ktime()), nonce in any::<u32>(),
        etypes in vec(any::<i32>(), 0..8), addrs in addresses(), ead in option::of(enc_data()),
        tickets in option::of(vec(ticket(), 0..2)),
    ) -> kerberos_asn1::KdcReqBody {
        kerberos_asn1::KdcReqBody {
            kdc_options: opts.into(), cname, realm, sname, from, till, rtime, nonce, etypes,
            addresses: addrs, enc_authorization_data: ead, additional_tickets: tickets,
        }
    }
}

prop_compose! {
    fn kdc_rep_parts()(pa in option::of(padata()), crealm in kstring(), cname in principal(), t in ticket(), e in enc_data())
        -> (Option<Vec<PaData>>, String, PrincipalName, Ticket, EncryptedData) {
        (pa, crealm, cname, t, e)
    }
}

fn krb_message() -> impl Strategy<Value = KrbMessage> {
    prop_oneof![
        (option::of(padata()), kdc_req_body()).prop_map(|(pa, body)| {
            KrbMessage::AsReq(kerberos_asn1::AsReq {
                padata: pa,
                req_body: body,
                ..Default::default()
            })
        }),
        (option::of(padata()), kdc_req_body()).prop_map(|(pa, body)| {
            KrbMessage::TgsReq(TgsReq {
                padata: pa,
                req_body: body,
                ..Default::default()
            })
        }),
        kdc_rep_parts().prop_map(
            |(padata, crealm, cname, ticket, enc_part)| KrbMessage::AsRep(AsRep {
                pvno: 5,
                msg_type: 11,
                padata,
                crealm,
                cname,
                ticket,
                enc_part
            })
        ),
        kdc_rep_parts().prop_map(
            |(padata, crealm, cname, ticket, enc_part)| KrbMessage::TgsRep(TgsRep {
                pvno: 5,
                msg_type: 13,
                padata,
                crealm,
                cname,
                ticket,
                enc_part
            })
        ),
        (any::<u32>(), ticket(), enc_data()).prop_map(|(o, t, a)| KrbMessage::ApReq(ApReq {
            pvno: 5,
            msg_type: 14,
            ap_options: o.into(),
            ticket: t,
            authenticator: a
        })),
        enc_data().prop_map(|e| KrbMessage::ApRep(ApRep {
            pvno: 5,
            msg_type: 15,
            enc_part: e
        })),
        (
            (
                option::of(ktime()),
                option::of(0i32..1_000_000),
                ktime(),
                0i32..1_000_000,
                any::<i32>()
            ),
            (
                option::of(kstring()),
                option::of(principal()),
                kstring(),
                principal(),
                option::of(kstring()),
                option::of(bytes(40))
            ),
        )
            .prop_map(
                |(
                    (ctime, cusec, stime, susec, code),
                    (crealm, cname, realm, sname, e_text, e_data),
                )| {
                    KrbMessage::KrbError(KrbError {
                        pvno: 5,
                        msg_type: 30,
                        ctime,
                        cusec,
                        stime,
                        susec,
                        error_code: code,
                        crealm,
                        cname,
                        realm,
                        sname,
                        e_text,
                        e_data,
                    })
                }
            ),
    ]
}

fn key() -> impl Strategy<Value = EncryptionKey> {
    (any::<i32>(), bytes(32)).prop_map(|(t, v)| EncryptionKey {
        keytype: t,
        keyvalue: v,
    })
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn kerberos_messages(m in krb_message()) {
        let b = m.encode();
        let back = krb::decode(&b).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(&back, &m);
        prop_assert_eq!(&back.encode(), &b);
        // also behind a record mark and inside KKDCP and IAKERB
        let framed = record::encode(&b).unwrap();
        prop_assert_eq!(record::decode(&framed, 1 << 20).unwrap(), &b[..]);
        let proxy = KdcProxyMessage::request(&b, "LAB.TEST").unwrap();
        prop_assert_eq!(kerbside_wire::kkdcp::decode_with_inner(&proxy.encode()).unwrap().1, m.clone());
        let tok = IakerbProxy::new("LAB.TEST", b.clone());
        prop_assert_eq!(kerbside_wire::iakerb::decode_with_inner(&tok.encode()).unwrap().1, Some(m));
    }

    #[test]
    fn enc_parts_and_padata(
        k in key(), flags in any::<u32>(), realm in kstring(), cname in principal(), sname in principal(),
        t1 in ktime(), t2 in option::of(ktime()), nonce in any::<u32>(), addrs in addresses(),
        cusec in 0i32..1_000_000, seq in option::of(any::<u32>()), tag25 in any::<bool>(),
        salt in option::of(kstring()), s2k in option::of(bytes(8)), etype in any::<i32>(),
    ) {
        let etp = EncTicketPart {
            flags: flags.into(), key: k.clone(), crealm: realm.clone(), cname: cname.clone(),
            transited: Default::default(), authtime: t1.clone(), starttime: t2.clone(), endtime: t1.clone(),
            renew_till: t2.clone(), caddr: addrs.clone(), authorization_data: None,
        };
        prop_assert_eq!(krb::decode_der::<EncTicketPart>(&etp.build()).unwrap(), etp);
        let auth = Authenticator {
            authenticator_vno: 5, crealm: realm.clone(), cname, cksum: Some(Checksum { cksumtype: 0x8003, checksum: vec![1; 24] }),
            cusec, ctime: t1.clone(), subkey: Some(k.clone()), seq_number: seq, authorization_data: None,
        };
        prop_assert_eq!(krb::decode_der::<Authenticator>(&auth.build()).unwrap(), auth);
        let part = kerberos_asn1::EncKdcRepPart {
            key: k, last_req: vec![], nonce, key_expiration: t2.clone(), flags: flags.into(), authtime: t1.clone(),
            starttime: None, endtime: t1.clone(), renew_till: t2, srealm: realm, sname, caddr: addrs,
            encrypted_pa_data: Some(vec![PaData::new(149, vec![])]),
        };
        let rp = krb::EncRepPart { application_tag: if tag25 { 25 } else { 26 }, part };
        prop_assert_eq!(krb::decode_enc_rep_part(&rp.encode()).unwrap(), rp.clone());
        let ts = PaEncTsEnc { patimestamp: t1, pausec: Some(cusec) };
        prop_assert_eq!(krb::decode_der::<PaEncTsEnc>(&ts.build()).unwrap(), ts);
        for v in [
            PaValue::EtypeInfo2(vec![EtypeInfo2Entry::new(etype, salt, s2k)]),
            PaValue::PacRequest(tag25),
            PaValue::FxCookie(vec![etype as u8; 3]),
            PaValue::EncTimestamp(EncryptedData::new(etype, seq, vec![2; 40])),
        ] {
            prop_assert_eq!(krb::decode_padata(&v.to_padata()).unwrap(), v);
        }
        let _ = EncAsRepPart::default();
    }
}

// ---------- KKDCP, record mark ----------

proptest! {
    #![proptest_config(config())]

    #[test]
    fn kkdcp_messages(km in bytes(300), td in option::of("\\PC{0,20}"), hint in option::of(any::<i64>())) {
        let m = KdcProxyMessage { kerb_message: km, target_domain: td, dclocator_hint: hint };
        let b = m.encode();
        prop_assert_eq!(KdcProxyMessage::decode(&b).unwrap(), m.clone());
        kerbside_wire::der::validate(&b, kerbside_wire::Format::Kkdcp).unwrap();
    }

    #[test]
    fn record_stream_in_any_chunking(frames in vec(bytes(200), 0..5), chunk in 1usize..64) {
        let mut stream = Vec::new();
        for f in &frames {
            stream.extend(record::encode(f).unwrap());
        }
        let mut r = record::RecordReader::new();
        let mut got = Vec::new();
        for c in stream.chunks(chunk) {
            r.push(c).unwrap();
            while let Some(f) = r.next_frame().unwrap() {
                got.push(f);
            }
        }
        prop_assert_eq!(got, frames);
        prop_assert!(r.is_idle());
    }
}

// ---------- GSS, IAKERB, SPNEGO ----------

fn oid() -> impl Strategy<Value = Oid> {
    (0u64..3, 0u64..40, vec(any::<u64>(), 0..6)).prop_map(|(a, b, rest)| {
        let mut arcs = vec![a, b];
        arcs.extend(rest);
        Oid::from_arcs(&arcs).unwrap()
    })
}

fn bit_string() -> impl Strategy<Value = BitString> {
    (0u8..8, vec(any::<u8>(), 1..6)).prop_map(|(unused, mut b)| {
        if let Some(last) = b.last_mut() {
            *last &= !((1u8 << unused) - 1);
        }
        BitString { unused, bytes: b }
    })
}

fn iakerb_header() -> impl Strategy<Value = IakerbHeader> {
    (
        "\\PC{0,20}",
        option::of(bytes(20)),
        option::of(bit_string()),
        vec((4u8..30, bytes(8)), 0..2),
    )
        .prop_map(|(r, c, f, ext)| {
            IakerbHeader {
                target_realm: r,
                cookie: c,
                header_flags: f,
                // extensions: valid DER [n] { OCTET STRING }
                extensions: ext
                    .into_iter()
                    .map(|(n, v)| {
                        let mut inner = vec![0x04, v.len() as u8];
                        inner.extend(v);
                        let mut t = vec![0xa0 | n, inner.len() as u8];
                        t.extend(inner);
                        t
                    })
                    .collect(),
            }
        })
}

fn negotiation_token() -> impl Strategy<Value = NegotiationToken> {
    prop_oneof![
        (
            vec(oid(), 0..4),
            option::of(bit_string()),
            option::of(bytes(40)),
            option::of(bytes(28))
        )
            .prop_map(|(m, f, t, mic)| {
                NegotiationToken::Init(NegTokenInit {
                    mech_types: m,
                    req_flags: f,
                    mech_token: t,
                    mech_list_mic: mic,
                })
            }),
        // Init2 is told apart from Init by its hints/[4] MIC/missing mechTypes
        (
            option::of(vec(oid(), 0..4)),
            option::of(bit_string()),
            option::of(bytes(40)),
            option::of("[ -~]{0,40}"),
            option::of(bytes(8)),
            option::of(bytes(28))
        )
            .prop_map(|(m, f, t, hn, ha, mic)| {
                NegotiationToken::Init2(NegTokenInit2 {
                    mech_types: m,
                    req_flags: f,
                    mech_token: t,
                    neg_hints: Some(NegHints {
                        hint_name: hn,
                        hint_address: ha,
                    }),
                    mech_list_mic: mic,
                })
            }),
        (
            option::of(0i64..4),
            option::of(oid()),
            option::of(bytes(60)),
            option::of(bytes(28))
        )
            .prop_map(|(s, m, t, mic)| {
                NegotiationToken::Resp(NegTokenResp {
                    neg_state: s.and_then(NegState::from_value),
                    supported_mech: m,
                    response_token: t,
                    mech_list_mic: mic,
                })
            }),
    ]
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn gss_framing_and_tokens(mech in oid(), id in any::<[u8; 2]>(), body in bytes(300), flags in any::<u8>(), seq in any::<u64>(), ec in any::<u16>(), rrc in any::<u16>()) {
        let t = gss::encode_krb_token(&mech, id, &body);
        let k = gss::decode_krb_token(&t).unwrap();
        prop_assert_eq!((k.mech, k.tok_id, k.body), (mech, id, &body[..]));
        let mic = MicToken { flags, snd_seq: seq, checksum: body.clone() };
        prop_assert_eq!(MicToken::decode(&mic.encode()).unwrap(), mic);
        let w = WrapToken { flags, ec, rrc, snd_seq: seq, data: body };
        prop_assert_eq!(WrapToken::decode(&w.encode()).unwrap(), w);
    }

    #[test]
    fn gss_checksums(b in any::<[u8; 16]>(), flags in any::<u32>(), deleg in (any::<u16>(), bytes(50)), ext in vec((any::<u32>(), bytes(30)), 0..3)) {
        let c = GssChecksum { bindings: b, flags, delegation: (flags & 1 != 0).then_some(deleg), extensions: ext };
        prop_assert_eq!(GssChecksum::decode(&c.encode()).unwrap(), c);
    }

    #[test]
    fn iakerb_tokens(h in iakerb_header(), msg in bytes(80), ck in (any::<i32>(), bytes(24))) {
        let t = IakerbProxy { header: h, message: msg };
        prop_assert_eq!(IakerbProxy::decode(&t.encode()).unwrap(), t);
        let f = KrbFinished { gss_mic: Checksum { cksumtype: ck.0, checksum: ck.1 } };
        prop_assert_eq!(KrbFinished::decode(&f.encode()).unwrap(), f);
    }

    #[test]
    fn spnego_tokens(t in negotiation_token()) {
        prop_assert_eq!(NegotiationToken::decode(&t.encode()).unwrap(), t.clone());
        prop_assert_eq!(NegotiationToken::decode(&t.encode_initial()).unwrap(), t);
    }
}

// ---------- NTLM ----------

fn latin1() -> impl Strategy<Value = String> {
    vec(any::<u8>(), 0..16).prop_map(|b| b.into_iter().map(char::from).collect())
}

fn av_pair() -> impl Strategy<Value = AvPair> {
    prop_oneof![
        "\\PC{0,12}".prop_map(AvPair::NbComputerName),
        "\\PC{0,12}".prop_map(AvPair::NbDomainName),
        "\\PC{0,12}".prop_map(AvPair::DnsComputerName),
        "\\PC{0,12}".prop_map(AvPair::DnsDomainName),
        "\\PC{0,12}".prop_map(AvPair::DnsTreeName),
        "\\PC{0,12}".prop_map(AvPair::TargetName),
        any::<u32>().prop_map(AvPair::Flags),
        any::<u64>().prop_map(AvPair::Timestamp),
        bytes(48).prop_map(AvPair::SingleHost),
        any::<[u8; 16]>().prop_map(AvPair::ChannelBindings),
        (11u16..u16::MAX, bytes(12)).prop_map(|(id, value)| AvPair::Other { id, value }),
    ]
}

fn version(present: bool) -> impl Strategy<Value = Option<ntlm::Version>> {
    (any::<u8>(), any::<u8>(), any::<u16>(), any::<u8>()).prop_map(
        move |(major, minor, build, revision)| {
            present.then_some(ntlm::Version {
                major,
                minor,
                build,
                revision,
            })
        },
    )
}

fn ntlm_message() -> impl Strategy<Value = ntlm::NtlmMessage> {
    use ntlm::flags::NEGOTIATE_VERSION as V;
    let flags_and_version = (any::<u32>(), any::<bool>()).prop_flat_map(|(f, has_v)| {
        let f = if has_v { f | V } else { f & !V };
        (Just(f), version(has_v))
    });
    prop_oneof![
        (flags_and_version.clone(), latin1(), latin1()).prop_map(
            |((flags, version), domain, workstation)| {
                ntlm::NtlmMessage::Negotiate(ntlm::NegotiateMessage {
                    flags,
                    domain,
                    workstation,
                    version,
                })
            }
        ),
        (
            flags_and_version.clone(),
            "\\PC{0,12}",
            any::<[u8; 8]>(),
            option::of(vec(av_pair(), 0..6))
        )
            .prop_map(|((flags, version), name, sc, info)| {
                let target_name = if flags & ntlm::flags::NEGOTIATE_UNICODE != 0 {
                    name
                } else {
                    name.chars().filter(|c| (*c as u32) < 256).collect()
                };
                ntlm::NtlmMessage::Challenge(ntlm::ChallengeMessage {
                    target_name,
                    flags,
                    server_challenge: sc,
                    target_info: info.map(AvPairs),
                    version,
                })
            },),
        (
            flags_and_version,
            (bytes(24), bytes(120), bytes(16)),
            ("\\PC{0,10}", "\\PC{0,10}", "\\PC{0,10}"),
            option::of(any::<[u8; 16]>())
        )
            .prop_map(|((flags, version), (lm, nt, key), (d, u, w), mic)| {
                let unicode = flags & ntlm::flags::NEGOTIATE_UNICODE != 0;
                let fix = |s: String| {
                    if unicode {
                        s
                    } else {
                        s.chars().filter(|c| (*c as u32) < 256).collect()
                    }
                };
                ntlm::NtlmMessage::Authenticate(ntlm::AuthenticateMessage {
                    flags,
                    lm_challenge_response: lm,
                    nt_challenge_response: nt,
                    domain: fix(d),
                    user: fix(u),
                    workstation: fix(w),
                    encrypted_random_session_key: key,
                    version,
                    mic,
                })
            }),
    ]
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn ntlm_messages(m in ntlm_message()) {
        let b = m.encode();
        prop_assert_eq!(ntlm::decode(&b).unwrap(), m.clone());
        if let ntlm::NtlmMessage::Authenticate(a) = &m {
            prop_assert_eq!(ntlm::zero_mic(&b).is_ok(), a.mic.is_some());
        }
    }

    #[test]
    fn ntlmv2_responses(proof in any::<[u8; 16]>(), ts in any::<u64>(), cc in any::<[u8; 8]>(), pairs in vec(av_pair(), 0..6), trailing in bytes(8)) {
        let r = ntlm::NtlmV2Response {
            nt_proof_str: proof,
            client_challenge: ntlm::NtlmV2ClientChallenge { timestamp: ts, challenge_from_client: cc, av_pairs: AvPairs(pairs), trailing },
        };
        prop_assert_eq!(ntlm::NtlmV2Response::decode(&r.encode()).unwrap(), r);
    }
}
