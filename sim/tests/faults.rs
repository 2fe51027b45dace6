//! Whole-world behaviour on small inline scenarios: secret canaries,
//! panics in simulated tasks, hangs, clock skew, certificate faults, slow
//! upstreams, loss, idle skipping, seed sensitivity, and failing
//! expectations that print their replay command.

use std::sync::Arc;

use kerbside_sim::results::RunResult;
use kerbside_sim::runner::{Prepared, RunOptions, run};
use kerbside_sim::scenario::load_str;
use kerbside_sim::trace::{Layer, Packet, TraceEntry};

/// A realm with one DC, a relay, a client, and `extra` appended (hosts,
/// policy, timeline, expectations).
fn scenario(extra: &str) -> Arc<Prepared> {
    scenario_with("", extra)
}

/// [`scenario`] with top-level settings.
fn scenario_with(top: &str, extra: &str) -> Arc<Prepared> {
    let text = format!(
        r#"
name = "fixture"
description = "test fixture"
duration = "1h"
{top}

[[realm]]
name = "CORP.EXAMPLE"
kdcs = ["dc1"]
[[realm.principal]]
name = "alice"
password = "Winter2026!alice"
[[realm.principal]]
name = "cifs/files.corp.example"
password = "files-service-secret"

[[host]]
name = "dc1"
role = "kdc"
[[host]]
name = "laptop"
role = "client"
{extra}
"#
    );
    let s = load_str(&text, "fixture.toml").unwrap_or_else(|e| panic!("{e}"));
    Arc::new(Prepared::new(s, "fixture.toml").unwrap())
}

fn run_seed(p: &Arc<Prepared>, seed: u64) -> RunResult {
    run(
        p,
        &RunOptions {
            seed,
            ..RunOptions::default()
        },
    )
    .result
}

fn kinds(r: &RunResult) -> Vec<String> {
    let mut k: Vec<String> = r.violations.iter().map(|v| v.kind.clone()).collect();
    k.dedup();
    k
}

const LOGON: &str = r#"
[[timeline]]
at = "1s"
action = "logon"
client = "laptop"
user = "alice"
service = "cifs/files.corp.example"
label = "l"
"#;

#[test]
fn planted_password_in_clear_is_caught_with_hop_and_offset() {
    let p = scenario(
        r#"
[[host]]
name = "printer"
role = "echo"
echo = { ports = [9100] }
[[host]]
name = "leaky"
role = "leaker"
leaker = { user = "alice", to = "printer", port = 9100, at = "2s" }
"#,
    );
    let r = run_seed(&p, 1);
    assert!(!r.passed);
    let canary: Vec<_> = r.violations.iter().filter(|v| v.kind == "canary").collect();
    // The password goes out, and the echo host sends it back: both hops.
    assert!(canary.len() >= 2, "{:#?}", r.violations);
    let first = &canary[0].message;
    assert!(
        first.starts_with("password of alice@CORP.EXAMPLE on leaky@"),
        "{first}"
    );
    assert!(
        first.contains("-> printer@") && first.contains(":9100 (tcp, wire)"),
        "{first}"
    );
    // "USER alice PASS " is 16 bytes.
    assert!(first.contains("at offset 16"), "{first}");
    assert!(
        canary
            .iter()
            .any(|v| v.message.contains("printer@") && v.message.contains("-> leaky@")),
        "echo leg"
    );
    assert!(r.replay.contains("--seed 1"));
}

#[test]
fn a_scenario_may_expect_a_violation() {
    let p = scenario(
        r#"
[[host]]
name = "printer"
role = "echo"
echo = { ports = [9100] }
[[host]]
name = "leaky"
role = "leaker"
leaker = { user = "alice", to = "printer", port = 9100, at = "2s" }
[expect]
violations = ["canary"]
"#,
    );
    assert!(run_seed(&p, 1).passed);
}

#[test]
fn a_panic_in_a_spawned_task_fails_the_run() {
    // Host timers do not run during idle skips: tick through the quiet.
    let p = scenario_with(
        "idle_skip = false",
        &format!(
            r#"
[[host]]
name = "flaky"
role = "echo"
echo = {{ ports = [7], panic_after = "500ms" }}
{LOGON}"#
        ),
    );
    let r = run_seed(&p, 1);
    assert!(!r.passed);
    let panic = r
        .violations
        .iter()
        .find(|v| v.kind == "panic")
        .expect("panic reported");
    assert!(
        panic
            .message
            .contains("deliberate panic in a task spawned by flaky"),
        "{}",
        panic.message
    );
}

#[test]
fn native_logon_succeeds_and_relay_paths_are_not_touched() {
    let p = scenario(LOGON);
    let r = run_seed(&p, 4);
    assert!(r.passed, "{:#?}", r.violations);
    assert_eq!(r.logons[0].path_name(), "native-tcp");
    assert_eq!(r.path_counts.get("native-tcp"), Some(&1));
    // AS-REQ, pre-authenticated AS-REQ, TGS-REQ.
    assert_eq!(r.exchanges(), 3);
}

#[test]
fn client_six_minutes_behind_gets_krb_ap_err_skew() {
    // Without KDC time sync (MIT kdc_timesync = 0) the skew is fatal.
    let p = scenario(&format!(
        r#"
[[timeline]]
at = "500ms"
action = "skew"
host = "laptop"
set = "-6m"
[policy.tickets]
kdc_timesync = false
{LOGON}
[[expect.logon]]
label = "l"
outcome = "failure"
"#
    ));
    let r = run_seed(&p, 1);
    assert!(r.passed, "{:#?}", r.violations);
    let rep = r.logons[0].report.as_ref().unwrap();
    // RFC 4120 §5.2.7.2 / MIT: a PA-ENC-TIMESTAMP outside the skew window
    // is KRB_AP_ERR_SKEW (37).
    assert!(
        rep.error.as_deref().unwrap_or("").contains("(37)"),
        "{:?}",
        rep.error
    );

    // With time sync (the default, as MIT and Windows do) the client takes
    // the KDC's time from the error and logs on with one extra round trip.
    let p = scenario(&format!(
        r#"
[[timeline]]
at = "500ms"
action = "skew"
host = "laptop"
set = "-6m"
{LOGON}
[[expect.logon]]
label = "l"
outcome = "success"
"#
    ));
    let r = run_seed(&p, 1);
    assert!(r.passed, "{:#?}", r.violations);
    let rep = r.logons[0].report.as_ref().unwrap();
    let codes: Vec<String> = rep
        .attempts
        .iter()
        .map(|a| format!("{} {}", a.exchange, a.result.word()))
        .collect();
    assert_eq!(
        codes,
        [
            "as krb-error",
            "as-preauth krb-error",
            "as krb-error",
            "as-preauth ok",
            "tgs ok"
        ]
    );
    assert!(matches!(
        rep.attempts[1].result,
        kerbside_sim::logon::AttemptResult::KrbError { code: 37, .. }
    ));
}

#[test]
fn relay_certificate_faults_fail_the_kkdcp_path() {
    for cert in ["expired", "not-yet-valid", "wrong-name", "untrusted"] {
        let p = scenario(&format!(
            r#"
[[host]]
name = "relay"
role = "relay"
aliases = ["kdcproxy.corp.example"]
relay = {{ cert = "{cert}" }}
[[firewall]]
from = "laptop"
to = "dc1"
port = 88
action = "reject"
[policy]
relays = ["https://kdcproxy.corp.example/KdcProxy"]
{LOGON}
[[expect.logon]]
label = "l"
outcome = "failure"
max_latency = "1s"
"#
        ));
        let r = run_seed(&p, 1);
        assert!(r.passed, "{cert}: {:#?}", r.violations);
        let rep = r.logons[0].report.as_ref().unwrap();
        let last = rep.attempts.last().unwrap();
        assert_eq!(last.stage.as_str(), "kkdcp");
        assert!(
            format!("{:?}", last.result).contains("TLS"),
            "{cert}: {:?}",
            last.result
        );
    }
    // The same setup with a good certificate succeeds through the relay.
    let p = scenario(&format!(
        r#"
[[host]]
name = "relay"
role = "relay"
aliases = ["kdcproxy.corp.example"]
[[firewall]]
from = "laptop"
to = "dc1"
port = 88
action = "reject"
[policy]
relays = ["https://kdcproxy.corp.example/KdcProxy"]
{LOGON}
[[expect.logon]]
label = "l"
path = "kkdcp"
outcome = "success"
"#
    ));
    let r = run_seed(&p, 1);
    assert!(r.passed, "{:#?}", r.violations);
}

#[test]
fn slow_dc_makes_native_time_out() {
    let p = scenario(&format!(
        r#"
[policy]
kdc_timeout = "1s"
[[timeline]]
at = "100ms"
action = "delay"
host = "dc1"
delay = "2s"
{LOGON}
[[expect.logon]]
label = "l"
outcome = "failure"
"#
    ));
    let r = run_seed(&p, 1);
    assert!(r.passed, "{:#?}", r.violations);
    assert_eq!(
        r.logons[0].report.as_ref().unwrap().attempts[0]
            .result
            .word(),
        "timeout"
    );
}

#[test]
fn udp_loss_is_seeded_and_drops_datagrams() {
    let p = scenario(&format!(
        r#"
[network]
udp_loss = 1.0
[policy]
native_tcp = false
native_udp = true
kdc_timeout = "500ms"
{LOGON}
[[expect.logon]]
label = "l"
outcome = "failure"
"#
    ));
    let r = run_seed(&p, 1);
    assert!(r.passed, "{:#?}", r.violations);
    assert!(r.coverage.get("net:loss").copied().unwrap_or(0) >= 1);
}

#[test]
fn hung_logons_are_liveness_violations() {
    let p = scenario(&format!(
        r#"
[[host]]
name = "relay"
role = "relay"
[[firewall]]
from = "laptop"
to = "*"
action = "drop"
[policy]
kdc_timeout = "10s"
relays = ["https://relay/KdcProxy"]
relay_timeout = "60s"
[expect]
max_logon_time = "20s"
{LOGON}"#
    ));
    let r = run_seed(&p, 1);
    assert_eq!(kinds(&r), vec!["hang"], "{:#?}", r.violations);
    assert_eq!(r.logons[0].path_name(), "hung");
}

#[test]
fn idle_time_costs_no_ticks() {
    let p = scenario(
        r#"
[[timeline]]
at = "10m"
action = "warp"
by = "8h"
[[timeline]]
at = "8h30m"
action = "logon"
client = "laptop"
user = "alice"
label = "late"
[[expect.logon]]
label = "late"
outcome = "success"
"#,
    );
    let p = {
        let mut s = p.scenario.clone();
        s.duration = kerbside_sim::duration::SimDuration(std::time::Duration::from_secs(12 * 3600));
        Arc::new(Prepared::new(s, "fixture.toml").unwrap())
    };
    let r = run_seed(&p, 1);
    assert!(r.passed, "{:#?}", r.violations);
    assert!(r.scenario_time >= std::time::Duration::from_secs(8 * 3600 + 1800));
    assert!(r.steps < 200, "{} steps for 8.5 simulated hours", r.steps);
}

#[test]
fn failed_expectation_names_the_logon_and_the_replay_command() {
    let p = scenario(&format!(
        r#"
{LOGON}
[[expect.logon]]
label = "l"
path = "kkdcp"
"#
    ));
    let r = run_seed(&p, 7);
    assert!(!r.passed);
    assert_eq!(kinds(&r), vec!["expectation"]);
    assert_eq!(
        r.violations[0].message,
        "label `l`: logon 0 took path native-tcp, expected kkdcp"
    );
    assert_eq!(r.replay, "kerbside replay fixture.toml --seed 7");
}

#[test]
fn seeds_change_traces_where_the_scenario_has_randomness_and_tls_bytes_repeat() {
    let p = scenario(&format!(
        r#"
[[host]]
name = "relay"
role = "relay"
[network]
latency = "2ms"
jitter = "5ms"
[[firewall]]
from = "laptop"
to = "dc1"
port = 88
action = "reject"
[policy]
relays = ["https://relay/KdcProxy"]
{LOGON}
[[expect.logon]]
label = "l"
path = "kkdcp"
outcome = "success"
"#
    ));
    let tls = |seed| {
        let out = run(
            &p,
            &RunOptions {
                seed,
                keep_trace: true,
                ..RunOptions::default()
            },
        );
        assert!(out.result.passed, "{:#?}", out.result.violations);
        let records: Vec<Vec<u8>> = out
            .trace
            .entries()
            .iter()
            .filter_map(|e| match e {
                TraceEntry::Wire(w) if w.layer == Layer::Wire && w.dst.addr.port() == 443 => {
                    match &w.packet {
                        Packet::TcpData(b) => Some(b.to_vec()),
                        _ => None,
                    }
                }
                _ => None,
            })
            .collect();
        (out.result.trace_hash, records)
    };
    let (h1, t1) = tls(11);
    let (h2, t2) = tls(11);
    let (h3, t3) = tls(12);
    assert!(!t1.is_empty());
    assert_eq!(t1, t2, "same seed: byte-identical TLS records");
    assert_eq!(h1, h2);
    assert_ne!(
        t1[0], t3[0],
        "another seed: another ClientHello random and key share"
    );
    assert_ne!(h1, h3);
}

#[test]
fn kdc_answering_errors_makes_the_client_fail_over_to_the_next_dc() {
    let text = r#"
name = "two-dcs"
description = "dc1 answers errors for a while; dc2 is healthy"
duration = "1h"
[[realm]]
name = "CORP.EXAMPLE"
kdcs = ["dc1", "dc2"]
[[realm.principal]]
name = "alice"
password = "Winter2026!alice"
[[host]]
name = "dc1"
role = "kdc"
[[host]]
name = "dc2"
role = "kdc"
[[host]]
name = "laptop"
role = "client"
[policy.tickets]
cache = false
[[timeline]]
at = "100ms"
action = "errors"
host = "dc1"
code = 29
[[timeline]]
at = "1s"
action = "logon"
client = "laptop"
user = "alice"
label = "faulty"
[[timeline]]
at = "1m"
action = "errors"
host = "dc1"
[[timeline]]
at = "2m"
action = "logon"
client = "laptop"
user = "alice"
label = "healed"
[[expect.logon]]
label = "faulty"
path = "native-tcp"
outcome = "success"
[[expect.logon]]
label = "healed"
path = "native-tcp"
outcome = "success"
"#;
    let s = load_str(text, "two-dcs.toml").unwrap_or_else(|e| panic!("{e}"));
    let p = Arc::new(Prepared::new(s, "two-dcs.toml").unwrap());
    let r = run_seed(&p, 1);
    assert!(r.passed, "{:#?}", r.violations);
    let faulty = r.logons[0].report.as_ref().unwrap();
    // dc1 still asks for pre-authentication (the fault is in the issue
    // policy), then answers KDC_ERR_SVC_UNAVAILABLE (29): the client sends
    // the pre-authenticated request to dc2 instead.
    let seen: Vec<String> = faulty
        .attempts
        .iter()
        .map(|a| format!("{} {} {}", a.endpoint, a.exchange, a.result.word()))
        .collect();
    assert_eq!(
        seen,
        [
            "dc1:88 as krb-error",
            "dc1:88 as-preauth krb-error",
            "dc2:88 as-preauth ok"
        ]
    );
    assert!(matches!(
        faulty.attempts[1].result,
        kerbside_sim::logon::AttemptResult::KrbError { code: 29, .. }
    ));
    let healed = r.logons[1].report.as_ref().unwrap();
    // The negative-cache entry (60 s) has expired: dc1 is first again.
    assert_eq!(
        healed.endpoint.as_deref(),
        Some("dc1:88"),
        "dc1 answers normally again"
    );
}

#[test]
fn partition_refuses_native_and_heal_restores_it() {
    let p = scenario(
        r#"
[[timeline]]
at = "1s"
action = "partition"
a = "laptop"
b = "dc1"
[[timeline]]
at = "2s"
action = "logon"
client = "laptop"
user = "alice"
label = "cut"
[[timeline]]
at = "1m"
action = "heal"
[[timeline]]
at = "2m"
action = "logon"
client = "laptop"
user = "alice"
label = "healed"
[[expect.logon]]
label = "cut"
outcome = "failure"
max_latency = "100ms"
[[expect.logon]]
label = "healed"
path = "native-tcp"
outcome = "success"
"#,
    );
    let r = run_seed(&p, 1);
    assert!(r.passed, "{:#?}", r.violations);
    // turmoil refuses a connect across a partition at once.
    assert_eq!(
        r.logons[0].report.as_ref().unwrap().attempts[0]
            .result
            .word(),
        "refused"
    );
    assert_eq!(r.coverage.get("fault:partition"), Some(&1));
    assert_eq!(r.coverage.get("fault:heal"), Some(&1));
}

#[test]
fn restart_runs_the_program_again_as_a_new_incarnation() {
    let p = scenario(&format!(
        r#"
[[timeline]]
at = "500ms"
action = "restart"
host = "dc1"
{LOGON}
[[expect.logon]]
label = "l"
outcome = "success"
"#
    ));
    let out = run(
        &p,
        &RunOptions {
            seed: 2,
            keep_trace: true,
            ..RunOptions::default()
        },
    );
    assert!(out.result.passed, "{:#?}", out.result.violations);
    let text = out.trace.to_text();
    assert!(
        text.contains("event host [scenario 0.000000] dc1 start incarnation=1"),
        "{text}"
    );
    assert!(text.contains("dc1 start incarnation=2"), "{text}");
}

#[test]
fn a_password_inside_tls_is_caught_in_the_plaintext_layer_only() {
    let p = scenario(
        r#"
[[host]]
name = "relay"
role = "relay"
[[host]]
name = "leaky"
role = "leaker"
leaker = { user = "alice", to = "relay", port = 443, at = "2s", tls = true }
"#,
    );
    let r = run_seed(&p, 1);
    let canary: Vec<_> = r.violations.iter().filter(|v| v.kind == "canary").collect();
    assert!(!canary.is_empty(), "{:#?}", r.violations);
    for v in &canary {
        assert!(
            v.message.contains("(tcp, tls-plaintext)"),
            "the ciphertext hides it: {}",
            v.message
        );
        assert!(
            v.message.contains("leaky@") && v.message.contains("-> relay@10.0.0.3:443"),
            "{}",
            v.message
        );
    }
    // With the plaintext layer off, nothing is found: the TLS records are clean.
    let quiet = run(
        &p,
        &RunOptions {
            seed: 1,
            no_plaintext: true,
            ..RunOptions::default()
        },
    )
    .result;
    assert!(
        quiet.violations.iter().all(|v| v.kind != "canary"),
        "{:#?}",
        quiet.violations
    );
}
