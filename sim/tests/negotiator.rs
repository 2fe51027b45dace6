//! The negotiator inside the simulation: scenario-file policy (sections,
//! shorthands, per-client overrides), the new host roles, and that the
//! negotiator expectations and invariants really fail when they should.

use std::path::PathBuf;
use std::sync::Arc;

use kerbside_client::negotiator::NtlmMode;
use kerbside_sim::results::RunResult;
use kerbside_sim::runner::{Prepared, RunOptions, run};
use kerbside_sim::scenario::load_str;

fn text(name: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../scenarios")
        .join(format!("{name}.toml"));
    std::fs::read_to_string(path).unwrap()
}

fn run_text(t: &str) -> RunResult {
    let s = load_str(t, "variant.toml").unwrap_or_else(|e| panic!("{e}"));
    let p = Arc::new(Prepared::new(s, "variant.toml").unwrap());
    run(
        &p,
        &RunOptions {
            seed: 1,
            ..RunOptions::default()
        },
    )
    .result
}

fn messages(r: &RunResult) -> Vec<String> {
    r.violations.iter().map(|v| v.message.clone()).collect()
}

#[test]
fn wrong_expectations_on_the_negotiator_record_are_reported() {
    let base = text("ntlm-only-printer");
    let variant = base
        .replace(
            r#"audit = { "8001" = 1, "7005" = 0, "4001" = 0 }"#,
            r#"audit = { "8001" = 2, "7005" = 0, "4001" = 0 }"#,
        )
        .replace(
            "label = \"deny\"\ncount = 3\npath = \"none\"\noutcome = \"failure\"\nerror = \"ntlm-denied\"\nntlm = false",
            "label = \"deny\"\ncount = 3\npath = \"none\"\noutcome = \"failure\"\nerror = \"downgrade\"\nntlm = true",
        )
        .replace(
            "label = \"deny-kerberos\"\ncount = 1\npath = \"native-tcp\"\noutcome = \"success\"\nmechanism = \"kerberos\"",
            "label = \"deny-kerberos\"\ncount = 1\npath = \"native-tcp\"\norder = [\"kkdcp\"]\nendpoint = \"dc9:88\"\noutcome = \"success\"\nmechanism = \"ntlm\"",
        )
        .replace(r#"audit = { "4001" = 3, "8001" = 3 }"#, r#"audit = { "4001" = 4, "8001" = 3 }"#);
    assert_ne!(variant, base, "the replacements apply");
    let r = run_text(&variant);
    assert!(!r.passed);
    let m = messages(&r);
    let has = |needle: &str| m.iter().any(|x| x.contains(needle));
    assert!(has("has 1 audit event(s) 8001, expected 2"), "{m:#?}");
    assert!(has("failed with ntlm-denied, expected downgrade"), "{m:#?}");
    assert!(has("did not use NTLM, expected to"), "{m:#?}");
    assert!(has("tried native-tcp, expected kkdcp"), "{m:#?}");
    assert!(
        has("got its credentials from dc1:88, expected dc9:88"),
        "{m:#?}"
    );
    assert!(has("authenticated with kerberos, expected ntlm"), "{m:#?}");
    assert!(
        has("the run has 3 audit event(s) 4001, expected 4"),
        "{m:#?}"
    );
    assert!(r.violations.iter().all(|v| v.kind == "expectation"));
}

#[test]
fn attempt_caps_catch_a_missing_negative_cache() {
    // The same flapping firewall without the negative cache pays a timeout
    // on every blocked logon, far above the cap.
    let variant = text("flapping-firewall").replace(
        "[policy.negative_cache]\nttl = \"4m\"",
        "[policy.negative_cache]\nttl = \"0s\"",
    );
    let r = run_text(&variant);
    assert!(!r.passed);
    let m = messages(&r);
    assert!(
        m.iter()
            .any(|x| x.contains("`timeout` attempts, at most 36 expected")),
        "{m:#?}"
    );
}

#[test]
fn client_policy_overrides_merge_over_the_scenario_policy() {
    let s = load_str(&text("ntlm-only-printer"), "x.toml").unwrap();
    let modes: Vec<(String, NtlmMode)> = s
        .hosts
        .iter()
        .filter(|h| h.name.starts_with("laptop"))
        .map(|h| {
            let p = s
                .policy
                .merged(h.client.as_ref().and_then(|c| c.policy.as_ref()))
                .unwrap();
            // The scenario's native timeout survives each client's override.
            assert_eq!(p.native.timeout, std::time::Duration::from_secs(3));
            (h.name.clone(), p.ntlm.mode)
        })
        .collect();
    assert_eq!(
        modes,
        [
            ("laptop-allow".into(), NtlmMode::Allow),
            ("laptop-audit".into(), NtlmMode::Audit),
            ("laptop-deny".into(), NtlmMode::Deny),
            ("laptop-excepted".into(), NtlmMode::Deny),
        ]
    );
}

const MINI: &str = r#"
name = "mini"
description = "d"
duration = "1m"
[[realm]]
name = "CORP.EXAMPLE"
kdcs = ["dc1"]
[[realm.principal]]
name = "alice"
password = "Winter2026!alice"
[[host]]
name = "dc1"
role = "kdc"
[[host]]
name = "files"
role = "app"
[[host]]
name = "laptop"
role = "client"
"#;

fn load_err(extra: &str) -> String {
    match load_str(&format!("{MINI}{extra}"), "mini.toml") {
        Ok(_) => panic!("accepted:\n{extra}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn policy_mistakes_are_located_errors() {
    let e = load_err("[policy.ntlm]\nmode = \"block\"\n");
    assert!(e.contains("block"), "{e}");
    let e = load_err("[policy]\nkdc_timeout = \"2s\"\n[policy.native]\ntimeout = \"3s\"\n");
    assert!(e.contains("say the same thing"), "{e}");
    let e = load_err(
        "[[host]]\nname = \"laptop2\"\nrole = \"client\"\n[host.client.policy.racing]\nenabled = true\ndelay = \"20s\"\n",
    );
    assert!(e.contains("host[3].client.policy"), "{e}");
    assert!(e.contains("racing.delay"), "{e}");
    let e = load_err("[policy.kkdcp]\nrelays = [\"https://files/KdcProxy\"]\n");
    assert!(e.contains("not a relay"), "{e}");
}

#[test]
fn role_mistakes_are_located_errors() {
    let e = load_err("[[host]]\nname = \"mallory\"\nrole = \"attacker\"\n");
    assert!(e.contains("[host.attacker]"), "{e}");
    let e = load_err(
        "[[host]]\nname = \"mallory\"\nrole = \"attacker\"\nattacker = { target = \"dc1\" }\n",
    );
    assert!(e.contains("not an app server"), "{e}");
    let e = load_err(
        "[[timeline]]\nat = \"1s\"\naction = \"logon\"\nclient = \"laptop\"\nuser = \"alice\"\nserver = \"dc1\"\n",
    );
    assert!(e.contains("not an application server"), "{e}");
    let e = load_err("[[host]]\nname = \"x\"\nrole = \"kdc\"\napp = { port = 1 }\n");
    assert!(e.contains("[host.app]"), "{e}");
    let e = load_err(
        "[[timeline]]\nat = \"1s\"\naction = \"logon\"\nclient = \"laptop\"\nuser = \"alice\"\nlabel = \"l\"\n[[expect.logon]]\nlabel = \"l\"\nerror = \"ntlm-refused\"\n",
    );
    assert!(e.contains("unknown error kind"), "{e}");
    let e = load_err("[expect]\naudit = { \"eight\" = 1 }\n");
    assert!(e.contains("not an event id"), "{e}");
    let e = load_err("[expect]\nattempts_max = { \"slow\" = 1 }\n");
    assert!(e.contains("unknown attempt outcome"), "{e}");
}
