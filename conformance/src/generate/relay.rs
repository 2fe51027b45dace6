//! kkdcp-relay suite: HTTP requests to a KKDCP relay with the status a
//! conforming relay answers: every check kdcproxy 1.1.0 makes
//! (protocols.md §1.6), the CVE-2025-59088/59089 negatives, length-prefix
//! variants, and what happens when the upstream KDC misbehaves.

use std::time::SystemTime;

use super::kdc::{as_recipe, lab_principals, tgs, tgt, ts};
use super::{Suite, group, mit, test};
use crate::check::kdc::test_rng;
use crate::clock;
use crate::kkdcp_body;
use crate::model::{
    AsRecipe, BodyRecipe, ContentLength, KdcRecipe, KkdcpBody, PrefixMode, RawRecipe,
    RelayExpected, RelayInput, RelayParams, RelaySettings, TargetDomain, Test, TestGroup,
    TicketOrigin, UpstreamBehaviour, VectorFile, Verdict,
};
use crate::realm::Realm;

type RTest = Test<RelayInput, RelayExpected>;

/// Bodies above this are given by recipe only (the hex would be huge).
const MAX_LISTED_BODY: usize = 4096;

fn params(prefix_policy: &str, require_realm_match: bool) -> RelayParams {
    RelayParams {
        relay: RelaySettings {
            realms: vec!["LAB.TEST".to_owned()],
            path: "/KdcProxy".to_owned(),
            max_request: 131_072,
            prefix_policy: prefix_policy.to_owned(),
            require_realm_match,
        },
        realm: "LAB.TEST".to_owned(),
        clock: mit::CLOCK.to_owned(),
        principals: lab_principals(),
    }
}

fn post(body: BodyRecipe) -> RelayInput {
    RelayInput {
        method: "POST".to_owned(),
        path: None,
        content_type: Some("application/kerberos".to_owned()),
        content_length: ContentLength::Auto,
        body_hex: None,
        body,
        upstream: UpstreamBehaviour::Kdc,
    }
}

pub(crate) fn kkdcp(message: KdcRecipe) -> KkdcpBody {
    KkdcpBody {
        message: Some(message),
        message_hex: None,
        target_domain: TargetDomain::Realm,
        prefix: PrefixMode::Correct,
        dclocator_hint: None,
        trailing_hex: String::new(),
        realm_tag: None,
    }
}

fn kkdcp_hex(message: &[u8]) -> KkdcpBody {
    KkdcpBody {
        message: None,
        message_hex: Some(hex::encode(message)),
        ..kkdcp(KdcRecipe::Raw(RawRecipe { clock_bound: false }))
    }
}

fn status(code: u16, alternatives: &[u16]) -> RelayExpected {
    RelayExpected {
        status: code,
        alternatives: alternatives.iter().map(|s| format!("http {s}")).collect(),
        reply: None,
    }
}

/// A malformed message: MS-KKDCP §3.2.5.1 says the server SHOULD drop the
/// connection; an HTTP 400 is the common choice (kdcproxy, kerbside).
fn malformed() -> RelayExpected {
    RelayExpected {
        status: 400,
        alternatives: vec!["connection-closed".to_owned()],
        reply: None,
    }
}

fn relayed(reply: &str) -> RelayExpected {
    RelayExpected {
        status: 200,
        alternatives: Vec::new(),
        reply: Some(reply.to_owned()),
    }
}

/// A test; the body hex is listed when small enough.
fn rt(
    p: &RelayParams,
    tc: u32,
    id: &str,
    comment: &str,
    flags: &[&str],
    result: Verdict,
    mut input: RelayInput,
    expected: RelayExpected,
) -> RTest {
    if !matches!(input.body, BodyRecipe::Raw(_)) {
        let realm = Realm::new(&p.realm, p.principals.clone());
        let now = clock::parse(&p.clock).unwrap_or(SystemTime::UNIX_EPOCH);
        let mut rng = test_rng(tc);
        if let Ok(b) = kkdcp_body::build(&input.body, &realm, now, &mut rng, None)
            && b.bytes.len() <= MAX_LISTED_BODY
        {
            input.body_hex = Some(hex::encode(&b.bytes));
        }
    }
    test(tc, id, comment, flags, result, input, expected)
}

fn raw_body(bytes: &[u8]) -> RelayInput {
    RelayInput {
        body_hex: Some(hex::encode(bytes)),
        ..post(BodyRecipe::Raw(RawRecipe { clock_bound: false }))
    }
}

pub(crate) fn suites() -> Vec<VectorFile> {
    vec![relay()]
}

/// A bare AP-REQ (what a relay must not carry).
fn ap_req_bytes() -> Vec<u8> {
    use kerbside_wire::krb::asn1::{ApReq, Asn1Object, EncryptedData, Ticket};
    ApReq {
        ticket: Ticket {
            tkt_vno: 5,
            realm: "LAB.TEST".to_owned(),
            sname: crate::recipe::principal_name("host/app.lab.test"),
            enc_part: EncryptedData::new(18, Some(1), vec![0x11; 48]),
        },
        authenticator: EncryptedData::new(18, None, vec![0x22; 40]),
        ..ApReq::default()
    }
    .build()
}

fn relay() -> VectorFile {
    let mut s = Suite::new(
        "kkdcp-relay",
        "MS-KKDCP relays (KDC proxies): HTTP requests with the status a conforming relay \
         answers. Covers every check of kdcproxy 1.1.0, the CVE-2025-59088 (undeclared realm) \
         and CVE-2025-59089 (unbounded lengths) negatives, length-prefix variants, realm \
         matching, and upstream failures.",
    );
    s.source(mit::provenance());
    s.source(crate::model::Provenance {
        id: "kdcproxy-tests".to_owned(),
        description: "latchset/kdcproxy tests.py KDCProxyCodecTests asreq1 (commit 2d85bc6)."
            .to_owned(),
        files: vec!["kdcproxy/tests.py".to_owned()],
    });
    let p = params("reject", true);
    use Verdict::{Acceptable, Invalid, Valid};
    let k = |r: AsRecipe| BodyRecipe::Kkdcp(kkdcp(KdcRecipe::AsReq(r)));
    let alice = || as_recipe("alice");
    let with = |f: fn(&mut KkdcpBody)| {
        let mut b = kkdcp(KdcRecipe::AsReq(as_recipe("alice")));
        f(&mut b);
        post(BodyRecipe::Kkdcp(b))
    };
    let undeclared = |realm: &str| {
        let mut b = kkdcp(KdcRecipe::AsReq(AsRecipe {
            realm: Some(realm.to_owned()),
            ..as_recipe("alice")
        }));
        b.target_domain = TargetDomain::Literal {
            value: realm.to_owned(),
        };
        post(BodyRecipe::Kkdcp(b))
    };
    let refused = [400, 403, 404, 503];
    let mut mit_first = rt(
        &p,
        16005,
        "relay.mit.first-request",
        "MIT's captured KKDCP body (first AS-REQ): relayed, PREAUTH_REQUIRED inside.",
        &["RelaySuccess", "MitCapture"],
        Valid,
        raw_body(&mit::bytes("kkdcp-as-req-nopreauth")),
        relayed("krb-error 25"),
    );
    mit_first.source = Some("mit-lab-test".to_owned());
    let mut k1 = rt(
        &p,
        16006,
        "relay.kdcproxy-asreq1",
        "kdcproxy's asreq1 for FREEIPA.LOCAL, a realm this relay does not serve.",
        &["UndeclaredRealm", "KdcproxyVector"],
        Invalid,
        raw_body(&hex::decode(super::wire::K1).unwrap_or_default()),
        status(403, &refused),
    );
    k1.source = Some("kdcproxy-tests".to_owned());
    let mut tests = vec![
        rt(
            &p,
            16001,
            "relay.as-req.preauth-required",
            "alice's first AS-REQ: 200 with the KDC's PREAUTH_REQUIRED (KDC errors are ordinary replies).",
            &["RelaySuccess"],
            Valid,
            post(k(alice())),
            relayed("krb-error 25"),
        ),
        rt(
            &p,
            16002,
            "relay.as-req.enc-timestamp",
            "A pre-authenticated AS-REQ: 200 with the AS-REP.",
            &["RelaySuccess"],
            Valid,
            post(k(AsRecipe {
                etypes: vec![18],
                enc_timestamp: Some(ts(18)),
                ..alice()
            })),
            relayed("as-rep"),
        ),
        rt(
            &p,
            16003,
            "relay.tgs-req",
            "A TGS-REQ with alice's TGT: 200 with the TGS-REP.",
            &["RelaySuccess"],
            Valid,
            post(BodyRecipe::Kkdcp(kkdcp(KdcRecipe::TgsReq(tgs(
                tgt(TicketOrigin::AsExchange),
                "host/app.lab.test",
            ))))),
            relayed("tgs-rep"),
        ),
        rt(
            &p,
            16004,
            "relay.kdc-error-relayed",
            "An unknown client: the KDC's C_PRINCIPAL_UNKNOWN comes back with 200.",
            &["RelaySuccess"],
            Valid,
            post(k(as_recipe("nosuchuser"))),
            relayed("krb-error 6"),
        ),
        mit_first,
        k1,
        rt(
            &p,
            16010,
            "relay.method.get",
            "GET (kdcproxy check 1).",
            &["HttpMethod"],
            Invalid,
            RelayInput {
                method: "GET".into(),
                content_type: None,
                content_length: ContentLength::Absent,
                ..post(BodyRecipe::Empty)
            },
            status(405, &[]),
        ),
        rt(
            &p,
            16011,
            "relay.method.put",
            "PUT with a valid body.",
            &["HttpMethod"],
            Invalid,
            RelayInput {
                method: "PUT".into(),
                ..post(k(alice()))
            },
            status(405, &[]),
        ),
        rt(
            &p,
            16012,
            "relay.content-length.absent",
            "POST without Content-Length (kdcproxy check 2: 411).",
            &["ContentLength"],
            Invalid,
            RelayInput {
                content_length: ContentLength::Absent,
                ..post(k(alice()))
            },
            status(411, &[]),
        ),
        rt(
            &p,
            16013,
            "relay.content-length.above-max",
            "Content-Length 131073 (kdcproxy check 3: 413 before reading).",
            &["RequestSize"],
            Invalid,
            RelayInput {
                content_length: ContentLength::Declared { value: 131_073 },
                ..post(k(alice()))
            },
            status(413, &[]),
        ),
        rt(
            &p,
            16014,
            "relay.body.above-max",
            "A 131073-byte body.",
            &["RequestSize"],
            Invalid,
            post(BodyRecipe::Filler {
                byte: 0x30,
                len: 131_073,
            }),
            status(413, &[]),
        ),
        rt(
            &p,
            16015,
            "relay.body.at-max",
            "A 131072-byte body that is not DER: within the size limit, refused as malformed.",
            &["RequestSize", "BodyDecode"],
            Invalid,
            post(BodyRecipe::Filler {
                byte: 0x00,
                len: 131_072,
            }),
            malformed(),
        ),
        rt(
            &p,
            16016,
            "relay.body.hello",
            "The body \"hello\" (kdcproxy 1.1.0 raises TypeError: 500).",
            &["BodyDecode"],
            Invalid,
            raw_body(b"hello"),
            malformed(),
        ),
        rt(
            &p,
            16017,
            "relay.body.empty",
            "Content-Length 0.",
            &["BodyDecode"],
            Invalid,
            post(BodyRecipe::Empty),
            malformed(),
        ),
        rt(
            &p,
            16018,
            "relay.body.trailing-byte",
            "A byte after the KDC-PROXY-MESSAGE (kdcproxy check 4).",
            &["BodyDecode", "TrailingBytes"],
            Invalid,
            with(|b| b.trailing_hex = "00".into()),
            malformed(),
        ),
        rt(
            &p,
            16019,
            "relay.prefix.absent",
            "kerb-message without the length prefix (Apple; kdcproxy check 5: 400 Invalid request length).",
            &["PrefixCheck", "MissingLengthPrefix"],
            Invalid,
            with(|b| b.prefix = PrefixMode::Absent),
            malformed(),
        ),
        rt(
            &p,
            16020,
            "relay.prefix.plus-one",
            "The prefix one more than the message.",
            &["PrefixCheck"],
            Invalid,
            with(|b| b.prefix = PrefixMode::Delta { delta: 1 }),
            malformed(),
        ),
        rt(
            &p,
            16021,
            "relay.prefix.minus-one",
            "The prefix one less than the message.",
            &["PrefixCheck"],
            Invalid,
            with(|b| b.prefix = PrefixMode::Delta { delta: -1 }),
            malformed(),
        ),
        rt(
            &p,
            16022,
            "relay.prefix.max-31-bit",
            "The prefix 0x7fffffff: a relay must not wait for or allocate 2 GiB (CVE-2025-59089 class).",
            &["PrefixCheck", "RequestSize"],
            Invalid,
            with(|b| b.prefix = PrefixMode::Value { value: 0x7fff_ffff }),
            malformed(),
        ),
        rt(
            &p,
            16023,
            "relay.prefix.above-128k",
            "The prefix 200000, above MAX_LENGTH.",
            &["PrefixCheck", "RequestSize"],
            Invalid,
            with(|b| b.prefix = PrefixMode::Value { value: 200_000 }),
            malformed(),
        ),
        rt(
            &p,
            16024,
            "relay.prefix.zero",
            "A zero prefix before the message.",
            &["PrefixCheck"],
            Invalid,
            with(|b| b.prefix = PrefixMode::Value { value: 0 }),
            malformed(),
        ),
        rt(
            &p,
            16025,
            "relay.inner.ap-req",
            "A bare AP-REQ inside (kdcproxy check 6).",
            &["InnerMessageType"],
            Invalid,
            post(BodyRecipe::Kkdcp(kkdcp_hex(&ap_req_bytes()))),
            malformed(),
        ),
        rt(
            &p,
            16026,
            "relay.inner.krb-error",
            "A KRB-ERROR inside.",
            &["InnerMessageType"],
            Invalid,
            post(BodyRecipe::Kkdcp(kkdcp_hex(&mit::bytes(
                "tcp-krb-error-preauth-required",
            )))),
            malformed(),
        ),
        rt(
            &p,
            16027,
            "relay.inner.as-rep",
            "An AS-REP inside.",
            &["InnerMessageType"],
            Invalid,
            post(BodyRecipe::Kkdcp(kkdcp_hex(&mit::bytes("tcp-as-rep")))),
            malformed(),
        ),
        rt(
            &p,
            16028,
            "relay.inner.tgs-rep",
            "A TGS-REP inside.",
            &["InnerMessageType"],
            Invalid,
            post(BodyRecipe::Kkdcp(kkdcp_hex(&mit::bytes("tcp-tgs-rep")))),
            malformed(),
        ),
        rt(
            &p,
            16029,
            "relay.inner.garbage",
            "\"hello\" with a correct prefix.",
            &["InnerMessageType"],
            Invalid,
            post(BodyRecipe::Kkdcp(kkdcp_hex(b"hello"))),
            malformed(),
        ),
        rt(
            &p,
            16030,
            "relay.target-domain.absent",
            "No target-domain: MS-KKDCP §3.2.5.1 ERROR_BAD_FORMAT (kdcproxy 1.1.0: AttributeError, 500).",
            &["TargetDomainRequired"],
            Invalid,
            with(|b| b.target_domain = TargetDomain::Absent),
            status(400, &[]),
        ),
        rt(
            &p,
            16031,
            "relay.target-domain.lowercase",
            "target-domain lab.test: not case-sensitive, relayed (kdcproxy answers 503).",
            &["RealmCase"],
            Valid,
            with(|b| b.target_domain = TargetDomain::Lowercase),
            relayed("krb-error 25"),
        ),
        rt(
            &p,
            16032,
            "relay.realm.undeclared",
            "target-domain and inner realm OTHER.TEST: never resolved, never forwarded (CVE-2025-59088).",
            &["UndeclaredRealm"],
            Invalid,
            undeclared("OTHER.TEST"),
            status(403, &refused),
        ),
        rt(
            &p,
            16033,
            "relay.realm.global",
            "target-domain \"global\", the name of kdcproxy's config section.",
            &["UndeclaredRealm"],
            Invalid,
            undeclared("global"),
            status(403, &refused),
        ),
        rt(
            &p,
            16034,
            "relay.realm.ip-literal",
            "target-domain 127.0.0.1: an SSRF attempt at a loopback KDC.",
            &["UndeclaredRealm"],
            Invalid,
            undeclared("127.0.0.1"),
            status(403, &refused),
        ),
        rt(
            &p,
            16035,
            "relay.realm.srv-name",
            "target-domain _kerberos._tcp.evil.example.",
            &["UndeclaredRealm"],
            Invalid,
            undeclared("_kerberos._tcp.evil.example"),
            status(403, &refused),
        ),
        rt(
            &p,
            16036,
            "relay.realm.empty",
            "An empty target-domain.",
            &["UndeclaredRealm", "TargetDomainRequired"],
            Invalid,
            with(|b| {
                b.target_domain = TargetDomain::Literal {
                    value: String::new(),
                }
            }),
            status(403, &refused),
        ),
        rt(
            &p,
            16037,
            "relay.realm.mismatch",
            "target-domain LAB.TEST around an AS-REQ for OTHER.TEST: kerbside refuses (400); kdcproxy forwards and the KDC answers.",
            &["RealmMismatch"],
            Acceptable,
            post(k(AsRecipe {
                realm: Some("OTHER.TEST".into()),
                ..as_recipe("nopreauth")
            })),
            status(400, &[200]),
        ),
        rt(
            &p,
            16038,
            "relay.dclocator-hint",
            "A dclocator-hint is accepted and ignored.",
            &["RelaySuccess", "DclocatorHint"],
            Valid,
            with(|b| b.dclocator_hint = Some(4)),
            relayed("krb-error 25"),
        ),
        rt(
            &p,
            16039,
            "relay.realm-ia5string",
            "target-domain as IA5String: kerbside accepts it (kdcproxy's GeneralString decoder does not).",
            &["RealmStringType"],
            Acceptable,
            with(|b| b.realm_tag = Some(0x16)),
            RelayExpected {
                alternatives: vec!["http 400".into()],
                ..relayed("krb-error 25")
            },
        ),
        rt(
            &p,
            16040,
            "relay.path.other",
            "POST to /other: not the proxy endpoint (kdcproxy serves every path).",
            &["Path"],
            Acceptable,
            RelayInput {
                path: Some("/other".into()),
                ..post(k(alice()))
            },
            status(404, &[200]),
        ),
        rt(
            &p,
            16041,
            "relay.content-type.text",
            "Content-Type text/plain: kerbside answers 415; MS-KKDCP mandates no type, kdcproxy ignores it.",
            &["ContentType"],
            Acceptable,
            RelayInput {
                content_type: Some("text/plain".into()),
                ..post(k(alice()))
            },
            status(415, &[200]),
        ),
        rt(
            &p,
            16042,
            "relay.content-type.absent",
            "No Content-Type: relayed (MS-KKDCP §2.1 requires none).",
            &["ContentType", "RelaySuccess"],
            Valid,
            RelayInput {
                content_type: None,
                ..post(k(alice()))
            },
            relayed("krb-error 25"),
        ),
        rt(
            &p,
            16043,
            "relay.content-length.short-body",
            "Content-Length 10 more than the body: the body never completes.",
            &["ContentLength", "BodyDecode"],
            Invalid,
            RelayInput {
                content_length: ContentLength::Declared { value: 10 + 200 },
                ..post(BodyRecipe::Filler {
                    byte: 0x30,
                    len: 200,
                })
            },
            status(400, &[408]),
        ),
    ];
    let bad_reply = |hex: &str| RelayInput {
        upstream: UpstreamBehaviour::Reply {
            hex: hex.to_owned(),
        },
        ..post(k(alice()))
    };
    let hello = format!("{:08x}{}", 5, hex::encode("hello"));
    let req = mit::bytes("tcp-as-req-nopreauth");
    let as_req_reply = format!("{:08x}{}", req.len(), hex::encode(&req));
    let err = mit::bytes("tcp-krb-error-preauth-required");
    let mut trailing = format!("{:08x}{}", err.len(), hex::encode(&err));
    trailing.push_str("00");
    let truncated = format!(
        "{:08x}{}",
        err.len(),
        hex::encode(err.get(..10).unwrap_or_default())
    );
    tests.extend(vec![
        rt(&p, 16050, "relay.upstream.refused", "The KDC refuses the connection: an HTTP error, not a hang (kdcproxy: 503 Remote unavailable).", &["UpstreamFailure"], Invalid,
            RelayInput { upstream: UpstreamBehaviour::Refused, ..post(k(alice())) }, status(503, &[502, 504])),
        rt(&p, 16051, "relay.upstream.silent", "The KDC never answers: an HTTP error within the relay's deadline.", &["UpstreamFailure"], Invalid,
            RelayInput { upstream: UpstreamBehaviour::Silent, ..post(k(alice())) }, status(504, &[502, 503])),
        rt(&p, 16052, "relay.upstream.not-kerberos", "The KDC answers \"hello\" with a correct record mark: not relayed as a 200.", &["UpstreamFailure"], Invalid, bad_reply(&hello), status(502, &[503])),
        rt(&p, 16053, "relay.upstream.declared-too-large", "The KDC's record mark declares 0x7fffffff bytes (CVE-2025-59089).", &["UpstreamFailure", "FrameCap"], Invalid, bad_reply("7fffffff6b00"), status(502, &[503])),
        rt(&p, 16054, "relay.upstream.truncated", "The KDC's reply ends before its declared length.", &["UpstreamFailure"], Invalid, bad_reply(&truncated), status(502, &[503])),
        rt(&p, 16055, "relay.upstream.trailing", "The KDC sends a byte after its declared reply.", &["UpstreamFailure"], Invalid, bad_reply(&trailing), status(502, &[503])),
        rt(&p, 16056, "relay.upstream.request-echoed", "The KDC answers with an AS-REQ (not a reply).", &["UpstreamFailure"], Invalid, bad_reply(&as_req_reply), status(502, &[503])),
        rt(&p, 16057, "relay.upstream.high-bit", "The KDC's record mark has the reserved high bit set.", &["UpstreamFailure", "RecordMarkHighBit"], Invalid, bad_reply("800000dd7e00"), status(502, &[503])),
    ]);
    s.group(TestGroup::RelayRequest(group(
        "A relay serving LAB.TEST like kdcproxy (POST, 128 KiB, prefix required), plus realm matching.",
        p,
        tests,
    )));

    let apple = params("accept", true);
    let apple_tests = vec![
        rt(
            &apple,
            16060,
            "relay.apple.prefix-absent",
            "With the Apple-tolerant policy, a prefix-less AS-REQ is relayed.",
            &["MissingLengthPrefix", "RelaySuccess"],
            Acceptable,
            post(BodyRecipe::Kkdcp(KkdcpBody {
                prefix: PrefixMode::Absent,
                ..kkdcp(KdcRecipe::AsReq(as_recipe("alice")))
            })),
            RelayExpected {
                alternatives: vec!["http 400".into()],
                ..relayed("krb-error 25")
            },
        ),
        rt(
            &apple,
            16061,
            "relay.apple.prefix-wrong",
            "The tolerant policy still refuses a wrong prefix.",
            &["PrefixCheck"],
            Invalid,
            post(BodyRecipe::Kkdcp(KkdcpBody {
                prefix: PrefixMode::Delta { delta: 1 },
                ..kkdcp(KdcRecipe::AsReq(as_recipe("alice")))
            })),
            malformed(),
        ),
    ];
    s.group(TestGroup::RelayRequest(group(
        "A relay configured to accept Apple's prefix-less messages.",
        apple,
        apple_tests,
    )));

    let open = params("reject", false);
    let open_tests = vec![rt(
        &open,
        16070,
        "relay.no-realm-match.forwarded",
        "Without the realm-match requirement the OTHER.TEST AS-REQ is forwarded and the LAB.TEST KDC answers it.",
        &["RealmMismatch", "WrongRealm"],
        Acceptable,
        post(k(AsRecipe {
            realm: Some("OTHER.TEST".into()),
            ..as_recipe("nopreauth")
        })),
        RelayExpected {
            alternatives: vec!["http 400".into()],
            ..relayed("krb-error 68")
        },
    )];
    s.group(TestGroup::RelayRequest(group(
        "A relay that does not compare the inner realm with target-domain (kdcproxy's behaviour).",
        open,
        open_tests,
    )));
    s.finish()
}
