//! One logon per path inside the deterministic simulation (turmoil): the
//! client's negotiator, the KDC, the relay and the application servers as
//! simulated hosts on a 1 ms network, the whole world built and torn down
//! per run. What `kerbside run` pays per logon, in wall time; the
//! simulated latency is deterministic and reported by `kerbside run`, not
//! here.
//!
//! Each scenario makes one logon of one user to one server take one path:
//! the policy's stage order and a firewall `reject` on what the path must
//! not use (refused at once: no timeout to wait out).

use std::sync::Arc;

use kerbside_sim::results::RunResult;
use kerbside_sim::runner::{Prepared, RunOptions, run};
use kerbside_sim::scenario::load_str;

use crate::error::FixtureError;

/// A path the simulated client can be made to take.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SimPath {
    /// RFC 4120 §7.2.2 to the DC, then AP to the application server.
    NativeTcp,
    /// RFC 4120 §7.2.1 to the DC, then AP.
    NativeUdp,
    /// MS-KKDCP through the relay (HTTPS) after the DC refused port 88.
    Kkdcp,
    /// IAKERB: the KDC exchanges inside the SPNEGO exchange with the
    /// application server, which relays them to the DC (DC and relay
    /// refused to the client).
    Iakerb,
    /// The client's own on-client LocalKDC (computer account, enrolled
    /// service) with the DC and relay refused.
    LocalKdc,
    /// NTLM inside SPNEGO to a printer never joined to the domain.
    Ntlm,
}

impl SimPath {
    /// Every path, in fallback-chain order.
    pub const ALL: [SimPath; 6] = [
        SimPath::NativeTcp,
        SimPath::NativeUdp,
        SimPath::Kkdcp,
        SimPath::Iakerb,
        SimPath::LocalKdc,
        SimPath::Ntlm,
    ];

    /// The path name the simulation records.
    pub fn name(self) -> &'static str {
        match self {
            SimPath::NativeTcp => "native-tcp",
            SimPath::NativeUdp => "native-udp",
            SimPath::Kkdcp => "kkdcp",
            SimPath::Iakerb => "iakerb",
            SimPath::LocalKdc => "localkdc",
            SimPath::Ntlm => "ntlm",
        }
    }

    /// `[policy]` and its sections.
    fn policy(self) -> &'static str {
        match self {
            SimPath::NativeTcp => "order = [\"native\"]\n[policy.native]\ntcp = true\nudp = false",
            SimPath::NativeUdp => "order = [\"native\"]\n[policy.native]\ntcp = false\nudp = true",
            SimPath::Kkdcp => {
                "order = [\"native\", \"kkdcp\"]\n[policy.native]\ntcp = true\nudp = false\n\
                 [policy.kkdcp]\nrelays = [\"https://kdcproxy.corp.example/KdcProxy\"]"
            }
            SimPath::Iakerb => {
                "order = [\"native\", \"iakerb\"]\n[policy.native]\ntcp = true\nudp = false\n\
                 [policy.iakerb]\nenabled = true"
            }
            SimPath::LocalKdc => {
                "order = [\"native\", \"localkdc\"]\n[policy.native]\ntcp = true\nudp = false\n\
                 [policy.localkdc]\nenabled = true"
            }
            SimPath::Ntlm => {
                "order = [\"native\"]\n[policy.native]\ntcp = true\nudp = false\n\
                 [policy.ntlm]\nmode = \"allow\""
            }
        }
    }

    /// What the client may not reach.
    fn refused(self) -> &'static str {
        match self {
            SimPath::NativeTcp | SimPath::NativeUdp | SimPath::Ntlm => "[]",
            SimPath::Kkdcp => "[\"dc1\"]",
            SimPath::Iakerb | SimPath::LocalKdc => "[\"dc1\", \"relay\"]",
        }
    }

    /// `logon` fields: who logs on to what.
    fn logon(self) -> &'static str {
        match self {
            SimPath::LocalKdc => {
                "user = \"LAPTOP$\"\nservice = \"HTTP/app.corp.example\"\nserver = \"app.corp.example\""
            }
            SimPath::Ntlm => "user = \"alice\"\nserver = \"printer.corp.example\"",
            _ => {
                "user = \"alice\"\nservice = \"HTTP/app.corp.example\"\nserver = \"app.corp.example\""
            }
        }
    }
}

/// The scenario: one logon on `path`, expected to succeed there.
pub fn scenario_text(path: SimPath) -> String {
    let firewall = if path.refused() == "[]" {
        String::new()
    } else {
        format!(
            "[[firewall]]\nid = \"refused\"\nfrom = \"laptop\"\nto = {}\nproto = \"any\"\nport = \"*\"\naction = \"reject\"\n",
            path.refused()
        )
    };
    // The on-client LocalKDC exists, and the server trusts it, only on
    // the LocalKDC path.
    let (localkdc, app) = if path == SimPath::LocalKdc {
        (
            "[host.client.localkdc]\nservices = [\"HTTP/app.corp.example\"]\n",
            "{ iakerb = true, trust_localkdc_of = [\"laptop\"] }",
        )
    } else {
        ("", "{ iakerb = true }")
    };
    format!(
        r#"name = "bench-{name}"
description = "One logon on the {name} path (benchmark)."
seeds = 1
duration = "10m"

[[realm]]
name = "CORP.EXAMPLE"
kdcs = ["dc1"]

[[realm.principal]]
name = "alice"
password = "Winter2026!alice"

[[realm.principal]]
name = "LAPTOP$"
password = "laptop-machine-account-secret"

[[realm.principal]]
name = "HTTP/app.corp.example"
password = "app-service-secret"

[[host]]
name = "dc1"
role = "kdc"

[[host]]
name = "relay"
role = "relay"
aliases = ["kdcproxy.corp.example"]

[[host]]
name = "app"
role = "app"
aliases = ["app.corp.example"]
app = {app}

[[host]]
name = "printer"
role = "printer"
aliases = ["printer.corp.example"]

[[host]]
name = "laptop"
role = "client"
{localkdc}
[network]
latency = "1ms"

{firewall}
[policy]
{policy}

[policy.tickets]
cache = false

[[timeline]]
at = "1s"
action = "logon"
client = "laptop"
{logon}
label = "bench"

[[expect.logon]]
label = "bench"
count = 1
path = "{name}"
outcome = "success"
"#,
        name = path.name(),
        policy = path.policy(),
        logon = path.logon(),
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
            let p = prepare(path).unwrap_or_else(|e| panic!("{}: {e}", path.name()));
            let r = run_once(&p, 1).unwrap_or_else(|e| panic!("{}: {e}", path.name()));
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
