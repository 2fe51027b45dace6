//! IAKERB against MIT krb5 1.20 (Debian 12), as programs on real sockets:
//!
//! * MIT `gss-client -iakerb`, whose krb5.conf points the realm at a port
//!   where no KDC listens, against `kerbside serve app --iakerb` relaying
//!   to an MIT KDC (over UDP with TCP fallback, and TCP only);
//! * `kerbside client --iakerb` against MIT `gss-server -iakerb`, which
//!   relays to the same KDC;
//!
//! each completing the context and the wrapped-message / MIC exchange. The
//! finished checksum flavour each side speaks is checked too: MIT 1.20
//! sends extension 1 / key usage 42 and refuses the draft-03 numbering.
//! The MIT realm helper is kerbside-testsupport's. Skips with a message
//! when MIT krb5 or krb5-gss-samples are missing, unless
//! KERBSIDE_REQUIRE_PEERS=1.

mod common;

use common::{kerbside, text};
use kerbside_testsupport::mit;
use kerbside_testsupport::process::Running;

use std::process::Output;
use std::time::Duration;

const REALM: &str = "IAK.TEST";
const SERVICE: &str = "host@app.iak.test";

/// Connection events (JSON lines with an `outcome`) once `n` were
/// printed, without the readiness probe's.
fn events(server: &Running, n: usize) -> Vec<serde_json::Value> {
    let parse = |lines: &[String]| -> Vec<serde_json::Value> {
        lines
            .iter()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .filter(|e| e.get("outcome").is_some())
            .filter(|e| {
                !(e["outcome"] == "failed" && e["error"] == "connection closed by the peer")
            })
            .collect()
    };
    parse(&server.wait_for_lines(|l| parse(l).len() >= n))
}

/// An MIT realm with alice (pre-auth required) and host/app.iak.test, and its keytab.
fn realm(tag: &str) -> Option<mit::MitRealm> {
    common::service_realm(tag, REALM, "app.iak.test", true, &[])
}

/// A krb5.conf for the client whose realm KDC is a port nobody listens on:
/// the only way to a KDC is through the server (IAKERB).
fn unreachable_kdc_conf(realm: &mit::MitRealm) -> std::path::PathBuf {
    let dead = mit::free_port();
    let conf = std::fs::read_to_string(realm.dir.join("krb5.conf"))
        .unwrap()
        .replace(
            &format!("kdc = 127.0.0.1:{}", realm.port),
            &format!("kdc = 127.0.0.1:{dead}"),
        );
    assert!(conf.contains(&format!(":{dead}")));
    let path = realm.dir.join("client-krb5.conf");
    std::fs::write(&path, conf).unwrap();
    path
}

fn gss_client_iakerb(realm: &mit::MitRealm, port: u16, password: &str, message: &str) -> Output {
    let conf = unreachable_kdc_conf(realm);
    realm
        .command("gss-client")
        .env("KRB5_CONFIG", &conf)
        // A ccache of its own: nothing cached from earlier runs.
        .env(
            "KRB5CCNAME",
            format!("FILE:{}", realm.dir.join("client-cc").display()),
        )
        .args([
            "-port",
            &port.to_string(),
            "-iakerb",
            "-user",
            "alice",
            "-pass",
            password,
            "127.0.0.1",
            SERVICE,
            message,
        ])
        .output()
        .unwrap()
}

#[test]
fn mit_gss_client_iakerb_against_kerbside_serve_app() {
    let Some(realm) = realm("iak-app") else {
        return;
    };
    let keytab = realm.dir.join("service.keytab").display().to_string();
    let kdc = format!("127.0.0.1:{}", realm.port);
    for transport in ["udp-then-tcp", "tcp"] {
        let port = mit::free_port();
        let mut cmd = kerbside();
        cmd.args([
            "serve",
            "app",
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--service",
            SERVICE,
            "--keytab",
            &keytab,
            "--kdc",
            &kdc,
            "--kdc-transport",
            transport,
            "--iakerb",
            "--seed",
            "9",
        ]);
        let mut server = Running::spawn(cmd);
        server.wait_for_port(port);
        let o = gss_client_iakerb(&realm, port, "alicepw", "hello through IAKERB");
        assert!(o.status.success(), "{transport}: {}", text(&o));
        assert!(text(&o).contains("Signature verified"), "{}", text(&o));
        // A wrong password: the KDC's PREAUTH_FAILED reaches MIT through us.
        let bad = gss_client_iakerb(&realm, port, "wrong", "x");
        assert!(!bad.status.success(), "{}", text(&bad));
        let events = events(&server, 1);
        let e = &events[0];
        assert_eq!(e["outcome"], "authenticated", "{e}");
        assert_eq!(e["client"], "alice@IAK.TEST");
        assert_eq!(e["mechanism"], "kerberos");
        assert_eq!(e["messages"], 1);
        // AS (PREAUTH_REQUIRED), pre-authenticated AS, TGS; MIT 1.20's
        // finished numbering.
        assert_eq!(e["iakerb"]["kdc_exchanges"], 3, "{e}");
        assert_eq!(e["iakerb"]["finished"], "mit-legacy", "{e}");
    }
    // The MIT KDC saw the requests relayed by us, not by the client.
    let log = std::fs::read_to_string(realm.dir.join("kdc.log")).unwrap_or_default();
    assert!(log.contains("alice@IAK.TEST"), "{log}");
}

#[test]
fn kerbside_client_iakerb_against_mit_gss_server() {
    let Some(realm) = realm("iak-srv") else {
        return;
    };
    let port = mit::free_port();
    let log = realm.dir.join("gss-server.log");
    let mut cmd = realm.command("gss-server");
    cmd.args([
        "-port",
        &port.to_string(),
        "-iakerb",
        "-logfile",
        &log.display().to_string(),
        SERVICE,
    ]);
    let mut server = Running::spawn(cmd);
    server.wait_for_port(port);
    let client = |dialect: &str, finished: &str, message: &str| {
        kerbside()
            .args([
                "client",
                "--server",
                &format!("127.0.0.1:{port}"),
                "--service",
                SERVICE,
                "--user",
                "alice",
                "--realm",
                REALM,
                "--password",
                "alicepw",
                "--iakerb",
                "--mech",
                "kerberos",
                "--iakerb-dialect",
                dialect,
                "--iakerb-finished",
                finished,
                "--message",
                message,
            ])
            .output()
            .unwrap()
    };
    let o = client("mit", "auto", "hello MIT through IAKERB");
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("server MIC verified"), "{}", text(&o));
    // MIT 1.20 checks the finished checksum: the draft-03 numbering and a
    // missing one are refused; so is the draft-03 token form (UTF8String
    // realm, every token framed).
    for (dialect, finished) in [("mit", "draft"), ("mit", "none"), ("draft", "mit")] {
        let o = client(dialect, finished, "refused");
        assert_eq!(
            o.status.code(),
            Some(1),
            "{dialect}/{finished}: {}",
            text(&o)
        );
    }
    let mut logged = String::new();
    for _ in 0..300 {
        logged = std::fs::read_to_string(&log).unwrap_or_default();
        if logged.contains("Received message") {
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(
        logged
            .matches("Received message: \"hello MIT through IAKERB\"")
            .count(),
        1,
        "{logged}"
    );
    assert!(!logged.contains("\"refused\""), "{logged}");
}

/// No MIT peer: `kerbside serve app --local-kdc` (an on-target LocalKDC
/// inside the server, as Windows builds it) and `kerbside client --iakerb`
/// with realm discovery, raw and inside SPNEGO; a wrong password and an
/// account that does not exist are refused by the LocalKDC through the
/// server. Runs whether MIT is installed or not.
#[test]
fn kerbside_client_through_an_on_target_localkdc() {
    let dir = std::env::temp_dir().join(format!("kerbside-iak-local-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let accounts = dir.join("accounts.txt");
    std::fs::write(&accounts, "# local SAM\nAdministrator:Password123!\n").unwrap();
    let port = mit::free_port();
    let mut cmd = kerbside();
    cmd.args([
        "serve",
        "app",
        "--listen",
        &format!("127.0.0.1:{port}"),
        "--service",
        "cifs@win25h2ins",
        "--iakerb",
        "--local-kdc",
        "WIN25H2INS",
        "--accounts",
    ])
    .arg(&accounts)
    .args(["--iakerb-style", "windows", "--seed", "4"]);
    let mut server = Running::spawn(cmd);
    server.wait_for_port(port);
    let client = |user: &str, password: &str, mech: &str| {
        kerbside()
            .args([
                "client",
                "--server",
                &format!("127.0.0.1:{port}"),
                "--service",
                "cifs@win25h2ins",
                "--user",
                user,
                "--password",
                password,
                "--iakerb",
                "--mech",
                mech,
            ])
            .output()
            .unwrap()
    };
    for mech in ["kerberos", "spnego"] {
        let o = client("Administrator", "Password123!", mech);
        assert!(o.status.success(), "{mech}: {}", text(&o));
        assert!(text(&o).contains("server MIC verified"), "{}", text(&o));
    }
    let o = client("Administrator", "wrong", "kerberos");
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o).contains("KDC_ERR_PREAUTH_FAILED"), "{}", text(&o));
    let o = client("Guest", "whatever", "kerberos");
    assert_eq!(o.status.code(), Some(1));
    assert!(
        text(&o).contains("KDC_ERR_C_PRINCIPAL_UNKNOWN"),
        "{}",
        text(&o)
    );
    let events = events(&server, 2);
    for (e, via) in events.iter().zip(["raw", "spnego"]) {
        assert_eq!(e["outcome"], "authenticated", "{e}");
        assert_eq!(e["client"], "Administrator@WIN25H2INS");
        assert_eq!(e["via"], via);
        // discovery, AS x2, TGS
        assert_eq!(e["iakerb"]["hops"], 4, "{e}");
        assert_eq!(e["iakerb"]["finished"], "draft-03", "{e}");
    }
    // The LocalKDC's decisions: 10-hour grants for the AS and TGS of
    // each successful logon.
    let decisions: Vec<serde_json::Value> = server
        .lines()
        .iter()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter_map(|v| v.get("localkdc").cloned())
        .collect();
    let granted: Vec<&serde_json::Value> = decisions
        .iter()
        .filter(|d| d["decision"] == "granted")
        .collect();
    assert!(granted.len() >= 4, "{decisions:?}");
    assert!(
        granted
            .iter()
            .all(|d| d["max_lifetime_secs"] == 36_000 && d["placement"] == "on-target")
    );
    let _ = std::fs::remove_dir_all(dir);
}
