//! Time to a service ticket per path, measured in the simulation on a
//! WAN-like link (25 ms round trip from the client to the DC and to the
//! relay, 1 ms from the relay to the DC), as issue 7 asks: native TCP and
//! UDP, KKDCP over a kept-alive HTTPS connection and with a new TLS
//! connection per message (MIT's client), and a dead DC with and without
//! racing and with a warm negative cache.
//!
//! ```sh
//! cargo run --release -p kerbside-sim --example negotiator_latency [-- SEEDS]
//! ```
//!
//! Prints a Markdown table. Times are simulated (KDC processing is
//! instantaneous in simulated time). turmoil completes a TCP connect when
//! the SYN arrives (its SYN-ACK is not a simulated message), so each new
//! TCP connection costs half a round trip here instead of one; TLS and
//! HTTP round trips are real messages.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use kerbside_sim::runner::{Prepared, RunOptions, run};
use kerbside_sim::scenario::load_str;

/// One measured configuration: lines added to the policy sections.
struct Variant {
    name: &'static str,
    /// `[policy]` lines.
    top: &'static str,
    /// `[policy.native]` lines.
    native: &'static str,
    /// `[policy.kkdcp]` lines.
    kkdcp: &'static str,
    /// Negative-cache TTL.
    negative_ttl: &'static str,
    /// `[policy.racing]` lines.
    racing: &'static str,
    /// Port 88 to the DC silently dropped.
    dc_dead: bool,
}

const BASE: Variant = Variant {
    name: "",
    top: "",
    native: "",
    kkdcp: "",
    negative_ttl: "60s",
    racing: "",
    dc_dead: false,
};

const VARIANTS: &[Variant] = &[
    Variant {
        name: "native TCP (Windows default)",
        ..BASE
    },
    Variant {
        name: "native TCP, racing on (DC healthy: no racer starts)",
        racing: "enabled = true",
        ..BASE
    },
    Variant {
        name: "native UDP",
        native: "tcp = false\nudp = true",
        ..BASE
    },
    Variant {
        name: "KKDCP, kept-alive HTTPS connection",
        top: "order = [\"kkdcp\"]",
        ..BASE
    },
    Variant {
        name: "KKDCP, new TLS connection per message (MIT)",
        top: "order = [\"kkdcp\"]",
        kkdcp: "keep_alive = false",
        ..BASE
    },
    Variant {
        name: "DC dead (88 dropped), 3 s timeout, no racing, no negative cache",
        negative_ttl: "0s",
        dc_dead: true,
        ..BASE
    },
    Variant {
        name: "DC dead, racing (250 ms head start), no negative cache",
        negative_ttl: "0s",
        racing: "enabled = true",
        dc_dead: true,
        ..BASE
    },
    Variant {
        name: "DC dead, negative cache: the first logon pays, later ones skip",
        negative_ttl: "1h",
        dc_dead: true,
        ..BASE
    },
];

fn scenario(v: &Variant) -> String {
    let firewall = if v.dc_dead {
        "[[firewall]]\nfrom = \"laptop\"\nto = \"dc1\"\nport = 88\naction = \"drop\"\n"
    } else {
        ""
    };
    format!(
        r#"
name = "latency"
description = "WAN-like link, 25 ms RTT to the DC and the relay"
duration = "1h"
tick = "1ms"

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
name = "files"
role = "app"
aliases = ["files.corp.example"]
[[host]]
name = "laptop"
role = "client"

[network]
latency = "500us"

[[link]]
between = ["laptop", "dc1"]
latency = "12500us"
[[link]]
between = ["laptop", "relay"]
latency = "12500us"

{firewall}

[policy]
{top}
[policy.native]
timeout = "3s"
{native}
[policy.kkdcp]
relays = ["https://kdcproxy.corp.example/KdcProxy"]
{kkdcp}
[policy.negative_cache]
ttl = "{ttl}"
[policy.racing]
{racing}
[policy.tickets]
cache = false

[[timeline]]
at = "1s"
action = "logon_many"
client = "laptop"
user = "alice"
service = "cifs/files.corp.example"
server = "files.corp.example"
count = 6
every = "20s"
label = "l"
"#,
        top = v.top,
        native = v.native,
        kkdcp = v.kkdcp,
        ttl = v.negative_ttl,
        racing = v.racing,
    )
}

#[derive(Default)]
struct Stats {
    first: Vec<Duration>,
    later: Vec<Duration>,
    tgs: Vec<Duration>,
    paths: BTreeMap<String, u64>,
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn mean(v: &[Duration]) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v.iter().map(|d| ms(*d)).sum::<f64>() / v.len() as f64
}

fn main() {
    let seeds: u64 = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(10);
    println!(
        "| path | first logon: time to service ticket (ms) | later logons (ms) | TGS exchange alone (ms) | path taken |"
    );
    println!("|---|---:|---:|---:|---|");
    for v in VARIANTS {
        let text = scenario(v);
        let s = load_str(&text, "latency.toml").unwrap_or_else(|e| panic!("{}: {e}", v.name));
        let p = Arc::new(Prepared::new(s, "latency.toml").expect("prepare"));
        let mut st = Stats::default();
        for seed in 1..=seeds {
            let r = run(
                &p,
                &RunOptions {
                    seed,
                    ..RunOptions::default()
                },
            )
            .result;
            assert!(r.passed, "{} seed {seed}: {:#?}", v.name, r.violations);
            for (i, l) in r.logons.iter().enumerate() {
                let rep = l.report.as_ref().expect("finished");
                *st.paths.entry(rep.path.to_string()).or_default() += 1;
                let Some(t) = rep.time_to_ticket else {
                    continue;
                };
                if i == 0 {
                    st.first.push(t);
                } else {
                    st.later.push(t);
                }
                st.tgs.extend(
                    rep.attempts
                        .iter()
                        .filter(|a| a.exchange == "tgs" && a.result.word() == "ok")
                        .map(|a| a.duration),
                );
            }
        }
        let paths: Vec<String> = st.paths.iter().map(|(k, n)| format!("{k} ×{n}")).collect();
        println!(
            "| {} | {:.1} | {:.1} | {:.1} | {} |",
            v.name,
            mean(&st.first),
            mean(&st.later),
            mean(&st.tgs),
            paths.join(", ")
        );
    }
}
