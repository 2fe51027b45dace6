//! The servers under load, as child processes on loopback: two MIT
//! realms (Debian's defaults, and with last-success/lockout bookkeeping
//! off), `kerbside serve kdc`, `kerbside serve relay` and kdcproxy under
//! gunicorn, all with the same LAB.TEST principals and one TLS
//! certificate for both relays.

use std::net::{TcpListener, TcpStream, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::CompareError;

/// The realm and principals both KDCs serve. The passwords give the keys
/// of /work/shared/vectors/mit (MIT's default salt).
pub(crate) const REALM: &str = "LAB.TEST";
pub(crate) const USERS: [(&str, &str, bool); 2] = [
    ("nopreauth", "nopreauthpw", false),
    ("alice", "alicepw", true),
];

/// Debian's interpreter: python3-kdcproxy is installed for it.
pub(crate) const PYTHON: &str = "/usr/bin/python3";

/// A started server; stopped (and waited for) on drop.
#[derive(Debug)]
pub(crate) struct Proc {
    pub(crate) name: &'static str,
    child: Child,
    /// SIGTERM first (gunicorn's master stops its workers), else SIGKILL.
    graceful: bool,
    log: PathBuf,
}

impl Proc {
    pub(crate) fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Waits until `port` accepts TCP connections, or fails with the log.
    fn wait_listening(&mut self, port: u16) -> Result<(), CompareError> {
        for _ in 0..400 {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(CompareError::Process {
                    what: self.name.into(),
                    detail: format!("exited ({status}): {}", tail(&self.log)),
                });
            }
            if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Err(CompareError::Process {
            what: self.name.into(),
            detail: format!("not listening on {port} after 20 s: {}", tail(&self.log)),
        })
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        if self.graceful {
            let _ = Command::new("kill")
                .args(["-TERM", &self.child.id().to_string()])
                .status();
            for _ in 0..100 {
                if matches!(self.child.try_wait(), Ok(Some(_))) {
                    return;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The last lines of a log, for error messages.
fn tail(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(5)..].join(" | ")
}

fn spawn(
    name: &'static str,
    cmd: &mut Command,
    log: PathBuf,
    graceful: bool,
) -> Result<Proc, CompareError> {
    let file = |p: &Path| {
        std::fs::File::create(p).map_err(|e| CompareError::Io {
            what: p.display().to_string(),
            source: e,
        })
    };
    let child = cmd
        .stdout(Stdio::from(file(&log.with_extension("out"))?))
        .stderr(Stdio::from(file(&log)?))
        .spawn()
        .map_err(|e| CompareError::Process {
            what: name.into(),
            detail: format!("cannot start: {e}"),
        })?;
    Ok(Proc {
        name,
        child,
        graceful,
        log,
    })
}

/// Fails unless `port` is free for both TCP and UDP on 127.0.0.1.
pub(crate) fn check_free(port: u16) -> Result<(), CompareError> {
    if TcpListener::bind(("127.0.0.1", port)).is_ok()
        && UdpSocket::bind(("127.0.0.1", port)).is_ok()
    {
        Ok(())
    } else {
        Err(CompareError::Process {
            what: format!("port {port}"),
            detail: "in use (choose another --base-port)".into(),
        })
    }
}

fn run(cmd: &mut Command, what: &str) -> Result<(), CompareError> {
    let out = cmd.output().map_err(|e| CompareError::Process {
        what: what.into(),
        detail: e.to_string(),
    })?;
    if out.status.success() {
        Ok(())
    } else {
        Err(CompareError::Process {
            what: what.into(),
            detail: String::from_utf8_lossy(&out.stderr).trim().to_owned(),
        })
    }
}

/// An MIT realm in `dir` served by `krb5kdc -n` on `port` (UDP and TCP).
pub(crate) fn mit_kdc(
    dir: &Path,
    port: u16,
    lockout: bool,
    name: &'static str,
) -> Result<Proc, CompareError> {
    std::fs::create_dir_all(dir).map_err(|e| CompareError::Io {
        what: dir.display().to_string(),
        source: e,
    })?;
    let d = dir.display();
    let mut kdc_conf = format!(
        "[kdcdefaults]\n kdc_ports = {port}\n kdc_tcp_ports = {port}\n\
[realms]\n {REALM} = {{\n  database_name = {d}/principal\n  key_stash_file = {d}/stash\n  acl_file = {d}/kadm5.acl\n  \
max_life = 10h 0m 0s\n  max_renewable_life = 7d 0h 0m 0s\n  \
supported_enctypes = aes256-cts-hmac-sha1-96:normal aes128-cts-hmac-sha1-96:normal aes256-cts-hmac-sha384-192:normal aes128-cts-hmac-sha256-128:normal\n }}\n\
[logging]\n kdc = FILE:{d}/krb5kdc.log\n"
    );
    if !lockout {
        // MIT kdc.conf(5) [dbmodules]: no database write per
        // pre-authenticated AS (last_success, failed-count bookkeeping).
        kdc_conf.push_str(&format!(
            "[dbmodules]\n {REALM} = {{\n  disable_last_success = true\n  disable_lockout = true\n }}\n"
        ));
    }
    let krb5_conf = format!(
        "[libdefaults]\n default_realm = {REALM}\n dns_lookup_kdc = false\n[realms]\n {REALM} = {{\n  kdc = 127.0.0.1:{port}\n }}\n"
    );
    let write = |name: &str, text: &str| {
        std::fs::write(dir.join(name), text).map_err(|e| CompareError::Io {
            what: dir.join(name).display().to_string(),
            source: e,
        })
    };
    write("kdc.conf", &kdc_conf)?;
    write("krb5.conf", &krb5_conf)?;
    write("kadm5.acl", "")?;
    let env = |c: &mut Command| {
        c.env("KRB5_CONFIG", dir.join("krb5.conf"))
            .env("KRB5_KDC_PROFILE", dir.join("kdc.conf"));
    };
    let mut c = Command::new("kdb5_util");
    c.args(["create", "-s", "-r", REALM, "-P", "masterpw"]);
    env(&mut c);
    run(&mut c, "kdb5_util create")?;
    let mut queries: Vec<String> = USERS
        .iter()
        .map(|(u, p, pre)| {
            format!(
                "addprinc -pw {p} {}{u}",
                if *pre { "+requires_preauth " } else { "" }
            )
        })
        .collect();
    queries.push("addprinc -pw apppw host/app.lab.test".into());
    // kvno 2, as in the MIT captures and the kerbside principals file.
    queries.push(format!("cpw -pw krbtgtpw krbtgt/{REALM}"));
    for q in &queries {
        let mut c = Command::new("kadmin.local");
        c.args(["-r", REALM, "-q", q]);
        env(&mut c);
        run(&mut c, &format!("kadmin.local {q}"))?;
    }
    let mut c = Command::new("krb5kdc");
    c.args(["-n", "-r", REALM]);
    env(&mut c);
    let mut p = spawn(name, &mut c, dir.join("stderr.log"), false)?;
    p.wait_listening(port)?;
    Ok(p)
}

/// `kerbside serve kdc` with the same principals, logging one line per
/// request to a file as MIT's KDC does.
pub(crate) fn kerbside_kdc(
    kerbside: &Path,
    dir: &Path,
    port: u16,
    workers: usize,
) -> Result<Proc, CompareError> {
    let mut toml = String::new();
    for (u, p, pre) in USERS {
        toml.push_str(&format!(
            "[[principal]]\nname = \"{u}\"\npassword = \"{p}\"\nrequires_preauth = {pre}\n\n"
        ));
    }
    toml.push_str(
        "[[principal]]\nname = \"host/app.lab.test\"\npassword = \"apppw\"\n\n\
[[principal]]\nname = \"krbtgt/LAB.TEST\"\npassword = \"krbtgtpw\"\nkvno = 2\n",
    );
    let file = dir.join("principals.toml");
    std::fs::write(&file, toml).map_err(|e| CompareError::Io {
        what: file.display().to_string(),
        source: e,
    })?;
    let mut c = Command::new(kerbside);
    c.args(["serve", "kdc", "--realm", REALM])
        .args(["--listen", &format!("127.0.0.1:{port}")])
        .args(["--workers", &workers.to_string(), "--principals"])
        .arg(&file);
    // stdout (the request log) goes to kdc.out.
    let mut p = spawn("kerbside serve kdc", &mut c, dir.join("kdc.log"), false)?;
    p.wait_listening(port)?;
    Ok(p)
}

/// The TLS files both relays serve.
pub(crate) struct Pki {
    pub(crate) ca: PathBuf,
    pub(crate) cert: PathBuf,
    pub(crate) key: PathBuf,
}

pub(crate) fn pki(dir: &Path) -> Result<Pki, CompareError> {
    let f =
        kerbside_net::https::ensure_self_signed(dir, &[]).map_err(|e| CompareError::Process {
            what: "TLS certificates".into(),
            detail: e.to_string(),
        })?;
    Ok(Pki {
        ca: f.ca,
        cert: f.cert,
        key: f.key,
    })
}

/// `kerbside serve relay` over HTTPS to the KDC on `kdc_port`, auditing
/// every request to a file.
pub(crate) fn kerbside_relay(
    kerbside: &Path,
    dir: &Path,
    port: u16,
    kdc_port: u16,
    pki: &Pki,
    workers: usize,
) -> Result<Proc, CompareError> {
    let mut c = Command::new(kerbside);
    c.args(["serve", "relay", "--listen", &format!("127.0.0.1:{port}")])
        .args(["--realm", &format!("{REALM}=tcp://127.0.0.1:{kdc_port}")])
        .args(["--workers", &workers.to_string()])
        .arg("--tls-cert")
        .arg(&pki.cert)
        .arg("--tls-key")
        .arg(&pki.key)
        .arg("--audit")
        .arg(dir.join("relay-audit.jsonl"));
    let mut p = spawn("kerbside serve relay", &mut c, dir.join("relay.log"), false)?;
    p.wait_listening(port)?;
    Ok(p)
}

/// FreeIPA kdcproxy under gunicorn (gthread workers: keep-alive), TLS.
pub(crate) fn kdcproxy(
    dir: &Path,
    port: u16,
    kdc_port: u16,
    pki: &Pki,
    workers: usize,
    threads: usize,
) -> Result<Proc, CompareError> {
    let conf = dir.join("kdcproxy.conf");
    std::fs::write(
        &conf,
        format!("[global]\nuse_dns = false\n\n[{REALM}]\nkerberos = kerberos+tcp://127.0.0.1:{kdc_port}\n"),
    )
    .map_err(|e| CompareError::Io {
        what: conf.display().to_string(),
        source: e,
    })?;
    let mut c = Command::new(PYTHON);
    c.args(["-m", "gunicorn", "--bind", &format!("127.0.0.1:{port}")])
        .args(["--workers", &workers.to_string()])
        .args(["--threads", &threads.to_string()])
        .args(["--worker-class", "gthread", "--keep-alive", "30"])
        .args(["--log-level", "warning", "--certfile"])
        .arg(&pki.cert)
        .arg("--keyfile")
        .arg(&pki.key)
        .arg("kdcproxy:application")
        .env("KDCPROXY_CONFIG", &conf)
        .current_dir(dir);
    let mut p = spawn(
        "kdcproxy (gunicorn)",
        &mut c,
        dir.join("gunicorn.log"),
        true,
    )?;
    p.wait_listening(port)?;
    Ok(p)
}
