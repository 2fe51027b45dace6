//! kdc-* suites: AS and TGS requests with the answer a conforming KDC
//! gives. Every request is made by the recipe engine at the group clock
//! (the fixed `requestHex`), and the recipe stays in the file so a live run
//! re-makes it with the target's clock and fresh nonces.

use kerbside_wire::krb::constants::{kdc_options as opt, ticket_flags as tf};

use super::{Suite, group, mit, test};
use crate::check::kdc::test_rng;
use crate::clock;
use crate::model::{
    AsRecipe, AuthenticatorRecipe, ChecksumMode, EncTimestampRecipe, EtypeInfoExpected,
    KdcExpected, KdcInput, KdcParams, KdcRecipe, KdcSettings, KdcTransport, PadataRecipe,
    PrincipalDef, RawRecipe, ReplyChecks, ReplyClass, Test, TestGroup, TgsRecipe, TicketOrigin,
    TicketRecipe, VectorFile, Verdict,
};
use crate::realm::Realm;
use crate::recipe;

type KTest = Test<KdcInput, KdcExpected>;

/// The capture realm's principals plus the accounts the negative tests need.
pub(crate) fn lab_principals() -> Vec<PrincipalDef> {
    let p = |name: &str, pw: &str| PrincipalDef {
        name: name.to_owned(),
        password: pw.to_owned(),
        kvno: None,
        requires_preauth: false,
        disabled: false,
        expires: None,
        enctypes: None,
    };
    vec![
        PrincipalDef {
            kvno: Some(2),
            ..p("krbtgt/LAB.TEST", "krbtgtpw")
        },
        PrincipalDef {
            requires_preauth: true,
            ..p("alice", "alicepw")
        },
        p("nopreauth", "nopreauthpw"),
        p("host/app.lab.test", "apppw"),
        p("WS01$", "ws01pw"),
        PrincipalDef {
            requires_preauth: true,
            disabled: true,
            ..p("locked", "lockedpw")
        },
        PrincipalDef {
            expires: Some("2020-01-01T00:00:00Z".to_owned()),
            ..p("expired", "expiredpw")
        },
        PrincipalDef {
            enctypes: Some(vec![17]),
            ..p("aes128only", "aes128onlypw")
        },
    ]
}

pub(crate) fn lab_settings() -> KdcSettings {
    KdcSettings {
        max_skew_seconds: 300,
        udp_max_reply: 1465,
        max_lifetime_seconds: 36_000,
        enctypes: vec![18, 17, 20, 19],
    }
}

pub(crate) fn lab_params() -> KdcParams {
    KdcParams {
        realm: "LAB.TEST".to_owned(),
        clock: mit::CLOCK.to_owned(),
        principals: lab_principals(),
        kdc: lab_settings(),
    }
}

const E: [i32; 4] = [18, 17, 20, 19];

/// An AS-REQ recipe for `client` with the default enctypes and a 10-hour till.
pub(crate) fn as_recipe(client: &str) -> AsRecipe {
    AsRecipe {
        client: Some(client.to_owned()),
        service: None,
        omit_service: false,
        realm: None,
        etypes: E.to_vec(),
        kdc_options: opt::RENEWABLE_OK,
        till_offset_seconds: 36_000,
        from_offset_seconds: None,
        rtime_offset_seconds: None,
        enc_timestamp: None,
        extra_padata: Vec::new(),
        pvno: None,
        msg_type: None,
    }
}

pub(crate) fn ts(etype: i32) -> EncTimestampRecipe {
    EncTimestampRecipe {
        etype,
        password: None,
        offset_seconds: 0,
        usage: None,
        corrupt: false,
        plaintext_hex: None,
    }
}

fn preauth(client: &str, etype: i32) -> AsRecipe {
    AsRecipe {
        etypes: vec![etype],
        enc_timestamp: Some(ts(etype)),
        ..as_recipe(client)
    }
}

pub(crate) fn error(code: i32) -> KdcExpected {
    KdcExpected {
        reply: ReplyClass::KrbError,
        error_code: Some(code),
        error_name: kerbside_wire::krb::constants::error_code_name(code).map(str::to_owned),
        alternatives: Vec::new(),
        checks: ReplyChecks::default(),
    }
}

fn error_or(code: i32, alternatives: &[&str]) -> KdcExpected {
    KdcExpected {
        alternatives: alternatives.iter().map(|a| (*a).to_owned()).collect(),
        ..error(code)
    }
}

pub(crate) fn reply(class: ReplyClass, checks: ReplyChecks) -> KdcExpected {
    KdcExpected {
        reply: class,
        error_code: None,
        error_name: None,
        alternatives: Vec::new(),
        checks,
    }
}

fn no_reply(alternatives: &[&str]) -> KdcExpected {
    KdcExpected {
        reply: ReplyClass::NoReply,
        error_code: None,
        error_name: None,
        alternatives: alternatives.iter().map(|a| (*a).to_owned()).collect(),
        checks: ReplyChecks::default(),
    }
}

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| (*s).to_owned()).collect()
}

/// A test whose request is built from `recipe` at the group clock.
pub(crate) fn kt(
    params: &KdcParams,
    tc: u32,
    id: &str,
    comment: &str,
    flags: &[&str],
    result: Verdict,
    transport: KdcTransport,
    recipe: KdcRecipe,
    expected: KdcExpected,
) -> KTest {
    let realm = Realm::new(&params.realm, params.principals.clone());
    let now = clock::parse(&params.clock).unwrap_or(std::time::UNIX_EPOCH);
    let mut rng = test_rng(tc);
    let bytes = recipe::build(&recipe, &realm, now, &mut rng, None)
        .map(|b| b.bytes)
        .unwrap_or_default();
    test(
        tc,
        id,
        comment,
        flags,
        result,
        KdcInput {
            transport,
            sends: 1,
            resend_altered: false,
            request_hex: hex::encode(bytes),
            recipe,
        },
        expected,
    )
}

/// A test sending fixed bytes.
fn raw(
    tc: u32,
    id: &str,
    comment: &str,
    flags: &[&str],
    result: Verdict,
    transport: KdcTransport,
    bytes: &[u8],
    clock_bound: bool,
    expected: KdcExpected,
) -> KTest {
    test(
        tc,
        id,
        comment,
        flags,
        result,
        KdcInput {
            transport,
            sends: 1,
            resend_altered: false,
            request_hex: hex::encode(bytes),
            recipe: KdcRecipe::Raw(RawRecipe { clock_bound }),
        },
        expected,
    )
}

pub(crate) fn suites() -> Vec<VectorFile> {
    vec![as_suite(), tgs_suite()]
}

fn as_suite() -> VectorFile {
    let mut s = Suite::new(
        "kdc-as",
        "AS exchange (RFC 4120 §3.1): pre-authentication flow, PA-ENC-TIMESTAMP checks, clock \
         skew, unknown and unusable principals, enctype selection, options, lifetimes, \
         malformed requests, and MIT's captured requests replayed at their capture time.",
    );
    s.source(mit::provenance());
    let p = lab_params();
    use KdcTransport::{Tcp, Udp};
    use Verdict::{Acceptable, Invalid, Valid};
    let asr = |r: AsRecipe| KdcRecipe::AsReq(r);
    let rep_ok = |etype: i32, extra: &[&str]| {
        reply(
            ReplyClass::AsRep,
            ReplyChecks {
                decrypts: true,
                reply_etype: Some(etype),
                ticket_server: Some("krbtgt/{realm}".to_owned()),
                flags_set: strings(extra),
                ..Default::default()
            },
        )
    };
    let mut preauth_required = error(25);
    preauth_required.checks = ReplyChecks {
        e_data_padata: vec![19, 2],
        etype_info2: vec![EtypeInfoExpected {
            etype: 18,
            salt: "{realm}alice".to_owned(),
        }],
        ..Default::default()
    };
    let wrong_pw = AsRecipe {
        enc_timestamp: Some(EncTimestampRecipe {
            password: Some("not-alicepw".into()),
            ..ts(18)
        }),
        ..preauth("alice", 18)
    };
    let with_ts = |f: fn(&mut EncTimestampRecipe)| {
        let mut t = ts(18);
        f(&mut t);
        AsRecipe {
            enc_timestamp: Some(t),
            ..preauth("alice", 18)
        }
    };
    let mut tests = vec![
        kt(
            &p,
            14001,
            "kdc.as.preauth-required",
            "alice requires pre-authentication: the first AS-REQ gets PREAUTH_REQUIRED with PA-ETYPE-INFO2 (salt LAB.TESTalice) and PA-ENC-TIMESTAMP in METHOD-DATA.",
            &["PreauthRequired"],
            Invalid,
            Tcp,
            asr(as_recipe("alice")),
            preauth_required.clone(),
        ),
        kt(
            &p,
            14002,
            "kdc.as.enc-timestamp.aes256",
            "A valid PA-ENC-TIMESTAMP (aes256): AS-REP under alice's key, TGT flagged initial and pre-authent.",
            &["EncTimestamp"],
            Valid,
            Tcp,
            asr(preauth("alice", 18)),
            rep_ok(18, &["initial", "pre-authent"]),
        ),
        kt(
            &p,
            14003,
            "kdc.as.enc-timestamp.aes128",
            "The same with aes128-cts-hmac-sha1-96 only.",
            &["EncTimestamp", "Enctypes"],
            Valid,
            Tcp,
            asr(preauth("alice", 17)),
            rep_ok(17, &["pre-authent"]),
        ),
        kt(
            &p,
            14004,
            "kdc.as.enc-timestamp.aes256-sha384",
            "The same with aes256-cts-hmac-sha384-192 only (RFC 8009).",
            &["EncTimestamp", "Enctypes"],
            Valid,
            Tcp,
            asr(preauth("alice", 20)),
            rep_ok(20, &["pre-authent"]),
        ),
        kt(
            &p,
            14005,
            "kdc.as.enc-timestamp.aes128-sha256",
            "The same with aes128-cts-hmac-sha256-128 only (RFC 8009).",
            &["EncTimestamp", "Enctypes"],
            Valid,
            Tcp,
            asr(preauth("alice", 19)),
            rep_ok(19, &["pre-authent"]),
        ),
        kt(
            &p,
            14006,
            "kdc.as.no-preauth-principal",
            "nopreauth does not require pre-authentication: AS-REP at once, not flagged pre-authent.",
            &["NoPreauth"],
            Valid,
            Tcp,
            asr(as_recipe("nopreauth")),
            reply(
                ReplyClass::AsRep,
                ReplyChecks {
                    decrypts: true,
                    reply_etype: Some(18),
                    flags_set: strings(&["initial"]),
                    flags_clear: strings(&["pre-authent"]),
                    ..Default::default()
                },
            ),
        ),
        kt(
            &p,
            14007,
            "kdc.as.wrong-password",
            "PA-ENC-TIMESTAMP made with the wrong password.",
            &["PreauthFailed"],
            Invalid,
            Tcp,
            asr(wrong_pw),
            error(24),
        ),
        kt(
            &p,
            14008,
            "kdc.as.enc-timestamp.wrong-usage",
            "PA-ENC-TIMESTAMP encrypted under key usage 3 instead of 1.",
            &["PreauthFailed"],
            Invalid,
            Tcp,
            asr(with_ts(|t| t.usage = Some(3))),
            error(24),
        ),
        kt(
            &p,
            14009,
            "kdc.as.enc-timestamp.corrupt",
            "PA-ENC-TIMESTAMP with one ciphertext bit flipped.",
            &["PreauthFailed"],
            Invalid,
            Tcp,
            asr(with_ts(|t| t.corrupt = true)),
            error(24),
        ),
        kt(
            &p,
            14010,
            "kdc.as.enc-timestamp.not-a-timestamp",
            "PA-ENC-TIMESTAMP whose plaintext is not a PA-ENC-TS-ENC (an ASN.1 NULL).",
            &["PreauthFailed", "MalformedRequest"],
            Invalid,
            Tcp,
            asr(with_ts(|t| t.plaintext_hex = Some("0500".into()))),
            error(24),
        ),
        kt(
            &p,
            14011,
            "kdc.as.skew.ahead",
            "Client clock 10 minutes ahead: KRB_AP_ERR_SKEW.",
            &["ClockSkew"],
            Invalid,
            Tcp,
            asr(with_ts(|t| t.offset_seconds = 600)),
            error(37),
        ),
        kt(
            &p,
            14012,
            "kdc.as.skew.behind",
            "Client clock 10 minutes behind: KRB_AP_ERR_SKEW.",
            &["ClockSkew"],
            Invalid,
            Tcp,
            asr(with_ts(|t| t.offset_seconds = -600)),
            error(37),
        ),
        kt(
            &p,
            14013,
            "kdc.as.skew.within-ahead",
            "Client clock 4 minutes ahead: inside the 5-minute skew.",
            &["ClockSkew"],
            Valid,
            Tcp,
            asr(with_ts(|t| t.offset_seconds = 240)),
            rep_ok(18, &[]),
        ),
        kt(
            &p,
            14014,
            "kdc.as.skew.within-behind",
            "Client clock 4 min 50 s behind: inside the skew.",
            &["ClockSkew"],
            Valid,
            Tcp,
            asr(with_ts(|t| t.offset_seconds = -290)),
            rep_ok(18, &[]),
        ),
        kt(
            &p,
            14015,
            "kdc.as.unknown-client",
            "A client the KDC does not know.",
            &["UnknownPrincipal"],
            Invalid,
            Tcp,
            asr(as_recipe("nosuchuser")),
            error(6),
        ),
        kt(
            &p,
            14016,
            "kdc.as.unknown-service",
            "A valid pre-authenticated request for an unknown service.",
            &["UnknownPrincipal"],
            Invalid,
            Tcp,
            asr(AsRecipe {
                service: Some("host/nowhere.lab.test".into()),
                ..preauth("alice", 18)
            }),
            error(7),
        ),
        kt(
            &p,
            14017,
            "kdc.as.etype.des-only",
            "Only DES enctypes offered (1, 3).",
            &["Enctypes", "WeakEnctype"],
            Invalid,
            Tcp,
            asr(AsRecipe {
                etypes: vec![1, 3],
                ..as_recipe("nopreauth")
            }),
            error(14),
        ),
        kt(
            &p,
            14018,
            "kdc.as.etype.rc4-only",
            "Only rc4-hmac offered: no principal has an rc4 key.",
            &["Enctypes", "WeakEnctype"],
            Invalid,
            Tcp,
            asr(AsRecipe {
                etypes: vec![23],
                ..as_recipe("nopreauth")
            }),
            error(14),
        ),
        kt(
            &p,
            14019,
            "kdc.as.etype.client-order",
            "etypes [17, 18]: the reply uses the client's first choice the KDC has a key for (aes128).",
            &["Enctypes"],
            Valid,
            Tcp,
            asr(AsRecipe {
                etypes: vec![17, 18],
                ..as_recipe("nopreauth")
            }),
            reply(
                ReplyClass::AsRep,
                ReplyChecks {
                    decrypts: true,
                    reply_etype: Some(17),
                    ..Default::default()
                },
            ),
        ),
        kt(
            &p,
            14020,
            "kdc.as.etype.unknown-skipped",
            "etypes [99, 18]: an unknown number is skipped.",
            &["Enctypes"],
            Valid,
            Tcp,
            asr(AsRecipe {
                etypes: vec![99, 18],
                ..as_recipe("nopreauth")
            }),
            reply(
                ReplyClass::AsRep,
                ReplyChecks {
                    decrypts: true,
                    reply_etype: Some(18),
                    ..Default::default()
                },
            ),
        ),
        kt(
            &p,
            14021,
            "kdc.as.etype.client-key-limits",
            "aes128only has only an aes128 key: the reply is under it although aes256 is listed first.",
            &["Enctypes"],
            Valid,
            Tcp,
            asr(AsRecipe {
                etypes: vec![18, 17],
                ..as_recipe("aes128only")
            }),
            reply(
                ReplyClass::AsRep,
                ReplyChecks {
                    decrypts: true,
                    reply_etype: Some(17),
                    ..Default::default()
                },
            ),
        ),
        kt(
            &p,
            14022,
            "kdc.as.disabled-account",
            "A disabled account (MIT: -allow_tix).",
            &["AccountState"],
            Invalid,
            Tcp,
            asr(as_recipe("locked")),
            error(18),
        ),
        kt(
            &p,
            14023,
            "kdc.as.expired-account",
            "An account that expired in 2020.",
            &["AccountState"],
            Invalid,
            Tcp,
            asr(as_recipe("expired")),
            error(1),
        ),
        kt(
            &p,
            14024,
            "kdc.as.wrong-realm",
            "req-body realm OTHER.TEST, which this KDC does not serve.",
            &["WrongRealm"],
            Invalid,
            Tcp,
            asr(AsRecipe {
                realm: Some("OTHER.TEST".into()),
                ..as_recipe("nopreauth")
            }),
            error_or(68, &["krb-error 6", "no-reply"]),
        ),
        kt(
            &p,
            14025,
            "kdc.as.pvno-4",
            "pvno 4.",
            &["ProtocolVersion"],
            Invalid,
            Tcp,
            asr(AsRecipe {
                pvno: Some(4),
                ..as_recipe("nopreauth")
            }),
            error_or(3, &["no-reply"]),
        ),
        kt(
            &p,
            14026,
            "kdc.as.msg-type-12",
            "msg-type 12 (TGS-REQ) under the AS-REQ tag.",
            &["ProtocolVersion"],
            Invalid,
            Tcp,
            asr(AsRecipe {
                msg_type: Some(12),
                ..as_recipe("nopreauth")
            }),
            error_or(40, &["no-reply"]),
        ),
        kt(
            &p,
            14027,
            "kdc.as.renewable",
            "renewable with rtime +7 days: the TGT is renewable.",
            &["KdcOptions", "Lifetime"],
            Valid,
            Tcp,
            asr(AsRecipe {
                kdc_options: opt::RENEWABLE,
                rtime_offset_seconds: Some(604_800),
                ..as_recipe("nopreauth")
            }),
            reply(
                ReplyClass::AsRep,
                ReplyChecks {
                    decrypts: true,
                    flags_set: strings(&["renewable"]),
                    ..Default::default()
                },
            ),
        ),
        kt(
            &p,
            14028,
            "kdc.as.not-renewable",
            "No renewable option: the TGT is not renewable.",
            &["KdcOptions", "Lifetime"],
            Valid,
            Tcp,
            asr(AsRecipe {
                kdc_options: 0,
                ..as_recipe("nopreauth")
            }),
            reply(
                ReplyClass::AsRep,
                ReplyChecks {
                    decrypts: true,
                    flags_clear: strings(&["renewable"]),
                    ..Default::default()
                },
            ),
        ),
        kt(
            &p,
            14029,
            "kdc.as.option.renew",
            "The TGS-only option RENEW in an AS-REQ.",
            &["KdcOptions"],
            Invalid,
            Tcp,
            asr(AsRecipe {
                kdc_options: opt::RENEW,
                ..as_recipe("nopreauth")
            }),
            error(13),
        ),
        kt(
            &p,
            14030,
            "kdc.as.option.validate",
            "The TGS-only option VALIDATE in an AS-REQ.",
            &["KdcOptions"],
            Invalid,
            Tcp,
            asr(AsRecipe {
                kdc_options: opt::VALIDATE,
                ..as_recipe("nopreauth")
            }),
            error(13),
        ),
        kt(
            &p,
            14031,
            "kdc.as.option.enc-tkt-in-skey",
            "The TGS-only option ENC-TKT-IN-SKEY in an AS-REQ.",
            &["KdcOptions"],
            Invalid,
            Tcp,
            asr(AsRecipe {
                kdc_options: opt::ENC_TKT_IN_SKEY,
                ..as_recipe("nopreauth")
            }),
            error(13),
        ),
        test_acceptable_postdate(&p),
        kt(
            &p,
            14033,
            "kdc.as.lifetime-capped",
            "till +30 days: the TGT ends within the realm's 10-hour maximum.",
            &["Lifetime"],
            Valid,
            Tcp,
            asr(AsRecipe {
                till_offset_seconds: 30 * 86_400,
                ..as_recipe("nopreauth")
            }),
            reply(
                ReplyClass::AsRep,
                ReplyChecks {
                    decrypts: true,
                    max_lifetime_seconds: Some(36_000),
                    ..Default::default()
                },
            ),
        ),
        kt(
            &p,
            14034,
            "kdc.as.till-in-past",
            "till one hour in the past: kerbside refuses (KDC_ERR_NEVER_VALID); RFC 4120 §3.1.3 leaves the minimum lifetime to the site, and MIT issues a ticket.",
            &["Lifetime"],
            Acceptable,
            Tcp,
            asr(AsRecipe {
                till_offset_seconds: -3600,
                ..as_recipe("nopreauth")
            }),
            error_or(11, &["as-rep"]),
        ),
        kt(
            &p,
            14035,
            "kdc.as.no-cname",
            "No cname.",
            &["MissingField", "UnknownPrincipal"],
            Invalid,
            Tcp,
            asr(AsRecipe {
                client: None,
                ..as_recipe("nopreauth")
            }),
            error_or(6, &["no-reply", "krb-error 60"]),
        ),
        kt(
            &p,
            14036,
            "kdc.as.no-sname",
            "No sname.",
            &["MissingField", "UnknownPrincipal"],
            Invalid,
            Tcp,
            asr(AsRecipe {
                omit_service: true,
                ..as_recipe("nopreauth")
            }),
            error_or(7, &["no-reply", "krb-error 60"]),
        ),
        kt(
            &p,
            14037,
            "kdc.as.empty-etype-list",
            "An empty etype list.",
            &["Enctypes"],
            Invalid,
            Tcp,
            asr(AsRecipe {
                etypes: Vec::new(),
                ..as_recipe("nopreauth")
            }),
            error_or(14, &["no-reply"]),
        ),
        kt(
            &p,
            14038,
            "kdc.as.service-ticket",
            "An AS-REQ for host/app.lab.test itself (no TGT in between).",
            &["NoPreauth"],
            Valid,
            Tcp,
            asr(AsRecipe {
                service: Some("host/app.lab.test".into()),
                ..as_recipe("nopreauth")
            }),
            reply(
                ReplyClass::AsRep,
                ReplyChecks {
                    decrypts: true,
                    ticket_server: Some("host/app.lab.test".into()),
                    ..Default::default()
                },
            ),
        ),
        kt(
            &p,
            14039,
            "kdc.as.udp",
            "nopreauth's request over UDP: the reply fits in a datagram.",
            &["NoPreauth"],
            Valid,
            Udp,
            asr(as_recipe("nopreauth")),
            reply(
                ReplyClass::AsRep,
                ReplyChecks {
                    decrypts: true,
                    ..Default::default()
                },
            ),
        ),
        kt(
            &p,
            14040,
            "kdc.as.udp.preauth-required",
            "alice's first request over UDP.",
            &["PreauthRequired"],
            Invalid,
            Udp,
            asr(as_recipe("alice")),
            preauth_required.clone(),
        ),
        kt(
            &p,
            14041,
            "kdc.as.unknown-padata-ignored",
            "PA-PAC-REQUEST and an unassigned padata type 9999 beside a valid request: both ignored.",
            &["NoPreauth", "OptionalFields"],
            Valid,
            Tcp,
            asr(AsRecipe {
                extra_padata: vec![
                    PadataRecipe {
                        padata_type: 128,
                        value_hex: "3005a0030101ff".into(),
                    },
                    PadataRecipe {
                        padata_type: 9999,
                        value_hex: "00".into(),
                    },
                ],
                ..as_recipe("nopreauth")
            }),
            reply(
                ReplyClass::AsRep,
                ReplyChecks {
                    decrypts: true,
                    ..Default::default()
                },
            ),
        ),
        kt(
            &p,
            14042,
            "kdc.as.enc-timestamp.rc4-key",
            "PA-ENC-TIMESTAMP under alice's rc4-hmac key, which the KDC does not hold.",
            &["PreauthFailed", "WeakEnctype"],
            Invalid,
            Tcp,
            asr(AsRecipe {
                etypes: vec![18, 23],
                enc_timestamp: Some(ts(23)),
                ..as_recipe("alice")
            }),
            error_or(24, &["krb-error 14"]),
        ),
        kt(
            &p,
            14043,
            "kdc.as.computer-account",
            "A computer account (WS01$) gets a TGT like any principal.",
            &["NoPreauth"],
            Valid,
            Tcp,
            asr(as_recipe("WS01$")),
            reply(
                ReplyClass::AsRep,
                ReplyChecks {
                    decrypts: true,
                    ..Default::default()
                },
            ),
        ),
        kt(
            &p,
            14044,
            "kdc.as.disabled-account-with-preauth",
            "The disabled account with a correct PA-ENC-TIMESTAMP: still refused.",
            &["AccountState"],
            Invalid,
            Tcp,
            asr(preauth("locked", 18)),
            error(18),
        ),
    ];
    s.group(TestGroup::KdcExchange(group(
        "Realm LAB.TEST (the capture realm plus accounts for the negative tests); 5-minute skew; 10-hour maximum lifetime.",
        p.clone(),
        std::mem::take(&mut tests),
    )));

    let cap = |tc, id: &str, file: &str, transport, comment: &str, expected: KdcExpected| {
        let mut t = raw(
            tc,
            id,
            comment,
            &["MitCapture"],
            Verdict::Valid,
            transport,
            &mit::bytes(file),
            true,
            expected,
        );
        t.source = Some("mit-lab-test".to_owned());
        t
    };
    let rep = reply(
        ReplyClass::AsRep,
        ReplyChecks {
            decrypts: true,
            ..Default::default()
        },
    );
    let captures = vec![
        cap(
            14050,
            "kdc.as.mit.first-request",
            "tcp-as-req-nopreauth",
            Tcp,
            "kinit's first AS-REQ at its capture time: PREAUTH_REQUIRED.",
            preauth_required.clone(),
        ),
        cap(
            14051,
            "kdc.as.mit.enc-timestamp",
            "tcp-as-req-pa-enc-timestamp",
            Tcp,
            "kinit's pre-authenticated AS-REQ (PA-FX-COOKIE, PA-ENC-TIMESTAMP, PA-REQ-ENC-PA-REP) at its capture time: AS-REP.",
            rep.clone(),
        ),
        cap(
            14052,
            "kdc.as.mit.no-preauth-principal",
            "tcp-as-req-principal-nopreauth",
            Tcp,
            "kinit for nopreauth: AS-REP at once.",
            rep.clone(),
        ),
        cap(
            14053,
            "kdc.as.mit.udp.first-request",
            "udp-as-req-nopreauth",
            Udp,
            "The UDP capture of the first AS-REQ.",
            preauth_required,
        ),
        cap(
            14054,
            "kdc.as.mit.udp.enc-timestamp",
            "udp-as-req-pa-enc-timestamp",
            Udp,
            "The UDP capture of the pre-authenticated AS-REQ.",
            rep.clone(),
        ),
        cap(
            14055,
            "kdc.as.mit.udp.no-preauth-principal",
            "udp-as-req-principal-nopreauth",
            Udp,
            "The UDP capture of nopreauth's AS-REQ.",
            rep,
        ),
    ];
    let mut cp = p.clone();
    cp.clock = mit::CLOCK.to_owned();
    s.group(TestGroup::KdcExchange(group(
        "MIT kinit's requests replayed at their capture time (2026-11-24T18:00:35Z); live runs skip them unless the target's clock is that time.",
        cp,
        captures,
    )));

    let base = mit::bytes("tcp-as-req-nopreauth");
    let mut trailing = base.clone();
    trailing.push(0);
    // Not a request at all: any error (or silence) is fine. A damaged
    // request: silence or a generic error, not an answer to what is left.
    let drop_alts = ["krb-error *"];
    let damaged = ["krb-error 60"];
    let malformed = vec![
        raw(
            14060,
            "kdc.as.malformed.truncated",
            "The first AS-REQ without its last 10 bytes.",
            &["MalformedRequest"],
            Invalid,
            Tcp,
            base.get(..base.len() - 10).unwrap_or_default(),
            false,
            no_reply(&damaged),
        ),
        raw(
            14061,
            "kdc.as.malformed.trailing-byte",
            "The first AS-REQ plus one byte.",
            &["MalformedRequest", "TrailingBytes"],
            Invalid,
            Tcp,
            &trailing,
            false,
            no_reply(&damaged),
        ),
        raw(
            14062,
            "kdc.as.malformed.as-rep-sent",
            "An AS-REP sent to the KDC: answering replies makes KDCs ping-pong.",
            &["MalformedRequest"],
            Invalid,
            Udp,
            &mit::bytes("tcp-as-rep"),
            false,
            no_reply(&drop_alts),
        ),
        raw(
            14063,
            "kdc.as.malformed.krb-error-sent",
            "A KRB-ERROR sent to the KDC.",
            &["MalformedRequest"],
            Invalid,
            Udp,
            &mit::bytes("tcp-krb-error-preauth-required"),
            false,
            no_reply(&drop_alts),
        ),
        raw(
            14064,
            "kdc.as.malformed.hello",
            "The datagram \"hello\".",
            &["MalformedRequest"],
            Invalid,
            Udp,
            b"hello",
            false,
            no_reply(&drop_alts),
        ),
        raw(
            14065,
            "kdc.as.malformed.tag-only",
            "Two bytes: the AS-REQ tag and a zero length.",
            &["MalformedRequest", "Truncated"],
            Invalid,
            Udp,
            &[0x6a, 0x00],
            false,
            no_reply(&damaged),
        ),
    ];
    s.group(TestGroup::KdcExchange(group(
        "Requests that do not decode: no crash; no reply (kerbside and MIT drop them) or a generic KRB-ERROR.",
        p,
        malformed,
    )));
    s.finish()
}

fn test_acceptable_postdate(p: &KdcParams) -> KTest {
    let r = AsRecipe {
        kdc_options: opt::ALLOW_POSTDATE | opt::POSTDATED,
        from_offset_seconds: Some(3600),
        ..as_recipe("nopreauth")
    };
    let mut e = error_or(10, &["as-rep"]);
    e.error_name = Some("KDC_ERR_CANNOT_POSTDATE".to_owned());
    kt(
        p,
        14032,
        "kdc.as.postdated",
        "A postdated ticket (POSTDATED, from +1 h): kerbside does not postdate (KDC_ERR_CANNOT_POSTDATE); a KDC that postdates issues an INVALID ticket.",
        &["KdcOptions"],
        Verdict::Acceptable,
        KdcTransport::Tcp,
        KdcRecipe::AsReq(r),
        e,
    )
}

/// A TGT for alice like an AS exchange issues it.
pub(crate) fn tgt(origin: TicketOrigin) -> TicketRecipe {
    TicketRecipe {
        origin,
        client: "alice".to_owned(),
        server: None,
        sealed_with: None,
        sealing_password: None,
        kvno: None,
        etype: 18,
        session_etype: 18,
        start_offset_seconds: -60,
        end_offset_seconds: 36_000,
        renew_till_offset_seconds: None,
        flags: tf::INITIAL | tf::PRE_AUTHENT,
        corrupt: false,
    }
}

pub(crate) fn auth() -> AuthenticatorRecipe {
    AuthenticatorRecipe {
        offset_seconds: 0,
        checksum: ChecksumMode::Good,
        cname: None,
        subkey: false,
        wrong_key: false,
    }
}

pub(crate) fn tgs(ticket: TicketRecipe, service: &str) -> TgsRecipe {
    TgsRecipe {
        ticket,
        service: service.to_owned(),
        realm: None,
        etypes: E.to_vec(),
        kdc_options: 0,
        till_offset_seconds: 36_000,
        authenticator: auth(),
        omit_pa_tgs_req: false,
    }
}

fn tgs_suite() -> VectorFile {
    let mut s = Suite::new(
        "kdc-tgs",
        "TGS exchange (RFC 4120 §3.3): service tickets, subkeys, enctypes, the PA-TGS-REQ \
         checks (ticket key and kvno, times, authenticator, checksum, skew, replay), renewal \
         and options.",
    );
    let p = lab_params();
    use KdcTransport::{Tcp, Udp};
    use Verdict::{Acceptable, Invalid, Valid};
    let app = "host/app.lab.test";
    let issued = || tgt(TicketOrigin::AsExchange);
    let forged = || tgt(TicketOrigin::Forge);
    let t = |r: TgsRecipe| KdcRecipe::TgsReq(r);
    let ok_checks = |extra: ReplyChecks| {
        reply(
            ReplyClass::TgsRep,
            ReplyChecks {
                decrypts: true,
                ticket_server: Some(app.to_owned()),
                ..extra
            },
        )
    };
    let with_auth = |f: fn(&mut AuthenticatorRecipe)| {
        let mut r = tgs(issued(), app);
        f(&mut r.authenticator);
        r
    };
    let with_ticket = |f: fn(&mut TicketRecipe)| {
        let mut tk = forged();
        f(&mut tk);
        tgs(tk, app)
    };
    // The same bytes twice are a retransmission: MIT's lookaside cache and
    // kerbside's answer with the first reply; a KDC without one finds the
    // authenticator in its replay cache. The replay that must be refused is
    // 15035: the authenticator in a request that is not the same bytes.
    let mut replay = kt(
        &p,
        15013,
        "kdc.tgs.replay",
        "The same TGS-REQ twice (a retransmission): a lookaside cache (MIT, kerbside) answers the copy with the first TGS-REP; a KDC without one refuses the authenticator as a replay (KRB_AP_ERR_REPEAT). Both conform.",
        &["Replay"],
        Acceptable,
        Tcp,
        t(tgs(issued(), app)),
        KdcExpected {
            alternatives: strings(&["krb-error 34"]),
            ..ok_checks(ReplyChecks::default())
        },
    );
    replay.input.sends = 2;
    let mut replay_elsewhere = kt(
        &p,
        15035,
        "kdc.tgs.replay-in-another-request",
        "A TGS-REQ, then a copy with one more padata (PA-PAC-REQUEST) and the same PA-TGS-REQ: the authenticator is a replay whatever else changed (KRB_AP_ERR_REPEAT).",
        &["Replay"],
        Invalid,
        Tcp,
        t(tgs(issued(), app)),
        error(34),
    );
    replay_elsewhere.input.sends = 2;
    replay_elsewhere.input.resend_altered = true;
    let renewable = |server: Option<&str>| TicketRecipe {
        server: server.map(str::to_owned),
        flags: tf::INITIAL | tf::PRE_AUTHENT | tf::RENEWABLE,
        renew_till_offset_seconds: Some(604_800),
        ..forged()
    };
    let tests = vec![
        kt(
            &p,
            15001,
            "kdc.tgs.service-ticket",
            "alice's TGT for host/app.lab.test: TGS-REP under the TGT session key (usage 8).",
            &["TgsExchange"],
            Valid,
            Tcp,
            t(tgs(issued(), app)),
            ok_checks(ReplyChecks::default()),
        ),
        kt(
            &p,
            15002,
            "kdc.tgs.subkey",
            "With an authenticator subkey the reply is under the subkey (usage 9).",
            &["TgsExchange", "Subkey"],
            Valid,
            Tcp,
            t(with_auth(|a| a.subkey = true)),
            ok_checks(ReplyChecks::default()),
        ),
        kt(
            &p,
            15003,
            "kdc.tgs.unknown-service",
            "A service the KDC does not know.",
            &["UnknownPrincipal"],
            Invalid,
            Tcp,
            t(tgs(issued(), "host/nowhere.lab.test")),
            error(7),
        ),
        kt(
            &p,
            15004,
            "kdc.tgs.etype.des-only",
            "Only DES enctypes.",
            &["Enctypes", "WeakEnctype"],
            Invalid,
            Tcp,
            t(TgsRecipe {
                etypes: vec![1, 3],
                ..tgs(issued(), app)
            }),
            error(14),
        ),
        kt(
            &p,
            15005,
            "kdc.tgs.etype.session-choice",
            "etypes [17]: the service ticket's session key is aes128.",
            &["Enctypes"],
            Valid,
            Tcp,
            t(TgsRecipe {
                etypes: vec![17],
                ..tgs(issued(), app)
            }),
            ok_checks(ReplyChecks {
                session_etype: Some(17),
                ..Default::default()
            }),
        ),
        kt(
            &p,
            15006,
            "kdc.tgs.skew.ahead",
            "Authenticator 10 minutes ahead.",
            &["ClockSkew", "Authenticator"],
            Invalid,
            Tcp,
            t(with_auth(|a| a.offset_seconds = 600)),
            error(37),
        ),
        kt(
            &p,
            15007,
            "kdc.tgs.skew.behind",
            "Authenticator 10 minutes behind.",
            &["ClockSkew", "Authenticator"],
            Invalid,
            Tcp,
            t(with_auth(|a| a.offset_seconds = -600)),
            error(37),
        ),
        kt(
            &p,
            15008,
            "kdc.tgs.checksum.absent",
            "Authenticator without the body checksum: the body could be changed in transit.",
            &["Authenticator"],
            Invalid,
            Tcp,
            t(with_auth(|a| a.checksum = ChecksumMode::Absent)),
            error(50),
        ),
        kt(
            &p,
            15009,
            "kdc.tgs.checksum.wrong-body",
            "Checksum over a different body (another nonce).",
            &["Authenticator"],
            Invalid,
            Tcp,
            t(with_auth(|a| a.checksum = ChecksumMode::WrongBody)),
            error_or(41, &["krb-error 31"]),
        ),
        kt(
            &p,
            15010,
            "kdc.tgs.checksum.unkeyed",
            "An unkeyed RSA-MD5 body checksum: kerbside requires a keyed one (KRB_AP_ERR_INAPP_CKSUM); MIT only requires a collision-proof type, the checksum travelling inside the encrypted authenticator.",
            &["Authenticator"],
            Acceptable,
            Tcp,
            t(with_auth(|a| a.checksum = ChecksumMode::Unkeyed)),
            error_or(50, &["tgs-rep"]),
        ),
        kt(
            &p,
            15011,
            "kdc.tgs.authenticator.wrong-key",
            "Authenticator encrypted with a key that is not the TGT session key.",
            &["Authenticator"],
            Invalid,
            Tcp,
            t(with_auth(|a| a.wrong_key = true)),
            error(31),
        ),
        kt(
            &p,
            15012,
            "kdc.tgs.authenticator.wrong-client",
            "Authenticator naming nopreauth with alice's TGT.",
            &["Authenticator"],
            Invalid,
            Tcp,
            t(with_auth(|a| a.cname = Some("nopreauth".into()))),
            error(36),
        ),
        replay,
        replay_elsewhere,
        kt(
            &p,
            15014,
            "kdc.tgs.ticket.expired",
            "A TGT that ended an hour ago.",
            &["TicketTimes", "ForgedTicket"],
            Invalid,
            Tcp,
            t(with_ticket(|k| {
                k.start_offset_seconds = -40_000;
                k.end_offset_seconds = -3600;
            })),
            error(32),
        ),
        kt(
            &p,
            15015,
            "kdc.tgs.ticket.not-yet-valid",
            "A TGT that starts in an hour.",
            &["TicketTimes", "ForgedTicket"],
            Invalid,
            Tcp,
            t(with_ticket(|k| {
                k.start_offset_seconds = 3600;
                k.end_offset_seconds = 7200;
            })),
            error(33),
        ),
        kt(
            &p,
            15016,
            "kdc.tgs.ticket.wrong-key",
            "A TGT sealed with a key made from the wrong krbtgt password.",
            &["ForgedTicket"],
            Invalid,
            Tcp,
            t(with_ticket(|k| {
                k.sealing_password = Some("not-krbtgtpw".into())
            })),
            error(31),
        ),
        kt(
            &p,
            15017,
            "kdc.tgs.ticket.corrupt",
            "A TGT with one ciphertext bit flipped.",
            &["ForgedTicket"],
            Invalid,
            Tcp,
            t(with_ticket(|k| k.corrupt = true)),
            error(31),
        ),
        kt(
            &p,
            15018,
            "kdc.tgs.ticket.wrong-kvno",
            "A TGT claiming krbtgt kvno 7 (the KDC has kvno 2).",
            &["ForgedTicket"],
            Invalid,
            Tcp,
            t(with_ticket(|k| k.kvno = Some(7))),
            error(44),
        ),
        kt(
            &p,
            15019,
            "kdc.tgs.ticket.not-a-tgt",
            "A service ticket for host/app.lab.test presented as a TGT.",
            &["TicketNotTgt"],
            Invalid,
            Tcp,
            t(tgs(
                TicketRecipe {
                    server: Some(app.to_owned()),
                    ..forged()
                },
                app,
            )),
            error_or(35, &["krb-error 12", "krb-error 13"]),
        ),
        kt(
            &p,
            15020,
            "kdc.tgs.renew",
            "RENEW of a renewable TGT before its renew-till.",
            &["Renewal"],
            Valid,
            Tcp,
            t(TgsRecipe {
                kdc_options: opt::RENEW,
                ..tgs(renewable(None), "krbtgt/LAB.TEST")
            }),
            reply(
                ReplyClass::TgsRep,
                ReplyChecks {
                    decrypts: true,
                    ticket_server: Some("krbtgt/{realm}".into()),
                    ..Default::default()
                },
            ),
        ),
        kt(
            &p,
            15021,
            "kdc.tgs.renew.not-renewable",
            "RENEW of a TGT without the renewable flag.",
            &["Renewal", "KdcOptions"],
            Invalid,
            Tcp,
            t(TgsRecipe {
                kdc_options: opt::RENEW,
                ..tgs(forged(), "krbtgt/LAB.TEST")
            }),
            error(13),
        ),
        kt(
            &p,
            15022,
            "kdc.tgs.renew.service-ticket",
            "RENEW of a renewable service ticket (RFC 4120 §3.3.1: any ticket the KDC issued).",
            &["Renewal"],
            Valid,
            Tcp,
            t(TgsRecipe {
                kdc_options: opt::RENEW,
                ..tgs(renewable(Some(app)), app)
            }),
            ok_checks(ReplyChecks::default()),
        ),
        kt(
            &p,
            15023,
            "kdc.tgs.renew.other-service",
            "RENEW naming a service other than the ticket's.",
            &["Renewal"],
            Invalid,
            Tcp,
            t(TgsRecipe {
                kdc_options: opt::RENEW,
                ..tgs(renewable(Some(app)), "krbtgt/LAB.TEST")
            }),
            error(26),
        ),
        kt(
            &p,
            15024,
            "kdc.tgs.missing-pa-tgs-req",
            "A TGS-REQ without PA-TGS-REQ.",
            &["MissingPadata"],
            Invalid,
            Tcp,
            t(TgsRecipe {
                omit_pa_tgs_req: true,
                ..tgs(issued(), app)
            }),
            error(16),
        ),
        kt(
            &p,
            15025,
            "kdc.tgs.forwarded-from-non-forwardable",
            "FORWARDED asked with a TGT that is not forwardable.",
            &["KdcOptions"],
            Invalid,
            Tcp,
            t(TgsRecipe {
                kdc_options: opt::FORWARDED,
                ..tgs(issued(), app)
            }),
            error(13),
        ),
        kt(
            &p,
            15026,
            "kdc.tgs.lifetime-within-tgt",
            "till +30 days: the service ticket ends no later than the TGT (10 h).",
            &["Lifetime"],
            Valid,
            Tcp,
            t(TgsRecipe {
                till_offset_seconds: 30 * 86_400,
                ..tgs(issued(), app)
            }),
            ok_checks(ReplyChecks {
                max_lifetime_seconds: Some(36_060),
                ..Default::default()
            }),
        ),
        kt(
            &p,
            15027,
            "kdc.tgs.flags",
            "The service ticket inherits pre-authent and is not initial.",
            &["TgsExchange", "Lifetime"],
            Valid,
            Tcp,
            t(tgs(issued(), app)),
            ok_checks(ReplyChecks {
                flags_set: strings(&["pre-authent"]),
                flags_clear: strings(&["initial"]),
                ..Default::default()
            }),
        ),
        kt(
            &p,
            15028,
            "kdc.tgs.other-realm",
            "A service in OTHER.TEST, with no cross-realm trust.",
            &["WrongRealm", "UnknownPrincipal"],
            Invalid,
            Tcp,
            t(TgsRecipe {
                realm: Some("OTHER.TEST".into()),
                ..tgs(issued(), "host/app.other.test")
            }),
            error_or(7, &["krb-error 68"]),
        ),
        kt(
            &p,
            15029,
            "kdc.tgs.udp",
            "A TGS-REQ over UDP: the reply fits.",
            &["TgsExchange"],
            Valid,
            Udp,
            t(tgs(issued(), app)),
            ok_checks(ReplyChecks::default()),
        ),
        kt(
            &p,
            15030,
            "kdc.tgs.disabled-client",
            "A TGT for an account that has since been disabled: kerbside refuses (KDC_ERR_CLIENT_REVOKED); RFC 4120 does not require the TGS to look the client up.",
            &["AccountState"],
            Acceptable,
            Tcp,
            t(tgs(
                TicketRecipe {
                    client: "locked".into(),
                    ..forged()
                },
                app,
            )),
            error_or(18, &["tgs-rep", "krb-error 20"]),
        ),
        kt(
            &p,
            15031,
            "kdc.tgs.deleted-client",
            "A TGT for a client the database no longer has: kerbside answers KDC_ERR_TGT_REVOKED.",
            &["UnknownPrincipal"],
            Acceptable,
            Tcp,
            t(tgs(
                TicketRecipe {
                    client: "ghost".into(),
                    ..forged()
                },
                app,
            )),
            error_or(20, &["tgs-rep", "krb-error 6"]),
        ),
        kt(
            &p,
            15032,
            "kdc.tgs.skew.within",
            "Authenticator 4 minutes ahead: inside the skew.",
            &["ClockSkew"],
            Valid,
            Tcp,
            t(with_auth(|a| a.offset_seconds = 240)),
            ok_checks(ReplyChecks::default()),
        ),
        kt(
            &p,
            15033,
            "kdc.tgs.aes128-tgt",
            "A TGT sealed with krbtgt's aes128 key and an aes128 session key: kerbside accepts any current krbtgt key; MIT decrypts TGTs only with its first krbtgt key (KRB_ERR_GENERIC, Bad encryption type).",
            &["TgsExchange", "Enctypes"],
            Acceptable,
            Tcp,
            t(tgs(
                TicketRecipe {
                    etype: 17,
                    session_etype: 17,
                    ..forged()
                },
                app,
            )),
            KdcExpected {
                alternatives: strings(&["krb-error 60"]),
                ..ok_checks(ReplyChecks::default())
            },
        ),
        kt(
            &p,
            15034,
            "kdc.tgs.sha2-tgt",
            "A TGT sealed with krbtgt's aes256-sha384 key and such a session key (RFC 8009); as kdc.tgs.aes128-tgt.",
            &["TgsExchange", "Enctypes"],
            Acceptable,
            Tcp,
            t(tgs(
                TicketRecipe {
                    etype: 20,
                    session_etype: 20,
                    ..forged()
                },
                app,
            )),
            KdcExpected {
                alternatives: strings(&["krb-error 60"]),
                ..ok_checks(ReplyChecks::default())
            },
        ),
    ];
    s.group(TestGroup::KdcExchange(group(
        "Realm LAB.TEST; TGTs for alice (fixed bytes: made with the krbtgt key; live: from an AS exchange unless the test forges one).",
        p,
        tests,
    )));
    s.finish()
}

/// The AS-REQ the live runner sends first to read a KDC's clock from its
/// KRB-ERROR: a client that exists nowhere.
pub fn probe_recipe() -> KdcRecipe {
    KdcRecipe::AsReq(as_recipe("kerbside-conform-clock-probe"))
}
