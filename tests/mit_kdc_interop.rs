//! Real, unmodified MIT krb5 clients against `kerbside serve kdc`:
//! kinit (pre-authentication), klist, kvno, kvno -k (the service ticket
//! decrypts with the service's keytab), kinit -k (keytab), kinit -R
//! (renewal), over TCP and over UDP, with aes256-cts-hmac-sha1-96 and with
//! aes256-cts-hmac-sha384-192 forced on the client; and a GSS AP exchange
//! between MIT's gss-client and gss-server with tickets from our KDC.
//!
//! Skips (with a message) when the MIT tools are missing, unless
//! KERBSIDE_REQUIRE_PEERS=1.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::Duration;

use kerbside_crypto::keytab::{KeytabEntry, write as write_keytab};
use kerbside_crypto::{EncType, Key, default_salt};
use kerbside_testsupport::peers::{self, find_tool as find};
use kerbside_testsupport::ports::free_port;

const REALM: &str = "LAB.TEST";
const SHA1: &str = "aes256-cts-hmac-sha1-96";
const SHA384: &str = "aes256-cts-hmac-sha384-192";

const PRINCIPALS: &str = r#"
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
"#;

/// `Some(reason)` when a peer is missing (and the test should skip).
fn missing(tools: &[&str]) -> Option<String> {
    let absent = peers::absent(tools);
    if absent.is_empty() {
        return None;
    }
    peers::missing(format!(
        "MIT krb5 tools not installed: {}",
        absent.join(", ")
    ))
}

struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> Self {
        static N: AtomicU32 = AtomicU32::new(0);
        let p = std::env::temp_dir().join(format!(
            "kerbside-{tag}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst)
        ));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        Self(p)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// `kerbside serve kdc` as a child process, its stdout log collected.
struct Kdc {
    child: Child,
    port: u16,
    log: Arc<Mutex<Vec<String>>>,
}

impl Kdc {
    fn start(dir: &Path, principals: &str, extra: &[&str]) -> Kdc {
        let file = dir.join("principals.toml");
        std::fs::write(&file, principals).unwrap();
        for _attempt in 0..5 {
            let port = free_port();
            let mut child = Command::new(env!("CARGO_BIN_EXE_kerbside"))
                .args([
                    "serve",
                    "kdc",
                    "--realm",
                    REALM,
                    "--listen",
                    &format!("127.0.0.1:{port}"),
                ])
                .arg("--principals")
                .arg(&file)
                .args(["--workers", "1"])
                .args(extra)
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap();
            let log = Arc::new(Mutex::new(Vec::new()));
            let out = BufReader::new(child.stdout.take().unwrap());
            let sink = Arc::clone(&log);
            std::thread::spawn(move || {
                for line in out.lines().map_while(Result::ok) {
                    sink.lock().unwrap().push(line);
                }
            });
            let (tx, rx) = mpsc::channel();
            let err = BufReader::new(child.stderr.take().unwrap());
            std::thread::spawn(move || {
                for line in err.lines().map_while(Result::ok) {
                    let _ = tx.send(line);
                }
            });
            match rx.recv_timeout(Duration::from_secs(30)) {
                Ok(line) if line.contains("listening on") => return Kdc { child, port, log },
                other => {
                    let _ = child.kill();
                    let _ = child.wait();
                    eprintln!("kdc did not start on {port}: {other:?}; retrying");
                }
            }
        }
        panic!("kerbside serve kdc did not start");
    }

    /// Log lines so far (the server flushes every 250 ms).
    fn log_lines(&self) -> Vec<String> {
        std::thread::sleep(Duration::from_millis(400));
        self.log.lock().unwrap().clone()
    }
}

impl Drop for Kdc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A client krb5.conf for our KDC, transport and enctypes forced. MIT 1.20
/// has no `tcp/` KDC prefix: `udp_preference_limit = 1` makes it use TCP
/// first; the default (1465) makes it use UDP for these small messages. The
/// tests check the KDC's log to see which transport was really used.
fn client_conf(dir: &Path, name: &str, port: u16, proto: &str, etype: &str) -> PathBuf {
    let p = dir.join(format!("krb5-{name}.conf"));
    let udp_limit = if proto == "tcp" {
        "udp_preference_limit = 1\n"
    } else {
        ""
    };
    std::fs::write(
        &p,
        format!(
            "[libdefaults]\n default_realm = {REALM}\n dns_lookup_kdc = false\n dns_lookup_realm = false\n \
             rdns = false\n dns_canonicalize_hostname = false\n noaddresses = true\n {udp_limit} \
             default_tkt_enctypes = {etype}\n default_tgs_enctypes = {etype}\n permitted_enctypes = {etype}\n\
             [realms]\n {REALM} = {{\n  kdc = 127.0.0.1:{port}\n }}\n\
             [domain_realm]\n app.lab.test = {REALM}\n .lab.test = {REALM}\n"
        ),
    )
    .unwrap();
    p
}

/// Runs an MIT tool with `conf`, a ccache and `stdin`.
fn mit(tool: &str, conf: &Path, ccache: &Path, args: &[&str], stdin: &str) -> Output {
    let mut c = Command::new(find(tool).unwrap())
        .args(args)
        .env("KRB5_CONFIG", conf)
        .env("KRB5CCNAME", format!("FILE:{}", ccache.display()))
        .env("KRB5_TRACE", "/dev/null")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    c.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
    c.wait_with_output().unwrap()
}

fn ok(o: &Output, what: &str) -> String {
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(
        o.status.success(),
        "{what} failed: {}\nstdout: {out}\nstderr: {}",
        o.status,
        String::from_utf8_lossy(&o.stderr)
    );
    out
}

/// The service keytab, written with kerbside's keytab writer from the
/// service password (MIT default salt).
fn service_keytab(dir: &Path) -> PathBuf {
    let comps = ["host", "app.lab.test"];
    let salt = default_salt(REALM, &comps);
    let entries: Vec<KeytabEntry> = [
        EncType::Aes256CtsHmacSha196,
        EncType::Aes128CtsHmacSha196,
        EncType::Aes256CtsHmacSha384192,
        EncType::Aes128CtsHmacSha256128,
    ]
    .iter()
    .map(|e| {
        KeytabEntry::new(
            REALM,
            &comps,
            1,
            1_790_000_000,
            1,
            &Key::from_password(*e, "apppw", &salt).unwrap(),
        )
    })
    .collect();
    let p = dir.join("app.keytab");
    std::fs::write(&p, write_keytab(&entries)).unwrap();
    p
}

#[test]
fn mit_clients_against_kerbside_kdc_over_tcp_and_udp_with_both_enctypes() {
    if let Some(why) = missing(&["kinit", "klist", "kvno"]) {
        eprintln!("SKIP: {why}");
        return;
    }
    let dir = TempDir::new("kdc-interop");
    let keytab = service_keytab(&dir.0);
    let kt = keytab.to_str().unwrap();
    // The KDC prefers the forced enctype for the keys it seals tickets with
    // too (the client's permitted_enctypes applies to `kvno -k`'s ticket
    // decryption as well).
    for (etype, kdc_enctypes) in [(SHA1, "18,17,20,19"), (SHA384, "20,18,17,19")] {
        let kdc = Kdc::start(&dir.0, PRINCIPALS, &["--enctypes", kdc_enctypes]);
        for proto in ["tcp", "udp"] {
            let name = format!("{proto}-{etype}");
            let conf = client_conf(&dir.0, &name, kdc.port, proto, etype);
            let cc = dir.0.join(format!("cc-{name}"));
            let before = kdc.log_lines().len();

            // kinit with a password: PREAUTH_REQUIRED, then PA-ENC-TIMESTAMP.
            ok(
                &mit(
                    "kinit",
                    &conf,
                    &cc,
                    &["-r", "2d", "alice@LAB.TEST"],
                    "alicepw\n",
                ),
                &format!("{name}: kinit"),
            );
            let klist = ok(&mit("klist", &conf, &cc, &["-e", "-f"], ""), "klist");
            assert!(
                klist.contains("krbtgt/LAB.TEST@LAB.TEST"),
                "{name}: {klist}"
            );
            assert!(
                klist.contains(&format!("Etype (skey, tkt): {etype}, ")),
                "{name}: {klist}"
            );
            assert!(klist.contains("renew until"), "{name}: {klist}");

            // A service ticket; then check it decrypts with the service keytab.
            let kvno = ok(
                &mit("kvno", &conf, &cc, &["host/app.lab.test@LAB.TEST"], ""),
                "kvno",
            );
            assert!(kvno.contains("kvno = 1"), "{name}: {kvno}");
            let kvno_k = ok(
                &mit(
                    "kvno",
                    &conf,
                    &cc,
                    &["-k", kt, "host/app.lab.test@LAB.TEST"],
                    "",
                ),
                "kvno -k",
            );
            assert!(kvno_k.contains("keytab entry valid"), "{name}: {kvno_k}");
            let klist = ok(&mit("klist", &conf, &cc, &["-e"], ""), "klist");
            assert!(
                klist.contains("host/app.lab.test@LAB.TEST"),
                "{name}: {klist}"
            );

            // Renew the TGT.
            ok(
                &mit("kinit", &conf, &cc, &["-R"], ""),
                &format!("{name}: kinit -R"),
            );
            let klist = ok(&mit("klist", &conf, &cc, &[], ""), "klist");
            assert!(
                klist.contains("krbtgt/LAB.TEST@LAB.TEST"),
                "{name}: {klist}"
            );

            // kinit from a keytab (the service's keys).
            let cc2 = dir.0.join(format!("cc-{name}-k"));
            ok(
                &mit(
                    "kinit",
                    &conf,
                    &cc2,
                    &["-k", "-t", kt, "host/app.lab.test@LAB.TEST"],
                    "",
                ),
                &format!("{name}: kinit -k"),
            );
            let klist = ok(&mit("klist", &conf, &cc2, &[], ""), "klist");
            assert!(
                klist.contains("Default principal: host/app.lab.test@LAB.TEST"),
                "{name}: {klist}"
            );

            // A wrong password is refused (and kinit says so).
            let bad = mit(
                "kinit",
                &conf,
                &dir.0.join("cc-bad"),
                &["alice@LAB.TEST"],
                "nope\n",
            );
            assert!(!bad.status.success(), "{name}: wrong password accepted");

            // The requests really went over `proto`.
            let lines = kdc.log_lines();
            let ours = &lines[before..];
            assert!(
                ours.iter()
                    .any(|l| l.contains(&format!("proto={proto} msg=TGS-REQ"))),
                "{name}: {ours:?}"
            );
            assert!(
                ours.iter().all(|l| l.contains(&format!("proto={proto} "))),
                "{name}: requests on the other transport: {ours:?}"
            );
            assert!(
                ours.iter()
                    .any(|l| l.contains("code=25 (KDC_ERR_PREAUTH_REQUIRED)")),
                "{ours:?}"
            );
            assert!(
                ours.iter()
                    .any(|l| l.contains("code=24 (KDC_ERR_PREAUTH_FAILED)")),
                "{ours:?}"
            );
        }
    }
}

#[test]
fn gss_sample_programs_complete_an_ap_exchange_with_our_tickets() {
    if let Some(why) = missing(&["kinit", "gss-client", "gss-server"]) {
        eprintln!("SKIP: {why}");
        return;
    }
    let dir = TempDir::new("kdc-gss");
    let kdc = Kdc::start(&dir.0, PRINCIPALS, &[]);
    let keytab = service_keytab(&dir.0);
    let conf = client_conf(&dir.0, "gss", kdc.port, "tcp", SHA1);
    let cc = dir.0.join("cc");
    ok(
        &mit("kinit", &conf, &cc, &["alice@LAB.TEST"], "alicepw\n"),
        "kinit",
    );
    let gss_port = free_port();
    let server = Command::new(find("gss-server").unwrap())
        .args(["-port", &gss_port.to_string(), "-once", "-keytab"])
        .arg(&keytab)
        .arg("host@app.lab.test")
        .env("KRB5_CONFIG", &conf)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // gss-server prints nothing until a client comes; it is listening once
    // the port can no longer be bound (probing with a connection would use
    // up `-once`).
    for _ in 0..100 {
        if TcpListener::bind(("127.0.0.1", gss_port)).is_err() {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let client = mit(
        "gss-client",
        &conf,
        &cc,
        &[
            "-port",
            &gss_port.to_string(),
            "127.0.0.1",
            "host@app.lab.test",
            "hello from alice",
        ],
        "",
    );
    let out = ok(&client, "gss-client");
    let server_out = server.wait_with_output().unwrap();
    let server_text = String::from_utf8_lossy(&server_out.stdout);
    assert!(
        server_text.contains("alice@LAB.TEST"),
        "gss-server: {server_text}\nclient: {out}"
    );
    assert!(
        server_text.contains("hello from alice"),
        "gss-server: {server_text}"
    );
}

#[test]
fn malformed_principals_file_exits_2_naming_file_line_and_field() {
    let dir = TempDir::new("kdc-badfile");
    let file = dir.0.join("bad.toml");
    std::fs::write(
        &file,
        "[[principal]]\nname = \"alice\"\npassword = \"pw\"\nkvno = \"two\"\n",
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_kerbside"))
        .args([
            "serve",
            "kdc",
            "--realm",
            REALM,
            "--listen",
            "127.0.0.1:0",
            "--principals",
        ])
        .arg(&file)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(&format!("{}:4:", file.display())), "{err}");
    assert!(err.contains("field `kvno`"), "{err}");
}

#[test]
fn sigint_stops_the_kdc_cleanly_with_its_log_flushed() {
    if let Some(why) = missing(&["kinit"]) {
        eprintln!("SKIP: {why}");
        return;
    }
    let dir = TempDir::new("kdc-stop");
    let mut kdc = Kdc::start(&dir.0, PRINCIPALS, &[]);
    let conf = client_conf(&dir.0, "stop", kdc.port, "udp", SHA1);
    ok(
        &mit(
            "kinit",
            &conf,
            &dir.0.join("cc"),
            &["alice@LAB.TEST"],
            "alicepw\n",
        ),
        "kinit",
    );
    let pid = kdc.child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-INT", &pid])
            .status()
            .unwrap()
            .success()
    );
    let status = kdc.child.wait().unwrap();
    assert!(status.success(), "{status}");
    let lines = kdc.log.lock().unwrap().clone();
    assert!(
        lines
            .iter()
            .any(|l| l.contains("msg=AS-REQ client=alice@LAB.TEST") && l.contains("outcome=ok")),
        "{lines:?}"
    );
}
