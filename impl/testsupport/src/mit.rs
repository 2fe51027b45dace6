//! A throwaway MIT krb5 realm of any name for interop tests: a temp
//! directory with krb5.conf/kdc.conf, a database, principals, and
//! `krb5kdc -n` on a free port below the ephemeral range. Dropping
//! [`MitRealm`] stops the KDC and removes the directory.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

pub use crate::peers::find_tool as find;
pub use crate::ports::free_port;

/// Whether every tool is installed; if not, print a SKIP line (or fail
/// when KERBSIDE_REQUIRE_PEERS=1).
pub fn have_tools(tools: &[&str]) -> bool {
    let missing = crate::peers::absent(tools);
    if missing.is_empty() {
        return true;
    }
    assert!(
        !crate::peers::required(),
        "MIT krb5 tools {missing:?} required (KERBSIDE_REQUIRE_PEERS=1)"
    );
    eprintln!("SKIP: MIT krb5 tools {missing:?} not installed");
    false
}

/// A running realm; the KDC stops and the directory goes when it drops.
#[derive(Debug)]
pub struct MitRealm {
    pub realm: String,
    pub dir: PathBuf,
    pub port: u16,
    kdc: Child,
}

impl Drop for MitRealm {
    fn drop(&mut self) {
        let _ = self.kdc.kill();
        let _ = self.kdc.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

impl MitRealm {
    /// A realm whose KDC supports `enctypes`, with `kadmin.local` queries
    /// run before the KDC starts (e.g. `addprinc -pw pw alice`).
    pub fn start(tag: &str, realm: &str, enctypes: &[&str], queries: &[String]) -> MitRealm {
        let dir =
            std::env::temp_dir().join(format!("kerbside-crypto-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let port = free_port();
        let names = enctypes.join(" ");
        let supported: Vec<String> = enctypes.iter().map(|e| format!("{e}:normal")).collect();
        std::fs::write(
            dir.join("krb5.conf"),
            format!(
                "[libdefaults]\n default_realm = {realm}\n dns_lookup_kdc = false\n dns_lookup_realm = false\n \
                 rdns = false\n dns_canonicalize_hostname = false\n udp_preference_limit = 1\n \
                 permitted_enctypes = {names}\n\
                 [realms]\n {realm} = {{\n  kdc = 127.0.0.1:{port}\n }}\n"
            ),
        )
        .unwrap();
        let d = dir.display();
        std::fs::write(
            dir.join("kdc.conf"),
            format!(
                "[kdcdefaults]\n kdc_ports = {port}\n kdc_tcp_ports = {port}\n\
                 [realms]\n {realm} = {{\n  database_name = {d}/principal\n  key_stash_file = {d}/stash\n  \
                 acl_file = {d}/kadm5.acl\n  supported_enctypes = {}\n }}\n\
                 [logging]\n kdc = FILE:{d}/kdc.log\n",
                supported.join(" ")
            ),
        )
        .unwrap();
        let env_dir = dir.clone();
        run(
            &env_dir,
            "kdb5_util",
            &["create", "-s", "-P", "masterpw", "-r", realm],
            None,
        );
        for q in queries {
            run(&env_dir, "kadmin.local", &["-r", realm, "-q", q], None);
        }
        let kdc = Command::new(find("krb5kdc").unwrap())
            .args(["-n", "-r", realm])
            .env("KRB5_CONFIG", dir.join("krb5.conf"))
            .env("KRB5_KDC_PROFILE", dir.join("kdc.conf"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let r = MitRealm {
            realm: realm.to_owned(),
            dir,
            port,
            kdc,
        };
        for _ in 0..200 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return r;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("krb5kdc did not start on port {port}");
    }

    /// Run an MIT tool with this realm's configuration and ccache.
    pub fn run(&self, prog: &str, args: &[&str], stdin: Option<&str>) -> String {
        run(&self.dir, prog, args, stdin)
    }

    /// A command for this realm (for background processes).
    pub fn command(&self, prog: &str) -> Command {
        let mut c = Command::new(find(prog).unwrap());
        envs(&mut c, &self.dir);
        c
    }
}

fn envs(c: &mut Command, dir: &Path) {
    c.env("KRB5_CONFIG", dir.join("krb5.conf"))
        .env("KRB5_KDC_PROFILE", dir.join("kdc.conf"))
        .env("KRB5CCNAME", format!("FILE:{}", dir.join("cc").display()))
        .env(
            "KRB5_KTNAME",
            format!("FILE:{}", dir.join("service.keytab").display()),
        );
}

/// Runs MIT tool `prog` with the realm in `dir` (its configuration,
/// ccache and keytab), feeding `stdin`; panics with its output on failure.
pub fn run(dir: &Path, prog: &str, args: &[&str], stdin: Option<&str>) -> String {
    let mut c = Command::new(find(prog).unwrap());
    envs(&mut c, dir);
    c.args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = c.spawn().unwrap();
    if let Some(s) = stdin {
        use std::io::Write;
        child.stdin.take().unwrap().write_all(s.as_bytes()).unwrap();
    }
    let out = child.wait_with_output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{prog} {args:?} failed: {text}");
    text
}
