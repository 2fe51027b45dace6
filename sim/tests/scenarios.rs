//! The starter scenarios, run end to end: each passes, and the same seed
//! gives the same trace hash.

use std::path::PathBuf;
use std::sync::Arc;

use kerbside_sim::runner::{Prepared, RunOptions, run};
use kerbside_sim::scenario::load_file;

fn scenario(name: &str) -> Arc<Prepared> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../scenarios")
        .join(format!("{name}.toml"));
    let s = load_file(&path).unwrap_or_else(|e| panic!("{e}"));
    Arc::new(Prepared::new(s, &format!("scenarios/{name}.toml")).unwrap())
}

fn check(name: &str, seeds: &[u64]) {
    let p = scenario(name);
    for &seed in seeds {
        let a = run(
            &p,
            &RunOptions {
                seed,
                ..RunOptions::default()
            },
        );
        assert!(
            a.result.passed,
            "{name} seed {seed} failed: {:#?}\nreplay: {}",
            a.result.violations, a.result.replay
        );
        let b = run(
            &p,
            &RunOptions {
                seed,
                ..RunOptions::default()
            },
        );
        assert_eq!(
            a.result.trace_hash, b.result.trace_hash,
            "{name} seed {seed}: same seed, same trace"
        );
    }
}

#[test]
fn office_baseline() {
    check("office-baseline", &[1, 2]);
}

#[test]
fn monday_firewall_change() {
    check("monday-firewall-change", &[1]);
}

#[test]
fn vpn_blocks_88() {
    check("vpn-blocks-88", &[1]);
}

#[test]
fn relay_down() {
    check("relay-down", &[1]);
}

// Issue 7: the negotiator's scenarios.

#[test]
fn branch_office_latency() {
    check("branch-office-latency", &[1]);
}

#[test]
fn coffee_shop_wifi() {
    check("coffee-shop-wifi", &[1]);
}

#[test]
fn ntlm_only_printer() {
    check("ntlm-only-printer", &[1]);
}

#[test]
fn ntlm_denied_fail_closed() {
    check("ntlm-denied-fail-closed", &[1]);
}

#[test]
fn silent_ntlm_detection() {
    check("silent-ntlm-detection", &[1]);
}

#[test]
fn downgrade_attack() {
    check("downgrade-attack", &[1]);
}

#[test]
fn dc_failover() {
    check("dc-failover", &[1]);
}

#[test]
fn flapping_firewall() {
    check("flapping-firewall", &[1]);
}

#[test]
fn wan_partition() {
    check("wan-partition", &[1, 2]);
}
