//! The `LAB.TEST` MIT krb5 realm, unprivileged in a temporary directory
//! (DESIGN.md §8): `kdb5_util create`, `kadmin.local addprinc` for the
//! vectors' principals, `krb5kdc -n`, and client configurations for
//! `kinit`/`kvno` directly or through a KKDCP relay.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

use crate::peers::find_tool as find;

/// The MIT tools the interop tests need.
const TOOLS: [&str; 6] = [
    "krb5kdc",
    "kdb5_util",
    "kadmin.local",
    "kinit",
    "kvno",
    "klist",
];

/// Where Debian puts MIT's TLS plugin (package krb5-k5tls); without it MIT
/// clients cannot use an https:// KDC.
const K5TLS: [&str; 3] = [
    "/usr/lib/x86_64-linux-gnu/krb5/plugins/tls/k5tls.so",
    "/usr/lib/aarch64-linux-gnu/krb5/plugins/tls/k5tls.so",
    "/usr/lib/krb5/plugins/tls/k5tls.so",
];

/// `None` when MIT krb5 (with k5tls) is installed; otherwise what is
/// missing. With `KERBSIDE_REQUIRE_PEERS=1` a missing peer is a failure.
pub fn missing_peers() -> Option<String> {
    let mut missing = crate::peers::absent(&TOOLS);
    if !K5TLS.iter().any(|p| Path::new(p).exists()) {
        missing.push("k5tls plugin (krb5-k5tls)");
    }
    if missing.is_empty() {
        return None;
    }
    crate::peers::missing(format!(
        "MIT krb5 peers not installed: {}",
        missing.join(", ")
    ))
}

pub use crate::ports::free_port;

/// A running MIT realm `LAB.TEST` with the vectors' principals.
#[derive(Debug)]
pub struct MitRealm {
    pub dir: PathBuf,
    pub port: u16,
    kdc: Child,
}

impl MitRealm {
    /// Creates the database and starts `krb5kdc` on a free port.
    pub fn start(name: &str) -> MitRealm {
        let dir = std::env::temp_dir().join(format!("kerbside-mit-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let port = free_port();
        let d = dir.display();
        std::fs::write(
            dir.join("kdc.conf"),
            format!(
                "[kdcdefaults]\n kdc_ports = {port}\n kdc_tcp_listen = {port}\n\
                 [realms]\n LAB.TEST = {{\n  database_name = {d}/principal\n  key_stash_file = {d}/stash\n  \
                 kdc_ports = {port}\n  kdc_tcp_ports = {port}\n  acl_file = {d}/kadm5.acl\n  \
                 max_life = 10h\n  max_renewable_life = 7d\n }}\n\
                 [logging]\n kdc = FILE:{d}/kdc.log\n"
            ),
        )
        .unwrap();
        std::fs::write(dir.join("kadm5.acl"), "").unwrap();
        std::fs::write(
            dir.join("krb5-kdc.conf"),
            format!(
                "[libdefaults]\n default_realm = LAB.TEST\n dns_lookup_kdc = false\n dns_lookup_realm = false\n\
                 [realms]\n LAB.TEST = {{\n  kdc = tcp/127.0.0.1:{port}\n }}\n"
            ),
        )
        .unwrap();
        let run = |args: &[&str]| {
            let out = Command::new(args[0])
                .args(&args[1..])
                .env("KRB5_CONFIG", dir.join("krb5-kdc.conf"))
                .env("KRB5_KDC_PROFILE", dir.join("kdc.conf"))
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "{args:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        };
        run(&[
            "kdb5_util",
            "create",
            "-s",
            "-r",
            "LAB.TEST",
            "-P",
            "masterpw",
        ]);
        for (p, pw) in [
            ("alice", "alicepw"),
            ("nopreauth", "nopreauthpw"),
            ("host/app.lab.test", "apppw"),
        ] {
            run(&[
                "kadmin.local",
                "-r",
                "LAB.TEST",
                "-q",
                &format!("addprinc -pw {pw} {p}"),
            ]);
        }
        run(&[
            "kadmin.local",
            "-r",
            "LAB.TEST",
            "-q",
            "modprinc +requires_preauth alice",
        ]);
        let kdc = Command::new(find("krb5kdc").unwrap())
            .args(["-n", "-r", "LAB.TEST"])
            .env("KRB5_CONFIG", dir.join("krb5-kdc.conf"))
            .env("KRB5_KDC_PROFILE", dir.join("kdc.conf"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut realm = MitRealm { dir, port, kdc };
        realm.wait_listening();
        realm
    }

    fn wait_listening(&mut self) {
        // Poll for up to 10 s (200 x 50 ms); a counted loop needs no clock.
        for _ in 0..200 {
            if let Ok(Some(status)) = self.kdc.try_wait() {
                let log = std::fs::read_to_string(self.dir.join("kdc.log")).unwrap_or_default();
                panic!("krb5kdc exited ({status}) on port {}:\n{log}", self.port);
            }
            if std::net::TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("krb5kdc did not start listening on {}", self.port);
    }

    /// A client krb5.conf whose only KDC for LAB.TEST is `kdc_line`.
    pub fn client_conf(&self, name: &str, kdc_line: &str, anchors: Option<&Path>) -> PathBuf {
        let anchors = anchors
            .map(|p| format!("  http_anchors = FILE:{}\n", p.display()))
            .unwrap_or_default();
        let path = self.dir.join(format!("krb5-{name}.conf"));
        std::fs::write(
            &path,
            format!(
                "[libdefaults]\n default_realm = LAB.TEST\n dns_lookup_kdc = false\n dns_lookup_realm = false\n\
                 rdns = false\n\
                 [realms]\n LAB.TEST = {{\n  kdc = {kdc_line}\n{anchors} }}\n"
            ),
        )
        .unwrap();
        path
    }

    /// Runs an MIT client tool with the given config and credential cache.
    pub fn client(&self, conf: &Path, ccache: &str, args: &[&str], stdin: &str) -> Output {
        use std::io::Write;
        let mut child = Command::new(find(args[0]).unwrap())
            .args(&args[1..])
            .env("KRB5_CONFIG", conf)
            .env(
                "KRB5CCNAME",
                format!("FILE:{}", self.dir.join(ccache).display()),
            )
            .env("KRB5_TRACE", self.dir.join(format!("{ccache}.trace")))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(stdin.as_bytes())
            .unwrap();
        child.wait_with_output().unwrap()
    }

    /// The client trace for a ccache name (what MIT says it did).
    pub fn trace(&self, ccache: &str) -> String {
        std::fs::read_to_string(self.dir.join(format!("{ccache}.trace"))).unwrap_or_default()
    }
}

impl Drop for MitRealm {
    fn drop(&mut self) {
        let _ = self.kdc.kill();
        let _ = self.kdc.wait();
        if !std::thread::panicking() {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}
