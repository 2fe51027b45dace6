//! The issue-8 scenarios (IAKERB and LocalKDC), run end to end: each
//! passes its expectations with no violation, and the same seed gives the
//! same trace hash. The 100-seed sweeps run with `kerbside run`.

use std::path::PathBuf;
use std::sync::Arc;

use kerbside_sim::runner::{Prepared, RunOptions, run};
use kerbside_sim::scenario::load_file;
use kerbside_sim::trace::TraceEntry;

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

/// The `kind` events of one passing run, detail JSON after the host name
/// when there is one.
fn events(name: &str, seed: u64, kind: &str) -> Vec<serde_json::Value> {
    let p = scenario(name);
    let out = run(
        &p,
        &RunOptions {
            seed,
            keep_trace: true,
            ..RunOptions::default()
        },
    );
    assert!(out.result.passed, "{:#?}", out.result.violations);
    out.trace
        .entries()
        .iter()
        .filter_map(|e| match e {
            TraceEntry::Event(ev) if ev.kind == kind => {
                let json = ev
                    .detail
                    .split_once(' ')
                    .map_or(ev.detail.as_str(), |(h, j)| {
                        if h.starts_with('{') {
                            ev.detail.as_str()
                        } else {
                            j
                        }
                    });
                serde_json::from_str(json).ok()
            }
            _ => None,
        })
        .collect()
}

#[test]
fn dmz_server_iakerb() {
    check("dmz-server-iakerb", &[1, 2]);
}

#[test]
fn iakerb_realm_discovery() {
    check("iakerb-realm-discovery", &[1, 2]);
    // Each session: one discovery hop, then AS, AS, TGS relayed to the
    // server's own LocalKDC, whose every decision is a 10-hour grant.
    let apps = events("iakerb-realm-discovery", 3, "app");
    assert_eq!(apps.len(), 4);
    for a in &apps {
        assert_eq!(a["outcome"], "authenticated", "{a}");
        assert_eq!(a["client"], "Administrator@FILES01");
        assert_eq!(a["iakerb"]["hops"], 4, "{a}");
        assert_eq!(a["iakerb"]["kdc_exchanges"], 3, "{a}");
    }
    let decisions = events("iakerb-realm-discovery", 3, "localkdc");
    assert_eq!(decisions.len(), 8, "AS and TGS of each logon");
    assert!(decisions.iter().all(|d| d["decision"] == "granted"
        && d["placement"] == "on-target"
        && d["max_lifetime_secs"] == 36_000));
}

#[test]
fn offline_hangar() {
    check("offline-hangar", &[1]);
    let tickets = events("offline-hangar", 2, "localkdc-ticket");
    // TGTs and service tickets, all within the cap, all approved; re-issued
    // across the four hours (45 logons, 15-minute tickets).
    let service: Vec<_> = tickets
        .iter()
        .filter(|t| t["service"] == "cifs/mxdocs.corp.example")
        .collect();
    assert!(service.len() >= 10, "{}", service.len());
    assert!(
        tickets
            .iter()
            .all(|t| t["lifetime_secs"].as_i64() <= Some(900))
    );
    assert!(tickets.iter().all(|t| t["approved"] == true));
}

#[test]
fn construction_site_offline_then_online() {
    check("construction-site-offline-then-online", &[1]);
    // Online, the server authenticates the computer account of the domain,
    // not of the LocalKDC.
    let apps = events("construction-site-offline-then-online", 2, "app");
    let clients: Vec<&str> = apps.iter().filter_map(|a| a["client"].as_str()).collect();
    assert_eq!(clients.len(), 42);
    assert!(
        clients[..22].iter().all(|c| *c == "SITE7$@SITE7.LOCALKDC"),
        "{clients:?}"
    );
    assert!(
        clients[22..].iter().all(|c| *c == "SITE7$@CORP.EXAMPLE"),
        "{clients:?}"
    );
}

#[test]
fn localkdc_expiry_under_skew() {
    check("localkdc-expiry-under-skew", &[1]);
    let apps = events("localkdc-expiry-under-skew", 2, "app");
    let refused: Vec<_> = apps.iter().filter(|a| a["outcome"] == "refused").collect();
    assert_eq!(refused.len(), 6, "{apps:?}");
    assert!(
        refused.iter().all(|a| a["krb_code"] == 37),
        "KRB_AP_ERR_SKEW: {refused:?}"
    );
    let tickets = events("localkdc-expiry-under-skew", 2, "localkdc-ticket");
    assert!(
        tickets
            .iter()
            .all(|t| t["lifetime_secs"].as_i64() <= Some(900))
    );
}

#[test]
fn third_party_ticket_interceptor() {
    check("third-party-ticket-interceptor", &[1]);
    let p = scenario("third-party-ticket-interceptor");
    let out = run(
        &p,
        &RunOptions {
            seed: 2,
            keep_trace: true,
            ..RunOptions::default()
        },
    );
    assert!(out.result.passed, "{:#?}", out.result.violations);
    let replays: Vec<String> = out
        .trace
        .entries()
        .iter()
        .filter_map(|e| match e {
            TraceEntry::Event(ev) if ev.kind == "attack" && ev.detail.contains(" replay of ") => {
                Some(ev.detail.clone())
            }
            _ => None,
        })
        .collect();
    let elsewhere = replays
        .iter()
        .filter(|r| r.contains("(elsewhere): refused code=35"))
        .count();
    let late = replays
        .iter()
        .filter(|r| r.contains("(late): refused code=37"))
        .count();
    assert_eq!(elsewhere, 8, "{replays:#?}");
    assert!(late >= 5, "{replays:#?}");
    assert!(replays.iter().all(|r| !r.contains("accepted")));
    assert_eq!(
        out.result.coverage.get("replay:refused").copied(),
        Some(replays.len() as u64)
    );
}

/// A scenario with the issue-8 options wrong in one place.
fn invalid(extra: &str) -> String {
    let text = format!(
        r#"name = "t"
description = "d"
duration = "1m"
[[realm]]
name = "CORP.EXAMPLE"
kdcs = ["dc1"]
[[realm.principal]]
name = "alice"
password = "Winter2026!"
[[realm.principal]]
name = "cifs/files"
password = "files-secret-1"
[[realm]]
name = "FILES01"
kdcs = []
[[realm.principal]]
name = "Administrator"
password = "Password123!x"
[[host]]
name = "dc1"
role = "kdc"
[[host]]
name = "files"
role = "app"
{extra}"#
    );
    match kerbside_sim::scenario::load_str(&text, "x.toml") {
        Err(e) => e.to_string(),
        Ok(_) => panic!("accepted:\n{text}"),
    }
}

#[test]
fn issue8_options_are_validated_with_the_field_named() {
    let e = invalid("app = { local_kdc = \"CORP.EXAMPLE\" }\n");
    assert!(
        e.contains("host[1].app.local_kdc") && e.contains("lists KDC hosts"),
        "{e}"
    );
    let e = invalid("app = { local_kdc = \"NOPE\" }\n");
    assert!(e.contains("no realm named `NOPE`"), "{e}");
    let e = invalid("app = { trust_localkdc_of = [\"dc1\"] }\n");
    assert!(
        e.contains("trust_localkdc_of[0]") && e.contains("no `[host.client.localkdc]`"),
        "{e}"
    );
    let e = invalid(
        "[[host]]\nname = \"laptop\"\nrole = \"client\"\n[host.client]\nrealm = \"CORP.EXAMPLE\"\n[host.client.localkdc]\nservices = [\"cifs/files\"]\n",
    );
    assert!(e.contains("no computer account `LAPTOP$`"), "{e}");
    let e = invalid(
        "[[host]]\nname = \"mitm\"\nrole = \"attacker\"\nattacker = { target = \"files\", replay_to = [\"dc1\"] }\n",
    );
    assert!(
        e.contains("replay_to[0]") && e.contains("not an app server"),
        "{e}"
    );
    let e = invalid("[[host]]\nname = \"lk\"\nrole = \"localkdc\"\n");
    assert!(e.contains("runs inside the host that uses it"), "{e}");
}
