//! negotiator-paths suite: environment facts (which ports reach what, what
//! the relay and the server do, the policy) and the path order, attempts
//! and audit events a negotiator following DESIGN §3 produces.

use std::collections::BTreeMap;

use serde_json::json;

use super::{Suite, group, test};
use crate::model::{
    LogonDef, LogonExpected, NegotiationExpected, NegotiationInput, NegotiationParams,
    PrincipalDef, RouteBehaviour, ServerDef, Test, TestGroup, VectorFile, Verdict,
};

type NTest = Test<NegotiationInput, NegotiationExpected>;

pub(crate) const DC1: &str = "native-tcp dc1:88";
pub(crate) const DC2: &str = "native-tcp dc2:88";
pub(crate) const DC1_UDP: &str = "native-udp dc1:88";
pub(crate) const RELAY: &str = "kkdcp https://relay/KdcProxy";
pub(crate) const RELAY2: &str = "kkdcp https://relay2/KdcProxy";

fn params() -> NegotiationParams {
    let p = |name: &str, pw: &str, preauth: bool| PrincipalDef {
        name: name.to_owned(),
        password: pw.to_owned(),
        kvno: None,
        requires_preauth: preauth,
        disabled: false,
        expires: None,
        enctypes: Some(vec![18]),
    };
    NegotiationParams {
        realm: "CORP.EXAMPLE".to_owned(),
        principals: vec![
            p("krbtgt/CORP.EXAMPLE", "krbtgt-secret", false),
            p("alice", "alice-Secret-1", true),
            p("host/app.corp.example", "app-secret", false),
        ],
        user: "alice".to_owned(),
        service: "host/app.corp.example".to_owned(),
        clock: "2026-01-01T00:00:00Z".to_owned(),
    }
}

/// Two DCs, two relays, fast timeouts.
fn policy() -> serde_json::Value {
    json!({
        "native": { "kdcs": ["dc1", "dc2"], "timeout": "3s" },
        "kkdcp": { "relays": ["https://relay/KdcProxy"], "timeout": "5s" },
    })
}

fn with(mut base: serde_json::Value, patch: serde_json::Value) -> serde_json::Value {
    if let (Some(b), Some(p)) = (base.as_object_mut(), patch.as_object()) {
        for (k, v) in p {
            match (b.get_mut(k), v) {
                (Some(serde_json::Value::Object(bo)), serde_json::Value::Object(po)) => {
                    for (k2, v2) in po {
                        bo.insert(k2.clone(), v2.clone());
                    }
                }
                _ => {
                    b.insert(k.clone(), v.clone());
                }
            }
        }
    }
    base
}

fn kdc(rtt_ms: u64) -> RouteBehaviour {
    RouteBehaviour::Kdc { rtt_ms }
}

fn routes(list: &[(&str, RouteBehaviour)]) -> BTreeMap<String, RouteBehaviour> {
    list.iter()
        .map(|(k, v)| ((*k).to_owned(), v.clone()))
        .collect()
}

fn server(mode: &str, protocol: &str, mitm: &str) -> Option<ServerDef> {
    Some(ServerDef {
        host: "app.corp.example".to_owned(),
        mode: mode.to_owned(),
        protocol: protocol.to_owned(),
        rtt_ms: 5,
        mitm: mitm.to_owned(),
    })
}

fn logon() -> LogonDef {
    LogonDef {
        sleep_before_ms: 0,
        route_changes: BTreeMap::new(),
        password: None,
    }
}

fn input(
    policy: serde_json::Value,
    r: &[(&str, RouteBehaviour)],
    server: Option<ServerDef>,
) -> NegotiationInput {
    NegotiationInput {
        policy,
        routes: routes(r),
        default_route: RouteBehaviour::Silent,
        server,
        client_clock_offset_seconds: 0,
        logons: vec![logon()],
    }
}

fn expect(
    outcome: &str,
    path: &str,
    attempts: &[&str],
    events: &[u32],
    ntlm_used: bool,
    ntlm_verdict: Option<&str>,
    error_code: Option<i32>,
    time_to_ticket_ms: Option<u64>,
) -> LogonExpected {
    LogonExpected {
        outcome: outcome.to_owned(),
        path: path.to_owned(),
        attempts: attempts.iter().map(|a| (*a).to_owned()).collect(),
        events: events.to_vec(),
        ntlm_used,
        ntlm_verdict: ntlm_verdict.map(str::to_owned),
        error_code,
        time_to_ticket_ms,
    }
}

fn nt(
    tc: u32,
    id: &str,
    comment: &str,
    flags: &[&str],
    result: Verdict,
    input: NegotiationInput,
    logons: Vec<LogonExpected>,
) -> NTest {
    test(
        tc,
        id,
        comment,
        flags,
        result,
        input,
        NegotiationExpected { logons },
    )
}

pub(crate) fn suites() -> Vec<VectorFile> {
    let mut s = Suite::new(
        "negotiator-paths",
        "The client negotiator's fallback chain (native Kerberos TCP first, KKDCP relays, \
         IAKERB, LocalKDC, NTLM under policy): given which ports reach what and what the \
         relay and server do, the path taken, every attempt, and the audit events.",
    );
    let tests = cases();
    s.group(TestGroup::Negotiation(group(
        "Realm CORP.EXAMPLE (alice requires pre-authentication); two DCs dc1/dc2, relay https://relay/KdcProxy; 3 s native and 5 s relay timeouts.",
        params(),
        tests,
    )));
    vec![s.finish()]
}

fn cases() -> Vec<NTest> {
    use Verdict::{Invalid, Valid};
    let ok3 = |ep: &str| {
        [
            format!("{ep} as #1 krb-error"),
            format!("{ep} as-preauth #1 ok"),
            format!("{ep} tgs #1 ok"),
        ]
    };
    let dc1 = ok3(DC1);
    let dc1: Vec<&str> = dc1.iter().map(String::as_str).collect();
    let relay = ok3(RELAY);
    let relay: Vec<&str> = relay.iter().map(String::as_str).collect();
    let app_ok = |path: &str| format!("{path} app.corp.example:4444 app #1 ok");
    let mut v = Vec::new();
    let fail_ev = |n: usize, extra: &[u32]| {
        let mut e = vec![7001; n];
        e.extend_from_slice(extra);
        e
    };
    v.push(nt(20001, "negotiator.native.first-dc", "dc1 answers over TCP: AS (PREAUTH_REQUIRED), pre-authenticated AS, TGS; three round trips.", &["FallbackOrder", "AuditTrail"], Valid,
        input(policy(), &[(DC1, kdc(20))], None),
        vec![expect("success", "native-tcp", &dc1, &[7001, 7001, 7001, 7010], false, None, None, Some(60))]));
    v.push(nt(
        20002,
        "negotiator.native.silent-first-dc",
        "dc1 is silent (a firewall drops port 88 to it): one 3 s timeout, then dc2.",
        &["Failover"],
        Valid,
        input(policy(), &[(DC2, kdc(10))], None),
        vec![expect(
            "success",
            "native-tcp",
            &[
                "native-tcp dc1:88 as #1 timeout",
                "native-tcp dc2:88 as #1 krb-error",
                "native-tcp dc2:88 as-preauth #1 ok",
                "native-tcp dc2:88 tgs #1 ok",
            ],
            &[7001, 7001, 7001, 7001, 7010],
            false,
            None,
            None,
            Some(3030),
        )],
    ));
    v.push(nt(
        20003,
        "negotiator.native.refused-first-dc",
        "dc1 refuses (RST) after 1 ms: dc2 is tried at once, no timeout paid.",
        &["Failover"],
        Valid,
        input(
            policy(),
            &[
                (DC1, RouteBehaviour::Refused { after_ms: 1 }),
                (DC2, kdc(10)),
            ],
            None,
        ),
        vec![expect(
            "success",
            "native-tcp",
            &[
                "native-tcp dc1:88 as #1 refused",
                "native-tcp dc2:88 as #1 krb-error",
                "native-tcp dc2:88 as-preauth #1 ok",
                "native-tcp dc2:88 tgs #1 ok",
            ],
            &[7001, 7001, 7001, 7001, 7010],
            false,
            None,
            None,
            Some(31),
        )],
    ));
    v.push(nt(
        20004,
        "negotiator.relay.after-dcs-silent",
        "Both DCs silent (the VPN blocks 88): two native timeouts, then the KKDCP relay.",
        &["FallbackOrder", "Failover"],
        Valid,
        input(policy(), &[(RELAY, kdc(40))], None),
        vec![expect(
            "success",
            "kkdcp",
            &[
                &[
                    "native-tcp dc1:88 as #1 timeout",
                    "native-tcp dc2:88 as #1 timeout",
                ][..],
                &relay[..],
            ]
            .concat(),
            &fail_ev(5, &[7010]),
            false,
            None,
            None,
            Some(6120),
        )],
    ));
    v.push(nt(
        20005,
        "negotiator.relay.dcs-refused",
        "Both DCs refuse: the relay is used after two fast failures.",
        &["FallbackOrder", "Failover"],
        Valid,
        input(
            policy(),
            &[
                (DC1, RouteBehaviour::Refused { after_ms: 2 }),
                (DC2, RouteBehaviour::Refused { after_ms: 2 }),
                (RELAY, kdc(40)),
            ],
            None,
        ),
        vec![expect(
            "success",
            "kkdcp",
            &[
                &[
                    "native-tcp dc1:88 as #1 refused",
                    "native-tcp dc2:88 as #1 refused",
                ][..],
                &relay[..],
            ]
            .concat(),
            &fail_ev(5, &[7010]),
            false,
            None,
            None,
            Some(124),
        )],
    ));
    let dead = [
        (DC1, RouteBehaviour::Refused { after_ms: 1 }),
        (DC2, RouteBehaviour::Refused { after_ms: 1 }),
        (
            RELAY,
            RouteBehaviour::Http {
                status: 503,
                after_ms: 5,
            },
        ),
    ];
    let dead_attempts = [
        "native-tcp dc1:88 as #1 refused",
        "native-tcp dc2:88 as #1 refused",
        "kkdcp https://relay/KdcProxy as #1 error",
    ];
    v.push(nt(
        20006,
        "negotiator.all-kerberos-down.no-server",
        "No DC and the relay answers 503: the logon fails (no server to try NTLM with).",
        &["FallbackOrder", "AuditTrail"],
        Invalid,
        input(policy(), &dead, None),
        vec![expect(
            "failure",
            "none",
            &dead_attempts,
            &[7001, 7001, 7001, 7010],
            false,
            None,
            None,
            None,
        )],
    ));
    v.push(nt(20007, "negotiator.ntlm.allowed", "No Kerberos path; the server speaks SPNEGO; NTLM policy allow: NTLM is used and recorded (event 7005).", &["NtlmPolicy", "AuditTrail"], Valid,
        input(policy(), &dead, server("negotiate", "negotiate", "none")),
        vec![expect("success", "ntlm", &[&dead_attempts[..], &[app_ok("ntlm").as_str()][..]].concat(), &[7001, 7001, 7001, 7005, 7001, 7010], true, Some("allowed"), None, None)]));
    v.push(nt(20008, "negotiator.ntlm.audited", "The same with policy audit: event 8001 (Windows \"NTLM client blocked audit\") before NTLM is sent.", &["NtlmPolicy", "AuditTrail"], Valid,
        input(with(policy(), json!({"ntlm": {"mode": "audit"}})), &dead, server("negotiate", "negotiate", "none")),
        vec![expect("success", "ntlm", &[&dead_attempts[..], &[app_ok("ntlm").as_str()][..]].concat(), &[7001, 7001, 7001, 8001, 7001, 7010], true, Some("audited"), None, None)]));
    v.push(nt(
        20009,
        "negotiator.ntlm.denied",
        "The same with policy deny: event 4001, no NTLM byte sent, the logon fails closed.",
        &["NtlmPolicy", "AuditTrail"],
        Invalid,
        input(
            with(policy(), json!({"ntlm": {"mode": "deny"}})),
            &dead,
            server("negotiate", "negotiate", "none"),
        ),
        vec![expect(
            "failure",
            "none",
            &dead_attempts,
            &[7001, 7001, 7001, 4001, 7010],
            false,
            Some("denied"),
            None,
            None,
        )],
    ));
    v.push(nt(20010, "negotiator.ntlm.deny-exception", "Policy deny with app.corp.example on the exception list: NTLM is used (event 7005, verdict excepted).", &["NtlmPolicy", "AuditTrail"], Valid,
        input(with(policy(), json!({"ntlm": {"mode": "deny", "exceptions": ["*.corp.example"]}})), &dead, server("negotiate", "negotiate", "none")),
        vec![expect("success", "ntlm", &[&dead_attempts[..], &[app_ok("ntlm").as_str()][..]].concat(), &[7001, 7001, 7001, 7005, 7001, 7010], true, Some("excepted"), None, None)]));
    let mut wrong = input(policy(), &[(DC1, kdc(20)), (RELAY, kdc(40))], None);
    wrong.logons[0].password = Some("wrong-password".into());
    v.push(nt(20011, "negotiator.kdc-error.wrong-password", "A wrong password: dc1 answers PREAUTH_FAILED; the logon ends there, no other path is tried.", &["KdcError", "FallbackOrder"], Invalid,
        wrong, vec![expect("failure", "none", &["native-tcp dc1:88 as #1 krb-error", "native-tcp dc1:88 as-preauth #1 krb-error"], &[7001, 7001, 7010], false, None, Some(24), None)]));
    v.push(nt(20012, "negotiator.kdc-error.wrong-password-no-ntlm", "A wrong password with an NTLM-capable server and policy allow: a KDC's verdict is not a reason to fall back to NTLM.", &["KdcError", "NtlmPolicy"], Invalid,
        {
            let mut i = input(policy(), &[(DC1, kdc(20))], server("negotiate", "negotiate", "none"));
            i.logons[0].password = Some("wrong-password".into());
            i
        },
        vec![expect("failure", "none", &["native-tcp dc1:88 as #1 krb-error", "native-tcp dc1:88 as-preauth #1 krb-error"], &[7001, 7001, 7010], false, None, Some(24), None)]));
    let mut neg = input(
        with(policy(), json!({"negative_cache": {"ttl": "60s"}})),
        &[(DC2, kdc(10))],
        None,
    );
    neg.logons.push(LogonDef {
        sleep_before_ms: 10_000,
        ..logon()
    });
    v.push(nt(20013, "negotiator.negative-cache", "dc1 silent: the first logon pays its timeout; ten seconds later the second records dc1 as skipped (event 7002) and takes the service ticket from the ticket cache (7004) without any KDC round trip.", &["NegativeCache", "TicketCache", "AuditTrail"], Valid,
        neg, vec![
            expect("success", "native-tcp", &["native-tcp dc1:88 as #1 timeout", "native-tcp dc2:88 as #1 krb-error", "native-tcp dc2:88 as-preauth #1 ok", "native-tcp dc2:88 tgs #1 ok"], &[7001, 7001, 7001, 7001, 7010], false, None, None, Some(3030)),
            expect("success", "cache", &[], &[7002, 7004, 7010], false, None, None, Some(0)),
        ]));
    v.push(nt(20014, "negotiator.downgrade.mitm-strips-kerberos", "Kerberos works, but a man in the middle strips it from the SPNEGO list: mechListMIC exposes it (event 7020), NTLM is not accepted.", &["DowngradeAttack", "MechListMic"], Invalid,
        input(policy(), &[(DC1, kdc(10))], server("negotiate", "negotiate", "strip-kerberos")),
        vec![expect("failure", "none", &[&dc1[..], &["ntlm app.corp.example:4444 app #1 error"][..]].concat(), &[7001, 7001, 7001, 7005, 7020, 7001, 7010], true, Some("allowed"), None, Some(30))]));
    v.push(nt(
        20015,
        "negotiator.app.kerberos",
        "Kerberos end to end: tickets from dc1, SPNEGO with the AP-REQ accepted by the server.",
        &["FallbackOrder", "AuditTrail"],
        Valid,
        input(
            policy(),
            &[(DC1, kdc(10))],
            server("negotiate", "negotiate", "none"),
        ),
        vec![expect(
            "success",
            "native-tcp",
            &[&dc1[..], &[app_ok("native-tcp").as_str()][..]].concat(),
            &[7001, 7001, 7001, 7001, 7010],
            false,
            Some("allowed"),
            None,
            Some(30),
        )],
    ));
    v.push(nt(
        20016,
        "negotiator.ntlm-only-printer.allowed",
        "An NTLM-only device (raw NTLMSSP): Kerberos is impossible, NTLM is used under allow.",
        &["NtlmPolicy"],
        Valid,
        input(
            policy(),
            &[(DC1, kdc(10))],
            server("ntlm-only", "ntlm", "none"),
        ),
        vec![expect(
            "success",
            "ntlm",
            &[app_ok("ntlm").as_str()],
            &[7005, 7001, 7010],
            true,
            Some("allowed"),
            None,
            None,
        )],
    ));
    v.push(nt(
        20017,
        "negotiator.ntlm-only-printer.denied",
        "The same device under deny: refused before any byte (event 4001).",
        &["NtlmPolicy"],
        Invalid,
        input(
            with(policy(), json!({"ntlm": {"mode": "deny"}})),
            &[(DC1, kdc(10))],
            server("ntlm-only", "ntlm", "none"),
        ),
        vec![expect(
            "failure",
            "none",
            &[],
            &[4001, 7010],
            false,
            Some("denied"),
            None,
            None,
        )],
    ));
    let mut skew = input(policy(), &[(DC1, kdc(10))], None);
    skew.client_clock_offset_seconds = 600;
    v.push(nt(20018, "negotiator.skew.timesync", "The client clock 10 minutes ahead: KRB_AP_ERR_SKEW on the pre-authenticated AS-REQ; the client takes the KDC's time from the error and starts the AS exchange again.", &["ClockSkew"], Valid,
        skew, vec![expect("success", "native-tcp", &["native-tcp dc1:88 as #1 krb-error", "native-tcp dc1:88 as-preauth #1 krb-error", "native-tcp dc1:88 as #1 krb-error", "native-tcp dc1:88 as-preauth #1 ok", "native-tcp dc1:88 tgs #1 ok"], &[7001, 7001, 7001, 7001, 7001, 7010], false, None, None, Some(50))]));
    v.push(nt(
        20019,
        "negotiator.native.udp-first",
        "UDP enabled and preferred: the first send goes over UDP.",
        &["FallbackOrder"],
        Valid,
        input(
            with(
                policy(),
                json!({"native": {"udp": true, "udp_first": true}}),
            ),
            &[(DC1_UDP, kdc(10))],
            None,
        ),
        vec![expect(
            "success",
            "native-udp",
            &[
                "native-udp dc1:88 as #1 krb-error",
                "native-udp dc1:88 as-preauth #1 ok",
                "native-udp dc1:88 tgs #1 ok",
            ],
            &[7001, 7001, 7001, 7010],
            false,
            None,
            None,
            Some(30),
        )],
    ));
    v.push(nt(20020, "negotiator.relay.tls-error-then-next", "The first relay's certificate fails: the second relay is used (a TLS failure is a path failure, not a reason for NTLM).", &["Failover", "FallbackOrder"], Valid,
        input(with(policy(), json!({"kkdcp": {"relays": ["https://relay/KdcProxy", "https://relay2/KdcProxy"]}})),
            &[(DC1, RouteBehaviour::Refused { after_ms: 1 }), (DC2, RouteBehaviour::Refused { after_ms: 1 }), (RELAY, RouteBehaviour::TlsError { after_ms: 3 }), (RELAY2, kdc(30))], None),
        vec![expect("success", "kkdcp", &["native-tcp dc1:88 as #1 refused", "native-tcp dc2:88 as #1 refused", "kkdcp https://relay/KdcProxy as #1 error",
            "kkdcp https://relay2/KdcProxy as #1 krb-error", "kkdcp https://relay2/KdcProxy as-preauth #1 ok", "kkdcp https://relay2/KdcProxy tgs #1 ok"], &fail_ev(6, &[7010]), false, None, None, Some(95))]));
    v.push(nt(
        20021,
        "negotiator.order.relay-only",
        "A policy whose order lists only the relay: no DC is contacted.",
        &["FallbackOrder"],
        Valid,
        input(
            with(policy(), json!({"order": ["kkdcp"]})),
            &[(DC1, kdc(10)), (RELAY, kdc(40))],
            None,
        ),
        vec![expect(
            "success",
            "kkdcp",
            &relay,
            &[7001, 7001, 7001, 7010],
            false,
            None,
            None,
            Some(120),
        )],
    ));
    v.push(nt(20022, "negotiator.iakerb.not-available", "IAKERB enabled but no IAKERB-capable driver: reported as not available when the plan is made (event 7003), never faked.", &["FallbackOrder", "AuditTrail"], Invalid,
        input(with(policy(), json!({"iakerb": {"enabled": true}})), &dead, None),
        vec![expect("failure", "none", &dead_attempts, &[7003, 7001, 7001, 7001, 7010], false, None, None, None)]));
    v.push(nt(20023, "negotiator.racing", "Racing on (250 ms head start): dc1 is slow (2 s), dc2 joins after 250 ms and wins; dc1 is cancelled (its record closes when dc2 has answered).", &["Failover"], Valid,
        input(with(policy(), json!({"racing": {"enabled": true, "delay": "250ms"}})), &[(DC1, kdc(2000)), (DC2, kdc(10))], None),
        vec![expect("success", "native-tcp", &["native-tcp dc2:88 as #1 krb-error", "native-tcp dc1:88 as #1 cancelled", "native-tcp dc2:88 as-preauth #1 ok", "native-tcp dc2:88 tgs #1 ok"],
            &[7001, 7001, 7001, 7001, 7010], false, None, None, Some(280))]));
    v
}
