//! `10k-logons-monday` (issue 11's load scenario), reduced: the scenario
//! file itself with its logon count cut down (debug builds are slow; the
//! full 10,000 run is `kerbside run --tier load`, measured in release). It
//! must pass, and the load figures it exists to produce must be true:
//! every logon a full exchange through the relay (success rate,
//! latency percentiles), and the relay's and the KDC's request counts
//! consistent with the number of logons.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use kerbside_sim::results::RunResult;
use kerbside_sim::runner::{Prepared, RunOptions, run};
use kerbside_sim::scenario::{Tier, load_str};

const NAME: &str = "10k-logons-monday";

fn text() -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../scenarios")
        .join(format!("{NAME}.toml"));
    std::fs::read_to_string(path).unwrap()
}

/// The scenario with `count` logons instead of 10,000 (both the timeline
/// and the expectation).
fn reduced(count: u32) -> String {
    let t = text();
    assert_eq!(
        t.matches("count = 10000").count(),
        2,
        "timeline and expectation"
    );
    t.replace("count = 10000", &format!("count = {count}"))
}

fn run_text(t: &str, seed: u64) -> RunResult {
    let file = format!("scenarios/{NAME}.toml");
    let s = load_str(t, &file).unwrap_or_else(|e| panic!("{e}"));
    let p = Arc::new(Prepared::new(s, &file).unwrap());
    run(
        &p,
        &RunOptions {
            seed,
            ..RunOptions::default()
        },
    )
    .result
}

#[test]
fn the_full_scenario_is_load_tier_with_ten_thousand_logons() {
    let s = load_str(&text(), "x.toml").unwrap();
    assert_eq!(s.tier, Tier::Load, "a plain `kerbside run` skips it");
    assert_eq!(s.name, NAME);
    assert!(s.description.len() > 200, "a readable description");
}

#[test]
fn reduced_monday_load_every_logon_through_the_relay() {
    // Two waves of 50.
    const N: u64 = 100;
    let t = reduced(N as u32);
    let r = run_text(&t, 3);
    assert!(r.passed, "{:#?}\nreplay: {}", r.violations, r.replay);
    let again = run_text(&t, 3);
    assert_eq!(r.trace_hash, again.trace_hash, "same seed, same trace");

    let load = &r.load;
    assert_eq!(load.logons, N);
    assert_eq!(load.succeeded, N);
    assert!((load.success_rate - 1.0).abs() < f64::EPSILON);
    assert_eq!(r.path_counts.get("kkdcp"), Some(&N));

    // Each logon paid the native timeout (3 s: port 88 is dropped), then
    // three relay exchanges: latency between 3 s and the expectation.
    let p = load.latency.expect("latency percentiles");
    assert!(p.p50 <= p.p90 && p.p90 <= p.p99 && p.p99 <= p.max);
    assert!(p.p50 > Duration::from_secs(3), "{p:?}");
    assert!(p.max <= Duration::from_millis(3500), "{p:?}");
    let lat: Vec<Duration> = r.logons.iter().filter_map(|l| l.latency).collect();
    assert_eq!(lat.len() as u64, N);
    assert_eq!(Some(&p.max), lat.iter().max());

    // Every logon: AS (PREAUTH_REQUIRED), AS with pre-authentication, TGS,
    // each relayed once and answered once by the KDC.
    assert_eq!(load.requests("kdc"), 3 * N, "{:?}", load.servers);
    assert_eq!(load.requests("relay"), 3 * N, "{:?}", load.servers);
    assert_eq!(r.exchanges(), 3 * N, "KDC log and coverage counter agree");
    for srv in &load.servers {
        // A wave's 150 requests land within a second or two of each
        // other; the mean over the active span (a wave every 3 s) is far
        // below the peak.
        assert!(srv.peak_rps >= 50, "{srv:?}");
        assert!(srv.mean_rps < srv.peak_rps as f64, "{srv:?}");
        assert!(srv.requests <= srv.peak_rps * srv.active_seconds, "{srv:?}");
    }
    let relay = load.servers.iter().find(|s| s.role == "relay").unwrap();
    assert_eq!(relay.host, "relay");

    // Users rotate over the list; clients over the ten hosts.
    let users: std::collections::BTreeSet<&str> =
        r.logons.iter().map(|l| l.user.as_str()).collect();
    assert_eq!(users.len(), 8, "{users:?}");
    let clients: std::collections::BTreeSet<&str> =
        r.logons.iter().map(|l| l.client.as_str()).collect();
    assert_eq!(clients.len(), 10);
    // Waves: 50 logons share a start time, 3 s apart.
    assert_eq!(r.logons[0].scheduled_at, r.logons[49].scheduled_at);
    assert_eq!(
        r.logons[50].scheduled_at - r.logons[0].scheduled_at,
        Duration::from_secs(3)
    );
}

#[test]
fn a_blocked_relay_shows_in_the_success_rate() {
    // The same Monday with the relay's port closed too: nothing succeeds,
    // and the figures say so (the scenario's expectations fail).
    let t = reduced(10).replace(
        "# The change is already in place when the day starts.",
        "[[firewall]]\nid = \"no-relay\"\nfrom = \"role:client\"\nto = \"relay\"\nport = 443\naction = \"reject\"\n\n# The change is already in place when the day starts.",
    );
    let r = run_text(&t, 1);
    assert!(!r.passed);
    assert_eq!(r.load.logons, 10);
    assert_eq!(r.load.succeeded, 0);
    assert_eq!(r.load.success_rate, 0.0);
    assert_eq!(r.load.requests("relay"), 0);
}
