//! `kerbside conform kdc|relay` as a program against four real targets on
//! loopback, each with its committed profile and known-failures list:
//! MIT `krb5kdc`, `kerbside serve kdc`, FreeIPA `kdcproxy` (gunicorn, TLS)
//! in front of MIT, and `kerbside serve relay` in front of `kerbside serve
//! kdc`. Each run must exit 0: nothing failed that the list does not name,
//! and nothing the list names passed. A stale list is shown to fail.
//!
//! With `KERBSIDE_CONFORM_RESULTS=DIR` the reports go to DIR/<target>/
//! (conformance/regenerate-results.sh commits them to conformance/results).
//! Skips with a message when MIT krb5 or kdcproxy are missing, unless
//! `KERBSIDE_REQUIRE_PEERS=1`.

use kerbside_testsupport::kdcproxy;
use kerbside_testsupport::mit_lab as mit;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

const KERBSIDE: &str = env!("CARGO_BIN_EXE_kerbside");
const PRINCIPALS: &str = "conformance/principals.toml";
/// The four enctypes the vectors use; Debian's default creates only 17/18.
const ENCTYPES: &str = "aes256-cts-hmac-sha1-96:normal,aes128-cts-hmac-sha1-96:normal,\
                        aes256-cts-hmac-sha384-192:normal,aes128-cts-hmac-sha256-128:normal";

/// A child process killed on drop.
struct Served(Child);

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("kerbside-conform-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Starts `kerbside serve ...` and waits for its "listening" line.
fn serve(args: &[&str]) -> Served {
    let mut child = Command::new(KERBSIDE)
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let served = Served(child);
    loop {
        let line = rx
            .recv_timeout(Duration::from_secs(30))
            .expect("the server did not report that it listens");
        if line.contains("listening on") {
            return served;
        }
    }
}

fn serve_kdc(port: u16) -> Served {
    serve(&[
        "serve",
        "kdc",
        "--realm",
        "LAB.TEST",
        "--listen",
        &format!("127.0.0.1:{port}"),
        "--principals",
        PRINCIPALS,
        "--workers",
        "1",
        "--quiet",
    ])
}

/// An MIT realm with the principals of conformance/principals.toml: the
/// shared helper's realm, re-keyed with all four enctypes (same passwords,
/// same kvnos), plus the accounts the negative tests need.
fn mit_realm() -> mit::MitRealm {
    let realm = mit::MitRealm::start("conform");
    let kadmin = |q: &str| {
        let out = Command::new("kadmin.local")
            .args(["-r", "LAB.TEST", "-q", q])
            .env("KRB5_CONFIG", realm.dir.join("krb5-kdc.conf"))
            .env("KRB5_KDC_PROFILE", realm.dir.join("kdc.conf"))
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.success() && !err.contains("while "),
            "kadmin.local {q}: {err}"
        );
    };
    for p in ["alice", "nopreauth", "host/app.lab.test"] {
        kadmin(&format!("delprinc -force {p}"));
    }
    kadmin(&format!("cpw -e {ENCTYPES} -pw krbtgtpw krbtgt/LAB.TEST"));
    kadmin(&format!(
        "addprinc -e {ENCTYPES} -pw alicepw +requires_preauth alice"
    ));
    kadmin(&format!("addprinc -e {ENCTYPES} -pw nopreauthpw nopreauth"));
    kadmin(&format!(
        "addprinc -e {ENCTYPES} -pw apppw host/app.lab.test"
    ));
    kadmin(&format!("addprinc -e {ENCTYPES} -pw ws01pw WS01$"));
    kadmin(&format!(
        "addprinc -e {ENCTYPES} -pw lockedpw +requires_preauth -allow_tix locked"
    ));
    kadmin(&format!(
        "addprinc -e {ENCTYPES} -pw expiredpw -expire 2020-01-01 expired"
    ));
    kadmin("addprinc -e aes128-cts-hmac-sha1-96:normal -pw aes128onlypw aes128only");
    realm
}

fn package_version(pkg: &str) -> String {
    Command::new("dpkg-query")
        .args(["-W", "-f", "${Version}", pkg])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_else(|| "unknown version".to_owned())
}

/// Runs `kerbside conform <args>` with the results directory if asked.
fn conform(results: &str, args: &[&str]) -> Output {
    let mut cmd = Command::new(KERBSIDE);
    cmd.arg("conform")
        .args(args)
        .args(["--seed", "1", "--timeout-ms", "1000"]);
    if let Ok(dir) = std::env::var("KERBSIDE_CONFORM_RESULTS") {
        cmd.arg("--out").arg(Path::new(&dir).join(results));
    }
    cmd.output().unwrap()
}

fn assert_clean(out: &Output, what: &str) -> String {
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success() && stdout.contains("nothing unexpected"),
        "{what}: exit {:?}\n{stdout}\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

/// The total row of the terminal matrix: pass, deviation, known,
/// unsupported, fail, unexpected pass.
fn totals(stdout: &str) -> Vec<usize> {
    stdout
        .lines()
        .find(|l| l.starts_with("total"))
        .unwrap()
        .split_whitespace()
        .skip(1)
        .map(|n| n.parse().unwrap())
        .collect()
}

#[test]
fn kdc_suite_against_mit_krb5kdc() {
    if let Some(why) = mit::missing_peers() {
        eprintln!("SKIP: {why}");
        return;
    }
    let realm = mit_realm();
    let name = format!("MIT krb5kdc {}", package_version("krb5-kdc"));
    let out = conform(
        "mit-krb5kdc",
        &[
            "kdc",
            "--addr",
            &format!("127.0.0.1:{}", realm.port),
            "--realm",
            "LAB.TEST",
            "--principals",
            PRINCIPALS,
            "--profile",
            "mit",
            "--known-failures",
            "conformance/known-failures/mit-krb5kdc.json",
            "--target-name",
            &name,
        ],
    );
    let stdout = assert_clean(&out, "MIT");
    let t = totals(&stdout);
    // Most tests pass as they are; the captures are bound to their clock.
    assert!(t[0] >= 60, "{stdout}");
    assert_eq!(
        t[3], 6,
        "only the six clock-bound captures are unsupported\n{stdout}"
    );
}

#[test]
fn kdc_suite_against_kerbside_serve_kdc() {
    let port = mit::free_port();
    let _kdc = serve_kdc(port);
    let out = conform(
        "kerbside-kdc",
        &[
            "kdc",
            "--addr",
            &format!("127.0.0.1:{port}"),
            "--realm",
            "LAB.TEST",
            "--principals",
            PRINCIPALS,
            "--profile",
            "kerbside",
            "--known-failures",
            "conformance/known-failures/kerbside-kdc.json",
            "--target-name",
            "kerbside serve kdc",
        ],
    );
    let stdout = assert_clean(&out, "kerbside kdc");
    let t = totals(&stdout);
    // Everything but the clock-bound captures passes outright.
    assert_eq!((t[1], t[2], t[3], t[4], t[5]), (0, 0, 6, 0, 0), "{stdout}");
    assert!(t[0] >= 80, "{stdout}");
}

#[test]
fn a_stale_known_failure_is_an_unexpected_pass() {
    let port = mit::free_port();
    let _kdc = serve_kdc(port);
    let dir = scratch("stale");
    let list = dir.join("known.json");
    std::fs::write(
        &list,
        r#"{"target": "kerbside", "failures": [{"test": "kdc.as.preauth-required", "reason": "was broken once"}]}"#,
    )
    .unwrap();
    let out = Command::new(KERBSIDE)
        .args([
            "conform",
            "kdc",
            "--suite",
            "kdc-as",
            "--addr",
            &format!("127.0.0.1:{port}"),
        ])
        .args([
            "--realm",
            "LAB.TEST",
            "--principals",
            PRINCIPALS,
            "--known-failures",
        ])
        .arg(&list)
        .args(["--out"])
        .arg(dir.join("out"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("unexpected-pass 14001 kdc.as.preauth-required"),
        "{stdout}"
    );
    let junit = std::fs::read_to_string(dir.join("out/junit.xml")).unwrap();
    assert!(
        junit.contains("<failure type=\"unexpected-pass\""),
        "{junit}"
    );
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("out/results.json")).unwrap())
            .unwrap();
    assert_eq!(json["results"][0]["status"], "unexpected-pass");
}

#[test]
fn relay_suite_against_kdcproxy() {
    if let Some(why) = mit::missing_peers().or_else(kdcproxy::missing) {
        eprintln!("SKIP: {why}");
        return;
    }
    let realm = mit_realm();
    let dir = scratch("kdcproxy");
    let tls = kerbside_net::https::ensure_self_signed(&dir.join("tls"), &[]).unwrap();
    let port = mit::free_port();
    let _proxy = kdcproxy::KdcProxy::start(
        &dir.join("proxy"),
        port,
        realm.port,
        Some((&tls.cert, &tls.key)),
        1,
        4,
    );
    let name = format!(
        "kdcproxy {} (gunicorn {}) -> MIT krb5kdc",
        package_version("python3-kdcproxy"),
        package_version("gunicorn")
    );
    let out = conform(
        "kdcproxy",
        &[
            "relay",
            "--url",
            &format!("https://127.0.0.1:{port}/KdcProxy"),
            "--ca",
            tls.ca.to_str().unwrap(),
            "--realm",
            "LAB.TEST",
            "--principals",
            PRINCIPALS,
            "--profile",
            "kdcproxy",
            "--known-failures",
            "conformance/known-failures/kdcproxy-1.0.json",
            "--target-name",
            &name,
        ],
    );
    let stdout = assert_clean(&out, "kdcproxy");
    let t = totals(&stdout);
    assert!(t[0] >= 20 && t[2] >= 1, "{stdout}");
}

#[test]
fn relay_suite_against_kerbside_serve_relay() {
    let kdc_port = mit::free_port();
    let _kdc = serve_kdc(kdc_port);
    let dir = scratch("relay");
    let port = mit::free_port();
    let _relay = serve(&[
        "serve",
        "relay",
        "--listen",
        &format!("127.0.0.1:{port}"),
        "--self-signed",
        dir.join("tls").to_str().unwrap(),
        "--realm",
        &format!("LAB.TEST=tcp://127.0.0.1:{kdc_port}"),
        "--workers",
        "1",
        "--audit",
        "none",
    ]);
    let out = conform(
        "kerbside-relay",
        &[
            "relay",
            "--url",
            &format!("https://127.0.0.1:{port}/KdcProxy"),
            "--ca",
            dir.join("tls/ca.pem").to_str().unwrap(),
            "--realm",
            "LAB.TEST",
            "--principals",
            PRINCIPALS,
            "--profile",
            "kerbside",
            "--known-failures",
            "conformance/known-failures/kerbside-relay.json",
            "--target-name",
            "kerbside serve relay -> kerbside serve kdc",
        ],
    );
    let stdout = assert_clean(&out, "kerbside relay");
    let t = totals(&stdout);
    // Only what needs control of the upstream or another relay
    // configuration is unsupported; the rest passes outright.
    assert_eq!((t[1], t[2], t[4], t[5]), (0, 0, 0, 0), "{stdout}");
    assert!(t[0] >= 40, "{stdout}");
}

/// `kerbside serve app --iakerb` relaying to `kerbside serve kdc`, with the
/// service key from the capture realm's keytab (host/app.lab.test kvno 1).
fn serve_app_iakerb(kdc_port: u16, port: u16) -> Served {
    serve(&[
        "serve",
        "app",
        "--listen",
        &format!("127.0.0.1:{port}"),
        "--iakerb",
        "--kdc",
        &format!("127.0.0.1:{kdc_port}"),
        "--kdc-transport",
        "tcp",
        "--keytab",
        "impl/wire/tests/data/mit/realm.keytab",
        "--service",
        "host/app.lab.test@LAB.TEST",
        "--quiet",
    ])
}

#[test]
fn iakerb_suite_against_kerbside_serve_app() {
    let kdc_port = mit::free_port();
    let _kdc = serve_kdc(kdc_port);
    let port = mit::free_port();
    let _app = serve_app_iakerb(kdc_port, port);
    let out = conform(
        "kerbside-app",
        &[
            "iakerb",
            "--addr",
            &format!("127.0.0.1:{port}"),
            "--realm",
            "LAB.TEST",
            "--principals",
            PRINCIPALS,
            "--known-failures",
            "conformance/known-failures/kerbside-app.json",
            "--target-name",
            "kerbside serve app --iakerb -> kerbside serve kdc",
        ],
    );
    let stdout = assert_clean(&out, "kerbside app");
    let t = totals(&stdout);
    // Only groups describing another acceptor configuration do not apply.
    assert_eq!((t[1], t[2], t[4], t[5]), (0, 0, 0, 0), "{stdout}");
    assert!(t[0] >= 11, "{stdout}");
}

#[test]
fn iakerb_suite_against_mit_gss_server() {
    if let Some(why) = mit::missing_peers() {
        eprintln!("SKIP: {why}");
        return;
    }
    if Command::new("gss-server").arg("-h").output().is_err()
        && let Some(why) = kerbside_testsupport::peers::missing(
            "gss-server not installed (krb5-gss-samples)".into(),
        )
    {
        eprintln!("SKIP: {why}");
        return;
    }
    let kdc_port = mit::free_port();
    let _kdc = serve_kdc(kdc_port);
    let dir = scratch("gss-server");
    let conf = dir.join("krb5.conf");
    std::fs::write(
        &conf,
        format!(
            "[libdefaults]\n default_realm = LAB.TEST\n dns_lookup_kdc = false\n\
             [realms]\n LAB.TEST = {{\n  kdc = 127.0.0.1:{kdc_port}\n }}\n"
        ),
    )
    .unwrap();
    let keytab = std::fs::canonicalize("impl/wire/tests/data/mit/realm.keytab").unwrap();
    let port = mit::free_port();
    let server = Command::new("gss-server")
        .args(["-port", &port.to_string(), "-iakerb", "host@app.lab.test"])
        .env("KRB5_CONFIG", &conf)
        .env("KRB5_KTNAME", format!("FILE:{}", keytab.display()))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let _server = Served(server);
    // Poll for the listening socket (10 s).
    for _ in 0..200 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let name = format!(
        "MIT gss-server -iakerb {}",
        package_version("krb5-gss-samples")
    );
    let out = conform(
        "mit-gss-server",
        &[
            "iakerb",
            "--addr",
            &format!("127.0.0.1:{port}"),
            "--dialect",
            "mit",
            "--realm",
            "LAB.TEST",
            "--principals",
            PRINCIPALS,
            "--profile",
            "mit",
            "--known-failures",
            "conformance/known-failures/mit-gss-server.json",
            "--target-name",
            &name,
        ],
    );
    let stdout = assert_clean(&out, "MIT gss-server");
    let t = totals(&stdout);
    // The full exchange and the defective-token refusals pass outright.
    assert!(t[0] >= 5, "{stdout}");
}
