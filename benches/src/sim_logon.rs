//! One logon per path inside the deterministic simulation (turmoil):
//! client, KDC and relay as simulated hosts on a 1 ms network, the whole
//! world built and torn down per run. What `kerbside run` pays per logon,
//! in wall time; the simulated latency is deterministic and reported by
//! `kerbside run`, not here.
//!
//! The paths the simulated client takes today: native Kerberos over TCP or
//! UDP, and the KKDCP relay. IAKERB, LocalKDC and NTLM join when their
//! simulated parties land (the scenario format reserves `app` and
//! `localkdc`); [`crate::handshake`] measures them in process meanwhile.

use std::sync::Arc;

use kerbside_sim::results::RunResult;
use kerbside_sim::runner::{Prepared, RunOptions, run};
use kerbside_sim::scenario::load_str;

use crate::error::FixtureError;

/// A path the simulated client can be made to take.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SimPath {
    /// RFC 4120 §7.2.2 to the DC.
    NativeTcp,
    /// RFC 4120 §7.2.1 to the DC.
    NativeUdp,
    /// MS-KKDCP through the relay (HTTPS), after the DC refused TCP
    /// port 88 (a firewall `reject`: RST at once, no timeout to wait out).
    Kkdcp,
}

impl SimPath {
    /// Every path.
    pub const ALL: [SimPath; 3] = [SimPath::NativeTcp, SimPath::NativeUdp, SimPath::Kkdcp];

    /// The path name the simulation records.
    pub fn name(self) -> &'static str {
        match self {
            SimPath::NativeTcp => "native-tcp",
            SimPath::NativeUdp => "native-udp",
            SimPath::Kkdcp => "kkdcp",
        }
    }

    /// The `[policy]` that makes the client take this path first.
    fn policy(self) -> &'static str {
        match self {
            SimPath::NativeTcp => "native_tcp = true\nnative_udp = false",
            SimPath::NativeUdp => "native_tcp = false\nnative_udp = true",
            SimPath::Kkdcp => "native_tcp = true\nnative_udp = false",
        }
    }

    /// Firewall rules in force from the start.
    fn firewall(self) -> &'static str {
        match self {
            SimPath::NativeTcp | SimPath::NativeUdp => "",
            SimPath::Kkdcp => {
                "[[firewall]]\nid = \"no-kerberos\"\nfrom = \"laptop\"\nto = \"dc1\"\nproto = \"any\"\nport = 88\naction = \"reject\"\n"
            }
        }
    }
}

/// The scenario: one logon of alice (AS with the PREAUTH_REQUIRED round
/// trip, then a service ticket), expected on `path`.
pub fn scenario_text(path: SimPath) -> String {
    format!(
        r#"name = "bench-{name}"
description = "One logon on the {name} path (benchmark)."
seeds = 1
duration = "1m"

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
name = "relay"
role = "relay"
aliases = ["kdcproxy.corp.example"]

[[host]]
name = "laptop"
role = "client"

[network]
latency = "1ms"

{firewall}
[policy]
{policy}
kdc_timeout = "3s"
relays = ["https://kdcproxy.corp.example/KdcProxy"]
relay_timeout = "10s"

[[timeline]]
at = "1s"
action = "logon"
client = "laptop"
user = "alice"
service = "cifs/files.corp.example"
label = "bench"

[[expect.logon]]
label = "bench"
count = 1
path = "{name}"
outcome = "success"
"#,
        name = path.name(),
        policy = path.policy(),
        firewall = path.firewall(),
    )
}

/// The prepared scenario (keys derived once: the client holds keys, so no
/// string-to-key runs inside the timed logon).
pub fn prepare(path: SimPath) -> Result<Arc<Prepared>, FixtureError> {
    let text = scenario_text(path);
    let origin = format!("bench-{}.toml", path.name());
    let s = load_str(&text, &origin).map_err(FixtureError::failed)?;
    Prepared::new(s, &origin)
        .map(Arc::new)
        .map_err(FixtureError::failed)
}

/// Runs the world once with `seed`; an error unless the logon passed on
/// its path.
pub fn run_once(prepared: &Arc<Prepared>, seed: u64) -> Result<RunResult, FixtureError> {
    let out = run(
        prepared,
        &RunOptions {
            seed,
            ..RunOptions::default()
        },
    );
    if out.result.passed {
        Ok(out.result)
    } else {
        Err(FixtureError::failed(format!(
            "{} seed {seed}: {:?}",
            out.result.scenario, out.result.violations
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_scenario_logs_on_by_its_path_only() {
        for path in SimPath::ALL {
            let p = prepare(path).unwrap();
            let r = run_once(&p, 1).unwrap();
            assert_eq!(
                r.path_counts.get(path.name()).copied(),
                Some(1),
                "{}: {:?}",
                path.name(),
                r.path_counts
            );
            assert_eq!(
                r.path_counts.values().sum::<u64>(),
                1,
                "{:?}",
                r.path_counts
            );
        }
    }
}
