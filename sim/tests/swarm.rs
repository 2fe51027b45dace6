//! Swarm fuzzing end to end: random fault plans hold the safety
//! properties, and a planted bug (a relay forwarding for a realm it was
//! not given) is found within a bounded number of cases, shrunk, and
//! written as a scenario file that replays it.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use kerbside_sim::runner::{Prepared, RunOptions, run};
use kerbside_sim::scenario::load_str;
use kerbside_sim::swarm::{HuntOptions, Plan, PlantedBug, check, hunt};

fn bounded(cases: u64) -> (AtomicU64, u64) {
    (AtomicU64::new(0), cases)
}

#[test]
fn random_fault_plans_hold_the_safety_properties() {
    for case in 0..6 {
        let plan = Plan::generate(2026, case);
        let c = check(&plan, None).unwrap_or_else(|e| panic!("case {case}: {e}"));
        assert!(
            c.result.violations.is_empty(),
            "case {case} ({:?}): {:#?}\n{}",
            plan.topology,
            c.result.violations,
            c.text
        );
    }
}

#[test]
fn a_planted_relay_bug_is_found_shrunk_and_replayed() {
    let bug = PlantedBug::RelayForwardsUndeclaredRealm;
    let (started, limit) = bounded(40);
    let opts = HuntOptions {
        master: 11,
        planted: Some(bug),
        threads: 2,
        shrink_budget: 60,
    };
    let keep_going = || started.fetch_add(1, Ordering::Relaxed) < limit;
    let h = hunt(&opts, &keep_going, &|_| {});
    assert!(h.errors.is_empty(), "{:?}", h.errors);
    let f = h.failure.expect("the planted bug is found within 40 cases");
    assert_eq!(f.kind, "relay-realm");
    assert!(f.shrunk.events.len() <= f.original.events.len());
    assert!(
        f.shrunk.events.len() <= 2,
        "one lab logon (and what it needs) is enough: {:#?}",
        f.shrunk.events
    );
    let text = f.scenario_file("out/swarm/x.toml");
    assert!(
        text.contains("--plant-bug relay-forwards-undeclared-realm"),
        "{text}"
    );
    assert!(text.contains(&format!("--seed {}", f.shrunk.seed)));

    // The file replays the failure with the bug, and passes without it.
    let scenario = load_str(&text, "x.toml").unwrap();
    let replay = |planted| {
        let mut p = Prepared::new(scenario.clone(), "x.toml").unwrap();
        p.planted = planted;
        run(
            &Arc::new(p),
            &RunOptions {
                seed: f.shrunk.seed,
                ..RunOptions::default()
            },
        )
        .result
    };
    let with_bug = replay(Some(bug));
    assert!(!with_bug.passed);
    assert!(with_bug.violations.iter().any(|v| v.kind == "relay-realm"));
    let fixed = replay(None);
    assert!(
        fixed.passed,
        "without the bug the same file passes: {:#?}",
        fixed.violations
    );
}
