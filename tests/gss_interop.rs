//! Our GSS mechanisms against MIT's, as programs on real sockets:
//!
//! * `kerbside client` (SPNEGO and raw Kerberos, tickets from an MIT KDC
//!   through our AS/TGS client) against MIT's `gss-server`;
//! * MIT's `gss-client` (raw Kerberos, `-spnego`, `-nx`, `-nomutual`) with
//!   tickets from `kinit` against `kerbside serve app`;
//! * `kerbside client` against `kerbside serve app` for NTLM, including the
//!   NTLM-only printer and a wrong password.
//!
//! Each exchange completes the context and the wrapped-message / MIC
//! round trip. The MIT realm helper is kerbside-testsupport's (one temp dir,
//! `krb5kdc -n` on a free port). Skips with a message when MIT krb5 or
//! krb5-gss-samples are missing, unless KERBSIDE_REQUIRE_PEERS=1.

mod common;

use common::{kerbside, text};
use kerbside_testsupport::mit;
use kerbside_testsupport::process::Running;

use std::path::Path;
use std::time::Duration;

use kerbside_crypto::keytab::{KeytabEntry, write as write_keytab};
use kerbside_crypto::{EncType, Key, default_salt};

const REALM: &str = "GSS.TEST";
const SERVICE: &str = "host@app.gss.test";

/// Connection events (JSON lines) once `n` were printed, leaving out the
/// readiness probe's (a connection closed without a token).
fn events(server: &Running, n: usize) -> Vec<serde_json::Value> {
    let parse = |lines: &[String]| -> Vec<serde_json::Value> {
        lines
            .iter()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
            .filter(|e: &serde_json::Value| {
                !(e["outcome"] == "failed" && e["error"] == "connection closed by the peer")
            })
            .collect()
    };
    parse(&server.wait_for_lines(|l| parse(l).len() >= n))
}

/// An MIT realm with alice (pre-auth not required) and host/app.gss.test, and its keytab.
fn realm(tag: &str) -> Option<mit::MitRealm> {
    common::service_realm(tag, REALM, "app.gss.test", false, &["kinit"])
}

#[test]
fn kerbside_client_against_mit_gss_server() {
    let Some(realm) = realm("gssi-srv") else {
        return;
    };
    let port = mit::free_port();
    // gss-server flushes its log file after each connection (its stdout
    // is block-buffered into a pipe).
    let log = realm.dir.join("gss-server.log");
    let mut cmd = realm.command("gss-server");
    cmd.args([
        "-port",
        &port.to_string(),
        "-logfile",
        &log.display().to_string(),
        SERVICE,
    ]);
    let mut server = Running::spawn(cmd);
    server.wait_for_port(port);
    let kdc = format!("127.0.0.1:{}", realm.port);
    let target = format!("127.0.0.1:{port}");
    let runs: [&[&str]; 3] = [
        &["--mech", "spnego"],
        &["--mech", "kerberos"],
        &["--mech", "kerberos", "--no-encrypt"],
    ];
    for extra in runs {
        let o = kerbside()
            .args([
                "client",
                "--server",
                &target,
                "--service",
                SERVICE,
                "--user",
                "alice",
                "--realm",
                REALM,
                "--password",
                "alicepw",
                "--kdc",
                &kdc,
                "--message",
                "hello MIT",
            ])
            .args(extra)
            .output()
            .unwrap();
        assert!(o.status.success(), "{extra:?}: {}", text(&o));
        assert!(
            text(&o).contains("authenticated with kerberos"),
            "{}",
            text(&o)
        );
        assert!(text(&o).contains("server MIC verified"), "{}", text(&o));
    }
    // gss-server unwrapped each message (it flushes its log when it is
    // done with a connection, which may be just after our client exits).
    let mut logged = String::new();
    for _ in 0..300 {
        logged = std::fs::read_to_string(&log).unwrap_or_default();
        if logged.matches("Received message").count() >= 3 {
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(
        logged.matches("Received message: \"hello MIT\"").count(),
        3,
        "{logged}"
    );
    drop(server);
    // A wrong password fails at the MIT KDC, before any server contact.
    let o = kerbside()
        .args([
            "client",
            "--server",
            &target,
            "--service",
            SERVICE,
            "--user",
            "alice@GSS.TEST",
            "--password",
            "wrong",
            "--kdc",
            &kdc,
        ])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
}

#[test]
fn kerbside_client_with_tickets_from_kerbside_kdc_against_mit_gss_server() {
    let Some(realm) = realm("gssi-ourkdc") else {
        return;
    };
    // Our KDC for the same realm; the service key is the same password's,
    // at the KDC's default key version 1.
    std::fs::write(
        realm.dir.join("principals.toml"),
        "[[principal]]\nname = \"alice\"\npassword = \"alicepw\"\nrequires_preauth = true\n\n\
         [[principal]]\nname = \"host/app.gss.test\"\npassword = \"apppw\"\n\n\
         [[principal]]\nname = \"krbtgt/GSS.TEST\"\npassword = \"tgtpw\"\n",
    )
    .unwrap();
    let key = Key::from_password(
        EncType::Aes256CtsHmacSha196,
        "apppw",
        &default_salt(REALM, &["host", "app.gss.test"]),
    )
    .unwrap();
    std::fs::write(
        realm.dir.join("service.keytab"),
        write_keytab(&[KeytabEntry::new(
            REALM,
            &["host", "app.gss.test"],
            3,
            0,
            1,
            &key,
        )]),
    )
    .unwrap();
    let kdc_port = mit::free_port();
    let mut kdc_cmd = kerbside();
    kdc_cmd.args([
        "serve",
        "kdc",
        "--realm",
        REALM,
        "--listen",
        &format!("127.0.0.1:{kdc_port}"),
        "--workers",
        "1",
        "--quiet",
        "--principals",
    ]);
    kdc_cmd.arg(realm.dir.join("principals.toml"));
    let mut kdc = Running::spawn(kdc_cmd);
    kdc.wait_for_port(kdc_port);
    let port = mit::free_port();
    let log = realm.dir.join("gss-server.log");
    let mut cmd = realm.command("gss-server");
    cmd.args([
        "-port",
        &port.to_string(),
        "-logfile",
        &log.display().to_string(),
        SERVICE,
    ]);
    let mut server = Running::spawn(cmd);
    server.wait_for_port(port);
    let o = kerbside()
        .args([
            "client",
            "--server",
            &format!("127.0.0.1:{port}"),
            "--service",
            SERVICE,
            "--user",
            "alice@GSS.TEST",
            "--password",
            "alicepw",
            "--kdc",
            &format!("127.0.0.1:{kdc_port}"),
        ])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        text(&o).contains("authenticated with kerberos"),
        "{}",
        text(&o)
    );
}

fn serve_app(realm: &mit::MitRealm, port: u16, extra: &[&str]) -> Running {
    let mut cmd = kerbside();
    cmd.args([
        "serve",
        "app",
        "--listen",
        &format!("127.0.0.1:{port}"),
        "--service",
        SERVICE,
    ])
    .args(extra)
    .args(["--seed", "7"]);
    cmd.current_dir(&realm.dir);
    let mut s = Running::spawn(cmd);
    s.wait_for_port(port);
    s
}

fn accounts(dir: &Path) -> String {
    let p = dir.join("accounts.txt");
    std::fs::write(
        &p,
        "# local accounts\nalice:alicepw\nbob:$NT$a4f49c406510bdcab6824ee7c30fd852\n",
    )
    .unwrap();
    p.display().to_string()
}

#[test]
fn mit_gss_client_against_kerbside_serve_app() {
    let Some(realm) = realm("gssi-app") else {
        return;
    };
    let port = mit::free_port();
    let keytab = realm.dir.join("service.keytab").display().to_string();
    let accts = accounts(&realm.dir);
    let server = serve_app(
        &realm,
        port,
        &["--keytab", &keytab, "--ntlm-accounts", &accts],
    );
    realm.run("kinit", &["alice"], Some("alicepw\n"));
    let runs: [&[&str]; 4] = [&[], &["-spnego"], &["-nx"], &["-spnego", "-nomutual"]];
    for extra in runs {
        let mut args: Vec<&str> = vec!["-port"];
        let p = port.to_string();
        args.push(&p);
        args.extend_from_slice(extra);
        args.extend(["127.0.0.1", SERVICE, "hello kerbside"]);
        let out = realm.run("gss-client", &args, None);
        assert!(out.contains("Signature verified"), "{extra:?}: {out}");
    }
    let events = events(&server, 4);
    assert_eq!(events.len(), 4, "{events:?}");
    for (e, via) in events.iter().zip(["raw", "spnego", "raw", "spnego"]) {
        assert_eq!(e["outcome"], "authenticated", "{e}");
        assert_eq!(e["client"], "alice@GSS.TEST");
        assert_eq!(e["mechanism"], "kerberos");
        assert_eq!(e["via"], via);
        assert_eq!(e["messages"], 1);
    }
}

#[test]
fn kerbside_client_and_server_over_ntlm() {
    // No MIT peer is involved: this runs whether MIT is installed or not.
    let dir = std::env::temp_dir().join(format!("kerbside-gss-ntlm-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let accts = accounts(&dir);
    let port = mit::free_port();
    let mut cmd = kerbside();
    cmd.args([
        "serve",
        "app",
        "--listen",
        &format!("127.0.0.1:{port}"),
        "--service",
        "host/printer.gss.test@GSS.TEST",
        "--ntlm-accounts",
        &accts,
        "--ntlm-only",
        "--seed",
        "3",
    ]);
    let mut printer = Running::spawn(cmd);
    printer.wait_for_port(port);
    let target = format!("127.0.0.1:{port}");
    let client = |mech: &str, user: &str, pw: &str| {
        kerbside()
            .args([
                "client",
                "--server",
                &target,
                "--service",
                "host/printer.gss.test",
                "--user",
                user,
                "--password",
                pw,
                "--mech",
                mech,
            ])
            .output()
            .unwrap()
    };
    let o = client("spnego", "GSS\\alice", "alicepw");
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("authenticated with ntlm"), "{}", text(&o));
    let o = client("ntlm", "bob", "Password");
    assert!(o.status.success(), "{}", text(&o));
    let o = client("ntlm", "alice", "wrong");
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("authentication refused"), "{}", text(&o));
    let events = events(&printer, 3);
    assert_eq!(events.len(), 3, "{events:?}");
    assert_eq!(events[0]["client"], "GSS\\alice");
    assert_eq!(events[0]["via"], "spnego");
    assert_eq!(events[1]["mechanism"], "ntlm");
    assert_eq!(events[2]["outcome"], "refused");
    assert_eq!(events[2]["kind"], "ntlm");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn serve_app_flag_errors_exit_2() {
    for args in [
        vec!["serve", "app", "--service", "host@x"],
        vec!["serve", "app", "--service", "nonsense", "--ntlm-only"],
        vec!["serve", "app", "--service", "host@x", "--ntlm-only"],
        vec![
            "serve",
            "app",
            "--service",
            "host@x",
            "--keytab",
            "/nonexistent/kt",
        ],
    ] {
        let o = kerbside().args(&args).output().unwrap();
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", text(&o));
    }
}
