//! `kerbside serve relay` as a program: MIT `kinit` + `kvno` with
//! `kdc = https://127.0.0.1:PORT/KdcProxy` and `http_anchors = FILE:ca.pem`
//! (the CA `--self-signed` wrote) through the relay to (a) MIT `krb5kdc` and
//! (b) `kerbside serve kdc`; the JSON audit file; and startup errors.
//!
//! Skips with a message when MIT krb5 (with the k5tls plugin) is missing,
//! unless `KERBSIDE_REQUIRE_PEERS=1`.

use kerbside_testsupport::mit_lab as mit;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

const KERBSIDE: &str = env!("CARGO_BIN_EXE_kerbside");

/// A `kerbside serve ...` child, killed on drop.
struct Served(Child);

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `kerbside serve relay` on an ephemeral port and returns it with
/// the port it printed.
fn serve_relay(args: &[&str]) -> (Served, u16) {
    let mut child = Command::new(KERBSIDE)
        .args([
            "serve",
            "relay",
            "--listen",
            "127.0.0.1:0",
            "--workers",
            "2",
        ])
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
            .recv_timeout(Duration::from_secs(20))
            .expect("relay did not report its address");
        if let Some(rest) = line.split("listening on https://127.0.0.1:").nth(1) {
            let port = rest.split('/').next().unwrap().parse().unwrap();
            return (served, port);
        }
    }
}

/// Starts `kerbside serve kdc` for LAB.TEST with the vectors' principals.
fn serve_kdc(dir: &Path) -> (Served, u16) {
    let port = mit::free_port();
    let principals = dir.join("principals.toml");
    std::fs::write(
        &principals,
        r#"
[[principal]]
name = "alice"
password = "alicepw"
requires_preauth = true

[[principal]]
name = "host/app.lab.test"
password = "apppw"

[[principal]]
name = "krbtgt/LAB.TEST"
password = "krbtgtpw"
kvno = 2
"#,
    )
    .unwrap();
    let child = Command::new(KERBSIDE)
        .args([
            "serve",
            "kdc",
            "--realm",
            "LAB.TEST",
            "--quiet",
            "--workers",
            "1",
        ])
        .args(["--listen", &format!("127.0.0.1:{port}")])
        .arg("--principals")
        .arg(&principals)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let served = Served(child);
    for _ in 0..400 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return (served, port);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("kerbside serve kdc did not listen on {port}");
}

fn audit_lines(path: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("audit line {l:?}: {e}")))
        .collect()
}

/// kinit alice + kvno host/app.lab.test through the relay at `relay_port`.
fn kinit_kvno_through(realm: &mit::MitRealm, name: &str, relay_port: u16, ca: &Path) {
    let conf = realm.client_conf(
        name,
        &format!("https://127.0.0.1:{relay_port}/KdcProxy"),
        Some(ca),
    );
    let cc = format!("cc-{name}");
    let out = realm.client(&conf, &cc, &["kinit", "alice"], "alicepw\n");
    assert!(
        out.status.success(),
        "kinit: {}\n{}",
        String::from_utf8_lossy(&out.stderr),
        realm.trace(&cc)
    );
    let out = realm.client(&conf, &cc, &["kvno", "host/app.lab.test"], "");
    assert!(
        out.status.success(),
        "kvno: {}\n{}",
        String::from_utf8_lossy(&out.stderr),
        realm.trace(&cc)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("host/app.lab.test@LAB.TEST: kvno = 1"));
    assert!(realm.trace(&cc).contains("Sending HTTPS request"));
}

fn check_audit(path: &Path, upstream_port: u16) {
    let lines = audit_lines(path);
    let summary: Vec<(String, String, u64)> = lines
        .iter()
        .map(|l| {
            (
                l["msg_type"].as_str().unwrap_or("-").to_owned(),
                l["reply_type"].as_str().unwrap_or("-").to_owned(),
                l["status"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            ("AS-REQ".into(), "KRB-ERROR".into(), 200),
            ("AS-REQ".into(), "AS-REP".into(), 200),
            ("TGS-REQ".into(), "TGS-REP".into(), 200),
        ],
        "{lines:#?}"
    );
    for l in &lines {
        assert_eq!(l["outcome"], "relayed");
        assert_eq!(l["realm"], "LAB.TEST");
        assert_eq!(l["upstream"], format!("tcp://127.0.0.1:{upstream_port}"));
        assert!(l["client"].as_str().unwrap().starts_with("127.0.0.1:"));
        assert!(l["latency_ms"].as_f64().unwrap() >= 0.0);
        assert!(l["time"].as_str().unwrap().ends_with('Z'));
    }
    assert_eq!(lines[0]["cname"], "alice@LAB.TEST");
    assert_eq!(lines[2]["sname"], "host/app.lab.test@LAB.TEST");
}

#[test]
fn mit_clients_through_kerbside_serve_relay_to_mit_krb5kdc() {
    if let Some(why) = mit::missing_peers() {
        eprintln!("SKIP: {why}");
        return;
    }
    let realm = mit::MitRealm::start("cli-relay-mit");
    let pki = realm.dir.join("pki");
    let audit = realm.dir.join("audit.jsonl");
    let mapping = format!("LAB.TEST=tcp://127.0.0.1:{}", realm.port);
    let (_relay, port) = serve_relay(&[
        "--realm",
        &mapping,
        "--self-signed",
        pki.to_str().unwrap(),
        "--audit",
        audit.to_str().unwrap(),
    ]);
    assert!(
        pki.join("ca.pem").exists(),
        "--self-signed writes DIR/ca.pem"
    );
    kinit_kvno_through(&realm, "mit", port, &pki.join("ca.pem"));
    check_audit(&audit, realm.port);
}

#[test]
fn mit_clients_through_kerbside_serve_relay_to_kerbside_serve_kdc() {
    if let Some(why) = mit::missing_peers() {
        eprintln!("SKIP: {why}");
        return;
    }
    // The MIT realm only provides the client tools and a scratch directory;
    // the KDC behind the relay is ours.
    let realm = mit::MitRealm::start("cli-relay-ours");
    let (_kdc, kdc_port) = serve_kdc(&realm.dir);
    let pki = realm.dir.join("pki");
    let audit = realm.dir.join("audit.jsonl");
    let mapping = format!("LAB.TEST=tcp://127.0.0.1:{kdc_port}");
    let (_relay, port) = serve_relay(&[
        "--realm",
        &mapping,
        "--self-signed",
        pki.to_str().unwrap(),
        "--audit",
        audit.to_str().unwrap(),
    ]);
    kinit_kvno_through(&realm, "ours", port, &pki.join("ca.pem"));
    check_audit(&audit, kdc_port);
}

#[test]
fn startup_errors_exit_2_with_a_clear_message() {
    let dir =
        std::env::temp_dir().join(format!("kerbside-relay-cli-errors-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let missing: PathBuf = dir.join("missing.pem");
    let bad_toml = dir.join("bad.toml");
    std::fs::write(
        &bad_toml,
        "[realms.\"LAB.TEST\"]\nkdc = [\"tcp://127.0.0.1:88\"]\nworkerz = 2\n",
    )
    .unwrap();
    let cases: Vec<(Vec<String>, &str)> = vec![
        (
            vec!["--realm".into(), "LAB.TEST".into(), "--plain-http".into()],
            "bad realm mapping",
        ),
        (
            vec![
                "--realm".into(),
                "LAB.TEST=ldap://kdc".into(),
                "--plain-http".into(),
            ],
            "bad upstream URL",
        ),
        (
            vec![
                "--realm".into(),
                "LAB.TEST=tcp://127.0.0.1:88".into(),
                "--tls-cert".into(),
                missing.to_string_lossy().into(),
                "--tls-key".into(),
                missing.to_string_lossy().into(),
            ],
            "missing.pem",
        ),
        (
            vec!["--realm".into(), "LAB.TEST=tcp://127.0.0.1:88".into()],
            "no TLS configured",
        ),
        (
            vec![
                "--config".into(),
                bad_toml.to_string_lossy().into(),
                "--plain-http".into(),
            ],
            "unknown field `workerz`",
        ),
    ];
    for (args, expect) in cases {
        let out = Command::new(KERBSIDE)
            .args(["serve", "relay"])
            .args(&args)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(expect), "{args:?}: {err}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn kerbside_load_drives_the_relay_over_https_keep_alive_and_new_connections() {
    if let Some(why) = mit::missing_peers() {
        eprintln!("SKIP: {why}");
        return;
    }
    let realm = mit::MitRealm::start("cli-relay-load");
    let pki = realm.dir.join("pki");
    let audit = realm.dir.join("audit.jsonl");
    let mapping = format!("LAB.TEST=tcp://127.0.0.1:{}", realm.port);
    let (_relay, port) = serve_relay(&[
        "--realm",
        &mapping,
        "--self-signed",
        pki.to_str().unwrap(),
        "--audit",
        audit.to_str().unwrap(),
    ]);
    let target = format!("https://127.0.0.1:{port}/KdcProxy");
    for mode in ["--keep-alive", "--new-connection"] {
        let out = Command::new(KERBSIDE)
            .args([
                "load",
                "--target",
                &target,
                "--realm",
                "LAB.TEST",
                "--user",
                "nopreauth",
            ])
            .args([
                "--password",
                "nopreauthpw",
                "--concurrency",
                "2",
                "--duration",
                "1s",
                "--json",
                mode,
            ])
            .arg("--ca")
            .arg(pki.join("ca.pem"))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{mode}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert!(v["as_rep"].as_u64().unwrap() > 0, "{v}");
        assert_eq!(v["transport_errors"], serde_json::json!({}), "{v}");
        assert_eq!(v["bad_replies"], 0, "{v}");
        assert_eq!(v["target"], target);
    }
    // Every AS-REP the load tool counted went through the relay.
    let relayed = audit_lines(&audit)
        .iter()
        .filter(|l| l["reply_type"] == "AS-REP")
        .count();
    assert!(relayed > 0);
    // Without --ca an https target is refused up front.
    let out = Command::new(KERBSIDE)
        .args([
            "load",
            "--target",
            &target,
            "--realm",
            "LAB.TEST",
            "--user",
            "nopreauth",
        ])
        .args(["--password", "nopreauthpw"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--ca FILE is required"));
}
