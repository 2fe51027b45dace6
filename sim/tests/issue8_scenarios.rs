//! The issue-8 scenarios (IAKERB and LocalKDC), run end to end: each
//! passes its expectations with no violation, and the same seed gives the
//! same trace hash. The 100-seed sweeps run with `kerbside run`.

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
        let opts = RunOptions {
            seed,
            ..RunOptions::default()
        };
        let a = run(&p, &opts);
        assert!(
            a.result.passed,
            "{name} seed {seed} failed: {:#?}\nreplay: {}",
            a.result.violations, a.result.replay
        );
        let b = run(&p, &opts);
        assert_eq!(
            a.result.trace_hash, b.result.trace_hash,
            "{name} seed {seed}: same seed, same trace"
        );
    }
}

#[test]
fn dmz_server_iakerb() {
    check("dmz-server-iakerb", &[1, 2]);
}
